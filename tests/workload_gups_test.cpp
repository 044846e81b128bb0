// gups: runs through the simulator at tiny scale and passes its own check
// (the table's XOR matches the updates applied); a corrupted table is caught.
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_gups_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny() { return Json{{"impl", "gups"}, {"footprint", "16MiB"}, {"updates", 20000}, {"warmup_updates", 5000}}; }

TEST(WorkloadGups, PassesItsCheckInTheSimulator) {
  const Json rec = simulate_workload(tiny(), 1, kSeed);
  EXPECT_EQ(rec.at("ops").get<uint64_t>(), 20000u);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "update");
}

TEST(WorkloadGups, PassesItsCheckOnTwoVcpus) {
  EXPECT_EQ(simulate_workload(tiny(), 2, kSeed).at("ops").get<uint64_t>(), 20000u);
}

TEST(WorkloadGups, CatchesACorruptedResult) {
  expect_corruption_caught(tiny(), kSeed, 20000u);
}

}  // namespace workload_gups_test
