#pragma once
// `vtmm run --executor slurm`: its options and the submission they drive
// (defined in collect_cmd.cpp, next to `vtmm collect` and `vtmm run-one`).
#include <CLI/CLI.hpp>
#include <memory>
#include <string>

#include "vtmm/runner/experiment.hpp"

namespace vtmm::cli {

struct SlurmRunFlags {
  std::string partition, constraint, time_limit;
  unsigned max_parallel = 0;
  bool wait = false;
};

std::shared_ptr<SlurmRunFlags> add_slurm_run_options(CLI::App* run);

// SpecError if a Slurm-only option was given to the local executor.
void check_local_executor(const SlurmRunFlags& f);

// Submits the runs of `e` not yet recorded in `out` (default results/<name>).
// With --wait, waits, collects and returns the path of runs.jsonl; otherwise
// prints the job ids and returns "".
std::string run_on_slurm(const runner::Experiment& e, const std::string& out, bool resume,
                         const SlurmRunFlags& f);

}  // namespace vtmm::cli
