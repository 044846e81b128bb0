#include "vtmm/platform/libvirt_session.hpp"

#include <libvirt/libvirt-qemu.h>
#include <libvirt/libvirt.h>
#include <libvirt/virterror.h>
#include <signal.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <stdexcept>
#include <thread>

#include "vtmm/platform/interrupt.hpp"

namespace vtmm::platform {
namespace fs = std::filesystem;

namespace {

const char* kUri = "qemu:///system";

// libvirt prints every error to stderr by default; we report them ourselves.
void quiet(void*, virErrorPtr) {}

std::string last_error() {
  const char* m = virGetLastErrorMessage();
  return m ? m : "unknown libvirt error";
}

bool pid_alive(int pid) { return pid > 0 && (::kill(pid, 0) == 0 || errno == EPERM); }

int read_pidfile(const std::string& path) {
  std::ifstream in(path);
  int pid = 0;
  in >> pid;
  return pid_alive(pid) ? pid : 0;
}

std::string cmdline_of(const fs::path& proc_dir) {
  std::ifstream in(proc_dir / "cmdline", std::ios::binary);
  std::string s((std::istreambuf_iterator<char>(in)), std::istreambuf_iterator<char>());
  for (char& c : s)
    if (c == '\0') c = ' ';
  return s;
}

bool has_binary(const char* name) {
  for (const char* dir : {"/usr/sbin/", "/usr/bin/", "/sbin/", "/bin/"})
    if (fs::exists(std::string(dir) + name)) return true;
  return false;
}

virConnectPtr try_connect() {
  virSetErrorFunc(nullptr, quiet);
  return virConnectOpen(kUri);
}

}  // namespace

int running_libvirtd_pid() { return read_pidfile("/run/libvirtd.pid"); }

std::vector<int> running_vtmm_qemu_pids() {
  std::vector<int> out;
  for (const auto& e : fs::directory_iterator("/proc")) {
    const std::string n = e.path().filename().string();
    if (n.empty() || !std::isdigit(static_cast<unsigned char>(n[0]))) continue;
    const std::string cmd = cmdline_of(e.path());
    if (cmd.find("qemu-system") != std::string::npos &&
        cmd.find("guest=vtmm-") != std::string::npos)
      out.push_back(std::stoi(n));
  }
  return out;
}

LibvirtProbe probe_libvirt() {
  LibvirtProbe p;
  p.installed = has_binary("libvirtd");
  p.daemon_running = running_libvirtd_pid() != 0;
  if (!p.installed) {
    p.reason = "libvirtd not installed (package libvirt-daemon-system)";
    return p;
  }
  if (!p.daemon_running) {
    p.reason =
        "libvirtd not running (no systemd here: `vtmm run` starts virtlogd -d and libvirtd -d "
        "itself)";
    return p;
  }
  virConnectPtr c = try_connect();
  if (c == nullptr) {
    p.reason = last_error();
    return p;
  }
  unsigned long v = 0;
  if (virConnectGetLibVersion(c, &v) == 0)
    p.version = std::to_string(v / 1000000) + "." + std::to_string(v / 1000 % 1000) + "." +
                std::to_string(v % 1000);
  p.reachable = true;
  p.reason = "answers at " + p.uri;
  virConnectClose(c);
  return p;
}

struct LibvirtSession::Conn {
  virConnectPtr c = nullptr;
};

LibvirtSession::LibvirtSession(double timeout_s) : conn_(std::make_unique<Conn>()) {
  conn_->c = running_libvirtd_pid() ? try_connect() : nullptr;
  if (conn_->c == nullptr) {
    if (!has_binary("libvirtd"))
      throw std::runtime_error("libvirt: libvirtd not installed (run scripts/setup.sh)");
    if (read_pidfile("/run/virtlogd.pid") == 0) {
      if (std::system("virtlogd -d >/dev/null 2>&1") != 0)
        throw std::runtime_error("libvirt: `virtlogd -d` failed");
      if (int pid = read_pidfile("/run/virtlogd.pid")) started_pids_.push_back(pid);
    }
    if (running_libvirtd_pid() == 0) {
      if (std::system("libvirtd -d >/dev/null 2>&1") != 0) {
        cleanup();
        throw std::runtime_error("libvirt: `libvirtd -d` failed");
      }
    }
    // Poll until it answers (about 2 s here).
    const auto t0 = std::chrono::steady_clock::now();
    while (conn_->c == nullptr) {
      if (int pid = running_libvirtd_pid();
          pid && std::find(started_pids_.begin(), started_pids_.end(), pid) == started_pids_.end())
        started_pids_.push_back(pid);
      conn_->c = try_connect();
      if (conn_->c) break;
      if (interrupted() ||
          std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count() >
              timeout_s) {
        const std::string why =
            interrupted() ? "interrupted" : "no answer within the timeout: " + last_error();
        cleanup();
        if (interrupted()) throw Interrupted();
        throw std::runtime_error("libvirt: " + why);
      }
      std::this_thread::sleep_for(std::chrono::milliseconds(100));
    }
    if (int pid = running_libvirtd_pid();
        pid && std::find(started_pids_.begin(), started_pids_.end(), pid) == started_pids_.end() &&
        !started_pids_.empty())
      started_pids_.push_back(pid);
  }
  // Domains left by a vtmm process that died without cleaning up (SIGKILL).
  virDomainPtr* doms = nullptr;
  const int n = virConnectListAllDomains(conn_->c, &doms, VIR_CONNECT_LIST_DOMAINS_ACTIVE);
  for (int i = 0; i < n; ++i) {
    const std::string name = virDomainGetName(doms[i]);
    int owner = 0;
    if (std::sscanf(name.c_str(), "vtmm-%d-", &owner) == 1 && !pid_alive(owner))
      virDomainDestroy(doms[i]);
    virDomainFree(doms[i]);
  }
  if (n > 0) std::free(doms);
}

LibvirtSession::~LibvirtSession() { cleanup(); }

void LibvirtSession::cleanup() {
  if (!conn_) return;
  for (const auto& name : std::vector<std::string>(domains_)) destroy_domain(name);
  if (conn_->c) virConnectClose(conn_->c);
  conn_->c = nullptr;
  // Stop daemons in reverse start order and wait until they are gone.
  for (auto it = started_pids_.rbegin(); it != started_pids_.rend(); ++it) {
    ::kill(*it, SIGTERM);
    for (int i = 0; i < 100 && pid_alive(*it); ++i)
      std::this_thread::sleep_for(std::chrono::milliseconds(50));
    if (pid_alive(*it)) ::kill(*it, SIGKILL);
  }
  started_pids_.clear();
  conn_.reset();
}

std::string LibvirtSession::next_domain_name() {
  return "vtmm-" + std::to_string(::getpid()) + "-" + std::to_string(counter_++);
}

void LibvirtSession::create_domain(const std::string& name, const std::string& xml) {
  domains_.push_back(name);  // owned before it exists: a half-started domain is still cleaned up
  virDomainPtr d = virDomainCreateXML(conn_->c, xml.c_str(), 0);
  if (d == nullptr) {
    domains_.pop_back();
    throw std::runtime_error("libvirt: creating domain " + name + " failed: " + last_error());
  }
  virDomainFree(d);
}

bool LibvirtSession::domain_active(const std::string& name) {
  virDomainPtr d = virDomainLookupByName(conn_->c, name.c_str());
  if (d == nullptr) return false;
  const bool a = virDomainIsActive(d) == 1;
  virDomainFree(d);
  return a;
}

void LibvirtSession::destroy_domain(const std::string& name) {
  std::erase(domains_, name);
  if (conn_->c == nullptr) return;
  if (virDomainPtr d = virDomainLookupByName(conn_->c, name.c_str())) {
    if (virDomainIsActive(d) == 1) virDomainDestroy(d);
    virDomainFree(d);
  }
}

int LibvirtSession::qemu_pid(const std::string& name) const {
  return read_pidfile("/run/libvirt/qemu/" + name + ".pid");
}

std::string LibvirtSession::live_xml(const std::string& name) {
  virDomainPtr d = virDomainLookupByName(conn_->c, name.c_str());
  if (d == nullptr) throw std::runtime_error("libvirt: no domain " + name);
  char* x = virDomainGetXMLDesc(d, 0);
  virDomainFree(d);
  if (x == nullptr) throw std::runtime_error("libvirt: no XML for " + name + ": " + last_error());
  std::string s = x;
  std::free(x);
  return s;
}

std::string LibvirtSession::hmp(const std::string& name, const std::string& command) {
  virDomainPtr d = virDomainLookupByName(conn_->c, name.c_str());
  if (d == nullptr) throw std::runtime_error("libvirt: no domain " + name);
  char* out = nullptr;
  const int rc =
      virDomainQemuMonitorCommand(d, command.c_str(), &out, VIR_DOMAIN_QEMU_MONITOR_COMMAND_HMP);
  virDomainFree(d);
  if (rc != 0)
    throw std::runtime_error("libvirt: monitor command '" + command + "' failed: " + last_error());
  std::string s = out ? out : "";
  std::free(out);
  return s;
}

}  // namespace vtmm::platform
