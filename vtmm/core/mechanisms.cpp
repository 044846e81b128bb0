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
  }
  return "unknown mechanism";
}

}  // namespace vtmm
