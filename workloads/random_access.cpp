// random-read / random-write: uniform random 8-byte accesses over an RSS, the
// vTMM paper's migration micro-benchmarks. With no locality at all, a tiering
// design can only lose (tracking and migration cost, no hot set to win), and
// pages keep moving: the benchmark isolates what migration costs the VM.
//
// random-read sums the elements it reads; the check re-generates the index
// stream and compares the sum. random-write adds 1 to each element it writes;
// the check compares the table's total with the number of writes.
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"
#include "workloads/phases.hpp"

namespace vtmm {
namespace {

class RandomAccess : public Workload, public workloads::TestCorruptible {
 public:
  RandomAccess(Params& p, const WorkloadEnv& env, bool write)
      : write_(write), vcpus_(env.vcpus), seed_(env.seed) {
    const uint64_t bytes = p.get_bytes("footprint", uint64_t{1} << 30);
    warmup_ = p.get_count("warmup_accesses", 1'000'000);
    accesses_ = p.get_count("accesses", 4'000'000);
    mlp_ = p.get<uint32_t>("mlp", 8);                // independent accesses, as gups
    compute_ns_ = p.get<double>("compute_ns", 2.0);  // assumed: one RNG step and an add
    if (bytes < kPageSize) p.fail("footprint", "must be at least 4KiB");
    if (mlp_ == 0 || mlp_ > 64) p.fail("mlp", "must be between 1 and 64");
    elems_ = bytes / sizeof(uint64_t);
    va_ = layout_.alloc(elems_ * sizeof(uint64_t));
    for (uint32_t v = 0; v < vcpus_; ++v)
      lanes_.push_back(
          Lane{Rng(stream_seed(v)), {}, workloads::OpPhases(warmup_, accesses_, v, vcpus_)});
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return measured_; }
  std::string op_name() const override { return write_ ? "write" : "read"; }

  bool next(uint32_t v, Batch& b) override {
    if (table_.empty()) table_.assign(elems_, 0);
    Lane& l = lanes_[v];
    b.mlp = static_cast<uint8_t>(mlp_);
    b.compute_ns = static_cast<float>(compute_ns_);
    const uint64_t pages = (elems_ * sizeof(uint64_t) + kPageSize - 1) / kPageSize;
    if (!l.setup.done(v, vcpus_, pages)) {
      l.setup.next(v, vcpus_, va_, pages, b, [&](uint64_t page) {
        for (uint64_t i = page * 512, end = std::min(elems_, i + 512); i < end; ++i)
          table_[i] = i & 0xff;
      });
      if (b.n > 0) return true;
    }
    const bool warm = l.ops.warming();
    b.phase = l.ops.phase();
    for (uint64_t left = l.ops.left_in_phase(); !b.full() && left > 0; --left) {
      const uint64_t i = l.rng.below(elems_);
      if (write_) {
        table_[i] += 1;
      } else {
        sum_ += table_[i];
      }
      b.push(va_ + i * sizeof(uint64_t), write_ ? kWrite : kRead);
      l.ops.count();
      if (!warm) ++measured_;
    }
    return !l.ops.finished();
  }

  void verify() const override {
    uint64_t initial = 0, total = 0;
    for (uint64_t i = 0; i < elems_; ++i) {
      initial += i & 0xff;
      total += table_[i];
    }
    if (write_) {
      if (total - initial != warmup_ + accesses_)
        throw VerifyError("random-write: writes lost or doubled");
      return;
    }
    uint64_t expect = 0;  // the reads never change the table: replay each lane's stream
    for (uint32_t v = 0; v < vcpus_; ++v) {
      Rng rng(stream_seed(v));
      const workloads::OpPhases share(warmup_, accesses_, v, vcpus_);
      for (uint64_t k = 0; k < share.total(); ++k) expect += rng.below(elems_) & 0xff;
    }
    if (expect != sum_)
      throw VerifyError("random-read: sum of reads does not match the index stream");
  }

  // random-write loses one write (an element one short); random-read misreads one element into the
  // sum.
  void corrupt_for_test() override {
    if (write_) {
      table_[0] -= 1;
    } else {
      sum_ += 1;
    }
  }

 private:
  uint64_t stream_seed(uint32_t v) const { return seed_ * 0x2545f491u + v + 7; }
  struct Lane {
    Rng rng;
    workloads::FirstTouchSweep setup;
    workloads::OpPhases ops;
  };
  bool write_;
  uint32_t vcpus_, mlp_;
  uint64_t seed_, warmup_, accesses_, elems_, va_ = 0, sum_ = 0, measured_ = 0;
  double compute_ns_;
  VaLayout layout_;
  std::vector<uint64_t> table_;
  std::vector<Lane> lanes_;
};

struct RandomRead final : RandomAccess {
  RandomRead(Params& p, const WorkloadEnv& e) : RandomAccess(p, e, false) {}
};
struct RandomWrite final : RandomAccess {
  RandomWrite(Params& p, const WorkloadEnv& e) : RandomAccess(p, e, true) {}
};

VTMM_REGISTER(WorkloadRegistry, RandomRead, "random-read",
              "uniform random 8-byte reads over an RSS (migration micro-benchmark)")
VTMM_REGISTER(WorkloadRegistry, RandomWrite, "random-write",
              "uniform random 8-byte writes over an RSS (migration micro-benchmark)")

}  // namespace
}  // namespace vtmm
