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
  // A registered name bare, a node as JSON (as --policy takes them).
  const auto text = [](const Json& p) { return p.is_string() ? p.get<std::string>() : p.dump(); };
  for (const Json& p : o->policies) policies->push_back(text(p));
  auto unscored = std::make_shared<std::vector<std::string>>();
  for (const Json& p : o->unscored_policies) unscored->push_back(text(p));
  auto out = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand(
      "numa-check",
      "Boot a guest with two NUMA nodes and run the host daemon in it against a stand-in for QEMU");
  c->add_option("--policy", *policies,
                "A design, as JSON or a registered name (repeatable: each runs in turn)")
      ->capture_default_str();
  c->add_option("--unscored-policy", *unscored,
                "A design whose mechanisms are checked and whose placement is only reported "
                "(repeatable; runs after the --policy ones)")
      ->capture_default_str();
  c->add_option("--seconds", o->seconds, "How long the design runs")->capture_default_str();
  c->add_option("--region-mib", o->region_mib, "The stand-in's memory")->capture_default_str();
  c->add_option("--fast-mib", o->fast_mib, "Its fast share (guest node 0)")->capture_default_str();
  c->add_option("--hot-probability", o->hot_probability, "Share of updates on the hot set")
      ->capture_default_str();
  c->add_option("--seed", o->seed, "Hot set and update stream")->capture_default_str();
  c->add_option("--accel", o->accel, "auto, kvm or tcg")->capture_default_str();
  c->add_option("--json", *out, "Write the check's record here");
  c->callback([c, o, policies, unscored, out] {
    const auto parse = [](const std::vector<std::string>& in, const char* flag) {
      std::vector<Json> js;
      for (const std::string& p : in) {
        try {
          js.push_back(Json::parse(!p.empty() && p.front() == '{' ? p : "\"" + p + "\""));
        } catch (const Json::exception& e) {
          throw SpecError(std::string(flag) + ": not JSON: " + e.what());
        }
      }
      return js;
    };
    o->policies = parse(*policies, "--policy");
    // Designs named with --policy alone run alone.
    o->unscored_policies = c->count("--policy") > 0 && c->count("--unscored-policy") == 0
                               ? std::vector<Json>{}
                               : parse(*unscored, "--unscored-policy");
    platform::validate(*o);
    const Json r = platform::run_numa_check(*o);
    if (!out->empty()) std::ofstream(*out) << r.dump(2) << '\n';
    std::cout << "numa-check (" << r.at("accel").get<std::string>() << ")\n";
    for (const Json& d : r.at("designs")) {
      const Json& t = d.at("tierd");
      std::cout << d.at("policy").dump()
                << (d.at("placement_scored").get<bool>() ? "" : " (placement not scored)") << ": "
                << t.value("memory.promoted", 0.0) << " pages promoted, "
                << t.value("memory.demoted", 0.0) << " demoted; hot set on the fast node: recall "
                << t.value("stand_in.recall", 0.0) << ", precision "
                << t.value("stand_in.precision", 0.0) << "\n";
      for (const auto& [k, v] : d.at("checks").items())
        if (k == "passed")
          continue;
        else if (v.is_boolean())
          std::cout << "  " << (v.get<bool>() ? "ok   " : "FAIL ") << k << "\n";
        else
          std::cout << "  " << k << " " << v.dump() << "\n";
    }
    if (!r.at("passed").get<bool>()) set_exit_code(1);
  });
}

}  // namespace vtmm::cli
