// Experiment names resolve to experiments/<name>.json even when a folder of
// the same name sits in the working directory (workloads/ does).
#include <gtest/gtest.h>

#include <filesystem>

#include "vtmm/core/error.hpp"
#include "vtmm/runner/experiment.hpp"

namespace spec_path_test {

TEST(SpecPath, BareNameIsAnExperimentEvenBesideAFolderOfThatName) {
  ASSERT_TRUE(std::filesystem::is_directory("workloads"));  // tests run from the source root
  const std::string p = vtmm::runner::resolve_spec_path("workloads");
  EXPECT_TRUE(std::filesystem::is_regular_file(p));
  EXPECT_NE(p.find("experiments/workloads.json"), std::string::npos);
}

TEST(SpecPath, PathsAreTakenAsGiven) {
  EXPECT_EQ(vtmm::runner::resolve_spec_path("experiments/smoke.json"), "experiments/smoke.json");
  EXPECT_THROW(vtmm::runner::resolve_spec_path("workloads/"), vtmm::SpecError);
  EXPECT_THROW(vtmm::runner::resolve_spec_path("no-such-experiment"), vtmm::SpecError);
}

TEST(SpecPath, EveryShippedExperimentLoads) {
  for (const auto& name : vtmm::runner::list_experiments()) {
    SCOPED_TRACE(name);
    EXPECT_NO_THROW(vtmm::runner::load_experiment(name, false));
    EXPECT_NO_THROW(vtmm::runner::load_experiment(name, true));
  }
}

}  // namespace spec_path_test
