#pragma once
// Linux NUMA balancing's scanner, shared by autonuma, tpp and tpp-host:
// kernel/sched/fair.c task_numa_work, task_nr_scan_windows, task_scan_min,
// task_scan_max, update_task_scan_period (Linux 6.x).
//
//  - Every scan period, task_numa_work makes scan_size_mb (256 MB) of the
//    address space inaccessible (change_prot_numa), resuming where the last
//    pass stopped, in 2 MiB steps. A step counts against the budget only if it
//    changed some PTE; at most 8x the budget is walked (virtpages); a pass
//    stops at the end of the address space and the next starts over
//    (numa_scan_seq++).
//  - The first scan comes scan_delay_ms (1000) after start; the period starts
//    at scan_delay_ms.
//  - The period stays in [task_scan_min, task_scan_max]: scan_period_min_ms
//    (1000) and scan_period_max_ms (60000) divided by the number of 256 MB
//    windows in the RSS, the minimum floored at scan_size / 2560 MB/s
//    (MAX_SCAN_WINDOW).
//  - Adapting (update_task_scan_period, once per completed pass here; Linux
//    does it on the first fault after numa_scan_seq moves): no faults or any
//    failed migration doubles the period; else lr = 10 * local / (local +
//    remote); lr >= 7 slows the scan by max(1, lr - 7) tenths of the period,
//    lr < 7 speeds it by (7 - lr) tenths. A migrated page's fault counts as
//    local (do_numa_page passes the target node). Private faults only: one
//    task, no NUMA groups, so the shared-fault branch never applies.
//  - In tiering-only mode (tpp) task_numa_fault drops the statistics of
//    faults on slow-node pages, so the period never adapts: adapt = false.
//
// Time and size constants are scaled by time_scale (see time_scale.hpp).
#include <algorithm>
#include <cstdint>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/params.hpp"

namespace vtmm::baselines {

struct NumaScanParams {
  double period_min_ms = 1000, period_max_ms = 60000, delay_ms = 1000;
  uint64_t size_bytes = uint64_t{256} << 20;
  double max_scan_mb_per_s = 2560;
  // The cost of walking one PTE in change_prot_numa (assumed, as the host
  // profile's pte_scan_ns: streaming 8-byte entries, a couple of cycles each).
  double walk_ns_per_pte = 1.0;

  void read(Params& p) {
    period_min_ms = p.get<double>("scan_period_min_ms", period_min_ms);
    period_max_ms = p.get<double>("scan_period_max_ms", period_max_ms);
    delay_ms = p.get<double>("scan_delay_ms", delay_ms);
    size_bytes = p.get_bytes("scan_size_bytes", size_bytes);
    max_scan_mb_per_s = p.get<double>("max_scan_mb_per_s", max_scan_mb_per_s);
    walk_ns_per_pte = p.get<double>("scan_walk_ns_per_pte", walk_ns_per_pte);
    if (!(period_min_ms > 0)) p.fail("scan_period_min_ms", "must be positive");
    if (!(period_max_ms >= period_min_ms))
      p.fail("scan_period_max_ms", "must be >= scan_period_min_ms");
    if (!(delay_ms > 0)) p.fail("scan_delay_ms", "must be positive");
    if (size_bytes < kHugeSize) p.fail("scan_size_bytes", "must be at least 2MiB");
    if (!(max_scan_mb_per_s > 0)) p.fail("max_scan_mb_per_s", "must be positive");
    if (walk_ns_per_pte < 0) p.fail("scan_walk_ns_per_pte", "must be >= 0");
  }
};

class NumaScanner {
 public:
  static constexpr uint32_t kChunkPages = kPagesPerHuge;  // change_prot_numa's 2 MiB steps

