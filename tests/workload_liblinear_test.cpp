// liblinear: what only it checks (the generic checks, its own result and a
// corrupted w caught, are rows of tests/workload_checks_test.cpp).
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_liblinear_test {

using vtmm::Json;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny() {
  return Json{{"impl", "liblinear"},
              {"rows", 2000},
              {"features", 5000},
              {"nnz_per_row", 10},
              {"epochs", 3}};
}

TEST(WorkloadLiblinear, RejectsTooManyNonzerosPerRow) {
  Json w = tiny();
  w["nnz_per_row"] = 4000;
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
}

}  // namespace workload_liblinear_test
