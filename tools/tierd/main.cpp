// vtmm-tierd: a registered design run by the host-side daemon against one
// process's memory on this machine's NUMA nodes (docs/vm.md, "The daemon on
// its own"). Static, so it also runs inside the test guest:
//
//   vtmm-tierd --policy '{"impl":"ept-scanner","migration":"linux"}' --seconds 30
//       --stand-in --mib 256 --fast-mib 16   (one line)
//     forks a stand-in for QEMU (a memfd-backed region, its first fast-mib
//     bound to the fast node and the rest to the slow node, under a GUPS
//     load with a known hot set), runs the design against it, and checks
//     where the pages ended through move_pages' status and numa_maps;
//   vtmm-tierd --policy ... --pid PID --region HVA:BYTES[,HVA:BYTES] --fast-mib F
//     runs the design against a running process (QEMU's guest RAM);
//   vtmm-tierd --policy ... --guest --pid-file F --min-mib M --fast-mib F
//     runs a guest-side design in the guest, against the workload's process
//     (its pid read from F) once its anonymous mappings of 1 MiB or more
//     hold M MiB: the guest's own page tables, hint faults and NUMA nodes.
// SIGTERM or SIGINT ends the run; the report is printed as at the end.
//
// Prints one JSON object; exit 2 on a bad argument, 1 on a failure.
#include <fcntl.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/syscall.h>
#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <fstream>
#include <iostream>
#include <map>
#include <optional>
#include <sstream>
#include <string>
#include <thread>
#include <tuple>
#include <vector>

#include "vtmm/core/error.hpp"
#include "vtmm/core/rng.hpp"
#include "vtmm/platform/pagemap.hpp"
#include "vtmm/platform/policy_driver.hpp"
#include "vtmm/platform/proc_maps.hpp"
#include "workloads/gups_hotset.hpp"

