// `vtmm numa-check`: the daemon's migration path on a real two-node kernel,
// inside a guest (vtmm/platform/numa_check.hpp, docs/vm.md).
#include <fstream>
#include <iostream>

#include "vtmm/cli/commands.hpp"
#include "vtmm/core/error.hpp"
#include "vtmm/platform/numa_check.hpp"

namespace vtmm::cli {

void add_numa_check(CLI::App& app) {
  auto o = std::make_shared<platform::NumaCheckOptions>();
  auto policies = std::make_shared<std::vector<std::string>>();
  for (const Json& p : o->policies) policies->push_back(p.dump());
  auto out = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand(
      "numa-check",
      "Boot a guest with two NUMA nodes and run the host daemon in it against a stand-in for QEMU");
  c->add_option("--policy", *policies,
                "A design, as JSON or a registered name (repeatable: each runs in turn)")
      ->capture_default_str();
  c->add_option("--seconds", o->seconds, "How long the design runs")->capture_default_str();
  c->add_option("--region-mib", o->region_mib, "The stand-in's memory")->capture_default_str();
  c->add_option("--fast-mib", o->fast_mib, "Its fast share (guest node 0)")->capture_default_str();
  c->add_option("--hot-probability", o->hot_probability, "Share of updates on the hot set")
      ->capture_default_str();
  c->add_option("--seed", o->seed, "Hot set and update stream")->capture_default_str();
  c->add_option("--accel", o->accel, "auto, kvm or tcg")->capture_default_str();
  c->add_option("--json", *out, "Write the check's record here");
  c->callback([o, policies, out] {
    o->policies.clear();
    for (const std::string& p : *policies) {
      try {
        o->policies.push_back(Json::parse(!p.empty() && p.front() == '{' ? p : "\"" + p + "\""));
      } catch (const Json::exception& e) {
        throw SpecError("--policy: not JSON: " + std::string(e.what()));
      }
    }
    platform::validate(*o);
    const Json r = platform::run_numa_check(*o);
    if (!out->empty()) std::ofstream(*out) << r.dump(2) << '\n';
    std::cout << "numa-check (" << r.at("accel").get<std::string>() << ")\n";
    for (const Json& d : r.at("designs")) {
      const Json& t = d.at("tierd");
      std::cout << d.at("policy").dump() << ": " << t.value("memory.promoted", 0.0)
                << " pages promoted, " << t.value("memory.demoted", 0.0)
                << " demoted; hot set on the fast node: recall " << t.value("stand_in.recall", 0.0)
                << ", precision " << t.value("stand_in.precision", 0.0) << "\n";
      for (const auto& [k, v] : d.at("checks").items())
        if (k != "passed") std::cout << "  " << (v.get<bool>() ? "ok   " : "FAIL ") << k << "\n";
    }
    if (!r.at("passed").get<bool>()) set_exit_code(1);
  });
}

}  // namespace vtmm::cli
