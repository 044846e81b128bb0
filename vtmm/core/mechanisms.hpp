#pragma once
// The mechanisms a platform offers to policies, and what each one charges.
//
// A policy is written against this interface only, so it runs unchanged on the
// simulated host and on real VMs. Every call is made from a hypervisor (host)
// thread at the current tick and charges that thread's clock, except where a
// mechanism's cost falls on the guest (TLB shootdowns and migration traps are
// charged to the vCPUs that suffer them), as on real hardware.
//
// A platform implements the capability interfaces it has (guest page
// tables, EPT bits, PML, ...) and hands them to Mechanisms; offers() follows
// from what it handed over. A policy that needs a mechanism the platform
// lacks is refused before the run (see Policy::needs()).
#include <algorithm>
#include <array>
#include <cstdint>
#include <initializer_list>
#include <span>
#include <stdexcept>
#include <vector>

#include "vtmm/core/types.hpp"

namespace vtmm {

enum class Mechanism : uint8_t {
  GptList,        // the guest companion's list of leaf page-table pages
  PteAdBits,      // read / clear guest PTE accessed & dirty bits
  EptAdBits,      // read / clear EPT accessed & dirty bits
  Pml,            // page-modification logging of EPT D-bit 0->1 transitions
  TlbFlush,       // flush the VM's vCPU TLBs
  Migrate,        // re-back a guest page on the other tier
  GroundTruth,    // true per-page access counts (simulator only; for evaluation)
  HintFaults,     // NUMA hint faults: protect pages, fault on the next access
  Sampling,       // PEBS-like sampling of LLC load misses and stores
  Exchange,       // swap a fast and a slow page without free room (Nimble)
  GuestNuma,      // the guest sees a fast and a slow NUMA node and migrates itself
  HugeMappings,   // 2 MiB EPT mappings: choose new backings' size, split and merge them
  SubpageAdBits,  // hardware mode: A/D bits per 4 KiB inside a 2 MiB mapping
  WriteProtect    // write-protect a page while it is copied (PM_WP's method of migrate)
};
const char* mechanism_name(Mechanism m);
// The mechanism's name in run records ("pml", "ept_ad_bits", ...).
const char* mechanism_key(Mechanism m);

// How a page is moved. All keep the GPA and re-point the EPT entry.
enum class MigrationMethod : uint8_t {
  Linux,         // unmap, copy, remap: any access during the copy traps and waits
  WriteProtect,  // map read-only during the copy: writes trap and wait (HeMem style)
  Pml            // copy while mapped, then re-copy pages PML saw dirtied (vTMM)
};

// Which side of the VM boundary a design runs on.
//  Host:  in the hypervisor, transparent to the guest: pages keep their GPA,
//         the EPT entry is re-pointed; faults are VM exits.
//  Guest: in the guest kernel, on guest-visible NUMA nodes (GPA ranges the
//         host backs with one tier each): a migration copies the data to a
//         GPA on the other node and updates the guest PTE, with a guest TLB
//         shootdown; faults are guest page faults (no VM exit); the design's
//         background work runs on the guest's vCPUs, not on a host thread.
enum class Side : uint8_t { Host, Guest };
const char* side_name(Side s);

// A NUMA hint fault, delivered to Policy::on_hint_fault in the faulting
// vCPU's context (mechanism calls made there charge that vCPU).
struct HintFault {
  Gpa gpa;  // the page accessed (head page for 2 MiB mappings)
  bool write;
  uint32_t vcpu;
  double protected_ns;  // when protect_for_hint() armed it
  double now_ns;        // when the fault happened (the vCPU's clock)
};

// One PEBS-like sample.
struct AccessSample {
  Gpa gpa;
  bool write;  // a store sample (else an LLC load miss)
  bool slow;   // the sampled access was served by the slow tier
  uint32_t vcpu;
  double at_ns;
};

// Per-PTE result of scanning one guest page-table page.
struct PteBits {
  static constexpr uint8_t kAccessed = 1, kDirty = 2, kPresent = 4;
  Gpa gpa;       // data page the PTE maps (kNone if not present)
  uint8_t bits;  // kAccessed | kDirty | kPresent as found, before clearing
};

// One guest page-table page's 512 PTEs, read in place (Mechanisms::read_gpt_page).
struct GptView {
  const Gpa* target;     // target[i]: the data page PTE i maps; kNone if not present
  const uint8_t* bits;   // PTE i's PteBits::kAccessed | kDirty at bits[i * bits_stride]
  uint32_t bits_stride;  // 1; 0 when the table maps one 2 MiB guest page with one A/D pair
  uint8_t ad(uint32_t i) const { return bits[i * bits_stride]; }
};
struct GptCopy {  // where a platform without flat PTE arrays stages a view
  std::array<Gpa, kPtesPerPage> target;
  std::array<uint8_t, kPtesPerPage> bits;
};
// A set of PTEs of one page-table page: bit i of word i / 64 is PTE i.
using PteSet = std::array<uint64_t, kPtesPerPage / 64>;

struct MigrationResult {
  uint32_t moved = 0;     // pages now on the target tier
  uint32_t recopied = 0;  // pages copied twice (PML method)
  double busy_ns = 0;     // hypervisor thread time spent
  // Guest-side migration only: (old GPA, new GPA) of each moved page, since
  // the guest moves data to a GPA on the other node.
  std::vector<std::pair<Gpa, Gpa>> remapped;
};

// What a guest page holds, by an identity the guest's allocation order
// cannot change: a data page by its guest-virtual page (counted from the
// workload layout's base), a leaf page table by the 512-page group of
// guest-virtual space it maps.
struct PageUse {
  enum Kind : uint8_t { Unknown, Free, Data, PageTable };
  Kind kind = Unknown;
  uint64_t index = 0;
};

// LLC misses per guest page of a profiling pass, by PageUse identity: with
// several vCPUs the order of first touches (so every GPA) follows the
// vCPUs' clocks, which depend on placement; these keys do not.
struct MissProfile {
  std::vector<uint32_t> data;         // by guest-virtual page
  std::vector<uint32_t> page_tables;  // by 512-page group
};

// ---- Capabilities. A platform implements the ones it has (each is one
// mechanism, or two that only come together) and hands them to Mechanisms;
// a policy reaches one through Mechanisms (m.pml().drain_pml(...)), after
// declaring it in needs() or checking offers() for what it only wants.

// Mechanism::GptList and PteAdBits: the guest companion's list of leaf
// page-table pages and the A/D bits of their PTEs.
class GuestPageTables {
 public:
  virtual ~GuestPageTables() = default;
  // Leaf GPT pages (512 PTEs each) as GPAs.
  virtual std::span<const Gpa> gpt_pages() const = 0;
  // Reads the 512 PTEs of `gpt`, then clears `clear_mask` bits of each
  // present PTE. Charges the scan to the calling thread.
  virtual void scan_gpt_page(Gpa gpt, uint8_t clear_mask, std::span<PteBits, kPtesPerPage> out) = 0;
  // The same read without a clear, as a view the caller walks in place: a
  // platform that holds the guest's PTEs in flat arrays hands out pointers
  // into them (no 512-entry staging copy); the default fills `copy` through
  // scan_gpt_page. Valid until the next call that changes guest memory.
  virtual GptView read_gpt_page(Gpa gpt, GptCopy& copy);
  // Clears `mask` bits of the PTEs of `gpt` whose bit is set in `which`
  // (absent PTEs are left). Charges each PTE written.
  virtual void clear_gpt_bits(Gpa gpt, const PteSet& which, uint8_t mask) = 0;
};

// Mechanism::EptAdBits: EPT accessed/dirty bits (PteBits::kAccessed / kDirty).
class EptAccessBits {
 public:
  virtual ~EptAccessBits() = default;
  // One entry (charged).
  virtual uint8_t ept_bits(Gpa g) = 0;
  virtual void clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) = 0;
  // Reads the EPT A/D bits of every guest page into out (size guest_pages()),
  // then clears clear_mask in each; charges a full EPT walk.
  virtual void scan_ept(uint8_t clear_mask, std::span<uint8_t> out) = 0;
};

