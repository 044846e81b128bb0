#include "vtmm/sim/sim_mechanisms.hpp"

#include <algorithm>

namespace vtmm::sim {

uint32_t SimMechanisms::gpt_group(Gpa gpt) const {
  const Vm& vm = *vm_;
  if (gpt >= vm.owner.size() || vm.owner[gpt] == kNone || !(vm.owner[gpt] & kGptOwner))
    throw std::invalid_argument("not a page-table page: GPA " + std::to_string(gpt));
  return vm.owner[gpt] & ~kGptOwner;
}

void SimMechanisms::scan_gpt_page(Gpa gpt, uint8_t clear_mask, std::span<PteBits, kPtesPerPage> out) {
  Vm& vm = *vm_;
  const uint64_t base = uint64_t{gpt_group(gpt)} * kPtesPerPage;
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const uint64_t vpn = base + i;
    if (vpn >= vm.pte_gpa.size() || vm.pte_gpa[vpn] == kNone) {
      out[i] = PteBits{kNone, 0};
      continue;
    }
    out[i] = PteBits{vm.pte_gpa[vpn], static_cast<uint8_t>(vm.pte_bits[vpn] | PteBits::kPresent)};
    vm.pte_bits[vpn] &= static_cast<uint8_t>(~clear_mask);
  }
  charge_ns(kPtesPerPage * vm.prof.pte_scan_ns);
}

void SimMechanisms::clear_pte_bits(Gpa gpt, std::span<const uint8_t, kPtesPerPage> masks) {
  Vm& vm = *vm_;
  const uint64_t base = uint64_t{gpt_group(gpt)} * kPtesPerPage;
  uint32_t written = 0;
  for (uint32_t i = 0; i < kPtesPerPage; ++i) {
    const uint64_t vpn = base + i;
    if (masks[i] == 0 || vpn >= vm.pte_gpa.size() || vm.pte_gpa[vpn] == kNone) continue;
    vm.pte_bits[vpn] &= static_cast<uint8_t>(~masks[i]);
    ++written;
  }
  charge_ns(written * vm.prof.pte_scan_ns);
}

namespace {
uint8_t ad_of(uint8_t e) {
  return static_cast<uint8_t>(((e & kEptA) ? PteBits::kAccessed : 0) | ((e & kEptD) ? PteBits::kDirty : 0));
}
}  // namespace

uint8_t SimMechanisms::ept_bits(Gpa g) {
  charge_ns(vm_->prof.ept_bit_ns);
  return ad_of(vm_->ept[vm_->ad_index(g)]);
}

void SimMechanisms::scan_ept(uint8_t clear_mask, std::span<uint8_t> out) {
  Vm& vm = *vm_;
  const uint8_t m = static_cast<uint8_t>(((clear_mask & PteBits::kAccessed) ? kEptA : 0) |
                                         ((clear_mask & PteBits::kDirty) ? kEptD : 0));
  const size_t n = std::min(out.size(), vm.ept.size());
  for (size_t g = 0; g < n; ++g) {
    out[g] = ad_of(vm.ept[vm.ad_index(static_cast<Gpa>(g))]);
    if (vm.ad_index(static_cast<Gpa>(g)) == g) vm.ept[g] &= static_cast<uint8_t>(~m);
  }
  charge_ns(static_cast<double>(n) * vm.prof.ept_bit_ns);
}

void SimMechanisms::clear_ept_bits(std::span<const Gpa> gs, uint8_t mask) {
  const uint8_t m = static_cast<uint8_t>(((mask & PteBits::kAccessed) ? kEptA : 0) | ((mask & PteBits::kDirty) ? kEptD : 0));
  for (Gpa g : gs) vm_->ept[vm_->ad_index(g)] &= static_cast<uint8_t>(~m);
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
    ++vm.c.vm_exits;
  }
  charge_ns(static_cast<double>(vm.pml_log.size()) * vm.prof.pml_entry_ns);
  out.insert(out.end(), vm.pml_log.begin(), vm.pml_log.end());
  vm.pml_log.clear();
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
    ++vm.c.tlb_flushes;
    ++vm.c.vm_exits;
  }
}

double SimMechanisms::copy_pages(std::span<const Gpa> pages, Tier from, Tier to, double start, uint32_t threads,
                                 double sw_ns, double* cpu_ns) {
  // Pages are dealt round-robin to the copy threads; each copies 4 KiB at its
  // own memcpy rate, and waits when either tier's bandwidth is booked up.
  Vm& vm = *vm_;
  const HostProfile& p = vm.prof;
  std::vector<double> t(std::max(1u, threads), start);
  for (size_t i = 0; i < pages.size(); ++i) {
    double& now = t[i % t.size()];
    const uint32_t n = vm.cfg.ept_huge ? kPagesPerHuge : 1;
    for (uint32_t k = 0; k < n; ++k) {
      const double bytes = static_cast<double>(kPageSize);
      now += vm.host.bw[static_cast<int>(from)].book(now, bytes, false);
      now += vm.host.bw[static_cast<int>(to)].book(now, bytes, true);
      now += bytes / p.copy_gbps;
      vm.c.copied_bytes += kPageSize;
    }
    now += sw_ns;
  }
  double end = start;
  for (double x : t) {
    end = std::max(end, x);
    *cpu_ns += x - start;
  }
  return end;
}

