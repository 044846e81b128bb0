#include "vtmm/core/run_spec.hpp"

#include <cmath>
#include <map>
#include <set>

#include "vtmm/core/platform.hpp"

namespace vtmm {

Ratio parse_ratio(const std::string& s, const std::string& where) {
  const auto colon = s.find(':');
  auto bad = [&] {
    return SpecError(where + ": ratio \"" + s +
                     "\" must be FAST:SLOW with both parts > 0, e.g. 1:4");
  };
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
  if (!(r.fast > 0) || !(r.slow > 0) || !std::isfinite(r.fast) || !std::isfinite(r.slow))
    throw bad();
  return r;
}

namespace {

// A VM's shape, as the "vm" block and each entry of "vms" give it.
void read_shape(Params& p, VmSpec& v) {
  v.vcpus = p.get<uint32_t>("vcpus", 1);
  if (v.vcpus == 0 || v.vcpus > 256) p.fail("vcpus", "must be between 1 and 256");
  v.memory_bytes = p.get_bytes("memory", 0);
  v.ept_huge = p.get<bool>("ept_huge", false);
  v.guest_thp = p.get<bool>("guest_thp", false);
  v.aged_guest = p.get<bool>("aged_guest", false);
}

// The multi-VM part of a run: "vms", "host_memory", "fast_memory_sharing", "pool".
void parse_multi(Params& p, RunSpec& r, const std::string& where) {
  if (p.has("vm") || p.has("workload"))
    p.fail(p.has("vm") ? "vm" : "workload", "a multi-VM run gives each VM its own in 'vms'");
  const Json& list = p.raw("vms");
  if (!list.is_array() || list.empty()) p.fail("vms", "must be a non-empty list of VMs");
  r.multi_vm = true;
  r.vms.clear();
  for (size_t i = 0; i < list.size(); ++i) {
    VmSpec v = VmSpec::from_json(list[i], where + ": vms[" + std::to_string(i) + "]");
    if (v.name.empty()) v.name = "vm" + std::to_string(i);
    for (const VmSpec& o : r.vms)
      if (o.name == v.name)
        throw SpecError(where + ": vms[" + std::to_string(i) + "]: duplicate name '" + v.name +
                        "'");
    r.vms.push_back(std::move(v));
  }
  HostShare& share = r.host.share;
  share.sharing_given = p.has("fast_memory_sharing");
  share.sharing = p.get<std::string>("fast_memory_sharing", "static");
  if (share.sharing != "pool" && share.sharing != "static" && share.sharing != "proportional")
    p.fail("fast_memory_sharing", "must be \"pool\", \"static\" or \"proportional\"");
  if (p.has("host_memory")) {
    Params hm = p.child("host_memory");
    share.fast_bytes = hm.get_bytes("fast", 0);
    share.memory_bytes = hm.get_bytes("total", 0);
    share.allow_memory_overcommit = hm.get<bool>("allow_overcommit", false);
    hm.finish();
  }
  if (p.has("pool")) {
    share.pool = p.raw("pool");
    if (!share.pool.is_object()) p.fail("pool", "must be an object of pool parameters");
  }
}

// The single VM of a run: its "vm" block and "workload".
void parse_single(Params& p, VmSpec& v, const std::string& where) {
  for (const char* k : {"host_memory", "fast_memory_sharing", "pool"})
    if (p.has(k)) p.fail(k, "belongs to multi-VM runs (a 'vms' list)");
  Params vm = p.child("vm");
  read_shape(vm, v);
  v.initial_tier = vm.get<std::string>("initial_tier", "policy");
  if (v.initial_tier != "policy" && v.initial_tier != "slow")
    vm.fail("initial_tier", "must be \"policy\" or \"slow\"");
  v.policy_thread_core = vm.get<std::string>("policy_thread_core", "spare");
  if (v.policy_thread_core != "spare" && v.policy_thread_core != "vcpu0")
    vm.fail("policy_thread_core", "must be \"spare\" or \"vcpu0\"");
  vm.finish();
  if (!p.has("workload")) throw SpecError(where + ": missing field 'workload'");
  v.workload = component_spec(p.raw("workload"), where + ".workload", "workload");
}

}  // namespace

namespace {

// The registered platforms that `pick` accepts, quoted: "\"sim\" or \"vm\"".
template <class Pick>
std::string platform_names(Pick pick, const std::string& last_sep) {
  std::vector<std::string> names;
  for (const auto& e : PlatformRegistry::instance().entries())
    if (pick(*make_platform(e.name))) names.push_back("\"" + e.name + "\"");
  std::string out;
  for (size_t i = 0; i < names.size(); ++i)
    out += (i == 0 ? "" : i + 1 == names.size() ? last_sep : ", ") + names[i];
  return out;
}

}  // namespace

VmSpec VmSpec::from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw SpecError(where + ": must be an object, got " + json_kind(j));
  Params p(j, where);
  VmSpec v;
  v.name = p.get<std::string>("name", "");
  read_shape(p, v);
  if (!p.has("workload")) throw SpecError(where + ": missing field 'workload'");
  v.workload = component_spec(p.raw("workload"), where + ".workload", "workload");
  v.fast_share_bytes = p.get_bytes("fast_share", 0);
  v.start_ms = p.get<double>("start_ms", 0.0);
  if (!(v.start_ms >= 0) || !std::isfinite(v.start_ms))
    p.fail("start_ms", "must be a finite time >= 0");
  p.finish();
  return v;
}

