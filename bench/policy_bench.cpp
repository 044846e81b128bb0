// Google Benchmark cases for what a policy does per window, at VM sizes where
// it matters (issue 9's targets):
//   BM_VtmmWindow/track/pages:N          PmlGptTracker::window (drain PML, scan
//                                        the logged page-table pages under the
//                                        MLQ, re-arm, flush)
//   BM_VtmmWindow/track+classify/pages:N the window plus Hotness::record, the
//                                        per-page keys and plan_placement (the
//                                        bucket sort and hot-set choice)
//   BM_Classify/pages:N                  Hotness::record + keys + plan_placement alone
//   BM_Migrate/<method>/pages:N          one SimMechanisms::migrate batch of N
//                                        pages slow -> fast and back, its
//                                        completion events included
// items_per_second counts guest pages covered (windows) or pages moved
// (migration). Between windows, untimed, the vCPU touches every 64th page, so
// every page-table page is walked and PML-logged and every window scans all
// of them: the tracker's worst case for a VM of that size.
#include <benchmark/benchmark.h>

#include <fstream>
#include <memory>

#include "vtmm/core/policy.hpp"
#include "vtmm/policy/hotness.hpp"
#include "vtmm/policy/tracker.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"
#include "vtmm/sim/simulation.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm {
namespace {

// Resident bytes of this process (Linux /proc/self/statm), to measure what
// the simulator and the policy keep per guest page.
double resident_bytes() {
  std::ifstream f("/proc/self/statm");
  double size = 0, resident = 0;
  f >> size >> resident;
  return resident * kPageSize;
}

// A VM of `pages` data pages, every one touched once (so the guest page
// tables exist), on the optane host with a 1:4 split.
struct TouchedVm {
  explicit TouchedVm(uint64_t pages)
      : host(sim::HostProfile::load("optane")),
        pol(PolicyRegistry::instance().make(Json{{"impl", "first-touch"}}, "policy", PolicyEnv{})),
        vm(host, config(pages), *pol, mech),
        data_pages(pages) {
    host.vms.push_back(&vm);
    mech.bind(&vm);
    touch(1, kWrite);
  }
  static sim::VmConfig config(uint64_t pages) {
    sim::VmConfig cfg;
    cfg.memory_pages = sim::default_memory_pages(pages * kPageSize);
    cfg.fast_pages = cfg.memory_pages / 5;
    cfg.slow_pages = cfg.memory_pages;
    cfg.va_bytes = pages * kPageSize;
    return cfg;
  }
  // One access to every `stride`-th page, through the full model.
  void touch(uint64_t stride, uint8_t kind) {
    Batch b;
    b.mlp = 8;
    for (uint64_t p = 0; p < data_pages; p += stride) {
      b.push(VaLayout::kBase + p * kPageSize, static_cast<AccessKind>(kind));
      if (b.full()) {
        run(b);
        b.n = 0;
      }
    }
    if (b.n > 0) run(b);
  }
  // One batch as the run loop runs it (Host::start_batch).
  void run(const Batch& b) {
    host.start_batch(vm.vcpus[0].clock_ns);
    vm.run_batch(0, b);
  }
  sim::Host host;
  sim::SimMechanisms mech;
  std::unique_ptr<Policy> pol;
  sim::Vm vm;
  uint64_t data_pages;
};

struct Classifier {
  explicit Classifier(uint32_t pages) : hot(policy::Hotness::Kind::Temperature, 10, 1, 3) {
    hot.resize(pages);
    keys.assign(pages, 0);
    tiers.assign(pages, 2);
    free.assign(pages, 0);
  }
  // What vTMM does after each tracking window (vtmm/policy/vtmm.cpp tick()).
  const policy::Plan& run(Mechanisms& m, const std::vector<uint8_t>& seen, const policy::PmlGptTracker* t) {
    static const std::vector<uint8_t> kNone;
    const policy::BucketCounts counts = policy::classify_window(hot, seen, m, t ? t->referenced() : kNone,
                                                                t ? t->is_gpt() : kNone, keys, tiers, free);
    policy::plan_placement(
        policy::PlanInput{keys, tiers, free, hot.max_key(), m.capacity_pages(Tier::Fast), 0, counts}, plan);
    return plan;  // kept across windows, as vTMM keeps it
  }
  policy::Hotness hot;
  policy::Plan plan;
  std::vector<uint8_t> keys, tiers, free;
};

void BM_VtmmWindow(benchmark::State& state, bool classify) {
  const double rss0 = resident_bytes();
  TouchedVm rig(static_cast<uint64_t>(state.range(0)));
  const double rss_vm = resident_bytes();
  policy::PmlGptTracker tracker(policy::MlqConfig{});
  tracker.attach(rig.mech);
  std::vector<uint8_t> seen(rig.mech.guest_pages(), 0);
  Classifier cls(rig.mech.guest_pages());
  policy::TrackStats st;
  uint32_t k = 0;
  tracker.window(rig.mech, k++, seen, st);  // hands over every page-table page
  if (classify) cls.run(rig.mech, seen, &tracker);
  const double rss_policy = resident_bytes();
  const double pages = rig.mech.guest_pages();
  // Measured, so they include the host-wide state (LLC tags, calendars) and
  // vectors' slack: at small sizes the fixed part dominates.
  state.counters["vm_rss_bytes_per_page"] = (rss_vm - rss0) / pages;
  state.counters["policy_rss_bytes_per_page"] = (rss_policy - rss_vm) / pages;
  for (auto _ : state) {
    state.PauseTiming();
    rig.touch(64, k % 2 ? kRead : kWrite);
    state.ResumeTiming();
    tracker.window(rig.mech, k++, seen, st);
    if (classify) benchmark::DoNotOptimize(cls.run(rig.mech, seen, &tracker).hot_pages);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * rig.mech.guest_pages());
  state.counters["gpt_scanned_per_window"] = static_cast<double>(st.gpt_scanned) / static_cast<double>(k);
}
BENCHMARK_CAPTURE(BM_VtmmWindow, track, false)
    ->Name("BM_VtmmWindow/track")->ArgName("pages")->Arg(1 << 20)->Arg(10'000'000)
    ->Iterations(10)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VtmmWindow, track_classify, true)
    ->Name("BM_VtmmWindow/track+classify")->ArgName("pages")->Arg(1 << 20)->Arg(10'000'000)
    ->Iterations(10)->Unit(benchmark::kMillisecond);

