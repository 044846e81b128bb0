// sparse-hot: GUPS-style updates whose hot data is sparse inside 2 MiB
// regions, the case hybrid-grained huge pages are for (docs/huge-pages.md).
// The table's 2 MiB regions are of three kinds, placed at random (seeded):
//  - dense regions: every 4 KiB page hot (a huge page that is hot throughout);
//  - sparse regions: a few hot 4 KiB pages each, the rest as cold as the table
//    (a huge page that mixes hot and cold: pure 2 MiB management promotes the
//    cold part with the hot one);
//  - every other region: cold.
// Each update XORs a random value into a random 8-byte element: in a dense
// region with dense_probability, in a sparse hot page with
// sparse_probability, anywhere in the table otherwise. Reported as one
// read-modify-write each. Defaults (the huge_pages experiment's): 1 GiB,
// 32 dense regions, 256 sparse regions of 32 hot pages, 50 % / 50 % (no
// updates elsewhere).
// Phases: setup touches the table page by page (first-touch order only),
// warm-up runs warmup_updates, the measured phase runs `updates`.
// Check: the XOR of the table must equal the XOR of its initial values and of
// every value applied (a lost or doubled update is caught).
#include <algorithm>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"
#include "workloads/phases.hpp"
#include "workloads/xor_table.hpp"

namespace vtmm {
namespace {

class SparseHot final : public Workload, public workloads::TestCorruptible {
 public:
  SparseHot(Params& p, const WorkloadEnv& env) : vcpus_(env.vcpus) {
    const uint64_t bytes = p.get_bytes("footprint", uint64_t{1} << 30);
    const auto dense = p.get<uint32_t>("dense_regions", 32);
    const auto sparse = p.get<uint32_t>("sparse_regions", 256);
    const auto per_region = p.get<uint32_t>("sparse_pages_per_region", 32);
    dense_prob_ = p.get<double>("dense_probability", 0.5);
    sparse_prob_ = p.get<double>("sparse_probability", 0.5);
    warmup_ = p.get_count("warmup_updates", 1'000'000);
    updates_ = p.get_count("updates", 4'000'000);
    // As gups: independent updates overlap their misses (8 in flight assumed)
    // and cost about 6 cycles of core work each.
    mlp_ = p.get<uint32_t>("mlp", 8);
    compute_ns_ = p.get<double>("compute_ns", 3.0);
    if (bytes < kHugeSize || bytes % kHugeSize != 0)
      p.fail("footprint", "must be a multiple of 2MiB");
    const uint64_t regions = bytes / kHugeSize;
    if (dense == 0 || sparse == 0 || dense + sparse > regions)
      p.fail(
          "sparse_regions",
          "dense_regions and sparse_regions must be >= 1 and fit in the footprint's 2 MiB regions");
    if (per_region == 0 || per_region >= kPagesPerHuge)
      p.fail("sparse_pages_per_region", "must be 1..511");
    if (!(dense_prob_ >= 0 && sparse_prob_ >= 0 && dense_prob_ + sparse_prob_ <= 1))
      p.fail("sparse_probability", "dense_probability + sparse_probability must be in [0, 1]");
    if (mlp_ == 0 || mlp_ > 64) p.fail("mlp", "must be between 1 and 64");
    elems_ = bytes / sizeof(uint64_t);

    // Which regions are dense and sparse, and which pages of a sparse region are hot.
    Rng placement(env.seed ^ 0x5ba75e407ULL);
    std::vector<uint32_t> order(regions);
    for (uint32_t i = 0; i < regions; ++i) order[i] = i;
    for (uint64_t i = regions; i > 1; --i) std::swap(order[i - 1], order[placement.below(i)]);
    dense_.assign(order.begin(), order.begin() + dense);
    std::vector<uint32_t> slots(kPagesPerHuge);
    for (uint32_t k = 0; k < sparse; ++k) {
      for (uint32_t i = 0; i < kPagesPerHuge; ++i) slots[i] = i;
      for (uint32_t i = 0; i < per_region; ++i)
        std::swap(slots[i], slots[i + placement.below(kPagesPerHuge - i)]);
      for (uint32_t i = 0; i < per_region; ++i)
        sparse_pages_.push_back(uint64_t{order[dense + k]} * kPagesPerHuge + slots[i]);
    }
    std::sort(dense_.begin(), dense_.end());
    std::sort(sparse_pages_.begin(), sparse_pages_.end());
    va_ = layout_.alloc(bytes);
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
      constexpr uint64_t kPerRegion = kHugeSize / sizeof(uint64_t),
                         kPerPage = kPageSize / sizeof(uint64_t);
      const double u = rng.uniform();
      if (u < dense_prob_) return dense_[rng.below(dense_.size())] * kPerRegion + r % kPerRegion;
      if (u < dense_prob_ + sparse_prob_)
        return sparse_pages_[rng.below(sparse_pages_.size())] * kPerPage + r % kPerPage;
      return rng.below(elems_);
    });
  }

  void verify() const override { table_.verify("sparse-hot"); }

  void corrupt_for_test() override {
    table_.corrupt(sparse_pages_.front() * (kPageSize / sizeof(uint64_t)));
  }

  // The hot 4 KiB pages' indices in the table (tests and docs use them).
  const std::vector<uint64_t>& sparse_pages() const { return sparse_pages_; }

 private:
  uint32_t vcpus_, mlp_;
  double dense_prob_, sparse_prob_, compute_ns_;
  uint64_t warmup_, updates_, elems_, va_ = 0;
  std::vector<uint64_t> dense_, sparse_pages_;  // region indices; page indices
  VaLayout layout_;
  workloads::XorTable table_;
  std::vector<workloads::XorLane> lanes_;
};

VTMM_REGISTER(vtmm::WorkloadRegistry, SparseHot, "sparse-hot",
              "GUPS-style updates; hot data dense in a few 2 MiB regions and sparse (a few 4 KiB "
              "pages) in others")

}  // namespace
}  // namespace vtmm
