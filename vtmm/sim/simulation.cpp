#include "vtmm/sim/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/run_record.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/run_loop.hpp"
#include "vtmm/sim/vm_setup.hpp"

namespace vtmm::sim {

uint64_t default_memory_pages(uint64_t footprint_bytes) {
  const uint64_t data = pages_for(footprint_bytes);
  const uint64_t pages = data + (data + kPtesPerPage - 1) / kPtesPerPage + kPagesPerHuge;
  return (pages + kPagesPerHuge - 1) & ~uint64_t{kPagesPerHuge - 1};
}

Json simulate(const RunSpec& spec) {
  if (spec.multi()) return simulate_multi(spec);
  const HostProfile prof = HostProfile::load(spec.host.profile, spec.host.overrides);
  const VmSpec& vm = spec.vm();
  const RunOptions& opt = spec.options;
  const WorkloadEnv wenv{opt.seed, vm.vcpus};
  Json wl_resolved, pol_resolved;
  auto wl = WorkloadRegistry::instance().make(vm.workload, "workload", wenv, &wl_resolved);
  const PolicyEnv penv = policy_env(opt.seed, *wl);
  auto pol = PolicyRegistry::instance().make(spec.policy, "policy", penv, &pol_resolved);
  const uint64_t footprint = wl->footprint_bytes();
  const VmSizing sizing{vm.memory_bytes, opt.ratio, opt.fast_bytes, spec.policy.value("impl", "?"),
                        "run"};
  const Sizes sz = size_vm(sizing, pol->sizing(), footprint);
  if (vm.initial_tier == "slow" && pol->side() == Side::Guest)
    throw SpecError("vm: 'initial_tier' \"slow\" needs a host-side design ('" + spec.policy_name() +
                    "' runs in the guest, whose kernel picks each page's node)");
  if (vm.policy_thread_core != "spare" && pol->side() == Side::Guest)
    throw SpecError("vm: 'policy_thread_core' \"" + vm.policy_thread_core +
                    "\" needs a host-side design ('" + spec.policy_name() +
                    "' runs its work on the guest's vCPUs already)");
  const VmShape shape{vm.vcpus,
                      footprint,
                      vm.ept_huge,
                      vm.aged_guest,
                      opt.seed,
                      vm.guest_thp,
                      vm.initial_tier == "slow",
                      vm.policy_thread_core == "vcpu0"};

  if (pol->wants_profile()) {
    auto wl_profile = WorkloadRegistry::instance().make(vm.workload, "workload", wenv);
    AllFast all_fast;
    const Sizes full = size_vm(sizing, Policy::Sizing::AllFast, footprint);
    std::vector<VmSlot> first{
        VmSlot{vm_config(full, all_fast, shape), wl_profile.get(), &all_fast, 0, true}};
    pol->set_profile(std::move(
        run_loop(spec.host.platform, prof, first, nullptr, spec.exec.threads).front().profile));
  }
  std::vector<VmSlot> slots{VmSlot{vm_config(sz, *pol, shape), wl.get(), pol.get(), 0, false}};
  const Outcome o =
      std::move(run_loop(spec.host.platform, prof, slots, nullptr, spec.exec.threads).front());
  wl->verify();

  const bool ratio_sized =
      pol->sizing() == Policy::Sizing::Ratio || pol->sizing() == Policy::Sizing::MemoryMode;
  Json r = open_record(spec, prof.name, ratio_sized && !opt.fast_bytes);
  r["side"] = side_name(pol->side());
  r["fast_bytes"] = sz.fast * kPageSize;
  r["slow_bytes"] = sz.split_slow * kPageSize;
  r["memory_bytes"] = sz.memory * kPageSize;
  r["footprint_bytes"] = footprint;
  put_measures(r, o, *wl, *pol);
  r["time_scaling"] = time_scaling_json(penv);
  Json cfg = spec.to_json();
  cfg["workload"] = wl_resolved;
  cfg["policy"] = pol_resolved;
  close_record(r, std::move(cfg), sim_config(prof));
  return r;
}

Json sim_config(const HostProfile& prof) {
  return {{"host_constants", prof.to_json()}, {"model_version", kModelVersion}};
}

}  // namespace vtmm::sim
