// nimble: Nimble page management (Yan et al., ASPLOS'19), run in the host on
// the VM's memory, as the vTMM paper compares it: an OS-level design applied
// to the VM from outside (like host NUMA balancing), so pages keep their GPA
// and exchange swaps the backing of two guest pages (Mechanisms::exchange is
// a hypervisor-side swap). Running it in the guest would need guest NUMA
// nodes and an exchange that swaps data between two GPAs, which no platform
// here offers.
//
// Rule and defaults, from the artifact (github ysarch-lab/nimble_page_management_asplos_2019,
// mm/memory_manage.c do_mm_manage; the launcher in
// nimble_page_management_userspace/end_to_end_launcher):
//  - every period_ms (5000: run_bench.sh STATS_PERIOD=5, the launcher calls
//    mm_manage from a SIGALRM every period) the slow node's active pages are
//    isolated from the list tail, up to the fast node's size (nr_pages =
//    ULONG_MAX unless managed_pages is set; with a managed_pages below the fast
//    node's free pages, inactive slow pages go too);
//  - if they do not fit the fast node's free pages, as many inactive fast pages
//    (from the tail) as are missing are isolated, exchanged pair by pair with
//    the hot ones (MPOL_MF_EXCHANGE, exchange_pages_concur), the rest of the
//    cold ones migrated to the slow node; hot pages beyond the room left are
//    put back (putback_overflow_pages); the rest move to the fast node;
//  - copies use copy_threads (4: limit_mt_num, MIGRATE_MT) threads.
//  - active/inactive lists: the kernel's LRU (page_lists.hpp rules), kept
//    current by accessed-bit scans (MPOL_MF_SHRINK_LISTS ages the lists in the
//    same call); here from EPT A bits, all pages once per period, through
//    the host's clear_flush_young (baselines/clear_flush_young.hpp).
//
// Simplified (ours): the artifact exchanges only THPs and migrates base pages;
// we exchange 4 KiB pairs, as the paper describes exchange for any page size.
// Only the fast node's lists are rebalanced (the slow node sees no reclaim, so
// its active list is never shrunk). Time constants are scaled by time_scale
// (time_scale.hpp).
#include <algorithm>

#include "baselines/clear_flush_young.hpp"
#include "baselines/page_lists.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/time_scale.hpp"

namespace vtmm::baselines {
namespace {

// Lists: (inactive, active) per tier.
constexpr uint8_t kFastInactive = 0, kFastActive = 1, kSlowInactive = 2, kSlowActive = 3;
uint8_t inactive_of(Tier t) { return t == Tier::Fast ? kFastInactive : kSlowInactive; }
uint8_t active_of(Tier t) { return t == Tier::Fast ? kFastActive : kSlowActive; }

class Nimble final : public Policy {
 public:
  Nimble(Params& p, const PolicyEnv& env) {
    scale_.read(p, env);
    period_ms_ = p.get<double>("period_ms", 5000.0);
    threads_ = p.get<uint32_t>("copy_threads", 4);
    managed_pages_ = p.get<uint64_t>("managed_pages", 0);
    exchange_ = p.get<bool>("exchange", true);
    // Assumed: isolating a page from an LRU list and putting it on a
    // migration list, a few dozen cycles.
    isolate_ns_ = p.get<double>("isolate_ns_per_page", 20.0);
    if (!(period_ms_ > 0)) p.fail("period_ms", "must be positive");
    if (threads_ == 0) p.fail("copy_threads", "must be >= 1");
  }

  std::vector<Mechanism> needs() const override {
    std::vector<Mechanism> n{Mechanism::EptAdBits, Mechanism::TlbFlush, Mechanism::Migrate};
    if (exchange_) n.push_back(Mechanism::Exchange);
    return n;
  }

  void attach(Mechanisms& m) override {
    const uint32_t pages = m.guest_pages();
    scale_value_ = scale_.resolve(pages);
    period_ns_ = period_ms_ * 1e6 * scale_value_;
    lists_.resize(pages, 4);
    bits_.resize(pages);
    ratio_ = inactive_ratio(m.capacity_pages(Tier::Fast));
  }

  Tier place(Gpa, const Mechanisms& m) override {
    return m.used_pages(Tier::Fast) < m.capacity_pages(Tier::Fast) ? Tier::Fast : Tier::Slow;
  }

  double period_ns() const override { return period_ns_; }

  void tick(Mechanisms& m) override {
    ++rounds_;
    age(m);
    manage(m);
  }

  void on_measure_start() override { rounds_ = promoted_ = demoted_ = exchanged_ = dropped_ = 0; }

  void report(Json& out) const override {
    out["time_scale"] = scale_value_;
    out["time_scale_rule"] = scale_.rule();
    out["period_ms_effective"] = period_ns_ * 1e-6;
    out["rounds"] = rounds_;
    out["promoted_pages"] = promoted_;
    out["demoted_pages"] = demoted_;
    out["exchanged_pairs"] = exchanged_;
    out["hot_put_back"] = dropped_;
    out["fast_active_last"] = lists_.size(kFastActive);
    out["fast_inactive_last"] = lists_.size(kFastInactive);
    out["slow_active_last"] = lists_.size(kSlowActive);
  }

