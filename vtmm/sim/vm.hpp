#pragma once
// One simulated VM: guest page tables, EPT, PML, vCPUs with TLBs, and the
// access path that charges every data access to its vCPU's clock.
//
// Per-page state is flat arrays indexed by guest-virtual page (guest page
// table) or guest-physical page (EPT, ground truth): 22 bytes per 4 KiB page
// in all (see bytes_per_page()). The access path (access()) is inline and
// touches only these arrays, the TLB and the LLC; everything rarer (walks,
// first touch, PML-full exits, migration traps) is out of line in vm.cpp.
#include <cstdint>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/counters.hpp"
#include "vtmm/sim/host.hpp"
#include "vtmm/sim/tlb.hpp"

namespace vtmm::sim {

struct VmConfig {
  uint32_t id = 0;
  uint32_t vcpus = 1;
  uint64_t memory_pages = 0;  // guest memory size
  uint64_t fast_pages = 0;    // this VM's fast-tier allowance
  uint64_t slow_pages = 0;    // this VM's slow-tier allowance
  uint64_t va_bytes = 0;      // extent of the workload's virtual layout
  bool pml = false;           // PML enabled from the start
  bool ept_huge = false;      // back guest memory with 2 MiB EPT mappings
  bool shuffle_free_pages = false;  // an aged guest hands out GPAs in random order
  uint64_t seed = 1;
};

// EPT entry bits (one byte per guest page).
enum : uint8_t {
  kEptPresent = 1,
  kEptA = 2,
  kEptD = 4,
  kEptSlow = 8,
  kEptMigrating = 16,  // in a migration batch (see Vm::inflight)
  kEptZapped = 32,     // re-backed by a Linux-style migration: the next access re-faults it in
};
inline constexpr uint32_t kGptOwner = 0x80000000u;  // owner[] tag: a page-table page

struct Vcpu {
  double clock_ns = 0;
  Tlb tlb;
  std::vector<Gpa> pml;  // the 512-entry PML buffer
  uint32_t pml_n = 0;
};

class Vm {
 public:
  Vm(Host& host, const VmConfig& cfg, Policy& policy, Mechanisms& mech);

  // Charges one data access to vCPU v's clock. mlp: misses this access may
  // overlap with (1 = dependent).
  inline void access(uint32_t v, uint64_t va, uint8_t kind, double mlp);
  void run_batch(uint32_t v, const Batch& b);

  Tier tier_of(Gpa g) const { return (ept[g] & kEptSlow) ? Tier::Slow : Tier::Fast; }
  // Index holding the EPT A/D bits of g: the head page of a 2 MiB mapping.
  Gpa ad_index(Gpa g) const { return cfg.ept_huge ? (g & ~(kPagesPerHuge - 1)) : g; }
  uint64_t bytes_per_page() const;
  void set_measuring(bool on) { measuring = on; }
  // Writes back a dirty line evicted from the shared LLC (bandwidth only).
  void write_back(uint64_t line, double at_ns);

  Host& host;
  const HostProfile& prof;
  VmConfig cfg;
  Policy& policy;
  Mechanisms& mech;
  std::vector<Vcpu> vcpus;

  // Guest page table (by guest-virtual page): PTE target and A/D bits.
  std::vector<Gpa> pte_gpa;
  std::vector<uint8_t> pte_bits;
  std::vector<Gpa> gpt_of;    // leaf page-table page of each 512-page group
  std::vector<Gpa> gpt_list;  // leaf page-table pages in creation order
  // EPT and reverse map (by guest-physical page).
  std::vector<uint8_t> ept;
  std::vector<uint32_t> owner;  // vpn, or kGptOwner | group for a page-table page
  // Ground truth (by guest-physical page).
  std::vector<uint32_t> truth_accesses;  // this tracking window
  std::vector<uint32_t> truth_misses;    // LLC misses in the measured phase
  bool measuring = false;

  uint64_t used[kTiers] = {0, 0};
  uint64_t cap[kTiers] = {0, 0};
  std::vector<Gpa> free_pages;
  size_t free_next = 0;
  bool pml_on = false;
  std::vector<Gpa> pml_log;  // entries saved by PML-full exits, not yet drained
  Counters c;

  // A migration batch in flight. Per page, the window [start, end) in which a
  // vCPU access traps and waits for `end` (writes only for write-protect).
  struct Inflight {
    MigrationMethod how;
    Tier from, to;
    uint32_t threads;
    bool writes_only;
    std::vector<Gpa> pages;  // sorted
    std::vector<double> start, end;
  };
  std::vector<Inflight> inflight;

 private:
  double walk(Vcpu& cpu, uint64_t vpn, uint8_t kind, double mlp, TlbEntry*& out);
  double dirty_assist(Vcpu& cpu, uint64_t vpn, TlbEntry* e);
  double first_touch(uint64_t vpn);
  double back(Gpa g);
  Gpa alloc_gpa();
  double set_ept_ad(Vcpu& cpu, Gpa g, bool write);
  double pml_full_exit(Vcpu& cpu);
  double migration_trap(Vcpu& cpu, Gpa g, bool write);
  double remap_fault(Gpa head);
  inline double mem(Vcpu& cpu, Gpa g, uint32_t line_in_page, bool write, double mlp);

  double lat_[kTiers];
  double unit_[kTiers];  // bytes of tier bandwidth one 64-byte line transfer uses
  uint64_t vpn_base_ = VaLayout::kBase >> kPageShift;
};

inline double Vm::mem(Vcpu& cpu, Gpa g, uint32_t line_in_page, bool write, double mlp) {
  const uint64_t line = (uint64_t{cfg.id} << 40) | (uint64_t{g} << 6) | line_in_page;
  const Llc::Result r = host.llc.access(line, write);
  if (r.evicted_dirty != Llc::kEmpty) host.vms[r.evicted_dirty >> 40]->write_back(r.evicted_dirty, cpu.clock_ns);
  if (r.hit) {
    ++c.llc_hits;
    return prof.llc_hit_ns / mlp;
  }
  ++c.llc_misses;
  const int t = static_cast<int>(tier_of(g));
  ++c.tier_misses[t];
  if (measuring) ++truth_misses[g];
  const double delay = host.bw[t].book(cpu.clock_ns, unit_[t], false);
  c.bw_delay_ns += delay;
  return lat_[t] / mlp + delay;
}

inline void Vm::access(uint32_t v, uint64_t va, uint8_t kind, double mlp) {
  Vcpu& cpu = vcpus[v];
  const uint64_t vpn = (va >> kPageShift) - vpn_base_;
  if (vpn >= pte_gpa.size()) [[unlikely]]
    throw std::out_of_range("vtmm: workload accessed an address outside its layout");
  double cost = 0;
  TlbEntry* e = cpu.tlb.l1.lookup(vpn);
  if (e == nullptr) [[unlikely]] {
    e = cpu.tlb.l2.lookup(vpn);
    if (e != nullptr) {
      cost += prof.tlb_l2_hit_ns;
      e = cpu.tlb.l1.insert(vpn, e->dirty);
    } else {
      cost += walk(cpu, vpn, kind, mlp, e);
    }
  }
  if ((kind & kWrite) && !e->dirty) [[unlikely]] cost += dirty_assist(cpu, vpn, e);
  const Gpa g = pte_gpa[vpn];
  ++truth_accesses[g];
  cost += mem(cpu, g, static_cast<uint32_t>((va >> kLineShift) & (kLinesPerPage - 1)), kind & kWrite, mlp);
  cpu.clock_ns += cost;
}

}  // namespace vtmm::sim
