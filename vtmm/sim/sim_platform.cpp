// The simulated tiered host as a platform (vtmm/core/platform.hpp).
#include "vtmm/core/platform.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/sim/host_profile.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm::sim {
namespace {

class SimPlatform final : public Platform {
 public:
  SimPlatform(Params&, const PlatformEnv&) {}

  void check_component(const std::string& axis, const Json& v, const std::string& path,
                       uint64_t seed) const override {
    if (axis == "workload") WorkloadRegistry::instance().make(v, path, WorkloadEnv{seed, 1});
    if (axis == "policy") PolicyRegistry::instance().make(v, path, PolicyEnv{seed});
  }

  bool uses_ratio(const Json& policy, uint64_t seed, const std::string& where) const override {
    auto pol = PolicyRegistry::instance().make(policy, where, PolicyEnv{seed});
    return pol->sizing() == Policy::Sizing::Ratio || pol->sizing() == Policy::Sizing::MemoryMode;
  }

  void validate(const RunSpec& r, const std::string& who) const override {
    if (r.multi()) {
      validate_multi(r);
      return;
    }
    WorkloadRegistry::instance().make(r.vm().workload, who + ": run.workload",
                                      WorkloadEnv{r.options.seed, r.vm().vcpus});
    HostProfile::load(r.host.profile, r.host.overrides);
  }

  Json run(const RunSpec& r) const override { return simulate(r); }

  // The result depends on the model too: its version and the host's
  // resolved constants (a profile file edited, a curve added).
  Json identity(const RunSpec& r) const override {
    Json id = {{"run", r.to_json()}, {"model_version", kModelVersion}};
    try {
      id["host_constants"] = HostProfile::load(r.host.profile, r.host.overrides).to_json();
    } catch (const SpecError&) {
      // A run whose host does not load fails; its key is its spec's.
    }
    return id;
  }

  bool multi_vm() const override { return true; }
};

}  // namespace

VTMM_REGISTER(PlatformRegistry, SimPlatform, "sim",
              "the simulated tiered host (deterministic; vtmm/sim/)")

}  // namespace vtmm::sim
