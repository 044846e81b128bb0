#pragma once
// Experiment specs: a base run plus sweep axes, expanded into RunSpecs, run
// (in parallel if asked) and recorded one JSON object per line in
// <out>/runs.jsonl. Records are appended as each run ends, so an interrupted
// sweep resumes where it stopped; when the sweep is complete the file is
// rewritten once (to a temporary, then renamed) in expansion order with each
// record's slowdown against the baseline policy filled in.
#include <chrono>
#include <string>
#include <vector>

#include "vtmm/core/run_spec.hpp"

namespace vtmm::runner {

struct Experiment {
  std::string name;
  Json spec;                  // as loaded (after the --full patch, if any)
  std::vector<RunSpec> runs;  // expansion order
  std::string baseline;       // policy whose run of the same workload/seed is 1.0
  std::string spec_hash;  // stamped on records: of the expanded runs and baseline, not the prose
  // Whether `vtmm reproduce` runs it by default (spec key "reproduce"; false
  // for checks that are not paper figures, e.g. the CI gate and the real-VM
  // smoke test).
  bool in_reproduce = true;
};

// Loads and fully validates a spec: every run's workload, policy and host are
// constructed once, so a bad spec fails here, before any file is touched.
// Repetitions: the spec's "repeat": N (or repeat_override > 0) runs each
// configuration N times, in rounds (every configuration once, then again...)
// shuffled within a round by a fixed seed, so drift on a real host does not
// bias one design. Each run carries "repeat": i. With "repeat_seeds": true,
// repeat i > 0 gets a seed derived from (seed, i); otherwise every repeat
// keeps the seed (on `sim` identical seeds give identical results).
// A spec also gets its 'full' block checked when loaded at quick scale, and
// refused if it expands to more than kMaxRunsPerSpec runs (counted before any
// is built: "repeat": 1000000 is a typo, not a sweep).
Experiment load_experiment(const std::string& path, bool full_scale, unsigned repeat_override = 0);
inline constexpr uint64_t kMaxRunsPerSpec = 100'000;
// The same from a spec's text; `path` names it in messages.
Experiment load_experiment_text(const std::string& text, const std::string& path, bool full_scale,
                                unsigned repeat_override = 0);

struct RunOptions {
  std::string out_dir;  // default results/<name>
  unsigned jobs = 1;
  unsigned threads = 1;   // host threads per run (ExecOptions::threads): jobs x threads in all
  bool progress = false;  // runs done / total and ETA on stderr...
  bool tty = false;       // ...redrawn in place (a terminal), else one plain line per run
  bool resume = true;     // keep ok records of this spec; false: redo every run
};

struct SweepResult {
  std::string jsonl;  // path of runs.jsonl
  size_t total = 0, reused = 0, ran = 0, failed = 0;
};

// Runs what is not yet recorded; a failed run is recorded as failed and the
// sweep goes on (the caller decides the exit status from `failed`).
SweepResult run_experiment(const Experiment& e, const RunOptions& opt);

// What a run cost the machine, stamped into its record: wall_s (elapsed, so
// it grows when other work shares the cores) and cpu_s (CPU time of the
// thread that ran it: for a sim run, which is one thread, its own cost
// whatever else runs; for a vm run, only vtmm's side, not QEMU's).
class RunTimer {
 public:
  RunTimer();
  void stamp(Json& rec) const;

 private:
  std::chrono::steady_clock::time_point wall0_;
  double cpu0_;
};

// One run with the runner's bookkeeping fields; wall_s and cpu_s included unless omitted.
Json run_one(const RunSpec& r, bool with_wall);

// Path of experiments/<name>.json for a bare name, or the path itself.
std::string resolve_spec_path(const std::string& name_or_path);
std::vector<std::string> list_experiments();

std::string hash_hex(const std::string& s);

}  // namespace vtmm::runner
