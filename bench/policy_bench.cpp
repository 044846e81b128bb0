// Google Benchmark cases for what a policy does per window, at VM sizes where
// it matters:
//   BM_VtmmWindow/track/pages:N          PmlGptTracker::window (drain PML, scan
//                                        the logged page-table pages under the
//                                        MLQ, re-arm, flush)
//   BM_VtmmWindow/track+classify/pages:N the window plus Hotness::record, the
//                                        per-page keys and plan_placement (the
//                                        bucket sort and hot-set choice)
//   BM_VtmmWindow/.../aged               the same in an aged guest: its free
//                                        lists hand out GPAs in random order,
//                                        so neighbouring PTEs map scattered pages
//   BM_VtmmWindow/track-sparse/pages:N   a window in which 1 % of the
//                                        page-table pages were walked (logged)
//   BM_VtmmWindow/daemon/...             the policy's own work alone: the
//                                        tracker reads and clears the PTEs
//                                        in place, as a host daemon reads the
//                                        guest companion's walks, without the
//                                        simulated host's model of the scan
//   BM_Classify/pages:N                  Hotness::record + keys + plan_placement alone
//   BM_Migrate/<method>/pages:N          one SimMechanisms::migrate batch of N
//                                        pages slow -> fast and back, its
//                                        completion events included
// items_per_second counts guest pages covered (windows) or pages moved
// (migration). Between windows, untimed, the vCPU touches every 64th page
// (of every table, or of the sparse case's 1 %), so those tables are walked
// and PML-logged; in the dense cases every window scans all of them: the
// tracker's worst case for a VM of that size. The simulated host's own cost
// of the scan (its LLC and bandwidth model of the 64 lines read per table)
// is part of the window.
#include <benchmark/benchmark.h>

#include <algorithm>
#include <bit>
#include <fstream>
#include <memory>

#include "bench/bench_support.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/policy/hotness.hpp"
#include "vtmm/policy/tracker.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"
#include "vtmm/sim/simulation.hpp"
#include "vtmm/sim/vm.hpp"
#include "vtmm/sim/vm_internals.hpp"

