// slow-only: the other bound. The VM's whole memory is on the slow tier.
#include "vtmm/core/policy.hpp"

namespace vtmm {
namespace {

class SlowOnly final : public Policy {
 public:
  SlowOnly(Params&, const PolicyEnv&) {}
  Sizing sizing() const override { return Sizing::AllSlow; }
  Tier place(Gpa, const Mechanisms&) override { return Tier::Slow; }
};

VTMM_REGISTER(vtmm::PolicyRegistry, SlowOnly, "slow-only",
              "all guest memory on the slow tier (reference)")

}  // namespace
}  // namespace vtmm
