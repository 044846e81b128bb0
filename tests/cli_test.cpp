// The vtmm binary: a mistake a user can fix exits 2 with one line on stderr
// naming what is wrong, and touches no results file.
#include <nlohmann/json.hpp>

#include "tests/cli_test_support.hpp"

namespace cli_test {

std::string vtmm_binary() { return VTMM_BINARY; }

// A small, valid base run for specs.
const char* kRun =
    R"("run": {"workload": {"impl": "gups", "footprint": "8MiB", "updates": 1000, "warmup_updates": 0}, "ratio": "1:4"})";

TEST_F(CliTest, HelpExitsZero) {
  const Result top = vtmm("--help");
  EXPECT_EQ(top.code, 0) << top.err;
  EXPECT_NE(top.out.find("sim"), std::string::npos) << top.out;
  const Result sim = vtmm("sim --help");
  EXPECT_EQ(sim.code, 0) << sim.err;
  EXPECT_NE(sim.out.find("--policy"), std::string::npos) << sim.out;
}

TEST_F(CliTest, NoSubcommandIsAUsageError) {
  const Result r = vtmm("");
  EXPECT_EQ(r.code, 2);
  EXPECT_FALSE(r.err.empty());
}

TEST_F(CliTest, SimUnknownPolicy) {
  const Result r = vtmm("sim --policy nope --ratio 1:4 --no-wall");
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_line(r.err, "nope");
  EXPECT_NE(r.err.find("policy"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(CliTest, SimRatioWithZeroSlowPart) {
  const Result r = vtmm("sim --ratio 1:0 --no-wall");
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_line(r.err, "ratio");
  EXPECT_NE(r.err.find("1:0"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

TEST_F(CliTest, SimUnknownWorkloadParameter) {
  const Result r = vtmm("sim --ratio 1:4 --no-wall --wl footprint=8MiB --wl hot_fractoin=0.1");
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_line(r.err, "hot_fractoin");
}

TEST_F(CliTest, SpecMissingName) {
  expect_rejected_spec(std::string("{") + kRun + R"(, "sweep": {"policy": ["first-touch"]}})",
                       "'name'");
}

TEST_F(CliTest, SpecMalformedJson) {
  const Result r =
      vtmm("run " + quote(write_spec("bad.json", R"({"name": "t", "run": {)").string()) +
           " --out " + quote((dir_ / "results").string()));
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_line(r.err, "malformed JSON");
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "results" / "runs.jsonl"));
}

TEST_F(CliTest, SpecUnknownPolicyInSweep) {
  expect_rejected_spec(std::string(R"({"name": "t", )") + kRun +
                           R"(, "sweep": {"policy": ["first-touch", "nope"]}})",
                       "nope");
}

TEST_F(CliTest, SpecUnknownKey) {
  expect_rejected_spec(std::string(R"({"name": "t", "sweeps": {}, )") + kRun +
                           R"(, "sweep": {"policy": ["first-touch"]}})",
                       "'sweeps'");
}

TEST_F(CliTest, SpecUnknownSweepAxis) {
  expect_rejected_spec(std::string(R"({"name": "t", )") + kRun +
                           R"(, "sweep": {"policy": ["first-touch"], "ratios": ["1:2"]}})",
                       "'ratios'");
}

TEST_F(CliTest, SpecBadWorkloadParameterInRun) {
  expect_rejected_spec(
      R"({"name": "t", "run": {"workload": {"impl": "gups", "footprint": "8MiB", "updatez": 5}, "ratio": "1:4"}, "sweep": {"policy": ["first-touch"]}})",
      "updatez");
}

// A spec that only fails when its run is sized (a ratio policy without a ratio)
// is still a spec mistake: load_experiment promises to catch it before any file
// is touched.
TEST_F(CliTest, SpecRatioPolicyWithoutRatio) {
  expect_rejected_spec(
      R"({"name": "t", "run": {"workload": {"impl": "gups", "footprint": "8MiB", "updates": 1000, "warmup_updates": 0}}, "sweep": {"policy": ["first-touch"]}})",
      "ratio");
}

TEST_F(CliTest, GoodSpecWritesOneRecordPerRun) {
  const fs::path spec =
      write_spec("ok.json", std::string(R"({"name": "t", )") + kRun +
                                R"(, "sweep": {"policy": ["dram-only", "first-touch"]}})");
  const fs::path results = dir_ / "results";
  const Result r = vtmm("run " + quote(spec.string()) + " --out " + quote(results.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string jsonl = slurp(results / "runs.jsonl");
  size_t lines = 0;
  for (char ch : jsonl) lines += ch == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 2u) << jsonl;
}

// --against runs the reference design on the same configuration and fills
// the record's slowdown from the two sim times.
TEST_F(CliTest, SimAgainstFillsTheSlowdown) {
  const std::string gups =
      " --wl footprint=64MiB --wl updates=30000 --wl warmup_updates=0 -r 1:4 --no-wall";
  const Result slow = vtmm("sim -p slow-only" + gups);
  const Result ref = vtmm("sim -p dram-only" + gups);
  const Result r = vtmm("sim -p slow-only --against dram-only" + gups);
  ASSERT_EQ(r.code, 0) << r.err;
  ASSERT_EQ(slow.code, 0) << slow.err;
  ASSERT_EQ(ref.code, 0) << ref.err;
  const auto rec = nlohmann::json::parse(r.out), alone = nlohmann::json::parse(slow.out),
             base = nlohmann::json::parse(ref.out);
  EXPECT_EQ(rec.at("slowdown_against"), "dram-only");
  EXPECT_DOUBLE_EQ(rec.at("slowdown").get<double>(),
                   alone.at("sim_time_s").get<double>() / base.at("sim_time_s").get<double>());
  EXPECT_GT(rec.at("slowdown").get<double>(), 1.0) << "the slow tier costs something";
  EXPECT_TRUE(alone.at("slowdown").is_null()) << "without --against nothing to compare with";
  EXPECT_TRUE(r.err.empty()) << "64 MiB does not fit the LLC: no warning\n" << r.err;
}

TEST_F(CliTest, SimAgainstAnUnknownDesignRunsNothing) {
  const Result r = vtmm("sim --ratio 1:4 --no-wall --wl footprint=8MiB --against nope");
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_line(r.err, "nope");
  EXPECT_NE(r.err.find("--against"), std::string::npos) << "names the flag\n" << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;
}

// A workload that fits in the LLC never reaches memory: the run says so.
TEST_F(CliTest, SimWarnsWhenTheWorkloadFitsInTheLlc) {
  const Result r =
      vtmm("sim --ratio 1:4 --no-wall --wl footprint=8MiB --wl updates=1000 --wl warmup_updates=0");
  ASSERT_EQ(r.code, 0) << r.err;
  expect_one_line(r.err, "LLC");
  EXPECT_NE(r.err.find("warning: workload gups"), std::string::npos) << r.err;
  EXPECT_FALSE(r.out.empty());
}

// numa-check refuses a bad option or a design the daemon cannot run before
// it boots anything: exit 2, one line naming what was wrong.
TEST_F(CliTest, NumaCheckRejectsBeforeBooting) {
  struct Case {
    const char* args;
    const char* names;
  };
  for (const Case& c : {Case{"--seconds 1", "seconds"}, Case{"--policy hemem", "needs"},
                        Case{"--policy no-such-design", "no-such-design"},
                        Case{"--policy '{\"impl\": \"ept-scanner\"}'", "needs"},
                        Case{"--fast-mib 0", "fast_mib"}, Case{"--policy '{'", "--policy"},
                        // each design is checked, and vTMM's PML tracker needs PML
                        Case{"--policy '{\"impl\":\"ept-scanner\",\"migration\":\"linux\"}' "
                             "--policy vtmm",
                             "needs"}}) {
    const Result r = vtmm(std::string("numa-check ") + c.args);
    EXPECT_EQ(r.code, 2) << c.args << ": " << r.err;
    expect_one_line(r.err, c.names);
  }
}

}  // namespace cli_test
