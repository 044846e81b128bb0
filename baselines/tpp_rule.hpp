#pragma once
// TPP's rule (Maruf et al., ASPLOS'23, as merged into Linux 5.18-6.x as NUMA
// balancing's memory-tiering mode), shared by tpp (guest) and tpp-host
// (hypervisor):
//  - promotion test: kernel/sched/fair.c should_numa_migrate_memory, tiering
//    branch: promote at once if the fast node has plenty free
//    (pgdat_free_space_enough: free > promo watermark + max(1 GiB, node/16));
//    else only if the hint-fault latency (fault time - scan time,
//    numa_hint_fault_latency) is below the hot threshold
//    (numa_balancing_hot_threshold_ms, 1000), and the promotion candidates of
//    the current 1 s window stay under numa_balancing_promote_rate_limit_MBps
//    (65536) (numa_promotion_rate_limit). Every scan_period_max (60 s) the
//    threshold moves by 2/16 of the default toward more or fewer candidates
//    than the rate limit allows (numa_promotion_adjust_threshold), between
//    2/16 and 2x the default.
//  - room test: mm/migrate.c numamigrate_isolate_folio: a promotion needs
//    free > high watermark + 1 page on the fast node, else it fails and wakes
//    kswapd (tiering mode).
//  - watermarks: mm/page_alloc.c init_per_zone_wmark_min (min_free_kbytes =
//    sqrt(16 x memory KiB), 128 KiB..256 MiB, shared by node size) and
//    __setup_per_zone_wmarks (step = max(min/4, node x watermark_scale_factor
//    / 10000), factor 10): low = min + step, high = low + step, promo = high +
//    step. kswapd reclaims (here: demotes) until free >= promo in tiering mode
//    (pgdat_balanced).
// Time and volume constants are scaled by time_scale (time_scale.hpp).
#include <algorithm>
#include <cmath>
#include <cstdint>

#include "vtmm/core/params.hpp"
#include "vtmm/core/types.hpp"

namespace vtmm::baselines {

struct Watermarks {
  uint64_t min = 0, low = 0, high = 0, promo = 0;
};

inline Watermarks zone_watermarks(uint64_t node_pages, uint64_t total_pages,
                                  uint64_t min_free_kbytes, uint32_t scale_factor) {
  uint64_t kb = min_free_kbytes;
  if (kb == 0) {
    const double total_kb = static_cast<double>(total_pages * (kPageSize / 1024));
    kb = std::clamp<uint64_t>(static_cast<uint64_t>(std::sqrt(total_kb * 16)), 128, 262144);
  }
  Watermarks w;
  const uint64_t all_min = kb / (kPageSize / 1024);
  w.min = total_pages ? all_min * node_pages / total_pages : 0;
  const uint64_t step = std::max(w.min / 4, node_pages * scale_factor / 10000);
  w.low = w.min + step;
  w.high = w.low + step;
  w.promo = w.high + step;
  return w;
}

struct TppParams {
  double hot_threshold_ms = 1000;
  double rate_limit_mbps = 65536;
  bool adjust_threshold = true;
  double adjust_period_ms = 60000;  // sysctl_numa_balancing_scan_period_max
  double rate_window_ms = 1000;     // MSEC_PER_SEC
  uint64_t enough_free_bytes = uint64_t{1} << 30;
  uint32_t watermark_scale_factor = 10;
  uint64_t min_free_kbytes = 0;  // 0: Linux's sqrt rule

