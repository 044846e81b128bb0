// damon: DAMON-based memory tiering (DAMOS migrate_hot / migrate_cold), as
// published by SeongJae Park ("mm/damon: introduce DAMOS_MIGRATE_{HOT,COLD}",
// Linux 6.11; samples/damon/mtier.c, Linux 6.16; DAMON paper: Park et al.,
// Middleware'19 industry track, and HPDC'22).
//
// Monitoring (mm/damon/core.c kdamond_fn, kdamond_merge_regions,
// damon_merge_regions_of, kdamond_split_regions, damon_split_regions_of;
// mm/damon/paddr.c damon_pa_prepare/check_accesses):
//  - Adaptive regions over guest memory. Every sample interval (5 ms) each
//    region's randomly chosen page is checked for an access since it was made
//    old last time (then a new page is picked and made old): nr_accesses++.
//  - Every aggregation interval (100 ms): adjacent regions whose nr_accesses
//    differ by <= max_nr_accesses / 10 merge (size-weighted, no larger than
//    total / min_nr_regions), the threshold doubling while there are more
//    than max_nr_regions; age grows while nr_accesses stays within that
//    threshold, else resets; schemes are applied; then, unless there are more
//    than max_nr_regions / 2, every region is split into 2 (3 when the count
//    did not change and is under max / 3) at random 10 %-90 % points.
//    min_nr_regions 10, max_nr_regions 1000 (mtier.c and the core defaults).
// Schemes (mtier.c): migrate_hot to the fast node for regions with
//  nr_accesses >= 1, migrate_cold to the slow node for nr_accesses == 0,
//  applied every 1 s; quota 200 MiB per 1 s reset interval, prioritised by
//  access frequency and age (weights 100/100, size 0; damon_hot_score /
//  damon_cold_score and damos_adjust_quota pick the score threshold that fits
//  the quota); quota goals auto-tuned by DAMON's feedback loop
//  (damon_feed_loop_next_input): promotion aims at 99.7 % fast-node use,
//  demotion at 0.5 % fast-node free; a "young" page filter (promote only
//  pages accessed since their last check, never demote those). mtier.c sets
//  no watermarks (always active); DAMOS watermarks on the fast tier's free
//  rate are available here (wmarks_metric "fast_free_permil", high/mid/low).
//
// Side: host. The access check is the EPT accessed bit, which is what host
// DAMON reads for guest memory (folio young via rmap -> MMU notifier
// test/clear_young -> KVM's EPT A bits; clear_young does not flush the TLB,
// so, as on hardware, an access through a cached translation goes unseen).
// It needs nothing from the guest; GPAs stay put, so regions keep their
// meaning across migrations. A guest-side DAMON would read guest PTE A bits
// through the guest's rmap, which Mechanisms does not offer per page.
// Because host-side regions span the VM's whole GPA space (like vaddr
// monitoring of the VM's memory), a region mixes tiers: each scheme acts on
// the region's pages on its source tier, and the quota is charged for those
// (mtier monitors each node's physical range, so there they are the region).
//
// Scaling (our decision, as vtmm.cpp does): every interval is multiplied by
// time_scale (default guest memory / 16 GiB) and so is the quota (bytes per
// reset interval), keeping bytes per second and the fraction of memory per
// scaled interval; region ages are scored in published seconds. The quota
// goal tuner starts from 1 byte and grows by its feedback rule (at most
// doubling per reset interval), as the kernel's does.
//
// Simplified: the sampling/aggregation interval auto-tuning of mtier.c
// (intervals_goal) is not modelled; a quota-trimmed region is applied to its
// first part without being split.
#include <algorithm>
#include <array>
#include <cmath>
#include <string>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/rng.hpp"
#include "vtmm/core/time_scale.hpp"

