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

const char* side_name(Side s) { return s == Side::Host ? "host" : "guest"; }

}  // namespace vtmm
