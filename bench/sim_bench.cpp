// Google Benchmark cases for the simulator's hot path. Names say which level
// of the model runs: /bare is the workload generator alone (the limit),
// /full_model adds the TLBs, page walks, EPT/PML, LLC and tier timing.
// items_per_second counts simulated accesses. Instructions per access:
//   valgrind --tool=callgrind vtmm_bench --benchmark_filter=BM_Gups/full_model
// and divide the dump's total by the last run's "accesses" counter
// (bench::count_from_here()).
#include <benchmark/benchmark.h>

#include "bench/bench_support.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm {
namespace {

Json gups_spec() {
  // Updates far beyond what a benchmark run consumes: the stream never ends.
  return Json{{"impl", "gups"},
              {"footprint", "1GiB"},
              {"warmup_updates", 0},
              {"updates", 1'000'000'000'000}};
}

// Skips the setup phase so the timed loop sees only measured-phase batches.
Batch skip_setup(Workload& wl, bench::SimVm* rig) {
  Batch b;
  for (;;) {
    b.n = 0;
    wl.next(0, b);
    if (b.phase != Phase::Setup) return b;
    if (rig != nullptr) rig->run(b);
  }
}

void BM_Gups_bare(benchmark::State& state) {
  auto wl = WorkloadRegistry::instance().make(gups_spec(), "workload", WorkloadEnv{1, 1});
  Batch b = skip_setup(*wl, nullptr);
  uint64_t n = 0;
  for (auto _ : state) {
    b.n = 0;
    wl->next(0, b);
    benchmark::DoNotOptimize(b.va[b.n - 1]);
    n += b.n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_Gups_bare)->Name("BM_Gups/bare");

void BM_Gups_full(benchmark::State& state) {
  auto wl = WorkloadRegistry::instance().make(gups_spec(), "workload", WorkloadEnv{1, 1});
  bench::SimVm rig(*wl, state.range(0) != 0);
  sim::Vm& vm = rig.vm;
  Batch b = skip_setup(*wl, &rig);
  uint64_t n = 0;
  bench::count_from_here();
  for (auto _ : state) {
    b.n = 0;
    wl->next(0, b);
    rig.run(b);
    n += b.n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["sim_bytes_per_page"] = vm.bytes_per_page();
  state.counters["accesses"] = static_cast<double>(n);
}
BENCHMARK(BM_Gups_full)->Name("BM_Gups/full_model")->Arg(0)->ArgName("pml");
BENCHMARK(BM_Gups_full)->Name("BM_Gups/full_model")->Arg(1)->ArgName("pml");

// One whole run (vtmm on 1:4) with `threads` host threads: the loop plus
// helpers that make the workload's batches ahead (BatchPrefetch). Real time,
// since the helpers' work is off the timed thread; compare the threads:1 and
// threads:2 cases of one invocation (the records are identical, only the
// speed differs).
void BM_RunThreads(benchmark::State& state, const char* workload) {
  RunSpec spec = RunSpec::from_json(Json{{"workload", {{"impl", workload}, {"iterations", 4}}},
                                         {"policy", {{"impl", "vtmm"}}},
                                         {"ratio", "1:4"}},
                                    "bench");
  spec.exec.threads = static_cast<uint32_t>(state.range(0));
  uint64_t accesses = 0;
  for (auto _ : state)
    accesses += sim::simulate(spec).at("counters").at("accesses").get<uint64_t>();
  state.SetItemsProcessed(static_cast<int64_t>(accesses));
}
BENCHMARK_CAPTURE(BM_RunThreads, pagerank, "pagerank")
    ->ArgName("threads")
    ->Arg(1)
    ->Arg(2)
    ->UseRealTime()
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vtmm