MigrationResult SimMechanisms::migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how, uint32_t threads) {
  Vm& vm = *vm_;
  const Tier from = to == Tier::Fast ? Tier::Slow : Tier::Fast;
  const uint32_t span = vm.cfg.ept_huge ? kPagesPerHuge : 1;
  // Candidates in the caller's order (it may rank them), each page once.
  std::vector<std::pair<Gpa, size_t>> cand;
  for (size_t i = 0; i < gs.size(); ++i) {
    if (gs[i] >= vm.ept.size()) throw std::invalid_argument("migrate: GPA beyond guest memory");
    const Gpa head = vm.ad_index(gs[i]);
    if (!(vm.ept[head] & kEptPresent) || vm.tier_of(head) != from || (vm.ept[head] & kEptMigrating)) continue;
    cand.emplace_back(head, i);
  }
  std::sort(cand.begin(), cand.end());
  cand.erase(std::unique(cand.begin(), cand.end(), [](const auto& a, const auto& b) { return a.first == b.first; }),
             cand.end());
  std::sort(cand.begin(), cand.end(), [](const auto& a, const auto& b) { return a.second < b.second; });
  uint64_t room = vm.cap[static_cast<int>(to)] - std::min(vm.cap[static_cast<int>(to)], vm.used[static_cast<int>(to)]);
  std::vector<Gpa> pages;
  for (const auto& c : cand) {
    if (room < span) break;
    room -= span;
    pages.push_back(c.first);
  }
  std::sort(pages.begin(), pages.end());
  MigrationResult r;
  if (pages.empty()) return r;

  const double start = hv_.clock_ns;
  flush_tlbs();  // every method starts by unmapping, protecting or clearing D
  if (how == MigrationMethod::Pml) {
    for (Gpa g : pages) vm.ept[g] &= static_cast<uint8_t>(~kEptD);
  }
  for (Gpa g : pages) {
    for (uint32_t k = 0; k < span && g + k < vm.ept.size(); ++k) {
      uint8_t& e = vm.ept[g + k];
      e = static_cast<uint8_t>((e & ~kEptSlow) | (to == Tier::Slow ? kEptSlow : 0) | (k == 0 ? kEptMigrating : 0));
    }
  }
  vm.used[static_cast<int>(from)] -= uint64_t{span} * pages.size();
  vm.used[static_cast<int>(to)] += uint64_t{span} * pages.size();
  (to == Tier::Fast ? vm.c.promoted : vm.c.demoted) += uint64_t{span} * pages.size();

  double cpu = 0;
  const double end = copy_pages(pages, from, to, start, threads, vm.prof.migrate_page_ns, &cpu);
  vm.c.migration_ns += cpu;
  hv_.clock_ns = end;
  r.moved = static_cast<uint32_t>(pages.size() * span);
  r.busy_ns = cpu;

  const bool unmapped = how == MigrationMethod::Linux;
  const bool traps = how != MigrationMethod::Pml;
  vm.inflight.push_back(Vm::Inflight{start, traps ? end : start, how, unmapped, threads, std::move(pages)});
  const size_t idx = vm.inflight.size() - 1;
  vm.host.schedule(end, [this, idx, how] {
    if (how == MigrationMethod::Pml)
      pml_second_pass(idx);
    else
      finish_migration(idx);
  });
  return r;
}

void SimMechanisms::pml_second_pass(size_t idx) {
  // vTMM's PML copy: the first pass ran with the pages mapped; now unmap
  // them, find those written meanwhile (their EPT D bit, which PML logged),
  // copy only those again, and remap. Accesses in this short window trap.
  Vm& vm = *vm_;
  Vm::Inflight& f = vm.inflight[idx];
  hv_.clock_ns = std::max(hv_.clock_ns, f.until);
  const double start = hv_.clock_ns;
  flush_tlbs();
  std::vector<Gpa> dirty;
  for (Gpa g : f.pages)
    if (vm.ept[g] & kEptD) dirty.push_back(g);
  charge_ns(static_cast<double>(f.pages.size()) * vm.prof.ept_bit_ns);
  const Tier to = vm.tier_of(f.pages.front());
  const Tier from = to == Tier::Fast ? Tier::Slow : Tier::Fast;
  double cpu = 0;
  // Only the copy again: unmapping, EPT updates and accounting were paid per page in the first pass.
  const double end = copy_pages(dirty, from, to, hv_.clock_ns, f.threads, 0.0, &cpu);
  vm.c.migration_ns += cpu;
  vm.c.recopied += dirty.size();
  hv_.clock_ns = end;
  f.start = start;
  f.until = end;
  f.unmapped = true;
  vm.host.schedule(end, [this, idx] { finish_migration(idx); });
}

void SimMechanisms::finish_migration(size_t idx) {
  Vm& vm = *vm_;
  for (Gpa g : vm.inflight[idx].pages) vm.ept[g] &= static_cast<uint8_t>(~kEptMigrating);
  vm.inflight[idx].pages.clear();
  // Drop finished batches from the back so indices held by pending events stay valid.
  while (!vm.inflight.empty() && vm.inflight.back().pages.empty()) vm.inflight.pop_back();
}

}  // namespace vtmm::sim
