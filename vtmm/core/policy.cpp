#include "vtmm/core/policy.hpp"

#include <algorithm>

#include "vtmm/core/error.hpp"

namespace vtmm {

std::vector<Mechanism> mechanisms_for(const Policy& pol, const Mechanisms& m,
                                      const std::string& platform) {
  std::vector<Mechanism> used;
  for (Mechanism x : pol.needs()) {
    if (!m.offers(x))
      throw SpecError(std::string("policy: needs ") + mechanism_name(x) + ", which platform '" +
                      platform + "' does not offer");
    used.push_back(x);
  }
  for (Mechanism x : pol.wants())
    if (m.offers(x)) used.push_back(x);
  std::sort(used.begin(), used.end());
  used.erase(std::unique(used.begin(), used.end()), used.end());
  return used;
}

}  // namespace vtmm
