// Loaded latency (HostProfile's curves, Host::update_load): a miss costs the
// tier's idle latency plus what its measured bandwidth-latency curve adds at
// the tier's recent utilisation, so latency rises with load and with the
// write share (writes count read_bw / write_bw times in the utilisation).
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/baseline_run_support.hpp"
#include "vtmm/sim/bandwidth.hpp"
#include "vtmm/sim/host_profile.hpp"

namespace vtmm::test {
namespace loaded_latency_test {

using sim::HostProfile;

TEST(LoadCurve, InterpolatesBetweenPointsAndHoldsAfterTheLast) {
  sim::TierCosts t;
  t.loaded_latency = {{0, 0}, {0.5, 10}, {1.0, 50}};
  const struct {
    double u, ns;
  } cases[] = {{0, 0}, {-1, 0}, {0.25, 5}, {0.5, 10}, {0.75, 30}, {1.0, 50}, {3.0, 50}};
  for (const auto& c : cases) EXPECT_DOUBLE_EQ(t.load_ns(c.u), c.ns) << "u " << c.u;
  t.loaded_latency = {{0, 0}};
  EXPECT_EQ(t.load_ns(0.9), 0.0) << "a one-point curve is flat";
}

TEST(LoadCurve, BadCurvesAreSpecErrorsNamingTheKey) {
  const Json bad[] = {Json::array(),
                      Json{{0.1, 0}},                    // does not start at 0
                      Json{{0, 0}, {0.5, 1}, {0.5, 2}},  // does not rise
                      Json{{0, 0}, {0.5, -1}},           // negative
                      Json{{0, 0}, {9, 1}},              // beyond 4x the bandwidth
                      Json{{0, 0}, {0.5}},
                      Json{{0, 0}, {0.5, "1"}},
                      Json(3.0)};
  for (const Json& curve : bad) {
    try {
      HostProfile::load("optane", Json{{"slow.loaded_latency", curve}});
      ADD_FAILURE() << "accepted " << curve.dump();
    } catch (const SpecError& e) {
      EXPECT_NE(std::string(e.what()).find("'slow.loaded_latency'"), std::string::npos) << e.what();
    }
  }
}

TEST(LoadCurve, ShippedCurvesRiseAndReachTheRecord) {
  for (const std::string name : {"optane", "cascadelake-optane"}) {
    const HostProfile p = HostProfile::load(name);
    for (int t = 0; t < kTiers; ++t) {
      ASSERT_GE(p.tier[t].loaded_latency.size(), 5u) << name;
      EXPECT_GT(p.tier[t].load_ns(1.0), p.tier[t].load_ns(0.5)) << name;
      EXPECT_GT(p.tier[t].load_ns(0.5), 0.0) << name;
    }
    const Json j = p.to_json();
    EXPECT_EQ(j.at("slow.loaded_latency").size(), p.tier[1].loaded_latency.size());
    EXPECT_EQ(j.at("slow.loaded_latency").back().at(1).get<double>(),
              p.tier[1].loaded_latency.back().ns);
  }
  const HostProfile flat = HostProfile::load("optane", Json{{"fast.loaded_latency", Json{{0, 0}}}});
  EXPECT_EQ(flat.tier[0].load_ns(1.0), 0.0);
}

TEST(LoadCurve, UtilisationIsTheShareBookedInTheSlotsBefore) {
  sim::BandwidthCalendar bw;
  bw.init(1.0, 0.5);  // 1000 bytes a slot; a write byte costs 2
  constexpr double kSlot = sim::BandwidthCalendar::kSlotNs;
  for (int s = 0; s < 10; ++s) bw.book(s * kSlot, 250, s % 2 == 0);  // writes 500, reads 250
  EXPECT_DOUBLE_EQ(bw.utilisation(10 * kSlot, 10), 0.375);
  EXPECT_DOUBLE_EQ(bw.utilisation(10 * kSlot + 999, 10), 0.375)
      << "the slot holding t is not counted";
  EXPECT_DOUBLE_EQ(bw.utilisation(5 * kSlot, 10), 2000.0 / 10000.0)
      << "slots before 0 count as idle";
}

// --- Probes through whole runs ------------------------------------------------

Json random_on(const std::string& impl, const std::string& policy, uint32_t vcpus,
               const Json& overrides) {
  Json o = overrides;
  o["llc_bytes"] = "2MiB";
  return Json{
      {"workload",
       {{"impl", impl}, {"footprint", "256MiB"}, {"accesses", 200000}, {"warmup_accesses", 50000}}},
      {"policy", policy},
      {"vm", {{"vcpus", vcpus}}},
      {"host_overrides", o},
      {"seed", 3}};
}

// Mean latency the load added per data miss on `tier` ("fast" or "slow"),
// scaled back by the workload's overlap (load_delay_s is divided by it).
double added_per_miss(const Json& r, const std::string& tier) {
  const Json& c = r.at("counters");
  return c.at("load_delay_s").get<double>() / c.at(tier + "_misses").get<double>();
}

TEST(LoadedLatency, RisesWithTheNumberOfVcpusLoadingTheTier) {
  double last = -1;
  for (const uint32_t vcpus : {1u, 4u, 12u}) {
    const double added = added_per_miss(
        run_record(random_on("random-read", "slow-only", vcpus, Json::object())), "slow");
    EXPECT_GT(added, last) << vcpus << " vCPUs";
    last = added;
  }
}

TEST(LoadedLatency, AFlatCurveAddsNothingAndRunsFaster) {
  const Json flat{{"slow.loaded_latency", Json{{0, 0}}}};
  const Json loaded = run_record(random_on("random-read", "slow-only", 4, Json::object()));
  const Json idle = run_record(random_on("random-read", "slow-only", 4, flat));
  EXPECT_EQ(idle.at("counters").at("load_delay_s").get<double>(), 0.0);
  EXPECT_GT(loaded.at("counters").at("load_delay_s").get<double>(), 0.0);
  EXPECT_GT(loaded.at("sim_time_s").get<double>(), idle.at("sim_time_s").get<double>());
}

// The same miss rate with writes in it loads the tier more: each write-back
// costs read_bw / write_bw (3x on Optane) of the budget.
TEST(LoadedLatency, WritesRaiseTheLatencyOfEveryMiss) {
  const double reads =
      added_per_miss(run_record(random_on("random-read", "slow-only", 4, Json::object())), "slow");
  const double writes =
      added_per_miss(run_record(random_on("random-write", "slow-only", 4, Json::object())), "slow");
  EXPECT_GT(writes, 1.5 * reads);
}

// The utilisation the model charges for is the one the run achieves: the mean
// added latency sits on the curve at the run's achieved read bandwidth (the
// curve is convex, so the mean over fluctuating windows lies a little above).
TEST(LoadedLatency, ChargedLatencyFollowsTheCurveAtTheAchievedBandwidth) {
  for (const uint32_t vcpus : {4u, 16u}) {
    const Json r = run_record(random_on("random-read", "dram-only", vcpus, Json::object()));
    const Json& c = r.at("counters");
    const Json& host = r.at("config").at("host_constants");
    const double misses = c.at("fast_misses").get<double>();
    const double t_ns = r.at("sim_time_s").get<double>() * 1e9;
    const double u = misses * 64 / t_ns / host.at("fast.read_bw_gbps").get<double>();
    sim::TierCosts curve;
    for (const Json& p : host.at("fast.loaded_latency"))
      curve.loaded_latency.push_back({p[0].get<double>(), p[1].get<double>()});
    const double mlp = 8;  // random_access.cpp: independent reads, mlp 8
    const double charged = c.at("load_delay_s").get<double>() * 1e9 * mlp / misses;
    EXPECT_NEAR(charged, curve.load_ns(u), 0.15 * curve.load_ns(u) + 1.0)
        << vcpus << " vCPUs, u " << u;
  }
}

}  // namespace loaded_latency_test
}  // namespace vtmm::test
