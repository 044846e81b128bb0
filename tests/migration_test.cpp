// SimMechanisms::migrate(): re-backs guest pages on the other tier, charges
// the copy to the hypervisor thread, respects the destination's allowance,
// and makes vCPUs that touch a page mid-copy pay as the method dictates
// (vtmm/sim/migration.cpp): Linux unmaps and copies page by page, each page
// with its own window and shootdown; WriteProtect write-protects the batch
// with one shootdown and copies page by page; Pml copies the batch while it
// stays mapped, then re-copies what was written meanwhile.
#include <gtest/gtest.h>

#include <algorithm>

#include "tests/sim_test_support.hpp"

namespace vtmm::test {
namespace migration_test {

constexpr uint32_t kTouched = 10;  // vpns 0..9, all backed on the slow tier
constexpr uint64_t kFastCap = 8;

// Slow copies (8 KiB/us: about 8 us a page) and cheap shootdowns, so a vCPU
// that has just taken a migration's shootdowns is still inside the first
// page's copy window whatever the shipped profile's constants are.
Json migration_host() {
  return Json{{"llc_bytes", 1 << 20}, {"copy_gbps", 0.5}, {"tlb_shootdown_ns", 100}};
}

// A VM whose first kTouched virtual pages are backed on the slow tier; the
// hypervisor thread's clock is brought up to the vCPU's, as the run loop's
// tick does before calling the policy.
struct SlowRig {
  SimRig rig{[] {
               sim::VmConfig c = vm_config(128, 32);
               c.fast_pages = kFastCap;
               return c;
             }(),
             migration_host()};
  SlowRig() {
    rig.policy.tier = Tier::Slow;
    for (uint64_t vpn = 0; vpn < kTouched; ++vpn) rig.access(0, vpn, kRead);
    rig.mech.thread().clock_ns = rig.vm.clock_ns(0);
  }
  std::vector<Gpa> data_pages(uint64_t first_vpn, uint64_t n) const {
    std::vector<Gpa> gs;
    for (uint64_t vpn = first_vpn; vpn < first_vpn + n; ++vpn) gs.push_back(rig.gpa(vpn));
    return gs;
  }
  // When the copy of the first page of a batch started at `start` ends, at the
  // earliest: its software cost, then 4 KiB at the copy rate.
  double first_page_end(double start) const {
    return start + rig.host.prof.migrate_page_ns + copy_ns(1);
  }
  double copy_ns(uint64_t pages) const {
    return static_cast<double>(pages * kPageSize) / rig.host.prof.copy_gbps;
  }
};

TEST(Migration, PromotesPages) {
  SlowRig s;
  auto& m = s.rig.mech;
  const std::vector<Gpa> gs = s.data_pages(0, 4);
  const uint64_t slow_before = m.used_pages(Tier::Slow);
  ASSERT_EQ(slow_before, kTouched + 1u) << "data pages and their page-table page";
  ASSERT_EQ(m.used_pages(Tier::Fast), 0u);
  const double start = m.now_ns();

  const MigrationResult r = m.migrate(gs, Tier::Fast, MigrationMethod::Linux);
  EXPECT_EQ(r.moved, 4u);
  EXPECT_EQ(r.recopied, 0u);
  s.rig.run_events();  // each page is unmapped (and re-pointed) when its window opens
  for (Gpa g : gs) EXPECT_EQ(m.tier_of(g), Tier::Fast) << g;
  EXPECT_EQ(m.tier_of(s.rig.gpa(4)), Tier::Slow) << "pages not asked for stay";
  EXPECT_EQ(m.used_pages(Tier::Fast), 4u);
  EXPECT_EQ(m.used_pages(Tier::Slow), slow_before - 4);
  EXPECT_EQ(s.rig.vm.counters().promoted, 4u);
  EXPECT_EQ(s.rig.vm.counters().demoted, 0u);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, 4 * kPageSize);
  // The hypervisor thread paid for the copy and each page's software cost.
  const double paid = s.copy_ns(4) + 4 * s.rig.host.prof.migrate_page_ns;
  EXPECT_GE(m.now_ns() - start, paid);
  EXPECT_GE(r.busy_ns, paid);
  EXPECT_GE(s.rig.vm.counters().migration_ns, paid);
}

TEST(Migration, DemotesPages) {
  SlowRig s;
  auto& m = s.rig.mech;
  const std::vector<Gpa> gs = s.data_pages(0, 3);
  ASSERT_EQ(m.migrate(gs, Tier::Fast, MigrationMethod::Linux).moved, 3u);
  s.rig.run_events();
  const MigrationResult r =
      m.migrate(std::span<const Gpa>(gs).first(2), Tier::Slow, MigrationMethod::Linux);
  EXPECT_EQ(r.moved, 2u);
  s.rig.run_events();
  EXPECT_EQ(m.tier_of(gs[0]), Tier::Slow);
  EXPECT_EQ(m.tier_of(gs[2]), Tier::Fast);
  EXPECT_EQ(m.used_pages(Tier::Fast), 1u);
  EXPECT_EQ(s.rig.vm.counters().demoted, 2u);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, 5 * kPageSize);
}

