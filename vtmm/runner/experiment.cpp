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
#include <thread>

#include "vtmm/core/json_input.hpp"
#include "vtmm/core/policy.hpp"
#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "vtmm/runner/records.hpp"
#include "vtmm/sim/host_profile.hpp"
#include "vtmm/platform/vm_run.hpp"
#include "vtmm/sim/simulation.hpp"

namespace vtmm::runner {
namespace fs = std::filesystem;

std::string hash_hex(const std::string& s) {
  uint64_t h = 1469598103934665603ULL;  // FNV-1a 64
  for (unsigned char ch : s) {
    h ^= ch;
    h *= 1099511628211ULL;
  }
  char buf[17];
  std::snprintf(buf, sizeof buf, "%016llx", static_cast<unsigned long long>(h));
  return buf;
}

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
      if (e.is_regular_file() && e.path().extension() == ".json") out.push_back(e.path().stem().string());
  std::sort(out.begin(), out.end());
  return out;
}

namespace {

Json as_list(const Json& j) { return j.is_array() ? j : Json::array({j}); }

// Policies that size the VM themselves (dram-only, slow-only) run once per
// workload and seed, not once per ratio.
bool uses_ratio(const Json& policy, uint64_t seed) {
  Json p = policy.is_string() ? Json{{"impl", policy}} : policy;
  auto pol = PolicyRegistry::instance().make(p, "policy", PolicyEnv{seed});
  return pol->sizing() == Policy::Sizing::Ratio || pol->sizing() == Policy::Sizing::MemoryMode;
}

// A policy entry's name for a message, whatever its shape.
std::string policy_name(const Json& pol) {
  const Json& impl = pol.is_object() && pol.contains("impl") ? pol.at("impl") : pol;
  return impl.is_string() ? impl.get<std::string>() : impl.dump();
}

std::vector<Json> expand_repeats(const std::vector<Json>& runs, uint32_t repeats, bool distinct_seeds,
                                 const std::string& spec_hash) {
  Rng rng(std::stoull(spec_hash, nullptr, 16));
  std::vector<Json> out;
  for (uint32_t i = 0; i < repeats; ++i) {
    std::vector<Json> round;
    for (Json x : runs) {
      x["repeat"] = i;
      if (distinct_seeds && i > 0) x["seed"] = derived_seed(x.value("seed", uint64_t{1}), i);
      round.push_back(std::move(x));
    }
    for (size_t k = round.size(); k > 1; --k) std::swap(round[k - 1], round[rng.below(k)]);  // Fisher-Yates
    for (auto& x : round) out.push_back(std::move(x));
  }
  return out;
}

}  // namespace

