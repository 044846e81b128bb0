#pragma once
// The policy contract: a tiered-memory design is a mechanism (what it reads),
// a classifier (what counts as hot) and a placement/migration engine (what it
// moves, how). A Policy composes them and talks to the platform only through
// Mechanisms.
//
// Lifecycle: construct from params -> attach() (check mechanisms, size state)
// -> place() on each first backing and tick() every period_ns() -> report().
// place() runs once per guest page (an EPT violation), never per access.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/registry.hpp"

namespace vtmm {

struct PolicyEnv {
  PolicyEnv() = default;
  explicit PolicyEnv(uint64_t s) : seed(s) {}
  uint64_t seed = 1;
  // Whether a policy whose spec leaves time_scale at 0 scales its periods by
  // guest memory / reference_vm_bytes (TimeScale), and if not, why not.
  bool scale_time_by_memory = true;
  std::string time_scale_why;
};

class Policy {
 public:
  static constexpr const char* kKind = "policy";  // the registry's noun in messages
  // Which tier sizes a run gives the VM: the spec's ratio, or one tier only
  // (the references dram-only / slow-only), or the fast tier as a hardware
  // memory-side cache of slow memory (Intel Memory Mode: every page is backed
  // by slow memory; the ratio sizes the cache).
  enum class Sizing { Ratio, AllFast, AllSlow, MemoryMode };

  virtual ~Policy() = default;
  virtual Sizing sizing() const { return Sizing::Ratio; }
  // What it cannot run without: a platform that lacks one refuses the run.
  virtual std::vector<Mechanism> needs() const { return {}; }
  // What it uses when the platform offers it and does without otherwise
  // (vTMM's hot-set precision and recall need ground truth, which only the
  // simulator has: on a real VM they are reported as null).
  virtual std::vector<Mechanism> wants() const { return {}; }
  // Where the design runs (see Side). A guest-side design's VM sees two NUMA
  // nodes (fast GPAs, then slow GPAs); place() then picks the node the guest
  // allocator tries first (it falls back to the other when that one is full).
  virtual Side side() const { return Side::Host; }
  virtual void attach(Mechanisms& m) { (void)m; }
  // The tier a guest page gets when first backed; must have room (the
  // platform checks and falls back to the other tier when it has none).
  virtual Tier place(Gpa g, const Mechanisms& m) = 0;
  virtual double period_ns() const { return 0; }  // 0: never ticks
  virtual void tick(Mechanisms& m) { (void)m; }
  // A NUMA hint fault on a page armed by protect_for_hint(); runs in the
  // faulting vCPU's context (a migration made here is waited for by it).
  virtual void on_hint_fault(const HintFault& f, Mechanisms& m) {
    (void)f;
    (void)m;
  }

  // Offline designs (oracle) first see a profiling pass: the true LLC misses
  // per guest page in the measured phase, from a run of the same workload and
  // seed, keyed by what placement cannot change (MissProfile).
  virtual bool wants_profile() const { return false; }
  virtual void set_profile(MissProfile profile) { (void)profile; }

  // For a host's fast-memory pool (multi-VM runs): how many pages this VM's
  // design wants in fast memory now, i.e. its hot-set size measured without
  // regard to its current allowance (capacity_pages(Fast), which the pool
  // changes between ticks). nullopt: the design gives no such signal, and
  // the pool leaves it its default share.
  virtual std::optional<uint64_t> fast_demand_pages() const { return std::nullopt; }

  // The measured phase starts now: policies reset the metrics they report.
  virtual void on_measure_start() {}
  // Policy-specific metrics for the run record.
  virtual void report(Json& out) const { (void)out; }
};

using PolicyRegistry = Registry<Policy, PolicyEnv>;

// The mechanisms `pol` will use on `m`: every need (a SpecError naming the
// first one `m` lacks, and `platform`) and the wants `m` offers; sorted.
std::vector<Mechanism> mechanisms_for(const Policy& pol, const Mechanisms& m,
                                      const std::string& platform);

}  // namespace vtmm
