// xsbench: runs through the simulator at tiny scale and passes its own check
// (its lookup hash equals the nuclide-grid reference's); a corrupted hash is caught.
#include <gtest/gtest.h>

#include <memory>

#include "vtmm/core/error.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/simulation.hpp"
#include "workloads/access_queue.hpp"

namespace {

using vtmm::Json;

Json tiny() {
  return Json{{"impl", "xsbench"}, {"n_isotopes", 40}, {"n_gridpoints", 200}, {"warmup_lookups", 200},
              {"lookups", 3000}};
}

Json simulate(const Json& w, uint32_t vcpus) {
  const Json run = {{"workload", w}, {"policy", {{"impl", "dram-only"}}}, {"seed", 3}, {"vm", {{"vcpus", vcpus}}}};
  return vtmm::sim::simulate(vtmm::RunSpec::from_json(run, "test"));  // calls verify()
}

std::unique_ptr<vtmm::Workload> run_alone(const Json& spec) {
  auto w = vtmm::WorkloadRegistry::instance().make(spec, "workload", vtmm::WorkloadEnv{3, 1});
  const uint64_t lo = vtmm::VaLayout::kBase, hi = lo + w->footprint_bytes();
  auto b = std::make_unique<vtmm::Batch>();
  vtmm::Phase last = vtmm::Phase::Setup;
  bool more = true;
  while (more) {
    b->n = 0;
    more = w->next(0, *b);
    EXPECT_LE(b->n, vtmm::Batch::kCap);
    if (b->n == 0) continue;
    EXPECT_GE(b->phase, last) << "phases only move forward";
    last = b->phase;
    EXPECT_GE(b->mlp, 1);
    for (uint32_t i = 0; i < b->n; ++i) {
      EXPECT_GE(b->va[i], lo);
      EXPECT_LT(b->va[i], hi);
      if (b->va[i] < lo || b->va[i] >= hi) return w;
    }
  }
  EXPECT_EQ(last, vtmm::Phase::Measured);
  return w;
}

TEST(WorkloadXsBench, PassesItsCheckInTheSimulator) {
  const Json rec = simulate(tiny(), 1);
  EXPECT_EQ(rec.at("ops").get<uint64_t>(), 3000u);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "lookup");
}

TEST(WorkloadXsBench, PassesItsCheckOnTwoVcpus) {
  EXPECT_EQ(simulate(tiny(), 2).at("ops").get<uint64_t>(), 3000u);
}

TEST(WorkloadXsBench, RejectsTooFewIsotopes) {
  Json w = tiny();
  w["n_isotopes"] = 10;
  EXPECT_THROW(simulate(w, 1), vtmm::SpecError);
}

TEST(WorkloadXsBench, CatchesACorruptedResult) {
  auto w = run_alone(tiny());
  EXPECT_NO_THROW(w->verify());
  EXPECT_EQ(w->ops(), 3000u);
  auto* hook = dynamic_cast<vtmm::workloads::TestCorruptible*>(w.get());
  ASSERT_NE(hook, nullptr);
  hook->corrupt_for_test();
  EXPECT_THROW(w->verify(), vtmm::VerifyError);
}

}  // namespace
