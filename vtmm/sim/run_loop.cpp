#include "vtmm/sim/run_loop.hpp"

#include <algorithm>
#include <cstdint>
#include <functional>

#include "vtmm/sim/batch_prefetch.hpp"
#include "vtmm/sim/placement_score.hpp"
#include "vtmm/sim/pool_driver.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"

namespace vtmm::sim {
namespace {

struct Lane {
  Batch batch;
  bool pending = false, ended = false, done = false, waiting = false;
  size_t prefetched = SIZE_MAX;  // its ring in the loop's BatchPrefetch, if a helper makes it
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
  std::vector<Mechanism> mechanisms;  // handed to the policy
  PlacementObserver placement;        // every design's placement against the traffic
  std::function<void(double)> score;  // the observer's next window
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
  const std::vector<uint32_t>& misses = vm.truth_misses();
  p.data.assign(vm.virtual_pages(), 0);
  for (uint64_t vpn = 0; vpn < vm.virtual_pages(); ++vpn)
    if (vm.gpa_of(vpn) != kNone) p.data[vpn] = misses[vm.gpa_of(vpn)];
  p.page_tables.assign((vm.virtual_pages() + kPtesPerPage - 1) / kPtesPerPage, 0);
  for (uint64_t group = 0; group < p.page_tables.size(); ++group) {
    const Gpa table = vm.page_table_of(group * kPtesPerPage);
    if (table != kNone) p.page_tables[group] = misses[table];
  }
  return p;
}

double hot_on_fast_at_end(const Vm& vm) {
  const std::vector<uint32_t>& misses = vm.truth_misses();
  std::vector<Gpa> touched;
  for (Gpa g = 0; g < misses.size(); ++g)
    if (misses[g] > 0 && vm.backed(g)) touched.push_back(g);
  const uint64_t k = std::min<uint64_t>(vm.capacity(Tier::Fast), touched.size());
  if (k == 0 || vm.config().memory_mode) return -1;
  const auto more = [&](Gpa a, Gpa b) {
    return misses[a] != misses[b] ? misses[a] > misses[b] : a < b;
  };
  std::nth_element(touched.begin(), touched.begin() + static_cast<std::ptrdiff_t>(k - 1),
                   touched.end(), more);
  uint64_t fast = 0;
  for (uint64_t i = 0; i < k; ++i) fast += vm.tier_of(touched[i]) == Tier::Fast;
  return static_cast<double>(fast) / static_cast<double>(k);
}

// The loop's state: the host, the running VMs, and the host's time slicing.
class Loop {
 public:
  Loop(const std::string& platform, const HostProfile& prof, std::vector<VmSlot>& slots,
       PoolDriver* pool, uint32_t threads)
      : prof_(prof), host_(prof), pool_(pool) {
    for (size_t i = 0; i < slots.size(); ++i) add_vm(platform, slots[i], static_cast<uint32_t>(i));
    if (threads > 1) prefetch_helpers(threads - 1);
  }

  std::vector<Outcome> run() {
    attach_pool();
    for (size_t i = 0; i < vms_.size(); ++i) schedule(i);
    if (pool_ != nullptr)
      host_.schedule(pool_->interval_ns(), [this] { pool_tick(pool_->interval_ns()); });
    for (;;) {
      for (size_t i = 0; i < vms_.size(); ++i) settle(i);
      uint32_t v = 0;
      Running* r = pick(v);
      if (r == nullptr) break;
      step(*r, v);
    }
    all_done_ = true;
    prefetch_.reset();  // the helpers are done with the workloads before anyone reads them
    return outcomes();
  }

 private:
  // Helper threads make the batches of every 1-vCPU VM ahead of the loop
  // (BatchPrefetch says why only those).
  void prefetch_helpers(uint32_t helpers) {
    prefetch_ = std::make_unique<BatchPrefetch>(helpers);
    size_t lanes = 0;
    for (auto& r : vms_)
      if (r->lanes.size() == 1) {
        r->lanes[0].prefetched = prefetch_->add(r->slot->wl, 0);
        ++lanes;
      }
    if (lanes == 0) {
      prefetch_.reset();
      return;
    }
    prefetch_->start();
  }

