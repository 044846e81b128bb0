// oracle: the ideal static placement for the given fast capacity, the bound
// every tiering design is measured against. A profiling pass of the same
// workload and seed counts the true LLC misses per guest page in the measured
// phase; this run then backs the pages with the most misses on the fast tier
// from their first touch, and everything else on the slow tier. It pays no
// tracking and no migration.
//
// The profile is keyed by what a page holds (its guest-virtual page, or the
// group a page table maps: MissProfile), not by GPA: with several vCPUs the
// guest hands out GPAs in the order of first touches, which follows the
// vCPUs' clocks, and those depend on placement, so the two passes give the
// same data different GPAs.
#include <algorithm>
#include <numeric>

#include "vtmm/core/policy.hpp"

namespace vtmm {
namespace {

class Oracle final : public Policy {
 public:
  Oracle(Params&, const PolicyEnv&) {}
  bool wants_profile() const override { return true; }
  void set_profile(MissProfile profile) override { profile_ = std::move(profile); }

  void attach(Mechanisms& m) override {
    // One ranking over data pages and page tables: index i < data.size() is
    // a data page, the rest are page-table groups.
    const std::vector<uint32_t>& data = profile_.data;
    const std::vector<uint32_t>& tables = profile_.page_tables;
    const auto misses = [&](size_t i) {
      return i < data.size() ? data[i] : tables[i - data.size()];
    };
    std::vector<size_t> order(data.size() + tables.size());
    std::iota(order.begin(), order.end(), size_t{0});
    // Most misses first; ties by index so the choice is deterministic.
    std::stable_sort(order.begin(), order.end(),
                     [&](size_t a, size_t b) { return misses(a) > misses(b); });
    hot_data_.assign(data.size(), 0);
    hot_tables_.assign(tables.size(), 0);
    const uint64_t fast = m.capacity_pages(Tier::Fast);
    for (uint64_t k = 0; k < order.size() && k < fast && misses(order[k]) > 0; ++k) {
      const size_t i = order[k];
      (i < data.size() ? hot_data_[i] : hot_tables_[i - data.size()]) = 1;
      ++chosen_;
    }
  }

  Tier place(Gpa g, const Mechanisms& m) override {
    const PageUse u = m.page_use(g);
    const std::vector<uint8_t>* hot = u.kind == PageUse::Data        ? &hot_data_
                                      : u.kind == PageUse::PageTable ? &hot_tables_
                                                                     : nullptr;
    return hot != nullptr && u.index < hot->size() && (*hot)[u.index] ? Tier::Fast : Tier::Slow;
  }

  void report(Json& out) const override { out["oracle_fast_pages"] = chosen_; }

 private:
  MissProfile profile_;
  std::vector<uint8_t> hot_data_, hot_tables_;
  uint64_t chosen_ = 0;
};

VTMM_REGISTER(vtmm::PolicyRegistry, Oracle, "oracle",
              "ideal static placement from a profiling pass (most LLC misses on fast); no tracking "
              "or migration cost")

}  // namespace
}  // namespace vtmm
