#pragma once
// YCSB's key choice, written from the published rules (Cooper et al., SoCC'10;
// the zipfian sampler is Gray et al., "Quickly generating billion-record
// synthetic databases", SIGMOD'94, as YCSB's core workloads use it):
//
//  - zipfian: rank r in [0, n) with P(r) ~ 1/(r+1)^theta, theta = 0.99.
//  - scrambled zipfian (YCSB's default "zipfian" request distribution): a
//    zipfian rank over a fixed space of 10^10 items, FNV-1a-64 hashed and
//    taken modulo the record count, so the popular keys are spread over the
//    key space instead of clustered at its start. YCSB does not compute
//    zeta(10^10, 0.99); it uses the constant below (tests re-derive it).
//  - latest: zipfian over recency, the newest record most popular.
//  - uniform.
//
// Header-only so that the host's unit test checks the very code the guest runs.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>

#include "vtmm/core/rng.hpp"

namespace vtmm::ycsb {

inline constexpr double kZipfianConstant = 0.99;
inline constexpr uint64_t kScrambledItems = 10'000'000'000ull;
inline constexpr double kScrambledZetan = 26.46902820178302;  // zeta(10^10, 0.99)

// YCSB's 64-bit FNV variant: offset basis 0xCBF29CE484222325, prime
// 1099511628211, eight octets low byte first, XOR then multiply; the result is
// made non-negative as a Java long would be by Math.abs.
inline uint64_t fnv64(uint64_t v) {
  uint64_t h = 0xCBF29CE484222325ull;
  for (int i = 0; i < 8; ++i) {
    h ^= v & 0xff;
    v >>= 8;
    h *= 1099511628211ull;
  }
  const auto s = static_cast<int64_t>(h);
  return s < 0 ? static_cast<uint64_t>(-(s + 1)) + 1 : static_cast<uint64_t>(s);
}

// zeta(n, theta) = sum_{i=1..n} 1/i^theta, summed directly (n up to ~10^8).
inline double zeta(uint64_t n, double theta) {
  double s = 0;
  for (uint64_t i = 1; i <= n; ++i) s += 1.0 / std::pow(static_cast<double>(i), theta);
  return s;
}

// Gray et al.'s inverse-transform sampler for ranks [0, n).
class Zipfian {
 public:
  Zipfian(uint64_t n, double theta, double zetan) : n_(n), theta_(theta), zetan_(zetan) {
    if (n < 2) throw std::invalid_argument("zipfian needs at least 2 items");
    alpha_ = 1.0 / (1.0 - theta);
    const double zeta2 = 1.0 + std::pow(0.5, theta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(n), 1.0 - theta)) / (1.0 - zeta2 / zetan);
    half_pow_ = std::pow(0.5, theta);
  }
  Zipfian(uint64_t n, double theta) : Zipfian(n, theta, zeta(n, theta)) {}

  uint64_t next(Rng& rng) const {
    const double u = rng.uniform();
    const double uz = u * zetan_;
    if (uz < 1.0) return 0;
    if (uz < 1.0 + half_pow_) return 1;
    const auto r =
        static_cast<uint64_t>(static_cast<double>(n_) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    return r < n_ ? r : n_ - 1;
  }
  uint64_t items() const { return n_; }

 private:
  uint64_t n_;
  double theta_, zetan_, alpha_ = 0, eta_ = 0, half_pow_ = 0;
};

enum class Distribution { Zipfian, Uniform, Latest };

inline Distribution parse_distribution(const std::string& s) {
  if (s == "zipfian") return Distribution::Zipfian;
  if (s == "uniform") return Distribution::Uniform;
  if (s == "latest") return Distribution::Latest;
  throw std::invalid_argument("distribution must be zipfian, uniform or latest (not '" + s + "')");
}

// Record indexes in [0, records) under one of YCSB's request distributions.
// Records are loaded in index order, so "latest" favours the highest index.
class KeyChooser {
 public:
  KeyChooser(Distribution d, uint64_t records)
      : d_(d),
        records_(records),
        zipf_(d == Distribution::Latest
                  ? Zipfian(records < 2 ? 2 : records, kZipfianConstant)
                  : Zipfian(kScrambledItems, kZipfianConstant, kScrambledZetan)) {
    if (records == 0) throw std::invalid_argument("records must be > 0");
  }
  uint64_t next(Rng& rng) const {
    switch (d_) {
      case Distribution::Uniform:
        return rng.below(records_);
      case Distribution::Zipfian:
        return fnv64(zipf_.next(rng)) % records_;
      case Distribution::Latest: {
        const uint64_t back = zipf_.next(rng);
        return back < records_ ? records_ - 1 - back : 0;
      }
    }
    return 0;
  }

 private:
  Distribution d_;
  uint64_t records_;
  Zipfian zipf_;
};

// YCSB core workloads' read/update mix (no inserts, scans or read-modify-writes).
inline double read_proportion(char workload) {
  switch (workload) {
    case 'a':
      return 0.5;
    case 'b':
      return 0.95;
    case 'c':
      return 1.0;
  }
  throw std::invalid_argument(std::string("workload must be a, b or c (not '") + workload + "')");
}

// YCSB's key name for record i ("user" + the hashed index: keys spread over
// Redis's hash table rather than arriving in order).
inline std::string key_name(uint64_t i) { return "user" + std::to_string(fnv64(i)); }

}  // namespace vtmm::ycsb
