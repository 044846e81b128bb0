#pragma once
// A simulated host described by data: tier latencies and bandwidths, LLC and
// TLB geometry, and the cost of every hypervisor event. Profiles live in
// experiments/hosts/<name>.json, one {"value", "source"} object per constant;
// a profile may name a "base" and state only what differs.
#include <cstdint>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"
#include "vtmm/core/types.hpp"

namespace vtmm::sim {

// A loaded-latency curve: the latency a miss adds to the tier's idle latency
// when the tier's recent traffic uses a fraction u of its bandwidth (writes
// weighted by read / write bandwidth, as the bandwidth calendar books them).
// Points from a measured bandwidth-latency curve, linear in between, flat
// after the last (beyond full use, the calendar's queueing takes over).
struct LoadPoint {
  double u = 0, ns = 0;
};

struct TierCosts {
  double read_latency_ns = 0;
  double read_bw_gbps = 0;
  double write_bw_gbps = 0;
  uint64_t access_unit_bytes =
      0;  // the media's internal access size: a 64-byte transfer uses this much bandwidth
  uint64_t write_queue_bytes =
      0;  // posted writes the controller holds before a writer stalls (BandwidthCalendar::post)
  std::vector<LoadPoint>
      loaded_latency;  // added ns by utilisation; {{0, 0}} is a flat (idle) latency

  // The latency added at utilisation u (>= 0).
  double load_ns(double u) const;
};

// Sizes and counts (bytes, ways, entries, walkers, cores) are integers;
// latencies, bandwidths and overlaps are doubles. In run records every
// constant is printed as a JSON number of the double kind (`11.0`), as it
// was before the counts were typed, so run keys stay the same.
struct HostProfile {
  std::string name;
  TierCosts tier[kTiers];
  uint64_t llc_bytes = 0;
  uint32_t llc_ways = 0;
  double llc_hit_ns = 0;
  uint32_t tlb_l1_entries = 0, tlb_l1_ways = 0, tlb_l1_huge_entries = 0;
  uint32_t tlb_l2_entries = 0, tlb_l2_ways = 0;
  double tlb_l2_hit_ns = 0;
  double walk_ns = 0;
  uint32_t page_walkers = 0;
  double scan_mlp = 0;  // misses a hypervisor thread's sequential table scan overlaps (Vm::hv_line)
  double vm_exit_ns = 0, ept_violation_ns = 0, tlb_shootdown_ns = 0, page_fault_ns = 0;
  double pte_scan_ns = 0, ept_bit_ns = 0, pml_entry_ns = 0;
  uint32_t pml_buffer_entries = 0;
  double migrate_page_ns = 0, copy_gbps = 0;
  double hint_fault_ns = 0;  // NUMA hint fault handling (without the exit)
  double pebs_assist_ns = 0, pebs_drain_ns = 0;
  uint32_t sample_buffer_entries = 0;
  uint32_t host_cores = 0;
  double page_alloc_ns = 0;  // allocating (and zeroing) a page for a new page table or huge frame
  // Hardware mode (1) or not (0): A/D bits per 4 KiB inside a 2 MiB mapping
  // (docs/huge-pages.md). The one constant allowed to be 0.
  uint32_t subpage_ad_bits = 0;

  // Loads `name` (a profile name or a path to a JSON file) and applies
  // `overrides` ({"llc_bytes": 8388608, ...}, plain numbers).
  static HostProfile load(const std::string& name, const Json& overrides = Json::object());
  // All constants as {"key": value}, for run records.
  Json to_json() const;
};

// Folder holding experiments/ and plots/: $VTMM_HOME, else the source tree the
// binary was built from.
std::string data_dir();
std::vector<std::string> list_host_profiles();

}  // namespace vtmm::sim
