#include "vtmm/sim/sim_mechanisms.hpp"

#include <algorithm>
#include <bit>

namespace vtmm::sim {

uint32_t SimMechanisms::gpt_group(Gpa gpt) const {
  const Vm& vm = *vm_;
  if (gpt >= vm.owner.size() || vm.owner[gpt] == kNone || !(vm.owner[gpt] & kGptOwner))
    throw std::invalid_argument("not a page-table page: GPA " + std::to_string(gpt));
  return vm.owner[gpt] & ~kGptOwner;
}

void SimMechanisms::scan_gpt_page(Gpa gpt, uint8_t clear_mask,
                                  std::span<PteBits, kPtesPerPage> out) {
  Vm& vm = *vm_;
  const uint64_t base = uint64_t{gpt_group(gpt)} * kPtesPerPage;
  const bool shared =
      base + 1 < vm.pte_bits.size() && vm.bits_vpn(base + 1) == base;  // one pair for the group
  uint64_t written = 0;  // per line of the table: a bit was cleared in it
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const uint64_t vpn = base + i;
    if (vpn >= vm.pte_gpa.size() || vm.pte_gpa[vpn] == kNone) {
      out[i] = PteBits{kNone, 0};
      continue;
    }
    // A 2 MiB guest page without the hardware mode has one A/D pair (its
    // head's): every 4 KiB slot reports it.
    const uint64_t bv = vm.bits_vpn(vpn);
    out[i] = PteBits{vm.pte_gpa[vpn], static_cast<uint8_t>(vm.pte_bits[bv] | PteBits::kPresent)};
    if (shared || !(vm.pte_bits[vpn] & clear_mask)) continue;
    vm.pte_bits[vpn] &= static_cast<uint8_t>(~clear_mask);
    written |= uint64_t{1} << (i / 8);
  }
  if (shared && (vm.pte_bits[base] & clear_mask)) {
    vm.pte_bits[base] &= static_cast<uint8_t>(~clear_mask);
    written |= 1;
  }
  // The scan reads the whole table page, a line at a time.
  const uint64_t page = (uint64_t{vm.cfg.id} << 40) | (uint64_t{gpt} << 6);
  for (uint32_t l = 0; l < kPtesPerPage / 8; ++l) touch(page | l, (written >> l) & 1);
  charge_ns(kPtesPerPage * vm.prof.pte_scan_ns);
}

GptView SimMechanisms::read_gpt_page(Gpa gpt, GptCopy& copy) {
  Vm& vm = *vm_;
  const uint64_t base = uint64_t{gpt_group(gpt)} * kPtesPerPage;
  const bool shared =
      base + 1 < vm.pte_bits.size() && vm.bits_vpn(base + 1) == base;  // one pair for the group
  // The scan reads the whole table page, a line at a time: scan_gpt_page's
  // cost with nothing cleared. The 64 lines' LLC sets are fetched first so
  // their misses in the host overlap.
  const uint64_t page = (uint64_t{vm.cfg.id} << 40) | (uint64_t{gpt} << 6);
  constexpr uint32_t kAhead = 8, kLines = kPtesPerPage / 8;
  for (uint32_t l = 0; l < kAhead; ++l) vm.host.llc.prefetch(page | l);
  for (uint32_t l = 0; l < kLines; ++l) {
    if (l + kAhead < kLines) vm.host.llc.prefetch(page | (l + kAhead));
    touch(page | l, false);
  }
  charge_ns(kPtesPerPage * vm.prof.pte_scan_ns);
  const uint32_t stride = shared ? 0 : 1;
  if (base + kPtesPerPage <= vm.pte_gpa.size())
    return GptView{&vm.pte_gpa[base], &vm.pte_bits[base], stride};
  // The last table of a guest whose size is not a multiple of 512 pages.
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const uint64_t vpn = base + i;
    copy.target[i] = vpn < vm.pte_gpa.size() ? vm.pte_gpa[vpn] : kNone;
    copy.bits[i] = vpn < vm.pte_gpa.size() ? vm.pte_bits[vm.bits_vpn(vpn)] : uint8_t{0};
  }
  return GptView{copy.target.data(), copy.bits.data(), 1};
}

