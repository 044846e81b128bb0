#pragma once
// Every run record is opened and closed here, whatever ran it: the
// simulator's single- and multi-VM runs, a real VM, a run that failed. The
// platform puts its measures in between. A successful and a failed record of
// the same run carry the same opening fields, so they sort and plot side by
// side.
#include <string>

#include "vtmm/core/params.hpp"
#include "vtmm/core/run_spec.hpp"

namespace vtmm {

// schema, vtmm_version, git_commit, build_type, platform, host, workload,
// policy, policy_impl and seed; ratio (the spec's FAST:SLOW when
// `ratio_shown` and the spec gave one, else null); slowdown (null: the
// runner fills it against the experiment's reference). host is the profile's
// name as the platform resolved it (the spec's name when the run never got
// that far).
Json open_record(const RunSpec& r, const std::string& host, bool ratio_shown);

// config: {"run": run_resolved (the spec with its components' parameters as
// resolved), and each member of `more`} (host constants, model version, guest
// image: what else decided the numbers).
void close_record(Json& rec, Json run_resolved, const Json& more = Json::object());

}  // namespace vtmm
