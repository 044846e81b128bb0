// PlacementObserver: every design's fast-tier content scored against each
// window's memory traffic (vtmm/sim/placement_score.hpp).
#include "vtmm/sim/placement_score.hpp"

#include <gtest/gtest.h>

#include "tests/sim_test_support.hpp"

namespace placement_score_test {

using namespace vtmm;

// A VM of 64 backed pages: vpns 0..31 first-touched fast, 32..63 slow.
struct Placed {
  test::SimRig rig{test::vm_config(128, 64)};
  Placed() {
    for (uint64_t vpn = 0; vpn < 64; ++vpn) {
      rig.policy.tier = vpn < 32 ? Tier::Fast : Tier::Slow;
      rig.access(0, vpn, kRead);
    }
    rig.vm.set_capacity(Tier::Fast, 32);
  }
  void misses(uint64_t vpn, uint32_t n) {
    sim::VmInternals::add_truth_misses(rig.vm, rig.gpa(vpn), n);
  }
};

TEST(PlacementScore, HotPagesOnFastAreRecalledAndFastPagesNotHotArePrecisionLost) {
  Placed p;
  sim::PlacementObserver obs;
  obs.start(p.rig.vm);
  // Eight hot pages share the window's misses: four on fast, four on slow.
  for (uint64_t vpn : {0, 1, 2, 3, 40, 41, 42, 43}) p.misses(vpn, 100);
  obs.window(p.rig.vm);
  ASSERT_EQ(obs.score().windows, 1u);
  EXPECT_DOUBLE_EQ(obs.score().recall_sum, 0.5);  // 4 of the 8 hot pages are on fast
  // Fast holds 32 data pages plus the page tables first-touched there.
  EXPECT_LE(obs.score().precision_sum, 4.0 / 32);
  EXPECT_GT(obs.score().precision_sum, 0.0);
}

TEST(PlacementScore, EachWindowSeesOnlyItsOwnMisses) {
  Placed p;
  sim::PlacementObserver obs;
  p.misses(40, 1000);  // before the measured phase: not counted
  obs.start(p.rig.vm);
  p.misses(0, 50);
  obs.window(p.rig.vm);
  EXPECT_DOUBLE_EQ(obs.score().recall_sum, 1.0);
  p.misses(41, 50);  // the next window: only the slow page is hot
  obs.window(p.rig.vm);
  EXPECT_EQ(obs.score().windows, 2u);
  EXPECT_DOUBLE_EQ(obs.score().recall_sum, 1.0);  // 1 + 0
}

TEST(PlacementScore, AWindowWithoutMissesIsNotScored) {
  Placed p;
  sim::PlacementObserver obs;
  obs.start(p.rig.vm);
  obs.window(p.rig.vm);
  EXPECT_EQ(obs.score().windows, 0u);
}

TEST(PlacementScore, WindowsScaleAsTheDesignsScaleTheirs) {
  const uint64_t pages_16g = (uint64_t{16} << 30) / kPageSize;
  EXPECT_DOUBLE_EQ(sim::PlacementObserver::window_ns(pages_16g, false), 600e6);
  EXPECT_DOUBLE_EQ(sim::PlacementObserver::window_ns(pages_16g / 16, false), 37.5e6);
  EXPECT_DOUBLE_EQ(sim::PlacementObserver::window_ns(pages_16g / 16, true),
                   600e6);  // a trace's fixed rates
}

}  // namespace placement_score_test
