#pragma once
// The mechanisms a stock Linux host offers a daemon over one process's
// memory: the process is QEMU (its guest RAM) on a tiered host, or a stand-in
// holding a memfd-backed region (vtmm-tierd --stand-in). Guest page g is the
// g-th 4 KiB page of the regions, in order (guest-physical order for QEMU).
//
// What it provides (docs/vm.md, "Mechanisms on a real host"):
//  - EptAdBits: D from soft-dirty on the process's mapping (clear_refs 4 and
//    /proc/PID/pagemap bit 55); A from idle page tracking where the kernel
//    has it (/sys/kernel/mm/page_idle: on KVM, clearing a page's idle bit
//    reaches the EPT accessed bit through the MMU notifiers), else A is
//    implied by D only: a page that was only read is not seen.
//  - Migrate: move_pages(2) between the fast and the slow host node, the
//    same GPA with a new backing (PM_Linux: the kernel unmaps, copies and
//    remaps; an access during the copy waits). Other methods are refused.
//  - TlbFlush: nothing to do, and honest about it: clear_refs, page_idle
//    and move_pages flush (through the MMU notifiers for a guest) themselves.
//  - Exchange: a stock kernel has no exchange of two pages (Nimble's
//    exchange_pages is a patch), so a batch of pairs is two move_pages calls:
//    the fast pages to the slow node, then the slow pages into the room that
//    left. It needs the room on the slow node for a moment (the slow
//    allowance is the whole region, so it is there) and copies each page
//    once, as an exchange does, but not concurrently.
//  - GptList, PteAdBits: only with own_page_tables, the process's own page
//    tables through the guest companion module (process_page_tables.hpp):
//    the two-node check's stand-in plays both QEMU and the guest.
//    A real guest's page tables come through the agent (use_page_tables with
//    an AgentPageTables).
//  - HintFaults: only with hint_faults, through the companion module's
//    /proc/vtmm_hint in the kernel the process runs on: protect_for_hint
//    makes the pages PROT_NONE as the kernel's NUMA scanner does; the
//    kernel takes each fault and restores the page, the module records it
//    and keeps the kernel from moving it; drain_hint_faults hands the faults
//    over (the driver delivers them to the design before its next tick, not
//    in the faulting context: the access has completed by then).
//  - GuestNuma: with own_page_tables, the daemon runs in the kernel of the
//    process, so its two nodes are the process's own NUMA nodes and a move
//    is the guest migrating itself (the two-node check's stand-in plays the
//    guest).
// Not offered: PML and PML-assisted migration (a patched KVM), sampling,
// huge mappings, ground truth.
//
// The memory map is a snapshot: refresh() asks the kernel where each page
// is (move_pages' query mode) before each tick.
#include <chrono>
#include <cstdint>
#include <memory>
#include <string>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/params.hpp"
#include "vtmm/platform/process_page_tables.hpp"

