#include "vtmm/runner/compare.hpp"

#include <cmath>
#include <filesystem>
#include <fstream>
#include <map>
#include <set>
#include <sstream>

#include "vtmm/core/json_input.hpp"
#include "vtmm/runner/experiment.hpp"

namespace vtmm::runner {
namespace fs = std::filesystem;

RecordSet load_record_set(const std::string& given, const std::string& role) {
  fs::path file = given;
  const std::string who = "compare: " + role + " ";
  if (fs::is_directory(file)) {
    file /= "runs.jsonl";
    if (!fs::is_regular_file(file)) throw SpecError(who + given + ": a folder without runs.jsonl");
  } else if (!fs::is_regular_file(file)) {
    throw SpecError(who + given + ": no such results folder or runs.jsonl file");
  }
  std::ifstream in(file, std::ios::binary);
  if (!in) throw SpecError(who + file.string() + ": cannot open");
  std::stringstream ss;
  ss << in.rdbuf();
  const std::string text = ss.str();
  RecordSet set;
  set.path = file.string();
  size_t pos = 0, line_no = 0;
  while (pos < text.size()) {
    size_t nl = text.find('\n', pos);
    if (nl == std::string::npos) nl = text.size();
    const std::string line = text.substr(pos, nl - pos);
    const size_t start = pos;
    pos = nl + 1;
    ++line_no;
    if (line.find_first_not_of(" \t\r") == std::string::npos) continue;
    const std::string at = who + set.path + ": line " + std::to_string(line_no);
    Json r;
    try {
      r = parse_json(line);
    } catch (const Json::parse_error& e) {
      // e.byte is 1-based within the line; name both it and the file offset.
      const size_t col = e.byte == 0 ? 1 : e.byte;
      throw SpecError(at + ", byte " + std::to_string(col) + " (file offset " +
                      std::to_string(start + col - 1) +
                      "): malformed JSON: " + parse_error_reason(e));
    } catch (const JsonTooDeep& e) {
      throw SpecError(at + " (file offset " + std::to_string(start) + "): " + e.what());
    }
    if (!r.is_object() || !r.contains("config") || !r.at("config").is_object() ||
        !r.at("config").contains("run") || !r.at("config").at("run").is_object())
      throw SpecError(at + " (file offset " + std::to_string(start) +
                      "): not a vtmm run record (no config.run object)");
    set.records.push_back(std::move(r));
  }
  if (set.records.empty()) throw SpecError(who + set.path + ": holds no run records");
  return set;
}

double parse_percent(const std::string& text, const std::string& what) {
  auto bad = [&] { return SpecError(what + ": \"" + text + "\" must be a percentage such as 5%"); };
  if (text.size() < 2 || text.back() != '%') throw bad();
  const std::string num = text.substr(0, text.size() - 1);
  size_t used = 0;
  double v = 0;
  try {
    v = std::stod(num, &used);
  } catch (const std::logic_error&) {
    throw bad();
  }
  if (used != num.size() || !std::isfinite(v) || v < 0) throw bad();
  return v / 100;
}

Direction metric_direction(const std::string& metric,
                           const std::optional<Direction>& override_dir) {
  if (override_dir) return *override_dir;
  static const std::set<std::string> lower = {
      "sim_time_s",  "wall_s",       "slowdown",   "tracking_cpu_s", "vm_exits",     "tlb_flushes",
      "pml_entries", "copied_bytes", "llc_misses", "promoted_pages", "demoted_pages"};
  static const std::set<std::string> higher = {"throughput", "fast_hit_ratio",
                                               "policy_metrics.hotset_precision",
                                               "policy_metrics.hotset_recall"};
  if (lower.count(metric)) return Direction::LowerIsBetter;
  if (higher.count(metric)) return Direction::HigherIsBetter;
  throw SpecError(
      "compare: metric '" + metric +
      "' has no known direction; say which way is better with --direction lower|higher");
}

namespace {

const Json* field(const Json& rec, const std::string& dotted) {
  const Json* j = &rec;
  size_t pos = 0;
  for (;;) {
    const size_t dot = dotted.find('.', pos);
    const std::string part =
        dotted.substr(pos, dot == std::string::npos ? std::string::npos : dot - pos);
    if (!j->is_object() || !j->contains(part)) return nullptr;
    j = &j->at(part);
    if (dot == std::string::npos) return j;
    pos = dot + 1;
  }
}

bool record_failed(const Json& rec) { return rec.contains("status") && rec.at("status") != "ok"; }

std::string component_name(const Json& c) {
  if (c.is_string()) return c.get<std::string>();
  if (!c.is_object()) return "?";
  if (c.contains("label") && c.at("label").is_string()) return c.at("label").get<std::string>();
  return c.value("impl", "?");
}

// The configuration with the repeat-varying fields removed.
Json fine_key(const Json& rec) {
  Json k = rec.at("config").at("run");
  k.erase("seed");
  k.erase("repeat");
  return k;
}

Json coarse_key(const Json& rec) {
  Json k = fine_key(rec);
  if (k.contains("workload")) k["workload"] = component_name(k.at("workload"));
  if (k.contains("policy")) k["policy"] = component_name(k.at("policy"));
  return k;
}

std::string label_of(const Json& rec) {
  const Json& run = rec.at("config").at("run");
  const bool multi = run.contains("vms") && run.at("vms").is_array();
  std::string s = run.value("host", "?") + "/" +
                  (multi ? std::to_string(run.at("vms").size()) + "vms"
                         : component_name(run.value("workload", Json()))) +
                  "/" + component_name(run.value("policy", Json()));
  if (multi && run.contains("fast_memory_sharing") && run.at("fast_memory_sharing").is_string())
    s += "/" + run.at("fast_memory_sharing").get<std::string>();
  if (run.contains("ratio") && run.at("ratio").is_string())
    s += "/" + run.at("ratio").get<std::string>();
  if (run.contains("fast_bytes") && run.at("fast_bytes").is_number() &&
      run.at("fast_bytes").get<double>() > 0)
    s += "/fast=" + run.at("fast_bytes").dump();
  if (run.contains("vm") && run.at("vm").is_object() && run.at("vm").value("vcpus", 1) != 1)
    s += "/" + std::to_string(run.at("vm").value("vcpus", 1)) + "vcpu";
  if (multi && run.contains("host_memory") && run.at("host_memory").is_object() &&
      run.at("host_memory").value("fast", 0.0) > 0)
    s += "/hostfast=" + run.at("host_memory").at("fast").dump();
  return s;
}

// The first place two configurations differ, for the report's note.
std::string first_difference(const Json& a, const Json& b, const std::string& path) {
  if (a.is_object() && b.is_object()) {
    std::set<std::string> keys;
    for (auto it = a.begin(); it != a.end(); ++it) keys.insert(it.key());
    for (auto it = b.begin(); it != b.end(); ++it) keys.insert(it.key());
    for (const auto& k : keys) {
      const std::string p = path.empty() ? k : path + "." + k;
      if (!a.contains(k)) return p + " (new)";
      if (!b.contains(k)) return p + " (gone)";
      const std::string d = first_difference(a.at(k), b.at(k), p);
      if (!d.empty()) return d;
    }
    return "";
  }
  return a == b ? "" : path + " " + a.dump() + " -> " + b.dump();
}

struct Bucket {
  std::string label;
  Json key;
  std::vector<double> values[2];
  Json fine[2];  // the first full configuration seen on each side
};

// A name that covers several parameter variants within one side is split by
// parameters; one variant per side is matched by name even if they differ.
std::set<std::string> names_to_split(const RecordSet* const sides[2]) {
  std::set<std::string> split_names;
  for (int side = 0; side < 2; ++side) {
    std::map<std::string, std::set<std::string>> variants;
    for (const Json& r : sides[side]->records)
      if (!record_failed(r)) variants[coarse_key(r).dump()].insert(fine_key(r).dump());
    for (const auto& [name, v] : variants)
      if (v.size() > 1) split_names.insert(name);
  }
  return split_names;
}

// One configuration matched on both sides: its change, test and verdict.
ConfigResult judge(const Bucket& b, Direction direction, const CompareOptions& opt) {
  ConfigResult r;
  r.label = b.label;
  r.key = b.key;
  r.base = {summarize(b.values[0]), b.values[0]};
  r.next = {summarize(b.values[1]), b.values[1]};
  const double m0 = r.base.summary.median, m1 = r.next.summary.median;
  r.change = m0 == m1 ? 0 : m0 != 0 ? m1 / m0 - 1 : std::copysign(INFINITY, m1 - m0);
  r.worse = direction == Direction::LowerIsBetter ? r.change : -r.change;
  const size_t n0 = b.values[0].size(), n1 = b.values[1].size();
  r.tested = n0 >= 2 && n1 >= 2 && min_attainable_p(n0, n1) <= opt.alpha;
  if (r.tested) {
    r.test = mann_whitney(b.values[0], b.values[1]);
    r.significant = r.test.p <= opt.alpha;
  }
  const bool counts = !r.tested || r.significant;
  r.verdict = counts && r.worse > opt.threshold    ? "regressed"
              : counts && r.worse < -opt.threshold ? "improved"
                                                   : "unchanged";
  const std::string diff = first_difference(b.fine[0], b.fine[1], "");
  if (!diff.empty()) r.note = "parameters differ: " + diff;
  return r;
}

}  // namespace

size_t Comparison::regressed() const {
  size_t n = 0;
  for (const auto& c : configs) n += c.verdict == "regressed";
  return n;
}
size_t Comparison::improved() const {
  size_t n = 0;
  for (const auto& c : configs) n += c.verdict == "improved";
  return n;
}
int Comparison::exit_status() const {
  if (regressed() > 0) return 1;
  return options.fail_on_unmatched && !unmatched.empty() ? 1 : 0;
}

Comparison compare(const RecordSet& base, const RecordSet& next, const CompareOptions& opt) {
  Comparison c;
  c.options = opt;
  c.direction = metric_direction(opt.metric, opt.direction);
  c.base_path = base.path;
  c.new_path = next.path;
  c.base_records = base.records.size();
  c.new_records = next.records.size();
  const RecordSet* sides[2] = {&base, &next};
  const char* side_name[2] = {"BASE", "NEW"};

  bool metric_seen = false;
  for (const RecordSet* s : sides)
    for (const Json& r : s->records) metric_seen = metric_seen || field(r, opt.metric) != nullptr;
  if (!metric_seen)
    throw SpecError("compare: no record has a field '" + opt.metric +
                    "' (try sim_time_s or throughput)");

  const std::set<std::string> split_names = names_to_split(sides);

  std::vector<std::string> order;
  std::map<std::string, Bucket> buckets;
  std::map<std::string, Unmatched> skipped;  // failed or valueless records, by side/label/reason
  std::vector<std::string> skipped_order;
  auto skip = [&](int side, const std::string& label, const std::string& reason) {
    const std::string k = std::string(side_name[side]) + "\n" + label + "\n" + reason;
    auto [it, fresh] = skipped.try_emplace(k, Unmatched{side_name[side], label, 0, reason});
    if (fresh) skipped_order.push_back(k);
    ++it->second.records;
  };
  for (int side = 0; side < 2; ++side)
    for (const Json& r : sides[side]->records) {
      const std::string label = label_of(r);
      if (record_failed(r)) {
        skip(side, label,
             "failed run: " + r.value("error_kind", std::string("?")) + ": " +
                 r.value("error", std::string("?")));
        continue;
      }
      const Json* v = field(r, opt.metric);
      if (v == nullptr || v->is_null()) {
        skip(side, label, "no value for " + opt.metric);
        continue;
      }
      if (!v->is_number())
        throw SpecError("compare: " + std::string(side_name[side]) + " " + sides[side]->path +
                        ": field '" + opt.metric + "' is not a number (" + v->dump() + ")");
      const Json coarse = coarse_key(r), fine = fine_key(r);
      const bool split = split_names.count(coarse.dump()) > 0;
      const std::string k = split ? "F" + fine.dump() : "C" + coarse.dump();
      auto [it, fresh] = buckets.try_emplace(k);
      Bucket& b = it->second;
      if (fresh) {
        order.push_back(k);
        b.key = split ? fine : coarse;
        b.label = split ? label + " #" + hash_hex(fine.dump()).substr(0, 6) : label;
      }
      if (b.values[side].empty()) b.fine[side] = fine;
      b.values[side].push_back(v->get<double>());
    }

  for (const auto& k : order) {
    const Bucket& b = buckets.at(k);
    for (int side = 0; side < 2; ++side)
      if (b.values[1 - side].empty())
        c.unmatched.push_back({side_name[side], b.label, b.values[side].size(),
                               std::string("only in ") + side_name[side] +
                                   " (no matching configuration in " + side_name[1 - side] + ")"});
    if (b.values[0].empty() || b.values[1].empty()) continue;
    c.configs.push_back(judge(b, c.direction, opt));
  }
  for (const auto& k : skipped_order) c.unmatched.push_back(skipped.at(k));
  return c;
}

}  // namespace vtmm::runner
