// Guest PTE accessed/dirty bits are set by the page walker only when it fills
// a TLB entry (or when a write goes through a clean entry): bits cleared
// behind a live TLB entry stay clear until the entry is flushed.
#include <gtest/gtest.h>

#include "tests/sim_test_support.hpp"

namespace vtmm::test {
namespace tlb_ad_bits_test {

constexpr uint8_t kA = PteBits::kAccessed;
constexpr uint8_t kD = PteBits::kDirty;

TEST(TlbAdBits, FillSetsAccessedBitOnce) {
  SimRig rig(vm_config(64));
  EXPECT_EQ(rig.vm.counters().tlb_misses, 0u);
  rig.access(0, 5, kRead);
  EXPECT_EQ(rig.vm.counters().tlb_misses, 1u);
  EXPECT_EQ(rig.pte_bits(5) & (kA | kD), kA);
  rig.access(0, 5, kRead);
  rig.access(0, 5, kRead, 7);
  EXPECT_EQ(rig.vm.counters().tlb_misses, 1u) << "later accesses to the page hit the TLB";
}

TEST(TlbAdBits, ClearedAccessedBitStaysClearWhileTheEntryLives) {
  SimRig rig(vm_config(64));
  rig.access(0, 5, kRead);
  EXPECT_EQ(rig.scan_pte(5, kA) & (kA | PteBits::kPresent), kA | PteBits::kPresent);
  EXPECT_EQ(rig.pte_bits(5) & kA, 0) << "scan_gpt_page cleared A";

  for (uint32_t line = 0; line < 4; ++line) rig.access(0, 5, kRead, line);
  EXPECT_EQ(rig.vm.counters().tlb_misses, 1u);
  EXPECT_EQ(rig.scan_pte(5) & kA, 0) << "TLB hits must not set A again";

  rig.mech.flush_tlbs();
  rig.access(0, 5, kRead);
  EXPECT_EQ(rig.vm.counters().tlb_misses, 2u);
  EXPECT_EQ(rig.scan_pte(5) & kA, kA) << "the walk after a flush sets A again";
}

TEST(TlbAdBits, ClearingOnePteLeavesItsNeighboursAlone) {
  SimRig rig(vm_config(64));
  rig.access(0, 1, kRead);
  rig.access(0, 2, kRead);
  sim::VmInternals::clear_pte_bits(rig.vm, 1, kA);  // directly, not via a scan
  rig.access(0, 1, kRead);
  EXPECT_EQ(rig.pte_bits(1) & kA, 0);
  EXPECT_EQ(rig.pte_bits(2) & kA, kA);
}

TEST(TlbAdBits, WriteThroughCleanEntryTakesDirtyAssist) {
  SimRig rig(vm_config(64));
  rig.access(0, 9, kRead);
  const Gpa g = rig.gpa(9);
  EXPECT_EQ(rig.pte_bits(9) & kD, 0);
  EXPECT_EQ(rig.mech.ept_bits(g) & kD, 0);
  EXPECT_EQ(rig.vm.counters().dirty_assists, 0u);

  rig.access(0, 9, kWrite);
  EXPECT_EQ(rig.vm.counters().dirty_assists, 1u);
  EXPECT_EQ(rig.vm.counters().tlb_misses, 1u) << "the assist is not a TLB miss";
  EXPECT_EQ(rig.pte_bits(9) & (kA | kD), kA | kD);
  EXPECT_EQ(rig.mech.ept_bits(g) & kD, kD) << "the assist sets the EPT D bit of the data page";

  rig.access(0, 9, kWrite, 3);
  rig.access(0, 9, kReadWrite, 4);
  EXPECT_EQ(rig.vm.counters().dirty_assists, 1u) << "the entry is dirty now";
}

TEST(TlbAdBits, WriteMissSetsDirtyWithoutAssist) {
  SimRig rig(vm_config(64));
  rig.access(0, 3, kWrite);
  EXPECT_EQ(rig.vm.counters().dirty_assists, 0u);
  EXPECT_EQ(rig.pte_bits(3) & (kA | kD), kA | kD);
}

TEST(TlbAdBits, ClearedDirtyBitIsSetAgainOnlyAfterFlush) {
  SimRig rig(vm_config(64));
  rig.access(0, 3, kWrite);
  rig.scan_pte(3, kD);
  EXPECT_EQ(rig.pte_bits(3) & kD, 0);
  rig.access(0, 3, kWrite);
  EXPECT_EQ(rig.pte_bits(3) & kD, 0) << "a write through a dirty TLB entry does not re-walk";
  rig.mech.flush_tlbs();
  rig.access(0, 3, kWrite);
  EXPECT_EQ(rig.pte_bits(3) & kD, kD);
}

// An entry evicted from the L1 TLB but still in the L2 comes back as it was
// cached: a clean one stays clean (a later write takes the assist), and the
// L2 hit sets no PTE bit.
TEST(TlbAdBits, SecondLevelHitKeepsTheEntryAsCached) {
  SimRig rig(vm_config(512, 256));
  const auto& prof = rig.host.prof;
  const uint64_t l1_sets = prof.tlb_l1_entries / prof.tlb_l1_ways;
  const uint64_t l1_ways = prof.tlb_l1_ways;
  ASSERT_LT(l1_sets * l1_ways, 256u);
  // vpn 0 and l1_ways more pages of its L1 set: vpn 0 falls out of the L1.
  for (uint64_t k = 0; k <= l1_ways; ++k) rig.access(0, k * l1_sets, kRead);
  const uint64_t walks = rig.vm.counters().tlb_misses;
  rig.scan_pte(0, kA);

  const double cost = rig.access(0, 0, kRead, 1);
  EXPECT_EQ(rig.vm.counters().tlb_misses, walks) << "served by the L2 TLB, not a walk";
  EXPECT_GE(cost, prof.tlb_l2_hit_ns);
  EXPECT_EQ(rig.pte_bits(0) & kA, 0) << "a TLB hit of either level sets no bit";

  for (uint64_t k = 1; k <= l1_ways; ++k)
    rig.access(0, k * l1_sets, kRead, 1);  // evict vpn 0 from L1 again
  rig.access(0, 0, kWrite, 2);
  EXPECT_EQ(rig.vm.counters().tlb_misses, walks);
  EXPECT_EQ(rig.vm.counters().dirty_assists, 1u) << "the L2 entry was clean";
  EXPECT_EQ(rig.pte_bits(0) & kD, kD);
}

}  // namespace tlb_ad_bits_test
}  // namespace vtmm::test
