#pragma once
// One simulated VM: guest page tables, EPT, PML, vCPUs with TLBs, and the
// access path that charges every data access to its vCPU's clock.
//
// Per-page state is flat arrays indexed by guest-virtual page (guest page
// table) or guest-physical page (EPT, ground truth): 14 to 22 bytes per 4 KiB
// page in all (see bytes_per_page()). The access path (access()) is inline and
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

class SimMechanisms;

struct VmConfig {
  uint32_t id = 0;
  uint32_t vcpus = 1;
  uint64_t memory_pages = 0;  // guest memory size
  uint64_t fast_pages = 0;    // this VM's fast-tier allowance
  uint64_t slow_pages = 0;    // this VM's slow-tier allowance
  uint64_t va_bytes = 0;      // extent of the workload's virtual layout
  bool pml = false;           // PML enabled from the start
  bool ept_huge = false;  // back guest memory with 2 MiB EPT mappings where it can (huge_pages.md)
  bool guest_thp =
      false;  // the guest maps aligned 2 MiB regions with 2 MiB pages (THP at fault time)
  bool shuffle_free_pages = false;  // an aged guest hands out GPAs in random order
  // Guest-side designs: the guest sees node 0 = GPAs [0, fast_pages) backed by
  // the fast tier and node 1 = the rest backed by the slow tier.
  bool guest_numa = false;
  // Intel Memory Mode: every page on the slow tier; fast_pages of fast memory
  // act as a direct-mapped memory-side cache with 64-byte lines.
  bool memory_mode = false;
  // First touches are backed on the slow tier whatever the design's place()
  // says (falling back to fast only where slow has no room).
  bool start_slow = false;
  // The host-side policy thread is pinned to vCPU 0's core: its work at each
  // tick pre-empts vCPU 0 (counted in core_steal_ns) instead of running on a
  // spare core.
  bool policy_on_vcpu0 = false;
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
  kEptHint = 64,       // armed by protect_for_hint(): the next access takes a NUMA hint fault
};
inline constexpr uint32_t kGptOwner = 0x80000000u;  // owner[] tag: a page-table page

// A guest node's free GPAs as a stack (the next handed out is at the back)
// over a range never handed out, [next, end), given lowest first once the
// stack is empty: a fresh guest's free list costs nothing per page until
// pages come back. An aged guest's shuffled order is all in the stack.
struct FreeGpas {
  std::vector<Gpa> stack;
  Gpa next = 0, end = 0;
  uint64_t size() const { return stack.size() + (end - next); }
  bool empty() const { return stack.empty() && next == end; }
  Gpa take() {
    if (stack.empty()) return next++;
    const Gpa g = stack.back();
    stack.pop_back();
    return g;
  }
  void give(Gpa g) { stack.push_back(g); }
};

struct Vcpu {
  double clock_ns = 0;
  Tlb tlb;
  std::vector<Gpa> pml;  // the 512-entry PML buffer
  uint32_t pml_n = 0;
  uint32_t load_left = 0, store_left = 0;  // PEBS-like countdowns to the next sample
};

class Vm {
 public:
  Vm(Host& host, const VmConfig& cfg, Policy& policy, SimMechanisms& mech);

  // Charges one data access to vCPU v's clock. mlp: misses this access may
  // overlap with (1 = dependent).
  inline void access(uint32_t v, uint64_t va, uint8_t kind, double mlp);
  void run_batch(uint32_t v, const Batch& b);

  // What the run loop, the observers and the tests read and steer. Everything
  // that changes the VM's translations, frames or free lists goes through
  // SimMechanisms (the simulated KVM and guest kernel), which is the only
  // other code that reaches the state below.
  const VmConfig& config() const { return cfg; }
  uint32_t vcpu_count() const { return static_cast<uint32_t>(vcpus.size()); }
  double clock_ns(uint32_t v) const { return vcpus[v].clock_ns; }
  // The latest vCPU clock: when the VM's work so far ends.
  double end_ns() const;
  // Sets vCPU v's clock (a run's start, a barrier's release, a policy tick
  // that pre-empts the vCPU).
  void set_clock_ns(uint32_t v, double t) { vcpus[v].clock_ns = t; }
  Counters& counters() { return counters_; }
  const Counters& counters() const { return counters_; }

