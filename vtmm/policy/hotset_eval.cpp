#include "vtmm/policy/hotset_eval.hpp"

#include <algorithm>
#include <map>
#include <vector>

namespace vtmm::policy {

HotsetScore score_hotset(std::span<const uint32_t> truth, std::span<const uint8_t> hot, double coverage,
                         uint64_t cap) {
  HotsetScore s;
  const size_t n = std::min(truth.size(), hot.size());
  uint64_t total = 0, classified = 0;
  for (size_t g = 0; g < n; ++g) {
    total += truth[g];
    classified += hot[g] ? 1 : 0;
  }
  if (total == 0 || classified == 0) return s;
  // Threshold count: walk pages by access count, descending, until the coverage is reached.
  std::vector<uint32_t> counts;
  counts.reserve(n);
  for (size_t g = 0; g < n; ++g)
    if (truth[g] > 0) counts.push_back(truth[g]);
  std::sort(counts.begin(), counts.end(), std::greater<>());
  const double want = coverage * static_cast<double>(total);
  uint64_t covered = 0, take = 0;
  while (take < counts.size() && take < cap && static_cast<double>(covered) < want) covered += counts[take++];
  if (take == 0) return s;
  const uint32_t cut = counts[take - 1];
  // Pages above the cut are in; pages at the cut fill the rest in GPA order (deterministic).
  uint64_t above = 0;
  for (uint64_t i = 0; i < take; ++i) above += counts[i] > cut ? 1 : 0;
  uint64_t at_cut = take - above, both = 0;
  for (size_t g = 0; g < n; ++g) {
    bool in = truth[g] > cut;
    if (!in && truth[g] == cut && at_cut > 0) {
      --at_cut;
      in = true;
    }
    if (in && hot[g]) ++both;
  }
  s.true_hot = take;
  s.recall = static_cast<double>(both) / static_cast<double>(take);
  s.precision = static_cast<double>(both) / static_cast<double>(classified);
  s.valid = true;
  return s;
}

}  // namespace vtmm::policy
