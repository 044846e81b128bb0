// `vtmm compare`: matching by configuration, the significance rule, the
// report and the exit status, on synthetic records (library) and through the
// binary (exit codes and one-line errors for bad files).
#include "vtmm/runner/compare.hpp"

#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "vtmm/core/rng.hpp"

namespace compare_test {

namespace fs = std::filesystem;
using namespace vtmm::runner;
using vtmm::Json;

Json record(const std::string& workload, const std::string& policy, uint64_t seed, int repeat,
            double t) {
  Json run = {{"platform", "sim"},
              {"host", "optane"},
              {"vm", {{"vcpus", 1}, {"memory", 0}, {"ept_huge", false}, {"aged_guest", false}}},
              {"workload", {{"impl", workload}, {"footprint", 1 << 30}}},
              {"policy", {{"impl", policy}}},
              {"ratio", "1:4"},
              {"fast_bytes", 0},
              {"seed", seed},
              {"repeat", repeat}};
  return {{"status", "ok"},  {"workload", workload},  {"policy", policy},
          {"sim_time_s", t}, {"throughput", 1e6 / t}, {"config", {{"run", run}}}};
}

// n repeats of one configuration around `center`, relative noise uniform in +-noise.
std::vector<Json> sample(const std::string& w, const std::string& p, int n, double center,
                         double noise, uint64_t noise_seed) {
  vtmm::Rng rng(noise_seed);
  std::vector<Json> out;
  for (int i = 0; i < n; ++i) {
    const double u = static_cast<double>(rng.below(1'000'001)) / 1e6 * 2 - 1;
    out.push_back(record(w, p, 100 + static_cast<uint64_t>(i), i, center * (1 + noise * u)));
  }
  return out;
}

RecordSet set_of(std::vector<Json> recs, const std::string& name) {
  RecordSet s;
  s.path = name;
  s.records = std::move(recs);
  return s;
}

void append(std::vector<Json>& a, const std::vector<Json>& b) {
  a.insert(a.end(), b.begin(), b.end());
}

const ConfigResult& find(const Comparison& c, const std::string& label) {
  for (const auto& r : c.configs)
    if (r.label == label) return r;
  throw std::runtime_error("no configuration " + label);
}

TEST(Compare, IdenticalInputsAreNoChange) {
  std::vector<Json> recs = sample("gups", "vtmm", 5, 2.0, 0.05, 1);
  append(recs, sample("gups", "first-touch", 5, 3.0, 0.05, 2));
  append(recs, {record("mcf", "vtmm", 1, 0, 4.0)});  // a single run: ratio only
  const Comparison c = compare(set_of(recs, "base"), set_of(recs, "new"), CompareOptions{});
  ASSERT_EQ(c.configs.size(), 3u);
  for (const auto& r : c.configs) {
    EXPECT_EQ(r.verdict, "unchanged") << r.label;
    EXPECT_DOUBLE_EQ(r.change, 0) << r.label;
    EXPECT_TRUE(r.note.empty()) << r.note;
  }
  EXPECT_TRUE(find(c, "optane/gups/vtmm/1:4").tested);
  EXPECT_NEAR(find(c, "optane/gups/vtmm/1:4").test.p, 1, 1e-12);
  EXPECT_FALSE(find(c, "optane/mcf/vtmm/1:4").tested);
  EXPECT_TRUE(c.unmatched.empty());
  EXPECT_EQ(c.exit_status(), 0);
  EXPECT_NE(format_text(c).find("PASS"), std::string::npos);
}

TEST(Compare, TwentyPercentSlowdownOverTenRepeatsIsSignificant) {
  const auto base = sample("gups", "vtmm", 10, 2.0, 0.03, 11);
  const auto next = sample("gups", "vtmm", 10, 2.4, 0.03, 12);
  const Comparison c = compare(set_of(base, "base"), set_of(next, "new"), CompareOptions{});
  ASSERT_EQ(c.configs.size(), 1u);
  const ConfigResult& r = c.configs[0];
  EXPECT_TRUE(r.tested);
  EXPECT_TRUE(r.significant);
  EXPECT_TRUE(r.test.exact);
  EXPECT_LT(r.test.p, 1e-4);  // completely separated 10 vs 10: 2 / C(20,10)
  EXPECT_NEAR(r.change, 0.2, 0.05);
  EXPECT_EQ(r.verdict, "regressed");
  EXPECT_EQ(c.exit_status(), 1);
  const std::string md = format_markdown(c);
  EXPECT_NE(md.find("**regressed**"), std::string::npos);
  EXPECT_NE(md.find("**FAIL**"), std::string::npos);
  EXPECT_NE(md.find("| configuration |"), std::string::npos);
  // The same slowdown the other way round is an improvement, and passes.
  const Comparison back = compare(set_of(next, "base"), set_of(base, "new"), CompareOptions{});
  EXPECT_EQ(back.configs[0].verdict, "improved");
  EXPECT_EQ(back.exit_status(), 0);
}

TEST(Compare, TwoPercentChangeUnderHighNoiseIsNotFlagged) {
  const auto base = sample("gups", "vtmm", 10, 2.0, 0.30, 21);
  const auto next = sample("gups", "vtmm", 10, 2.04, 0.30, 22);
  CompareOptions opt;
  opt.threshold = 0.01;  // the change may exceed this; only significance can keep it unflagged
  const Comparison c = compare(set_of(base, "base"), set_of(next, "new"), opt);
  ASSERT_EQ(c.configs.size(), 1u);
  EXPECT_TRUE(c.configs[0].tested);
  EXPECT_FALSE(c.configs[0].significant) << "p=" << c.configs[0].test.p;
  EXPECT_EQ(c.configs[0].verdict, "unchanged");
  EXPECT_EQ(c.exit_status(), 0);
}

TEST(Compare, SingleRunsFallBackToALabelledRatio) {
  const Comparison c = compare(set_of({record("gups", "vtmm", 1, 0, 1.0)}, "b"),
                               set_of({record("gups", "vtmm", 1, 0, 1.1)}, "n"), CompareOptions{});
  ASSERT_EQ(c.configs.size(), 1u);
  EXPECT_FALSE(c.configs[0].tested);
  EXPECT_EQ(c.configs[0].verdict, "regressed");
  EXPECT_NE(format_text(c).find("ratio only"), std::string::npos);
  // 3 vs 3 cannot reach p <= 0.05 (its smallest p is 0.1), so it is a ratio too.
  const Comparison d =
      compare(set_of(sample("gups", "vtmm", 3, 1, 0.01, 5), "b"),
              set_of(sample("gups", "vtmm", 3, 1.02, 0.01, 6), "n"), CompareOptions{});
  EXPECT_FALSE(d.configs[0].tested);
  EXPECT_EQ(d.configs[0].verdict, "unchanged");
}

TEST(Compare, HigherIsBetterMetrics) {
  const auto base = sample("gups", "vtmm", 10, 2.0, 0.02, 31);
  const auto next = sample("gups", "vtmm", 10, 2.4, 0.02, 32);  // throughput = 1e6 / t drops ~17 %
  CompareOptions opt;
  opt.metric = "throughput";
  const Comparison c = compare(set_of(base, "b"), set_of(next, "n"), opt);
  EXPECT_EQ(c.direction, Direction::HigherIsBetter);
  EXPECT_LT(c.configs[0].change, -0.1);
  EXPECT_EQ(c.configs[0].verdict, "regressed");
  opt.metric = "ops_per_joule";
  EXPECT_THROW(compare(set_of(base, "b"), set_of(next, "n"), opt), vtmm::SpecError);  // not a field
  opt.metric = "config.run.fast_bytes";  // a field without a known direction
  EXPECT_THROW(compare(set_of(base, "b"), set_of(next, "n"), opt), vtmm::SpecError);
  opt.direction = Direction::LowerIsBetter;
  EXPECT_NO_THROW(compare(set_of(base, "b"), set_of(next, "n"), opt));
}

TEST(Compare, UnmatchedRecordsAreListedNotDropped) {
  std::vector<Json> base = sample("gups", "vtmm", 4, 2.0, 0.01, 41);
  append(base, sample("mcf", "vtmm", 4, 3.0, 0.01, 42));
  std::vector<Json> next = sample("gups", "vtmm", 4, 2.0, 0.01, 43);
  append(next, sample("pagerank", "vtmm", 4, 3.0, 0.01, 44));
  Json failed = record("gups", "vtmm", 9, 4, 0);
  failed["status"] = "failed";
  failed["error_kind"] = "verify";
  failed["error"] = "gups: table checksum mismatch";
  failed.erase("sim_time_s");
  next.push_back(failed);
  Json no_value = record("gups", "vtmm", 10, 5, 0);
  no_value["sim_time_s"] = nullptr;
  next.push_back(no_value);
  CompareOptions opt;
  const Comparison c = compare(set_of(base, "b"), set_of(next, "n"), opt);
  ASSERT_EQ(c.configs.size(), 1u);
  EXPECT_EQ(c.configs[0].label, "optane/gups/vtmm/1:4");
  ASSERT_EQ(c.unmatched.size(), 4u);
  EXPECT_EQ(c.unmatched[0].side, "BASE");
  EXPECT_EQ(c.unmatched[0].label, "optane/mcf/vtmm/1:4");
  EXPECT_EQ(c.unmatched[0].records, 4u);
  EXPECT_EQ(c.unmatched[1].side, "NEW");
  EXPECT_EQ(c.unmatched[1].label, "optane/pagerank/vtmm/1:4");
  EXPECT_NE(c.unmatched[2].reason.find("failed run: verify: gups: table checksum mismatch"),
            std::string::npos);
  EXPECT_NE(c.unmatched[3].reason.find("no value for sim_time_s"), std::string::npos);
  EXPECT_EQ(c.exit_status(), 0);  // nothing regressed...
  const std::string text = format_text(c);
  EXPECT_NE(text.find("optane/mcf/vtmm/1:4"), std::string::npos);
  EXPECT_NE(text.find("optane/pagerank/vtmm/1:4"), std::string::npos);
  EXPECT_EQ(to_json(c).at("not_compared").size(), 4u);
  opt.fail_on_unmatched = true;  // ...unless asked to insist on a full match
  EXPECT_EQ(compare(set_of(base, "b"), set_of(next, "n"), opt).exit_status(), 1);
}

TEST(Compare, ParameterVariantsStayApartAndChangedDefaultsAreNoted) {
  auto variant = [](double t, int footprint_mib, uint64_t seed) {
    Json r = record("gups", "vtmm", seed, 0, t);
    r["config"]["run"]["workload"]["footprint"] = footprint_mib << 20;
    return r;
  };
  const std::vector<Json> base = {variant(1.0, 256, 1), variant(4.0, 1024, 1)};
  const Comparison c = compare(set_of(base, "b"), set_of(base, "n"), CompareOptions{});
  ASSERT_EQ(c.configs.size(), 2u);  // not one pooled sample
  EXPECT_NE(c.configs[0].label, c.configs[1].label);
  // One variant per side, differing in a parameter: still compared, with a note.
  const Comparison d = compare(set_of({variant(1.0, 256, 1)}, "b"),
                               set_of({variant(1.0, 512, 1)}, "n"), CompareOptions{});
  ASSERT_EQ(d.configs.size(), 1u);
  EXPECT_NE(d.configs[0].note.find("workload.footprint"), std::string::npos) << d.configs[0].note;
}

TEST(Compare, ThresholdIsAPercentage) {
  EXPECT_DOUBLE_EQ(parse_percent("5%", "t"), 0.05);
  EXPECT_DOUBLE_EQ(parse_percent("0.5%", "t"), 0.005);
  EXPECT_THROW(parse_percent("5", "t"), vtmm::SpecError);
  EXPECT_THROW(parse_percent("%", "t"), vtmm::SpecError);
  EXPECT_THROW(parse_percent("-1%", "t"), vtmm::SpecError);
  EXPECT_THROW(parse_percent("5x%", "t"), vtmm::SpecError);
}

// Through the binary: files, folders, exit status and one-line errors.
class CompareCli : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vtmm_compare_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }

  fs::path write(const std::string& name, const std::string& text) const {
    const fs::path p = dir_ / name;
    fs::create_directories(p.parent_path());
    std::ofstream(p) << text;
    return p;
  }
  static std::string lines(const std::vector<Json>& recs) {
    std::string s;
    for (const auto& r : recs) s += r.dump() + "\n";
    return s;
  }
  struct Result {
    int code = -1;
    std::string out, err;
  };
  Result vtmm(const std::string& args) const {
    const fs::path out = dir_ / "stdout", err = dir_ / "stderr";
    const std::string cmd = std::string("'") + VTMM_BINARY + "' " + args + " </dev/null >'" +
                            out.string() + "' 2>'" + err.string() + "'";
    const int status = std::system(cmd.c_str());
    Result r;
    r.code = WIFEXITED(status) ? WEXITSTATUS(status) : -1;
    std::stringstream o, e;
    o << std::ifstream(out).rdbuf();
    e << std::ifstream(err).rdbuf();
    r.out = o.str();
    r.err = e.str();
    return r;
  }
  static size_t count_lines(const std::string& s) {
    return static_cast<size_t>(std::count(s.begin(), s.end(), '\n'));
  }
  fs::path dir_;
};

