#pragma once
// Trackers: what a window of tracking tells the classifier. Each fills, for
// every guest page, what it saw the page do in the window (Seen) and charges
// its own costs through Mechanisms.
//
//  - PmlGptTracker (vTMM): the guest companion's page-table pages are watched
//    by PML (their EPT D bits cleared); each window only the logged ones are
//    scanned, 512 PTEs each, subject to the multi-level queue; then the
//    watched pages are re-armed and the vCPUs' TLBs flushed once.
//  - EptScanner (vTMM's ablation): every EPT entry's A/D bits are read and
//    cleared each window, then the TLBs are flushed.
#include <cstdint>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/policy/mlq.hpp"

namespace vtmm::policy {

struct TrackStats {
  uint64_t windows = 0, gpt_scanned = 0, ptes_scanned = 0, ad_clears = 0, pml_drained = 0;
  uint64_t gpt_skipped = 0;  // watched tables left alone because all their PTEs were in DND
  uint64_t ept_scanned = 0;
};

class PmlGptTracker {
 public:
  explicit PmlGptTracker(MlqConfig cfg) : cfg_(cfg) {}
  void attach(Mechanisms& m);
  // Window k: seen[g] for every guest page (Seen::None for pages not seen).
  void window(Mechanisms& m, uint32_t k, std::vector<uint8_t>& seen, TrackStats& st);
  const std::vector<uint8_t>& referenced() const { return refs_; }  // GPA is some PTE's target
  const std::vector<uint8_t>& is_gpt() const { return is_gpt_; }
  const MlqPage& page(Gpa g) const { return mlq_[g]; }

 private:
  uint32_t slot_of(Gpa gpt);
  MlqConfig cfg_;
  std::vector<MlqPage> mlq_;         // by data GPA
  std::vector<uint8_t> is_gpt_, refs_, logged_;
  std::vector<uint64_t> scanned_;     // this window: bit g set once page g's PTE was scanned
  std::vector<uint32_t> slot_;        // by GPA of a page-table page: its slot (once scanned)
  std::vector<uint32_t> due_at_;      // by slot: next window the table must be scanned (0: none)
  std::vector<Gpa> prev_;             // by slot: the table's 512 previous PTE targets
  std::vector<Gpa> watched_;          // page-table pages handed over so far
  std::vector<Gpa> log_, scan_, rearm_;
};

class EptScanner {
 public:
  void attach(Mechanisms& m);
  void window(Mechanisms& m, uint32_t k, std::vector<uint8_t>& seen, TrackStats& st);

 private:
  std::vector<uint8_t> bits_;
};

}  // namespace vtmm::policy
