#include "vtmm/sim/vm_setup.hpp"

#include <algorithm>
#include <cmath>

#include "vtmm/sim/simulation.hpp"

namespace vtmm::sim {

Sizes size_vm(const VmSizing& in, Policy::Sizing sizing, uint64_t footprint) {
  Sizes s;
  s.memory = in.memory_bytes ? pages_for(in.memory_bytes) : default_memory_pages(footprint);
  if (s.memory < pages_for(footprint))
    throw SpecError("vm: 'memory' (" + format_bytes(s.memory * kPageSize) +
                    ") is smaller than the workload's footprint (" + format_bytes(footprint) + ")");
  switch (sizing) {
    case Policy::Sizing::AllFast:
      s.fast = s.memory;
      break;
    case Policy::Sizing::AllSlow:
      s.slow = s.split_slow = s.memory;
      break;
    case Policy::Sizing::MemoryMode:  // the ratio sizes the cache; every page lives in slow memory
    case Policy::Sizing::Ratio:
      if (in.fast_bytes) {
        s.fast = std::min(pages_for(in.fast_bytes), s.memory);
      } else if (in.ratio) {
        s.fast = static_cast<uint64_t>(std::floor(static_cast<double>(s.memory) * in.ratio->fast /
                                                  (in.ratio->fast + in.ratio->slow)));
      } else {
        throw SpecError(in.where + ": policy '" + in.policy +
                        "' needs a 'ratio' (FAST:SLOW) or 'fast_bytes'");
      }
      s.split_slow = s.memory - s.fast;
      s.slow = s.memory;
      if (sizing == Policy::Sizing::MemoryMode) s.split_slow = s.memory;
      break;
  }
  return s;
}

Json counters_json(const Counters& c) {
  // Every counter with a key of its own (counters.hpp's tables).
  Json j = Json::object();
#define VTMM_PUT_COUNT(m, key) \
  if (*(key) != '\0') j[key] = c.m;
#define VTMM_PUT_TIER(m, fast, slow) \
  j[fast] = c.m[0];                  \
  j[slow] = c.m[1];
#define VTMM_PUT_TIME(m, key) \
  if (*(key) != '\0') j[key] = c.m * 1e-9;
  VTMM_COUNTS(VTMM_PUT_COUNT)
  VTMM_TIER_COUNTS(VTMM_PUT_TIER)
  VTMM_TIMES(VTMM_PUT_TIME)
#undef VTMM_PUT_COUNT
#undef VTMM_PUT_TIER
#undef VTMM_PUT_TIME
  return j;
}

PolicyEnv policy_env(uint64_t seed, const Workload& wl) {
  PolicyEnv env;
  env.seed = seed;
  env.time_scale_why = wl.fixed_page_rates();
  env.scale_time_by_memory = env.time_scale_why.empty();
  if (env.scale_time_by_memory)
    env.time_scale_why =
        "the workload spreads each core's accesses over its footprint, so a page's rate falls as "
        "guest memory grows: periods scale by guest memory / reference_vm_bytes unless time_scale "
        "is given";
  return env;
}

Json time_scaling_json(const PolicyEnv& env) {
  return Json{{"by_guest_memory", env.scale_time_by_memory}, {"why", env.time_scale_why}};
}

VmConfig vm_config(const Sizes& sz, const Policy& pol, const VmShape& shape) {
  VmConfig cfg;
  cfg.vcpus = shape.vcpus;
  cfg.memory_pages = sz.memory;
  // A guest design's slow node spans the VM's whole memory, as a host design's
  // slow allowance does (Sizes): the fast capacity is the same for both sides,
  // and the guest has free slow-node pages to demote into (a guest whose two
  // nodes are exactly full could never migrate: guest migration needs a free
  // GPA on the target node).
  if (pol.side() == Side::Guest && sz.fast > 0 && sz.fast < sz.memory)
    cfg.memory_pages = sz.fast + sz.memory;
  cfg.fast_pages = sz.fast;
  cfg.slow_pages = sz.slow;
  cfg.va_bytes = shape.va_bytes;
  cfg.ept_huge = shape.ept_huge;
  cfg.guest_thp = shape.guest_thp;
  cfg.shuffle_free_pages = shape.aged_guest;
  cfg.guest_numa = pol.side() == Side::Guest;
  cfg.memory_mode = pol.sizing() == Policy::Sizing::MemoryMode;
  cfg.start_slow = shape.start_slow;
  cfg.policy_on_vcpu0 = shape.policy_on_vcpu0;
  cfg.seed = shape.seed;
  return cfg;
}

void put_measures(Json& r, const Outcome& o, const Workload& wl, const Policy& pol) {
  const Counters& c = o.measured;
  const double secs = o.sim_time_ns * 1e-9;
  r["sim_time_s"] = secs;
  r["ops"] = wl.ops();
  r["op_name"] = wl.op_name();
  r["throughput"] = secs > 0 ? Json(static_cast<double>(wl.ops()) / secs) : Json(nullptr);
  r["fast_hit_ratio"] =
      c.llc_misses ? Json(static_cast<double>(c.tier_misses[0]) / static_cast<double>(c.llc_misses))
                   : Json(nullptr);
  r["llc_misses"] = c.llc_misses;
  r["hot_on_fast_at_end"] = o.hot_on_fast_at_end >= 0 ? Json(o.hot_on_fast_at_end) : Json(nullptr);
  const PlacementScore& ps = o.placement;
  const double windows = static_cast<double>(ps.windows);
  r["placement_precision"] = ps.windows ? Json(ps.precision_sum / windows) : Json(nullptr);
  r["placement_recall"] = ps.windows ? Json(ps.recall_sum / windows) : Json(nullptr);
  r["placement_windows"] = ps.windows;
  r["promoted_pages"] = c.promoted;
  r["demoted_pages"] = c.demoted;
  r["copied_bytes"] = c.copied_bytes;
  r["vm_exits"] = c.vm_exits;
  r["tlb_flushes"] = c.tlb_flushes;
  r["pml_entries"] = c.pml_entries;
  r["tracking_cpu_s"] = c.tracking_ns * 1e-9;
  r["counters"] = counters_json(c);
  r["counters"]["gpt_pages"] = o.gpt_pages;
  r["counters"]["huge_mappings_live"] = o.huge_mappings_live;
  r["counters"]["sim_metadata_bytes_per_page"] = o.bytes_per_page;
  Json mechanisms = Json::array();
  for (Mechanism m : o.mechanisms) mechanisms.push_back(mechanism_key(m));
  r["mechanisms"] = mechanisms;
  Json pm = Json::object();
  pol.report(pm);
  r["policy_metrics"] = pm;
}

}  // namespace vtmm::sim
