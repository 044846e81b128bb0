// sparse-hot: runs through the simulator at tiny scale and passes its own
// check (the table's XOR matches the updates applied); a corrupted table is
// caught; bad parameters are refused.
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_sparse_hot_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 5;

Json tiny() {
  return Json{{"impl", "sparse-hot"}, {"footprint", "32MiB"}, {"dense_regions", 2}, {"sparse_regions", 4},
              {"updates", 20000}, {"warmup_updates", 5000}};
}

TEST(WorkloadSparseHot, PassesItsCheckInTheSimulator) {
  const Json rec = simulate_workload(tiny(), 1, kSeed);
  EXPECT_EQ(rec.at("ops").get<uint64_t>(), 20000u);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "update");
}

TEST(WorkloadSparseHot, PassesItsCheckOnTwoVcpus) {
  EXPECT_EQ(simulate_workload(tiny(), 2, kSeed).at("ops").get<uint64_t>(), 20000u);
}

TEST(WorkloadSparseHot, CatchesACorruptedResult) { expect_corruption_caught(tiny(), kSeed, 20000u); }

TEST(WorkloadSparseHot, RefusesRegionsThatDoNotFit) {
  Json w = tiny();
  w["sparse_regions"] = 15;  // 2 + 15 > 16 regions in 32 MiB
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
  w = tiny();
  w["footprint"] = "3MiB";
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
}

}  // namespace workload_sparse_hot_test
