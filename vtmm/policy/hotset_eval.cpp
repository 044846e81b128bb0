#include "vtmm/policy/hotset_eval.hpp"

#include <algorithm>
#include <bit>
#include <functional>
#include <vector>

namespace vtmm::policy {
namespace {

constexpr uint32_t kBins = 33;

inline uint32_t bin_of(uint32_t count) { return static_cast<uint32_t>(std::bit_width(count)); }

// Pages and accesses per log2 bin. Four interleaved copies: a run of pages in
// the same bin would otherwise wait on the previous increment's store.
struct Bins {
  std::array<uint64_t, kBins> pages{}, accesses{};
  uint64_t total = 0;
};

Bins bin_counts(std::span<const uint32_t> truth) {
  uint64_t pages[4][kBins] = {}, accesses[4][kBins] = {};
  const size_t n = truth.size();
  size_t g = 0;
  for (; g + 4 <= n; g += 4)
    for (size_t j = 0; j < 4; ++j) {
      const uint32_t v = truth[g + j];
      ++pages[j][bin_of(v)];
      accesses[j][bin_of(v)] += v;
    }
  for (; g < n; ++g) ++pages[0][bin_of(truth[g])], accesses[0][bin_of(truth[g])] += truth[g];
  Bins b;
  for (uint32_t k = 0; k < kBins; ++k) {
    for (size_t j = 0; j < 4; ++j) b.pages[k] += pages[j][k], b.accesses[k] += accesses[j][k];
    b.total += b.accesses[k];
  }
  return b;
}

// The counts of bin `bin` as (count, pages) groups, highest count first. A
// narrow bin is counted densely; a wide one (counts of 2^16 and more, so few
// pages per window) is gathered and sorted.
std::vector<std::pair<uint32_t, uint64_t>> groups_in_bin(std::span<const uint32_t> truth, uint32_t bin) {
  const uint32_t lo = uint32_t{1} << (bin - 1), hi = static_cast<uint32_t>((uint64_t{1} << bin) - 1);
  std::vector<std::pair<uint32_t, uint64_t>> out;
  if (hi - lo < (1u << 16)) {
    std::vector<uint64_t> dense(hi - lo + 1, 0);
    for (uint32_t v : truth)
      if (v >= lo && v <= hi) ++dense[v - lo];
    for (uint32_t i = hi - lo + 1; i-- > 0;)
      if (dense[i] > 0) out.emplace_back(lo + i, dense[i]);
    return out;
  }
  std::vector<uint32_t> vs;
  for (uint32_t v : truth)
    if (v >= lo && v <= hi) vs.push_back(v);
  std::sort(vs.begin(), vs.end(), std::greater<>());
  for (uint32_t v : vs) {
    if (out.empty() || out.back().first != v) out.emplace_back(v, 0);
    ++out.back().second;
  }
  return out;
}

// Where the walk from the most accessed page down stops: `take` pages, the
// last at count `cut`, `at_cut` of them at that count.
struct Stop {
  uint64_t take = 0, at_cut = 0;
  uint32_t cut = 0;
};

// The walk bin by bin, skipping every bin it would pass whole (by then it
// still wants more and has room, so it took each of its pages), then page by
// page inside the bin where it stops: the page-by-page test of the sorted
// walk, double conversion included.
Stop walk(std::span<const uint32_t> truth, const Bins& b, double want, uint64_t cap) {
  uint32_t lowest = 1;
  while (lowest < kBins && b.pages[lowest] == 0) ++lowest;
  Stop s;
  uint64_t covered = 0;
  uint32_t bin = kBins - 1;
  for (; bin > lowest; --bin) {
    const uint64_t t = s.take + b.pages[bin], c = covered + b.accesses[bin];
    if (!(t < cap && static_cast<double>(c) < want)) break;
    s.take = t, covered = c;
  }
  for (const auto& [count, pages] : groups_in_bin(truth, bin)) {
    // The walk stops before the i-th page of this group for every i from the
    // first one that fails its test on (monotone in i): binary search for it.
    const auto stops = [&, count = count](uint64_t i) {
      return !(s.take + i < cap && static_cast<double>(covered + i * count) < want);
    };
    uint64_t lo = 0, hi = pages;  // the first stop is in [lo, hi], or there is none
    if (!stops(hi)) lo = hi;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (stops(mid)) hi = mid;
      else lo = mid + 1;
    }
    if (lo > 0) {
      s.at_cut = lo;  // a new count: every earlier page taken was above it
      s.cut = count;
    }
    s.take += lo;
    covered += lo * count;
    if (lo < pages) return s;
  }
  return s;
}

uint64_t count_below(const HotSet& hot, size_t n) {
  uint64_t c = 0;
  const auto w = hot.words();
  for (size_t i = 0; i < n / 64; ++i) c += static_cast<uint64_t>(std::popcount(w[i]));
  if (n % 64) c += static_cast<uint64_t>(std::popcount(w[n / 64] & ((uint64_t{1} << (n % 64)) - 1)));
  return c;
}

}  // namespace

HotsetScore score_hotset(std::span<const uint32_t> truth, const HotSet& hot, double coverage, uint64_t cap) {
  HotsetScore s;
  const size_t n = std::min(truth.size(), hot.size());
  truth = truth.first(n);
  const uint64_t classified = count_below(hot, n);
  if (classified == 0) return s;
  const Bins bins = bin_counts(truth);
  if (bins.total == 0) return s;
  const Stop stop = walk(truth, bins, coverage * static_cast<double>(bins.total), cap);
  if (stop.take == 0) return s;
  // Pages above the cut are in; pages at the cut fill the rest in GPA order (deterministic).
  uint64_t at_cut = stop.at_cut, both = 0;
  for (size_t g = 0; g < n; ++g) {
    const uint32_t v = truth[g];
    if (v < stop.cut) continue;
    bool in = v > stop.cut;
    if (!in && at_cut > 0) {
      --at_cut;
      in = true;
    }
    both += in && hot[g] ? 1 : 0;
  }
  s.true_hot = stop.take;
  s.recall = static_cast<double>(both) / static_cast<double>(stop.take);
  s.precision = static_cast<double>(both) / static_cast<double>(classified);
  s.valid = true;
  return s;
}

void add_truth_histogram(std::span<const uint32_t> truth, std::span<const uint8_t> tiers, TruthHistogram& h) {
  uint64_t sub[4][kBins] = {};
  const size_t n = std::min(truth.size(), tiers.size());
  size_t g = 0;
  for (; g + 4 <= n; g += 4)
    for (size_t j = 0; j < 4; ++j) sub[j][bin_of(truth[g + j])] += tiers[g + j] < 2 ? 1 : 0;
  for (; g < n; ++g) sub[0][bin_of(truth[g])] += tiers[g] < 2 ? 1 : 0;
  for (size_t t = n; t < tiers.size(); ++t) sub[0][0] += tiers[t] < 2 ? 1 : 0;  // no count: bin 0
  for (uint32_t k = 0; k < kBins; ++k) h[k] += sub[0][k] + sub[1][k] + sub[2][k] + sub[3][k];
}

}  // namespace vtmm::policy
