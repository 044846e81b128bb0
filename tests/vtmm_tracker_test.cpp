// vTMM's trackers (vtmm/policy/tracker.hpp) on the simulated VM, PML on:
//  - PmlGptTracker scans only the guest page-table pages that PML logged
//    (walked since the last window), tells reads from writes per data page,
//    picks up page-table pages as the guest's tables grow, flushes the vCPUs'
//    TLBs once per window, and leaves alone (does not re-arm) a page-table
//    page whose PTEs are all in their MLQ do-not-disturb period;
//  - GptScanTracker (no PML) scans every table not left alone each window and
//    decides as the PML tracker does when every table is walked;
//  - EptScanner (the ablation) reads every EPT entry every window;
//  - a vCPU's 512-entry PML buffer causes one exit per 512 logged GPAs;
//  - in an aged guest (tables handed over in an order unrelated to their
//    GPAs, state re-ordered by GPA as tables arrive) every PTE is decided as
//    in a guest whose tables arrive in GPA order;
//  - the tracker's queued stores to seen[] (SeenWrites) leave exactly what
//    the same stores made directly would, across many blocks.
//
// Layout of the VMs below: 1536 virtual pages (three 2 MiB groups, so three
// leaf page-table pages once touched) in 2048 guest pages.
#include <gtest/gtest.h>

#include <random>

#include "tests/vtmm_test_support.hpp"

