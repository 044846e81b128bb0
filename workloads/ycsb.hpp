#pragma once
// YCSB's request generators (Cooper et al., SoCC'10; the reference is the
// Java code of brianfrankcooper/YCSB, core/src/main/java/site/ycsb/generator),
// re-implemented over the project's Rng. One header for the simulator's
// key-value workloads (redis-ycsb, memcached) and the guest agent's YCSB
// client (agent/ycsb_client.cpp), so both draw keys by the same code.
//
//  - Zipfian: Gray et al.'s inverse-transform sampler ("Quickly generating
//    billion-record synthetic databases", SIGMOD'94), ranks [0, n) with
//    P(r) ~ 1/(r+1)^theta, theta = 0.99.
//  - scrambled zipfian (YCSB's default "zipfian" request distribution): a
//    zipfian rank over a fixed space of 10^10 items, hashed (FNV-1a 64) and
//    taken modulo the record count, so the popular keys are spread over the
//    key space. YCSB does not compute zeta(10^10, 0.99); it uses the constant
//    below (tests re-derive it).
//  - latest: zipfian over recency, the newest record most popular.
//  - hotspot (HotspotIntegerGenerator): hot_op_fraction of the draws go
//    uniformly to the first hot_set_fraction of the records, the rest
//    uniformly to the remainder.
//  - uniform.
// key_name: CoreWorkload.buildKeyName with hashed (not ordered) inserts.
#include <cmath>
#include <cstdint>
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "vtmm/core/fnv.hpp"
#include "vtmm/core/rng.hpp"

namespace vtmm::workloads::ycsb {

inline constexpr double kZipfianConstant = 0.99;
inline constexpr uint64_t kScrambledItems = 10'000'000'000ULL;
inline constexpr double kScrambledZetan = 26.46902820178302;  // zeta(10^10, 0.99)

// YCSB Utils.fnvhash64: FNV-1a over the 8 bytes of a long, then Math.abs.
inline uint64_t fnvhash64(uint64_t val) {
  uint64_t h = fnv1a64_le(val);
  if (h >> 63) h = ~h + 1;           // Math.abs on a Java long
  return h & 0x7fffffffffffffffULL;  // Long.MIN_VALUE stays non-negative here
}

// "user" + fnvhash64(keynum): up to 23 characters.
inline std::string key_name(uint64_t keynum) { return "user" + std::to_string(fnvhash64(keynum)); }

// zeta(n, theta) = sum_{i=1..n} 1/i^theta, summed directly (n up to ~10^8).
inline double zeta(uint64_t n, double theta) {
  double s = 0;
  for (uint64_t i = 1; i <= n; ++i) s += 1.0 / std::pow(static_cast<double>(i), theta);
  return s;
}

// Gray et al.'s inverse-transform sampler for ranks [0, n).
class Zipfian {
 public:
  Zipfian(uint64_t n, double theta, double zetan) : n_(n), zetan_(zetan) {
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
  double zetan_, alpha_ = 0, eta_ = 0, half_pow_ = 0;
};

// YCSB's ScrambledZipfianGenerator over `items` records.
class ScrambledZipfian {
 public:
  explicit ScrambledZipfian(uint64_t items) : items_(items) {}
  uint64_t next(Rng& rng) const { return fnvhash64(zipf_.next(rng)) % items_; }

 private:
  uint64_t items_;
  Zipfian zipf_{kScrambledItems, kZipfianConstant, kScrambledZetan};
};

class Hotspot {
 public:
  Hotspot(uint64_t items, double hot_set_fraction, double hot_op_fraction)
      : hot_(static_cast<uint64_t>(static_cast<double>(items) * hot_set_fraction)),
        cold_(items - hot_),
        hot_op_(hot_op_fraction) {
    if (hot_ == 0) {
      hot_ = 1;
      cold_ = items - 1;
    }
  }
  uint64_t next(Rng& rng) const {
    if (rng.uniform() < hot_op_ || cold_ == 0) return rng.below(hot_);
    return hot_ + rng.below(cold_);
  }

 private:
  uint64_t hot_, cold_;
  double hot_op_;
};

// The hotspot of the paper's Redis runs (80 % of requests to 20 % of the
// records) over a seeded shuffle of the record indexes, so the hot records
// are spread over the load order instead of being the first loaded.
class ShuffledHotspot {
 public:
  ShuffledHotspot() = default;
  ShuffledHotspot(uint64_t records, uint64_t seed) : hot_(records, 0.2, 0.8), perm_(records) {
    Rng shuffle(seed ^ 0x7963736268u);
    for (uint64_t i = 0; i < records; ++i) perm_[i] = i;
    for (uint64_t i = records - 1; i > 0; --i) std::swap(perm_[i], perm_[shuffle.below(i + 1)]);
  }
  uint64_t next(Rng& rng) const { return perm_[hot_.next(rng)]; }

 private:
  Hotspot hot_{1, 0.2, 0.8};
  std::vector<uint64_t> perm_;
};

enum class Distribution { Zipfian, Uniform, Latest, Hotspot };

inline Distribution parse_distribution(const std::string& s) {
  if (s == "zipfian") return Distribution::Zipfian;
  if (s == "uniform") return Distribution::Uniform;
  if (s == "latest") return Distribution::Latest;
  if (s == "hotspot") return Distribution::Hotspot;
  // Worded to follow the field's name ("distribution: must be ...").
  throw std::invalid_argument("must be zipfian, uniform, latest or hotspot (not '" + s + "')");
}

// Record indexes in [0, records) under one of YCSB's request distributions.
// Records are loaded in index order, so "latest" favours the highest index;
// "hotspot" is ShuffledHotspot, its shuffle drawn from `seed`.
class KeyChooser {
 public:
  KeyChooser(Distribution d, uint64_t records, uint64_t seed = 1)
      : d_(d),
        records_(records),
        scrambled_(records),
        // zeta(records) is summed only for "latest"; the others never draw from it.
        latest_(d == Distribution::Latest ? records < 2 ? 2 : records : 2, kZipfianConstant) {
    if (records == 0) throw std::invalid_argument("records must be > 0");
    if (d == Distribution::Hotspot) hotspot_ = ShuffledHotspot(records, seed);
  }
  uint64_t next(Rng& rng) const {
    switch (d_) {
      case Distribution::Uniform:
        return rng.below(records_);
      case Distribution::Zipfian:
        return scrambled_.next(rng);
      case Distribution::Latest: {
        const uint64_t back = latest_.next(rng);
        return back < records_ ? records_ - 1 - back : 0;
      }
      case Distribution::Hotspot:
        return hotspot_.next(rng);
    }
    return 0;
  }

 private:
  Distribution d_;
  uint64_t records_;
  ScrambledZipfian scrambled_;
  Zipfian latest_;
  ShuffledHotspot hotspot_;
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

}  // namespace vtmm::workloads::ycsb
