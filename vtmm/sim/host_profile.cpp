#include "vtmm/sim/host_profile.hpp"

#include <algorithm>
#include <cmath>
#include <cstdlib>
#include <filesystem>
#include <fstream>
#include <functional>

#include "vtmm/core/json_input.hpp"

namespace vtmm::sim {
namespace {

// Where one constant lives: a double, or a count (a whole number from min
// to max, stored as uint32_t or uint64_t). Setting a count checks it.
struct Slot {
  double* real = nullptr;
  uint32_t* count = nullptr;
  uint64_t* count64 = nullptr;
  uint64_t min = 1, max = 0;

  bool known() const { return real != nullptr || count != nullptr || count64 != nullptr; }
  double get() const {
    if (real != nullptr) return *real;
    return count != nullptr ? static_cast<double>(*count) : static_cast<double>(*count64);
  }
  void set(double v, const std::string& key) const {
    if (real != nullptr) {
      *real = v;
      return;
    }
    if (!(v >= static_cast<double>(min)) || v > static_cast<double>(max) || v != std::floor(v)) {
      if (min == 0 && max == 1) throw SpecError("host: '" + key + "' must be 0 or 1");
      throw SpecError("host: '" + key + "' must be a whole number from " + std::to_string(min) +
                      " to " + std::to_string(max));
    }
    if (count != nullptr)
      *count = static_cast<uint32_t>(v);
    else
      *count64 = static_cast<uint64_t>(v);
  }
};

// The one table that names every host-wide constant; loading, overriding
// and printing all walk it, so a new constant is one line here and one in
// the struct. A count's bounds are generous (a 64-way LLC, 64 Ki TLB
// entries, 4 GiB of LLC): beyond them the simulator's arrays would be
// absurd, not realistic.
struct FieldDef {
  const char* name;
  double HostProfile::*real;
  uint32_t HostProfile::*count;
  uint64_t HostProfile::*count64;
  uint64_t min, max;
};
constexpr FieldDef real(const char* n, double HostProfile::*m) {
  return {n, m, nullptr, nullptr, 0, 0};
}
constexpr FieldDef count(const char* n, uint32_t HostProfile::*m, uint64_t max, uint64_t min = 1) {
  return {n, nullptr, m, nullptr, min, max};
}
const FieldDef kFields[] = {
    {"llc_bytes", nullptr, nullptr, &HostProfile::llc_bytes, 1, uint64_t{4} << 30},
    count("llc_ways", &HostProfile::llc_ways, 64),
    real("llc_hit_ns", &HostProfile::llc_hit_ns),
    count("tlb_l1_entries", &HostProfile::tlb_l1_entries, 65536),
    count("tlb_l1_ways", &HostProfile::tlb_l1_ways, 64),
    count("tlb_l1_huge_entries", &HostProfile::tlb_l1_huge_entries, 65536),
    count("tlb_l2_entries", &HostProfile::tlb_l2_entries, 65536),
    count("tlb_l2_ways", &HostProfile::tlb_l2_ways, 64),
    real("tlb_l2_hit_ns", &HostProfile::tlb_l2_hit_ns),
    real("walk_ns", &HostProfile::walk_ns),
    count("page_walkers", &HostProfile::page_walkers, 64),
    real("scan_mlp", &HostProfile::scan_mlp),
    real("vm_exit_ns", &HostProfile::vm_exit_ns),
    real("ept_violation_ns", &HostProfile::ept_violation_ns),
    real("tlb_shootdown_ns", &HostProfile::tlb_shootdown_ns),
    real("page_fault_ns", &HostProfile::page_fault_ns),
    real("pte_scan_ns", &HostProfile::pte_scan_ns),
    real("ept_bit_ns", &HostProfile::ept_bit_ns),
    real("pml_entry_ns", &HostProfile::pml_entry_ns),
    count("pml_buffer_entries", &HostProfile::pml_buffer_entries, 65536),
    real("migrate_page_ns", &HostProfile::migrate_page_ns),
    real("hint_fault_ns", &HostProfile::hint_fault_ns),
    real("pebs_assist_ns", &HostProfile::pebs_assist_ns),
    real("pebs_drain_ns", &HostProfile::pebs_drain_ns),
    count("sample_buffer_entries", &HostProfile::sample_buffer_entries, 1u << 24),
    real("copy_gbps", &HostProfile::copy_gbps),
    count("host_cores", &HostProfile::host_cores, 65536),
    real("page_alloc_ns", &HostProfile::page_alloc_ns),
    count("subpage_ad_bits", &HostProfile::subpage_ad_bits, 1, 0),
};

Slot tier_field(HostProfile& h, const std::string& key) {
  for (int t = 0; t < kTiers; ++t) {
    const std::string prefix = std::string(tier_name(static_cast<Tier>(t))) + ".";
    if (key.rfind(prefix, 0) != 0) continue;
    const std::string rest = key.substr(prefix.size());
    TierCosts& c = h.tier[t];
    if (rest == "read_latency_ns") return Slot{&c.read_latency_ns};
    if (rest == "read_bw_gbps") return Slot{&c.read_bw_gbps};
    if (rest == "write_bw_gbps") return Slot{&c.write_bw_gbps};
    if (rest == "access_unit_bytes")
      return Slot{nullptr, nullptr, &c.access_unit_bytes, 1, kMaxBytes};
    if (rest == "write_queue_bytes")
      return Slot{nullptr, nullptr, &c.write_queue_bytes, 1, kMaxBytes};
  }
  return {};
}

std::vector<LoadPoint>* curve_field(HostProfile& h, const std::string& key) {
  for (int t = 0; t < kTiers; ++t)
    if (key == std::string(tier_name(static_cast<Tier>(t))) + ".loaded_latency")
      return &h.tier[t].loaded_latency;
  return nullptr;
}

// A curve as JSON: [[u, ns], ...], u from 0 and rising, ns finite and >= 0.
std::vector<LoadPoint> parse_curve(const Json& v, const std::string& what) {
  const std::string shape =
      what + " must be [[utilisation, added ns], ...] starting at utilisation 0";
  if (!v.is_array() || v.empty() || v.size() > 64) throw SpecError(shape + " (1 to 64 points)");
  std::vector<LoadPoint> out;
  for (const Json& p : v) {
    if (!p.is_array() || p.size() != 2 || !p[0].is_number() || !p[1].is_number())
      throw SpecError(shape);
    const LoadPoint lp{p[0].get<double>(), p[1].get<double>()};
    if (!std::isfinite(lp.u) || !std::isfinite(lp.ns) || lp.ns < 0 || lp.u > 4)
      throw SpecError(shape);
    if (out.empty() ? lp.u != 0 : lp.u <= out.back().u)
      throw SpecError(what + ": utilisations must start at 0 and rise");
    out.push_back(lp);
  }
  return out;
}

Slot field(HostProfile& h, const std::string& key) {
  for (const FieldDef& f : kFields)
    if (key == f.name) {
      if (f.real != nullptr) return Slot{&(h.*f.real)};
      if (f.count != nullptr) return Slot{nullptr, &(h.*f.count), nullptr, f.min, f.max};
      return Slot{nullptr, nullptr, &(h.*f.count64), f.min, f.max};
    }
  return tier_field(h, key);
}

std::vector<std::string> all_keys() {
  std::vector<std::string> keys;
  for (int t = 0; t < kTiers; ++t)
    for (const char* k : {"read_latency_ns", "read_bw_gbps", "write_bw_gbps", "access_unit_bytes",
                          "write_queue_bytes", "loaded_latency"})
      keys.push_back(std::string(tier_name(static_cast<Tier>(t))) + "." + k);
  for (const FieldDef& f : kFields) keys.emplace_back(f.name);
  return keys;
}

Json read_json_file(const std::string& path, const std::string& what) {
  std::ifstream in(path);
  if (!in) throw SpecError(what + ": cannot open " + path);
  try {
    return parse_json(in);
  } catch (const Json::parse_error& e) {
    throw SpecError(what + ": malformed JSON in " + path + " (" + parse_error_reason(e) + ")");
  } catch (const JsonTooDeep& e) {
    throw SpecError(what + ": " + path + ": " + e.what());
  }
}

void load_into(HostProfile& h, const std::string& name, std::vector<std::string>& seen, int depth) {
  if (depth > 8) throw SpecError("host profile '" + name + "': base chain too deep");
  namespace fs = std::filesystem;
  std::string path = name;
  if (!fs::is_regular_file(path) || name.find('/') == std::string::npos)
    path = data_dir() + "/experiments/hosts/" + name + ".json";
  if (!fs::is_regular_file(path))
    throw SpecError("host: unknown host profile '" + name + "' (see `vtmm list`)");
  const Json j = read_json_file(path, "host profile '" + name + "'");
  if (!j.is_object()) throw SpecError("host profile '" + name + "': expected a JSON object");
  if (j.contains("base")) load_into(h, j.at("base").get<std::string>(), seen, depth + 1);
  for (auto it = j.begin(); it != j.end(); ++it) {
    const std::string& key = it.key();
    if (key == "name" || key == "description" || key == "base") continue;
    const Slot f = field(h, key);
    std::vector<LoadPoint>* curve = curve_field(h, key);
    if (!f.known() && curve == nullptr)
      throw SpecError("host profile '" + name + "': unknown constant '" + key + "'");
    const Json& v = it.value();
    if (!v.is_object() || !v.contains("value") ||
        (curve == nullptr && !v.at("value").is_number()) || !v.contains("source") ||
        !v.at("source").is_string() || v.at("source").get<std::string>().empty())
      throw SpecError("host profile '" + name + "': '" + key + "' must be {\"value\": " +
                      (curve != nullptr ? "[[u, ns], ...]" : "number") + ", \"source\": text}");
    if (curve != nullptr)
      *curve = parse_curve(v.at("value"), "host profile '" + name + "': '" + key + "'");
    else
      f.set(v.at("value").get<double>(), key);
    seen.push_back(key);
  }
}

// Counts were checked as they were set (Slot::set); the rest must be
// positive and finite, and set-associative arrays split into whole sets.
void check_constants(HostProfile& h) {
  for (const auto& key : all_keys()) {
    const Slot f = field(h, key);
    if (!f.known() || f.real == nullptr) continue;  // a curve (checked when parsed) or a count
    if (!(*f.real > 0) || !std::isfinite(*f.real))
      throw SpecError("host: '" + key + "' must be positive and finite");
  }
  const auto divides = [](const char* entries, uint32_t e, const char* ways, uint32_t w) {
    if (w > e || e % w != 0)
      throw SpecError(std::string("host: '") + ways + "' (" + std::to_string(w) +
                      ") must divide '" + entries + "' (" + std::to_string(e) + ")");
  };
  divides("tlb_l1_entries", h.tlb_l1_entries, "tlb_l1_ways", h.tlb_l1_ways);
  divides("tlb_l2_entries", h.tlb_l2_entries, "tlb_l2_ways", h.tlb_l2_ways);
  // The LLC is not held to this: its sets are llc_bytes / 64 / llc_ways rounded
  // down (Llc::init), so a test's 4 MiB, 11-way cache is 5957 sets of 11.
  if (h.llc_ways > h.llc_bytes / 64)
    throw SpecError("host: 'llc_ways' must not exceed the LLC's lines (llc_bytes / 64)");
}

}  // namespace

std::string data_dir() {
  if (const char* home = std::getenv("VTMM_HOME"); home != nullptr && *home != '\0') return home;
  return VTMM_SOURCE_DIR;
}

HostProfile HostProfile::load(const std::string& name, const Json& overrides) {
  HostProfile h;
  std::vector<std::string> seen;
  load_into(h, name, seen, 0);
  h.name = name;
  for (const auto& key : all_keys())
    if (std::find(seen.begin(), seen.end(), key) == seen.end())
      throw SpecError("host profile '" + name + "': missing constant '" + key + "'");
  if (!overrides.is_null()) {
    if (!overrides.is_object()) throw SpecError("host overrides: expected a JSON object");
    for (auto it = overrides.begin(); it != overrides.end(); ++it) {
      if (std::vector<LoadPoint>* curve = curve_field(h, it.key())) {
        *curve = parse_curve(it.value(), "host: '" + it.key() + "'");
        continue;
      }
      const Slot f = field(h, it.key());
      if (!f.known()) throw SpecError("host: unknown constant '" + it.key() + "'");
      if (it.value().is_string()) {
        f.set(static_cast<double>(parse_bytes(it.value(), "host: '" + it.key() + "'")), it.key());
      } else if (it.value().is_number()) {
        f.set(it.value().get<double>(), it.key());
      } else {
        throw SpecError("host: '" + it.key() + "' must be a number");
      }
    }
  }
  check_constants(h);
  return h;
}

Json HostProfile::to_json() const {
  Json j = Json::object();
  HostProfile copy = *this;
  for (const auto& key : all_keys()) {
    if (const std::vector<LoadPoint>* curve = curve_field(copy, key)) {
      Json points = Json::array();
      for (const LoadPoint& p : *curve) points.push_back({p.u, p.ns});
      j[key] = points;
    } else {
      j[key] = field(copy, key).get();  // a double, counts included: run keys stay as they were
    }
  }
  return j;
}

double TierCosts::load_ns(double u) const {
  if (loaded_latency.empty() || u <= 0) return 0;
  for (size_t i = 1; i < loaded_latency.size(); ++i) {
    const LoadPoint &a = loaded_latency[i - 1], &b = loaded_latency[i];
    if (u < b.u) return a.ns + (b.ns - a.ns) * (u - a.u) / (b.u - a.u);
  }
  return loaded_latency.back().ns;
}

std::vector<std::string> list_host_profiles() {
  std::vector<std::string> out;
  const auto dir = std::filesystem::path(data_dir()) / "experiments" / "hosts";
  if (std::filesystem::exists(dir))
    for (const auto& e : std::filesystem::directory_iterator(dir))
      if (e.path().extension() == ".json") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

}  // namespace vtmm::sim
