// Every registered workload at its quick default, model off and on:
//   BM_Workload/<name>/bare        the generator alone (the algorithm and its batches)
//   BM_Workload/<name>/full_model  the same batches through the simulated host (1:4, first-touch)
// items_per_second counts accesses of the measured phase. Each case runs once
// (its setup, which builds the data, is not timed) over up to 20,000 batches.
// Registered from main() because registries fill during static initialisation.
#include <benchmark/benchmark.h>

#include "bench/bench_support.hpp"

namespace vtmm {
namespace {

void run_workload(benchmark::State& state, const std::string& name, bool model) {
  auto wl = WorkloadRegistry::instance().make(Json{{"impl", name}}, "workload", WorkloadEnv{1, 1});
  bench::SimVm rig(*wl);
  // Setup and warm-up, untimed (always through the model, so the data and
  // page tables exist when the timed part runs with it).
  Batch b;
  bool more = true;
  for (;;) {
    b.n = 0;
    more = wl->next(0, b);
    if (b.phase == Phase::Measured || !more) break;
    rig.run(b);
  }
  uint64_t n = 0;
  for (auto _ : state) {
    for (int i = 0; i < 20000 && (more || b.n > 0); ++i) {
      if (model) rig.run(b);
      benchmark::DoNotOptimize(b.va[0]);
      n += b.n;
      b.n = 0;
      if (more) more = wl->next(0, b);
    }
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}

}  // namespace
}  // namespace vtmm

int main(int argc, char** argv) {
  for (const auto& e : vtmm::WorkloadRegistry::instance().entries()) {
    for (bool model : {false, true}) {
      const std::string name = e.name;
      benchmark::RegisterBenchmark(
          ("BM_Workload/" + name + (model ? "/full_model" : "/bare")).c_str(),
          [name, model](benchmark::State& s) { vtmm::run_workload(s, name, model); })
          ->Iterations(1)
          ->Unit(benchmark::kMillisecond);
    }
  }
  benchmark::Initialize(&argc, argv);
  if (benchmark::ReportUnrecognizedArguments(argc, argv)) return 1;
  benchmark::RunSpecifiedBenchmarks();
  benchmark::Shutdown();
  return 0;
}
