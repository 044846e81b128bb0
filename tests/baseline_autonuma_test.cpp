// autonuma: host NUMA balancing's scanner (256 MB per scan, resuming where it
// stopped, adaptive period), its fault rule (promote a slow page only into a
// fast node above its high watermark, migrate_balanced_pgdat), allocation
// fallback at the low watermark, and kswapd's LRU demotion under the low
// watermark, pinned on a scripted platform with time_scale 1; and
// autonuma-5.4, which migrates on a first hint fault and never demotes.
#include <gtest/gtest.h>

#include "baselines/tpp_rule.hpp"
#include "tests/baseline_test_support.hpp"

namespace vtmm {
namespace baseline_autonuma_test {

using test::ScriptedPlatform;

constexpr uint32_t kPages = 8192, kFast = 1024;

struct AutoNumaRig {
  explicit AutoNumaRig(Gpa fast_backed, Json params = Json::object(),
                       const char* design = "autonuma")
      : m(kPages, kFast) {
    params["time_scale"] = 1.0;
    policy = test::make_policy(design, params);
    m.back_range(0, fast_backed, Tier::Fast);
    m.back_range(kFast, 4 * kFast, Tier::Slow);
    policy->attach(m);
  }
  void tick_at(double ns) {
    m.set_now(ns);
    policy->tick(m);
  }
  Json report() const {
    Json j;
    policy->report(j);
    return j;
  }
  ScriptedPlatform m;
  std::unique_ptr<Policy> policy;
};

TEST(AutoNuma, ScansTheScanSizeFromWhereItStoppedOnBothTiers) {
  AutoNumaRig r(kFast, Json{{"scan_size_bytes", "4MiB"}});  // 1024 pages per scan
  r.tick_at(0.9e9);
  EXPECT_EQ(r.m.protections, 0u);  // scan delay: 1 s
  r.tick_at(1.0e9);
  EXPECT_EQ(r.m.protections, 1024u);
  EXPECT_TRUE(r.m.armed(0));  // fast pages too: normal mode scans every node
  EXPECT_FALSE(r.m.armed(kFast));
  r.tick_at(1.5e9);
  EXPECT_EQ(r.m.protections, 1024u);  // period: 1 s
  r.tick_at(2.0e9);
  EXPECT_EQ(r.m.protections, 2048u);
  EXPECT_TRUE(r.m.armed(kFast));
  EXPECT_TRUE(r.m.armed(2 * kFast - 1));
  EXPECT_FALSE(r.m.armed(2 * kFast));
}

// The watermarks of the rig's fast node (1024 of 8192 pages; Linux's rules,
// tpp_rule.hpp): min 22, low 27, high 32.
uint64_t wmark(const AutoNumaRig& r, const char* which) {
  return r.report()[std::string("watermark_") + which + "_pages"].get<uint64_t>();
}

// A slow page's first hint fault only sets its last_cpupid (Linux 6.1+
// should_numa_migrate_memory); the fault of the next pass may migrate it.
void fault_twice(AutoNumaRig& r, Gpa g) {
  r.tick_at(1.0e9);  // 256 MB: one scan arms the whole rig
  r.m.set_now(1.5e9);
  ASSERT_TRUE(r.m.fault(*r.policy, g));
  r.tick_at(3.0e9);  // the fault-free first pass doubled the period to 2 s
  r.m.set_now(3.5e9);
  ASSERT_TRUE(r.m.fault(*r.policy, g));
}

TEST(AutoNuma, FirstHintFaultOfASlowPageMovesNothingAndCountsNothing) {
  AutoNumaRig r(kFast - 64);
  r.tick_at(1.0e9);
  r.m.set_now(1.5e9);
  ASSERT_TRUE(r.m.fault(*r.policy, 2000));
  EXPECT_TRUE(r.m.moves.empty());
  EXPECT_EQ(r.m.tier_of(2000), Tier::Slow);
  EXPECT_EQ(r.report()["slow_first_faults"], 1);
  EXPECT_EQ(r.report()["failed_promotions"], 0);
}

TEST(AutoNuma, PromotesASlowPageOnItsHintFaultAndLeavesFastPages) {
  AutoNumaRig r(kFast - 64);
  r.tick_at(1.0e9);
  r.m.set_now(1.5e9);
  ASSERT_TRUE(r.m.fault(*r.policy, 0));
  EXPECT_TRUE(r.m.moves.empty());
  ASSERT_NO_FATAL_FAILURE(fault_twice(r, 2000));
  EXPECT_EQ(r.m.moved_to(Tier::Fast), 1u);
  EXPECT_EQ(r.m.moved_to(Tier::Slow), 0u);
  EXPECT_EQ(r.m.tier_of(2000), Tier::Fast);
}

TEST(AutoNuma, RefusesAPromotionThatWouldTakeTheFastNodeToItsHighWatermark) {
  // migrate_balanced_pgdat: free must exceed high + 1 page. At exactly that
  // the fault fails: nothing moves, nothing is demoted to make room.
  AutoNumaRig probe(0);
  const uint64_t high = wmark(probe, "high");
  ASSERT_EQ(high, 32u);
  AutoNumaRig r(static_cast<Gpa>(kFast - high - 1));
  ASSERT_NO_FATAL_FAILURE(fault_twice(r, 2000));
  EXPECT_TRUE(r.m.moves.empty());
  EXPECT_EQ(r.m.tier_of(2000), Tier::Slow);
  EXPECT_EQ(r.report()["failed_promotions"], 1);
  EXPECT_EQ(r.report()["demoted_pages"], 0);
  r.tick_at(3.6e9);  // free is above low: kswapd stays asleep
  EXPECT_TRUE(r.m.moves.empty());
  EXPECT_EQ(r.report()["kswapd_runs"], 0);
}

TEST(AutoNuma, FirstTouchFallsBackToSlowAtTheLowWatermark) {
  AutoNumaRig probe(0);
  const uint64_t low = wmark(probe, "low");
  AutoNumaRig r(static_cast<Gpa>(kFast - low - 1));
  EXPECT_EQ(r.policy->place(kPages - 1, r.m), Tier::Fast);
  r.m.back(kPages - 1, Tier::Fast);
  EXPECT_EQ(r.policy->place(kPages - 2, r.m), Tier::Slow);  // free == low
  r.tick_at(1.0e9);
  EXPECT_TRUE(r.m.moves.empty());  // the fallback wakes no kswapd
}

// Fast is full (free 0, under the low watermark); after the first scan every
// fast page but `skip` takes its hint fault, which leaves `skip` at the LRU
// tail.
void fault_every_fast_page_but(AutoNumaRig& r, Gpa skip) {
  r.tick_at(1.0e9);
  r.m.set_now(1.2e9);
  for (Gpa g = 0; g < kFast; ++g)
    if (g != skip) {
      ASSERT_TRUE(r.m.fault(*r.policy, g));
    }
}

TEST(AutoNuma, KswapdDemotesFromTheLruTailUnderTheLowWatermarkUpToHigh) {
  AutoNumaRig r(kFast);
  ASSERT_NO_FATAL_FAILURE(fault_every_fast_page_but(r, 7));
  EXPECT_TRUE(r.m.moves.empty());  // no demotion in the fault path
  ASSERT_TRUE(r.m.fault(*r.policy, 3000));
  EXPECT_TRUE(r.m.moves.empty());  // and no promotion into a full node
  r.tick_at(1.3e9);
  ASSERT_EQ(r.m.moves.size(), 1u);
  EXPECT_EQ(r.m.moves[0].to, Tier::Slow);
  EXPECT_EQ(r.m.moves[0].moved, wmark(r, "high"));
  EXPECT_EQ(r.m.moves[0].gpas.front(), 7u);
  EXPECT_EQ(r.m.tier_of(7), Tier::Slow);
  EXPECT_EQ(r.m.tier_of(3000), Tier::Slow);
  // Balanced now: the next misplaced fault finds free == high, still no room
  // (high + 1 needed), until reclaim runs again.
  r.tick_at(2.0e9);
  r.m.set_now(2.1e9);
  ASSERT_TRUE(r.m.fault(*r.policy, 3001));
  EXPECT_EQ(r.m.tier_of(3001), Tier::Slow);
}

TEST(AutoNuma, ReclaimGivesAPageInUseASecondChance) {
  // As above, but the guest used page 7 since (its EPT accessed bit is set):
  // reclaim clears the bit, rotates 7 to the head and demotes the next oldest.
  AutoNumaRig r(kFast);
  ASSERT_NO_FATAL_FAILURE(fault_every_fast_page_but(r, 7));
  r.m.touch(7);
  r.tick_at(1.3e9);
  ASSERT_EQ(r.m.moves.size(), 1u);
  EXPECT_EQ(r.m.moves[0].to, Tier::Slow);
  EXPECT_EQ(r.m.moves[0].gpas.front(), 0u);
  EXPECT_EQ(r.m.tier_of(7), Tier::Fast);
  EXPECT_EQ(r.m.ept_bits(7) & PteBits::kAccessed, 0);
  EXPECT_EQ(r.report()["lru_rotated_young"], 1);
}

TEST(AutoNuma, ScanPeriodDoublesAfterAPassWithoutFaults) {
  // 4 MiB scans over 3072 backed pages (GPAs 1024..4095): 3 windows, so the
  // period may range over [1000 / 3, 60000 / 3] ms. A pass takes 4 scans
  // (2 populated 2 MiB steps each, the empty ones free, then the empty tail
  // within the 8x walk limit); with no faults the period doubles from 1 s.
  AutoNumaRig r(0, Json{{"scan_size_bytes", "4MiB"}});
  for (int i = 1; i <= 3; ++i) r.tick_at(i * 1.0e9);
  EXPECT_EQ(r.report()["numa_scan_passes"], 0);
  r.tick_at(4.0e9);
  EXPECT_EQ(r.report()["numa_scan_passes"], 1);
  EXPECT_DOUBLE_EQ(r.report()["numa_scan_period_ms_last"].get<double>(), 2000.0);
}

TEST(AutoNuma, ScanPeriodStaysWithinTaskScanMax) {
  // Passes without faults keep doubling the period, up to task_scan_max =
  // scan_period_max_ms / 3 windows.
  AutoNumaRig r(0, Json{{"scan_size_bytes", "4MiB"}, {"scan_period_max_ms", 6000}});
  double t = 1.0e9;
  for (int pass = 0; pass < 6; ++pass) {
    for (int i = 0; i < 4; ++i) {
      r.tick_at(t);
      t += r.report()["numa_scan_period_ms_last"].get<double>() * 1e6;
    }
  }
  EXPECT_DOUBLE_EQ(r.report()["numa_scan_period_ms_last"].get<double>(),
                   2000.0);  // 6000 / 3 windows
}

TEST(AutoNuma, WatermarksFollowAPoolResizingTheAllowance) {
  AutoNumaRig r(kFast - 64);
  const uint64_t low_before = wmark(r, "low");
  r.m.set_fast_capacity(4 * kFast);
  r.tick_at(0.1e9);
  EXPECT_EQ(wmark(r, "low"), baselines::zone_watermarks(4 * kFast, kPages, 0, 10).low);
  EXPECT_GT(wmark(r, "low"), low_before);
}

// Linux 5.4: no tiering cpupid test, no demotion in reclaim.
TEST(AutoNuma54, PromotesASlowPageOnItsFirstHintFault) {
  AutoNumaRig r(kFast - 64, Json::object(), "autonuma-5.4");
  r.tick_at(1.0e9);
  r.m.set_now(1.5e9);
  ASSERT_TRUE(r.m.fault(*r.policy, 2000));
  EXPECT_EQ(r.m.moved_to(Tier::Fast), 1u);
  EXPECT_EQ(r.m.tier_of(2000), Tier::Fast);
  EXPECT_EQ(r.report()["slow_first_faults"], 0);
  EXPECT_EQ(r.report()["kernel"], "5.4");
}

TEST(AutoNuma54, StopsPromotingWhenTheFastNodeIsFullAndNeverDemotes) {
  AutoNumaRig r(kFast, Json::object(), "autonuma-5.4");
  ASSERT_NO_FATAL_FAILURE(fault_every_fast_page_but(r, 7));
  ASSERT_TRUE(r.m.fault(*r.policy, 3000));
  r.tick_at(1.3e9);                  // under the low watermark: 6.1's kswapd would demote here
  r.m.set_fast_capacity(kFast / 2);  // even a shrunk allowance
  r.tick_at(1.4e9);
  r.m.set_now(3.5e9);
  ASSERT_TRUE(r.m.fault(*r.policy, 3001));
  EXPECT_TRUE(r.m.moves.empty());
  EXPECT_EQ(r.m.tier_of(3000), Tier::Slow);
  EXPECT_EQ(r.report()["failed_promotions"], 2);
  EXPECT_EQ(r.report()["demoted_pages"], 0);
  EXPECT_EQ(r.report()["kswapd_runs"], 0);
}

}  // namespace baseline_autonuma_test
}  // namespace vtmm
