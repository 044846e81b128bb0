// plan_placement and plan_fixed_threshold (hotness.hpp): the hot set and the
// promote/demote lists from one window's keys, tiers and bucket counts.
#include <algorithm>
#include <stdexcept>
#include <string>

#include "vtmm/policy/hotness.hpp"

namespace vtmm::policy {
namespace {

// Where the adaptive hot set ends: keys >= threshold are taken whole; of
// bucket `partial` (0: none) `quota` pages, fast ones first.
struct Cut {
  uint32_t threshold = 0, partial = 0;
  uint64_t quota = 0;
};

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
// already in fast memory first): one descending scan, per-key lists of the
// slow hot pages to promote. Returns the partial bucket's fast pages taken.
uint64_t select_hot(const PlanInput& in, const Cut& cut, Plan& p) {
  const uint32_t lowest = std::max(cut.partial ? cut.partial : cut.threshold, kFloorKey);
  uint64_t partial_fast = cut.partial ? std::min<uint64_t>(cut.quota, p.bucket_counts[0][cut.partial]) : 0;
  uint64_t partial_slow = cut.partial ? cut.quota - partial_fast : 0;
  const uint64_t fast_taken = partial_fast;
  std::vector<std::vector<Gpa>> up(in.max_key + 1);
  for (size_t g = in.key.size(); g-- > 0;) {
    const uint32_t k = in.key[g];
    const uint8_t t = in.tier[g];
    if (k < lowest || t >= 2) continue;
    if (k < cut.threshold) {  // the partial bucket
      uint64_t& q = t == 0 ? partial_fast : partial_slow;
      if (q == 0) continue;
      --q;
    }
    p.hot.set(g);
    ++p.hot_pages;
    if (t == 1) up[k].push_back(static_cast<Gpa>(g));
  }
  for (uint32_t k = in.max_key + 1; k-- > 0;) p.promote.insert(p.promote.end(), up[k].begin(), up[k].end());
  return fast_taken;
}

// Make room for `need` pages: free pages first (ascending GPA), then fast
// pages from the coldest bucket up (ascending GPA within a bucket). The
// buckets below `cold_top` hold fewer non-hot fast pages than could be
// needed; of bucket cold_top only the first `need` can be: one ascending scan
// collects them. Returns what is still needed.
uint64_t select_demote(const PlanInput& in, const Cut& cut, uint64_t fast_taken, uint64_t need, Plan& p) {
  const BucketCounts& bc = p.bucket_counts;
  uint32_t cold_top = 0;
  for (uint64_t below = 0; cold_top <= in.max_key; ++cold_top) {
    const uint64_t hot_here = cold_top >= cut.threshold ? bc[0][cold_top]
                              : cold_top == cut.partial ? fast_taken
                                                        : 0;
    below += bc[0][cold_top] - hot_here;
    if (below >= need) break;
  }
  std::vector<Gpa> free_first;
  std::vector<std::vector<Gpa>> down(std::min(cold_top, in.max_key) + 1);
  for (size_t g = 0; g < in.key.size(); ++g) {
    if (in.tier[g] != 0 || p.hot[g]) continue;
    if (in.free[g]) {
      free_first.push_back(static_cast<Gpa>(g));
      if (free_first.size() == need) break;  // free pages alone make the room
      continue;
    }
    const uint32_t k = in.key[g];
    if (k < down.size() && (k < cold_top || down[k].size() < need)) down[k].push_back(static_cast<Gpa>(g));
  }
  p.demote = std::move(free_first);
  need -= p.demote.size();
  for (size_t k = 0; k < down.size() && need > 0; ++k) {
    const size_t take = std::min<uint64_t>(need, down[k].size());
    p.demote.insert(p.demote.end(), down[k].begin(), down[k].begin() + static_cast<std::ptrdiff_t>(take));
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

Plan plan_placement(const PlanInput& in) {
  check(in, "plan_placement");
  Plan p;
  p.hot = HotSet(in.key.size());
  p.bucket_counts = in.counts;
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
  return p;
}

Plan plan_fixed_threshold(const PlanInput& in) {
  check(in, "plan_fixed_threshold");
  if (in.fixed_threshold == 0) throw std::invalid_argument("plan_fixed_threshold: threshold 0");
  Plan p;
  const size_t n = in.key.size();
  p.hot = HotSet(n);
  p.bucket_counts = in.counts;
  p.threshold = in.fixed_threshold;
  std::vector<Gpa> cold;
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
  p.demote = std::move(cold);
  return p;
}

}  // namespace vtmm::policy
