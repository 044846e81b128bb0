// Page migration on the simulated host: three ways to re-back guest pages on
// the other tier, all keeping the GPA (the guest never sees a change).
//
//  Linux  (PM_Linux): per page, as host Linux's migrate_pages() does for a
//         VM's memory: unmap (the MMU notifier zaps the EPT entry and flushes
//         the vCPUs' TLBs), copy, and leave the entry to be faulted back in.
//         An access during the page's copy traps and waits; the first access
//         after it takes an EPT violation to map the new page.
//  WriteProtect (PM_WP, as HeMem does it): write-protect the whole batch
//         with one shootdown, acknowledged before the first copy; then per
//         page copy and re-point. A write to a page whose copy is not done
//         traps and waits for it; reads go on. A second shootdown at the
//         batch's end retires the read-only translations of the old frames
//         before they are freed.
//  Pml    (PM_PML, vTMM): per batch, clear the pages' EPT D bits and flush
//         once, copy everything while the vCPUs run, then unmap the batch,
//         find the pages written meanwhile (the D bits PML logged), copy
//         those again and re-point every entry. Only accesses in that short
//         second window trap.
#include <algorithm>
#include <tuple>

#include "vtmm/sim/sim_mechanisms.hpp"

namespace vtmm::sim {

void SimMechanisms::set_tier(Gpa head, Tier t) { vm_->repoint(head, t); }

void SimMechanisms::track_in_flight() {
  Vm& vm = *vm_;
  // Drop finished batches from the back so indices held by pending events stay valid.
  while (!vm.inflight.empty() && vm.inflight.back().pages.empty()) vm.inflight.pop_back();
  vm.in_flight = !vm.inflight.empty();
}

void SimMechanisms::schedule_page_windows(size_t idx) {
  // Per page, as the kernel runs the batch while the vCPUs keep running:
  // Linux's shootdown and unmapping at the window's start (every vCPU pays
  // the shootdown where it is then); write-protect's re-pointing at its end.
  Vm& vm = *vm_;
  const Vm::Inflight& f = vm.inflight[idx];
  for (size_t i = 0; i < f.pages.size(); ++i) {
    if (f.how == MigrationMethod::Linux)
      vm.host.schedule(f.start[i], [this, idx, i] {
        flush_tlbs();
        const Vm::Inflight& b = vm_->inflight[idx];
        if (b.repoint) set_tier(b.pages[i], b.to);
      });
    if (f.repoint && f.how == MigrationMethod::WriteProtect)
      vm.host.schedule(f.end[i], [this, idx, i] {
        const Vm::Inflight& b = vm_->inflight[idx];
        set_tier(b.pages[i], b.to);
      });
  }
}

double SimMechanisms::shootdown_acked(double& now) {
  // The vCPUs take one shootdown at a time: a copy thread's flush starts when
  // the previous one (any thread's) is done, and the thread waits until every
  // vCPU has taken it (KVM's remote flush waits for their acknowledgement, or
  // a stale translation could write during the copy; the whole shootdown is
  // an upper bound on that wait, as the vCPUs' re-entry overlaps the copy).
  // Returns when the flush started: the page's window opens then.
  now = std::max(now, shootdown_free_ns_);
  const double issued = now;
  now += vm_->prof.tlb_shootdown_ns;
  shootdown_free_ns_ = now;
  return issued;
}

double SimMechanisms::copy_pages(std::span<const Gpa> pages, Tier from, Tier to, double start,
                                 uint32_t threads, double sw_ns, bool shootdown_each,
                                 std::vector<double>& win_start, std::vector<double>& win_end,
                                 double* cpu_ns) {
  // Whole mappings are dealt round-robin to the threads (Nimble's
  // copy_page_lists_mt). A batch of fewer mappings than threads that holds a
  // 2 MiB one is split instead: each mapping's copy among all the threads,
  // which start it together and wait for the last (HeMem's
  // hemem_parallel_memcpy; Nimble's copy_page_multithread for a lone THP),
  // so one 2 MiB page moves on every thread, not on one. Kernels copy a
  // 4 KiB page on one thread, so batches of 4 KiB pages are always dealt.
  const uint32_t n_threads = std::max(1u, threads);
  win_start.resize(pages.size());
  win_end.resize(pages.size());
  const bool split =
      pages.size() < n_threads &&
      std::any_of(pages.begin(), pages.end(), [&](Gpa g) { return vm_->span_of(g) > 1; });
  if (split)
    return copy_split(pages, from, to, start, n_threads, sw_ns, shootdown_each, win_start, win_end,
                      cpu_ns);
  std::vector<double> t(n_threads, start);
  for (size_t i = 0; i < pages.size(); ++i) {
    const uint32_t span = vm_->span_of(pages[i]);
    double& now = t[i % t.size()];
    win_start[i] = shootdown_each ? shootdown_acked(now) : now;
    now += sw_ns;
    for (uint32_t k = 0; k < span; ++k) copy_bytes(now, from, to, static_cast<double>(kPageSize));
    vm_->counters().copied_bytes += uint64_t{span} * kPageSize;
    win_end[i] = now;
  }
  double end = start;
  for (double x : t) {
    end = std::max(end, x);
    *cpu_ns += x - start;
  }
  return end;
}

double SimMechanisms::copy_split(std::span<const Gpa> pages, Tier from, Tier to, double start,
                                 uint32_t threads, double sw_ns, bool shootdown_each,
                                 std::vector<double>& win_start, std::vector<double>& win_end,
                                 double* cpu_ns) {
  double now = start;
  for (size_t i = 0; i < pages.size(); ++i) {
    win_start[i] = shootdown_each ? shootdown_acked(now) : now;
    now += sw_ns;                   // the caller's software work, before it hands out the chunks
    *cpu_ns += now - win_start[i];  // the shootdown's wait spins; the join's below blocks
    const uint32_t span = vm_->span_of(pages[i]);
    double end = now;
    for (uint32_t k = 0; k < threads; ++k) {
      // Thread k's chunk: every threads-th 4 KiB page of the mapping from
      // the k-th, or its share of a lone 4 KiB page's bytes.
      double at = now;
      if (span >= threads) {
        for (uint32_t j = k; j < span; j += threads)
          copy_bytes(at, from, to, static_cast<double>(kPageSize));
      } else {
        copy_bytes(at, from, to, static_cast<double>(span * kPageSize) / threads);
      }
      *cpu_ns += at - now;
      end = std::max(end, at);
    }
    vm_->counters().copied_bytes += uint64_t{span} * kPageSize;
    now = win_end[i] = end;  // every thread waits for the last before the next mapping
  }
  return now;
}

void SimMechanisms::copy_bytes(double& now, Tier from, Tier to, double bytes) {
  now += vm_->host.bw[static_cast<int>(from)].book(now, bytes, false);
  now += vm_->host.bw[static_cast<int>(to)].book(now, bytes, true);
  now += bytes / vm_->prof.copy_gbps;
}

namespace {

// The mappings of `gs` that can move from `from` to `to` now (backed, there,
// not already moving), each once, taken in the caller's order (it may rank
// them) while the destination has room; sorted by GPA. *pages: the 4 KiB
// pages they hold.
std::vector<Gpa> batch_that_fits(const Vm& vm, std::span<const Gpa> gs, Tier from, Tier to,
                                 uint64_t* pages) {
  std::vector<std::pair<Gpa, size_t>> cand;
  for (size_t i = 0; i < gs.size(); ++i) {
    if (gs[i] >= vm.guest_pages()) throw std::invalid_argument("migrate: GPA beyond guest memory");
    const Gpa head = vm.ad_index(gs[i]);
    if (!vm.backed(head) || vm.tier_of(head) != from || (vm.ept_bits(head) & kEptMigrating))
      continue;
    cand.emplace_back(head, i);
  }
  std::sort(cand.begin(), cand.end());
  cand.erase(std::unique(cand.begin(), cand.end(),
                         [](const auto& a, const auto& b) { return a.first == b.first; }),
             cand.end());
  std::sort(cand.begin(), cand.end(),
            [](const auto& a, const auto& b) { return a.second < b.second; });
  uint64_t room = vm.capacity(to) - std::min(vm.capacity(to), vm.used(to));
  std::vector<Gpa> batch;
  *pages = 0;
  for (const auto& c : cand) {
    const uint32_t span = vm.span_of(c.first);
    if (room < span) {
      if (span > 1) continue;  // a smaller mapping further down may still fit
      break;
    }
    room -= span;
    *pages += span;
    batch.push_back(c.first);
  }
  std::sort(batch.begin(), batch.end());
  return batch;
}

}  // namespace

// The pairs of `pairs` that can be exchanged now (a backed fast and a backed
// slow mapping of the same size, neither moving), each page once; marked as
// moving so a later pair cannot take them again.
std::vector<std::pair<Gpa, Gpa>> SimMechanisms::claim_pairs(
    std::span<const std::pair<Gpa, Gpa>> pairs) {
  Vm& vm = *vm_;
  std::vector<std::pair<Gpa, Gpa>> ok;
  const auto usable = [&](Gpa g, Tier t) {
    return (vm.ept[g] & kEptPresent) && !(vm.ept[g] & kEptMigrating) && vm.tier_of(g) == t;
  };
  for (const auto& [fast, slow] : pairs) {
    if (fast >= vm.ept.size() || slow >= vm.ept.size())
      throw std::invalid_argument("exchange: GPA beyond guest memory");
    const Gpa a = vm.ad_index(fast), b = vm.ad_index(slow);
    if (a == b || !usable(a, Tier::Fast) || !usable(b, Tier::Slow) ||
        vm.span_of(a) != vm.span_of(b))
      continue;
    vm.ept[a] |= kEptMigrating;
    vm.ept[b] |= kEptMigrating;
    ok.emplace_back(a, b);
  }
  return ok;
}

MigrationResult SimMechanisms::migrate(std::span<const Gpa> gs, Tier to, MigrationMethod how,
                                       uint32_t threads) {
  if (side_ == Side::Guest) return guest_migrate(gs, to, threads);
  Vm& vm = *vm_;
  const Tier from = to == Tier::Fast ? Tier::Slow : Tier::Fast;
  Vm::Inflight f{
      how, from,  to,  std::max(1u, threads), how == MigrationMethod::WriteProtect, {}, {},
      {},  false, true};
  uint64_t pages = 0;  // 4 KiB pages in the batch (a 2 MiB mapping moves whole)
  f.pages = batch_that_fits(vm, gs, from, to, &pages);
  MigrationResult r;
  if (f.pages.empty()) return r;

  // The destination is reserved and the source released up front.
  vm.used_[static_cast<int>(from)] -= pages;
  vm.used_[static_cast<int>(to)] += pages;
  (to == Tier::Fast ? vm.counters().promoted : vm.counters().demoted) += pages;
  for (Gpa g : f.pages) vm.ept[g] |= kEptMigrating;

  const double start = cur_->clock_ns;
  double copy_start = start, issued = start;
  if (how == MigrationMethod::Pml) {
    for (Gpa g : f.pages) vm.ept[g] &= static_cast<uint8_t>(~kEptD);
    flush_tlbs();  // so the next write to each page sets D again, and PML logs it
  }
  if (how == MigrationMethod::WriteProtect) {
    flush_tlbs();  // the batch write-protected: no vCPU keeps a writable translation
    issued = shootdown_acked(copy_start);
  }
  if (how == MigrationMethod::Linux) {
    // Unmapped from its window's start (schedule_page_windows): from then on
    // the page is reached only through a fault that waits for the copy and
    // then maps the new page.
    for (Gpa g : f.pages) vm.ept[g] |= kEptZapped;
  }
  double cpu =
      static_cast<double>(f.threads) * (copy_start - start);  // every copy thread waits for the ack
  const bool shootdown_each = how == MigrationMethod::Linux;
  const double end = copy_pages(f.pages, from, to, copy_start, f.threads, vm.prof.migrate_page_ns,
                                shootdown_each, f.start, f.end, &cpu);
  if (how == MigrationMethod::WriteProtect) std::fill(f.start.begin(), f.start.end(), issued);
  vm.counters().migration_ns += cpu;
  vm.counters().migration_elapsed_ns += end - start;
  cur_->clock_ns = end;
  r.moved = static_cast<uint32_t>(pages);
  r.busy_ns = cpu;
  if (how == MigrationMethod::Pml) {
    std::fill(f.end.begin(), f.end.end(), 0.0);  // mapped throughout the first pass: no traps
  }
  vm.inflight.push_back(std::move(f));
  vm.in_flight = true;
  const size_t idx = vm.inflight.size() - 1;
  if (how != MigrationMethod::Pml) schedule_page_windows(idx);
  vm.host.schedule(end, [this, idx, how, end] {
    if (how == MigrationMethod::Pml) {
      pml_second_pass(idx, end);
      return;
    }
    if (how == MigrationMethod::WriteProtect)
      flush_tlbs();  // the old frames' read-only translations
    finish_migration(idx);
  });
  return r;
}

void SimMechanisms::pml_second_pass(size_t idx, double at) {
  Vm& vm = *vm_;
  hv_.clock_ns = std::max(hv_.clock_ns, at);
  const double start = hv_.clock_ns;
  flush_tlbs();  // unmap the batch
  std::vector<Gpa> dirty;
  {
    const Vm::Inflight& f = vm.inflight[idx];
    for (Gpa g : f.pages)
      if (vm.ept[g] & kEptD) dirty.push_back(g);
    charge_ns(static_cast<double>(f.pages.size()) *
              vm.prof.pml_entry_ns);  // drain and match the log
  }
  Vm::Inflight& f = vm.inflight[idx];
  double cpu = 0;
  std::vector<double> ws, we;
  // Only the copy again: unmapping, EPT updates and accounting were paid per page in the first
  // pass.
  const double end =
      copy_pages(dirty, f.from, f.to, hv_.clock_ns, f.threads, 0.0, false, ws, we, &cpu);
  vm.counters().migration_ns += cpu;
  vm.counters().recopied += dirty.size();
  vm.counters().migration_elapsed_ns += end - start;
  hv_.clock_ns = end;
  std::fill(f.start.begin(), f.start.end(), start);
  std::fill(f.end.begin(), f.end.end(), end);
  vm.host.schedule(end, [this, idx] { finish_migration(idx); });
}

void SimMechanisms::finish_migration(size_t idx) {
  Vm& vm = *vm_;
  Vm::Inflight& f = vm.inflight[idx];
  for (Gpa g : f.pages) {
    if (f.repoint)
      set_tier(g, f.to);  // every page is re-pointed by now (Linux, WP: at its own copy's end)
    vm.ept[g] &= static_cast<uint8_t>(~kEptMigrating);
  }
  f.pages.clear();
  track_in_flight();
}

MigrationResult SimMechanisms::exchange(std::span<const std::pair<Gpa, Gpa>> pairs,
                                        uint32_t threads) {
  // Nimble's exchange_pages(): both pages are unmapped (one shootdown per
  // pair), their contents swapped through the copy threads, both remapped;
  // no free room is needed on either tier. Unmapped like PM_Linux: an access
  // during the swap waits, the first access after it re-faults the entry.
  if (side_ == Side::Guest)
    throw std::invalid_argument("exchange: only host-side designs can exchange pages here");
  Vm& vm = *vm_;
  const HostProfile& p = vm.prof;
  const std::vector<std::pair<Gpa, Gpa>> ok = claim_pairs(pairs);
  MigrationResult r;
  if (ok.empty()) return r;
  const double start = cur_->clock_ns;
  std::vector<double> t(std::max(1u, threads), start);
  std::vector<std::tuple<Gpa, double, double>> win;
  std::vector<double> pair_start(ok.size());
  uint64_t moved = 0;
  for (size_t i = 0; i < ok.size(); ++i) {
    const uint32_t span = vm.span_of(ok[i].first);
    moved += span;
    double& now = t[i % t.size()];
    const double ws = shootdown_acked(now);  // one shootdown for the pair, as migrate()'s per page
    pair_start[i] = ws;
    now += 2 * p.migrate_page_ns;
    for (uint32_t k = 0; k < span; ++k) {
      const double bytes = static_cast<double>(kPageSize);
      for (int tier = 0; tier < kTiers; ++tier) {
        now += vm.host.bw[tier].book(now, bytes, false);
        now += vm.host.bw[tier].book(now, bytes, true);
      }
      now += 2 * bytes / p.copy_gbps;
      vm.counters().copied_bytes += 2 * kPageSize;
    }
    for (Gpa g : {ok[i].first, ok[i].second}) {
      set_tier(g, vm.tier_of(g) == Tier::Fast ? Tier::Slow : Tier::Fast);
      vm.ept[g] |= kEptZapped;
      win.emplace_back(g, ws, now);
    }
  }
  double end = start, cpu = 0;
  for (double x : t) {
    end = std::max(end, x);
    cpu += x - start;
  }
  std::sort(win.begin(), win.end());
  Vm::Inflight f{
      MigrationMethod::Linux, Tier::Fast, Tier::Slow, std::max(1u, threads), false, {}, {}, {}};
  for (const auto& [g, ws, we] : win) {
    f.pages.push_back(g);
    f.start.push_back(ws);
    f.end.push_back(we);
  }
  vm.counters().promoted += moved;
  vm.counters().demoted += moved;
  vm.counters().exchanged += 2 * moved;
  vm.counters().migration_ns += cpu;
  vm.counters().migration_elapsed_ns += end - start;
  cur_->clock_ns = end;
  r.moved = static_cast<uint32_t>(2 * moved);
  r.busy_ns = cpu;
  vm.inflight.push_back(std::move(f));
  vm.in_flight = true;
  const size_t idx = vm.inflight.size() - 1;
  // One shootdown per pair when its swap starts (both pages of a pair share it).
  for (size_t i = 0; i < ok.size(); ++i) vm.host.schedule(pair_start[i], [this] { flush_tlbs(); });
  vm.host.schedule(end, [this, idx] { finish_migration(idx); });
  return r;
}

MigrationResult SimMechanisms::guest_migrate(std::span<const Gpa> gs, Tier to, uint32_t threads) {
  // The guest kernel's migrate_pages() between its NUMA nodes: per page, a
  // free page on the target node, the PTE replaced by a migration entry, the
  // data copied, the PTE pointed at the new GPA, the old page freed. One guest
  // TLB shootdown per batch (try_to_unmap_flush). An access during the copy
  // takes a guest page fault and waits. A target GPA the host has not backed
  // yet is backed by the copy's first write (an EPT violation).
  Vm& vm = *vm_;
  const Tier from = to == Tier::Fast ? Tier::Slow : Tier::Fast;
  std::vector<Gpa> olds;
  for (Gpa g : gs) {
    if (g >= vm.ept.size()) throw std::invalid_argument("migrate: GPA beyond guest memory");
    const uint32_t o = vm.owner[g];
    if (o == kNone || (o & kGptOwner) || vm.node_of(g) != from || (vm.ept[g] & kEptMigrating))
      continue;
    vm.ept[g] |= kEptMigrating;  // keeps a page from being taken twice; cleared below
    olds.push_back(g);
  }
  for (Gpa g : olds) vm.ept[g] &= static_cast<uint8_t>(~kEptMigrating);
  if (olds.size() > vm.free_gpas[static_cast<int>(to)].size())
    olds.resize(vm.free_gpas[static_cast<int>(to)].size());
  MigrationResult r;
  if (olds.empty()) return r;

  double start = cur_->clock_ns;
  flush_tlbs();
  std::vector<Gpa> news;
  for (Gpa old : olds) {
    const Gpa nw = vm.alloc_gpa(to);
    const uint32_t vpn = vm.owner[old];
    vm.pte_gpa[vpn] = nw;
    vm.owner[nw] = vpn;
    vm.free_gpa(old);
    if (!(vm.ept[nw] & kEptPresent)) start += vm.back(nw);  // the copy's first write exits
    if (vm.truth_wanted) {
      vm.truth_accesses[nw] += vm.truth_accesses[old];
      vm.truth_accesses[old] = 0;
    }
    vm.ept[nw] |= kEptMigrating;
    news.push_back(nw);
    r.remapped.emplace_back(old, nw);
  }
  std::vector<double> ws, we;
  double cpu = 0;
  const double end =
      copy_pages(news, from, to, start, threads, vm.prof.migrate_page_ns, false, ws, we, &cpu);
  cpu += start - cur_->clock_ns;
  std::vector<size_t> order(news.size());
  for (size_t i = 0; i < order.size(); ++i) order[i] = i;
  std::sort(order.begin(), order.end(), [&](size_t a, size_t b) { return news[a] < news[b]; });
  Vm::Inflight f{MigrationMethod::Linux, from, to, std::max(1u, threads), false, {}, {}, {}, true};
  for (size_t i : order) {
    f.pages.push_back(news[i]);
    f.start.push_back(ws[i]);
    f.end.push_back(we[i]);
  }
  (to == Tier::Fast ? vm.counters().promoted : vm.counters().demoted) += news.size();
  vm.counters().guest_migrations += news.size();
  vm.counters().migration_ns += cpu;
  vm.counters().migration_elapsed_ns += end - cur_->clock_ns;
  cur_->clock_ns = end;
  steal(cpu);
  r.moved = static_cast<uint32_t>(news.size());
  r.busy_ns = cpu;
  vm.inflight.push_back(std::move(f));
  vm.in_flight = true;
  const size_t idx = vm.inflight.size() - 1;
  vm.host.schedule(end, [this, idx] { finish_migration(idx); });
  return r;
}

}  // namespace vtmm::sim
