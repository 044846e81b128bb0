#pragma once
// The run loop: the VMs of one simulated host, interleaved in simulated time.
// The vCPU (of any VM) with the smallest clock runs its next batch; hypervisor
// events due by then (policy ticks, migration completions, pool rebalances)
// run first; each VM's phases end at a barrier across its own vCPUs.
//
// When the host's cores are overcommitted (vCPUs plus host-side policy
// threads above host_cores), every batch and every host-side tick takes
// longer by runnable / host_cores: fair time slicing, without the cost of
// the context switches themselves (docs/simulator.md).
#include <memory>
#include <string>
#include <vector>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/placement_score.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm::sim {

class PoolDriver;

// One VM of a run, as its caller sets it up.
struct VmSlot {
  VmConfig cfg;  // cfg.id is set by the loop (the VM's index)
  Workload* wl = nullptr;
  Policy* pol = nullptr;
  double start_ns = 0;   // the VM's vCPUs start here
  bool profile = false;  // fill Outcome::profile (a profiling pass for an offline design)
};

// What one VM did.
struct Outcome {
  Counters measured;  // counters over its measured phase
  double measure_start_ns = 0, end_ns = 0, sim_time_ns = 0;
  MissProfile profile;  // true LLC misses per page of the measured phase (VmSlot::profile only)
  // Of the pages with the most LLC misses in the measured phase, as many as
  // the VM's fast allowance holds, the share on the fast tier when the run
  // ends (where a design left the hot set); < 0 when undefined (no fast
  // allowance, no misses).
  double hot_on_fast_at_end = -1;
  uint64_t gpt_pages = 0;
  uint64_t huge_mappings_live = 0;  // 2 MiB EPT mappings at the end of the run
  double bytes_per_page = 0;
  // The mechanisms the design was handed: what it needs, and what it wants
  // that the platform offers (in Mechanism order).
  std::vector<Mechanism> mechanisms;
  PlacementScore placement;  // PlacementObserver's windows over the measured phase
};

// Runs every slot's workload to its end. `platform` names the platform in the
// error for a mechanism a policy needs and the host lacks. `pool` (optional)
// re-sizes the VMs' fast allowances at its interval. `threads` host threads
// may serve the run: beyond the loop's own, helpers make workload batches
// ahead (BatchPrefetch); the outcomes are the same for any number.
std::vector<Outcome> run_loop(const std::string& platform, const HostProfile& prof,
                              std::vector<VmSlot>& slots, PoolDriver* pool = nullptr,
                              uint32_t threads = 1);

}  // namespace vtmm::sim
