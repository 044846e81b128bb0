// liblinear: runs through the simulator at tiny scale and passes its own check
// (objective decreasing, w equal to a plain re-run's); a corrupted w is caught.
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_liblinear_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny() {
  return Json{{"impl", "liblinear"}, {"rows", 2000}, {"features", 5000}, {"nnz_per_row", 10}, {"epochs", 3}};
}

TEST(WorkloadLiblinear, PassesItsCheckInTheSimulator) {
  const Json rec = simulate_workload(tiny(), 1, kSeed);
  EXPECT_EQ(rec.at("ops").get<uint64_t>(), 3u * 2000 * 10);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "nonzero");
}

TEST(WorkloadLiblinear, PassesItsCheckOnTwoVcpus) {
  EXPECT_EQ(simulate_workload(tiny(), 2, kSeed).at("ops").get<uint64_t>(), 3u * 2000 * 10);
}

TEST(WorkloadLiblinear, RejectsTooManyNonzerosPerRow) {
  Json w = tiny();
  w["nnz_per_row"] = 4000;
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
}

TEST(WorkloadLiblinear, CatchesACorruptedResult) {
  expect_corruption_caught(tiny(), kSeed, 3u * 2000 * 10);
}

}  // namespace workload_liblinear_test
