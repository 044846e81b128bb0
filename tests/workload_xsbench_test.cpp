// xsbench: what only it checks: too few isotopes are refused (the generic
// checks are rows of tests/workload_checks_test.cpp).
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_xsbench_test {

using vtmm::Json;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny() {
  return Json{{"impl", "xsbench"},
              {"n_isotopes", 40},
              {"n_gridpoints", 200},
              {"warmup_lookups", 200},
              {"lookups", 3000}};
}

TEST(WorkloadXsBench, RejectsTooFewIsotopes) {
  Json w = tiny();
  w["n_isotopes"] = 10;
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
}

}  // namespace workload_xsbench_test
