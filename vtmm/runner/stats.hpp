#pragma once
// Descriptive statistics over repeats and the Mann-Whitney U test, for
// `vtmm compare` and anything else that reads repeated records.
//
// Mann-Whitney (Wilcoxon rank-sum) asks whether one sample tends to be larger
// than the other without assuming a distribution, which suits run times (skewed,
// a few outliers). The p-value is exact (the null distribution of U counted
// over all arrangements) when there are no ties and the samples are small; the
// normal approximation with tie and continuity correction otherwise.
#include <cstddef>
#include <vector>

namespace vtmm::runner {

struct Summary {
  size_t n = 0;
  double mean = 0, median = 0, stddev = 0, min = 0, max = 0;  // stddev: sample (n-1); 0 when n < 2
};

// Throws std::invalid_argument on an empty sample.
Summary summarize(std::vector<double> xs);

struct MannWhitney {
  double u = 0;  // U of the first sample: pairs (a, b) with a > b, ties count 1/2
  double z = 0;  // normal score (0 when the exact distribution was used)
  double p = 1;  // two-sided p-value
  bool exact = false;
  bool ties = false;
};

// Both samples must be non-empty (std::invalid_argument otherwise).
MannWhitney mann_whitney(const std::vector<double>& a, const std::vector<double>& b);

// The smallest two-sided p the test can give for sizes n1, n2 (two completely
// separated samples): 2 / C(n1+n2, n1), capped at 1. A test whose smallest p
// exceeds alpha cannot detect anything, so callers fall back to a ratio.
double min_attainable_p(size_t n1, size_t n2);

// Largest n1*n2 for which the exact distribution is used.
inline constexpr size_t kExactMaxCells = 2500;

}  // namespace vtmm::runner