  Tier tier_of(Gpa g) const { return (ept[g] & kEptSlow) ? Tier::Slow : Tier::Fast; }
  // The guest NUMA node (as a tier) a GPA belongs to (guest_numa VMs).
  Tier node_of(Gpa g) const { return g < cfg.fast_pages ? Tier::Fast : Tier::Slow; }
  // Pages of tier t this VM holds, and may hold (a pool moves the fast cap).
  uint64_t used(Tier t) const { return used_[static_cast<int>(t)]; }
  uint64_t capacity(Tier t) const { return cap[static_cast<int>(t)]; }
  void set_capacity(Tier t, uint64_t pages) { cap[static_cast<int>(t)] = pages; }

  // Read-only views of the translations: guest page table by guest-virtual
  // page (vpn), EPT by guest-physical page.
  uint64_t virtual_pages() const { return pte_gpa.size(); }
  Gpa gpa_of(uint64_t vpn) const { return pte_gpa[vpn]; }            // kNone: never touched
  uint8_t pte_bits_of(uint64_t vpn) const { return pte_bits[vpn]; }  // PteBits
  // The leaf page-table page that maps vpn (kNone: none yet).
  Gpa page_table_of(uint64_t vpn) const { return gpt_of[vpn / kPtesPerPage]; }
  uint64_t page_table_pages() const { return gpt_list.size(); }
  // The guest maps vpn with a 2 MiB page (THP).
  bool maps_huge(uint64_t vpn) const { return guest_huge[vpn / kPtesPerPage] != 0; }
  uint64_t guest_pages() const { return ept.size(); }
  bool backed(Gpa g) const { return (ept[g] & kEptPresent) != 0; }
  uint8_t ept_bits(Gpa g) const { return ept[g]; }
  // What g holds: a vpn, kGptOwner | group for a page-table page, or kNone.
  uint32_t owner_of(Gpa g) const { return owner[g]; }
  uint64_t huge_mappings_live() const { return ept_2m_live; }
  // Index holding the EPT A/D bits of g: the head page of a 2 MiB mapping.
  Gpa ad_index(Gpa g) const {
    return ept_2m[g >> (kHugeShift - kPageShift)] ? (g & ~(kPagesPerHuge - 1)) : g;
  }
  // Pages one EPT entry maps at g's head: 512 for a 2 MiB mapping, else 1.
  uint32_t span_of(Gpa g) const {
    return ept_2m[g >> (kHugeShift - kPageShift)] ? kPagesPerHuge : 1;
  }
  // Where the guest-side A/D bits of vpn live: its own PTE, or the head's for
  // a 2 MiB guest page without sub-page A/D bits (one pair per mapping).
  uint64_t bits_vpn(uint64_t vpn) const {
    return guest_huge[vpn / kPtesPerPage] && !subpage_ad ? vpn & ~uint64_t{kPtesPerPage - 1} : vpn;
  }
  // A migration batch in flight. Per page, the window [start, end) in which a
  // vCPU access traps and waits for `end` (writes only for write-protect).
  // Before `start` the page is still mapped as it was; after `end` an
  // unmapped page (kEptZapped) takes one fault that maps the new copy.
  struct Inflight {
    MigrationMethod how;
    Tier from, to;
    uint32_t threads;
    bool writes_only;
    std::vector<Gpa> pages;  // sorted
    std::vector<double> start, end;
    bool guest = false;  // a guest-side copy: a trap is a guest page fault, not a VM exit
    bool repoint =
        false;  // host-side migrate: each page's EPT entry moves to `to` when its copy is done
  };
  // Migration batches in flight, oldest first.
  const std::vector<Inflight>& inflight_batches() const { return inflight; }

