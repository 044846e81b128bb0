#pragma once
// Sizing a VM and its configuration from a run's description; shared by
// single-VM and multi-VM runs.
#include <optional>
#include <string>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/counters.hpp"
#include "vtmm/sim/run_loop.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm::sim {

// The profiling pass of offline designs: everything in fast memory, no ticks.
class AllFast final : public Policy {
 public:
  Sizing sizing() const override { return Sizing::AllFast; }
  Tier place(Gpa, const Mechanisms&) override { return Tier::Fast; }
};

// fast/slow: the tier allowances. The slow tier is the capacity tier: the host
// can back all of a VM's memory there, so a tiered VM's slow allowance is its
// whole memory (demotion never waits for room) while `split_slow` is what the
// ratio leaves for slow (reported as slow_bytes).
struct Sizes {
  uint64_t memory = 0, fast = 0, slow = 0, split_slow = 0;
};

// What sizes one VM: its memory (0: from the footprint) and its fast share
// (fast_bytes, else the ratio of its memory).
struct VmSizing {
  uint64_t memory_bytes = 0;
  std::optional<Ratio> ratio;
  uint64_t fast_bytes = 0;
  std::string policy;  // for the error message
  std::string where;   // likewise
};
Sizes size_vm(const VmSizing& in, Policy::Sizing sizing, uint64_t footprint);

// The VM's configuration for a design on `sizes`.
struct VmShape {
  uint32_t vcpus = 1;
  uint64_t va_bytes = 0;
  bool ept_huge = false, aged_guest = false;
  uint64_t seed = 1;
  bool guest_thp = false;        // the guest maps 2 MiB pages (docs/huge-pages.md)
  bool start_slow = false;       // RunSpec::initial_tier "slow"
  bool policy_on_vcpu0 = false;  // RunSpec::policy_thread_core "vcpu0"
};
VmConfig vm_config(const Sizes& sz, const Policy& pol, const VmShape& shape);

Json counters_json(const Counters& c);
// The policy environment of a VM running `wl`: whether periods scale with
// guest memory (not for a workload with fixed per-page rates), and why.
PolicyEnv policy_env(uint64_t seed, const Workload& wl);
Json time_scaling_json(const PolicyEnv& env);
// The measured part of a VM's record: time, ops, throughput, hit ratio,
// migration and tracking counts, all counters, the policy's own metrics.
void put_measures(Json& r, const Outcome& o, const Workload& wl, const Policy& pol);

}  // namespace vtmm::sim
