#pragma once
// Host-side policies of the vm platform that run while the guest works.
//
// vtmm: every window the agent reports the workload's soft-dirty guest frames
// (already validated against the memory map by the protocol decoder, and
// checked again here); they feed vTMM's own temperature history and hot-set
// planner (vtmm/policy/hotness.hpp: Hotness::record, plan_placement -- the
// classifier the simulator's vTMM uses), and the planned pages are moved
// between host nodes by the daemon (GuestRam::move, same GPA). Soft-dirty
// sees writes only: a page read but not written stays cold.
//
// guest-tiering: the guest kernel's own tiering (numa_balancing=2 and
// demotion) on the two guest cells; the record holds what the guest kernel
// formed and the vmstat deltas it produced.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"
#include "vtmm/platform/agent_link.hpp"

namespace vtmm::platform {

struct WindowLoopConfig {
  uint32_t window_ms = 200, history = 10;
  uint64_t pages = 0;       // guest pages (GPA 0 .. pages*4096)
  uint64_t fast_pages = 0;  // the fast budget: cell 0, initially on the fast node
  int fast_node = 0, slow_node = 1;
  uint32_t max_windows = 100000;
  // Promote even when the demotions that were to make room failed (the fast
  // node then holds more than the fast cell's share). Off: the budget holds.
  bool overfill = false;
};

// Sends one agent command, returns its reply (throws if the guest failed it).
using AgentCall = std::function<CommandReply(const std::string&)>;
// Moves guest frames to a host node: a summary, and per frame the node it
// ended on or a negative errno (GuestRam::move).
using PageMover =
    std::function<Json(const std::vector<uint64_t>& gfns, int node, std::vector<int>& status)>;

// Starts the workload with `start_command`, then runs windows until the
// agent reports the workload finished. Returns the loop's counts.
Json vtmm_window_loop(const WindowLoopConfig& c, const AgentCall& agent, const PageMover& move,
                      const std::string& start_command);

// The guest-tiering record from the agent's tiering-on reply and vmstat before/after.
Json guest_tiering_record(const CommandReply& on, const CommandReply& before,
                          const CommandReply& after);

}  // namespace vtmm::platform
