#pragma once
// Runs a registered design against a real process's memory (ProcessMemory)
// in real time: the same Policy code the simulator runs, ticked every
// period_ns() of wall-clock time. What the simulator does per first touch
// (Policy::place) the guest kernel does here: pages land where the guest
// allocated them, in the cell its host node backs, so place() is not called.
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "vtmm/core/policy.hpp"
#include "vtmm/platform/process_memory.hpp"

namespace vtmm::platform {

// A registered design for real time (its windows are wall-clock periods:
// PolicyEnv::scale_time_by_memory off), from a spec value; SpecError naming
// `where` for a bad one, or for a need ProcessMemory does not offer with
// `offer` (page tables, its own or the guest's; hint faults; the process's kernel).
std::unique_ptr<Policy> make_real_time_policy(const Json& spec, const std::string& where,
                                              uint64_t seed, Json* resolved = nullptr,
                                              ProcessMemory::Offer offer = {});
// Whether the design needs mechanism x; either guest page-table mechanism.
bool needs(const Policy& pol, Mechanism x);
bool needs_page_tables(const Policy& pol);

class PolicyDriver {
 public:
  // Checks the policy's needs against `m`, then attaches it.
  PolicyDriver(Policy& pol, ProcessMemory& m, const std::string& platform);
  // Ticks until done() (polled every poll_ms) or max_s seconds; returns
  // whether done() ended it.
  bool run(const std::function<bool()>& done, double max_s, uint32_t poll_ms = 20);
  // ticks, their wall time, the mechanisms used, the policy's and the memory's reports.
  Json report() const;

 private:
  void deliver_hint_faults();

  Policy& pol_;
  ProcessMemory& m_;
  std::vector<Mechanism> used_;
  uint64_t ticks_ = 0, late_ticks_ = 0, delivered_ = 0;
  std::vector<HintFault> faults_;
  double tick_s_ = 0, ran_s_ = 0;
};

}  // namespace vtmm::platform
