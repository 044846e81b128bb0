// The bandwidth calendar (vtmm/sim/bandwidth.hpp) conserves bytes: no slot
// ever holds more than its budget, nothing booked is dropped, a booker far
// ahead of the others (a copy thread) or far behind them gets no free
// bandwidth, and posted writes stall their poster once the write queue is
// full, so a tier never moves more than bandwidth x time.
#include "vtmm/sim/bandwidth.hpp"

#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "vtmm/core/rng.hpp"

namespace vtmm::test {
namespace bandwidth_test {

using sim::BandwidthCalendar;
constexpr double kSlot = BandwidthCalendar::kSlotNs;

TEST(Bandwidth, TransferLargerThanASlotSpillsIntoTheNext) {
  BandwidthCalendar bw;
  bw.init(1.0, 1.0);  // 1000 bytes a slot
  EXPECT_EQ(bw.book(0, 2500, false), 0.0);
  EXPECT_DOUBLE_EQ(bw.booked(0, 3 * kSlot), 2500.0);
  EXPECT_DOUBLE_EQ(bw.booked(0, kSlot), 1000.0) << "one slot never holds more than its budget";
  // The next transfer starts where the first one ended: half-way through slot 2.
  EXPECT_DOUBLE_EQ(bw.book(0, 100, false), 2 * kSlot);
}

TEST(Bandwidth, WritesCountReadOverWriteBandwidthTimesTheirSize) {
  BandwidthCalendar bw;
  bw.init(4.0, 1.0);  // 4000 bytes a slot; a write byte costs 4
  bw.book(0, 1000, true);
  EXPECT_DOUBLE_EQ(bw.booked(0, kSlot), 4000.0);
  EXPECT_DOUBLE_EQ(bw.book(0, 1, false), kSlot) << "the slot is full";
}

TEST(Bandwidth, RandomBookingsNeverOverfillASlotAndNothingIsDropped) {
  for (const double write_gbps : {0.5, 2.0, 13.0, 39.0}) {
    BandwidthCalendar bw;
    bw.init(39.0, write_gbps);
    Rng rng(17);
    double asked = 0, last = 0;
    for (int i = 0; i < 200000; ++i) {
      const double t = static_cast<double>(rng.below(2000000));  // 2 ms of clocks, in any order
      const bool write = rng.below(2) == 0;
      const double bytes = rng.below(8) == 0 ? 4096.0 : 256.0;
      const double delay = bw.book(t, bytes, write);
      ASSERT_GE(delay, 0.0);
      asked += write ? bytes * 39.0 / write_gbps : bytes;
      last = std::max(last, t + delay + 1e7);
    }
    EXPECT_NEAR(bw.booked(0, last), asked, asked * 1e-9)
        << "every byte is booked: write_bw " << write_gbps;
    for (double s = 0; s < last; s += kSlot)
      ASSERT_LE(bw.booked(s, s + kSlot), bw.bytes_per_slot() * (1 + 1e-12)) << "slot at " << s;
  }
}

TEST(Bandwidth, ABookerFarAheadDoesNotGiveTheOthersFreeBandwidth) {
  // A copy thread books 40 ms of a 1 GB/s tier (more than the calendar's
  // first 16 ms); a vCPU that then books at time 0 waits for the end of it,
  // and the copy's early slots are still there.
  BandwidthCalendar bw;
  bw.init(1.0, 1.0);
  double now = 0;
  for (int i = 0; i < 40000 / 4; ++i) now += bw.book(now, 4000, false) + 4000;
  EXPECT_NEAR(bw.booked(0, 40e6), 40e6, 1.0);
  EXPECT_GE(bw.book(0, 64, false), 39e6) << "a vCPU at time 0 finds the first 40 ms booked up";
}

TEST(Bandwidth, ABookingBeforeTheRetiredPastStartsAtTheFloor) {
  BandwidthCalendar bw;
  bw.init(1.0, 1.0);
  bw.retire_before(5e6);
  EXPECT_EQ(bw.book(1e6, 500, false), 0.0) << "no extra delay for the laggard";
  EXPECT_DOUBLE_EQ(bw.booked(5e6, 5e6 + kSlot), 500.0) << "but its bytes count at the floor";
}

TEST(Bandwidth, PostedWritesStallTheirPosterOnlyOnceTheWriteQueueIsFull) {
  BandwidthCalendar bw;
  bw.init(4.0, 1.0, 8192);  // 1 GB/s of writes; 8 KiB of queue = 8192 ns
  EXPECT_DOUBLE_EQ(bw.post_horizon_ns(), 8192.0);
  double t = 0, stalled = 0;
  uint64_t n = 0;
  // A core that writes back a 256-byte unit every 10 ns wants 25.6 GB/s.
  for (; t < 1e6; t += 10, ++n) {
    const double s = bw.post(t, 256);
    stalled += s;
    t += s;
  }
  EXPECT_GT(stalled, 0.0);
  // Bytes written by time t never exceed bandwidth x (t + the queue's
  // horizon), give or take the last write in flight.
  EXPECT_LE(static_cast<double>(n) * 256, 1.0 * (t + bw.post_horizon_ns()) + 2 * 256);
  EXPECT_GE(static_cast<double>(n) * 256, 1.0 * t * 0.95) << "and the tier is kept busy";
}

}  // namespace bandwidth_test
}  // namespace vtmm::test
