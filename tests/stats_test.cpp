// Descriptive statistics and the Mann-Whitney U test against values worked
// out by hand (and the textbook example that statistics packages document).
#include "vtmm/runner/stats.hpp"

#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>

namespace stats_test {

using vtmm::runner::mann_whitney;
using vtmm::runner::min_attainable_p;
using vtmm::runner::summarize;

TEST(Stats, SummaryOddAndEven) {
  const auto s = summarize({4, 1, 3, 2, 10});
  EXPECT_EQ(s.n, 5u);
  EXPECT_DOUBLE_EQ(s.mean, 4);
  EXPECT_DOUBLE_EQ(s.median, 3);
  EXPECT_DOUBLE_EQ(s.min, 1);
  EXPECT_DOUBLE_EQ(s.max, 10);
  EXPECT_NEAR(s.stddev, std::sqrt(12.5), 1e-12);  // squares 9+0+1+4+36 = 50 over n-1 = 4
  EXPECT_DOUBLE_EQ(summarize({1, 2, 3, 4}).median, 2.5);
}

TEST(Stats, SummaryOfOneHasNoSpread) {
  const auto s = summarize({7});
  EXPECT_DOUBLE_EQ(s.median, 7);
  EXPECT_DOUBLE_EQ(s.stddev, 0);
  EXPECT_THROW(summarize({}), std::invalid_argument);
}

TEST(Stats, ExactSeparatedSamples) {
  // Fully separated 3 vs 3: U = 0, and 2 of the C(6,3) = 20 orderings are as extreme.
  const auto r = mann_whitney({1, 2, 3}, {4, 5, 6});
  EXPECT_TRUE(r.exact);
  EXPECT_FALSE(r.ties);
  EXPECT_DOUBLE_EQ(r.u, 0);
  EXPECT_NEAR(r.p, 0.1, 1e-12);
  EXPECT_DOUBLE_EQ(mann_whitney({4, 5, 6}, {1, 2, 3}).u, 9);
}

TEST(Stats, ExactTextbookExample) {
  // Two small samples used in statistics packages' documentation:
  // U1 = 17, exact two-sided p = 0.1111 (14 of 126 orderings at least as extreme each side).
  const auto r = mann_whitney({19, 22, 16, 29, 24}, {20, 11, 17, 12});
  EXPECT_TRUE(r.exact);
  EXPECT_DOUBLE_EQ(r.u, 17);
  EXPECT_NEAR(r.p, 14.0 / 126.0, 1e-12);
}

TEST(Stats, NormalApproximationWithTies) {
  // a = 1 2 2, b = 2 3 3: midranks 1, 3, 3 | 3, 5.5, 5.5; U = 7 - 6 = 1, mean 4.5.
  // Tie groups of 3 and 2: variance 9/12 * (7 - (24 + 6) / 30) = 4.5.
  // z = -(3.5 - 0.5) / sqrt(4.5) = -sqrt(2), p = erfc(1).
  const auto r = mann_whitney({1, 2, 2}, {2, 3, 3});
  EXPECT_FALSE(r.exact);
  EXPECT_TRUE(r.ties);
  EXPECT_DOUBLE_EQ(r.u, 1);
  EXPECT_NEAR(r.z, -std::sqrt(2.0), 1e-12);
  EXPECT_NEAR(r.p, std::erfc(1.0), 1e-12);
}

TEST(Stats, LargeSamplesUseTheNormalApproximation) {
  std::vector<double> a, b;
  for (int i = 0; i < 60; ++i) {
    a.push_back(i);
    b.push_back(i + 0.5);
  }
  const auto r = mann_whitney(a, b);  // 3600 cells > the exact limit
  EXPECT_FALSE(r.exact);
  // U = sum over a_i of b's below it = 0 + 1 + ... + 59 = 1770; mean 1800; var 3600 * 121 / 12.
  EXPECT_DOUBLE_EQ(r.u, 1770);
  const double z = -(30 - 0.5) / std::sqrt(3600.0 * 121 / 12);
  EXPECT_NEAR(r.z, z, 1e-12);
  EXPECT_NEAR(r.p, std::erfc(std::fabs(z) / std::sqrt(2.0)), 1e-12);
}

TEST(Stats, ExactAndNormalAgreeRoughlyNearTheLimit) {
  std::vector<double> a, b;
  for (int i = 0; i < 20; ++i) {
    a.push_back(i * 2.0);
    b.push_back(i * 2.0 + 7.1);
  }
  const auto exact = mann_whitney(a, b);
  ASSERT_TRUE(exact.exact);
  a.push_back(a.back());  // one tie forces the approximation
  b.push_back(b.back() + 0.25);
  const auto approx = mann_whitney(a, b);
  ASSERT_FALSE(approx.exact);
  EXPECT_NEAR(std::log10(exact.p), std::log10(approx.p), 0.5);
}

TEST(Stats, IdenticalSamplesGiveNoEvidence) {
  const auto r = mann_whitney({5, 5, 5, 5}, {5, 5, 5, 5});
  EXPECT_DOUBLE_EQ(r.p, 1);
  const auto s = mann_whitney({1, 2, 3, 4, 5}, {1, 2, 3, 4, 5});
  EXPECT_TRUE(s.ties);
  EXPECT_NEAR(s.p, 1, 1e-12);
}

TEST(Stats, MinimumAttainableP) {
  EXPECT_NEAR(min_attainable_p(3, 3), 0.1, 1e-12);
  EXPECT_NEAR(min_attainable_p(4, 4), 2.0 / 70, 1e-12);
  EXPECT_NEAR(min_attainable_p(1, 1), 1, 1e-12);
  EXPECT_DOUBLE_EQ(min_attainable_p(0, 5), 1);
  EXPECT_LT(min_attainable_p(10, 10), 1e-4);
}

}  // namespace stats_test
