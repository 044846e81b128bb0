// redis-ycsb: what only it checks: every YCSB mix, one server thread whatever
// the vCPUs, an unknown mix refused (the generic checks are rows of
// tests/workload_checks_test.cpp).
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_redis_ycsb_test {

using vtmm::Json;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny(const std::string& mix = "default") {
  return Json{{"impl", "redis-ycsb"},   {"records", 3000},  {"value_bytes", 512},
              {"warmup_requests", 500}, {"requests", 3000}, {"mix", mix}};
}

TEST(WorkloadRedisYcsb, PassesItsCheckForEveryMixAndTwoVcpus) {
  for (const char* mix : {"a", "b", "c"})
    EXPECT_GT(simulate_workload(tiny(mix), 1, kSeed).at("ops").get<uint64_t>(), 0u) << mix;
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

}  // namespace workload_redis_ycsb_test
