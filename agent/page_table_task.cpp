// The guest companion's walks, served to the host daemon on the agent's
// second port (docs/vm.md, "The guest companion"): while the first port runs
// a workload command, the host asks here for one walk per tracking window.
//
//   gpt-walk MASK   walk the workload's page tables through /proc/vtmm_gpt
//                   (MASK 1 clears accessed bits, 2 dirty bits, 3 both) and
//                   send them as Tables frames: each leaf table's frame and
//                   per PTE the frame it maps with its A/D bits
//
// The workload is the process named in /tmp/vtmm-workload.pid (the agent's
// own pid, or redis-server's while it serves). Frames outside the guest's
// RAM (/proc/iomem's "System RAM") are left out: the host would refuse them.
#include <fcntl.h>
#include <unistd.h>

#include <cerrno>
#include <fstream>
#include <sstream>
#include <string>
#include <utility>
#include <vector>

#include "agent/tasks.hpp"
#include "vtmm/platform/companion.hpp"

namespace vtmm::agent {
namespace {

namespace ap = agent_proto;
using platform::companion_walk;
using platform::CompanionTable;
using platform::kCompanionPath;
using platform::kPteAccessed;
using platform::kPteDirty;
using platform::kPteFrameBits;
using platform::kPtePresent;
constexpr const char* kPidFile = "/tmp/vtmm-workload.pid";

// Guest frames of RAM, from /proc/iomem's top-level "System RAM" lines.
std::vector<std::pair<uint64_t, uint64_t>> ram_frames() {
  std::vector<std::pair<uint64_t, uint64_t>> out;
  std::ifstream in("/proc/iomem");
  for (std::string line; std::getline(in, line);) {
    if (line.empty() || line[0] == ' ' || line.find(": System RAM") == std::string::npos) continue;
    const auto dash = line.find('-');
    const uint64_t lo = std::stoull(line.substr(0, dash), nullptr, 16);
    const uint64_t hi = std::stoull(line.substr(dash + 1), nullptr, 16);
    out.emplace_back((lo + 4095) / 4096, (hi + 1) / 4096);  // whole frames only
  }
  return out;
}

bool in_ram(const std::vector<std::pair<uint64_t, uint64_t>>& ram, uint64_t gfn) {
  for (const auto& [lo, hi] : ram)
    if (gfn >= lo && gfn < hi) return true;
  return false;
}

pid_t workload_pid() {
  pid_t p = 0;
  std::ifstream(kPidFile) >> p;
  return p;
}

// The workload's tables, or none when it has ended between the pid's write
// and the walk (redis-server is stopped before the agent names itself again).
std::vector<CompanionTable> walk(pid_t pid, int mask) {
  const int fd = ::open(kCompanionPath, O_RDWR | O_CLOEXEC);
  if (fd < 0)
    throw std::runtime_error("gpt-walk: no /proc/vtmm_gpt (the companion module is not loaded)");
  std::vector<CompanionTable> recs;
  const int err = companion_walk(fd, pid, mask, recs);
  ::close(fd);
  if (err != 0 && err != ESRCH && err != EINVAL)
    throw std::runtime_error("gpt-walk: the walk of pid " + std::to_string(pid) + " failed");
  return recs;
}

Values walk_tables(Channel& ch, int mask, const std::vector<std::pair<uint64_t, uint64_t>>& ram) {
  const pid_t pid = workload_pid();
  if (pid <= 0) throw std::runtime_error("gpt-walk: no workload pid");
  double tables = 0, present = 0, accessed = 0, dirty = 0, outside = 0;
  ap::Tables frame;
  const auto flush = [&] {
    if (!frame.gfns.empty()) ch.send(ap::MsgType::Tables, frame);
    frame = ap::Tables{};
  };
  for (const CompanionTable& t : walk(pid, mask)) {
    if (!in_ram(ram, t.pfn)) {
      ++outside;
      continue;
    }
    ++tables;
    frame.gfns.push_back(t.pfn);
    for (uint64_t raw : t.pte) {
      const uint64_t gfn = (raw & kPteFrameBits) >> 12;
      if (!(raw & kPtePresent) || !in_ram(ram, gfn)) {
        frame.entries.push_back(0);
        continue;
      }
      const uint64_t flags = ap::kPresent | (raw & kPteAccessed ? ap::kAccessed : 0) |
                             (raw & kPteDirty ? ap::kDirty : 0);
      frame.entries.push_back(gfn | flags << 56);
      ++present;
      accessed += (raw & kPteAccessed) != 0;
      dirty += (raw & kPteDirty) != 0;
    }
    if (frame.gfns.size() == ap::kMaxTablesPerFrame) flush();
  }
  flush();
  return {{"pid", pid},           {"tables", tables}, {"present", present},
          {"accessed", accessed}, {"dirty", dirty},   {"tables_outside_ram", outside}};
}

}  // namespace

void set_workload_pid(pid_t pid) { std::ofstream(kPidFile) << pid << "\n"; }

void serve_page_tables(const ap::Hello& hello) {
  try {
    Channel ch("org.vtmm.agent.1", 60);
    const auto ram = ram_frames();
    ch.send(ap::MsgType::Hello, hello);
    for (;;) {
      std::istringstream in(ch.next_command());
      std::string name;
      int mask = -1;
      in >> name >> mask;
      try {
        if (name != "gpt-walk" || mask < 0 || mask > 3)
          throw std::runtime_error("unknown command on the page-table port: '" + name + "'");
        ch.send(ap::MsgType::Metrics, ap::Metrics{"gpt-walk", walk_tables(ch, mask, ram)});
        ch.send(ap::MsgType::Done, ap::Done{0});
      } catch (const std::exception& e) {
        std::string why = e.what();
        for (char& c : why)
          if (c < 0x20 || c > 0x7e) c = ' ';
        ch.send(ap::MsgType::Error, ap::Text{why.substr(0, ap::kMaxText)});
        ch.send(ap::MsgType::Done, ap::Done{1});
      }
    }
  } catch (const std::exception&) {
    // No second port (an older domain) or the host went away: nothing to serve.
  }
}

}  // namespace vtmm::agent
