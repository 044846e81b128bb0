#pragma once
// The guest page-table mechanisms (GptList and PteAdBits) over one process's
// own page tables, read through vTMM's guest companion module
// (guest/vtmm_gpt, /proc/vtmm_gpt) in the kernel the process runs on.
//
// In the two-node check the stand-in for QEMU runs inside the test guest,
// so its own page tables play the guest's: its virtual pages map to the
// tracked pages (a guest-physical page of QEMU's RAM is an offset in the
// mapping, as a stand-in page is) and the companion walks them as it would
// walk a guest process's. A real VM's page tables live in the guest and
// reach the host through the agent instead (docs/vm.md).
//
// One walk per tick reads every leaf table and clears every present PTE's
// accessed and dirty bits (the companion marks a page dirty before it drops
// its dirty bit). vTMM's tracker clears only the bits its multi-level queue
// allows, but it looks at a PTE only in windows after one in which the bits
// were cleared (a period's last window clears without looking), so clearing
// every bit every walk gives the same answers; what it gives up is the
// queue's saving on the walker's bit updates. clear_gpt_bits is therefore a
// no-op here. The process's own tables are named guest_pages + their order
// of first sight (they are not among the tracked pages); a guest's tables
// are guest pages and keep their frame numbers.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/params.hpp"
#include "vtmm/platform/companion.hpp"

namespace vtmm::platform {

struct PageTableStats {
  uint64_t walks = 0, tables = 0, present = 0, accessed = 0, dirty = 0, rejected = 0;
  double walk_s = 0;
};

// The guest page-table mechanisms over a snapshot of leaf page tables taken
// once a window by walk(): the tables' PTE targets and A/D bits as the walk
// found them (a walk clears every present PTE's A and D; see above).
// Sources fill it: the companion in this kernel (ProcessPageTables) or a
// real guest's companion through the agent (AgentPageTables).
class PageTableSnapshot : public GuestPageTables {
 public:
  explicit PageTableSnapshot(uint32_t guest_pages) : pages_(guest_pages) {}
  // Takes a new snapshot (every leaf table of the tracked process).
  virtual void walk() = 0;
  virtual Json report() const = 0;
  const PageTableStats& stats() const { return stats_; }

  // GuestPageTables.
  std::span<const Gpa> gpt_pages() const override { return ids_; }
  void scan_gpt_page(Gpa gpt, uint8_t clear_mask, std::span<PteBits, kPtesPerPage> out) override;
  GptView read_gpt_page(Gpa gpt, GptCopy& copy) override;
  void clear_gpt_bits(Gpa, const PteSet&, uint8_t) override {}  // the walk cleared them all

 protected:
  struct Table {
    std::array<Gpa, kPtesPerPage> target{};
    std::array<uint8_t, kPtesPerPage> bits{};
  };
  // One walk: begin(); put() per table found, whose PTEs the caller fills
  // (set()); end(). A table is known by `key` (its address or frame) and
  // named `id_if_new` when first seen; one missing from a walk maps nothing.
  void begin();
  Table& put(uint64_t key, Gpa id_if_new);
  void set(Table& t, uint32_t i, Gpa target, bool accessed, bool dirty);
  void end(uint64_t tables_found);
  size_t known() const { return tables_.size(); }
  Json stats_json() const;

  uint32_t pages_;
  PageTableStats stats_;

 private:
  uint32_t index_of(Gpa id) const;

  std::vector<Table> tables_;                          // in order of first sight
  std::vector<Gpa> ids_;                               // parallel: every table ever seen
  std::vector<std::pair<uint64_t, uint32_t>> by_key_;  // sorted: key -> index
  std::vector<std::pair<Gpa, uint32_t>> by_id_;        // sorted: id -> index
  std::vector<uint8_t> in_walk_;
};

// The process's own page tables through the companion in this kernel.
class ProcessPageTables final : public PageTableSnapshot {
 public:
  // page_of(va): the tracked page a virtual address of the process maps to,
  // kNone when it is not tracked. Opens the companion (runtime_error if absent).
  ProcessPageTables(int pid, uint32_t guest_pages, std::function<Gpa(uint64_t)> page_of,
                    const std::string& companion = kCompanionPath);
  ~ProcessPageTables() override;
  ProcessPageTables(const ProcessPageTables&) = delete;
  ProcessPageTables& operator=(const ProcessPageTables&) = delete;
  // Whether the companion is loaded and usable by this process.
  static bool available(const std::string& companion = kCompanionPath);

  // Reads every leaf table of the process and clears its PTEs' A and D bits.
  void walk() override;
  // Decodes one walk's records (the companion's bytes): public for tests.
  void take(std::span<const CompanionTable> records);
  Json report() const override;

 private:
  int pid_, fd_ = -1;
  std::function<Gpa(uint64_t)> page_of_;
  std::vector<CompanionTable> buf_;
};

}  // namespace vtmm::platform
