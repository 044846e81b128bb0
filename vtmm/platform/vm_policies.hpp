#pragma once
// The guest kernel's own tiering on the vm platform (policy "guest-tiering":
// numa_balancing=2 and demotion on the two guest cells): the record holds
// what the guest kernel formed and the vmstat deltas it produced. Registered
// designs run in the host daemon instead (vtmm/platform/policy_driver.hpp).
#include <cstdint>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"
#include "vtmm/platform/agent_link.hpp"

namespace vtmm::platform {

// The guest-tiering record from the agent's tiering-on reply and vmstat before/after.
Json guest_tiering_record(const CommandReply& on, const CommandReply& before,
                          const CommandReply& after);

}  // namespace vtmm::platform
