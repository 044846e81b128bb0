#include "vtmm/policy/hotness.hpp"

#include <algorithm>
#include <bit>
#include <stdexcept>

#include "vtmm/policy/mlq.hpp"

namespace vtmm::policy {
namespace {

// Bits set in a 16-bit history. std::popcount compiles to a libgcc call on
// the x86-64 baseline (no POPCNT without -march), which was the single
// largest cost of a classification pass; this form is inline and vectorises.
inline uint32_t bits16(uint32_t x) {
  x = x - ((x >> 1) & 0x5555u);
  x = (x & 0x3333u) + ((x >> 2) & 0x3333u);
  x = (x + (x >> 4)) & 0x0f0fu;
  return (x + (x >> 8)) & 0x1fu;
}

}  // namespace

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

void Hotness::record(std::span<const uint8_t> seen, std::span<uint32_t> keys) {
  record(seen);
  const size_t n = std::min(keys.size(), hist_.size());
  if (kind_ != Kind::Temperature) {
    for (size_t g = 0; g < n; ++g) keys[g] = key(static_cast<Gpa>(g));
    return;
  }
  const History* h = hist_.data();
  for (size_t g = 0; g < n; ++g)  // key() inlined for the temperature case
    keys[g] = read_w_ * bits16(static_cast<uint16_t>(h[g].read & ~h[g].write)) + write_w_ * bits16(h[g].write);
}

uint32_t Hotness::key(Gpa g) const {
  const History& h = hist_[g];
  if (kind_ == Kind::Temperature) {
    // A written window counts as written (weight 3), not also as read.
    return read_w_ * bits16(static_cast<uint16_t>(h.read & ~h.write)) + write_w_ * bits16(h.write);
  }
  const uint16_t any = h.read | h.write;
  if (any == 0) return 0;
  return windows_ - static_cast<uint32_t>(std::countr_zero(any));  // seen in the newest window: max
}

void classify_window(Hotness& h, std::span<const uint8_t> seen, const Mechanisms& m, std::span<const uint8_t> ref,
                     std::span<const uint8_t> gpt, std::span<uint32_t> keys, std::span<uint8_t> tiers,
                     std::span<uint8_t> free) {
  h.record(seen, keys);
  m.page_tiers(tiers);
  const size_t n = std::min(tiers.size(), free.size());
  if (ref.size() < n || gpt.size() < n) {
    std::fill(free.begin(), free.end(), uint8_t{0});
    return;
  }
  for (size_t g = 0; g < n; ++g) free[g] = static_cast<uint8_t>(tiers[g] < 2 && !ref[g] && !gpt[g]);
}

Plan plan_placement(const PlanInput& in) {
  Plan p;
  const size_t n = in.key.size();
  if (in.max_key >= 64) throw std::invalid_argument("plan_placement: keys above 63");
  p.hot.assign(n, 0);
  for (size_t g = 0; g < n; ++g)
    if (in.tier[g] < 2) ++p.bucket_counts[in.tier[g]][in.key[g]];

  // Walk buckets from the hottest; key 0 (never seen) is never hot.
  constexpr uint32_t floor_key = 1;
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
  // Hot pages, hottest bucket first and within a bucket from the highest GPA
  // down (the partial bucket's quotas are spent in that order too, pages
  // already in fast memory first): one descending scan, per-key lists of the
  // slow hot pages to promote.
  const uint32_t lowest = partial ? partial : p.threshold;  // lowest key that holds hot pages
  uint64_t partial_fast = partial ? std::min<uint64_t>(quota, p.bucket_counts[0][partial]) : 0;
  uint64_t partial_slow = partial ? quota - partial_fast : 0;
  const uint64_t fast_taken = partial_fast;
  std::vector<std::vector<Gpa>> up(in.max_key + 1);
  for (size_t g = n; g-- > 0;) {
    const uint32_t k = in.key[g];
    const uint8_t t = in.tier[g];
    if (t >= 2 || k < lowest || k < floor_key) continue;
    if (k < p.threshold) {  // the partial bucket
      uint64_t& q = t == 0 ? partial_fast : partial_slow;
      if (q == 0) continue;
      --q;
    }
    p.hot[g] = 1;
    ++p.hot_pages;
    if (t == 1) up[k].push_back(static_cast<Gpa>(g));
  }
  for (uint32_t k = in.max_key + 1; k-- > 0;) p.promote.insert(p.promote.end(), up[k].begin(), up[k].end());

  // Make room: free pages first (ascending GPA), then fast pages from the
  // coldest bucket up (ascending GPA within a bucket). The buckets below
  // `cold_top` hold fewer non-hot fast pages than could be needed; of bucket
  // cold_top only the first `need` can be: one ascending scan collects them.
  uint64_t fast_used = 0;
  for (uint32_t k = 0; k <= in.max_key; ++k) fast_used += p.bucket_counts[0][k];
  const uint64_t after = fast_used + p.promote.size();
  uint64_t need = after > in.budget ? after - in.budget : 0;
  if (need > 0) {
    uint32_t cold_top = 0;
    for (uint64_t below = 0; cold_top <= in.max_key; ++cold_top) {
      const uint64_t hot_here = cold_top >= p.threshold ? p.bucket_counts[0][cold_top]
                                : cold_top == partial  ? fast_taken
                                                       : 0;
      below += p.bucket_counts[0][cold_top] - hot_here;
      if (below >= need) break;
    }
    std::vector<Gpa> free_first;
    std::vector<std::vector<Gpa>> down(std::min(cold_top, in.max_key) + 1);
    for (size_t g = 0; g < n; ++g) {
      if (in.tier[g] != 0 || p.hot[g]) continue;
      if (in.free[g]) {
        if (free_first.size() < need) free_first.push_back(static_cast<Gpa>(g));
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
  }
  // Not enough to demote (everything in fast memory is hot): promote only the hottest that fit.
  if (need > 0) p.promote.resize(p.promote.size() - std::min<uint64_t>(need, p.promote.size()));
  return p;
}

Plan plan_fixed_threshold(const PlanInput& in) {
  Plan p;
  const size_t n = in.key.size();
  if (in.max_key >= 64) throw std::invalid_argument("plan_fixed_threshold: keys above 63");
  if (in.fixed_threshold == 0) throw std::invalid_argument("plan_fixed_threshold: threshold 0");
  p.hot.assign(n, 0);
  p.threshold = in.fixed_threshold;
  std::vector<Gpa> cold;
  for (size_t g = n; g-- > 0;) {  // from the highest GPA down, the artifact's list order
    const uint8_t t = in.tier[g];
    if (t >= 2) continue;
    const uint32_t k = in.key[g];
    ++p.bucket_counts[t][k];
    if (k >= in.fixed_threshold) {
      p.hot[g] = 1;
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