namespace vtmm {
namespace {

// Resident bytes of this process (Linux /proc/self/statm), to measure what
// the simulator and the policy keep per guest page.
double resident_bytes() {
  std::ifstream f("/proc/self/statm");
  double size = 0, resident = 0;
  f >> size >> resident;
  return resident * kPageSize;
}

// A VM of `pages` data pages, every one touched once (so the guest page
// tables exist), on the optane host with a 1:4 split.
struct TouchedVm : bench::SimVm {
  explicit TouchedVm(uint64_t pages, bool aged = false)
      : SimVm(config(pages, aged)), data_pages(pages) {
    touch_all();
  }
  static sim::VmConfig config(uint64_t pages, bool aged) {
    sim::VmConfig cfg = SimVm::config_for_pages(pages);
    cfg.shuffle_free_pages = aged;
    return cfg;
  }
  // One access to every `stride`-th page, through the full model; with
  // `table_stride` > 1 only in every table_stride-th 512-page table.
  void touch(uint64_t stride, uint8_t kind, uint64_t table_stride = 1) {
    Batch b;
    b.mlp = 8;
    for (uint64_t p = 0; p < data_pages; p += stride) {
      if ((p / kPtesPerPage) % table_stride != 0) continue;
      b.push(VaLayout::kBase + p * kPageSize, static_cast<AccessKind>(kind));
      if (b.full()) {
        run(b);
        b.n = 0;
      }
    }
    if (b.n > 0) run(b);
  }
  uint64_t data_pages;
};

// The simulated VM's mechanisms with the page-table scan uncharged: what a
// daemon on a real host spends per window is the tracker's and classifier's
// CPU; the simulator adds its model of the scan's memory traffic (the 64
// lines of each table through its LLC and tier bandwidth), which this view
// leaves out so the two can be told apart. On a real host a table is read
// from guest RAM at its GPA; the simulator keeps PTEs by virtual page
// instead, which in an aged guest scatters a GPA-ordered scan. So the view
// reads a copy laid out as guest RAM would hold the tables (by GPA),
// refreshed from the VM after the vCPU ran (untimed); clears go to both.
class DaemonView final : public Mechanisms, public GuestPageTables {
 public:
  explicit DaemonView(bench::SimVm& rig) : rig_(rig) {
    Provided p;
    p.gpt = this;
    p.ept = &rig.mech.ept();
    p.pml = &rig.mech.pml();
    p.tlb = &rig.mech.tlb();
    provide(p);
  }
  // Copies every table's PTEs into the GPA-ordered layout.
  void refresh() {
    const sim::Vm& vm = rig_.vm;
    const std::span<const Gpa> tables = rig_.mech.gpt_pages();
    gpas_.assign(tables.begin(), tables.end());
    std::sort(gpas_.begin(), gpas_.end());
    base_.resize(gpas_.size());
    target_.resize(gpas_.size() * kPtesPerPage);
    bits_.resize(gpas_.size() * kPtesPerPage);
    for (uint32_t r = 0; r < gpas_.size(); ++r) {
      base_[r] = uint64_t{vm.owner_of(gpas_[r]) & ~sim::kGptOwner} * kPtesPerPage;
      for (uint32_t i = 0; i < kPtesPerPage; ++i) {
        const uint64_t vpn = base_[r] + i;
        const bool in = vpn < vm.virtual_pages();
        target_[r * kPtesPerPage + i] = in ? vm.gpa_of(vpn) : kNone;
        bits_[r * kPtesPerPage + i] = in ? vm.pte_bits_of(vm.bits_vpn(vpn)) : uint8_t{0};
      }
    }
  }
  uint32_t guest_pages() const override { return rig_.mech.guest_pages(); }
  bool backed(Gpa g) const override { return rig_.mech.backed(g); }
  Tier tier_of(Gpa g) const override { return rig_.mech.tier_of(g); }
  uint64_t capacity_pages(Tier t) const override { return rig_.mech.capacity_pages(t); }
  void page_tiers(std::span<uint8_t> out) const override { rig_.mech.page_tiers(out); }
  uint64_t used_pages(Tier t) const override { return rig_.mech.used_pages(t); }
  double now_ns() const override { return rig_.mech.now_ns(); }
  void charge_ns(double) override {}

  std::span<const Gpa> gpt_pages() const override { return rig_.mech.gpt().gpt_pages(); }
  void scan_gpt_page(Gpa gpt, uint8_t clear_mask, std::span<PteBits, kPtesPerPage> out) override {
    rig_.mech.gpt().scan_gpt_page(gpt, clear_mask, out);  // not used by the PML tracker
  }
  GptView read_gpt_page(Gpa gpt, GptCopy&) override {
    const size_t at = size_t{rank(gpt)} * kPtesPerPage;
    return GptView{&target_[at], &bits_[at], 1};  // no 2 MiB guest pages here
  }
  void clear_gpt_bits(Gpa gpt, const PteSet& which, uint8_t mask) override {
    const uint32_t r = rank(gpt);
    const size_t at = size_t{r} * kPtesPerPage;
    for (uint32_t w = 0; w < which.size(); ++w)
      for (uint64_t todo = which[w]; todo != 0; todo &= todo - 1) {
        const uint32_t i = w * 64 + static_cast<uint32_t>(std::countr_zero(todo));
        if (target_[at + i] == kNone) continue;
        bits_[at + i] &= static_cast<uint8_t>(~mask);
        sim::VmInternals::clear_pte_bits(rig_.vm, base_[r] + i, mask);  // what the vCPUs see
      }
  }

