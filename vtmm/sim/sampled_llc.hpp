#pragma once
// The fast timing model's LLC (`"model": "fast"`, docs/simulator.md "Fast
// timing"): set sampling, as cache studies estimate a large cache's miss
// rate from a few of its sets (Kessler, Hill and Wood, IEEE TC 1994; Qureshi
// and Patt's UMON, MICRO 2006).
//
// One line in 2^kSampleShift, chosen by a hash of its address, goes through
// an exact LRU cache with 1 / 2^kSampleShift of the real cache's sets and
// the same ways: the sets of a hashed set-associative LRU cache evolve
// independently, so each sampled set behaves as one set of the full cache.
// Every other line is not looked up: it hits or misses by a draw, at the
// miss rate the sampled lines of its class (what reads it: a vCPU's data
// access, a page walk, a hypervisor scan; and the tier its page is on) have
// had recently. A drawn miss also evicts a dirty line by a draw, at the rate
// sampled misses have evicted dirty lines, from the VM and tier the sampled
// dirty victims came from. The draws come from one generator seeded by the
// run's seed, in the run loop's deterministic order: a run repeats to the
// byte.
//
// What it gives up: which line hits is no longer tied to that line's own
// reuse, only to its class's; per-page LLC misses (the oracle's profile)
// are drawn accordingly. The TLBs stay exact: their contents decide when
// the walker sets A/D bits, which the designs under test read.
#include <cstdint>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/types.hpp"
#include "vtmm/sim/llc.hpp"

namespace vtmm::sim {

class SampledLlc {
 public:
  static constexpr int kSampleShift = 4;  // 1 line in 16 is simulated
  // Who reads a line: a vCPU's data access, a page walk's PTE load (walks
  // and A/D assists), or a hypervisor thread's scan of a guest page table or
  // of the EPT (host memory).
  enum Kind : uint8_t { kData = 0, kWalk = 1, kScanGuest = 2, kScanHost = 3 };
  static constexpr unsigned kClasses = 8;  // kind x tier
  static unsigned cls(Kind k, int tier) { return static_cast<unsigned>(k) * 2 + static_cast<unsigned>(tier); }

  struct Result {
    bool hit;
    uint64_t evicted_dirty;  // a sampled line written back, or Llc::kEmpty
    int32_t drawn_vm;        // a drawn dirty eviction's VM (-1: none) ...
    int32_t drawn_tier;      // ... and the tier it is written back to
  };

  void init(uint64_t bytes, uint32_t ways, uint64_t seed) {
    const uint32_t w = ways == 0 ? 1 : ways;
    cache_.init_sets((bytes / 64 / w) >> kSampleShift, w);
    rng_ = seed ^ 0x11c5a3b1edULL;
    for (Stat& s : stat_) s = Stat{};
    victims_.assign(2, 0);
    sampled_misses_ = 0;
  }

  Result access(uint64_t line, bool write, unsigned cls) {
    const uint64_t m = mix(line);
    if ((m >> (64 - kSampleShift)) == 0) return sampled(m, line, write, cls);
    const uint64_t u = next() >> 32;
    if (u >= stat_[cls].miss_below) return {true, Llc::kEmpty, -1, 0};
    return drawn_miss();
  }

  // The caller resolved a sampled dirty victim's tier (its VM knows where
  // the line's page is): drawn dirty evictions follow the sampled ones.
  void note_dirty_victim(uint64_t vm, int tier) {
    const size_t k = vm * 2 + static_cast<size_t>(tier);
    if (k >= victims_.size()) victims_.resize(k + 1, 0);
    ++victims_[k];
    ++dirty_total_;
  }

  // The sampled cache (tests).
  const Llc& cache() const { return cache_; }

 private:
  // Each class's recent history: counts halved once `acc` reaches kWindow,
  // so the rate follows phases within a few thousand sampled accesses.
  static constexpr uint32_t kWindow = 2048;
  struct Stat {
    uint32_t acc = 1, miss = 1;  // a cold cache until sampled lines say otherwise
    uint64_t miss_below = uint64_t{1} << 32;  // a draw below it misses: 2^32 * miss / acc
  };

  static uint64_t mix(uint64_t x) {
    x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
    x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
    return x ^ (x >> 31);
  }
  uint64_t next() { return splitmix64(rng_); }

  Result sampled(uint64_t m, uint64_t line, bool write, unsigned cls) {
    const uint64_t set = static_cast<uint64_t>((static_cast<u128>(m << kSampleShift) * cache_.sets()) >> 64);
    const Llc::Result r = cache_.access_set(set, line, write);
    Stat& s = stat_[cls];
    ++s.acc;
    s.miss += r.hit ? 0 : 1;
    if (s.acc >= kWindow) {
      s.acc /= 2;
      s.miss /= 2;
    }
    s.miss_below = (uint64_t{s.miss} << 32) / s.acc;
    if (!r.hit) note_miss();
    return {r.hit, r.evicted_dirty, -1, 0};
  }

  // Sampled misses, halved together with the dirty victims once they reach
  // kWindow.
  void note_miss() {
    if (++sampled_misses_ < kWindow) return;
    sampled_misses_ /= 2;
    dirty_total_ = 0;
    for (uint32_t& v : victims_) dirty_total_ += (v /= 2);
  }

  Result drawn_miss() {
    if (dirty_total_ == 0) return {false, Llc::kEmpty, -1, 0};
    // P(dirty victim) = dirty_total_ / sampled_misses_; then its (VM, tier)
    // in proportion to the sampled victims'.
    const uint64_t u = (next() >> 32) * sampled_misses_ >> 32;
    if (u >= dirty_total_) return {false, Llc::kEmpty, -1, 0};
    uint64_t acc = 0;
    for (size_t k = 0; k < victims_.size(); ++k) {
      acc += victims_[k];
      if (u < acc) return {false, Llc::kEmpty, static_cast<int32_t>(k / 2), static_cast<int32_t>(k % 2)};
    }
    return {false, Llc::kEmpty, -1, 0};
  }

 private:
  Llc cache_;
  uint64_t rng_ = 0;
  Stat stat_[kClasses];
  std::vector<uint32_t> victims_;  // dirty victims per VM * 2 + tier
  uint32_t sampled_misses_ = 0, dirty_total_ = 0;
};

}  // namespace vtmm::sim
