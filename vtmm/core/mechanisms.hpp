#pragma once
// The mechanisms a platform offers to policies, and what each one charges.
//
// A policy is written against this interface only, so it runs unchanged on the
// simulated host and on real VMs. Every call is made from a hypervisor (host)
// thread at the current tick and charges that thread's clock, except where a
// mechanism's cost falls on the guest (TLB shootdowns and migration traps are
// charged to the vCPUs that suffer them), as on real hardware.
//
// A platform that lacks a mechanism says so in offers(); a policy that needs
// it is refused before the run (see Policy::needs()).
#include <cstdint>
#include <span>
#include <vector>

#include "vtmm/core/types.hpp"

namespace vtmm {

enum class Mechanism : uint8_t {
  GptList,     // the guest companion's list of leaf page-table pages
  PteAdBits,   // read / clear guest PTE accessed & dirty bits
  EptAdBits,   // read / clear EPT accessed & dirty bits
  Pml,         // page-modification logging of EPT D-bit 0->1 transitions
  TlbFlush,    // flush the VM's vCPU TLBs
  Migrate,     // re-back a guest page on the other tier
  GroundTruth  // true per-page access counts (simulator only; for evaluation)
};
const char* mechanism_name(Mechanism m);

// How a page is moved. All keep the GPA and re-point the EPT entry.
enum class MigrationMethod : uint8_t {
  Linux,         // unmap, copy, remap: any access during the copy traps and waits
  WriteProtect,  // map read-only during the copy: writes trap and wait (HeMem style)
  Pml            // copy while mapped, then re-copy pages PML saw dirtied (vTMM)
};

// Per-PTE result of scanning one guest page-table page.
struct PteBits {
  static constexpr uint8_t kAccessed = 1, kDirty = 2, kPresent = 4;
  Gpa gpa;       // data page the PTE maps (kNone if not present)
  uint8_t bits;  // kAccessed | kDirty | kPresent as found, before clearing
};

struct MigrationResult {
  uint32_t moved = 0;        // pages now on the target tier
  uint32_t recopied = 0;     // pages copied twice (PML method)
  double busy_ns = 0;        // hypervisor thread time spent
};

class Mechanisms {
 public:
  virtual ~Mechanisms() = default;
  virtual bool offers(Mechanism m) const = 0;

  // Memory map and capacity, in 4 KiB pages.
  virtual uint32_t guest_pages() const = 0;
  virtual bool backed(Gpa g) const = 0;
  virtual Tier tier_of(Gpa g) const = 0;
  virtual uint64_t capacity_pages(Tier t) const = 0;  // this VM's allowance
  virtual uint64_t used_pages(Tier t) const = 0;

  // Guest page tables: leaf GPT pages (512 PTEs each) as GPAs.
  virtual std::span<const Gpa> gpt_pages() const = 0;
  // Reads the 512 PTEs of `gpt`, then clears `clear_mask` bits of each
  // present PTE. Charges the scan to the calling thread.
  virtual void scan_gpt_page(Gpa gpt, uint8_t clear_mask, std::span<PteBits, kPtesPerPage> out) = 0;
  // Clears masks[i] bits of PTE i of `gpt` (0 leaves it). Charges each PTE written.
  virtual void clear_pte_bits(Gpa gpt, std::span<const uint8_t, kPtesPerPage> masks) = 0;

  // EPT accessed/dirty bits (PteBits::kAccessed / kDirty), one entry (charged).
  virtual uint8_t ept_bits(Gpa g) = 0;
  virtual void clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) = 0;
  // Reads the EPT A/D bits of every guest page into out (size guest_pages()),
  // then clears clear_mask in each; charges a full EPT walk.
  virtual void scan_ept(uint8_t clear_mask, std::span<uint8_t> out) = 0;

  virtual void set_pml(bool on) = 0;
  // Appends every logged GPA (vCPU buffers and what full-buffer exits saved).
  virtual void drain_pml(std::vector<Gpa>& out) = 0;
  virtual void flush_tlbs() = 0;
  // Moves the backed pages of gs that are on the other tier, as far as the
  // target tier's allowance has room, with `threads` copy threads.
  virtual MigrationResult migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how, uint32_t threads = 1) = 0;

  // Ground truth of the current window (simulator only): true accesses.
  virtual std::span<const uint32_t> true_accesses() const = 0;

  virtual double now_ns() const = 0;
  // The policy's own CPU work (sorting, bookkeeping) on the calling thread.
  virtual void charge_ns(double ns) = 0;
};

}  // namespace vtmm
