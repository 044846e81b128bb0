// tpp / tpp-host: NUMA balancing in memory-tiering mode (TPP, Maruf et al.,
// ASPLOS'23; upstream Linux 5.18+ with kernel.numa_balancing = 2), in the
// guest (tpp: the guest sees a fast and a slow NUMA node) or in the hypervisor
// (tpp-host: the same rules on the VM's pages, GPAs kept, EPT re-pointed).
//
// Rule and defaults, from the kernel sources:
//  - scanning: task_numa_work (numa_scan.hpp), 256 MB per scan, only pages on
//    the slow node are made inaccessible (change_pte_range skips top-tier
//    nodes in tiering-only mode) and each gets its scan time stamped; the
//    period stays at scan_delay (1 s) since tiering mode keeps no fault
//    statistics for slow-node faults (task_numa_fault).
//  - promotion on the hint fault: tpp_rule.hpp (hot threshold 1000 ms, rate
//    limit 65536 MB/s, plenty-free shortcut, room test), migrated in the
//    faulting context (migrate_misplaced_folio); the vCPU waits.
//  - demotion: kswapd, woken when a first-touch allocation finds the fast
//    node under its low watermark (the allocator then falls back to the slow
//    node) or a promotion lacks room, demotes pages from the fast node's
//    inactive tail to the slow node (demote_folio_list) until free >= the
//    promo watermark.
//  - LRU: active/inactive lists of the fast node under the two-list rules
//    (page_lists.hpp), fed by accessed-bit scans: guest PTE A bits (tpp, the
//    guest kernel's own page tables) or EPT A bits (tpp-host).
//
// Simplified (ours): besides the check reclaim makes on each candidate at the
// inactive tail (Mechanisms::test_and_clear_young, folio_check_references),
// we read the accessed bits of every fast page once per age_period_ms (1 s,
// scaled) and before a kswapd run if new pages are not listed yet, and apply
// the same rules to what we see (close to MGLRU's page-table walks). kswapd runs at the
// next tick after it is woken: Linux wakes it at once (mm/vmscan.c
// wakeup_kswapd, from numamigrate_isolate_folio's failed room test) and it
// runs concurrently, so tick_ms (0.1 ms, not scaled: it stands for a thread
// wake-up, not a published period) must stay short against the burst of hint
// faults that follows one scan step (about a millisecond on gups). Measured
// on baselines_gups --full (tpp): tick 2 ms -> slowdown 1.636, 0.1 ms ->
// 1.460, 0.02 ms -> 1.445; the 2 ms tick left most hot faults without room
// (promote_no_room 102016 vs 14229). On the host, the
// "node" whose watermarks apply is the VM's fast allowance. The two-stage
// cpupid filter (should_numa_migrate_memory) always passes for a single task.
#include <algorithm>

#include "baselines/clear_flush_young.hpp"
#include "baselines/numa_scan.hpp"
#include "baselines/page_lists.hpp"
#include "baselines/tpp_rule.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/time_scale.hpp"

namespace vtmm::baselines {
namespace {

constexpr uint8_t kInactive = 0, kActive = 1;

class Tpp : public Policy {
 public:
  Tpp(Params& p, const PolicyEnv& env, Side side) : side_(side) {
    scale_.read(p, env);
    scan_.read(p);
    rule_.read(p);
    age_period_ms_ = p.get<double>("age_period_ms", 1000.0);
    tick_ms_ = p.get<double>("tick_ms", 0.1);
    if (!(age_period_ms_ > 0)) p.fail("age_period_ms", "must be positive");
    if (!(tick_ms_ > 0)) p.fail("tick_ms", "must be positive");
  }

  Side side() const override { return side_; }
  std::vector<Mechanism> needs() const override {
    if (side_ == Side::Guest)
      return {Mechanism::GuestNuma, Mechanism::GptList, Mechanism::PteAdBits, Mechanism::HintFaults,
              Mechanism::Migrate};
    return {Mechanism::EptAdBits, Mechanism::TlbFlush, Mechanism::HintFaults, Mechanism::Migrate};
  }