// Mechanism::Pml: page-modification logging of EPT D-bit 0->1 transitions.
class PmlLog {
 public:
  virtual ~PmlLog() = default;
  virtual void set_pml(bool on) = 0;
  // Appends every logged GPA (vCPU buffers and what full-buffer exits saved).
  virtual void drain_pml(std::vector<Gpa>& out) = 0;
};

// Mechanism::TlbFlush.
class TlbControl {
 public:
  virtual ~TlbControl() = default;
  virtual void flush_tlbs() = 0;
};

// Mechanism::Migrate.
class PageMigration {
 public:
  virtual ~PageMigration() = default;
  // Moves the backed pages of gs that are on the other tier, as far as the
  // target tier's allowance has room, with `threads` copy threads.
  virtual MigrationResult migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how,
                                  uint32_t threads = 1) = 0;
};

// Mechanism::Exchange.
class PageExchange {
 public:
  virtual ~PageExchange() = default;
  // Swaps the tiers of (fast, slow) pairs: both pages are unmapped, copied
  // both ways and remapped; needs no free room (Nimble's exchange_pages).
  virtual MigrationResult exchange(std::span<const std::pair<Gpa, Gpa>> pairs,
                                   uint32_t threads = 1) = 0;
};

// Mechanism::HintFaults.
class HintFaultArming {
 public:
  virtual ~HintFaultArming() = default;
  // Makes each page inaccessible (host side: its EPT entry, as host NUMA
  // balancing's PROT_NONE does through the MMU notifier; guest side: the
  // guest PTE mapping it) and flushes the TLBs once. The next access to each
  // traps (host: a VM exit; guest: a guest page fault) and the platform calls
  // Policy::on_hint_fault before the access completes. Charges a PTE update
  // per page plus the flush.
  virtual void protect_for_hint(std::span<const Gpa> gs) = 0;
};

