// redis-ycsb: runs through the simulator at tiny scale and passes its own check
// (every GET sees the last SET); a deliberately corrupted value is caught by verify().
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_redis_ycsb_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny(const std::string& mix = "default") {
  return Json{{"impl", "redis-ycsb"}, {"records", 3000}, {"value_bytes", 512},
              {"warmup_requests", 500}, {"requests", 3000}, {"mix", mix}};
}

TEST(WorkloadRedisYcsb, PassesItsCheckInTheSimulator) {
  const Json rec = simulate_workload(tiny(), 1, kSeed);
  EXPECT_EQ(rec.at("ops").get<uint64_t>(), 3000u);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "request");
}

TEST(WorkloadRedisYcsb, PassesItsCheckForEveryMixAndTwoVcpus) {
  for (const char* mix : {"a", "b", "c"}) EXPECT_GT(simulate_workload(tiny(mix), 1, kSeed).at("ops").get<uint64_t>(), 0u) << mix;
  EXPECT_EQ(simulate_workload(tiny(), 2, kSeed).at("ops").get<uint64_t>(), 3000u);
}

// Redis runs commands on one thread: more vCPUs neither split its work nor
// shorten the run.
TEST(WorkloadRedisYcsb, TheServerRunsOnOneVcpu) {
  const Json one = simulate_workload(tiny(), 1, kSeed), four = simulate_workload(tiny(), 4, kSeed);
  EXPECT_EQ(four.at("counters").at("accesses"), one.at("counters").at("accesses"));
  EXPECT_NEAR(four.at("sim_time_s").get<double>(), one.at("sim_time_s").get<double>(),
              0.01 * one.at("sim_time_s").get<double>());
}

TEST(WorkloadRedisYcsb, RejectsAnUnknownMix) {
  EXPECT_THROW(simulate_workload(tiny("z"), 1, kSeed), vtmm::SpecError);
}

TEST(WorkloadRedisYcsb, CatchesACorruptedResult) {
  expect_corruption_caught(tiny(), kSeed, 3000u);
}

}  // namespace workload_redis_ycsb_test
