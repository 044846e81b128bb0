#include "vtmm/core/run_record.hpp"

#include "vtmm/core/build_info.hpp"

namespace vtmm {

Json open_record(const RunSpec& r, const std::string& host, bool ratio_shown) {
  Json rec;
  rec["schema"] = 1;
  rec["vtmm_version"] = build::kVersion;
  rec["git_commit"] = build::kGitCommit;
  rec["build_type"] = build::kBuildType;
  rec["platform"] = r.host.platform;
  rec["host"] = host;
  rec["workload"] = r.workload_name();
  rec["policy"] = r.policy_name();
  rec["policy_impl"] = r.policy.value("impl", "");
  rec["seed"] = r.options.seed;
  rec["ratio"] = ratio_shown && r.options.ratio ? Json(r.options.ratio->text) : Json(nullptr);
  rec["slowdown"] = nullptr;
  return rec;
}

void close_record(Json& rec, Json run_resolved, const Json& more) {
  Json config = more;
  config["run"] = std::move(run_resolved);
  rec["config"] = std::move(config);
}

}  // namespace vtmm
