// The runner survives being killed: `vtmm run` is SIGKILLed mid-sweep and
// started again; the sweep finishes with every run recorded exactly once, no
// recorded run redone, and every line of runs.jsonl a complete JSON record.
#include <gtest/gtest.h>
#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <map>
#include <nlohmann/json.hpp>
#include <set>
#include <sstream>
#include <string>
#include <thread>
#include <vector>

namespace runner_resume_test {

namespace fs = std::filesystem;
using Json = nlohmann::json;

std::string slurp(const fs::path& p) {
  std::ifstream in(p, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

std::vector<std::string> lines_of(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  std::string l;
  while (std::getline(in, l)) out.push_back(l);
  return out;
}

size_t newlines(const fs::path& p) {
  const std::string t = slurp(p);
  return static_cast<size_t>(std::count(t.begin(), t.end(), '\n'));
}

class RunnerResume : public ::testing::Test {
 protected:
  void SetUp() override {
    const auto* info = ::testing::UnitTest::GetInstance()->current_test_info();
    dir_ = fs::temp_directory_path() /
           ("vtmm_resume_" + std::to_string(::getpid()) + "_" + info->name());
    fs::remove_all(dir_);
    fs::create_directories(dir_);
    results_ = dir_ / "results";
  }
  void TearDown() override { fs::remove_all(dir_); }

  // 12 gups runs (4 policies x 3 seeds); 300k updates take a few hundred ms each.
  fs::path write_spec(unsigned updates) const {
    const fs::path p = dir_ / "resume.json";
    std::ofstream(p) << R"({"name": "resume", "run": {"host": "optane", "vm": {"vcpus": 1},
                            "workload": {"impl": "gups", "footprint": "64MiB", "updates": )"
                     << updates << R"(, "warmup_updates": 5000}, "ratio": "1:4"},
                 "sweep": {"policy": ["dram-only", "slow-only", "first-touch", "oracle"], "seed": [1, 2, 3]}})";
    return p;
  }

  // Starts `vtmm run SPEC --out results --jobs J` with stderr to `err`.
  pid_t start(const fs::path& spec, const fs::path& err, const std::string& jobs) const {
    const pid_t pid = ::fork();
    if (pid == 0) {
      const std::string e = err.string();
      if (std::freopen(e.c_str(), "w", stderr) == nullptr ||
          std::freopen("/dev/null", "w", stdout) == nullptr)
        ::_exit(127);
      const std::string s = spec.string(), r = results_.string();
      ::execl(VTMM_BINARY, VTMM_BINARY, "run", s.c_str(), "--out", r.c_str(), "--jobs",
              jobs.c_str(), static_cast<char*>(nullptr));
      ::_exit(127);
    }
    return pid;
  }

  static int wait_exit(pid_t pid) {
    int st = 0;
    ::waitpid(pid, &st, 0);
    return WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  }

  // Every line parses as a JSON object; returns them by run_key (asserting uniqueness).
  static std::map<std::string, Json> records_by_key(const fs::path& jsonl) {
    std::map<std::string, Json> out;
    const std::string text = slurp(jsonl);
    EXPECT_TRUE(text.empty() || text.back() == '\n') << "last line not terminated";
    for (const auto& l : lines_of(text)) {
      const Json r = Json::parse(l, nullptr, false);
      EXPECT_FALSE(r.is_discarded()) << "corrupt line: " << l;
      if (r.is_discarded()) continue;
      const std::string key = r.at("run_key").get<std::string>();
      EXPECT_EQ(out.count(key), 0u) << "run recorded twice: " << key;
      out[key] = r;
    }
    return out;
  }

  fs::path dir_, results_;
};

TEST_F(RunnerResume, KilledMidSweepFinishesWithoutRedoingRecordedRuns) {
  const fs::path spec = write_spec(300000);
  const fs::path jsonl = results_ / "runs.jsonl";
  const pid_t pid = start(spec, dir_ / "err1", "2");
  // Kill once a few runs are recorded, well before the 12th.
  const auto deadline = std::chrono::steady_clock::now() + std::chrono::seconds(120);
  while (!(fs::exists(jsonl) && newlines(jsonl) >= 3) &&
         std::chrono::steady_clock::now() < deadline)
    std::this_thread::sleep_for(std::chrono::milliseconds(5));
  ASSERT_EQ(::kill(pid, SIGKILL), 0);
  int st = 0;
  ::waitpid(pid, &st, 0);
  ASSERT_TRUE(WIFSIGNALED(st)) << "the sweep ended before the kill:\n" << slurp(dir_ / "err1");

  // What the killed sweep had recorded (complete lines only).
  std::map<std::string, double> before;
  for (const auto& l : lines_of(slurp(jsonl))) {
    const Json r = Json::parse(l, nullptr, false);
    if (!r.is_discarded())
      before[r.at("run_key").get<std::string>()] = r.at("wall_s").get<double>();
  }
  ASSERT_GE(before.size(), 3u);
  ASSERT_LT(before.size(), 12u) << "the sweep finished before the kill: nothing left to resume";

  ASSERT_EQ(wait_exit(start(spec, dir_ / "err2", "2")), 0) << slurp(dir_ / "err2");
  const std::string err2 = slurp(dir_ / "err2");
  EXPECT_NE(err2.find(std::to_string(before.size()) + " of 12 runs already recorded"),
            std::string::npos)
      << err2;

  const auto after = records_by_key(jsonl);
  EXPECT_EQ(after.size(), 12u);
  std::set<uint64_t> indices;
  for (const auto& [key, r] : after) {
    EXPECT_EQ(r.at("status"), "ok");
    indices.insert(r.at("run_index").get<uint64_t>());
    // What the run cost: its thread's CPU time, at most the elapsed time (a sim run is one thread).
    const double cpu = r.at("cpu_s").get<double>(), wall = r.at("wall_s").get<double>();
    EXPECT_GT(cpu, 0.0);
    EXPECT_LE(cpu, wall + 0.01);
  }
  EXPECT_EQ(indices.size(), 12u);
  // A run redone would carry a new wall-clock time.
  for (const auto& [key, wall] : before) {
    ASSERT_EQ(after.count(key), 1u);
    EXPECT_EQ(after.at(key).at("wall_s").get<double>(), wall) << "run " << key << " was redone";
  }
}

TEST_F(RunnerResume, TornLastLineIsDroppedWithANote) {
  const fs::path spec = write_spec(20000);
  const fs::path jsonl = results_ / "runs.jsonl";
  ASSERT_EQ(wait_exit(start(spec, dir_ / "err1", "2")), 0) << slurp(dir_ / "err1");
  // Cut the file inside its last record, as a kill during a write would.
  std::string text = slurp(jsonl);
  const size_t last = text.rfind('\n', text.size() - 2) + 1;
  const std::string torn = text.substr(0, last + (text.size() - last) / 2);
  std::ofstream(jsonl, std::ios::binary | std::ios::trunc) << torn;

  ASSERT_EQ(wait_exit(start(spec, dir_ / "err2", "1")), 0) << slurp(dir_ / "err2");
  const std::string err2 = slurp(dir_ / "err2");
  EXPECT_NE(err2.find("torn last line"), std::string::npos) << err2;
  EXPECT_NE(err2.find("11 of 12 runs already recorded; 1 to run"), std::string::npos) << err2;
  EXPECT_EQ(records_by_key(jsonl).size(), 12u);
}

TEST_F(RunnerResume, FreshRedoesEveryRun) {
  const fs::path spec = write_spec(20000);
  const fs::path jsonl = results_ / "runs.jsonl";
  ASSERT_EQ(wait_exit(start(spec, dir_ / "err1", "2")), 0) << slurp(dir_ / "err1");
  const auto first = records_by_key(jsonl);
  const std::string cmd = std::string("'") + VTMM_BINARY + "' run '" + spec.string() + "' --out '" +
                          results_.string() + "' --fresh >/dev/null 2>'" +
                          (dir_ / "err2").string() + "'";
  ASSERT_EQ(std::system(cmd.c_str()), 0) << slurp(dir_ / "err2");
  EXPECT_EQ(slurp(dir_ / "err2").find("already recorded"), std::string::npos);
  const auto second = records_by_key(jsonl);
  ASSERT_EQ(second.size(), 12u);
  size_t same_wall = 0;
  for (const auto& [key, r] : second)
    same_wall += r.at("wall_s") == first.at(key).at("wall_s") ? 1 : 0;
  EXPECT_LT(same_wall, 12u) << "--fresh reused the old records";
}

// A run that throws is recorded as failed with its error; the other runs go on;
// the exit status and a line on stderr say how many failed; a restart retries it.
TEST_F(RunnerResume, FailedRunIsRecordedAndTheSweepGoesOn) {
  // The 32 MiB workload does not fit the 16 MiB VM: that run fails when it starts.
  const fs::path spec = dir_ / "fail.json";
  std::ofstream(spec)
      << R"({"name": "fail", "run": {"vm": {"memory": "16MiB"}, "policy": "dram-only"},
      "sweep": {"workload": [{"impl": "gups", "footprint": "32MiB", "updates": 1000, "warmup_updates": 0},
                             {"impl": "gups", "footprint": "4MiB", "updates": 1000, "warmup_updates": 0}]}})";
  const fs::path jsonl = results_ / "runs.jsonl";
  ASSERT_EQ(wait_exit(start(spec, dir_ / "err1", "1")), 1) << slurp(dir_ / "err1");
  EXPECT_NE(slurp(dir_ / "err1").find("1 of 2 runs failed"), std::string::npos)
      << slurp(dir_ / "err1");
  const auto recs = records_by_key(jsonl);
  ASSERT_EQ(recs.size(), 2u);
  size_t failed = 0;
  for (const auto& [key, r] : recs) {
    if (r.at("status") == "failed") {
      ++failed;
      EXPECT_NE(r.at("error").get<std::string>().find("memory"), std::string::npos) << r.dump();
      EXPECT_TRUE(r.at("slowdown").is_null());
    } else {
      EXPECT_EQ(r.at("status"), "ok");
      EXPECT_EQ(r.at("slowdown"), 1.0);
    }
  }
  EXPECT_EQ(failed, 1u);
  ASSERT_EQ(wait_exit(start(spec, dir_ / "err2", "1")), 1);
  EXPECT_NE(slurp(dir_ / "err2").find("1 of 2 runs already recorded; 1 to run"), std::string::npos)
      << slurp(dir_ / "err2");
  EXPECT_EQ(records_by_key(jsonl).size(), 2u);
}

}  // namespace runner_resume_test
