// seq-dynamic-hot: sequential sweeps over a hot window that moves. Each
// access reads one 64-byte line (and, with probability write_fraction, also
// writes it) of a window of `hot_bytes` inside a `footprint`; the window jumps
// to a new random, page-aligned region every `move_every_ms` milliseconds of
// simulated time. The workload cannot see time, so the window moves every
// N = move_every_ms * accesses_per_ms accesses of each vCPU instead.
//
// Data: each line holds 7 payload words (a hash of their index, written at
// setup) and a counter word. A read sums the payload into a checksum; a
// write increments the counter (a read-modify-write of the line). With
// several vCPUs each sweeps its own slice of the window, and each moves with
// its own access count.
// Phases: setup initialises the table (one write per 4 KiB page), then
// warmup_accesses and `accesses` (per run, split over the vCPUs).
// Check: replaying each vCPU's stream from the seed gives the checksum the
// run must have read (payloads never change), and each line's counter must
// equal the writes the replay sends to it.
#include <algorithm>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"
#include "workloads/phases.hpp"

namespace vtmm {
namespace {

class SeqDynamicHot final : public Workload, public workloads::TestCorruptible {
 public:
  SeqDynamicHot(Params& p, const WorkloadEnv& env) : vcpus_(env.vcpus), seed_(env.seed) {
    const uint64_t bytes = p.get_bytes("footprint", uint64_t{1} << 30);  // as gups and random-read
    const uint64_t hot =
        p.get_bytes("hot_bytes", uint64_t{128} << 20);  // assumed: 1/8 of the default footprint
    move_every_ms_ = p.get<double>("move_every_ms", 100.0);  // assumed: a phase change every 100 ms
    // One vCPU streaming 64-byte lines with 8 misses in flight from DRAM on
    // the optane host profile: 81 ns / 8 = 10.1 ns per line, plus 1 ns of
    // compute and a 4 KiB TLB walk (20 ns / 2 walkers) per 64 lines: about
    // 11.3 ns per access, 88,000 accesses per ms. From the slow tier
    // (305 ns / 8) it is ~3.4x fewer: the window then moves "later" in
    // simulated time than move_every_ms.
    accesses_per_ms_ = p.get<double>("accesses_per_ms", 88000.0);
    write_fraction_ = p.get<double>("write_fraction", 0.0);
    warmup_ = p.get_count("warmup_accesses", 8'000'000);
    accesses_ = p.get_count("accesses", 40'000'000);
    mlp_ = p.get<uint32_t>("mlp", 8);                // streaming: independent lines, as gups
    compute_ns_ = p.get<double>("compute_ns", 1.0);  // assumed: 7 adds and loop overhead, ~2 cycles
    if (bytes < 2 * kPageSize) p.fail("footprint", "must be at least 8KiB");
    lines_ = bytes / kLineSize;
    if (hot < kPageSize || hot > bytes)
      p.fail("hot_bytes", "must be between 4KiB and the footprint");
    hot_lines_ = hot / kLineSize;
    if (hot_lines_ < vcpus_) p.fail("hot_bytes", "must give every vCPU at least one line");
    if (!(move_every_ms_ > 0)) p.fail("move_every_ms", "must be positive");
    if (!(accesses_per_ms_ > 0)) p.fail("accesses_per_ms", "must be positive");
    const double per_window = move_every_ms_ * accesses_per_ms_;
    if (!(per_window >= 1 && per_window < 1e18))
      p.fail("move_every_ms", "times accesses_per_ms must be at least 1");
    per_window_ = static_cast<uint64_t>(per_window);
    if (!(write_fraction_ >= 0 && write_fraction_ <= 1))
      p.fail("write_fraction", "must be in [0, 1]");
    if (mlp_ == 0 || mlp_ > 64) p.fail("mlp", "must be between 1 and 64");
    if (!(compute_ns_ >= 0)) p.fail("compute_ns", "must not be negative");
    write_threshold_ =
        write_fraction_ >= 1 ? UINT64_MAX : static_cast<uint64_t>(write_fraction_ * 0x1.0p64);
    va_ = layout_.alloc(lines_ * kLineSize);
    for (uint32_t v = 0; v < vcpus_; ++v)
      lanes_.push_back(Lane{{}, workloads::OpPhases(warmup_, accesses_, v, vcpus_), 0});
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return measured_; }
  std::string op_name() const override { return "line"; }

