// memtis: MEMTIS (Lee et al., "MEMTIS: Efficient Memory Tiering with Dynamic
// Page Classification and Page Size Determination", SOSP'23).
//
// Rule and defaults, from the paper §4-5 and the artifact (github
// cosmoss-jigu/memtis: linux/mm/mempolicy.c sysfs defaults, mm/htmm_core.c
// get_idx, update_base_page, __adjust_active_threshold, __cooling,
// set_memcg_nr_split, set_memcg_split_thres; mm/htmm_migrater.c watermarks;
// memtis-userspace/scripts/run_bench.sh, the values the paper ran with):
//  - PEBS samples LLC load misses every 199 events (htmm_sample_period) and
//    stores every 100007 (htmm_inst_sample_period, used for ALL_STORES).
//  - Each sample adds 512 (HPAGE_PMD_NR: a base page is weighted as a huge
//    page's subpage would be) to the page's count; its bin is
//    floor(log2(count + 1)), capped at 15: a 16-bin log2 histogram of pages.
//  - Every 100,000 samples (htmm_adaptation_period) the hot threshold is the
//    lowest bin such that all pages in it and above fit in the fast tier minus
//    the promotion watermark (3 % of it, clamped to [100 MB, 1500 MB]); at
//    least 1 (htmm_thres_hot). Outside cooling it only rises; after a cooling
//    it may fall by one. If the hot set fills under 75 % of that room, the
//    warm threshold is one bin lower (warm pages are not demoted).
//  - Every 2,000,000 samples (htmm_cooling_period) every count is halved.
//  - Migration (kmigraterd, every 500 ms both ways): demote inactive
//    (below-warm) fast pages when fast use + hot slow pages + the promotion
//    watermark exceed the fast tier; promote hot slow pages into the room
//    left above the promotion watermark. Linux migrate_pages.
//  - Huge page split (skewness): at a cooling, per huge page, skewness =
//    sum of its subpages' squared counts / 11 / (number of hot subpages)^2,
//    bucketed by get_skew_idx; the number of pages to split comes from the
//    gap between the estimated hit ratio if every page were a base page and
//    the measured one, times the latency gap (270 vs 80 ns, NVM vs DRAM), times
//    gamma 0.4; the most skewed huge pages up to that number are split.
//
// Huge pages: the simulated guests map 4 KiB pages unless a run asks
// for guest THP, which only host-side designs model (docs/huge-pages.md). This policy therefore
// manages base pages throughout — which is what MEMTIS does after splitting — and the split rule
// runs on each 2 MiB GPA group as if it were a huge page; it splits nothing and reports what it
// would split (would_split_hugepages). The "estimated base page" histogram of
// MEMTIS is then the same as the real one.
//
// Side: guest (default). PEBS records guest linear addresses that only the
// guest can translate, and MEMTIS is a kernel that manages its own NUMA
// nodes, so in a VM it runs in the guest (vPEBS). `side: "host"` runs the same
// rule in the hypervisor, for comparison.
//
// Scaling (our decision, as vtmm.cpp does): sample-count periods (adaptation,
// cooling) and volumes (watermark clamps) are multiplied by time_scale
// (default guest memory / 16 GiB); so are the 500 ms migration periods, which
// would otherwise not run in a 0.1-1 s run. The sample periods (199, 100007)
// are kept: they already give many samples per page.
//
// Deviation: the warm bin never drops below min_hot_threshold (see adapt()).
// Simplified: the ksampled CPU quota (3 %) that raises the sample period
// under load is not modelled; LRU order within a bin is approximated by the
// time of the page's last sample.
#include <algorithm>
#include <array>
#include <cmath>

#include "baselines/pebs_sampling.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/time_scale.hpp"

