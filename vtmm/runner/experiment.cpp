#include "vtmm/runner/experiment.hpp"

#include <time.h>
#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <map>
#include <mutex>
#include <set>
#include <sstream>
#include <thread>

#include "vtmm/core/fnv.hpp"
#include "vtmm/core/json_input.hpp"
#include "vtmm/core/platform.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/runner/records.hpp"
#include "vtmm/sim/host_profile.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm::runner {
namespace fs = std::filesystem;

std::string hash_hex(const std::string& s) { return hex64(fnv1a64(s, kRunKeyBasis)); }

std::string resolve_spec_path(const std::string& name) {
  // A path (it has a slash or ends in .json) is taken as given; a bare name is
  // an experiment in experiments/, even if a folder of that name is in the way
  // (the source tree has workloads/ next to experiments/workloads.json).
  const bool is_path = name.find('/') != std::string::npos ||
                       (name.size() > 5 && name.compare(name.size() - 5, 5, ".json") == 0);
  const std::string p = is_path ? name : sim::data_dir() + "/experiments/" + name + ".json";
  if (fs::is_regular_file(p)) return p;
  throw SpecError("spec: no such experiment or spec file '" + name + "' (see `vtmm list`)");
}

std::vector<std::string> list_experiments() {
  std::vector<std::string> out;
  const fs::path dir = fs::path(sim::data_dir()) / "experiments";
  if (fs::exists(dir))
    for (const auto& e : fs::directory_iterator(dir))
      if (e.is_regular_file() && e.path().extension() == ".json")
        out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

Json as_list(const Json& j) { return j.is_array() ? j : Json::array({j}); }

// The platform a run (or a spec's base run) names. A name that is not a
// registered platform's string is left to RunSpec::from_json, which names
// the field; until then the run is checked as a simulated one.
std::unique_ptr<Platform> platform_of(const Json& run) {
  const Json* p = run.is_object() && run.contains("platform") ? &run.at("platform") : nullptr;
  const bool named =
      p != nullptr && p->is_string() && PlatformRegistry::instance().find(p->get<std::string>());
  return make_platform(named ? p->get<std::string>() : "sim");
}

// A policy entry's name for a message, whatever its shape.
std::string policy_name(const Json& pol) {
  const Json& impl = pol.is_object() && pol.contains("impl") ? pol.at("impl") : pol;
  return impl.is_string() ? impl.get<std::string>() : impl.dump();
}

std::vector<Json> expand_repeats(const std::vector<Json>& runs, uint32_t repeats,
                                 bool distinct_seeds, const std::string& spec_hash) {
  Rng rng(std::stoull(spec_hash, nullptr, 16));
  std::vector<Json> out;
  for (uint32_t i = 0; i < repeats; ++i) {
    std::vector<Json> round;
    for (Json x : runs) {
      x["repeat"] = i;
      if (distinct_seeds && i > 0) x["seed"] = derived_seed(x.value("seed", uint64_t{1}), i);
      round.push_back(std::move(x));
    }
    for (size_t k = round.size(); k > 1; --k)
      std::swap(round[k - 1], round[rng.below(k)]);  // Fisher-Yates
    for (auto& x : round) out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

namespace {

const std::vector<std::string>& sweep_axes() {
  static const std::vector<std::string> axes = {
      "workload",   "policy", "ratio", "fast_bytes", "seed", "host", "fast_memory_sharing",
      "host_memory"};
  return axes;
}

Json parse_spec_text(const std::string& text, const std::string& path) {
  Json j;
  try {
    j = parse_json(text);
  } catch (const Json::parse_error& e) {
    throw SpecError("spec " + path + ": malformed JSON (" + parse_error_reason(e) + ")");
  } catch (const JsonTooDeep& e) {
    throw SpecError("spec " + path + ": " + e.what());
  }
  if (!j.is_object())
    throw SpecError("spec " + path + ": expected a JSON object, got " + json_kind(j));
  return j;
}

// One sweep value, checked where the user wrote it, so an error names its
// path ("spec t: sweep.workload[3].impl: ..."); the combined runs are checked
// again below, where a message can only name the run. Components are built
// with the base run's seed (1 vCPU): a parameter wrong only in combination
// surfaces with the run.
void check_sweep_value(const std::string& axis, const Json& v, const std::string& path,
                       const Json& base) {
  const uint64_t seed = base.contains("seed") && base.at("seed").is_number_unsigned()
                            ? base.at("seed").get<uint64_t>()
                            : 1;
  if (axis == "workload" || axis == "policy") {
    platform_of(base)->check_component(axis, v, path, seed);
  } else if (axis == "ratio") {
    if (!v.is_string())
      throw SpecError(path + ": expected a ratio FAST:SLOW such as \"1:4\", got " + json_kind(v));
    parse_ratio(v.get<std::string>(), path);
  } else if (axis == "fast_bytes") {
    if (parse_bytes(v, path) == 0) throw SpecError(path + " must be more than 0 bytes");
  } else if (axis == "seed") {
    if (!v.is_number_unsigned() && !(v.is_number_integer() && v.get<int64_t>() >= 0))
      throw SpecError(path + ": expected a whole number from 0 to 2^64-1, got " + json_kind(v));
  } else if (axis == "host") {
    if (!v.is_string())
      throw SpecError(path + ": expected a host profile name, got " + json_kind(v));
    sim::HostProfile::load(v.get<std::string>(), Json());
  } else if (axis == "fast_memory_sharing") {
    if (!v.is_string())
      throw SpecError(path + ": expected \"pool\", \"static\" or \"proportional\", got " +
                      json_kind(v));
  } else if (axis == "host_memory") {
    if (!v.is_object())
      throw SpecError(path + ": expected an object {\"fast\": SIZE, \"total\": SIZE}, got " +
                      json_kind(v));
  }
}

// Checks every axis's values and that the sweep, repeated, stays within
// kMaxRunsPerSpec.
void check_sweep(const std::string& who, const Json& sweep, const Json& base, uint32_t repeats) {
  uint64_t configs = 1;
  for (auto it = sweep.begin(); it != sweep.end(); ++it) {
    const std::string& axis = it.key();
    if (std::find(sweep_axes().begin(), sweep_axes().end(), axis) == sweep_axes().end())
      throw SpecError(who + ": sweep: unknown axis '" + axis + "'");
    const Json values = as_list(it.value());
    if (values.empty()) throw SpecError(who + ": sweep: axis '" + axis + "' is empty");
    for (size_t i = 0; i < values.size(); ++i) {
      const std::string path =
          who + ": sweep." + axis + (it.value().is_array() ? "[" + std::to_string(i) + "]" : "");
      check_sweep_value(axis, values[i], path, base);
    }
    configs =
        values.size() > kMaxRunsPerSpec / configs ? kMaxRunsPerSpec + 1 : configs * values.size();
  }
  const uint64_t runs =
      configs > kMaxRunsPerSpec / repeats ? kMaxRunsPerSpec + 1 : configs * repeats;
  if (runs > kMaxRunsPerSpec)
    throw SpecError(who + ": the sweep expands to more than " + std::to_string(kMaxRunsPerSpec) +
                    " runs (" +
                    (configs > kMaxRunsPerSpec ? std::string("its axes alone")
                                               : std::to_string(configs) + " configuration(s) x " +
                                                     std::to_string(repeats) + " repeats") +
                    "); split it into several specs");
}

// "checks": comparisons the paper's claim implies, which plots/claims.py
// evaluates on the records for REPORT.md. Checked here so a typo fails at
// load with the field named, not silently in the report.
void check_claim_checks(const Json& checks, Params& p) {
  if (!checks.is_array()) p.fail("checks", "must be a list of objects, got " + json_kind(checks));
  for (size_t i = 0; i < checks.size(); ++i) {
    const std::string at = "checks[" + std::to_string(i) + "]";
    const Json& c = checks[i];
    if (!c.is_object()) p.fail(at, "must be an object, got " + json_kind(c));
    for (const char* need : {"says", "policy", "than"})
      if (!c.contains(need) || !c.at(need).is_string() || c.at(need).get<std::string>().empty())
        p.fail(at + "." + need, "must be a non-empty string");
    for (auto it = c.begin(); it != c.end(); ++it) {
      const std::string& k = it.key();
      if (k == "says" || k == "policy" || k == "than") continue;
      if (k == "workloads") {
        const Json& w = it.value();
        if (!w.is_array() || w.empty() ||
            !std::all_of(w.begin(), w.end(), [](const Json& x) { return x.is_string(); }))
          p.fail(at + ".workloads", "must be a non-empty list of workload names");
        continue;
      }
      if (k == "tolerance") {
        const Json& t = it.value();
        if (!t.is_number() || t.get<double>() < 0 || t.get<double>() >= 1)
          p.fail(at + ".tolerance", "must be a number in [0, 1)");
        continue;
      }
      if (k != "metric" && k != "better" && k != "why_not" && k != "axis")
        p.fail(at + "." + k,
               "unknown field (says, policy, than, axis, metric, better, tolerance, workloads, "
               "why_not)");
      if (!it.value().is_string()) p.fail(at + "." + k, "must be a string");
    }
    const std::string better = c.value("better", "lower");
    if (better != "lower" && better != "higher" && better != "not higher" && better != "not lower")
      p.fail(
          at + ".better",
          "must be \"lower\", \"higher\", \"not higher\" or \"not lower\", got \"" + better + "\"");
  }
}

// The spec's base run and sweep at one scale, and its other top-level keys.
struct SpecText {
  Json base = Json::object(), sweep = Json::object();
  uint32_t repeats = 1;
  bool repeat_seeds = false;
};

SpecText read_blocks(Params& p, Experiment& e, bool full_scale, unsigned repeat_override) {
  SpecText t;
  e.name = p.require<std::string>("name");
  if (e.name.empty() || e.name.find('/') != std::string::npos)
    p.fail("name", "must be a plain non-empty name");
  p.get<std::string>("title", "");
  p.get<std::string>("reproduces", "");
  p.get<std::string>("paper_claim", "");
  p.get<std::string>("scale", "quick");
  if (p.has("plot")) p.raw("plot");
  if (p.has("checks")) check_claim_checks(p.raw("checks"), p);
  if (p.has("run")) t.base = p.raw("run");
  if (!t.base.is_object())
    p.fail("run", "must be an object (the base run), got " + json_kind(t.base));
  if (p.has("sweep")) t.sweep = p.raw("sweep");
  if (!t.sweep.is_object())
    p.fail("sweep", "must be an object of axis -> list of values, got " + json_kind(t.sweep));
  if (p.has("full")) {
    const Json& patch = p.raw("full");
    if (!patch.is_object())
      p.fail("full", "must be an object patching 'run' and 'sweep', got " + json_kind(patch));
    for (auto it = patch.begin(); it != patch.end(); ++it) {
      if (it.key() != "run" && it.key() != "sweep")
        p.fail("full", "patches only 'run' and 'sweep', not '" + it.key() + "'");
      if (!it.value().is_object())
        p.fail("full", "'" + it.key() + "' must be an object, got " + json_kind(it.value()));
    }
    if (full_scale && patch.contains("run")) t.base.merge_patch(patch.at("run"));
    if (full_scale && patch.contains("sweep")) t.sweep.merge_patch(patch.at("sweep"));
  }
  e.baseline = p.get<std::string>("baseline", "dram-only");
  e.in_reproduce = p.get<bool>("reproduce", true);
  const uint32_t spec_repeats = p.get<uint32_t>("repeat", 1);
  if (spec_repeats == 0) p.fail("repeat", "must be at least 1");
  t.repeats = repeat_override > 0 ? repeat_override : spec_repeats;
  t.repeat_seeds = p.get<bool>("repeat_seeds", false);
  if (t.base.contains("repeat"))
    p.fail("run", "'repeat' is set by the runner; use the spec's top-level \"repeat\": N");
  p.finish();
  return t;
}

// Cartesian product in a fixed axis order.
std::vector<Json> expand_sweep(const Json& base, const Json& sweep) {
  std::vector<Json> runs = {base};
  for (const auto& axis : sweep_axes()) {
    if (!sweep.contains(axis)) continue;
    const Json values = as_list(sweep.at(axis));
    std::vector<Json> next;
    for (const Json& r : runs)
      for (const Json& v : values) {
        Json x = r;
        x[axis] = v;
        next.push_back(x);
      }
    runs = std::move(next);
  }
  return runs;
}

// Ratio-free policies (dram-only, slow-only) drop the ratio axis; a policy
// that needs a split must have one.
void settle_sizing(Json& r, const std::string& who) {
  if (!r.contains("policy")) throw SpecError(who + ": missing field 'policy' (in run or sweep)");
  const uint64_t seed = r.value("seed", uint64_t{1});
  // Policies that size the VM themselves (dram-only, slow-only) run once per
  // workload and seed, not once per ratio.
  if (!platform_of(r)->uses_ratio(r.at("policy"), seed, who + ": run.policy")) {
    r.erase("ratio");
    r.erase("fast_bytes");
    r.erase("fast_memory_sharing");  // references run each VM on one tier, unshared
    r.erase("pool");
  } else if (r.contains("vms")) {
    // Each VM's fast share is its own "fast_share" or the run's ratio (checked with the run).
  } else if ((!r.contains("ratio") || r.at("ratio").is_null()) && !r.contains("fast_bytes")) {
    throw SpecError(who + ": policy '" + policy_name(r.at("policy")) +
                    "' needs a 'ratio' (FAST:SLOW) or 'fast_bytes' (in run or sweep)");
  }
}

// Constructs the run's components once, so a bad parameter fails before any run.
void construct_once(const RunSpec& rs, const std::string& who) {
  make_platform(rs.host.platform)->validate(rs, who);
}

Experiment build_experiment(const Json& j, const std::string& file, bool full_scale,
                            unsigned repeat_override) {
  Params p(j, "spec " + file + (full_scale ? " (full)" : ""));
  Experiment e;
  SpecText t = read_blocks(p, e, full_scale, repeat_override);
  const std::string who = "spec " + e.name + (full_scale ? " (full)" : "");
  {
    Params early(
        t.base, who + ": run");  // what the checks below read from the base run, type-checked first
    early.get<uint64_t>("seed", 1);
  }
  check_sweep(who, t.sweep, t.base, t.repeats);
  std::vector<Json> runs = expand_sweep(t.base, t.sweep);
  // The fields read below before RunSpec::from_json checks the whole run:
  // their types first, so a bad one is named (not a JSON library error).
  for (const Json& r : runs) {
    Params early(r, who + ": run");
    early.get<uint64_t>("seed", 1);
    early.get<std::string>("platform", "sim");
    // 0 is how a stored run says "no absolute allowance"; written in a spec it is a mistake.
    if (early.has("fast_bytes") && early.get_bytes("fast_bytes", 0) == 0)
      early.fail("fast_bytes", "must be more than 0 bytes");
  }
  // The shuffle's seed comes from the runs as written, not the spec's prose,
  // so editing a title does not reorder a repeated sweep.
  const std::string order_seed = hash_hex(Json(runs).dump());
  // Each configuration is checked once, before repeats multiply it.
  std::map<std::string, bool> checked;
  for (Json& r : runs) {
    settle_sizing(r, who);
    const RunSpec rs = RunSpec::from_json(r, who + ": run");
    const std::string key = rs.to_json().dump();
    if (checked[key]) continue;
    checked[key] = true;
    construct_once(rs, who);
  }
  if (t.repeats > 1) runs = expand_repeats(runs, t.repeats, t.repeat_seeds, order_seed);
  std::map<std::string, bool> seen;
  for (const Json& r : runs) {
    RunSpec rs = RunSpec::from_json(r, who + ": run");
    const std::string key = rs.to_json().dump();
    if (seen[key]) continue;
    seen[key] = true;
    e.runs.push_back(std::move(rs));
  }
  e.spec = j;
  // The spec version that records are stamped with: what it runs and the
  // baseline they are measured against. Prose (title, scale, claim) and the
  // plot block do not count: a sentence fixed is not a new version. (Resuming
  // matches records by run key, not by this hash.)
  Json identity = {{"name", e.name}, {"baseline", e.baseline}, {"runs", Json::array()}};
  for (const RunSpec& rs : e.runs) identity["runs"].push_back(rs.to_json());
  e.spec_hash = hash_hex(identity.dump());
  return e;
}

}  // namespace

Experiment load_experiment(const std::string& name_or_path, bool full_scale,
                           unsigned repeat_override) {
  const std::string path = resolve_spec_path(name_or_path);
  std::ifstream in(path);
  if (!in) throw SpecError("spec: cannot open " + path);
  std::ostringstream text;
  text << in.rdbuf();
  return load_experiment_text(text.str(), path, full_scale, repeat_override);
}

Experiment load_experiment_text(const std::string& text, const std::string& path, bool full_scale,
                                unsigned repeat_override) {
  const Json j = parse_spec_text(text, path);
  const std::string file = fs::path(path).filename().string();
  // A mistake in the 'full' block fails now, not hours later when someone runs --full.
  if (!full_scale && j.contains("full")) build_experiment(j, file, true, repeat_override);
  return build_experiment(j, file, full_scale, repeat_override);
}

namespace {
double thread_cpu_s() {
  timespec ts{};
  ::clock_gettime(CLOCK_THREAD_CPUTIME_ID, &ts);
  return static_cast<double>(ts.tv_sec) + static_cast<double>(ts.tv_nsec) * 1e-9;
}
}  // namespace

RunTimer::RunTimer() : wall0_(std::chrono::steady_clock::now()), cpu0_(thread_cpu_s()) {}

void RunTimer::stamp(Json& rec) const {
  rec["wall_s"] = std::chrono::duration<double>(std::chrono::steady_clock::now() - wall0_).count();
  rec["cpu_s"] = thread_cpu_s() - cpu0_;
}

Json run_one(const RunSpec& r, bool with_wall) {
  const RunTimer timer;
  Json rec = make_platform(r.host.platform)->run(r);
  rec["run_key"] = run_key(r);
  if (r.options.repeat) rec["repeat"] = *r.options.repeat;
  if (with_wall) timer.stamp(rec);
  return rec;
}

namespace {

// Progress on stderr: redrawn in place on a terminal, one line per run otherwise.
class Progress {
 public:
  Progress(const std::string& name, size_t todo, const RunOptions& opt)
      : name_(name), todo_(todo), opt_(opt), t0_(std::chrono::steady_clock::now()) {}
  void run_done(size_t finished, const std::string& label, bool ok) {
    if (!opt_.progress) return;
    const double el = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0_).count();
    const double eta = el / static_cast<double>(finished) * static_cast<double>(todo_ - finished);
    if (opt_.tty) {
      std::fprintf(stderr, "\r\033[K[%s] %zu/%zu runs  %.0fs elapsed  ETA %.0fs", name_.c_str(),
                   finished, todo_, el, eta);
      if (finished == todo_) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "[%s] %zu/%zu %s %s  %.0fs elapsed  ETA %.0fs\n", name_.c_str(),
                   finished, todo_, label.c_str(), ok ? "ok" : "FAILED", el, eta);
    }
    std::fflush(stderr);
  }

 private:
  std::string name_;
  size_t todo_;
  const RunOptions& opt_;
  std::chrono::steady_clock::time_point t0_;
};

// Once per distinct message: a sweep runs the same workload under many designs.
void warn_llc_fits(const std::vector<Json>& records) {
  std::set<std::string> said;
  for (const Json& r : records) {
    const std::string w = llc_fit_warning(r);
    if (!w.empty() && said.insert(w).second) std::fprintf(stderr, "%s\n", w.c_str());
  }
}

// Resume: keeps the ok records of this spec's runs (same run key: the same
// resolved run), whichever spec version wrote them, in `records`; failed runs
// are redone, records of runs the spec no longer has are dropped. Starts the
// log afresh with what survives, so later appends stay well-formed. Returns
// the runs left to do.
std::vector<size_t> reuse_recorded(const Experiment& e, const std::string& jsonl, bool resume,
                                   std::vector<Json>& records) {
  std::vector<std::string> notes;
  std::map<std::string, Json> done;
  if (resume) done = read_records(jsonl, notes);
  std::vector<size_t> todo;
  size_t matched = 0;
  for (size_t i = 0; i < e.runs.size(); ++i) {
    const auto it = done.find(run_key(e.runs[i]));
    if (it != done.end()) ++matched;
    if (it != done.end() && record_ok(it->second)) {
      records[i] = it->second;
      records[i]["spec_hash"] = e.spec_hash;  // bookkeeping: the spec version that holds it now
    } else {
      todo.push_back(i);
    }
  }
  if (done.size() > matched)
    notes.push_back(jsonl + ": dropped " + std::to_string(done.size() - matched) +
                    " record(s) of runs this spec does not have");
  for (const auto& n : notes) std::fprintf(stderr, "vtmm: note: %s\n", n.c_str());
  std::vector<Json> kept;
  for (const Json& r : records)
    if (!r.is_null()) kept.push_back(r);
  write_records_atomically(jsonl, kept);
  return todo;
}

}  // namespace

SweepResult run_experiment(const Experiment& e, const RunOptions& opt) {
  const fs::path dir = opt.out_dir.empty() ? fs::path("results") / e.name : fs::path(opt.out_dir);
  make_results_dir(dir.string());
  const fs::path jsonl = dir / "runs.jsonl";

  SweepResult res;
  res.jsonl = jsonl.string();
  res.total = e.runs.size();
  std::vector<Json> records(e.runs.size());
  const std::vector<size_t> todo = reuse_recorded(e, jsonl.string(), opt.resume, records);
  res.reused = e.runs.size() - todo.size();
  if (opt.progress && res.reused > 0)
    std::fprintf(stderr, "[%s] %zu of %zu runs already recorded; %zu to run\n", e.name.c_str(),
                 res.reused, res.total, todo.size());

  std::mutex mu;
  std::atomic<size_t> next{0};
  size_t finished = 0;
  std::exception_ptr io_failure;
  Progress progress(e.name, todo.size(), opt);
  const std::vector<std::string> labels = distinct_labels(e.runs);
  auto worker = [&] {
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k >= todo.size()) return;
      const size_t i = todo[k];
      RunSpec run = e.runs[i];
      run.exec.threads = opt.threads;
      Json rec = make_record(RunIdentity{e.name, e.spec_hash, i}, run, true);
      std::lock_guard<std::mutex> lock(mu);
      try {
        append_record(jsonl.string(), rec);
      } catch (...) {  // the log cannot be written: stop, nothing more can be recorded
        if (!io_failure) io_failure = std::current_exception();
        next = todo.size();
        return;
      }
      const bool ok = record_ok(rec);
      if (!ok) ++res.failed;
      records[i] = std::move(rec);
      ++finished;
      progress.run_done(finished, labels[i], ok);
    }
  };
  const unsigned n = std::max(1u, std::min<unsigned>(opt.jobs, static_cast<unsigned>(todo.size())));
  std::vector<std::thread> pool;
  for (unsigned t = 1; t < n; ++t) pool.emplace_back(worker);
  worker();
  for (auto& t : pool) t.join();
  if (io_failure) std::rethrow_exception(io_failure);
  res.ran = finished;

  add_slowdowns(records, e.baseline);
  write_records_atomically(jsonl.string(), records);
  warn_llc_fits(records);
  return res;
}

}  // namespace vtmm::runner