// Mechanism::Sampling: PEBS-like sampling.
class AccessSampling {
 public:
  virtual ~AccessSampling() = default;
  // Every load_period-th LLC load miss and every store_period-th store per
  // vCPU writes a sample (0 disables that event). Each sample costs the vCPU
  // a PEBS assist; a full per-vCPU buffer an interrupt. drain_samples hands
  // them over (charging per sample read).
  virtual void set_sampling(uint32_t load_period, uint32_t store_period) = 0;
  virtual void drain_samples(std::vector<AccessSample>& out) = 0;
};

// Mechanism::HugeMappings: 2 MiB EPT mappings (docs/huge-pages.md); a
// region is 512 aligned GPAs.
class HugeMappings {
 public:
  virtual ~HugeMappings() = default;
  // Whether guest memory backed from now on gets 2 MiB mappings where a region allows.
  virtual void set_huge_backing(bool on) = 0;
  virtual bool huge_mapped(Gpa g) const = 0;
  // For each region holding one of gs, split its 2 MiB mapping into 4 KiB
  // entries / merge its 4 KiB entries into one 2 MiB mapping (every page
  // backed, on one tier, none moving, no page table in it); returns how many
  // regions changed. Charges the host's work to the calling thread and one
  // TLB shootdown if any region changed.
  virtual uint32_t split_huge(std::span<const Gpa> gs) = 0;
  virtual uint32_t merge_huge(std::span<const Gpa> gs) = 0;
};

// Mechanism::GroundTruth (simulator only; for evaluation).
class GroundTruthView {
 public:
  virtual ~GroundTruthView() = default;
  // True accesses per guest page in the current window; empty unless the
  // policy needs or wants Mechanism::GroundTruth.
  virtual std::span<const uint32_t> true_accesses() const = 0;
};

// What every platform gives every policy: the memory map, the clock, and
// the capabilities above that it has.
class Mechanisms {
 public:
  virtual ~Mechanisms() = default;
  // Whether the platform offers m: for a capability, whether it provided it;
  // for a mode (GuestNuma, SubpageAdBits, WriteProtect), what offers_mode says.
  bool offers(Mechanism m) const;

