// dram-only: the reference every slowdown is measured against. The VM's whole
// memory is fast; nothing is tracked or moved.
#include "vtmm/core/policy.hpp"

namespace vtmm {
namespace {

class DramOnly final : public Policy {
 public:
  DramOnly(Params&, const PolicyEnv&) {}
  Sizing sizing() const override { return Sizing::AllFast; }
  Tier place(Gpa, const Mechanisms&) override { return Tier::Fast; }
};

VTMM_REGISTER(vtmm::PolicyRegistry, DramOnly, "dram-only",
              "all guest memory on the fast tier (reference)")

}  // namespace
}  // namespace vtmm
