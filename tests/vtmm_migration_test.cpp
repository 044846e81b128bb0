// vTMM's PML-assisted migration (MigrationMethod::Pml) against the Linux
// method, on the simulated VM (vtmm/sim/migration.cpp):
//  - Pml copies the batch while it stays mapped (no trap in that first pass),
//    then copies again exactly the pages written meanwhile; only accesses in
//    that short second window trap; the pages change tier when it completes;
//  - Linux unmaps each page for its copy; the first access after the
//    migration takes one fault that maps the new page, and only one.
#include <gtest/gtest.h>

#include "tests/vtmm_test_support.hpp"

namespace vtmm::test {
namespace vtmm_migration_test {

constexpr uint64_t kBacked = 12;  // vpns 0..11, backed on the slow tier

// The first kBacked virtual pages on the slow tier; the hypervisor thread at
// the vCPU's time, as a policy tick would find it.
struct SlowBacked {
  SimRig rig{[] {
    sim::VmConfig c = vm_config(256, 64);
    c.fast_pages = 16;
    return c;
  }()};
  SlowBacked() {
    rig.policy.tier = Tier::Slow;
    for (uint64_t vpn = 0; vpn < kBacked; ++vpn) rig.access(0, vpn, kRead);
    rig.mech.thread().clock_ns = rig.vm.clock_ns(0);
  }
  std::vector<Gpa> gpas(uint64_t first_vpn, uint64_t n) const {
    std::vector<Gpa> gs;
    for (uint64_t vpn = first_vpn; vpn < first_vpn + n; ++vpn) gs.push_back(rig.gpa(vpn));
    return gs;
  }
  double vcpu_clock() const { return rig.vm.clock_ns(0); }
  bool no_events() const { return rig.host.next_event_time() >= 1e299; }
};

TEST(VtmmMigration, PmlRecopiesExactlyThePagesWrittenDuringTheFirstPass) {
  SlowBacked s;
  auto& c = s.rig.vm.counters();
  const std::vector<Gpa> batch = s.gpas(0, 8);
  const MigrationResult r = s.rig.mech.migrate(batch, Tier::Fast, MigrationMethod::Pml);
  ASSERT_EQ(r.moved, 8u);
  const double first_pass_end = s.rig.mech.now_ns();

  s.rig.access(0, 1, kWrite);
  s.rig.access(0, 3, kRead);
  s.rig.access(0, 3, kWrite);
  s.rig.access(0, 5, kWrite);
  s.rig.access(0, 5, kWrite, 7);  // the same page again
  s.rig.access(0, 0, kRead);      // read only
  s.rig.access(0, 2, kRead);
  s.rig.access(0, 10, kWrite);  // not in the batch
  ASSERT_LT(s.vcpu_clock(), first_pass_end) << "the accesses must fall in the first pass";
  EXPECT_EQ(c.recopied, 0u);
  EXPECT_EQ(c.copied_bytes, 8 * kPageSize);

  s.rig.host.run_next_event();  // end of the first pass: the second
  EXPECT_EQ(c.recopied, 3u) << "vpns 1, 3 and 5";
  EXPECT_EQ(c.copied_bytes, (8 + 3) * kPageSize);
  ASSERT_FALSE(s.no_events());
  s.rig.host.run_next_event();  // completion
  EXPECT_TRUE(s.no_events());
  EXPECT_EQ(c.recopied, 3u);
  for (Gpa g : batch) EXPECT_EQ(s.rig.mech.tier_of(g), Tier::Fast) << g;
  EXPECT_TRUE(s.rig.vm.inflight_batches().empty());
}

TEST(VtmmMigration, PmlRecopiesNothingWhenTheBatchIsOnlyRead) {
  SlowBacked s;
  s.rig.mech.migrate(s.gpas(0, 6), Tier::Fast, MigrationMethod::Pml);
  for (uint64_t vpn = 0; vpn < 6; ++vpn) s.rig.access(0, vpn, kRead, 3);
  s.rig.run_events();
  EXPECT_EQ(s.rig.vm.counters().recopied, 0u);
  EXPECT_EQ(s.rig.vm.counters().copied_bytes, 6 * kPageSize);
}

TEST(VtmmMigration, PmlFirstPassDoesNotTrap) {
  SlowBacked s;
  auto& c = s.rig.vm.counters();
  s.rig.mech.migrate(s.gpas(0, 8), Tier::Fast, MigrationMethod::Pml);
  const double first_pass_end = s.rig.mech.now_ns();
  const uint64_t exits = c.vm_exits, fast_misses = c.tier_misses[0], slow_misses = c.tier_misses[1];
  for (uint64_t vpn = 0; vpn < 8; ++vpn) {
    s.rig.access(0, vpn, vpn % 2 ? kWrite : kRead, /*line=*/9);  // a line not cached yet
  }
  EXPECT_EQ(c.migration_traps, 0u);
  EXPECT_EQ(c.vm_exits, exits) << "no exit of any kind";
  EXPECT_EQ(c.trap_wait_ns, 0.0);
  EXPECT_LT(s.vcpu_clock(), first_pass_end) << "no vCPU waited for the copy";
  EXPECT_GE(c.tier_misses[1], slow_misses + 8)
      << "still mapped on the source tier while it is copied";
  EXPECT_EQ(c.tier_misses[0], fast_misses) << "nothing is served from the destination yet";
}

TEST(VtmmMigration, PmlOnlyTheSecondPassTraps) {
  SlowBacked s;
  auto& c = s.rig.vm.counters();
  s.rig.mech.migrate(s.gpas(0, 8), Tier::Fast, MigrationMethod::Pml);
  s.rig.access(0, 2, kWrite);  // one page to copy again
  s.rig.host.run_next_event();
  ASSERT_EQ(c.recopied, 1u);
  ASSERT_EQ(s.rig.vm.inflight_batches().size(), 1u);
  const double start = s.rig.vm.inflight_batches()[0].start[0],
               end = s.rig.vm.inflight_batches()[0].end[0];
  ASSERT_LT(start, end);
  EXPECT_EQ(c.migration_traps, 0u);

  s.rig.vm.set_clock_ns(0, start);  // a vCPU that reaches the batch during the second pass
  s.rig.access(0, 6, kRead);        // a page that was not written: it traps all the same
  EXPECT_EQ(c.migration_traps, 1u);
  EXPECT_GE(s.vcpu_clock(), end) << "it waits for the second pass to end";
  s.rig.run_events();
  s.rig.access(0, 7, kRead);
  EXPECT_EQ(c.migration_traps, 1u);
}

TEST(VtmmMigration, PmlPagesChangeTierWhenTheMigrationCompletes) {
  SlowBacked s;
  const std::vector<Gpa> batch = s.gpas(0, 4);
  s.rig.mech.migrate(batch, Tier::Fast, MigrationMethod::Pml);
  EXPECT_EQ(s.rig.mech.used_pages(Tier::Fast), 4u) << "the destination is reserved up front";
  for (Gpa g : batch)
    EXPECT_EQ(s.rig.mech.tier_of(g), Tier::Slow) << "first pass: still on the source";
  s.rig.access(0, 1, kWrite);
  s.rig.host.run_next_event();
  for (Gpa g : batch)
    EXPECT_EQ(s.rig.mech.tier_of(g), Tier::Slow) << "second pass: still on the source";
  s.rig.host.run_next_event();
  ASSERT_TRUE(s.no_events());
  for (Gpa g : batch) EXPECT_EQ(s.rig.mech.tier_of(g), Tier::Fast) << "completed: re-pointed";
  EXPECT_EQ(s.rig.mech.tier_of(s.rig.gpa(4)), Tier::Slow);
}

TEST(VtmmMigration, LinuxLaterAccessTakesExactlyOneRemapFault) {
  SlowBacked s;
  auto& c = s.rig.vm.counters();
  const std::vector<Gpa> batch = s.gpas(0, 4);
  s.rig.mech.migrate(batch, Tier::Fast, MigrationMethod::Linux);
  s.rig.run_events();
  for (Gpa g : batch) EXPECT_EQ(s.rig.mech.tier_of(g), Tier::Fast) << g;
  ASSERT_EQ(c.remap_faults, 0u);
  const uint64_t exits = c.vm_exits;

  s.rig.access(0, 0, kRead);
  EXPECT_EQ(c.remap_faults, 1u) << "the entry was zapped: the first access maps the new page";
  EXPECT_EQ(c.vm_exits, exits + 1);
  s.rig.access(0, 0, kWrite, 4);
  s.rig.mech.flush_tlbs();
  s.rig.access(0, 0, kRead, 8);  // walks again: the entry is mapped now
  EXPECT_EQ(c.remap_faults, 1u) << "only one fault per migrated page";

  for (uint64_t vpn = 1; vpn < 4; ++vpn) s.rig.access(0, vpn, kWrite);
  EXPECT_EQ(c.remap_faults, 4u);
  s.rig.access(0, 6, kRead);  // not migrated
  EXPECT_EQ(c.remap_faults, 4u);
  EXPECT_EQ(c.migration_traps, 4u);
}

// An access during a page's Linux-style copy faults, waits for the copy and
// then maps the new page (in KVM: one EPT violation that waits on the host's
// migration entry, then installs the new PFN). That fault is the page's only
// one: a later access, after the batch completes, must not fault again.
TEST(VtmmMigration, LinuxAccessDuringTheCopyIsThePagesOnlyFault) {
  SlowBacked s;
  auto& c = s.rig.vm.counters();
  const std::vector<Gpa> batch = s.gpas(0, 8);
  s.rig.mech.migrate(batch, Tier::Fast, MigrationMethod::Linux);
  ASSERT_EQ(s.rig.vm.inflight_batches().size(), 1u);
  const auto& f = s.rig.vm.inflight_batches()[0];
  // A page whose copy is under way at the vCPU's time (moving the vCPU up to
  // the next copy window if it sits between two).
  size_t in_copy = f.pages.size();
  for (size_t i = 0; i < f.pages.size() && in_copy == f.pages.size(); ++i)
    if (s.vcpu_clock() < f.end[i]) in_copy = i;
  ASSERT_LT(in_copy, f.pages.size()) << "the vCPU must reach the batch before its copy ends";
  if (s.vcpu_clock() < f.start[in_copy]) s.rig.vm.set_clock_ns(0, f.start[in_copy]);
  const Gpa g = f.pages[in_copy];
  const uint64_t vpn = s.rig.vm.owner_of(g);
  ASSERT_EQ(s.rig.gpa(vpn), g);

  s.rig.access(0, vpn, kRead);  // faults and waits for the copy
  EXPECT_GE(c.migration_traps, 1u);
  EXPECT_GT(c.trap_wait_ns, 0.0);
  s.rig.run_events();
  s.rig.mech.flush_tlbs();
  const uint64_t traps = c.migration_traps, remaps = c.remap_faults, exits = c.vm_exits;
  s.rig.access(0, vpn, kRead, 5);  // after the batch completed: walks again
  EXPECT_EQ(c.migration_traps, traps) << "a second fault for the same migrated page";
  EXPECT_EQ(c.remap_faults, remaps)
      << "the fault that waited for the copy already mapped the new page";
  EXPECT_EQ(c.vm_exits, exits);
}

}  // namespace vtmm_migration_test
}  // namespace vtmm::test