  void configure(const NumaScanParams& p, double scale, bool adapt) {
    p_ = p;
    scale_ = scale;
    adapt_ = adapt;
    scan_pages_ = std::max<uint64_t>(
        kChunkPages, static_cast<uint64_t>(static_cast<double>(p.size_bytes) * scale / kPageSize));
    period_ns_ = p.delay_ms * 1e6 * scale;
    next_ns_ = period_ns_;
  }
  bool due(double now) const { return now >= next_ns_; }
  double period_ns() const { return period_ns_; }
  uint64_t scan_pages() const { return scan_pages_; }
  uint64_t passes() const { return passes_; }
  uint64_t scans() const { return scans_; }

  // task_scan_min / task_scan_max for an RSS of `rss_pages`.
  double min_ns(uint64_t rss_pages) const {
    const double floor =
        static_cast<double>(scan_pages_ * kPageSize) / (p_.max_scan_mb_per_s * 1e6) * 1e9;
    return std::max(floor,
                    p_.period_min_ms * 1e6 * scale_ / static_cast<double>(windows(rss_pages)));
  }
  double max_ns(uint64_t rss_pages) const {
    return std::max(min_ns(rss_pages),
                    p_.period_max_ms * 1e6 * scale_ / static_cast<double>(windows(rss_pages)));
  }

  // Fault statistics (numa_faults_locality): local, remote, failed migration.
  void fault(bool local, bool failed) {
    ++(local ? local_ : remote_);
    if (failed) ++failed_;
  }

  // One task_numa_work pass at `now` over `chunks` 2 MiB steps of the address
  // space. visit(chunk, out) appends the pages of that step to make
  // inaccessible and charges its walk. Returns the pages protected.
  template <class Visit>
  uint64_t scan(Mechanisms& m, uint32_t chunks, uint64_t rss_pages, double now, Visit&& visit) {
    next_ns_ = now + period_ns_;
    if (chunks == 0) return 0;
    ++scans_;
    out_.clear();
    int64_t budget = static_cast<int64_t>(scan_pages_);
    int64_t virt = 8 * budget;
    bool wrapped = false;
    while (budget > 0 && virt > 0) {
      if (offset_ >= chunks) {
        offset_ = 0;
        wrapped = true;
        break;
      }
      const size_t before = out_.size();
      visit(offset_, out_);
      if (out_.size() > before) budget -= kChunkPages;
      virt -= kChunkPages;
      ++offset_;
    }
    if (offset_ >= chunks) {
      offset_ = 0;
      wrapped = true;
    }
    if (!out_.empty()) m.hints().protect_for_hint(out_);
    if (wrapped) {
      ++passes_;
      if (adapt_) adapt(rss_pages);
      next_ns_ = now + period_ns_;
    }
    return out_.size();
  }

 private:
  uint64_t windows(uint64_t rss_pages) const {
    const uint64_t rss = std::max<uint64_t>(rss_pages, 1);
    return (rss + scan_pages_ - 1) / scan_pages_;
  }
  void adapt(uint64_t rss_pages) {
    const double lo = min_ns(rss_pages), hi = max_ns(rss_pages);
    if (local_ + remote_ == 0 || failed_ > 0) {
      period_ns_ = std::min(hi, period_ns_ * 2);
    } else {
      const double slot = period_ns_ / 10;
      const int64_t lr = static_cast<int64_t>(local_ * 10 / (local_ + remote_));
      const double diff = lr >= 7 ? static_cast<double>(std::max<int64_t>(1, lr - 7)) * slot
                                  : -static_cast<double>(7 - lr) * slot;
      period_ns_ = std::clamp(period_ns_ + diff, lo, hi);
    }
    local_ = remote_ = failed_ = 0;
  }

  NumaScanParams p_;
  double scale_ = 1, period_ns_ = 0, next_ns_ = 0;
  bool adapt_ = true;
  uint64_t scan_pages_ = 0, local_ = 0, remote_ = 0, failed_ = 0, passes_ = 0, scans_ = 0;
  uint32_t offset_ = 0;
  std::vector<Gpa> out_;
};

}  // namespace vtmm::baselines
