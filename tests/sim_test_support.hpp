#pragma once
// A small simulated host with one VM, wired the way vtmm/sim/simulation.cpp's
// run_loop wires it (host.vms.push_back, mech.bind), for tests that drive
// Vm::access() and SimMechanisms by hand.
//
//   vtmm::test::SimRig rig(vtmm::test::vm_config(64));
//   rig.access(0, /*vpn=*/3, vtmm::kWrite);   // va = VaLayout::kBase + 3 * 4 KiB
//
// The rig is neither copyable nor movable: the Vm holds references to the
// host, policy and mechanisms, and the host and mechanisms hold the Vm's address.
#include <cstdint>
#include <functional>
#include <string>
#include <vector>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/host.hpp"
#include "vtmm/sim/host_profile.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"
#include "vtmm/sim/vm.hpp"
#include "vtmm/sim/vm_internals.hpp"

namespace vtmm::test {

// place() returns `tier` (settable between accesses) and counts its calls;
// hint faults are recorded and handed to `on_fault` if set.
class FixedTierPolicy final : public Policy {
 public:
  Tier tier = Tier::Fast;
  uint32_t placed = 0;
  std::vector<HintFault> faults;
  std::function<void(const HintFault&, Mechanisms&)> on_fault;
  Tier place(Gpa, const Mechanisms&) override {
    ++placed;
    return tier;
  }
  void on_hint_fault(const HintFault& f, Mechanisms& m) override {
    faults.push_back(f);
    if (on_fault) on_fault(f, m);
  }
};

// A VM of `memory_pages` guest pages whose workload layout spans `va_pages`
// virtual pages; both tiers may hold all of guest memory unless capped.
inline sim::VmConfig vm_config(uint64_t memory_pages, uint64_t va_pages = 0, uint32_t vcpus = 1,
                               bool pml = false) {
  sim::VmConfig c;
  c.vcpus = vcpus;
  c.memory_pages = memory_pages;
  c.fast_pages = memory_pages;
  c.slow_pages = memory_pages;
  c.va_bytes = (va_pages == 0 ? memory_pages / 2 : va_pages) * kPageSize;
  c.pml = pml;
  return c;
}

// Host overrides the rig uses by default: a 1 MiB LLC keeps set-up cheap.
inline Json small_host_overrides() { return Json{{"llc_bytes", 1 << 20}}; }

class SimRig {
 public:
  explicit SimRig(const sim::VmConfig& cfg, const Json& host_overrides = small_host_overrides())
      : host(sim::HostProfile::load("optane", host_overrides)), vm(host, cfg, policy, mech) {
    host.vms.push_back(&vm);
    mech.bind(&vm);
  }
  SimRig(const SimRig&) = delete;
  SimRig& operator=(const SimRig&) = delete;

  static uint64_t va(uint64_t vpn, uint32_t line = 0) {
    return VaLayout::kBase + vpn * kPageSize + uint64_t{line} * kLineSize;
  }
  // One access by vCPU v; returns how far it moved that vCPU's clock.
  double access(uint32_t v, uint64_t vpn, uint8_t kind, uint32_t line = 0, double mlp = 1.0) {
    const double before = vm.clock_ns(v);
    vm.access(v, va(vpn, line), kind, mlp);
    return vm.clock_ns(v) - before;
  }
  // Data page and leaf page-table page behind a (touched) virtual page.
  Gpa gpa(uint64_t vpn) const { return vm.gpa_of(vpn); }
  Gpa gpt(uint64_t vpn) const { return vm.page_table_of(vpn); }
  uint8_t pte_bits(uint64_t vpn) const { return vm.pte_bits_of(vpn); }
  // Guest PTE bits as scan_gpt_page reports them, clearing `clear_mask`.
  uint8_t scan_pte(uint64_t vpn, uint8_t clear_mask = 0) {
    std::vector<PteBits> out(kPtesPerPage);
    mech.scan_gpt_page(gpt(vpn), clear_mask,
                       std::span<PteBits, kPtesPerPage>(out.data(), kPtesPerPage));
    return out[vpn % kPtesPerPage].bits;
  }
  std::vector<Gpa> drain_pml() {
    std::vector<Gpa> out;
    mech.drain_pml(out);
    return out;
  }
  void run_events() {
    while (host.next_event_time() < 1e299) host.run_next_event();
  }

  // Declaration order is construction order: the Vm is built last.
  sim::Host host;
  FixedTierPolicy policy;
  sim::SimMechanisms mech;
  sim::Vm vm;
};

}  // namespace vtmm::test