 private:
  // A table's place in GPA order: where guest RAM would hold it.
  uint32_t rank(Gpa gpt) const {
    return static_cast<uint32_t>(std::lower_bound(gpas_.begin(), gpas_.end(), gpt) - gpas_.begin());
  }
  bench::SimVm& rig_;
  std::vector<Gpa> gpas_;       // the tables' GPAs, ascending
  std::vector<uint64_t> base_;  // by rank: the first virtual page its PTEs map
  std::vector<Gpa> target_;     // guest RAM's copy of the tables, by rank
  std::vector<uint8_t> bits_;
};

// Timed windows per case: the first ones after the warm-up are slower than
// the steady state (a 10-window history still filling, the plan's lists
// growing); 30 windows weigh the steady state, as a daemon running for
// minutes sees it.
constexpr int kSteadyWindows = 30;

struct WindowCase {
  bool classify = false, aged = false, sparse = false, daemon = false;
};

void BM_VtmmWindow(benchmark::State& state, WindowCase c) {
  const double rss0 = resident_bytes();
  TouchedVm rig(static_cast<uint64_t>(state.range(0)), c.aged);
  DaemonView daemon(rig);
  if (c.daemon) daemon.refresh();  // its copy counts as the VM's memory
  const double rss_vm = resident_bytes();
  Mechanisms& m = c.daemon ? static_cast<Mechanisms&>(daemon) : rig.mech;
  policy::PmlGptTracker tracker(policy::MlqConfig{});
  tracker.attach(m);
  std::vector<uint8_t> seen(m.guest_pages(), 0);
  std::unique_ptr<bench::Classifier> cls;
  if (c.classify) cls = std::make_unique<bench::Classifier>(m.guest_pages());
  policy::TrackStats st;
  uint32_t k = 0;
  const uint64_t table_stride = c.sparse ? 100 : 1;
  // Untimed: window 0 hands over every page-table page (and arms PML), window
  // 1 scans every table once (its first look at every PTE, every page seen);
  // the sparse case then lets the pages it no longer touches settle.
  for (int w = c.sparse ? 4 : 2; w-- > 0;) {
    tracker.window(m, k++, seen, st);
    if (cls) cls->run(m, seen, &tracker);
    if (w > 0) rig.touch(64, kWrite, table_stride);
    if (w > 0 && c.daemon) daemon.refresh();
  }
  const double rss_policy = resident_bytes();
  const double pages = rig.mech.guest_pages();
  // Measured, so they include the host-wide state (LLC tags, calendars) and
  // vectors' slack: at small sizes the fixed part dominates.
  state.counters["vm_rss_bytes_per_page"] = (rss_vm - rss0) / pages;
  state.counters["policy_rss_bytes_per_page"] = (rss_policy - rss_vm) / pages;
  const uint64_t scanned0 = st.gpt_scanned, lines0 = rig.vm.counters().scan_lines,
                 misses0 = rig.vm.counters().scan_llc_misses;
  for (auto _ : state) {
    state.PauseTiming();
    rig.touch(64, k % 2 ? kRead : kWrite, table_stride);
    if (c.daemon) daemon.refresh();
    state.ResumeTiming();
    tracker.window(m, k++, seen, st);
    if (cls) benchmark::DoNotOptimize(cls->run(m, seen, &tracker).hot_pages);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * rig.mech.guest_pages());
  state.counters["gpt_scanned_per_window"] =
      static_cast<double>(st.gpt_scanned - scanned0) / static_cast<double>(state.iterations());
  // The simulated host's side of those scans: lines read and written through
  // its LLC model, and how many missed it (each books tier bandwidth).
  state.counters["scan_lines_per_window"] =
      static_cast<double>(rig.vm.counters().scan_lines - lines0) /
      static_cast<double>(state.iterations());
  state.counters["scan_llc_misses_per_window"] =
      static_cast<double>(rig.vm.counters().scan_llc_misses - misses0) /
      static_cast<double>(state.iterations());
}
BENCHMARK_CAPTURE(BM_VtmmWindow, track, WindowCase{})
    ->Name("BM_VtmmWindow/track")
    ->ArgName("pages")
    ->Arg(1 << 20)
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VtmmWindow, track_classify, WindowCase{.classify = true})
    ->Name("BM_VtmmWindow/track+classify")
    ->ArgName("pages")
    ->Arg(1 << 20)
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VtmmWindow, track_classify_aged, WindowCase{.classify = true, .aged = true})
    ->Name("BM_VtmmWindow/track+classify/aged")
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VtmmWindow, track_aged, WindowCase{.aged = true})
    ->Name("BM_VtmmWindow/track/aged")
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VtmmWindow, track_sparse, WindowCase{.sparse = true})
    ->Name("BM_VtmmWindow/track-sparse")
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);

