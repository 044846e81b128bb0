#pragma once
// The fields every run record opens with: the build that wrote it and what
// was run. A successful and a failed record of the same run carry the same
// ones, so they sort and plot side by side.
#include <string>

#include "vtmm/core/params.hpp"
#include "vtmm/core/run_spec.hpp"

namespace vtmm {

// schema, vtmm_version, git_commit, build_type, platform, host, workload,
// policy, policy_impl and seed. host is the profile's name as the platform
// resolved it (the spec's name when the run never got that far).
Json record_identity(const RunSpec& r, const std::string& host);

}  // namespace vtmm