  // Builds slot i's VM, checks that the platform offers what its policy needs.
  void add_vm(const std::string& platform, VmSlot& slot, uint32_t id) {
    auto r = std::make_unique<Running>();
    r->slot = &slot;
    slot.cfg.id = id;
    Policy& pol = *slot.pol;
    r->vm = std::make_unique<Vm>(host_, slot.cfg, pol, r->mech);
    host_.vms.push_back(r->vm.get());
    r->mech.bind(r->vm.get());
    r->mech.set_side(pol.side());
    r->mechanisms = mechanisms_for(pol, r->mech, platform);
    r->vm->want_truth(
        std::binary_search(r->mechanisms.begin(), r->mechanisms.end(), Mechanism::GroundTruth));
    r->mech.offer_only(r->mechanisms);
    pol.attach(r->mech);
    r->lanes.resize(slot.cfg.vcpus);
    for (uint32_t v = 0; v < r->vm->vcpu_count(); ++v) r->vm->set_clock_ns(v, slot.start_ns);
    vms_.push_back(std::move(r));
  }

  // Fair time slicing when the live VMs' threads outnumber the host's cores.
  void restretch() {
    uint32_t runnable = 0;
    for (const auto& r : vms_) runnable += r->live ? r->threads() : 0;
    stretch_ = prof_.host_cores > 0 && runnable > prof_.host_cores
                   ? static_cast<double>(runnable) / prof_.host_cores
                   : 1.0;
  }

  void attach_pool() {
    if (pool_ == nullptr) return;
    std::vector<Vm*> vs;
    std::vector<Policy*> ps;
    for (const auto& r : vms_) {
      vs.push_back(r->vm.get());
      ps.push_back(r->slot->pol);
    }
    pool_->attach(std::move(vs), std::move(ps));
  }

  void pool_tick(double at) {
    if (all_done_) return;
    pool_->rebalance(at);
    host_.schedule(at + pool_->interval_ns(), [this, at] { pool_tick(at + pool_->interval_ns()); });
  }

  // VM i's start and its policy's ticks.
  void schedule(size_t i) {
    Running& r = *vms_[i];
    host_.schedule(r.slot->start_ns, [this, &r, i] {
      r.live = true;
      restretch();
      if (pool_ != nullptr) pool_->set_live(i, true, r.slot->start_ns);
    });
    const double period = r.slot->pol->period_ns();
    r.tick = [this, &r, period](double at) { tick(r, at, period); };
    if (period > 0) {
      const double first = r.slot->start_ns + period;
      host_.schedule(first, [&r, first] { r.tick(first); });
    }
  }

  // One policy tick at `at` on the VM's hypervisor thread; the next is due a
  // period later, or when this one's work ends if it ran longer.
  void tick(Running& r, double at, double period) {
    if (r.finished) return;
    HvThread& hv = r.mech.thread();
    hv.clock_ns = std::max(hv.clock_ns, at);
    const double t0 = hv.clock_ns;
    r.slot->pol->tick(r.mech);
    if (r.vm->config().policy_on_vcpu0 && r.mech.side() == Side::Host) {
      // Pinned to vCPU 0's core: the thread's work pre-empts that vCPU.
      const double busy = hv.clock_ns - t0;
      r.vm->set_clock_ns(0, r.vm->clock_ns(0) + busy);
      r.vm->counters().core_steal_ns += busy;
    } else if (stretch_ > 1 && r.mech.side() == Side::Host) {
      hv.clock_ns = t0 + (hv.clock_ns - t0) * stretch_;
    }
    r.vm->clear_truth_window();
    host_.schedule(std::max(at + period, hv.clock_ns),
                   [&r, at, period] { r.tick(std::max(at + period, r.mech.thread().clock_ns)); });
  }

  // Barriers: a VM none of whose vCPUs can run either moves to its next
  // phase or epoch (some wait at the barrier) or has ended.
  void settle(size_t i) {
    Running& r = *vms_[i];
    if (r.finished) return;
    bool runnable = false, any_waiting = false;
    for (const Lane& l : r.lanes) {
      runnable |= !l.done && !l.waiting;
      any_waiting |= l.waiting;
    }
    if (runnable) return;
    Vm& vm = *r.vm;
    if (!any_waiting) {
      r.finished = true;
      r.live = false;
      restretch();
      if (pool_ != nullptr) pool_->set_live(i, false, vm.end_ns());
      return;
    }
    // Phases and epochs both rise in program order, so the earliest
    // waiting batch holds the smallest of each.
    double t = 0;
    Phase next = Phase::Measured;
    uint32_t next_epoch = UINT32_MAX;
    for (uint32_t k = 0; k < r.lanes.size(); ++k) {
      t = std::max(t, vm.clock_ns(k));
      if (!r.lanes[k].waiting) continue;
      next = std::min(next, r.lanes[k].batch.phase);
      next_epoch = std::min(next_epoch, r.lanes[k].batch.epoch);
    }
    r.epoch = next_epoch;
    for (uint32_t k = 0; k < r.lanes.size(); ++k) {
      if (r.lanes[k].done) continue;
      vm.counters().barrier_wait_ns += t - vm.clock_ns(k);  // waited for the slowest vCPU
      vm.set_clock_ns(k, t);
      r.lanes[k].waiting = false;
    }
    r.phase = next;
    if (r.phase == Phase::Measured && !r.measured) {
      r.measured = true;
      r.measure_start_ns = t;
      r.at_start = vm.counters();
      vm.set_measuring(true);
      r.slot->pol->on_measure_start();
      start_placement_windows(r, t);
    }
  }

