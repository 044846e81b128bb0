// nimble: active/inactive lists from periodic A-bit scans (two looks before a
// page is active), promotion of active slow pages, exchange with inactive fast
// pages when the fast tier is full, 4 copy threads; pinned on a scripted
// platform with time_scale 1 (one round per tick).
#include <gtest/gtest.h>

#include "tests/baseline_run_support.hpp"
#include "tests/baseline_test_support.hpp"

namespace vtmm {
namespace baseline_nimble_test {

using test::ScriptedPlatform;

constexpr uint32_t kPages = 4096, kFast = 1024;

struct NimbleRig {
  explicit NimbleRig(Gpa fast_backed) : m(kPages, kFast) {
    policy = test::make_policy("nimble", Json{{"time_scale", 1.0}});
    m.back_range(0, fast_backed, Tier::Fast);
    m.back_range(kFast, 2 * kFast, Tier::Slow);
    policy->attach(m);
  }
  void round(std::initializer_list<std::pair<Gpa, Gpa>> touched) {
    for (auto [a, b] : touched)
      for (Gpa g = a; g < b; ++g) m.touch(g);
    policy->tick(m);
  }
  ScriptedPlatform m;
  std::unique_ptr<Policy> policy;
};

TEST(Nimble, PeriodIsFiveSecondsScaled) {
  auto p = test::make_policy("nimble", Json{{"time_scale", 0.5}});
  ScriptedPlatform m(kPages, kFast);
  p->attach(m);
  EXPECT_DOUBLE_EQ(p->period_ns(), 2.5e9);
}

TEST(Nimble, PromotesASlowPageOnlyOnceItIsActive) {
  NimbleRig r(kFast - 24);
  r.round({{1500, 1501}});
  EXPECT_TRUE(r.m.moves.empty());  // first look: marked, still inactive
  r.round({{1500, 1501}});
  ASSERT_EQ(r.m.moved_to(Tier::Fast), 1u);
  EXPECT_EQ(r.m.tier_of(1500), Tier::Fast);
  EXPECT_EQ(r.m.moves.back().threads, 4u);
  EXPECT_TRUE(r.m.exchanges.empty());
}

// The host's reference check is KVM's clear_flush_young: a look that finds
// a young page flushes the VM's TLBs, one that finds none does not.
TEST(Nimble, ALookThatFindsAYoungPageFlushesTheTlbs) {
  NimbleRig r(kFast - 24);
  r.round({{1500, 1501}});
  EXPECT_EQ(r.m.flushes, 1u);
  r.round({});
  EXPECT_EQ(r.m.flushes, 1u);
}

// With 2 MiB guest and EPT pages a small VM's translations all stay in the
// TLB, so no walk sets an EPT accessed bit again after a look clears it:
// only the look's own flush lets Nimble see the pages in use and promote
// them (without it, every page stayed on the slow tier).
TEST(Nimble, OnTwoMiBPagesItSeesPagesReachedThroughCachedTranslations) {
  const Json run{
      {"workload",
       {{"impl", "random-read"},
        {"footprint", "16MiB"},
        {"warmup_accesses", 100000},
        {"accesses", 1000000}}},
      {"policy", {{"impl", "nimble"}, {"time_scale", 0.002}}},
      {"vm",
       {{"memory", "48MiB"}, {"initial_tier", "slow"}, {"ept_huge", true}, {"guest_thp", true}}},
      {"ratio", "1:1"},
      {"host_overrides", {{"llc_bytes", "4MiB"}}},
      {"seed", 1}};
  const Json rec = test::run_record(run);
  EXPECT_EQ(rec.at("counters").at("tlb_misses").get<uint64_t>(),
            rec.at("counters").at("huge_tlb_fills").get<uint64_t>())
      << "every miss refills a 2 MiB translation";
  EXPECT_GE(rec.at("promoted_pages").get<uint64_t>(), 4096u) << "the whole footprint moves up";
  EXPECT_EQ(rec.at("hot_on_fast_at_end").get<double>(), 1.0);
}

TEST(Nimble, AnUntouchedRoundBetweenLooksResetsTheMark) {
  NimbleRig r(kFast - 24);
  r.round({{1500, 1501}});
  r.round({});
  r.round({{1500, 1501}});
  EXPECT_TRUE(r.m.moves.empty());
}

TEST(Nimble, ExchangesWithInactiveFastPagesWhenFastIsFull) {
  NimbleRig r(kFast);
  r.round({{0, 512}, {1500, 1502}});
  r.round({{0, 512}, {1500, 1502}});
  ASSERT_EQ(r.m.exchanges.size(), 1u);
  ASSERT_EQ(r.m.exchanges[0].size(), 2u);
  for (const auto& [fast, slow] : r.m.exchanges[0]) {
    EXPECT_GE(fast, 512u);  // never a page the workload keeps using
    EXPECT_GE(slow, 1500u);
  }
  EXPECT_EQ(r.m.exchange_threads, 4u);
  EXPECT_EQ(r.m.tier_of(1500), Tier::Fast);
  EXPECT_EQ(r.m.tier_of(1501), Tier::Fast);
  EXPECT_EQ(r.m.used_pages(Tier::Fast), uint64_t{kFast});
  EXPECT_TRUE(r.m.moves.empty());  // no free room was needed
}

TEST(Nimble, AFastPageStillInUseSurvivesDeactivation) {
  // Every fast page is in use every round. Deactivation (the inactive list
  // refilled from the active tail) keeps the pages' marks, so the next look
  // re-activates them and there is no inactive page to exchange out, however
  // many slow pages are active.
  NimbleRig r(kFast);
  for (int i = 0; i < 4; ++i) r.round({{0, kFast}, {1500, 1502}});
  EXPECT_TRUE(r.m.exchanges.empty());
  EXPECT_EQ(r.m.moved_to(Tier::Fast) + r.m.moved_to(Tier::Slow), 0u);
  EXPECT_EQ(r.m.tier_of(1500), Tier::Slow);
}

TEST(Nimble, WithoutExchangeDemotesThenPromotes) {
  ScriptedPlatform m(kPages, kFast);
  auto p = test::make_policy("nimble", Json{{"time_scale", 1.0}, {"exchange", false}});
  m.back_range(0, kFast, Tier::Fast);
  m.back_range(kFast, 2 * kFast, Tier::Slow);
  p->attach(m);
  for (int i = 0; i < 2; ++i) {
    m.touch(1500);
    p->tick(m);
  }
  ASSERT_EQ(m.moves.size(), 2u);
  EXPECT_EQ(m.moves[0].to, Tier::Slow);
  EXPECT_EQ(m.moves[1].to, Tier::Fast);
  EXPECT_EQ(m.tier_of(1500), Tier::Fast);
}

}  // namespace baseline_nimble_test
}  // namespace vtmm
