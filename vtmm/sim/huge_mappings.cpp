// Splitting and merging 2 MiB EPT mappings on the simulated host
// (docs/huge-pages.md). The host's costs, from the host profile:
//  split: a page-table page for the 512 new entries (page_alloc_ns) and 512
//         entry writes (pte_scan_ns each, a streaming 8-byte store); the
//         caller adds the TLB shootdown (KVM's huge SPTE split).
//  merge: 512 entries checked (pte_scan_ns each); when some page changed host
//         frame since the split (it was migrated), the 4 KiB frames are no
//         longer one contiguous 2 MiB frame, so the host collapses them as
//         khugepaged does: a new 2 MiB frame (page_alloc_ns) and 512 page
//         copies on the region's tier (bandwidth booked, copy_gbps); the
//         caller adds the TLB shootdown. Without a move the original 2 MiB
//         frame is intact and only the entry is rebuilt (KVM's recovery of
//         huge mappings).
#include "vtmm/sim/vm.hpp"

namespace vtmm::sim {

double Vm::split_ept(uint32_t r) {
  const Gpa head = r * kPagesPerHuge;
  if (r >= ept_2m.size() || !ept_2m[r] || (ept[head] & kEptMigrating)) return -1;
  // The 4 KiB entries inherit the 2 MiB entry's A/D (and an armed hint).
  const uint8_t inherit = ept[head] & (kEptA | kEptD | kEptHint);
  for (uint32_t i = 1; i < kPagesPerHuge; ++i) ept[head + i] |= inherit;
  ept_2m[r] = 0;
  --ept_2m_live;
  ept_moved[r] = 0;
  ++counters_.huge_splits;
  return prof.page_alloc_ns + kPagesPerHuge * prof.pte_scan_ns;
}

bool Vm::can_merge(uint32_t r) const {
  const Gpa head = r * kPagesPerHuge;
  if (r >= ept_2m.size() || ept_2m[r] || head + kPagesPerHuge > ept.size() || cfg.memory_mode ||
      cfg.guest_numa)
    return false;
  const uint8_t tier = ept[head] & kEptSlow;
  for (uint32_t i = 0; i < kPagesPerHuge; ++i) {
    const uint8_t e = ept[head + i];
    if (!(e & kEptPresent) || (e & (kEptMigrating | kEptZapped)) || (e & kEptSlow) != tier)
      return false;
    if (owner[head + i] != kNone && (owner[head + i] & kGptOwner)) return false;
  }
  return true;
}

double Vm::merge_ept(uint32_t r, double at_ns) {
  if (!can_merge(r)) return -1;
  const Gpa head = r * kPagesPerHuge;
  uint8_t ad = 0;
  for (uint32_t i = 0; i < kPagesPerHuge; ++i)
    ad = static_cast<uint8_t>(ad | (ept[head + i] & (kEptA | kEptD)));
  ept[head] |= ad;
  double cost = kPagesPerHuge * prof.pte_scan_ns;
  if (ept_moved[r]) {
    ++counters_.huge_collapse_copies;
    cost += prof.page_alloc_ns;
    const int t = static_cast<int>(tier_of(head));
    for (uint32_t i = 0; i < kPagesPerHuge; ++i) {
      const double bytes = static_cast<double>(kPageSize);
      cost += host.bw[t].book(at_ns + cost, bytes, false);
      cost += host.bw[t].book(at_ns + cost, bytes, true);
      cost += bytes / prof.copy_gbps;
      counters_.copied_bytes += kPageSize;
    }
  }
  ept_2m[r] = 1;
  ++ept_2m_live;
  ept_moved[r] = 0;
  ++counters_.huge_merges;
  return cost;
}

}  // namespace vtmm::sim
