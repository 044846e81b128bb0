// Hot-set scoring (vtmm/policy/hotset_eval.hpp): the O(pages) score_hotset
// against the sort-based rule it replaced, which is kept here as the
// reference: the same true-hot count and bit-identical precision and recall on
// random windows with ties, a binding cap, coverage 1.0 and no accesses; and
// add_truth_histogram against the plain per-page loop.
#include <gtest/gtest.h>

#include <algorithm>
#include <bit>
#include <functional>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/policy/hotset_eval.hpp"

namespace vtmm::policy {
namespace vtmm_hotset_eval_test {

// The rule written the plain way: sort every non-zero count, walk from the
// top until the coverage or the cap, fill the cut count in GPA order.
HotsetScore reference_score(std::span<const uint32_t> truth, std::span<const uint8_t> hot,
                            double coverage, uint64_t cap) {
  HotsetScore s;
  const size_t n = std::min(truth.size(), hot.size());
  uint64_t total = 0, classified = 0;
  for (size_t g = 0; g < n; ++g) {
    total += truth[g];
    classified += hot[g] ? 1 : 0;
  }
  if (total == 0 || classified == 0) return s;
  std::vector<uint32_t> counts;
  for (size_t g = 0; g < n; ++g)
    if (truth[g] > 0) counts.push_back(truth[g]);
  std::sort(counts.begin(), counts.end(), std::greater<>());
  const double want = coverage * static_cast<double>(total);
  uint64_t covered = 0, take = 0;
  while (take < counts.size() && take < cap && static_cast<double>(covered) < want)
    covered += counts[take++];
  if (take == 0) return s;
  const uint32_t cut = counts[take - 1];
  uint64_t above = 0;
  for (uint64_t i = 0; i < take; ++i) above += counts[i] > cut ? 1 : 0;
  uint64_t at_cut = take - above, both = 0;
  for (size_t g = 0; g < n; ++g) {
    bool in = truth[g] > cut;
    if (!in && truth[g] == cut && at_cut > 0) {
      --at_cut;
      in = true;
    }
    if (in && hot[g]) ++both;
  }
  s.true_hot = take;
  s.recall = static_cast<double>(both) / static_cast<double>(take);
  s.precision = static_cast<double>(both) / static_cast<double>(classified);
  s.valid = true;
  return s;
}

HotSet to_set(const std::vector<uint8_t>& bytes) {
  HotSet h(bytes.size());
  for (size_t g = 0; g < bytes.size(); ++g)
    if (bytes[g]) h.set(g);
  return h;
}

// A random count: mostly small with many ties, some large, a few beyond 2^16
// (the bins counted by sorting) and now and then near 2^32.
uint32_t random_count(Rng& rng, uint32_t spread) {
  switch (rng.below(16)) {
    case 0:
      return static_cast<uint32_t>(rng.below(1u << 20)) + (1u << 16);
    case 1:
      return rng.below(50) == 0 ? 0xffff0000u + static_cast<uint32_t>(rng.below(1000)) : 0;
    case 2:
    case 3:
    case 4:
      return 0;
    default:
      return 1 + static_cast<uint32_t>(rng.below(spread));
  }
}

void expect_same(const HotsetScore& a, const HotsetScore& b) {
  EXPECT_EQ(a.valid, b.valid);
  EXPECT_EQ(a.true_hot, b.true_hot);
  // Bit-identical, not merely close: the records print these doubles.
  EXPECT_EQ(std::bit_cast<uint64_t>(a.precision), std::bit_cast<uint64_t>(b.precision));
  EXPECT_EQ(std::bit_cast<uint64_t>(a.recall), std::bit_cast<uint64_t>(b.recall));
}

TEST(VtmmHotsetEval, MatchesTheSortedRuleOnRandomWindows) {
  Rng rng(5);
  const double coverages[] = {0.9, 1.0, 0.5, 0.999, 1e-9, 0.0};
  for (int round = 0; round < 600; ++round) {
    SCOPED_TRACE("round " + std::to_string(round));
    const size_t n = 1 + rng.below(rng.below(4) == 0 ? 20 : 3000);
    const uint32_t spread =
        1 + static_cast<uint32_t>(rng.below(rng.below(2) ? 4 : 5000));  // few values: ties
    std::vector<uint32_t> truth(n);
    std::vector<uint8_t> hot(n);
    const bool silent = rng.below(20) == 0;
    const uint64_t hot_in = rng.below(8);
    for (size_t g = 0; g < n; ++g) {
      truth[g] = silent ? 0 : random_count(rng, spread);
      hot[g] = static_cast<uint8_t>(rng.below(8) < hot_in);
    }
    const double cov = coverages[rng.below(std::size(coverages))];
    const uint64_t cap =
        rng.below(3) == 0 ? rng.below(n / 4 + 2) : rng.below(2 * n + 2);  // often binding
    // The hot set may be shorter or longer than the truth (only the overlap counts).
    std::vector<uint8_t> hot_sized = hot;
    if (rng.below(6) == 0) hot_sized.resize(n - rng.below(n) / 2);
    if (rng.below(6) == 0) hot_sized.resize(n + 70, 1);
    expect_same(score_hotset(truth, to_set(hot_sized), cov, cap),
                reference_score(truth, hot_sized, cov, cap));
  }
}

TEST(VtmmHotsetEval, EdgeCases) {
  const std::vector<uint32_t> zeros(100, 0);
  const std::vector<uint8_t> all(100, 1), none(100, 0);
  EXPECT_FALSE(score_hotset(zeros, to_set(all), 0.9, 50).valid) << "no accesses";
  std::vector<uint32_t> one(100, 0);
  one[37] = 4;
  EXPECT_FALSE(score_hotset(one, to_set(none), 0.9, 50).valid) << "nothing classified";
  EXPECT_FALSE(score_hotset(one, to_set(all), 0.9, 0).valid) << "cap 0 takes nothing";
  const HotsetScore s = score_hotset(one, to_set(all), 1.0, 50);
  ASSERT_TRUE(s.valid);
  EXPECT_EQ(s.true_hot, 1u);
  EXPECT_EQ(s.recall, 1.0);
  EXPECT_EQ(s.precision, 0.01);
  // Every page at the same count, cap binding: the cut fills in GPA order.
  const std::vector<uint32_t> flat(64, 3);
  std::vector<uint8_t> tail(64, 0);
  std::fill(tail.begin() + 32, tail.end(), 1);
  expect_same(score_hotset(flat, to_set(tail), 1.0, 40), reference_score(flat, tail, 1.0, 40));
  EXPECT_EQ(score_hotset(flat, to_set(tail), 1.0, 40).recall, 8.0 / 40)
      << "pages 0..39 are the true set";
  EXPECT_FALSE(score_hotset({}, to_set(all), 0.9, 50).valid) << "no ground truth";
}

TEST(VtmmHotsetEval, TruthHistogramCountsBackedPagesByLog2Bin) {
  Rng rng(9);
  std::vector<uint32_t> truth(1000);
  std::vector<uint8_t> tiers(1003);
  for (auto& t : truth) t = random_count(rng, 300);
  for (auto& t : tiers) t = static_cast<uint8_t>(rng.below(3));
  TruthHistogram want{}, got{};
  for (size_t g = 0; g < tiers.size(); ++g)
    if (tiers[g] < 2) ++want[std::bit_width(g < truth.size() ? truth[g] : 0u)];
  want[0] += 5;  // adds to what is there
  got[0] = 5;
  add_truth_histogram(truth, tiers, got);
  EXPECT_EQ(got, want);
}

}  // namespace vtmm_hotset_eval_test
}  // namespace vtmm::policy
