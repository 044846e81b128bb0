#include "vtmm/platform/host_probe.hpp"

#include <fcntl.h>
#include <linux/kvm.h>
#include <linux/perf_event.h>
#include <numa.h>
#include <numaif.h>
#include <sys/ioctl.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <unistd.h>

#include <algorithm>
#include <cerrno>
#include <cstdio>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vtmm/platform/libvirt_session.hpp"
#include "vtmm/platform/pagemap.hpp"
#include "vtmm/platform/process_memory.hpp"
#include "vtmm/platform/tracepoint_counter.hpp"

namespace vtmm::platform {
namespace fs = std::filesystem;

namespace {

std::string read_text(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  std::string s = ss.str();
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ')) s.pop_back();
  return s;
}

// "Node 0 MemTotal:  24564284 kB" -> bytes.
uint64_t meminfo_field(const std::string& text, const std::string& key) {
  const auto at = text.find(key + ":");
  if (at == std::string::npos) return 0;
  return std::strtoull(text.c_str() + at + key.size() + 1, nullptr, 10) * 1024;
}

std::optional<int> env_node(const char* name) {
  const char* v = std::getenv(name);
  if (v == nullptr || *v == '\0') return std::nullopt;
  char* end = nullptr;
  const long n = std::strtol(v, &end, 10);
  if (*end != '\0' || n < 0)
    throw SpecError(std::string(name) + ": must be a NUMA node number, got '" + v + "'");
  return static_cast<int>(n);
}

std::string shell_out(const std::string& cmd) {
  std::string out;
  if (FILE* f = ::popen(cmd.c_str(), "r")) {
    char buf[512];
    while (std::fgets(buf, sizeof buf, f) != nullptr) out += buf;
    ::pclose(f);
  }
  return out;
}

// Whether this process can count tracepoint sys:name with perf_event_open
// (the kernel's own count of VM exits, EPT violations, page migrations), or
// why not: no tracefs event (kernel or mount), or the open refused.
Json tracepoint_countable(const std::string& sys, const std::string& name) {
  const TracepointCounters c({sys + ":" + name});
  const Json n = c.counts();
  if (n.contains("why")) return {{"countable", false}, {"why", n["why"].begin().value()}};
  return {{"countable", true}, {"why", ""}};
}

bool pagemap_gives_pfns() {
  volatile char c = 1;
  return pagemap_pfn(pagemap_entry("self", reinterpret_cast<uintptr_t>(&c))) != 0;
}

}  // namespace

NumaLayout probe_numa(std::optional<int> fast_override, std::optional<int> slow_override) {
  NumaLayout L;
  const fs::path root = "/sys/devices/system/node";
  std::vector<int> ids;
  if (fs::exists(root))
    for (const auto& e : fs::directory_iterator(root)) {
      const std::string n = e.path().filename().string();
      if (n.rfind("node", 0) == 0 && n.size() > 4 && std::all_of(n.begin() + 4, n.end(), ::isdigit))
        ids.push_back(std::stoi(n.substr(4)));
    }
  std::sort(ids.begin(), ids.end());
  for (int id : ids) {
    NumaNode n;
    n.id = id;
    const fs::path d = root / ("node" + std::to_string(id));
    const std::string mi = read_text(d / "meminfo");
    n.mem_total = meminfo_field(mi, "MemTotal");
    n.mem_free = meminfo_field(mi, "MemFree");
    n.cpus = read_text(d / "cpulist");
    std::istringstream dist(read_text(d / "distance"));
    for (int x; dist >> x;) n.distances.push_back(x);
    L.nodes.push_back(n);
  }
  if (!fast_override) fast_override = env_node("VTMM_FAST_NODE");
  if (!slow_override) slow_override = env_node("VTMM_SLOW_NODE");
  auto exists = [&](int id) {
    return std::any_of(L.nodes.begin(), L.nodes.end(),
                       [&](const NumaNode& n) { return n.id == id; });
  };
  if (fast_override || slow_override) {
    for (auto o : {fast_override, slow_override})
      if (o && !exists(*o))
        throw SpecError("numa: node " + std::to_string(*o) + " does not exist on this host");
    L.fast_node = fast_override;
    L.slow_node = slow_override;
    L.how = "user (flag or VTMM_FAST_NODE/VTMM_SLOW_NODE)";
    return L;
  }
  if (L.nodes.empty()) {
    L.how = "no NUMA information in /sys";
    return L;
  }
  const NumaNode* fast = nullptr;
  for (const auto& n : L.nodes)
    if (!n.cpus.empty() && n.mem_total > 0 && fast == nullptr) fast = &n;
  if (fast == nullptr) fast = &L.nodes.front();
  L.fast_node = fast->id;
  if (L.nodes.size() == 1) {
    L.how = "single node: no slow tier on this host";
    return L;
  }
  // Farthest node from the fast one, preferring memory-only nodes (how CXL and
  // PMem-as-RAM appear); distances are the firmware's SLIT.
  const size_t fi = static_cast<size_t>(fast - L.nodes.data());
  int best = -1, best_score = -1;
  for (size_t i = 0; i < L.nodes.size(); ++i) {
    if (i == fi || L.nodes[i].mem_total == 0) continue;
    const int dist = i < fast->distances.size() ? fast->distances[i] : 0;
    const int score = dist + (L.nodes[i].cpus.empty() ? 1000 : 0);
    if (score > best_score) best_score = score, best = L.nodes[i].id;
  }
  if (best >= 0) L.slow_node = best;
  L.how =
      "distances (SLIT): fast = first node with CPUs, slow = farthest memory node, memory-only "
      "nodes first";
  return L;
}

KvmStatus probe_kvm() {
  KvmStatus k;
  k.pvm = fs::exists("/sys/module/kvm_pvm");
  const int fd = ::open("/dev/kvm", O_RDWR | O_CLOEXEC);
  k.device = fd >= 0;
  if (fd >= 0) {
    const int vm = ::ioctl(fd, KVM_CREATE_VM, 0);
    k.create_vm = vm >= 0;
    if (vm >= 0) ::close(vm);
    ::close(fd);
  }
  if (!k.device)
    k.reason = fs::exists("/dev/kvm")
                   ? "/dev/kvm cannot be opened: " + std::string(std::strerror(errno))
                   : "no /dev/kvm (no hardware virtualization or kvm module not loaded)";
  else if (!k.create_vm)
    k.reason = "KVM_CREATE_VM fails";
  else if (k.pvm)
    k.reason =
        "host KVM is PVM (kvm_pvm loaded): a normal guest runs in KVM's instruction emulator "
        "(about 1.2 M instructions/s) and a Debian kernel never finishes booting; vtmm uses TCG";
  else {
    k.usable = true;
    k.reason = "KVM_CREATE_VM works and the host KVM is not PVM";
  }
  return k;
}

std::string try_move_page_to(int node) {
  void* p = ::mmap(nullptr, 4096, PROT_READ | PROT_WRITE, MAP_PRIVATE | MAP_ANONYMOUS, -1, 0);
  if (p == MAP_FAILED) return std::strerror(errno);
  static_cast<volatile char*>(p)[0] = 1;
  void* pages[1] = {p};
  int nodes[1] = {node}, status[1] = {-1};
  std::string err;
  if (::move_pages(0, 1, pages, nodes, status, MPOL_MF_MOVE) != 0)
    err = std::strerror(errno);
  else if (status[0] < 0)
    err = std::strerror(-status[0]);
  ::munmap(p, 4096);
  return err;
}

std::string qemu_version() {
  const std::string out = shell_out("qemu-system-x86_64 --version 2>/dev/null");
  const auto at = out.find("version ");
  if (at == std::string::npos) return "";
  const auto end = out.find_first_of(" \n", at + 8);
  return out.substr(at + 8, end - at - 8);
}

std::string find_guest_kernel() {
  std::vector<std::string> found;
  if (fs::exists("/boot"))
    for (const auto& e : fs::directory_iterator("/boot")) {
      const std::string n = e.path().filename().string();
      if (n.rfind("vmlinuz-", 0) == 0 && n.size() > 14 && n.compare(n.size() - 6, 6, "-amd64") == 0)
        found.push_back(e.path().string());
    }
  std::sort(found.begin(), found.end());  // newest ABI last (same-width numbers on one release)
  return found.empty() ? "" : found.back();
}

namespace {

// The host's NUMA nodes, the tiers picked and whether move_pages reaches each.
Json numa_report(const NumaLayout& L) {
  Json nodes = Json::array();
  int max_id = -1;
  for (const auto& n : L.nodes) {
    max_id = std::max(max_id, n.id);
    const std::string mv = try_move_page_to(n.id);
    nodes.push_back({{"id", n.id},
                     {"mem_total_bytes", n.mem_total},
                     {"mem_free_bytes", n.mem_free},
                     {"cpus", n.cpus},
                     {"distances", n.distances},
                     {"move_pages", mv.empty() ? Json("ok") : Json(mv)}});
  }
  const std::string absent = try_move_page_to(max_id + 1);
  return {{"fast_node", L.fast_node ? Json(*L.fast_node) : Json(nullptr)},
          {"slow_node", L.slow_node ? Json(*L.slow_node) : Json(nullptr)},
          {"how", L.how},
          {"nodes", nodes},
          {"move_pages_absent_node",
           {{"node", max_id + 1}, {"result", absent.empty() ? "ok" : absent}}},
          {"libnuma_available", numa_available() >= 0}};
}

// One sentence on what the vm platform will do on this host.
std::string doctor_plan(const KvmStatus& k, const NumaLayout& L, const LibvirtProbe& lv,
                        const std::string& qv, const std::string& kernel) {
  std::string plan;
  if (qv.empty() || !lv.installed || kernel.empty()) {
    plan =
        "vm platform unavailable: install qemu-system-x86, libvirt-daemon-system and "
        "linux-image-amd64 "
        "(scripts/setup.sh); the sim platform works.";
  } else {
    plan = std::string("vm platform: ") +
           (k.usable ? "KVM" : "TCG (functional only, slow; " + k.reason + ")") + "; ";
    plan += lv.reachable ? "libvirt reachable; "
                         : "libvirtd not answering: vtmm run starts virtlogd and libvirtd and "
                           "stops them after; ";
    if (L.fast_node && L.slow_node)
      plan += "guest fast cell on host node " + std::to_string(*L.fast_node) +
              ", slow cell on node " + std::to_string(*L.slow_node) +
              "; daemon migrates with move_pages between them.";
    else if (L.fast_node)
      plan += "one usable host node (" + std::to_string(*L.fast_node) +
              "): both guest NUMA cells are bound to it, placements are functional only (no "
              "latency gap), "
              "designs that move pages are refused (`vtmm numa-check` runs that path in a two-node "
              "guest); "
              "the daemon's round trip to the absent slow node fails and is recorded.";
    else
      plan += "no NUMA information: guest memory is not bound.";
  }
  return plan;
}

}  // namespace

Json doctor_report(std::optional<int> fast_override, std::optional<int> slow_override) {
  Json r;
  const KvmStatus k = probe_kvm();
  r["kvm"] = {{"usable", k.usable},
              {"reason", k.reason},
              {"device", k.device},
              {"create_vm", k.create_vm},
              {"pvm", k.pvm}};

  const NumaLayout L = probe_numa(fast_override, slow_override);
  r["numa"] = numa_report(L);

  r["memory_interfaces"] = {
      {"page_idle", fs::exists("/sys/kernel/mm/page_idle/bitmap")},
      {"soft_dirty", soft_dirty_works()},
      {"pagemap_pfns", pagemap_gives_pfns()},
      {"damon_sysfs", fs::exists("/sys/kernel/mm/damon/admin")},
      {"userfaultfd",
       fs::exists("/proc/sys/vm/unprivileged_userfaultfd") || fs::exists("/dev/userfaultfd")},
      {"thp", read_text("/sys/kernel/mm/transparent_hugepage/enabled")},
      {"note", "host-side interfaces; the guest agent reports what the guest kernel offers"}};

  // The events a real-VM run would count from the host kernel, and how vTMM's
  // mechanisms map to what this host offers.
  r["event_counting"] = {
      {"vm_exits", tracepoint_countable("kvm", "kvm_exit")},
      {"ept_violations", tracepoint_countable("kvm", "kvm_page_fault")},
      {"page_migrations", tracepoint_countable("migrate", "mm_migrate_pages")},
      {"perf_event_paranoid", read_text("/proc/sys/kernel/perf_event_paranoid")}};
  const bool idle = r["memory_interfaces"]["page_idle"], sd = r["memory_interfaces"]["soft_dirty"];
  r["vm_mechanisms"] = {
      {"ept_a_bits", idle ? "page_idle on QEMU's guest RAM"
                          : "absent (no page_idle: CONFIG_IDLE_PAGE_TRACKING off)"},
      {"ept_d_bits",
       sd ? "soft-dirty on QEMU's guest RAM" : "absent (soft-dirty does not work here)"},
      {"migration", "move_pages(2) on QEMU's guest RAM between host nodes (PM_Linux semantics)"},
      {"pml", "absent: PML-guided scanning and PML-assisted migration need a patched KVM"}};

  const LibvirtProbe lv = probe_libvirt();
  r["libvirt"] = {{"installed", lv.installed}, {"daemon_running", lv.daemon_running},
                  {"reachable", lv.reachable}, {"uri", lv.uri},
                  {"version", lv.version},     {"reason", lv.reason}};
  const std::string qv = qemu_version();
  r["qemu"] = {{"installed", !qv.empty()},
               {"version", qv},
               {"binary", qv.empty() ? "" : "qemu-system-x86_64"}};
  const std::string kernel = find_guest_kernel();
  r["guest_kernel"] = kernel.empty() ? Json(nullptr) : Json(kernel);
  // vTMM's guest companion module is built with the image from the guest kernel's headers.
  const std::string abi = kernel.empty() ? "" : fs::path(kernel).filename().string().substr(8);
  r["guest_companion"] = !abi.empty() && fs::exists("/lib/modules/" + abi + "/build/Makefile");

  r["plan"] = doctor_plan(k, L, lv, qv, kernel);
  return r;
}

}  // namespace vtmm::platform