void SimMechanisms::clear_gpt_bits(Gpa gpt, const PteSet& which, uint8_t mask) {
  Vm& vm = *vm_;
  const uint64_t base = uint64_t{gpt_group(gpt)} * kPtesPerPage;
  uint32_t written = 0;
  uint64_t last = Llc::kEmpty;  // the line written just before: still the MRU of its set, and dirty
  for (uint32_t w = 0; w < which.size(); ++w) {
    for (uint64_t todo = which[w]; todo != 0; todo &= todo - 1) {
      const uint64_t vpn = base + w * 64 + static_cast<uint64_t>(std::countr_zero(todo));
      if (vpn >= vm.pte_gpa.size() || vm.pte_gpa[vpn] == kNone) continue;
      vm.pte_bits[vm.bits_vpn(vpn)] &=
          static_cast<uint8_t>(~mask);  // a 2 MiB page's one pair: any slot clears it
      ++written;
      // Writing the same line again hits its set's MRU way, already dirty:
      // nothing changes but the count of lines touched.
      const uint64_t line = vm.pte_line(vpn);
      if (line == last) {
        ++vm.counters().scan_lines;
        continue;
      }
      touch(line, true);
      last = line;
    }
  }
  charge_ns(written * vm.prof.pte_scan_ns);
}

namespace {
uint8_t ad_of(uint8_t e) {
  return static_cast<uint8_t>(((e & kEptA) ? PteBits::kAccessed : 0) |
                              ((e & kEptD) ? PteBits::kDirty : 0));
}
}  // namespace

uint8_t SimMechanisms::ept_bits(Gpa g) {
  touch(vm_->ept_line(g), false);
  charge_ns(vm_->prof.ept_bit_ns);
  return ad_of(vm_->ept[vm_->ad_index(g)]);
}

bool SimMechanisms::test_and_clear_young(Gpa g) {
  if (side_ == Side::Host) {
    // The host's folio_referenced() reaches the EPT entry through the MMU
    // notifier's clear_flush_young, and KVM flushes the VM's TLBs when the
    // entry was young (baselines/clear_flush_young.hpp).
    const bool young = Mechanisms::test_and_clear_young(g);
    if (young) flush_tlbs();
    return young;
  }
  // Guest side: the reverse map leads to the one PTE mapping g. The hop is
  // charged as one page-walk step (walk_ns): the rmap chain is a few
  // dependent loads, like a walk. x86 does not flush the TLB when clearing
  // young, so an access through a cached translation stays unseen.
  Vm& vm = *vm_;
  charge_ns(vm.prof.walk_ns);
  if (g >= vm.owner.size()) return false;
  const uint32_t vpn = vm.owner[g];
  if (vpn == kNone || (vpn & kGptOwner) || vpn >= vm.pte_bits.size()) return false;
  const bool young = (vm.pte_bits[vpn] & PteBits::kAccessed) != 0;
  vm.pte_bits[vpn] &= static_cast<uint8_t>(~PteBits::kAccessed);
  touch(vm.pte_line(vpn), young);
  return young;
}

void SimMechanisms::scan_ept(uint8_t clear_mask, std::span<uint8_t> out) {
  Vm& vm = *vm_;
  const uint8_t m = static_cast<uint8_t>(((clear_mask & PteBits::kAccessed) ? kEptA : 0) |
                                         ((clear_mask & PteBits::kDirty) ? kEptD : 0));
  const size_t n = std::min(out.size(), vm.ept.size());
  // The walk reads the lines of the EPT entries that exist (present ones)
  // and writes those in which it cleared a bit.
  uint64_t line = 0;
  bool have = false, dirty = false;
  for (size_t g = 0; g < n; ++g) {
    const Gpa head = vm.ad_index(static_cast<Gpa>(g));
    out[g] = ad_of(vm.ept[head]);
    if (head != g || !(vm.ept[g] & kEptPresent)) continue;
    if (const uint64_t l = vm.ept_line(head); !have || l != line) {
      if (have) touch(line, dirty);
      line = l;
      have = true;
      dirty = false;
    }
    if (vm.ept[g] & m) {
      vm.ept[g] &= static_cast<uint8_t>(~m);
      dirty = true;
    }
  }
  if (have) touch(line, dirty);
  charge_ns(static_cast<double>(n) * vm.prof.ept_bit_ns);
}