Experiment load_experiment(const std::string& name_or_path, bool full_scale, unsigned repeat_override) {
  const std::string path = resolve_spec_path(name_or_path);
  std::ifstream in(path);
  if (!in) throw SpecError("spec: cannot open " + path);
  Json j;
  try {
    j = parse_json(in);
  } catch (const Json::parse_error& e) {
    throw SpecError("spec " + path + ": malformed JSON (" + parse_error_reason(e) + ")");
  } catch (const JsonTooDeep& e) {
    throw SpecError("spec " + path + ": " + e.what());
  }
  if (!j.is_object()) throw SpecError("spec " + path + ": expected a JSON object");
  Params p(j, "spec " + fs::path(path).filename().string());
  Experiment e;
  e.name = p.require<std::string>("name");
  if (e.name.empty() || e.name.find('/') != std::string::npos) p.fail("name", "must be a plain non-empty name");
  p.get<std::string>("title", "");
  p.get<std::string>("reproduces", "");
  p.get<std::string>("paper_claim", "");
  p.get<std::string>("scale", "quick");
  if (p.has("plot")) p.raw("plot");
  Json base = p.has("run") ? p.raw("run") : Json::object();
  if (!base.is_object()) p.fail("run", "must be an object (the base run)");
  if (full_scale && p.has("full")) {
    const Json& patch = p.raw("full");
    if (!patch.is_object()) p.fail("full", "must be an object patching 'run' and 'sweep'");
    if (patch.contains("run")) base.merge_patch(patch.at("run"));
  } else if (p.has("full")) {
    p.raw("full");
  }
  Json sweep = p.has("sweep") ? p.raw("sweep") : Json::object();
  if (!sweep.is_object()) p.fail("sweep", "must be an object of axis -> list of values");
  if (full_scale && j.contains("full") && j.at("full").contains("sweep")) sweep.merge_patch(j.at("full").at("sweep"));
  e.baseline = p.get<std::string>("baseline", "dram-only");
  e.in_reproduce = p.get<bool>("reproduce", true);
  const uint32_t spec_repeats = p.get<uint32_t>("repeat", 1);
  if (spec_repeats == 0) p.fail("repeat", "must be at least 1");
  const uint32_t repeats = repeat_override > 0 ? repeat_override : spec_repeats;
  const bool repeat_seeds = p.get<bool>("repeat_seeds", false);
  if (base.contains("repeat")) p.fail("run", "'repeat' is set by the runner; use the spec's top-level \"repeat\": N");
  p.finish();

  static const std::vector<std::string> axes = {"workload", "policy", "ratio", "fast_bytes", "seed", "host",
                                                 "fast_memory_sharing", "host_memory"};
  for (auto it = sweep.begin(); it != sweep.end(); ++it)
    if (std::find(axes.begin(), axes.end(), it.key()) == axes.end())
      throw SpecError("spec " + e.name + ": sweep: unknown axis '" + it.key() + "'");

  // Cartesian product in a fixed axis order; ratio-free policies collapse the ratio axis.
  std::vector<Json> runs = {base};
  for (const auto& axis : axes) {
    if (!sweep.contains(axis)) continue;
    const Json values = as_list(sweep.at(axis));
    if (values.empty()) throw SpecError("spec " + e.name + ": sweep: axis '" + axis + "' is empty");
    std::vector<Json> next;
    for (const Json& r : runs)
      for (const Json& v : values) {
        Json x = r;
        x[axis] = v;
        next.push_back(x);
      }
    runs = std::move(next);
  }
  // The fields read below before RunSpec::from_json checks the whole run:
  // their types first, so a bad one is named (not a JSON library error).
  for (const Json& r : runs) {
    Params early(r, "spec " + e.name + ": run");
    early.get<uint64_t>("seed", 1);
    early.get<std::string>("platform", "sim");
  }
  // The shuffle's seed comes from the runs, not the spec's prose, so editing a
  // title does not reorder a repeated sweep.
  if (repeats > 1) runs = expand_repeats(runs, repeats, repeat_seeds, hash_hex(Json(runs).dump()));
  std::map<std::string, bool> seen;
  for (Json& r : runs) {
    if (!r.contains("policy")) throw SpecError("spec " + e.name + ": missing field 'policy' (in run or sweep)");
    const uint64_t seed = r.value("seed", uint64_t{1});
    const bool multi = r.contains("vms");
    const bool on_vm = r.value("platform", std::string("sim")) == "vm";
    if (!(on_vm ? platform::vm_policy_uses_ratio(r.at("policy")) : uses_ratio(r.at("policy"), seed))) {
      r.erase("ratio");
      r.erase("fast_bytes");
      r.erase("fast_memory_sharing");  // references run each VM on one tier, unshared
      r.erase("pool");
    } else if (multi) {
      // Each VM's fast share is its own "fast_share" or the run's ratio (checked with the run).
    } else if ((!r.contains("ratio") || r.at("ratio").is_null()) && !r.contains("fast_bytes")) {
      const Json& pol = r.at("policy");
      throw SpecError("spec " + e.name + ": policy '" + policy_name(pol) +
                      "' needs a 'ratio' (FAST:SLOW) or 'fast_bytes' (in run or sweep)");
    }
    RunSpec rs = RunSpec::from_json(r, "spec " + e.name + ": run");
    const std::string key = rs.to_json().dump();
    if (seen[key]) continue;
    seen[key] = true;
    // Construct every component once so a bad parameter fails before any run.
    if (rs.platform == "vm") {
      platform::validate_vm_run(rs);
    } else if (rs.multi()) {
      sim::validate_multi(rs);
    } else {
      WorkloadRegistry::instance().make(rs.workload, "workload", WorkloadEnv{rs.seed, rs.vcpus});
      sim::HostProfile::load(rs.host, rs.host_overrides);
    }
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
  Json rec = r.platform == "vm" ? platform::run_vm(r) : sim::simulate(r);
  rec["run_key"] = run_key(r);
  if (r.repeat) rec["repeat"] = *r.repeat;
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
      std::fprintf(stderr, "\r\033[K[%s] %zu/%zu runs  %.0fs elapsed  ETA %.0fs", name_.c_str(), finished, todo_, el,
                   eta);
      if (finished == todo_) std::fputc('\n', stderr);
    } else {
      std::fprintf(stderr, "[%s] %zu/%zu %s %s  %.0fs elapsed  ETA %.0fs\n", name_.c_str(), finished, todo_,
                   label.c_str(), ok ? "ok" : "FAILED", el, eta);
    }
    std::fflush(stderr);
  }

 private:
  std::string name_;
  size_t todo_;
  const RunOptions& opt_;
  std::chrono::steady_clock::time_point t0_;
};

}  // namespace

SweepResult run_experiment(const Experiment& e, const RunOptions& opt) {
  const fs::path dir = opt.out_dir.empty() ? fs::path("results") / e.name : fs::path(opt.out_dir);
  fs::create_directories(dir);
  const fs::path jsonl = dir / "runs.jsonl";

  // Resume: keep the ok records of this spec's runs (same run key: the same
  // resolved run), whichever spec version wrote them; failed runs are redone,
  // records of runs the spec no longer has are dropped.
  std::vector<std::string> notes;
  std::map<std::string, Json> done;
  if (opt.resume) done = read_records(jsonl.string(), notes);
  SweepResult res;
  res.jsonl = jsonl.string();
  res.total = e.runs.size();
  std::vector<Json> records(e.runs.size());
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
    notes.push_back(jsonl.string() + ": dropped " + std::to_string(done.size() - matched) +
                    " record(s) of runs this spec does not have");
  for (const auto& n : notes) std::fprintf(stderr, "vtmm: note: %s\n", n.c_str());
  res.reused = e.runs.size() - todo.size();
  {  // start the log afresh with what survives, so appends below stay well-formed
    std::vector<Json> kept;
    for (const Json& r : records)
      if (!r.is_null()) kept.push_back(r);
    write_records_atomically(jsonl.string(), kept);
  }
  if (opt.progress && res.reused > 0)
    std::fprintf(stderr, "[%s] %zu of %zu runs already recorded; %zu to run\n", e.name.c_str(), res.reused,
                 res.total, todo.size());

  std::mutex mu;
  std::atomic<size_t> next{0};
  size_t finished = 0;
  std::exception_ptr io_failure;
  Progress progress(e.name, todo.size(), opt);
  auto worker = [&] {
    for (;;) {
      const size_t k = next.fetch_add(1);
      if (k >= todo.size()) return;
      const size_t i = todo[k];
      Json rec = make_record(RunIdentity{e.name, e.spec_hash, i}, e.runs[i], true);
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
      progress.run_done(finished, e.runs[i].label(), ok);
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
  return res;
}

}  // namespace vtmm::runner