namespace vtmm::platform {

// Whether this kernel keeps soft-dirty bits (CONFIG_MEM_SOFT_DIRTY): a page
// of our own written, cleared, written again must show bit 55 in pagemap.
bool soft_dirty_works();

struct ProcessRegion {
  uint64_t hva = 0, bytes = 0;  // page-aligned
};

struct ProcessMemoryConfig {
  int pid = 0;
  std::vector<ProcessRegion> regions;
  int fast_node = 0, slow_node = 1;
  uint64_t fast_pages = 0;  // the fast allowance
  // The slow allowance: every page may live on the slow node (a demotion
  // must find room before the promotion it makes room for), so the region's size.
  uint64_t slow_pages = 0;
  // Track the process's own page tables through the companion module.
  bool own_page_tables = false;
  // Hint faults through the companion module (hint_faults_available()) at
  // hint_path; tests point it at a file standing in for it.
  bool hint_faults = false;
  std::string hint_path = kHintPath;
  // The kernel's idle page bitmap (absent: accessed bits are the dirty bits).
  // Tests point it at a file standing in for it.
  std::string page_idle_path = "/sys/kernel/mm/page_idle/bitmap";
};

// Counts of what the mechanisms did, for the run record.
struct ProcessMemoryStats {
  uint64_t scans = 0, soft_dirty_pages = 0, idle_accessed_pages = 0;
  uint64_t move_calls = 0, moved = 0, to_fast = 0, to_slow = 0, move_failed = 0,
           skipped_no_room = 0, exchanged_pairs = 0;
  uint64_t hint_protected = 0, hint_faults = 0, hint_lost = 0, hint_elsewhere = 0,
           hint_disarmed = 0, hint_not_armed = 0;
  double move_s = 0, scan_s = 0, hint_s = 0;
};

// What an instance will have, for checking a design before it starts:
// page_tables: page tables (own_page_tables or use_page_tables); hints: hint
// faults; own: the daemon runs in the process's kernel (own_page_tables).
struct ProcessOffer {
  bool page_tables = false, hints = false, own = false;
};

class ProcessMemory final : public Mechanisms,
                            public EptAccessBits,
                            public TlbControl,
                            public PageMigration,
                            public PageExchange,
                            public HintFaultArming {
 public:
  // Checks the regions (page-aligned, non-empty) and opens the process's files.
  explicit ProcessMemory(ProcessMemoryConfig c);
  ~ProcessMemory() override;
  ProcessMemory(const ProcessMemory&) = delete;
  ProcessMemory& operator=(const ProcessMemory&) = delete;

  // What it can offer on a kernel with soft-dirty or idle page tracking
  // (an instance offers EPT bits only where the kernel has one of them).
  using Offer = ProcessOffer;
  static bool offered(Mechanism m, Offer o = {}) {
    return m == Mechanism::EptAdBits || m == Mechanism::TlbFlush || m == Mechanism::Migrate ||
           m == Mechanism::Exchange ||
           (o.page_tables && (m == Mechanism::GptList || m == Mechanism::PteAdBits)) ||
           (o.hints && m == Mechanism::HintFaults) || (o.own && m == Mechanism::GuestNuma);
  }
  // Whether this kernel's companion module gives hint faults (/proc/vtmm_hint).
  static bool hint_faults_available();
  // Withholds what a policy did not declare (as the simulator does), so a
  // design that reaches an undeclared capability fails here too.
  void offer_only(std::span<const Mechanism> declared) {
    provide(all());
    keep_only(declared);
  }
  // Re-reads every page's node, and walks the page tables when they are
  // offered; call before a policy's tick.
  void refresh();
  // Offers GptList and PteAdBits from `t` (a real guest's, through the agent).
  void use_page_tables(std::unique_ptr<PageTableSnapshot> t) {
    tables_ = std::move(t);
    provide(all());
  }
  // Whether accessed bits come from idle page tracking (else A = D), and
  // whether dirty bits come from soft-dirty (else there are none).
  bool has_soft_dirty() const { return soft_dirty_; }
  bool has_page_idle() const { return idle_fd_ >= 0; }
  const ProcessMemoryStats& stats() const { return stats_; }
  Json report() const;
  // Host address of guest page g, and the page at a host address (kNone: none).
  uint64_t hva_of(uint64_t g) const;
  Gpa page_of(uint64_t hva) const;
  // The node each page is on (negative: not populated or an error), as of refresh().
  const std::vector<int>& nodes() const { return node_; }

  // Mechanisms.
  uint32_t guest_pages() const override { return static_cast<uint32_t>(node_.size()); }
  bool backed(Gpa g) const override { return g < node_.size() && node_[g] >= 0; }
  Tier tier_of(Gpa g) const override;
  uint64_t capacity_pages(Tier t) const override;
  uint64_t used_pages(Tier t) const override;
  bool test_and_clear_young(Gpa g) override;
  double now_ns() const override;
  void charge_ns(double ns) override { charged_ns_ += ns; }

  // EptAccessBits.
  uint8_t ept_bits(Gpa g) override;
  void clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) override;
  void scan_ept(uint8_t clear_mask, std::span<uint8_t> out) override;
  // TlbControl.
  void flush_tlbs() override {}
  // PageMigration.
  MigrationResult migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how,
                          uint32_t threads) override;
  // PageExchange.
  MigrationResult exchange(std::span<const std::pair<Gpa, Gpa>> pairs, uint32_t threads) override;
  // HintFaultArming.
  void protect_for_hint(std::span<const Gpa> gs) override;
  // The hint faults taken since the last call on pages protect_for_hint
  // armed, oldest first (write unknown: false; vcpu 0; times on now_ns()'s
  // clock). Faults on pages it did not arm are counted, not handed over.
  void drain_hint_faults(std::vector<HintFault>& out);

 protected:
  bool offers_mode(Mechanism m) const override {
    return m == Mechanism::GuestNuma && c_.own_page_tables;
  }

 private:
  // EPT bits only when the kernel gives some: soft-dirty or idle pages.
  Provided all() {
    return {.gpt = tables_.get(),
            .ept = soft_dirty_ || idle_fd_ >= 0 ? this : nullptr,
            .tlb = this,
            .mover = this,
            .exchanger = this,
            .hints = hint_fd_ >= 0 ? this : nullptr};
  }
  // pagemap entries of every page (bit 55 soft-dirty, bits 0-54 the frame).
  void read_pagemap(std::vector<uint64_t>& out) const;
  void clear_soft_dirty();
  // Idle bits of the frames in `pfns` (bit set: not accessed since marked idle).
  void mark_idle(const std::vector<uint64_t>& pfns);
  bool idle(uint64_t pfn) const;
  // One move_pages call over `gs` to `node`: how many landed.
  uint32_t move(const std::vector<Gpa>& gs, int node);
  // Hint-fault requests to the module, in chunks it accepts.
  void hint_send(HintOp op, std::span<const Gpa> gs);
  // Makes the armed pages among `gs` accessible (before they move).
  void disarm(std::span<const Gpa> gs);

  ProcessMemoryConfig c_;
  std::vector<int> node_;
  std::vector<uint64_t> pagemap_;
  uint64_t used_[2] = {0, 0};
  int pagemap_fd_ = -1, clear_refs_fd_ = -1, idle_fd_ = -1, hint_fd_ = -1;
  std::vector<double> armed_ns_;  // when protect_for_hint last armed each page
  std::vector<uint8_t> armed_;    // armed, and no fault seen since
  std::vector<HintFaultRecord> hint_buf_;
  bool soft_dirty_ = false;
  std::chrono::steady_clock::time_point t0_;
  double charged_ns_ = 0;
  ProcessMemoryStats stats_;
  std::unique_ptr<PageTableSnapshot> tables_;  // own_page_tables, or use_page_tables
};

}  // namespace vtmm::platform
