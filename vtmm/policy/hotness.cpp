#include "vtmm/policy/hotness.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include "vtmm/policy/mlq.hpp"

namespace vtmm::policy {

Hotness::Hotness(Kind kind, uint32_t windows, uint32_t read_weight, uint32_t write_weight)
    : kind_(kind), windows_(windows), read_w_(read_weight), write_w_(write_weight) {
  if (windows_ == 0 || windows_ > 16) throw std::invalid_argument("history must be 1..16 windows");
  mask_ = static_cast<uint16_t>((1u << windows_) - 1);
  max_key_ = kind_ == Kind::Temperature ? windows_ * std::max(read_w_, write_w_) : windows_;
}

void Hotness::record(std::span<const uint8_t> seen) {
  const size_t n = std::min(seen.size(), hist_.size());
  for (size_t g = 0; g < n; ++g) {
    History& h = hist_[g];
    h.read = static_cast<uint16_t>(((h.read << 1) | (seen[g] == static_cast<uint8_t>(Seen::Read))) & mask_);
    h.write = static_cast<uint16_t>(((h.write << 1) | (seen[g] == static_cast<uint8_t>(Seen::Write))) & mask_);
  }
}

uint32_t Hotness::key(Gpa g) const {
  const History& h = hist_[g];
  if (kind_ == Kind::Temperature) {
    // A written window counts as written (weight 3), not also as read.
    return read_w_ * static_cast<uint32_t>(std::popcount(static_cast<uint16_t>(h.read & ~h.write))) +
           write_w_ * static_cast<uint32_t>(std::popcount(h.write));
  }
  const uint16_t any = h.read | h.write;
  if (any == 0) return 0;
  return windows_ - static_cast<uint32_t>(std::countr_zero(any));  // seen in the newest window: max
}

Plan plan_placement(const PlanInput& in) {
  Plan p;
  const size_t n = in.key.size();
  if (in.max_key >= 64) throw std::invalid_argument("plan_placement: keys above 63");
  p.hot.assign(n, 0);
  for (size_t g = 0; g < n; ++g)
    if (in.tier[g] < 2) ++p.bucket_counts[in.tier[g]][in.key[g]];

  // Walk buckets from the hottest; key 0 (never seen) is never hot.
  const uint32_t floor_key = in.fixed_threshold > 0 ? in.fixed_threshold : 1;
  uint64_t taken = 0;
  uint32_t partial = 0;    // the bucket that does not fit whole (0: none)
  uint64_t quota = 0;      // pages of it that fit
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
  // One counting sort by key (stable in GPA order) serves every list below.
  std::vector<uint64_t> offset(in.max_key + 2, 0);
  for (size_t g = 0; g < n; ++g)
    if (in.tier[g] < 2) ++offset[in.key[g] + 1];
  for (uint32_t k = 0; k <= in.max_key; ++k) offset[k + 1] += offset[k];
  std::vector<Gpa> order(offset[in.max_key + 1]);
  for (size_t g = 0; g < n; ++g)
    if (in.tier[g] < 2) order[offset[in.key[g]]++] = static_cast<Gpa>(g);

  // Within the partial bucket, pages already in fast memory stay first.
  uint64_t partial_fast = partial ? std::min<uint64_t>(quota, p.bucket_counts[0][partial]) : 0;
  uint64_t partial_slow = partial ? quota - partial_fast : 0;
  for (size_t i = order.size(); i-- > 0;) {  // hottest first, so promotions are in hotness order
    const Gpa g = order[i];
    const uint32_t k = in.key[g];
    if (k < floor_key || (k < p.threshold && k != partial)) break;
    bool hot = k >= p.threshold;
    if (!hot) {
      uint64_t& q = in.tier[g] == 0 ? partial_fast : partial_slow;
      if (q == 0) continue;
      --q;
      hot = true;
    }
    p.hot[g] = 1;
    ++p.hot_pages;
    if (in.tier[g] == 1) p.promote.push_back(g);
  }

  // Make room: free pages first, then fast pages from the coldest bucket up.
  uint64_t fast_used = 0;
  for (uint32_t k = 0; k <= in.max_key; ++k) fast_used += p.bucket_counts[0][k];
  const uint64_t after = fast_used + p.promote.size();
  uint64_t need = after > in.budget ? after - in.budget : 0;
  for (size_t g = 0; g < n && need > 0; ++g)
    if (in.tier[g] == 0 && !p.hot[g] && in.free[g]) {
      p.demote.push_back(static_cast<Gpa>(g));
      --need;
    }
  for (size_t i = 0; i < order.size() && need > 0; ++i) {
    const Gpa g = order[i];
    if (in.tier[g] == 0 && !p.hot[g] && !in.free[g]) {
      p.demote.push_back(g);
      --need;
    }
  }
  // Not enough to demote (everything in fast memory is hot): promote only the hottest that fit.
  if (need > 0) p.promote.resize(p.promote.size() - std::min<uint64_t>(need, p.promote.size()));
  return p;
}

}  // namespace vtmm::policy
