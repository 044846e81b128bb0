#include "vtmm/policy/huge_pages.hpp"

#include <algorithm>

#include "vtmm/policy/mlq.hpp"

namespace vtmm::policy {
namespace {
constexpr uint32_t kRegionShift = kHugeShift - kPageShift;

// Per 2 MiB region: pages backed, hot by the split rule, in the plan's hot
// set, on the fast tier.
struct RegionCount {
  uint32_t backed = 0, hot = 0, planned = 0, fast = 0;
};

std::vector<RegionCount> count_regions(std::span<const uint8_t> keys,
                                       std::span<const uint8_t> tiers, const Plan& plan,
                                       uint32_t split_hot_key) {
  const Gpa n = static_cast<Gpa>(keys.size());
  std::vector<RegionCount> cnt((n + kPagesPerHuge - 1) / kPagesPerHuge);
  for (Gpa g = 0; g < n; ++g) {
    if (tiers[g] >= 2) continue;
    RegionCount& c = cnt[g >> kRegionShift];
    ++c.backed;
    c.hot += keys[g] >= split_hot_key ? 1 : 0;
    c.planned += plan.hot[g] ? 1 : 0;
    c.fast += tiers[g] == 0 ? 1 : 0;
  }
  return cnt;
}

// A 2 MiB mapping moves whole: only when most of it is in the hot set
// (promote) or out of it (demote); once per region. Demotions only make
// room: they stop once the plan's count of pages is reached (a whole 2 MiB
// mapping counts 512). Regions waiting to merge (unify != 2) leave the plan
// here. Returns the moves held back because most of a mapping disagreed.
uint64_t move_whole_mappings(Mechanisms& m, const std::vector<RegionCount>& cnt,
                             const std::vector<uint8_t>& unify, Plan& plan) {
  std::vector<uint8_t> listed(cnt.size(), 0);
  const uint64_t room_needed = plan.demote.size();
  uint64_t demoting = 0, held_back = 0;
  const auto keep = [&](Gpa g, bool promote) {
    const size_t r = g >> kRegionShift;
    if (unify[r] != 2) return false;  // added by the caller, in full
    if (!promote && demoting >= room_needed) return false;
    if (!m.huge().huge_mapped(g)) {
      demoting += promote ? 0 : 1;
      return true;
    }
    const RegionCount& c = cnt[r];
    const bool wants = promote ? 2 * c.planned >= c.backed : 2 * c.planned < c.backed;
    if (!wants) ++held_back;
    if (!wants || listed[r]) return false;
    listed[r] = 1;
    demoting += promote ? 0 : kPagesPerHuge;
    return true;
  };
  std::erase_if(plan.promote, [&](Gpa g) { return !keep(g, true); });
  std::fill(listed.begin(), listed.end(), 0);
  std::erase_if(plan.demote, [&](Gpa g) { return !keep(g, false); });
  return held_back;
}

}  // namespace

HugePages::HugePages(Params& p, uint32_t max_key, uint32_t hot_key) {
  const std::string mode = p.get<std::string>("huge", "platform");
  if (mode == "platform")
    mode_ = Mode::Platform;
  else if (mode == "4k")
    mode_ = Mode::Pages4k;
  else if (mode == "2m")
    mode_ = Mode::Pages2m;
  else if (mode == "hybrid")
    mode_ = Mode::Hybrid;
  else
    p.fail("huge", "must be \"platform\", \"4k\", \"2m\" or \"hybrid\"");
  // Defaults and their reasons: docs/huge-pages.md.
  split_hot_key_ = p.get<uint32_t>("split_hot_key", std::min(hot_key, max_key));
  split_min_hot_ = p.get<uint32_t>("split_min_hot_pages", 1);
  split_min_cold_ = p.get<uint32_t>("split_min_cold_pages", kPagesPerHuge / 8);
  merge_after_ = p.get<uint32_t>("merge_after_windows", 3);
  if (split_hot_key_ == 0 || split_hot_key_ > max_key)
    p.fail("split_hot_key", "must be 1..the classifier's largest key");
  if (split_min_hot_ == 0 || split_min_hot_ > kPagesPerHuge)
    p.fail("split_min_hot_pages", "must be 1..512");
  if (split_min_cold_ == 0 || split_min_cold_ > kPagesPerHuge)
    p.fail("split_min_cold_pages", "must be 1..512");
  if (merge_after_ == 0) p.fail("merge_after_windows", "must be at least 1");
}

std::vector<Mechanism> HugePages::needs() const {
  if (mode_ == Mode::Platform) return {};
  if (mode_ == Mode::Hybrid) return {Mechanism::HugeMappings, Mechanism::SubpageAdBits};
  return {Mechanism::HugeMappings};
}

void HugePages::attach(Mechanisms& m) {
  if (mode_ == Mode::Platform) return;
  m.huge().set_huge_backing(mode_ != Mode::Pages4k);
  const size_t regions = (m.guest_pages() + kPagesPerHuge - 1) / kPagesPerHuge;
  split_by_us_.assign(regions, 0);
  uniform_for_.assign(regions, 0);
}

void HugePages::coarsen(const Mechanisms& m, std::span<uint8_t> seen) const {
  if (mode_ != Mode::Pages2m) return;
  const Gpa n = static_cast<Gpa>(seen.size());
  for (Gpa head = 0; head < n; head += kPagesPerHuge) {
    if (!m.huge().huge_mapped(head)) continue;
    const Gpa end = std::min<Gpa>(n, head + kPagesPerHuge);
    uint8_t most = 0;
    for (Gpa g = head; g < end; ++g) most = std::max(most, seen[g]);
    std::fill(seen.begin() + head, seen.begin() + end, most);
  }
}

void HugePages::adjust(Mechanisms& m, std::span<const uint8_t> keys, std::span<const uint8_t> tiers,
                       Plan& plan) {
  if (mode_ != Mode::Pages2m && mode_ != Mode::Hybrid) return;
  const Gpa n = static_cast<Gpa>(keys.size());
  const size_t regions = (n + kPagesPerHuge - 1) / kPagesPerHuge;
  const std::vector<RegionCount> cnt = count_regions(keys, tiers, plan, split_hot_key_);
  const auto mixed = [&](const RegionCount& c) {
    return c.hot >= split_min_hot_ && c.backed - c.hot >= split_min_cold_;
  };
  // Per region, the tier a pending merge wants it on (2: none).
  std::vector<uint8_t> unify(regions, 2);
  if (mode_ == Mode::Hybrid) {
    split_.clear();
    merge_.clear();
    const bool fast_short = !plan.demote.empty();  // fast memory must give room this round
    for (size_t r = 0; r < regions; ++r) {
      const RegionCount& c = cnt[r];
      const Gpa head = static_cast<Gpa>(r << kRegionShift);
      if (c.backed == 0) continue;
      if (m.huge().huge_mapped(head)) {
        // Split a mixed mapping when splitting changes placement: in slow
        // memory its hot part can be promoted alone; in fast memory its cold
        // part can be demoted alone once room is short.
        const bool in_slow = c.fast == 0;
        if (mixed(c) && (in_slow || fast_short)) split_.push_back(head);
        continue;
      }
      if (!split_by_us_[r]) continue;
      uniform_for_[r] =
          mixed(c) ? 0 : static_cast<uint8_t>(std::min<uint32_t>(uniform_for_[r] + 1, 255));
      if (uniform_for_[r] < merge_after_) continue;
      // Uniform long enough: hot regions belong in fast memory, cold ones in
      // slow; once all its pages are there, merge.
      const uint8_t want = c.backed - c.hot < split_min_cold_ ? 0 : 1;
      const uint32_t there = want == 0 ? c.fast : c.backed - c.fast;
      if (there == c.backed)
        merge_.push_back(head);
      else
        unify[r] = want;
    }
    const uint32_t split = m.huge().split_huge(split_);
    const uint32_t merged = m.huge().merge_huge(merge_);
    splits_ += split;
    merges_ += merged;
    for (Gpa head : split_)
      if (!m.huge().huge_mapped(head)) {
        split_by_us_[head >> kRegionShift] = 1;
        uniform_for_[head >> kRegionShift] = 0;
      }
    for (Gpa head : merge_)
      if (m.huge().huge_mapped(head)) split_by_us_[head >> kRegionShift] = 0;
  }
  held_back_ += move_whole_mappings(m, cnt, unify, plan);
  // Regions waiting to merge move towards their tier only, in full.
  for (Gpa g = 0; g < n; ++g) {
    const uint8_t want = unify[g >> kRegionShift];
    if (want == 2 || tiers[g] >= 2 || tiers[g] == want) continue;
    (want == 0 ? plan.promote : plan.demote).push_back(g);
  }
}

void HugePages::report(Json& out) const {
  static constexpr const char* kNames[] = {"platform", "4k", "2m", "hybrid"};
  out["huge_mode"] = kNames[static_cast<int>(mode_)];
  out["huge_splits"] = splits_;
  out["huge_merges"] = merges_;
  out["huge_plan_pages_held_back"] = held_back_;
  out["split_hot_key"] = split_hot_key_;
}

}  // namespace vtmm::policy
