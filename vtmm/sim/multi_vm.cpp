// Multi-VM runs: several VMs on one simulated host sharing its LLC, tier
// bandwidth, cores and fast tier (static shares, vTMM's pool, or a
// demand-proportional split). One record, with a "vms" list.
#include <algorithm>
#include <cmath>
#include <memory>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/run_record.hpp"
#include "vtmm/policy/fast_pool.hpp"
#include "vtmm/sim/pool_driver.hpp"
#include "vtmm/sim/run_loop.hpp"
#include "vtmm/sim/simulation.hpp"
#include "vtmm/sim/vm_setup.hpp"

namespace vtmm::sim {
namespace {

constexpr size_t kMaxVms = 64;  // VM ids tag LLC lines (Vm::mem); far above any pool's size

// VM i's seed: the run's for VM 0, a splitmix64 derivation for the others, so
// identical VMs do not replay identical streams and seed sweeps never overlap.
uint64_t vm_seed(uint64_t seed, size_t i) { return i == 0 ? seed : derived_seed(seed, i); }

// Everything a multi-VM run is made of, built and checked before it runs.
struct Built {
  HostProfile prof;
  std::vector<std::unique_ptr<Workload>> wls;
  std::vector<Json> wl_resolved;
  std::vector<std::unique_ptr<Policy>> pols;
  Json pol_resolved;
  std::vector<Sizes> sizes;
  std::vector<VmShape> shapes;
  Policy::Sizing sizing = Policy::Sizing::Ratio;
  bool shared = false;  // the VMs' fast allowances come from one host fast tier
  policy::Sharing mode = policy::Sharing::Static;
  uint64_t host_fast = 0, shares = 0, vm_memory = 0, host_memory = 0;
  bool memory_overcommitted = false;
  Json pool_resolved;
  policy::PoolParams pool;
};

Built build(const RunSpec& spec) {
  Built b;
  b.prof = HostProfile::load(spec.host.profile, spec.host.overrides);
  if (spec.vms.size() > kMaxVms)
    throw SpecError("run: at most " + std::to_string(kMaxVms) + " VMs per host");
  b.mode = policy::sharing_of(spec.host.share.sharing);
  for (size_t i = 0; i < spec.vms.size(); ++i) {
    const VmSpec& v = spec.vms[i];
    const std::string where = "vms[" + std::to_string(i) + "] ('" + v.name + "')";
    const uint64_t seed = vm_seed(spec.options.seed, i);
    Json wr;
    b.wls.push_back(WorkloadRegistry::instance().make(v.workload, where + ": workload",
                                                      WorkloadEnv{seed, v.vcpus}, &wr));
    b.wl_resolved.push_back(wr);
    b.pols.push_back(PolicyRegistry::instance().make(spec.policy, "policy",
                                                     policy_env(seed, *b.wls.back()),
                                                     i == 0 ? &b.pol_resolved : nullptr));
    const Policy& pol = *b.pols.back();
    if (pol.wants_profile())
      throw SpecError("policy: '" + spec.policy_name() +
                      "' needs a profiling pass, which multi-VM runs do not make");
    b.sizing = pol.sizing();
    const uint64_t footprint = b.wls.back()->footprint_bytes();
    const VmSizing sizing{v.memory_bytes, spec.options.ratio, v.fast_share_bytes,
                          spec.policy_name(), where};
    b.sizes.push_back(size_vm(sizing, pol.sizing(), footprint));
    b.shapes.push_back(VmShape{v.vcpus, footprint, v.ept_huge, v.aged_guest, seed, v.guest_thp});
    b.shares += b.sizes.back().fast;
    b.vm_memory += b.sizes.back().memory;
  }
  const Policy& pol = *b.pols.front();
  // dram-only and slow-only are references: each VM on one tier, unshared.
  b.shared = b.sizing == Policy::Sizing::Ratio || b.sizing == Policy::Sizing::MemoryMode;
  if (b.shared && b.mode != policy::Sharing::Static) {
    if (b.sizing == Policy::Sizing::MemoryMode)
      throw SpecError("fast_memory_sharing: '" + spec.host.share.sharing +
                      "' resizes page allowances; " + spec.policy_name() +
                      "'s fast tier is a hardware cache (use \"static\")");
    if (pol.side() == Side::Guest)
      throw SpecError("fast_memory_sharing: '" + spec.host.share.sharing +
                      "' resizes the host's fast backing; " + spec.policy_name() +
                      " runs in the guest on fixed NUMA nodes (use \"static\")");
  }
  b.host_fast = spec.host.share.fast_bytes ? pages_for(spec.host.share.fast_bytes) : b.shares;
  b.host_memory = pages_for(spec.host.share.memory_bytes);
  if (spec.host.share.memory_bytes && b.vm_memory > b.host_memory) {
    if (!spec.host.share.allow_memory_overcommit)
      throw SpecError("host_memory: the VMs' memory (" + format_bytes(b.vm_memory * kPageSize) +
                      ") exceeds the host's total (" + format_bytes(spec.host.share.memory_bytes) +
                      "); set host_memory.allow_overcommit to study an overcommitted host");
    b.memory_overcommitted = true;
  }
  if (spec.host.share.memory_bytes && b.host_fast > b.host_memory)
    throw SpecError("host_memory: 'fast' (" + format_bytes(b.host_fast * kPageSize) +
                    ") exceeds 'total' (" + format_bytes(spec.host.share.memory_bytes) + ")");
  // Pool times and sizes scale like vTMM's (docs/vtmm.md): mean VM memory / 16 GiB.
  const double scale = static_cast<double>(b.vm_memory * kPageSize) /
                       static_cast<double>(spec.vms.size()) /
                       static_cast<double>(uint64_t{16} << 30);
  b.pool = policy::read_pool_params(spec.host.share.pool, scale, &b.pool_resolved);
  if (b.shared && b.mode != policy::Sharing::Static && spec.vms.size() > b.pool.max_vms)
    throw SpecError("pool: " + std::to_string(spec.vms.size()) +
                    " VMs, but the pool serves at most max_vms " + std::to_string(b.pool.max_vms));
  return b;
}

// How the VMs were set up to share the host: the record's host-side fields.
void put_sharing(Json& r, const RunSpec& spec, const Built& b) {
  r["side"] = side_name(b.pols.front()->side());
  r["fast_memory_sharing"] = b.shared ? Json(policy::sharing_name(b.mode)) : Json(nullptr);
  r["host_fast_bytes"] = b.shared ? Json(b.host_fast * kPageSize) : Json(nullptr);
  r["fast_shares_bytes"] = b.shares * kPageSize;
  r["fast_overcommit"] =
      b.shared && b.host_fast
          ? Json(static_cast<double>(b.shares) / static_cast<double>(b.host_fast))
          : Json(nullptr);
  r["vm_memory_bytes"] = b.vm_memory * kPageSize;
  r["host_memory_bytes"] =
      spec.host.share.memory_bytes ? Json(spec.host.share.memory_bytes) : Json(nullptr);
  r["memory_overcommitted"] = b.memory_overcommitted;
  if (b.memory_overcommitted)
    r["memory_overcommit_note"] =
        "host swap is not modelled: every guest page is backed, so the VMs run as if the host had "
        "their memory";
}

// VM i's entry in the record's "vms" list.
Json vm_entry(const RunSpec& spec, const Built& b, size_t i, const Outcome& o, uint64_t guaranteed,
              const PoolDriver* driver) {
  Json v;
  v["name"] = spec.vms[i].name;
  v["workload"] = spec.vms[i].workload.value("impl", "");
  v["vcpus"] = spec.vms[i].vcpus;
  v["start_ms"] = spec.vms[i].start_ms;
  v["memory_bytes"] = b.sizes[i].memory * kPageSize;
  v["footprint_bytes"] = b.wls[i]->footprint_bytes();
  v["fast_share_bytes"] = b.sizes[i].fast * kPageSize;
  v["fast_guaranteed_bytes"] = guaranteed * kPageSize;
  if (driver) {
    const PoolDriver::VmStats& st = driver->stats()[i];
    v["fast_bytes_mean"] = st.live_ns > 0 ? st.allowance_page_ns / st.live_ns * kPageSize : 0.0;
    v["fast_bytes_min"] = st.live_ns > 0 ? st.min_allowance * kPageSize : 0;
    v["fast_bytes_max"] = st.max_allowance * kPageSize;
  } else {
    v["fast_bytes_mean"] = static_cast<double>(guaranteed * kPageSize);
  }
  put_measures(v, o, *b.wls[i], *b.pols[i]);
  v["time_scaling"] = time_scaling_json(policy_env(b.shapes[i].seed, *b.wls[i]));
  v["slowdown"] = nullptr;
  v["seed"] = b.shapes[i].seed;
  return v;
}

// The host-wide measures: from the first VM's measured start to the last
// VM's end, and the VMs' counts summed.
void put_totals(Json& r, const Built& b, const std::vector<Outcome>& out) {
  double first = 1e300, last = 0, throughput = 0;
  uint64_t ops = 0, misses = 0, fast_misses = 0, promoted = 0, demoted = 0;
  std::string op_name;
  for (size_t i = 0; i < out.size(); ++i) {
    const Outcome& o = out[i];
    first = std::min(first, o.measure_start_ns);
    last = std::max(last, o.end_ns);
    if (o.sim_time_ns > 0)
      throughput += static_cast<double>(b.wls[i]->ops()) / (o.sim_time_ns * 1e-9);
    ops += b.wls[i]->ops();
    misses += o.measured.llc_misses;
    fast_misses += o.measured.tier_misses[0];
    promoted += o.measured.promoted;
    demoted += o.measured.demoted;
    const std::string name = b.wls[i]->op_name();
    op_name = i == 0 || op_name == name ? name : "mixed";
  }
  r["sim_time_s"] = last > first ? (last - first) * 1e-9 : 0.0;
  r["ops"] = ops;
  r["op_name"] = op_name;
  // Sum of the VMs' own rates (each over its own measured phase).
  r["throughput"] = throughput;
  r["normalized_throughput"] = nullptr;
  r["fast_hit_ratio"] =
      misses ? Json(static_cast<double>(fast_misses) / static_cast<double>(misses)) : Json(nullptr);
  r["llc_misses"] = misses;
  r["promoted_pages"] = promoted;
  r["demoted_pages"] = demoted;
}

}  // namespace

void validate_multi(const RunSpec& spec) { build(spec); }

Json simulate_multi(const RunSpec& spec) {
  Built b = build(spec);
  const size_t n = spec.vms.size();
  std::unique_ptr<PoolDriver> driver;
  std::vector<uint64_t> guaranteed(n, 0);
  if (b.shared && b.sizing == Policy::Sizing::Ratio) {
    policy::FastPool pool(b.mode, b.host_fast, b.pool);
    for (size_t i = 0; i < n; ++i) pool.add(b.sizes[i].fast, b.sizes[i].memory);
    for (size_t i = 0; i < n; ++i) guaranteed[i] = pool.guaranteed(i);
    driver = std::make_unique<PoolDriver>(std::move(pool));
  } else {
    for (size_t i = 0; i < n; ++i) guaranteed[i] = b.sizes[i].fast;
  }
  if (b.shared && b.sizing == Policy::Sizing::MemoryMode && b.shares > b.host_fast)
    throw SpecError("host_memory: memory-mode caches (" + format_bytes(b.shares * kPageSize) +
                    ") do not fit the host's fast tier (" + format_bytes(b.host_fast * kPageSize) +
                    ")");
  std::vector<VmSlot> slots;
  for (size_t i = 0; i < n; ++i) {
    Sizes sz = b.sizes[i];
    if (driver) sz.fast = guaranteed[i];
    slots.push_back(VmSlot{vm_config(sz, *b.pols[i], b.shapes[i]), b.wls[i].get(), b.pols[i].get(),
                           spec.vms[i].start_ms * 1e6, false});
  }
  const std::vector<Outcome> out =
      run_loop(spec.host.platform, b.prof, slots, driver.get(), spec.exec.threads);
  for (auto& wl : b.wls) wl->verify();

  Json r = open_record(spec, b.prof.name, /*ratio_shown=*/true);
  put_sharing(r, spec, b);
  put_totals(r, b, out);
  if (driver) {
    r["pool"] = {{"rebalances", driver->rebalances()},
                 {"max_lent_bytes", driver->max_lent() * kPageSize},
                 {"max_borrowed_bytes", driver->max_borrowed() * kPageSize},
                 {"fast_overcommitted", driver->pool().overcommitted()}};
  }
  Json vms = Json::array();
  for (size_t i = 0; i < n; ++i)
    vms.push_back(vm_entry(spec, b, i, out[i], guaranteed[i], driver.get()));
  r["vms"] = vms;
  Json cfg = spec.to_json();
  cfg["policy"] = b.pol_resolved;
  cfg["pool"] = b.pool_resolved;
  for (size_t i = 0; i < n; ++i) cfg["vms"][i]["workload"] = b.wl_resolved[i];
  close_record(r, std::move(cfg), sim_config(b.prof));
  return r;
}

}  // namespace vtmm::sim
