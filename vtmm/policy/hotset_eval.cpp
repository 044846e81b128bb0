#include "vtmm/policy/hotset_eval.hpp"

#include <algorithm>
#include <bit>
#include <functional>
#include <vector>

namespace vtmm::policy {
namespace {

constexpr uint32_t kBins = 33;

inline uint32_t bin_of(uint32_t count) { return static_cast<uint32_t>(std::bit_width(count)); }

// Counts below kExact are histogrammed exactly (nearly every page of a
// window has one); larger ones in log2 bins, resolved exactly only if the
// cut falls in theirs.
constexpr uint32_t kExact = 1024, kFirstWide = 11;  // bin_of(kExact)

struct Bins {
  std::array<uint64_t, kExact> exact{};             // pages per count
  std::array<uint64_t, kBins> pages{}, accesses{};  // bins kFirstWide.. only
  uint64_t total = 0;
};

// Four interleaved copies of the exact histogram: a run of pages with the
// same count would otherwise wait on the previous increment's store.
Bins bin_counts(std::span<const uint32_t> truth) {
  std::vector<uint32_t> sub(4 * kExact, 0);
  Bins b;
  const size_t n = truth.size();
  for (size_t g = 0; g < n; ++g) {
    const uint32_t v = truth[g];
    if (v < kExact) {
      ++sub[(g & 3) * kExact + v];
    } else {
      ++b.pages[bin_of(v)];
      b.accesses[bin_of(v)] += v;
    }
  }
  for (uint32_t v = 0; v < kExact; ++v) {
    b.exact[v] = uint64_t{sub[v]} + sub[kExact + v] + sub[2 * kExact + v] + sub[3 * kExact + v];
    b.total += b.exact[v] * v;
  }
  for (uint32_t k = kFirstWide; k < kBins; ++k) b.total += b.accesses[k];
  return b;
}

// The counts of wide bin `bin` as (count, pages) groups, highest count
// first: few pages have such counts, so they are gathered and sorted.
std::vector<std::pair<uint32_t, uint64_t>> groups_in_bin(std::span<const uint32_t> truth,
                                                         uint32_t bin) {
  const uint32_t lo = uint32_t{1} << (bin - 1),
                 hi = static_cast<uint32_t>((uint64_t{1} << bin) - 1);
  std::vector<uint32_t> vs;
  for (uint32_t v : truth)
    if (v >= lo && v <= hi) vs.push_back(v);
  std::sort(vs.begin(), vs.end(), std::greater<>());
  std::vector<std::pair<uint32_t, uint64_t>> out;
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

// The page-by-page walk of the sorted rule, double conversion included.
class Walk {
 public:
  Walk(double want, uint64_t cap) : want_(want), cap_(cap) {}
  // Walks `pages` pages of count `count`; false once the walk has stopped.
  bool group(uint32_t count, uint64_t pages) {
    // The walk stops before the i-th page for every i from the first one
    // that fails its test on (monotone in i): binary search for it.
    const auto stops = [&](uint64_t i) {
      return !(s_.take + i < cap_ && static_cast<double>(covered_ + i * count) < want_);
    };
    uint64_t lo = 0, hi = pages;  // the first stop is in [lo, hi], or there is none
    if (!stops(hi)) lo = hi;
    while (lo < hi) {
      const uint64_t mid = lo + (hi - lo) / 2;
      if (stops(mid))
        hi = mid;
      else
        lo = mid + 1;
    }
    if (lo > 0) {
      s_.at_cut = lo;  // a new count: every earlier page taken was above it
      s_.cut = count;
    }
    s_.take += lo;
    covered_ += lo * count;
    return lo == pages;
  }
  // A whole bin at once, when the walk would still go on after it (so it
  // took each of its pages) and pages are left below it.
  bool skip_whole(uint64_t pages, uint64_t accesses) {
    if (!(s_.take + pages < cap_ && static_cast<double>(covered_ + accesses) < want_)) return false;
    s_.take += pages;
    covered_ += accesses;
    return true;
  }
  const Stop& stop() const { return s_; }

 private:
  double want_;
  uint64_t cap_, covered_ = 0;
  Stop s_;
};

Stop walk(std::span<const uint32_t> truth, const Bins& b, double want, uint64_t cap) {
  uint64_t below = 0;  // pages with a count, in bins under the current one
  for (uint32_t v = 1; v < kExact; ++v) below += b.exact[v];
  for (uint32_t k = kFirstWide; k < kBins; ++k) below += b.pages[k];
  Walk w(want, cap);
  for (uint32_t bin = kBins - 1; bin >= kFirstWide; --bin) {
    if (b.pages[bin] == 0) continue;
    below -= b.pages[bin];
    if (below > 0 && w.skip_whole(b.pages[bin], b.accesses[bin])) continue;
    for (const auto& [count, pages] : groups_in_bin(truth, bin))
      if (!w.group(count, pages)) return w.stop();
    if (below == 0) return w.stop();
  }
  for (uint32_t v = kExact - 1; v >= 1; --v)
    if (b.exact[v] > 0 && !w.group(v, b.exact[v])) break;
  return w.stop();
}

uint64_t count_below(const HotSet& hot, size_t n) {
  uint64_t c = 0;
  const auto w = hot.words();
  for (size_t i = 0; i < n / 64; ++i) c += static_cast<uint64_t>(std::popcount(w[i]));
  if (n % 64)
    c += static_cast<uint64_t>(std::popcount(w[n / 64] & ((uint64_t{1} << (n % 64)) - 1)));
  return c;
}

// One past the GPA of the at_cut-th page at the cut count: the pages at the
// cut below it are in the true hot set (GPA order). Counts matches per
// stride first (a loop that vectorises), then finds the page in its stride.
size_t cut_end(std::span<const uint32_t> truth, uint32_t cut, uint64_t at_cut) {
  if (at_cut == 0) return 0;
  constexpr size_t kStride = 256;
  uint64_t before = 0;
  size_t base = 0;
  for (; base + kStride <= truth.size(); base += kStride) {
    uint32_t c = 0;
    for (size_t i = 0; i < kStride; ++i) c += truth[base + i] == cut ? 1u : 0u;
    if (before + c >= at_cut) break;
    before += c;
  }
  for (size_t g = base; g < truth.size(); ++g)
    if (truth[g] == cut && ++before == at_cut) return g + 1;
  return truth.size();  // not reached: at_cut pages at the cut exist
}

// Classified pages in the true hot set: hot pages above the cut, and those
// at it below cut_end. Visits only the hot set's pages.
uint64_t hot_and_true(std::span<const uint32_t> truth, const HotSet& hot, const Stop& stop) {
  const size_t end = cut_end(truth, stop.cut, stop.at_cut);
  const auto words = hot.words();
  uint64_t both = 0;
  for (size_t w = 0; w * 64 < truth.size(); ++w)
    for (uint64_t m = words[w]; m != 0; m &= m - 1) {
      const size_t g = w * 64 + static_cast<size_t>(std::countr_zero(m));
      if (g >= truth.size()) break;
      both += truth[g] > stop.cut || (truth[g] == stop.cut && g < end) ? 1 : 0;
    }
  return both;
}

}  // namespace

HotsetScore score_hotset(std::span<const uint32_t> truth, const HotSet& hot, double coverage,
                         uint64_t cap) {
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
  const uint64_t both = hot_and_true(truth, hot, stop);
  s.true_hot = stop.take;
  s.recall = static_cast<double>(both) / static_cast<double>(stop.take);
  s.precision = static_cast<double>(both) / static_cast<double>(classified);
  s.valid = true;
  return s;
}

void add_truth_histogram(std::span<const uint32_t> truth, std::span<const uint8_t> tiers,
                         TruthHistogram& h) {
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
