#pragma once
// Run records as every executor writes them, and the runs.jsonl log.
//
// A record is one JSON object: the run's metrics and resolved config (from
// run_one) plus the runner's bookkeeping: experiment, spec_hash, run_index,
// run_key, status ("ok" or "failed"), wall_s and cpu_s (RunTimer). A run that throws (a workload
// whose result check fails, an internal error) becomes a record with
// "status": "failed" and its "error", so a sweep goes on past it. The local
// and the Slurm executor both build records here, so they hold the same bytes
// apart from wall_s and cpu_s.
//
// runs.jsonl is appended one whole line per record (one write(2), then
// fdatasync). A line cut short by a kill is detected when the log is read
// back and dropped with a note; complete lines are never lost.
#include <cstddef>
#include <map>
#include <string>
#include <vector>

#include "vtmm/core/run_spec.hpp"

namespace vtmm::runner {

// What identifies a run inside an experiment; run_key is a hash of the
// resolved RunSpec and, on the simulated host, of the model that computes it
// (sim::kModelVersion and the host's constants), so a changed run or a
// changed model is a new run.
struct RunIdentity {
  std::string experiment;
  std::string spec_hash;
  size_t index = 0;
};

std::string run_key(const RunSpec& r);

// Runs `r` and returns its record; never throws for a failing run.
Json make_record(const RunIdentity& id, const RunSpec& r, bool with_wall);

bool record_ok(const Json& rec);

// Records of runs.jsonl by run_key, in file order (a later line for the same
// key wins). Torn or corrupt lines are skipped with a note. The run key is the
// hash of the fully resolved run, so a caller reuses a record exactly when its
// run is the same, whatever spec version or vtmm build wrote it.
std::map<std::string, Json> read_records(const std::string& path, std::vector<std::string>& notes);

// Appends one line durably; throws std::runtime_error if the write fails.
void append_record(const std::string& path, const Json& rec);

// Writes `text` to path.tmp.<pid>, syncs it, renames it over `path`.
void write_file_atomically(const std::string& path, const std::string& text);
// Creates a results folder (and its parents); a path that cannot be one (a
// plain file in the way, no permission) is a SpecError naming the folder.
void make_results_dir(const std::string& dir);
void write_records_atomically(const std::string& path, const std::vector<Json>& records);

// One line for a run whose workload fits in the host's LLC (no measured
// LLC misses, or a footprint no larger than the LLC): its accesses barely
// reach memory, so no placement can change its time. Empty otherwise, and
// for a failed or multi-VM record.
std::string llc_fit_warning(const Json& rec);

// Fills "slowdown" of each ok record against the ok record of `baseline`
// policy with the same run config apart from policy and sizing; null if none.
void add_slowdowns(std::vector<Json>& records, const std::string& baseline);

}  // namespace vtmm::runner