namespace vtmm {
namespace {

constexpr uint32_t kBins = 16;

// MEMTIS get_idx: floor(log2(n + 1)), at most 15.
uint32_t bin_of(uint64_t n) {
  const uint64_t v = n + 1;
  const uint32_t b = 63 - static_cast<uint32_t>(__builtin_clzll(v));
  return std::min(b, kBins - 1);
}

// MEMTIS get_skew_idx: log2 buckets below 1024, then one per 1024 up to 20.
uint32_t skew_bin_of(uint64_t n) {
  if (n >= 1024) {
    uint32_t c = 0;
    while (n > 1024 && c < 9) {
      n -= 1024;
      ++c;
    }
    return c + 11;
  }
  uint32_t c = 0;
  while (n) {
    n >>= 1;
    ++c;
  }
  return c;
}

class Memtis final : public Policy {
 public:
  Memtis(Params& p, const PolicyEnv& env) {
    load_period_ = p.get<uint32_t>("load_sample_period", 199);
    store_period_ = p.get<uint32_t>("store_sample_period", 100007);
    weight_ = p.get<uint32_t>("sample_weight", kPagesPerHuge);
    adapt_samples_ = p.get<uint64_t>("adaptation_period_samples", 100000);
    cool_samples_ = p.get<uint64_t>("cooling_period_samples", 2000000);
    min_hot_ = p.get<uint32_t>("min_hot_threshold", 1);
    warm_ = p.get<bool>("warm", true);
    warm_fill_ = p.get<double>("warm_fill", 0.75);
    promo_wm_frac_ = p.get<double>("promotion_watermark_fraction", 0.03);
    promo_wm_min_ = p.get_bytes("promotion_watermark_min_bytes", uint64_t{100} << 20);
    promo_wm_max_ = p.get_bytes("promotion_watermark_max_bytes", uint64_t{1500} << 20);
    migrate_ms_ = p.get<double>("migrate_period_ms", 500.0);
    split_ = p.get<bool>("split", true);
    split_period_shift_ = p.get<uint32_t>("split_period_shift", 2);
    gamma_ = p.get<double>("split_gamma", 0.4);
    fast_lat_ = p.get<double>("split_fast_latency", 80.0);
    slow_lat_ = p.get<double>("split_slow_latency", 270.0);
    time_scale_.read(p, env);
    // Assumed: a page-info lookup and histogram update per sample (ksampled),
    // a few ns per page per histogram pass / cooling.
    sample_ns_ = p.get<double>("sample_ns", 50.0);
    page_ns_ = p.get<double>("page_ns", 2.0);
    side_ = baselines::read_sampling_side(p);
    if (load_period_ == 0 && store_period_ == 0)
      p.fail("load_sample_period", "one sample period must be non-zero");
    if (weight_ == 0) p.fail("sample_weight", "must be >= 1");
    if (adapt_samples_ == 0 || cool_samples_ == 0)
      p.fail("adaptation_period_samples", "periods must be >= 1");
    if (min_hot_ == 0 || min_hot_ >= kBins) p.fail("min_hot_threshold", "must be 1..15");
    if (!(warm_fill_ > 0 && warm_fill_ <= 1)) p.fail("warm_fill", "must be in (0, 1]");
    if (!(promo_wm_frac_ >= 0 && promo_wm_frac_ < 1))
      p.fail("promotion_watermark_fraction", "must be in [0, 1)");
    if (promo_wm_min_ > promo_wm_max_)
      p.fail("promotion_watermark_min_bytes", "must not exceed the max");
    if (!(migrate_ms_ > 0)) p.fail("migrate_period_ms", "must be positive");
    if (!(fast_lat_ > 0 && slow_lat_ >= fast_lat_))
      p.fail("split_slow_latency", "must be >= split_fast_latency > 0");
  }

  std::vector<Mechanism> needs() const override { return baselines::sampling_needs(side_); }
  Side side() const override { return side_; }

  void attach(Mechanisms& m) override {
    const uint32_t pages = m.guest_pages();
    scale_ = time_scale_.resolve(pages);
    adapt_ = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::llround(static_cast<double>(adapt_samples_) * scale_)));
    cool_ = std::max<uint64_t>(
        1, static_cast<uint64_t>(std::llround(static_cast<double>(cool_samples_) * scale_)));
    count_.assign(pages, 0);
    last_.assign(pages, 0);
    hist_.fill(0);
    hist_[0] = pages;
    active_ = warm_thr_ = min_hot_;
    m.sampler().set_sampling(load_period_, store_period_);
  }

