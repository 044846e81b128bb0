// Per-window access reports on the running workload (for the host's vTMM
// loop) and the guest kernel's own tiering (numa_balancing=2 + demotion).
#include <fcntl.h>
#include <unistd.h>

#include <algorithm>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "agent/tasks.hpp"

namespace vtmm::agent {
namespace {

constexpr size_t kFramePages = 100000;  // per Pages frame (protocol limit ~131 k)
constexpr size_t kChunkPages = 65536;

}  // namespace

Values report_workload_window(Channel& ch, uint32_t window) {
  const pid_t pid = ycsb_server_pid();
  if (pid <= 0) throw std::runtime_error("no workload process to report on (ycsb-start first)");
  const std::string proc = "/proc/" + std::to_string(pid);
  const int fd = ::open((proc + "/pagemap").c_str(), O_RDONLY);
  if (fd < 0) throw std::runtime_error("cannot open " + proc + "/pagemap");
  agent_proto::Pages msg;
  msg.source = agent_proto::PageSource::SoftDirty;
  msg.window = window;
  double mapped = 0, dirty = 0, frames = 0;
  auto flush = [&] {
    if (msg.gfns.empty()) return;
    ch.send(agent_proto::MsgType::Pages, msg);
    msg.gfns.clear();
    msg.flags.clear();
    frames += 1;
  };
  // Soft-dirty since the last clear = written in this window (reads are invisible to it).
  std::ifstream maps(proc + "/maps");
  std::vector<uint64_t> pm;
  for (std::string line; std::getline(maps, line);) {
    unsigned long lo = 0, hi = 0;
    char perms[8] = {};
    if (std::sscanf(line.c_str(), "%lx-%lx %7s", &lo, &hi, perms) != 3 || perms[1] != 'w') continue;
    // In bounded chunks: allocators reserve large writable regions.
    for (unsigned long at = lo; at < hi; at += kChunkPages * kPage) {
      const size_t n = std::min<size_t>((hi - at) / kPage, kChunkPages);
      pm.resize(n);
      if (::pread(fd, pm.data(), n * 8, static_cast<off_t>(at / kPage * 8)) !=
          static_cast<ssize_t>(n * 8))
        break;
      for (uint64_t e : pm) {
        if (!((e >> 63) & 1)) continue;
        mapped += 1;
        if (!((e >> 55) & 1)) continue;
        dirty += 1;
        msg.gfns.push_back(e & agent_proto::kPfnMask);
        msg.flags.push_back(agent_proto::kAccessed | agent_proto::kDirty);
        if (msg.gfns.size() == kFramePages) flush();
      }
    }
  }
  ::close(fd);
  flush();
  {
    std::ofstream cr(proc + "/clear_refs");
    cr << "4";  // start the next window
    if (!cr) throw std::runtime_error("cannot clear soft-dirty bits of " + proc);
  }
  return {{"window", window},
          {"pages_mapped", mapped},
          {"soft_dirty", dirty},
          {"frames", frames},
          {"workload_running", ycsb_running() ? 1.0 : 0.0}};
}

namespace {

std::string read_text(const std::string& path) {
  std::ifstream in(path);
  std::string s;
  std::getline(in, s);
  return s;
}

double write_and_read_back(const std::string& path, const std::string& value) {
  {
    std::ofstream out(path);
    out << value;
  }
  const std::string back = read_text(path);
  return back.empty() ? -1 : std::stod(back);
}

}  // namespace

Values guest_tiering_on() {
  // numa_balancing=2 is NUMA_BALANCING_MEMORY_TIERING: promote from slower tiers on hint faults;
  // demotion_enabled lets reclaim demote to the next tier instead of discarding.
  const double nb = write_and_read_back("/proc/sys/kernel/numa_balancing", "2");
  const std::string dem = "/sys/kernel/mm/numa/demotion_enabled";
  double de = -1;
  {
    std::ofstream out(dem);
    out << "1";
  }
  const std::string back = read_text(dem);
  if (back == "true" || back == "1")
    de = 1;
  else if (back == "false" || back == "0")
    de = 0;
  // memory_tiers (6.1+): one directory per tier; a single tier means no demotion target.
  double tiers = 0;
  std::error_code ec;
  for (const auto& e :
       std::filesystem::directory_iterator("/sys/devices/virtual/memory_tiering", ec))
    tiers += e.path().filename().string().rfind("memory_tier", 0) == 0;
  return {{"numa_balancing", nb}, {"demotion_enabled", de}, {"memory_tiers", tiers}};
}

Values guest_vmstat() {
  std::ifstream in("/proc/vmstat");
  Values v;
  for (std::string line; std::getline(in, line);) {
    std::istringstream ls(line);
    std::string k;
    double x = 0;
    if (!(ls >> k >> x)) continue;
    if (k.rfind("numa_", 0) == 0 || k.rfind("pgpromote", 0) == 0 || k.rfind("pgdemote", 0) == 0 ||
        k.rfind("pgmigrate", 0) == 0)
      v.emplace_back(k, x);
  }
  return v;
}

}  // namespace vtmm::agent
