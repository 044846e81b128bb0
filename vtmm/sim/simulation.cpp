#include "vtmm/sim/simulation.hpp"

#include <algorithm>
#include <cmath>
#include <memory>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/record_identity.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm::sim {
namespace {

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

Sizes size_vm(const RunSpec& spec, Policy::Sizing sizing, uint64_t footprint) {
  Sizes s;
  s.memory = spec.memory_bytes ? pages_for(spec.memory_bytes) : default_memory_pages(footprint);
  if (s.memory < pages_for(footprint))
    throw SpecError("vm: 'memory' (" + format_bytes(s.memory * kPageSize) + ") is smaller than the workload's footprint (" +
                    format_bytes(footprint) + ")");
  switch (sizing) {
    case Policy::Sizing::AllFast: s.fast = s.memory; break;
    case Policy::Sizing::AllSlow: s.slow = s.split_slow = s.memory; break;
    case Policy::Sizing::MemoryMode:  // the ratio sizes the cache; every page lives in slow memory
    case Policy::Sizing::Ratio:
      if (spec.fast_bytes) {
        s.fast = std::min(pages_for(spec.fast_bytes), s.memory);
      } else if (spec.ratio) {
        s.fast = static_cast<uint64_t>(std::floor(static_cast<double>(s.memory) * spec.ratio->fast /
                                                  (spec.ratio->fast + spec.ratio->slow)));
      } else {
        throw SpecError("run: policy '" + spec.policy.value("impl", "?") + "' needs a 'ratio' (FAST:SLOW) or 'fast_bytes'");
      }
      s.split_slow = s.memory - s.fast;
      s.slow = s.memory;
      if (sizing == Policy::Sizing::MemoryMode) s.split_slow = s.memory;
      break;
  }
  return s;
}

struct Outcome {
  Counters measured;
  double sim_time_ns = 0;
  std::vector<uint32_t> truth_misses;
  uint64_t gpt_pages = 0;
  double bytes_per_page = 0;
};

// The run loop: the vCPU with the smallest clock runs its next batch; hypervisor
// events due by then run first; phases end at a barrier across vCPUs.
Outcome run_loop(const RunSpec& spec, const HostProfile& prof, Workload& wl, Policy& pol, const Sizes& sz) {
  Host host(prof);
  SimMechanisms mech;
  VmConfig cfg;
  cfg.vcpus = spec.vcpus;
  cfg.memory_pages = sz.memory;
  // A guest design's slow node spans the VM's whole memory, as a host design's
  // slow allowance does (Sizes): the fast capacity is the same for both sides,
  // and the guest has free slow-node pages to demote into (a guest whose two
  // nodes are exactly full could never migrate: guest migration needs a free
  // GPA on the target node).
  if (pol.side() == Side::Guest && sz.fast > 0 && sz.fast < sz.memory) cfg.memory_pages = sz.fast + sz.memory;
  cfg.fast_pages = sz.fast;
  cfg.slow_pages = sz.slow;
  cfg.va_bytes = wl.footprint_bytes();
  cfg.ept_huge = spec.ept_huge;
  cfg.shuffle_free_pages = spec.aged_guest;
  cfg.guest_numa = pol.side() == Side::Guest;
  cfg.memory_mode = pol.sizing() == Policy::Sizing::MemoryMode;
  cfg.seed = spec.seed;
  auto vm = std::make_unique<Vm>(host, cfg, pol, mech);
  host.vms.push_back(vm.get());
  mech.bind(vm.get());
  mech.set_side(pol.side());
  for (Mechanism m : pol.needs())
    if (!mech.offers(m))
      throw SpecError(std::string("policy: needs ") + mechanism_name(m) + ", which platform '" + spec.platform +
                      "' does not offer");
  pol.attach(mech);

  const double period = pol.period_ns();
  std::function<void(double)> tick = [&](double at) {
    HvThread& hv = mech.thread();
    hv.clock_ns = std::max(hv.clock_ns, at);
    pol.tick(mech);
    std::fill(vm->truth_accesses.begin(), vm->truth_accesses.end(), 0u);
    host.schedule(std::max(at + period, hv.clock_ns), [&tick, &mech, at, period] {
      tick(std::max(at + period, mech.thread().clock_ns));
    });
  };
  if (period > 0) host.schedule(period, [&tick, period] { tick(period); });

  struct Lane {
    Batch batch;
    bool pending = false, ended = false, done = false, waiting = false;
  };
  std::vector<Lane> lanes(spec.vcpus);
  Phase phase = Phase::Setup;
  Counters at_start;
  double start_ns = 0;
  bool measured = false;
  for (;;) {
    int v = -1;
    for (uint32_t i = 0; i < lanes.size(); ++i)
      if (!lanes[i].done && !lanes[i].waiting && (v < 0 || vm->vcpus[i].clock_ns < vm->vcpus[v].clock_ns))
        v = static_cast<int>(i);
    if (v < 0) {  // every live vCPU waits at the barrier (or all are done)
      double t = 0;
      Phase next = Phase::Measured;
      bool any = false;
      for (uint32_t i = 0; i < lanes.size(); ++i) {
        t = std::max(t, vm->vcpus[i].clock_ns);
        if (lanes[i].waiting) {
          any = true;
          next = std::min(next, lanes[i].batch.phase);
        }
      }
      if (!any) break;
      for (uint32_t i = 0; i < lanes.size(); ++i) {
        if (lanes[i].done) continue;
        vm->vcpus[i].clock_ns = t;
        lanes[i].waiting = false;
      }
      phase = next;
      if (phase == Phase::Measured && !measured) {
        measured = true;
        start_ns = t;
        at_start = vm->c;
        vm->set_measuring(true);
        pol.on_measure_start();
      }
      continue;
    }
    Lane& lane = lanes[static_cast<size_t>(v)];
    const double now = vm->vcpus[static_cast<size_t>(v)].clock_ns;
    while (host.has_event_at_or_before(now)) host.run_next_event();
    if (!lane.pending) {
      if (lane.ended) {
        lane.done = true;
        continue;
      }
      lane.batch.n = 0;
      lane.ended = !wl.next(static_cast<uint32_t>(v), lane.batch);
      if (lane.batch.n == 0) continue;
      lane.pending = true;
    }
    if (lane.batch.phase > phase) {
      lane.waiting = true;
      continue;
    }
    vm->run_batch(static_cast<uint32_t>(v), lane.batch);
    lane.pending = false;
  }
  double end_ns = 0;
  for (const auto& cpu : vm->vcpus) end_ns = std::max(end_ns, cpu.clock_ns);
  Outcome out;
  out.measured = vm->c - at_start;
  out.sim_time_ns = measured ? end_ns - start_ns : 0;
  out.truth_misses = std::move(vm->truth_misses);
  out.gpt_pages = vm->gpt_list.size();
  out.bytes_per_page = static_cast<double>(vm->bytes_per_page());
  return out;
}

Json counters_json(const Counters& c) {
  return Json{{"accesses", c.accesses}, {"reads", c.reads}, {"writes", c.writes},
              {"tlb_misses", c.tlb_misses}, {"dirty_assists", c.dirty_assists},
              {"llc_hits", c.llc_hits}, {"llc_misses", c.llc_misses},
              {"fast_misses", c.tier_misses[0]}, {"slow_misses", c.tier_misses[1]},
              {"fast_writebacks", c.writebacks[0]}, {"slow_writebacks", c.writebacks[1]},
              {"walk_llc_misses", c.walk_llc_misses}, {"ept_violations", c.ept_violations},
              {"pml_entries", c.pml_entries}, {"pml_full_exits", c.pml_full_exits},
              {"vm_exits", c.vm_exits}, {"tlb_flushes", c.tlb_flushes},
              {"migration_traps", c.migration_traps}, {"remap_faults", c.remap_faults}, {"recopied_pages", c.recopied},
              {"hint_faults", c.hint_faults}, {"samples", c.samples}, {"samples_lost", c.samples_lost},
              {"memory_mode_hits", c.mm_hits}, {"memory_mode_misses", c.mm_misses},
              {"memory_mode_writebacks", c.mm_writebacks}, {"exchanged_pages", c.exchanged},
              {"guest_migrations", c.guest_migrations},
              {"trap_wait_s", c.trap_wait_ns * 1e-9}, {"bw_delay_s", c.bw_delay_ns * 1e-9},
              {"migration_cpu_s", c.migration_ns * 1e-9}};
}

}  // namespace

