#pragma once
// Event counts of one VM. Plain numbers, so a phase's counts are end - start.
#include <cstdint>

namespace vtmm::sim {

struct Counters {
  uint64_t accesses = 0, reads = 0, writes = 0;
  uint64_t tlb_misses = 0, dirty_assists = 0;
  uint64_t llc_hits = 0, llc_misses = 0;
  uint64_t tier_misses[2] = {0, 0};     // LLC misses served by fast / slow
  uint64_t writebacks[2] = {0, 0};      // dirty LLC evictions to fast / slow
  uint64_t walk_llc_misses = 0;         // leaf-PTE loads that missed the LLC
  uint64_t scan_lines = 0, scan_llc_misses = 0;  // table lines hypervisor threads touched / of which missed the LLC
  uint64_t ept_violations = 0;          // first backing of a guest page
  uint64_t pml_entries = 0, pml_full_exits = 0;
  uint64_t vm_exits = 0;                // every exit charged to a vCPU
  uint64_t tlb_flushes = 0;             // per-vCPU flushes (shootdowns)
  uint64_t migration_traps = 0;         // vCPU traps caused by migration (waits + remap faults)
  uint64_t remap_faults = 0;            // of which: re-faulting a page Linux-style migration unmapped
  uint64_t promoted = 0, demoted = 0, recopied = 0;
  uint64_t copied_bytes = 0;
  uint64_t hint_faults = 0;             // NUMA hint faults taken
  uint64_t samples = 0, samples_lost = 0;  // PEBS-like samples written / dropped (buffer full)
  uint64_t mm_hits = 0, mm_misses = 0, mm_writebacks = 0;  // Memory Mode's DRAM cache
  uint64_t exchanged = 0;               // pages moved by exchange (counted once per page)
  uint64_t guest_migrations = 0;        // pages a guest-side design copied to the other node
  uint64_t huge_tlb_fills = 0;          // walks that cached a 2 MiB translation
  uint64_t subpage_assists = 0;         // hardware mode: sub-page A/D bits set through a 2 MiB entry
  uint64_t huge_splits = 0, huge_merges = 0;  // 2 MiB EPT mappings split / merged back
  uint64_t huge_collapse_copies = 0;    // of the merges: those that copied the region into a new 2 MiB frame
  double trap_wait_ns = 0;              // vCPU time lost waiting on migrations
  double bw_delay_ns = 0;               // vCPU time lost queueing for tier bandwidth
  double load_delay_ns = 0;             // vCPU time lost to loaded latency (HostProfile's curves; data misses)
  double wb_stall_ns = 0;               // vCPU time lost to full write queues (posted write-backs)
  double core_steal_ns = 0;             // vCPU time lost to the policy's thread on its core (vm.policy_thread_core)
  double tracking_ns = 0;               // hypervisor-thread time: tracking
  double migration_ns = 0;              // hypervisor-thread time: migration

  Counters operator-(const Counters& o) const {
    Counters r = *this;
    r.accesses -= o.accesses; r.reads -= o.reads; r.writes -= o.writes;
    r.tlb_misses -= o.tlb_misses; r.dirty_assists -= o.dirty_assists;
    r.llc_hits -= o.llc_hits; r.llc_misses -= o.llc_misses;
    for (int t = 0; t < 2; ++t) {
      r.tier_misses[t] -= o.tier_misses[t];
      r.writebacks[t] -= o.writebacks[t];
    }
    r.walk_llc_misses -= o.walk_llc_misses; r.ept_violations -= o.ept_violations;
    r.scan_lines -= o.scan_lines; r.scan_llc_misses -= o.scan_llc_misses;
    r.pml_entries -= o.pml_entries; r.pml_full_exits -= o.pml_full_exits;
    r.vm_exits -= o.vm_exits; r.tlb_flushes -= o.tlb_flushes;
    r.migration_traps -= o.migration_traps;
    r.remap_faults -= o.remap_faults;
    r.promoted -= o.promoted; r.demoted -= o.demoted; r.recopied -= o.recopied;
    r.copied_bytes -= o.copied_bytes;
    r.hint_faults -= o.hint_faults;
    r.samples -= o.samples; r.samples_lost -= o.samples_lost;
    r.mm_hits -= o.mm_hits; r.mm_misses -= o.mm_misses; r.mm_writebacks -= o.mm_writebacks;
    r.exchanged -= o.exchanged; r.guest_migrations -= o.guest_migrations;
    r.huge_tlb_fills -= o.huge_tlb_fills; r.subpage_assists -= o.subpage_assists;
    r.huge_splits -= o.huge_splits; r.huge_merges -= o.huge_merges;
    r.huge_collapse_copies -= o.huge_collapse_copies;
    r.trap_wait_ns -= o.trap_wait_ns; r.bw_delay_ns -= o.bw_delay_ns; r.load_delay_ns -= o.load_delay_ns; r.wb_stall_ns -= o.wb_stall_ns;
    r.core_steal_ns -= o.core_steal_ns;
    r.tracking_ns -= o.tracking_ns; r.migration_ns -= o.migration_ns;
    return r;
  }
};

}  // namespace vtmm::sim
