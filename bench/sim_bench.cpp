// Google Benchmark cases for the simulator's hot path. Names say which level
// of the model runs: /bare is the workload generator alone (the limit),
// /full_model adds the TLBs, page walks, EPT/PML, LLC and tier timing.
// items_per_second counts simulated accesses. Instructions per access:
//   valgrind --tool=callgrind vtmm_bench --benchmark_filter=BM_Gups/full_model
// and divide the dump's total by the last run's "accesses" counter
// (bench::count_from_here()).
#include <benchmark/benchmark.h>

#include "bench/bench_support.hpp"

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
  state.counters["sim_bytes_per_page"] = static_cast<double>(vm.bytes_per_page());
  state.counters["accesses"] = static_cast<double>(n);
}
BENCHMARK(BM_Gups_full)->Name("BM_Gups/full_model")->Arg(0)->ArgName("pml");
BENCHMARK(BM_Gups_full)->Name("BM_Gups/full_model")->Arg(1)->ArgName("pml");

}  // namespace
}  // namespace vtmm
