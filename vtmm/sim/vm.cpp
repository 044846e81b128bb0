#include "vtmm/sim/vm.hpp"

#include <algorithm>

#include "vtmm/core/rng.hpp"
#include "vtmm/sim/sim_mechanisms.hpp"

namespace vtmm::sim {

Vm::Vm(Host& h, const VmConfig& config, Policy& pol, SimMechanisms& m)
    : host(h), prof(h.prof), cfg(config), policy(pol), mech(m) {
  if (cfg.memory_pages == 0 || cfg.memory_pages >= kGptOwner)
    throw SpecError("vm: memory must be between 4KiB and 8TiB");
  if (cfg.guest_thp && cfg.guest_numa)
    throw SpecError(
        "vm: 'guest_thp' is modelled for host-side designs only (a guest-side design's nodes are "
        "not 2 MiB blocks)");
  if (cfg.ept_huge || cfg.guest_thp)
    cfg.memory_pages = (cfg.memory_pages + kPagesPerHuge - 1) & ~uint64_t{kPagesPerHuge - 1};
  const uint64_t vpages = pages_for(cfg.va_bytes);
  pte_gpa.assign(vpages, kNone);
  pte_bits.assign(vpages, 0);
  gpt_of.assign((vpages + kPtesPerPage - 1) / kPtesPerPage, kNone);
  guest_huge.assign(gpt_of.size(), 0);
  const uint64_t regions = (cfg.memory_pages + kPagesPerHuge - 1) / kPagesPerHuge;
  ept_2m.assign(regions, 0);
  ept_moved.assign(regions, 0);
  huge_backing = cfg.ept_huge;
  subpage_ad = prof.subpage_ad_bits != 0;
  ept.assign(cfg.memory_pages, 0);
  owner.assign(cfg.memory_pages, kNone);
  truth_misses_.assign(cfg.memory_pages, 0);
  cap[0] = cfg.fast_pages;
  cap[1] = cfg.slow_pages;
  if (cfg.guest_numa) {
    if (cfg.fast_pages == 0 || cfg.fast_pages >= cfg.memory_pages)
      throw SpecError(
          "vm: a guest-side design needs a fast node and a slow node (0 < fast < memory)");
    cap[1] = cfg.memory_pages - cfg.fast_pages;  // each node is backed by its own tier
  }
  if (cfg.memory_mode) {
    if (cfg.fast_pages == 0)
      throw SpecError("vm: memory mode needs a fast tier to use as its cache");
    mm_tags.assign(cfg.fast_pages * kLinesPerPage, 0);
    cap[0] = 0;  // fast memory is the cache, not a place for pages
    cap[1] = cfg.memory_pages;
  }
  pml_on = cfg.pml;
  for (int t = 0; t < kTiers; ++t)
    unit_[t] = static_cast<double>(std::max<uint64_t>(kLineSize, prof.tier[t].access_unit_bytes));

  init_free_lists();

  vcpus.resize(cfg.vcpus);
  for (auto& cpu : vcpus) {
    cpu.tlb.l1.init(prof.tlb_l1_entries, prof.tlb_l1_ways);
    cpu.tlb.l1_huge.init(prof.tlb_l1_huge_entries, prof.tlb_l1_ways);
    cpu.tlb.l2.init(prof.tlb_l2_entries, prof.tlb_l2_ways);
    cpu.pml.assign(prof.pml_buffer_entries, kNone);
  }
}

void Vm::init_free_lists() {
  // The guest's free lists: in address order for a fresh guest (a range
  // handed out lowest first); shuffled for an aged one (a stack, reversed so
  // the shuffle's first GPA is at the back).
  const uint64_t split = cfg.guest_numa ? cfg.fast_pages : cfg.memory_pages;
  for (int n = 0; n < kTiers; ++n) {
    const uint64_t lo = n == 0 ? 0 : split, hi = n == 0 ? split : cfg.memory_pages;
    FreeGpas& f = free_gpas[n];
    if (!cfg.shuffle_free_pages) {
      f.next = static_cast<Gpa>(lo);
      f.end = static_cast<Gpa>(hi);
      continue;
    }
    std::vector<Gpa>& list = f.stack;
    list.resize(hi - lo);
    for (uint64_t i = lo; i < hi; ++i) list[i - lo] = static_cast<Gpa>(i);
    Rng rng(cfg.seed ^ 0x5eed0f7ee11ULL ^ static_cast<uint64_t>(n));
    for (uint64_t i = list.size(); i > 1; --i) std::swap(list[i - 1], list[rng.below(i)]);
    std::reverse(list.begin(), list.end());
  }
  if (cfg.guest_thp) {
    // A THP guest's buddy allocator: whole aligned 2 MiB blocks, broken into
    // 4 KiB pages only when a 4 KiB allocation finds none free (so page tables
    // and 4 KiB data share a few blocks, and THP faults find whole ones).
    free_gpas[0] = FreeGpas{};
    huge_blocks.resize(ept_2m.size());  // one per 2 MiB region
    for (uint64_t b = 0; b < huge_blocks.size(); ++b) huge_blocks[b] = static_cast<uint32_t>(b);
    if (cfg.shuffle_free_pages) {
      Rng rng(cfg.seed ^ 0x5eed0f7ee11ULL ^ 0x2bULL);
      for (uint64_t i = huge_blocks.size(); i > 1; --i)
        std::swap(huge_blocks[i - 1], huge_blocks[rng.below(i)]);
    }
    std::reverse(huge_blocks.begin(), huge_blocks.end());
  }
}

double Vm::end_ns() const {
  double end = 0;
  for (const Vcpu& cpu : vcpus) end = std::max(end, cpu.clock_ns);
  return end;
}

void Vm::clear_truth_window() {
  if (truth_wanted) std::fill(truth_accesses.begin(), truth_accesses.end(), 0u);
}

double Vm::bytes_per_page() const {
  // The arrays as they stand (after a run: the ground truth is held only
  // when wanted, a free-list slot only for what the stack holds, hint-fault
  // times only for a design that arms pages, Memory Mode's tags), over the
  // guest's pages.
  const auto bytes = [](const auto& v) { return v.capacity() * sizeof(v[0]); };
  uint64_t total = bytes(pte_gpa) + bytes(pte_bits) + bytes(gpt_of) + bytes(guest_huge) +
                   bytes(ept_2m) + bytes(ept_moved) + bytes(huge_blocks) + bytes(ept) +
                   bytes(owner) + bytes(truth_accesses) + bytes(truth_misses_) +
                   bytes(hint_armed_ns) + bytes(mm_tags);
  for (const FreeGpas& f : free_gpas) total += bytes(f.stack);
  return static_cast<double>(total) / static_cast<double>(ept.size());
}

void Vm::run_batch(uint32_t v, const Batch& b) {
  const double mlp = b.mlp == 0 ? 1.0 : b.mlp;
  const double compute = b.compute_ns;
  Vcpu& cpu = vcpus[v];
  uint64_t writes = 0;
  // The batch is known ahead: prefetch, for the access kFar ahead, its PTE
  // target, and for the one kNear ahead (whose target is cached by now) the
  // LLC set of its data line and its ground-truth counter (if counted), plus, when the
  // previous batch walked often, what its walk would read. Hints only:
  // nothing the model computes depends on them.
  constexpr uint32_t kFar = 16, kNear = 8;
  const uint64_t vpages = pte_gpa.size();
  const uint64_t walks_before = counters_.tlb_misses;
  const uint64_t misses_before[kTiers] = {counters_.tier_misses[0], counters_.tier_misses[1]};
  const bool walky = walky_;
  for (uint32_t i = 0; i < b.n; ++i) {
    if (i + kFar < b.n) {
      const uint64_t vpn = (b.va[i + kFar] >> kPageShift) - vpn_base_;
      if (vpn < vpages) __builtin_prefetch(&pte_gpa[vpn]);
    }
    if (i + kNear < b.n) {
      const uint64_t va = b.va[i + kNear];
      const uint64_t vpn = (va >> kPageShift) - vpn_base_;
      if (vpn < vpages) {
        const Gpa g = pte_gpa[vpn];
        if (g != kNone) {
          host.llc.prefetch((uint64_t{cfg.id} << 40) | (uint64_t{g} << 6) |
                            ((va >> kLineShift) & (kLinesPerPage - 1)));
          if (truth_wanted) __builtin_prefetch(&truth_accesses[g]);
          if (walky) __builtin_prefetch(&ept[g]);
        }
        if (walky) {
          const Gpa gpt = gpt_of[vpn / kPtesPerPage];
          if (gpt != kNone)
            host.llc.prefetch((uint64_t{cfg.id} << 40) | (uint64_t{gpt} << 6) |
                              ((vpn % kPtesPerPage) / 8));
        }
      }
    }
    access(v, b.va[i], b.kind[i], mlp);
    writes += (b.kind[i] & kWrite) ? 1 : 0;
    cpu.clock_ns += compute;
  }
  walky_ = (counters_.tlb_misses - walks_before) * 16 > b.n;
  // The tiers' load is fixed for the batch (Host::update_load).
  for (int t = 0; t < kTiers; ++t)
    counters_.load_delay_ns +=
        host.load_ns[t] / mlp * static_cast<double>(counters_.tier_misses[t] - misses_before[t]);
  counters_.accesses += b.n;
  counters_.writes += writes;
  counters_.reads += b.n - writes;
}

TlbEntry* Vm::translate(Vcpu& cpu, uint64_t vpn, uint8_t kind, double mlp, double& cost) {
  // An L1 miss for 4 KiB: the 2 MiB L1 and the shared L2 (each size with its
  // own key), then a walk. Huge keys are looked up only once the VM has ever
  // cached a 2 MiB translation, so 4 KiB-only VMs pay nothing for them.
  if (any_huge_tlb) {
    const uint64_t hk = (vpn >> (kHugeShift - kPageShift)) | kHugeKeyBit;
    TlbEntry* e = cpu.tlb.l1_huge.lookup(hk);
    if (e == nullptr) {
      e = cpu.tlb.l2.lookup(hk);
      if (e != nullptr) {
        cost += prof.tlb_l2_hit_ns;
        e = cpu.tlb.l1_huge.insert(hk, e->dirty);
      }
    }
    if (e != nullptr) {
      if (in_flight) [[unlikely]]
        cached_trap(cpu, vpn, kind & kWrite);
      if (subpage_ad) cost += subpage_assist(cpu, vpn, kind, e);
      return e;
    }
  }
  TlbEntry* e = cpu.tlb.l2.lookup(vpn);
  if (e != nullptr) {
    cost += prof.tlb_l2_hit_ns;
    if (in_flight) [[unlikely]]
      cached_trap(cpu, vpn, kind & kWrite);
    return cpu.tlb.l1.insert(vpn, e->dirty);
  }
  cost += walk(cpu, vpn, kind, mlp, e);
  return e;
}

namespace {
// Bhargava et al., ASPLOS'08: a 2D (guest x host) walk with n guest and m
// host levels makes (n+1)(m+1)-1 memory references: 24 with 4 KiB pages in
// both dimensions, 19 when one of them maps 2 MiB (one level shorter), 15
// when both do. walk_ns is the 4 KiB walk's upper part; it scales by this.
double walk_scale(bool guest_2m, bool ept_2m) {
  const int n = guest_2m ? 3 : 4, m = ept_2m ? 3 : 4;
  return static_cast<double>((n + 1) * (m + 1) - 1) / 24.0;
}
}  // namespace

double Vm::walk(Vcpu& cpu, uint64_t vpn, uint8_t kind, double mlp, TlbEntry*& out) {
  // A walk is a dependent chain of loads, but independent misses can walk in
  // parallel up to the core's page-miss handlers.
  const double walk_mlp = std::min(mlp, static_cast<double>(prof.page_walkers));
  ++counters_.tlb_misses;
  double cost = 0;
  if (pte_gpa[vpn] == kNone) cost += first_touch(vpn);
  const bool write = kind & kWrite;
  const uint64_t group = vpn / kPtesPerPage;
  const Gpa gpt = gpt_of[group];
  const Gpa g = pte_gpa[vpn];
  const bool guest_2m = guest_huge[group] != 0,
             host_2m = ept_2m[g >> (kHugeShift - kPageShift)] != 0;
  cost += prof.walk_ns * walk_scale(guest_2m, host_2m) / walk_mlp;
  const uint64_t bv = bits_vpn(vpn);
  const uint8_t want = PteBits::kAccessed | (write ? PteBits::kDirty : 0);
  const bool pte_changes = (pte_bits[bv] & want) != want;
  pte_bits[bv] |= want;
  // The leaf entry load (and the walker's A/D update) is a dependent access to
  // the page-table page, through the LLC like any other. For a 2 MiB guest
  // page the page-table page stands for the entry's table (huge_pages.md).
  const uint64_t misses_before = counters_.llc_misses;
  cost += mem(cpu, gpt, static_cast<uint32_t>((bv % kPtesPerPage) / 8), pte_changes, walk_mlp);
  counters_.walk_llc_misses += counters_.llc_misses - misses_before;
  // Intel SDM 3C, "EPT A/D flags": with A/D enabled, the processor's accesses
  // to guest paging structures are treated as writes for EPT dirty purposes,
  // so the walk dirties (and PML may log) the page-table page itself.
  cost += set_ept_ad(cpu, gpt, true);
  cost += set_ept_ad(cpu, g, write);
  if (ept[ad_index(g)] & (kEptMigrating | kEptZapped | kEptHint)) [[unlikely]]
    cost += trap(cpu, g, write);
  if (guest_2m && host_2m) {
    // The TLB entry reaches the smaller of the two mappings: here 2 MiB.
    ++counters_.huge_tlb_fills;
    any_huge_tlb = true;
    const uint64_t hk = (vpn >> (kHugeShift - kPageShift)) | kHugeKeyBit;
    cpu.tlb.l2.insert(hk, write);
    out = cpu.tlb.l1_huge.insert(hk, write);
    return cost;
  }
  cpu.tlb.l2.insert(vpn, write);
  out = cpu.tlb.l1.insert(vpn, write);
  return cost;
}

double Vm::subpage_assist(Vcpu& cpu, uint64_t vpn, uint8_t kind, TlbEntry* e) {
  // Hardware mode: the first access to a 4 KiB sub-page through a 2 MiB entry
  // (the first write, for D) sets that sub-page's bit, as a dirty assist
  // sets D: charged like one (walk_ns plus the bit's line, which dirties the
  // page-table page for PML). The bit is checked in memory, so one cleared
  // behind a live entry is set again by the next access (huge_pages.md).
  const bool write = kind & kWrite;
  const uint8_t want = PteBits::kAccessed | (write ? PteBits::kDirty : 0);
  if ((pte_bits[vpn] & want) == want) return 0;
  ++counters_.subpage_assists;
  pte_bits[vpn] |= want;
  const Gpa gpt = gpt_of[vpn / kPtesPerPage];
  const Gpa g = pte_gpa[vpn];
  double cost = prof.walk_ns;
  cost += mem(cpu, gpt, static_cast<uint32_t>((vpn % kPtesPerPage) / 8), true, 1.0);
  cost += set_ept_ad(cpu, gpt, true);
  cost += set_ept_ad(cpu, g, write);
  if (write) cpu.tlb.mark_dirty(e);
  return cost;
}

double Vm::dirty_assist(Vcpu& cpu, uint64_t vpn, TlbEntry* e) {
  // A write through a clean TLB entry: the processor re-walks to set the
  // guest PTE's D bit and the EPT D bit of the data page.
  ++counters_.dirty_assists;
  double cost = prof.walk_ns;
  const Gpa gpt = gpt_of[vpn / kPtesPerPage];
  const Gpa g = pte_gpa[vpn];
  const uint64_t bv = bits_vpn(vpn);
  const bool pte_changes = !(pte_bits[bv] & PteBits::kDirty);
  pte_bits[bv] |= PteBits::kAccessed | PteBits::kDirty;
  cost += mem(cpu, gpt, static_cast<uint32_t>((bv % kPtesPerPage) / 8), pte_changes, 1.0);
  cost += set_ept_ad(cpu, gpt, true);
  cost += set_ept_ad(cpu, g, true);
  if (ept[ad_index(g)] & (kEptMigrating | kEptZapped | kEptHint)) [[unlikely]]
    cost += trap(cpu, g, true);
  cpu.tlb.mark_dirty(e);
  return cost;
}

double Vm::set_ept_ad(Vcpu& cpu, Gpa g, bool write) {
  uint8_t& e = ept[ad_index(g)];
  e |= kEptA;
  if (!write || (e & kEptD)) return 0;
  e |= kEptD;
  if (!pml_on) return 0;
  cpu.pml[cpu.pml_n++] = ad_index(g);
  ++counters_.pml_entries;
  return cpu.pml_n == cpu.pml.size() ? pml_full_exit(cpu) : 0;
}

double Vm::pml_full_exit(Vcpu& cpu) {
  // Intel SDM 3C: a full PML buffer causes a VM exit; KVM saves the entries
  // (here into pml_log, which drain_pml() hands to the policy) and resets the
  // index. The vCPU pays the exit and the per-entry handling.
  ++counters_.pml_full_exits;
  ++counters_.vm_exits;
  pml_log.insert(pml_log.end(), cpu.pml.begin(), cpu.pml.begin() + cpu.pml_n);
  const double cost = prof.vm_exit_ns + cpu.pml_n * prof.pml_entry_ns;
  cpu.pml_n = 0;
  return cost;
}

void Vm::break_huge_block() {
  const uint32_t b = huge_blocks.back();
  huge_blocks.pop_back();
  for (uint32_t i = kPagesPerHuge; i-- > 0;)
    free_gpas[0].give(b * kPagesPerHuge + i);  // lowest handed out first
}

Gpa Vm::alloc_gpa(Tier preferred) {
  if (cfg.guest_thp && free_gpas[0].empty() && !huge_blocks.empty()) break_huge_block();
  // Linux's zonelist fallback: the preferred node, then the other.
  for (int k = 0; k < kTiers; ++k) {
    FreeGpas& f = free_gpas[(static_cast<int>(preferred) + k) % kTiers];
    if (!f.empty()) return f.take();
  }
  throw SpecError("vm: guest memory exhausted (" + std::to_string(cfg.memory_pages) +
                  " pages): give the VM more memory than the workload's footprint");
}

void Vm::free_gpa(Gpa g) {
  owner[g] = kNone;
  free_gpas[cfg.guest_numa ? static_cast<int>(node_of(g)) : 0].give(g);
}

double Vm::back(Gpa g) {
  const uint32_t r = g >> (kHugeShift - kPageShift);
  const Gpa head = g & ~(kPagesPerHuge - 1);
  if (ept_2m[r]) return 0;  // the region's 2 MiB mapping already backs it: no exit
  // First touch of a guest page: an EPT violation; the policy picks the tier.
  ++counters_.ept_violations;
  ++counters_.vm_exits;
  // A GPA the guest freed and reuses (guest-side designs) is still backed.
  if (ept[g] & kEptPresent) return prof.ept_violation_ns;
  // A whole 2 MiB mapping when the host backs with huge pages, the region is
  // still untouched and holds no page-table page (huge_pages.md: KVM keeps
  // gfns it write-tracks on 4 KiB entries, and vTMM watches page tables).
  bool huge = huge_backing && head + kPagesPerHuge <= ept.size() &&
              !((owner[g] & kGptOwner) && owner[g] != kNone);
  for (uint32_t i = 0; huge && i < kPagesPerHuge; ++i) huge = !(ept[head + i] & kEptPresent);
  const Gpa at = huge ? head : g;
  // A guest-side VM's nodes are bound to tiers; otherwise the policy picks.
  Tier t = cfg.guest_numa                      ? node_of(at)
           : cfg.memory_mode || cfg.start_slow ? Tier::Slow
                                               : policy.place(at, mech);
  const auto fits = [&](Tier x, uint64_t n) {
    return used_[static_cast<int>(x)] + n <= cap[static_cast<int>(x)];
  };
  const Tier other = t == Tier::Fast ? Tier::Slow : Tier::Fast;
  if (huge && !fits(t, kPagesPerHuge)) {
    if (fits(other, kPagesPerHuge))
      t = other;
    else
      huge = false;  // no 2 MiB of room on either tier: map this page alone
  }
  const uint32_t span = huge ? kPagesPerHuge : 1;
  if (!fits(t, span)) t = other;
  if (!fits(t, span))
    throw SpecError("vm: both tiers are full: fast + slow allowance is smaller than guest memory");
  used_[static_cast<int>(t)] += span;
  const uint8_t slow = t == Tier::Slow ? kEptSlow : 0;
  if (huge) {
    ept_2m[r] = 1;
    ++ept_2m_live;
    for (uint32_t i = 0; i < kPagesPerHuge; ++i)
      ept[head + i] = static_cast<uint8_t>((ept[head + i] & ~kEptSlow) | slow | kEptPresent);
  } else {
    ept[g] = static_cast<uint8_t>((ept[g] & ~kEptSlow) | slow | kEptPresent);
  }
  return prof.ept_violation_ns;
}

double Vm::first_touch(uint64_t vpn) {
  // The guest's page fault: it allocates the data page, and the leaf
  // page-table page too if this is the first page of its 2 MiB range. Each
  // newly used GPA is then backed by the host (an EPT violation).
  double cost = 0;
  const uint64_t group = vpn / kPtesPerPage;
  if (gpt_of[group] == kNone) {
    const Gpa gpt = alloc_gpa(Tier::Fast);  // page tables come from the local (fast) node
    gpt_of[group] = gpt;
    owner[gpt] = kGptOwner | static_cast<uint32_t>(group);
    gpt_list.push_back(gpt);
    if (ept_2m[gpt >> (kHugeShift - kPageShift)]) {
      // A page table landed in a 2 MiB EPT mapping (so it is backed): the
      // host splits the mapping so the page table has an entry (and D bit)
      // of its own (not while the region is being migrated: rare, and then
      // it shares the region's bits).
      const double split = split_ept(gpt >> (kHugeShift - kPageShift));
      if (split > 0) {
        cost += split;
        mech.flush_tlbs();
      }
    } else {
      cost += back(gpt);
    }
    // A THP guest maps a whole, aligned, in-layout 2 MiB range with one
    // 2 MiB page when a free block is left (else 4 KiB pages, as THP falls back).
    if (cfg.guest_thp && (group + 1) * kPtesPerPage <= pte_gpa.size() && !huge_blocks.empty())
      return cost + first_touch_huge(group);
  }
  // A guest-side design's policy picks the node the guest allocator tries first.
  const Gpa g = alloc_gpa(cfg.guest_numa ? policy.place(kNone, mech) : Tier::Fast);
  pte_gpa[vpn] = g;
  owner[g] = static_cast<uint32_t>(vpn);
  cost += back(g);
  return cost;
}

double Vm::first_touch_huge(uint64_t group) {
  // The guest's THP fault: one aligned block, every 4 KiB of it mapped at
  // once (the guest zeroes it all, so the host backs all of it now).
  guest_huge[group] = 1;
  const Gpa base = huge_blocks.back() * kPagesPerHuge;
  huge_blocks.pop_back();
  double cost = 0;
  for (uint32_t i = 0; i < kPagesPerHuge; ++i) {
    const uint64_t vpn = group * kPtesPerPage + i;
    pte_gpa[vpn] = base + i;
    owner[base + i] = static_cast<uint32_t>(vpn);
  }
  for (uint32_t i = 0; i < kPagesPerHuge; ++i) cost += back(base + i);
  return cost;
}

double Vm::migration_trap(Vcpu& cpu, Gpa g, bool write) {
  const Gpa key = ad_index(g);
  if (ept[key] & kEptMigrating) {
    for (const Inflight& f : inflight) {
      const auto it = std::lower_bound(f.pages.begin(), f.pages.end(), key);
      if (it == f.pages.end() || *it != key) continue;
      const size_t i = static_cast<size_t>(it - f.pages.begin());
      if (cpu.clock_ns < f.start[i])
        return 0;                      // not unmapped or protected yet: the old mapping serves
      if (cpu.clock_ns >= f.end[i]) {  // copied: an unmapped page faults the new one in
        if (f.repoint && f.how != MigrationMethod::Pml) repoint(key, f.to);
        return remap_fault(key);
      }
      if (f.writes_only && !write) return 0;  // write-protected: reads go on
      // The vCPU faults (an exit; a guest page fault for a guest-side copy)
      // and waits for the page's copy to finish.
      ++counters_.migration_traps;
      if (!f.guest) ++counters_.vm_exits;
      const double wait = f.end[i] - cpu.clock_ns;
      counters_.trap_wait_ns += wait;
      // The fault that waited maps the new page when the copy ends: no second fault.
      ept[key] &= static_cast<uint8_t>(~kEptZapped);
      if (f.repoint) repoint(key, f.to);
      return prof.page_fault_ns + wait;
    }
  }
  return remap_fault(key);
}

void Vm::cached_trap(Vcpu& cpu, uint64_t vpn, bool write) {
  const Gpa g = pte_gpa[vpn];
  if (ept[ad_index(g)] & kEptMigrating) cpu.clock_ns += migration_trap(cpu, g, write);
}

void Vm::repoint(Gpa head, Tier t) {
  if (tier_of(head) == t) return;
  const uint32_t span = span_of(head);
  if (span == 1)
    ept_moved[head >> (kHugeShift - kPageShift)] = 1;  // a later merge must collapse (copy)
  for (uint32_t k = 0; k < span && head + k < ept.size(); ++k) {
    uint8_t& e = ept[head + k];
    e = static_cast<uint8_t>((e & ~kEptSlow) | (t == Tier::Slow ? kEptSlow : 0));
  }
}

double Vm::trap(Vcpu& cpu, Gpa g, bool write) {
  double cost = 0;
  const Gpa key = ad_index(g);
  if (ept[key] & kEptHint) {
    ept[key] &= static_cast<uint8_t>(~kEptHint);
    cost = mech.hint_fault(static_cast<uint32_t>(&cpu - vcpus.data()), key, write);
  }
  // A migration the fault itself made has been waited for: the checks below
  // see the vCPU where the fault left it.
  cpu.clock_ns += cost;
  double more = 0;
  if (ept[key] & (kEptMigrating | kEptZapped)) more = migration_trap(cpu, g, write);
  cpu.clock_ns -= cost;
  return cost + more;
}

double Vm::sample(Vcpu& cpu, uint8_t kind, Gpa g, bool missed) {
  // PEBS: a counter per event; on overflow the assist writes a record. Load
  // samples count only loads that missed the LLC (MEM_LOAD_L3_MISS_RETIRED);
  // store samples count every store (MEM_INST_RETIRED.ALL_STORES), as HeMem
  // and MEMTIS program them. A read-modify-write is both a load and a store.
  double cost = 0;
  const auto event = [&](uint32_t period, uint32_t& left, bool write) {
    if (left == 0) left = period;
    if (--left != 0) return;
    ++counters_.samples;
    cost += prof.pebs_assist_ns;
    if (samples.size() >= prof.sample_buffer_entries) {
      ++counters_.samples_lost;  // the consumer fell behind: the ring buffer is full
      return;
    }
    samples.push_back(AccessSample{g, write, tier_of(g) == Tier::Slow,
                                   static_cast<uint32_t>(&cpu - vcpus.data()), cpu.clock_ns});
  };
  if ((kind & kRead) && missed && load_period != 0) event(load_period, cpu.load_left, false);
  if ((kind & kWrite) && store_period != 0) event(store_period, cpu.store_left, true);
  return cost;
}

double Vm::mm_miss(Vcpu& cpu, Gpa g, uint32_t line_in_page, double mlp) {
  // Intel Memory Mode (2LM): the memory controller checks the DRAM cache
  // first; a hit is served by DRAM; a miss reads the line from the slow tier,
  // fills the direct-mapped slot and writes back the victim if dirty.
  const uint64_t line = (uint64_t{g} << 6) | line_in_page;
  uint64_t& slot = mm_tags[line % mm_tags.size()];
  constexpr uint64_t kDirty = uint64_t{1} << 63;
  double delay;
  if ((slot & ~kDirty) == line + 1) {
    ++counters_.tier_misses[0];
    ++counters_.mm_hits;
    delay = host.bw[0].book(cpu.clock_ns, unit_[0], false);
    counters_.bw_delay_ns += delay;
    if (measuring) ++truth_misses_[g];
    return host.lat_ns[0] / mlp + delay;
  }
  ++counters_.tier_misses[1];
  ++counters_.mm_misses;
  if (measuring) ++truth_misses_[g];
  // The victim's write-back and the fill are posted writes: they stall the
  // core only when a tier's write queue is full.
  double stall = 0;
  if (slot & kDirty) {
    ++counters_.mm_writebacks;
    stall += host.bw[1].post(cpu.clock_ns, unit_[1]);
  }
  // A store miss fills clean: the LLC holds the dirty line and writes it back
  // here later (mm_install).
  slot = line + 1;
  delay = host.bw[1].book(cpu.clock_ns + stall, unit_[1], false);
  stall += host.bw[0].post(cpu.clock_ns + stall, unit_[0]);  // the fill
  counters_.bw_delay_ns += delay;
  counters_.wb_stall_ns += stall;
  return (host.lat_ns[0] + host.lat_ns[1]) / mlp + delay + stall;
}

double Vm::mm_install(uint64_t line, double at_ns) {
  // A dirty LLC eviction lands in the DRAM cache (a full-line write needs no
  // fetch); the victim it displaces is written back if dirty.
  uint64_t& slot = mm_tags[line % mm_tags.size()];
  constexpr uint64_t kDirty = uint64_t{1} << 63;
  double stall = 0;
  if ((slot & ~kDirty) != line + 1 && (slot & kDirty)) {
    ++counters_.mm_writebacks;
    stall += host.bw[1].post(at_ns, unit_[1]);
  }
  slot = (line + 1) | kDirty;
  return stall + host.bw[0].post(at_ns + stall, unit_[0]);
}

double Vm::remap_fault(Gpa head) {
  // Linux-style migration left the EPT entry unmapped: the first access after
  // the copy takes an EPT violation that maps the new page.
  if (!(ept[head] & kEptZapped)) return 0;
  ept[head] &= static_cast<uint8_t>(~kEptZapped);
  ++counters_.migration_traps;
  ++counters_.remap_faults;
  ++counters_.vm_exits;
  return prof.page_fault_ns;
}

double Vm::write_back(uint64_t line, double at_ns) {
  if (cfg.memory_mode) {
    ++counters_.writebacks[0];
    return mm_install(line & ((uint64_t{1} << 40) - 1), at_ns);
  }
  const int t = line_tier(line);
  ++counters_.writebacks[t];
  return host.bw[t].post(at_ns, unit_[t]);
}

double Vm::hv_line(uint64_t line, bool write, double at_ns) {
  ++counters_.scan_lines;
  const Llc::Result r = host.llc.access(line, write);
  double stall = 0;
  if (r.evicted_dirty != Llc::kEmpty)
    stall = host.vms[r.evicted_dirty >> 40]->write_back(r.evicted_dirty, at_ns);
  if (r.hit) return stall;
  ++counters_.scan_llc_misses;
  const int t = line_tier(line);
  return stall + host.lat_ns[t] / prof.scan_mlp + host.bw[t].book(at_ns + stall, unit_[t], false);
}

}  // namespace vtmm::sim
