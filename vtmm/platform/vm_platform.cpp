// Real VMs through libvirt and QEMU as a platform (vtmm/core/platform.hpp).
#include "vtmm/core/platform.hpp"
#include "vtmm/platform/vm_run.hpp"

namespace vtmm::platform {
namespace {

class VmPlatform final : public Platform {
 public:
  VmPlatform(Params&, const PlatformEnv&) {}

  // Guest programs and the vm designs are checked with the run (they are
  // not the simulator's registries); here only their shape.
  void check_component(const std::string& axis, const Json& v, const std::string& path,
                       uint64_t) const override {
    component_spec(v, path, axis);
  }
  bool uses_ratio(const Json& policy, uint64_t seed, const std::string&) const override {
    return vm_policy_uses_ratio(policy, seed);
  }
  void validate(const RunSpec& r, const std::string&) const override { validate_vm_run(r); }
  Json run(const RunSpec& r) const override { return run_vm(r); }
  bool exclusive() const override { return true; }
  bool takes_options() const override { return true; }
};

}  // namespace

VTMM_REGISTER(PlatformRegistry, VmPlatform, "vm",
              "real VMs through libvirt and QEMU (KVM, else TCG; vtmm/platform/)")

}  // namespace vtmm::platform