uint64_t default_memory_pages(uint64_t footprint_bytes) {
  const uint64_t data = pages_for(footprint_bytes);
  const uint64_t pages = data + (data + kPtesPerPage - 1) / kPtesPerPage + kPagesPerHuge;
  return (pages + kPagesPerHuge - 1) & ~uint64_t{kPagesPerHuge - 1};
}

Json simulate(const RunSpec& spec) {
  const HostProfile prof = HostProfile::load(spec.host, spec.host_overrides);
  const WorkloadEnv wenv{spec.seed, spec.vcpus};
  Json wl_resolved, pol_resolved;
  auto wl = WorkloadRegistry::instance().make(spec.workload, "workload", wenv, &wl_resolved);
  auto pol = PolicyRegistry::instance().make(spec.policy, "policy", PolicyEnv{spec.seed}, &pol_resolved);
  const uint64_t footprint = wl->footprint_bytes();
  const Sizes sz = size_vm(spec, pol->sizing(), footprint);

  if (pol->wants_profile()) {
    auto wl_profile = WorkloadRegistry::instance().make(spec.workload, "workload", wenv);
    AllFast all_fast;
    const Sizes full = size_vm(spec, Policy::Sizing::AllFast, footprint);
    Outcome first = run_loop(spec, prof, *wl_profile, all_fast, full);
    pol->set_profile(std::move(first.truth_misses));
  }
  Outcome o = run_loop(spec, prof, *wl, *pol, sz);
  wl->verify();

  const Counters& c = o.measured;
  const double secs = o.sim_time_ns * 1e-9;
  Json r = record_identity(spec, prof.name);
  r["side"] = side_name(pol->side());
  const bool ratio_sized = pol->sizing() == Policy::Sizing::Ratio || pol->sizing() == Policy::Sizing::MemoryMode;
  r["ratio"] = (ratio_sized && spec.ratio && !spec.fast_bytes) ? Json(spec.ratio->text) : Json(nullptr);
  r["fast_bytes"] = sz.fast * kPageSize;
  r["slow_bytes"] = sz.split_slow * kPageSize;
  r["memory_bytes"] = sz.memory * kPageSize;
  r["footprint_bytes"] = footprint;
  r["sim_time_s"] = secs;
  r["ops"] = wl->ops();
  r["op_name"] = wl->op_name();
  r["throughput"] = secs > 0 ? Json(static_cast<double>(wl->ops()) / secs) : Json(nullptr);
  r["slowdown"] = nullptr;
  r["fast_hit_ratio"] = c.llc_misses ? Json(static_cast<double>(c.tier_misses[0]) / static_cast<double>(c.llc_misses)) : Json(nullptr);
  r["llc_misses"] = c.llc_misses;
  r["promoted_pages"] = c.promoted;
  r["demoted_pages"] = c.demoted;
  r["copied_bytes"] = c.copied_bytes;
  r["vm_exits"] = c.vm_exits;
  r["tlb_flushes"] = c.tlb_flushes;
  r["pml_entries"] = c.pml_entries;
  r["tracking_cpu_s"] = c.tracking_ns * 1e-9;
  r["counters"] = counters_json(c);
  r["counters"]["gpt_pages"] = o.gpt_pages;
  r["counters"]["sim_metadata_bytes_per_page"] = o.bytes_per_page;
  Json pm = Json::object();
  pol->report(pm);
  r["policy_metrics"] = pm;
  Json cfg = spec.to_json();
  cfg["workload"] = wl_resolved;
  cfg["policy"] = pol_resolved;
  r["config"] = {{"run", cfg}, {"host_constants", prof.to_json()}};
  return r;
}

}  // namespace vtmm::sim
