#include "vtmm/sim/sim_mechanisms.hpp"

#include <algorithm>

namespace vtmm::sim {

uint32_t SimMechanisms::gpt_group(Gpa gpt) const {
  const Vm& vm = *vm_;
  if (gpt >= vm.owner.size() || vm.owner[gpt] == kNone || !(vm.owner[gpt] & kGptOwner))
    throw std::invalid_argument("not a page-table page: GPA " + std::to_string(gpt));
  return vm.owner[gpt] & ~kGptOwner;
}

void SimMechanisms::scan_gpt_page(Gpa gpt, uint8_t clear_mask, std::span<PteBits, kPtesPerPage> out) {
  Vm& vm = *vm_;
  const uint64_t base = uint64_t{gpt_group(gpt)} * kPtesPerPage;
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const uint64_t vpn = base + i;
    if (vpn >= vm.pte_gpa.size() || vm.pte_gpa[vpn] == kNone) {
      out[i] = PteBits{kNone, 0};
      continue;
    }
    out[i] = PteBits{vm.pte_gpa[vpn], static_cast<uint8_t>(vm.pte_bits[vpn] | PteBits::kPresent)};
    vm.pte_bits[vpn] &= static_cast<uint8_t>(~clear_mask);
  }
  charge_ns(kPtesPerPage * vm.prof.pte_scan_ns);
}

void SimMechanisms::clear_pte_bits(Gpa gpt, std::span<const uint8_t, kPtesPerPage> masks) {
  Vm& vm = *vm_;
  const uint64_t base = uint64_t{gpt_group(gpt)} * kPtesPerPage;
  uint32_t written = 0;
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const uint64_t vpn = base + i;
    if (masks[i] == 0 || vpn >= vm.pte_gpa.size() || vm.pte_gpa[vpn] == kNone) continue;
    vm.pte_bits[vpn] &= static_cast<uint8_t>(~masks[i]);
    ++written;
  }
  charge_ns(written * vm.prof.pte_scan_ns);
}

namespace {
uint8_t ad_of(uint8_t e) {
  return static_cast<uint8_t>(((e & kEptA) ? PteBits::kAccessed : 0) | ((e & kEptD) ? PteBits::kDirty : 0));
}
}  // namespace

uint8_t SimMechanisms::ept_bits(Gpa g) {
  charge_ns(vm_->prof.ept_bit_ns);
  return ad_of(vm_->ept[vm_->ad_index(g)]);
}

void SimMechanisms::scan_ept(uint8_t clear_mask, std::span<uint8_t> out) {
  Vm& vm = *vm_;
  const uint8_t m = static_cast<uint8_t>(((clear_mask & PteBits::kAccessed) ? kEptA : 0) |
                                         ((clear_mask & PteBits::kDirty) ? kEptD : 0));
  const size_t n = std::min(out.size(), vm.ept.size());
  for (size_t g = 0; g < n; ++g) {
    out[g] = ad_of(vm.ept[vm.ad_index(static_cast<Gpa>(g))]);
    if (vm.ad_index(static_cast<Gpa>(g)) == g) vm.ept[g] &= static_cast<uint8_t>(~m);
  }
  charge_ns(static_cast<double>(n) * vm.prof.ept_bit_ns);
}

void SimMechanisms::clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) {
  const uint8_t m = static_cast<uint8_t>(((mask & PteBits::kAccessed) ? kEptA : 0) | ((mask & PteBits::kDirty) ? kEptD : 0));
  for (Gpa g : gs) vm_->ept[vm_->ad_index(g)] &= static_cast<uint8_t>(~m);
  charge_ns(static_cast<double>(gs.size()) * vm_->prof.ept_bit_ns);
}

void SimMechanisms::drain_pml(std::vector<Gpa>& out) {
  // KVM kicks every vCPU whose buffer holds entries (an exit each) so the
  // buffers reach the log, then the thread walks the log.
  Vm& vm = *vm_;
  for (auto& cpu : vm.vcpus) {
    if (cpu.pml_n == 0) continue;
    vm.pml_log.insert(vm.pml_log.end(), cpu.pml.begin(), cpu.pml.begin() + cpu.pml_n);
    cpu.pml_n = 0;
    cpu.clock_ns += vm.prof.vm_exit_ns;
    ++vm.c.vm_exits;
  }
  charge_ns(static_cast<double>(vm.pml_log.size()) * vm.prof.pml_entry_ns);
  out.insert(out.end(), vm.pml_log.begin(), vm.pml_log.end());
  vm.pml_log.clear();
}

void SimMechanisms::flush_tlbs() {
  // A shootdown: every vCPU takes an exit, invalidates, and re-enters; the
  // misses that follow are charged by the access path as they happen.
  Vm& vm = *vm_;
  for (auto& cpu : vm.vcpus) {
    cpu.tlb.flush();
    // Charged where the vCPU is: a vCPU behind the thread's clock takes the
    // shootdown when it gets there, it is not dragged forward to it.
    cpu.clock_ns += vm.prof.tlb_shootdown_ns;
    ++vm.c.tlb_flushes;
    ++vm.c.vm_exits;
  }
}

// In progress (lead): the mechanisms below land with their simulator support.
void SimMechanisms::protect_for_hint(std::span<const Gpa>) { throw std::logic_error("protect_for_hint: not yet built"); }
void SimMechanisms::set_sampling(uint32_t, uint32_t) { throw std::logic_error("set_sampling: not yet built"); }
void SimMechanisms::drain_samples(std::vector<AccessSample>&) { throw std::logic_error("drain_samples: not yet built"); }
MigrationResult SimMechanisms::exchange(std::span<const std::pair<Gpa, Gpa>>, uint32_t) {
  throw std::logic_error("exchange: not yet built");
}

}  // namespace vtmm::sim
