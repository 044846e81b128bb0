// first-touch: what a hypervisor does with no tiering policy. Guest pages are
// backed on the fast tier in the order the guest first touches them until the
// VM's fast allowance is used up, then on the slow tier; nothing ever moves.
#include "vtmm/core/policy.hpp"

namespace vtmm {
namespace {

class FirstTouch final : public Policy {
 public:
  FirstTouch(Params&, const PolicyEnv&) {}
  Tier place(Gpa, const Mechanisms& m) override {
    return m.used_pages(Tier::Fast) < m.capacity_pages(Tier::Fast) ? Tier::Fast : Tier::Slow;
  }
};

VTMM_REGISTER(vtmm::PolicyRegistry, FirstTouch, "first-touch",
              "fast until the allowance is used, then slow; never migrates")

}  // namespace
}  // namespace vtmm
