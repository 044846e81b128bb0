#pragma once
// Phase bookkeeping most workloads share.
//
// FirstTouchSweep, the setup phase: each vCPU initialises its contiguous
// share of a region page by page (the host-side data is initialised by the
// caller's callback) and reports one write per 4 KiB page. Its only job in
// the simulation is the first-touch order; it is never measured.
#include <algorithm>
#include <cstdint>

#include "vtmm/core/workload.hpp"

namespace vtmm::workloads {

class FirstTouchSweep {
 public:
  // Fills b with this vCPU's next pages; returns false once its share is done.
  template <class InitPage>
  bool next(uint32_t v, uint32_t vcpus, uint64_t base_va, uint64_t pages, Batch& b,
            InitPage&& init) {
    const uint64_t share = (pages + vcpus - 1) / vcpus;
    const uint64_t begin = std::min(pages, share * v), end = std::min(pages, share * (v + 1));
    if (!started_) {
      next_ = begin;
      started_ = true;
    }
    b.phase = Phase::Setup;
    while (!b.full() && next_ < end) {
      init(next_);
      b.push(base_va + next_ * kPageSize, kWrite);
      ++next_;
    }
    return next_ < end || b.n > 0;
  }
  bool done(uint32_t v, uint32_t vcpus, uint64_t pages) const {
    const uint64_t share = (pages + vcpus - 1) / vcpus;
    return started_ && next_ >= std::min(pages, share * (v + 1));
  }

 private:
  bool started_ = false;
  uint64_t next_ = 0;
};

// OpPhases: a vCPU's share of `warmup` then `measured` operations.
class OpPhases {
 public:
  OpPhases(uint64_t warmup, uint64_t measured, uint32_t v, uint32_t vcpus)
      : warm_(warmup / vcpus + (v < warmup % vcpus ? 1 : 0)),
        total_(warm_ + measured / vcpus + (v < measured % vcpus ? 1 : 0)) {}
  bool warming() const { return done_ < warm_; }
  Phase phase() const { return warming() ? Phase::Warmup : Phase::Measured; }
  // Operations left before the current phase ends.
  uint64_t left_in_phase() const { return (warming() ? warm_ : total_) - done_; }
  bool finished() const { return done_ >= total_; }
  uint64_t total() const { return total_; }
  void count(uint64_t n = 1) { done_ += n; }

 private:
  uint64_t warm_, total_, done_ = 0;
};

}  // namespace vtmm::workloads
