// vTMM's classifier (vtmm/policy/hotness.hpp): page temperature over the last
// 10 windows (1 per read window, 3 per written window, 0..30 in 31 buckets),
// the LRU ablation's recency key, and plan_placement(): the adaptive hot set
// taken from the hottest bucket down to exactly the fast budget, promotions
// hottest first, room made by demoting free pages first and then the coldest;
// and plan_fixed_threshold(), the authors' fixed-threshold exchange.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/policy/hotness.hpp"
#include "vtmm/policy/mlq.hpp"

namespace vtmm::policy {
namespace vtmm_hotness_test {

constexpr uint8_t N = static_cast<uint8_t>(Seen::None);
constexpr uint8_t R = static_cast<uint8_t>(Seen::Read);
constexpr uint8_t W = static_cast<uint8_t>(Seen::Write);

Hotness temperature() { return Hotness(Hotness::Kind::Temperature, 10, 1, 3); }

// Records `windows` (oldest first), each giving what every page did.
void record_all(Hotness& h, const std::vector<std::vector<uint8_t>>& windows) {
  for (const auto& w : windows) h.record(w);
}
// One page's windows, oldest first.
uint32_t key_after(Hotness h, const std::vector<uint8_t>& page_windows) {
  h.resize(1);
  for (uint8_t s : page_windows) h.record(std::vector<uint8_t>{s});
  return h.key(0);
}
std::vector<uint8_t> repeat(uint8_t s, size_t n) { return std::vector<uint8_t>(n, s); }
std::vector<uint8_t> concat(std::vector<uint8_t> a, const std::vector<uint8_t>& b) {
  a.insert(a.end(), b.begin(), b.end());
  return a;
}

TEST(VtmmHotness, TemperatureRangeIsZeroToThirtyOverTenWindows) {
  const Hotness h = temperature();
  EXPECT_EQ(h.windows(), 10u);
  EXPECT_EQ(h.max_key(), 30u) << "31 buckets, 0..30";
  EXPECT_EQ(key_after(temperature(), repeat(W, 10)), 30u);
  EXPECT_EQ(key_after(temperature(), repeat(R, 10)), 10u);
  EXPECT_EQ(key_after(temperature(), repeat(N, 10)), 0u);
  EXPECT_EQ(key_after(temperature(), repeat(W, 25)), 30u) << "only the last 10 windows count";
}

TEST(VtmmHotness, ReadWindowCountsOneWrittenWindowCountsThreeNotFour) {
  Hotness h = temperature();
  h.resize(3);
  record_all(h, {{R, W, N}});
  EXPECT_EQ(h.key(0), 1u);
  EXPECT_EQ(h.key(1), 3u) << "a written page was also read; the window counts 3, not 1 + 3";
  EXPECT_EQ(h.key(2), 0u);
  record_all(h, {{W, R, N}});
  EXPECT_EQ(h.key(0), 4u);
  EXPECT_EQ(h.key(1), 4u);
}

TEST(VtmmHotness, TemperatureSumsReadAndWrittenWindows) {
  // 4 read windows, 3 written, 3 idle, interleaved: 4 * 1 + 3 * 3.
  EXPECT_EQ(key_after(temperature(), {R, W, N, R, W, N, R, W, N, R}), 13u);
  EXPECT_EQ(key_after(temperature(), {W, W, W, R, R, R, R, N, N, N}), 13u)
      << "order within the history does not matter";
}

TEST(VtmmHotness, HistoryOlderThanTenWindowsIsForgotten) {
  EXPECT_EQ(key_after(temperature(), concat({W}, repeat(N, 9))), 3u)
      << "10th window back still counts";
  EXPECT_EQ(key_after(temperature(), concat({W}, repeat(N, 10))), 0u)
      << "11th window back is forgotten";
  EXPECT_EQ(key_after(temperature(), concat({W}, repeat(R, 10))), 10u);
  EXPECT_EQ(key_after(temperature(), concat(repeat(W, 10), repeat(R, 10))), 10u);
  EXPECT_EQ(key_after(temperature(), concat(repeat(W, 10), repeat(N, 5))), 15u);
}

TEST(VtmmHotness, LruKeyIsRecencyNotFrequency) {
  const Hotness lru(Hotness::Kind::Lru, 10, 1, 3);
  EXPECT_EQ(lru.max_key(), 10u);
  EXPECT_EQ(key_after(lru, {R}), 10u) << "seen in the newest window: max";
  EXPECT_EQ(key_after(lru, {W}), 10u) << "reads and writes alike";
  EXPECT_EQ(key_after(lru, concat({R}, repeat(N, 3))), 7u);
  EXPECT_EQ(key_after(lru, concat({W}, repeat(N, 9))), 1u) << "oldest window in the history";
  EXPECT_EQ(key_after(lru, concat({W}, repeat(N, 10))), 0u) << "not within the history";
  // Seen in 9 windows but not the newest, versus seen once, in the newest.
  EXPECT_LT(key_after(lru, concat(repeat(W, 9), {N})), key_after(lru, concat(repeat(N, 9), {R})));
  EXPECT_EQ(key_after(lru, concat(repeat(W, 9), {N})), 9u);
}

// ---- plan_placement ----

constexpr uint8_t kFast = 0, kSlow = 1, kUnbacked = 2;

struct Pages {
  std::vector<uint8_t> key, tier, free;
  Gpa add(uint32_t k, uint8_t t, bool is_free = false) {
    key.push_back(static_cast<uint8_t>(k));
    tier.push_back(t);
    free.push_back(is_free ? 1 : 0);
    return static_cast<Gpa>(key.size() - 1);
  }
  std::vector<Gpa> add_n(size_t n, uint32_t k, uint8_t t) {
    std::vector<Gpa> gs;
    for (size_t i = 0; i < n; ++i) gs.push_back(add(k, t));
    return gs;
  }
  Plan plan(uint64_t budget) const { return make(budget, 0); }
  Plan fixed(uint64_t budget, uint32_t threshold) const { return make(budget, threshold); }
  Plan make(uint64_t budget, uint32_t fixed_threshold) const {
    PlanInput in;
    in.key = key;
    in.tier = tier;
    in.free = free;
    in.max_key = 30;
    in.budget = budget;
    in.fixed_threshold = fixed_threshold;
    in.counts = count_buckets(key, tier);
    return fixed_threshold > 0 ? plan_fixed_threshold(in) : plan_placement(in);
  }
};

uint64_t count_hot(const Plan& p, const std::vector<Gpa>& gs) {
  uint64_t n = 0;
  for (Gpa g : gs) n += p.hot[g];
  return n;
}

TEST(VtmmPlacement, HotSetTakesWholeBucketsFromTheHottestDown) {
  Pages pg;
  const auto k30 = pg.add_n(3, 30, kSlow);
  const auto k20 = pg.add_n(2, 20, kSlow);
  const auto k10 = pg.add_n(4, 10, kSlow);
  const Plan p = pg.plan(5);  // 3 + 2 fit exactly
  EXPECT_EQ(p.hot_pages, 5u);
  EXPECT_EQ(count_hot(p, k30), 3u);
  EXPECT_EQ(count_hot(p, k20), 2u) << "keys exactly at the lowest bucket taken whole are hot";
  EXPECT_EQ(count_hot(p, k10), 0u);
  EXPECT_GT(p.threshold, 10u);
  EXPECT_LE(p.threshold, 20u);
  for (Gpa g = 0; g < pg.key.size(); ++g) EXPECT_EQ(p.hot[g] != 0, pg.key[g] >= p.threshold) << g;
  EXPECT_EQ(p.bucket_counts[kSlow][30], 3u);
  EXPECT_EQ(p.bucket_counts[kSlow][20], 2u);
  EXPECT_EQ(p.bucket_counts[kSlow][10], 4u);

  const Plan q = pg.plan(6);  // one more: one page of bucket 10
  EXPECT_EQ(q.hot_pages, 6u);
  EXPECT_EQ(count_hot(q, k10), 1u);
  EXPECT_LE(q.threshold, 20u);
  EXPECT_GT(q.threshold, 10u) << "bucket 10 was not taken whole";

  const Plan r = pg.plan(9);  // everything
  EXPECT_EQ(r.hot_pages, 9u);
  EXPECT_LE(r.threshold, 10u);
}

TEST(VtmmPlacement, AdaptiveHotSetFillsExactlyTheBudget) {
  Pages pg;
  const auto k25 = pg.add_n(3, 25, kSlow);
  const auto k12_fast = pg.add_n(2, 12, kFast);
  const auto k12_slow = pg.add_n(3, 12, kSlow);
  const auto k4 = pg.add_n(6, 4, kSlow);
  const Plan p = pg.plan(7);
  EXPECT_EQ(p.hot_pages, 7u);
  EXPECT_EQ(count_hot(p, k25), 3u);
  EXPECT_EQ(count_hot(p, k12_fast), 2u);
  EXPECT_EQ(count_hot(p, k12_slow), 2u) << "the partial bucket fills the rest of the budget";
  EXPECT_EQ(count_hot(p, k4), 0u);
  EXPECT_EQ(p.hot.count(), 7u);

  // Every budget up to the number of pages with key > 0.
  for (uint64_t budget = 0; budget <= pg.key.size(); ++budget) {
    const Plan b = pg.plan(budget);
    EXPECT_EQ(b.hot_pages, budget) << "budget " << budget;
    EXPECT_EQ(b.hot.count(), budget) << "budget " << budget;
  }
}

TEST(VtmmPlacement, FastPagesArePreferredWithinThePartialBucket) {
  Pages pg;
  const Gpa f0 = pg.add(12, kFast);
  const auto slow = pg.add_n(3, 12, kSlow);
  const Gpa f1 = pg.add(12, kFast);
  const auto cold = pg.add_n(2, 3, kFast);
  const Plan p = pg.plan(2);  // bucket 12 holds 5 pages: room for 2
  EXPECT_EQ(p.hot_pages, 2u);
  EXPECT_TRUE(p.hot[f0]);
  EXPECT_TRUE(p.hot[f1]);
  EXPECT_EQ(count_hot(p, slow), 0u);
  EXPECT_TRUE(p.promote.empty())
      << "as hot as the pages already in fast memory: nothing to gain by moving";
  EXPECT_EQ(p.demote.size(), 2u) << "fast memory holds 4 pages for a budget of 2";
  EXPECT_EQ(std::set<Gpa>(p.demote.begin(), p.demote.end()),
            std::set<Gpa>(cold.begin(), cold.end()));
}

TEST(VtmmPlacement, NeverSeenPagesAreNeverHot) {
  Pages pg;
  const auto seen = pg.add_n(3, 1, kSlow);
  const auto zero_fast = pg.add_n(5, 0, kFast);
  const auto zero_slow = pg.add_n(5, 0, kSlow);
  const Plan p = pg.plan(100);
  EXPECT_EQ(p.hot_pages, 3u) << "budget left over stays unused";
  EXPECT_EQ(count_hot(p, seen), 3u);
  EXPECT_EQ(count_hot(p, zero_fast), 0u);
  EXPECT_EQ(count_hot(p, zero_slow), 0u);
  EXPECT_EQ(std::set<Gpa>(p.promote.begin(), p.promote.end()),
            std::set<Gpa>(seen.begin(), seen.end()));
  EXPECT_TRUE(p.demote.empty()) << "room to spare: nothing is demoted";
}

TEST(VtmmPlacement, UnbackedPagesAreIgnored) {
  Pages pg;
  const Gpa unbacked = pg.add(30, kUnbacked);
  const auto slow = pg.add_n(2, 20, kSlow);
  const Plan p = pg.plan(2);
  EXPECT_FALSE(p.hot[unbacked]);
  EXPECT_EQ(count_hot(p, slow), 2u);
  EXPECT_EQ(p.promote.size(), 2u);
}

// The authors' fixed-threshold rule (pre_migration_fix_threshold): hot is
// key >= 9 whatever the budget; slow hot pages are exchanged one for one with
// fast pages below 9, both lists from the highest GPA down.
TEST(VtmmPlacement, FixedThresholdExchangesEveryHotSlowPageForAColdFastOne) {
  Pages pg;
  const Gpa k30 = pg.add(30, kSlow), k12 = pg.add(12, kFast), k9 = pg.add(9, kSlow),
            k8 = pg.add(8, kSlow), k3 = pg.add(3, kFast), k1 = pg.add(1, kSlow),
            k0 = pg.add(0, kFast);
  const Plan fixed = pg.fixed(100, 9);
  EXPECT_TRUE(fixed.hot[k30]);
  EXPECT_TRUE(fixed.hot[k12]);
  EXPECT_TRUE(fixed.hot[k9]) << "exactly at the threshold";
  EXPECT_FALSE(fixed.hot[k8]);
  EXPECT_FALSE(fixed.hot[k3]);
  EXPECT_FALSE(fixed.hot[k1]);
  EXPECT_EQ(fixed.hot_pages, 3u);
  EXPECT_EQ(fixed.threshold, 9u);
  EXPECT_EQ(fixed.promote, (std::vector<Gpa>{k9, k30})) << "highest GPA first, not hottest first";
  EXPECT_EQ(fixed.demote, (std::vector<Gpa>{k0, k3}));

  const Plan tight = pg.fixed(2, 9);
  EXPECT_EQ(tight.hot_pages, 3u) << "the budget does not cap the hot set";
  EXPECT_EQ(tight.promote.size(), 2u);
}

TEST(VtmmPlacement, FixedThresholdMovesOnlyAsManyAsThereAreColdFastPages) {
  Pages pg;
  const auto hot = pg.add_n(5, 20, kSlow);
  const Gpa cold = pg.add(2, kFast);
  pg.add_n(3, 15, kFast);
  const Plan p = pg.fixed(100, 9);  // room in the budget, yet only one pair
  EXPECT_EQ(p.promote, (std::vector<Gpa>{hot.back()}));
  EXPECT_EQ(p.demote, (std::vector<Gpa>{cold}));
  EXPECT_EQ(p.hot_pages, 8u);
}

TEST(VtmmPlacement, PromotionsAreHottestFirst) {
  Pages pg;
  const Gpa a = pg.add(5, kSlow), b = pg.add(30, kSlow), c = pg.add(12, kSlow),
            d = pg.add(20, kSlow), e = pg.add(1, kSlow), f = pg.add(12, kFast);
  const Plan p = pg.plan(100);
  EXPECT_EQ(p.promote, (std::vector<Gpa>{b, d, c, a, e}));
  EXPECT_FALSE(std::find(p.promote.begin(), p.promote.end(), f) != p.promote.end())
      << "already in fast memory";
}

TEST(VtmmPlacement, FreePagesAreDemotedFirstThenColdPagesColdestFirst) {
  Pages pg;
  const Gpa warm = pg.add(2, kFast);             // hot (fills the budget)
  const Gpa coldest = pg.add(0, kFast);          // cold, referenced
  const Gpa free_page = pg.add(1, kFast, true);  // cold, referenced by no PTE
  const Gpa cold = pg.add(1, kFast);             // cold, referenced
  const auto hot_slow = pg.add_n(2, 30, kSlow);
  const Gpa hot_slow2 = pg.add(20, kSlow);
  // Budget 4, fast memory full (4 pages): hot set = 30, 30, 20, then key 2.
  const Plan p = pg.plan(4);
  ASSERT_EQ(p.hot_pages, 4u);
  ASSERT_TRUE(p.hot[warm]);
  EXPECT_EQ(p.promote.size(), 3u);
  EXPECT_EQ(p.promote.back(), hot_slow2);
  EXPECT_EQ(std::set<Gpa>(p.promote.begin(), p.promote.begin() + 2),
            std::set<Gpa>(hot_slow.begin(), hot_slow.end()));
  EXPECT_EQ(p.demote, (std::vector<Gpa>{free_page, coldest, cold}))
      << "the free page goes first although it is warmer than `coldest`; then coldest first";

  // Only one slot needed: it is the free page's, although a never-seen page sits at a lower GPA.
  Pages one;
  const Gpa hot_fast = one.add(5, kFast);
  const Gpa unseen = one.add(0, kFast);
  const Gpa unused = one.add(0, kFast, true);
  const Gpa candidate = one.add(30, kSlow);
  const Plan q = one.plan(3);
  EXPECT_TRUE(q.hot[hot_fast]);
  EXPECT_FALSE(q.hot[unseen]);
  EXPECT_EQ(q.promote, (std::vector<Gpa>{candidate}));
  EXPECT_EQ(q.demote, (std::vector<Gpa>{unused}));
}

// The plan never asks for more fast memory than the budget: promotions are
// limited to what the demotions make room for. (Since the hot set never
// exceeds the budget, a consistent input always leaves enough cold fast pages;
// this pins the invariant on a fast tier full of pages as hot as the candidates
// and on random inputs.)
TEST(VtmmPlacement, PromotionsNeverExceedTheRoomDemotionsMake) {
  Pages full;
  const auto fast_hot = full.add_n(4, 30, kFast);
  const auto slow_hot = full.add_n(3, 30, kSlow);
  const Plan p = full.plan(4);
  EXPECT_EQ(count_hot(p, fast_hot), 4u);
  EXPECT_EQ(count_hot(p, slow_hot), 0u);
  EXPECT_TRUE(p.promote.empty());
  EXPECT_TRUE(p.demote.empty());

  for (uint64_t seed = 1; seed <= 300; ++seed) {
    SCOPED_TRACE(testing::Message() << "seed " << seed);
    Rng rng(seed);
    Pages pg;
    const size_t n = 1 + rng.below(160);
    const uint64_t budget = rng.below(n + 1);
    uint64_t fast_used = 0, seen_pages = 0;
    for (size_t i = 0; i < n; ++i) {
      const uint32_t k = rng.below(3) == 0 ? 0 : static_cast<uint32_t>(rng.below(31));
      uint8_t t = static_cast<uint8_t>(rng.below(3));
      if (t == kFast && fast_used == budget) t = kSlow;
      const bool is_free = t == kFast && rng.below(4) == 0;
      pg.add(k, t, is_free);
      fast_used += t == kFast;
      seen_pages += t != kUnbacked && k > 0;
    }
    const Plan plan = pg.plan(budget);
    EXPECT_EQ(plan.hot_pages, std::min(budget, seen_pages));
    std::set<Gpa> promoted(plan.promote.begin(), plan.promote.end());
    for (size_t i = 0; i + 1 < plan.promote.size(); ++i)
      EXPECT_GE(pg.key[plan.promote[i]], pg.key[plan.promote[i + 1]]) << "hottest first";
    for (Gpa g : plan.promote) EXPECT_TRUE(plan.hot[g] && pg.tier[g] == kSlow) << g;
    for (Gpa g = 0; g < n; ++g)
      if (plan.hot[g] && pg.tier[g] == kSlow) {
        EXPECT_TRUE(promoted.count(g)) << "every hot slow page is promoted: " << g;
      }
    bool past_free = false;
    for (size_t i = 0; i < plan.demote.size(); ++i) {
      const Gpa g = plan.demote[i];
      EXPECT_TRUE(pg.tier[g] == kFast && !plan.hot[g]) << g;
      if (!pg.free[g]) past_free = true;
      EXPECT_FALSE(past_free && pg.free[g]) << "free pages come first";
      if (i > 0 && !pg.free[g] && !pg.free[plan.demote[i - 1]]) {
        EXPECT_LE(pg.key[plan.demote[i - 1]], pg.key[g]) << "coldest first";
      }
    }
    const uint64_t after = fast_used - plan.demote.size() + plan.promote.size();
    EXPECT_LE(after, budget);
    EXPECT_EQ(plan.demote.size(), fast_used + plan.promote.size() > budget
                                      ? fast_used + plan.promote.size() - budget
                                      : 0)
        << "demotes only what the promotions need";
  }
}

}  // namespace vtmm_hotness_test
}  // namespace vtmm::policy