void SimMechanisms::clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) {
  const uint8_t m = static_cast<uint8_t>(((mask & PteBits::kAccessed) ? kEptA : 0) |
                                         ((mask & PteBits::kDirty) ? kEptD : 0));
  for (Gpa g : gs) {
    vm_->ept[vm_->ad_index(g)] &= static_cast<uint8_t>(~m);
    touch(vm_->ept_line(g), true);
  }
  charge_ns(static_cast<double>(gs.size()) * vm_->prof.ept_bit_ns);
}

void SimMechanisms::drain_pml(std::vector<Gpa>& out) {
  // KVM kicks every vCPU whose buffer holds entries (an exit each) so the
  // buffers reach the log, then the thread walks the log.
  Vm& vm = *vm_;
  for (auto& cpu : vm.vcpus) {
    if (cpu.pml_n == 0) continue;
    vm.pml_log.insert(vm.pml_log.end(), cpu.pml.begin(), cpu.pml.begin() + cpu.pml_n);
    cpu.pml_n = 0;
    cpu.clock_ns += vm.prof.vm_exit_ns;
    ++vm.counters().vm_exits;
  }
  charge_ns(static_cast<double>(vm.pml_log.size()) * vm.prof.pml_entry_ns);
  out.insert(out.end(), vm.pml_log.begin(), vm.pml_log.end());
  vm.pml_log.clear();
}

void SimMechanisms::offer_only(std::span<const Mechanism> declared) {
  provide(everything());
  keep_only(declared);
}

void SimMechanisms::flush_tlbs() {
  // A shootdown: every vCPU takes an exit, invalidates, and re-enters; the
  // misses that follow are charged by the access path as they happen.
  Vm& vm = *vm_;
  for (auto& cpu : vm.vcpus) {
    cpu.tlb.flush();
    // Charged where the vCPU is: a vCPU behind the thread's clock takes the
    // shootdown when it gets there, it is not dragged forward to it.
    cpu.clock_ns += vm.prof.tlb_shootdown_ns;
    ++vm.counters().tlb_flushes;
    ++vm.counters().vm_exits;
  }
}

PageUse SimMechanisms::page_use(Gpa g) const {
  const Vm& vm = *vm_;
  if (g >= vm.owner.size() || vm.owner[g] == kNone) return {PageUse::Free, 0};
  const uint32_t o = vm.owner[g];
  if (o & kGptOwner) return {PageUse::PageTable, o & ~kGptOwner};
  return {PageUse::Data, o};
}

void SimMechanisms::page_tiers(std::span<uint8_t> out) const {
  const uint8_t* ept = vm_->ept.data();
  const size_t n = std::min(out.size(), vm_->ept.size());
  for (size_t g = 0; g < n; ++g)  // branch-free, so it vectorises
    out[g] = static_cast<uint8_t>((ept[g] & kEptPresent) ? ((ept[g] & kEptSlow) ? 1 : 0) : 2);
  for (size_t g = n; g < out.size(); ++g) out[g] = 2;
}

uint64_t SimMechanisms::used_pages(Tier t) const {
  const Vm& vm = *vm_;
  const int i = static_cast<int>(t);
  // A guest-side design sees its nodes' allocated pages (what the guest's
  // free lists lack), not what the host has backed.
  if (vm.cfg.guest_numa) return vm.cap[i] - vm.free_gpas[i].size();
  return vm.used(t);
}

void SimMechanisms::steal(double ns) {
  if (side_ != Side::Guest || in_fault_ || ns <= 0) return;
  Vm& vm = *vm_;
  const double each = ns / static_cast<double>(vm.vcpus.size());
  for (auto& cpu : vm.vcpus) cpu.clock_ns += each;
}