namespace vtmm::test {
namespace vtmm_tracker_test {

using policy::EptScanner;
using policy::GptScanTracker;
using policy::MlqConfig;
using policy::MlqPage;
using policy::PmlGptTracker;
using policy::Seen;

constexpr uint64_t kMemPages = 2048, kVaPages = 1536;

struct PmlRig : TrackerRig<PmlGptTracker> {
  explicit PmlRig(uint32_t vcpus = 1, MlqConfig cfg = {})
      : TrackerRig(vm_config(kMemPages, kVaPages, vcpus, /*pml=*/true), PmlGptTracker(cfg)) {}
};
struct EptRig : TrackerRig<EptScanner> {
  explicit EptRig(uint32_t vcpus = 1)
      : TrackerRig(vm_config(kMemPages, kVaPages, vcpus, false), EptScanner{}) {}
};

struct ScanRig : TrackerRig<GptScanTracker> {
  explicit ScanRig(MlqConfig cfg = {})
      : TrackerRig(vm_config(kMemPages, kVaPages, 1, /*pml=*/false), GptScanTracker(cfg)) {}
};

bool ept_dirty(const SimRig& rig, Gpa g) { return (rig.vm.ept_bits(g) & sim::kEptD) != 0; }

TEST(VtmmTracker, ScansOnlyPageTablePagesThatPmlLogged) {
  PmlRig t;
  for (uint64_t vpn : {0u, 512u, 1024u}) t.rig.access(0, vpn, kRead);
  t.window();
  EXPECT_EQ(t.st.gpt_scanned, 3u) << "three tables, each walked (and logged) since attach";
  EXPECT_EQ(t.st.ptes_scanned, 3u * kPtesPerPage);

  t.rig.access(0, 517, kRead);  // walks only the second group's table
  t.window();
  EXPECT_EQ(t.st.gpt_scanned, 4u);
  EXPECT_EQ(t.st.ptes_scanned, 4u * kPtesPerPage);
  EXPECT_EQ(t.seen_of(t.rig.gpa(517)), Seen::Read);
  EXPECT_EQ(t.seen_of(t.rig.gpt(517)), Seen::Write) << "a logged table was walked";
  EXPECT_EQ(t.seen_of(t.rig.gpt(0)), Seen::None);
  EXPECT_EQ(t.seen_of(t.rig.gpa(0)), Seen::None);
  EXPECT_EQ(t.seen_of(t.rig.gpa(1024)), Seen::None);

  const double before = t.rig.vm.counters().tracking_ns;
  t.window();  // nothing walked: nothing scanned
  EXPECT_EQ(t.st.gpt_scanned, 4u);
  EXPECT_LT(t.rig.vm.counters().tracking_ns - before, kPtesPerPage * t.rig.host.prof.pte_scan_ns)
      << "not even one table's worth of PTE reads";
}

TEST(VtmmTracker, RecordsReadVersusWritePerDataPage) {
  PmlRig t;
  t.rig.access(0, 0, kWrite);
  t.rig.access(0, 1, kRead);
  t.rig.access(0, 2, kRead);
  t.rig.access(0, 2, kWrite);  // read, then written in the same window
  t.window();
  EXPECT_EQ(t.seen_of(t.rig.gpa(0)), Seen::Write);
  EXPECT_EQ(t.seen_of(t.rig.gpa(1)), Seen::Read);
  EXPECT_EQ(t.seen_of(t.rig.gpa(2)), Seen::Write);

  t.rig.access(0, 0, kRead);
  t.rig.access(0, 1, kWrite);
  t.window();
  EXPECT_EQ(t.seen_of(t.rig.gpa(0)), Seen::Read) << "its dirty bit was cleared by the last window";
  EXPECT_EQ(t.seen_of(t.rig.gpa(1)), Seen::Write);
  EXPECT_EQ(t.seen_of(t.rig.gpa(2)), Seen::None) << "scanned, not accessed";
}

TEST(VtmmTracker, PicksUpPageTablePagesAsTheGuestTablesGrow) {
  PmlRig t;
  t.rig.access(0, 0, kRead);
  t.window();
  EXPECT_TRUE(t.tracker.is_gpt()[t.rig.gpt(0)]);
  EXPECT_EQ(t.st.gpt_scanned, 1u);

  t.rig.access(0, 600, kRead);  // first page of the second group: a new table
  const Gpa table = t.rig.gpt(600);
  EXPECT_FALSE(t.tracker.is_gpt()[table]);
  t.window();
  EXPECT_TRUE(t.tracker.is_gpt()[table]);
  EXPECT_EQ(t.st.gpt_scanned, 2u);
  EXPECT_EQ(t.seen_of(t.rig.gpa(600)), Seen::Read);
  EXPECT_FALSE(ept_dirty(t.rig, table)) << "armed: its next walk is logged";

  t.rig.access(0, 601, kRead);
  t.window();
  EXPECT_EQ(t.st.gpt_scanned, 3u);
  EXPECT_EQ(t.seen_of(t.rig.gpa(601)), Seen::Read);
}

TEST(VtmmTracker, FlushesEveryVcpuTlbOncePerWindow) {
  constexpr uint32_t kVcpus = 3;
  PmlRig t(kVcpus);
  for (uint32_t w = 0; w < 6; ++w) {
    for (uint32_t v = 0; v < kVcpus; ++v) {
      t.rig.access(v, v * 512u + w, kWrite);  // each vCPU in its own group: three tables logged
      t.rig.access(v, v * 512u + 100 + w, kRead);
    }
    const uint64_t flushes = t.rig.vm.counters().tlb_flushes;
    t.window();
    EXPECT_EQ(t.rig.vm.counters().tlb_flushes, flushes + kVcpus) << "window " << w;
  }
  EXPECT_EQ(t.rig.vm.counters().tlb_flushes, 6u * kVcpus);
  // The flush makes the next access to a cached page walk again.
  const uint64_t misses = t.rig.vm.counters().tlb_misses;
  t.rig.access(0, 5, kRead);
  EXPECT_EQ(t.rig.vm.counters().tlb_misses, misses + 1);
}

// A single page read in every window: MLQ levels 0 (windows 0), 1 (1-2) and
// 2 (3-5: left alone in 4 and 5). At window 3 its only PTE enters a 2-window
// period: the table is not re-armed (the walks of window 4 log nothing) and
// is scanned again only when the period ends (window 5).
TEST(VtmmTracker, TableWithEveryPteInDoNotDisturbIsNotRearmedAndIsSkipped) {
  PmlRig t;
  const auto step = [&] {
    t.rig.access(0, 0, kRead);
    return t.window();
  };
  for (int i = 0; i < 3; ++i) step();  // windows 0..2
  EXPECT_EQ(t.st.gpt_skipped, 0u);
  EXPECT_EQ(t.st.gpt_scanned, 3u);
  const Gpa d = t.rig.gpa(0), table = t.rig.gpt(0);

  step();  // window 3
  EXPECT_EQ(t.tracker.page(d).level(), 2);
  EXPECT_EQ(t.tracker.page(d).state(), MlqPage::Dnd);
  EXPECT_EQ(t.st.gpt_scanned, 4u);
  EXPECT_EQ(t.st.gpt_skipped, 1u);
  EXPECT_TRUE(ept_dirty(t.rig, table)) << "not re-armed";

  const uint64_t drained = t.st.pml_drained;
  step();  // window 4: the walk through the table is not logged; it is not scanned
  EXPECT_EQ(t.st.pml_drained, drained);
  EXPECT_EQ(t.st.gpt_scanned, 4u);
  EXPECT_EQ(t.seen_of(d), Seen::Read) << "left alone: it is assumed to keep doing what it did";

  step();  // window 5: the period ends, the table is due
  EXPECT_EQ(t.st.gpt_scanned, 5u);
  EXPECT_EQ(t.tracker.page(d).state(), MlqPage::Probe);
  EXPECT_FALSE(ept_dirty(t.rig, table)) << "re-armed for the probe window";

  step();  // window 6: seen in its probe window, up to level 3 (4 windows)
  EXPECT_EQ(t.st.gpt_scanned, 6u);
  EXPECT_EQ(t.tracker.page(d).level(), 3);
  EXPECT_EQ(t.st.gpt_skipped, 2u);
}

TEST(VtmmTracker, TableWithAPteOutsideDoNotDisturbIsRearmed) {
  PmlRig t;
  t.rig.access(0, 1, kRead);  // touched once, then never again (same table)
  for (int i = 0; i < 4; ++i) {
    t.rig.access(0, 0, kRead);
    t.window();
  }
  ASSERT_EQ(t.tracker.page(t.rig.gpa(0)).state(), MlqPage::Dnd);
  EXPECT_NE(t.tracker.page(t.rig.gpa(1)).state(), MlqPage::Dnd);
  EXPECT_EQ(t.st.gpt_skipped, 0u);
  EXPECT_FALSE(ept_dirty(t.rig, t.rig.gpt(0)));
  t.rig.access(0, 0, kRead);
  t.window();
  EXPECT_EQ(t.st.gpt_scanned, 5u) << "logged and scanned in every window";
}

// vTMM's MLQ: at the end of a page's do-not-disturb period its bits are
// cleared, and if it is not seen in the next (probe) window it is not seen.
// Here a page is read in windows 0 and 1 (level 1: window 2 is its period)
// and never again, nor is anything else in its 2 MiB group: from window 3 on
// the tracker must report it as not seen.
TEST(VtmmTracker, PageLeftIdleAfterItsPeriodIsNotSeenAgain) {
  PmlRig t;
  t.rig.access(0, 0, kRead);
  t.window();
  t.rig.access(0, 0, kRead);
  t.window();  // window 1
  const Gpa d = t.rig.gpa(0);
  ASSERT_EQ(t.tracker.page(d).level(), 1);
  ASSERT_EQ(t.tracker.page(d).state(), MlqPage::Dnd);
  t.window();  // window 2: its period; carried over
  EXPECT_EQ(t.seen_of(d), Seen::Read);
  for (uint32_t k = 3; k < 10; ++k) {
    t.window();
    EXPECT_EQ(t.seen_of(d), Seen::None) << "window " << k << ": not accessed since window 1";
  }
  EXPECT_NE(t.tracker.page(d).state(), MlqPage::Dnd) << "its 1-window period ended in window 2";
}

// The same when the table was re-armed because another of its PTEs was not in
// a period: page 0 is read in windows 0..3 (level 2 from window 3: windows 4
// and 5 are its period), page 1 only before window 0; then the group is idle.
// docs/vtmm.md, "One window", step 2: tables whose periods end now are scanned.
TEST(VtmmTracker, IdleTableIsScannedWhenAPeriodEndsEvenIfItWasRearmed) {
  PmlRig t;
  t.rig.access(0, 1, kRead);
  for (int i = 0; i < 4; ++i) {
    t.rig.access(0, 0, kRead);
    t.window();  // windows 0..3
  }
  const Gpa d = t.rig.gpa(0);
  ASSERT_EQ(t.tracker.page(d).level(), 2);
  ASSERT_EQ(t.tracker.page(d).state(), MlqPage::Dnd);
  ASSERT_EQ(t.tracker.page(d).until_near(5), 5u);
  ASSERT_EQ(t.st.gpt_skipped, 0u) << "re-armed: page 1 is not in a period";
  const uint64_t scanned = t.st.gpt_scanned;
  t.window();  // window 4
  t.window();  // window 5: the period ends
  EXPECT_EQ(t.st.gpt_scanned, scanned + 1) << "the table must be scanned when the period ends";
  for (uint32_t k = 6; k < 12; ++k) {
    t.window();
    EXPECT_EQ(t.seen_of(d), Seen::None) << "window " << k << ": not accessed since window 3";
  }
}

TEST(VtmmTracker, PmlFullExitOncePer512LoggedEntries) {
  ASSERT_EQ(sim::HostProfile::load("optane", small_host_overrides()).pml_buffer_entries, 512u);
  PmlRig t;
  for (uint64_t vpn = 0; vpn < 1100; ++vpn)
    t.rig.access(0, vpn, kWrite);  // 1100 first writes, 3 tables
  EXPECT_EQ(t.rig.vm.counters().pml_entries, 1103u);
  EXPECT_EQ(t.rig.vm.counters().pml_full_exits, 2u)
      << "1103 entries: the 512th and the 1024th fill the buffer";
  t.window();
  EXPECT_EQ(t.st.pml_drained, 1103u) << "entries saved at full exits reach the tracker too";
  EXPECT_EQ(t.st.gpt_scanned, 3u);

  // Per vCPU: two vCPUs logging 301 entries each fill neither buffer.
  PmlRig two(2);
  for (uint64_t i = 0; i < 300; ++i) {
    two.rig.access(0, i, kWrite);
    two.rig.access(1, 512 + i, kWrite);
  }
  EXPECT_EQ(two.rig.vm.counters().pml_entries, 602u);
  EXPECT_EQ(two.rig.vm.counters().pml_full_exits, 0u);
  two.window();
  EXPECT_EQ(two.st.pml_drained, 602u);
}

TEST(VtmmEptScanner, ReadsEveryEptEntryEachWindow) {
  EptRig t;
  t.rig.access(0, 0, kWrite);
  t.rig.access(0, 1, kRead);
  const double before = t.rig.vm.counters().tracking_ns;
  t.window();
  EXPECT_EQ(t.st.ept_scanned, kMemPages);
  // Per entry ept_bit_ns; the three present entries share one EPT line,
  // never cached before: one miss on the fast tier (docs/simulator.md).
  EXPECT_EQ(t.rig.vm.counters().scan_llc_misses, 1u);
  const auto& p = t.rig.host.prof;
  EXPECT_DOUBLE_EQ(t.rig.vm.counters().tracking_ns - before,
                   kMemPages * p.ept_bit_ns + p.tier[0].read_latency_ns / p.scan_mlp);
  EXPECT_EQ(t.seen_of(t.rig.gpa(0)), Seen::Write);
  EXPECT_EQ(t.seen_of(t.rig.gpa(1)), Seen::Read);
  EXPECT_EQ(t.seen_of(t.rig.gpt(0)), Seen::Write) << "the walker dirties the page-table page";
  EXPECT_EQ(t.seen_of(kMemPages - 1), Seen::None);
  for (Gpa g = 0; g < kMemPages; ++g)
    EXPECT_EQ(t.rig.vm.ept_bits(g) & (sim::kEptA | sim::kEptD), 0) << g;

  t.window();  // nothing accessed
  EXPECT_EQ(t.st.ept_scanned, 2 * kMemPages);
  EXPECT_EQ(t.seen_of(t.rig.gpa(0)), Seen::None);
  EXPECT_EQ(t.seen_of(t.rig.gpa(1)), Seen::None);

  t.rig.access(0, 1, kRead);  // TLB flushed: the access walks and sets A again
  t.window();
  EXPECT_EQ(t.st.ept_scanned, 3 * kMemPages);
  EXPECT_EQ(t.seen_of(t.rig.gpa(1)), Seen::Read);
  EXPECT_EQ(t.st.windows, 3u);
}

// The MLQ state belongs to the PTE: when the guest re-points a PTE (as a
// guest that migrates its own pages does), the new page starts at level 0
// and the reverse references follow.
TEST(VtmmTracker, RePointedPteStartsItsNewPageOver) {
  PmlRig t;
  for (uint64_t vpn = 0; vpn < 8; ++vpn) t.rig.access(0, vpn, kRead);
  t.window();
  for (int w = 0; w < 6; ++w) {  // vpn 5 seen every window: it climbs
    t.rig.access(0, 5, kRead);
    t.rig.access(0, 0, kRead);
    t.window();
  }
  const Gpa old = t.rig.gpa(5);
  ASSERT_GE(t.tracker.page(old).level(), 2);
  const Gpa moved = static_cast<Gpa>(kMemPages - 1);  // a page no PTE maps
  ASSERT_EQ(t.tracker.referenced()[moved], 0);
  sim::VmInternals::set_pte(t.rig.vm, 5, moved);
  t.rig.access(0, 0, kRead);  // walks the table: it is logged and scanned
  t.window();
  EXPECT_EQ(t.tracker.referenced()[old], 0);
  EXPECT_EQ(t.tracker.referenced()[moved], 1);
  EXPECT_EQ(t.tracker.page(moved).level(), 0) << "a new page: its history starts over";
}

// Two PTEs on one page (a shared mapping, or a stale target): the page
// stays referenced until the last of them points elsewhere.
TEST(VtmmTracker, APageTwoPtesPointAtStaysReferencedUntilBothMoveOff) {
  PmlRig t;
  for (uint64_t vpn = 0; vpn < 8; ++vpn) t.rig.access(0, vpn, kRead);
  t.window();
  const Gpa shared = t.rig.gpa(5), spare = static_cast<Gpa>(kMemPages - 1);
  const Gpa spare2 = static_cast<Gpa>(kMemPages - 2);
  sim::VmInternals::set_pte(t.rig.vm, 6, shared);  // vpn 6 now maps vpn 5's page too
  t.rig.access(0, 0, kRead);
  t.window();
  ASSERT_TRUE(t.tracker.referenced()[shared]);
  sim::VmInternals::set_pte(t.rig.vm, 5, spare);
  t.rig.access(0, 0, kRead);
  t.window();
  EXPECT_TRUE(t.tracker.referenced()[shared]) << "vpn 6 still maps it";
  sim::VmInternals::set_pte(t.rig.vm, 6, spare2);
  t.rig.access(0, 0, kRead);
  t.window();
  EXPECT_FALSE(t.tracker.referenced()[shared]);
  EXPECT_TRUE(t.tracker.referenced()[spare]);
  EXPECT_TRUE(t.tracker.referenced()[spare2]);
}

TEST(VtmmEptScanner, FlushesEveryVcpuTlbOncePerWindow) {
  EptRig t(2);
  for (uint32_t w = 0; w < 4; ++w) {
    t.rig.access(0, w, kRead);
    t.rig.access(1, 600 + w, kWrite);
    const uint64_t flushes = t.rig.vm.counters().tlb_flushes;
    t.window();
    EXPECT_EQ(t.rig.vm.counters().tlb_flushes, flushes + 2) << "window " << w;
  }
}

// The tracker keeps its per-PTE state in its tables' GPA order and re-orders
// it as an aged guest's tables arrive: each PTE's state must travel with it.
// The same accesses in a guest whose GPAs come in order (nothing to
// re-order) must give every virtual page the same sight and MLQ level.
TEST(VtmmTracker, AgedGuestDecidesPerPageAsAnOrderedOne) {
  constexpr uint64_t kMem = 16384, kVa = 12288;  // 24 tables, arriving three a window
  sim::VmConfig aged_cfg = vm_config(kMem, kVa, 1, /*pml=*/true);
  aged_cfg.shuffle_free_pages = true;
  TrackerRig<PmlGptTracker> aged(aged_cfg, PmlGptTracker(MlqConfig{}));
  TrackerRig<PmlGptTracker> plain(vm_config(kMem, kVa, 1, /*pml=*/true),
                                  PmlGptTracker(MlqConfig{}));
  uint64_t x = 0x9e3779b97f4a7c15ULL;
  bool reordered = false;
  for (uint32_t w = 0; w < 30; ++w) {
    const uint64_t groups = std::min<uint64_t>(3 * (w + 1), kVa / kPtesPerPage);
    for (int i = 0; i < 600; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      const uint64_t span = groups * kPtesPerPage;
      const uint64_t vpn = (x >> 20) % 4 == 0 ? x % span : x % 256;  // a hot 256 pages
      const AccessKind kind = (x >> 40) % 3 == 0 ? kWrite : kRead;
      aged.rig.access(0, vpn, kind);
      plain.rig.access(0, vpn, kind);
    }
    aged.window();
    plain.window();
    for (uint64_t vpn = 0; vpn < groups * kPtesPerPage; ++vpn) {
      const Gpa a = aged.rig.gpa(vpn), p = plain.rig.gpa(vpn);
      ASSERT_EQ(a == kNone, p == kNone) << "vpn " << vpn;
      if (a == kNone) continue;
      reordered |= vpn > 0 && aged.rig.gpt(vpn) < aged.rig.gpt(0);
      ASSERT_EQ(aged.seen_of(a), plain.seen_of(p)) << "window " << w << " vpn " << vpn;
      ASSERT_EQ(aged.tracker.page(a).level(), plain.tracker.page(p).level())
          << "window " << w << " vpn " << vpn;
    }
  }
  EXPECT_TRUE(reordered) << "the aged guest's tables did not arrive out of GPA order";
  EXPECT_GE(plain.tracker.page(plain.rig.gpa(0)).level(), 2) << "hot pages climbed the MLQ";
}

}  // namespace vtmm_tracker_test
}  // namespace vtmm::test

