// Ground truth (true per-page access counts) is for the policies that declare
// Mechanism::GroundTruth: they see each tick's window counts; the others are
// not handed the capability at all (the run loop gives a policy only what it
// declared), and the loop skips the O(pages) reset it would cost them.
#include <gtest/gtest.h>

#include <algorithm>
#include <numeric>
#include <stdexcept>

#include "vtmm/core/workload.hpp"
#include "vtmm/sim/host_profile.hpp"
#include "vtmm/sim/run_loop.hpp"
#include "vtmm/sim/vm_setup.hpp"

namespace ground_truth_test {

using namespace vtmm;

// Ticks every 50 us and notes what true_accesses() held at each tick.
class TruthProbe final : public Policy {
 public:
  enum class Ask { Nothing, Need, Want };
  explicit TruthProbe(bool declare) : ask_(declare ? Ask::Need : Ask::Nothing) {}
  explicit TruthProbe(Ask ask) : ask_(ask) {}
  std::vector<Mechanism> needs() const override {
    if (ask_ == Ask::Need) return {Mechanism::GroundTruth};
    return {};
  }
  std::vector<Mechanism> wants() const override {
    if (ask_ == Ask::Want) return {Mechanism::GroundTruth};
    return {};
  }
  Tier place(Gpa, const Mechanisms&) override { return Tier::Fast; }
  double period_ns() const override { return 50'000; }
  void tick(Mechanisms& m) override {
    if (!m.offers(Mechanism::GroundTruth)) {
      ++ticks;
      try {
        (void)m.truth();
      } catch (const std::logic_error&) {
        ++refused;
      }
      return;
    }
    const auto t = m.truth().true_accesses();
    ++ticks;
    if (!t.empty()) ++nonempty;
    const uint64_t sum = std::accumulate(t.begin(), t.end(), uint64_t{0});
    max_window = std::max(max_window, sum);
    total += sum;
  }
  uint32_t ticks = 0, nonempty = 0, refused = 0;
  uint64_t max_window = 0, total = 0;

 private:
  Ask ask_;
};

uint64_t run(TruthProbe& pol) {
  auto wl = WorkloadRegistry::instance().make(
      Json{{"impl", "gups"}, {"footprint", "4MiB"}, {"updates", 200000}, {"warmup_updates", 0}},
      "workload", WorkloadEnv{1, 1});
  const uint64_t footprint = wl->footprint_bytes();
  const sim::Sizes sz = sim::size_vm(sim::VmSizing{0, std::nullopt, 0, "probe", "test"},
                                     Policy::Sizing::AllFast, footprint);
  std::vector<sim::VmSlot> slots{
      sim::VmSlot{sim::vm_config(sz, pol, sim::VmShape{1, footprint}), wl.get(), &pol, 0, false}};
  const sim::Outcome o = sim::run_loop("sim", sim::HostProfile::load("optane"), slots).front();
  return o.measured.accesses;
}

TEST(GroundTruth, PolicyThatDeclaresItSeesEachWindowsCounts) {
  TruthProbe p(true);
  const uint64_t accesses = run(p);
  ASSERT_GT(p.ticks, 3u);
  EXPECT_EQ(p.nonempty, p.ticks);
  // Each tick sees only its own window: reset between ticks, so together the
  // windows hold at most every access of the run (the measured updates plus
  // setup's one write per page). Without the reset they would add up to
  // about ticks / 2 times that.
  EXPECT_GT(p.total, 0u);
  EXPECT_LT(p.max_window, accesses);
  EXPECT_LE(p.total, accesses + (4u << 20) / kPageSize);
}

// Wanting it (use it where offered) is enough on the simulator, which offers it.
TEST(GroundTruth, PolicyThatWantsItSeesTheCountsWhereOffered) {
  TruthProbe p(TruthProbe::Ask::Want);
  run(p);
  ASSERT_GT(p.ticks, 3u);
  EXPECT_EQ(p.nonempty, p.ticks);
}

// vTMM wants ground truth only for its evaluation: a platform without it can
// still run it (precision and recall are then null).
TEST(GroundTruth, VtmmWantsItButDoesNotNeedIt) {
  for (const char* design : {"vtmm", "ept-scanner", "vtmm-no-mlq"}) {
    const auto pol = PolicyRegistry::instance().make(Json(design), "policy", PolicyEnv{});
    const auto needs = pol->needs(), wants = pol->wants();
    EXPECT_EQ(std::count(needs.begin(), needs.end(), Mechanism::GroundTruth), 0) << design;
    EXPECT_EQ(std::count(wants.begin(), wants.end(), Mechanism::GroundTruth), 1) << design;
  }
}

TEST(GroundTruth, PolicyThatDoesNotDeclareItIsNotHandedIt) {
  TruthProbe p(false);
  run(p);
  ASSERT_GT(p.ticks, 3u);
  EXPECT_EQ(p.nonempty, 0u);
  EXPECT_EQ(p.refused, p.ticks);
}

}  // namespace ground_truth_test
