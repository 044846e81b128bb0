#pragma once
// Classification: a hotness key per guest page, bucket-sorted per tier, and
// the hot set chosen from the hottest bucket down.
//
// Temperature (vTMM): over the last `history` windows, 1 per window in which
// the page was read and 3 per window in which it was written (0..30 with the
// paper's 10 windows: 31 buckets). LRU (ablation): the key is how recently
// the page was seen (history - windows since last seen, 0 if not within the
// history).
#include <cstdint>
#include <span>

#include "vtmm/core/mechanisms.hpp"
#include <vector>

#include "vtmm/core/types.hpp"

namespace vtmm::policy {

struct History {
  uint16_t read = 0, write = 0;  // one bit per window, bit 0 = newest
};

class Hotness {
 public:
  enum class Kind { Temperature, Lru };
  Hotness(Kind kind, uint32_t windows, uint32_t read_weight, uint32_t write_weight);
  // Shifts every page's history by one window and records seen[g] (policy::Seen).
  void record(std::span<const uint8_t> seen);
  // The same, and every page's key after it into keys (one pass).
  void record(std::span<const uint8_t> seen, std::span<uint32_t> keys);
  uint32_t key(Gpa g) const;
  uint32_t max_key() const { return max_key_; }
  uint32_t windows() const { return windows_; }
  const History& history(Gpa g) const { return hist_[g]; }
  void resize(size_t pages) { hist_.assign(pages, History{}); }

 private:
  Kind kind_;
  uint32_t windows_, read_w_, write_w_, max_key_;
  uint16_t mask_;
  std::vector<History> hist_;
};

// One window's classification input, in flat passes over every page:
// records `seen` into the history and writes each page's key, its tier
// (Mechanisms::page_tiers) and whether it is free: backed, yet the target of
// no scanned PTE (ref) and no page-table page (gpt). Empty ref: none is free
// (a tracker that does not read guest PTEs cannot tell).
void classify_window(Hotness& h, std::span<const uint8_t> seen, const Mechanisms& m, std::span<const uint8_t> ref,
                     std::span<const uint8_t> gpt, std::span<uint32_t> keys, std::span<uint8_t> tiers,
                     std::span<uint8_t> free);

// Per guest page, what the planner needs to know. tier: 0 fast, 1 slow, 2 not backed.
struct PlanInput {
  std::span<const uint32_t> key;
  std::span<const uint8_t> tier;
  std::span<const uint8_t> free;  // backed but referenced by no PTE
  uint32_t max_key = 30;
  uint64_t budget = 0;             // fast pages this VM may use
  uint32_t fixed_threshold = 0;    // plan_fixed_threshold's threshold (plan_placement ignores it)
};

struct Plan {
  std::vector<Gpa> promote, demote;  // demote first, then promote
  std::vector<uint8_t> hot;          // by GPA
  uint64_t hot_pages = 0;
  uint32_t threshold = 0;  // lowest key taken whole into the hot set
  uint64_t bucket_counts[2][64] = {};
};

// Hot set from the hottest bucket down until `budget` pages (pages already in
// fast memory first within the bucket that does not fit whole); every hot
// page not in fast memory is promoted; room is made by demoting free pages
// first, then the coldest fast pages.
Plan plan_placement(const PlanInput& in);

// The fixed-threshold ablation as the authors' code has it
// (pre_migration_fix_threshold in the vTMM artifact, threshold 9): every page
// with key >= in.fixed_threshold is hot; the slow ones are promotion
// candidates, every fast page below the threshold a demotion candidate, and
// the shorter list's length pairs them up, each list taken from the highest
// GPA down. No hottest-first order and no fill of unused fast capacity: an
// exchange, capped only by the cold pages in fast memory.
Plan plan_fixed_threshold(const PlanInput& in);

}  // namespace vtmm::policy