namespace vtmm::test {
namespace vtmm_tracker_test {

TEST(VtmmGptScan, NeedsNoPmlAndScansEveryTableEachWindow) {
  ScanRig t;
  for (Mechanism m : t.tracker.needs())
    EXPECT_TRUE(m != Mechanism::Pml && m != Mechanism::EptAdBits) << mechanism_name(m);
  for (uint64_t vpn : {0u, 512u, 1024u}) t.rig.access(0, vpn, kRead);
  t.window();
  EXPECT_EQ(t.st.gpt_scanned, 3u);
  t.rig.access(0, 517, kWrite);
  t.window();
  EXPECT_EQ(t.st.gpt_scanned, 6u) << "no log says which were walked: all three again";
  EXPECT_EQ(t.st.pml_drained, 0u);
  EXPECT_EQ(t.seen_of(t.rig.gpa(517)), Seen::Write);
  EXPECT_EQ(t.seen_of(t.rig.gpt(517)), Seen::Write) << "a PTE of it was seen: it was walked";
  EXPECT_EQ(t.seen_of(t.rig.gpt(0)), Seen::None);
  EXPECT_EQ(t.seen_of(t.rig.gpa(0)), Seen::None);
}

TEST(VtmmGptScan, SkipsATableWhilePeriodsOutlastTheWindow) {
  ScanRig t;
  const auto step = [&] {
    t.rig.access(0, 0, kRead);
    return t.window();
  };
  for (int i = 0; i < 4; ++i) step();  // windows 0..3: into a 2-window period at window 3
  EXPECT_EQ(t.st.gpt_scanned, 4u);
  EXPECT_EQ(t.st.gpt_skipped, 1u);
  step();  // window 4: left alone
  EXPECT_EQ(t.st.gpt_scanned, 4u);
  EXPECT_EQ(t.seen_of(t.rig.gpa(0)), Seen::Read);
  step();  // window 5: the period ends
  EXPECT_EQ(t.st.gpt_scanned, 5u);
}

// When every table is walked in every window, PML logs them all: the two
// trackers must see, and decide, the same.
TEST(VtmmGptScan, DecidesAsThePmlTrackerWhenEveryTableIsWalked) {
  PmlRig pml;
  ScanRig scan;
  uint64_t x = 88172645463325252ULL;
  for (uint32_t w = 0; w < 40; ++w) {
    for (uint32_t group = 0; group < 3; ++group) {  // walk every table
      pml.rig.access(0, group * 512u + 511, kRead);
      scan.rig.access(0, group * 512u + 511, kRead);
    }
    for (int i = 0; i < 200; ++i) {
      x ^= x << 13, x ^= x >> 7, x ^= x << 17;
      const uint64_t vpn = (x >> 20) % 8 == 0 ? x % kVaPages : x % 64;  // a hot 64 pages
      const AccessKind kind = (x >> 40) % 4 == 0 ? kWrite : kRead;
      pml.rig.access(0, vpn, kind);
      scan.rig.access(0, vpn, kind);
    }
    pml.window();
    scan.window();
    for (uint64_t vpn = 0; vpn < kVaPages; ++vpn) {
      const Gpa g = pml.rig.gpa(vpn);
      ASSERT_EQ(g, scan.rig.gpa(vpn));
      if (g == kNone) continue;
      ASSERT_EQ(pml.seen_of(g), scan.seen_of(g)) << "window " << w << " page " << vpn;
      ASSERT_EQ(pml.tracker.page(g).level(), scan.tracker.page(g).level()) << "window " << w;
    }
  }
  EXPECT_GE(scan.tracker.page(scan.rig.gpa(0)).level(), 2) << "hot pages climbed the MLQ";
  EXPECT_GE(scan.st.gpt_scanned, pml.st.gpt_scanned) << "scans at least what PML logged";
}

// Sets and raises (max) in a random order over few pages, so pages are
// stored to many times and the order decides the result; 5000 stores span
// several of the queue's blocks.
TEST(SeenWrites, LeavesWhatTheSameStoresMadeDirectlyWould) {
  std::mt19937 rng(7);
  std::vector<uint8_t> direct(300, 0), queued(300, 0);
  policy::SeenWrites w;
  w.begin(queued);
  uint64_t raises = 0;
  for (int i = 0; i < 5000; ++i) {
    const auto g = static_cast<Gpa>(rng() % direct.size());
    const auto v = static_cast<uint8_t>(rng() % 3);
    if (rng() % 2) {
      direct[g] = std::max(direct[g], v);
      w.raise(g, v);
      ++raises;
    } else {
      direct[g] = v;
      w.set(g, v);
    }
  }
  EXPECT_GT(raises, 2000u);
  EXPECT_NE(queued, direct);  // the last, partly filled block waits for flush()
  w.flush();
  EXPECT_EQ(queued, direct);
}

}  // namespace vtmm_tracker_test
}  // namespace vtmm::test
