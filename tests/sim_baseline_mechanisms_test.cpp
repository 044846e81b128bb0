// The simulator's mechanisms for the baselines (vtmm/sim/sim_mechanisms.cpp,
// migration.cpp, vm.cpp): NUMA hint faults on either side of the VM boundary,
// PEBS-like sampling, page exchange, guest-side migration between guest NUMA
// nodes, and Memory Mode's direct-mapped DRAM cache.
#include <gtest/gtest.h>

#include "tests/sim_test_support.hpp"

namespace vtmm::test {
namespace sim_baseline_mechanisms_test {

sim::VmConfig slow_vm(uint64_t memory = 128, uint64_t va = 32) {
  sim::VmConfig c = vm_config(memory, va);
  c.fast_pages = 8;
  return c;
}

TEST(HintFaults, NextAccessFaultsOnceWithItsLatencyAndAnExitOnTheHostSide) {
  SimRig rig(slow_vm());
  rig.policy.tier = Tier::Slow;
  rig.access(0, 3, kRead);
  const Gpa g = rig.gpa(3);
  rig.mech.thread().clock_ns = 1000;
  rig.mech.protect_for_hint(std::vector<Gpa>{g});
  const uint64_t exits = rig.vm.counters().vm_exits;
  const double cost = rig.access(0, 3, kWrite);
  ASSERT_EQ(rig.policy.faults.size(), 1u);
  const HintFault& f = rig.policy.faults[0];
  EXPECT_EQ(f.gpa, g);
  EXPECT_TRUE(f.write);
  EXPECT_EQ(f.protected_ns, 1000.0);
  EXPECT_GE(f.now_ns, f.protected_ns);
  EXPECT_GE(cost, rig.host.prof.hint_fault_ns + rig.host.prof.vm_exit_ns);
  EXPECT_GT(rig.vm.counters().vm_exits, exits) << "a host-side hint fault is a VM exit";
  rig.access(0, 3, kRead);
  EXPECT_EQ(rig.policy.faults.size(), 1u) << "the fault disarms the page";
  EXPECT_EQ(rig.vm.counters().hint_faults, 1u);
}

TEST(HintFaults, GuestSideFaultIsNoExitAndAMigrationInItIsWaitedForByTheFaultingVcpu) {
  sim::VmConfig c = slow_vm(64, 32);
  c.guest_numa = true;  // node 0: GPAs [0, 8) fast; node 1: the rest, slow
  SimRig rig(c);
  rig.mech.set_side(Side::Guest);
  rig.policy.tier = Tier::Slow;  // the guest allocates on the slow node first
  for (uint64_t vpn = 0; vpn < 4; ++vpn) rig.access(0, vpn, kRead);
  const Gpa old = rig.gpa(2);
  ASSERT_EQ(rig.vm.node_of(old), Tier::Slow);
  ASSERT_EQ(rig.mech.tier_of(old), Tier::Slow);
  MigrationResult moved;
  rig.policy.on_fault = [&](const HintFault& f, Mechanisms& m) {
    moved = m.mover().migrate(std::vector<Gpa>{f.gpa}, Tier::Fast, MigrationMethod::Linux);
  };
  rig.mech.protect_for_hint(std::vector<Gpa>{old});
  const uint64_t exits = rig.vm.counters().vm_exits;
  const uint64_t flushes = rig.vm.counters().tlb_flushes;
  const double cost = rig.access(0, 2, kRead);
  ASSERT_EQ(moved.moved, 1u);
  ASSERT_EQ(moved.remapped.size(), 1u);
  EXPECT_EQ(moved.remapped[0].first, old);
  const Gpa nw = rig.gpa(2);
  EXPECT_EQ(moved.remapped[0].second, nw) << "the guest PTE points at the new GPA";
  EXPECT_NE(nw, old);
  EXPECT_EQ(rig.vm.node_of(nw), Tier::Fast);
  EXPECT_EQ(rig.mech.tier_of(nw), Tier::Fast) << "node 0 is backed by the fast tier";
  EXPECT_EQ(rig.vm.owner_of(old), kNone) << "the old page went back to the guest's free list";
  EXPECT_GE(cost, rig.host.prof.hint_fault_ns + rig.host.prof.migrate_page_ns)
      << "the faulting vCPU pays the fault and waits for the copy";
  // The only exits: the TLB shootdown's and the host backing the new GPA.
  EXPECT_EQ(rig.vm.counters().vm_exits - exits, (rig.vm.counters().tlb_flushes - flushes) + 1);
  EXPECT_EQ(rig.mech.used_pages(Tier::Fast), 1u + 1u)
      << "the page-table page and the promoted page";
  rig.run_events();
  EXPECT_EQ(rig.vm.counters().migration_traps, 0u);
}

TEST(HintFaults, GuestAllocatorFallsBackToTheOtherNode) {
  sim::VmConfig c = slow_vm(64, 32);
  c.guest_numa = true;
  SimRig rig(c);
  rig.mech.set_side(Side::Guest);
  rig.policy.tier = Tier::Fast;
  for (uint64_t vpn = 0; vpn < 12; ++vpn) rig.access(0, vpn, kRead);
  // 8 fast GPAs: the page-table page and 7 data pages; the rest fell back.
  EXPECT_EQ(rig.mech.used_pages(Tier::Fast), 8u);
  EXPECT_EQ(rig.mech.used_pages(Tier::Slow), 5u);
  EXPECT_EQ(rig.vm.node_of(rig.gpa(11)), Tier::Slow);
}

TEST(Referenced, GuestSideReadsAndClearsTheGuestPteHostSideTheEpt) {
  sim::VmConfig c = slow_vm(64, 32);
  c.guest_numa = true;
  SimRig rig(c);
  rig.mech.set_side(Side::Guest);
  rig.policy.tier = Tier::Fast;
  rig.access(0, 3, kRead);
  const Gpa g = rig.gpa(3);
  const uint64_t vpn = rig.vm.owner_of(g);
  ASSERT_EQ(vpn, 3u);
  ASSERT_NE(rig.vm.pte_bits_of(vpn) & PteBits::kAccessed, 0);
  const uint8_t ept_before = rig.mech.ept_bits(g);
  EXPECT_TRUE(rig.mech.test_and_clear_young(g));
  EXPECT_EQ(rig.vm.pte_bits_of(vpn) & PteBits::kAccessed, 0) << "the guest PTE's bit is cleared";
  EXPECT_EQ(rig.mech.ept_bits(g), ept_before) << "the guest cannot touch the EPT";
  EXPECT_FALSE(rig.mech.test_and_clear_young(g));

  rig.mech.set_side(Side::Host);
  ASSERT_NE(rig.mech.ept_bits(g) & PteBits::kAccessed, 0);
  EXPECT_TRUE(rig.mech.test_and_clear_young(g));
  EXPECT_EQ(rig.mech.ept_bits(g) & PteBits::kAccessed, 0) << "the host clears the EPT bit";
}

// x86's guest ptep_clear_flush_young() leaves the TLB alone; KVM's
// clear_flush_young flushes the VM's TLBs when the EPT entry was young.
TEST(Referenced, OnlyTheHostsCheckOfAYoungPageFlushesTheTlbs) {
  sim::VmConfig c = slow_vm(64, 32);
  c.guest_numa = true;
  SimRig rig(c);
  rig.policy.tier = Tier::Fast;
  rig.access(0, 3, kRead);
  const Gpa g = rig.gpa(3);
  rig.mech.set_side(Side::Guest);
  EXPECT_TRUE(rig.mech.test_and_clear_young(g));
  EXPECT_EQ(rig.vm.counters().tlb_flushes, 0u);
  rig.mech.set_side(Side::Host);
  EXPECT_TRUE(rig.mech.test_and_clear_young(g));
  EXPECT_EQ(rig.vm.counters().tlb_flushes, rig.vm.vcpu_count());
  EXPECT_FALSE(rig.mech.test_and_clear_young(g));
  EXPECT_EQ(rig.vm.counters().tlb_flushes, rig.vm.vcpu_count()) << "an old page: no flush";
}

TEST(Sampling, SamplesEveryNthStoreAndOnlyLoadsThatMissTheLlc) {
  SimRig rig(slow_vm());
  rig.mech.set_sampling(2, 3);
  for (int i = 0; i < 9; ++i) rig.access(0, 1, kWrite);
  for (int i = 0; i < 10; ++i) rig.access(0, 2, kRead);  // one miss, then hits
  std::vector<AccessSample> out;
  rig.mech.drain_samples(out);
  ASSERT_EQ(out.size(), 3u) << "9 stores at period 3; the one load miss does not reach period 2";
  for (const auto& s : out) {
    EXPECT_TRUE(s.write);
    EXPECT_EQ(s.gpa, rig.gpa(1));
  }
  rig.access(0, 3, kRead);  // a second load miss: the load sample
  out.clear();
  rig.mech.drain_samples(out);
  ASSERT_EQ(out.size(), 1u);
  EXPECT_FALSE(out[0].write);
  EXPECT_EQ(out[0].gpa, rig.gpa(3));
  rig.mech.set_sampling(0, 0);
  rig.access(0, 4, kWrite);
  out.clear();
  rig.mech.drain_samples(out);
  EXPECT_TRUE(out.empty());
}

TEST(Exchange, SwapsTiersWithoutRoomAndKeepsUsage) {
  SimRig rig(slow_vm(128, 32), Json{{"llc_bytes", 1 << 20}, {"copy_gbps", 0.5}});
  rig.policy.tier = Tier::Fast;
  for (uint64_t vpn = 0; vpn < 7; ++vpn)
    rig.access(0, vpn, kRead);  // 1 page table + 7 data pages: full
  rig.policy.tier = Tier::Slow;
  for (uint64_t vpn = 7; vpn < 10; ++vpn) rig.access(0, vpn, kRead);
  ASSERT_EQ(rig.mech.used_pages(Tier::Fast), 8u);
  const Gpa hot = rig.gpa(8), cold = rig.gpa(1);
  rig.mech.thread().clock_ns = rig.vm.clock_ns(0);
  // Plain migration has no room; exchange needs none.
  EXPECT_EQ(rig.mech.migrate(std::vector<Gpa>{hot}, Tier::Fast, MigrationMethod::Linux).moved, 0u);
  const std::vector<std::pair<Gpa, Gpa>> pairs{{cold, hot}, {cold, rig.gpa(9)}};
  const MigrationResult r = rig.mech.exchange(pairs);
  EXPECT_EQ(r.moved, 2u) << "one pair; the second reuses a page already being exchanged";
  EXPECT_EQ(rig.mech.tier_of(hot), Tier::Fast);
  EXPECT_EQ(rig.mech.tier_of(cold), Tier::Slow);
  EXPECT_EQ(rig.mech.used_pages(Tier::Fast), 8u);
  EXPECT_EQ(rig.vm.counters().exchanged, 2u);
  EXPECT_EQ(rig.vm.counters().copied_bytes, 2 * kPageSize);
  // An access during the swap waits for it.
  const double wait = rig.access(0, 8, kRead);
  EXPECT_GT(wait, rig.host.prof.migrate_page_ns);
  rig.run_events();
}

TEST(MemoryMode, TwoSlowPagesOnTheSameSlotConflict) {
  sim::VmConfig c = vm_config(64, 32);
  c.fast_pages = 2;  // an 8 KiB cache: 128 direct-mapped 64-byte slots
  c.memory_mode = true;
  // A one-line LLC: every access to a different line misses it.
  SimRig rig(c, Json{{"llc_bytes", 64}, {"llc_ways", 1}});
  rig.policy.tier = Tier::Fast;  // ignored: every page lives in slow memory
  for (uint64_t vpn = 0; vpn < 3; ++vpn) rig.access(0, vpn, kRead);
  const Gpa a = rig.gpa(0), b = rig.gpa(2), other = rig.gpa(1);
  ASSERT_EQ(rig.mech.tier_of(a), Tier::Slow);
  ASSERT_EQ((a * 64u) % 128u, (b * 64u) % 128u) << "pages an even number apart share slots";
  ASSERT_NE((a * 64u) % 128u, (other * 64u) % 128u);
  const uint64_t miss0 = rig.vm.counters().mm_misses, hit0 = rig.vm.counters().mm_hits;
  rig.access(0, 0, kRead, 5);  // cold: miss, fill
  rig.access(0, 2, kRead, 5);  // same slot: evicts a's line
  rig.access(0, 0, kRead, 5);  // conflict miss
  EXPECT_EQ(rig.vm.counters().mm_misses - miss0, 3u);
  EXPECT_EQ(rig.vm.counters().mm_hits - hit0, 0u);
  rig.access(0, 1, kRead, 5);  // another slot: a's line stays cached
  rig.access(0, 0, kRead, 5);  // LLC miss, DRAM-cache hit
  EXPECT_EQ(rig.vm.counters().mm_hits - hit0, 1u);
  EXPECT_EQ(rig.vm.counters().tier_misses[1], rig.vm.counters().mm_misses);
  EXPECT_EQ(rig.vm.counters().tier_misses[0], rig.vm.counters().mm_hits);
}

TEST(MemoryMode, DirtyLinesAreWrittenBackWhenDisplaced) {
  sim::VmConfig c = vm_config(64, 32);
  c.fast_pages = 2;
  c.memory_mode = true;
  SimRig rig(c, Json{{"llc_bytes", 64}, {"llc_ways", 1}});
  for (uint64_t vpn = 0; vpn < 3; ++vpn) rig.access(0, vpn, kRead);
  rig.access(0, 0, kWrite, 7);  // dirty in the LLC
  rig.access(0, 1, kRead, 7);   // LLC evicts it into the DRAM cache (dirty)
  const uint64_t wb = rig.vm.counters().mm_writebacks;
  rig.access(0, 2, kRead, 7);  // same slot as page 0's line: the dirty line goes to slow memory
  EXPECT_EQ(rig.vm.counters().mm_writebacks - wb, 1u);
}

}  // namespace sim_baseline_mechanisms_test
}  // namespace vtmm::test
