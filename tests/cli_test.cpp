// The vtmm binary: a mistake a user can fix exits 2 with one line on stderr
// naming what is wrong, and touches no results file.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>
#include <string>

namespace cli_test {

namespace fs = std::filesystem;

// A scratch folder per test, removed afterwards.
class CliTest : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("vtmm_cli_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  struct Result {
    int code = -1;
    std::string out, err;
  };

  static std::string quote(const std::string& s) {
    std::string q = "'";
    for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    return q + "'";
  }
  static std::string slurp(const fs::path& p) {
    std::ifstream in(p);
    std::stringstream ss;
    ss << in.rdbuf();
    return ss.str();
  }

  // Runs `vtmm ARGS` (ARGS already shell-quoted where needed).
  Result vtmm(const std::string& args) const {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string cmd = quote(VTMM_BINARY) + " " + args + " </dev/null >" + quote(out.string()) + " 2>" +
                            quote(err.string());
    const int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    r.out = slurp(out);
    r.err = slurp(err);
    return r;
  }

  fs::path write_spec(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    std::ofstream(p) << text;
    return p;
  }

  // `vtmm run SPEC --out DIR/results`: exit 2, one line naming `needle`, no results.
  void expect_rejected_spec(const std::string& text, const std::string& needle) const {
    const fs::path spec = write_spec("spec.json", text);
    const fs::path results = dir_ / "results";
    const Result r = vtmm("run " + quote(spec.string()) + " --out " + quote(results.string()));
    EXPECT_EQ(r.code, 2) << r.err;
    expect_one_line(r.err, needle);
    EXPECT_FALSE(fs::exists(results / "runs.jsonl")) << "a rejected spec must not touch the results file";
    EXPECT_FALSE(fs::exists(results)) << "a rejected spec must not create the results folder";
  }

  static void expect_one_line(const std::string& err, const std::string& needle) {
    ASSERT_FALSE(err.empty());
    EXPECT_EQ(err.back(), '\n') << err;
    EXPECT_EQ(err.find('\n'), err.size() - 1) << "one line only:\n" << err;
    EXPECT_NE(err.find(needle), std::string::npos) << "should name " << needle << ":\n" << err;
  }

  fs::path dir_;
};

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
  expect_rejected_spec(std::string("{") + kRun + R"(, "sweep": {"policy": ["first-touch"]}})", "'name'");
}

TEST_F(CliTest, SpecMalformedJson) {
  const Result r = vtmm("run " + quote(write_spec("bad.json", R"({"name": "t", "run": {)").string()) + " --out " +
                        quote((dir_ / "results").string()));
  EXPECT_EQ(r.code, 2) << r.err;
  expect_one_line(r.err, "malformed JSON");
  EXPECT_NE(r.err.find("bad.json"), std::string::npos) << r.err;
  EXPECT_FALSE(fs::exists(dir_ / "results" / "runs.jsonl"));
}

TEST_F(CliTest, SpecUnknownPolicyInSweep) {
  expect_rejected_spec(std::string(R"({"name": "t", )") + kRun + R"(, "sweep": {"policy": ["first-touch", "nope"]}})",
                       "nope");
}

TEST_F(CliTest, SpecUnknownKey) {
  expect_rejected_spec(std::string(R"({"name": "t", "sweeps": {}, )") + kRun + R"(, "sweep": {"policy": ["first-touch"]}})",
                       "'sweeps'");
}

TEST_F(CliTest, SpecUnknownSweepAxis) {
  expect_rejected_spec(std::string(R"({"name": "t", )") + kRun + R"(, "sweep": {"policy": ["first-touch"], "ratios": ["1:2"]}})",
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
  const fs::path spec = write_spec(
      "ok.json", std::string(R"({"name": "t", )") + kRun + R"(, "sweep": {"policy": ["dram-only", "first-touch"]}})");
  const fs::path results = dir_ / "results";
  const Result r = vtmm("run " + quote(spec.string()) + " --out " + quote(results.string()));
  ASSERT_EQ(r.code, 0) << r.err;
  const std::string jsonl = slurp(results / "runs.jsonl");
  size_t lines = 0;
  for (char ch : jsonl) lines += ch == '\n' ? 1 : 0;
  EXPECT_EQ(lines, 2u) << jsonl;
}

}  // namespace cli_test
