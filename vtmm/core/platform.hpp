#pragma once
// Where a run runs: the simulated tiered host ("sim", vtmm/sim/) or real VMs
// through libvirt and QEMU ("vm", vtmm/platform/). The runner, `vtmm run`,
// `vtmm reproduce` and the Slurm executor reach a platform only through this
// interface, by RunSpec::platform's name:
//     VTMM_REGISTER(PlatformRegistry, SimPlatform, "sim", "the simulated tiered host");
#include <memory>
#include <string>

#include "vtmm/core/registry.hpp"
#include "vtmm/core/run_spec.hpp"

namespace vtmm {

class Platform {
 public:
  static constexpr const char* kKind = "platform";
  virtual ~Platform() = default;

  // A sweep's workload or policy value (`axis`), checked where the user
  // wrote it (`path` names it in the error); components built with `seed`.
  virtual void check_component(const std::string& axis, const Json& value, const std::string& path,
                               uint64_t seed) const = 0;
  // Whether the design splits guest memory between the tiers (so a run
  // needs a ratio or fast_bytes); references such as dram-only do not.
  virtual bool uses_ratio(const Json& policy, uint64_t seed, const std::string& where) const = 0;
  // Builds the run's parts once, so a bad parameter fails before any run.
  virtual void validate(const RunSpec& r, const std::string& who) const = 0;
  // Runs it: the record, without the wall-clock fields the runner adds.
  virtual Json run(const RunSpec& r) const = 0;
  // What a run's key hashes (runner::run_key): what its record depends on.
  virtual Json identity(const RunSpec& r) const { return r.to_json(); }
  // A run needs its machine to itself (a real VM): Slurm gives it --exclusive.
  virtual bool exclusive() const { return false; }
  // It runs several VMs in one run (RunSpec::vms).
  virtual bool multi_vm() const { return false; }
  // It reads RunSpec::platform_options.
  virtual bool takes_options() const { return false; }
};

struct PlatformEnv {};
using PlatformRegistry = Registry<Platform, PlatformEnv>;

// The platform a run names; a SpecError naming `where` when none is registered.
inline std::unique_ptr<Platform> make_platform(const std::string& name,
                                               const std::string& where = "platform") {
  return PlatformRegistry::instance().make(Json(name), where, PlatformEnv{});
}

}  // namespace vtmm
