// The reproduction report: for every plot kind a spec can name, real (tiny)
// runs -> plots/plot_experiment.py -> plots/report.py must give a REPORT.md
// whose every referenced figure exists, one figure per experiment.
#include <gtest/gtest.h>
#include <sys/wait.h>
#include <unistd.h>

#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <regex>
#include <set>
#include <sstream>
#include <string>
#include <vector>

namespace report_test {

namespace fs = std::filesystem;

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

std::string slurp(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

int sh(const std::string& cmd) {
  const int status = std::system(cmd.c_str());
  return WIFEXITED(status) ? WEXITSTATUS(status) : -1;
}

// Small enough to run in well under a second each; the figures are what is tested.
const char* kGups =
    R"({"impl": "gups", "footprint": "16MiB", "updates": 60000, "warmup_updates": 20000})";

struct Kind {
  std::string name, body;
};

std::vector<Kind> kinds() {
  const std::string g = kGups;
  return {
      {"k_slowdown_bars",
       R"("run": {"workload": )" + g +
           R"(, "seed": 1}, "sweep": {"policy": ["dram-only", "first-touch"], "ratio": ["1:1", "1:4"]}, "plot": {"kind": "slowdown_bars"})"},
      {"k_metric_bars",
       R"("run": {"workload": )" + g +
           R"(, "ratio": "1:4", "seed": 1}, "sweep": {"policy": ["dram-only", "vtmm"]}, "plot": {"kind": "metric_bars", "metrics": ["slowdown", "policy_metrics.hotset_recall"], "log": [false, false], "ylabels": {"slowdown": "slowdown, x"}})"},
      {"k_tier_sensitivity",
       R"("run": {"workload": )" + g +
           R"(, "seed": 1}, "sweep": {"policy": ["dram-only", "slow-only"]}, "plot": {"kind": "tier_sensitivity", "policy": "slow-only"})"},
      {"k_normalised_bars",
       R"("run": {"ratio": "1:4", "seed": 1}, "sweep": {"workload": [)" + g +
           R"(, {"impl": "random-read", "footprint": "16MiB", "accesses": 60000, "warmup_accesses": 20000}], "policy": ["first-touch", "dram-only"]}, "baseline": "first-touch", "plot": {"kind": "normalised_bars", "reference": "first-touch", "metric": "speedup", "claim_line": 2.0})"},
      {"k_ratio_lines",
       R"("run": {"workload": )" + g +
           R"(, "seed": 1}, "sweep": {"policy": ["dram-only", "slow-only", "first-touch"], "ratio": ["1:1", "1:4"]}, "plot": {"kind": "ratio_lines"})"},
      {"k_rss_lines",
       R"("run": {"ratio": "1:1", "seed": 1}, "sweep": {"workload": [{"impl": "random-read", "footprint": "8MiB", "accesses": 60000, "warmup_accesses": 20000}, {"impl": "random-read", "footprint": "16MiB", "accesses": 60000, "warmup_accesses": 20000}], "policy": ["dram-only", "slow-only"]}, "plot": {"kind": "rss_lines", "metrics": ["slowdown", "counters.migration_traps"], "log": [false, true]})"},
      {"k_tracking_accuracy",
       R"("run": {"workload": )" + g +
           R"(, "ratio": "1:4", "seed": 1}, "sweep": {"policy": ["dram-only", {"impl": "vtmm", "window_ms": 200, "label": "vtmm 200ms"}, {"impl": "vtmm", "window_ms": 200, "mlq": false, "label": "vtmm 200ms no-MLQ"}]}, "plot": {"kind": "tracking_accuracy"})"},
  };
}

TEST(Report, EveryPlotKindGivesAFigureThatTheReportReferences) {
  const fs::path dir = fs::temp_directory_path() / ("vtmm_report_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "experiments");
  fs::create_directories(dir / "results");
  const std::string root = fs::current_path().string();  // ctest runs in the source root
  for (const Kind& k : kinds()) {
    const fs::path spec = dir / "experiments" / (k.name + ".json");
    std::ofstream(spec) << R"({"name": ")" << k.name
                        << R"(", "title": "t", "paper_claim": "c", "scale": "tiny", )" << k.body
                        << "}";
    const fs::path out = dir / "results" / k.name;
    ASSERT_EQ(sh(quote(VTMM_BINARY) + " run " + quote(spec.string()) + " -j 2 -o " +
                 quote(out.string()) + " >/dev/null 2>" + quote((dir / "err").string())),
              0)
        << k.name << ": " << slurp(dir / "err");
    ASSERT_EQ(sh("/usr/bin/python3 " + quote(root + "/plots/plot_experiment.py") + " " +
                 quote(out.string()) + " " + quote(spec.string()) + " >/dev/null 2>" +
                 quote((dir / "err").string())),
              0)
        << k.name << ": " << slurp(dir / "err");
  }
  ASSERT_EQ(sh("/usr/bin/python3 " + quote(root + "/plots/report.py") + " " +
               quote((dir / "results").string()) + " " + quote((dir / "experiments").string())),
            0);
  const std::string report = slurp(dir / "results" / "REPORT.md");
  ASSERT_FALSE(report.empty());

  // Every figure a Markdown image or link points at exists, and each experiment has its PNG.
  const std::regex link(R"(\]\(([^)]+\.(png|svg))\))");
  std::set<std::string> pngs;
  for (auto it = std::sregex_iterator(report.begin(), report.end(), link);
       it != std::sregex_iterator(); ++it) {
    const std::string target = (*it)[1];
    EXPECT_TRUE(fs::exists(dir / "results" / target))
        << "REPORT.md references a missing figure: " << target;
    if ((*it)[2] == "png") pngs.insert(target);
  }
  for (const Kind& k : kinds()) EXPECT_TRUE(pngs.count(k.name + "/" + k.name + ".png")) << k.name;
  fs::remove_all(dir);
}

// plots/run_times.py: per experiment, ok runs and the sums of wall_s and
// cpu_s as the runner reads runs.jsonl (a later line for a run wins, torn
// lines and failed runs do not count, records without cpu_s are counted apart).
TEST(Report, RunTimesSumsTheRecordsAsTheRunnerReadsThem) {
  const fs::path dir = fs::temp_directory_path() / ("vtmm_run_times_" + std::to_string(::getpid()));
  fs::remove_all(dir);
  fs::create_directories(dir / "a");
  fs::create_directories(dir / "b");
  std::ofstream(dir / "a" / "runs.jsonl")
      << R"({"run_key": "k1", "status": "ok", "wall_s": 10.0, "cpu_s": 4.0})"
         "\n"
      << R"({"run_key": "k2", "status": "ok", "wall_s": 5.0})"
         "\n"
      << R"({"run_key": "k3", "status": "failed", "wall_s": 100.0, "cpu_s": 100.0})"
         "\n"
      << R"({"run_key": "k1", "status": "ok", "wall_s": 3.0, "cpu_s": 2.5})"
         "\n"
      << R"({"run_key": "k4", "status": "ok", "wall_)";  // torn by a kill
  std::ofstream(dir / "b" / "runs.jsonl")
      << R"({"run_key": "x", "status": "ok", "wall_s": 1.0, "cpu_s": 1.0})"
         "\n";
  const std::string root = fs::current_path().string();
  ASSERT_EQ(sh("/usr/bin/python3 " + quote(root + "/plots/run_times.py") + " " +
               quote(dir.string()) + " >" + quote((dir / "out").string()) + " 2>/dev/null"),
            0);
  const std::string out = slurp(dir / "out");
  EXPECT_NE(out.find("| `a` | 2 | 8 s | 2 s (1) |"), std::string::npos) << out;
  EXPECT_NE(out.find("| `b` | 1 | 1 s | 1 s (1) |"), std::string::npos) << out;
  EXPECT_NE(out.find("| all | 3 | 9 s | 4 s (2) |"), std::string::npos) << out;
  EXPECT_EQ(sh("/usr/bin/python3 " + quote(root + "/plots/run_times.py") + " " +
               quote((dir / "none").string()) + " 2>/dev/null"),
            2);
  fs::remove_all(dir);
}

}  // namespace report_test