namespace vtmm::policy {
namespace vtmm_hotness_test {

// The rule of plan_placement written the plain way (a full counting sort by
// key, stable in GPA order; hot from the top of the sorted order down; free
// pages then the sorted order from the bottom for demotion), to pin the fast
// implementation's exact lists on random inputs.
Plan reference_plan(const PlanInput& in) {
  Plan p;
  const size_t n = in.key.size();
  p.hot = HotSet(n);
  for (size_t g = 0; g < n; ++g)
    if (in.tier[g] < 2) ++p.bucket_counts[in.tier[g]][in.key[g]];
  constexpr uint32_t floor_key = 1;
  uint64_t taken = 0, quota = 0;
  uint32_t partial = 0;
  p.threshold = in.max_key + 1;
  for (uint32_t k = in.max_key + 1; k-- > floor_key;) {
    const uint64_t c = p.bucket_counts[0][k] + p.bucket_counts[1][k];
    if (taken + c <= in.budget) {
      taken += c;
      p.threshold = k;
      continue;
    }
    partial = k;
    quota = in.budget - taken;
    break;
  }
  std::vector<Gpa> order;
  for (uint32_t k = 0; k <= in.max_key; ++k)
    for (size_t g = 0; g < n; ++g)
      if (in.tier[g] < 2 && in.key[g] == k) order.push_back(static_cast<Gpa>(g));
  uint64_t qf = partial ? std::min<uint64_t>(quota, p.bucket_counts[0][partial]) : 0,
           qs = partial ? quota - qf : 0;
  for (size_t i = order.size(); i-- > 0;) {
    const Gpa g = order[i];
    const uint32_t k = in.key[g];
    if (k < floor_key || (k < p.threshold && k != partial)) break;
    if (k < p.threshold) {
      uint64_t& q = in.tier[g] == 0 ? qf : qs;
      if (q == 0) continue;
      --q;
    }
    p.hot.set(g);
    ++p.hot_pages;
    if (in.tier[g] == 1) p.promote.push_back(g);
  }
  uint64_t fast_used = 0;
  for (uint32_t k = 0; k <= in.max_key; ++k) fast_used += p.bucket_counts[0][k];
  uint64_t need =
      fast_used + p.promote.size() > in.budget ? fast_used + p.promote.size() - in.budget : 0;
  for (size_t g = 0; g < n && need > 0; ++g)
    if (in.tier[g] == 0 && !p.hot[g] && in.free[g]) p.demote.push_back(static_cast<Gpa>(g)), --need;
  for (size_t i = 0; i < order.size() && need > 0; ++i)
    if (in.tier[order[i]] == 0 && !p.hot[order[i]] && !in.free[order[i]])
      p.demote.push_back(order[i]), --need;
  if (need > 0) p.promote.resize(p.promote.size() - std::min<uint64_t>(need, p.promote.size()));
  return p;
}

TEST(VtmmPlacement, MatchesThePlainRuleOnRandomPages) {
  Rng rng(11);
  for (int round = 0; round < 300; ++round) {
    const size_t n = 1 + rng.below(1000);
    std::vector<uint8_t> key(n), tier(n), free(n);
    const uint32_t spread =
        1 + static_cast<uint32_t>(rng.below(31));  // few buckets: big partial buckets
    for (size_t g = 0; g < n; ++g) {
      key[g] = static_cast<uint8_t>(rng.below(spread) * (30 / spread));
      tier[g] = static_cast<uint8_t>(rng.below(10) == 0 ? 2 : rng.below(3) == 0 ? 0 : 1);
      // A third of the rounds without free pages, where the scan stops earliest.
      free[g] = static_cast<uint8_t>(round % 3 != 0 && tier[g] == 0 && rng.below(6) == 0);
    }
    PlanInput in{key, tier, free, 30, rng.below(n + 1)};
    in.counts = count_buckets(key, tier);
    const Plan b = reference_plan(in);
    // Without and with the count of free never-seen fast pages (with it, the
    // demotion scan may stop early).
    for (const bool counted : {false, true}) {
      if (counted) {
        in.free_cold_fast = 0;
        for (size_t g = 0; g < n; ++g) in.free_cold_fast += free[g] && tier[g] == 0 && key[g] == 0;
      }
      const Plan a = plan_placement(in);
      SCOPED_TRACE("round " + std::to_string(round) + (counted ? ", free counted" : ""));
      EXPECT_EQ(a.promote, b.promote);
      EXPECT_EQ(a.demote, b.demote);
      EXPECT_EQ(a.hot, b.hot);
      EXPECT_EQ(a.hot_pages, b.hot_pages);
      EXPECT_EQ(a.threshold, b.threshold);
      EXPECT_EQ(a.bucket_counts, b.bucket_counts);
    }
  }
}

}  // namespace vtmm_hotness_test
}  // namespace vtmm::policy