TEST_F(CompareCli, ExitStatusFollowsTheVerdict) {
  const auto base = sample("gups", "vtmm", 10, 2.0, 0.03, 51);
  const auto slow = sample("gups", "vtmm", 10, 2.4, 0.03, 52);
  const fs::path b = write("base/runs.jsonl", lines(base));
  const fs::path n = write("new.jsonl", lines(slow));
  Result same =
      vtmm("compare " + b.parent_path().string() + " " + b.string());  // a folder and a file
  EXPECT_EQ(same.code, 0) << same.out << same.err;
  EXPECT_NE(same.out.find("PASS"), std::string::npos);
  Result worse = vtmm("compare " + b.string() + " " + n.string() + " --threshold 5%");
  EXPECT_EQ(worse.code, 1) << worse.out << worse.err;
  EXPECT_NE(worse.out.find("regressed"), std::string::npos);
  EXPECT_NE(worse.out.find("FAIL"), std::string::npos);
  Result lax = vtmm("compare " + b.string() + " " + n.string() + " --threshold 50%");
  EXPECT_EQ(lax.code, 0) << lax.out;
  Result md = vtmm("compare " + b.string() + " " + n.string() + " --format markdown");
  EXPECT_EQ(md.code, 1);
  EXPECT_NE(md.out.find("|---|"), std::string::npos);
  Result js = vtmm("compare " + b.string() + " " + n.string() + " --format json");
  EXPECT_EQ(js.code, 1);
  const Json j = Json::parse(js.out);
  EXPECT_EQ(j.at("status"), "fail");
  EXPECT_EQ(j.at("configurations").at(0).at("method"), "mann-whitney");
  EXPECT_EQ(j.at("configurations").at(0).at("new").at("n"), 10);
}

