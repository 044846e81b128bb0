#pragma once
// The GUPS table that gups and sparse-hot update: element i starts as i, each
// update XORs a random value into one element, and the check compares the
// XOR of the table with the XOR of its initial values and of every value
// applied, so a lost, doubled or misdirected update is caught. The table is
// real (host memory, on 2 MiB host pages where the kernel allows).
#include <algorithm>
#include <cstdint>
#include <string>
#include <vector>

#include "vtmm/core/huge_alloc.hpp"
#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/phases.hpp"

namespace vtmm::workloads {

// One vCPU's stream of updates.
struct XorLane {
  Rng rng;
  FirstTouchSweep setup;
  OpPhases ops;
};

// One lane per vCPU, each with its own stream from `seed` and its share of
// the warmup and measured updates.
inline std::vector<XorLane> xor_lanes(uint64_t seed, uint64_t warmup, uint64_t updates,
                                      uint32_t vcpus) {
  std::vector<XorLane> lanes;
  for (uint32_t v = 0; v < vcpus; ++v)
    lanes.push_back(XorLane{Rng(seed * 0x9e37u + v + 1), {}, OpPhases(warmup, updates, v, vcpus)});
  return lanes;
}

class XorTable {
 public:
  explicit XorTable(uint64_t elems = 0) : elems_(elems) {}
  // `who` names the workload in the error.
  void verify(const std::string& who) const {
    const uint64_t n1 = elems_ - 1;  // XOR of 0..n-1 has a closed form by n mod 4
    const uint64_t xor_init = (n1 % 4 == 0) ? n1 : (n1 % 4 == 1) ? 1 : (n1 % 4 == 2) ? n1 + 1 : 0;
    uint64_t x = 0;
    for (uint64_t v : table_) x ^= v;
    if (x != (xor_init ^ applied_))
      throw VerifyError(who + ": table checksum does not match the updates applied");
  }
  // A torn or misdirected update (tests): flip bits of element i.
  void corrupt(uint64_t i) { table_[i] ^= 0x5a; }
  uint64_t measured() const { return measured_; }

  // Fills `b` for vCPU v of `vcpus` (table at guest address `va`): first the
  // set-up sweep (one write per 4 KiB page; it fixes the first-touch order
  // and is not measured), then updates whose element `draw(rng, r)` picks
  // after r = rng.next(). Two passes over a batch: every index drawn first
  // (the same random stream) and its element prefetched, then the updates
  // applied in order, so the host's cache misses on the (real) table overlap
  // instead of each waiting for the one before it. Each update is reported
  // as one read-modify-write. Returns whether the lane has more to do.
  template <class Draw>
  bool next(XorLane& l, uint32_t v, uint32_t vcpus, uint64_t va, Batch& b, Draw&& draw) {
    ensure_built();
    constexpr uint64_t kPerPage = kPageSize / sizeof(uint64_t);
    const uint64_t pages = (elems_ + kPerPage - 1) / kPerPage;
    if (!l.setup.done(v, vcpus, pages)) {
      l.setup.next(v, vcpus, va, pages, b, [&](uint64_t page) { init_page(page); });
      if (b.n > 0) return true;
    }
    const bool warm = l.ops.warming();
    b.phase = l.ops.phase();
    const uint64_t n = std::min<uint64_t>(l.ops.left_in_phase(), Batch::kCap - b.n);
    uint64_t rs[Batch::kCap], is[Batch::kCap];
    for (uint64_t k = 0; k < n; ++k) {
      const uint64_t r = l.rng.next();
      const uint64_t i = draw(l.rng, r);
      prefetch(i);
      rs[k] = r;
      is[k] = i;
    }
    for (uint64_t k = 0; k < n; ++k) {
      update(is[k], rs[k]);
      b.push(va + is[k] * sizeof(uint64_t), kReadWrite);
    }
    l.ops.count(n);
    if (!warm) measured_ += n;
    return !l.ops.finished();
  }

 private:
  // Built on first use, not when the spec is validated.
  void ensure_built() {
    if (table_.empty()) table_.resize(elems_);
  }
  // Set-up of one 4 KiB page's elements (page index `page`).
  void init_page(uint64_t page) {
    constexpr uint64_t kPerPage = kPageSize / sizeof(uint64_t);
    for (uint64_t i = page * kPerPage, end = std::min(elems_, i + kPerPage); i < end; ++i)
      table_[i] = i;
  }
  void prefetch(uint64_t i) const { __builtin_prefetch(&table_[i], 1); }
  void update(uint64_t i, uint64_t r) {
    table_[i] ^= r;
    applied_ ^= r;
  }

  uint64_t elems_, applied_ = 0, measured_ = 0;
  std::vector<uint64_t, HugePageAllocator<uint64_t>> table_;
};

}  // namespace vtmm::workloads