  void attach(Mechanisms& m) override {
    const uint32_t pages = m.guest_pages();
    scale_value_ = scale_.resolve(pages);
    const double scale = scale_value_;
    scanner_.configure(scan_, scale, /*adapt=*/false);
    fast_pages_ = m.capacity_pages(Tier::Fast);
    wm_ = zone_watermarks(fast_pages_, pages, rule_.min_free_kbytes, rule_.watermark_scale_factor);
    promotion_.configure(rule_, scale, fast_pages_, wm_);
    lists_.resize(pages, 2);
    armed_.assign(pages, 0);
    ratio_ = inactive_ratio(fast_pages_);
    age_period_ns_ = age_period_ms_ * 1e6 * scale;
    next_age_ns_ = age_period_ns_;
    if (side_ == Side::Guest)
      pte_buf_.resize(kPtesPerPage);
    else
      ept_buf_.resize(pages);
  }

  Tier place(Gpa, const Mechanisms& m) override {
    follow_allowance(m);
    // get_page_from_freelist: the fast node unless it is under its low
    // watermark, which also wakes kswapd.
    if (fast_free(m) > wm_.low) return Tier::Fast;
    wake_ = true;
    return Tier::Slow;
  }

  double period_ns() const override { return tick_ms_ * 1e6; }

  void tick(Mechanisms& m) override {
    follow_allowance(m);
    const double now = m.now_ns();
    if (now >= next_age_ns_) {
      age(m);
      next_age_ns_ = now + age_period_ns_;
    }
    if (wake_ || fast_free(m) < wm_.low) kswapd(m);
    if (scanner_.due(now)) scan(m, now);
  }

  // A fast-memory pool resizes the allowance (this design's node) under a
  // running VM. Linux recomputes a resized zone's watermarks
  // (setup_per_zone_wmarks after memory hotplug); so do we, and the free
  // count follows the new size at once.
  void follow_allowance(const Mechanisms& m) {
    const uint64_t cap = m.capacity_pages(Tier::Fast);
    if (cap == fast_pages_) return;
    fast_pages_ = cap;
    wm_ = zone_watermarks(fast_pages_, m.guest_pages(), rule_.min_free_kbytes,
                          rule_.watermark_scale_factor);
    promotion_.configure(rule_, scale_value_, fast_pages_, wm_);
    ratio_ = inactive_ratio(fast_pages_);
  }

  void on_hint_fault(const HintFault& f, Mechanisms& m) override {
    follow_allowance(m);
    const Gpa g = f.gpa;
    if (g < armed_.size()) armed_[g] = 0;
    ++hint_faults_;
    if (!m.backed(g) || m.tier_of(g) == Tier::Fast) return;
    const auto v = promotion_.decide(f.now_ns - f.protected_ns, f.now_ns, fast_free(m));
    if (v == TppPromotion::Verdict::TooCold) {
      ++too_cold_;
      return;
    }
    if (v == TppPromotion::Verdict::RateLimited) {
      ++rate_limited_;
      return;
    }
    if (fast_free(m) <= wm_.high + 1) {  // numamigrate_isolate_folio
      ++no_room_;
      wake_ = true;
      return;
    }
    const Gpa one[1] = {g};
    const MigrationResult r = m.mover().migrate(one, Tier::Fast, MigrationMethod::Linux, 1);
    if (r.moved == 0) {
      ++no_room_;
      return;
    }
    ++promoted_;
    const Gpa now_at = r.remapped.empty() ? g : r.remapped.front().second;
    if (now_at < armed_.size()) armed_[now_at] = 0;
    lists_.push_head(kInactive, now_at);
  }

  void on_measure_start() override {
    hint_faults_ = promoted_ = too_cold_ = rate_limited_ = no_room_ = demoted_ = kswapd_runs_ =
        ages_ = protected_ = spared_ = 0;
  }