TEST_F(CompareCli, BadInputIsOneLineAndExitTwo) {
  const std::string good = lines(sample("gups", "vtmm", 2, 2.0, 0.01, 61));
  const fs::path ok = write("ok.jsonl", good);
  const fs::path torn =
      write("torn.jsonl", good + "{\"config\": {\"run\": {}}, \"sim_time_s\": 1.\n");
  Result r = vtmm("compare " + ok.string() + " " + torn.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("NEW"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 3, byte"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("file offset"), std::string::npos) << r.err;
  EXPECT_TRUE(r.out.empty()) << r.out;

  const fs::path not_record = write("other.jsonl", "{\"name\": \"smoke\"}\n");
  r = vtmm("compare " + not_record.string() + " " + ok.string());
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  EXPECT_NE(r.err.find("BASE"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("line 1"), std::string::npos) << r.err;
  EXPECT_NE(r.err.find("not a vtmm run record"), std::string::npos) << r.err;

  const fs::path empty = write("empty.jsonl", "\n");
  for (const std::string& bad : {(dir_ / "nope.jsonl").string(), dir_.string(), empty.string()}) {
    r = vtmm("compare " + ok.string() + " " + bad);
    EXPECT_EQ(r.code, 2) << bad;
    EXPECT_EQ(count_lines(r.err), 1u) << r.err;
  }
  r = vtmm("compare " + ok.string() + " " + ok.string() + " --threshold 5");
  EXPECT_EQ(r.code, 2);
  EXPECT_NE(r.err.find("percentage"), std::string::npos) << r.err;
  r = vtmm("compare " + ok.string() + " " + ok.string() + " --metric footprint_mib");
  EXPECT_EQ(r.code, 2);
  EXPECT_EQ(count_lines(r.err), 1u) << r.err;
}

}  // namespace compare_test
