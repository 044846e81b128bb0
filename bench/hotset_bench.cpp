// Google Benchmark case for vTMM's per-window work after tracking in a
// measured window, where hot-set scoring runs too:
//   BM_MeasuredWindow/pages:N  classify_window, plan_placement, the key and
//                              true-access histograms, score_hotset and the
//                              clearing of the window's true counts (what
//                              the run loop does after each tick)
// Every data page is touched, with a deterministic Zipf-like count (exponent
// 0.9, at least 1): the scoring's worst case, every page has a count. The
// tracker's view (seen) follows the counts, so the classifier's keys and the
// true hot set overlap as they do in a run. items_per_second counts guest
// pages.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <cmath>

#include "bench/bench_support.hpp"
#include "vtmm/policy/hotness.hpp"
#include "vtmm/policy/hotset_eval.hpp"
#include "vtmm/policy/mlq.hpp"

namespace vtmm {
namespace {

// A data page's count this window: its rank in a fixed pseudo-random order
// of the pages, through a Zipf-like law.
uint32_t zipf_count(uint64_t g, uint64_t pages) {
  uint64_t h = (g + 1) * 0x9e3779b97f4a7c15ull;  // splitmix64: a fixed permutation-like rank
  h = (h ^ (h >> 30)) * 0xbf58476d1ce4e5b9ull;
  h = (h ^ (h >> 27)) * 0x94d049bb133111ebull;
  h ^= h >> 31;
  const double rank = static_cast<double>(h % pages) + 1;
  return 1 + static_cast<uint32_t>(std::ldexp(1.0, 20) / std::pow(rank, 0.9));
}

uint8_t seen_for(uint32_t count) {
  const auto s = count >= 16  ? policy::Seen::Write
                 : count >= 4 ? policy::Seen::Read
                              : policy::Seen::None;
  return static_cast<uint8_t>(s);
}

// vTMM's tick after tracking, as vtmm/policy/vtmm.cpp runs it in a measured
// window (migration excluded).
struct MeasuredWindow {
  explicit MeasuredWindow(uint32_t pages) : cls(pages) {}
  double run(Mechanisms& m, const std::vector<uint8_t>& seen, std::vector<uint32_t>& truth) {
    const policy::Plan& plan = cls.run(m, seen, nullptr);
    const policy::HotsetScore sc =
        policy::score_hotset(truth, plan.hot, 0.9, m.capacity_pages(Tier::Fast));
    policy::add_truth_histogram(truth, cls.tiers, truth_hist);
    std::fill(truth.begin(), truth.end(), 0u);  // the run loop's reset after the tick
    return sc.precision + static_cast<double>(plan.promote.size());
  }
  bench::Classifier cls;
  policy::TruthHistogram truth_hist{};
};

void BM_MeasuredWindow(benchmark::State& state) {
  const uint64_t data_pages = static_cast<uint64_t>(state.range(0));
  bench::SimVm rig(bench::SimVm::config_for_pages(data_pages));
  rig.touch_all();
  const uint32_t pages = rig.mech.guest_pages();
  std::vector<uint32_t> counts(pages, 0), truth(pages);
  std::vector<uint8_t> seen(pages, 0);
  for (Gpa g = 0; g < pages; ++g) {
    if (!rig.mech.backed(g)) continue;
    counts[g] = zipf_count(g, pages);
    seen[g] = seen_for(counts[g]);
  }
  MeasuredWindow w(pages);
  for (int i = 0; i < 10; ++i) w.run(rig.mech, seen, truth);  // a full history before timing
  for (auto _ : state) {
    state.PauseTiming();
    std::copy(counts.begin(), counts.end(), truth.begin());
    state.ResumeTiming();
    benchmark::DoNotOptimize(w.run(rig.mech, seen, truth));
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * pages);
}
BENCHMARK(BM_MeasuredWindow)
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vtmm
