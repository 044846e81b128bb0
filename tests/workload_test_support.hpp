#pragma once
// Shared helpers for the workload tests (tests/workload_*_test.cpp).
//
//   simulate_workload(w, vcpus, seed)   one run through vtmm::sim::simulate on a
//                                       dram-only VM; the simulator calls verify().
//   run_alone(w, seed)                  drives every batch of one vCPU by hand,
//                                       checking the workload contract on the way.
//   expect_corruption_caught(w, seed)   a finished run passes verify(); after
//                                       TestCorruptible::corrupt_for_test() it throws.
#include <gtest/gtest.h>

#include <cstdint>
#include <memory>
#include <optional>

#include "vtmm/core/error.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/simulation.hpp"
#include "workloads/access_queue.hpp"

namespace vtmm::test {

inline Json simulate_workload(const Json& workload, uint32_t vcpus, uint64_t seed) {
  const Json run = {{"workload", workload},
                    {"policy", {{"impl", "dram-only"}}},
                    {"seed", seed},
                    {"vm", {{"vcpus", vcpus}}}};
  return sim::simulate(RunSpec::from_json(run, "test"));  // calls verify()
}

// Drives every batch of one vCPU, checking the contract on the way: batch size,
// phases only move forward, mlp >= 1, addresses inside [kBase, kBase + footprint),
// and the last batch is measured.
inline std::unique_ptr<Workload> run_alone(const Json& workload, uint64_t seed) {
  auto w = WorkloadRegistry::instance().make(workload, "workload", WorkloadEnv{seed, 1});
  const uint64_t lo = VaLayout::kBase, hi = lo + w->footprint_bytes();
  auto b = std::make_unique<Batch>();
  Phase last = Phase::Setup;
  bool more = true;
  while (more) {
    b->n = 0;
    more = w->next(0, *b);
    EXPECT_LE(b->n, Batch::kCap);
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
  EXPECT_EQ(last, Phase::Measured);
  return w;
}

// Runs the workload alone; its result passes verify() and it did some measured
// work (exactly expected_ops if given, else more than none); a result damaged
// through TestCorruptible must then fail verify().
inline void expect_corruption_caught(const Json& workload, uint64_t seed,
                                     std::optional<uint64_t> expected_ops = std::nullopt) {
  SCOPED_TRACE(workload.dump());
  auto w = run_alone(workload, seed);
  EXPECT_NO_THROW(w->verify());
  if (expected_ops) {
    EXPECT_EQ(w->ops(), *expected_ops);
  } else {
    EXPECT_GT(w->ops(), 0u);
  }
  auto* hook = dynamic_cast<workloads::TestCorruptible*>(w.get());
  ASSERT_NE(hook, nullptr) << "workload does not implement TestCorruptible";
  hook->corrupt_for_test();
  EXPECT_THROW(w->verify(), VerifyError);
}

}  // namespace vtmm::test
