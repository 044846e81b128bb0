// `vtmm list`: what this binary knows, straight from its registries.
#include <iostream>

#include "vtmm/cli/commands.hpp"
#include "vtmm/core/platform.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/policy/parts.hpp"
#include "vtmm/runner/experiment.hpp"
#include "vtmm/sim/host_profile.hpp"

namespace vtmm::cli {
namespace {

// A component's parameter schema: the defaults it resolves with no keys given.
template <class Reg, class Env>
Json describe(const Reg& reg, const std::string& kind, const Env& env) {
  Json out = Json::array();
  for (const auto& e : reg.entries()) {
    Json resolved;
    reg.make(Json{{"impl", e.name}}, kind, env, &resolved);
    resolved.erase("impl");
    out.push_back({{"name", e.name}, {"summary", e.summary}, {"params", resolved}});
  }
  return out;
}

}  // namespace

void add_list(CLI::App& app) {
  auto json = std::make_shared<bool>(false);
  CLI::App* c =
      app.add_subcommand("list", "List policies, workloads, host profiles and experiments");
  c->add_flag("--json", *json, "Machine-readable, with every parameter and its default");
  c->callback([json] {
    Json all;
    all["policies"] = describe(PolicyRegistry::instance(), "policy", PolicyEnv{});
    all["workloads"] = describe(WorkloadRegistry::instance(), "workload", WorkloadEnv{});
    // vTMM's parts (a vtmm-family policy's "tracker", "classifier", "hot_set", "migration").
    const policy::PartEnv parts{};
    all["vtmm_parts"] = {
        {"tracker", describe(policy::TrackerRegistry::instance(), "tracker", parts)},
        {"classifier", describe(policy::ClassifierRegistry::instance(), "classifier", parts)},
        {"hot_set", describe(policy::HotSetRuleRegistry::instance(), "hot_set", parts)},
        {"migration", describe(policy::MigrationRegistry::instance(), "migration", parts)}};
    all["platforms"] = describe(PlatformRegistry::instance(), "platform", PlatformEnv{});
    all["hosts"] = sim::list_host_profiles();
    all["experiments"] = runner::list_experiments();
    if (*json) {
      std::cout << all.dump(2) << '\n';
      return;
    }
    for (const char* kind : {"policies", "workloads"}) {
      std::cout << kind << ":\n";
      for (const auto& e : all[kind]) {
        std::printf("  %-14s %s\n", e["name"].get<std::string>().c_str(),
                    e["summary"].get<std::string>().c_str());
        std::string ps;
        for (auto it = e["params"].begin(); it != e["params"].end(); ++it)
          ps += (ps.empty() ? "" : ", ") + it.key() + "=" + it.value().dump();
        if (!ps.empty()) std::printf("  %-14s   params: %s\n", "", ps.c_str());
      }
    }
    std::cout << "vtmm parts (the vtmm designs' fields of these names):\n";
    for (const auto& [field, entries] : all["vtmm_parts"].items())
      for (const auto& e : entries)
        std::printf("  %-10s %-12s %s\n", field.c_str(), e["name"].get<std::string>().c_str(),
                    e["summary"].get<std::string>().c_str());
    std::cout << "platforms:\n";
    for (const auto& e : all["platforms"])
      std::printf("  %-14s %s\n", e["name"].get<std::string>().c_str(),
                  e["summary"].get<std::string>().c_str());
    std::cout << "hosts:";
    for (const auto& h : all["hosts"]) std::cout << ' ' << h.get<std::string>();
    std::cout << "\nexperiments:";
    for (const auto& x : all["experiments"]) std::cout << ' ' << x.get<std::string>();
    std::cout << '\n';
  });
}

}  // namespace vtmm::cli
