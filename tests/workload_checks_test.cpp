// Every workload at a tiny size, one table row each: it runs through the
// simulator on one and on two vCPUs and passes its own check (verify(): the
// real algorithm's result on the real data), it reports its operations under
// its name, and a result damaged through TestCorruptible fails that check.
// A registered workload without a row fails WorkloadChecks.EveryWorkloadHasARow,
// so a new workload comes with its row; parameters a workload refuses are
// rows of WorkloadChecksTable.RefusesWhatItCannotRun. What only one workload
// does (Redis on one vCPU, memcached's evictions) is pinned in its own
// tests/workload_<name>_test.cpp.
#include <gtest/gtest.h>

#include <algorithm>
#include <cstdint>
#include <optional>
#include <set>
#include <string>

#include "tests/workload_test_support.hpp"

namespace vtmm::test {
namespace {

constexpr uint64_t kSeed = 3;

struct Row {
  const char* name;  // for gtest's case names
  Json spec;
  const char* op_name;
  std::optional<uint64_t> ops;  // exact measured operations, where the spec fixes them
};

// One row per registered workload, in name order, in two parts that fit a screen.
std::vector<Row> rows_a_to_mcf() {
  return {
      {"gups",
       {{"impl", "gups"}, {"footprint", "16MiB"}, {"updates", 20000}, {"warmup_updates", 5000}},
       "update",
       20000},
      {"graph500_bfs",
       {{"impl", "graph500-bfs"}, {"scale", 10}, {"roots", 3}},
       "edge",
       std::nullopt},
      {"graph500_sssp",
       {{"impl", "graph500-sssp"}, {"scale", 10}, {"roots", 3}},
       "edge",
       std::nullopt},
      {"liblinear",
       {{"impl", "liblinear"},
        {"rows", 2000},
        {"features", 5000},
        {"nnz_per_row", 10},
        {"epochs", 3}},
       "nonzero",
       3u * 2000 * 10},
      {"mcf",
       {{"impl", "mcf"},
        {"nodes", 2000},
        {"pivots", 3000},
        {"warmup_pivots", 200},
        {"refresh_every", 100}},
       "arc",
       std::nullopt},
  };
}

// The rows from memcached on.
std::vector<Row> rows_memcached_on() {
  return {
      {"memcached",
       {{"impl", "memcached"},
        {"records", 3000},
        {"memory", 64u << 20},
        {"bump_every", 50},
        {"warmup_requests", 500},
        {"requests", 3000},
        {"get_fraction", 0.7}},
       "request",
       3000},
      {"pagerank",
       {{"impl", "pagerank"}, {"scale", 10}, {"iterations", 5}, {"tolerance", 0}},
       "edge",
       std::nullopt},
      {"random_read",
       {{"impl", "random-read"},
        {"footprint", "8MiB"},
        {"accesses", 20000},
        {"warmup_accesses", 5000}},
       "read",
       20000},
      {"random_write",
       {{"impl", "random-write"},
        {"footprint", "8MiB"},
        {"accesses", 20000},
        {"warmup_accesses", 5000}},
       "write",
       20000},
      {"redis_ycsb",
       {{"impl", "redis-ycsb"},
        {"records", 3000},
        {"value_bytes", 512},
        {"warmup_requests", 500},
        {"requests", 3000}},
       "request",
       3000},
      {"seq_dynamic_hot",
       {{"impl", "seq-dynamic-hot"},
        {"footprint", "4MiB"},
        {"hot_bytes", "256KiB"},
        {"accesses_per_ms", 1000},
        {"move_every_ms", 5},
        {"write_fraction", 0.25},
        {"warmup_accesses", 20000},
        {"accesses", 60000}},
       "line",
       std::nullopt},
      {"sparse_hot",
       {{"impl", "sparse-hot"},
        {"footprint", "32MiB"},
        {"dense_regions", 2},
        {"sparse_regions", 4},
        {"updates", 20000},
        {"warmup_updates", 5000}},
       "update",
       20000},
      {"xsbench",
       {{"impl", "xsbench"},
        {"n_isotopes", 40},
        {"n_gridpoints", 200},
        {"warmup_lookups", 200},
        {"lookups", 3000}},
       "lookup",
       3000},
  };
}

std::vector<Row> rows() {
  std::vector<Row> r = rows_a_to_mcf();
  for (Row& x : rows_memcached_on()) r.push_back(std::move(x));
  return r;
}

class WorkloadChecks : public ::testing::TestWithParam<Row> {};

void expect_ops(const Json& rec, const Row& row) {
  if (row.ops) {
    EXPECT_EQ(rec.at("ops").get<uint64_t>(), *row.ops);
  } else {
    EXPECT_GT(rec.at("ops").get<uint64_t>(), 0u);
  }
}

TEST_P(WorkloadChecks, PassesItsCheckInTheSimulator) {
  const Row& row = GetParam();
  const Json rec = simulate_workload(row.spec, 1, kSeed);
  expect_ops(rec, row);
  EXPECT_GT(rec.at("sim_time_s").get<double>(), 0.0);
  EXPECT_EQ(rec.at("op_name").get<std::string>(), row.op_name);
}

TEST_P(WorkloadChecks, PassesItsCheckOnTwoVcpus) {
  expect_ops(simulate_workload(GetParam().spec, 2, kSeed), GetParam());
}

TEST_P(WorkloadChecks, CatchesACorruptedResult) {
  expect_corruption_caught(GetParam().spec, kSeed, GetParam().ops);
}

INSTANTIATE_TEST_SUITE_P(Each, WorkloadChecks, ::testing::ValuesIn(rows()),
                         [](const ::testing::TestParamInfo<Row>& p) {
                           return std::string(p.param.name);
                         });

// A parameter a workload refuses although its shape is right: the row's
// spec with one field changed must throw SpecError before anything runs.
struct Refusal {
  const char* row;  // the Row whose spec is changed
  const char* field;
  Json value;
  const char* why;
};

TEST(WorkloadChecksTable, RefusesWhatItCannotRun) {
  const Refusal refusals[] = {
      {"liblinear", "nnz_per_row", 4000, "nnz_per_row must be at most features / 2"},
      {"sparse_hot", "sparse_regions", 15, "2 dense + 15 sparse > 16 regions in 32 MiB"},
      {"sparse_hot", "footprint", "3MiB", "not a multiple of 2 MiB"},
      {"xsbench", "n_isotopes", 10, "material 0 alone holds 34 isotopes"},
  };
  const std::vector<Row> all = rows();
  for (const Refusal& x : refusals) {
    const auto row = std::find_if(all.begin(), all.end(),
                                  [&](const Row& r) { return std::string(r.name) == x.row; });
    ASSERT_NE(row, all.end()) << x.row;
    Json w = row->spec;
    w[x.field] = x.value;
    EXPECT_THROW(simulate_workload(w, 1, kSeed), SpecError)
        << x.row << "." << x.field << ": " << x.why;
  }
}

// A replayed trace is the one workload without a row: its data is a file
// (tests/trace_*_test.cpp check it against its source instead).
TEST(WorkloadChecksTable, EveryWorkloadHasARow) {
  std::set<std::string> listed;
  for (const Row& r : rows()) listed.insert(r.spec.at("impl").get<std::string>());
  for (const auto& e : WorkloadRegistry::instance().entries()) {
    if (e.name != "trace") {
      EXPECT_TRUE(listed.count(e.name)) << e.name << " has no row in workload_checks_test.cpp";
    }
  }
}

}  // namespace
}  // namespace vtmm::test
