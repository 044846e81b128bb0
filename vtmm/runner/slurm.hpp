#pragma once
// The Slurm executor: an experiment's runs as one Slurm array job per kind of
// node, one array task per run, merged afterwards by `vtmm collect`.
//
// Everything lives in the results folder DIR, which must be on a file system
// that the submit host and the compute nodes share:
//   DIR/slurm/runlist.json      the expanded runs (RunSpec JSON, run keys), the
//                               experiment's identity and the submit options
//   DIR/slurm/task.sh           the batch script: `vtmm run-one DIR --index $SLURM_ARRAY_TASK_ID`
//   DIR/slurm/records/<i>.json  task i's record, written atomically (tmp + rename)
//   DIR/slurm/jobs.jsonl        one line per sbatch: job id and the run indices it holds
//   DIR/slurm/logs/<job>_<task>.out
//   DIR/runs.jsonl              the merged records, in run order, as the local
//                               executor writes them
// A task writes only its own record file, so a task that runs twice (a
// resubmission racing a straggler) replaces its record: nothing is duplicated.
// Array task id = run index, so a resubmission names exactly the runs it redoes.
// Runs on platform "vm" go in their own array job with --exclusive (a real VM
// needs the whole tiered host); --constraint selects which hosts qualify.
#include <cstddef>
#include <string>
#include <vector>

#include "vtmm/core/run_spec.hpp"
#include "vtmm/runner/experiment.hpp"

namespace vtmm::runner::slurm {

struct SubmitOptions {
  std::string partition, constraint, time_limit;  // empty: the cluster's default
  unsigned max_parallel = 0;                      // array throttle (%K); 0: none
  std::string vtmm_binary;                        // absolute path the tasks execute
};

struct RunList {
  std::string experiment, spec_hash, baseline;
  std::vector<RunSpec> runs;
  std::vector<std::string> keys;  // run_key of each run
  SubmitOptions options;
};

// Writes DIR/slurm/runlist.json and task.sh (atomically), creating folders.
void write_run_list(const Experiment& e, const std::string& dir, const SubmitOptions& opt);
RunList read_run_list(const std::string& dir);  // SpecError if DIR holds none

// Indices whose record file holds an ok record of this run list.
std::vector<size_t> recorded_ok(const std::string& dir, const RunList& rl);
void remove_records(const std::string& dir);

// sbatch: one array job for the sim runs among `indices`, one (exclusive) for
// the vm runs. Returns the job ids; appends them to jobs.jsonl.
std::vector<std::string> submit(const std::string& dir, const RunList& rl,
                                const std::vector<size_t>& indices);

// Job ids of every submission recorded in DIR (jobs.jsonl).
std::vector<std::string> submitted_jobs(const std::string& dir);
// Array task ids (= run indices) of `jobs` that Slurm still has pending or running.
std::vector<size_t> queued_tasks(const std::vector<std::string>& jobs);
// Polls squeue until none of `jobs` has a task left; progress lines on stderr.
void wait_for(const std::string& dir, const RunList& rl, const std::vector<std::string>& jobs);

// One array task: runs run `index`, writes DIR/slurm/records/<index>.json.
// Returns the record (its status says whether the run succeeded).
Json run_task(const std::string& dir, size_t index);

struct Collected {
  std::string jsonl;
  size_t total = 0, ok = 0;
  std::vector<size_t> failed, missing, queued;  // run indices
};
// Merges every task record into DIR/runs.jsonl (run order, slowdowns filled);
// runs whose task is still queued are reported as queued, not missing.
Collected collect(const std::string& dir);

// "0-3,5,7-9" (sorted, unique input).
std::string array_ranges(const std::vector<size_t>& indices);

}  // namespace vtmm::runner::slurm
