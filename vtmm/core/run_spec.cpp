#include "vtmm/core/run_spec.hpp"

#include <cmath>

namespace vtmm {

Ratio parse_ratio(const std::string& s, const std::string& where) {
  const auto colon = s.find(':');
  auto bad = [&] { return SpecError(where + ": ratio \"" + s + "\" must be FAST:SLOW with both parts > 0, e.g. 1:4"); };
  if (colon == std::string::npos) throw bad();
  Ratio r;
  r.text = s;
  try {
    size_t used = 0;
    r.fast = std::stod(s.substr(0, colon), &used);
    if (used != colon) throw bad();
    const std::string rest = s.substr(colon + 1);
    r.slow = std::stod(rest, &used);
    if (used != rest.size()) throw bad();
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (!(r.fast > 0) || !(r.slow > 0) || !std::isfinite(r.fast) || !std::isfinite(r.slow)) throw bad();
  return r;
}

RunSpec RunSpec::from_json(const Json& j, const std::string& where) {
  Params p(j, where);
  RunSpec r;
  r.platform = p.get<std::string>("platform", "sim");
  if (r.platform != "sim" && r.platform != "vm") p.fail("platform", "must be \"sim\" or \"vm\"");
  if (p.has("platform_options")) {
    r.platform_options = p.raw("platform_options");
    if (!r.platform_options.is_object() || r.platform != "vm")
      p.fail("platform_options", "must be an object, and only with platform \"vm\"");
  }
  r.host = p.get<std::string>("host", "optane");
  if (p.has("host_overrides")) {
    r.host_overrides = p.raw("host_overrides");
    if (!r.host_overrides.is_object()) p.fail("host_overrides", "must be an object of host constants");
  }
  {
    Params vm = p.child("vm");
    r.vcpus = vm.get<uint32_t>("vcpus", 1);
    if (r.vcpus == 0 || r.vcpus > 256) vm.fail("vcpus", "must be between 1 and 256");
    r.memory_bytes = vm.get_bytes("memory", 0);
    r.ept_huge = vm.get<bool>("ept_huge", false);
    r.aged_guest = vm.get<bool>("aged_guest", false);
    vm.finish();
  }
  if (!p.has("workload")) throw SpecError(where + ": missing field 'workload'");
  r.workload = p.raw("workload");
  if (r.workload.is_string()) r.workload = Json{{"impl", r.workload}};
  if (!p.has("policy")) throw SpecError(where + ": missing field 'policy'");
  r.policy = p.raw("policy");
  if (r.policy.is_string()) r.policy = Json{{"impl", r.policy}};
  if (p.has("ratio") && !p.raw("ratio").is_null()) {
    const Json& rj = p.raw("ratio");
    if (!rj.is_string()) p.fail("ratio", "must be a string FAST:SLOW, e.g. \"1:4\"");
    r.ratio = parse_ratio(rj.get<std::string>(), where + ": 'ratio'");
  }
  r.fast_bytes = p.get_bytes("fast_bytes", 0);
  r.seed = p.get<uint64_t>("seed", 1);
  if (p.has("repeat")) r.repeat = p.get<uint32_t>("repeat", 0);
  p.finish();
  return r;
}

Json RunSpec::to_json() const {
  Json j;
  j["platform"] = platform;
  if (!platform_options.empty()) j["platform_options"] = platform_options;
  j["host"] = host;
  j["host_overrides"] = host_overrides;
  j["vm"] = {{"vcpus", vcpus}, {"memory", memory_bytes}, {"ept_huge", ept_huge}, {"aged_guest", aged_guest}};
  j["workload"] = workload;
  j["policy"] = policy;
  j["ratio"] = ratio ? Json(ratio->text) : Json(nullptr);
  j["fast_bytes"] = fast_bytes;
  j["seed"] = seed;
  if (repeat) j["repeat"] = *repeat;
  return j;
}

std::string RunSpec::policy_name() const {
  return policy.contains("label") && policy.at("label").is_string() ? policy.at("label").get<std::string>()
                                                                     : policy.value("impl", "?");
}

std::string RunSpec::label() const {
  std::string s = workload.value("impl", "?") + "/" + policy_name();
  if (ratio) s += "/" + ratio->text;
  if (fast_bytes) s += "/fast=" + format_bytes(fast_bytes);
  s += "/seed" + std::to_string(seed);
  return repeat ? s + "/rep" + std::to_string(*repeat) : s;
}

}  // namespace vtmm
