#pragma once
// A tier's bandwidth as a calendar of fixed slots: each slot of kSlotNs can
// serve bw * kSlotNs bytes (writes weighted by read_bw / write_bw, so one
// budget covers both directions). A transfer takes room in the slot of its
// start time, or waits for the first later slot that has room; the wait is
// the queueing delay charged to whoever asked. Unlike a single busy-until
// clock, the calendar does not punish a vCPU whose clock lags another's by a
// batch: it books its own, earlier slots.
#include <cstdint>
#include <vector>

namespace vtmm::sim {

class BandwidthCalendar {
 public:
  static constexpr double kSlotNs = 1000.0;
  static constexpr uint32_t kSlots = 1u << 14;  // 16 ms of look-ahead

  void init(double read_gbps, double write_gbps) {
    cap_ = read_gbps * kSlotNs;  // GB/s == bytes/ns
    write_weight_ = read_gbps / write_gbps;
    slots_.assign(kSlots, Slot{});
  }

  // Books `bytes` at time t; returns the delay in ns before the transfer can start.
  double book(double t, double bytes, bool write) {
    const double cost = write ? bytes * write_weight_ : bytes;
    int64_t s = static_cast<int64_t>(t / kSlotNs);
    for (uint32_t tries = 0; tries < kSlots; ++tries, ++s) {
      Slot& slot = slots_[static_cast<uint32_t>(s) & (kSlots - 1)];
      if (slot.epoch < s) {
        slot.epoch = s;
        slot.used = 0;
      } else if (slot.epoch > s) {
        return 0;  // older than the calendar keeps: treat as uncontended
      }
      if (slot.used + cost <= cap_ || slot.used == 0) {
        slot.used += cost;
        const double start = static_cast<double>(s) * kSlotNs;
        return start > t ? start - t : 0;
      }
    }
    return 0;
  }

  double bytes_per_slot() const { return cap_; }

 private:
  double cap_ = 0, write_weight_ = 1;
  // A slot's epoch and bytes are read together: one host cache line for both.
  struct Slot {
    int64_t epoch = -1;
    double used = 0;
  };
  std::vector<Slot> slots_;
};

}  // namespace vtmm::sim
