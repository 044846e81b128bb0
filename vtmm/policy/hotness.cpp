#include "vtmm/policy/hotness.hpp"

#include <algorithm>
#include <array>
#include <bit>
#include <cstring>
#include <stdexcept>

#include "vtmm/policy/mlq.hpp"
#include "vtmm/policy/parts.hpp"

namespace vtmm::policy {
namespace {

// Bits set in each 16-bit half of x, as two 5-bit counts at bits 0 and 16.
// std::popcount compiles to a libgcc call on the x86-64 baseline (no POPCNT
// without -march); this form is inline, counts both halves at once and
// vectorises.
inline uint32_t halves_popcount(uint32_t x) {
  x = x - ((x >> 1) & 0x55555555u);
  x = (x & 0x33333333u) + ((x >> 2) & 0x33333333u);
  x = (x + (x >> 4)) & 0x0f0f0f0fu;
  return (x + (x >> 8)) & 0x001f001fu;
}

// Temperature from a history word: a written window counts as written
// (weight 3), not also as read.
inline uint32_t temperature(uint32_t x, uint32_t read_w, uint32_t write_w) {
  const uint32_t c = halves_popcount(x & ~(x >> 16));
  return read_w * (c & 0xffffu) + write_w * (c >> 16);
}

// Shifts n history words by one window and writes their temperatures. A
// free function over restrict pointers: the compiler may then assume the
// key stores do not touch the weights or the histories, and vectorises.
// Compiled twice, chosen at load time: the build targets the x86-64
// baseline (SSE2, no 32-bit vector multiply), and an AVX2 copy takes a
// third off a classification pass where the CPU has it. Integer
// arithmetic: both give the same keys.
#if defined(__x86_64__) && defined(__GNUC__)
#define VTMM_AVX2_CLONE __attribute__((target_clones("avx2", "default")))
#else
#define VTMM_AVX2_CLONE  // other architectures: the one portable copy
#endif
VTMM_AVX2_CLONE void temperature_block(uint32_t* __restrict h, size_t n,
                                       const uint8_t* __restrict seen, uint8_t* __restrict keys,
                                       uint32_t mask, uint32_t read_w, uint32_t write_w) {
  const uint32_t keep = (mask & 0xfffeu) * 0x10001u;  // bits that survive the shift, both halves
  for (size_t i = 0; i < n; ++i) {
    const uint32_t s = seen[i];
    const uint32_t x = ((h[i] << 1) & keep) | (s == static_cast<uint8_t>(Seen::Read) ? 1u : 0u) |
                       (s == static_cast<uint8_t>(Seen::Write) ? 0x10000u : 0u);
    h[i] = x;
    keys[i] = static_cast<uint8_t>(temperature(x, read_w, write_w));
  }
}

// Pages per classification block: the block's seen, keys, tiers, free and
// history bytes stay in L1 between the kernel and the bucket count.
constexpr size_t kBlock = 2048;

// Four interleaved sub-histograms indexed by tier << 6 | key (tier 2, not
// backed, lands in 128..191 and is dropped): consecutive pages with the same
// key increment different counters, so the increments do not wait on each
// other's store.
struct SubHistograms {
  uint32_t c[4][192] = {};
  void add(const uint8_t* keys, const uint8_t* tiers, size_t n) {
    size_t i = 0;
    for (; i + 4 <= n; i += 4)
      for (size_t j = 0; j < 4; ++j) ++c[j][tiers[i + j] << 6 | keys[i + j]];
    for (; i < n; ++i) ++c[0][tiers[i] << 6 | keys[i]];
  }
  BucketCounts sum() const {
    BucketCounts out{};
    for (size_t t = 0; t < 2; ++t)
      for (size_t k = 0; k < 64; ++k)
        for (size_t j = 0; j < 4; ++j) out[t][k] += c[j][t << 6 | k];
    return out;
  }
};

// kSpread[b]: byte j is bit j of b, so eight pages' flags become eight bytes
// with one load.
constexpr std::array<uint64_t, 256> make_spread() {
  std::array<uint64_t, 256> t{};
  for (uint64_t b = 0; b < 256; ++b)
    for (uint64_t j = 0; j < 8; ++j) t[b] |= ((b >> j) & 1) << (8 * j);
  return t;
}
constexpr std::array<uint64_t, 256> kSpread = make_spread();

// Pages [first, first + n) (first a multiple of 8, as blocks start): free is
// backed, no PTE's target and no page table (the two flags' words OR-ed).
// Returns how many of the free pages are in fast memory with key 0.
uint64_t mark_free(const uint8_t* tiers, std::span<const uint64_t> ref,
                   std::span<const uint64_t> gpt, size_t first, const uint8_t* keys, uint8_t* free,
                   size_t n) {
  const auto used_bits = [&](size_t g, uint64_t mask) {
    return ((ref[g >> 6] | gpt[g >> 6]) >> (g & 63)) & mask;
  };
  size_t i = 0;
  for (; i + 8 <= n; i += 8) {  // free[] holds "used" for a moment
    const uint64_t bytes = kSpread[used_bits(first + i, 0xff)];
    std::memcpy(free + i, &bytes, 8);
  }
  for (; i < n; ++i) free[i] = static_cast<uint8_t>(used_bits(first + i, 1));
  uint32_t cold_fast = 0;    // n is at most a block: no overflow
  for (i = 0; i < n; ++i) {  // branch-free, so it vectorises
    free[i] = static_cast<uint8_t>((tiers[i] < 2) & (free[i] == 0));
    cold_fast += free[i] & (tiers[i] == 0) & (keys[i] == 0);
  }
  return cold_fast;
}

}  // namespace

Hotness::Hotness(Kind kind, uint32_t windows, uint32_t read_weight, uint32_t write_weight)
    : kind_(kind), windows_(windows), read_w_(read_weight), write_w_(write_weight) {
  if (windows_ == 0 || windows_ > 16) throw std::invalid_argument("history must be 1..16 windows");
  mask_ = static_cast<uint16_t>((1u << windows_) - 1);
  max_key_ = kind_ == Kind::Temperature ? windows_ * std::max(read_w_, write_w_) : windows_;
}

void Hotness::record(std::span<const uint8_t> seen) {
  const size_t n = std::min(seen.size(), hist_.size());
  const uint32_t keep = (mask_ & 0xfffeu) * 0x10001u;
  for (size_t g = 0; g < n; ++g)
    hist_[g] = ((hist_[g] << 1) & keep) | (seen[g] == static_cast<uint8_t>(Seen::Read) ? 1u : 0u) |
               (seen[g] == static_cast<uint8_t>(Seen::Write) ? 0x10000u : 0u);
}

void Hotness::record(std::span<const uint8_t> seen, std::span<uint8_t> keys) {
  if (seen.size() != hist_.size() || keys.size() != hist_.size())
    throw std::invalid_argument("Hotness::record: seen and keys must cover every page");
  for (size_t b = 0; b < seen.size(); b += kBlock)
    record_block(b, std::min(kBlock, seen.size() - b), seen.data() + b, keys.data() + b);
}

void Hotness::record_block(size_t first, size_t n, const uint8_t* seen, uint8_t* keys) {
  if (kind_ == Kind::Temperature)
    temperature_block(hist_.data() + first, n, seen, keys, mask_, read_w_, write_w_);
  else
    lru_block(hist_.data() + first, n, seen, keys);
}

void Hotness::lru_block(uint32_t* h, size_t n, const uint8_t* seen, uint8_t* keys) const {
  const uint32_t keep = (mask_ & 0xfffeu) * 0x10001u;
  for (size_t i = 0; i < n; ++i) {
    const uint32_t s = seen[i];
    h[i] = ((h[i] << 1) & keep) | (s == static_cast<uint8_t>(Seen::Read) ? 1u : 0u) |
           (s == static_cast<uint8_t>(Seen::Write) ? 0x10000u : 0u);
    const uint32_t any = (h[i] | h[i] >> 16) & 0xffffu;
    keys[i] =
        static_cast<uint8_t>(any ? windows_ - static_cast<uint32_t>(std::countr_zero(any)) : 0);
  }
}

uint32_t Hotness::key(Gpa g) const {
  if (kind_ == Kind::Temperature) return temperature(hist_[g], read_w_, write_w_);
  const uint32_t any = (hist_[g] | hist_[g] >> 16) & 0xffffu;
  if (any == 0) return 0;
  return windows_ - static_cast<uint32_t>(std::countr_zero(any));  // seen in the newest window: max
}

BucketCounts count_buckets(std::span<const uint8_t> keys, std::span<const uint8_t> tiers) {
  if (keys.size() != tiers.size())
    throw std::invalid_argument("count_buckets: keys and tiers differ in size");
  if (std::any_of(keys.begin(), keys.end(), [](uint8_t k) { return k >= 64; }))
    throw std::invalid_argument("count_buckets: keys above 63");
  SubHistograms h;
  h.add(keys.data(), tiers.data(), keys.size());
  return h.sum();
}

WindowClasses classify_window(Hotness& h, std::span<const uint8_t> seen, const Mechanisms& m,
                              const PageBits& ref, const PageBits& gpt, std::span<uint8_t> keys,
                              std::span<uint8_t> tiers, std::span<uint8_t> free) {
  const size_t n = h.pages();
  if (h.max_key() >= 64) throw std::invalid_argument("classify_window: keys above 63");
  if (seen.size() != n || keys.size() != n || tiers.size() != n || free.size() != n)
    throw std::invalid_argument("classify_window: every per-page span must cover every page");
  m.page_tiers(tiers);
  const bool know_free = ref.size() >= n && gpt.size() >= n;  // whole words past n
  if (!know_free) std::fill(free.begin(), free.end(), uint8_t{0});
  SubHistograms sub;
  WindowClasses out;
  for (size_t b = 0; b < n; b += kBlock) {
    const size_t len = std::min(kBlock, n - b);
    h.record_block(b, len, seen.data() + b, keys.data() + b);
    if (know_free)
      out.free_cold_fast += mark_free(tiers.data() + b, ref.words(), gpt.words(), b,
                                      keys.data() + b, free.data() + b, len);
    sub.add(keys.data() + b, tiers.data() + b, len);
  }
  out.counts = sub.sum();
  return out;
}

namespace {

struct TemperatureClassifier final : Classifier {
  TemperatureClassifier(Params&, const PartEnv&) {}
  Hotness::Kind kind() const override { return Hotness::Kind::Temperature; }
};
struct LruClassifier final : Classifier {
  LruClassifier(Params&, const PartEnv&) {}
  Hotness::Kind kind() const override { return Hotness::Kind::Lru; }
};

}  // namespace

VTMM_REGISTER(ClassifierRegistry, TemperatureClassifier, "temperature",
              "vTMM: weighted reads and writes over the history window, bucket-sorted")
VTMM_REGISTER(ClassifierRegistry, LruClassifier, "lru",
              "recency: windows since the page was last seen")

}  // namespace vtmm::policy
