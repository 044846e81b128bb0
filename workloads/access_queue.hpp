#pragma once
// Helpers for workloads whose algorithm is easier to write as ordinary
// sequential code than as a resumable generator.
//
// AccessQueue: a vCPU's pending accesses. The workload runs a short step of
// its real algorithm on the host, pushing every data access it makes (in
// program order) under the current mode (phase, mlp, compute_ns); next()
// then drains the queue into batches, cutting a batch wherever the mode
// changes, so each batch carries one phase and one mlp. Consecutive accesses
// to the same 64-byte line are merged into one (their kinds OR-ed, their
// compute added), as the workload contract allows; a batch's compute_ns is
// the mean of its accesses', so the total core work is preserved.
//
// RegionSweep: the setup phase's first-touch order over several regions,
// one write per 4 KiB page (like FirstTouchSweep, for data built on the host
// before the run).
//
// TestCorruptible: the hook tests use to damage a finished workload's result
// and check that verify() notices (reached with dynamic_cast).
#include <cstdint>
#include <utility>
#include <vector>

#include "vtmm/core/workload.hpp"

namespace vtmm::workloads {

class AccessQueue {
 public:
  void mode(Phase ph, uint8_t mlp, float compute_ns) {
    phase_ = ph;
    mlp_ = mlp;
    compute_ = compute_ns;
  }
  Phase phase() const { return phase_; }
  // Accesses pushed from now on come after a barrier (SteppedWorkload::sync).
  void set_epoch(uint32_t e) { epoch_ = e; }
  void push(uint64_t va, AccessKind k) {
    if (e_.size() > head_) {
      Entry& last = e_.back();
      if ((last.va >> kLineShift) == (va >> kLineShift) && last.mlp == mlp_ &&
          last.phase == phase_ && last.epoch == epoch_) {
        last.kind = static_cast<uint8_t>(last.kind | k);
        last.compute += compute_;
        return;
      }
    }
    e_.push_back(Entry{va, compute_, epoch_, static_cast<uint8_t>(k), mlp_, phase_});
  }
  bool empty() const { return head_ == e_.size(); }
  size_t size() const { return e_.size() - head_; }
  // Moves the next run of same-mode accesses (up to Batch::kCap) into b.
  void drain(Batch& b) {
    if (empty()) return;
    const Entry& first = e_[head_];
    b.phase = first.phase;
    b.mlp = first.mlp;
    b.epoch = first.epoch;
    double compute = 0;
    while (!b.full() && head_ < e_.size() && e_[head_].mlp == first.mlp &&
           e_[head_].phase == first.phase && e_[head_].epoch == first.epoch) {
      b.push(e_[head_].va, static_cast<AccessKind>(e_[head_].kind));
      compute += e_[head_].compute;
      ++head_;
    }
    b.compute_ns = static_cast<float>(compute / b.n);
    if (head_ == e_.size()) {
      e_.clear();
      head_ = 0;
    }
  }

 private:
  struct Entry {
    uint64_t va;
    float compute;
    uint32_t epoch;
    uint8_t kind, mlp;
    Phase phase;
  };
  std::vector<Entry> e_;
  size_t head_ = 0;
  Phase phase_ = Phase::Setup;
  uint8_t mlp_ = 1;
  float compute_ = 0;
  uint32_t epoch_ = 0;
};

class RegionSweep {
 public:
  void add(uint64_t va, uint64_t bytes) {
    if (bytes > 0) regions_.push_back({va, pages_for(bytes)});
  }
  bool done() const { return r_ >= regions_.size(); }
  // Pushes up to max_pages first-touch writes; false once every region is done.
  bool step(AccessQueue& q, uint64_t max_pages) {
    if (done()) return false;
    q.mode(Phase::Setup, 8, 0);
    for (uint64_t k = 0; k < max_pages && !done(); ++k) {
      q.push(regions_[r_].first + page_ * kPageSize, kWrite);
      if (++page_ == regions_[r_].second) {
        page_ = 0;
        ++r_;
      }
    }
    return true;
  }

 private:
  std::vector<std::pair<uint64_t, uint64_t>> regions_;  // (va, pages)
  size_t r_ = 0;
  uint64_t page_ = 0;
};

// A workload written as steps of sequential host code: next() builds the data
// on its first call, then runs steps for vCPU v until its queue holds
// accesses, and drains one batch. step() returns false once there is no more
// work for v. Steps share the host state, so the result is the sequential
// program's whatever the vCPU count; the vCPUs only split its accesses,
// taking the next piece of work as they ask (an OpenMP dynamic schedule). A
// step calls sync(q) where the parallel program has a barrier (the end of a
// BFS level, of a PageRank sweep): no vCPU runs the accesses pushed after it
// until every vCPU has run those pushed before.
class SteppedWorkload : public Workload {
 public:
  bool next(uint32_t v, Batch& b) override {
    if (!built_) {
      queues_.resize(vcpus_);
      build();
      built_ = true;
    }
    AccessQueue& q = queues_[v];
    q.set_epoch(epoch_);  // what this vCPU takes now comes after every barrier so far
    while (q.empty())
      if (!step(v, q)) return false;
    q.drain(b);
    return true;
  }

 protected:
  explicit SteppedWorkload(uint32_t vcpus) : vcpus_(vcpus) {}
  virtual void build() = 0;
  virtual bool step(uint32_t v, AccessQueue& q) = 0;
  // A barrier of the parallel program, between what q holds and what follows.
  void sync(AccessQueue& q) { q.set_epoch(++epoch_); }
  uint32_t vcpus_;

 private:
  bool built_ = false;
  uint32_t epoch_ = 0;
  std::vector<AccessQueue> queues_;
};

struct TestCorruptible {
  virtual ~TestCorruptible() = default;
  // Damages the finished result the way a bug would; verify() must then throw.
  virtual void corrupt_for_test() = 0;
};

}  // namespace vtmm::workloads
