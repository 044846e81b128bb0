// `vtmm run`, `vtmm reproduce` and `vtmm plot`: experiments -> runs.jsonl -> figures.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "vtmm/cli/commands.hpp"
#include "vtmm/core/error.hpp"
#include "vtmm/runner/experiment.hpp"
#include "vtmm/sim/host_profile.hpp"

namespace vtmm::cli {
namespace {

namespace fs = std::filesystem;

std::string shell_quote(const std::string& s) {
  std::string q = "'";
  for (char ch : s) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
  return q + "'";
}

// Draws the figures of one experiment with the system Python (it has matplotlib).
void plot(const std::string& results_dir, const std::string& spec_path) {
  const std::string script = sim::data_dir() + "/plots/plot_experiment.py";
  const std::string cmd = "/usr/bin/python3 " + shell_quote(script) + " " + shell_quote(results_dir) + " " +
                          shell_quote(spec_path);
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("plotting failed for " + results_dir + " (is python3-matplotlib installed?)");
}

unsigned default_jobs() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

struct RunFlags {
  std::string spec, out;
  unsigned jobs = 1;
  bool full = false, no_resume = false, plot = false;
};

struct ReproduceFlags {
  std::string out = "results";
  unsigned jobs = default_jobs();
  bool full = false, no_plots = false;
  std::vector<std::string> only;
};

}  // namespace

void add_run(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* c = app.add_subcommand("run", "Run an experiment spec; append records to DIR/runs.jsonl");
  c->add_option("spec", f->spec, "Spec file, or the name of one in experiments/")->required();
  c->add_option("--out,-o", f->out, "Results folder (default results/<spec name>)");
  c->add_option("--jobs,-j", f->jobs, "Runs in parallel")->capture_default_str();
  c->add_flag("--full", f->full, "Apply the spec's 'full' patch (paper-like scale)");
  c->add_flag("--no-resume", f->no_resume, "Run everything again even if records exist");
  c->add_flag("--plot", f->plot, "Draw the experiment's figures afterwards");
  c->callback([f] {
    const runner::Experiment e = runner::load_experiment(f->spec, f->full);
    runner::RunOptions opt;
    opt.out_dir = f->out;
    opt.jobs = f->jobs;
    opt.resume = !f->no_resume;
    opt.progress = isatty(STDERR_FILENO) != 0;
    const std::string path = runner::run_experiment(e, opt);
    if (f->plot) plot(fs::path(path).parent_path().string(), runner::resolve_spec_path(f->spec));
    std::cout << path << '\n';
  });
}

void add_reproduce(CLI::App& app) {
  auto f = std::make_shared<ReproduceFlags>();
  CLI::App* c = app.add_subcommand(
      "reproduce", "Run every experiment in experiments/, draw every figure, write results/report.md");
  c->add_option("--out,-o", f->out, "Results root")->capture_default_str();
  c->add_option("--jobs,-j", f->jobs, "Runs in parallel")->capture_default_str();
  c->add_option("--only", f->only, "Only these experiments (repeatable)");
  c->add_flag("--full", f->full, "Paper-like scale instead of the quick one");
  c->add_flag("--no-plots", f->no_plots, "Skip figures and report");
  c->callback([f] {
    std::vector<std::string> names = f->only.empty() ? runner::list_experiments() : f->only;
    std::vector<runner::Experiment> exps;
    for (const auto& n : names) exps.push_back(runner::load_experiment(n, f->full));  // validate all first
    for (const auto& e : exps) {
      runner::RunOptions opt;
      opt.out_dir = (fs::path(f->out) / e.name).string();
      opt.jobs = f->jobs;
      opt.progress = isatty(STDERR_FILENO) != 0;
      const std::string path = runner::run_experiment(e, opt);
      std::cout << path << '\n';
      if (!f->no_plots) plot(opt.out_dir, runner::resolve_spec_path(e.name));
    }
    if (!f->no_plots) {
      const std::string cmd = "/usr/bin/python3 " + shell_quote(sim::data_dir() + "/plots/report.py") + " " +
                              shell_quote(f->out) + " " + shell_quote(sim::data_dir() + "/experiments");
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("writing the report failed");
      std::cout << (fs::path(f->out) / "report.md").string() << '\n';
    }
  });
}

void add_plot(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto spec = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand("plot", "Draw an experiment's figures from its results folder");
  c->add_option("results", *dir, "Results folder holding runs.jsonl")->required();
  c->add_option("spec", *spec, "Spec file or name (default: the folder's name)");
  c->callback([dir, spec] {
    if (!fs::exists(fs::path(*dir) / "runs.jsonl")) throw SpecError("plot: no runs.jsonl in " + *dir);
    const std::string name = spec->empty() ? fs::path(*dir).filename().string() : *spec;
    plot(*dir, runner::resolve_spec_path(name));
  });
}

}  // namespace vtmm::cli
