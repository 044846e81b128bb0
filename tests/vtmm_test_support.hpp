#pragma once
// Helpers for the vTMM policy tests: a tracker (PmlGptTracker or EptScanner)
// attached to the simulated VM of tests/sim_test_support.hpp, driven one
// tracking window at a time by hand.
//
//   vtmm::test::TrackerRig<vtmm::policy::PmlGptTracker> t(vm_config(2048, 1536, 1, true),
//                                                          vtmm::policy::PmlGptTracker({}));
//   t.rig.access(0, /*vpn=*/3, vtmm::kRead);
//   t.window();                                   // window 0
//   EXPECT_EQ(t.seen_of(t.rig.gpa(3)), vtmm::policy::Seen::Read);
#include <cstdint>
#include <ostream>
#include <utility>
#include <vector>

#include "tests/sim_test_support.hpp"
#include "vtmm/policy/mlq.hpp"
#include "vtmm/policy/tracker.hpp"

namespace vtmm::policy {

// So that gtest prints "Read" rather than a byte dump.
inline void PrintTo(Seen s, std::ostream* os) {
  *os << (s == Seen::None ? "None" : s == Seen::Read ? "Read" : s == Seen::Write ? "Write" : "?");
}

}  // namespace vtmm::policy

namespace vtmm::test {

template <class Tracker>
struct TrackerRig {
  TrackerRig(const sim::VmConfig& cfg, Tracker t) : rig(cfg), tracker(std::move(t)) {
    tracker.attach(rig.mech);
    seen.assign(rig.mech.guest_pages(), 0);
  }
  TrackerRig(const TrackerRig&) = delete;
  TrackerRig& operator=(const TrackerRig&) = delete;

  // Runs tracking window k (the next one) on the hypervisor thread; returns k.
  uint32_t window() {
    tracker.window(rig.mech, k, seen, st);
    return k++;
  }
  policy::Seen seen_of(Gpa g) const { return static_cast<policy::Seen>(seen[g]); }

  SimRig rig;
  Tracker tracker;
  std::vector<uint8_t> seen;  // by GPA, policy::Seen of the last window
  policy::TrackStats st;
  uint32_t k = 0;  // the next window's number
};

}  // namespace vtmm::test
