#include "vtmm/sim/placement_score.hpp"

#include "vtmm/policy/hotset_eval.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm::sim {

double PlacementObserver::window_ns(uint64_t memory_pages, bool fixed_page_rates) {
  if (fixed_page_rates) return kWindowNs;
  return kWindowNs * static_cast<double>(memory_pages * kPageSize) /
         static_cast<double>(kReferenceVmBytes);
}

void PlacementObserver::start(const Vm& vm) { counts_ = vm.truth_misses(); }

void PlacementObserver::window(const Vm& vm) {
  const std::vector<uint32_t>& misses = vm.truth_misses();
  const size_t n = misses.size();
  fast_.reset(n);
  for (size_t g = 0; g < n; ++g) {
    counts_[g] = misses[g] - counts_[g];
    if (vm.backed(static_cast<Gpa>(g)) && vm.tier_of(static_cast<Gpa>(g)) == Tier::Fast)
      fast_.set(g);
  }
  const policy::HotsetScore s =
      policy::score_hotset(counts_, fast_, kCoverage, vm.capacity(Tier::Fast));
  if (s.valid) {
    score_.precision_sum += s.precision;
    score_.recall_sum += s.recall;
    ++score_.windows;
  }
  counts_ = vm.truth_misses();
}

}  // namespace vtmm::sim
