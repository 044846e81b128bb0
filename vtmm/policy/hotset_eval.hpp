#pragma once
// Hot-set precision and recall against the simulator's ground truth.
//
// The true hot set of a window is the smallest set of pages that, taken from
// the most accessed down, covers `coverage` (default 90 %) of the window's
// true accesses, capped at the fast budget: the pages that matter, not a
// fixed count padded with pages touched once. recall = |classified ∩ true| /
// |true|, precision = |classified ∩ true| / |classified|.
#include <cstdint>
#include <span>

namespace vtmm::policy {

struct HotsetScore {
  double precision = 0, recall = 0;
  uint64_t true_hot = 0;
  bool valid = false;  // false for a window with no accesses or no classified page
};

HotsetScore score_hotset(std::span<const uint32_t> truth, std::span<const uint8_t> hot, double coverage,
                         uint64_t cap);

}  // namespace vtmm::policy
