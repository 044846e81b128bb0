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

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"
#include "workloads/gups_hotset.hpp"
#include "workloads/phases.hpp"
#include "workloads/xor_table.hpp"

namespace vtmm {
namespace {

class Gups final : public Workload, public workloads::TestCorruptible {
 public:
  Gups(Params& p, const WorkloadEnv& env) : vcpus_(env.vcpus) {
    const uint64_t bytes = p.get_bytes("footprint", uint64_t{1} << 30);
    hot_fraction_ = p.get<double>("hot_fraction", 1.0 / 16);
    hot_prob_ = p.get<double>("hot_probability", 0.9);
    warmup_ = p.get_count("warmup_updates", 1'000'000);
    updates_ = p.get_count("updates", 4'000'000);
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
    if (!workloads::gups_hot_offset_ok(hot_at))
      p.fail("hot_offset", "must be \"random\", \"start\" or \"end\"");
    elems_ = bytes / sizeof(uint64_t);
    const workloads::GupsHotSet hot =
        workloads::gups_hot_set(elems_, hot_fraction_, hot_at, env.seed);
    hot_base_ = hot.base;
    hot_elems_ = hot.elems;
    va_ = layout_.alloc(elems_ * sizeof(uint64_t));
    table_ = workloads::XorTable(elems_);
    lanes_ = workloads::xor_lanes(env.seed, warmup_, updates_, vcpus_);
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return table_.measured(); }
  std::string op_name() const override { return "update"; }

  bool next(uint32_t v, Batch& b) override {
    b.mlp = static_cast<uint8_t>(mlp_);
    b.compute_ns = static_cast<float>(compute_ns_);
    return table_.next(lanes_[v], v, vcpus_, va_, b, [this](Rng& rng, uint64_t r) {
      const bool hot = rng.uniform() < hot_prob_;
      return hot ? hot_base_ + mod(r, hot_elems_) : mod(r, elems_);
    });
  }

  // r % n without a 64-bit division when n is a power of two (the default
  // footprints): the same index, at a fraction of the cost per update.
  static uint64_t mod(uint64_t r, uint64_t n) { return (n & (n - 1)) == 0 ? r & (n - 1) : r % n; }

  void verify() const override { table_.verify("gups"); }

  // A torn or misdirected update: the table XOR no longer matches.
  void corrupt_for_test() override { table_.corrupt(hot_base_); }

 private:
  uint32_t vcpus_;
  double hot_fraction_, hot_prob_, compute_ns_;
  uint64_t warmup_, updates_, elems_, hot_elems_, hot_base_ = 0, va_ = 0;
  uint32_t mlp_;
  VaLayout layout_;
  workloads::XorTable table_;
  std::vector<workloads::XorLane> lanes_;
};

VTMM_REGISTER(vtmm::WorkloadRegistry, Gups, "gups",
              "random 8-byte XOR updates over a table with a hot set (HeMem-style GUPS)")

}  // namespace
}  // namespace vtmm
