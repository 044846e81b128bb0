#pragma once
// Stores into a per-GPA byte array, made in bursts and applied in the order
// they were made. In an aged guest the pages a window sees have scattered
// GPAs, so nearly every store to seen[] misses every cache; made one at a
// time from inside the tracker's scan, each held the scan up for about 50 ns
// (BM_VtmmWindow/daemon/track/aged: 22-24 ms a window with them, 14-15 ms
// with them removed, 10 M pages). Queued here, they are applied a block at a
// time with each target line prefetched a few stores ahead, so the misses
// overlap. The result is exactly what the direct stores gave: same stores,
// same order, and nobody reads the array before flush().
#include <cstddef>
#include <cstdint>
#include <span>

#include "vtmm/core/types.hpp"

namespace vtmm::policy {

class SeenWrites {
 public:
  // Starts a burst on `out`; flush() ends it. Every store targets out[g] for
  // g < out.size() (the callers check).
  void begin(std::span<uint8_t> out) {
    out_ = out;
    n_ = 0;
  }
  void set(Gpa g, uint8_t v) { push(uint64_t{g} << 32 | v); }             // out[g] = v
  void raise(Gpa g, uint8_t v) { push(uint64_t{g} << 32 | kRaise | v); }  // max(out[g], v)
  void flush() {
    for (size_t i = 0; i < n_; ++i) {
      if (i + kAhead < n_) __builtin_prefetch(&out_[buf_[i + kAhead] >> 32], 1);
      apply(buf_[i]);
    }
    n_ = 0;
  }

 private:
  static constexpr uint64_t kRaise = 1u << 8;
  // 8 KiB of queued stores (stays in L1); 16 lines in flight, about what a
  // core's miss buffers hold.
  static constexpr size_t kBlock = 1024, kAhead = 16;

  void push(uint64_t e) {
    buf_[n_++] = e;
    if (n_ == kBlock) flush();
  }
  void apply(uint64_t e) {
    uint8_t& at = out_[e >> 32];
    const auto v = static_cast<uint8_t>(e);
    at = (e & kRaise) && at > v ? at : v;
  }

  std::span<uint8_t> out_;
  size_t n_ = 0;
  uint64_t buf_[kBlock];
};

}  // namespace vtmm::policy
