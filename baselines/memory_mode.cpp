// memory-mode: Intel Optane DC PMM's Memory Mode (2LM). Hardware, not
// software: the fast tier is a direct-mapped, memory-side cache of the slow
// tier with 64-byte lines, managed by the memory controller; every page lives
// in slow memory and nothing is ever migrated. The simulator models it in the
// access path (vtmm/sim/vm.cpp, Vm::mm_miss): an LLC miss checks the DRAM
// cache; a hit is served at fast-tier latency; a miss pays the tag check plus
// the slow read and fills the slot; a dirty victim is written back to slow
// memory; dirty LLC evictions are written into the cache.
//
// Source: Intel Optane DC Persistent Memory Module, Memory Mode (Intel's
// "Intel Optane DC Persistent Memory Operating Modes Explained"); direct-mapped
// with 64-byte granularity: Izraelevitz et al., arXiv:1903.05714, sec. 2.
// Simplifications: the cache is indexed by guest-physical address (the host
// physical layout of a VM's memory is assumed contiguous); one VM's share of
// the host's cache is its fast allowance from the spec's ratio.
// Runs on: the host (the hardware; invisible to guest and hypervisor alike).
#include "vtmm/core/policy.hpp"

namespace vtmm {
namespace {

class MemoryMode final : public Policy {
 public:
  MemoryMode(Params&, const PolicyEnv&) {}
  Sizing sizing() const override { return Sizing::MemoryMode; }
  Tier place(Gpa, const Mechanisms&) override { return Tier::Slow; }
};

VTMM_REGISTER(
    vtmm::PolicyRegistry, MemoryMode, "memory-mode",
    "Intel Memory Mode: fast memory as a direct-mapped 64 B memory-side cache of slow memory")

}  // namespace
}  // namespace vtmm
