// The migration methods vTMM's designs may ask the platform for
// (Mechanisms::migrate implements them; docs/simulator.md "Migration").
#include "vtmm/policy/parts.hpp"

namespace vtmm::policy {
namespace {

template <MigrationMethod M>
struct Method final : MigrationPart {
  Method(Params&, const PartEnv&) {}
  MigrationMethod method() const override { return M; }
  std::vector<Mechanism> needs() const override {
    if (M == MigrationMethod::Pml) return {Mechanism::Pml};
    if (M == MigrationMethod::WriteProtect) return {Mechanism::WriteProtect};
    return {};
  }
};
using PmlMethod = Method<MigrationMethod::Pml>;
using LinuxMethod = Method<MigrationMethod::Linux>;
using WriteProtectMethod = Method<MigrationMethod::WriteProtect>;

}  // namespace

VTMM_REGISTER(MigrationRegistry, PmlMethod, "pml",
              "PM_PML: copy while PML logs writes, re-copy the dirtied pages")
VTMM_REGISTER(
    MigrationRegistry, LinuxMethod, "linux",
    "PM_Linux: per page, unmap and copy; an access meanwhile waits, the next one re-faults")
VTMM_REGISTER(MigrationRegistry, WriteProtectMethod, "wp",
              "PM_WP (HeMem): write-protect the batch, a write to a page under copy waits for it")

}  // namespace vtmm::policy