namespace vtmm {
namespace {

struct Region {
  Gpa start, end;  // [start, end)
  uint32_t nr_accesses = 0, last_nr_accesses = 0, age = 0;
  Gpa sampled = kNone;
  uint64_t size() const { return end - start; }
};

struct Watermarks {
  std::string metric;  // "none" or "fast_free_permil"
  uint32_t high = 0, mid = 0, low = 0;
  bool active = true;
};

struct Scheme {
  bool promote;
  uint64_t quota_pages = 0, charged = 0;
  double esz_bp = 0;       // feedback-loop input, 1/10000 byte units (kernel's esz_bp)
  uint64_t esz_pages = 0;  // effective quota
  uint32_t goal_bp = 0;    // target of the goal metric
  Watermarks wm;
  uint64_t applied_pages = 0, moved_pages = 0, applications = 0;
};

constexpr uint32_t kMaxSubscore = 100, kMaxAgeInLog = 32, kMaxScore = 99;

class Damon final : public Policy {
 public:
  Damon(Params& p, const PolicyEnv& env) : rng_(env.seed ^ 0xda307ULL) {
    sample_ms_ = p.get<double>("sample_interval_ms", 5.0);
    aggr_ms_ = p.get<double>("aggr_interval_ms", 100.0);
    apply_ms_ = p.get<double>("apply_interval_ms", 1000.0);
    reset_ms_ = p.get<double>("quota_reset_interval_ms", 1000.0);
    quota_bytes_ = p.get_bytes("quota_bytes", uint64_t{200} << 20);
    min_regions_ = p.get<uint32_t>("min_nr_regions", 10);
    max_regions_ = p.get<uint32_t>("max_nr_regions", 1000);
    w_freq_ = p.get<uint32_t>("weight_nr_accesses", 100);
    w_age_ = p.get<uint32_t>("weight_age", 100);
    goals_ = p.get<bool>("quota_goals", true);
    promote_.goal_bp = p.get<uint32_t>("promote_goal_fast_used_bp", 9970);
    demote_.goal_bp = p.get<uint32_t>("demote_goal_fast_free_bp", 50);
    young_filter_ = p.get<bool>("young_filter", true);
    promote_.wm = watermarks(p, "promote");
    demote_.wm = watermarks(p, "demote");
    threads_ = p.get<uint32_t>("copy_threads", 1);
    time_scale_.read(p, env);
    // Assumed: list walking and arithmetic per region per aggregation.
    region_ns_ = p.get<double>("region_ns", 20.0);
    if (!(sample_ms_ > 0) || !(aggr_ms_ >= sample_ms_))
      p.fail("aggr_interval_ms", "must be >= sample_interval_ms > 0");
    if (!(apply_ms_ >= aggr_ms_) || !(reset_ms_ > 0))
      p.fail("apply_interval_ms", "must be >= aggr_interval_ms");
    if (min_regions_ < 3 || max_regions_ < 2 * min_regions_)
      p.fail("max_nr_regions", "need 3 <= min_nr_regions and 2 * min <= max");
    if (promote_.goal_bp == 0 || promote_.goal_bp > 10000 || demote_.goal_bp == 0 ||
        demote_.goal_bp > 10000)
      p.fail("promote_goal_fast_used_bp", "goals must be 1..10000 basis points");
    if (threads_ == 0) p.fail("copy_threads", "must be >= 1");
    promote_.promote = true;
    demote_.promote = false;
  }

  std::vector<Mechanism> needs() const override {
    return {Mechanism::EptAdBits, Mechanism::Migrate};
  }

  void attach(Mechanisms& m) override {
    const uint32_t pages = m.guest_pages();
    scale_ = time_scale_.resolve(pages);
    samples_per_aggr_ =
        std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(aggr_ms_ / sample_ms_)));
    aggrs_per_apply_ =
        std::max<uint32_t>(1, static_cast<uint32_t>(std::lround(apply_ms_ / aggr_ms_)));
    reset_ns_ = reset_ms_ * 1e6 * scale_;
    const uint64_t q =
        static_cast<uint64_t>(std::llround(static_cast<double>(quota_bytes_) * scale_ / kPageSize));
    promote_.quota_pages = demote_.quota_pages = std::max<uint64_t>(1, q);
    for (Scheme* s : {&promote_, &demote_}) s->esz_pages = goals_ ? 0 : s->quota_pages;
    // damon_apply_min_nr_regions: even split so no region exceeds total / min.
    regions_.clear();
    const uint32_t n = std::min(min_regions_, std::max<uint32_t>(1, pages));
    for (uint32_t i = 0; i < n; ++i)
      regions_.push_back(Region{static_cast<Gpa>(uint64_t{pages} * i / n),
                                static_cast<Gpa>(uint64_t{pages} * (i + 1) / n)});
    sz_limit_ = std::max<uint64_t>(1, pages / min_regions_);
    prepare(m);
  }