  // Placement scoring (PlacementObserver) from the start of the measured
  // phase, a window at a time, on host events that only read the VM.
  void start_placement_windows(Running& r, double t) {
    if (r.vm->config().memory_mode) return;  // no placement to score: the hardware caches
    const double w = PlacementObserver::window_ns(r.vm->config().memory_pages,
                                                  !r.slot->wl->fixed_page_rates().empty());
    r.placement.start(*r.vm);
    r.score = [this, &r, w](double at) {
      if (r.finished) return;
      r.placement.window(*r.vm);
      host_.schedule(at + w, [&r, at, w] { r.score(at + w); });
    };
    host_.schedule(t + w, [&r, t, w] { r.score(t + w); });
  }

  // The runnable vCPU with the smallest clock (ties: lowest VM, then vCPU).
  Running* pick(uint32_t& v) {
    Running* best = nullptr;
    for (const auto& rp : vms_) {
      if (rp->finished) continue;
      for (uint32_t k = 0; k < rp->lanes.size(); ++k) {
        const Lane& l = rp->lanes[k];
        if (l.done || l.waiting) continue;
        if (best == nullptr || rp->vm->clock_ns(k) < best->vm->clock_ns(v)) {
          best = rp.get();
          v = k;
        }
      }
    }
    return best;
  }

  // vCPU v's next batch, after every host event due by its clock; a batch
  // past the VM's phase or epoch waits at the barrier instead.
  void step(Running& r, uint32_t v) {
    Lane& lane = r.lanes[v];
    Vm& vm = *r.vm;
    const double now = vm.clock_ns(v);
    host_.start_batch(now);  // every vCPU is at `now` or later
    while (host_.has_event_at_or_before(now)) host_.run_next_event();
    if (!lane.pending) {
      if (lane.ended) {
        lane.done = true;
        return;
      }
      lane.batch.n = 0;
      lane.ended = lane.prefetched != SIZE_MAX ? !prefetch_->next(lane.prefetched, lane.batch)
                                               : !r.slot->wl->next(v, lane.batch);
      if (lane.batch.n == 0) return;
      lane.pending = true;
    }
    if (lane.batch.phase > r.phase || lane.batch.epoch > r.epoch) {
      lane.waiting = true;
      return;
    }
    const double before = vm.clock_ns(v);
    vm.run_batch(v, lane.batch);
    if (stretch_ > 1) vm.set_clock_ns(v, before + (vm.clock_ns(v) - before) * stretch_);
    lane.pending = false;
  }

  std::vector<Outcome> outcomes() {
    std::vector<Outcome> out(vms_.size());
    double last = 0;
    for (size_t i = 0; i < vms_.size(); ++i) {
      Running& r = *vms_[i];
      Outcome& o = out[i];
      o.end_ns = r.vm->end_ns();
      last = std::max(last, o.end_ns);
      o.measured = r.vm->counters() - r.at_start;
      o.measure_start_ns = r.measure_start_ns;
      o.sim_time_ns = r.measured ? o.end_ns - r.measure_start_ns : 0;
      if (r.slot->profile) o.profile = miss_profile(*r.vm);
      if (r.measured) o.hot_on_fast_at_end = hot_on_fast_at_end(*r.vm);
      o.gpt_pages = r.vm->page_table_pages();
      o.huge_mappings_live = r.vm->huge_mappings_live();
      o.bytes_per_page = r.vm->bytes_per_page();
      o.mechanisms = r.mechanisms;
      o.placement = r.placement.score();
    }
    if (pool_ != nullptr) pool_->finish(last);
    return out;
  }

  const HostProfile& prof_;
  Host host_;
  PoolDriver* pool_;
  std::vector<std::unique_ptr<Running>> vms_;
  double stretch_ = 1;
  bool all_done_ = false;
  std::unique_ptr<BatchPrefetch> prefetch_;  // declared last: stopped before the VMs go
};

}  // namespace

std::vector<Outcome> run_loop(const std::string& platform, const HostProfile& prof,
                              std::vector<VmSlot>& slots, PoolDriver* pool, uint32_t threads) {
  return Loop(platform, prof, slots, pool, threads).run();
}

}  // namespace vtmm::sim
