#include "vtmm/core/mechanisms.hpp"

#include <string>

namespace vtmm {

const char* mechanism_name(Mechanism m) {
  switch (m) {
    case Mechanism::GptList:
      return "guest page-table page list";
    case Mechanism::PteAdBits:
      return "guest PTE accessed/dirty bits";
    case Mechanism::EptAdBits:
      return "EPT accessed/dirty bits";
    case Mechanism::Pml:
      return "page-modification logging (PML)";
    case Mechanism::TlbFlush:
      return "TLB flush";
    case Mechanism::Migrate:
      return "page migration";
    case Mechanism::GroundTruth:
      return "ground-truth access counts";
    case Mechanism::HintFaults:
      return "NUMA hint faults";
    case Mechanism::Sampling:
      return "PEBS-like access sampling";
    case Mechanism::Exchange:
      return "page exchange";
    case Mechanism::GuestNuma:
      return "guest-visible NUMA nodes";
    case Mechanism::HugeMappings:
      return "2 MiB EPT mappings (split/merge)";
    case Mechanism::SubpageAdBits:
      return "sub-page A/D bits in 2 MiB mappings (hardware mode)";
    case Mechanism::WriteProtect:
      return "write protection during a page's copy (PM_WP)";
  }
  return "unknown mechanism";
}

GptView GuestPageTables::read_gpt_page(Gpa gpt, GptCopy& copy) {
  std::array<PteBits, kPtesPerPage> ptes;
  scan_gpt_page(gpt, 0, ptes);
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const bool present = (ptes[i].bits & PteBits::kPresent) != 0;
    copy.target[i] = present ? ptes[i].gpa : kNone;
    copy.bits[i] = static_cast<uint8_t>(ptes[i].bits & (PteBits::kAccessed | PteBits::kDirty));
  }
  return GptView{copy.target.data(), copy.bits.data(), 1};
}

const char* mechanism_key(Mechanism m) {
  switch (m) {
    case Mechanism::GptList:
      return "gpt_list";
    case Mechanism::PteAdBits:
      return "pte_ad_bits";
    case Mechanism::EptAdBits:
      return "ept_ad_bits";
    case Mechanism::Pml:
      return "pml";
    case Mechanism::TlbFlush:
      return "tlb_flush";
    case Mechanism::Migrate:
      return "migrate";
    case Mechanism::GroundTruth:
      return "ground_truth";
    case Mechanism::HintFaults:
      return "hint_faults";
    case Mechanism::Sampling:
      return "sampling";
    case Mechanism::Exchange:
      return "exchange";
    case Mechanism::GuestNuma:
      return "guest_numa";
    case Mechanism::HugeMappings:
      return "huge_mappings";
    case Mechanism::SubpageAdBits:
      return "subpage_ad_bits";
    case Mechanism::WriteProtect:
      return "write_protect";
  }
  return "unknown";
}

bool Mechanisms::offers(Mechanism m) const {
  if (m == Mechanism::GuestNuma || m == Mechanism::SubpageAdBits || m == Mechanism::WriteProtect)
    return offers_mode(m);
  bool offered = false;
  each_slot(provided_, [&](auto* slot, std::initializer_list<Mechanism> ms) {
    if (std::find(ms.begin(), ms.end(), m) != ms.end()) offered = slot != nullptr;
  });
  return offered;
}

void Mechanisms::keep_only(std::span<const Mechanism> keep) {
  each_slot(provided_, [&](auto*& slot, std::initializer_list<Mechanism> ms) {
    const bool kept = std::any_of(ms.begin(), ms.end(), [&](Mechanism m) {
      return std::find(keep.begin(), keep.end(), m) != keep.end();
    });
    if (!kept) slot = nullptr;
  });
}

bool Mechanisms::test_and_clear_young(Gpa g) {
  EptAccessBits& e = ept();
  const bool young = (e.ept_bits(g) & PteBits::kAccessed) != 0;
  if (young) {
    const Gpa one[1] = {g};
    e.clear_ept_bits(one, PteBits::kAccessed);
  }
  return young;
}

void Mechanisms::throw_absent(Mechanism m) {
  throw std::logic_error(std::string("this platform offers no ") + mechanism_name(m));
}

const char* side_name(Side s) { return s == Side::Host ? "host" : "guest"; }

}  // namespace vtmm
