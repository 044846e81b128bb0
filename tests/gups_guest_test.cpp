// The guest agent's native gups (agent/gups_task.cpp) and the simulator's
// gups draw their hot set by one rule (workloads/gups_hotset.hpp); the
// native one is checked here on the host, with real threads.
#include <gtest/gtest.h>

#include "agent/tasks.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/gups_hotset.hpp"

namespace gups_guest_test {

using namespace vtmm;

TEST(GupsHotSet, PlacementsFollowTheRule) {
  const uint64_t elems = uint64_t{1} << 20;
  const auto start = workloads::gups_hot_set(elems, 1.0 / 16, "start", 7);
  EXPECT_EQ(start.base, 0u);
  EXPECT_EQ(start.elems, elems / 16);
  const auto end = workloads::gups_hot_set(elems, 1.0 / 16, "end", 7);
  EXPECT_EQ(end.base + end.elems, elems);
  for (uint64_t seed : {1, 2, 3, 99}) {
    const auto r = workloads::gups_hot_set(elems, 1.0 / 16, "random", seed);
    EXPECT_EQ(r.base % 512, 0u) << "page aligned";
    EXPECT_LE(r.base + r.elems, elems);
    EXPECT_EQ(r.base, workloads::gups_hot_set(elems, 1.0 / 16, "random", seed).base)
        << "from the seed";
  }
  EXPECT_EQ(workloads::gups_hot_set(1024, 1e-9, "start", 1).elems, 1u) << "at least one element";
  EXPECT_FALSE(workloads::gups_hot_offset_ok("middle"));
}

TEST(GupsGuest, NativeRunValidatesWithSeveralThreads) {
  agent::GupsParams p;
  p.footprint = 4u << 20;
  p.updates = 200000;
  p.warmup_updates = 20000;
  p.threads = 4;
  p.seed = 3;
  const agent::Values v = agent::run_gups(p);
  auto get = [&](const char* k) {
    for (const auto& [key, x] : v)
      if (key == k) return x;
    ADD_FAILURE() << k << " missing";
    return -1.0;
  };
  EXPECT_EQ(get("validated"), 1.0);
  EXPECT_EQ(get("updates"), 200000.0);
  EXPECT_GT(get("throughput"), 0.0);
  const auto hot = workloads::gups_hot_set(p.footprint / 8, p.hot_fraction, p.hot_offset, p.seed);
  EXPECT_EQ(get("hot_base_elem"), static_cast<double>(hot.base));
}

TEST(GupsGuest, RefusesBadArguments) {
  agent::GupsParams p;
  p.footprint = 4096;  // below two pages
  p.updates = 10;
  EXPECT_THROW(agent::run_gups(p), std::runtime_error);
}

}  // namespace gups_guest_test
