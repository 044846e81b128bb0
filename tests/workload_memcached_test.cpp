// memcached: what only it checks: its check holds when memory is short and
// items are evicted, and bad value sizes are refused (the generic checks are
// rows of tests/workload_checks_test.cpp).
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_memcached_test {

using vtmm::Json;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny(uint64_t memory = 64u << 20) {
  return Json{{"impl", "memcached"}, {"records", 3000},        {"memory", memory},
              {"bump_every", 50},    {"warmup_requests", 500}, {"requests", 3000},
              {"get_fraction", 0.7}};
}

TEST(WorkloadMemcached, PassesItsCheckWithEvictionsAndTwoVcpus) {
  // 4 MiB of slabs cannot hold 3000 items of 2 KB: the LRU tails are evicted.
  Json small = tiny(4u << 20);
  small["value_min"] = 2000;
  small["value_max"] = 2000;
  EXPECT_EQ(simulate_workload(small, 1, kSeed).at("ops").get<uint64_t>(), 3000u);
  EXPECT_EQ(simulate_workload(tiny(), 2, kSeed).at("ops").get<uint64_t>(), 3000u);
}

TEST(WorkloadMemcached, RejectsBadValueSizes) {
  Json w = tiny();
  w["value_min"] = 2000;
  EXPECT_THROW(simulate_workload(w, 1, kSeed), vtmm::SpecError);
}

}  // namespace workload_memcached_test
