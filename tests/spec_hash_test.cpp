// The spec hash names what a spec runs (its expanded runs and baseline), not
// its prose or plot block; a resumed sweep reuses a record when its run key
// (the resolved run) matches, whichever spec version wrote it, and redoes
// runs whose configuration changed.
#include <gtest/gtest.h>
#include <unistd.h>

#include <filesystem>
#include <fstream>
#include <string>

#include "vtmm/runner/experiment.hpp"

namespace spec_hash_test {

namespace fs = std::filesystem;
using vtmm::runner::load_experiment;

class SpecHash : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = fs::temp_directory_path() /
           ("vtmm_spec_hash_" + std::to_string(::getpid()) + "_" +
            ::testing::UnitTest::GetInstance()->current_test_info()->name());
    fs::create_directories(dir_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  // A two-run spec; `title`, `updates`, `baseline` and `extra` vary per test.
  std::string spec(const std::string& title, int updates = 20000,
                   const std::string& baseline = "dram-only", const std::string& extra = "") const {
    const fs::path p = dir_ / "h.json";
    std::ofstream(p) << R"({"name": "h", "title": ")" + title + R"(", "scale": "tiny",
      "run": {"workload": {"impl": "gups", "footprint": "8MiB", "updates": )" +
                            std::to_string(updates) +
                            R"(, "warmup_updates": 1000}, "ratio": "1:4", "seed": 3},
      "sweep": {"policy": ["dram-only", "first-touch"]}, "baseline": ")" +
                            baseline + "\"" + extra + "}";
    return p.string();
  }
  fs::path dir_;
};

TEST_F(SpecHash, ProseAndPlotDoNotCount) {
  const std::string h = load_experiment(spec("one title"), false).spec_hash;
  EXPECT_EQ(load_experiment(spec("another title"), false).spec_hash, h);
  EXPECT_EQ(
      load_experiment(
          spec("one title", 20000, "dram-only", R"(, "plot": {"kind": "slowdown_bars"})"), false)
          .spec_hash,
      h);
}

TEST_F(SpecHash, RunsAndBaselineDo) {
  const std::string h = load_experiment(spec("t"), false).spec_hash;
  EXPECT_NE(load_experiment(spec("t", 30000), false).spec_hash, h);
  EXPECT_NE(load_experiment(spec("t", 20000, "first-touch"), false).spec_hash, h);
  EXPECT_NE(
      load_experiment(spec("t", 20000, "dram-only", R"(, "full": {"run": {"seed": 4}})"), true)
          .spec_hash,
      h);
}

// The resume itself: a retitled spec reuses every record.
TEST_F(SpecHash, RetitledSweepResumesWithoutRerunning) {
  vtmm::runner::RunOptions opt;
  opt.out_dir = (dir_ / "out").string();
  const auto first = vtmm::runner::run_experiment(load_experiment(spec("before"), false), opt);
  ASSERT_EQ(first.ran, 2u);
  const auto again = vtmm::runner::run_experiment(load_experiment(spec("after"), false), opt);
  EXPECT_EQ(again.reused, 2u);
  EXPECT_EQ(again.ran, 0u);
  const auto changed =
      vtmm::runner::run_experiment(load_experiment(spec("after", 30000), false), opt);
  EXPECT_EQ(changed.reused, 0u);
  EXPECT_EQ(changed.ran, 2u);
}

// Another spec version with the same runs (here: another baseline) reuses the
// records, stamps them with its own hash and recomputes their slowdowns.
TEST_F(SpecHash, SameRunsUnderAnotherSpecVersionAreReused) {
  vtmm::runner::RunOptions opt;
  opt.out_dir = (dir_ / "out").string();
  ASSERT_EQ(vtmm::runner::run_experiment(load_experiment(spec("t"), false), opt).ran, 2u);
  const auto e = load_experiment(spec("t", 20000, "first-touch"), false);
  const auto again = vtmm::runner::run_experiment(e, opt);
  EXPECT_EQ(again.reused, 2u);
  EXPECT_EQ(again.ran, 0u);
  std::ifstream in(dir_ / "out" / "runs.jsonl");
  size_t n = 0;
  for (std::string line; std::getline(in, line); ++n) {
    const auto r = vtmm::Json::parse(line);
    EXPECT_EQ(r.at("spec_hash"), e.spec_hash);
    if (r.at("policy") == "first-touch") {
      EXPECT_EQ(r.at("slowdown"), 1.0);
    }
  }
  EXPECT_EQ(n, 2u);
}

// The model is part of a sim run's key: the same spec on a host profile whose
// constants changed (here a profile file edited in place) is a new run, so a
// resumed sweep never reuses a record another model computed.
TEST_F(SpecHash, AChangedHostProfileRerunsTheSweep) {
  const fs::path host = dir_ / "host.json";
  auto write_host = [&](int llc_hit_ns) {
    std::ofstream(host) << R"({"name": "h", "base": "optane", "description": "test host",
      "llc_hit_ns": {"value": )" +
                               std::to_string(llc_hit_ns) + R"(, "source": "test"}})";
  };
  const std::string spec_with_host = spec("t");  // h.json, given a host below
  {
    std::ifstream in(spec_with_host);
    auto j = vtmm::Json::parse(in);
    j["run"]["host"] = host.string();
    std::ofstream(spec_with_host) << j.dump();
  }
  vtmm::runner::RunOptions opt;
  opt.out_dir = (dir_ / "out").string();
  write_host(25);
  ASSERT_EQ(vtmm::runner::run_experiment(load_experiment(spec_with_host, false), opt).ran, 2u);
  EXPECT_EQ(vtmm::runner::run_experiment(load_experiment(spec_with_host, false), opt).reused, 2u);
  write_host(30);
  const auto again = vtmm::runner::run_experiment(load_experiment(spec_with_host, false), opt);
  EXPECT_EQ(again.reused, 0u);
  EXPECT_EQ(again.ran, 2u);
}

}  // namespace spec_hash_test