  // Ground truth (by guest-physical page): accesses in this tracking window,
  // counted only when wanted (a policy that needs or wants
  // Mechanism::GroundTruth); LLC misses in the measured phase.
  void want_truth(bool on) {
    truth_wanted = on;
    truth_accesses.assign(on ? ept.size() : 0, 0);
  }
  bool wants_truth() const { return truth_wanted; }
  void clear_truth_window();
  const std::vector<uint32_t>& truth_misses() const { return truth_misses_; }
  void set_measuring(bool on) { measuring = on; }
  // Simulator metadata per guest page: the per-page arrays' bytes now.
  double bytes_per_page() const;

  // Writes back a dirty line evicted from the shared LLC: a posted write on
  // the tier that holds it; returns the evicting core's stall when the
  // tier's write queue is full (BandwidthCalendar::post).
  double write_back(uint64_t line, double at_ns);

  // Lines a hypervisor thread reads and writes when it scans. LLC line
  // addresses are (VM << 40) | line number; a guest line number is
  // (GPA << 6) | line in page (GPAs are 32 bits, so bits 38-39 are free).
  // EPT entries live in host memory, 8 to a line, in a line space of their
  // own (kHostLine); the entry of a 2 MiB mapping sits in the next level's
  // table (kPdeLine). Host memory is the fast tier's.
  static constexpr uint64_t kHostLine = uint64_t{1} << 39, kPdeLine = uint64_t{1} << 38;
  uint64_t ept_line(Gpa g) const {
    const uint64_t r = g >> (kHugeShift - kPageShift);
    const uint64_t n = ept_2m[r] ? kPdeLine | (r >> 3) : g >> 3;
    return (uint64_t{cfg.id} << 40) | kHostLine | n;
  }
  // The line of vpn's guest PTE in its page-table page (guest memory).
  uint64_t pte_line(uint64_t vpn) const {
    return (uint64_t{cfg.id} << 40) | (uint64_t{gpt_of[vpn / kPtesPerPage]} << 6) |
           ((bits_vpn(vpn) % kPtesPerPage) / 8);
  }
  // The tier holding an LLC line: host memory's (fast) or its guest page's.
  int line_tier(uint64_t line) const {
    return (line & kHostLine)
               ? 0
               : static_cast<int>(tier_of(static_cast<Gpa>((line >> 6) & 0xffffffffULL)));
  }

 private:
  // The simulated hypervisor and guest kernel: it walks and edits the page
  // tables, backs and moves frames, and drains PML and samples.
  friend class SimMechanisms;
  // Tests and benchmarks that build a state no mechanism reaches in a few
  // steps (vm_internals.hpp); no simulator or policy code uses it.
  friend struct VmInternals;

  // 2 MiB EPT mappings (huge_mappings.cpp). split_ept re-maps region r with
  // 512 4 KiB entries; merge_ept maps it with one 2 MiB entry again, which
  // needs every page backed, on one tier, not moving, and no page table in
  // it. Both return the host's cost (the caller flushes the TLBs); merge_ept
  // returns a negative value when the region cannot be merged.
  double split_ept(uint32_t r);
  double merge_ept(uint32_t r, double at_ns);
  bool can_merge(uint32_t r) const;
  // A hypervisor thread's load (or store) of one such line at at_ns, through
  // the shared LLC: what the thread waits. A hit costs nothing beyond the
  // per-entry constants (pte_scan_ns, ept_bit_ns assume cached tables); a
  // miss costs the tier's latency over scan_mlp (a scan streams) plus
  // bandwidth queueing; a dirty line it evicts is written back as any other.
  // Counted in scan_lines / scan_llc_misses, not in the vCPUs' LLC counts.
  double hv_line(uint64_t line, bool write, double at_ns);
  // The guest's free GPAs at boot: per node, and a THP guest's 2 MiB blocks.
  void init_free_lists();
  Gpa alloc_gpa(Tier preferred);
  void free_gpa(Gpa g);
  // Points head's EPT entry (a 2 MiB mapping: all of it) at tier t.
  void repoint(Gpa head, Tier t);
  // The host backs guest page g (an EPT violation); returns what it costs.
  double back(Gpa g);

