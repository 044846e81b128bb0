// Barriers of a parallel program (SteppedWorkload::sync, Batch::epoch): no
// vCPU runs accesses pushed after a barrier until every vCPU has run those
// pushed before it. A program with one long piece of work and many short
// ones after a barrier takes longer with the barrier than without (the
// other vCPUs cannot start the short ones early), and its work is split
// across the vCPUs either way.
#include <gtest/gtest.h>

#include <memory>

#include "vtmm/core/policy.hpp"
#include "vtmm/sim/host_profile.hpp"
#include "vtmm/sim/run_loop.hpp"
#include "vtmm/sim/vm_setup.hpp"
#include "workloads/access_queue.hpp"

namespace vtmm::test {
namespace workload_barrier_test {

// Step 0 (whoever asks first): `long_lines` reads; then, after a barrier if
// `barrier`, 64 steps of `short_lines` reads each, dealt as the vCPUs ask.
class LongThenShort final : public workloads::SteppedWorkload {
 public:
  LongThenShort(uint32_t vcpus, bool barrier) : SteppedWorkload(vcpus), barrier_(barrier) {}
  uint64_t footprint_bytes() const override { return kBytes; }
  uint64_t ops() const override { return steps_; }
  void verify() const override {}
  uint64_t steps_ = 0;

 protected:
  void build() override {}
  bool step(uint32_t, workloads::AccessQueue& q) override {
    if (steps_ > 64) return false;
    q.mode(Phase::Measured, 1, 1.0f);
    const uint64_t lines = steps_ == 0 ? 20000 : 300;
    for (uint64_t i = 0; i < lines; ++i)
      q.push(VaLayout::kBase + ((next_line_++ * 64) % kBytes), kRead);
    if (steps_ == 0 && barrier_) sync(q);
    ++steps_;
    return true;
  }

 private:
  static constexpr uint64_t kBytes = 64ull << 20;
  bool barrier_;
  uint64_t next_line_ = 0;
};

class AllFast final : public Policy {
 public:
  Tier place(Gpa, const Mechanisms&) override { return Tier::Fast; }
};

struct Result {
  double sim_ns;
  uint64_t accesses;
  double barrier_wait_ns;  // vCPU time idle behind the slowest (counters.barrier_wait_s)
};

Result run(uint32_t vcpus, bool barrier) {
  LongThenShort wl(vcpus, barrier);
  AllFast pol;
  const sim::Sizes sz = sim::size_vm(sim::VmSizing{0, std::nullopt, 0, "probe", "test"},
                                     Policy::Sizing::AllFast, wl.footprint_bytes());
  std::vector<sim::VmSlot> slots{sim::VmSlot{
      sim::vm_config(sz, pol, sim::VmShape{vcpus, wl.footprint_bytes()}), &wl, &pol, 0, false}};
  const sim::Outcome o = sim::run_loop("sim", sim::HostProfile::load("optane"), slots).front();
  return {o.sim_time_ns, o.measured.accesses, o.measured.barrier_wait_ns};
}

TEST(Barrier, OtherVcpusWaitForTheLongPieceBeforeTheShortOnes) {
  const Result free = run(4, false), synced = run(4, true), alone = run(1, true);
  EXPECT_EQ(free.accesses, synced.accesses);
  EXPECT_EQ(alone.accesses, synced.accesses);
  // Without the barrier the other three vCPUs run the 64 short pieces while
  // one runs the long one (20000 lines against 64 x 300 / 3 = 6400 each).
  // With it, the short ones start after the long one and are split 4 ways.
  EXPECT_GT(synced.sim_ns, 1.15 * free.sim_ns);
  EXPECT_LT(synced.sim_ns, 0.75 * alone.sim_ns)
      << "after the barrier the vCPUs still share the work";
}

TEST(Barrier, CountsTheTimeEachVcpuWaitsForTheSlowest) {
  const Result free = run(4, false), synced = run(4, true), alone = run(1, true);
  EXPECT_EQ(free.barrier_wait_ns, 0.0);
  EXPECT_EQ(alone.barrier_wait_ns, 0.0) << "one vCPU never waits for another";
  // Three vCPUs reach the barrier at once and wait out the long piece
  // (20000 of the 39200 lines, each a first touch of its own line).
  const double long_piece_ns = alone.sim_ns * 20000.0 / 39200.0;
  EXPECT_NEAR(synced.barrier_wait_ns, 3 * long_piece_ns, 0.25 * 3 * long_piece_ns);
  EXPECT_LT(synced.barrier_wait_ns, 3 * synced.sim_ns);
}

}  // namespace workload_barrier_test
}  // namespace vtmm::test
