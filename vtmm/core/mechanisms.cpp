#include "vtmm/core/mechanisms.hpp"

namespace vtmm {

const char* mechanism_name(Mechanism m) {
  switch (m) {
    case Mechanism::GptList: return "guest page-table page list";
    case Mechanism::PteAdBits: return "guest PTE accessed/dirty bits";
    case Mechanism::EptAdBits: return "EPT accessed/dirty bits";
    case Mechanism::Pml: return "page-modification logging (PML)";
    case Mechanism::TlbFlush: return "TLB flush";
    case Mechanism::Migrate: return "page migration";
    case Mechanism::GroundTruth: return "ground-truth access counts";
    case Mechanism::HintFaults: return "NUMA hint faults";
    case Mechanism::Sampling: return "PEBS-like access sampling";
    case Mechanism::Exchange: return "page exchange";
    case Mechanism::GuestNuma: return "guest-visible NUMA nodes";
    case Mechanism::HugeMappings: return "2 MiB EPT mappings (split/merge)";
    case Mechanism::SubpageAdBits: return "sub-page A/D bits in 2 MiB mappings (hardware mode)";
  }
  return "unknown mechanism";
}

GptView Mechanisms::read_gpt_page(Gpa gpt, GptCopy& copy) {
  std::array<PteBits, kPtesPerPage> ptes;
  scan_gpt_page(gpt, 0, ptes);
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const bool present = (ptes[i].bits & PteBits::kPresent) != 0;
    copy.target[i] = present ? ptes[i].gpa : kNone;
    copy.bits[i] = static_cast<uint8_t>(ptes[i].bits & (PteBits::kAccessed | PteBits::kDirty));
  }
  return GptView{copy.target.data(), copy.bits.data(), 1};
}

const char* side_name(Side s) { return s == Side::Host ? "host" : "guest"; }

}  // namespace vtmm