  void report(Json& out) const override {
    out["side"] = side_name(side_);
    out["time_scale"] = scale_value_;
    out["time_scale_rule"] = scale_.rule();
    out["numa_scan_period_ms_effective"] = scanner_.period_ns() * 1e-6;
    out["numa_scan_pages"] = scanner_.scan_pages();
    out["hot_threshold_ms_effective"] = promotion_.threshold_ns() * 1e-6;
    out["rate_limit_pages_per_window"] = promotion_.rate_limit_pages();
    out["watermark_low_pages"] = wm_.low;
    out["watermark_high_pages"] = wm_.high;
    out["watermark_promo_pages"] = wm_.promo;
    out["pages_protected"] = protected_;
    out["hint_faults"] = hint_faults_;
    out["promoted_pages"] = promoted_;
    out["promote_too_cold"] = too_cold_;
    out["promote_rate_limited"] = rate_limited_;
    out["promote_no_room"] = no_room_;
    out["demoted_pages"] = demoted_;
    out["kswapd_runs"] = kswapd_runs_;
    out["lru_age_scans"] = ages_;
    out["reclaim_spared_young"] = spared_;
  }

 private:
  uint64_t fast_free(const Mechanisms& m) const {
    const uint64_t used = m.used_pages(Tier::Fast);
    return used >= fast_pages_ ? 0 : fast_pages_ - used;
  }

  // One look at the accessed bit of every page on the fast node (cleared
  // as read); unlisted fast pages join the inactive list.
  void age(Mechanisms& m) {
    ++ages_;
    auto see = [&](Gpa g, bool young) {
      if (g >= lists_.pages() || !m.backed(g) || m.tier_of(g) != Tier::Fast) return;
      if (lists_.list_of(g) == PageLists::kNoList) {
        // A page never seen before: young ones as just marked, old ones
        // as the first candidates for reclaim.
        if (young)
          lists_.push_head(kInactive, g);
        else
          lists_.push_tail(kInactive, g);
        lists_.set_referenced(g, young);
      } else {
        age_page(lists_, g, young, kInactive, kActive);
      }
    };
    if (side_ == Side::Guest) {
      for (Gpa gpt : m.gpt().gpt_pages()) {
        m.gpt().scan_gpt_page(gpt, PteBits::kAccessed,
                              std::span<PteBits, kPtesPerPage>(pte_buf_.data(), kPtesPerPage));
        for (const PteBits& b : pte_buf_)
          if (b.gpa != kNone && (b.bits & PteBits::kPresent))
            see(b.gpa, (b.bits & PteBits::kAccessed) != 0);
      }
    } else {
      clear_flush_young(m, ept_buf_);
      for (Gpa g = 0; g < ept_buf_.size(); ++g) see(g, (ept_buf_[g] & PteBits::kAccessed) != 0);
    }
    balance_lists(lists_, kInactive, kActive, ratio_);
  }

  void kswapd(Mechanisms& m) {
    wake_ = false;
    // Page-table pages are never on the guest's LRU; the host cannot tell them apart.
    const uint64_t unlisted = side_ == Side::Guest ? m.gpt().gpt_pages().size() : 0;
    if (lists_.size(kInactive) + lists_.size(kActive) + unlisted < m.used_pages(Tier::Fast)) age(m);
    uint64_t free = fast_free(m);
    if (free >= wm_.promo) return;
    ++kswapd_runs_;
    uint64_t need = wm_.promo - free;
    victims_.clear();
    uint64_t looked = 0;
    const uint64_t look_limit = 2 * (lists_.size(kInactive) + lists_.size(kActive));
    while (need > 0) {
      if (lists_.size(kInactive) == 0 && balance_lists(lists_, kInactive, kActive, ratio_) == 0) {
        if (lists_.size(kActive) == 0) break;
        lists_.push_head(kInactive, lists_.tail(kActive));  // ratio rounding: take one anyway
      }
      const Gpa g = lists_.tail(kInactive);
      if (!m.backed(g) || m.tier_of(g) != Tier::Fast) {
        lists_.remove(g);
        continue;
      }
      // shrink_folio_list's folio_check_references: a young candidate is
      // kept (marked, or activated on its second look), not demoted. Its bit
      // is cleared, so each page is spared at most once per run.
      if (++looked <= look_limit && m.test_and_clear_young(g)) {
        age_page(lists_, g, true, kInactive, kActive);
        ++spared_;
        continue;
      }
      lists_.remove(g);
      victims_.push_back(g);
      --need;
    }
    if (victims_.empty()) return;
    const MigrationResult r = m.mover().migrate(victims_, Tier::Slow, MigrationMethod::Linux, 1);
    demoted_ += r.moved;
    for (const auto& [from, to] : r.remapped) {
      armed_[from] = 0;
      armed_[to] = 0;
    }
  }

