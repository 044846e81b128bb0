// Replay speed of the `trace` workload on the shipped trace (traces/), with the
// full model (TLBs, walks, EPT, LLC, tier timing) and the generator alone.
// items_per_second counts simulated accesses. The target: at least
// 20 M accesses/s with the full model on the 2-core CI machine.
#include <benchmark/benchmark.h>

#include <memory>

#include "bench/bench_support.hpp"

namespace vtmm {
namespace {

Json trace_spec() { return Json{{"impl", "trace"}, {"trace", "traces/redis.vtrace"}}; }

struct Rig {
  std::unique_ptr<Workload> wl =
      WorkloadRegistry::instance().make(trace_spec(), "workload", WorkloadEnv{1, 1});
  std::unique_ptr<bench::SimVm> vm;
  explicit Rig(bool model) {
    if (model) vm = std::make_unique<bench::SimVm>(*wl);
  }
};

void BM_TraceReplay(benchmark::State& state) {
  const bool model = state.range(0) != 0;
  auto rig = std::make_unique<Rig>(model);
  Batch b;
  uint64_t n = 0;
  for (auto _ : state) {
    b.n = 0;
    if (!rig->wl->next(0, b)) {
      // The trace ended: start it again (not timed; rare at this trace's size).
      state.PauseTiming();
      rig = std::make_unique<Rig>(model);
      state.ResumeTiming();
    }
    if (model && b.n > 0) rig->vm->run(b);
    n += b.n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
}
BENCHMARK(BM_TraceReplay)->Name("BM_TraceReplay/bare")->Arg(0)->ArgName("model");
BENCHMARK(BM_TraceReplay)->Name("BM_TraceReplay/full_model")->Arg(1)->ArgName("model");

}  // namespace
}  // namespace vtmm
