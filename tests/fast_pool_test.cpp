// The fast-memory pool's rules (vtmm/policy/fast_pool.hpp): conservation,
// the reserve, minimums, overcommit, and caps that never over-subscribe the
// fast tier.
#include "vtmm/policy/fast_pool.hpp"

#include <gtest/gtest.h>

#include <numeric>

#include "vtmm/core/error.hpp"
#include "vtmm/core/rng.hpp"

namespace vtmm::policy {
namespace fast_pool_test {

PoolParams params(uint64_t reserve) {
  PoolParams p;
  p.reserve_pages = reserve;
  p.interval_ns = 1e6;
  return p;
}

// Two active VMs of `share` pages each (memory 4x the share) on `fast` pages.
FastPool two_vms(Sharing mode, uint64_t fast, uint64_t reserve, uint64_t share0 = 1000,
                 uint64_t share1 = 1000) {
  FastPool pool(mode, fast, params(reserve));
  pool.add(share0, 4 * share0);
  pool.add(share1, 4 * share1);
  pool.set_active(0, true);
  pool.set_active(1, true);
  return pool;
}

uint64_t held(const FastPool& p) {
  uint64_t s = 0;
  for (const auto& m : p.members()) s += m.allowance;
  return s;
}

void expect_balanced(const FastPool& p) {
  const PoolLedger l = p.ledger();
  EXPECT_EQ(l.kept + l.borrowed + l.free, l.fast);
  EXPECT_EQ(l.kept + l.lent + l.unassigned, l.fast);
  EXPECT_EQ(held(p) + l.free, l.fast);
  for (size_t i = 0; i < p.members().size(); ++i) {
    const PoolMember& m = p.members()[i];
    if (!m.active) {
      EXPECT_EQ(m.allowance, 0u);
      continue;
    }
    EXPECT_GE(m.allowance, p.minimum(i)) << "VM " << i << " below its minimum";
    EXPECT_LE(m.allowance, m.memory);
  }
}

TEST(FastPool, LedgerBalancesUnderRandomDemandInEveryMode) {
  for (Sharing mode : {Sharing::Pool, Sharing::Static, Sharing::Proportional}) {
    for (uint64_t fast : {uint64_t{4000}, uint64_t{2500}}) {  // 2500: shares overcommit the tier
      FastPool pool(mode, fast, params(50));
      const uint64_t shares[] = {1000, 1000, 500, 1500};
      for (uint64_t s : shares) pool.add(s, 4 * s);
      Rng rng(7);
      for (int round = 0; round < 500; ++round) {
        for (size_t i = 0; i < 4; ++i) {
          pool.set_active(i, rng.below(5) != 0);
          const uint64_t d = rng.below(6000);
          pool.set_demand(i, rng.below(8) == 0 ? std::nullopt : std::optional<uint64_t>(d));
        }
        pool.rebalance();
        SCOPED_TRACE(std::string(sharing_name(mode)) + " fast " + std::to_string(fast) + " round " +
                     std::to_string(round));
        expect_balanced(pool);
      }
    }
  }
}

TEST(FastPool, ALenderKeepsItsHotSetPlusTheReserveAndABorrowerGetsTheRest) {
  FastPool pool = two_vms(Sharing::Pool, 2000, 50);
  pool.set_demand(0, 200);   // fits its share
  pool.set_demand(1, 3000);  // does not
  pool.rebalance();
  EXPECT_EQ(pool.allowance(0), 250u);   // hot set + reserve
  EXPECT_EQ(pool.allowance(1), 1750u);  // its share + what VM 0 returned
  const PoolLedger l = pool.ledger();
  EXPECT_EQ(l.lent, 750u);
  EXPECT_EQ(l.borrowed, 750u);
  EXPECT_EQ(l.free, 0u);
}

TEST(FastPool, SpareMemoryStaysInThePoolWhenNobodyNeedsIt) {
  FastPool pool = two_vms(Sharing::Pool, 2000, 50);
  pool.set_demand(0, 100);
  pool.set_demand(1, 300);
  pool.rebalance();
  EXPECT_EQ(pool.allowance(0), 150u);
  EXPECT_EQ(pool.allowance(1), 350u);
  EXPECT_EQ(pool.ledger().free, 1500u);
}

TEST(FastPool, AVmWithoutADemandSignalKeepsItsShare) {
  FastPool pool = two_vms(Sharing::Pool, 2000, 50);
  pool.set_demand(1, 4000);
  pool.rebalance();
  EXPECT_EQ(pool.allowance(0), 1000u);
  EXPECT_EQ(pool.allowance(1), 1000u);
}

TEST(FastPool, NoVmGoesBelowItsMinimumEvenWithNoHotPages) {
  FastPool pool = two_vms(Sharing::Pool, 2000, 50, 1000, 30);  // VM 1's share is below the reserve
  pool.set_demand(0, 0);
  pool.set_demand(1, 0);
  pool.rebalance();
  EXPECT_EQ(pool.minimum(0), 50u);
  EXPECT_EQ(pool.allowance(0), 50u);
  EXPECT_EQ(pool.minimum(1), 30u);
  EXPECT_EQ(pool.allowance(1), 50u);  // asks for its reserve; borrows the 20 it lacks
}

TEST(FastPool, StaticPartitioningIgnoresDemand) {
  FastPool pool = two_vms(Sharing::Static, 2000, 50);
  pool.set_demand(0, 10);
  pool.set_demand(1, 3000);
  pool.rebalance();
  EXPECT_EQ(pool.allowance(0), 1000u);
  EXPECT_EQ(pool.allowance(1), 1000u);
}

TEST(FastPool, ProportionalSplitsTheWholeTierByWhatEachAsks) {
  FastPool pool = two_vms(Sharing::Proportional, 2000, 0);
  pool.set_demand(0, 500);
  pool.set_demand(1, 1500);
  pool.rebalance();
  EXPECT_EQ(pool.allowance(0), 500u);
  EXPECT_EQ(pool.allowance(1), 1500u);
}

TEST(FastPool, OvercommittedSharesAreScaledDownAndThePoolArbitrates) {
  FastPool pool(Sharing::Pool, 1000, params(0));
  pool.add(1000, 4000);
  pool.add(1000, 4000);
  EXPECT_TRUE(pool.overcommitted());
  EXPECT_EQ(pool.guaranteed(0), 500u);
  pool.set_active(0, true);
  pool.set_active(1, true);
  pool.set_demand(0, 100);
  pool.set_demand(1, 2000);
  pool.rebalance();
  EXPECT_EQ(pool.allowance(0), 100u);
  EXPECT_EQ(pool.allowance(1), 900u);
  EXPECT_EQ(held(pool), 1000u);
}

TEST(FastPool, AVmThatStartsReclaimsItsShareFromBorrowers) {
  FastPool pool(Sharing::Pool, 2000, params(0));
  pool.add(1000, 4000);
  pool.add(1000, 4000);
  pool.set_active(0, true);
  pool.set_demand(0, 3000);
  pool.rebalance();
  EXPECT_EQ(pool.allowance(0), 2000u);  // VM 1 not started: its share is lent
  pool.set_active(1, true);
  pool.rebalance();  // no demand signal yet: it gets its share back
  EXPECT_EQ(pool.allowance(0), 1000u);
  EXPECT_EQ(pool.allowance(1), 1000u);
}

TEST(FastPool, CapsNeverOversubscribeTheFastTierWhileLendersStillHoldPages) {
  FastPool pool = two_vms(Sharing::Pool, 2000, 0);
  pool.set_demand(0, 100);
  pool.set_demand(1, 3000);
  pool.rebalance();  // allowances 100 and 1900
  // VM 0 still uses 1000 fast pages (it has not demoted yet), VM 1 uses 1000.
  std::vector<uint64_t> caps = pool.caps({1000, 1000});
  EXPECT_EQ(caps[0], 100u);   // it must demote down to its allowance
  EXPECT_EQ(caps[1], 1000u);  // nothing is free on the host yet
  // Half of VM 0's pages are back: VM 1 may grow into them.
  caps = pool.caps({500, 1000});
  EXPECT_EQ(caps[1], 1500u);
  caps = pool.caps({100, 1000});
  EXPECT_EQ(caps[1], 1900u);
}

TEST(FastPool, RejectsMoreVmsThanItServes) {
  PoolParams p = params(0);
  p.max_vms = 2;
  FastPool pool(Sharing::Pool, 100, p);
  pool.add(10, 100);
  pool.add(10, 100);
  EXPECT_THROW(pool.add(10, 100), SpecError);
}

TEST(FastPool, ParamsScaleTheReserveAndIntervalAndRejectUnknownKeys) {
  Json resolved;
  const PoolParams p = read_pool_params(Json{{"reserve_bytes", "64MiB"}}, 0.5, &resolved);
  EXPECT_EQ(p.reserve_pages, (32u << 20) / 4096);
  EXPECT_DOUBLE_EQ(p.interval_ns, 600e6 * 0.5);
  EXPECT_EQ(resolved.at("max_vms"), 8);
  EXPECT_THROW(read_pool_params(Json{{"reserv_bytes", "1MiB"}}, 1.0, nullptr), SpecError);
  EXPECT_THROW(read_pool_params(Json{{"interval_ms", 0}}, 1.0, nullptr), SpecError);
}

}  // namespace fast_pool_test
}  // namespace vtmm::policy