void BM_Classify(benchmark::State& state) {
  TouchedVm rig(static_cast<uint64_t>(state.range(0)));
  Classifier cls(rig.mech.guest_pages());
  // A fixed pattern of 10 windows: a 1/16 hot set written every window, a
  // warm 1/8 read every other one, the rest unseen.
  std::vector<uint8_t> seen(rig.mech.guest_pages(), 0);
  uint32_t w = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t g = 0; g < seen.size(); ++g)
      seen[g] = static_cast<uint8_t>(g % 16 == 0 ? policy::Seen::Write
                                     : (g % 8 == 1 && w % 2 == 0) ? policy::Seen::Read
                                                                 : policy::Seen::None);
    ++w;
    state.ResumeTiming();
    benchmark::DoNotOptimize(cls.run(rig.mech, seen, nullptr).hot_pages);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * rig.mech.guest_pages());
}
BENCHMARK(BM_Classify)->ArgName("pages")->Arg(10'000'000)->Iterations(10)->Unit(benchmark::kMillisecond);

void BM_Migrate(benchmark::State& state, MigrationMethod how) {
  const uint64_t batch = static_cast<uint64_t>(state.range(0));
  TouchedVm rig(batch * 8);  // first touch filled fast (1/5 of memory) first
  auto drain = [&] {
    while (rig.host.next_event_time() < 1e299) rig.host.run_next_event();
  };
  // Untimed: demote `batch` data pages so fast memory has room for the batch.
  std::vector<Gpa> pages;
  for (Gpa g = 0; g < rig.mech.guest_pages() && pages.size() < batch; ++g)
    if (rig.mech.backed(g) && rig.mech.tier_of(g) == Tier::Fast && rig.vm.owner[g] < sim::kGptOwner) pages.push_back(g);
  rig.mech.migrate(pages, Tier::Slow, MigrationMethod::Pml, 1);
  drain();
  std::vector<Gpa> slow = pages;
  uint64_t moved = 0;
  for (auto _ : state) {
    moved += rig.mech.migrate(slow, Tier::Fast, how, 1).moved;
    drain();
    moved += rig.mech.migrate(slow, Tier::Slow, how, 1).moved;
    drain();
  }
  if (moved != 2 * batch * state.iterations()) state.SkipWithError("migrate moved fewer pages than asked");
  state.SetItemsProcessed(static_cast<int64_t>(moved));
}
BENCHMARK_CAPTURE(BM_Migrate, pm_pml, MigrationMethod::Pml)
    ->Name("BM_Migrate/pml")->ArgName("pages")->Arg(16384)->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Migrate, pm_linux, MigrationMethod::Linux)
    ->Name("BM_Migrate/linux")->ArgName("pages")->Arg(16384)->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vtmm
