// The vTMM policy end to end (vtmm::sim::simulate): gups over 64 MiB with a
// 2 MiB LLC at 1:4. Windows are scaled (time_scale) to under 2 ms of
// simulated time, so the measured phase holds a couple of dozen of them.
// vTMM finds the hot set (recall >= 0.9), beats first-touch, tracks for less
// CPU than scanning every EPT entry, and its multi-level queue saves A/D
// clears; every preset of the paper's ablations runs and passes the
// workload's own check (simulate() throws otherwise).
#include <gtest/gtest.h>

#include <map>
#include <string>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm {
namespace vtmm_policy_test {

constexpr double kTimeScale = 0.003;  // 600 ms windows -> 1.8 ms
constexpr uint64_t kUpdates = 2000000;

Json gups_run(const std::string& policy) {
  Json pol = {{"impl", policy}};
  if (policy != "first-touch") pol["time_scale"] = kTimeScale;
  return Json{{"workload",
               {{"impl", "gups"},
                {"footprint", "64MiB"},
                {"updates", kUpdates},
                {"warmup_updates", 500000}}},
              {"policy", pol},
              {"ratio", "1:4"},
              {"host_overrides", {{"llc_bytes", 2097152}}}};
}

// Each policy's record, simulated at most once per process.
const Json* record(const std::string& policy) {
  static std::map<std::string, Json> cache;
  if (const auto it = cache.find(policy); it != cache.end()) return &it->second;
  try {
    return &(cache[policy] = sim::simulate(RunSpec::from_json(gups_run(policy), "test")));
  } catch (const std::exception& e) {
    ADD_FAILURE() << policy << ": " << e.what();
    return nullptr;
  }
}

double num(const Json& rec, const std::string& key) { return rec.at(key).get<double>(); }
double metric(const Json& rec, const std::string& key) {
  return rec.at("policy_metrics").at(key).get<double>();
}

TEST(VtmmPolicy, WindowsAreAFewMillisecondsAndManyPerRun) {
  const Json* r = record("vtmm");
  ASSERT_NE(r, nullptr);
  EXPECT_NEAR(metric(*r, "window_ms_effective"), 600 * kTimeScale, 1e-9);
  EXPECT_GE(metric(*r, "windows"), 20.0) << "sim_time_s " << num(*r, "sim_time_s");
}

TEST(VtmmPolicy, HotSetRecallIsAtLeastNinetyPercent) {
  const Json* r = record("vtmm");
  ASSERT_NE(r, nullptr);
  ASSERT_FALSE(r->at("policy_metrics").at("hotset_recall").is_null());
  EXPECT_GE(metric(*r, "hotset_windows_scored"), 20.0);
  EXPECT_GE(metric(*r, "hotset_recall"), 0.9);
}

TEST(VtmmPolicy, FasterThanFirstTouchAtTheSameRatio) {
  const Json* v = record("vtmm");
  const Json* ft = record("first-touch");
  ASSERT_NE(v, nullptr);
  ASSERT_NE(ft, nullptr);
  EXPECT_EQ(v->at("fast_bytes"), ft->at("fast_bytes"));
  EXPECT_LT(num(*v, "sim_time_s"), num(*ft, "sim_time_s"));
  EXPECT_GT(num(*v, "fast_hit_ratio"), num(*ft, "fast_hit_ratio"));
}

TEST(VtmmPolicy, TracksWithLessCpuThanScanningEveryEptEntry) {
  const Json* v = record("vtmm");
  const Json* ept = record("ept-scanner");
  ASSERT_NE(v, nullptr);
  ASSERT_NE(ept, nullptr);
  EXPECT_GT(num(*v, "tracking_cpu_s"), 0.0);
  EXPECT_LT(num(*v, "tracking_cpu_s"), num(*ept, "tracking_cpu_s"));
}

TEST(VtmmPolicy, WithoutTheMultiLevelQueueMoreAdBitsAreCleared) {
  const Json* v = record("vtmm");
  const Json* no_mlq = record("vtmm-no-mlq");
  ASSERT_NE(v, nullptr);
  ASSERT_NE(no_mlq, nullptr);
  EXPECT_GT(metric(*no_mlq, "ad_clears"), metric(*v, "ad_clears"));
  EXPECT_GT(metric(*v, "gpt_skipped_mlq"), 0.0)
      << "tables left alone in their do-not-disturb period";
  EXPECT_EQ(metric(*no_mlq, "gpt_skipped_mlq"), 0.0);
}

TEST(VtmmPolicy, EveryPresetRunsAndPassesItsWorkloadCheck) {
  struct Preset {
    const char* name;
    const char* migration;
    bool ept;
  };
  for (const Preset& p :
       {Preset{"vtmm", "pml", false}, Preset{"vtmm-linux-migration", "linux", false},
        Preset{"vtmm-fixed-threshold", "pml", false}, Preset{"ept-scanner", "pml", true},
        Preset{"vtmm-lru", "pml", false}, Preset{"vtmm-no-mlq", "pml", false}}) {
    SCOPED_TRACE(p.name);
    EXPECT_NE(PolicyRegistry::instance().find(p.name), nullptr) << "registered";
    const Json* r = record(p.name);
    if (r == nullptr) continue;  // simulate() threw: already reported
    EXPECT_EQ(r->at("ops").get<uint64_t>(), kUpdates);
    EXPECT_EQ(r->at("config").at("run").at("policy").at("impl"), p.name);
    const Json& pm = r->at("policy_metrics");
    EXPECT_GE(pm.at("windows").get<uint64_t>(), 10u);
    EXPECT_EQ(pm.at("migration_method"), p.migration);
    EXPECT_GT(pm.at("migrated_pages").get<uint64_t>(), 0u);
    if (p.ept) {
      EXPECT_GT(pm.at("ept_entries_scanned").get<uint64_t>(), 0u);
      EXPECT_EQ(pm.at("gpt_scanned").get<uint64_t>(), 0u);
    } else {
      EXPECT_GT(pm.at("gpt_scanned").get<uint64_t>(), 0u);
      EXPECT_EQ(pm.at("ept_entries_scanned").get<uint64_t>(), 0u);
    }
  }
}

}  // namespace vtmm_policy_test
}  // namespace vtmm
