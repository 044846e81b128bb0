#include "vtmm/runner/stats.hpp"

#include <algorithm>
#include <cmath>
#include <numeric>
#include <stdexcept>

namespace vtmm::runner {

Summary summarize(std::vector<double> xs) {
  if (xs.empty()) throw std::invalid_argument("summarize: empty sample");
  std::sort(xs.begin(), xs.end());
  Summary s;
  s.n = xs.size();
  s.min = xs.front();
  s.max = xs.back();
  s.mean = std::accumulate(xs.begin(), xs.end(), 0.0) / static_cast<double>(s.n);
  s.median = s.n % 2 ? xs[s.n / 2] : (xs[s.n / 2 - 1] + xs[s.n / 2]) / 2;
  if (s.n > 1) {
    double ss = 0;
    for (double x : xs) ss += (x - s.mean) * (x - s.mean);
    s.stddev = std::sqrt(ss / static_cast<double>(s.n - 1));
  }
  return s;
}

namespace {

// counts[u] = number of orderings of n1 a's and n2 b's whose U (a's ahead of
// b's) is u, by the recurrence N(u; m, n) = N(u - n; m - 1, n) + N(u; m, n - 1):
// the largest element is either an a (beating all n b's) or a b. Doubles: the
// counts reach C(n1+n2, n1), far beyond 64 bits near the size limit, and only
// their ratios matter.
std::vector<double> u_distribution(size_t n1, size_t n2) {
  // row[n][u] for the current m, n = 0..n2.
  std::vector<std::vector<double>> prev(n2 + 1), cur(n2 + 1);
  for (size_t n = 0; n <= n2; ++n) prev[n] = {1.0};  // m = 0: U is 0 in one way
  for (size_t m = 1; m <= n1; ++m) {
    cur[0] = {1.0};
    for (size_t n = 1; n <= n2; ++n) {
      std::vector<double> c(m * n + 1, 0.0);
      for (size_t u = 0; u < prev[n].size(); ++u) c[u + n] += prev[n][u];    // largest is an a
      for (size_t u = 0; u < cur[n - 1].size(); ++u) c[u] += cur[n - 1][u];  // largest is a b
      cur[n] = std::move(c);
    }
    std::swap(prev, cur);
  }
  return prev[n2];
}

}  // namespace

double min_attainable_p(size_t n1, size_t n2) {
  if (n1 == 0 || n2 == 0) return 1;
  // C(n1+n2, n1) as a product; grows fast, so stop once p is tiny.
  double c = 1;
  const size_t k = std::min(n1, n2), n = n1 + n2;
  for (size_t i = 1; i <= k; ++i) c = c * static_cast<double>(n - k + i) / static_cast<double>(i);
  return std::min(1.0, 2.0 / c);
}

MannWhitney mann_whitney(const std::vector<double>& a, const std::vector<double>& b) {
  if (a.empty() || b.empty()) throw std::invalid_argument("mann_whitney: empty sample");
  const size_t n1 = a.size(), n2 = b.size(), n = n1 + n2;
  // Midranks over the pooled sample; tie groups feed the variance correction.
  std::vector<std::pair<double, int>> pooled;
  pooled.reserve(n);
  for (double x : a) pooled.emplace_back(x, 0);
  for (double x : b) pooled.emplace_back(x, 1);
  std::sort(pooled.begin(), pooled.end(),
            [](const auto& l, const auto& r) { return l.first < r.first; });
  double rank_sum_a = 0, tie_term = 0;
  MannWhitney r;
  for (size_t i = 0; i < n;) {
    size_t j = i;
    while (j < n && pooled[j].first == pooled[i].first) ++j;
    const double t = static_cast<double>(j - i);
    const double midrank = (static_cast<double>(i + 1) + static_cast<double>(j)) / 2;
    for (size_t k = i; k < j; ++k)
      if (pooled[k].second == 0) rank_sum_a += midrank;
    if (t > 1) {
      r.ties = true;
      tie_term += t * t * t - t;
    }
    i = j;
  }
  const double d1 = static_cast<double>(n1), d2 = static_cast<double>(n2),
               dn = static_cast<double>(n);
  r.u = rank_sum_a - d1 * (d1 + 1) / 2;
  const double mu = d1 * d2 / 2;

  if (!r.ties && n1 * n2 <= kExactMaxCells) {
    const std::vector<double> counts = u_distribution(n1, n2);
    const double total = std::accumulate(counts.begin(), counts.end(), 0.0);
    const auto u = static_cast<size_t>(std::llround(r.u));  // whole without ties
    double lower = 0, upper = 0;
    for (size_t k = 0; k < counts.size(); ++k) {
      if (k <= u) lower += counts[k];
      if (k >= u) upper += counts[k];
    }
    r.exact = true;
    r.p = std::min(1.0, 2 * std::min(lower, upper) / total);
    return r;
  }
  const double var = d1 * d2 / 12 * ((dn + 1) - tie_term / (dn * (dn - 1)));
  if (var <= 0) {  // every value equal: no evidence of a difference
    r.p = 1;
    return r;
  }
  const double dev = std::max(0.0, std::fabs(r.u - mu) - 0.5);  // continuity correction
  r.z = (r.u > mu ? dev : -dev) / std::sqrt(var);
  r.p = std::min(1.0, std::erfc(std::fabs(r.z) / std::sqrt(2.0)));
  return r;
}

}  // namespace vtmm::runner
