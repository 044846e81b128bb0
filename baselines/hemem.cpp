// hemem: HeMem (Raybuck et al., "HeMem: Scalable Tiered Memory Management for
// Big Data Applications and Real NVM", SOSP'21), its PEBS policy.
//
// Rule and defaults, from the paper §3-4 and the artifact (github
// cuhk-mass/hemem, src/pebs.h and src/pebs.c: pebs_scan_thread,
// pebs_policy_thread, partial_cool_peek_and_move):
//  - PEBS samples LLC load misses (split by the tier that served them) and
//    stores, one every SAMPLE_PERIOD = 19997 events (pebs.h; 10007 is the
//    commented-out alternative). Counts are kept per 2 MiB page: HeMem maps
//    application memory with 2 MiB pages (PAGE_SIZE = HUGEPAGE_SIZE), so a
//    region here is 2 MiB of the application's virtual space and moves as
//    one. On the guest side (the library in the application) a region is
//    the data pages of one 2 MiB guest-virtual range, whatever GPAs the
//    guest gave them (Mechanisms::page_use; several vCPUs' first touches
//    interleave GPAs, so aligned GPA groups would mix ranges); page tables
//    and pages of unknown use are grouped by 512 aligned GPAs. The host side
//    sees only GPAs: a region is 512 aligned GPAs.
//  - A region is hot at >= 4 sampled reads or >= 4 sampled writes
//    (HOT_READ_THRESHOLD, HOT_WRITE_THRESHOLD).
//  - Cooling: when one region's count reaches 10 (PEBS_COOLING_THRESHOLD) a
//    global clock advances and every count is halved lazily (shifted right by
//    the clock difference when next touched). The paper says "reaches";
//    the artifact tests `> 10`: we follow the paper (>=). A sample asks for
//    hot or cold on the region's counts before they catch up with the clock
//    (pebs_scan_thread checks, then shifts).
//  - The policy thread wakes every 10 ms (PEBS_KSWAPD_INTERVAL) and moves hot
//    slow regions to fast memory in the order they became hot (FIFO lists),
//    using free fast memory or else demoting the cold fast region that has
//    been cold longest; it stops when fast memory holds only hot regions.
//    Up to 10 GB per wake-up (PEBS_KSWAPD_MIGRATE_RATE). Then it cools the
//    hot lists (partial_cool_peek_and_move), unless it stopped for want of a
//    cold fast region: that path jumps past the cooling (`goto out`).
//  - Allocation: fast memory first, slow when it is full (pebs_allocate_page).
//  - Migration write-protects the page during the copy (hemem_wp_page via
//    userfaultfd): MigrationMethod::WriteProtect, with MAX_COPY_THREADS = 4.
//
// Side: guest (default). HeMem is a user-space library inside the
// application, so in a VM it runs in the guest: it sees the guest's NUMA
// nodes, its PEBS samples come from vPEBS, its threads steal guest vCPU time
// and its migrations copy to a GPA on the other node. `side: "host"` runs the
// same rule in the hypervisor (transparent, EPT re-pointing) for comparison.
//
// Scaling (our decision, as vtmm.cpp does): quick runs have far fewer LLC
// misses per 2 MiB region than the paper's runs, so the sample periods are
// multiplied by time_scale (default guest memory / 16 GiB, reference_vm_bytes):
// each region then receives about as many samples per second as in a 16 GiB
// VM. The 10 ms wake-up already fits 0.1-1 s runs and is not scaled.
//
// Simplified: samples are drained at each 10 ms wake-up rather than by a
// dedicated scan thread spinning on the perf ring; cooling re-checks every
// region when it runs (HeMem walks at most COOLING_PAGES = 8192 per
// wake-up); I/OAT DMA copies are not modelled (CPU copy threads).
#include <algorithm>
#include <array>
#include <cmath>

#include "baselines/pebs_sampling.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/time_scale.hpp"

