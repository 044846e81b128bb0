#include "vtmm/sim/batch_prefetch.hpp"

#include <algorithm>
#include <cstring>

namespace vtmm::sim {

BatchPrefetch::~BatchPrefetch() {
  stop_.store(true, std::memory_order_release);
  kick_.fetch_add(1, std::memory_order_release);
  kick_.notify_all();
  for (std::thread& t : threads_) t.join();
}

size_t BatchPrefetch::add(Workload* wl, uint32_t vcpu) {
  auto r = std::make_unique<Ring>();
  r->wl = wl;
  r->vcpu = vcpu;
  rings_.push_back(std::move(r));
  return rings_.size() - 1;
}

void BatchPrefetch::start() {
  stride_ = std::min<uint32_t>(helpers_, static_cast<uint32_t>(rings_.size()));
  for (uint32_t i = 0; i < stride_; ++i) threads_.emplace_back([this, i] { helper(i); });
}

// Makes the ring's next batch if it has room and its stream goes on.
bool BatchPrefetch::fill_one(Ring& r) {
  const uint64_t t = r.tail.load(std::memory_order_relaxed);
  if (r.ended || t - r.head.load(std::memory_order_acquire) == kSlots) return false;
  Slot& s = r.slots[t % kSlots];
  // The loop hands a workload the same Batch every time, so a field a
  // workload leaves alone keeps its last value: so does the slot.
  if (t > 0) {
    const Batch& last = r.slots[(t - 1) % kSlots].batch;
    s.batch.phase = last.phase;
    s.batch.epoch = last.epoch;
    s.batch.compute_ns = last.compute_ns;
    s.batch.mlp = last.mlp;
  }
  s.batch.n = 0;
  s.error = nullptr;
  try {
    s.more = r.wl->next(r.vcpu, s.batch);
  } catch (...) {
    s.error = std::current_exception();
    s.more = false;
  }
  r.ended = !s.more;
  r.tail.store(t + 1, std::memory_order_release);
  r.tail.notify_one();
  return true;
}

// Helper i serves rings i, i + stride_, ... round robin. When every ring it
// serves is full it sleeps until the loop has taken half of one.
void BatchPrefetch::helper(uint32_t index) {
  while (!stop_.load(std::memory_order_acquire)) {
    const uint32_t seen = kick_.load(std::memory_order_acquire);
    bool made = false, open = false;
    for (size_t k = index; k < rings_.size(); k += stride_) {
      made |= fill_one(*rings_[k]);
      open |= !rings_[k]->ended;
    }
    if (!open) return;  // every stream this helper serves is made
    if (!made) kick_.wait(seen, std::memory_order_acquire);
  }
}

bool BatchPrefetch::next(size_t lane, Batch& out) {
  Ring& r = *rings_[lane];
  const uint64_t h = r.head.load(std::memory_order_relaxed);
  uint64_t t = r.tail.load(std::memory_order_acquire);
  for (int spin = 0; t == h && spin < 256; ++spin) t = r.tail.load(std::memory_order_acquire);
  while (t == h) {
    r.tail.wait(t, std::memory_order_acquire);
    t = r.tail.load(std::memory_order_acquire);
  }
  Slot& s = r.slots[h % kSlots];
  if (s.error) std::rethrow_exception(s.error);  // the stream ends here, as it did in the workload
  out.n = s.batch.n;
  out.phase = s.batch.phase;
  out.epoch = s.batch.epoch;
  out.compute_ns = s.batch.compute_ns;
  out.mlp = s.batch.mlp;
  std::memcpy(out.va, s.batch.va, sizeof(uint64_t) * s.batch.n);
  std::memcpy(out.kind, s.batch.kind, sizeof(uint8_t) * s.batch.n);
  const bool more = s.more;
  r.head.store(h + 1, std::memory_order_release);
  // A helper sleeps only when its rings are full: wake it when this one is
  // half empty, once per half ring rather than once per batch.
  if (r.tail.load(std::memory_order_acquire) - (h + 1) == kSlots / 2) {
    kick_.fetch_add(1, std::memory_order_release);
    kick_.notify_all();
  }
  return more;
}

}  // namespace vtmm::sim
