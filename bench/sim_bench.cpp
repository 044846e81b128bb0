// Google Benchmark cases for the simulator's hot path. Names say which level
// of the model runs: /bare is the workload generator alone (the limit),
// /full_model adds the TLBs, page walks, EPT/PML, LLC and tier timing.
// items_per_second counts simulated accesses.
#include <benchmark/benchmark.h>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"
#include "vtmm/sim/simulation.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm {
namespace {

class FastFirst final : public Policy {
 public:
  Tier place(Gpa, const Mechanisms& m) override {
    return m.used_pages(Tier::Fast) < m.capacity_pages(Tier::Fast) ? Tier::Fast : Tier::Slow;
  }
};

Json gups_spec() {
  // Updates far beyond what a benchmark run consumes: the stream never ends.
  return Json{{"impl", "gups"}, {"footprint", "1GiB"}, {"warmup_updates", 0}, {"updates", 1'000'000'000'000}};
}

// Skips the setup phase so the timed loop sees only measured-phase batches.
Batch skip_setup(Workload& wl, sim::Vm* vm) {
  Batch b;
  for (;;) {
    b.n = 0;
    wl.next(0, b);
    if (b.phase != Phase::Setup) return b;
    if (vm != nullptr) vm->run_batch(0, b);
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
  sim::Host host(sim::HostProfile::load("optane"));
  sim::SimMechanisms mech;
  FastFirst pol;
  sim::VmConfig cfg;
  cfg.memory_pages = sim::default_memory_pages(wl->footprint_bytes());
  cfg.fast_pages = cfg.memory_pages / 5;  // 1:4
  cfg.slow_pages = cfg.memory_pages - cfg.fast_pages;
  cfg.va_bytes = wl->footprint_bytes();
  cfg.pml = state.range(0) != 0;
  sim::Vm vm(host, cfg, pol, mech);
  host.vms.push_back(&vm);
  mech.bind(&vm);
  Batch b = skip_setup(*wl, &vm);
  uint64_t n = 0;
  for (auto _ : state) {
    b.n = 0;
    wl->next(0, b);
    vm.run_batch(0, b);
    n += b.n;
  }
  state.SetItemsProcessed(static_cast<int64_t>(n));
  state.counters["sim_bytes_per_page"] = static_cast<double>(vm.bytes_per_page());
}
BENCHMARK(BM_Gups_full)->Name("BM_Gups/full_model")->Arg(0)->ArgName("pml");
BENCHMARK(BM_Gups_full)->Name("BM_Gups/full_model")->Arg(1)->ArgName("pml");

}  // namespace
}  // namespace vtmm