namespace vtmm {
namespace {

enum SampleKind : uint8_t { kFastRead = 0, kSlowRead = 1, kStore = 2 };

struct PebsRegion {
  std::array<uint32_t, 3> count{};  // sampled accesses, halved at each cooling
  uint64_t local_clock = 0;         // the global clock when count was last cooled
  uint64_t seq = 0;                 // when it joined its current (hot or cold) list
  bool hot = false;
  std::vector<Gpa> pages;  // the GPAs holding its data
};

class HeMem final : public Policy {
 public:
  HeMem(Params& p, const PolicyEnv& env) {
    load_period_ = p.get<uint32_t>("load_sample_period", 19997);
    store_period_ = p.get<uint32_t>("store_sample_period", 19997);
    hot_reads_ = p.get<uint32_t>("hot_read_threshold", 4);
    hot_writes_ = p.get<uint32_t>("hot_write_threshold", 4);
    cool_at_ = p.get<uint32_t>("cooling_threshold", 10);
    interval_ms_ = p.get<double>("migrate_interval_ms", 10.0);
    rate_bytes_ = p.get_bytes("migrate_rate_bytes", uint64_t{10} << 30);
    threads_ = p.get<uint32_t>("copy_threads", 4);
    region_pages_ = p.get<uint32_t>("region_pages", kPagesPerHuge);
    time_scale_.read(p, env);
    // Assumed: one hash lookup and counter update per sample (HeMem's scan
    // thread), a list move per region visited.
    sample_ns_ = p.get<double>("sample_ns", 50.0);
    region_ns_ = p.get<double>("region_ns", 10.0);
    side_ = baselines::read_sampling_side(p);
    if (load_period_ == 0 && store_period_ == 0)
      p.fail("load_sample_period", "one sample period must be non-zero");
    if (hot_reads_ == 0 || hot_writes_ == 0)
      p.fail("hot_read_threshold", "hot thresholds must be >= 1");
    if (cool_at_ < 2) p.fail("cooling_threshold", "must be >= 2");
    if (!(interval_ms_ > 0)) p.fail("migrate_interval_ms", "must be positive");
    if (threads_ == 0) p.fail("copy_threads", "must be >= 1");
    if (region_pages_ == 0) p.fail("region_pages", "must be >= 1");
  }

  std::vector<Mechanism> needs() const override {
    std::vector<Mechanism> n = baselines::sampling_needs(side_);
    n.push_back(Mechanism::WriteProtect);  // its migrations (PM_WP)
    return n;
  }
  Side side() const override { return side_; }

  void attach(Mechanisms& m) override {
    const uint32_t pages = m.guest_pages();
    scale_ = time_scale_.resolve(pages);
    eff_load_ = scaled(load_period_);
    eff_store_ = scaled(store_period_);
    m.sampler().set_sampling(eff_load_, eff_store_);
    region_of_.assign(pages, kNone);
    const uint32_t groups = (pages + region_pages_ - 1) / region_pages_;
    va_regions_ = side_ == Side::Guest ? groups : 0;
    regions_.assign(va_regions_ + groups, PebsRegion{});
    for (PebsRegion& x : regions_) x.seq = seq_++;
    if (side_ == Side::Host)  // every GPA in its aligned group from the start
      for (Gpa g = 0; g < pages; ++g) adopt(g, g / region_pages_);
  }

  Tier place(Gpa, const Mechanisms& m) override {
    return m.used_pages(Tier::Fast) < m.capacity_pages(Tier::Fast) ? Tier::Fast : Tier::Slow;
  }

  double period_ns() const override { return interval_ms_ * 1e6; }

  // One wake-up of the policy thread, in the artifact's order
  // (pebs_policy_thread): the samples' hot and cold requests, the migration
  // loop over the lists as they stand, then cooling of the hot lists. When
  // the loop stops because fast memory holds only hot regions it skips that
  // cooling (`goto out`), so a fast region turns cold only through its own
  // samples until a slow hot region can move.
  void tick(Mechanisms& m) override {
    if (side_ == Side::Guest) claim_new_pages(m);
    ingest(m);
    m.charge_ns(static_cast<double>(regions_.size()) * region_ns_);
    if (migrate_hot(m)) cool_all();
  }

