// autonuma: host NUMA balancing on the QEMU process (Linux kernel.numa_balancing
// = 1, NUMA_BALANCING_NORMAL), the hypervisor-side design the vTMM paper
// compares with. Runs in the host: pages keep their GPA, a hint fault is a VM
// exit on the inaccessible EPT entry (the host's PROT_NONE reaches the EPT
// through the MMU notifier), migration re-points the EPT entry.
//
// Rule and defaults, from the kernel sources:
//  - scanning: task_numa_work with its adaptive period (numa_scan.hpp):
//    256 MB per scan (numa_balancing_scan_size_mb), period from
//    numa_balancing_scan_delay_ms (1000) kept within scan_period_min_ms (1000)
//    .. scan_period_max_ms (60000) per 256 MB window of RSS, adapted from the
//    local/remote fault ratio once per pass. Every backed page is protected,
//    fast and slow alike (normal mode scans all nodes).
//  - on a hint fault (mm/memory.c do_numa_page): a fast page is local,
//    nothing moves; a slow page is misplaced (the vCPUs run on the fast
//    node's socket) and migrate_misplaced_folio moves it to the fast tier in
//    the faulting context (the vCPU waits), but only if the fast node stays
//    balanced: mm/migrate.c numamigrate_isolate_folio refuses the migration
//    when migrate_balanced_pgdat fails (free <= high watermark + the folio's
//    pages), and in normal mode it wakes nobody. The fault then counts as a
//    remote fault with a failed migration (TNF_MIGRATE_FAIL), which doubles
//    the scan period at the next adaptation. Before that,
//    should_numa_migrate_memory's cpupid test (Linux 6.1+, commit 33024536
//    "memory tiering: hot page selection with hint page fault latency"): in
//    normal mode a page on a non-top-tier node whose last_cpupid is still
//    unset (never hint-faulted) is not migrated on this fault, and
//    task_numa_fault records nothing for it; the fault sets last_cpupid, so
//    the page's next hint fault (next pass) may migrate it. Past that test
//    the two-stage filter always passes: one task on one CPU node.
//  - demotion (the "only when the fast tier is full (LRU)"): classic
//    NUMA balancing never demotes; Linux demotes only in reclaim
//    (mm/vmscan.c shrink_folio_list -> demote_folio_list, with
//    numa/demotion_enabled), which kswapd runs on a node under its low
//    watermark until the node is balanced at its high watermark
//    (pgdat_balanced, normal mode). The victims come from the LRU tail, each
//    given reclaim's second chance (EPT accessed bit, see pick_victim).
//    Recency: a page's last hint fault (a page that keeps its protection
//    through scans was not touched); pages backed or promoted count as
//    touched then.
//  - allocation (mm/page_alloc.c get_page_from_freelist, zone_reclaim_mode 0):
//    a first touch takes the fast node while its free pages stay above the
//    low watermark, else falls back to the slow node without waking kswapd
//    (the fast path wakes nobody; the slow path runs only when every node is
//    under its low watermark). Watermarks: tpp_rule.hpp zone_watermarks on
//    the VM's fast allowance, as tpp-host.
//  So once the fast allowance is full, classic NUMA balancing promotes
//  nothing (every misplaced fault fails) and demotes nothing; kswapd acts
//  only if the allowance shrinks under the pages it backs (a pool lending
//  fast memory away).
//
// Simplified (ours): task_numa_work runs on the faulting task's return to
// user mode (a vCPU thread); here it runs on a hypervisor thread at the next
// tick (tick_ms) after it is due, and so does kswapd. The period adapts when
// a pass over the whole address space completes rather than at the first
// fault after it.
// autonuma-5.4: the same design as Linux 5.4 (the vTMM paper's host and guest
// kernel) does it; the scanner, the fault path, migrate_balanced_pgdat and
// the allocation fallback are the same code there. Two rules differ:
//  - should_numa_migrate_memory (5.4, kernel/sched/fair.c) has no
//    memory-tiering cpupid test (added in 6.1 by commit 33024536): early in a
//    task's life, or for a private fault (last_cpupid is this task's), it
//    migrates on the first hint fault. With one VM process whose vCPUs all run
//    on the fast node's CPUs, the later tests also pass (the slow node has no
//    CPUs, so its group fault count is 0), so every misplaced fault migrates
//    while the fast node has room.
//  - Nothing demotes: reclaim learned to demote to a slower node in Linux 5.15
//    (commit 26aa2d19, "mm/migrate: demote pages during reclaim"). In 5.4
//    kswapd reclaims by swapping or dropping pages, never by moving them; the
//    VM's anonymous memory with no swap device (assumed) gives it nothing to
//    reclaim. So once the fast node is full, NUMA balancing stops.
//  Migration is not rate-limited in 5.4 either: the 128 MB per 100 ms limit
//  (numamigrate_update_ratelimit) was removed in 4.20 (commit efaffc5e).
//
// Time and size constants are scaled by time_scale (time_scale.hpp).
#include <algorithm>
#include <string>

