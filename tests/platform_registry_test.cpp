// The platform registry (vtmm/core/platform.hpp): both platforms are there,
// each says what it offers, and a run names one or gets one error that
// lists them.
#include <gtest/gtest.h>

#include <string>

#include "vtmm/core/error.hpp"
#include "vtmm/core/platform.hpp"

namespace vtmm {
namespace {

TEST(PlatformRegistry, SimAndVmAreRegisteredWithWhatTheyOffer) {
  const auto sim = make_platform("sim");
  const auto vm = make_platform("vm");
  EXPECT_TRUE(sim->multi_vm());
  EXPECT_FALSE(sim->exclusive());
  EXPECT_FALSE(sim->takes_options());
  EXPECT_FALSE(vm->multi_vm());
  EXPECT_TRUE(vm->exclusive());
  EXPECT_TRUE(vm->takes_options());
  // Only the simulator's record depends on its model (version, host constants).
  const RunSpec r = RunSpec::from_json(Json{{"workload", "gups"}, {"policy", "dram-only"}}, "t");
  EXPECT_TRUE(sim->identity(r).contains("model_version"));
  EXPECT_EQ(vm->identity(r), r.to_json());
}

TEST(PlatformRegistry, AnUnknownPlatformIsOneErrorListingThem) {
  try {
    RunSpec::from_json(Json{{"platform", "cloud"}, {"workload", "gups"}, {"policy", "dram-only"}},
                       "spec t: run");
    FAIL() << "no error";
  } catch (const SpecError& e) {
    EXPECT_EQ(std::string(e.what()), "spec t: run: 'platform' must be \"sim\" or \"vm\"");
  }
  try {
    RunSpec::from_json(
        Json{
            {"platform", "vm"}, {"policy", "vtmm"}, {"vms", Json::array({{{"workload", "gups"}}})}},
        "spec t: run");
    FAIL() << "no error";
  } catch (const SpecError& e) {
    EXPECT_EQ(std::string(e.what()), "spec t: run: 'vms' multi-VM runs need platform \"sim\"");
  }
}

}  // namespace
}  // namespace vtmm
