// seq-dynamic-hot: runs through the simulator at tiny scale and passes its own check;
// a deliberately corrupted result is caught by verify().
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_seq_dynamic_hot_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny() { return Json{{"impl", "seq-dynamic-hot"}, {"footprint", "4MiB"}, {"hot_bytes", "256KiB"}, {"accesses_per_ms", 1000}, {"move_every_ms", 5}, {"write_fraction", 0.25}, {"warmup_accesses", 20000}, {"accesses", 60000}}; }

TEST(WorkloadSeqDynamicHot, PassesItsCheckInTheSimulator) {
  const Json rec = simulate_workload(tiny(), 1, kSeed);
  EXPECT_GT(rec.at("ops").get<uint64_t>(), 0u);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "line");
}

TEST(WorkloadSeqDynamicHot, PassesItsCheckOnTwoVcpus) {
  const Json rec = simulate_workload(tiny(), 2, kSeed);
  EXPECT_GT(rec.at("ops").get<uint64_t>(), 0u);
}

TEST(WorkloadSeqDynamicHot, CatchesACorruptedResult) {
  expect_corruption_caught(tiny(), kSeed);
}

}  // namespace workload_seq_dynamic_hot_test
