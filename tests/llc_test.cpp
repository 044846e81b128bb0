// The shared LLC: a hit costs llc_hit_ns / mlp whatever tier backs the page;
// a miss costs the backing tier's latency / mlp. And the cache itself: true
// LRU within a set, write-back of dirty victims.
#include "vtmm/sim/llc.hpp"

#include <gtest/gtest.h>

#include "tests/sim_test_support.hpp"

namespace vtmm::test {
namespace llc_test {

// Two pages backed on different tiers, each touched once (walk, first touch
// and the first line's miss done), so later accesses hit the TLB.
struct TwoTierRig {
  SimRig rig{vm_config(64)};
  static constexpr uint64_t kFastVpn = 1, kSlowVpn = 2;
  TwoTierRig() {
    rig.policy.tier = Tier::Fast;
    rig.access(0, kFastVpn, kRead);
    rig.policy.tier = Tier::Slow;
    rig.access(0, kSlowVpn, kRead);
  }
};

TEST(LlcTiming, PagesLandOnThePlacedTier) {
  TwoTierRig t;
  EXPECT_EQ(t.rig.mech.tier_of(t.rig.gpa(TwoTierRig::kFastVpn)), Tier::Fast);
  EXPECT_EQ(t.rig.mech.tier_of(t.rig.gpa(TwoTierRig::kSlowVpn)), Tier::Slow);
}

TEST(LlcTiming, HitCostsTheSameOnEitherTier) {
  TwoTierRig t;
  const auto& prof = t.rig.host.prof;
  for (const double mlp : {1.0, 4.0}) {
    const uint64_t hits = t.rig.vm.counters().llc_hits;
    const double fast = t.rig.access(0, TwoTierRig::kFastVpn, kRead, 0, mlp);
    const double slow = t.rig.access(0, TwoTierRig::kSlowVpn, kRead, 0, mlp);
    EXPECT_EQ(t.rig.vm.counters().llc_hits, hits + 2);
    EXPECT_NEAR(fast, prof.llc_hit_ns / mlp, 1e-6);
    EXPECT_NEAR(slow, prof.llc_hit_ns / mlp, 1e-6);
  }
}

TEST(LlcTiming, MissCostsTheTierLatency) {
  TwoTierRig t;
  const auto& prof = t.rig.host.prof;
  uint32_t line = 1;
  for (const double mlp : {1.0, 8.0}) {
    const uint64_t misses = t.rig.vm.counters().llc_misses;
    const uint64_t fast_misses = t.rig.vm.counters().tier_misses[0],
                   slow_misses = t.rig.vm.counters().tier_misses[1];
    const double fast = t.rig.access(0, TwoTierRig::kFastVpn, kRead, line, mlp);
    const double slow = t.rig.access(0, TwoTierRig::kSlowVpn, kRead, line, mlp);
    ++line;
    EXPECT_EQ(t.rig.vm.counters().llc_misses, misses + 2);
    EXPECT_EQ(t.rig.vm.counters().tier_misses[0], fast_misses + 1);
    EXPECT_EQ(t.rig.vm.counters().tier_misses[1], slow_misses + 1);
    ASSERT_EQ(t.rig.vm.counters().bw_delay_ns, 0.0)
        << "a handful of lines must not queue for bandwidth";
    EXPECT_NEAR(fast, prof.tier[0].read_latency_ns / mlp, 1e-6);
    EXPECT_NEAR(slow, prof.tier[1].read_latency_ns / mlp, 1e-6);
    EXPECT_NEAR(slow - fast, (prof.tier[1].read_latency_ns - prof.tier[0].read_latency_ns) / mlp,
                1e-6);
    EXPECT_GT(slow, fast);
  }
}

TEST(LlcTiming, WriteMissAllocatesAndEvictionWritesBackToTheTier) {
  // A one-set LLC of 2 ways: the third line evicts the first.
  SimRig rig(vm_config(64), Json{{"llc_bytes", 128}, {"llc_ways", 2}});
  rig.policy.tier = Tier::Slow;
  rig.access(0, 1, kWrite);  // walk (page-table line, dirtied) + data line 0 (dirty)
  rig.access(0, 1, kRead, 1);
  EXPECT_EQ(rig.vm.counters().writebacks[1], 1u) << "the dirty page-table line was evicted";
  rig.access(0, 1, kRead, 2);
  EXPECT_EQ(rig.vm.counters().writebacks[1], 2u) << "the dirty data line was evicted";
  rig.access(0, 1, kRead, 3);
  EXPECT_EQ(rig.vm.counters().writebacks[1], 2u) << "clean lines are dropped";
  EXPECT_EQ(rig.vm.counters().writebacks[0], 0u);
}

// --- Llc on its own ---------------------------------------------------------

// Cache of one set of `ways` lines.
sim::Llc one_set(uint32_t ways) {
  sim::Llc llc;
  llc.init(uint64_t{ways} * kLineSize, ways);
  return llc;
}

TEST(Llc, Geometry) {
  sim::Llc llc;
  llc.init(1 << 20, 16);
  EXPECT_EQ(llc.lines(), (1u << 20) / 64);
}

TEST(Llc, MissThenHit) {
  sim::Llc llc = one_set(4);
  EXPECT_FALSE(llc.access(10, false).hit);
  EXPECT_TRUE(llc.access(10, false).hit);
  EXPECT_TRUE(llc.access(10, true).hit);
}

TEST(Llc, EvictsLeastRecentlyUsed) {
  sim::Llc llc = one_set(4);
  for (uint64_t l : {1, 2, 3, 4}) EXPECT_FALSE(llc.access(l, false).hit);
  EXPECT_TRUE(llc.access(1, false).hit);   // recency now 1, 4, 3, 2
  EXPECT_FALSE(llc.access(5, false).hit);  // evicts 2
  EXPECT_TRUE(llc.access(3, false).hit);   // 3, 5, 1, 4
  EXPECT_TRUE(llc.access(4, false).hit);   // 4, 3, 5, 1
  EXPECT_TRUE(llc.access(1, false).hit);   // 1, 4, 3, 5
  EXPECT_TRUE(llc.access(5, false).hit);   // 5, 1, 4, 3
  EXPECT_FALSE(llc.access(2, false).hit);  // 2 was the victim; evicts 3
  EXPECT_FALSE(llc.access(3, false).hit);
}

TEST(Llc, ReportsDirtyVictimsOnly) {
  sim::Llc llc = one_set(2);
  EXPECT_EQ(llc.access(1, true).evicted_dirty, sim::Llc::kEmpty);
  EXPECT_EQ(llc.access(2, false).evicted_dirty, sim::Llc::kEmpty);
  EXPECT_EQ(llc.access(3, false).evicted_dirty, 1u) << "dirty line 1 is written back";
  EXPECT_EQ(llc.access(4, false).evicted_dirty, sim::Llc::kEmpty) << "clean line 2 is dropped";
}

TEST(Llc, WriteHitMarksDirtyAndReadHitKeepsIt) {
  sim::Llc llc = one_set(2);
  llc.access(7, false);
  llc.access(7, true);   // dirtied by a hit
  llc.access(7, false);  // a read keeps it dirty
  llc.access(8, false);
  const sim::Llc::Result r = llc.access(9, false);
  EXPECT_FALSE(r.hit);
  EXPECT_EQ(r.evicted_dirty, 7u);
}

TEST(Llc, LinesOfDifferentVmsDoNotAlias) {
  sim::Llc llc = one_set(4);
  const uint64_t vm0 = 42, vm1 = (uint64_t{1} << 40) | 42;
  llc.access(vm0, true);
  EXPECT_FALSE(llc.access(vm1, false).hit);
  EXPECT_TRUE(llc.access(vm0, false).hit);
}

}  // namespace llc_test
}  // namespace vtmm::test
