#include "vtmm/sim/run_loop.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>

#include "vtmm/sim/pool_driver.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"

namespace vtmm::sim {
namespace {

struct Lane {
  Batch batch;
  bool pending = false, ended = false, done = false, waiting = false;
};

// One VM while it runs.
struct Running {
  VmSlot* slot = nullptr;
  SimMechanisms mech;
  std::unique_ptr<Vm> vm;
  std::vector<Lane> lanes;
  Phase phase = Phase::Setup;
  uint32_t epoch = 0;  // the workload's barriers passed (Batch::epoch)
  Counters at_start;
  double measure_start_ns = 0;
  bool measured = false, live = false, finished = false;
  std::function<void(double)> tick;
  // A host thread competes for the host's cores (guest-side work runs on vCPUs).
  uint32_t threads() const {
    const bool own_core = mech.side() == Side::Host && !slot->cfg.policy_on_vcpu0;
    return static_cast<uint32_t>(lanes.size()) + (slot->pol->period_ns() > 0 && own_core ? 1 : 0);
  }
};

MissProfile miss_profile(const Vm& vm) {
  MissProfile p;
  p.data.assign(vm.pte_gpa.size(), 0);
  for (size_t vpn = 0; vpn < vm.pte_gpa.size(); ++vpn)
    if (vm.pte_gpa[vpn] != kNone) p.data[vpn] = vm.truth_misses[vm.pte_gpa[vpn]];
  p.page_tables.assign(vm.gpt_of.size(), 0);
  for (size_t group = 0; group < vm.gpt_of.size(); ++group)
    if (vm.gpt_of[group] != kNone) p.page_tables[group] = vm.truth_misses[vm.gpt_of[group]];
  return p;
}

double hot_on_fast_at_end(const Vm& vm) {
  std::vector<Gpa> touched;
  for (Gpa g = 0; g < vm.truth_misses.size(); ++g)
    if (vm.truth_misses[g] > 0 && (vm.ept[g] & kEptPresent)) touched.push_back(g);
  const uint64_t k = std::min<uint64_t>(vm.cap[0], touched.size());
  if (k == 0 || vm.cfg.memory_mode) return -1;
  const auto more = [&](Gpa a, Gpa b) {
    return vm.truth_misses[a] != vm.truth_misses[b] ? vm.truth_misses[a] > vm.truth_misses[b] : a < b;
  };
  std::nth_element(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(k - 1), touched.end(), more);
  uint64_t fast = 0;
  for (uint64_t i = 0; i < k; ++i) fast += vm.tier_of(touched[i]) == Tier::Fast;
  return static_cast<double>(fast) / static_cast<double>(k);
}

}  // namespace

std::vector<Outcome> run_loop(const std::string& platform, const HostProfile& prof, std::vector<VmSlot>& slots,
                              PoolDriver* pool) {
  Host host(prof);
  std::vector<std::unique_ptr<Running>> vms;
  for (size_t i = 0; i < slots.size(); ++i) {
    auto r = std::make_unique<Running>();
    r->slot = &slots[i];
    slots[i].cfg.id = static_cast<uint32_t>(i);
    Policy& pol = *slots[i].pol;
    r->vm = std::make_unique<Vm>(host, slots[i].cfg, pol, r->mech);
    host.vms.push_back(r->vm.get());
    r->mech.bind(r->vm.get());
    r->mech.set_side(pol.side());
    for (Mechanism m : pol.needs()) {
      if (!r->mech.offers(m))
        throw SpecError(std::string("policy: needs ") + mechanism_name(m) + ", which platform '" + platform +
                        "' does not offer");
      if (m == Mechanism::GroundTruth) r->vm->truth_wanted = true;
    }
    pol.attach(r->mech);
    r->lanes.resize(slots[i].cfg.vcpus);
    for (auto& cpu : r->vm->vcpus) cpu.clock_ns = slots[i].start_ns;
    vms.push_back(std::move(r));
  }

  // Fair time slicing when the live VMs' threads outnumber the host's cores.
  double stretch = 1;
  auto restretch = [&] {
    uint32_t runnable = 0;
    for (const auto& r : vms) runnable += r->live ? r->threads() : 0;
    stretch = prof.host_cores > 0 && runnable > prof.host_cores ? runnable / prof.host_cores : 1.0;
  };

  if (pool != nullptr) {
    std::vector<Vm*> vs;
    std::vector<Policy*> ps;
    for (const auto& r : vms) {
      vs.push_back(r->vm.get());
      ps.push_back(r->slot->pol);
    }
    pool->attach(std::move(vs), std::move(ps));
  }
  for (size_t i = 0; i < vms.size(); ++i) {
    Running& r = *vms[i];
    host.schedule(r.slot->start_ns, [&r, &restretch, pool, i] {
      r.live = true;
      restretch();
      if (pool != nullptr) pool->set_live(i, true, r.slot->start_ns);
    });
    Policy& pol = *r.slot->pol;
    const double period = pol.period_ns();
    r.tick = [&r, &host, &pol, &stretch, period](double at) {
      if (r.finished) return;
      HvThread& hv = r.mech.thread();
      hv.clock_ns = std::max(hv.clock_ns, at);
      const double t0 = hv.clock_ns;
      pol.tick(r.mech);
      if (r.vm->cfg.policy_on_vcpu0 && r.mech.side() == Side::Host) {
        // Pinned to vCPU 0's core: the thread's work pre-empts that vCPU.
        const double busy = hv.clock_ns - t0;
        r.vm->vcpus[0].clock_ns += busy;
        r.vm->c.core_steal_ns += busy;
      } else if (stretch > 1 && r.mech.side() == Side::Host) {
        hv.clock_ns = t0 + (hv.clock_ns - t0) * stretch;
      }
      if (r.vm->truth_wanted) std::fill(r.vm->truth_accesses.begin(), r.vm->truth_accesses.end(), 0u);
      host.schedule(std::max(at + period, hv.clock_ns), [&r, at, period] {
        r.tick(std::max(at + period, r.mech.thread().clock_ns));
      });
    };
    if (period > 0) {
      const double first = r.slot->start_ns + period;
      host.schedule(first, [&r, first] { r.tick(first); });
    }
  }
  bool all_done = false;
  std::function<void(double)> pool_tick = [&](double at) {
    if (all_done) return;
    pool->rebalance(at);
    host.schedule(at + pool->interval_ns(), [&pool_tick, at, pool] { pool_tick(at + pool->interval_ns()); });
  };
  if (pool != nullptr) host.schedule(pool->interval_ns(), [&pool_tick, pool] { pool_tick(pool->interval_ns()); });

  for (;;) {
    // Barriers: a VM none of whose vCPUs can run either moves to its next
    // phase (some wait at the barrier) or has ended.
    for (size_t i = 0; i < vms.size(); ++i) {
      Running& r = *vms[i];
      if (r.finished) continue;
      bool runnable = false, any_waiting = false;
      for (const Lane& l : r.lanes) {
        runnable |= !l.done && !l.waiting;
        any_waiting |= l.waiting;
      }
      if (runnable) continue;
      Vm& vm = *r.vm;
      if (!any_waiting) {
        r.finished = true;
        double end = 0;
        for (const auto& cpu : vm.vcpus) end = std::max(end, cpu.clock_ns);
        r.live = false;
        restretch();
        if (pool != nullptr) pool->set_live(i, false, end);
        continue;
      }
      // Phases and epochs both rise in program order, so the earliest
      // waiting batch holds the smallest of each.
      double t = 0;
      Phase next = Phase::Measured;
      uint32_t next_epoch = UINT32_MAX;
      for (uint32_t k = 0; k < r.lanes.size(); ++k) {
        t = std::max(t, vm.vcpus[k].clock_ns);
        if (!r.lanes[k].waiting) continue;
        next = std::min(next, r.lanes[k].batch.phase);
        next_epoch = std::min(next_epoch, r.lanes[k].batch.epoch);
      }
      r.epoch = next_epoch;
      for (uint32_t k = 0; k < r.lanes.size(); ++k) {
        if (r.lanes[k].done) continue;
        vm.vcpus[k].clock_ns = t;
        r.lanes[k].waiting = false;
      }
      r.phase = next;
      if (r.phase == Phase::Measured && !r.measured) {
        r.measured = true;
        r.measure_start_ns = t;
        r.at_start = vm.c;
        vm.set_measuring(true);
        r.slot->pol->on_measure_start();
      }
    }
    // The runnable vCPU with the smallest clock (ties: lowest VM, then vCPU).
    Running* pick = nullptr;
    uint32_t v = 0;
    for (const auto& rp : vms) {
      if (rp->finished) continue;
      for (uint32_t k = 0; k < rp->lanes.size(); ++k) {
        const Lane& l = rp->lanes[k];
        if (l.done || l.waiting) continue;
        if (pick == nullptr || rp->vm->vcpus[k].clock_ns < pick->vm->vcpus[v].clock_ns) {
          pick = rp.get();
          v = k;
        }
      }
    }
    if (pick == nullptr) break;
    Running& r = *pick;
    Lane& lane = r.lanes[v];
    Vcpu& cpu = r.vm->vcpus[v];
    const double now = cpu.clock_ns;
    host.start_batch(now);  // every vCPU is at `now` or later
    while (host.has_event_at_or_before(now)) host.run_next_event();
    if (!lane.pending) {
      if (lane.ended) {
        lane.done = true;
        continue;
      }
      lane.batch.n = 0;
      lane.ended = !r.slot->wl->next(v, lane.batch);
      if (lane.batch.n == 0) continue;
      lane.pending = true;
    }
    if (lane.batch.phase > r.phase || lane.batch.epoch > r.epoch) {
      lane.waiting = true;
      continue;
    }
    const double before = cpu.clock_ns;
    r.vm->run_batch(v, lane.batch);
    if (stretch > 1) cpu.clock_ns = before + (cpu.clock_ns - before) * stretch;
    lane.pending = false;
  }
  all_done = true;

  std::vector<Outcome> out(vms.size());
  double last = 0;
  for (size_t i = 0; i < vms.size(); ++i) {
    Running& r = *vms[i];
    Outcome& o = out[i];
    for (const auto& cpu : r.vm->vcpus) o.end_ns = std::max(o.end_ns, cpu.clock_ns);
    last = std::max(last, o.end_ns);
    o.measured = r.vm->c - r.at_start;
    o.measure_start_ns = r.measure_start_ns;
    o.sim_time_ns = r.measured ? o.end_ns - r.measure_start_ns : 0;
    if (r.slot->profile) o.profile = miss_profile(*r.vm);
    if (r.measured) o.hot_on_fast_at_end = hot_on_fast_at_end(*r.vm);
    o.gpt_pages = r.vm->gpt_list.size();
    o.huge_mappings_live = r.vm->ept_2m_live;
    o.bytes_per_page = static_cast<double>(r.vm->bytes_per_page());
  }
  if (pool != nullptr) pool->finish(last);
  return out;
}

}  // namespace vtmm::sim