  Tier place(Gpa, const Mechanisms& m) override {
    return m.used_pages(Tier::Fast) < m.capacity_pages(Tier::Fast) ? Tier::Fast : Tier::Slow;
  }

  double period_ns() const override { return migrate_ms_ * 1e6 * scale_; }

  void tick(Mechanisms& m) override {
    ingest(m);
    migrate(m);
  }

  // The hot threshold (a histogram bin) and the room it was fitted to.
  uint64_t promotion_watermark(const Mechanisms& m) const {
    const double cap = static_cast<double>(m.capacity_pages(Tier::Fast));
    const double lo = static_cast<double>(promo_wm_min_ / kPageSize) * scale_;
    const double hi = static_cast<double>(promo_wm_max_ / kPageSize) * scale_;
    return static_cast<uint64_t>(std::clamp(cap * promo_wm_frac_, lo, hi));
  }

  void on_measure_start() override {
    samples_ = adaptations_ = coolings_ = promoted_ = demoted_ = 0;
  }

  void report(Json& out) const override {
    uint64_t hot = 0;
    for (uint32_t b = active_; b < kBins; ++b) hot += hist_[b];
    out["side"] = side_name(side_);
    out["time_scale"] = scale_;
    out["time_scale_rule"] = time_scale_.rule();
    out["adaptation_period_samples_effective"] = adapt_;
    out["cooling_period_samples_effective"] = cool_;
    out["samples"] = samples_;
    out["adaptations"] = adaptations_;
    out["coolings"] = coolings_;
    out["hot_threshold_bin"] = active_;
    out["warm_threshold_bin"] = warm_thr_;
    out["hot_pages"] = hot;
    out["histogram"] = hist_;
    out["promoted_pages"] = promoted_;
    out["demoted_pages"] = demoted_;
    out["would_split_hugepages"] = would_split_;
    out["split_target_pages"] = split_target_;
    out["huge_pages_modelled"] = false;
  }

 private:
  void ingest(Mechanisms& m) {
    baselines::drain_samples(m, buf_, sample_ns_);
    for (const AccessSample& s : buf_) {
      if (s.gpa >= count_.size()) continue;
      const uint32_t before = bin_of(count_[s.gpa]);
      // A sample on a page at or above the base-page threshold is one a
      // base-page-managed fast tier would serve (MEMTIS may_hot).
      if (before >= active_) ++max_fast_sampled_;
      if (!s.slow) ++fast_sampled_;
      count_[s.gpa] += weight_;
      last_[s.gpa] = ++stamp_;
      const uint32_t after = bin_of(count_[s.gpa]);
      if (after != before) {
        --hist_[before];
        ++hist_[after];
      }
      ++samples_;
      ++since_split_;
      // MEMTIS checks cooling first, threshold adaptation otherwise.
      if (++since_cool_ >= cool_) {
        since_cool_ = 0;
        cool(m);
      } else if (++since_adapt_ >= adapt_) {
        since_adapt_ = 0;
        adapt(m);
      }
    }
  }

  // Threshold adaptation (__adjust_active_threshold).
  void adapt(const Mechanisms& m) {
    ++adaptations_;
    const uint64_t cap = m.capacity_pages(Tier::Fast), wm = promotion_watermark(m);
    const uint64_t room = cap > wm ? cap - wm : 0;
    uint64_t active = 0;
    int b = static_cast<int>(kBins) - 1;
    for (; b >= 0; --b) {
      if (active + hist_[b] > room) break;
      active += hist_[b];
    }
    uint32_t hot = b == static_cast<int>(kBins) - 1 ? kBins - 1 : static_cast<uint32_t>(b + 1);
    hot = std::max(hot, min_hot_);
    if (cooled_) {
      if (hot < active_ && active_ > 1) --active_;
      cooled_ = false;
    } else if (hot > active_) {
      active_ = hot;
    }
    const bool need_warm = static_cast<double>(active) < static_cast<double>(room) * warm_fill_;
    // Deviation: the warm bin is kept >= min_hot_threshold. MEMTIS would set it
    // to 0 when the hot bin is 1, making every page "warm" (never demoted), so
    // fast memory full of never-sampled pages could never make room.
    warm_thr_ = warm_ && need_warm ? std::max(active_ - 1, min_hot_) : active_;
  }