TEST(Migration, CompletionClearsTheInflightState) {
  SlowRig s;
  const std::vector<Gpa> gs = s.data_pages(0, 2);
  s.rig.mech.migrate(gs, Tier::Fast, MigrationMethod::Linux);
  for (Gpa g : gs) EXPECT_TRUE(s.rig.vm.ept_bits(g) & sim::kEptMigrating);
  EXPECT_FALSE(s.rig.vm.inflight_batches().empty());
  s.rig.run_events();
  for (Gpa g : gs) EXPECT_FALSE(s.rig.vm.ept_bits(g) & sim::kEptMigrating);
  EXPECT_TRUE(s.rig.vm.inflight_batches().empty());
}

TEST(Migration, RefusesToExceedTheDestinationAllowance) {
  SlowRig s;
  auto& m = s.rig.mech;
  const std::vector<Gpa> gs = s.data_pages(0, kTouched);  // 10 pages, room for 8
  const MigrationResult r = m.migrate(gs, Tier::Fast, MigrationMethod::Linux);
  EXPECT_EQ(r.moved, kFastCap);
  EXPECT_EQ(m.used_pages(Tier::Fast), kFastCap);
  EXPECT_EQ(m.capacity_pages(Tier::Fast), kFastCap);
  s.rig.run_events();
  uint32_t on_fast = 0;
  for (Gpa g : gs) on_fast += m.tier_of(g) == Tier::Fast ? 1 : 0;
  EXPECT_EQ(on_fast, kFastCap);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, kFastCap * kPageSize);

  s.rig.run_events();
  const MigrationResult again = m.migrate(gs, Tier::Fast, MigrationMethod::Linux);
  EXPECT_EQ(again.moved, 0u) << "the fast tier is full";
  EXPECT_EQ(m.used_pages(Tier::Fast), kFastCap);
}

TEST(Migration, IgnoresPagesAlreadyThereOrUnbacked) {
  SlowRig s;
  auto& m = s.rig.mech;
  const Gpa unbacked = 100;
  ASSERT_FALSE(m.backed(unbacked));
  const uint64_t flushes = s.rig.vm.counters().tlb_flushes;
  const double start = m.now_ns();
  const Gpa gs[] = {unbacked, s.rig.gpa(0)};
  const MigrationResult r =
      m.migrate(gs, Tier::Slow, MigrationMethod::Linux);  // gpa(0) is already slow
  EXPECT_EQ(r.moved, 0u);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, 0u);
  EXPECT_EQ(s.rig.vm.counters().tlb_flushes, flushes) << "nothing to move: no shootdown";
  EXPECT_EQ(m.now_ns(), start);
  EXPECT_FALSE(m.backed(unbacked));
}

