#pragma once
// The `vm` platform's run: one RunSpec -> one libvirt guest -> one record in
// the runner's format (platform "vm", accel "kvm" or "tcg").
//
// Placement by the design's sizing, as two guest NUMA cells bound to host nodes:
//   AllFast (dram-only)   both cells on the fast node
//   AllSlow (slow-only)   both cells on the slow node
//   Ratio (the rest)      cell 0 = the fast share (ratio or fast_bytes) on the
//                         fast node, cell 1 = the rest on the slow node; the
//                         guest kernel allocates locally first, then spills
// The design is a registered one (`vtmm list`), made for real time
// (make_real_time_policy): one that ticks runs in the host daemon while the
// guest runs the workload, through ProcessMemory over QEMU's guest RAM
// (soft-dirty / page_idle, move_pages, the guest's page tables through the
// agent, hint faults where the companion module is in the host's kernel); a
// guest-side one (GuestNuma) runs in a daemon inside the guest against the
// workload's process (gups); one that needs what a stock kernel lacks (PML,
// sampling) is refused at spec load. "guest-tiering" is the guest kernel's
// own NUMA tiering. A host-side design that moves pages needs two host
// nodes; on a one-node host the run fails saying so (`vtmm numa-check`
// proves that path on a two-node guest kernel).
//
// Every run also exercises the migration paths: the agent reports soft-dirty
// guest frames, the daemon moves their backing with move_pages(2) on the QEMU
// process to the slow node (an absent node here: the failure is recorded) and
// back to the fast node; and the agent moves pages between the two guest
// nodes itself (guest-side placement) and reports the counts.
#include "vtmm/core/run_spec.hpp"

namespace vtmm::platform {

// Throws SpecError for an unknown workload, bad parameter or unsupported policy.
void validate_vm_run(const RunSpec& r);
// Whether a vm design splits guest memory by the run's ratio (Sizing::Ratio,
// and guest-tiering).
bool vm_policy_uses_ratio(const Json& policy, uint64_t seed);
Json run_vm(const RunSpec& r);

}  // namespace vtmm::platform