#include "baselines/numa_scan.hpp"
#include "baselines/page_lists.hpp"
#include "baselines/tpp_rule.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/time_scale.hpp"

namespace vtmm::baselines {
namespace {

constexpr uint8_t kRecency = 0;

// The kernel whose NUMA balancing is followed.
enum class Kernel : uint8_t { Linux61, Linux54 };

class AutoNuma : public Policy {
 public:
  AutoNuma(Params& p, const PolicyEnv& env) : AutoNuma(p, env, Kernel::Linux61) {}
  AutoNuma(Params& p, const PolicyEnv& env, Kernel kernel) : kernel_(kernel) {
    scale_.read(p, env);
    scan_.read(p);
    tick_ms_ = p.get<double>("tick_ms", 2.0);
    watermark_scale_factor_ = p.get<uint32_t>("watermark_scale_factor", 10);
    min_free_kbytes_ = p.get<uint64_t>("min_free_kbytes", 0);
    if (!(tick_ms_ > 0)) p.fail("tick_ms", "must be positive");
    if (watermark_scale_factor_ == 0 || watermark_scale_factor_ > 3000)
      p.fail("watermark_scale_factor", "must be 1..3000 (as vm.watermark_scale_factor)");
  }

  std::vector<Mechanism> needs() const override {
    return {Mechanism::HintFaults, Mechanism::Migrate};
  }

  void attach(Mechanisms& m) override {
    const uint32_t pages = m.guest_pages();
    scale_value_ = scale_.resolve(pages);
    scanner_.configure(scan_, scale_value_, /*adapt=*/true);
    lru_.resize(pages, 1);
    armed_.assign(pages, 0);
    cpupid_set_.assign(pages, 0);
    wm_cap_ = m.capacity_pages(Tier::Fast);
    wm_ = zone_watermarks(wm_cap_, pages, min_free_kbytes_, watermark_scale_factor_);
  }

  Tier place(Gpa g, const Mechanisms& m) override {
    if (fast_free(m) <= wm_.low) return Tier::Slow;  // fallback; kswapd stays asleep
    if (g < lru_.pages()) lru_.push_head(kRecency, g);
    return Tier::Fast;
  }

  double period_ns() const override { return tick_ms_ * 1e6; }

  void tick(Mechanisms& m) override {
    // A fast-memory pool resizes the allowance (this design's node) under a
    // running VM: recompute its watermarks, as Linux does for a resized zone
    // (setup_per_zone_wmarks after memory hotplug).
    if (const uint64_t cap = m.capacity_pages(Tier::Fast); cap != wm_cap_) {
      wm_cap_ = cap;
      wm_ = zone_watermarks(cap, m.guest_pages(), min_free_kbytes_, watermark_scale_factor_);
    }
    const double now = m.now_ns();
    if (kernel_ == Kernel::Linux61 && fast_free(m) < wm_.low) kswapd(m);
    if (!scanner_.due(now)) return;
    const uint64_t rss = m.used_pages(Tier::Fast) + m.used_pages(Tier::Slow);
    const uint32_t pages = m.guest_pages();
    const uint32_t chunks = (pages + NumaScanner::kChunkPages - 1) / NumaScanner::kChunkPages;
    protected_ += scanner_.scan(m, chunks, rss, now, [&](uint32_t c, std::vector<Gpa>& out) {
      const Gpa first = c * NumaScanner::kChunkPages;
      const Gpa end = std::min<Gpa>(pages, first + NumaScanner::kChunkPages);
      for (Gpa g = first; g < end; ++g) {
        if (armed_[g] || !m.backed(g)) continue;
        // A fast page the LRU has not seen (backed by a fallback) joins as the oldest.
        if (m.tier_of(g) == Tier::Fast && lru_.list_of(g) == PageLists::kNoList)
          lru_.push_tail(kRecency, g);
        armed_[g] = 1;
        out.push_back(g);
      }
      m.charge_ns(static_cast<double>(end - first) * scan_.walk_ns_per_pte);
    });
  }

  void on_hint_fault(const HintFault& f, Mechanisms& m) override {
    const Gpa g = f.gpa;
    if (g >= armed_.size()) return;
    armed_[g] = 0;
    ++hint_faults_;
    if (!m.backed(g)) return;
    if (m.tier_of(g) == Tier::Fast) {
      cpupid_set_[g] = 1;
      lru_.push_head(kRecency, g);
      scanner_.fault(/*local=*/true, false);
      return;
    }
    // should_numa_migrate_memory (6.1+): a slow page's first hint fault only
    // sets its last_cpupid; nothing moves and task_numa_fault counts nothing.
    // 5.4 migrates on a first fault.
    if (kernel_ == Kernel::Linux61 && !cpupid_set_[g]) {
      cpupid_set_[g] = 1;
      ++first_faults_;
      return;
    }
    // numamigrate_isolate_folio: migrate_balanced_pgdat or no migration.
    bool moved = false;
    if (fast_free(m) > wm_.high + 1) {
      const Gpa one[1] = {g};
      moved = m.mover().migrate(one, Tier::Fast, MigrationMethod::Linux, 1).moved > 0;
    }
    if (moved) {
      ++promoted_;
      lru_.push_head(kRecency, g);
    } else {
      ++failed_;
    }
    scanner_.fault(/*local=*/moved, /*failed=*/!moved);
  }

