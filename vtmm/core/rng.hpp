#pragma once
// The project's one random generator: xoshiro256** seeded through splitmix64
// (Blackman & Vigna, https://prng.di.unimi.it/). Small, fast and identical on
// every platform, which std:: distributions are not.
#include <cstdint>

#include "vtmm/core/types.hpp"

namespace vtmm {

inline uint64_t splitmix64(uint64_t& x) {
  uint64_t z = (x += 0x9e3779b97f4a7c15ULL);
  z = (z ^ (z >> 30)) * 0xbf58476d1ce4e5b9ULL;
  z = (z ^ (z >> 27)) * 0x94d049bb133111ebULL;
  return z ^ (z >> 31);
}

// The i-th seed derived from `seed`: splitmix64's (i+1)-th output from it,
// kept below 2^32 so it stays exact in any JSON reader. Repeats of a run and
// the VMs of a multi-VM run take their seeds from it, so neighbouring seeds
// of a sweep never hand two runs (or two VMs) the same stream.
inline uint64_t derived_seed(uint64_t seed, uint64_t i) {
  uint64_t x = seed + 0x9e3779b97f4a7c15ULL * i;
  return splitmix64(x) >> 32;
}

class Rng {
 public:
  explicit Rng(uint64_t seed) {
    for (auto& w : s_) w = splitmix64(seed);
  }
  uint64_t next() {
    const uint64_t result = rotl(s_[1] * 5, 7) * 9;
    const uint64_t t = s_[1] << 17;
    s_[2] ^= s_[0];
    s_[3] ^= s_[1];
    s_[1] ^= s_[2];
    s_[0] ^= s_[3];
    s_[2] ^= t;
    s_[3] = rotl(s_[3], 45);
    return result;
  }
  // Uniform in [0, n) by Lemire's multiply-shift (bias below 2^-64 * n).
  uint64_t below(uint64_t n) {
    return static_cast<uint64_t>((static_cast<u128>(next()) * n) >> 64);
  }
  double uniform() { return static_cast<double>(next() >> 11) * 0x1.0p-53; }

 private:
  static uint64_t rotl(uint64_t x, int k) { return (x << k) | (x >> (64 - k)); }
  uint64_t s_[4];
};

}  // namespace vtmm
