// pagerank: runs through the simulator at tiny scale and passes its own check;
// a deliberately corrupted result is caught by verify().
#include <gtest/gtest.h>

#include <memory>

#include "vtmm/core/error.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/simulation.hpp"
#include "workloads/access_queue.hpp"

namespace {

using vtmm::Json;

Json tiny() { return Json{{"impl", "pagerank"}, {"scale", 10}, {"iterations", 5}, {"tolerance", 0}}; }

Json simulate(uint32_t vcpus) {
  const Json run = {{"workload", tiny()}, {"policy", {{"impl", "dram-only"}}}, {"seed", 3}, {"vm", {{"vcpus", vcpus}}}};
  return vtmm::sim::simulate(vtmm::RunSpec::from_json(run, "test"));  // calls verify()
}

// Drives every batch of one vCPU, checking the contract on the way.
std::unique_ptr<vtmm::Workload> run_alone() {
  auto w = vtmm::WorkloadRegistry::instance().make(tiny(), "workload", vtmm::WorkloadEnv{3, 1});
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

TEST(WorkloadPagerank, PassesItsCheckInTheSimulator) {
  const Json rec = simulate(1);
  EXPECT_GT(rec.at("ops").get<uint64_t>(), 0u);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "edge");
}

TEST(WorkloadPagerank, PassesItsCheckOnTwoVcpus) {
  const Json rec = simulate(2);
  EXPECT_GT(rec.at("ops").get<uint64_t>(), 0u);
}

TEST(WorkloadPagerank, CatchesACorruptedResult) {
  auto w = run_alone();
  EXPECT_NO_THROW(w->verify());
  EXPECT_GT(w->ops(), 0u);
  auto* hook = dynamic_cast<vtmm::workloads::TestCorruptible*>(w.get());
  ASSERT_NE(hook, nullptr);
  hook->corrupt_for_test();
  EXPECT_THROW(w->verify(), vtmm::VerifyError);
}

}  // namespace