  Tier place(Gpa, const Mechanisms& m) override {
    return m.used_pages(Tier::Fast) < m.capacity_pages(Tier::Fast) ? Tier::Fast : Tier::Slow;
  }

  double period_ns() const override { return sample_ms_ * 1e6 * scale_; }

  void tick(Mechanisms& m) override {
    check(m);
    if (++samples_ % samples_per_aggr_ == 0) {
      merge(m);
      if (++aggrs_ % aggrs_per_apply_ == 0) {
        if (m.now_ns() >= next_reset_ns_) {
          next_reset_ns_ = m.now_ns() + reset_ns_;
          reset_quota(m, promote_);
          reset_quota(m, demote_);
        }
        apply(m, demote_);  // room first, as both contexts run side by side
        apply(m, promote_);
      }
      for (Region& r : regions_) {
        r.last_nr_accesses = r.nr_accesses;
        r.nr_accesses = 0;
      }
      split();
      min_seen_ = std::min<uint64_t>(min_seen_, regions_.size());
      max_seen_ = std::max<uint64_t>(max_seen_, regions_.size());
      m.charge_ns(static_cast<double>(regions_.size()) * region_ns_);
    }
    prepare(m);
  }

  void on_measure_start() override {
    aggregations_measured_ = aggrs_;
    for (Scheme* s : {&promote_, &demote_}) s->applied_pages = s->moved_pages = s->applications = 0;
    min_seen_ = max_seen_ = regions_.size();
  }

  void report(Json& out) const override {
    out["side"] = "host";
    out["time_scale"] = scale_;
    out["time_scale_rule"] = time_scale_.rule();
    out["sample_interval_ms_effective"] = sample_ms_ * scale_;
    out["aggregations"] = aggrs_ - aggregations_measured_;
    out["nr_regions"] = regions_.size();
    out["nr_regions_min_seen"] = min_seen_;
    out["nr_regions_max_seen"] = max_seen_;
    out["quota_pages_per_reset"] = promote_.quota_pages;
    for (const Scheme* s : {&promote_, &demote_}) {
      const std::string k = s->promote ? "migrate_hot_" : "migrate_cold_";
      out[k + "applications"] = s->applications;
      out[k + "applied_pages"] = s->applied_pages;
      out[k + "moved_pages"] = s->moved_pages;
      out[k + "effective_quota_pages"] = s->esz_pages;
      // The feedback loop's own state (esz_bp / 10000): how far the
      // goal-tuned quota got, below a page as much as above.
      if (goals_) out[k + "goal_tuned_quota_bytes"] = std::max(s->esz_bp, 10000.0) / 10000.0;
    }
  }

 private:
  static Watermarks watermarks(Params& p, const std::string& who) {
    Watermarks w;
    w.metric = p.get<std::string>(who + "_wmarks_metric", "none");
    w.high = p.get<uint32_t>(who + "_wmarks_high_permil", 1000);
    w.mid = p.get<uint32_t>(who + "_wmarks_mid_permil", 1000);
    w.low = p.get<uint32_t>(who + "_wmarks_low_permil", 0);
    if (w.metric != "none" && w.metric != "fast_free_permil")
      p.fail(who + "_wmarks_metric", "must be \"none\" or \"fast_free_permil\"");
    if (!(w.low <= w.mid && w.mid <= w.high && w.high <= 1000))
      p.fail(who + "_wmarks_high_permil", "need low <= mid <= high <= 1000");
    return w;
  }

  // damon_pa_check_accesses: was the sampled page accessed since made old?
  void check(Mechanisms& m) {
    for (Region& r : regions_)
      if (r.sampled != kNone && m.backed(r.sampled) &&
          (m.ept().ept_bits(r.sampled) & PteBits::kAccessed))
        ++r.nr_accesses;
  }

  // damon_pa_prepare_access_checks: a random page per region, made old.
  void prepare(Mechanisms& m) {
    olds_.clear();
    for (Region& r : regions_) {
      r.sampled = r.start + static_cast<Gpa>(rng_.below(r.size()));
      if (m.backed(r.sampled)) olds_.push_back(r.sampled);
    }
    m.ept().clear_ept_bits(olds_, PteBits::kAccessed);
  }

