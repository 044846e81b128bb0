#pragma once
// `vtmm compare`: did NEW get worse than BASE, per configuration, beyond noise?
//
// A configuration is a record's config.run without its seed and repeat, so
// the repeats of one design on one workload form one sample. Workload and
// policy are matched by name (a changed default parameter is the kind of
// change a user wants measured, not a reason to stop comparing; the report
// notes it); only when one side holds several parameter variants of the same
// name are they told apart by their full parameters.
//
// Per matched configuration the change of medians is tested with
// Mann-Whitney U where both sides have enough repeats for the test to be able
// to reach alpha (4 and 4 at alpha 0.05); otherwise the change is a plain
// ratio of medians, labelled so. A configuration regressed when it is worse by
// more than the threshold and, for a tested one, p <= alpha. Ratio-only
// regressions count too: on the deterministic simulator the ratio is exact.
// Records that cannot be compared (only on one side, failed runs, no value of
// the metric) are listed, never dropped silently.
#include <optional>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"
#include "vtmm/runner/stats.hpp"

namespace vtmm::runner {

// Records of a results folder (its runs.jsonl) or of a .jsonl file. Any line
// that is not a JSON run record is a SpecError naming the file, line and byte.
struct RecordSet {
  std::string path;  // the file actually read
  std::vector<Json> records;
};
RecordSet load_record_set(const std::string& folder_or_file, const std::string& role);

enum class Direction { LowerIsBetter, HigherIsBetter };

struct CompareOptions {
  std::string metric = "sim_time_s";   // a numeric record field; dotted paths reach nested ones
  std::optional<Direction> direction;  // required for metrics without a known direction
  double threshold = 0.05;             // relative change that counts
  double alpha = 0.05;                 // significance level of the test
  bool fail_on_unmatched = false;      // exit 1 also when something could not be compared
};

// "5%" -> 0.05. Throws SpecError for anything else.
double parse_percent(const std::string& text, const std::string& what);
// The direction of a known metric, or the override; SpecError if neither.
Direction metric_direction(const std::string& metric, const std::optional<Direction>& override_dir);

struct SideStats {
  Summary summary;
  std::vector<double> values;
};

struct ConfigResult {
  std::string label;  // readable: host/workload/policy[/ratio]
  Json key;           // the configuration as matched
  SideStats base, next;
  double change = 0;    // next median / base median - 1 (signed, as measured)
  double worse = 0;     // the same, positive when NEW is worse given the direction
  bool tested = false;  // Mann-Whitney applied (else: ratio only)
  MannWhitney test;
  bool significant = false;
  std::string verdict;  // "regressed", "improved", "unchanged"
  std::string note;     // e.g. parameters that differ between BASE and NEW
};

struct Unmatched {
  std::string side;  // "BASE" or "NEW"
  std::string label;
  size_t records = 0;
  std::string reason;
};

struct Comparison {
  CompareOptions options;
  Direction direction = Direction::LowerIsBetter;
  std::string base_path, new_path;
  size_t base_records = 0, new_records = 0;
  std::vector<ConfigResult> configs;
  std::vector<Unmatched> unmatched;
  size_t regressed() const;
  size_t improved() const;
  int exit_status() const;  // 0 pass, 1 regression (or unmatched, if asked)
};

Comparison compare(const RecordSet& base, const RecordSet& next, const CompareOptions& opt);

std::string format_text(const Comparison& c);
std::string format_markdown(const Comparison& c);  // fit to paste in a pull-request comment
Json to_json(const Comparison& c);

}  // namespace vtmm::runner
