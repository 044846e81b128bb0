#include "vtmm/runner/slurm.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <ctime>
#include <filesystem>
#include <fstream>
#include <set>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "vtmm/core/error.hpp"
#include "vtmm/core/json_input.hpp"
#include "vtmm/core/platform.hpp"
#include "vtmm/runner/records.hpp"

namespace vtmm::runner::slurm {
namespace fs = std::filesystem;

namespace {

fs::path slurm_dir(const std::string& dir) { return fs::path(dir) / "slurm"; }
fs::path record_path(const std::string& dir, size_t i) {
  return slurm_dir(dir) / "records" / (std::to_string(i) + ".json");
}

std::string quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

struct Captured {
  int code = -1;
  std::string out;  // stdout and stderr together
};

// Runs a shell command, capturing what it prints; code 127: command not found.
Captured sh(const std::string& cmd) {
  Captured c;
  FILE* p = ::popen((cmd + " 2>&1").c_str(), "r");
  if (p == nullptr) throw std::runtime_error("cannot run: " + cmd);
  char buf[4096];
  size_t n;
  while ((n = std::fread(buf, 1, sizeof buf, p)) > 0) c.out.append(buf, n);
  const int st = ::pclose(p);
  c.code = WIFEXITED(st) ? WEXITSTATUS(st) : -1;
  return c;
}

std::string trim(std::string s) {
  while (!s.empty() && (s.back() == '\n' || s.back() == ' ' || s.back() == '\r')) s.pop_back();
  return s;
}

Json read_json(const fs::path& p) {
  std::ifstream in(p);
  std::stringstream ss;
  ss << in.rdbuf();
  return parse_json_or_discarded(ss.str());
}

}  // namespace

std::string array_ranges(const std::vector<size_t>& v) {
  std::string s;
  for (size_t a = 0; a < v.size();) {
    size_t b = a;
    while (b + 1 < v.size() && v[b + 1] == v[b] + 1) ++b;
    if (!s.empty()) s += ',';
    s += std::to_string(v[a]);
    if (b > a) {
      s += '-';
      s += std::to_string(v[b]);
    }
    a = b + 1;
  }
  return s;
}

void write_run_list(const Experiment& e, const std::string& dir, const SubmitOptions& opt) {
  make_results_dir((slurm_dir(dir) / "records").string());
  make_results_dir((slurm_dir(dir) / "logs").string());
  Json runs = Json::array(), keys = Json::array();
  for (const RunSpec& r : e.runs) {
    runs.push_back(r.to_json());
    keys.push_back(run_key(r));
  }
  const Json j = {{"schema", 1},
                  {"experiment", e.name},
                  {"spec_hash", e.spec_hash},
                  {"baseline", e.baseline},
                  {"runs", runs},
                  {"run_keys", keys},
                  {"submit",
                   {{"partition", opt.partition},
                    {"constraint", opt.constraint},
                    {"time", opt.time_limit},
                    {"max_parallel", opt.max_parallel},
                    {"vtmm_binary", opt.vtmm_binary}}}};
  write_file_atomically((slurm_dir(dir) / "runlist.json").string(), j.dump(1) + "\n");
  const std::string abs_dir = fs::absolute(dir).lexically_normal().string();
  write_file_atomically(
      (slurm_dir(dir) / "task.sh").string(),
      "#!/bin/sh\n"
      "# Written by `vtmm run --executor slurm`: array task N runs run N of runlist.json.\n"
      "exec " +
          quote(opt.vtmm_binary) + " run-one " + quote(abs_dir) +
          " --index \"$SLURM_ARRAY_TASK_ID\"\n");
  fs::permissions(slurm_dir(dir) / "task.sh",
                  fs::perms::owner_exec | fs::perms::group_exec | fs::perms::others_exec,
                  fs::perm_options::add);
}

RunList read_run_list(const std::string& dir) {
  const fs::path p = slurm_dir(dir) / "runlist.json";
  if (!fs::is_regular_file(p))
    throw SpecError("slurm: no run list in " + dir +
                    " (was it submitted with `vtmm run --executor slurm`?)");
  const Json j = read_json(p);
  if (j.is_discarded() || !j.is_object())
    throw SpecError("slurm: " + p.string() + " is not valid JSON");
  RunList rl;
  try {
    rl.experiment = j.at("experiment").get<std::string>();
    rl.spec_hash = j.at("spec_hash").get<std::string>();
    rl.baseline = j.at("baseline").get<std::string>();
    for (const Json& r : j.at("runs"))
      rl.runs.push_back(RunSpec::from_json(r, p.string() + ": run"));
    for (const Json& k : j.at("run_keys")) rl.keys.push_back(k.get<std::string>());
    const Json& s = j.at("submit");
    rl.options.partition = s.at("partition").get<std::string>();
    rl.options.constraint = s.at("constraint").get<std::string>();
    rl.options.time_limit = s.at("time").get<std::string>();
    rl.options.max_parallel = s.at("max_parallel").get<unsigned>();
    rl.options.vtmm_binary = s.at("vtmm_binary").get<std::string>();
  } catch (const Json::exception& e) {
    throw SpecError("slurm: " + p.string() + ": " + e.what());
  }
  if (rl.keys.size() != rl.runs.size())
    throw SpecError("slurm: " + p.string() + ": runs and run_keys differ in length");
  for (size_t i = 0; i < rl.runs.size(); ++i)
    if (run_key(rl.runs[i]) != rl.keys[i])  // this build would not reproduce the submitted run
      throw SpecError("slurm: " + p.string() + ": run " + std::to_string(i) +
                      " does not read back as submitted (different vtmm version?)");
  return rl;
}

namespace {

// Task i's record if it exists and belongs to this run list.
Json task_record(const std::string& dir, const RunList& rl, size_t i) {
  const fs::path p = record_path(dir, i);
  if (!fs::is_regular_file(p)) return Json();
  Json r = read_json(p);
  if (r.is_discarded() || !r.is_object() || r.value("run_key", "") != rl.keys[i] ||
      r.value("spec_hash", "") != rl.spec_hash)
    return Json();
  return r;
}

}  // namespace

std::vector<size_t> recorded_ok(const std::string& dir, const RunList& rl) {
  std::vector<size_t> out;
  for (size_t i = 0; i < rl.runs.size(); ++i)
    if (record_ok(task_record(dir, rl, i))) out.push_back(i);
  return out;
}

void remove_records(const std::string& dir) {
  const fs::path d = slurm_dir(dir) / "records";
  if (fs::exists(d))
    for (const auto& f : fs::directory_iterator(d)) fs::remove(f.path());
}

std::vector<std::string> submit(const std::string& dir, const RunList& rl,
                                const std::vector<size_t>& indices) {
  std::vector<size_t> sim, vm;
  // A platform whose runs need a machine each (real VMs) gets an array job of its own.
  for (size_t i : indices)
    (make_platform(rl.runs.at(i).host.platform)->exclusive() ? vm : sim).push_back(i);
  const SubmitOptions& o = rl.options;
  const std::string abs_dir = fs::absolute(dir).lexically_normal().string();
  std::vector<std::string> jobs;
  for (const auto* group : {&sim, &vm}) {
    if (group->empty()) continue;
    const bool exclusive = group == &vm;
    std::string array = array_ranges(*group);
    if (o.max_parallel > 0) array += "%" + std::to_string(o.max_parallel);
    std::string cmd = "sbatch --parsable --job-name=" + quote("vtmm-" + rl.experiment) +
                      " --array=" + array +
                      " --output=" + quote(abs_dir + "/slurm/logs/%A_%a.out") +
                      " --chdir=" + quote(fs::current_path().string());
    // A sim run is one single-threaded process; a real VM needs its host to itself.
    cmd += exclusive ? " --exclusive" : " --ntasks=1 --cpus-per-task=1";
    if (!o.partition.empty()) cmd += " --partition=" + quote(o.partition);
    if (!o.constraint.empty()) cmd += " --constraint=" + quote(o.constraint);
    if (!o.time_limit.empty()) cmd += " --time=" + quote(o.time_limit);
    cmd += " " + quote(abs_dir + "/slurm/task.sh");
    const Captured c = sh(cmd);
    if (c.code == 127) throw SpecError("slurm: sbatch not found (is this a Slurm submit host?)");
    const std::string out = trim(c.out);
    // --parsable prints "jobid" or "jobid;cluster".
    const std::string id = out.substr(0, out.find(';'));
    if (c.code != 0 || id.empty() || id.find_first_not_of("0123456789") != std::string::npos)
      throw SpecError("slurm: sbatch failed: " +
                      (out.empty() ? "exit " + std::to_string(c.code) : out));
    const Json line = {{"job_id", id},
                       {"array", array},
                       {"indices", *group},
                       {"exclusive", exclusive},
                       {"submitted_unix", static_cast<long long>(std::time(nullptr))}};
    append_record((slurm_dir(dir) / "jobs.jsonl").string(), line);
    jobs.push_back(id);
  }
  return jobs;
}

std::vector<std::string> submitted_jobs(const std::string& dir) {
  std::vector<std::string> out;
  std::ifstream in(slurm_dir(dir) / "jobs.jsonl");
  std::string line;
  while (std::getline(in, line)) {
    const Json j = parse_json_or_discarded(line);
    if (!j.is_discarded() && j.is_object() && j.contains("job_id"))
      out.push_back(j.at("job_id").get<std::string>());
  }
  return out;
}

std::vector<size_t> queued_tasks(const std::vector<std::string>& jobs) {
  std::set<size_t> out;
  for (const std::string& id : jobs) {
    // -r: one line per array task ("123_4"); finished tasks are not listed.
    const Captured c = sh("squeue -h -r -o %i -j " + quote(id));
    if (c.code == 127) throw SpecError("slurm: squeue not found (is this a Slurm submit host?)");
    if (c.code != 0) {
      // A job Slurm has forgotten (finished longer ago than MinJobAge) is done.
      if (c.out.find("Invalid job id") != std::string::npos) continue;
      throw std::runtime_error("slurm: squeue failed for job " + id + ": " + trim(c.out));
    }
    std::istringstream ls(c.out);
    std::string tok;
    while (ls >> tok) {
      const size_t us = tok.find('_');
      if (us == std::string::npos || tok.substr(0, us) != id) continue;
      const std::string task = tok.substr(us + 1);
      if (!task.empty() && task.find_first_not_of("0123456789") == std::string::npos)
        out.insert(std::stoul(task));
    }
  }
  return {out.begin(), out.end()};
}

void wait_for(const std::string& dir, const RunList& rl, const std::vector<std::string>& jobs) {
  size_t last_recorded = static_cast<size_t>(-1), last_queued = static_cast<size_t>(-1);
  for (;;) {
    const size_t queued = queued_tasks(jobs).size();
    size_t recorded = 0;
    for (size_t i = 0; i < rl.runs.size(); ++i) recorded += fs::exists(record_path(dir, i)) ? 1 : 0;
    if (recorded != last_recorded || queued != last_queued) {
      std::fprintf(stderr, "[%s] slurm: %zu/%zu runs recorded, %zu tasks queued or running\n",
                   rl.experiment.c_str(), recorded, rl.runs.size(), queued);
      last_recorded = recorded;
      last_queued = queued;
    }
    if (queued == 0) return;
    std::this_thread::sleep_for(std::chrono::seconds(2));
  }
}

Json run_task(const std::string& dir, size_t index) {
  const RunList rl = read_run_list(dir);
  if (index >= rl.runs.size())
    throw SpecError("run-one: index " + std::to_string(index) + " out of range (the run list has " +
                    std::to_string(rl.runs.size()) + " runs)");
  const Json rec =
      make_record(RunIdentity{rl.experiment, rl.spec_hash, index}, rl.runs[index], true);
  write_file_atomically(record_path(dir, index).string(), rec.dump() + "\n");
  return rec;
}

Collected collect(const std::string& dir) {
  const RunList rl = read_run_list(dir);
  Collected c;
  c.total = rl.runs.size();
  std::vector<size_t> queued;
  const std::vector<std::string> jobs = submitted_jobs(dir);
  if (!jobs.empty()) queued = queued_tasks(jobs);
  std::vector<Json> records;
  for (size_t i = 0; i < rl.runs.size(); ++i) {
    Json r = task_record(dir, rl, i);
    const bool is_queued = std::binary_search(queued.begin(), queued.end(), i);
    if (r.is_null()) {
      (is_queued ? c.queued : c.missing).push_back(i);
      continue;
    }
    if (record_ok(r))
      ++c.ok;
    else if (is_queued)  // a resubmitted task is redoing it
      c.queued.push_back(i);
    else
      c.failed.push_back(i);
    records.push_back(std::move(r));
  }
  add_slowdowns(records, rl.baseline);
  c.jsonl = (fs::path(dir) / "runs.jsonl").string();
  write_records_atomically(c.jsonl, records);
  return c;
}

}  // namespace vtmm::runner::slurm