namespace {

using vtmm::Json;
using vtmm::platform::ProcessMemory;
using vtmm::platform::ProcessMemoryConfig;
using vtmm::platform::ProcessRegion;

struct Args {
  Json policy;
  double seconds = 30;
  int fast_node = 0, slow_node = 1;
  uint64_t fast_mib = 0;
  bool stand_in = false;
  uint64_t mib = 256;
  double hot_fraction = 1.0 / 16, hot_probability = 0.99;
  uint64_t seed = 1;
  int pid = 0;
  std::vector<ProcessRegion> regions;
  uint32_t gpt_windows = 10;  // the companion module's check after the run (0: none)
  bool guest = false;         // this kernel is the workload's: a guest-side design
  std::string pid_file;
  uint64_t min_mib = 0;
};

std::atomic<bool> g_stop{false};
extern "C" void on_stop_signal(int) { g_stop = true; }

[[noreturn]] void bad(const std::string& what) { throw vtmm::SpecError(what); }

uint64_t number(const std::string& flag, const std::string& v) {
  size_t used = 0;
  uint64_t x = 0;
  try {
    x = std::stoull(v, &used, 0);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty()) bad(flag + ": '" + v + "' is not a whole number");
  return x;
}

double real(const std::string& flag, const std::string& v) {
  size_t used = 0;
  double x = 0;
  try {
    x = std::stod(v, &used);
  } catch (const std::exception&) {
    used = 0;
  }
  if (used != v.size() || v.empty()) bad(flag + ": '" + v + "' is not a number");
  return x;
}

std::vector<ProcessRegion> regions(const std::string& v) {
  std::vector<ProcessRegion> out;
  std::istringstream in(v);
  for (std::string part; std::getline(in, part, ',');) {
    const auto colon = part.find(':');
    if (colon == std::string::npos) bad("--region: '" + part + "' is not HVA:BYTES");
    out.push_back(
        {number("--region", part.substr(0, colon)), number("--region", part.substr(colon + 1))});
  }
  return out;
}

Args parse(int argc, char** argv) {
  Args a;
  for (int i = 1; i < argc; ++i) {
    const std::string f = argv[i];
    if (f == "--stand-in" || f == "--guest") {
      (f == "--guest" ? a.guest : a.stand_in) = true;
      continue;
    }
    if (i + 1 >= argc) bad(f + ": needs a value");
    const std::string v = argv[++i];
    if (f == "--policy")
      a.policy = Json::parse(v.front() == '{' ? v : "\"" + v + "\"");
    else if (f == "--seconds")
      a.seconds = real(f, v);
    else if (f == "--fast-node")
      a.fast_node = static_cast<int>(number(f, v));
    else if (f == "--slow-node")
      a.slow_node = static_cast<int>(number(f, v));
    else if (f == "--fast-mib")
      a.fast_mib = number(f, v);
    else if (f == "--mib")
      a.mib = number(f, v);
    else if (f == "--hot-fraction")
      a.hot_fraction = real(f, v);
    else if (f == "--hot-probability")
      a.hot_probability = real(f, v);
    else if (f == "--seed")
      a.seed = number(f, v);
    else if (f == "--pid")
      a.pid = static_cast<int>(number(f, v));
    else if (f == "--region")
      a.regions = regions(v);
    else if (f == "--gpt-windows")
      a.gpt_windows = static_cast<uint32_t>(number(f, v));
    else if (f == "--pid-file")
      a.pid_file = v;
    else if (f == "--min-mib")
      a.min_mib = number(f, v);
    else
      bad(f + ": unknown flag");
  }
  if (a.policy.is_null()) bad("--policy: required");
  if (!(a.seconds > 0 && a.seconds <= 86400)) bad("--seconds: must be in (0, 86400]");
  if (a.stand_in + (a.pid != 0) + !a.pid_file.empty() != 1)
    bad("--stand-in, --pid or --pid-file: exactly one");
  if (!a.pid_file.empty() && !a.guest) bad("--pid-file: only with --guest");
  if (!a.pid_file.empty() && (a.min_mib == 0 || a.min_mib > (64u << 10)))
    bad("--min-mib: must be 1..65536 with --pid-file");
  if (a.stand_in && (a.mib < 2 || a.mib > (64u << 10))) bad("--mib: must be 2..65536");
  if (a.stand_in && (a.fast_mib == 0 || a.fast_mib >= a.mib)) bad("--fast-mib: must be 1..mib-1");
  if (!(a.hot_fraction > 0 && a.hot_fraction <= 1)) bad("--hot-fraction: must be in (0, 1]");
  if (!(a.hot_probability >= 0 && a.hot_probability <= 1))
    bad("--hot-probability: must be in [0, 1]");
  if (a.fast_node == a.slow_node) bad("--slow-node: must differ from --fast-node");
  if (a.gpt_windows > 1000) bad("--gpt-windows: must be 0..1000");
  return a;
}

// Binds [p, p+len) to `node` (MPOL_BIND) so first touches land there.
void bind(void* p, size_t len, int node) {
  unsigned long mask = 1ul << node;
  if (::syscall(SYS_mbind, p, len, 2 /* MPOL_BIND */, &mask, sizeof mask * 8, 0) != 0)
    throw std::runtime_error(std::string("stand-in: mbind failed: ") + std::strerror(errno));
}

// The stand-in's body: a memfd region as QEMU backs guest RAM, its cells
// bound to the two nodes, every page touched, then GUPS updates until killed.
[[noreturn]] void stand_in(const Args& a, int ready_fd) {
  const size_t bytes = a.mib << 20, fast = a.fast_mib << 20;
  const int fd = static_cast<int>(::syscall(SYS_memfd_create, "vtmm-stand-in", 0));
  if (fd < 0 || ::ftruncate(fd, static_cast<off_t>(bytes)) != 0) _exit(3);
  auto* table =
      static_cast<uint64_t*>(::mmap(nullptr, bytes, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0));
  if (table == MAP_FAILED) _exit(3);
  ::madvise(table, bytes, MADV_NOHUGEPAGE);
  try {
    bind(table, fast, a.fast_node);
    bind(reinterpret_cast<char*>(table) + fast, bytes - fast, a.slow_node);
  } catch (const std::exception&) {
    _exit(4);
  }
  const uint64_t elems = bytes / 8;
  for (uint64_t i = 0; i < elems; i += 512) table[i] = i;
  // Placed; from now on only the daemon moves pages (a binding left in place
  // would not stop move_pages, but it is not QEMU's default either).
  ::syscall(SYS_mbind, table, bytes, 0 /* MPOL_DEFAULT */, nullptr, 0, 0);
  const uint64_t at = reinterpret_cast<uint64_t>(table);
  if (::write(ready_fd, &at, sizeof at) != sizeof at) _exit(3);
  const auto hot = vtmm::workloads::gups_hot_set(elems, a.hot_fraction, "random", a.seed);
  vtmm::Rng rng(a.seed);
  for (;;) vtmm::workloads::gups_update(table, elems, hot, a.hot_probability, rng);
}

// Pages per node of the mapping at `hva` in /proc/PID/numa_maps.
std::map<std::string, uint64_t> numa_maps(int pid, uint64_t hva) {
  std::ifstream in("/proc/" + std::to_string(pid) + "/numa_maps");
  char head[32];
  std::snprintf(head, sizeof head, "%llx ", static_cast<unsigned long long>(hva));
  std::map<std::string, uint64_t> out;
  for (std::string line; std::getline(in, line);) {
    if (line.rfind(head, 0) != 0) continue;
    std::istringstream words(line);
    for (std::string w; words >> w;)
      if (w.size() > 2 && w[0] == 'N' && w.find('=') != std::string::npos)
        out[w.substr(0, w.find('='))] = std::stoull(w.substr(w.find('=') + 1));
  }
  return out;
}

// The stand-in plays the guest too: with the companion module loaded, its
// own page tables are the guest page tables a design may track, and its
// nodes the guest's own (a guest-side design migrates the guest's pages).
// Hint faults wherever the module gives them.
std::unique_ptr<vtmm::Policy> make_policy(const Args& a) {
  const bool tables = (a.stand_in || a.guest) && vtmm::platform::ProcessPageTables::available();
  return vtmm::platform::make_real_time_policy(
      a.policy, "--policy", a.seed, nullptr,
      {.page_tables = tables, .hints = ProcessMemory::hint_faults_available(), .own = tables});
}

// Where the stand-in's pages ended against its known hot set.
Json score(const Args& a, const ProcessMemory& m, int pid, uint64_t hva, uint64_t first_hot,
           uint64_t hot_pages) {
  uint64_t hot_fast = 0, fast = 0, initial_hot_fast = 0;
  for (uint64_t g = 0; g < m.nodes().size(); ++g) {
    const bool on_fast = m.nodes()[g] == a.fast_node,
               hot = g >= first_hot && g < first_hot + hot_pages;
    fast += on_fast;
    hot_fast += on_fast && hot;
    initial_hot_fast += hot && g < (a.fast_mib << 20) / 4096;
  }
  Json nm = numa_maps(pid, hva);
  return {{"pages", m.nodes().size()},
          {"hot_pages", hot_pages},
          {"first_hot_page", first_hot},
          {"fast_budget_pages", (a.fast_mib << 20) / 4096},
          {"hot_on_fast_before", initial_hot_fast},
          {"hot_on_fast", hot_fast},
          {"fast_pages", fast},
          {"precision", fast ? static_cast<double>(hot_fast) / static_cast<double>(fast) : 0.0},
          {"recall", static_cast<double>(hot_fast) / static_cast<double>(hot_pages)},
          {"numa_maps", nm}};
}

// The kernel's own NUMA balancing would move the stand-in's pages too (on
// hint faults); the check is of the daemon's moves alone, so it is off while
// the check runs and restored afterwards.
class NumaBalancingOff {
 public:
  NumaBalancingOff() {
    if (!std::getline(std::ifstream(kPath), was_))
      was_ = "absent";
    else
      std::ofstream(kPath) << "0\n";
  }
  ~NumaBalancingOff() {
    if (was_ != "absent") std::ofstream(kPath) << was_ << "\n";
  }
  NumaBalancingOff(const NumaBalancingOff&) = delete;
  NumaBalancingOff& operator=(const NumaBalancingOff&) = delete;
  const std::string& was() const { return was_; }

