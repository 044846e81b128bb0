#include "vtmm/core/record_identity.hpp"

#include "vtmm/core/build_info.hpp"

namespace vtmm {

Json record_identity(const RunSpec& r, const std::string& host) {
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
  return rec;
}

}  // namespace vtmm
