// `vtmm compare BASE NEW`: per configuration, did NEW get worse than BASE?
// Exit 0: no regression; 1: a configuration regressed beyond the threshold
// (or, with --fail-on-unmatched, something could not be compared); 2: bad input.
#include <iostream>
#include <memory>

#include "vtmm/cli/commands.hpp"
#include "vtmm/runner/compare.hpp"

namespace vtmm::cli {
namespace {

struct CompareFlags {
  std::string base, next, metric = "sim_time_s", threshold = "5%", format = "text", direction;
  double alpha = 0.05;
  bool fail_on_unmatched = false;
};

}  // namespace

void add_compare(CLI::App& app) {
  auto f = std::make_shared<CompareFlags>();
  CLI::App* c = app.add_subcommand(
      "compare", "Compare two sets of results per configuration, with significance");
  c->add_option("base", f->base, "BASE: a results folder or a runs.jsonl file")->required();
  c->add_option("new", f->next, "NEW: a results folder or a runs.jsonl file")->required();
  c->add_option("--metric,-m", f->metric, "Record field to compare (dotted for nested fields)")
      ->capture_default_str();
  c->add_option("--threshold,-t", f->threshold, "Relative change that counts, as a percentage")
      ->capture_default_str();
  c->add_option("--alpha", f->alpha, "Significance level of the Mann-Whitney test")
      ->capture_default_str();
  c->add_option("--format,-f", f->format, "Report format")
      ->check(CLI::IsMember({"text", "markdown", "json"}))
      ->capture_default_str();
  c->add_option("--direction", f->direction, "Which way is better, for metrics vtmm does not know")
      ->check(CLI::IsMember({"lower", "higher"}));
  c->add_flag("--fail-on-unmatched", f->fail_on_unmatched,
              "Exit 1 also when a configuration or record could not be compared");
  c->callback([f] {
    runner::CompareOptions opt;
    opt.metric = f->metric;
    opt.threshold = runner::parse_percent(f->threshold, "compare: --threshold");
    if (!(f->alpha > 0 && f->alpha < 1))
      throw SpecError("compare: --alpha must be between 0 and 1 (exclusive)");
    opt.alpha = f->alpha;
    if (!f->direction.empty())
      opt.direction = f->direction == "lower" ? runner::Direction::LowerIsBetter
                                              : runner::Direction::HigherIsBetter;
    opt.fail_on_unmatched = f->fail_on_unmatched;
    // Both inputs are read (and fail) before anything is printed.
    const runner::RecordSet base = runner::load_record_set(f->base, "BASE");
    const runner::RecordSet next = runner::load_record_set(f->next, "NEW");
    const runner::Comparison cmp = runner::compare(base, next, opt);
    if (f->format == "json")
      std::cout << runner::to_json(cmp).dump(2) << '\n';
    else if (f->format == "markdown")
      std::cout << runner::format_markdown(cmp);
    else
      std::cout << runner::format_text(cmp);
    set_exit_code(cmp.exit_status());
  });
}

}  // namespace vtmm::cli