void SimMechanisms::protect_for_hint(std::span<const Gpa> gs) {
  // Host side: NUMA balancing's change_prot_numa() on the QEMU process; the
  // MMU notifier zaps the EPT entries. Guest side: the guest kernel's own
  // change_prot_numa() on the guest PTEs. Either way one flush ends the scan.
  Vm& vm = *vm_;
  if (vm.hint_armed_ns.empty()) vm.hint_armed_ns.assign(vm.ept.size(), 0.0);
  uint64_t n = 0;
  for (Gpa g : gs) {
    if (g >= vm.ept.size())
      throw std::invalid_argument("protect_for_hint: GPA beyond guest memory");
    const Gpa head = vm.ad_index(g);
    if (!(vm.ept[head] & kEptPresent)) continue;
    vm.ept[head] |= kEptHint;
    vm.hint_armed_ns[head] = cur_->clock_ns;
    ++n;
    // The entry written: the EPT entry (host side) or the guest PTE mapping g.
    if (side_ == Side::Host) {
      touch(vm.ept_line(head), true);
    } else if (const uint32_t o = vm.owner[g]; o != kNone && !(o & kGptOwner)) {
      touch(vm.pte_line(o), true);
    }
  }
  charge_ns(static_cast<double>(n) *
            (side_ == Side::Host ? vm.prof.ept_bit_ns : vm.prof.pte_scan_ns));
  if (n > 0) flush_tlbs();
}

double SimMechanisms::hint_fault(uint32_t v, Gpa head, bool write) {
  Vm& vm = *vm_;
  ++vm.counters().hint_faults;
  double cost = vm.prof.hint_fault_ns;
  if (side_ == Side::Host) {  // the access exits on the zapped EPT entry
    cost += vm.prof.vm_exit_ns;
    ++vm.counters().vm_exits;
  }
  HvThread ctx;
  ctx.clock_ns = vm.vcpus[v].clock_ns + cost;
  const double armed = vm.hint_armed_ns.empty() ? 0.0 : vm.hint_armed_ns[head];
  const HintFault f{head, write, v, armed, ctx.clock_ns};
  HvThread* const saved = cur_;
  const bool saved_fault = in_fault_;
  cur_ = &ctx;
  in_fault_ = true;
  vm.policy.on_hint_fault(f, *this);
  cur_ = saved;
  in_fault_ = saved_fault;
  // A migration made in the fault maps the new page when the fault returns.
  vm.ept[head] &= static_cast<uint8_t>(~kEptZapped);
  return ctx.clock_ns - vm.vcpus[v].clock_ns;
}

void SimMechanisms::set_sampling(uint32_t load_period, uint32_t store_period) {
  Vm& vm = *vm_;
  vm.load_period = load_period;
  vm.store_period = store_period;
  for (auto& cpu : vm.vcpus) cpu.load_left = cpu.store_left = 0;
}

void SimMechanisms::drain_samples(std::vector<AccessSample>& out) {
  Vm& vm = *vm_;
  charge_ns(static_cast<double>(vm.samples.size()) * vm.prof.pebs_drain_ns);
  out.insert(out.end(), vm.samples.begin(), vm.samples.end());
  vm.samples.clear();
}

namespace {
// The distinct regions of gs, in order (callers may pass every page of a region).
std::vector<uint32_t> regions_of(std::span<const Gpa> gs, size_t pages) {
  std::vector<uint32_t> rs;
  for (Gpa g : gs) {
    if (g >= pages) throw std::invalid_argument("huge mappings: GPA beyond guest memory");
    rs.push_back(g >> (kHugeShift - kPageShift));
  }
  std::sort(rs.begin(), rs.end());
  rs.erase(std::unique(rs.begin(), rs.end()), rs.end());
  return rs;
}
}  // namespace

uint32_t SimMechanisms::split_huge(std::span<const Gpa> gs) {
  Vm& vm = *vm_;
  uint32_t n = 0;
  for (uint32_t r : regions_of(gs, vm.ept.size())) {
    const double ns = vm.split_ept(r);
    if (ns < 0) continue;
    cur_->clock_ns += ns;
    vm.counters().migration_ns += ns;
    ++n;
  }
  if (n > 0) flush_tlbs();  // one shootdown for the batch, as KVM flushes once after a range
  return n;
}

uint32_t SimMechanisms::merge_huge(std::span<const Gpa> gs) {
  Vm& vm = *vm_;
  uint32_t n = 0;
  for (uint32_t r : regions_of(gs, vm.ept.size())) {
    const double ns = vm.merge_ept(r, cur_->clock_ns);
    if (ns < 0) continue;
    cur_->clock_ns += ns;
    vm.counters().migration_ns += ns;
    ++n;
  }
  if (n > 0) flush_tlbs();
  return n;
}

}  // namespace vtmm::sim
