#pragma once
// YCSB's request generators (Cooper et al., SoCC'10; the reference is the
// Java code of brianfrankcooper/YCSB, core/src/main/java/site/ycsb/generator),
// re-implemented over the project's Rng.
//
// ScrambledZipfian: YCSB's ScrambledZipfianGenerator: a ZipfianGenerator
// (Gray et al., "Quickly generating billion-record synthetic databases",
// SIGMOD'94) over 10^10 items with constant 0.99 and YCSB's precomputed
// zeta(10^10, 0.99), whose draws are hashed (FNV-1a 64) onto the key space,
// so the popular keys are scattered over it.
// Hotspot: YCSB's HotspotIntegerGenerator: hot_op_fraction of the draws go
// uniformly to the first hot_set_fraction of the interval, the rest
// uniformly to the remainder.
// key_name: CoreWorkload.buildKeyName with hashed (not ordered) inserts.
#include <cmath>
#include <cstdint>
#include <string>

#include "vtmm/core/rng.hpp"

namespace vtmm::workloads::ycsb {

// YCSB Utils.fnvhash64: FNV-1a over the 8 bytes of a long, then Math.abs.
inline uint64_t fnvhash64(uint64_t val) {
  uint64_t h = 0xCBF29CE484222325ULL;
  for (int i = 0; i < 8; ++i) {
    h ^= val & 0xff;
    h *= 1099511628211ULL;
    val >>= 8;
  }
  if (h >> 63) h = ~h + 1;                 // Math.abs on a Java long
  return h & 0x7fffffffffffffffULL;        // Long.MIN_VALUE stays non-negative here
}

// "user" + fnvhash64(keynum): up to 23 characters.
inline std::string key_name(uint64_t keynum) { return "user" + std::to_string(fnvhash64(keynum)); }

class ScrambledZipfian {
 public:
  // YCSB's constants for ScrambledZipfianGenerator.
  static constexpr uint64_t kItemCount = 10'000'000'000ULL;
  static constexpr double kTheta = 0.99;
  static constexpr double kZetan = 26.46902820178302;

  explicit ScrambledZipfian(uint64_t items) : items_(items) {
    const double zeta2 = 1.0 + std::pow(0.5, kTheta);
    alpha_ = 1.0 / (1.0 - kTheta);
    eta_ = (1.0 - std::pow(2.0 / static_cast<double>(kItemCount), 1.0 - kTheta)) / (1.0 - zeta2 / kZetan);
    half_pow_ = std::pow(0.5, kTheta);
  }
  uint64_t next(Rng& rng) const {
    const double u = rng.uniform();
    const double uz = u * kZetan;
    uint64_t r;
    if (uz < 1.0) {
      r = 0;
    } else if (uz < 1.0 + half_pow_) {
      r = 1;
    } else {
      r = static_cast<uint64_t>(static_cast<double>(kItemCount) * std::pow(eta_ * u - eta_ + 1.0, alpha_));
    }
    return fnvhash64(r) % items_;
  }

 private:
  uint64_t items_;
  double alpha_, eta_, half_pow_;
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

}  // namespace vtmm::workloads::ycsb
