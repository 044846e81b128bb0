// YCSB's key choice (workloads/ycsb.hpp: the guest agent's YCSB client and
// the simulator's key-value workloads), checked on the host: the
// distributions' shapes against their closed forms, determinism by seed.
#include <gtest/gtest.h>

#include <algorithm>
#include <cmath>
#include <functional>
#include <vector>

#include "workloads/ycsb.hpp"

namespace ycsb_keys_test {

using namespace vtmm;
namespace ycsb = vtmm::workloads::ycsb;

// Per-key hit counts sorted high to low.
std::vector<uint64_t> draw(const ycsb::KeyChooser& c, uint64_t records, uint64_t n, uint64_t seed) {
  Rng rng(seed);
  std::vector<uint64_t> hits(records);
  for (uint64_t i = 0; i < n; ++i) {
    const uint64_t k = c.next(rng);
    EXPECT_LT(k, records);
    if (k < records) ++hits[k];
  }
  return hits;
}

double top_share(std::vector<uint64_t> h, size_t top, uint64_t n) {
  std::sort(h.begin(), h.end(), std::greater<>());
  double s = 0;
  for (size_t i = 0; i < top; ++i) s += static_cast<double>(h[i]);
  return s / static_cast<double>(n);
}

TEST(YcsbKeys, ScrambledZetanIsZetaOfTenBillion) {
  // Euler-Maclaurin: the direct sum to m, then the integral and end corrections to n.
  const double th = ycsb::kZipfianConstant, m = 1e6, n = 1e10;
  auto f = [&](double x) { return std::pow(x, -th); };
  const double z = ycsb::zeta(static_cast<uint64_t>(m), th) +
                   (std::pow(n, 1 - th) - std::pow(m, 1 - th)) / (1 - th) - f(m) / 2 + f(n) / 2 +
                   th / 12 * (std::pow(m, -th - 1) - std::pow(n, -th - 1));
  EXPECT_NEAR(z, ycsb::kScrambledZetan, 1e-6);
}

TEST(YcsbKeys, ZipfianRanksFollowOneOverRankToTheTheta) {
  const uint64_t items = 1000, n = 1'000'000;
  const ycsb::Zipfian z(items, 0.99);
  const double zn = ycsb::zeta(items, 0.99);
  Rng rng(7);
  std::vector<uint64_t> h(items);
  for (uint64_t i = 0; i < n; ++i) ++h[z.next(rng)];
  // Ranks 0 and 1 are exact in Gray's sampler; the rest approximate the law.
  EXPECT_NEAR(double(h[0]) / double(n), 1 / zn, 0.003);
  EXPECT_NEAR(double(h[1]) / double(n), std::pow(0.5, 0.99) / zn, 0.003);
  double first100 = 0;
  for (int i = 0; i < 100; ++i) first100 += double(h[i]);
  EXPECT_NEAR(first100 / n, ycsb::zeta(100, 0.99) / zn, 0.02);
  EXPECT_GT(h[0], h[9]);
  EXPECT_GT(h[9], h[99]);
}

TEST(YcsbKeys, ScrambledZipfianIsSkewedAndSpread) {
  const uint64_t records = 1000, n = 1'000'000;
  const ycsb::KeyChooser c(ycsb::Distribution::Zipfian, records);
  const auto h = draw(c, records, n, 1);
  // Rank 0 of the 10^10-item zipfian lands on one key: ~1/zeta(10^10) = 3.8 %, plus its fold-in
  // share.
  const double top = top_share(h, 1, n), top10pct = top_share(h, records / 10, n);
  EXPECT_GT(top, 0.036);
  EXPECT_LT(top, 0.045);
  EXPECT_GT(top10pct, 0.25);
  EXPECT_LT(top10pct, 0.40);
  // Scrambled: the hottest key is not the first record, and the hot keys are not clustered at the
  // start.
  const auto hottest = std::max_element(h.begin(), h.end()) - h.begin();
  EXPECT_EQ(hottest, static_cast<long>(ycsb::fnvhash64(0) % records));
  double first_tenth = 0;
  for (size_t i = 0; i < records / 10; ++i) first_tenth += double(h[i]);
  EXPECT_LT(first_tenth / n, 0.2);
  // Every key is drawn at least once (the hashed tail covers the space).
  EXPECT_GT(*std::min_element(h.begin(), h.end()), 0u);
}

TEST(YcsbKeys, UniformIsFlat) {
  const uint64_t records = 1000, n = 1'000'000;
  const auto h = draw(ycsb::KeyChooser(ycsb::Distribution::Uniform, records), records, n, 2);
  EXPECT_LT(top_share(h, 1, n), 0.0015);
  EXPECT_NEAR(top_share(h, records / 10, n), 0.1, 0.01);
}

TEST(YcsbKeys, LatestFavoursTheNewestRecord) {
  const uint64_t records = 1000, n = 1'000'000;
  const auto h = draw(ycsb::KeyChooser(ycsb::Distribution::Latest, records), records, n, 3);
  EXPECT_NEAR(double(h[records - 1]) / double(n), 1 / ycsb::zeta(records, 0.99), 0.003);
  EXPECT_GT(h[records - 1], h[records - 2]);
  EXPECT_GT(h[records - 10], h[0]);
}

TEST(YcsbKeys, DeterministicBySeed) {
  const ycsb::KeyChooser c(ycsb::Distribution::Zipfian, 5000);
  auto seq = [&](uint64_t seed) {
    Rng r(seed);
    std::vector<uint64_t> v(1000);
    for (auto& k : v) k = c.next(r);
    return v;
  };
  EXPECT_EQ(seq(11), seq(11));
  EXPECT_NE(seq(11), seq(12));
}

TEST(YcsbKeys, WorkloadsAndBadNames) {
  EXPECT_EQ(ycsb::read_proportion('a'), 0.5);
  EXPECT_EQ(ycsb::read_proportion('b'), 0.95);
  EXPECT_EQ(ycsb::read_proportion('c'), 1.0);
  EXPECT_THROW(ycsb::read_proportion('d'), std::invalid_argument);
  EXPECT_THROW(ycsb::parse_distribution("pareto"), std::invalid_argument);
  EXPECT_THROW(ycsb::KeyChooser(ycsb::Distribution::Uniform, 0), std::invalid_argument);
  EXPECT_NE(ycsb::key_name(1), ycsb::key_name(2));
  EXPECT_EQ(ycsb::key_name(1).rfind("user", 0), 0u);
}

// The paper's hotspot: 80 % of draws on 20 % of the records, those records
// a seeded shuffle (not the first loaded), the same for the same seed.
TEST(YcsbKeys, HotspotSendsEightyPercentToAShuffledFifth) {
  const uint64_t records = 10000, n = 400000;
  const ycsb::KeyChooser c(ycsb::Distribution::Hotspot, records, 5);
  const auto hits = draw(c, records, n, 9);
  EXPECT_NEAR(top_share(hits, records / 5, n), 0.8, 0.01);
  uint64_t first_fifth = 0;
  for (uint64_t k = 0; k < records / 5; ++k) first_fifth += hits[k];
  EXPECT_LT(static_cast<double>(first_fifth) / n, 0.4)
      << "the hot records are shuffled over the load order";
  EXPECT_EQ(draw(ycsb::KeyChooser(ycsb::Distribution::Hotspot, records, 5), records, 1000, 9),
            draw(ycsb::KeyChooser(ycsb::Distribution::Hotspot, records, 5), records, 1000, 9));
  EXPECT_NE(draw(ycsb::KeyChooser(ycsb::Distribution::Hotspot, records, 6), records, 1000, 9),
            draw(ycsb::KeyChooser(ycsb::Distribution::Hotspot, records, 5), records, 1000, 9));
  EXPECT_EQ(ycsb::parse_distribution("hotspot"), ycsb::Distribution::Hotspot);
}

}  // namespace ycsb_keys_test
