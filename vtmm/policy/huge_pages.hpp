#pragma once
// vTMM's huge-page modes (docs/huge-pages.md has the rules and why).
//
//  platform  manage pages at whatever mapping size the VM spec gives (the
//            default; what vTMM did before huge pages were modelled)
//  4k        pure 4 KiB: new backings get 4 KiB EPT mappings only, so every
//            translation reaches 4 KiB (more TLB misses, exact placement)
//  2m        pure 2 MiB: 2 MiB EPT mappings, tracked and moved per 2 MiB: a
//            region is seen when any of its pages is (one A/D pair), so cold
//            pages move with the hot ones ("hot bloat")
//  hybrid    2 MiB mappings tracked per 4 KiB (the hardware mode); a mapping
//            whose 4 KiB pages are mixed hot and cold is split so only the
//            hot part is promoted; a split region uniformly hot or cold again
//            for merge_after_windows windows is brought to one tier and merged
//
// The hooks run inside vTMM's tick, in this order: coarsen() on what the
// tracker saw, adjust() on the plan before its
// migrations.
#include <cstdint>
#include <span>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/params.hpp"
#include "vtmm/policy/hotness.hpp"

namespace vtmm::policy {

class HugePages {
 public:
  enum class Mode { Platform, Pages4k, Pages2m, Hybrid };
  // max_key: the classifier's largest key; hot_key: split_hot_key's default
  // (vTMM's fixed hot threshold, temperature >= 9).
  HugePages(Params& p, uint32_t max_key, uint32_t hot_key);

  Mode mode() const { return mode_; }
  std::vector<Mechanism> needs() const;
  void attach(Mechanisms& m);
  // 2m: one A/D pair per 2 MiB mapping: each mapped region is seen as its
  // most active page was (a write if any page was written).
  void coarsen(const Mechanisms& m, std::span<uint8_t> seen) const;
  // Splits and merges per the rules, then fixes the plan so every 2 MiB
  // mapping left moves whole, and only when most of it wants to.
  void adjust(Mechanisms& m, std::span<const uint8_t> keys, std::span<const uint8_t> tiers,
              Plan& plan);
  // Split and merge counts cover the whole run (the measured phase's are the
  // record's counters.huge_splits / huge_merges); the rest restarts.
  void reset_stats() { held_back_ = 0; }
  void report(Json& out) const;

 private:
  Mode mode_ = Mode::Platform;
  uint32_t split_hot_key_, split_min_hot_, split_min_cold_, merge_after_;
  std::vector<uint8_t> split_by_us_;  // per region: split by this policy (merge candidates)
  std::vector<uint8_t>
      uniform_for_;  // per region: consecutive windows it was uniform since the split
  std::vector<Gpa> split_, merge_;
  uint64_t splits_ = 0, merges_ = 0, held_back_ = 0;
};

}  // namespace vtmm::policy