  void read(Params& p) {
    hot_threshold_ms = p.get<double>("hot_threshold_ms", hot_threshold_ms);
    rate_limit_mbps = p.get<double>("promote_rate_limit_mbps", rate_limit_mbps);
    adjust_threshold = p.get<bool>("adjust_threshold", adjust_threshold);
    adjust_period_ms = p.get<double>("threshold_adjust_period_ms", adjust_period_ms);
    rate_window_ms = p.get<double>("rate_window_ms", rate_window_ms);
    enough_free_bytes = p.get_bytes("enough_free_bytes", enough_free_bytes);
    watermark_scale_factor = p.get<uint32_t>("watermark_scale_factor", watermark_scale_factor);
    min_free_kbytes = p.get<uint64_t>("min_free_kbytes", min_free_kbytes);
    if (!(hot_threshold_ms > 0)) p.fail("hot_threshold_ms", "must be positive");
    if (!(rate_limit_mbps > 0)) p.fail("promote_rate_limit_mbps", "must be positive");
    if (!(adjust_period_ms > 0)) p.fail("threshold_adjust_period_ms", "must be positive");
    if (!(rate_window_ms > 0)) p.fail("rate_window_ms", "must be positive");
    if (watermark_scale_factor == 0 || watermark_scale_factor > 3000)
      p.fail("watermark_scale_factor", "must be 1..3000 (as vm.watermark_scale_factor)");
  }
};

// should_numa_migrate_memory's tiering branch for one candidate page.
class TppPromotion {
 public:
  enum class Verdict { Promote, TooCold, RateLimited };

  void configure(const TppParams& p, double scale, uint64_t fast_node_pages, const Watermarks& w) {
    def_th_ns_ = p.hot_threshold_ms * 1e6 * scale;
    adjust_ = p.adjust_threshold;
    adjust_period_ns_ = p.adjust_period_ms * 1e6 * scale;
    window_ns_ = p.rate_window_ms * 1e6 * scale;
    // MB_TO_PAGES(rate) per window: a rate, so scaling the window scales the budget.
    const double pages_per_s = p.rate_limit_mbps * double(1 << 20) / kPageSize;
    rate_pages_ =
        std::max<uint64_t>(1, static_cast<uint64_t>(pages_per_s * p.rate_window_ms * 1e-3 * scale));
    ref_cand_ = static_cast<uint64_t>(pages_per_s * p.adjust_period_ms * 1e-3 * scale);
    enough_ = w.promo +
              std::max<uint64_t>(static_cast<uint64_t>(static_cast<double>(p.enough_free_bytes) *
                                                       scale / kPageSize),
                                 fast_node_pages / 16);
  }

  Verdict decide(double latency_ns, double now_ns, uint64_t fast_free_pages) {
    if (fast_free_pages > enough_) {
      threshold_ns_ = 0;  // "workload changed, reset hot threshold"
      return Verdict::Promote;
    }
    if (adjust_) adjust(now_ns);
    const double th = threshold_ns_ > 0 ? threshold_ns_ : def_th_ns_;
    if (latency_ns >= th) return Verdict::TooCold;
    ++candidates_;
    if (now_ns - rl_start_ns_ > window_ns_) {
      rl_start_ns_ = now_ns;
      rl_base_ = candidates_;
    }
    return candidates_ - rl_base_ >= rate_pages_ ? Verdict::RateLimited : Verdict::Promote;
  }

  double threshold_ns() const { return threshold_ns_ > 0 ? threshold_ns_ : def_th_ns_; }
  uint64_t rate_limit_pages() const { return rate_pages_; }
  uint64_t enough_free_pages() const { return enough_; }

 private:
  void adjust(double now_ns) {
    if (now_ns - th_start_ns_ <= adjust_period_ns_) return;
    th_start_ns_ = now_ns;
    const uint64_t diff = candidates_ - th_base_;
    const double unit = def_th_ns_ * 2 / 16;  // NUMA_MIGRATION_ADJUST_STEPS
    double th = threshold_ns_ > 0 ? threshold_ns_ : def_th_ns_;
    if (diff > ref_cand_ * 11 / 10)
      th = std::max(th - unit, unit);
    else if (diff < ref_cand_ * 9 / 10)
      th = std::min(th + unit, def_th_ns_ * 2);
    th_base_ = candidates_;
    threshold_ns_ = th;
  }

  double def_th_ns_ = 0, threshold_ns_ = 0, adjust_period_ns_ = 0, window_ns_ = 0;
  double rl_start_ns_ = 0, th_start_ns_ = 0;
  bool adjust_ = true;
  uint64_t rate_pages_ = 1, ref_cand_ = 0, enough_ = 0;
  uint64_t candidates_ = 0, rl_base_ = 0, th_base_ = 0;
};

}  // namespace vtmm::baselines