  bool next(uint32_t v, Batch& b) override {
    if (table_.empty()) table_.resize(lines_);
    Lane& l = lanes_[v];
    b.mlp = static_cast<uint8_t>(mlp_);
    b.compute_ns = static_cast<float>(compute_ns_);
    const uint64_t pages = lines_ / kLinesPerPage + (lines_ % kLinesPerPage ? 1 : 0);
    if (!l.setup.done(v, vcpus_, pages)) {
      l.setup.next(v, vcpus_, va_, pages, b, [&](uint64_t page) {
        for (uint64_t i = page * kLinesPerPage, end = std::min(lines_, i + kLinesPerPage); i < end;
             ++i) {
          for (uint32_t w = 0; w < 7; ++w) table_[i].payload[w] = payload(i, w);
          table_[i].counter = 0;
        }
      });
      if (b.n > 0) return true;
    }
    const bool warm = l.ops.warming();
    b.phase = l.ops.phase();
    for (uint64_t left = l.ops.left_in_phase(); !b.full() && left > 0; --left) {
      const uint64_t i = line_of(v, l.done);
      Line& line = table_[i];
      uint64_t s = 0;
      for (uint32_t w = 0; w < 7; ++w) s += line.payload[w];
      checksum_ += s;
      const bool write = writes(v, l.done);
      if (write) ++line.counter;
      b.push(va_ + i * kLineSize, write ? kReadWrite : kRead);
      ++l.done;
      l.ops.count();
      if (!warm) ++measured_;
    }
    return !l.ops.finished();
  }

  void verify() const override {
    if (table_.size() != lines_) throw VerifyError("seq-dynamic-hot: never ran");
    uint64_t expect = 0;
    std::vector<uint32_t> writes_to(lines_, 0);
    for (uint32_t v = 0; v < vcpus_; ++v) {
      const workloads::OpPhases share(warmup_, accesses_, v, vcpus_);
      for (uint64_t c = 0; c < share.total(); ++c) {
        const uint64_t i = line_of(v, c);
        for (uint32_t w = 0; w < 7; ++w) expect += payload(i, w);
        if (writes(v, c)) ++writes_to[i];
      }
    }
    if (expect != checksum_)
      throw VerifyError("seq-dynamic-hot: checksum of the lines read does not match the replay");
    for (uint64_t i = 0; i < lines_; ++i) {
      if (table_[i].counter != writes_to[i])
        throw VerifyError("seq-dynamic-hot: writes lost or doubled");
      for (uint32_t w = 0; w < 7; ++w)
        if (table_[i].payload[w] != payload(i, w))
          throw VerifyError("seq-dynamic-hot: payload damaged");
    }
  }

  void corrupt_for_test() override { table_[line_of(0, 0)].payload[3] ^= 1; }

 private:
  struct Line {
    uint64_t payload[7];
    uint64_t counter;
  };
  static_assert(sizeof(Line) == kLineSize);
  struct Lane {
    workloads::FirstTouchSweep setup;
    workloads::OpPhases ops;
    uint64_t done;  // accesses so far (warm-up and measured)
  };

  static uint64_t payload(uint64_t line, uint32_t w) {
    uint64_t x = line * 8 + w;
    return splitmix64(x);
  }
  // The window's first line in period k: random, page aligned, from the seed alone.
  uint64_t window(uint64_t k) const {
    uint64_t x = seed_ * 0x9e3779b97f4a7c15ULL ^ (k + 1) * 0xd1b54a32d192ed03ULL;
    const uint64_t slots = (lines_ - hot_lines_) / kLinesPerPage + 1;
    return static_cast<uint64_t>((static_cast<u128>(splitmix64(x)) * slots) >> 64) * kLinesPerPage;
  }
  // Line of vCPU v's c-th access: its slice of the current window, swept cyclically.
  uint64_t line_of(uint32_t v, uint64_t c) const {
    const uint64_t lo = hot_lines_ * v / vcpus_, hi = hot_lines_ * (v + 1) / vcpus_;
    return std::min(lines_ - 1, window(c / per_window_) + lo + (c % per_window_) % (hi - lo));
  }
  bool writes(uint32_t v, uint64_t c) const {
    if (write_threshold_ == 0) return false;
    uint64_t x = seed_ ^ (uint64_t{v} << 48) ^ c * 0x2545f4914f6cdd1dULL;
    return splitmix64(x) < write_threshold_;
  }

  uint32_t vcpus_, mlp_;
  uint64_t seed_, lines_, hot_lines_, per_window_, warmup_, accesses_, write_threshold_, va_ = 0;
  double move_every_ms_, accesses_per_ms_, write_fraction_, compute_ns_;
  VaLayout layout_;
  std::vector<Line> table_;
  std::vector<Lane> lanes_;
  uint64_t checksum_ = 0, measured_ = 0;
};

VTMM_REGISTER(WorkloadRegistry, SeqDynamicHot, "seq-dynamic-hot",
              "sequential 64-byte sweeps over a hot window that moves every move_every_ms")

}  // namespace
}  // namespace vtmm