  void merge(Mechanisms&) {
    uint32_t max_acc = 0;
    for (const Region& r : regions_) max_acc = std::max(max_acc, r.nr_accesses);
    uint32_t thres = max_acc / 10;
    for (Region& r : regions_) {
      const uint32_t d = r.nr_accesses > r.last_nr_accesses ? r.nr_accesses - r.last_nr_accesses
                                                            : r.last_nr_accesses - r.nr_accesses;
      r.age = d > thres ? 0 : r.age + 1;
    }
    do {
      merge_pass(thres);
      thres = std::max<uint32_t>(1, thres * 2);
    } while (regions_.size() > max_regions_ && thres / 2 < max_acc);
  }

  void merge_pass(uint32_t thres) {
    std::vector<Region> out;
    out.reserve(regions_.size());
    for (const Region& r : regions_) {
      if (!out.empty()) {
        Region& prev = out.back();
        const uint32_t d = prev.nr_accesses > r.nr_accesses ? prev.nr_accesses - r.nr_accesses
                                                            : r.nr_accesses - prev.nr_accesses;
        if (prev.end == r.start && d <= thres && prev.size() + r.size() <= sz_limit_) {
          const uint64_t a = prev.size(), b = r.size();
          prev.nr_accesses =
              static_cast<uint32_t>((prev.nr_accesses * a + r.nr_accesses * b) / (a + b));
          prev.last_nr_accesses =
              static_cast<uint32_t>((prev.last_nr_accesses * a + r.last_nr_accesses * b) / (a + b));
          prev.age = static_cast<uint32_t>((prev.age * a + r.age * b) / (a + b));
          prev.end = r.end;
          continue;
        }
      }
      out.push_back(r);
    }
    regions_.swap(out);
  }

  void split() {
    const size_t n = regions_.size();
    if (n > max_regions_ / 2) return;
    const uint32_t subs = (n == last_nr_regions_ && n < max_regions_ / 3) ? 3 : 2;
    last_nr_regions_ = n;
    std::vector<Region> out;
    out.reserve(n * subs);
    for (const Region& r0 : regions_) {
      Region r = r0;
      std::vector<Region> tail;
      for (uint32_t i = 0; i + 1 < subs; ++i) {
        const uint64_t sz = r.size();
        if (sz < 2) break;
        const uint64_t sub = (1 + rng_.below(9)) * sz / 10;  // damon_rand(1, 10) tenths
        if (sub == 0 || sub >= sz) continue;
        Region right = r;
        right.start = r.start + static_cast<Gpa>(sub);
        r.end = right.start;
        tail.insert(tail.begin(), right);
      }
      out.push_back(r);
      out.insert(out.end(), tail.begin(), tail.end());
    }
    regions_.swap(out);
  }

  double metric_bp(const Mechanisms& m, bool used) const {
    const double cap = static_cast<double>(m.capacity_pages(Tier::Fast));
    if (cap <= 0) return 0;
    const double u =
        static_cast<double>(std::min(m.used_pages(Tier::Fast), m.capacity_pages(Tier::Fast)));
    return (used ? u : cap - u) * 10000.0 / cap;
  }

  // damos_set_effective_quota with a goal: damon_feed_loop_next_input.
  void reset_quota(const Mechanisms& m, Scheme& s) {
    s.charged = 0;
    if (!goals_) {
      s.esz_pages = s.quota_pages;
      return;
    }
    const double current = metric_bp(m, s.promote);
    const double score = current * 10000.0 / s.goal_bp;
    const double goal = 10000, min_input = 10000;
    const double last = std::max(s.esz_bp, min_input);
    double next;
    if (score >= 2 * goal)
      next = min_input;
    else if (score > goal)
      next = std::max(last - last * (score - goal) / goal, min_input);
    else
      next = last + last * (goal - score) / goal;
    s.esz_bp = next;
    const double bytes = next / 10000.0;
    s.esz_pages = std::min<uint64_t>(s.quota_pages, static_cast<uint64_t>(bytes / kPageSize));
  }

  bool wmark_active(const Mechanisms& m, Watermarks& w) const {
    if (w.metric == "none") return true;
    const double v = metric_bp(m, false) / 10.0;  // free permil
    if (v > w.high || v < w.low) return w.active = false;
    if (!w.active && v > w.mid) return false;
    return w.active = true;
  }

