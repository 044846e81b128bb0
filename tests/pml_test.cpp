// Page-modification logging: a GPA is logged only when its EPT D bit goes
// from 0 to 1, and the 512th entry of a vCPU's buffer causes a VM exit.
// The page walker's update of the guest PTE counts as a write to the
// page-table page for EPT purposes (Intel SDM 3C, "EPT A/D flags"), so the
// first walk through a leaf page-table page logs that page too.
#include <gtest/gtest.h>

#include <algorithm>
#include <set>

#include "tests/sim_test_support.hpp"

namespace vtmm::test {
namespace pml_test {

constexpr uint8_t kD = PteBits::kDirty;

TEST(Pml, FirstWriteLogsDataPageAndPageTablePage) {
  SimRig rig(vm_config(64, 32, 1, /*pml=*/true));
  rig.access(0, 4, kWrite);
  const Gpa data = rig.gpa(4), table = rig.gpt(4);
  EXPECT_EQ(rig.vm.counters().pml_entries, 2u);
  std::vector<Gpa> log = rig.drain_pml();
  std::sort(log.begin(), log.end());
  EXPECT_EQ(log, (std::vector<Gpa>{std::min(data, table), std::max(data, table)}));
}

TEST(Pml, LogsOnlyOnDirtyTransition) {
  SimRig rig(vm_config(64, 32, 1, true));
  rig.access(0, 4, kWrite);
  const Gpa data = rig.gpa(4);
  rig.drain_pml();
  const uint64_t entries = rig.vm.counters().pml_entries;

  rig.access(0, 4, kWrite);
  rig.access(0, 4, kWrite, 9);
  EXPECT_EQ(rig.vm.counters().pml_entries, entries) << "D is already 1: nothing to log";
  EXPECT_TRUE(rig.drain_pml().empty());

  // D still set in the EPT: a re-walk (after a flush) logs nothing either.
  rig.mech.flush_tlbs();
  rig.access(0, 4, kWrite);
  EXPECT_EQ(rig.vm.counters().pml_entries, entries);

  const Gpa gs[] = {data};
  rig.mech.clear_ept_bits(gs, kD);
  rig.mech.flush_tlbs();
  rig.access(0, 4, kWrite);
  EXPECT_EQ(rig.vm.counters().pml_entries, entries + 1);
  EXPECT_EQ(rig.drain_pml(), std::vector<Gpa>{data}) << "the page-table page is still dirty";
}

TEST(Pml, ClearedDirtyBitBehindLiveTlbEntryIsNotLoggedUntilFlush) {
  SimRig rig(vm_config(64, 32, 1, true));
  rig.access(0, 4, kWrite);
  const Gpa data = rig.gpa(4);
  rig.drain_pml();
  const Gpa gs[] = {data};
  rig.mech.clear_ept_bits(gs, kD);
  rig.access(0, 4, kWrite);  // TLB entry is dirty: no walk, no assist
  EXPECT_TRUE(rig.drain_pml().empty());
  EXPECT_EQ(rig.mech.ept_bits(data) & kD, 0);
}

TEST(Pml, ReadsNeverLog) {
  SimRig rig(vm_config(64, 32, 1, true));
  rig.access(0, 0, kWrite);  // dirties the shared page-table page
  rig.drain_pml();
  const uint64_t entries = rig.vm.counters().pml_entries;
  for (uint64_t vpn = 1; vpn < 20; ++vpn) rig.access(0, vpn, kRead);
  rig.mech.flush_tlbs();
  for (uint64_t vpn = 0; vpn < 20; ++vpn) rig.access(0, vpn, kRead, 2);
  EXPECT_EQ(rig.vm.counters().pml_entries, entries);
  EXPECT_TRUE(rig.drain_pml().empty());
  for (uint64_t vpn = 1; vpn < 20; ++vpn) EXPECT_EQ(rig.mech.ept_bits(rig.gpa(vpn)) & kD, 0) << vpn;
}

TEST(Pml, NothingIsLoggedWhilePmlIsOff) {
  SimRig rig(vm_config(64, 32, 1, false));
  rig.access(0, 2, kWrite);
  EXPECT_EQ(rig.vm.counters().pml_entries, 0u);
  EXPECT_TRUE(rig.drain_pml().empty());
  EXPECT_EQ(rig.mech.ept_bits(rig.gpa(2)) & kD, kD) << "D is still tracked without PML";
}

TEST(Pml, FullBufferCausesOneExitAndLosesNothing) {
  // One 2 MiB range: 512 data pages behind one page-table page.
  SimRig rig(vm_config(1024, kPtesPerPage, 1, false));
  const uint32_t buffer = rig.host.prof.pml_buffer_entries;
  ASSERT_EQ(buffer, 512u);
  for (uint64_t vpn = 0; vpn < kPtesPerPage; ++vpn)
    rig.access(0, vpn, kRead);  // back every page, PML off
  std::vector<Gpa> backed;
  for (Gpa g = 0; g < rig.mech.guest_pages(); ++g)
    if (rig.mech.backed(g)) backed.push_back(g);
  ASSERT_EQ(backed.size(), kPtesPerPage + 1u);
  rig.mech.clear_ept_bits(backed, kD);
  rig.mech.set_pml(true);
  rig.mech.flush_tlbs();
  const sim::Counters before = rig.vm.counters();

  // vpn 0 logs the page-table page and its data page; each later vpn its data page.
  std::set<Gpa> expect = {rig.gpt(0)};
  uint64_t vpn = 0;
  for (; expect.size() < buffer - 1; ++vpn) {
    rig.access(0, vpn, kWrite);
    expect.insert(rig.gpa(vpn));
  }
  sim::Counters d = rig.vm.counters() - before;
  EXPECT_EQ(d.pml_entries, buffer - 1);
  EXPECT_EQ(d.pml_full_exits, 0u);
  EXPECT_EQ(d.vm_exits, 0u);

  const double cost = rig.access(0, vpn, kWrite);  // the 512th entry
  expect.insert(rig.gpa(vpn));
  d = rig.vm.counters() - before;
  EXPECT_EQ(d.pml_entries, buffer);
  EXPECT_EQ(d.pml_full_exits, 1u);
  EXPECT_EQ(d.vm_exits, 1u);
  EXPECT_GE(cost, rig.host.prof.vm_exit_ns + buffer * rig.host.prof.pml_entry_ns)
      << "the vCPU pays the exit and the handling of each entry";

  const std::vector<Gpa> log = rig.drain_pml();
  EXPECT_EQ(log.size(), buffer);
  EXPECT_EQ(std::set<Gpa>(log.begin(), log.end()), expect);
  EXPECT_EQ((rig.vm.counters() - before).vm_exits, 1u)
      << "an empty buffer needs no kick when drained";
}

TEST(Pml, DrainKicksVcpusWithPendingEntries) {
  SimRig rig(vm_config(64, 32, 2, true));
  rig.access(0, 1, kWrite);
  rig.access(1, 2, kWrite);
  const uint64_t exits = rig.vm.counters().vm_exits;
  std::vector<Gpa> log = rig.drain_pml();
  EXPECT_EQ(rig.vm.counters().vm_exits, exits + 2) << "one kick per vCPU whose buffer held entries";
  std::sort(log.begin(), log.end());
  std::vector<Gpa> expect = {rig.gpt(1), rig.gpa(1), rig.gpa(2)};
  std::sort(expect.begin(), expect.end());
  EXPECT_EQ(log, expect);
  EXPECT_TRUE(rig.drain_pml().empty());
  EXPECT_EQ(rig.vm.counters().vm_exits, exits + 2);
}

}  // namespace pml_test
}  // namespace vtmm::test