 private:
  // Deactivation comes before the accessed-bit look: as in the kernel, a page
  // moved to the inactive list must pass a reference check there before it
  // can be isolated, so a young page deactivated this round is re-activated
  // (second chance) instead of demoted right away.
  void age(Mechanisms& m) {
    balance_lists(lists_, kFastInactive, kFastActive, ratio_);
    clear_flush_young(m, bits_);
    for (Gpa g = 0; g < bits_.size(); ++g) {
      if (!m.backed(g)) continue;
      const Tier t = m.tier_of(g);
      const bool young = (bits_[g] & PteBits::kAccessed) != 0;
      const uint8_t on = lists_.list_of(g);
      if (on == PageLists::kNoList || (on != inactive_of(t) && on != active_of(t))) {
        if (young)
          lists_.push_head(inactive_of(t), g);
        else
          lists_.push_tail(inactive_of(t), g);
        lists_.set_referenced(g, young);
      } else {
        age_page(lists_, g, young, inactive_of(t), active_of(t));
      }
    }
  }

  // Takes up to n pages from the tail of list l.
  void isolate(uint8_t l, uint64_t n, std::vector<Gpa>& out) {
    for (Gpa g = lists_.tail(l); g != kNone && out.size() < n; g = lists_.prev(g)) out.push_back(g);
  }

  void manage(Mechanisms& m) {
    const uint64_t cap = m.capacity_pages(Tier::Fast), used = m.used_pages(Tier::Fast);
    const int64_t free = static_cast<int64_t>(cap) - static_cast<int64_t>(used);
    uint64_t nr = managed_pages_ ? std::min(managed_pages_, cap) : cap;
    hot_.clear();
    isolate(kSlowActive, nr, hot_);
    if (managed_pages_ && free > 0 && nr < static_cast<uint64_t>(free))
      isolate(kSlowInactive, nr, hot_);
    if (hot_.empty()) return;
    cold_.clear();
    if (free < static_cast<int64_t>(hot_.size()))
      isolate(kFastInactive, hot_.size() - std::max<int64_t>(free, 0), cold_);
    m.charge_ns(static_cast<double>(hot_.size() + cold_.size()) * isolate_ns_);

    size_t h = 0, c = 0;
    if (exchange_ && !cold_.empty()) {
      pairs_.clear();
      for (; h < hot_.size() && c < cold_.size(); ++h, ++c) pairs_.emplace_back(cold_[c], hot_[h]);
      const MigrationResult r = m.exchanger().exchange(pairs_, threads_);
      exchanged_ += r.moved;
      for (const auto& [fast, slow] : pairs_) relist(m, fast), relist(m, slow);
    }
    if (c < cold_.size()) {
      const std::span<const Gpa> rest(cold_.data() + c, cold_.size() - c);
      demoted_ += m.mover().migrate(rest, Tier::Slow, MigrationMethod::Linux, threads_).moved;
      for (Gpa g : rest) relist(m, g);
    }
    if (h < hot_.size()) {
      const uint64_t room = m.used_pages(Tier::Fast) >= cap ? 0 : cap - m.used_pages(Tier::Fast);
      const uint64_t n = std::min<uint64_t>(room, hot_.size() - h);
      dropped_ += hot_.size() - h - n;
      const std::span<const Gpa> up(hot_.data() + h, n);
      if (!up.empty())
        promoted_ += m.mover().migrate(up, Tier::Fast, MigrationMethod::Linux, threads_).moved;
      for (Gpa g : up) relist(m, g);
    }
  }

  // After a move: promoted pages head the fast active list, demoted ones the
  // slow inactive list (the isolated pages keep their flags across migration).
  void relist(const Mechanisms& m, Gpa g) {
    if (!m.backed(g)) return lists_.remove(g);
    const Tier t = m.tier_of(g);
    const uint8_t on = lists_.list_of(g);
    if (on == inactive_of(t) || on == active_of(t)) return;  // did not move
    lists_.push_head(t == Tier::Fast ? kFastActive : kSlowInactive, g);
  }

  TimeScale scale_;
  double period_ms_, isolate_ns_;
  uint32_t threads_;
  uint64_t managed_pages_;
  bool exchange_;

  double scale_value_ = 1, period_ns_ = 0;
  uint32_t ratio_ = 1;
  PageLists lists_;
  std::vector<uint8_t> bits_;
  std::vector<Gpa> hot_, cold_;
  std::vector<std::pair<Gpa, Gpa>> pairs_;
  uint64_t rounds_ = 0, promoted_ = 0, demoted_ = 0, exchanged_ = 0, dropped_ = 0;
};

VTMM_REGISTER(vtmm::PolicyRegistry, Nimble, "nimble",
              "Nimble in the host: EPT A-bit active/inactive lists, promote active slow pages, "
              "exchange with inactive fast ones, 4 copy threads")

}  // namespace
}  // namespace vtmm::baselines
