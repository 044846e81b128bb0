// The Slurm executor's commands: `vtmm run --executor slurm` (submission),
// `vtmm collect DIR [--resubmit] [--wait]` (merge, report, redo what is
// missing) and the hidden `vtmm run-one DIR --index I` that each array task runs.
#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>

#include "vtmm/cli/commands.hpp"
#include "vtmm/cli/slurm_flags.hpp"
#include "vtmm/core/error.hpp"
#include "vtmm/runner/records.hpp"
#include "vtmm/runner/slurm.hpp"

namespace vtmm::cli {
namespace {

namespace fs = std::filesystem;
namespace sl = runner::slurm;

std::string join_ids(const std::vector<std::string>& ids) {
  std::string s;
  for (const auto& id : ids) s += (s.empty() ? "" : ",") + id;
  return s;
}

// Prints what collect found; the exit status is 0 only when every run is ok.
void report(const std::string& dir, const sl::Collected& c) {
  const sl::RunList rl = sl::read_run_list(dir);
  std::fprintf(
      stderr, "collect: %s: %zu runs: %zu ok, %zu failed, %zu missing, %zu queued or running\n",
      rl.experiment.c_str(), c.total, c.ok, c.failed.size(), c.missing.size(), c.queued.size());
  for (size_t i : c.missing)
    std::fprintf(stderr, "collect: missing: run %zu (%s)\n", i, rl.runs[i].label().c_str());
  if (!c.failed.empty()) {
    const fs::path rec_dir = fs::path(dir) / "slurm" / "records";
    for (size_t i : c.failed)
      std::fprintf(stderr, "collect: failed: run %zu (%s), see %s\n", i, rl.runs[i].label().c_str(),
                   (rec_dir / (std::to_string(i) + ".json")).string().c_str());
  }
  if (!c.missing.empty() || !c.failed.empty())
    std::fprintf(
        stderr, "collect: `vtmm collect %s --resubmit` submits the missing and failed runs again\n",
        dir.c_str());
  set_exit_code(c.ok == c.total ? 0 : 1);
}

std::vector<std::string> submit_and_say(const std::string& dir, const sl::RunList& rl,
                                        const std::vector<size_t>& todo) {
  const std::vector<std::string> jobs = sl::submit(dir, rl, todo);
  std::fprintf(stderr,
               "[%s] slurm: submitted %zu of %zu runs as array job(s) %s (tasks %s); logs in %s\n",
               rl.experiment.c_str(), todo.size(), rl.runs.size(), join_ids(jobs).c_str(),
               sl::array_ranges(todo).c_str(), (fs::path(dir) / "slurm" / "logs").string().c_str());
  return jobs;
}

// Earlier tasks still in the queue would race a new submission of the same runs.
void refuse_if_queued(const std::string& dir) {
  const auto earlier = sl::submitted_jobs(dir);
  if (earlier.empty()) return;
  const auto q = sl::queued_tasks(earlier);
  if (!q.empty())
    throw SpecError("slurm: " + std::to_string(q.size()) + " tasks of earlier jobs (" +
                    join_ids(earlier) + ") for " + dir +
                    " are still queued or running; wait for them or scancel them first");
}

// Ok records that runs.jsonl already holds (from either executor) count as done.
void adopt_local_records(const std::string& dir, const sl::RunList& rl) {
  std::vector<std::string> notes;
  const auto done = runner::read_records((fs::path(dir) / "runs.jsonl").string(), notes);
  for (size_t i = 0; i < rl.runs.size(); ++i) {
    const fs::path p = fs::path(dir) / "slurm" / "records" / (std::to_string(i) + ".json");
    const auto it = done.find(rl.keys[i]);
    if (it == done.end() || !runner::record_ok(it->second) || fs::exists(p)) continue;
    Json r = it->second;
    r["run_index"] = i;
    r["spec_hash"] = rl.spec_hash;  // possibly written by another spec version with the same run
    runner::write_file_atomically(p.string(), r.dump() + "\n");
  }
}

}  // namespace

std::shared_ptr<SlurmRunFlags> add_slurm_run_options(CLI::App* run) {
  auto f = std::make_shared<SlurmRunFlags>();
  const std::string g = "Slurm executor (--executor slurm)";
  run->add_option("--partition", f->partition, "Slurm partition (default: the cluster's)")
      ->group(g);
  run->add_option("--constraint", f->constraint,
                  "Node features the runs need, e.g. a tiered-memory host")
      ->group(g);
  run->add_option("--time", f->time_limit,
                  "Time limit per run, in Slurm's format (e.g. 30, 2:00:00)")
      ->group(g);
  run->add_option("--max-parallel", f->max_parallel, "At most K array tasks at once (0: no limit)")
      ->group(g);
  run->add_flag("--wait", f->wait, "Wait for the jobs, then collect into runs.jsonl")->group(g);
  return f;
}

void check_local_executor(const SlurmRunFlags& f) {
  const char* given = !f.partition.empty()    ? "--partition"
                      : !f.constraint.empty() ? "--constraint"
                      : !f.time_limit.empty() ? "--time"
                      : f.max_parallel > 0    ? "--max-parallel"
                      : f.wait                ? "--wait"
                                              : nullptr;
  if (given) throw SpecError(std::string("run: ") + given + " needs --executor slurm");
}

std::string run_on_slurm(const runner::Experiment& e, const std::string& out, bool resume,
                         const SlurmRunFlags& f) {
  const std::string dir = out.empty() ? (fs::path("results") / e.name).string() : out;
  refuse_if_queued(dir);
  sl::SubmitOptions o;
  o.partition = f.partition;
  o.constraint = f.constraint;
  o.time_limit = f.time_limit;
  o.max_parallel = f.max_parallel;
  o.vtmm_binary = fs::read_symlink("/proc/self/exe").string();
  sl::write_run_list(e, dir, o);
  if (!resume) sl::remove_records(dir);
  const sl::RunList rl = sl::read_run_list(dir);
  if (resume) adopt_local_records(dir, rl);
  const std::vector<size_t> ok = sl::recorded_ok(dir, rl);
  std::vector<size_t> todo;
  for (size_t i = 0; i < rl.runs.size(); ++i)
    if (!std::binary_search(ok.begin(), ok.end(), i)) todo.push_back(i);
  if (!ok.empty())
    std::fprintf(stderr, "[%s] %zu of %zu runs already recorded; %zu to run\n", e.name.c_str(),
                 ok.size(), rl.runs.size(), todo.size());
  std::vector<std::string> jobs;
  if (!todo.empty()) jobs = submit_and_say(dir, rl, todo);
  if (!f.wait && !todo.empty()) {
    for (const auto& id : jobs) std::cout << id << '\n';
    std::fprintf(stderr,
                 "[%s] slurm: `vtmm collect %s` merges the records once the jobs are done\n",
                 e.name.c_str(), dir.c_str());
    return "";
  }
  if (!jobs.empty()) sl::wait_for(dir, rl, jobs);
  const sl::Collected c = sl::collect(dir);
  report(dir, c);
  return c.jsonl;
}

void add_collect(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto resubmit = std::make_shared<bool>(false);
  auto wait = std::make_shared<bool>(false);
  CLI::App* c = app.add_subcommand(
      "collect",
      "Merge a Slurm sweep's per-task records into DIR/runs.jsonl; report missing and failed runs");
  c->add_option("dir", *dir, "Results folder given to `vtmm run --executor slurm`")->required();
  c->add_flag("--resubmit", *resubmit,
              "Submit the missing and failed runs again (same Slurm options)");
  c->add_flag("--wait", *wait, "With --resubmit: wait for the new job, then collect again");
  c->callback([dir, resubmit, wait] {
    if (*wait && !*resubmit) throw SpecError("collect: --wait needs --resubmit");
    sl::Collected col = sl::collect(*dir);
    std::vector<size_t> redo = col.missing;
    redo.insert(redo.end(), col.failed.begin(), col.failed.end());
    std::sort(redo.begin(), redo.end());
    if (!*resubmit || redo.empty()) {
      report(*dir, col);
      std::cout << col.jsonl << '\n';
      return;
    }
    const sl::RunList rl = sl::read_run_list(*dir);
    const auto jobs = submit_and_say(*dir, rl, redo);
    if (!*wait) {
      for (const auto& id : jobs) std::cout << id << '\n';
      set_exit_code(1);  // not complete yet
      return;
    }
    sl::wait_for(*dir, rl, jobs);
    col = sl::collect(*dir);
    report(*dir, col);
    std::cout << col.jsonl << '\n';
  });
}

void add_run_one(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto index = std::make_shared<long long>(-1);
  CLI::App* c = app.add_subcommand(
      "run-one", "Run one run of a Slurm run list (what each array task executes)");
  c->group("");  // hidden: users run `vtmm run --executor slurm`
  c->add_option("dir", *dir, "Results folder holding slurm/runlist.json")->required();
  c->add_option("--index", *index, "Run index (default: $SLURM_ARRAY_TASK_ID)");
  c->callback([dir, index] {
    long long i = *index;
    if (i < 0) {
      const char* t = std::getenv("SLURM_ARRAY_TASK_ID");
      if (t == nullptr || *t == '\0')
        throw SpecError("run-one: no --index and no SLURM_ARRAY_TASK_ID");
      i = std::atoll(t);
    }
    if (i < 0) throw SpecError("run-one: index must be >= 0");
    const Json rec = sl::run_task(*dir, static_cast<size_t>(i));
    const bool ok = runner::record_ok(rec);
    std::printf("run %lld: %s (%.2f s)%s%s\n", i, ok ? "ok" : "FAILED", rec.value("wall_s", 0.0),
                ok ? "" : ": ", ok ? "" : rec.value("error", "").c_str());
    set_exit_code(ok ? 0 : 1);
  });
}

}  // namespace vtmm::cli
