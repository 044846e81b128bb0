// gups: giga-updates per second over a table with a hot set, in the style of
// HeMem's GUPS (Raybuck et al., SOSP'21): each update XORs a random value into
// a random 8-byte element, chosen from the hot set with probability
// hot_probability and from the whole table otherwise. The table is real (it
// lives in host memory) and every update is reported as one read-modify-write.
//
// Phases: setup initialises the table (one write per 4 KiB page is reported:
// it only fixes the first-touch order and is not measured), warm-up runs
// warmup_updates, the measured phase runs `updates`.
// Check: the XOR of the whole table must equal the XOR of its initial values
// and of every value applied, so a lost or doubled update is caught.
#include <algorithm>
#include <vector>

#include "vtmm/core/huge_alloc.hpp"
#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"
#include "workloads/phases.hpp"

namespace vtmm {
namespace {

class Gups final : public Workload, public workloads::TestCorruptible {
 public:
  Gups(Params& p, const WorkloadEnv& env) : vcpus_(env.vcpus) {
    const uint64_t bytes = p.get_bytes("footprint", uint64_t{1} << 30);
    hot_fraction_ = p.get<double>("hot_fraction", 1.0 / 16);
    hot_prob_ = p.get<double>("hot_probability", 0.9);
    warmup_ = p.get<uint64_t>("warmup_updates", 1'000'000);
    updates_ = p.get<uint64_t>("updates", 4'000'000);
    // Independent updates overlap their misses; a Skylake core has 12 L1D fill
    // buffers (Intel Optimization Reference Manual), 8 in flight assumed.
    mlp_ = p.get<uint32_t>("mlp", 8);
    // Assumed: one xoshiro step, index arithmetic and an XOR, about 6 cycles.
    compute_ns_ = p.get<double>("compute_ns", 3.0);
    const std::string hot_at = p.get<std::string>("hot_offset", "random");
    if (bytes < 2 * kPageSize) p.fail("footprint", "must be at least 8KiB");
    if (!(hot_fraction_ > 0 && hot_fraction_ <= 1)) p.fail("hot_fraction", "must be in (0, 1]");
    if (!(hot_prob_ >= 0 && hot_prob_ <= 1)) p.fail("hot_probability", "must be in [0, 1]");
    if (mlp_ == 0 || mlp_ > 64) p.fail("mlp", "must be between 1 and 64");
    elems_ = bytes / sizeof(uint64_t);
    hot_elems_ = std::max<uint64_t>(1, static_cast<uint64_t>(static_cast<double>(elems_) * hot_fraction_));
    Rng placement(env.seed ^ 0x6f75707321ULL);
    if (hot_at == "random") {
      // Anywhere in the table, page aligned: a first-touch policy gets no free
      // help from the hot set sitting where the table starts.
      const uint64_t slots = (elems_ - hot_elems_) / 512 + 1;
      hot_base_ = placement.below(slots) * 512;
    } else if (hot_at == "start") {
      hot_base_ = 0;
    } else if (hot_at == "end") {
      hot_base_ = elems_ - hot_elems_;
    } else {
      p.fail("hot_offset", "must be \"random\", \"start\" or \"end\"");
    }
    va_ = layout_.alloc(elems_ * sizeof(uint64_t));
    for (uint32_t v = 0; v < vcpus_; ++v)
      lanes_.push_back(Lane{Rng(env.seed * 0x9e37u + v + 1), {}, workloads::OpPhases(warmup_, updates_, v, vcpus_)});
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return measured_; }
  std::string op_name() const override { return "update"; }

  bool next(uint32_t v, Batch& b) override {
    if (table_.empty()) table_.resize(elems_);  // data is built on first use, not at validation
    Lane& l = lanes_[v];
    b.mlp = static_cast<uint8_t>(mlp_);
    b.compute_ns = static_cast<float>(compute_ns_);
    const uint64_t pages = (elems_ + 511) / 512;
    if (!l.setup.done(v, vcpus_, pages)) {
      l.setup.next(v, vcpus_, va_, pages, b, [&](uint64_t page) {
        for (uint64_t i = page * 512, end = std::min(elems_, i + 512); i < end; ++i) table_[i] = i;
      });
      if (b.n > 0) return true;
    }
    const bool warm = l.ops.warming();
    b.phase = l.ops.phase();
    // Two passes over the batch's updates: draw every index first (the same
    // random stream) and prefetch its element, then apply them in order. Each
    // update misses the host's caches (the table is real), and this way the
    // misses overlap instead of each waiting for the one before it.
    const uint64_t n = std::min<uint64_t>(l.ops.left_in_phase(), Batch::kCap - b.n);
    uint64_t rs[Batch::kCap], is[Batch::kCap];
    for (uint64_t k = 0; k < n; ++k) {
      const uint64_t r = l.rng.next();
      const bool hot = l.rng.uniform() < hot_prob_;
      const uint64_t i = hot ? hot_base_ + mod(r, hot_elems_) : mod(r, elems_);
      __builtin_prefetch(&table_[i], 1);
      rs[k] = r;
      is[k] = i;
    }
    for (uint64_t k = 0; k < n; ++k) {
      table_[is[k]] ^= rs[k];
      xor_applied_ ^= rs[k];
      b.push(va_ + is[k] * sizeof(uint64_t), kReadWrite);
    }
    l.ops.count(n);
    if (!warm) measured_ += n;
    return !l.ops.finished();
  }

  // r % n without a 64-bit division when n is a power of two (the default
  // footprints): the same index, at a fraction of the cost per update.
  static uint64_t mod(uint64_t r, uint64_t n) { return (n & (n - 1)) == 0 ? r & (n - 1) : r % n; }

  void verify() const override {
    // XOR of 0..n-1 has a closed form by n mod 4.
    const uint64_t n1 = elems_ - 1;
    const uint64_t xor_init = (n1 % 4 == 0) ? n1 : (n1 % 4 == 1) ? 1 : (n1 % 4 == 2) ? n1 + 1 : 0;
    uint64_t x = 0;
    for (uint64_t v : table_) x ^= v;
    if (x != (xor_init ^ xor_applied_)) throw VerifyError("gups: table checksum does not match the updates applied");
  }

  // A torn or misdirected update: flip bits of one element, so the table XOR no longer matches.
  void corrupt_for_test() override { table_[hot_base_] ^= 0x5a; }

 private:
  struct Lane {
    Rng rng;
    workloads::FirstTouchSweep setup;
    workloads::OpPhases ops;
  };
  uint32_t vcpus_;
  double hot_fraction_, hot_prob_, compute_ns_;
  uint64_t warmup_, updates_, elems_, hot_elems_, hot_base_ = 0, va_ = 0;
  uint32_t mlp_;
  VaLayout layout_;
  std::vector<uint64_t, HugePageAllocator<uint64_t>> table_;
  std::vector<Lane> lanes_;
  uint64_t xor_applied_ = 0, measured_ = 0;
};

VTMM_REGISTER(vtmm::WorkloadRegistry, Gups, "gups",
              "random 8-byte XOR updates over a table with a hot set (HeMem-style GUPS)")

}  // namespace
}  // namespace vtmm

