#include "vtmm/platform/guest_image.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <functional>
#include <map>
#include <set>
#include <sstream>
#include <vector>

#include "vtmm/core/error.hpp"
#include "vtmm/core/fnv.hpp"
#include "vtmm/core/params.hpp"
#include "vtmm/platform/cpio_writer.hpp"
#include "vtmm/platform/host_probe.hpp"
#include "vtmm/sim/host_profile.hpp"  // data_dir()

namespace vtmm::platform {
namespace fs = std::filesystem;

namespace {

// Bumped when the image layout or /init changes without any input file changing.
constexpr int kImageFormat = 1;

// The agent's channel: virtio-pci transport + virtio-serial ports.
const std::vector<std::string> kModules = {"kernel/drivers/virtio/virtio_pci.ko",
                                           "kernel/drivers/char/virtio_console.ko"};

const std::vector<std::string> kBusyboxApplets = {"sh", "mount", "insmod", "mkdir",   "cat",
                                                  "ls", "echo",  "sleep",  "poweroff"};

const char* kInit = R"(#!/bin/sh
# vtmm guest init: mount the kernel filesystems, load the channel's modules, hand over to the agent.
mount -t proc proc /proc
mount -t sysfs sys /sys
mount -t devtmpfs dev /dev
mkdir -p /tmp /run
for m in $(cat /etc/vtmm-modules); do insmod "/lib/modules/$m" || echo "vtmm-init: insmod $m failed"; done
exec /bin/vtmm-agent
)";

std::string read_file(const std::string& path) {
  std::ifstream in(path, std::ios::binary);
  if (!in) throw SpecError("image: cannot read " + path);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::string fnv_hex(const std::string& s) { return hex64(fnv1a64(s, kRunKeyBasis)); }

std::string need(const std::string& path, const std::string& package) {
  if (!fs::exists(path))
    throw SpecError("image: " + path + " not found (install package " + package +
                    ": scripts/setup.sh)");
  return path;
}

// Shared objects a dynamic binary loads, from ldd (absolute paths, interpreter included).
std::vector<std::string> shared_libs(const std::string& bin) {
  std::vector<std::string> out;
  FILE* f = ::popen(("ldd " + bin + " 2>/dev/null").c_str(), "r");
  if (f == nullptr) throw std::runtime_error("image: cannot run ldd");
  char line[1024];
  while (std::fgets(line, sizeof line, f) != nullptr) {
    std::string s(line);
    if (s.find("not found") != std::string::npos) {
      ::pclose(f);
      throw SpecError("image: " + bin + " needs a library that is not installed: " + s);
    }
    auto at = s.find("=> /");
    size_t start = at != std::string::npos ? at + 3 : s.find('/');
    if (start == std::string::npos) continue;  // linux-vdso
    const size_t end = s.find(' ', start);
    out.push_back(s.substr(start, end - start));
  }
  ::pclose(f);
  if (out.empty()) throw std::runtime_error("image: ldd found no libraries for " + bin);
  return out;
}

// Modules in load order (dependencies first), from the kernel's modules.dep.
std::vector<std::string> module_closure(const std::string& moddir) {
  std::map<std::string, std::vector<std::string>> deps;
  std::ifstream in(need(moddir + "/modules.dep", "linux-image-amd64"));
  for (std::string line; std::getline(in, line);) {
    const auto colon = line.find(':');
    if (colon == std::string::npos) continue;
    std::istringstream rest(line.substr(colon + 1));
    auto& d = deps[line.substr(0, colon)];
    for (std::string x; rest >> x;) d.push_back(x);
  }
  std::vector<std::string> order;
  std::set<std::string> seen;
  std::function<void(const std::string&)> visit = [&](const std::string& m) {
    if (!seen.insert(m).second) return;
    if (!deps.count(m))
      throw SpecError("image: module " + m + " not in " + moddir + "/modules.dep");
    for (auto it = deps[m].rbegin(); it != deps[m].rend(); ++it) visit(*it);
    order.push_back(m);
  };
  for (const auto& m : kModules) visit(m);
  return order;
}

// vTMM's guest companion (guest/vtmm_gpt): its source, and whether this
// host can build it for the guest kernel (linux-headers-<abi>).
std::string gpt_source() { return sim::data_dir() + "/guest/vtmm_gpt"; }

// Its files (Kbuild and the sources), in name order.
std::vector<fs::path> gpt_files() {
  std::vector<fs::path> out;
  if (fs::is_directory(gpt_source()))
    for (const auto& e : fs::directory_iterator(gpt_source())) {
      const auto ext = e.path().extension();
      if (e.is_regular_file() && (e.path().filename() == "Kbuild" || ext == ".c" || ext == ".h"))
        out.push_back(e.path());
    }
  std::sort(out.begin(), out.end());
  return out;
}

bool can_build_gpt_module(const std::string& abi) {
  return fs::exists("/lib/modules/" + abi + "/build/Makefile") &&
         fs::exists(gpt_source() + "/Kbuild");
}

// Keys the image: every source file's name and bytes.
std::string gpt_source_hash() {
  std::string all;
  for (const auto& f : gpt_files()) all += f.filename().string() + "\n" + read_file(f.string());
  return fnv_hex(all);
}

// Builds guest/vtmm_gpt against the guest kernel's headers in a scratch
// folder; the module's bytes.
std::string build_gpt_module(const std::string& abi) {
  const fs::path tmp = fs::temp_directory_path() / ("vtmm-gpt-" + std::to_string(::getpid()));
  fs::remove_all(tmp);
  fs::create_directories(tmp);
  for (const auto& f : gpt_files()) fs::copy_file(f, tmp / f.filename());
  const std::string cmd = "make -s -C /lib/modules/" + abi + "/build M=" + tmp.string() +
                          " modules > " + (tmp / "build.log").string() + " 2>&1";
  const int rc = std::system(cmd.c_str());
  const fs::path ko = tmp / "vtmm_gpt.ko";
  if (rc != 0 || !fs::exists(ko)) {
    std::ifstream log(tmp / "build.log");
    std::string first;
    std::getline(log, first);
    fs::remove_all(tmp);
    throw SpecError("image: building guest/vtmm_gpt for " + abi + " failed: " + first);
  }
  std::string bytes = read_file(ko.string());
  fs::remove_all(tmp);
  return bytes;
}

}  // namespace

std::string default_cache_dir() {
  if (const char* v = std::getenv("VTMM_CACHE_DIR"); v && *v) return v;
  if (const char* v = std::getenv("XDG_CACHE_HOME"); v && *v) return std::string(v) + "/vtmm";
  if (const char* v = std::getenv("HOME"); v && *v) return std::string(v) + "/.cache/vtmm";
  return "/tmp/vtmm-cache";
}

std::string default_agent_path() {
  std::error_code ec;
  const fs::path self = fs::read_symlink("/proc/self/exe", ec);
  return ec ? "vtmm-agent" : (self.parent_path() / "vtmm-agent").string();
}

namespace {

// The image's inputs, path in the image -> host file: busybox, the agent and
// tierd, redis with its libraries, and the kernel modules the guest needs
// (appended to `modlist` in load order).
std::map<std::string, std::string> image_inputs(const std::string& agent, const std::string& tierd,
                                                const std::string& moddir, std::string& modlist) {
  std::map<std::string, std::string> files;
  files["bin/busybox"] = need("/bin/busybox", "busybox-static");
  files["bin/vtmm-agent"] = agent;
  files["bin/vtmm-tierd"] = tierd;
  for (const char* b : {"/usr/bin/redis-server", "/usr/bin/redis-benchmark"}) {
    files[std::string(b).substr(1)] = need(
        b, std::string(b).find("server") != std::string::npos ? "redis-server" : "redis-tools");
    for (const auto& lib : shared_libs(b)) files[lib.substr(1)] = lib;
  }
  for (const auto& m : module_closure(moddir)) {
    if (m.size() < 3 || m.compare(m.size() - 3, 3, ".ko") != 0)
      throw SpecError("image: compressed module " + m + " (busybox insmod needs plain .ko)");
    const std::string name = fs::path(m).filename().string();
    files["lib/modules/" + name] = moddir + "/" + m;
    modlist += name + "\n";
  }
  return files;
}

}  // namespace

GuestImage build_guest_image(const ImageOptions& opt) {
  const auto t0 = std::chrono::steady_clock::now();
  GuestImage img;
  const std::string kernel = opt.kernel.empty() ? find_guest_kernel() : opt.kernel;
  if (kernel.empty())
    throw SpecError(
        "image: no /boot/vmlinuz-*-amd64 (install package linux-image-amd64: scripts/setup.sh)");
  need(kernel, "linux-image-amd64");
  const std::string abi = fs::path(kernel).filename().string().substr(8);  // after "vmlinuz-"
  const std::string moddir = "/lib/modules/" + abi;
  const std::string agent = opt.agent.empty() ? default_agent_path() : opt.agent;
  if (!fs::exists(agent))
    throw SpecError("image: guest agent " + agent +
                    " not found (build target vtmm-agent, or pass --agent)");
  // The host daemon on its own, beside the agent: the guest runs it against a
  // stand-in process in the two-node check (docs/vm.md).
  const std::string tierd = (fs::path(agent).parent_path() / "vtmm-tierd").string();
  if (!fs::exists(tierd))
    throw SpecError("image: " + tierd + " not found (build target vtmm-tierd)");

  std::string modlist;  // the modules init loads, in order
  const std::map<std::string, std::string> files = image_inputs(agent, tierd, moddir, modlist);

  // Content hash over every input's bytes plus the generated files.
  std::map<std::string, std::string> data;
  std::string manifest =
      "format " + std::to_string(kImageFormat) + "\nkernel " + fnv_hex(read_file(kernel)) + "\n";
  for (const auto& [dst, src] : files) {
    data[dst] = read_file(src);
    manifest += dst + " " + fnv_hex(data[dst]) + "\n";
    img.inputs.push_back(src);
  }
  // The companion module is built only with the guest kernel's headers; its
  // source (not the built bytes) keys the image.
  const bool gpt = can_build_gpt_module(abi);
  if (gpt) modlist += "vtmm_gpt.ko\n";
  manifest += "init " + fnv_hex(kInit) + "\nmodules " + fnv_hex(modlist) + "\n";
  manifest += "gpt_module " + (gpt ? gpt_source_hash() : std::string("absent")) + "\n";
  img.hash = fnv_hex(manifest);
  img.dir =
      (fs::path(opt.cache_dir.empty() ? default_cache_dir() : opt.cache_dir) / "images" / img.hash)
          .string();
  img.kernel = img.dir + "/vmlinuz";
  img.initrd = img.dir + "/initramfs.cpio";
  img.inputs.insert(img.inputs.begin(), kernel);

  if (!opt.force && fs::exists(img.dir + "/manifest.txt") && fs::exists(img.initrd) &&
      fs::exists(img.kernel)) {
    img.cached = true;
    img.initrd_bytes = fs::file_size(img.initrd);
  } else {
    CpioWriter cpio;
    for (auto& [dst, bytes] : data) cpio.add_file(dst, std::move(bytes), 0755);
    if (gpt) cpio.add_file("lib/modules/vtmm_gpt.ko", build_gpt_module(abi), 0644);
    for (const auto& a : kBusyboxApplets) cpio.add_symlink("bin/" + a, "busybox");
    cpio.add_file("init", kInit, 0755);
    cpio.add_file("etc/vtmm-modules", modlist, 0644);
    for (const char* d : {"proc", "sys", "dev", "tmp", "run"}) cpio.add_dir(d);
    // Written to a temporary folder and renamed: a half-built image is never used.
    const std::string tmp = img.dir + ".tmp." + std::to_string(::getpid());
    fs::remove_all(tmp);
    fs::create_directories(tmp);
    const std::string archive = cpio.finish();
    std::ofstream(tmp + "/initramfs.cpio", std::ios::binary) << archive;
    fs::copy_file(kernel, tmp + "/vmlinuz", fs::copy_options::overwrite_existing);
    std::ofstream(tmp + "/manifest.txt") << manifest;
    fs::remove_all(img.dir);
    fs::rename(tmp, img.dir);
    img.initrd_bytes = archive.size();
  }
  img.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return img;
}

}  // namespace vtmm::platform
