// The vm platform's designs without a guest: the guest-tiering record, and
// the spec validation of the vm options and designs (registered designs,
// refused when they need what a stock kernel lacks).
#include "vtmm/platform/vm_policies.hpp"

#include <gtest/gtest.h>

#include <cerrno>

#include "vtmm/core/error.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/platform/guest_ram.hpp"
#include "vtmm/platform/process_memory.hpp"
#include "vtmm/platform/vm_run.hpp"
#include "vtmm/runner/experiment.hpp"

namespace vm_policies_test {

using namespace vtmm;
using namespace vtmm::platform;

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

RunSpec vm_spec(const Json& policy, const Json& workload) {
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

// A design written against Mechanisms alone (EPT bits and migration), as a
// newcomer would add one: registered here, in the test binary, it is a vm
// design with no change in vtmm/platform/.
class DemoteUntouched final : public Policy {
 public:
  DemoteUntouched(Params&, const PolicyEnv&) {}
  std::vector<Mechanism> needs() const override {
    return {Mechanism::EptAdBits, Mechanism::Migrate};
  }
  Tier place(Gpa, const Mechanisms& m) override {
    return m.used_pages(Tier::Fast) < m.capacity_pages(Tier::Fast) ? Tier::Fast : Tier::Slow;
  }
  double period_ns() const override { return 1e9; }
  void tick(Mechanisms& m) override {
    std::vector<uint8_t> bits(m.guest_pages());
    m.ept().scan_ept(PteBits::kAccessed | PteBits::kDirty, bits);
    std::vector<Gpa> cold;
    for (Gpa g = 0; g < bits.size(); ++g)
      if (m.backed(g) && m.tier_of(g) == Tier::Fast && bits[g] == 0) cold.push_back(g);
    m.mover().migrate(cold, Tier::Slow, MigrationMethod::Linux);
  }
};
VTMM_REGISTER(PolicyRegistry, DemoteUntouched, "test-demote-untouched",
              "test only: demote the fast pages not touched in a window")

TEST(VmSpec, ANewDesignNeedsNoPlatformChange) {
  const Json ycsb = {
      {"impl", "redis"}, {"client", "ycsb"}, {"records", 1000}, {"operations", 2000}};
  EXPECT_NO_THROW(validate_vm_run(vm_spec("test-demote-untouched", ycsb)));
  EXPECT_TRUE(vm_policy_uses_ratio(Json("test-demote-untouched"), 1));
  EXPECT_FALSE(vm_policy_uses_ratio(Json("dram-only"), 1));
}

TEST(VmSpec, YcsbClientAndPoliciesAreValidated) {
  const Json ycsb = {{"impl", "redis"},
                     {"client", "ycsb"},
                     {"records", 1000},
                     {"operations", 2000},
                     {"workload", "a"}};
  EXPECT_NO_THROW(validate_vm_run(vm_spec("guest-tiering", ycsb)));
  EXPECT_NO_THROW(validate_vm_run(vm_spec("first-touch", ycsb)));
  EXPECT_NO_THROW(validate_vm_run(vm_spec("damon", ycsb)));
  EXPECT_NO_THROW(
      validate_vm_run(vm_spec(Json{{"impl", "ept-scanner"}, {"migration", "linux"}}, ycsb)));
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
  // What a stock kernel does not give a host daemon: refused, naming the mechanism.
  expect_spec_error(vm_spec("vtmm", ycsb), "page-modification logging");  // its PML tracker
  // Without PML it runs on the guest's page tables (the companion, through the agent).
  EXPECT_NO_THROW(validate_vm_run(
      vm_spec({{"impl", "vtmm"}, {"tracker", "gpt-scan"}, {"migration", "linux"}}, ycsb)));
  expect_spec_error(vm_spec("ept-scanner", ycsb), "page-modification logging");  // PM_PML
  // A guest-side design runs in the guest against the workload's memory,
  // which the platform finds for gups only; a host-side design on hint faults
  // needs the companion module in the host's kernel.
  expect_spec_error(vm_spec("tpp", ycsb), "gups only");
  const Json gups = {{"impl", "gups"}, {"footprint", "64MiB"}, {"updates", 1000}};
  EXPECT_NO_THROW(validate_vm_run(vm_spec("tpp", gups)));
  if (!ProcessMemory::hint_faults_available())
    expect_spec_error(vm_spec("autonuma", gups), "companion module");
  expect_spec_error(vm_spec("memtis", ycsb), "sampling");
  expect_spec_error(vm_spec("memory-mode", ycsb), "Memory Mode");
  expect_spec_error(vm_spec("no-such-design", ycsb), "no-such-design");
}

TEST(VmSpec, PageRankInTheGuestIsValidated) {
  EXPECT_NO_THROW(validate_vm_run(
      vm_spec("dram-only", {{"impl", "pagerank"}, {"scale", 12}, {"iterations", 10}})));
  expect_spec_error(vm_spec("dram-only", {{"impl", "pagerank"}, {"iterations", 0}}), "iterations");
  expect_spec_error(vm_spec("dram-only", {{"impl", "pagerank"}, {"tolerance", 2}}), "tolerance");
  expect_spec_error(vm_spec("dram-only", {{"impl", "pagerank"}, {"roots", 2}}),
                    "roots");  // BFS's key
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
  EXPECT_NO_THROW(validate_vm_run(vm_spec("damon", ok)));
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
    EXPECT_EQ(pol.runs.size(), 8u);  // at least four registered designs, and the guest kernel's
    EXPECT_EQ(smoke.runs.size(), full ? 8u : 2u);
  }
}

}  // namespace vm_policies_test