Json VmSpec::to_json() const {
  Json j{{"name", name},
         {"vcpus", vcpus},
         {"memory", memory_bytes},
         {"ept_huge", ept_huge},
         {"aged_guest", aged_guest},
         {"workload", workload},
         {"fast_share", fast_share_bytes},
         {"start_ms", start_ms}};
  if (guest_thp) j["guest_thp"] = true;  // only when set: records without it stay as they were
  return j;
}

RunSpec RunSpec::from_json(const Json& j, const std::string& where) {
  Params p(j, where);
  RunSpec r;
  HostSpec& h = r.host;
  h.platform = p.get<std::string>("platform", "sim");
  if (PlatformRegistry::instance().find(h.platform) == nullptr)
    p.fail("platform", "must be " + platform_names([](const Platform&) { return true; }, " or "));
  const std::unique_ptr<Platform> platform = make_platform(h.platform);
  if (p.has("platform_options")) {
    h.platform_options = p.raw("platform_options");
    if (!h.platform_options.is_object() || !platform->takes_options())
      p.fail("platform_options",
             "must be an object, and only with platform " +
                 platform_names([](const Platform& x) { return x.takes_options(); }, " or "));
  }
  h.profile = p.get<std::string>("host", "optane");
  if (p.has("host_overrides")) {
    h.overrides = p.raw("host_overrides");
    if (!h.overrides.is_object()) p.fail("host_overrides", "must be an object of host constants");
  }
  if (p.has("vms")) {
    if (!platform->multi_vm())
      p.fail("vms", "multi-VM runs need platform " +
                        platform_names([](const Platform& x) { return x.multi_vm(); }, " or "));
    parse_multi(p, r, where);
  } else {
    parse_single(p, r.vm(), where);
  }
  if (!p.has("policy")) throw SpecError(where + ": missing field 'policy'");
  r.policy = component_spec(p.raw("policy"), where + ".policy", "policy");
  RunOptions& o = r.options;
  if (p.has("ratio") && !p.raw("ratio").is_null()) {
    const Json& rj = p.raw("ratio");
    if (!rj.is_string())
      p.fail("ratio", "must be a string FAST:SLOW, e.g. \"1:4\", got " + json_kind(rj));
    o.ratio = parse_ratio(rj.get<std::string>(), where + ": 'ratio'");
  }
  o.fast_bytes = p.get_bytes("fast_bytes", 0);
  o.seed = p.get<uint64_t>("seed", 1);
  if (p.has("repeat")) o.repeat = p.get<uint32_t>("repeat", 0);
  p.finish();
  return r;
}