// A policy that feeds migrate() straight from a PML log or a sample may pass a
// GPA twice; the duplicate must not use up room that another page could have.
TEST(Migration, DuplicateGpasDoNotUseUpTheAllowance) {
  SlowRig s;
  auto& m = s.rig.mech;
  ASSERT_EQ(m.migrate(s.data_pages(0, kFastCap - 3), Tier::Fast, MigrationMethod::Linux).moved,
            kFastCap - 3);
  s.rig.run_events();
  // Room for three more: A, B, A again (not next to its twin), then C.
  const Gpa a = s.rig.gpa(kFastCap - 3), b = s.rig.gpa(kFastCap - 2), c = s.rig.gpa(kFastCap - 1);
  const Gpa gs[] = {a, a, b, a, c};
  const MigrationResult r = m.migrate(gs, Tier::Fast, MigrationMethod::Linux);
  EXPECT_EQ(r.moved, 3u);
  s.rig.run_events();
  for (Gpa g : {a, b, c}) EXPECT_EQ(m.tier_of(g), Tier::Fast) << g;
  EXPECT_EQ(m.used_pages(Tier::Fast), kFastCap);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, (kFastCap - 3 + 3) * kPageSize)
      << "each page copied once";
}

TEST(Migration, LinuxMethodTrapsAnyAccessDuringThePagesCopy) {
  SlowRig s;
  auto& m = s.rig.mech;
  const double start = m.now_ns();
  m.migrate(s.data_pages(0, 8), Tier::Fast, MigrationMethod::Linux);
  const double page0_end = s.first_page_end(start);
  ASSERT_LT(s.rig.vm.clock_ns(0), page0_end) << "the vCPU must run inside page 0's copy window";

  s.rig.access(0, 9, kRead);  // a page not under migration
  EXPECT_EQ(s.rig.vm.counters().migration_traps, 0u);
  ASSERT_LT(s.rig.vm.clock_ns(0), page0_end);

  const uint64_t exits = s.rig.vm.counters().vm_exits;
  s.rig.access(0, 0, kRead);  // page 0 is unmapped and being copied: even a read traps
  EXPECT_EQ(s.rig.vm.counters().migration_traps, 1u);
  EXPECT_EQ(s.rig.vm.counters().vm_exits, exits + 1);
  EXPECT_GE(s.rig.vm.clock_ns(0), page0_end) << "the vCPU waits for the page's copy to end";
  EXPECT_GT(s.rig.vm.counters().trap_wait_ns, 0.0);
}

TEST(Migration, LinuxMethodShootsDownPerPage) {
  SlowRig s;
  const uint64_t flushes = s.rig.vm.counters().tlb_flushes;
  s.rig.mech.migrate(s.data_pages(0, 5), Tier::Fast, MigrationMethod::Linux);
  s.rig.run_events();  // each when its page's window opens (MigrationWindows.* in model_rules_test)
  EXPECT_EQ(s.rig.vm.counters().tlb_flushes, flushes + 5)
      << "one shootdown per unmapped page (1 vCPU)";
}

TEST(Migration, LinuxMethodRefaultsAnUntouchedPageOnceAfterTheCopy) {
  SlowRig s;
  auto& m = s.rig.mech;
  m.migrate(s.data_pages(0, 2), Tier::Fast, MigrationMethod::Linux);
  s.rig.run_events();
  s.rig.vm.set_clock_ns(0, std::max(s.rig.vm.clock_ns(0), m.now_ns()));  // past every copy window
  s.rig.access(0, 0, kRead);
  EXPECT_EQ(s.rig.vm.counters().remap_faults, 1u) << "the unmapped EPT entry is faulted back in";
  EXPECT_EQ(s.rig.vm.counters().migration_traps, 1u);
  EXPECT_EQ(s.rig.vm.counters().trap_wait_ns, 0.0) << "nothing to wait for after the copy";
  m.flush_tlbs();
  s.rig.access(0, 0, kRead);
  EXPECT_EQ(s.rig.vm.counters().remap_faults, 1u) << "mapped again: no second fault";
  EXPECT_EQ(s.rig.vm.counters().migration_traps, 1u);
}

// The fault a vCPU takes on a page during its copy is the one that maps the new
// page once the copy ends (KVM's fault handler waits on the migration, then
// maps): the page must not be faulted in a second time later.
TEST(Migration, LinuxMethodPageFaultedDuringTheCopyIsNotFaultedAgain) {
  SlowRig s;
  auto& m = s.rig.mech;
  m.migrate(s.data_pages(0, 1), Tier::Fast, MigrationMethod::Linux);
  s.rig.access(0, 0, kRead);  // traps, waits for the copy
  ASSERT_EQ(s.rig.vm.counters().migration_traps, 1u);
  s.rig.run_events();
  m.flush_tlbs();
  const uint64_t exits = s.rig.vm.counters().vm_exits;
  s.rig.access(0, 0, kRead);
  EXPECT_EQ(s.rig.vm.counters().migration_traps, 1u) << "one fault per page per migration";
  EXPECT_EQ(s.rig.vm.counters().vm_exits, exits);
}

