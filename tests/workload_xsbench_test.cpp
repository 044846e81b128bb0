// xsbench: runs through the simulator at tiny scale and passes its own check
// (its lookup hash equals the nuclide-grid reference's); a corrupted hash is caught.
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_xsbench_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny() {
  return Json{{"impl", "xsbench"}, {"n_isotopes", 40}, {"n_gridpoints", 200}, {"warmup_lookups", 200},
              {"lookups", 3000}};
}

TEST(WorkloadXsBench, PassesItsCheckInTheSimulator) {
  const Json rec = simulate_workload(tiny(), 1, kSeed);
  EXPECT_EQ(rec.at("ops").get<uint64_t>(), 3000u);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "lookup");
}

TEST(WorkloadXsBench, PassesItsCheckOnTwoVcpus) {
  EXPECT_EQ(simulate_workload(tiny(), 2, kSeed).at("ops").get<uint64_t>(), 3000u);
}

TEST(WorkloadXsBench, RejectsTooFewIsotopes) {
  Json w = tiny();
  w["n_isotopes"] = 10;
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
}

TEST(WorkloadXsBench, CatchesACorruptedResult) {
  expect_corruption_caught(tiny(), kSeed, 3000u);
}

}  // namespace workload_xsbench_test
