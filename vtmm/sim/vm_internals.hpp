#pragma once
// The VM state a few tests and benchmarks write directly, to build a case no
// mechanism reaches in a few steps (a PTE re-pointed by hand, ground truth
// written without running accesses) or to stand in for an agent outside the
// simulator (a user-space daemon clearing A/D bits). Vm names this as its
// one friend besides SimMechanisms; no simulator or policy code includes it.
#include <cstdint>

#include "vtmm/sim/vm.hpp"

namespace vtmm::sim {

struct VmInternals {
  static void set_pte(Vm& vm, uint64_t vpn, Gpa g) { vm.pte_gpa[vpn] = g; }
  static void clear_pte_bits(Vm& vm, uint64_t vpn, uint8_t bits) {
    vm.pte_bits[vpn] &= static_cast<uint8_t>(~bits);
  }
  static void clear_ept_bits(Vm& vm, Gpa g, uint8_t bits) {
    vm.ept[g] &= static_cast<uint8_t>(~bits);
  }
  static void add_truth_misses(Vm& vm, Gpa g, uint32_t n) { vm.truth_misses_[g] += n; }
};

}  // namespace vtmm::sim