TEST(Migration, WriteProtectMethodTrapsWritesOnly) {
  SlowRig s;
  auto& m = s.rig.mech;
  const double start = m.now_ns();
  m.migrate(s.data_pages(0, 8), Tier::Fast, MigrationMethod::WriteProtect);
  const double page0_end = s.first_page_end(start);
  s.rig.access(0, 0, kRead);
  s.rig.access(0, 0, kRead, 1);
  EXPECT_EQ(s.rig.vm.counters().migration_traps, 0u) << "reads go on during a write-protected copy";
  ASSERT_LT(s.rig.vm.clock_ns(0), page0_end);
  s.rig.access(0, 0, kWrite);  // a write through the clean entry: the dirty assist traps
  EXPECT_EQ(s.rig.vm.counters().migration_traps, 1u);
  EXPECT_GE(s.rig.vm.clock_ns(0), page0_end);
}

TEST(Migration, WriteProtectMethodRepointsAtCompletion) {
  SlowRig s;
  const std::vector<Gpa> gs = s.data_pages(0, 2);
  s.rig.mech.migrate(gs, Tier::Fast, MigrationMethod::WriteProtect);
  EXPECT_EQ(s.rig.mech.used_pages(Tier::Fast), 2u) << "the destination is reserved up front";
  s.rig.run_events();
  for (Gpa g : gs) EXPECT_EQ(s.rig.mech.tier_of(g), Tier::Fast);
  EXPECT_EQ(s.rig.vm.counters().remap_faults, 0u);
}

TEST(Migration, PmlMethodRecopiesPagesWrittenDuringTheCopy) {
  SlowRig s;
  auto& m = s.rig.mech;
  const std::vector<Gpa> gs = s.data_pages(0, 4);
  const uint64_t flushes = s.rig.vm.counters().tlb_flushes;
  const MigrationResult r = m.migrate(gs, Tier::Fast, MigrationMethod::Pml);
  EXPECT_EQ(r.moved, 4u);
  EXPECT_EQ(s.rig.vm.counters().tlb_flushes, flushes + 1) << "one shootdown for the whole batch";
  ASSERT_LT(s.rig.vm.clock_ns(0), m.now_ns());
  s.rig.access(0, 0, kWrite);  // written during the first pass
  s.rig.access(0, 1, kRead);   // only read
  EXPECT_EQ(s.rig.vm.counters().migration_traps, 0u)
      << "the first pass copies with the pages mapped";
  EXPECT_EQ(s.rig.vm.counters().recopied, 0u);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, 4 * kPageSize);

  s.rig.host.run_next_event();  // first pass done: re-copy what was dirtied
  EXPECT_EQ(s.rig.vm.counters().recopied, 1u);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, 5 * kPageSize);
  ASSERT_LT(s.rig.host.next_event_time(), 1e299) << "the second pass schedules the completion";
  s.rig.host.run_next_event();
  EXPECT_GE(s.rig.host.next_event_time(), 1e299);
  for (Gpa g : gs) {
    EXPECT_EQ(m.tier_of(g), Tier::Fast);
    EXPECT_FALSE(s.rig.vm.ept_bits(g) & sim::kEptMigrating);
  }
  EXPECT_EQ(s.rig.vm.counters().recopied, 1u);
}

TEST(Migration, PmlMethodRecopiesNothingWhenNothingWasWritten) {
  SlowRig s;
  s.rig.mech.migrate(s.data_pages(0, 4), Tier::Fast, MigrationMethod::Pml);
  s.rig.access(0, 2, kRead);
  s.rig.run_events();
  EXPECT_EQ(s.rig.vm.counters().recopied, 0u);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, 4 * kPageSize);
}

}  // namespace migration_test
}  // namespace vtmm::test
