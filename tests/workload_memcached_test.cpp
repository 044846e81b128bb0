// memcached: runs through the simulator at tiny scale and passes its own check
// (every GET hit sees the last SET, also when memory is short and items are
// evicted); a deliberately corrupted value is caught by verify().
#include <gtest/gtest.h>

#include "tests/workload_test_support.hpp"

namespace workload_memcached_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny(uint64_t memory = 64u << 20) {
  return Json{{"impl", "memcached"}, {"records", 3000}, {"memory", memory}, {"bump_every", 50},
              {"warmup_requests", 500}, {"requests", 3000}, {"get_fraction", 0.7}};
}

TEST(WorkloadMemcached, PassesItsCheckInTheSimulator) {
  const Json rec = simulate_workload(tiny(), 1, kSeed);
  EXPECT_EQ(rec.at("ops").get<uint64_t>(), 3000u);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), "request");
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

TEST(WorkloadMemcached, CatchesACorruptedResult) {
  expect_corruption_caught(tiny(), kSeed, 3000u);
}

}  // namespace workload_memcached_test
