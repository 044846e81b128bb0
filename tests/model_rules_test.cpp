// Regression and metamorphic checks of the model's rules (docs/simulator.md,
// "Audit"): the dirty state a TLB keeps after an assist, bytes moved against
// a tier's bandwidth, the oracle's profile under several vCPUs, and traps of
// the per-page migration methods while the vCPUs keep running.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "tests/baseline_run_support.hpp"
#include "tests/sim_test_support.hpp"

namespace vtmm::test {
namespace model_rules_test {

// --- TLB dirty state -------------------------------------------------------

// Skylake's L1 DTLB: 16 sets of 4 ways; the STLB: 128 sets of 12 ways. Four
// pages 16 apart evict a page from its L1 set but not from the STLB.
void evict_from_l1_only(SimRig& rig, uint64_t vpn) {
  for (uint64_t k = 1; k <= 4; ++k) rig.access(0, vpn + 16 * k, kRead);
}

TEST(TlbDirtyState, AssistMakesTheSecondLevelEntryDirtyToo) {
  SimRig rig(vm_config(512));
  rig.access(0, 3, kRead);   // L1 and STLB filled clean
  rig.access(0, 3, kWrite);  // the assist
  ASSERT_EQ(rig.vm.counters().dirty_assists, 1u);
  evict_from_l1_only(rig, 3);
  const uint64_t walks = rig.vm.counters().tlb_misses;
  rig.access(0, 3, kWrite);  // refilled from the STLB
  EXPECT_EQ(rig.vm.counters().tlb_misses, walks) << "served by the STLB, no walk";
  EXPECT_EQ(rig.vm.counters().dirty_assists, 1u) << "the STLB's copy is dirty: no second assist";
}

// Metamorphic: a static design's assists grow with flushes by at most the
// pages written after each flush (each needs one assist per fill for a read
// first and a write after), not by every L1 refill from a clean STLB entry.
TEST(TlbDirtyState, AssistsGrowWithFlushesOnlyByThePagesWrittenAfterThem) {
  constexpr uint64_t kPages = 48, kRounds = 20;
  for (const uint32_t flush_every : {0u, 1u, 4u}) {
    SimRig rig(vm_config(512));
    uint64_t flushes = 0;
    for (uint64_t round = 0; round < kRounds; ++round) {
      if (flush_every != 0 && round % flush_every == 0) {
        rig.mech.flush_tlbs();
        ++flushes;
      }
      // Read everything, then write everything: 48 pages cycle through the
      // 64-entry L1 (4-way sets overflow), so writes refill from the STLB.
      for (uint64_t p = 0; p < kPages; ++p) rig.access(0, p * 5, kRead);
      for (uint64_t p = 0; p < kPages; ++p) rig.access(0, p * 5, kWrite);
    }
    EXPECT_LE(rig.vm.counters().dirty_assists, (flushes + 1) * kPages)
        << "flush every " << flush_every << " rounds";
  }
}

// --- Bytes moved never exceed bandwidth x time ------------------------------

Json random_write_slow_only(double write_gbps, uint32_t vcpus) {
  return Json{{"workload",
               {{"impl", "random-write"},
                {"footprint", "64MiB"},
                {"accesses", 300000},
                {"warmup_accesses", 50000}}},
              {"policy", "slow-only"},
              {"vm", {{"vcpus", vcpus}}},
              {"host_overrides", {{"slow.write_bw_gbps", write_gbps}, {"llc_bytes", "2MiB"}}},
              {"seed", 1}};
}

TEST(TierBandwidth, BytesWrittenNeverExceedWriteBandwidthTimesTime) {
  for (const uint32_t vcpus : {1u, 4u}) {
    for (const double w : {1.0, 4.0, 13.0}) {
      const Json r = run_record(random_write_slow_only(w, vcpus));
      const Json& c = r.at("counters");
      const double t_ns = r.at("sim_time_s").get<double>() * 1e9;
      const double unit =
          r.at("config").at("host_constants").at("slow.access_unit_bytes").get<double>();
      const double queue =
          r.at("config").at("host_constants").at("slow.write_queue_bytes").get<double>();
      const double read_bw =
          r.at("config").at("host_constants").at("slow.read_bw_gbps").get<double>();
      const double written = c.at("slow_writebacks").get<double>() * unit;
      const double read = c.at("slow_misses").get<double>() * unit;
      // Write-backs alone, and reads and writes on the shared budget
      // (bytes/ns == GB/s); the write queue may hold its bytes beyond the end.
      EXPECT_LE(written, w * t_ns + queue) << vcpus << " vCPUs, write_bw " << w;
      EXPECT_LE(read / read_bw + written / w, t_ns * 1.001 + queue / w)
          << vcpus << " vCPUs, write_bw " << w;
    }
  }
}

TEST(TierBandwidth, SlowerWritesMakeAWriteBoundRunSlower) {
  const double t1 = run_time(random_write_slow_only(1.0, 1));
  const double t13 = run_time(random_write_slow_only(13.0, 1));
  EXPECT_GT(t1, 2 * t13);
}

// --- Where the hot set ends --------------------------------------------------

// hot_on_fast_at_end: of the most-missed pages, as many as fast memory holds,
// the share on fast at the end. The oracle places them all; first touch,
// with the hot set touched last, leaves most of them slow; a VM without a
// fast allowance has no such share.
TEST(EndPlacement, OraclePlacesTheHotSetFirstTouchDoesNot) {
  auto gups = [](const std::string& policy) {
    return Json{
        {"workload",
         {{"impl", "gups"}, {"footprint", "64MiB"}, {"hot_offset", "end"}, {"updates", 2000000}}},
        {"policy", policy},
        {"ratio", "1:4"},
        {"seed", 2}};
  };
  EXPECT_EQ(run_record(gups("oracle")).at("hot_on_fast_at_end").get<double>(), 1.0);
  EXPECT_EQ(run_record(gups("dram-only")).at("hot_on_fast_at_end").get<double>(), 1.0);
  EXPECT_LT(run_record(gups("first-touch")).at("hot_on_fast_at_end").get<double>(), 0.5);
  EXPECT_TRUE(run_record(gups("slow-only")).at("hot_on_fast_at_end").is_null());
}

// --- The oracle is a bound with several vCPUs --------------------------------

Json gups_at(const std::string& policy, uint32_t vcpus) {
  return Json{
      {"workload",
       {{"impl", "gups"}, {"footprint", "32MiB"}, {"updates", 400000}, {"warmup_updates", 100000}}},
      {"policy", policy},
      {"ratio", "1:4"},
      {"vm", {{"vcpus", vcpus}}},
      {"host_overrides", {{"llc_bytes", "2MiB"}}},
      {"seed", 5}};
}

TEST(Oracle, IsAtLeastAsFastAsFirstTouchWithSeveralVcpus) {
  double one_vcpu_hits = 0;
  for (const uint32_t vcpus : {1u, 2u, 4u}) {
    const Json oracle = run_record(gups_at("oracle", vcpus));
    const Json first = run_record(gups_at("first-touch", vcpus));
    const double hits = oracle.at("fast_hit_ratio").get<double>();
    EXPECT_LE(oracle.at("sim_time_s").get<double>(), first.at("sim_time_s").get<double>())
        << vcpus << " vCPUs";
    EXPECT_GE(hits, first.at("fast_hit_ratio").get<double>()) << vcpus;
    // The same data is hot whatever the vCPU count: a profile that lands on
    // the right pages keeps the hit ratio (keyed by GPA it fell from 0.76 at
    // one vCPU to 0.48 at four).
    if (vcpus == 1) one_vcpu_hits = hits;
    EXPECT_GE(hits, 0.97 * one_vcpu_hits) << vcpus << " vCPUs";
  }
}

// --- References do not depend on the split --------------------------------------

TEST(References, DramOnlyAndSlowOnlyIgnoreTheRatio) {
  for (const std::string policy : {"dram-only", "slow-only"}) {
    Json a = gups_at(policy, 2), b = gups_at(policy, 2);
    a["ratio"] = "1:1";
    b["ratio"] = "1:8";
    EXPECT_EQ(run_record(a).at("sim_time_s"), run_record(b).at("sim_time_s")) << policy;
  }
}

TEST(References, SlowerSlowTierNeverMakesSlowOnlyFaster) {
  double last = 0;
  for (const double ns : {150.0, 305.0, 600.0}) {
    Json run = gups_at("slow-only", 1);
    run["host_overrides"]["slow.read_latency_ns"] = ns;
    const double t = run_time(run);
    EXPECT_GT(t, last) << ns;
    last = t;
  }
}

// --- Data starting on the slow tier (vm.initial_tier) -------------------------

TEST(InitialTier, SlowBacksEveryFirstTouchOnSlowAndTheDesignMovesIt) {
  Json first = gups_at("first-touch", 1), vtmm = gups_at("vtmm", 1), dram = gups_at("dram-only", 1);
  for (Json* j : {&first, &vtmm, &dram}) (*j)["vm"]["initial_tier"] = "slow";
  EXPECT_EQ(run_record(first).at("fast_hit_ratio").get<double>(), 0.0)
      << "first-touch never moves a page";
  const Json v = run_record(vtmm);
  EXPECT_GT(v.at("promoted_pages").get<uint64_t>(), 0u);
  EXPECT_GT(v.at("fast_hit_ratio").get<double>(), 0.0);
  EXPECT_EQ(run_time(dram), run_time(gups_at("dram-only", 1)))
      << "a reference sized to one tier ignores it";
}

TEST(InitialTier, GuestDesignsAndUnknownValuesAreRefused) {
  Json hemem = gups_at("hemem", 1), bad = gups_at("vtmm", 1);
  hemem["vm"]["initial_tier"] = "slow";
  bad["vm"]["initial_tier"] = "fast";
  EXPECT_THROW(run_record(hemem), SpecError);
  EXPECT_THROW(run_record(bad), SpecError);
}

// --- Per-page migration windows while the vCPUs run ---------------------------

// Pages 0..kPages-1 backed on the slow tier; copies of 41 us a page on one
// thread, so a vCPU can act inside each window after its shootdown.
struct WindowRig {
  static constexpr uint64_t kPages = 6;
  SimRig rig{vm_config(128, 32), Json{{"llc_bytes", 1 << 20}, {"copy_gbps", 0.1}}};
  WindowRig() {
    rig.policy.tier = Tier::Slow;
    for (uint64_t vpn = 0; vpn < kPages; ++vpn) rig.access(0, vpn, kRead);
    rig.mech.thread().clock_ns = rig.vm.clock_ns(0);
  }
  std::vector<Gpa> pages() const {
    std::vector<Gpa> gs;
    for (uint64_t vpn = 0; vpn < kPages; ++vpn) gs.push_back(rig.gpa(vpn));
    return gs;
  }
  const sim::Vm::Inflight& batch() const { return rig.vm.inflight_batches().front(); }
  size_t index_of(uint64_t vpn) const {
    const auto& ps = batch().pages;
    return static_cast<size_t>(std::lower_bound(ps.begin(), ps.end(), rig.gpa(vpn)) - ps.begin());
  }
  // Runs due events, then puts the vCPU at time t (never backwards).
  void at(double t) {
    while (rig.host.has_event_at_or_before(t)) rig.host.run_next_event();
    rig.vm.set_clock_ns(0, std::max(rig.vm.clock_ns(0), t));
  }
};

TEST(MigrationWindows, WriteProtectTrapsExactlyTheWritesToPagesUnderCopy) {
  WindowRig w;
  w.rig.mech.migrate(w.pages(), Tier::Fast, MigrationMethod::WriteProtect);
  EXPECT_EQ(w.rig.vm.counters().tlb_flushes, 1u) << "one shootdown write-protects the whole batch";
  const double batch_end = w.batch().end.back();
  // For each page, in the order their copies run: a read and a write inside
  // its window (the write traps), and a write to a page whose copy is done.
  uint64_t expected = 0;
  for (uint64_t vpn = 0; vpn < WindowRig::kPages; ++vpn) {
    const size_t i = w.index_of(vpn);
    w.at(w.batch().start[i] + 1);
    ASSERT_LT(w.rig.vm.clock_ns(0), w.batch().end[i]);
    w.rig.access(0, vpn, kRead);
    EXPECT_EQ(w.rig.vm.counters().migration_traps, expected)
        << "a read of a write-protected page goes on";
    w.rig.access(0, vpn, kWrite);
    ++expected;
    EXPECT_EQ(w.rig.vm.counters().migration_traps, expected) << "the write waits for the copy";
    EXPECT_GE(w.rig.vm.clock_ns(0), w.batch().end[i]);
    EXPECT_EQ(w.rig.mech.tier_of(w.rig.gpa(vpn)), Tier::Fast) << "re-pointed when its copy ended";
    w.rig.access(0, vpn, kWrite);
    EXPECT_EQ(w.rig.vm.counters().migration_traps, expected) << "copied: no more traps";
  }
  w.at(batch_end);
  EXPECT_EQ(w.rig.vm.counters().tlb_flushes, 2u)
      << "and one at its end, before the old frames are freed";
}

TEST(MigrationWindows, ShootdownsReachTheVcpusWhenEachWindowOpens) {
  WindowRig w;
  const double before = w.rig.vm.clock_ns(0);
  w.rig.mech.migrate(w.pages(), Tier::Fast, MigrationMethod::Linux);
  EXPECT_EQ(w.rig.vm.clock_ns(0), before) << "issuing the batch charges the vCPU nothing yet";
  EXPECT_EQ(w.rig.vm.counters().tlb_flushes, 0u);
  w.at(w.batch().start.back());
  EXPECT_EQ(w.rig.vm.counters().tlb_flushes, WindowRig::kPages);
}

TEST(MigrationWindows, LinuxMethodPageIsMappedAsBeforeUntilItsWindowOpens) {
  WindowRig w;
  w.rig.mech.migrate(w.pages(), Tier::Fast, MigrationMethod::Linux);
  const size_t last = w.index_of(WindowRig::kPages - 1);
  ASSERT_GT(last, 0u);
  const uint64_t vpn = WindowRig::kPages - 1;
  w.rig.access(0, vpn, kWrite);  // before its window: the old mapping serves
  EXPECT_EQ(w.rig.vm.counters().migration_traps, 0u);
  EXPECT_EQ(w.rig.mech.tier_of(w.rig.gpa(vpn)), Tier::Slow);
  w.at(w.batch().start[last] + 1);
  w.rig.access(0, vpn, kRead);
  EXPECT_EQ(w.rig.vm.counters().migration_traps, 1u)
      << "unmapped and being copied: even a read traps";
  EXPECT_EQ(w.rig.mech.tier_of(w.rig.gpa(vpn)), Tier::Fast);
}

}  // namespace model_rules_test
}  // namespace vtmm::test
