// oracle: the ideal static placement for the given fast capacity, the bound
// every tiering design is measured against. A profiling pass of the same
// workload and seed counts the true LLC misses per guest page in the measured
// phase; this run then backs the pages with the most misses on the fast tier
// from their first touch, and everything else on the slow tier. It pays no
// tracking and no migration. (Guest-physical addresses are the same in both
// passes: the guest allocator does not depend on placement.)
#include <algorithm>
#include <numeric>

#include "vtmm/core/policy.hpp"

namespace vtmm {
namespace {

class Oracle final : public Policy {
 public:
  Oracle(Params&, const PolicyEnv&) {}
  bool wants_profile() const override { return true; }
  void set_profile(std::vector<uint32_t> misses) override { misses_ = std::move(misses); }

  void attach(Mechanisms& m) override {
    const uint64_t fast = m.capacity_pages(Tier::Fast);
    std::vector<Gpa> order(misses_.size());
    std::iota(order.begin(), order.end(), Gpa{0});
    // Most misses first; ties by GPA so the choice is deterministic.
    std::stable_sort(order.begin(), order.end(), [&](Gpa a, Gpa b) { return misses_[a] > misses_[b]; });
    hot_.assign(m.guest_pages(), 0);
    for (uint64_t i = 0; i < order.size() && i < fast; ++i)
      if (misses_[order[i]] > 0) hot_[order[i]] = 1;
    chosen_ = static_cast<uint64_t>(std::count(hot_.begin(), hot_.end(), 1));
  }

  Tier place(Gpa g, const Mechanisms&) override {
    return g < hot_.size() && hot_[g] ? Tier::Fast : Tier::Slow;
  }

  void report(Json& out) const override { out["oracle_fast_pages"] = chosen_; }

 private:
  std::vector<uint32_t> misses_;
  std::vector<uint8_t> hot_;
  uint64_t chosen_ = 0;
};

VTMM_REGISTER(vtmm::PolicyRegistry, Oracle, "oracle",
              "ideal static placement from a profiling pass (most LLC misses on fast); no tracking or migration cost")

}  // namespace
}  // namespace vtmm

