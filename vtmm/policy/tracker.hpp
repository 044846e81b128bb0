#pragma once
// Trackers: what a window of tracking tells the classifier. Each fills, for
// every guest page, what it saw the page do in the window (Seen) and charges
// its own costs through Mechanisms.
//
//  - PmlGptTracker (vTMM): the guest companion's page-table pages are watched
//    by PML (their EPT D bits cleared); each window only the logged ones are
//    scanned, 512 PTEs each, subject to the multi-level queue; then the
//    watched pages are re-armed and the vCPUs' TLBs flushed once.
//  - GptScanTracker: the same scan and MLQ without PML, for a host whose KVM
//    has none: every page-table page is scanned each window, except those
//    whose PTEs are all in a do-not-disturb period that outlasts the window.
//  - EptScanner (vTMM's ablation): every EPT entry's A/D bits are read and
//    cleared each window, then the TLBs are flushed.
#include <cstdint>
#include <span>
#include <unordered_map>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/policy/mlq.hpp"
#include "vtmm/policy/parts.hpp"
#include "vtmm/policy/seen_writes.hpp"

namespace vtmm::policy {

struct TrackStats {
  uint64_t windows = 0, gpt_scanned = 0, ptes_scanned = 0, ad_clears = 0, pml_drained = 0;
  uint64_t gpt_skipped = 0;  // watched tables left alone because all their PTEs were in DND
  uint64_t ept_scanned = 0;
};

// State is kept per PTE slot (table slot * 512 + PTE index), tables in GPA
// order (the order windows scan them in; new tables wait at the end until
// they are an eighth of all): a scan walks its tables' state sequentially
// however the guest's allocator scattered the tables and data pages. The
// MLQ state therefore follows the PTE: a PTE the guest re-points to another
// page starts the new page at level 0 (a host-side run never re-points; a
// guest that migrates pages itself does).
class PmlGptTracker : public Tracker {
 public:
  explicit PmlGptTracker(MlqConfig cfg, bool pml = true) : cfg_(cfg), pml_(pml) {}
  PmlGptTracker(Params&, const PartEnv& env) : cfg_(env.mlq) {}
  std::vector<Mechanism> needs() const override {
    if (!pml_) return {Mechanism::GptList, Mechanism::PteAdBits, Mechanism::TlbFlush};
    return {Mechanism::GptList, Mechanism::PteAdBits, Mechanism::EptAdBits, Mechanism::Pml,
            Mechanism::TlbFlush};
  }
  void attach(Mechanisms& m) override;
  // Window k: seen[g] for every guest page (Seen::None for pages not seen).
  void window(Mechanisms& m, uint32_t k, std::vector<uint8_t>& seen, TrackStats& st) override;
  const PageBits& referenced() const override { return refs_; }  // GPA is some PTE's target
  const PageBits& is_gpt() const override { return is_gpt_; }
  // The MLQ state of the PTE that maps data page g (a search: for tests).
  MlqPage page(Gpa g) const;

 private:
  struct Table {
    Gpa gpa = kNone;
    uint32_t due_at = 0;  // next window one of its PTEs' do-not-disturb periods ends (0: none)
    uint32_t stamp = 0;   // k + 1 once queued for a scan in window k
    bool carry = false;   // some PTE in Dnd or Probe: visited in windows it is not scanned
    bool idle = false;    // left un-armed (PML) / unscanned (no PML) until a period ends
  };
  void hand_over(std::span<const Gpa> gpts);
  void queue_logged(Mechanisms& m, uint32_t k, TrackStats& st);
  void queue(uint32_t slot, uint32_t k);
  // Both store to seen[] through writes_; `pages` is seen's size (GPAs at or
  // beyond it are not present).
  void scan(Mechanisms& m, uint32_t slot, uint32_t k, size_t pages, TrackStats& st);
  void carry_over(uint32_t slot, uint32_t k, size_t pages);
  void repoint(Gpa& prev, Gpa now, MlqPage& p);
  uint32_t slot_of(Gpa gpt) const;
  void index_insert(Gpa gpt, uint32_t slot);
  void index_put(Gpa gpt, uint32_t slot);  // no growth: index_ has room
  void order_by_gpa();

  MlqConfig cfg_;
  bool pml_ = true;              // false: GptScanTracker
  std::vector<Table> tables_;    // by slot
  size_t handed_ = 0;            // entries of the companion's list taken so far
  size_t ordered_ = 0;           // tables_ up to here were last put in GPA order
  std::vector<MlqPage> mlq_;     // by PTE slot
  std::vector<Gpa> target_;      // by PTE slot: its target when last scanned (kNone: not present)
  std::vector<uint64_t> index_;  // open addressing, GPA << 32 | slot (kFree: empty)
  // By GPA, a bit each; a page more PTEs point at than one (rare: a guest's
  // shared mapping, or a stale target until its PTE is scanned again) keeps
  // the count beyond one here.
  PageBits is_gpt_, refs_;
  std::unordered_map<Gpa, uint32_t> extra_refs_;
  std::vector<uint64_t> scan_;  // this window's tables as GPA << 32 | slot, sorted
  std::vector<Gpa> log_, rearm_;
  GptCopy copy_{};
  SeenWrites writes_;  // a window's stores to seen[], queued and applied in bursts
};

// Without PML a window cannot know which tables were walked: it scans every
// table but those left alone (Table::idle), and a table counts as walked
// (seen written: the walker set a bit in it) when one of its PTEs was seen.
// Table identifiers need not be guest pages (a platform may name tables
// outside the tracked memory); those inside it are marked as page tables.
class GptScanTracker final : public PmlGptTracker {
 public:
  explicit GptScanTracker(MlqConfig cfg) : PmlGptTracker(cfg, /*pml=*/false) {}
  GptScanTracker(Params&, const PartEnv& env) : PmlGptTracker(env.mlq, /*pml=*/false) {}
};

class EptScanner final : public Tracker {
 public:
  EptScanner() = default;
  EptScanner(Params&, const PartEnv&) {}
  std::vector<Mechanism> needs() const override {
    return {Mechanism::EptAdBits, Mechanism::TlbFlush};
  }
  void attach(Mechanisms& m) override;
  void window(Mechanisms& m, uint32_t k, std::vector<uint8_t>& seen, TrackStats& st) override;

 private:
  std::vector<uint8_t> bits_;
};

}  // namespace vtmm::policy
