#pragma once
// The `vm` platform's run: one RunSpec -> one libvirt guest -> one record in
// the runner's format (platform "vm", accel "kvm" or "tcg").
//
// Placement by policy, as two guest NUMA cells bound to host nodes:
//   dram-only   both cells on the fast node
//   slow-only   both cells on the slow node
//   first-touch cell 0 = the fast share (ratio or fast_bytes) on the fast
//               node, cell 1 = the rest on the slow node; the guest kernel
//               allocates locally first, then spills to cell 1
// Other policies need mechanisms this platform does not give a user-space
// daemon (PML, EPT A/D, PEBS): they are refused at spec load.
// With no slow host node (one-node hosts) the slow cell is bound to the fast
// node and the record says so: function, not performance.
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
// Whether a vm policy splits guest memory by the run's ratio (first-touch,
// vtmm, guest-tiering); the sim's policy registry does not know the vm-only ones.
bool vm_policy_uses_ratio(const Json& policy);
Json run_vm(const RunSpec& r);

}  // namespace vtmm::platform
