#pragma once
// Classification: a hotness key per guest page, bucket-sorted per tier, and
// the hot set chosen from the hottest bucket down.
//
// Temperature (vTMM): over the last `history` windows, 1 per window in which
// the page was read and 3 per window in which it was written (0..30 with the
// paper's 10 windows: 31 buckets). LRU (ablation): the key is how recently
// the page was seen (history - windows since last seen, 0 if not within the
// history). Keys are one byte: the largest is below 64 (vtmm.cpp checks).
#include <array>
#include <cstdint>
#include <span>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/types.hpp"
#include "vtmm/policy/page_bits.hpp"

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
  void record(std::span<const uint8_t> seen, std::span<uint8_t> keys);
  // record() for pages [first, first + n) only: the block kernel of
  // classify_window, which works on L1-sized blocks.
  void record_block(size_t first, size_t n, const uint8_t* seen, uint8_t* keys);
  uint32_t key(Gpa g) const;
  uint32_t max_key() const { return max_key_; }
  uint32_t windows() const { return windows_; }
  History history(Gpa g) const {
    return {static_cast<uint16_t>(hist_[g]), static_cast<uint16_t>(hist_[g] >> 16)};
  }
  size_t pages() const { return hist_.size(); }
  void resize(size_t pages) { hist_.assign(pages, 0); }

 private:
  void lru_block(uint32_t* h, size_t n, const uint8_t* seen, uint8_t* keys) const;

  Kind kind_;
  uint32_t windows_, read_w_, write_w_, max_key_;
  uint16_t mask_;
  // Per page, History's read bits in the low half and write bits in the
  // high half: one word shifts and counts both at once, and the loop over
  // pages vectorises.
  std::vector<uint32_t> hist_;
};

// Pages per tier (0 fast, 1 slow) and key; unbacked pages are not counted.
using BucketCounts = std::array<std::array<uint64_t, 64>, 2>;

// Counts keys by tier in one pass (what classify_window returns alongside).
BucketCounts count_buckets(std::span<const uint8_t> keys, std::span<const uint8_t> tiers);

// What classify_window counted: pages per tier and key, and the free pages
// in fast memory with key 0 (PlanInput::free_cold_fast).
struct WindowClasses {
  BucketCounts counts{};
  uint64_t free_cold_fast = 0;
};

// One window's classification input, in one pass over every page (blocks
// that stay in L1): records `seen` into the history and writes each page's
// key, its tier (Mechanisms::page_tiers, a pass of its own) and whether it is
// free: backed, yet the target of no scanned PTE (ref) and no page-table
// page (gpt). Empty ref: none is free (a tracker that does not read guest
// PTEs cannot tell). Returns the bucket counts of the keys written and the
// number of free fast pages with key 0. Every per-page span has the
// history's size.
WindowClasses classify_window(Hotness& h, std::span<const uint8_t> seen, const Mechanisms& m,
                              const PageBits& ref, const PageBits& gpt, std::span<uint8_t> keys,
                              std::span<uint8_t> tiers, std::span<uint8_t> free);

// One bit per guest page: the plan's hot set. A byte per page cost 10 MB and
// a pass of its own to clear at 10 M pages; words also let scoring skip
// empty stretches.
// A set of pages (the hot set): one bit per page.
using HotSet = PageBits;

inline constexpr uint64_t kUnknownCount = ~uint64_t{0};

// Per guest page, what the planner needs to know. tier: 0 fast, 1 slow, 2 not
// backed; every key <= max_key (< 64: the planners test eight keys per word).
struct PlanInput {
  std::span<const uint8_t> key;
  std::span<const uint8_t> tier;
  std::span<const uint8_t> free;  // backed but referenced by no PTE
  uint32_t max_key = 30;
  uint64_t budget = 0;           // fast pages this VM may use
  uint32_t fixed_threshold = 0;  // plan_fixed_threshold's threshold (plan_placement ignores it)
  BucketCounts counts{};         // of key and tier: classify_window's or count_buckets'
  // Pages with free set, in fast memory (tier 0) and key 0, if the caller
  // counted them (classify_window does): lets the demotion scan stop once it
  // has them all.
  uint64_t free_cold_fast = kUnknownCount;
};

// A caller that keeps one Plan across windows and passes it back reuses its
// lists' memory: at 10 M pages they hold millions of GPAs, and fresh pages
// for them cost more page faults than the planning itself.
struct Plan {
  std::vector<Gpa> promote, demote;  // demote first, then promote
  HotSet hot;                        // by GPA
  uint64_t hot_pages = 0;
  uint32_t threshold = 0;                       // lowest key taken whole into the hot set
  BucketCounts bucket_counts{};                 // in.counts
  std::vector<std::vector<Gpa>> demote_by_key;  // plan_placement's scratch, kept for its memory

  void reset(size_t pages, const BucketCounts& counts);  // empty, memory kept
};

// Hot set from the hottest bucket down until `budget` pages (pages already in
// fast memory first within the bucket that does not fit whole); every hot
// page not in fast memory is promoted; room is made by demoting free pages
// first, then the coldest fast pages.
Plan plan_placement(const PlanInput& in);
void plan_placement(const PlanInput& in, Plan& out);

// The fixed-threshold ablation as the authors' code has it
// (pre_migration_fix_threshold in the vTMM artifact, threshold 9): every page
// with key >= in.fixed_threshold is hot; the slow ones are promotion
// candidates, every fast page below the threshold a demotion candidate, and
// the shorter list's length pairs them up, each list taken from the highest
// GPA down. No hottest-first order and no fill of unused fast capacity: an
// exchange, capped only by the cold pages in fast memory.
Plan plan_fixed_threshold(const PlanInput& in);
void plan_fixed_threshold(const PlanInput& in, Plan& out);

}  // namespace vtmm::policy
