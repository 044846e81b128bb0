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
  auto policy = std::make_shared<std::string>(o->policy.dump());
  auto out = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand(
      "numa-check",
      "Boot a guest with two NUMA nodes and run the host daemon in it against a stand-in for QEMU");
  c->add_option("--policy", *policy, "The design, as JSON or a registered name")
      ->capture_default_str();
  c->add_option("--seconds", o->seconds, "How long the design runs")->capture_default_str();
  c->add_option("--region-mib", o->region_mib, "The stand-in's memory")->capture_default_str();
  c->add_option("--fast-mib", o->fast_mib, "Its fast share (guest node 0)")->capture_default_str();
  c->add_option("--hot-probability", o->hot_probability, "Share of updates on the hot set")
      ->capture_default_str();
  c->add_option("--seed", o->seed, "Hot set and update stream")->capture_default_str();
  c->add_option("--accel", o->accel, "auto, kvm or tcg")->capture_default_str();
  c->add_option("--json", *out, "Write the check's record here");
  c->callback([o, policy, out] {
    try {
      o->policy = Json::parse(policy->front() == '{' ? *policy : "\"" + *policy + "\"");
    } catch (const Json::exception& e) {
      throw SpecError("--policy: not JSON: " + std::string(e.what()));
    }
    platform::validate(*o);
    const Json r = platform::run_numa_check(*o);
    if (!out->empty()) std::ofstream(*out) << r.dump(2) << '\n';
    const Json& t = r.at("tierd");
    std::cout << "numa-check (" << r.at("accel").get<std::string>()
              << "): " << t.value("memory.promoted", 0.0) << " pages promoted, "
              << t.value("memory.demoted", 0.0) << " demoted; hot set on the fast node: recall "
              << t.value("stand_in.recall", 0.0) << ", precision "
              << t.value("stand_in.precision", 0.0) << "\n";
    for (const auto& [k, v] : r.at("checks").items())
      if (k != "passed") std::cout << "  " << (v.get<bool>() ? "ok   " : "FAIL ") << k << "\n";
    if (!r.at("checks").at("passed").get<bool>()) set_exit_code(1);
  });
}

}  // namespace vtmm::cli
