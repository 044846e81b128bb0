// Hybrid-grained huge pages (docs/huge-pages.md): 2 MiB mappings change TLB
// reach, splitting and merging cost what the host pays, the hardware mode
// gives 4 KiB A/D bits inside a 2 MiB mapping, and vTMM's hybrid rules split
// only mixed huge pages and merge uniform ones back.
#include "vtmm/policy/huge_pages.hpp"

#include <gtest/gtest.h>

#include <vector>

#include "tests/sim_test_support.hpp"

namespace vtmm::test {
namespace huge_pages_test {

constexpr uint8_t kA = PteBits::kAccessed;
constexpr Gpa R = kPagesPerHuge;

// A THP guest of `regions` 2 MiB regions of memory whose layout spans
// `groups` 2 MiB of virtual space; 2 MiB EPT backing if ept_2m.
sim::VmConfig thp_config(uint64_t regions, uint64_t groups, bool ept_2m) {
  sim::VmConfig c = vm_config(regions * R, groups * R);
  c.guest_thp = true;
  c.ept_huge = ept_2m;
  return c;
}

Json hw_mode() { return Json{{"llc_bytes", 1 << 20}, {"subpage_ad_bits", 1}}; }

// TLB misses (walks) taken by one read of every page of group `group`.
uint64_t misses_touching_group(SimRig& rig, uint64_t group) {
  const uint64_t before = rig.vm.counters().tlb_misses;
  for (uint64_t i = 0; i < R; ++i) rig.access(0, group * R + i, kRead);
  return rig.vm.counters().tlb_misses - before;
}

TEST(HugePagesSim, ThpGuestOn2MiBEptReachesWholeRegionWithOneEntry) {
  SimRig rig(thp_config(4, 2, true));
  rig.access(0, 0, kRead);
  EXPECT_EQ(rig.vm.maps_huge(0), true);
  EXPECT_EQ(rig.gpa(0) % R, 0u) << "a THP is one aligned block";
  EXPECT_EQ(rig.gpa(R - 1), rig.gpa(0) + R - 1);
  EXPECT_TRUE(rig.mech.huge_mapped(rig.gpa(0)));
  EXPECT_FALSE(rig.mech.huge_mapped(rig.gpt(0))) << "page tables stay on 4 KiB EPT entries";
  EXPECT_EQ(misses_touching_group(rig, 0), 0u) << "one 2 MiB entry covers all 512 pages";
  EXPECT_EQ(rig.vm.counters().huge_tlb_fills, 1u);
}

TEST(HugePagesSim, ReachIsTheSmallerOfGuestAndEptMapping) {
  SimRig ept4k(thp_config(4, 2, false));  // guest 2 MiB, EPT 4 KiB
  ept4k.access(0, 0, kRead);
  EXPECT_FALSE(ept4k.mech.huge_mapped(ept4k.gpa(0)));
  EXPECT_EQ(misses_touching_group(ept4k, 0), R - 1);
  EXPECT_EQ(ept4k.vm.counters().huge_tlb_fills, 0u);

  sim::VmConfig c = vm_config(4 * R, 2 * R);  // guest 4 KiB, EPT 2 MiB where it can
  c.ept_huge = true;
  SimRig guest4k(c);
  EXPECT_EQ(misses_touching_group(guest4k, 0), R);
  EXPECT_EQ(guest4k.vm.counters().huge_tlb_fills, 0u);
}

TEST(HugePagesSim, SplitShrinksReachAndMergeRestoresIt) {
  SimRig rig(thp_config(4, 2, true));
  rig.access(0, 0, kRead);
  const Gpa head = rig.gpa(0);
  const std::vector<Gpa> one = {head + 7};  // any page of the region names it
  ASSERT_EQ(rig.mech.split_huge(one), 1u);
  EXPECT_FALSE(rig.mech.huge_mapped(head));
  EXPECT_EQ(rig.vm.counters().huge_splits, 1u);
  EXPECT_EQ(misses_touching_group(rig, 0), R)
      << "after the split every 4 KiB page needs its own entry";
  EXPECT_EQ(rig.mech.split_huge(one), 0u) << "nothing left to split";

  ASSERT_EQ(rig.mech.merge_huge(one), 1u);
  EXPECT_TRUE(rig.mech.huge_mapped(head));
  EXPECT_EQ(rig.vm.counters().huge_merges, 1u);
  EXPECT_EQ(rig.vm.counters().huge_collapse_copies, 0u)
      << "no page moved: the 2 MiB frame is intact, no copy";
  EXPECT_EQ(misses_touching_group(rig, 0), 1u) << "the merge brings the 2 MiB reach back";
}

TEST(HugePagesSim, SplitChargesTableAllocationEntryWritesAndAShootdown) {
  SimRig rig(thp_config(4, 2, true));
  rig.access(0, 0, kRead);
  const double hv = rig.mech.thread().clock_ns, vcpu = rig.vm.clock_ns(0);
  const uint64_t flushes = rig.vm.counters().tlb_flushes;
  const std::vector<Gpa> one = {rig.gpa(0)};
  ASSERT_EQ(rig.mech.split_huge(one), 1u);
  const auto& p = rig.host.prof;
  EXPECT_DOUBLE_EQ(rig.mech.thread().clock_ns - hv, p.page_alloc_ns + R * p.pte_scan_ns);
  EXPECT_DOUBLE_EQ(rig.vm.clock_ns(0) - vcpu, p.tlb_shootdown_ns);
  EXPECT_EQ(rig.vm.counters().tlb_flushes, flushes + 1);
}

TEST(HugePagesSim, TwoMiBWalkIsShorter) {
  // Bhargava et al.: 15 of 24 references with 2 MiB in both dimensions.
  SimRig huge(thp_config(4, 2, true)),
      small(vm_config(4 * R, 2 * R));  // 2 MiB in both / 4 KiB in both
  for (SimRig* r : {&huge, &small}) {
    r->access(0, 0, kRead);
    r->access(0, 0, kRead, 1);  // warm the data line and the entry's line
    r->mech.flush_tlbs();
  }
  const double h = huge.access(0, 0, kRead), s = small.access(0, 0, kRead);
  EXPECT_NEAR(s - h, huge.host.prof.walk_ns * (1.0 - 15.0 / 24.0), 1e-9);
}

TEST(HugePagesSim, MergeNeedsOneTierAndCollapsesMovedPages) {
  SimRig rig(thp_config(4, 2, true));
  rig.access(0, 0, kRead);
  const Gpa head = rig.gpa(0);
  const std::vector<Gpa> one = {head}, page = {head + 5};
  ASSERT_EQ(rig.mech.split_huge(one), 1u);
  rig.mech.migrate(page, Tier::Slow, MigrationMethod::Pml);
  rig.run_events();
  ASSERT_EQ(rig.mech.tier_of(head + 5), Tier::Slow);
  EXPECT_EQ(rig.mech.merge_huge(one), 0u) << "pages on two tiers cannot share a 2 MiB mapping";
  rig.mech.migrate(page, Tier::Fast, MigrationMethod::Pml);
  rig.run_events();
  const uint64_t copied = rig.vm.counters().copied_bytes;
  const double hv = rig.mech.thread().clock_ns;
  ASSERT_EQ(rig.mech.merge_huge(one), 1u);
  EXPECT_EQ(rig.vm.counters().huge_collapse_copies, 1u)
      << "a page changed frame: the region is copied into a new 2 MiB frame";
  EXPECT_EQ(rig.vm.counters().copied_bytes - copied, kHugeSize);
  EXPECT_GT(rig.mech.thread().clock_ns - hv, kHugeSize / rig.host.prof.copy_gbps);
}

TEST(HugePagesSim, TwoMiBMappingMigratesWhole) {
  SimRig rig(thp_config(4, 2, true));
  rig.access(0, 0, kRead);
  const Gpa head = rig.gpa(0);
  const std::vector<Gpa> page = {head + 9};
  const MigrationResult r = rig.mech.migrate(page, Tier::Slow, MigrationMethod::Pml);
  rig.run_events();
  EXPECT_EQ(r.moved, R);
  EXPECT_EQ(rig.mech.tier_of(head), Tier::Slow);
  EXPECT_EQ(rig.mech.tier_of(head + R - 1), Tier::Slow);
}

// How long a promotion of the first `groups` THPs (first touched on slow)
// by `threads` copy threads takes, and the bytes it copied.
std::pair<double, uint64_t> promote_thps(uint64_t groups, uint32_t threads, bool ept_2m = true) {
  SimRig rig(thp_config(4, 2, ept_2m));
  rig.policy.tier = Tier::Slow;
  std::vector<Gpa> heads;
  for (uint64_t grp = 0; grp < groups; ++grp) {
    rig.access(0, grp * R, kRead);
    heads.push_back(rig.gpa(grp * R));
  }
  rig.mech.migrate(heads, Tier::Fast, MigrationMethod::WriteProtect, threads);
  rig.run_events();
  return {rig.vm.counters().migration_elapsed_ns, rig.vm.counters().copied_bytes};
}

TEST(HugePagesSim, FewerTwoMiBMappingsThanThreadsSplitEachCopyAmongThem) {
  const auto [one, bytes_one] = promote_thps(1, 1);
  const auto [four, bytes_four] = promote_thps(1, 4);
  EXPECT_EQ(bytes_one, R * kPageSize);
  EXPECT_EQ(bytes_four, bytes_one);
  // Four threads share the one 2 MiB copy (HeMem's hemem_parallel_memcpy):
  // under half the time, though the tiers' bandwidth keeps it above a quarter.
  EXPECT_LT(four, 0.5 * one);
  EXPECT_GT(four, 0.25 * one);
  // Two THPs on four threads: each split in turn, so no faster than one
  // thread per THP but no slower either (the same bytes over the same tiers).
  const auto [two_split, bytes_two] = promote_thps(2, 4);
  EXPECT_EQ(bytes_two, 2 * R * kPageSize);
  EXPECT_LT(two_split, 0.5 * promote_thps(2, 1).first);
}

TEST(HugePagesSim, BatchesOf4KiBPagesAreDealtWholeToThreads) {
  // Guest THP on 4 KiB EPT: the batch holds 4 KiB mappings only, so extra
  // threads beyond the pages change nothing.
  EXPECT_EQ(promote_thps(1, 4, false).first, promote_thps(1, 1, false).first)
      << "one 4 KiB head page: one thread copies it whole";
}

TEST(HugePagesSim, WithoutHardwareModeA2MiBPageHasOneAccessedBit) {
  SimRig rig(thp_config(4, 2, true));
  EXPECT_FALSE(rig.mech.offers(Mechanism::SubpageAdBits));
  rig.access(0, 3, kRead);
  EXPECT_EQ(rig.scan_pte(3) & kA, kA);
  EXPECT_EQ(rig.scan_pte(200) & kA, kA) << "every 4 KiB slot reports the mapping's one bit";
  rig.scan_pte(3, kA);
  EXPECT_EQ(rig.scan_pte(200) & kA, 0) << "clearing it clears it for all";
}

TEST(HugePagesSim, HardwareModeTracksEach4KiBInsideA2MiBMapping) {
  SimRig rig(thp_config(4, 2, true), hw_mode());
  EXPECT_TRUE(rig.mech.offers(Mechanism::SubpageAdBits));
  rig.access(0, 3, kRead);   // the walk
  rig.access(0, 7, kWrite);  // a hit on the 2 MiB entry: a sub-page assist
  EXPECT_EQ(rig.vm.counters().tlb_misses, 1u);
  EXPECT_EQ(rig.vm.counters().subpage_assists, 1u);
  EXPECT_EQ(rig.scan_pte(3) & (kA | PteBits::kDirty), kA);
  EXPECT_EQ(rig.scan_pte(7) & (kA | PteBits::kDirty), kA | PteBits::kDirty);
  EXPECT_EQ(rig.scan_pte(8) & kA, 0) << "an untouched sub-page stays clear";
  rig.access(0, 7, kWrite, 2);
  EXPECT_EQ(rig.vm.counters().subpage_assists, 1u) << "set once";
  // The sub-page bit's write dirties the page-table page, so PML finds it.
  sim::VmInternals::clear_ept_bits(rig.vm, rig.gpt(0), sim::kEptD);
  rig.mech.set_pml(true);
  rig.access(0, 11, kRead);
  const std::vector<Gpa> logged = rig.drain_pml();
  EXPECT_NE(std::find(logged.begin(), logged.end(), rig.gpt(0)), logged.end());
}

// The policy's rules, on a VM of 5 regions: region 0 holds page tables,
// groups 0..2 are THPs in regions 1..3, all on the slow tier.
struct RulesRig {
  explicit RulesRig(const Json& params = Json{{"huge", "hybrid"}})
      : rig(config(), hw_mode()), p(params, "policy"), hp(p, 30, 9) {
    p.finish();
    rig.policy.tier = Tier::Slow;
    for (uint64_t vpn = 0; vpn < 3 * R; ++vpn) rig.access(0, vpn, kWrite);
    hp.attach(rig.mech);
    keys.assign(rig.vm.guest_pages(), 0);
  }
  static sim::VmConfig config() {
    sim::VmConfig c = thp_config(5, 3, true);
    c.fast_pages = 600;
    return c;
  }
  Gpa head(uint64_t group) const { return rig.gpa(group * R); }
  // Sets the keys of group's pages: `hot` of them (spread out) 30, the rest `cold`.
  void set_keys(uint64_t group, uint32_t hot, uint8_t cold) {
    for (uint32_t i = 0; i < R; ++i) keys[head(group) + i] = cold;
    for (uint32_t i = 0; i < hot; ++i) keys[head(group) + i * (R / hot)] = 30;
  }
  policy::Plan adjust() {
    tiers.assign(keys.size(), 2);
    for (Gpa g = 0; g < keys.size(); ++g)
      if (rig.mech.backed(g)) tiers[g] = static_cast<uint8_t>(rig.mech.tier_of(g));
    free.assign(keys.size(), 0);
    policy::PlanInput in{keys,
                         tiers,
                         free,
                         30,
                         rig.mech.capacity_pages(Tier::Fast),
                         0,
                         policy::count_buckets(keys, tiers)};
    policy::Plan plan = policy::plan_placement(in);
    hp.adjust(rig.mech, keys, tiers, plan);
    return plan;
  }
  SimRig rig;
  Params p;
  policy::HugePages hp;
  std::vector<uint8_t> keys;
  std::vector<uint8_t> tiers, free;
};

TEST(HugePagesRules, SplitsOnlyTheHugePageWhoseTemperaturesAreMixed) {
  RulesRig t;
  t.set_keys(0, R, 0);   // uniformly hot
  t.set_keys(1, 16, 2);  // 16 hot 4 KiB pages in a cold 2 MiB page
  t.set_keys(2, 0, 2);   // uniformly cold
  const policy::Plan plan = t.adjust();
  EXPECT_TRUE(t.rig.mech.huge_mapped(t.head(0)));
  EXPECT_FALSE(t.rig.mech.huge_mapped(t.head(1)));
  EXPECT_TRUE(t.rig.mech.huge_mapped(t.head(2)));
  EXPECT_EQ(t.rig.vm.counters().huge_splits, 1u);
  // Promoted: the hot region once (it moves whole) and the 16 hot pages alone.
  uint64_t from_mixed = 0, from_hot = 0, from_cold = 0;
  for (Gpa g : plan.promote) {
    from_hot += g / R == t.head(0) / R;
    from_mixed += g / R == t.head(1) / R;
    from_cold += g / R == t.head(2) / R;
  }
  EXPECT_EQ(from_hot, 1u);
  EXPECT_EQ(from_mixed, 16u);
  EXPECT_EQ(from_cold, 0u)
      << "a cold 2 MiB page is not promoted for the few of its pages the budget reaches";
}

TEST(HugePagesRules, AFewHotPagesShortOfTheColdMinimumAreNotMixed) {
  RulesRig t(Json{{"huge", "hybrid"}, {"split_min_cold_pages", 64}});
  t.set_keys(0, 0, 0);
  for (uint32_t i = 0; i < R - 63; ++i)
    t.keys[t.head(0) + i] = 30;  // 63 cold pages: uniformly hot enough
  t.set_keys(1, 0, 2);
  t.set_keys(2, 0, 2);
  t.adjust();
  EXPECT_EQ(t.rig.vm.counters().huge_splits, 0u);
}

TEST(HugePagesRules, PureTwoMiBModeNeverSplits) {
  RulesRig t(Json{{"huge", "2m"}});
  t.set_keys(0, 16, 2);
  t.set_keys(1, 16, 2);
  t.set_keys(2, 0, 2);
  t.adjust();
  EXPECT_EQ(t.rig.vm.counters().huge_splits, 0u);
  EXPECT_TRUE(t.rig.mech.huge_mapped(t.head(0)));
}

TEST(HugePagesRules, UniformAgainForMergeWindowsMergesBack) {
  RulesRig t;
  t.set_keys(0, 0, 2);
  t.set_keys(1, 16, 2);
  t.set_keys(2, 0, 2);
  t.adjust();
  ASSERT_FALSE(t.rig.mech.huge_mapped(t.head(1)));
  t.set_keys(1, 0, 2);  // its hot pages cooled down; all still on the slow tier
  t.adjust();
  t.adjust();
  EXPECT_FALSE(t.rig.mech.huge_mapped(t.head(1)))
      << "uniform for 2 windows, merge_after_windows is 3";
  t.adjust();
  EXPECT_TRUE(t.rig.mech.huge_mapped(t.head(1)));
  EXPECT_EQ(t.rig.vm.counters().huge_merges, 1u);
  EXPECT_EQ(misses_touching_group(t.rig, 1), 1u)
      << "merged: one TLB entry for the 2 MiB page again";
}

TEST(HugePagesRules, MergeOfPagesOnTwoTiersFirstBringsThemToOne) {
  RulesRig t;
  t.set_keys(0, 0, 2);
  t.set_keys(1, 16, 2);
  t.set_keys(2, 0, 2);
  const policy::Plan plan = t.adjust();
  t.rig.mech.migrate(plan.promote, Tier::Fast, MigrationMethod::Pml);
  t.rig.run_events();
  ASSERT_EQ(t.rig.mech.tier_of(t.head(1)), Tier::Fast) << "set_keys puts a hot page at the head";
  // Its 16 hot pages went to fast memory, and some cold ones with them (the
  // plan fills spare fast room with the warmest pages it has).
  uint64_t in_fast = 0;
  for (Gpa i = 0; i < R; ++i) in_fast += t.rig.mech.tier_of(t.head(1) + i) == Tier::Fast;
  ASSERT_GE(in_fast, 16u);
  ASSERT_LT(in_fast, R);
  t.set_keys(1, 0, 2);  // uniformly cold now
  policy::Plan p;
  for (int w = 0; w < 3; ++w) p = t.adjust();
  EXPECT_FALSE(t.rig.mech.huge_mapped(t.head(1))) << "not merged across tiers";
  uint64_t demoted = 0;
  for (Gpa g : p.demote) demoted += g / R == t.head(1) / R;
  EXPECT_EQ(demoted, in_fast) << "its fast pages go back to slow memory first";
  t.rig.mech.migrate(p.demote, Tier::Slow, MigrationMethod::Pml);
  t.rig.run_events();
  t.adjust();
  EXPECT_TRUE(t.rig.mech.huge_mapped(t.head(1)));
  EXPECT_EQ(t.rig.vm.counters().huge_collapse_copies, 1u)
      << "pages moved: the merge copies into a new 2 MiB frame";
}

TEST(HugePagesRules, HybridNeedsTheHardwareMode) {
  Json j{{"huge", "hybrid"}};
  Params p(j, "policy");
  policy::HugePages hp(p, 30, 9);
  const auto n = hp.needs();
  EXPECT_NE(std::find(n.begin(), n.end(), Mechanism::SubpageAdBits), n.end());
  Json bad{{"huge", "1g"}};
  Params q(bad, "policy");
  EXPECT_THROW(policy::HugePages(q, 30, 9), SpecError);
}

}  // namespace huge_pages_test
}  // namespace vtmm::test
