#pragma once
// One run, fully described: what `vtmm sim` builds from flags and what the
// experiment runner expands a spec into. Its JSON form is the "run" block of
// a spec and the "config.run" block of a record.
#include <optional>
#include <string>

#include "vtmm/core/params.hpp"

namespace vtmm {

struct Ratio {
  double fast = 1, slow = 1;
  std::string text;  // as the user wrote it, e.g. "1:4"
};
// "F:S" with F, S > 0. Throws SpecError naming `where`.
Ratio parse_ratio(const std::string& s, const std::string& where);

struct RunSpec {
  std::string platform = "sim";
  Json platform_options = Json::object();  // vm only: checked by vtmm/platform/vm_run.cpp
  std::string host = "optane";
  Json host_overrides = Json::object();
  uint32_t vcpus = 1;
  uint64_t memory_bytes = 0;  // 0: the footprint plus page tables, rounded up to 2 MiB
  bool ept_huge = false;
  bool aged_guest = false;
  Json workload = Json::object();  // {"impl": name, params...}
  Json policy = Json::object();
  std::optional<Ratio> ratio;  // fast:slow split of guest memory
  uint64_t fast_bytes = 0;     // or an absolute fast allowance (0: use ratio)
  uint64_t seed = 1;
  // Which repetition of an otherwise identical run (set by the runner when a
  // spec asks for "repeat" > 1; absent otherwise, so run keys stay as they were).
  std::optional<uint32_t> repeat;

  static RunSpec from_json(const Json& j, const std::string& where);
  Json to_json() const;
  std::string label() const;  // "gups/first-touch/1:4/seed1"
  // The policy's label if the spec gives one, else its registered name.
  std::string policy_name() const;
};

}  // namespace vtmm
