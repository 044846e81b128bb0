#pragma once
// libvirt through its C API. A session connects to qemu:///system, starting
// virtlogd and libvirtd itself when nothing answers (hosts without systemd),
// and on destruction destroys every domain it created and stops every daemon
// it started -- also when unwinding from an error or an interrupt.
// Domains are transient (virDomainCreateXML): destroyed means gone.
#include <memory>
#include <string>
#include <vector>

namespace vtmm::platform {

struct LibvirtProbe {
  bool installed = false, daemon_running = false, reachable = false;
  std::string uri = "qemu:///system", version, reason;
};
// Looks only: never starts a daemon.
LibvirtProbe probe_libvirt();

class LibvirtSession {
 public:
  // Throws std::runtime_error if libvirt cannot be reached within timeout_s.
  explicit LibvirtSession(double timeout_s = 30);
  ~LibvirtSession();
  LibvirtSession(const LibvirtSession&) = delete;
  LibvirtSession& operator=(const LibvirtSession&) = delete;

  // A unique name for a domain of this process ("vtmm-<pid>-<n>").
  std::string next_domain_name();
  // Starts a transient domain; the session owns it from here.
  void create_domain(const std::string& name, const std::string& xml);
  bool domain_active(const std::string& name);
  // Destroys one of our domains now (idempotent).
  void destroy_domain(const std::string& name);
  int qemu_pid(const std::string& name) const;
  // The live domain's XML (libvirt fills in generated paths, e.g. the channel socket).
  std::string live_xml(const std::string& name);
  // A human monitor (HMP) command to the domain's QEMU, e.g. "info ramblock".
  std::string hmp(const std::string& name, const std::string& command);

  bool started_daemons() const { return !started_pids_.empty(); }
  std::vector<std::string> domains() const { return domains_; }

 private:
  void cleanup();
  struct Conn;
  std::unique_ptr<Conn> conn_;
  std::vector<std::string> domains_;
  std::vector<int> started_pids_;
  int counter_ = 0;
};

// Pids of QEMU processes running a domain named vtmm-* (from /proc, so it
// also sees domains whose libvirtd is gone): tests assert nothing is left.
std::vector<int> running_vtmm_qemu_pids();
// Pid of a running libvirtd, or 0.
int running_libvirtd_pid();

}  // namespace vtmm::platform