  TlbEntry* translate(Vcpu& cpu, uint64_t vpn, uint8_t kind, double mlp, double& cost);
  double walk(Vcpu& cpu, uint64_t vpn, uint8_t kind, double mlp, TlbEntry*& out);
  double subpage_assist(Vcpu& cpu, uint64_t vpn, uint8_t kind, TlbEntry* e);
  double first_touch_huge(uint64_t group);
  void break_huge_block();
  double dirty_assist(Vcpu& cpu, uint64_t vpn, TlbEntry* e);
  double first_touch(uint64_t vpn);
  double trap(Vcpu& cpu, Gpa g, bool write);
  double sample(Vcpu& cpu, uint8_t kind, Gpa g, bool missed);
  double mm_miss(Vcpu& cpu, Gpa g, uint32_t line_in_page, double mlp);
  double mm_install(uint64_t line, double at_ns);
  double set_ept_ad(Vcpu& cpu, Gpa g, bool write);
  double pml_full_exit(Vcpu& cpu);
  double migration_trap(Vcpu& cpu, Gpa g, bool write);
  // An access through a cached translation while a batch is in flight: the
  // batch's shootdown at the page's window start removed that translation.
  // A trap's wait moves the vCPU's clock at once, so what follows in the same
  // access (a dirty assist, the bandwidth booking) happens after it.
  void cached_trap(Vcpu& cpu, uint64_t vpn, bool write);
  double remap_fault(Gpa head);
  inline double mem(Vcpu& cpu, Gpa g, uint32_t line_in_page, bool write, double mlp);

  Host& host;
  const HostProfile& prof;
  VmConfig cfg;
  Policy& policy;
  SimMechanisms& mech;
  std::vector<Vcpu> vcpus;

  // Guest page table (by guest-virtual page): PTE target and A/D bits.
  std::vector<Gpa> pte_gpa;
  std::vector<uint8_t> pte_bits;
  std::vector<Gpa> gpt_of;    // leaf page-table page of each 512-page group
  std::vector<Gpa> gpt_list;  // leaf page-table pages in creation order
  // 2 MiB mappings. guest_huge, per 512-page group of guest-virtual space:
  // the guest maps it with one 2 MiB leaf (THP; its GPAs are one aligned
  // block). ept_2m, per 2 MiB region of GPAs: the host maps it with one 2 MiB
  // EPT entry. A translation reaches 2 MiB only when both do.
  std::vector<uint8_t> guest_huge;
  std::vector<uint8_t> ept_2m;
  std::vector<uint8_t> ept_moved;  // per region: a page changed host frame since its split
  std::vector<uint32_t>
      huge_blocks;  // the guest's free aligned 2 MiB GPA blocks (guest_thp), a stack
  bool huge_backing =
      false;  // new regions get 2 MiB EPT mappings (cfg.ept_huge; Mechanisms::set_huge_backing)
  bool subpage_ad = false;    // the host's hardware mode: A/D bits per 4 KiB inside 2 MiB mappings
  bool any_huge_tlb = false;  // a 2 MiB translation was ever cached: misses look for huge entries
  uint64_t ept_2m_live = 0;   // regions mapped by a 2 MiB EPT entry now
  // EPT and reverse map (by guest-physical page).
  std::vector<uint8_t> ept;
  std::vector<uint32_t> owner;  // vpn, or kGptOwner | group for a page-table page
  // Ground truth (by guest-physical page). Accesses are counted (and held:
  // want_truth sizes the array), and zeroed at each policy tick (an
  // O(pages) pass), only when wanted; the other policies see an empty span,
  // so their runs skip the counter's random read-modify-write per access.
  std::vector<uint32_t> truth_accesses;  // this tracking window
  bool truth_wanted = false;
  std::vector<uint32_t> truth_misses_;  // LLC misses in the measured phase
  bool measuring = false;

