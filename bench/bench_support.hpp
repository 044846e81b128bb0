#pragma once
// One simulated VM for a benchmark: the optane host, the registered
// first-touch policy, a 1:4 split of the workload's default memory.
#include <memory>
#include <vector>

#if __has_include(<valgrind/callgrind.h>)
#include <valgrind/callgrind.h>
#endif

#include "vtmm/core/policy.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/policy/hotness.hpp"
#include "vtmm/policy/tracker.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"
#include "vtmm/sim/simulation.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm::bench {

// Under callgrind, zeroes its counts: called just before a case's timed
// loop, so the instruction counts it dumps at exit cover that loop only
// (with the "accesses" counter, instructions per simulated access). A no-op
// elsewhere.
inline void count_from_here() {
#ifdef CALLGRIND_ZERO_STATS
  CALLGRIND_ZERO_STATS;
#endif
}

struct SimVm {
  explicit SimVm(const Workload& wl, bool pml = false) : SimVm(config(wl, pml)) {}
  explicit SimVm(const sim::VmConfig& cfg)
      : host(sim::HostProfile::load("optane")),
        pol(PolicyRegistry::instance().make(Json{{"impl", "first-touch"}}, "policy", PolicyEnv{})),
        vm(host, cfg, *pol, mech) {
    host.vms.push_back(&vm);
    mech.bind(&vm);
  }
  // One batch on vCPU 0 as the run loop runs it (Host::start_batch keeps
  // the bandwidth calendars bounded and the loaded latency current).
  void run(const Batch& b) {
    host.start_batch(vm.clock_ns(0));
    vm.run_batch(0, b);
  }
  static sim::VmConfig config(const Workload& wl, bool pml) {
    sim::VmConfig cfg;
    cfg.memory_pages = sim::default_memory_pages(wl.footprint_bytes());
    cfg.fast_pages = cfg.memory_pages / 5;  // 1:4
    cfg.slow_pages = cfg.memory_pages;
    cfg.va_bytes = wl.footprint_bytes();
    cfg.pml = pml;
    return cfg;
  }
  // A VM of `pages` data pages from VaLayout::kBase, its default memory split 1:4.
  static sim::VmConfig config_for_pages(uint64_t pages) {
    sim::VmConfig cfg;
    cfg.memory_pages = sim::default_memory_pages(pages * kPageSize);
    cfg.fast_pages = cfg.memory_pages / 5;
    cfg.slow_pages = cfg.memory_pages;
    cfg.va_bytes = pages * kPageSize;
    return cfg;
  }
  // One write to every data page through the full model: each is backed
  // (first touch fills fast memory first) and its page tables exist.
  void touch_all() {
    Batch b;
    b.mlp = 8;
    for (uint64_t p = 0; p < vm.config().va_bytes / kPageSize; ++p) {
      b.push(VaLayout::kBase + p * kPageSize, kWrite);
      if (b.full()) {
        run(b);
        b.n = 0;
      }
    }
    if (b.n > 0) run(b);
  }
  sim::Host host;
  sim::SimMechanisms mech;
  std::unique_ptr<Policy> pol;
  sim::Vm vm;
};

// vTMM's classifier and planner with their per-page state, as its tick runs
// them (migration excluded).
struct Classifier {
  explicit Classifier(uint32_t pages) : hot(policy::Hotness::Kind::Temperature, 10, 1, 3) {
    hot.resize(pages);
    keys.assign(pages, 0);
    tiers.assign(pages, 2);
    free.assign(pages, 0);
  }
  // What vTMM does after each tracking window (vtmm/policy/vtmm.cpp tick());
  // without a tracker nothing counts as free.
  const policy::Plan& run(Mechanisms& m, const std::vector<uint8_t>& seen,
                          const policy::PmlGptTracker* t) {
    static const policy::PageBits kNone;
    const policy::WindowClasses c = policy::classify_window(
        hot, seen, m, t ? t->referenced() : kNone, t ? t->is_gpt() : kNone, keys, tiers, free);
    policy::plan_placement(
        policy::PlanInput{keys, tiers, free, hot.max_key(), m.capacity_pages(Tier::Fast), 0,
                          c.counts, c.free_cold_fast},
        plan);
    return plan;  // kept across windows, as vTMM keeps it
  }
  policy::Hotness hot;
  policy::Plan plan;
  std::vector<uint8_t> keys, tiers, free;
};

}  // namespace vtmm::bench
