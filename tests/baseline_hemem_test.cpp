// HeMem's rules, driven by hand through a scripted platform: hot at 4 sampled
// reads or writes, cooling that halves every count when one reaches 10, FIFO
// promotion that demotes the longest-cold fast region, 2 MiB regions moved
// whole with write-protect copies, guest-side re-keying of moved pages.
#include <gtest/gtest.h>

#include <memory>

#include "tests/baseline_run_support.hpp"
#include "tests/baseline_test_support.hpp"
#include "vtmm/core/policy.hpp"

namespace vtmm {
namespace baseline_hemem_test {

using test::ScriptedPlatform;
constexpr Gpa R = kPagesPerHuge;  // pages per region

std::unique_ptr<Policy> hemem(Json extra = Json::object()) {
  Json spec{{"impl", "hemem"}, {"side", "host"}};
  spec.update(extra);
  return PolicyRegistry::instance().make(spec, "policy", PolicyEnv{});
}

// Four regions; regions 0-1 may fit in fast memory. Everything starts slow.
struct Rig {
  ScriptedPlatform m{4 * R, 2 * R};
  std::unique_ptr<Policy> p;
  explicit Rig(Json extra = Json::object()) : p(hemem(std::move(extra))) {
    m.back_range(0, 4 * R, Tier::Slow);
    p->attach(m);
  }
  void reads(uint32_t region, int n, uint32_t offset = 0) {
    for (int i = 0; i < n; ++i) m.sample(region * R + offset + static_cast<Gpa>(i), false);
  }
  void writes(uint32_t region, int n) {
    for (int i = 0; i < n; ++i) m.sample(region * R + static_cast<Gpa>(i), true);
  }
  Json report() const {
    Json j;
    p->report(j);
    return j;
  }
  bool fast(uint32_t region) const { return m.tier_of(region * R) == Tier::Fast; }
};

TEST(HeMem, HotAtFourSampledReadsOrWrites) {
  Rig r;
  r.reads(0, 3);
  r.writes(0, 3);  // 3 + 3: neither threshold reached
  r.reads(1, 4);
  r.writes(2, 4);
  r.p->tick(r.m);
  EXPECT_FALSE(r.fast(0));
  EXPECT_TRUE(r.fast(1));
  EXPECT_TRUE(r.fast(2));
  EXPECT_EQ(r.report().at("coolings"), 0);
}

TEST(HeMem, CoolsAtTenAfterTheWakeUpsMigrations) {
  // Region 1 is hot with 4 reads; region 0 then reaches 10: every count is
  // halved. The wake-up migrates from the lists as they stand (both hot, as
  // the artifact's loop does) and cools them after: region 1 (now 2) is
  // cold, region 0 (now 5) still hot.
  Rig r;
  r.reads(1, 4);
  r.reads(0, 10);
  r.p->tick(r.m);
  EXPECT_EQ(r.report().at("coolings"), 1);
  EXPECT_TRUE(r.fast(0));
  EXPECT_TRUE(r.fast(1));
  EXPECT_EQ(r.report().at("hot_regions_last"), 1);
}

TEST(HeMem, SkipsCoolingWhileFastMemoryHoldsOnlyHotRegions) {
  // Regions 0 and 1 fill fast memory hot; region 2 turns hot and has to
  // wait. Region 3 reaching 10 advances the clock, but the wake-up stops at
  // "only hot regions on fast" (the artifact's goto out) and does not cool
  // the lists: 0 and 1 stay hot and stay put. The next wake-up that gets
  // through its loop cools them.
  Rig r;
  r.reads(0, 4);
  r.reads(1, 4);
  r.p->tick(r.m);
  ASSERT_TRUE(r.fast(0) && r.fast(1));
  r.reads(2, 4);
  r.reads(3, 10);
  r.p->tick(r.m);
  EXPECT_TRUE(r.fast(0) && r.fast(1));
  EXPECT_FALSE(r.fast(2));
  EXPECT_EQ(r.report().at("hot_regions_last"), 4) << "no region cooled";
}

TEST(HeMem, NoCoolingBelowTen) {
  Rig r;
  r.reads(1, 4);
  r.reads(0, 9);
  r.p->tick(r.m);
  EXPECT_EQ(r.report().at("coolings"), 0);
  EXPECT_TRUE(r.fast(0));
  EXPECT_TRUE(r.fast(1));
}

TEST(HeMem, CoolingIsPerEventTypeAndRepeats) {
  // HeMem keeps fast reads, slow reads and writes apart (DRAMREAD, NVMREAD,
  // WRITE): 9 writes + 9 slow reads never cool; each run of one count to 10
  // does (after halving, 5 more reach 10 again). No fast room: nothing moves.
  ScriptedPlatform m(4 * R, 0);
  m.back_range(0, 4 * R, Tier::Slow);
  auto p = hemem();
  p->attach(m);
  auto sample = [&](int n, bool write) {
    for (int i = 0; i < n; ++i) m.sample(static_cast<Gpa>(i), write);
  };
  Json j;
  sample(9, true);
  sample(9, false);
  p->tick(m);
  p->report(j);
  EXPECT_EQ(j.at("coolings"), 0);
  sample(1, false);  // slow reads 10 -> cool, 5
  sample(5, false);  // slow reads 10 -> cool, 5
  p->tick(m);
  p->report(j);
  EXPECT_EQ(j.at("coolings"), 2);
  EXPECT_TRUE(m.moves.empty());
}

TEST(HeMem, MovesWhole2MiBRegionsWithWriteProtect) {
  Rig r;
  r.reads(3, 4);
  r.p->tick(r.m);
  ASSERT_EQ(r.m.moves.size(), 1u);
  const auto& c = r.m.moves[0];
  EXPECT_EQ(c.gpas.size(), R);
  EXPECT_EQ(c.gpas.front(), 3 * R);
  EXPECT_EQ(c.to, Tier::Fast);
  EXPECT_EQ(c.how, MigrationMethod::WriteProtect);
  EXPECT_EQ(c.threads, 4u);
  EXPECT_EQ(r.m.used_pages(Tier::Fast), R);
}

TEST(HeMem, DemotesTheLongestColdFastRegionToMakeRoom) {
  ScriptedPlatform m(4 * R, 2 * R);
  m.back_range(0, 2 * R, Tier::Fast);
  m.back_range(2 * R, 4 * R, Tier::Slow);
  auto p = hemem();
  p->attach(m);
  // Region 0 turns hot then cools (re-joins the cold list last); region 1 has
  // been cold since allocation, so it goes first.
  for (int i = 0; i < 4; ++i) m.sample(static_cast<Gpa>(i), false);
  p->tick(m);
  for (int i = 0; i < 10; ++i) m.sample(3 * R + static_cast<Gpa>(i), true);  // cools region 0 to 2
  p->tick(m);
  EXPECT_EQ(m.tier_of(3 * R), Tier::Fast);
  EXPECT_EQ(m.tier_of(R), Tier::Slow);
  EXPECT_EQ(m.tier_of(0), Tier::Fast);
}

TEST(HeMem, NeverDemotesHotRegions) {
  ScriptedPlatform m(4 * R, 2 * R);
  m.back_range(0, 2 * R, Tier::Fast);
  m.back_range(2 * R, 4 * R, Tier::Slow);
  auto p = hemem();
  p->attach(m);
  for (Gpa region : {0u, 1u, 2u})
    for (int i = 0; i < 4; ++i) m.sample(region * R + static_cast<Gpa>(i), false);
  p->tick(m);
  EXPECT_TRUE(m.moves.empty());
  EXPECT_EQ(m.tier_of(2 * R), Tier::Slow);
}

TEST(HeMem, GuestSideFollowsMovedPagesToTheirNewGpas) {
  // Guest NUMA: GPAs [0, 2R) are the fast node. Region 2 (slow node) is
  // promoted to fresh fast GPAs; samples on those GPAs still count for it.
  ScriptedPlatform m(4 * R, 2 * R, /*guest=*/true);
  m.back_range(2 * R, 4 * R, Tier::Slow);
  auto p = PolicyRegistry::instance().make(Json{{"impl", "hemem"}}, "policy", PolicyEnv{});
  EXPECT_EQ(p->side(), Side::Guest);
  p->attach(m);
  for (int i = 0; i < 4; ++i) m.sample(2 * R + static_cast<Gpa>(i), true);
  p->tick(m);
  ASSERT_EQ(m.moved_to(Tier::Fast), R);
  EXPECT_FALSE(m.backed(2 * R));
  EXPECT_TRUE(m.backed(0));
  // 6 more writes on the region's new home make 10 and cool: they reached
  // the same counter.
  for (int i = 0; i < 6; ++i) m.sample(static_cast<Gpa>(i), true);
  p->tick(m);
  Json j;
  p->report(j);
  EXPECT_EQ(j.at("coolings"), 1);
  EXPECT_EQ(m.moves.size(), 1u) << "a hot region already in fast memory stays";
}

TEST(HeMem, GuestSideRegionsAreGuestVirtualRangesWhateverTheirGpas) {
  // Two 2 MiB virtual ranges whose pages the guest interleaved over the slow
  // node's GPAs (as several vCPUs' first touches do): even GPAs hold range
  // 0, odd ones range 1. Samples on range 0 move its R pages, none of 1's.
  ScriptedPlatform m(4 * R, 2 * R, /*guest=*/true);
  m.back_range(2 * R, 4 * R, Tier::Slow);
  m.uses.assign(4 * R, PageUse{PageUse::Free, 0});
  for (Gpa i = 0; i < 2 * R; ++i) m.uses[2 * R + i] = PageUse{PageUse::Data, (i % 2) * R + i / 2};
  auto p = PolicyRegistry::instance().make(Json{{"impl", "hemem"}}, "policy", PolicyEnv{});
  p->attach(m);
  p->tick(m);  // the pages join their ranges
  for (Gpa i = 0; i < 4; ++i) m.sample(2 * R + 2 * i, true);
  p->tick(m);
  ASSERT_EQ(m.moves.size(), 1u);
  ASSERT_EQ(m.moves[0].gpas.size(), R);
  for (Gpa g : m.moves[0].gpas)
    EXPECT_EQ((g - 2 * R) % 2, 0u) << "GPA " << g << " holds the other range";
}

TEST(HeMem, SamplePeriodIsPublishedTimesTimeScale) {
  ScriptedPlatform m(4 * R, 2 * R);
  auto p = hemem({{"time_scale", 1}});
  p->attach(m);
  EXPECT_EQ(m.load_period, 19997u);
  EXPECT_EQ(m.store_period, 19997u);
  auto q = hemem();  // 8 MiB of guest memory / 16 GiB
  q->attach(m);
  EXPECT_EQ(m.load_period, 10u);
}

TEST(HeMem, RejectsBadParams) {
  EXPECT_THROW(hemem({{"side", "hypervisor"}}), SpecError);
  EXPECT_THROW(hemem({{"cooling_threshold", 1}}), SpecError);
  EXPECT_THROW(hemem({{"migrate_interval_ms", 0}}), SpecError);
}

}  // namespace baseline_hemem_test
}  // namespace vtmm

// Whole runs (tests/baseline_run_support.hpp).
namespace vtmm {
namespace baseline_hemem_test {

TEST(HeMemRun, BeatsFirstTouchWhenTheHotSetWasTouchedLast) {
  const double dram = test::run_time(test::gups_hot_last("dram-only"));
  const double first = test::run_time(test::gups_hot_last("first-touch"));
  const double mine = test::run_time(test::gups_hot_last("hemem"));
  EXPECT_LT(mine - dram, first - dram)
      << "dram " << dram << " first-touch " << first << " hemem " << mine;
}

TEST(HeMemRun, SameSpecSameRecord) {
  const Json run = test::gups_hot_last("hemem");
  EXPECT_EQ(test::run_record(run).dump(), test::run_record(run).dump());
}

}  // namespace baseline_hemem_test
}  // namespace vtmm
