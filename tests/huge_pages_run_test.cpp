// vTMM's huge-page modes end to end on the simulator: hybrid needs the host's
// hardware mode (refused with a message naming it otherwise), and on a small
// sparse-hot run hybrid beats pure 2 MiB in fast-tier hit ratio and pure
// 4 KiB in TLB misses (the huge_pages experiment's claim at test scale).
#include <gtest/gtest.h>

#include <string>

#include "vtmm/core/error.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm {
namespace huge_pages_run_test {

Json run(const std::string& mode, const std::string& host) {
  // 128 MiB: 4 dense regions (8 MiB hot), 32 sparse regions of 32 hot pages
  // (4 MiB hot in 64 MiB); fast 1:4 (about 26 MiB) holds the hot pages but
  // not the 36 hot regions. A 4 MiB LLC keeps the hot set out of cache.
  const Json spec = {{"host", host},
                     {"host_overrides", {{"llc_bytes", 4 << 20}}},
                     {"vm", {{"guest_thp", true}, {"ept_huge", true}}},
                     {"workload",
                      {{"impl", "sparse-hot"},
                       {"footprint", "128MiB"},
                       {"dense_regions", 4},
                       {"sparse_regions", 32},
                       {"updates", 3000000},
                       {"warmup_updates", 3000000}}},
                     {"policy", {{"impl", "vtmm"}, {"huge", mode}}},
                     {"ratio", "1:4"},
                     {"seed", 1}};
  return sim::simulate(RunSpec::from_json(spec, "test"));
}

TEST(HugePagesRun, HybridNeedsTheHardwareMode) {
  try {
    run("hybrid", "optane");
    FAIL() << "hybrid ran on a host without sub-page A/D bits";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("sub-page A/D bits"), std::string::npos) << e.what();
  }
}

TEST(HugePagesRun, HybridBeats2MiBInHitRatioAnd4KiBInTlbMisses) {
  const Json k4 = run("4k", "optane-subpage"), m2 = run("2m", "optane-subpage"),
             hy = run("hybrid", "optane-subpage");
  const auto hit = [](const Json& r) { return r.at("fast_hit_ratio").get<double>(); };
  const auto tlb = [](const Json& r) { return r.at("counters").at("tlb_misses").get<uint64_t>(); };
  EXPECT_GT(hit(hy), hit(m2) + 0.1);
  EXPECT_LT(tlb(hy), tlb(k4));
  EXPECT_EQ(k4.at("counters").at("huge_mappings_live").get<uint64_t>(), 0u)
      << "4k maps no 2 MiB page";
  EXPECT_GT(hy.at("policy_metrics").at("huge_splits").get<uint64_t>(), 0u);
  EXPECT_LT(hy.at("counters").at("huge_mappings_live").get<uint64_t>(),
            m2.at("counters").at("huge_mappings_live").get<uint64_t>());
}

}  // namespace huge_pages_run_test
}  // namespace vtmm
