#pragma once
// A tier's bandwidth as a calendar of fixed slots: each slot of kSlotNs can
// serve bw * kSlotNs bytes (writes weighted by read_bw / write_bw, so one
// budget covers both directions). A transfer takes the room left in the slot
// of its start time and spills into the following slots until it is booked
// whole; it starts in the first slot with room, and that wait is the queueing
// delay charged to whoever asked. Unlike a single busy-until clock, the
// calendar does not punish a vCPU whose clock lags another's by a batch: it
// books its own, earlier slots.
//
// Conservation: no slot ever holds more than its budget, and no booking is
// dropped, so the bytes a tier moves by time T never exceed bandwidth x T
// plus what was booked ahead of T. The calendar keeps the slots from a floor
// (retire_before(): nobody books earlier any more; a booking before the
// floor is booked from the floor, without extra delay) to the latest slot
// booked, and grows when a booker runs further ahead than it covers.
//
// Posted writes (LLC write-backs) have nobody waiting for them, but the
// memory controller holds only so many: post() books a write and returns
// the stall its poster takes when the write cannot start within the write
// queue's horizon (the queue's bytes at the tier's write bandwidth).
#include <algorithm>
#include <cstdint>
#include <vector>

namespace vtmm::sim {

class BandwidthCalendar {
 public:
  static constexpr double kSlotNs = 1000.0;

  void init(double read_gbps, double write_gbps, double write_queue_bytes = 0) {
    cap_ = read_gbps * kSlotNs;  // GB/s == bytes/ns
    write_weight_ = read_gbps / write_gbps;
    post_horizon_ns_ = write_queue_bytes / write_gbps;
    slots_.assign(kInitialSlots, 0.0);
    mask_ = kInitialSlots - 1;
    floor_ = top_ = full_to_ = 0;
  }

  // Books `bytes` at time t; returns the delay in ns before the transfer can start.
  double book(double t, double bytes, bool write) {
    double cost = write ? bytes * write_weight_ : bytes;
    const double from = std::max(t, static_cast<double>(floor_) * kSlotNs);
    // Slots before full_to_ are full: start the search there.
    int64_t s = std::max(static_cast<int64_t>(from * kInvSlotNs), full_to_);
    int64_t start = -1;
    for (;; ++s) {
      double& used = slot(s);
      const double room = cap_ - used;
      if (room <= 0) continue;
      if (start < 0) start = s;
      if (cost <= room) {
        used += cost;
        break;
      }
      used = cap_;
      cost -= room;
    }
    while (full_to_ < top_ && slots_[static_cast<size_t>(full_to_) & mask_] >= cap_) ++full_to_;
    const double at = static_cast<double>(start) * kSlotNs;
    return at > from ? at - from : 0;
  }

  // Books a posted write at t; returns the stall of its poster (0 while the
  // write can start within the write queue's horizon).
  double post(double t, double bytes) {
    const double delay = book(t, bytes, true);
    return delay > post_horizon_ns_ ? delay - post_horizon_ns_ : 0;
  }

  // No booking will come before t: the slots before it can be reused.
  void retire_before(double t) {
    const int64_t s = static_cast<int64_t>(t * kInvSlotNs);
    if (s <= floor_) return;
    floor_ = s;
    if (top_ < floor_) top_ = floor_;
    if (full_to_ < floor_) full_to_ = floor_;
  }

  double bytes_per_slot() const { return cap_; }
  // The share of the tier's bandwidth booked in the `n` slots before the one
  // holding t (read-weighted, so a write counts read_bw / write_bw times).
  double utilisation(double t, int64_t n) const {
    const int64_t s = static_cast<int64_t>(t * kInvSlotNs);
    return booked(static_cast<double>(s - n) * kSlotNs, static_cast<double>(s) * kSlotNs) /
           (cap_ * static_cast<double>(n));
  }
  double post_horizon_ns() const { return post_horizon_ns_; }
  // Bytes (in read-weighted units) booked in the slots [t0, t1) still kept.
  double booked(double t0, double t1) const {
    double sum = 0;
    const int64_t a = std::max(floor_, static_cast<int64_t>(t0 * kInvSlotNs));
    const int64_t b = std::min(top_, static_cast<int64_t>(t1 * kInvSlotNs));
    for (int64_t s = a; s < b; ++s) sum += slots_[static_cast<size_t>(s) & mask_];
    return sum;
  }

 private:
  static constexpr double kInvSlotNs = 1.0 / kSlotNs;
  static constexpr size_t kInitialSlots = size_t{1} << 14;  // 16 ms

  // Slot s (>= floor_), made part of the kept range [floor_, top_) if new.
  double& slot(int64_t s) {
    if (s >= top_) [[unlikely]]
      extend(s);
    return slots_[static_cast<size_t>(s) & mask_];
  }
  void extend(int64_t s) {
    if (static_cast<uint64_t>(s - floor_) >= slots_.size()) grow(s);
    for (int64_t k = top_; k <= s; ++k) slots_[static_cast<size_t>(k) & mask_] = 0.0;
    top_ = s + 1;
  }
  void grow(int64_t s) {
    size_t n = slots_.size();
    while (static_cast<uint64_t>(s - floor_) >= n) n *= 2;
    std::vector<double> bigger(n, 0.0);
    for (int64_t k = floor_; k < top_; ++k)
      bigger[static_cast<size_t>(k) & (n - 1)] = slots_[static_cast<size_t>(k) & mask_];
    slots_.swap(bigger);
    mask_ = n - 1;
  }

  double cap_ = 0, write_weight_ = 1, post_horizon_ns_ = 0;
  std::vector<double> slots_;  // bytes booked per slot, a ring over [floor_, top_)
  size_t mask_ = 0;
  int64_t floor_ = 0, top_ = 0;
  // Every slot in [floor_, full_to_) is full: a saturated tier's bookers skip
  // its backlog in one step instead of scanning it (same result, found faster).
  int64_t full_to_ = 0;
};

}  // namespace vtmm::sim
