// plan_placement and plan_fixed_threshold (hotness.hpp): the hot set and the
// promote/demote lists from one window's keys, tiers and bucket counts.
#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <stdexcept>
#include <string>

#include "vtmm/policy/hotness.hpp"
#include "vtmm/policy/parts.hpp"

namespace vtmm::policy {
namespace {

// Where the adaptive hot set ends: keys >= threshold are taken whole; of
// bucket `partial` (0: none) `quota` pages, fast ones first.
struct Cut {
  uint32_t threshold = 0, partial = 0;
  uint64_t quota = 0;
};

// The scans below pay a branch only per page that matters (a minority: the
// hot set, the cold fast pages), not per page: they first build a 64-page bit
// mask of those pages, eight bytes (keys < 64, tiers <= 2) at a time.
static_assert(std::endian::native == std::endian::little, "byte i of a loaded word is page i");
constexpr uint64_t kOnes = 0x0101010101010101ull, kTops = kOnes * 0x80;

inline uint64_t load8(const uint8_t* p) {
  uint64_t x;
  std::memcpy(&x, p, sizeof x);
  return x;
}
// Per byte (< 128) of x, 0x80 where it is >= v (v <= 128): no byte borrows.
inline uint64_t at_least(uint64_t x, uint32_t v) { return ((x | kTops) - kOnes * v) & kTops; }
// Bit i set where byte i has 0x80 (the multiply gathers the eight top bits).
inline uint64_t gather(uint64_t tops) { return ((tops >> 7) * 0x0102040810204080ull) >> 56; }

// Pages [base, base + len) (len <= 64) where sel(keys, tiers) marks the
// byte (sel takes eight pages' keys and tiers, returns 0x80 per page);
// pred(g) for the last, partial chunk.
template <class Sel, class Pred>
uint64_t mask_of(const PlanInput& in, size_t base, size_t len, Sel sel, Pred pred) {
  uint64_t m = 0;
  if (len == 64) {
    for (size_t j = 0; j < 64; j += 8)
      m |= gather(sel(load8(in.key.data() + base + j), load8(in.tier.data() + base + j))) << j;
    return m;
  }
  for (size_t i = 0; i < len; ++i) m |= static_cast<uint64_t>(pred(base + i)) << i;
  return m;
}

// Walk buckets from the hottest; key 0 (never seen) is never hot.
constexpr uint32_t kFloorKey = 1;

Cut find_cut(const BucketCounts& bc, uint32_t max_key, uint64_t budget) {
  Cut c;
  uint64_t taken = 0;
  c.threshold = max_key + 1;
  for (uint32_t k = max_key + 1; k-- > kFloorKey;) {
    const uint64_t n = bc[0][k] + bc[1][k];
    if (taken + n <= budget) {
      taken += n;
      c.threshold = k;
      continue;
    }
    c.partial = k;
    c.quota = budget - taken;
    break;
  }
  return c;
}

// Hot pages, hottest bucket first and within a bucket from the highest GPA
// down (the partial bucket's quotas are spent in that order too, pages
// already in fast memory first): one descending scan. The bucket counts give
// each key's number of slow hot pages, so each is written straight to its
// place in the promote list (hottest first). Returns the partial bucket's
// fast pages taken.
uint64_t select_hot(const PlanInput& in, const Cut& cut, Plan& p) {
  const uint32_t lowest = std::max(cut.partial ? cut.partial : cut.threshold, kFloorKey);
  uint64_t partial_fast =
      cut.partial ? std::min<uint64_t>(cut.quota, p.bucket_counts[0][cut.partial]) : 0;
  uint64_t partial_slow = cut.partial ? cut.quota - partial_fast : 0;
  const uint64_t fast_taken = partial_fast;
  std::array<uint64_t, 64> at{};  // next slot of each key in p.promote
  uint64_t slots = 0;
  for (uint32_t k = in.max_key + 1; k-- > lowest;) {
    at[k] = slots;
    slots += k >= cut.threshold ? p.bucket_counts[1][k] : partial_slow;
  }
  p.promote.resize(slots);
  const size_t n = in.key.size();
  const auto candidate = [&](size_t g) { return in.key[g] >= lowest && in.tier[g] < 2; };
  const auto candidates = [lowest](uint64_t keys, uint64_t tiers) {
    return at_least(keys, lowest) & ~at_least(tiers, 2) & kTops;
  };
  for (size_t base = n & ~size_t{63}; base <= n; base -= 64) {  // chunks from the highest down
    for (uint64_t m = mask_of(in, base, std::min<size_t>(64, n - base), candidates, candidate);
         m != 0;) {
      const size_t i = 63 - static_cast<size_t>(std::countl_zero(m));
      m &= ~(uint64_t{1} << i);
      const size_t g = base + i;
      const uint32_t k = in.key[g];
      const uint8_t t = in.tier[g];
      if (k < cut.threshold) {  // the partial bucket
        uint64_t& q = t == 0 ? partial_fast : partial_slow;
        if (q == 0) continue;
        --q;
      }
      p.hot.set(g);
      ++p.hot_pages;
      if (t == 1) p.promote[at[k]++] = static_cast<Gpa>(g);
    }
    if (base == 0) break;
  }
  return fast_taken;
}

// Make room for `need` pages: free pages first (ascending GPA), then fast
// pages from the coldest bucket up (ascending GPA within a bucket). The
// buckets below `cold_top` hold fewer non-hot fast pages than could be
// needed; of bucket cold_top only the first `need` can be: one ascending scan
// collects them. Returns what is still needed.
//
// When no bucket was split (every page seen in the history is hot: keys from 1 up,
// the budget not full) and never-seen fast pages alone make the room
// (cold_top 0), the scan can stop once it holds `need` of them and every
// free one, if the input counted the free ones (PlanInput::free_cold_fast):
// often a small part of fast memory. When a bucket was split the hot set
// fills the budget, every non-hot fast page must go, and the scan runs on.
uint64_t select_demote(const PlanInput& in, const Cut& cut, uint64_t fast_taken, uint64_t need,
                       Plan& p) {
  const BucketCounts& bc = p.bucket_counts;
  uint32_t cold_top = 0;
  for (uint64_t below = 0; cold_top <= in.max_key; ++cold_top) {
    const uint64_t hot_here = cold_top >= cut.threshold ? bc[0][cold_top]
                              : cold_top == cut.partial ? fast_taken
                                                        : 0;
    below += bc[0][cold_top] - hot_here;
    if (below >= need) break;
  }
  const bool may_stop = cold_top == 0 && cut.partial == 0 && in.free_cold_fast != kUnknownCount;
  uint64_t free_seen = 0;
  auto& down = p.demote_by_key;  // free pages go straight to p.demote
  down.resize(std::min(cold_top, in.max_key) + 1);
  for (auto& d : down) d.clear();
  const size_t n = in.key.size();
  const auto fast = [&](size_t g) { return in.tier[g] == 0; };
  const auto fasts = [](uint64_t, uint64_t tiers) { return ~at_least(tiers, 1) & kTops; };
  const auto words = p.hot.words();
  for (size_t base = 0; base < n && p.demote.size() < need; base += 64) {
    for (uint64_t m =
             mask_of(in, base, std::min<size_t>(64, n - base), fasts, fast) & ~words[base / 64];
         m != 0; m &= m - 1) {
      const size_t g = base + static_cast<size_t>(std::countr_zero(m));
      if (in.free[g]) {
        ++free_seen;
        p.demote.push_back(static_cast<Gpa>(g));
        if (p.demote.size() == need) break;  // free pages alone make the room
        continue;
      }
      const uint32_t k = in.key[g];
      if (k < down.size() && (k < cold_top || down[k].size() < need))
        down[k].push_back(static_cast<Gpa>(g));
    }
    if (may_stop && free_seen == in.free_cold_fast && down[0].size() >= need) break;
  }
  need -= p.demote.size();
  for (size_t k = 0; k < down.size() && need > 0; ++k) {
    const size_t take = std::min<uint64_t>(need, down[k].size());
    p.demote.insert(p.demote.end(), down[k].begin(),
                    down[k].begin() + static_cast<std::ptrdiff_t>(take));
    need -= take;
  }
  return need;
}

void check(const PlanInput& in, const char* who) {
  if (in.max_key >= 64) throw std::invalid_argument(std::string(who) + ": keys above 63");
  if (in.tier.size() != in.key.size() || in.free.size() != in.key.size())
    throw std::invalid_argument(std::string(who) + ": key, tier and free differ in size");
}

}  // namespace

void Plan::reset(size_t pages, const BucketCounts& counts) {
  promote.clear();
  demote.clear();
  hot.reset(pages);
  hot_pages = 0;
  threshold = 0;
  bucket_counts = counts;
}

Plan plan_placement(const PlanInput& in) {
  Plan p;
  plan_placement(in, p);
  return p;
}

Plan plan_fixed_threshold(const PlanInput& in) {
  Plan p;
  plan_fixed_threshold(in, p);
  return p;
}

void plan_placement(const PlanInput& in, Plan& p) {
  check(in, "plan_placement");
  p.reset(in.key.size(), in.counts);
  const Cut cut = find_cut(p.bucket_counts, in.max_key, in.budget);
  p.threshold = cut.threshold;
  const uint64_t fast_taken = select_hot(in, cut, p);
  uint64_t fast_used = 0;
  for (uint32_t k = 0; k <= in.max_key; ++k) fast_used += p.bucket_counts[0][k];
  const uint64_t after = fast_used + p.promote.size();
  uint64_t need = after > in.budget ? after - in.budget : 0;
  if (need > 0) need = select_demote(in, cut, fast_taken, need, p);
  // Not enough to demote (everything in fast memory is hot): promote only the hottest that fit.
  if (need > 0) p.promote.resize(p.promote.size() - std::min<uint64_t>(need, p.promote.size()));
}

void plan_fixed_threshold(const PlanInput& in, Plan& p) {
  check(in, "plan_fixed_threshold");
  if (in.fixed_threshold == 0) throw std::invalid_argument("plan_fixed_threshold: threshold 0");
  const size_t n = in.key.size();
  p.reset(n, in.counts);
  p.threshold = in.fixed_threshold;
  std::vector<Gpa>& cold = p.demote;
  for (size_t g = n; g-- > 0;) {  // from the highest GPA down, the artifact's list order
    const uint8_t t = in.tier[g];
    if (t >= 2) continue;
    if (in.key[g] >= in.fixed_threshold) {
      p.hot.set(g);
      ++p.hot_pages;
      if (t == 1) p.promote.push_back(static_cast<Gpa>(g));
    } else if (t == 0) {
      cold.push_back(static_cast<Gpa>(g));
    }
  }
  const size_t pairs = std::min(p.promote.size(), cold.size());
  p.promote.resize(pairs);
  cold.resize(pairs);
}

namespace {

struct AdaptiveHotSet final : HotSetRule {
  AdaptiveHotSet(Params&, const PartEnv&) {}
  void plan(PlanInput in, Plan& out) const override {
    in.fixed_threshold = 0;
    plan_placement(in, out);
  }
};
struct FixedHotSet final : HotSetRule {
  FixedHotSet(Params&, const PartEnv& env) : threshold_(env.fixed_threshold) {}
  void plan(PlanInput in, Plan& out) const override {
    in.fixed_threshold = threshold_;
    plan_fixed_threshold(in, out);
  }
  uint32_t threshold_;
};

}  // namespace

VTMM_REGISTER(HotSetRuleRegistry, AdaptiveHotSet, "adaptive",
              "vTMM: hottest buckets first until fast memory is full")
VTMM_REGISTER(HotSetRuleRegistry, FixedHotSet, "fixed",
              "every page at or above fixed_threshold (the artifact's pre_migration_fix_threshold)")

}  // namespace vtmm::policy
