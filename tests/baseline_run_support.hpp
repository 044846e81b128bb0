#pragma once
// Whole short runs for baseline tests: gups with its hot set touched last
// (first-touch leaves it in slow memory at 1:4), small enough for CI.
#include <gtest/gtest.h>

#include <string>

#include "vtmm/core/run_spec.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm::test {

inline Json gups_hot_last(const Json& policy, const std::string& ratio = "1:4") {
  return Json{{"workload",
               {{"impl", "gups"},
                {"footprint", "128MiB"},
                {"updates", 3000000},
                {"warmup_updates", 1000000},
                {"hot_offset", "end"}}},
              {"policy", policy},
              {"ratio", ratio},
              {"host_overrides", {{"llc_bytes", "4MiB"}}},
              {"seed", 3}};
}

inline Json run_record(const Json& run) { return sim::simulate(RunSpec::from_json(run, "test")); }

inline double run_time(const Json& run) { return run_record(run).at("sim_time_s").get<double>(); }

}  // namespace vtmm::test
