// vTMM's multi-level queue (vtmm/policy/mlq.hpp), as pure functions: a page
// at level L is left alone (A/D neither read nor cleared) for 2^(L-1)
// windows after it is seen, its bits are cleared at the end of that period,
// and it moves up a level if seen in the very next window, down a level
// (never below 0) if seen only later; levels stop at levels-1. With the MLQ
// off every page stays at level 0 and is cleared in every window it is seen.
//
// The driver below follows the tracker's protocol (tracker.cpp): mlq_plan()
// before the scan; the page's bits are looked at only if the plan says so
// (else the tracker passes Seen::None); mlq_update() returns whether the
// bits are cleared in that window.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <vector>

#include "vtmm/policy/mlq.hpp"

namespace vtmm::policy {
namespace vtmm_mlq_test {

struct WindowLog {
  bool looked = false;   // plan: A/D read this window
  bool cleared = false;  // update: A/D cleared this window
  uint8_t level = 0, state = 0;
};

struct Driver {
  MlqPage p;
  MlqConfig cfg;
  std::vector<WindowLog> log;  // by window

  // Window k: the page was accessed (its A bit set) iff `accessed`.
  void window(uint32_t k, bool accessed, Seen kind = Seen::Read) {
    const MlqAction a = mlq_plan(p, k);
    const Seen s = a.read_bits && accessed ? kind : Seen::None;
    const bool cleared = mlq_update(p, k, s, cfg);
    if (log.size() <= k) log.resize(k + 1);
    log[k] = WindowLog{a.read_bits, cleared, p.level(), p.state()};
  }
  void run(uint32_t from, uint32_t to, const std::function<bool(uint32_t)>& accessed) {
    for (uint32_t k = from; k < to; ++k) window(k, accessed(k));
  }
  std::vector<uint32_t> windows_where(bool WindowLog::*field) const {
    std::vector<uint32_t> out;
    for (uint32_t k = 0; k < log.size(); ++k)
      if (log[k].*field) out.push_back(k);
    return out;
  }
};

// A page put at `level` with its do-not-disturb period ending in window `until`.
MlqPage in_dnd(uint8_t level, uint32_t until) {
  MlqPage p;
  p.set_level(level);
  p.set_state(MlqPage::Dnd);
  p.set_until(until);
  p.set_last(static_cast<uint8_t>(Seen::Read));
  return p;
}

TEST(VtmmMlq, DoNotDisturbPeriodIsTwoToTheLevelMinusOneWindows) {
  EXPECT_EQ(dnd_windows(0), 0u) << "level 0: no do-not-disturb period";
  EXPECT_EQ(dnd_windows(1), 1u);
  EXPECT_EQ(dnd_windows(2), 2u);
  EXPECT_EQ(dnd_windows(3), 4u);
  EXPECT_EQ(dnd_windows(4), 8u);
  EXPECT_EQ(dnd_windows(5), 16u);
  EXPECT_EQ(dnd_windows(6), 32u);
  EXPECT_EQ(dnd_windows(7), 64u);
}

TEST(VtmmMlq, LevelZeroPageIsLookedAtAndClearedInTheWindowItIsSeen) {
  Driver d;
  d.window(4, true);
  EXPECT_TRUE(d.log[4].looked);
  EXPECT_TRUE(d.log[4].cleared) << "level 0 has no do-not-disturb period";
  EXPECT_EQ(d.p.level(), 0);
  EXPECT_EQ(d.p.state(), MlqPage::Probe);
  EXPECT_EQ(d.p.until_near(0), 5u) << "the next window is its probe window";
  const MlqAction next = mlq_plan(d.p, 5);
  EXPECT_TRUE(next.read_bits);
}

// Each level L page is left alone for exactly 2^(L-1) windows: in the first
// 2^(L-1)-1 of them nothing is read or cleared, in the last the bits are
// cleared without being read, and the window after is read again.
TEST(VtmmMlq, PageAtLevelLIsNotDisturbedFor2PowLMinus1Windows) {
  for (uint8_t level = 1; level <= 7; ++level) {
    SCOPED_TRACE(testing::Message() << "level " << int{level});
    // A page at level-1 seen in its probe window (k = 100) reaches `level`.
    MlqPage p;
    p.set_level(static_cast<uint8_t>(level - 1));
    p.set_state(MlqPage::Probe);
    p.set_until(100);
    EXPECT_FALSE(mlq_update(p, 100, Seen::Read, MlqConfig{})) << "bits stay set through the period";
    ASSERT_EQ(p.level(), level);
    ASSERT_EQ(p.state(), MlqPage::Dnd);
    const uint32_t len = 1u << (level - 1);
    for (uint32_t k = 101; k < 100 + len; ++k) {
      const MlqAction a = mlq_plan(p, k);
      EXPECT_FALSE(a.read_bits) << "window " << k;
      EXPECT_FALSE(a.clear_bits) << "window " << k;
      EXPECT_FALSE(mlq_update(p, k, Seen::None, MlqConfig{})) << "window " << k;
      EXPECT_EQ(p.state(), MlqPage::Dnd) << "window " << k;
    }
    const uint32_t last = 100 + len;
    const MlqAction end = mlq_plan(p, last);
    EXPECT_FALSE(end.read_bits) << "last window of the period: not read";
    EXPECT_TRUE(end.clear_bits) << "last window of the period: cleared";
    EXPECT_TRUE(mlq_update(p, last, Seen::None, MlqConfig{}));
    EXPECT_EQ(p.state(), MlqPage::Probe);
    EXPECT_EQ(p.until_near(0), last + 1);
    EXPECT_TRUE(mlq_plan(p, last + 1).read_bits) << "probe window: read again";
    EXPECT_EQ(p.level(), level) << "the period alone does not change the level";
  }
}

// A page accessed in every window climbs one level per period, up to 7.
TEST(VtmmMlq, PageSeenEveryWindowClimbsOneLevelPerPeriod) {
  Driver d;
  d.run(0, 270, [](uint32_t) { return true; });
  // Read windows r: level L after r, next read r + 2^(L-1) + 1, clear at r + 2^(L-1).
  EXPECT_EQ(d.windows_where(&WindowLog::looked),
            (std::vector<uint32_t>{0, 1, 3, 6, 11, 20, 37, 70, 135, 200, 265}));
  EXPECT_EQ(d.windows_where(&WindowLog::cleared),
            (std::vector<uint32_t>{0, 2, 5, 10, 19, 36, 69, 134, 199, 264}));
  const std::vector<uint8_t> levels_after = {0, 1, 2, 3, 4, 5, 6, 7, 7, 7, 7};
  const std::vector<uint32_t> reads = d.windows_where(&WindowLog::looked);
  for (size_t i = 0; i < reads.size(); ++i)
    EXPECT_EQ(d.log[reads[i]].level, levels_after[i]) << "window " << reads[i];
}

TEST(VtmmMlq, SeenInTheWindowRightAfterThePeriodMovesUpOneLevel) {
  Driver d;
  d.p = in_dnd(3, 10);
  d.window(10, true);  // last window of the period: cleared, not read
  EXPECT_FALSE(d.log[10].looked);
  EXPECT_TRUE(d.log[10].cleared);
  EXPECT_EQ(d.p.level(), 3);
  d.window(11, true);  // the probe window
  EXPECT_TRUE(d.log[11].looked);
  EXPECT_EQ(d.p.level(), 4);
  EXPECT_EQ(d.p.state(), MlqPage::Dnd);
  EXPECT_EQ(d.p.until_near(0), 11u + 8u);
}

TEST(VtmmMlq, SeenOnlyLaterMovesDownOneLevel) {
  Driver d;
  d.p = in_dnd(3, 10);
  d.window(10, false);
  d.window(11, false);  // probe window missed
  EXPECT_EQ(d.p.state(), MlqPage::Late);
  EXPECT_EQ(d.p.level(), 3) << "not seen: no change until it is seen again";
  EXPECT_FALSE(d.log[11].cleared) << "bits are already clear";
  for (uint32_t k = 12; k < 20; ++k) d.window(k, false);
  EXPECT_EQ(d.p.level(), 3);
  d.window(20, true);
  EXPECT_TRUE(d.log[20].looked);
  EXPECT_EQ(d.p.level(), 2) << "down one level, however late";
  EXPECT_EQ(d.p.state(), MlqPage::Dnd);
  EXPECT_EQ(d.p.until_near(0), 22u) << "and left alone for level 2's 2 windows";
}

// The tracker does not always update a page in its probe window (its table
// may not be scanned then); a page in Probe seen after its probe window is late too.
TEST(VtmmMlq, ProbeSeenAfterItsProbeWindowMovesDownOneLevel) {
  MlqPage p;
  p.set_level(4);
  p.set_state(MlqPage::Probe);
  p.set_until(30);
  EXPECT_FALSE(mlq_update(p, 33, Seen::Write, MlqConfig{}));
  EXPECT_EQ(p.level(), 3);
  EXPECT_EQ(p.state(), MlqPage::Dnd);
  EXPECT_EQ(p.until_near(0), 33u + 4u);
}

TEST(VtmmMlq, LevelNeverGoesBelowZero) {
  Driver d;
  d.window(0, true);   // level 0, probe window 1
  d.window(1, false);  // missed
  EXPECT_EQ(d.p.state(), MlqPage::Late);
  d.window(2, false);
  d.window(3, true);  // seen late at level 0
  EXPECT_EQ(d.p.level(), 0);
  EXPECT_EQ(d.p.state(), MlqPage::Probe);
  EXPECT_TRUE(d.log[3].cleared) << "still level 0: cleared in the window it is seen";

  d.p = in_dnd(1, 10);
  d.window(10, false);
  d.window(11, false);
  d.window(12, true);
  EXPECT_EQ(d.p.level(), 0);
  d.window(13, false);
  d.window(14, true);
  EXPECT_EQ(d.p.level(), 0);
}

TEST(VtmmMlq, LevelIsCappedAtLevelsMinusOne) {
  Driver d;  // default: 8 levels
  ASSERT_EQ(d.cfg.levels, 8);
  d.run(0, 600, [](uint32_t) { return true; });
  uint8_t top = 0;
  for (const WindowLog& w : d.log) top = std::max(top, w.level);
  EXPECT_EQ(top, 7);
  EXPECT_EQ(d.p.level(), 7);

  Driver three;
  three.cfg.levels = 3;
  three.run(0, 40, [](uint32_t) { return true; });
  EXPECT_EQ(three.p.level(), 2);
  // At the cap (level 2) the period stays 2 windows: reads every third window.
  EXPECT_EQ(three.windows_where(&WindowLog::looked),
            (std::vector<uint32_t>{0, 1, 3, 6, 9, 12, 15, 18, 21, 24, 27, 30, 33, 36, 39}));
}

TEST(VtmmMlq, DisabledKeepsSeenPagesAtLevelZeroAndClearsThemEveryWindow) {
  Driver d;
  d.cfg.enabled = false;
  d.run(0, 50, [](uint32_t) { return true; });
  for (uint32_t k = 0; k < 50; ++k) {
    EXPECT_TRUE(d.log[k].looked) << k;
    EXPECT_TRUE(d.log[k].cleared) << k;
    EXPECT_EQ(d.log[k].level, 0) << k;
    EXPECT_NE(d.log[k].state, MlqPage::Dnd) << k;
  }

  // With gaps: looked at every window, cleared exactly when seen.
  Driver g;
  g.cfg.enabled = false;
  g.run(0, 40, [](uint32_t k) { return k % 3 != 1; });
  for (uint32_t k = 0; k < 40; ++k) {
    EXPECT_TRUE(g.log[k].looked) << k;
    EXPECT_EQ(g.log[k].cleared, k % 3 != 1) << k;
    EXPECT_EQ(g.log[k].level, 0) << k;
  }
}

TEST(VtmmMlq, LastObservationIsCarriedThroughThePeriod) {
  MlqPage p;
  p.set_state(MlqPage::Probe);
  p.set_until(7);
  EXPECT_FALSE(mlq_update(p, 7, Seen::Write, MlqConfig{}));  // up to level 1, DND
  ASSERT_EQ(p.state(), MlqPage::Dnd);
  EXPECT_EQ(p.last(), static_cast<uint8_t>(Seen::Write));
  EXPECT_TRUE(mlq_update(p, 8, Seen::None, MlqConfig{}));  // end of period (not read)
  EXPECT_EQ(p.last(), static_cast<uint8_t>(Seen::Write))
      << "what it last did, not overwritten by the period";
}

// The state keeps its window modulo 2^24 (4 bytes a page): a page driven
// across window 2^24, or 2^32 - 1, goes through the same steps as the same
// pattern started at window 0, whatever its level and period.
TEST(VtmmMlq, WindowNumbersWrapWithoutChangingAnyStep) {
  auto trace = [](uint32_t k0) {
    MlqPage p;
    std::vector<uint32_t> steps;
    for (uint32_t i = 0; i < 600; ++i) {
      const uint32_t k = k0 + i;
      const bool accessed = (i / 40) % 3 != 2 && i % 7 != 5;  // climbs, falls back, climbs
      const MlqAction a = mlq_plan(p, k);
      const Seen s = a.read_bits && accessed ? Seen::Write : Seen::None;
      const bool cleared = mlq_update(p, k, s, MlqConfig{.levels = 16});
      steps.push_back(uint32_t{a.read_bits} | uint32_t{cleared} << 1 | uint32_t{p.level()} << 2 |
                      uint32_t{p.state()} << 8 |
                      static_cast<uint32_t>(p.until_after(k) + 100) << 12);
    }
    return steps;
  };
  const std::vector<uint32_t> base = trace(0);
  uint32_t top = 0;
  for (uint32_t x : base) top = std::max(top, x >> 2 & 0x3f);
  ASSERT_GE(top, 4u) << "the pattern climbs to level 4 at least";
  EXPECT_EQ(trace((1u << 24) - 300), base);
  EXPECT_EQ(trace(UINT32_MAX - 300), base);
}

}  // namespace vtmm_mlq_test
}  // namespace vtmm::policy
