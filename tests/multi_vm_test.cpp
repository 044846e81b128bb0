// Several VMs on one simulated host (vtmm/sim/multi_vm.cpp, run_loop.cpp):
// spec checks, the record's shape, the fast-memory pool moving fast memory
// from a VM with a small hot set to one with a large hot set, host memory
// overcommit, and core contention.
#include <gtest/gtest.h>

#include "vtmm/core/error.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm {
namespace multi_vm_test {

// A VM running gups over `footprint` with every update in a hot set of
// `hot_fraction` of it (the rest is allocated and idle).
Json gups_vm(const std::string& name, double hot_fraction, uint64_t updates = 600'000) {
  return Json{{"name", name},
              {"workload",
               {{"impl", "gups"},
                {"footprint", "32MiB"},
                {"hot_fraction", hot_fraction},
                {"hot_probability", 1.0},
                {"updates", updates},
                {"warmup_updates", 300'000}}}};
}

// vTMM and the pool with windows of 0.3 ms (time_scale 1/2000 of the paper's
// 600 ms), so these short runs see a few dozen windows.
Json two_vms(const std::string& sharing,
             const Json& policy = Json{{"impl", "vtmm"}, {"time_scale", 0.0005}}) {
  // A 1 MiB LLC keeps these small VMs' hot sets out of the cache, so where
  // their pages live matters, as it does for full-size VMs.
  return Json{{"host", "optane"},
              {"host_overrides", {{"llc_bytes", 1 << 20}}},
              {"policy", policy},
              {"ratio", "1:4"},
              {"fast_memory_sharing", sharing},
              {"pool", {{"time_scale", 0.0005}}},
              {"vms", Json::array({gups_vm("small", 1.0 / 32, 1'500'000), gups_vm("big", 0.5)})},
              {"seed", 3}};
}

Json run(const Json& j) { return sim::simulate(RunSpec::from_json(j, "test")); }

TEST(MultiVmSpec, RejectsBadMultiVmRunsWithOneLineErrors) {
  Json j = two_vms("pool");
  j["fast_memory_sharing"] = "shared";
  EXPECT_THROW(RunSpec::from_json(j, "t"), SpecError);
  j = two_vms("pool");
  j["workload"] = "gups";  // the VMs carry their workloads
  EXPECT_THROW(RunSpec::from_json(j, "t"), SpecError);
  j = two_vms("pool");
  j["vms"][1]["name"] = "small";
  EXPECT_THROW(RunSpec::from_json(j, "t"), SpecError);
  j = two_vms("pool");
  j["vms"] = Json::array();
  EXPECT_THROW(RunSpec::from_json(j, "t"), SpecError);
  j = two_vms("pool");
  j["vms"][0]["start_ms"] = -1;
  EXPECT_THROW(RunSpec::from_json(j, "t"), SpecError);
  // A pool resizes host-side allowances: a guest-side design cannot use it.
  EXPECT_THROW(sim::validate_multi(RunSpec::from_json(two_vms("pool", "tpp"), "t")), SpecError);
  EXPECT_NO_THROW(sim::validate_multi(RunSpec::from_json(two_vms("static", "tpp"), "t")));
  j = two_vms("pool");
  j["pool"] = {{"max_vms", 1}};
  EXPECT_THROW(sim::validate_multi(RunSpec::from_json(j, "t")), SpecError);
}

TEST(MultiVmSpec, ARunNamesItsSharingOnlyWhenTheSpecDoes) {
  const RunSpec pooled = RunSpec::from_json(two_vms("pool"), "t");
  EXPECT_EQ(pooled.label(), "2vms/vtmm/pool/1:4/seed3");
  EXPECT_EQ(pooled.to_json().at("fast_memory_sharing"), "pool");
  Json j = two_vms("pool", "dram-only");
  j.erase("fast_memory_sharing");  // what the runner does for references
  const RunSpec ref = RunSpec::from_json(j, "t");
  EXPECT_EQ(ref.label(), "2vms/dram-only/1:4/seed3");
  EXPECT_FALSE(ref.to_json().contains("fast_memory_sharing"));
}

TEST(MultiVmSpec, VmMemoryAboveHostMemoryNeedsConsent) {
  Json j = two_vms("static");
  j["host_memory"] = {{"total", "48MiB"}};  // two VMs of about 36 MiB each
  try {
    sim::validate_multi(RunSpec::from_json(j, "t"));
    ADD_FAILURE() << "accepted VMs larger than the host";
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find("allow_overcommit"), std::string::npos) << e.what();
  }
  j["host_memory"]["allow_overcommit"] = true;
  j["vms"][0]["workload"]["updates"] = 100'000;
  j["vms"][1]["workload"]["updates"] = 100'000;
  const Json r = run(j);
  EXPECT_TRUE(r.at("memory_overcommitted").get<bool>());
  EXPECT_NE(r.at("memory_overcommit_note").get<std::string>().find("swap"), std::string::npos);
}

TEST(MultiVm, RecordCarriesEachVmAndIsDeterministic) {
  const Json a = run(two_vms("pool"));
  EXPECT_EQ(a.at("workload"), "multi-vm");
  EXPECT_EQ(a.at("fast_memory_sharing"), "pool");
  ASSERT_EQ(a.at("vms").size(), 2u);
  double sum = 0;
  for (const Json& v : a.at("vms")) {
    EXPECT_GT(v.at("throughput").get<double>(), 0) << v.at("name");
    EXPECT_GT(v.at("sim_time_s").get<double>(), 0);
    sum += v.at("throughput").get<double>();
  }
  EXPECT_DOUBLE_EQ(a.at("throughput").get<double>(), sum);
  EXPECT_NE(a.at("vms")[0].at("seed"), a.at("vms")[1].at("seed"))
      << "identical VMs must not replay one stream";
  EXPECT_EQ(run(two_vms("pool")).dump(), a.dump());
}

TEST(MultiVm, ThePoolLendsTheSmallHotSetsSpareFastMemoryToTheBigOne) {
  const Json pool = run(two_vms("pool"));
  const Json fixed = run(two_vms("static"));
  const Json& small = pool.at("vms")[0];
  const Json& big = pool.at("vms")[1];
  const double share = big.at("fast_share_bytes").get<double>();
  EXPECT_LT(small.at("fast_bytes_mean").get<double>(), 0.7 * share) << pool.at("vms").dump();
  EXPECT_GT(big.at("fast_bytes_mean").get<double>(), 1.2 * share) << pool.at("vms").dump();
  EXPECT_GT(big.at("fast_bytes_max").get<double>(), 1.8 * share) << pool.at("vms").dump();
  EXPECT_GT(pool.at("pool").at("max_borrowed_bytes").get<double>(), 0);
  // Static partitioning keeps every VM at its share.
  for (const Json& v : fixed.at("vms"))
    EXPECT_DOUBLE_EQ(v.at("fast_bytes_mean").get<double>(), v.at("fast_share_bytes").get<double>());
  // The big VM runs faster with what it borrowed.
  EXPECT_GT(big.at("fast_hit_ratio").get<double>(),
            fixed.at("vms")[1].at("fast_hit_ratio").get<double>());
  EXPECT_GT(big.at("throughput").get<double>(), fixed.at("vms")[1].at("throughput").get<double>());
}

TEST(MultiVm, OvercommittedCoresSlowEveryVmDown) {
  // dram-only with the LLC at its size: compute-bound VMs (a bandwidth-bound
  // one would lose little with fewer cores, as on a real host).
  Json j = two_vms("static", "dram-only");
  j["host_overrides"] = Json::object();
  for (auto& v : j["vms"]) v["vcpus"] = 2;
  const Json roomy = run(j);
  j["host_overrides"]["host_cores"] = 2;  // four vCPUs on two cores
  const Json tight = run(j);
  for (size_t i = 0; i < 2; ++i)
    EXPECT_GT(tight.at("vms")[i].at("sim_time_s").get<double>(),
              1.5 * roomy.at("vms")[i].at("sim_time_s").get<double>());
}

TEST(MultiVm, ALaterVmStartsLater) {
  Json j = two_vms("pool");
  j["vms"][1]["start_ms"] = 5.0;
  const Json r = run(j);
  EXPECT_EQ(r.at("vms")[1].at("start_ms"), 5.0);
  EXPECT_GT(r.at("sim_time_s").get<double>(), r.at("vms")[0].at("sim_time_s").get<double>());
}

}  // namespace multi_vm_test
}  // namespace vtmm