  void on_measure_start() override {
    samples_ = coolings_ = 0;
    promoted_ = demoted_ = Moves{};
  }

  void report(Json& out) const override {
    uint64_t hot = 0;
    for (const PebsRegion& x : regions_) hot += x.hot;
    out["side"] = side_name(side_);
    out["time_scale"] = scale_;
    out["time_scale_rule"] = time_scale_.rule();
    out["load_sample_period_effective"] = eff_load_;
    out["store_sample_period_effective"] = eff_store_;
    out["samples"] = samples_;
    out["coolings"] = coolings_;
    out["hot_regions_last"] = hot;
    out["promoted_regions"] = promoted_.regions;
    out["promoted_pages"] = promoted_.pages;
    out["demoted_regions"] = demoted_.regions;
    out["demoted_pages"] = demoted_.pages;
  }

 private:
  struct Moves {
    uint64_t regions = 0, pages = 0;
  };

  uint32_t scaled(uint32_t period) const {
    if (period == 0) return 0;
    return static_cast<uint32_t>(std::max(1.0, std::round(period * scale_)));
  }

  void ingest(Mechanisms& m) {
    baselines::drain_samples(m, buf_, sample_ns_);
    for (const AccessSample& s : buf_) {
      if (s.gpa >= region_of_.size()) continue;
      // A page backed since the last tick, or a GPA a guest-side migration
      // freed and the guest handed out again.
      if (region_of_[s.gpa] == kNone) adopt(s.gpa, region_key(m, s.gpa));
      // The artifact's order (pebs_scan_thread): count, ask for hot or cold
      // on the counts as they were, then catch up with the cooling.
      PebsRegion& x = regions_[region_of_[s.gpa]];
      const SampleKind k = s.write ? kStore : (s.slow ? kSlowRead : kFastRead);
      ++x.count[k];
      ++samples_;
      set_hot(x, is_hot(x));
      cool(x);
      if (x.count[k] >= cool_at_) {
        ++clock_;
        ++coolings_;
        cool(x);
      }
    }
  }

  void cool(PebsRegion& x) const {
    const uint64_t d = clock_ - x.local_clock;
    for (uint32_t& c : x.count) c = d >= 32 ? 0 : c >> d;
    x.local_clock = clock_;
  }
  bool is_hot(const PebsRegion& x) const {
    return x.count[kStore] >= hot_writes_ || x.count[kFastRead] + x.count[kSlowRead] >= hot_reads_;
  }
  void set_hot(PebsRegion& x, bool hot) {
    if (x.hot == hot) return;
    x.hot = hot;
    x.seq = seq_++;
  }

  // 0 fast, 1 slow, 2 nothing backed: a region's tier is its backed pages' (they move together).
  static int tier(const Mechanisms& m, const PebsRegion& x) {
    for (Gpa g : x.pages)
      if (m.backed(g)) return static_cast<int>(m.tier_of(g));
    return 2;
  }
  static uint64_t backed_count(const Mechanisms& m, const PebsRegion& x) {
    uint64_t n = 0;
    for (Gpa g : x.pages) n += m.backed(g);
    return n;
  }
  static uint64_t free_fast(const Mechanisms& m) {
    const uint64_t cap = m.capacity_pages(Tier::Fast), used = m.used_pages(Tier::Fast);
    return cap > used ? cap - used : 0;
  }

  // The region a page belongs to (see the header: by guest-virtual 2 MiB on
  // the guest side, by aligned GPAs otherwise).
  uint32_t region_key(const Mechanisms& m, Gpa g) const {
    if (side_ == Side::Guest) {
      const PageUse u = m.page_use(g);
      if (u.kind == PageUse::Data && u.index / region_pages_ < va_regions_)
        return static_cast<uint32_t>(u.index / region_pages_);
    }
    return va_regions_ + g / region_pages_;
  }
  // The guest-side library knows the pages it maps as the application
  // touches them; a page joins its region once backed.
  void claim_new_pages(const Mechanisms& m) {
    for (Gpa g = 0; g < region_of_.size(); ++g)
      if (region_of_[g] == kNone && m.backed(g) && m.page_use(g).kind != PageUse::Free)
        adopt(g, region_key(m, g));
  }

