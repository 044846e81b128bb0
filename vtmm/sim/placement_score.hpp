#pragma once
// How well any design's placement matches the memory traffic, window by
// window, so that every design (not only those that classify pages, as
// vTMM's hot-set precision and recall do) reports a precision and recall.
//
// Each window is vTMM's default tracking window (600 ms, the paper's),
// scaled as the designs scale theirs (guest memory / 16 GiB, or 1 for a
// workload with fixed per-page rates). The window's truly hot pages are the
// fewest that drew `coverage` (90 %) of its LLC misses, capped at the fast
// allowance (policy::score_hotset's rule); the design's set is the pages it
// has on the fast tier when the window ends. recall = hot pages on fast /
// hot pages; precision = hot pages on fast / pages on fast. Only measured
// windows count, and only whole ones. The observer reads the simulator's
// per-page miss counts between batches: it changes no timing.
#include <cstdint>
#include <vector>

#include "vtmm/policy/hotness.hpp"

namespace vtmm::sim {

class Vm;

struct PlacementScore {
  double precision_sum = 0, recall_sum = 0;
  uint64_t windows = 0;  // windows scored (a window with no misses or no fast page is not)
};

class PlacementObserver {
 public:
  static constexpr double kWindowNs = 600e6;
  static constexpr double kCoverage = 0.9;
  static constexpr uint64_t kReferenceVmBytes = uint64_t{16} << 30;

  // The window for a VM of `memory_pages` (scaled unless the workload's pages have fixed rates).
  static double window_ns(uint64_t memory_pages, bool fixed_page_rates);

  void start(const Vm& vm);   // the measured phase begins
  void window(const Vm& vm);  // a window ends: scores it
  const PlacementScore& score() const { return score_; }

 private:
  std::vector<uint32_t> counts_;  // misses at the window's start, then the window's own
  policy::HotSet fast_;
  PlacementScore score_;
};

}  // namespace vtmm::sim
