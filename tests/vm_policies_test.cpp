// The vm platform's policies without a guest: the vtmm window loop driven by
// a scripted agent and a scripted mover, the guest-tiering record, and the
// spec validation of the new vm options.
#include "vtmm/platform/vm_policies.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "vtmm/core/error.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/platform/guest_ram.hpp"
#include "vtmm/platform/vm_run.hpp"
#include "vtmm/runner/experiment.hpp"

namespace vm_policies_test {

using namespace vtmm;
using namespace vtmm::platform;

// A guest whose workload writes gfns [500, 550) every window for `windows` windows.
struct ScriptedGuest {
  uint32_t windows = 5;
  std::vector<std::string> commands;
  std::vector<uint64_t> extra;  // appended to every report (e.g. outside the map)
  CommandReply operator()(const std::string& cmd) {
    commands.push_back(cmd);
    CommandReply r;
    if (cmd.rfind("window-report ", 0) == 0) {
      const auto w = std::stoul(cmd.substr(14));
      agent_proto::Pages p;
      for (uint64_t g = 500; g < 550; ++g)
        p.gfns.push_back(g), p.flags.push_back(agent_proto::kDirty);
      for (uint64_t g : extra) p.gfns.push_back(g), p.flags.push_back(agent_proto::kDirty);
      r.pages.push_back(p);
      r.metrics = {{"workload_running", w < windows ? 1.0 : 0.0}};
    }
    return r;
  }
};

WindowLoopConfig config() {
  WindowLoopConfig c;
  c.window_ms = 0;
  c.pages = 1000;
  c.fast_pages = 100;
  c.fast_node = 0;
  c.slow_node = 1;
  return c;
}

TEST(VmVtmmLoop, PromotesTheWrittenPagesAndDemotesColdOnesToKeepTheBudget) {
  ScriptedGuest g;
  uint64_t moves_to_fast = 0, moves_to_slow = 0;
  const PageMover ok = [&](const std::vector<uint64_t>& gfns, int node, std::vector<int>& st) {
    st.assign(gfns.size(), node);
    (node == 0 ? moves_to_fast : moves_to_slow) += gfns.size();
    for (uint64_t x : gfns) EXPECT_LT(x, 1000u);
    return Json::object();
  };
  const Json r = vtmm_window_loop(config(), std::ref(g), ok, "ycsb-start 1");
  EXPECT_EQ(g.commands.front(), "ycsb-start 1");
  EXPECT_EQ(g.commands.back(), "window-report 5");
  EXPECT_EQ(r.at("windows"), 5);
  EXPECT_EQ(r.at("pages_reported"), 250);
  // The 50 written pages start on the slow cell: promoted once, with 50 cold fast pages demoted for
  // room.
  EXPECT_EQ(r.at("promoted"), 50);
  EXPECT_EQ(r.at("demoted"), 50);
  EXPECT_EQ(r.at("planned_promote"), 50);
  EXPECT_EQ(moves_to_fast, 50u);
  EXPECT_EQ(moves_to_slow, 50u);
  EXPECT_EQ(r.at("fast_pages_after"), 100);
  EXPECT_EQ(r.at("per_window")[0].at("promoted"), 50);
  EXPECT_EQ(r.at("per_window")[1].at("promoted"), 0);
}

TEST(VmVtmmLoop, FailedDemotionsAreRecordedAndNothingOverfillsTheFastNode) {
  ScriptedGuest g;
  g.windows = 3;
  const PageMover one_node = [&](const std::vector<uint64_t>& gfns, int node,
                                 std::vector<int>& st) {
    st.assign(gfns.size(), node == 0 ? 0 : -ENODEV);  // the slow node does not exist here
    return Json::object();
  };
  const Json r = vtmm_window_loop(config(), std::ref(g), one_node, "start");
  EXPECT_EQ(r.at("windows"), 3);
  EXPECT_EQ(r.at("demoted"), 0);
  EXPECT_EQ(r.at("demote_failed"), 150);
  EXPECT_EQ(r.at("promoted"), 0);
  EXPECT_EQ(r.at("promote_skipped_no_room"), 150);
  EXPECT_EQ(r.at("failures").at(std::string("demote: ") + std::strerror(ENODEV)), 150);
  EXPECT_EQ(r.at("fast_pages_after"), 100);
}

TEST(VmVtmmLoop, OverfillPromotesDespiteFailedDemotions) {
  ScriptedGuest g;
  g.windows = 3;
  WindowLoopConfig c = config();
  c.overfill = true;
  const PageMover one_node = [&](const std::vector<uint64_t>& gfns, int node, std::vector<int>& st) {
    st.assign(gfns.size(), node == 0 ? 0 : -ENODEV);
    return Json::object();
  };
  const Json r = vtmm_window_loop(c, std::ref(g), one_node, "start");
  EXPECT_EQ(r.at("promoted"), 50);  // once: afterwards the hot pages are fast
  EXPECT_EQ(r.at("promote_skipped_no_room"), 0);
  EXPECT_EQ(r.at("demote_failed"), 150);
  EXPECT_EQ(r.at("fast_pages_after"), 150);
}

TEST(VmVtmmLoop, FramesOutsideTheMapAreCountedNotUsed) {
  ScriptedGuest g;
  g.windows = 2;
  g.extra = {1000, 5000000};
  const PageMover ok = [&](const std::vector<uint64_t>& gfns, int node, std::vector<int>& st) {
    for (uint64_t x : gfns) EXPECT_LT(x, 1000u);
    st.assign(gfns.size(), node);
    return Json::object();
  };
  const Json r = vtmm_window_loop(config(), std::ref(g), ok, "start");
  EXPECT_EQ(r.at("out_of_map"), 4);
  EXPECT_EQ(r.at("pages_reported"), 100);
}

TEST(VmVtmmLoop, AWorkloadThatNeverEndsStopsTheLoop) {
  ScriptedGuest g;
  g.windows = 100;
  WindowLoopConfig c = config();
  c.max_windows = 3;
  const PageMover ok = [&](const std::vector<uint64_t>& gfns, int node, std::vector<int>& st) {
    st.assign(gfns.size(), node);
    return Json::object();
  };
  EXPECT_THROW(vtmm_window_loop(c, std::ref(g), ok, "start"), std::runtime_error);
}

TEST(VmGuestTiering, RecordsDeltasAndSaysWhenThereIsOneTier) {
  CommandReply on, before, after;
  on.metrics = {{"numa_balancing", 2}, {"demotion_enabled", 1}, {"memory_tiers", 1}};
  before.metrics = {{"numa_hint_faults", 10}, {"pgpromote_success", 0}, {"pgdemote_kswapd", 0}};
  after.metrics = {{"numa_hint_faults", 25}, {"pgpromote_success", 0}, {"pgdemote_kswapd", 0}};
  const Json r = guest_tiering_record(on, before, after);
  EXPECT_EQ(r.at("vmstat_delta").at("numa_hint_faults"), 15);
  EXPECT_EQ(r.at("pages_promoted"), 0);
  EXPECT_NE(r.at("observed").get<std::string>().find("no demotion target"), std::string::npos);
  on.metrics[2].second = 2;
  after.metrics[1].second = 7;
  const Json t = guest_tiering_record(on, before, after);
  EXPECT_EQ(t.at("pages_promoted"), 7);
  EXPECT_EQ(t.at("observed").get<std::string>().find("no demotion target"), std::string::npos);
}

RunSpec vm_spec(const std::string& policy, const Json& workload) {
  Json j = {{"platform", "vm"}, {"policy", policy}, {"workload", workload},
            {"ratio", "1:3"},   {"seed", 1},        {"vm", {{"vcpus", 2}, {"memory", "512MiB"}}}};
  return RunSpec::from_json(j, "test");
}

void expect_spec_error(const RunSpec& r, const std::string& needle) {
  try {
    validate_vm_run(r);
    ADD_FAILURE() << "accepted; expected an error naming " << needle;
  } catch (const SpecError& e) {
    EXPECT_NE(std::string(e.what()).find(needle), std::string::npos) << e.what();
    EXPECT_EQ(std::string(e.what()).find('\n'), std::string::npos);
  }
}

TEST(VmSpec, YcsbClientAndPoliciesAreValidated) {
  const Json ycsb = {{"impl", "redis"},
                     {"client", "ycsb"},
                     {"records", 1000},
                     {"operations", 2000},
                     {"workload", "a"}};
  EXPECT_NO_THROW(validate_vm_run(vm_spec("vtmm", ycsb)));
  EXPECT_NO_THROW(validate_vm_run(vm_spec("guest-tiering", ycsb)));
  Json bad = ycsb;
  bad["distribution"] = "pareto";
  expect_spec_error(vm_spec("dram-only", bad), "distribution");
  bad = ycsb;
  bad["workload"] = "d";
  expect_spec_error(vm_spec("dram-only", bad), "workload");
  bad = ycsb;
  bad["keyspace"] = 10;  // redis-benchmark's key, not the YCSB client's
  expect_spec_error(vm_spec("dram-only", bad), "keyspace");
  bad = ycsb;
  bad["client"] = "memtier";
  expect_spec_error(vm_spec("dram-only", bad), "client");
  expect_spec_error(vm_spec("vtmm", {{"impl", "redis"}, {"requests", 100}}), "ycsb");
  expect_spec_error(vm_spec("tpp", ycsb), "hot-page policies");
  expect_spec_error(vm_spec("memtis", ycsb), "hot-page policies");
}

TEST(VmSpec, PageRankInTheGuestIsValidated) {
  EXPECT_NO_THROW(validate_vm_run(vm_spec("dram-only", {{"impl", "pagerank"}, {"scale", 12}, {"iterations", 10}})));
  expect_spec_error(vm_spec("dram-only", {{"impl", "pagerank"}, {"iterations", 0}}), "iterations");
  expect_spec_error(vm_spec("dram-only", {{"impl", "pagerank"}, {"tolerance", 2}}), "tolerance");
  expect_spec_error(vm_spec("dram-only", {{"impl", "pagerank"}, {"roots", 2}}), "roots");  // BFS's key
  expect_spec_error(vm_spec("dram-only", {{"impl", "mcf"}}), "not a guest program");
}

// gups in the guest takes the sim workload's parameter names; its table must
// leave the guest half its memory (512 MiB by default).
TEST(VmSpec, GupsInTheGuestIsValidated) {
  EXPECT_NO_THROW(validate_vm_run(
      vm_spec("first-touch", {{"impl", "gups"}, {"footprint", "64MiB"}, {"updates", 1000}})));
  EXPECT_NO_THROW(validate_vm_run(
      vm_spec("dram-only", {{"impl", "gups"}, {"footprint", "256MiB"}, {"hot_offset", "end"}})));
  const struct {
    Json workload;
    const char* field;
  } bad[] = {
      {{{"impl", "gups"}, {"footprint", "300MiB"}}, "footprint"},
      {{{"impl", "gups"}, {"footprint", 4096}}, "footprint"},
      {{{"impl", "gups"}, {"footprint", "64MiB"}, {"updates", 0}}, "updates"},
      {{{"impl", "gups"}, {"footprint", "64MiB"}, {"hot_fraction", 0}}, "hot_fraction"},
      {{{"impl", "gups"}, {"footprint", "64MiB"}, {"hot_probability", 1.5}}, "hot_probability"},
      {{{"impl", "gups"}, {"footprint", "64MiB"}, {"hot_offset", "middle"}}, "hot_offset"},
      {{{"impl", "gups"}, {"footprint", "64MiB"}, {"mlp", 8}},
       "mlp"},  // the simulator's timing knob: no meaning on real memory
  };
  for (const auto& b : bad) expect_spec_error(vm_spec("dram-only", b.workload), b.field);
}

// redis-ycsb in the guest takes the sim workload's names: mix "default" is
// the paper's hotspot, one YCSB client per vCPU.
TEST(VmSpec, RedisYcsbInTheGuestIsValidated) {
  const Json ok = {
      {"impl", "redis-ycsb"}, {"records", 20000}, {"requests", 30000}, {"value_bytes", 4096}};
  EXPECT_NO_THROW(validate_vm_run(vm_spec("vtmm", ok)));
  Json c = ok;
  c["mix"] = "c";
  EXPECT_NO_THROW(validate_vm_run(vm_spec("first-touch", c)));
  const struct {
    Json workload;
    const char* field;
  } bad[] = {
      {{{"impl", "redis-ycsb"}},
       "records"},  // the sim's default, 800 MB of values, is past half of 512 MiB
      {{{"impl", "redis-ycsb"}, {"records", 1000}, {"mix", "d"}}, "mix"},
      {{{"impl", "redis-ycsb"}, {"records", 1000}, {"requests", 0}}, "requests"},
      {{{"impl", "redis-ycsb"}, {"records", 1000}, {"value_bytes", 0}}, "value_bytes"},
      {{{"impl", "redis-ycsb"}, {"records", 1000}, {"request_ns", 900}},
       "request_ns"},  // a simulator timing knob
  };
  for (const auto& b : bad) expect_spec_error(vm_spec("dram-only", b.workload), b.field);
}

// Both vm specs load at both scales (the sim's policy registry does not know vm-only policies).
TEST(VmSpec, VmExperimentsLoadQuickAndFull) {
  for (const bool full : {false, true}) {
    const auto smoke = runner::load_experiment("experiments/vm-smoke.json", full);
    const auto pol = runner::load_experiment("experiments/vm-policies.json", full);
    EXPECT_EQ(pol.runs.size(), 2u);
    EXPECT_EQ(pol.runs[0].policy.value("impl", ""), "vtmm");
    EXPECT_EQ(pol.runs[0].policy.value("overfill", false), !full);  // quick only: one host node here
    EXPECT_EQ(smoke.runs.size(), full ? 8u : 2u);
  }
}

}  // namespace vm_policies_test