  // Memory map and capacity, in 4 KiB pages.
  virtual uint32_t guest_pages() const = 0;
  virtual bool backed(Gpa g) const = 0;
  virtual Tier tier_of(Gpa g) const = 0;
  virtual uint64_t capacity_pages(Tier t) const = 0;  // this VM's allowance
  // Every page's tier in one call (out.size() == guest_pages()): 0 fast,
  // 1 slow, 2 not backed. What a per-window classifier reads for all pages;
  // a platform with a flat map overrides the per-page default.
  virtual void page_tiers(std::span<uint8_t> out) const {
    for (Gpa g = 0; g < out.size(); ++g)
      out[g] = backed(g) ? static_cast<uint8_t>(tier_of(g)) : uint8_t{2};
  }
  virtual uint64_t used_pages(Tier t) const = 0;
  // What guest page g holds now (the simulator knows; a real platform
  // would need the guest's help and may say Unknown).
  virtual PageUse page_use(Gpa g) const {
    (void)g;
    return {};
  }
  // Linux's folio_referenced() for one page: tests and clears the accessed
  // bit of the mapping the design's side owns (host: the EPT entry, reached
  // through the MMU notifier's clear_flush_young, after which KVM flushes
  // the VM's TLBs if the entry was young; guest: the guest PTE, reached
  // through the reverse map, no flush on x86). Reclaim asks this of each
  // candidate before demoting it. Charged. The default is the host's bit
  // test and clear (throws without EPT bits); a platform that models the
  // TLBs adds the flush (a real host's kernel does it by itself).
  virtual bool test_and_clear_young(Gpa g);

  virtual double now_ns() const = 0;
  // The policy's own CPU work (sorting, bookkeeping) on the calling thread.
  virtual void charge_ns(double ns) = 0;

  // The capabilities; each throws std::logic_error naming the mechanism
  // when the platform does not provide it.
  GuestPageTables& gpt() const { return need(provided_.gpt, Mechanism::PteAdBits); }
  EptAccessBits& ept() const { return need(provided_.ept, Mechanism::EptAdBits); }
  PmlLog& pml() const { return need(provided_.pml, Mechanism::Pml); }
  TlbControl& tlb() const { return need(provided_.tlb, Mechanism::TlbFlush); }
  PageMigration& mover() const { return need(provided_.mover, Mechanism::Migrate); }
  PageExchange& exchanger() const { return need(provided_.exchanger, Mechanism::Exchange); }
  HintFaultArming& hints() const { return need(provided_.hints, Mechanism::HintFaults); }
  AccessSampling& sampler() const { return need(provided_.sampler, Mechanism::Sampling); }
  HugeMappings& huge() const { return need(provided_.huge, Mechanism::HugeMappings); }
  GroundTruthView& truth() const { return need(provided_.truth, Mechanism::GroundTruth); }

 protected:
  // What a platform hands over in its constructor (null: not offered).
  struct Provided {
    GuestPageTables* gpt = nullptr;
    EptAccessBits* ept = nullptr;
    PmlLog* pml = nullptr;
    TlbControl* tlb = nullptr;
    PageMigration* mover = nullptr;
    PageExchange* exchanger = nullptr;
    HintFaultArming* hints = nullptr;
    AccessSampling* sampler = nullptr;
    HugeMappings* huge = nullptr;
    GroundTruthView* truth = nullptr;
  };
  void provide(const Provided& p) { provided_ = p; }
  // Withholds every capability none of whose mechanisms is in `keep`.
  void keep_only(std::span<const Mechanism> keep);
  // GuestNuma, SubpageAdBits and WriteProtect are modes of the platform, not calls.
  virtual bool offers_mode(Mechanism m) const {
    (void)m;
    return false;
  }

 private:
  template <class T>
  static T& need(T* cap, Mechanism m) {
    if (cap == nullptr) throw_absent(m);
    return *cap;
  }
  [[noreturn]] static void throw_absent(Mechanism m);
  // Calls f(slot, mechanisms it offers) for each capability slot of p: the
  // one table from mechanisms to capabilities.
  template <class P, class F>
  static void each_slot(P& p, F&& f) {
    f(p.gpt, {Mechanism::GptList, Mechanism::PteAdBits});
    f(p.ept, {Mechanism::EptAdBits});
    f(p.pml, {Mechanism::Pml});
    f(p.tlb, {Mechanism::TlbFlush});
    f(p.mover, {Mechanism::Migrate});
    f(p.exchanger, {Mechanism::Exchange});
    f(p.hints, {Mechanism::HintFaults});
    f(p.sampler, {Mechanism::Sampling});
    f(p.huge, {Mechanism::HugeMappings});
    f(p.truth, {Mechanism::GroundTruth});
  }
  Provided provided_;
};

}  // namespace vtmm