BENCHMARK_CAPTURE(BM_VtmmWindow, daemon_track_classify,
                  WindowCase{.classify = true, .daemon = true})
    ->Name("BM_VtmmWindow/daemon/track+classify")
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VtmmWindow, daemon_track_classify_aged,
                  WindowCase{.classify = true, .aged = true, .daemon = true})
    ->Name("BM_VtmmWindow/daemon/track+classify/aged")
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VtmmWindow, daemon_track, WindowCase{.daemon = true})
    ->Name("BM_VtmmWindow/daemon/track")
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_VtmmWindow, daemon_track_aged, WindowCase{.aged = true, .daemon = true})
    ->Name("BM_VtmmWindow/daemon/track/aged")
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(kSteadyWindows)
    ->Unit(benchmark::kMillisecond);

void BM_Classify(benchmark::State& state) {
  TouchedVm rig(static_cast<uint64_t>(state.range(0)));
  bench::Classifier cls(rig.mech.guest_pages());
  // A fixed pattern of 10 windows: a 1/16 hot set written every window, a
  // warm 1/8 read every other one, the rest unseen.
  std::vector<uint8_t> seen(rig.mech.guest_pages(), 0);
  uint32_t w = 0;
  for (auto _ : state) {
    state.PauseTiming();
    for (size_t g = 0; g < seen.size(); ++g)
      seen[g] = static_cast<uint8_t>(g % 16 == 0                  ? policy::Seen::Write
                                     : (g % 8 == 1 && w % 2 == 0) ? policy::Seen::Read
                                                                  : policy::Seen::None);
    ++w;
    state.ResumeTiming();
    benchmark::DoNotOptimize(cls.run(rig.mech, seen, nullptr).hot_pages);
  }
  state.SetItemsProcessed(static_cast<int64_t>(state.iterations()) * rig.mech.guest_pages());
}
BENCHMARK(BM_Classify)
    ->ArgName("pages")
    ->Arg(10'000'000)
    ->Iterations(10)
    ->Unit(benchmark::kMillisecond);

void BM_Migrate(benchmark::State& state, MigrationMethod how) {
  const uint64_t batch = static_cast<uint64_t>(state.range(0));
  TouchedVm rig(batch * 8);  // first touch filled fast (1/5 of memory) first
  auto drain = [&] {
    while (rig.host.next_event_time() < 1e299) rig.host.run_next_event();
  };
  // Untimed: demote `batch` data pages so fast memory has room for the batch.
  std::vector<Gpa> pages;
  for (Gpa g = 0; g < rig.mech.guest_pages() && pages.size() < batch; ++g)
    if (rig.mech.backed(g) && rig.mech.tier_of(g) == Tier::Fast &&
        rig.vm.owner_of(g) < sim::kGptOwner)
      pages.push_back(g);
  rig.mech.migrate(pages, Tier::Slow, MigrationMethod::Pml, 1);
  drain();
  std::vector<Gpa> slow = pages;
  uint64_t moved = 0;
  for (auto _ : state) {
    moved += rig.mech.migrate(slow, Tier::Fast, how, 1).moved;
    drain();
    moved += rig.mech.migrate(slow, Tier::Slow, how, 1).moved;
    drain();
  }
  if (moved != 2 * batch * state.iterations())
    state.SkipWithError("migrate moved fewer pages than asked");
  state.SetItemsProcessed(static_cast<int64_t>(moved));
}
BENCHMARK_CAPTURE(BM_Migrate, pm_pml, MigrationMethod::Pml)
    ->Name("BM_Migrate/pml")
    ->ArgName("pages")
    ->Arg(16384)
    ->Unit(benchmark::kMillisecond);
BENCHMARK_CAPTURE(BM_Migrate, pm_linux, MigrationMethod::Linux)
    ->Name("BM_Migrate/linux")
    ->ArgName("pages")
    ->Arg(16384)
    ->Unit(benchmark::kMillisecond);

}  // namespace
}  // namespace vtmm