  void scan(Mechanisms& m, double now) {
    const uint64_t rss = m.used_pages(Tier::Fast) + m.used_pages(Tier::Slow);
    auto want = [&](Gpa g) {
      return g < armed_.size() && !armed_[g] && m.backed(g) && m.tier_of(g) == Tier::Slow;
    };
    uint64_t n = 0;
    if (side_ == Side::Guest) {
      const auto gpts = m.gpt().gpt_pages();
      n = scanner_.scan(
          m, static_cast<uint32_t>(gpts.size()), rss, now, [&](uint32_t c, std::vector<Gpa>& out) {
            m.gpt().scan_gpt_page(gpts[c], 0,
                                  std::span<PteBits, kPtesPerPage>(pte_buf_.data(), kPtesPerPage));
            for (const PteBits& b : pte_buf_)
              if (b.gpa != kNone && (b.bits & PteBits::kPresent) && want(b.gpa)) {
                armed_[b.gpa] = 1;
                out.push_back(b.gpa);
              }
          });
    } else {
      const uint32_t pages = m.guest_pages();
      const uint32_t chunks = (pages + NumaScanner::kChunkPages - 1) / NumaScanner::kChunkPages;
      n = scanner_.scan(m, chunks, rss, now, [&](uint32_t c, std::vector<Gpa>& out) {
        const Gpa first = c * NumaScanner::kChunkPages;
        const Gpa end = std::min<Gpa>(pages, first + NumaScanner::kChunkPages);
        for (Gpa g = first; g < end; ++g)
          if (want(g)) {
            armed_[g] = 1;
            out.push_back(g);
          }
        m.charge_ns(static_cast<double>(end - first) * scan_.walk_ns_per_pte);
      });
    }
    protected_ += n;
  }

  Side side_;
  TimeScale scale_;
  NumaScanParams scan_;
  TppParams rule_;
  double age_period_ms_, tick_ms_;

  NumaScanner scanner_;
  TppPromotion promotion_;
  Watermarks wm_;
  PageLists lists_;
  std::vector<uint8_t> armed_, ept_buf_;
  std::vector<PteBits> pte_buf_;
  std::vector<Gpa> victims_;
  uint64_t fast_pages_ = 0;
  uint32_t ratio_ = 1;
  double scale_value_ = 1, age_period_ns_ = 0, next_age_ns_ = 0;
  bool wake_ = false;
  uint64_t hint_faults_ = 0, promoted_ = 0, too_cold_ = 0, rate_limited_ = 0, no_room_ = 0,
           demoted_ = 0;
  uint64_t kswapd_runs_ = 0, ages_ = 0, protected_ = 0, spared_ = 0;
};

struct TppGuest final : Tpp {
  TppGuest(Params& p, const PolicyEnv& e) : Tpp(p, e, Side::Guest) {}
};
struct TppHost final : Tpp {
  TppHost(Params& p, const PolicyEnv& e) : Tpp(p, e, Side::Host) {}
};

VTMM_REGISTER(vtmm::PolicyRegistry, TppGuest, "tpp",
              "guest NUMA balancing, tiering mode: promote on hint faults under the hot threshold, "
              "kswapd demotes inactive pages")
VTMM_REGISTER(
    vtmm::PolicyRegistry, TppHost, "tpp-host",
    "tpp's rules in the hypervisor: EPT A bits for the LRU, hint faults as VM exits, GPAs kept")

}  // namespace
}  // namespace vtmm::baselines