  void adopt(Gpa g, uint32_t r) {
    const uint32_t prev = region_of_[g];
    if (prev == r) return;
    if (prev != kNone) std::erase(regions_[prev].pages, g);
    regions_[r].pages.push_back(g);
    region_of_[g] = r;
  }

  // Moves hot slow regions up in the order they became hot, into free fast
  // memory or in place of the longest-cold fast region, up to rate_bytes_.
  // False when it stopped because fast memory holds only hot regions.
  bool migrate_hot(Mechanisms& m) {
    std::vector<uint32_t> slow_hot, fast_cold;
    for (uint32_t r = 0; r < regions_.size(); ++r) {
      const PebsRegion& x = regions_[r];
      const int t = tier(m, x);
      if (t == 1 && x.hot)
        slow_hot.push_back(r);
      else if (t == 0 && !x.hot)
        fast_cold.push_back(r);
    }
    auto by_seq = [&](uint32_t a, uint32_t b) { return regions_[a].seq < regions_[b].seq; };
    std::sort(slow_hot.begin(), slow_hot.end(), by_seq);
    std::sort(fast_cold.begin(), fast_cold.end(), by_seq);
    uint64_t moved_bytes = 0;
    size_t victim = 0;
    for (uint32_t r : slow_hot) {
      if (moved_bytes >= rate_bytes_) break;
      const uint64_t need = backed_count(m, regions_[r]);
      if (need == 0) continue;
      while (free_fast(m) < need && victim < fast_cold.size())
        moved_bytes += move_region(m, fast_cold[victim++], Tier::Slow, demoted_);
      if (free_fast(m) < need) return false;
      moved_bytes += move_region(m, r, Tier::Fast, promoted_);
    }
    return true;
  }

  // Cooling catches up lazily; a region whose cooled counts fall below the
  // thresholds leaves its hot list.
  void cool_all() {
    for (PebsRegion& x : regions_) {
      cool(x);
      set_hot(x, is_hot(x));
    }
  }

  uint64_t move_region(Mechanisms& m, uint32_t r, Tier to, Moves& tally) {
    PebsRegion& x = regions_[r];
    std::vector<Gpa> gs;
    for (Gpa g : x.pages)
      if (m.backed(g)) gs.push_back(g);
    const MigrationResult res = m.mover().migrate(gs, to, MigrationMethod::WriteProtect, threads_);
    for (const auto& [from, dest] : res.remapped) {
      region_of_[from] = kNone;
      std::erase(x.pages, from);
      adopt(dest, r);
    }
    ++tally.regions;
    tally.pages += res.moved;
    // Moved regions join the tail of their new list (HeMem's enqueue_fifo).
    x.seq = seq_++;
    return uint64_t{res.moved} * kPageSize;
  }

  uint32_t load_period_, store_period_, hot_reads_, hot_writes_, cool_at_, threads_, region_pages_;
  double interval_ms_, sample_ns_, region_ns_;
  uint64_t rate_bytes_;
  baselines::TimeScale time_scale_;
  Side side_;

  double scale_ = 1;
  uint32_t eff_load_ = 0, eff_store_ = 0;
  std::vector<PebsRegion> regions_;  // guest side: [0, va_regions_) by virtual range, then by GPA
  uint32_t va_regions_ = 0;
  std::vector<uint32_t> region_of_;
  std::vector<AccessSample> buf_;
  uint64_t clock_ = 0, seq_ = 0;
  uint64_t samples_ = 0, coolings_ = 0;
  Moves promoted_, demoted_;
};

VTMM_REGISTER(vtmm::PolicyRegistry, HeMem, "hemem",
              "HeMem: PEBS samples per 2 MiB region, hot at 4, cooling at 10, 10 ms migration "
              "thread (guest side)")

}  // namespace
}  // namespace vtmm