  uint64_t used_[kTiers] = {0, 0};
  uint64_t cap[kTiers] = {0, 0};
  // The guest's free GPAs, per guest node (one node unless guest_numa).
  FreeGpas free_gpas[kTiers];
  // NUMA hint faults: when each armed page was protected (sized on first use).
  std::vector<double> hint_armed_ns;
  // PEBS-like sampling (0: off) and the samples not yet drained.
  uint32_t load_period = 0, store_period = 0;
  std::vector<AccessSample> samples;
  // Memory Mode's memory-side cache: per 64-byte slot, 1 + line address of
  // the line it holds (0: empty), top bit set when dirty.
  std::vector<uint64_t> mm_tags;
  bool pml_on = false;
  std::vector<Gpa> pml_log;  // entries saved by PML-full exits, not yet drained
  Counters counters_;
  std::vector<Inflight> inflight;
  bool in_flight =
      false;  // !inflight.empty(): accesses through cached translations check the windows

  double unit_[kTiers];  // bytes of tier bandwidth one 64-byte line transfer uses
  uint64_t vpn_base_ = VaLayout::kBase >> kPageShift;
  // The previous batch walked often (more than one access in 16): prefetch
  // what a walk reads (the PTE line's LLC set, the EPT byte) for this one too.
  bool walky_ = true;
};

inline double Vm::mem(Vcpu& cpu, Gpa g, uint32_t line_in_page, bool write, double mlp) {
  const uint64_t line = (uint64_t{cfg.id} << 40) | (uint64_t{g} << 6) | line_in_page;
  const Llc::Result r = host.llc.access(line, write);
  double stall = 0;
  if (r.evicted_dirty != Llc::kEmpty) [[unlikely]] {
    stall = host.vms[r.evicted_dirty >> 40]->write_back(r.evicted_dirty, cpu.clock_ns);
    counters_.wb_stall_ns += stall;
  }
  if (r.hit) {
    ++counters_.llc_hits;
    return prof.llc_hit_ns / mlp + stall;
  }
  ++counters_.llc_misses;
  if (cfg.memory_mode) [[unlikely]]
    return stall + mm_miss(cpu, g, line_in_page, mlp);
  const int t = static_cast<int>(tier_of(g));
  ++counters_.tier_misses[t];
  if (measuring) ++truth_misses_[g];
  const double delay = host.bw[t].book(cpu.clock_ns + stall, unit_[t], false);
  counters_.bw_delay_ns += delay;
  return stall + host.lat_ns[t] / mlp + delay;
}

inline void Vm::access(uint32_t v, uint64_t va, uint8_t kind, double mlp) {
  Vcpu& cpu = vcpus[v];
  const uint64_t vpn = (va >> kPageShift) - vpn_base_;
  if (vpn >= pte_gpa.size()) [[unlikely]]
    throw std::out_of_range("vtmm: workload accessed an address outside its layout");
  double cost = 0;
  TlbEntry* e = cpu.tlb.l1.lookup(vpn);
  if (e == nullptr) [[unlikely]]
    e = translate(cpu, vpn, kind, mlp, cost);
  else if (in_flight) [[unlikely]]
    cached_trap(cpu, vpn, kind & kWrite);
  if ((kind & kWrite) && !e->dirty) [[unlikely]]
    cost += dirty_assist(cpu, vpn, e);
  const Gpa g = pte_gpa[vpn];
  if (truth_wanted) ++truth_accesses[g];
  const uint64_t misses = counters_.llc_misses;
  cost += mem(cpu, g, static_cast<uint32_t>((va >> kLineShift) & (kLinesPerPage - 1)),
              kind & kWrite, mlp);
  if ((load_period | store_period) != 0) [[unlikely]]
    cost += sample(cpu, kind, g, counters_.llc_misses != misses);
  cpu.clock_ns += cost;
}

}  // namespace vtmm::sim
