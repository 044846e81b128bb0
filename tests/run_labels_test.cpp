// Progress labels of a sweep (distinct_labels in vtmm/core/run_spec.hpp):
// a run whose label is its own keeps it; runs that would print the same
// label get the settings that tell them apart.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "vtmm/core/run_spec.hpp"

namespace vtmm {
namespace run_labels_test {

RunSpec run(const std::string& policy, const Json& workload_params) {
  Json wl = {{"impl", "gups"}};
  for (const auto& [k, v] : workload_params.items()) wl[k] = v;
  return RunSpec::from_json(Json{{"workload", wl}, {"policy", policy}, {"ratio", "1:4"}}, "test");
}

TEST(RunLabels, UniqueLabelsStayAsTheyAre) {
  const std::vector<RunSpec> runs = {run("vtmm", Json::object()),
                                     run("first-touch", Json::object())};
  const std::vector<std::string> labels = distinct_labels(runs);
  ASSERT_EQ(labels.size(), 2u);
  EXPECT_EQ(labels[0], runs[0].label());
  EXPECT_EQ(labels[1], runs[1].label());
}

TEST(RunLabels, RunsThatPrintTheSameLabelShowWhatDiffers) {
  const std::vector<RunSpec> runs = {run("vtmm", {{"footprint", "64MiB"}}),
                                     run("vtmm", {{"footprint", "128MiB"}}),
                                     run("first-touch", {{"footprint", "64MiB"}})};
  ASSERT_EQ(runs[0].label(), runs[1].label()) << "the case this is for";
  const std::vector<std::string> labels = distinct_labels(runs);
  EXPECT_EQ(labels[0], runs[0].label() + " workload.footprint=64MiB");
  EXPECT_EQ(labels[1], runs[1].label() + " workload.footprint=128MiB");
  EXPECT_EQ(labels[2], runs[2].label()) << "alone with its label";
}

TEST(RunLabels, AtMostThreeSettingsAreNamed) {
  const std::vector<RunSpec> runs = {run("vtmm", {{"footprint", "64MiB"},
                                                  {"hot_fraction", 0.1},
                                                  {"updates", 1000},
                                                  {"warmup_updates", 10}}),
                                     run("vtmm", {{"footprint", "128MiB"},
                                                  {"hot_fraction", 0.2},
                                                  {"updates", 2000},
                                                  {"warmup_updates", 20}})};
  const std::string l = distinct_labels(runs)[0];
  size_t named = 0;
  for (size_t at = l.find('='); at != std::string::npos; at = l.find('=', at + 1)) ++named;
  EXPECT_EQ(named, 3u) << l;
}

}  // namespace run_labels_test
}  // namespace vtmm
