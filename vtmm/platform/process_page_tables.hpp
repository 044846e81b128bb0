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
// no-op here. Tables are named guest_pages + their order of first sight:
// they are not among the tracked pages.
#include <array>
#include <cstdint>
#include <functional>
#include <span>
#include <string>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/params.hpp"

namespace vtmm::platform {

inline constexpr const char* kCompanionPath = "/proc/vtmm_gpt";
// The companion's record of one leaf table: the first virtual address it
// maps, its frame, its 512 PTEs as the CPU wrote them.
struct CompanionTable {
  uint64_t va, pfn, pte[kPtesPerPage];
};
inline constexpr uint32_t kCompanionMaxTables = 4096;  // the module's bound per walk

struct PageTableStats {
  uint64_t walks = 0, tables = 0, present = 0, accessed = 0, dirty = 0, rejected = 0;
  double walk_s = 0;
};

class ProcessPageTables final : public GuestPageTables {
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
  void walk();
  // Decodes one walk's records (the companion's bytes): public for tests.
  void take(std::span<const CompanionTable> records);
  const PageTableStats& stats() const { return stats_; }
  Json report() const;

  // GuestPageTables.
  std::span<const Gpa> gpt_pages() const override { return ids_; }
  void scan_gpt_page(Gpa gpt, uint8_t clear_mask, std::span<PteBits, kPtesPerPage> out) override;
  GptView read_gpt_page(Gpa gpt, GptCopy& copy) override;
  void clear_gpt_bits(Gpa, const PteSet&, uint8_t) override {}  // the walk cleared them all

 private:
  struct Table {
    uint64_t va = 0;
    std::array<Gpa, kPtesPerPage> target{};
    std::array<uint8_t, kPtesPerPage> bits{};
  };
  const Table& table(Gpa gpt) const;
  uint32_t index_of(uint64_t va);  // by first sight

  int pid_, fd_ = -1;
  uint32_t pages_;
  std::function<Gpa(uint64_t)> page_of_;
  std::vector<Table> tables_;  // by id - pages_
  std::vector<Gpa> ids_;       // every table ever seen, in order of first sight
  std::vector<std::pair<uint64_t, uint32_t>> by_va_;  // sorted
  std::vector<CompanionTable> buf_;
  PageTableStats stats_;
};

}  // namespace vtmm::platform
