// tpp (guest) and tpp-host (hypervisor): the same TPP rules on both sides
// (baselines/tpp_rule.hpp), pinned on a scripted platform with time_scale 1 so
// the published constants apply as they are: hot threshold 1000 ms, rate
// limit, kswapd demotion from the inactive list under the watermarks.
#include <gtest/gtest.h>

#include "baselines/tpp_rule.hpp"
#include "tests/baseline_test_support.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm {
namespace baseline_tpp_test {

using test::ScriptedPlatform;

// 8192 pages (32 MiB), a 2048-page fast node. Linux's rule gives this node
// min 45, low 56, high 67, promo 78 pages.
constexpr uint32_t kPages = 8192, kFast = 2048;

struct TppRig {
  explicit TppRig(bool guest, Json params = Json::object(), Gpa fast_backed = kFast - 100)
      : m(kPages, kFast, guest) {
    params["time_scale"] = 1.0;
    policy = test::make_policy(guest ? "tpp" : "tpp-host", params);
    m.back_range(0, fast_backed, Tier::Fast);
    m.back_range(kFast, 2 * kFast, Tier::Slow);
    policy->attach(m);
  }
  void tick_at(double ns) {
    m.set_now(ns);
    policy->tick(m);
  }
  ScriptedPlatform m;
  std::unique_ptr<Policy> policy;
};

class TppBothSides : public ::testing::TestWithParam<bool> {};

TEST(TppRule, LinuxWatermarksForASmallNode) {
  const baselines::Watermarks w = baselines::zone_watermarks(kFast, kPages, 0, 10);
  EXPECT_EQ(w.min, 45u);  // sqrt(32768 KiB x 16) = 724 KiB = 181 pages, a quarter on this node
  EXPECT_EQ(w.low, 56u);
  EXPECT_EQ(w.high, 67u);
  EXPECT_EQ(w.promo, 78u);
}

TEST_P(TppBothSides, ScansOnlySlowPagesAfterTheScanDelay) {
  TppRig r(GetParam());
  r.tick_at(0.5e9);
  EXPECT_EQ(r.m.protections, 0u);
  r.tick_at(1.0e9);
  EXPECT_FALSE(r.m.armed(0));
  EXPECT_TRUE(r.m.armed(kFast));
  EXPECT_TRUE(r.m.armed(2 * kFast - 1));
  EXPECT_EQ(r.m.protections, uint64_t{kFast});
}

TEST_P(TppBothSides, DoesNotPromoteAPageWhoseFaultLatencyExceedsTheThreshold) {
  TppRig r(GetParam());
  r.tick_at(1.0e9);  // scan: slow pages stamped at 1 s
  r.m.set_now(1.2e9);
  ASSERT_TRUE(r.m.fault(*r.policy, kFast + 1));  // 200 ms after the scan: hot
  EXPECT_EQ(r.m.moved_to(Tier::Fast), 1u);
  r.m.set_now(2.0e9 + 1);
  ASSERT_TRUE(r.m.fault(*r.policy, kFast));  // 1000 ms after the scan: not hot
  EXPECT_EQ(r.m.moved_to(Tier::Fast), 1u);
  EXPECT_EQ(r.m.moves.size(), 1u);
}

TEST_P(TppBothSides, HotThresholdScalesWithTimeScale) {
  Json p{{"time_scale", 0.5}};
  auto half = test::make_policy(GetParam() ? "tpp" : "tpp-host", p);
  ScriptedPlatform m(kPages, kFast, GetParam());
  m.back_range(0, kFast - 100, Tier::Fast);
  m.back_range(kFast, 2 * kFast, Tier::Slow);
  half->attach(m);
  m.set_now(0.5e9);  // scan delay 1000 ms x 0.5
  half->tick(m);
  ASSERT_TRUE(m.armed(kFast));
  m.set_now(0.5e9 + 0.6e9);  // 600 ms: over the scaled 500 ms threshold
  m.fault(*half, kFast);
  EXPECT_EQ(m.moved_to(Tier::Fast), 0u);
}

TEST_P(TppBothSides, PromotesAnyFaultWhenTheFastNodeHasPlentyFree) {
  // enough_free_bytes 4 KiB: plenty = promo (78) + max(1, 2048 / 16) = 206 pages free.
  TppRig r(GetParam(), Json{{"enough_free_bytes", 4096}}, kFast - 300);
  r.tick_at(1.0e9);
  r.m.set_now(5.0e9);  // 4 s after the scan, far over the threshold
  ASSERT_TRUE(r.m.fault(*r.policy, kFast));
  EXPECT_EQ(r.m.moved_to(Tier::Fast), 1u);
}

TEST_P(TppBothSides, RateLimitCapsPromotionsPerWindow) {
  // 1 MB/s = 256 pages per 1 s window; plenty of room (the 1 GiB "plenty"
  // shortcut never applies to a 2048-page node).
  TppRig r(GetParam(), Json{{"promote_rate_limit_mbps", 1.0}}, 100);
  r.tick_at(1.0e9);
  r.m.set_now(1.1e9);
  for (Gpa g = kFast; g < kFast + 300; ++g) ASSERT_TRUE(r.m.fault(*r.policy, g));
  EXPECT_EQ(r.m.moved_to(Tier::Fast), 256u);
  // Next window: the pages refused are scanned again and promoted.
  r.tick_at(2.0e9);
  r.m.set_now(2.2e9);
  uint32_t faulted = 0;
  for (Gpa g = kFast; g < 2 * kFast && faulted < 44; ++g)
    if (r.m.tier_of(g) == Tier::Slow && r.m.backed(g) && r.m.fault(*r.policy, g)) ++faulted;
  EXPECT_EQ(faulted, 44u);
  EXPECT_EQ(r.m.moved_to(Tier::Fast), 300u);
}

TEST_P(TppBothSides, KswapdDemotesInactivePagesUnderTheLowWatermark) {
  // 2000 of 2048 fast pages used: 48 free < low (56). Pages 0..999 were
  // accessed, 1000..1999 not: reclaim takes the never-referenced ones and
  // stops at the promo watermark (78 free).
  TppRig r(GetParam(), Json::object(), 2000);
  for (Gpa g = 0; g < 1000; ++g) r.m.touch(g);
  r.tick_at(0.5e9);
  EXPECT_EQ(r.m.moved_to(Tier::Slow), 30u);
  for (const auto& mv : r.m.moves)
    for (Gpa g : mv.gpas) EXPECT_GE(g, 1000u);
  EXPECT_EQ(r.m.capacity_pages(Tier::Fast) - r.m.used_pages(Tier::Fast), 78u);
  r.tick_at(0.6e9);  // balanced: nothing more
  EXPECT_EQ(r.m.moved_to(Tier::Slow), 30u);
}

TEST_P(TppBothSides, PromotionWithoutRoomWakesKswapd) {
  // Fast node full to its high watermark: the hot page is refused and kswapd,
  // woken, makes room at the next tick; the next scan's fault promotes.
  TppRig r(GetParam(), Json::object(), kFast - 60);
  r.tick_at(1.0e9);
  EXPECT_EQ(r.m.moved_to(Tier::Slow), 0u);  // 60 free: above low, no reclaim yet
  r.m.set_now(1.1e9);
  ASSERT_TRUE(r.m.fault(*r.policy, kFast));
  EXPECT_EQ(r.m.moved_to(Tier::Fast), 0u);
  r.tick_at(1.2e9);
  EXPECT_EQ(r.m.moved_to(Tier::Slow), 18u);  // up to promo (78 free)
}

TEST_P(TppBothSides, ReclaimSparesAnInactivePageUsedSinceItsLastLook) {
  // The LRU look at 1.0 s finds no page used: all inactive, 1987 at the tail.
  // Pages 1950..1987 are then used. The promotion that finds no room wakes
  // kswapd, which checks each tail candidate's accessed bit as
  // folio_check_references does: the used ones are kept, 18 others demoted.
  TppRig r(GetParam(), Json::object(), kFast - 60);
  r.tick_at(1.0e9);
  for (Gpa g = 1950; g < 1988; ++g) r.m.touch(g);
  r.m.set_now(1.1e9);
  ASSERT_TRUE(r.m.fault(*r.policy, kFast));
  r.tick_at(1.2e9);
  EXPECT_EQ(r.m.moved_to(Tier::Slow), 18u);
  for (const auto& mv : r.m.moves)
    for (Gpa g : mv.gpas) EXPECT_LT(g, 1950u);
  Json j;
  r.policy->report(j);
  EXPECT_EQ(j["reclaim_spared_young"], 38);
}

INSTANTIATE_TEST_SUITE_P(Sides, TppBothSides, ::testing::Values(true, false),
                         [](const auto& param_info) {
                           return param_info.param ? std::string("Guest") : std::string("Host");
                         });

TEST(TppRule, RejectsABadThreshold) {
  EXPECT_THROW(test::make_policy("tpp", Json{{"hot_threshold_ms", 0}}), SpecError);
  EXPECT_THROW(test::make_policy("tpp-host", Json{{"watermark_scale_factor", 0}}), SpecError);
}

TEST(TppRule, KswapdIsServedWithinAWakeUpNotAPeriod) {
  // wakeup_kswapd wakes kswapd at once: the tick that serves a wake-up is
  // 0.1 ms, unscaled by time_scale (a 2 ms tick left most hot faults after a
  // scan step without room).
  for (const char* name : {"tpp", "tpp-host"}) {
    EXPECT_DOUBLE_EQ(test::make_policy(name)->period_ns(), 1e5) << name;
    EXPECT_DOUBLE_EQ(test::make_policy(name, Json{{"time_scale", 0.01}})->period_ns(), 1e5) << name;
  }
}

TEST(TppRule, SidesAreDeclared) {
  EXPECT_EQ(test::make_policy("tpp")->side(), Side::Guest);
  EXPECT_EQ(test::make_policy("tpp-host")->side(), Side::Host);
}

TEST(TppRule, HostSideFollowsAPoolResizingItsAllowance) {
  // 100 pages free on a 2048-page node; a pool then shrinks the allowance to
  // 1900 pages, below what is used: no free page is left, so first touch
  // falls back to slow, and the watermarks are the resized node's.
  TppRig r(/*guest=*/false, Json::object(), kFast - 100);
  EXPECT_EQ(r.policy->place(kFast, r.m), Tier::Fast);
  r.m.set_fast_capacity(1900);
  EXPECT_EQ(r.policy->place(kFast, r.m), Tier::Slow);
  Json j;
  r.policy->report(j);
  EXPECT_EQ(j["watermark_low_pages"], baselines::zone_watermarks(1900, kPages, 0, 10).low);
}

}  // namespace baseline_tpp_test
}  // namespace vtmm