  // kswapd in normal mode: demote from the LRU tail until the fast node is
  // balanced at its high watermark.
  void kswapd(Mechanisms& m) {
    ++kswapd_runs_;
    const uint64_t used = m.used_pages(Tier::Fast), cap = m.capacity_pages(Tier::Fast);
    const uint64_t need = used + wm_.high > cap ? used + wm_.high - cap : 0;
    victims_.clear();
    while (victims_.size() < need) {
      const Gpa victim = pick_victim(m);
      if (victim == kNone) break;
      lru_.remove(victim);
      victims_.push_back(victim);
    }
    if (!victims_.empty())
      demoted_ += m.mover().migrate(victims_, Tier::Slow, MigrationMethod::Linux, 1).moved;
  }

  // Against the current allowance, which a pool may shrink.
  static uint64_t fast_free(const Mechanisms& m) {
    const uint64_t used = m.used_pages(Tier::Fast), cap = m.capacity_pages(Tier::Fast);
    return used >= cap ? 0 : cap - used;
  }

  // The LRU tail, with the second chance reclaim gives a referenced page:
  // the host's page_referenced() reaches the EPT accessed bit through the MMU
  // notifier (kvm_age_gfn), so a young tail page is cleared and rotated to
  // the head instead of demoted. At most one lap of the list.
  Gpa pick_victim(Mechanisms& m) {
    for (uint32_t looked = 0, laps = lru_.size(kRecency); looked <= laps; ++looked) {
      const Gpa g = lru_.tail(kRecency);
      if (g == kNone) return kNone;
      if (!m.backed(g) || m.tier_of(g) != Tier::Fast) {
        lru_.remove(g);
        continue;
      }
      if (!m.test_and_clear_young(g)) return g;
      lru_.push_head(kRecency, g);
      ++rotated_;
    }
    return lru_.tail(kRecency);
  }

  void on_measure_start() override {
    hint_faults_ = promoted_ = demoted_ = failed_ = protected_ = rotated_ = kswapd_runs_ =
        first_faults_ = 0;
  }

  void report(Json& out) const override {
    out["kernel"] = kernel_ == Kernel::Linux54 ? "5.4" : "6.1";
    out["time_scale"] = scale_value_;
    out["time_scale_rule"] = scale_.rule();
    out["numa_scan_period_ms_last"] = scanner_.period_ns() * 1e-6;
    out["numa_scan_pages"] = scanner_.scan_pages();
    out["numa_scans"] = scanner_.scans();
    out["numa_scan_passes"] = scanner_.passes();
    out["pages_protected"] = protected_;
    out["hint_faults"] = hint_faults_;
    out["promoted_pages"] = promoted_;
    out["demoted_pages"] = demoted_;
    out["failed_promotions"] = failed_;
    out["slow_first_faults"] = first_faults_;
    out["lru_rotated_young"] = rotated_;
    out["kswapd_runs"] = kswapd_runs_;
    out["watermark_low_pages"] = wm_.low;
    out["watermark_high_pages"] = wm_.high;
  }

 private:
  Kernel kernel_;
  TimeScale scale_;
  NumaScanParams scan_;
  double tick_ms_;
  uint32_t watermark_scale_factor_;
  uint64_t min_free_kbytes_;
  double scale_value_ = 1;
  Watermarks wm_;
  uint64_t wm_cap_ = 0;  // the allowance wm_ was computed for
  std::vector<Gpa> victims_;
  NumaScanner scanner_;
  PageLists lru_;
  std::vector<uint8_t> armed_, cpupid_set_;
  uint64_t hint_faults_ = 0, promoted_ = 0, demoted_ = 0, failed_ = 0, protected_ = 0, rotated_ = 0,
           kswapd_runs_ = 0, first_faults_ = 0;
};

struct AutoNuma54 final : AutoNuma {
  AutoNuma54(Params& p, const PolicyEnv& e) : AutoNuma(p, e, Kernel::Linux54) {}
};

VTMM_REGISTER(vtmm::PolicyRegistry, AutoNuma, "autonuma",
              "host NUMA balancing (Linux 6.1): 256 MB hint-fault scans (1-60 s adaptive), promote "
              "on fault into a balanced fast node, kswapd LRU demotion under the low watermark")
VTMM_REGISTER(vtmm::PolicyRegistry, AutoNuma54, "autonuma-5.4",
              "host NUMA balancing as Linux 5.4 (the paper's kernel): promote on any hint fault "
              "while the fast node has room; nothing demotes")

}  // namespace
}  // namespace vtmm::baselines
