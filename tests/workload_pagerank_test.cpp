// pagerank: runs through the simulator at tiny scale and passes its own check;
// a deliberately corrupted result is caught by verify().
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_pagerank_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny() { return Json{{"impl", "pagerank"}, {"scale", 10}, {"iterations", 5}, {"tolerance", 0}}; }

TEST(WorkloadPagerank, PassesItsCheckInTheSimulator) {
  const Json rec = simulate_workload(tiny(), 1, kSeed);
  EXPECT_GT(rec.at("ops").get<uint64_t>(), 0u);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "edge");
}

TEST(WorkloadPagerank, PassesItsCheckOnTwoVcpus) {
  const Json rec = simulate_workload(tiny(), 2, kSeed);
  EXPECT_GT(rec.at("ops").get<uint64_t>(), 0u);
}

TEST(WorkloadPagerank, CatchesACorruptedResult) {
  expect_corruption_caught(tiny(), kSeed);
}

}  // namespace workload_pagerank_test