 private:
  static constexpr const char* kPath = "/proc/sys/kernel/numa_balancing";
  std::string was_;
};

// One walk of /proc/vtmm_gpt (the guest companion module, guest/vtmm_gpt)
// over `pid`, clearing the accessed bits: the tables' records.
using vtmm::platform::CompanionTable;
std::vector<CompanionTable> gpt_walk(int pid) {
  const int fd = ::open(vtmm::platform::kCompanionPath, O_RDWR | O_CLOEXEC);
  std::vector<CompanionTable> out;
  const int err =
      fd < 0 ? errno : vtmm::platform::companion_walk(fd, pid, vtmm::platform::kClearAccessed, out);
  if (fd >= 0) ::close(fd);
  if (err != 0)
    throw std::runtime_error("vtmm_gpt: the walk failed: " + std::string(std::strerror(err)));
  return out;
}

// vTMM's guest companion on the stand-in: `gpt_windows` windows of 600 ms,
// each a walk that reads and clears the PTEs' accessed bits; a page is
// reported hot when its bit was set in every window (under a steady load a
// hot page is touched hundreds of times a window, a cold one with a fixed
// chance per window, so requiring all of them makes a false positive that
// chance to the power of the windows). Scored against the known hot set;
// each PTE's frame is checked against pagemap.
Json gpt_check(const Args& a, int pid, uint64_t hva, uint64_t first_hot, uint64_t hot_pages) {
  if (::access(vtmm::platform::kCompanionPath, F_OK) != 0) return {{"module", false}};
  using vtmm::platform::kPteAccessed, vtmm::platform::kPteFrameBits, vtmm::platform::kPtePresent;
  const uint64_t pages = (a.mib << 20) / 4096, end = hva + pages * 4096;
  std::vector<uint32_t> seen(pages, 0);
  // A page's frame as a present PTE gave it (kNoFrame: never present: a page
  // a design left PROT_NONE for a hint fault holds its frame inverted).
  constexpr uint64_t kNoFrame = ~uint64_t{0};
  std::vector<uint64_t> frame(pages, kNoFrame);
  uint64_t tables = 0;
  gpt_walk(pid);  // starts every bit clear
  for (uint32_t w = 0; w < a.gpt_windows; ++w) {
    std::this_thread::sleep_for(std::chrono::milliseconds(600));
    tables = 0;
    for (const CompanionTable& t : gpt_walk(pid)) {
      if (t.va + (uint64_t{512} << 12) <= hva || t.va >= end) continue;
      ++tables;
      for (uint64_t i = 0; i < 512; ++i) {
        const uint64_t va = t.va + i * 4096;
        if (va < hva || va >= end || !(t.pte[i] & kPtePresent)) continue;
        seen[(va - hva) / 4096] += (t.pte[i] & kPteAccessed) != 0;
        frame[(va - hva) / 4096] = (t.pte[i] & kPteFrameBits) >> 12;
      }
    }
  }
  uint64_t reported = 0, hit = 0, mismatched = 0, never_present = 0;
  const std::string proc = std::to_string(pid);
  for (uint64_t g = 0; g < pages; ++g) {
    const bool hot = a.gpt_windows > 0 && seen[g] == a.gpt_windows;
    reported += hot;
    hit += hot && g >= first_hot && g < first_hot + hot_pages;
    using vtmm::platform::kPagemapPfnMask, vtmm::platform::kPagemapPresent;
    const uint64_t e = vtmm::platform::pagemap_entry(proc, hva + g * 4096);
    if (!(e & kPagemapPresent)) continue;
    if (frame[g] == kNoFrame)
      ++never_present;
    else if ((e & kPagemapPfnMask) != frame[g])
      ++mismatched;
  }
  return {{"module", true},
          {"windows", a.gpt_windows},
          {"tables", tables},
          {"reported_hot", reported},
          {"precision", reported ? static_cast<double>(hit) / static_cast<double>(reported) : 0.0},
          {"recall", static_cast<double>(hit) / static_cast<double>(hot_pages)},
          {"frames_unlike_pagemap", mismatched},
          {"pages_never_present_in_walks", never_present}};
}

int run_stand_in(const Args& a) {
  auto pol = make_policy(a);  // a bad --policy fails before anything starts
  const NumaBalancingOff balancing;
  int pipe_fd[2];
  if (::pipe(pipe_fd) != 0) throw std::runtime_error("pipe failed");
  const pid_t child = ::fork();
  if (child < 0) throw std::runtime_error("fork failed");
  if (child == 0) {
    ::close(pipe_fd[0]);
    stand_in(a, pipe_fd[1]);
  }
  ::close(pipe_fd[1]);
  uint64_t hva = 0;
  const bool ready = ::read(pipe_fd[0], &hva, sizeof hva) == sizeof hva;
  ::close(pipe_fd[0]);
  Json out;
  try {
    if (!ready) {
      int st = 0;
      ::waitpid(child, &st, 0);
      throw std::runtime_error(WIFEXITED(st) && WEXITSTATUS(st) == 4
                                   ? "stand-in: mbind to node " + std::to_string(a.fast_node) +
                                         " or " + std::to_string(a.slow_node) +
                                         " failed (does this machine have both?)"
                                   : "stand-in: memfd_create, ftruncate or mmap failed");
    }
    ProcessMemoryConfig c{child,
                          {{hva, a.mib << 20}},
                          a.fast_node,
                          a.slow_node,
                          (a.fast_mib << 20) / 4096,
                          (a.mib << 20) / 4096,
                          vtmm::platform::needs_page_tables(*pol)};
    c.hint_faults = vtmm::platform::needs(*pol, vtmm::Mechanism::HintFaults);
    ProcessMemory m(c);
    vtmm::platform::PolicyDriver d(*pol, m, "vm");
    d.run([] { return false; }, a.seconds);
    m.refresh();
    const uint64_t elems = (a.mib << 20) / 8;
    const auto hot = vtmm::workloads::gups_hot_set(elems, a.hot_fraction, "random", a.seed);
    out = d.report();
    out["stand_in"] = score(a, m, child, hva, hot.base / 512, (hot.elems + 511) / 512);
    out["stand_in"]["numa_balancing_was"] = balancing.was();
    if (a.gpt_windows > 0)
      out["gpt"] = gpt_check(a, child, hva, hot.base / 512, (hot.elems + 511) / 512);
  } catch (...) {
    ::kill(child, SIGKILL);
    ::waitpid(child, nullptr, 0);
    throw;
  }
  ::kill(child, SIGKILL);
  ::waitpid(child, nullptr, 0);
  std::cout << out.dump() << "\n";
  return 0;
}

// The workload's anonymous private writable mappings of 1 MiB or more, from
// /proc/PID/maps (the heap included), in address order.
std::vector<ProcessRegion> anonymous_regions(int pid) {
  std::vector<ProcessRegion> out;
  for (const auto& m : vtmm::platform::anonymous_mappings(pid))
    if (m.hi - m.lo >= (1u << 20)) out.push_back({m.lo, m.hi - m.lo});
  return out;
}

// Waits (until stopped) for the process named in --pid-file to hold
// --min-mib in such mappings; its pid and them (pid 0: stopped first).
std::pair<int, std::vector<ProcessRegion>> wait_for_workload(const Args& a) {
  while (!g_stop) {
    int pid = 0;
    std::ifstream(a.pid_file) >> pid;
    if (pid > 0) {
      auto rs = anonymous_regions(pid);
      uint64_t bytes = 0;
      for (const auto& r : rs) bytes += r.bytes;
      if (bytes >= (a.min_mib << 20)) return {pid, rs};
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(50));
  }
  return {0, {}};
}

int run_pid(Args a) {
  auto pol = make_policy(a);  // a bad --policy fails before anything starts
  // In the guest, the design is the guest kernel's tiering: its own NUMA
  // balancing is off while it runs, as in the stand-in's check.
  std::optional<NumaBalancingOff> balancing;
  if (a.guest) balancing.emplace();
  if (!a.pid_file.empty()) {
    std::tie(a.pid, a.regions) = wait_for_workload(a);
    if (a.pid == 0) {
      std::cout << Json{{"started", false}}.dump() << "\n";
      return 0;
    }
  }
  uint64_t bytes = 0;
  for (const auto& r : a.regions) bytes += r.bytes;
  if (a.regions.empty()) bad("--region: required with --pid");
  if (a.fast_mib == 0) bad("--fast-mib: must be at least 1");
  ProcessMemoryConfig c{a.pid,
                        a.regions,
                        a.fast_node,
                        a.slow_node,
                        std::min((a.fast_mib << 20) / 4096, bytes / 4096),
                        bytes / 4096,
                        a.guest && vtmm::platform::needs_page_tables(*pol)};
  c.hint_faults = vtmm::platform::needs(*pol, vtmm::Mechanism::HintFaults);
  ProcessMemory m(c);
  vtmm::platform::PolicyDriver d(*pol, m, "vm");
  d.run([&] { return g_stop || ::kill(a.pid, 0) != 0; }, a.seconds);
  Json out = d.report();
  out["started"] = true;
  // A number, so that it survives the agent's flattening (-1: no such sysctl).
  if (balancing)
    out["numa_balancing_was"] =
        balancing->was() == "absent" ? -1 : std::atoi(balancing->was().c_str());
  out["regions"] = a.regions.size();
  out["region_bytes"] = bytes;
  std::cout << out.dump() << "\n";
  return 0;
}

}  // namespace

int main(int argc, char** argv) {
  try {
    const Args a = parse(argc, argv);
    ::signal(SIGTERM, on_stop_signal);
    ::signal(SIGINT, on_stop_signal);
    return a.stand_in ? run_stand_in(a) : run_pid(a);
  } catch (const vtmm::SpecError& e) {
    std::fprintf(stderr, "vtmm-tierd: %s\n", e.what());
    return 2;
  } catch (const Json::exception& e) {
    std::fprintf(stderr, "vtmm-tierd: --policy: %s\n", e.what());
    return 2;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vtmm-tierd: %s\n", e.what());
    return 1;
  }
}
