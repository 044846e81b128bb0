#pragma once
// Event counts of one VM. Plain numbers, so a phase's counts are end - start.
//
// Every counter is declared once, in the tables below: its member, and the
// key it has in a record's "counters" object ("" for the few a record shows
// elsewhere, under a name of its own: put_measures). A new counter is one
// line here; the struct, phase subtraction and the record follow.
#include <cstdint>

namespace vtmm::sim {

// Whole counts: X(member, record key).
#define VTMM_COUNTS(X)                                                                        \
  X(accesses, "accesses")                                                                     \
  X(reads, "reads")                                                                           \
  X(writes, "writes")                                                                         \
  X(tlb_misses, "tlb_misses")                                                                 \
  X(dirty_assists, "dirty_assists")                                                           \
  X(llc_hits, "llc_hits")                                                                     \
  X(llc_misses, "llc_misses")                                                                 \
  X(walk_llc_misses, "walk_llc_misses") /* leaf-PTE loads that missed the LLC */              \
  X(scan_lines, "scan_lines")           /* table lines hypervisor threads touched */          \
  X(scan_llc_misses, "scan_llc_misses") /* ... of which missed the LLC */                     \
  X(ept_violations, "ept_violations")   /* first backing of a guest page */                   \
  X(pml_entries, "pml_entries")                                                               \
  X(pml_full_exits, "pml_full_exits")                                                         \
  X(vm_exits, "vm_exits")               /* every exit charged to a vCPU */                    \
  X(tlb_flushes, "tlb_flushes")         /* per-vCPU flushes (shootdowns) */                   \
  X(migration_traps, "migration_traps") /* vCPU traps caused by migration (waits + remaps) */ \
  X(remap_faults, "remap_faults")       /* of which: re-faulting a page PM_Linux unmapped */  \
  X(promoted, "")                       /* record: promoted_pages */                          \
  X(demoted, "")                        /* record: demoted_pages */                           \
  X(recopied, "recopied_pages")                                                               \
  X(copied_bytes, "")             /* record: copied_bytes */                                  \
  X(hint_faults, "hint_faults")   /* NUMA hint faults taken */                                \
  X(samples, "samples")           /* PEBS-like samples written */                             \
  X(samples_lost, "samples_lost") /* ... dropped (buffer full) */                             \
  X(mm_hits, "memory_mode_hits")  /* Memory Mode's DRAM cache */                              \
  X(mm_misses, "memory_mode_misses")                                                          \
  X(mm_writebacks, "memory_mode_writebacks")                                                  \
  X(exchanged, "exchanged_pages")         /* pages moved by exchange (once per page) */       \
  X(guest_migrations, "guest_migrations") /* pages a guest-side design copied */              \
  X(huge_tlb_fills, "huge_tlb_fills")     /* walks that cached a 2 MiB translation */         \
  X(subpage_assists, "subpage_assists")   /* sub-page A/D bits set through a 2 MiB entry */   \
  X(huge_splits, "huge_splits")           /* 2 MiB EPT mappings split */                      \
  X(huge_merges, "huge_merges")           /* ... merged back */                               \
  X(huge_collapse_copies, "huge_collapse_copies") /* merges that copied into a new frame */

// Counts per tier (index 0 fast, 1 slow): X(member, fast key, slow key).
#define VTMM_TIER_COUNTS(X)                                                   \
  X(tier_misses, "fast_misses", "slow_misses")        /* LLC misses served */ \
  X(writebacks, "fast_writebacks", "slow_writebacks") /* dirty LLC evictions */

// Times in ns, recorded in seconds: X(member, record key).
#define VTMM_TIMES(X)                                                                      \
  X(trap_wait_ns, "trap_wait_s")       /* vCPU time lost waiting on migrations */          \
  X(bw_delay_ns, "bw_delay_s")         /* ... queueing for tier bandwidth */               \
  X(load_delay_ns, "load_delay_s")     /* ... to loaded latency (data misses) */           \
  X(wb_stall_ns, "wb_stall_s")         /* ... to full write queues (posted write-backs) */ \
  X(core_steal_ns, "core_steal_s")     /* ... to the policy's thread on its core */        \
  X(barrier_wait_ns, "barrier_wait_s") /* vCPU time idle at the workload's barriers */     \
  X(tracking_ns, "") /* hypervisor-thread time: tracking (record: tracking_cpu_s) */       \
  X(migration_ns, "migration_cpu_s")             /* hypervisor-thread time: migration */   \
  X(migration_elapsed_ns, "migration_elapsed_s") /* batches' start to last copy's end, summed */

struct Counters {
#define VTMM_DECLARE_COUNT(m, key) uint64_t m = 0;
#define VTMM_DECLARE_TIER(m, fast, slow) uint64_t m[2] = {0, 0};
#define VTMM_DECLARE_TIME(m, key) double m = 0;
  VTMM_COUNTS(VTMM_DECLARE_COUNT)
  VTMM_TIER_COUNTS(VTMM_DECLARE_TIER)
  VTMM_TIMES(VTMM_DECLARE_TIME)
#undef VTMM_DECLARE_COUNT
#undef VTMM_DECLARE_TIER
#undef VTMM_DECLARE_TIME

  Counters operator-(const Counters& o) const {
    Counters r = *this;
#define VTMM_SUBTRACT(m, ...) r.m -= o.m;
#define VTMM_SUBTRACT_TIER(m, fast, slow) \
  r.m[0] -= o.m[0];                       \
  r.m[1] -= o.m[1];
    VTMM_COUNTS(VTMM_SUBTRACT)
    VTMM_TIER_COUNTS(VTMM_SUBTRACT_TIER)
    VTMM_TIMES(VTMM_SUBTRACT)
#undef VTMM_SUBTRACT
#undef VTMM_SUBTRACT_TIER
    return r;
  }
};

}  // namespace vtmm::sim