  void cool(Mechanisms& m) {
    ++coolings_;
    const uint32_t n = static_cast<uint32_t>(count_.size());
    // Hit-ratio statistics decay as MEMTIS's do at each cooling; the split
    // decision then uses them and the counts before halving.
    prev_fast_ = (prev_fast_ >> 1) + fast_sampled_;
    prev_max_fast_ = (prev_max_fast_ >> 1) + max_fast_sampled_;
    fast_sampled_ = max_fast_sampled_ = 0;
    if (split_) split_decision(m);
    hist_.fill(0);
    for (Gpa g = 0; g < n; ++g) {
      count_[g] >>= 1;
      ++hist_[bin_of(count_[g])];
    }
    m.charge_ns(static_cast<double>(n) * page_ns_);
    cooled_ = true;
  }

  // set_memcg_nr_split + set_memcg_split_thres over 2 MiB GPA groups.
  void split_decision(Mechanisms& m) {
    const uint64_t usage = m.used_pages(Tier::Fast) + m.used_pages(Tier::Slow);
    const uint64_t enough =
        std::max<uint64_t>(usage >> split_period_shift_, m.capacity_pages(Tier::Fast));
    if (since_split_ <= enough) return;
    since_split_ = 0;
    std::array<uint64_t, 21> skew_hist{};
    std::vector<uint8_t> skew;
    uint64_t sum_util = 0, num_util = 0;
    const uint32_t n = static_cast<uint32_t>(count_.size());
    for (Gpa base = 0; base < n; base += kPagesPerHuge) {
      uint64_t hot_utils = 0, refs = 0, total = 0;
      long double sq = 0;
      for (Gpa g = base; g < std::min<Gpa>(n, base + kPagesPerHuge); ++g) {
        if (bin_of(count_[g]) >= active_) {
          ++hot_utils;
          refs += count_[g];
        }
        total += count_[g] / weight_;
        sq += static_cast<long double>(count_[g]) * count_[g];
      }
      uint32_t s = 0;
      if (hot_utils > 0 && bin_of(total) < 13) {
        const long double v =
            sq / 11 / static_cast<long double>(hot_utils) / static_cast<long double>(hot_utils);
        s = skew_bin_of(static_cast<uint64_t>(std::min<long double>(v, 1e18L)));
      }
      skew.push_back(static_cast<uint8_t>(std::min<uint32_t>(s, 20)));
      ++skew_hist[skew.back()];
      if (hot_utils) {
        sum_util += refs / kPagesPerHuge;
        ++num_util;
      }
    }
    m.charge_ns(static_cast<double>(n) * page_ns_);
    // nr_split = (eHR - rHR) * sum_util / nr_records / avg * latency gap * 512 * gamma
    const uint64_t ehr = prev_max_fast_ * 95 / 100, rhr = prev_fast_;
    split_target_ = 0;
    would_split_ = 0;
    if (ehr <= rhr || num_util == 0 || sum_util == 0) return;
    const double avg = static_cast<double>(sum_util) / static_cast<double>(num_util);
    const double records = static_cast<double>(cool_) * 2;
    double nr = static_cast<double>(ehr - rhr) * static_cast<double>(sum_util) / records / avg;
    nr *= (slow_lat_ - fast_lat_) / fast_lat_ * kPagesPerHuge * gamma_;
    split_target_ = static_cast<uint64_t>(nr);
    // The most skewed huge pages, down from bucket 20, until the target is met.
    uint64_t left = split_target_;
    for (int b = 20; b > 0 && left > 0; --b) {
      const uint64_t take =
          std::min<uint64_t>(skew_hist[b], (left + kPagesPerHuge - 1) / kPagesPerHuge);
      would_split_ += take;
      left = left > take * kPagesPerHuge ? left - take * kPagesPerHuge : 0;
    }
  }

