// sparse-hot: what only it checks: regions that do not fit are refused (the
// generic checks are rows of tests/workload_checks_test.cpp).
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_sparse_hot_test {

using vtmm::Json;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 5;

Json tiny() {
  return Json{{"impl", "sparse-hot"}, {"footprint", "32MiB"}, {"dense_regions", 2},
              {"sparse_regions", 4},  {"updates", 20000},     {"warmup_updates", 5000}};
}

TEST(WorkloadSparseHot, RefusesRegionsThatDoNotFit) {
  Json w = tiny();
  w["sparse_regions"] = 15;  // 2 + 15 > 16 regions in 32 MiB
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
  w = tiny();
  w["footprint"] = "3MiB";
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
}

}  // namespace workload_sparse_hot_test