  uint32_t hot_score(const Region& r) const {
    const uint32_t freq = r.nr_accesses * kMaxSubscore / samples_per_aggr_;
    uint64_t age_s = static_cast<uint64_t>(r.age * aggr_ms_ / 1000.0);  // published seconds
    int age_log = 0;
    for (; age_log < static_cast<int>(kMaxAgeInLog) && age_s; ++age_log) age_s >>= 1;
    if (freq == 0) age_log = -age_log;
    age_log += static_cast<int>(kMaxAgeInLog);
    const uint32_t age_sub = static_cast<uint32_t>(age_log) * kMaxSubscore / kMaxAgeInLog / 2;
    uint32_t h = w_freq_ * freq + w_age_ * age_sub;
    if (w_freq_ + w_age_) h /= w_freq_ + w_age_;
    return std::min(kMaxScore, h * kMaxScore / kMaxSubscore);
  }

  bool matches(const Scheme& s, const Region& r) const {
    return s.promote ? r.nr_accesses >= 1 : r.nr_accesses == 0;
  }

  void apply(Mechanisms& m, Scheme& s) {
    if (!wmark_active(m, s.wm)) return;
    if (s.charged >= s.esz_pages) return;
    const Tier from = s.promote ? Tier::Slow : Tier::Fast, to = s.promote ? Tier::Fast : Tier::Slow;
    // damos_adjust_quota: the lowest score whose regions, from the top, still fit.
    std::array<uint64_t, kMaxScore + 1> hist{};
    for (const Region& r : regions_)
      if (matches(s, r)) hist[score(s, r)] += r.size();
    uint32_t min_score = 0;
    uint64_t cum = 0;
    for (int sc = static_cast<int>(kMaxScore); sc >= 0; --sc) {
      cum += hist[sc];
      if (cum >= s.esz_pages) {
        min_score = static_cast<uint32_t>(sc);
        break;
      }
    }
    ++s.applications;
    std::vector<Gpa> gs, young;
    for (const Region& r : regions_) {
      if (!matches(s, r) || score(s, r) < min_score) continue;
      if (s.charged >= s.esz_pages) break;
      for (Gpa g = r.start; g < r.end && s.charged < s.esz_pages; ++g) {
        if (!m.backed(g) || m.tier_of(g) != from) continue;
        ++s.charged;
        ++s.applied_pages;
        if (young_filter_) {
          const bool y = m.ept().ept_bits(g) & PteBits::kAccessed;
          if (y) young.push_back(g);
          if (y != s.promote) continue;
        }
        gs.push_back(g);
      }
    }
    if (!young.empty())
      m.ept().clear_ept_bits(young, PteBits::kAccessed);  // the filter makes them old
    if (!gs.empty())
      s.moved_pages += m.mover().migrate(gs, to, MigrationMethod::Linux, threads_).moved;
  }

  uint32_t score(const Scheme& s, const Region& r) const {
    const uint32_t h = hot_score(r);
    return s.promote ? h : kMaxScore - h;
  }

  double sample_ms_, aggr_ms_, apply_ms_, reset_ms_, region_ns_;
  uint64_t quota_bytes_;
  baselines::TimeScale time_scale_;
  uint32_t min_regions_, max_regions_, w_freq_, w_age_, threads_;
  bool goals_, young_filter_;
  Scheme promote_, demote_;
  Rng rng_;

  double scale_ = 1, reset_ns_ = 0, next_reset_ns_ = 0;
  uint32_t samples_per_aggr_ = 20, aggrs_per_apply_ = 10;
  uint64_t sz_limit_ = 1, samples_ = 0, aggrs_ = 0, aggregations_measured_ = 0;
  size_t last_nr_regions_ = 0;
  uint64_t min_seen_ = UINT64_MAX, max_seen_ = 0;
  std::vector<Region> regions_;
  std::vector<Gpa> olds_;
};

VTMM_REGISTER(vtmm::PolicyRegistry, Damon, "damon",
              "DAMON tiering: adaptive regions on EPT A bits, DAMOS migrate_hot/cold with "
              "goal-tuned quotas (host side)")

}  // namespace
}  // namespace vtmm
