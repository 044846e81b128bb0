#include "vtmm/platform/vm_policies.hpp"

namespace vtmm::platform {

Json guest_tiering_record(const CommandReply& on, const CommandReply& before,
                          const CommandReply& after) {
  Json set = Json::object();
  for (const auto& [k, v] : on.metrics) set[k] = v;
  Json delta = Json::object();
  for (const auto& [k, v] : after.metrics) delta[k] = v - before.metric(k, 0);
  auto d = [&](const std::string& k) { return delta.value(k, 0.0); };
  double promoted = 0, demoted = 0;
  for (const auto& [k, v] : delta.items()) {
    if (k.rfind("pgpromote_success", 0) == 0) promoted += v.get<double>();
    if (k.rfind("pgdemote_", 0) == 0) demoted += v.get<double>();
  }
  const double tiers = set.value("memory_tiers", 0.0);
  std::string obs =
      "guest-tiering: guest kernel set numa_balancing=" +
      std::to_string(static_cast<int>(set.value("numa_balancing", -1.0))) + ", demotion_enabled=" +
      std::to_string(static_cast<int>(set.value("demotion_enabled", -1.0))) + "; it formed " +
      std::to_string(static_cast<int>(tiers)) + " memory tier(s) from its two cells";
  if (tiers <= 1)
    obs +=
        " (both cells are plain DRAM to it: no demotion target, so no promotion or demotion "
        "between the cells)";
  obs += "; in the workload: " + std::to_string(static_cast<uint64_t>(promoted)) +
         " pages promoted, " + std::to_string(static_cast<uint64_t>(demoted)) + " demoted, " +
         std::to_string(static_cast<uint64_t>(d("numa_hint_faults"))) + " NUMA hint faults";
  return {{"set", set},
          {"vmstat_delta", delta},
          {"pages_promoted", promoted},
          {"pages_demoted", demoted},
          {"memory_tiers", tiers},
          {"observed", obs}};
}

}  // namespace vtmm::platform
