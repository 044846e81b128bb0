#pragma once
// Hot-set precision and recall against the simulator's ground truth.
//
// The true hot set of a window is the smallest set of pages that, taken from
// the most accessed down, covers `coverage` (default 90 %) of the window's
// true accesses, capped at the fast budget: the pages that matter, not a
// fixed count padded with pages touched once. Pages at the cut count fill
// the rest in GPA order. recall = |classified ∩ true| / |true|, precision =
// |classified ∩ true| / |classified|.
#include <array>
#include <cstdint>
#include <span>

#include "vtmm/policy/hotness.hpp"

namespace vtmm::policy {

struct HotsetScore {
  double precision = 0, recall = 0;
  uint64_t true_hot = 0;
  bool valid = false;  // false for a window with no accesses or no classified page
};

// O(pages): log2 bins of the counts find the bin holding the cut, and only
// that bin's counts are resolved exactly (the same take, cut and doubles as
// sorting every count would give).
HotsetScore score_hotset(std::span<const uint32_t> truth, const HotSet& hot, double coverage,
                         uint64_t cap);

// Pages per log2 bin of their count: bin 0 not accessed, bin b 2^(b-1)..2^b-1.
using TruthHistogram = std::array<uint64_t, 33>;

// Adds truth[g] of every page with tiers[g] < 2 (backed) to h.
void add_truth_histogram(std::span<const uint32_t> truth, std::span<const uint8_t> tiers,
                         TruthHistogram& h);

}  // namespace vtmm::policy
