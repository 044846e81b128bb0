// BatchPrefetch hands the run loop exactly the batches the workload makes,
// in order, with its exceptions where they happened; runs give the same
// records for any number of threads.
#include "vtmm/sim/batch_prefetch.hpp"

#include <gtest/gtest.h>

#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "vtmm/core/run_spec.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm::test {
namespace {

using sim::BatchPrefetch;

// Batches of 1 to 256 accesses at addresses that follow from the batch
// number; the phase is set only where it changes (a field the workload
// leaves alone must keep its last value); throws at batch `throw_at`.
class Counting final : public Workload {
 public:
  explicit Counting(uint32_t batches, uint32_t throw_at = UINT32_MAX)
      : batches_(batches), throw_at_(throw_at) {}
  uint64_t footprint_bytes() const override { return kHugeSize; }
  bool next(uint32_t, Batch& b) override {
    if (made_ == throw_at_) throw std::runtime_error("batch " + std::to_string(made_));
    if (made_ == 0) b.phase = Phase::Warmup;
    if (made_ == batches_ / 2) b.phase = Phase::Measured;
    b.epoch = made_ / 10;
    for (uint32_t i = 0; i <= made_ % Batch::kCap; ++i)
      b.push(VaLayout::kBase + (made_ * 7 + i) % 512 * kPageSize, i % 3 ? kRead : kWrite);
    return ++made_ < batches_;
  }
  uint64_t ops() const override { return made_; }
  void verify() const override {}

 private:
  uint32_t batches_, throw_at_, made_ = 0;
};

struct Seen {
  uint32_t n;
  Phase phase;
  uint32_t epoch;
  uint64_t first_va;
  bool more;
  bool operator==(const Seen&) const = default;
};

std::vector<Seen> drain(const std::function<bool(Batch&)>& next) {
  std::vector<Seen> out;
  Batch b;
  for (bool more = true; more;) {
    b.n = 0;
    more = next(b);
    out.push_back(Seen{b.n, b.phase, b.epoch, b.n > 0 ? b.va[0] : 0, more});
  }
  return out;
}

TEST(BatchPrefetch, HandsOutTheWorkloadsBatchesInOrder) {
  Counting direct(1000), ahead(1000);
  const std::vector<Seen> want = drain([&](Batch& b) { return direct.next(0, b); });
  BatchPrefetch pf(1);
  const size_t lane = pf.add(&ahead, 0);
  pf.start();
  EXPECT_EQ(drain([&](Batch& b) { return pf.next(lane, b); }), want);
}

TEST(BatchPrefetch, LanesOnFewerHelpersEachKeepTheirOrder) {
  std::vector<Counting> direct{Counting(300), Counting(500), Counting(70)};
  std::vector<Counting> ahead{Counting(300), Counting(500), Counting(70)};
  BatchPrefetch pf(2);
  for (auto& w : ahead) pf.add(&w, 0);
  pf.start();
  std::vector<std::vector<Seen>> got(3), want(3);
  for (size_t k = 0; k < 3; ++k) want[k] = drain([&](Batch& b) { return direct[k].next(0, b); });
  // Interleave the lanes unevenly, as the loop's clocks would.
  std::vector<bool> more(3, true);
  Batch b;
  for (size_t step = 0; more[0] || more[1] || more[2]; ++step)
    for (size_t k = 0; k < 3; ++k) {
      if (!more[k] || (k == 1 && step % 3 != 0)) continue;
      b.n = 0;
      more[k] = pf.next(k, b);
      got[k].push_back(Seen{b.n, b.phase, b.epoch, b.n > 0 ? b.va[0] : 0, more[k]});
    }
  EXPECT_EQ(got, want);
}

TEST(BatchPrefetch, AWorkloadsExceptionReachesTheLoopAtItsBatch) {
  Counting w(1000, 5);
  BatchPrefetch pf(1);
  const size_t lane = pf.add(&w, 0);
  pf.start();
  Batch b;
  for (int i = 0; i < 5; ++i) {
    b.n = 0;
    ASSERT_TRUE(pf.next(lane, b)) << i;
  }
  b.n = 0;
  EXPECT_THROW(pf.next(lane, b), std::runtime_error);
}

TEST(BatchPrefetch, StopsMidStreamWhileItsHelperWaitsOnFullRings) {
  Counting w(1'000'000);
  {
    BatchPrefetch pf(1);
    const size_t lane = pf.add(&w, 0);
    pf.start();
    Batch b;
    b.n = 0;
    ASSERT_TRUE(pf.next(lane, b));
  }  // the helper sleeps on a full ring: the destructor must wake and join it
  EXPECT_LT(w.ops(), 1'000'000u);
}

// A single-VM run and a pool of 1-vCPU VMs beside a 2-vCPU one: the same
// record for 1, 2 and 3 threads.
TEST(RunThreads, RecordsAreTheSameBytesForAnyThreadCount) {
  const Json single = {{"workload", {{"impl", "pagerank"}, {"scale", 14}, {"iterations", 3}}},
                       {"policy", {{"impl", "vtmm"}}},
                       {"ratio", "1:4"}};
  const Json gups = {{"impl", "gups"}, {"footprint", "32MiB"}, {"updates", 400000}};
  const Json pool = {
      {"vms",
       {{{"name", "a"}, {"workload", gups}},
        {{"name", "b"},
         {"workload", {{"impl", "random-read"}, {"footprint", "16MiB"}, {"accesses", 300000}}}},
        {{"name", "c"}, {"workload", gups}, {"vcpus", 2}}}},
      {"policy", {{"impl", "vtmm"}}},
      {"ratio", "1:4"}};
  for (const Json& j : {single, pool}) {
    RunSpec spec = RunSpec::from_json(j, "test");
    const std::string one = sim::simulate(spec).dump();
    for (uint32_t threads : {2u, 3u}) {
      spec.exec.threads = threads;
      EXPECT_EQ(sim::simulate(spec).dump(), one) << threads << " threads";
    }
  }
}

}  // namespace
}  // namespace vtmm::test