Json RunSpec::to_json() const {
  Json j;
  j["platform"] = host.platform;
  if (!host.platform_options.empty()) j["platform_options"] = host.platform_options;
  j["host"] = host.profile;
  j["host_overrides"] = host.overrides;
  if (multi()) {
    Json list = Json::array();
    for (const VmSpec& v : vms) list.push_back(v.to_json());
    j["vms"] = list;
    const HostShare& share = host.share;
    if (share.sharing_given) j["fast_memory_sharing"] = share.sharing;
    j["host_memory"] = {{"fast", share.fast_bytes},
                        {"total", share.memory_bytes},
                        {"allow_overcommit", share.allow_memory_overcommit}};
    j["pool"] = share.pool;
  } else {
    const VmSpec& v = vm();
    j["vm"] = {{"vcpus", v.vcpus},
               {"memory", v.memory_bytes},
               {"ept_huge", v.ept_huge},
               {"aged_guest", v.aged_guest}};
    // Each only when set: records without it stay as they were.
    if (v.guest_thp) j["vm"]["guest_thp"] = true;
    if (v.initial_tier != "policy") j["vm"]["initial_tier"] = v.initial_tier;
    if (v.policy_thread_core != "spare") j["vm"]["policy_thread_core"] = v.policy_thread_core;
    j["workload"] = v.workload;
  }
  j["policy"] = policy;
  j["ratio"] = options.ratio ? Json(options.ratio->text) : Json(nullptr);
  j["fast_bytes"] = options.fast_bytes;
  j["seed"] = options.seed;
  if (options.repeat) j["repeat"] = *options.repeat;
  return j;
}

std::string RunSpec::policy_name() const {
  return policy.contains("label") && policy.at("label").is_string()
             ? policy.at("label").get<std::string>()
             : policy.value("impl", "?");
}

std::string RunSpec::workload_name() const {
  return multi() ? "multi-vm" : vm().workload.value("impl", "");
}

std::string RunSpec::label() const {
  const HostShare& share = host.share;
  std::string s = multi() ? std::to_string(vms.size()) + "vms/" + policy_name() +
                                (share.sharing_given ? "/" + share.sharing : std::string())
                          : vm().workload.value("impl", "?") + "/" + policy_name();
  if (options.ratio) s += "/" + options.ratio->text;
  if (options.fast_bytes) s += "/fast=" + format_bytes(options.fast_bytes);
  s += "/seed" + std::to_string(options.seed);
  return options.repeat ? s + "/rep" + std::to_string(*options.repeat) : s;
}

namespace {

// "path=value" for every leaf of j (arrays as one value), in key order.
void leaves(const Json& j, const std::string& path, std::map<std::string, std::string>& out) {
  if (j.is_object() && !j.empty()) {
    for (const auto& [k, v] : j.items()) leaves(v, path.empty() ? k : path + "." + k, out);
    return;
  }
  out[path] = j.is_string() ? j.get<std::string>() : j.dump();
}

}  // namespace

std::vector<std::string> distinct_labels(const std::vector<RunSpec>& runs) {
  constexpr size_t kMaxKeys = 3;
  std::vector<std::string> labels;
  std::map<std::string, std::vector<size_t>> same;  // label -> runs that print it
  for (size_t i = 0; i < runs.size(); ++i) {
    labels.push_back(runs[i].label());
    same[labels.back()].push_back(i);
  }
  for (const auto& [label, group] : same) {
    if (group.size() < 2) continue;
    std::vector<std::map<std::string, std::string>> flat(group.size());
    for (size_t g = 0; g < group.size(); ++g) leaves(runs[group[g]].to_json(), "", flat[g]);
    std::set<std::string> keys;
    for (const auto& f : flat)
      for (const auto& [k, v] : f) keys.insert(k);
    const auto value = [&](size_t g, const std::string& k) {
      return flat[g].count(k) ? flat[g].at(k) : std::string("-");
    };
    std::vector<std::string> differing;
    for (const std::string& k : keys) {
      for (size_t g = 1; g < group.size(); ++g)
        if (value(g, k) != value(0, k)) {
          differing.push_back(k);
          break;
        }
      if (differing.size() == kMaxKeys) break;
    }
    for (size_t g = 0; g < group.size(); ++g)
      for (const std::string& k : differing) labels[group[g]] += " " + k + "=" + value(g, k);
  }
  return labels;
}

}  // namespace vtmm
