// random-read / random-write: run through the simulator at tiny scale and pass
// their own checks (the sum of reads replays the index stream; the table's total
// counts every write); a corrupted sum or a lost write is caught.
#include <gtest/gtest.h>

#include <string>

#include "tests/workload_test_support.hpp"

namespace workload_random_access_test {

using vtmm::Json;
using vtmm::test::expect_corruption_caught;
using vtmm::test::simulate_workload;

constexpr uint64_t kSeed = 3;

Json tiny(const std::string& impl) {
  return Json{{"impl", impl}, {"footprint", "8MiB"}, {"accesses", 20000}, {"warmup_accesses", 5000}};
}

TEST(WorkloadRandomAccess, PassesItsCheckInTheSimulator) {
  for (const std::string op : {"read", "write"}) {
    const Json rec = simulate_workload(tiny("random-" + op), 1, kSeed);
    EXPECT_EQ(rec.at("ops").get<uint64_t>(), 20000u) << op;
    EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0) << op;
    EXPECT_EQ(rec.at("op_name").get<std::string>(), op);
  }
}

TEST(WorkloadRandomAccess, PassesItsCheckOnTwoVcpus) {
  for (const char* impl : {"random-read", "random-write"})
    EXPECT_EQ(simulate_workload(tiny(impl), 2, kSeed).at("ops").get<uint64_t>(), 20000u) << impl;
}

TEST(WorkloadRandomAccess, CatchesACorruptedRead) {
  expect_corruption_caught(tiny("random-read"), kSeed, 20000u);
}

TEST(WorkloadRandomAccess, CatchesALostWrite) {
  expect_corruption_caught(tiny("random-write"), kSeed, 20000u);
}

}  // namespace workload_random_access_test
