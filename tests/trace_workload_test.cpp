// The `trace` workload: replay is deterministic per seed, every access lands
// in the pages it maps (first-touch order, densely), each window's replayed
// reads and writes per page equal the trace's, phases follow the markers, and
// every registered policy runs on it unchanged.
#include <gtest/gtest.h>

#include <map>
#include <unordered_map>

#include "tests/trace_test_support.hpp"
#include "vtmm/core/error.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/simulation.hpp"

namespace trace_workload_test {

using namespace vtmm;
namespace fs = std::filesystem;

struct Access {
  uint64_t va;
  uint8_t kind;
  Phase phase;
  bool operator==(const Access&) const = default;
};

std::vector<Access> replay(const Json& spec, uint64_t seed) {
  auto w = WorkloadRegistry::instance().make(spec, "workload", WorkloadEnv{seed, 1});
  std::vector<Access> out;
  Batch b;
  bool more = true;
  while (more) {
    b.n = 0;
    more = w->next(0, b);
    EXPECT_LE(b.n, Batch::kCap);
    EXPECT_GE(b.compute_ns, 0.0f);
    for (uint32_t i = 0; i < b.n; ++i) out.push_back({b.va[i], b.kind[i], b.phase});
  }
  EXPECT_NO_THROW(w->verify());
  return out;
}

class TraceWorkload : public ::testing::Test {
 protected:
  void SetUp() override {
    dir_ = test::scratch_dir("trace_wl");
    ws_ = test::synthetic_windows(10, 120, 21);
    path_ = (dir_ / "t.vtrace").string();
    test::write_trace(path_, ws_);
  }
  void TearDown() override { fs::remove_all(dir_); }
  Json spec() const { return Json{{"impl", "trace"}, {"trace", path_}}; }
  fs::path dir_;
  std::vector<trace::Window> ws_;
  std::string path_;
};

TEST_F(TraceWorkload, ReplayIsDeterministicPerSeed) {
  const auto a = replay(spec(), 4), b = replay(spec(), 4), c = replay(spec(), 5);
  EXPECT_EQ(a, b);
  EXPECT_NE(a, c);
  EXPECT_EQ(a.size(), c.size());
}

TEST_F(TraceWorkload, AccessesLandInMappedPagesAndMatchEachWindow) {
  const auto acc = replay(spec(), 7);
  auto w = WorkloadRegistry::instance().make(spec(), "workload", WorkloadEnv{7, 1});
  const uint64_t pages = test::distinct_pages(ws_);
  EXPECT_EQ(w->footprint_bytes(), ((pages * kPageSize + kHugeSize - 1) / kHugeSize) * kHugeSize);
  // Expected mapping: dense ids in first-touch order (window, then page).
  std::unordered_map<uint64_t, uint64_t> dense;
  size_t at = 0;
  for (const auto& win : ws_) {
    std::map<uint64_t, std::pair<uint64_t, uint64_t>> want, got;  // dense page -> (reads, writes)
    uint64_t issued = 0;
    for (const auto& p : win.pages) {
      const uint64_t d = dense.try_emplace(p.page, dense.size()).first->second;
      want[d] = {p.reads, p.writes};
      issued += std::max(p.reads, p.writes);
    }
    ASSERT_LE(at + issued, acc.size());
    for (size_t i = at; i < at + issued; ++i) {
      const uint64_t off = acc[i].va - VaLayout::kBase;
      ASSERT_GE(acc[i].va, VaLayout::kBase);
      ASSERT_LT(off / kPageSize, pages) << "access outside the mapped pages";
      auto& g = got[off / kPageSize];
      g.first += (acc[i].kind & kRead) ? 1 : 0;
      g.second += (acc[i].kind & kWrite) ? 1 : 0;
      const Phase ph = win.index >= 3   ? Phase::Measured
                       : win.index >= 1 ? Phase::Warmup
                                        : Phase::Setup;
      ASSERT_EQ(acc[i].phase, ph) << "window " << win.index;
    }
    EXPECT_EQ(got, want) << "window " << win.index;
    at += issued;
  }
  EXPECT_EQ(at, acc.size());
}

TEST_F(TraceWorkload, LineOffsetsVaryInsidePages) {
  const auto acc = replay(spec(), 1);
  std::map<uint64_t, int> lines;
  for (const auto& a : acc) {
    EXPECT_EQ(a.va % kLineSize, 0u);
    lines[(a.va % kPageSize) / kLineSize]++;
  }
  EXPECT_EQ(lines.size(), kLinesPerPage);
}

TEST_F(TraceWorkload, PhaseMarkersAreConfigurable) {
  // measure_from the "warmup" marker: windows 1.. measured, window 0 setup.
  Json s = spec();
  s["measure_from"] = "warmup";
  const auto acc = replay(s, 1);
  uint64_t first = 0;
  for (const auto& p : ws_[0].pages) first += std::max(p.reads, p.writes);
  for (size_t i = 0; i < acc.size(); ++i)
    ASSERT_EQ(acc[i].phase, i < first ? Phase::Setup : Phase::Measured) << i;
  s["measure_from"] = "nonexistent";
  EXPECT_THROW(WorkloadRegistry::instance().make(s, "workload", WorkloadEnv{}), SpecError);
  EXPECT_THROW(
      WorkloadRegistry::instance().make(
          Json{{"impl", "trace"}, {"trace", (dir_ / "nope").string()}}, "workload", WorkloadEnv{}),
      SpecError);
}

TEST_F(TraceWorkload, ComputeTimeComesFromInstructions) {
  Json s = spec();
  s["ns_per_instruction"] = 0.5;
  auto w = WorkloadRegistry::instance().make(s, "workload", WorkloadEnv{1, 1});
  Batch b;
  b.n = 0;
  w->next(0, b);
  uint64_t issued = 0;
  for (const auto& p : ws_[0].pages) issued += std::max(p.reads, p.writes);
  EXPECT_FLOAT_EQ(b.compute_ns, static_cast<float>(static_cast<double>(ws_[0].instructions) * 0.5 /
                                                   static_cast<double>(issued)));
}

TEST_F(TraceWorkload, EveryPolicyRunsOnItUnchanged) {
  uint64_t measured = 0;
  for (size_t w = 3; w < ws_.size(); ++w)
    for (const auto& p : ws_[w].pages) measured += std::max(p.reads, p.writes);
  for (const auto& e : PolicyRegistry::instance().entries()) {
    SCOPED_TRACE(e.name);
    const Json run{{"workload", spec()},
                   {"policy", {{"impl", e.name}}},
                   {"ratio", "1:4"},
                   {"vm", {{"vcpus", 2}}}};
    Json rec;
    ASSERT_NO_THROW(
        rec = sim::simulate(RunSpec::from_json(run, "test")));  // verify() checks the totals
    EXPECT_EQ(rec.at("ops").get<uint64_t>(), measured);
    EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  }
}

TEST(TraceWorkloadShipped, DefaultIsTheShippedTrace) {
  auto w = WorkloadRegistry::instance().make(Json{{"impl", "trace"}}, "workload", WorkloadEnv{});
  EXPECT_GT(w->footprint_bytes(), 0u);
}

}  // namespace trace_workload_test
