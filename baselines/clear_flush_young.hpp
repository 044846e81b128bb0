#pragma once
// Host-side LRU aging of a VM's memory, as the host kernel's reclaim reads
// it: page_referenced() on a page of QEMU's guest RAM reaches KVM through
// the MMU notifier's clear_flush_young, and KVM clears the page's EPT
// accessed bit and, when it was set, flushes the VM's TLBs
// (kvm_mmu_notifier_clear_flush_young: kvm_age_hva, then
// kvm_flush_remote_tlbs if young; so in the kernels Nimble, TPP and the
// vTMM paper ran; later x86 kernels drop the flush with
// CONFIG_KVM_ELIDE_TLB_FLUSH_IF_YOUNG). The flush is what lets a page that
// vCPUs reach through a cached translation look young again at the next
// check: with 2 MiB mappings a whole VM's translations can stay cached, and
// without it no page would ever be seen accessed twice.
//
// Simplified: the kernel flushes once per young page it checks (a vCPU with
// a request already pending takes no second exit); here the scan flushes
// once, at its end, so its effect on the TLBs is the kernel's and its exits
// are a lower bound. DAMON's checks go through clear_young instead, which
// never flushes (baselines/damon.cpp).
#include <span>

#include "vtmm/core/mechanisms.hpp"

namespace vtmm::baselines {

// Reads and clears every page's EPT accessed bit into `bits` (scan_ept) and
// flushes the VM's TLBs if any was set. Needs EptAdBits and TlbFlush.
inline void clear_flush_young(Mechanisms& m, std::span<uint8_t> bits) {
  m.ept().scan_ept(PteBits::kAccessed, bits);
  for (uint8_t b : bits) {
    if (b & PteBits::kAccessed) {
      m.tlb().flush_tlbs();
      return;
    }
  }
}

}  // namespace vtmm::baselines
