#pragma once
// The host daemon's view of a guest's RAM. QEMU 7.2's monitor does not print
// host addresses of RAM blocks, so the daemon finds them itself: each guest
// NUMA cell is one anonymous read-write mapping of exactly the cell's size in
// the QEMU process (/proc/PID/maps). When several mappings fit, the guest
// agent's marked pages decide: a reported page at guest frame G holds
// "VTMMPAGE" and G, so the mapping where /proc/PID/mem shows that at
// base + (G*4096 - cell start) is the cell's RAM. Only verified cells are used.
//
// Migration is vTMM's transparent kind -- same GPA, new host node -- done by
// move_pages(2) on the QEMU process. Every GPA comes from the untrusted guest
// and is bounds-checked against the cells before any address is computed.
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"
#include "vtmm/platform/agent_protocol.hpp"

namespace vtmm::platform {

inline constexpr char kPageMark[8] = {'V', 'T', 'M', 'M', 'P', 'A', 'G', 'E'};

struct RamCell {
  uint64_t gpa = 0, bytes = 0;
  std::vector<uint64_t> candidates;  // host addresses of same-sized mappings
  uint64_t hva = 0;                  // 0 until verified
};

class GuestRam {
 public:
  // `cells`: cell sizes in GPA order (pc machine below 3 GiB: back to back from 0).
  GuestRam(int qemu_pid, const std::vector<uint64_t>& cells);

  agent_proto::MemoryMap memory_map() const;
  // Picks each cell's mapping from marked pages; returns how many marks matched.
  uint64_t verify(const std::vector<uint64_t>& marked_gfns);
  const std::vector<RamCell>& cells() const { return cells_; }
  // Host address of a guest frame in a verified cell, or 0.
  uint64_t hva_of(uint64_t gfn) const;
  // How many of the frames still hold their marks (read through /proc/PID/mem).
  uint64_t marks_intact(const std::vector<uint64_t>& gfns) const;

  // move_pages(2) of the given guest frames to host `node`: requested, moved,
  // per-error counts, node counts before/after. `status`, if given, gets one
  // entry per gfn: the node it is on afterwards, -errno, or kUnmapped.
  static constexpr int kUnmapped = -100000;
  Json move(const std::vector<uint64_t>& gfns, int node, std::vector<int>* status = nullptr) const;

 private:
  bool mark_at(uint64_t hva, uint64_t gfn) const;
  int pid_;
  std::vector<RamCell> cells_;
};

}  // namespace vtmm::platform
