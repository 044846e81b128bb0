// The reference policies bound every design: dram-only is fastest, slow-only
// slowest, and the oracle's static placement beats first-touch at the same
// fast:slow ratio. Each run's workload checks its own result (simulate()
// throws VerifyError otherwise).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm {
namespace reference_policies_test {

// gups over 128 MiB with a 4 MiB LLC, so the footprint dwarfs the cache; the
// hot set sits at the end of the table, where first-touch never puts fast memory.
Json gups_run(const std::string& policy) {
  return Json{{"workload",
               {{"impl", "gups"},
                {"footprint", "128MiB"},
                {"updates", 300000},
                {"warmup_updates", 50000},
                {"hot_offset", "end"}}},
              {"policy", policy},
              {"host_overrides", {{"llc_bytes", "4MiB"}}},
              {"seed", 3}};
}

double sim_time(const Json& run) {
  Json rec;
  EXPECT_NO_THROW(rec = sim::simulate(RunSpec::from_json(run, "test"))) << run.dump();
  EXPECT_TRUE(rec.is_object());
  if (!rec.is_object()) return 0;
  EXPECT_GT(rec.at("ops").get<uint64_t>(), 0u);
  return rec.at("sim_time_s").get<double>();
}

// Each named run, simulated at most once per process (ctest runs each test in
// a process of its own, so a test pays only for the runs it names).
double time_of(const std::string& name) {
  static std::map<std::string, double> cache;
  if (const auto it = cache.find(name); it != cache.end()) return it->second;
  Json run;
  if (name == "first-touch/all-fast") {
    run = gups_run("first-touch");
    run["fast_bytes"] = "1GiB";  // more than guest memory: everything fits
  } else if (const auto slash = name.find('/'); slash != std::string::npos) {
    run = gups_run(name.substr(0, slash));
    run["ratio"] = name.substr(slash + 1);
  } else {
    run = gups_run(name);
  }
  return cache[name] = sim_time(run);
}

TEST(ReferencePolicies, SlowOnlyIsMuchSlowerThanDramOnly) {
  ASSERT_GT(time_of("dram-only"), 0.0);
  EXPECT_GE(time_of("slow-only"), 1.5 * time_of("dram-only"));
}

TEST(ReferencePolicies, FirstTouchWithRoomForEverythingIsDramOnly) {
  ASSERT_GT(time_of("dram-only"), 0.0);
  EXPECT_EQ(time_of("first-touch/all-fast"), time_of("dram-only"));
}

TEST(ReferencePolicies, OracleLiesBetweenDramOnlyAndFirstTouch) {
  EXPECT_GT(time_of("oracle/1:4"), time_of("dram-only"));
  EXPECT_LT(time_of("oracle/1:4"), time_of("first-touch/1:4"));
}

TEST(ReferencePolicies, RecordDescribesTheRun) {
  Json r = gups_run("oracle");
  r["workload"]["footprint"] = "16MiB";
  r["workload"]["updates"] = 20000;
  r["workload"]["warmup_updates"] = 5000;
  r["ratio"] = "1:4";
  const Json rec = sim::simulate(RunSpec::from_json(r, "test"));
  EXPECT_EQ(rec.at("policy"), "oracle");
  EXPECT_EQ(rec.at("ratio"), "1:4");
  EXPECT_EQ(rec.at("ops"), 20000);
  EXPECT_EQ(rec.at("fast_bytes").get<uint64_t>() + rec.at("slow_bytes").get<uint64_t>(),
            rec.at("memory_bytes").get<uint64_t>());
  EXPECT_EQ(rec.at("config").at("host_constants").at("llc_bytes"), 4 << 20);
  EXPECT_GT(rec.at("policy_metrics").at("oracle_fast_pages").get<uint64_t>(), 0u);
}

TEST(Registries, EveryWorkloadConstructsWithNoParams) {
  const auto& entries = WorkloadRegistry::instance().entries();
  ASSERT_FALSE(entries.empty());
  for (const auto& e : entries) {
    Json resolved;
    std::unique_ptr<Workload> wl;
    EXPECT_NO_THROW(wl = WorkloadRegistry::instance().make(Json{{"impl", e.name}}, "workload",
                                                           WorkloadEnv{}, &resolved))
        << e.name;
    if (!wl) continue;
    EXPECT_GT(wl->footprint_bytes(), 0u) << e.name;
    EXPECT_EQ(resolved.at("impl"), e.name);
    EXPECT_FALSE(e.summary.empty()) << e.name;
  }
}

TEST(Registries, EveryPolicyConstructsWithNoParamsAndRunsTinyGups) {
  const auto& entries = PolicyRegistry::instance().entries();
  ASSERT_FALSE(entries.empty());
  for (const auto& e : entries) {
    EXPECT_NO_THROW(PolicyRegistry::instance().make(Json{{"impl", e.name}}, "policy", PolicyEnv{}))
        << e.name;
    EXPECT_FALSE(e.summary.empty()) << e.name;
    const Json run{
        {"workload",
         {{"impl", "gups"}, {"footprint", "16MiB"}, {"updates", 20000}, {"warmup_updates", 5000}}},
        {"policy", e.name},
        {"ratio", "1:4"},
        {"host_overrides", {{"llc_bytes", "4MiB"}}}};
    Json rec;
    EXPECT_NO_THROW(rec = sim::simulate(RunSpec::from_json(run, "test"))) << e.name;
    if (rec.is_object()) {
      EXPECT_EQ(rec.at("policy"), e.name);
      EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0) << e.name;
    }
  }
}

TEST(Registries, UnknownNamesAreSpecErrors) {
  EXPECT_THROW(PolicyRegistry::instance().make(Json{{"impl", "nope"}}, "policy", PolicyEnv{}),
               SpecError);
  EXPECT_THROW(WorkloadRegistry::instance().make(Json{{"impl", "nope"}}, "workload", WorkloadEnv{}),
               SpecError);
  EXPECT_THROW(PolicyRegistry::instance().make(Json::object(), "policy", PolicyEnv{}), SpecError);
}

}  // namespace reference_policies_test
}  // namespace vtmm
