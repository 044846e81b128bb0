// vTMM's parts registries (vtmm/policy/parts.hpp): every registered part
// constructs; a design composed in a spec node runs exactly as the
// registered preset of the same parts; a part named wrongly is one error
// naming the field.
#include <gtest/gtest.h>

#include <string>

#include "vtmm/core/policy.hpp"
#include "vtmm/core/run_spec.hpp"
#include "vtmm/policy/parts.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm::policy {
namespace {

template <class Reg>
void constructs_every_entry(const char* field) {
  ASSERT_FALSE(Reg::instance().entries().empty()) << field;
  for (const auto& e : Reg::instance().entries()) {
    Json resolved;
    EXPECT_NE(Reg::instance().make(Json(e.name), field, PartEnv{}, &resolved), nullptr)
        << field << " " << e.name;
    EXPECT_EQ(resolved.at("impl"), e.name);
  }
}

TEST(VtmmParts, EveryRegisteredPartConstructs) {
  constructs_every_entry<TrackerRegistry>("tracker");
  constructs_every_entry<ClassifierRegistry>("classifier");
  constructs_every_entry<HotSetRuleRegistry>("hot_set");
  constructs_every_entry<MigrationRegistry>("migration");
}

TEST(VtmmParts, TheBuiltInPartsAreRegistered) {
  for (const char* n : {"pml", "ept"}) EXPECT_NE(TrackerRegistry::instance().find(n), nullptr) << n;
  for (const char* n : {"temperature", "lru"})
    EXPECT_NE(ClassifierRegistry::instance().find(n), nullptr) << n;
  for (const char* n : {"adaptive", "fixed"})
    EXPECT_NE(HotSetRuleRegistry::instance().find(n), nullptr) << n;
  for (const char* n : {"pml", "linux", "wp"})
    EXPECT_NE(MigrationRegistry::instance().find(n), nullptr) << n;
}

Json tiny_run(const Json& policy) {
  return Json{
      {"workload",
       {{"impl", "gups"}, {"footprint", "16MiB"}, {"updates", 300000}, {"warmup_updates", 100000}}},
      {"policy", policy},
      {"ratio", "1:4"},
      {"host_overrides", {{"llc_bytes", 1048576}}}};
}

// What a run did, without the fields that name the design.
Json outcome(Json rec) {
  for (const char* k : {"policy", "policy_impl", "config", "wall_s", "cpu_s"}) rec.erase(k);
  return rec;
}

TEST(VtmmParts, ASpecNodeComposesTheSameDesignAsItsPreset) {
  // ept-scanner is the EPT tracker without the MLQ; the node form names the
  // part as an object, the flat form as a name.
  const Json preset = sim::simulate(
      RunSpec::from_json(tiny_run({{"impl", "ept-scanner"}, {"time_scale", 0.003}}), "t"));
  const Json node = sim::simulate(RunSpec::from_json(tiny_run({{"impl", "vtmm"},
                                                               {"tracker", {{"impl", "ept"}}},
                                                               {"mlq", false},
                                                               {"time_scale", 0.003}}),
                                                     "t"));
  const Json flat = sim::simulate(RunSpec::from_json(
      tiny_run({{"impl", "vtmm"}, {"tracker", "ept"}, {"mlq", false}, {"time_scale", 0.003}}),
      "t"));
  EXPECT_EQ(outcome(node), outcome(preset));
  EXPECT_EQ(outcome(flat), outcome(preset));
  EXPECT_GT(preset.at("policy_metrics").at("ept_entries_scanned").get<uint64_t>(), 0u);
  // A name stays a name in the record's resolved parameters; a node stays a node.
  EXPECT_EQ(flat.at("config").at("run").at("policy").at("tracker"), "ept");
  EXPECT_EQ(node.at("config").at("run").at("policy").at("tracker"), Json({{"impl", "ept"}}));
}

TEST(VtmmParts, AnUnknownPartIsOneErrorNamingItsField) {
  const auto message = [](const Json& policy) {
    try {
      PolicyRegistry::instance().make(policy, "policy", PolicyEnv{});
    } catch (const SpecError& e) {
      return std::string(e.what());
    }
    return std::string("no error");
  };
  EXPECT_EQ(message({{"impl", "vtmm"}, {"tracker", "bogus"}}),
            "policy 'vtmm': 'tracker': unknown tracker 'bogus' (see `vtmm list`)");
  EXPECT_EQ(message({{"impl", "vtmm"}, {"migration", {{"impl", "teleport"}}}}),
            "policy 'vtmm': 'migration': unknown migration method 'teleport' (see `vtmm list`)");
  EXPECT_NE(message({{"impl", "vtmm"}, {"hot_set", 3}}).find("'hot_set'"), std::string::npos);
  EXPECT_NE(
      message({{"impl", "vtmm"}, {"classifier", {{"impl", "lru"}, {"bogus", 1}}}}).find("bogus"),
      std::string::npos);
}

}  // namespace
}  // namespace vtmm::policy
