#pragma once
// The two-node check (docs/vm.md): our CI hosts have one NUMA node, so the
// daemon's migration path is proven inside a guest that has two. The check
// boots a guest with two NUMA cells and runs vtmm-tierd in it against a
// stand-in for QEMU (a memfd-backed region, its fast share bound to guest
// node 0 and the rest to node 1, under a GUPS load with a known hot set):
// each registered design tracks it (soft-dirty, or the stand-in's own page
// tables through the guest companion module) and moves its pages with
// move_pages(2); the stand-in's pages are then counted per node by
// move_pages' status and by /proc/PID/numa_maps, and scored against the
// hot set. The designs run one after another in one guest, each on a fresh
// stand-in.
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"

namespace vtmm::platform {

struct NumaCheckOptions {
  // vTMM migrates once a window plans migrate_threshold_bytes (100 MiB, sized
  // for a 16 GiB VM); for the check's 256 MiB that is 1.6 MiB, so 1 MiB.
  // The defaults: vTMM's EPT-scan ablation (EPT A/D bits), and vTMM on its
  // guest page-table tracker without PML (the stand-in's page tables through
  // the companion module). The multi-level queue is off in the second: under
  // this load it places poorly in 30 s (docs/vm.md, "The two-node check").
  std::vector<Json> policies = {
      Json{{"impl", "ept-scanner"}, {"migration", "linux"}, {"migrate_threshold_bytes", 1 << 20}},
      Json{{"impl", "vtmm"},
           {"tracker", "gpt-scan"},
           {"mlq", false},
           {"migration", "linux"},
           {"migrate_threshold_bytes", 1 << 20}}};
  // Designs whose mechanisms are checked but whose placement is reported,
  // not required. TPP (guest side: the stand-in's page tables, NUMA hint
  // faults through the companion module, guest NUMA): its hot threshold is
  // a hint-fault latency under 1 s, which every page of this load meets, so
  // it promotes whichever pages fault when kswapd has made room (docs/vm.md,
  // "The two-node check").
  std::vector<Json> unscored_policies = {Json("tpp")};
  double seconds = 60;  // per design: under TCG a batch of moves takes seconds
  uint64_t guest_mib = 1024, region_mib = 256, fast_mib = 16;
  double hot_fraction = 1.0 / 16, hot_probability = 0.99;
  uint64_t seed = 1;
  uint32_t vcpus = 2;
  std::string accel = "auto";
  double boot_timeout_s = 300;
  // What the check requires of the design's placement at the end.
  double min_recall = 0.9, min_precision = 0.9;
};

// Throws SpecError for a bad option (before booting anything).
// A design's checks: the mechanisms' (both lists) and, for `policies`, its
// placement against the hot set.
void validate(const NumaCheckOptions& o);
// The check's record: the options, the guest's view, per design tierd's
// report and its checks, and "passed" (every check of every design).
Json run_numa_check(const NumaCheckOptions& o);

}  // namespace vtmm::platform