  void migrate(Mechanisms& m) {
    const uint32_t n = static_cast<uint32_t>(count_.size());
    const uint64_t cap = m.capacity_pages(Tier::Fast), wm = promotion_watermark(m);
    std::vector<Gpa> hot_slow, cold_fast;
    for (Gpa g = 0; g < n; ++g) {
      if (!m.backed(g)) continue;
      const uint32_t b = bin_of(count_[g]);
      if (m.tier_of(g) == Tier::Slow) {
        if (b >= active_) hot_slow.push_back(g);
      } else if (b < warm_thr_) {
        cold_fast.push_back(g);
      }
    }
    m.charge_ns(static_cast<double>(n) * page_ns_);
    // Demotion (need_toptier_demotion): make room for the hot slow pages
    // above the watermark; coldest and least recently sampled first.
    const uint64_t used = m.used_pages(Tier::Fast);
    const uint64_t want = used + hot_slow.size() + wm;
    if (want > cap && !cold_fast.empty()) {
      const uint64_t k = std::min<uint64_t>(want - cap, cold_fast.size());
      std::partial_sort(cold_fast.begin(), cold_fast.begin() + static_cast<std::ptrdiff_t>(k),
                        cold_fast.end(), [&](Gpa a, Gpa b) {
                          return count_[a] != count_[b] ? count_[a] < count_[b]
                                                        : last_[a] < last_[b];
                        });
      cold_fast.resize(k);
      demoted_ += moved(m, m.mover().migrate(cold_fast, Tier::Slow, MigrationMethod::Linux));
    }
    // Promotion (promotion_available): up to the room above the watermark.
    const uint64_t now_used = m.used_pages(Tier::Fast);
    if (now_used + wm >= cap || hot_slow.empty()) return;
    const uint64_t k = std::min<uint64_t>(cap - wm - now_used, hot_slow.size());
    std::partial_sort(
        hot_slow.begin(), hot_slow.begin() + static_cast<std::ptrdiff_t>(k), hot_slow.end(),
        [&](Gpa a, Gpa b) { return count_[a] != count_[b] ? count_[a] > count_[b] : a < b; });
    hot_slow.resize(k);
    promoted_ += moved(m, m.mover().migrate(hot_slow, Tier::Fast, MigrationMethod::Linux));
  }

  // Guest side: the data now lives at new GPAs; its history moves with it.
  uint64_t moved(Mechanisms&, const MigrationResult& r) {
    for (const auto& [from, to] : r.remapped) {
      --hist_[bin_of(count_[to])];
      count_[to] = count_[from];
      last_[to] = last_[from];
      ++hist_[bin_of(count_[to])];
      --hist_[bin_of(count_[from])];
      count_[from] = 0;
      last_[from] = 0;
      ++hist_[0];
    }
    return r.moved;
  }

  uint32_t load_period_, store_period_, weight_, min_hot_, split_period_shift_;
  uint64_t adapt_samples_, cool_samples_, promo_wm_min_, promo_wm_max_;
  bool warm_, split_;
  double warm_fill_, promo_wm_frac_, migrate_ms_, gamma_, fast_lat_, slow_lat_, sample_ns_,
      page_ns_;
  Side side_;

  double scale_ = 1;
  uint64_t adapt_ = 1, cool_ = 1;
  std::vector<uint64_t> count_, last_;
  std::array<uint64_t, kBins> hist_{};
  uint32_t active_ = 1, warm_thr_ = 1;
  bool cooled_ = false;
  std::vector<AccessSample> buf_;
  uint64_t stamp_ = 0, since_cool_ = 0, since_adapt_ = 0, since_split_ = 0;
  uint64_t fast_sampled_ = 0, max_fast_sampled_ = 0, prev_fast_ = 0, prev_max_fast_ = 0;
  uint64_t samples_ = 0, adaptations_ = 0, coolings_ = 0, promoted_ = 0, demoted_ = 0;
  uint64_t would_split_ = 0, split_target_ = 0;
  baselines::TimeScale time_scale_;
};

VTMM_REGISTER(vtmm::PolicyRegistry, Memtis, "memtis",
              "MEMTIS: PEBS samples into a log2 histogram, hot bin fitted to the fast tier, warm "
              "set, cooling (guest side)")

}  // namespace
}  // namespace vtmm
