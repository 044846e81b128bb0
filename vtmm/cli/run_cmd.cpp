// `vtmm run`, `vtmm reproduce` and `vtmm plot`: experiments -> runs.jsonl -> figures.
#include <unistd.h>

#include <cstdio>
#include <cstdlib>
#include <filesystem>
#include <iostream>
#include <memory>
#include <thread>

#include "vtmm/cli/commands.hpp"
#include "vtmm/cli/slurm_flags.hpp"
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
  const std::string cmd = "/usr/bin/python3 " + shell_quote(script) + " " +
                          shell_quote(results_dir) + " " + shell_quote(spec_path);
  if (std::system(cmd.c_str()) != 0)
    throw std::runtime_error("plotting failed for " + results_dir +
                             " (is python3-matplotlib installed?)");
}

unsigned default_jobs() {
  const unsigned n = std::thread::hardware_concurrency();
  return n == 0 ? 1 : n;
}

struct RunFlags {
  std::string spec, out, executor = "local";
  unsigned jobs = default_jobs(), threads = 1;
  bool full = false, resume = false, fresh = false, plot = false;
  unsigned repeat = 0;  // 0: as the spec says
};

struct ReproduceFlags {
  std::string out = "results";
  unsigned jobs = default_jobs(), threads = 1;
  bool quick = false, full = false, no_plots = false;
  std::vector<std::string> only;
};

runner::RunOptions local_options(const std::string& out, unsigned jobs, bool resume,
                                 unsigned threads = 1) {
  runner::RunOptions opt;
  opt.out_dir = out;
  opt.jobs = jobs;
  opt.threads = threads;
  opt.resume = resume;
  opt.progress = true;
  opt.tty = isatty(STDERR_FILENO) != 0;
  return opt;
}

// A sweep with failed runs still writes every record; the exit status says so.
void report_failures(const runner::SweepResult& r) {
  if (r.failed == 0) return;
  std::fprintf(stderr, "vtmm: %zu of %zu runs failed (records with \"status\": \"failed\" in %s)\n",
               r.failed, r.total, r.jsonl.c_str());
  set_exit_code(1);
}

}  // namespace

void add_run(CLI::App& app) {
  auto f = std::make_shared<RunFlags>();
  CLI::App* c =
      app.add_subcommand("run", "Run an experiment spec; append records to DIR/runs.jsonl");
  c->add_option("spec", f->spec, "Spec file, or the name of one in experiments/")->required();
  c->add_option("--out,-o", f->out, "Results folder (default results/<spec name>)");
  c->add_option("--jobs,-j", f->jobs, "Runs in parallel (default: the number of cores)")
      ->capture_default_str();
  add_threads_option(c, f->threads);
  c->add_flag("--full", f->full, "Apply the spec's 'full' patch (paper-like scale)");
  c->add_option("--repeat", f->repeat,
                "Run each configuration N times (overrides the spec's \"repeat\")")
      ->check(CLI::PositiveNumber);
  auto* resume = c->add_flag("--resume", f->resume,
                             "Skip runs already recorded ok for this spec (the default)");
  c->add_flag("--fresh,--no-resume", f->fresh, "Redo every run even if records exist")
      ->excludes(resume);
  c->add_flag("--plot", f->plot, "Draw the experiment's figures afterwards");
  c->add_option("--executor", f->executor,
                "Where runs execute: local (threads) or slurm (an array job)")
      ->check(CLI::IsMember({"local", "slurm"}))
      ->capture_default_str();
  auto slurm = add_slurm_run_options(c);
  c->callback([f, slurm] {
    const runner::Experiment e = runner::load_experiment(f->spec, f->full, f->repeat);
    if (f->executor == "slurm") {
      const std::string path = run_on_slurm(e, f->out, !f->fresh, *slurm);
      if (!path.empty() && f->plot && exit_code() == 0)
        plot(fs::path(path).parent_path().string(), runner::resolve_spec_path(f->spec));
      if (!path.empty()) std::cout << path << '\n';
      return;
    }
    check_local_executor(*slurm);
    const runner::SweepResult r =
        runner::run_experiment(e, local_options(f->out, f->jobs, !f->fresh, f->threads));
    if (f->plot) plot(fs::path(r.jsonl).parent_path().string(), runner::resolve_spec_path(f->spec));
    std::cout << r.jsonl << '\n';
    report_failures(r);
  });
}

void add_reproduce(CLI::App& app) {
  auto f = std::make_shared<ReproduceFlags>();
  CLI::App* c = app.add_subcommand(
      "reproduce",
      "Run every experiment in experiments/, draw every figure, write results/REPORT.md");
  c->add_option("--out,-o", f->out, "Results root")->capture_default_str();
  c->add_option("names", f->only,
                "Only these experiments (default: every one in experiments/ not marked "
                "\"reproduce\": false)");
  c->add_option("--only", f->only, "Same as NAMES (repeatable)");
  c->add_option("--jobs,-j", f->jobs, "Runs in parallel (default: the number of cores)")
      ->capture_default_str();
  add_threads_option(c, f->threads);
  auto* quick =
      c->add_flag("--quick", f->quick, "Quick scale (the default): minutes on a 2-core machine");
  c->add_flag("--full", f->full, "Paper-like scale instead of the quick one")->excludes(quick);
  c->add_flag("--no-plots", f->no_plots, "Skip figures and report");
  c->callback([f] {
    std::vector<std::string> names = f->only.empty() ? runner::list_experiments() : f->only;
    std::vector<runner::Experiment> exps;
    for (const auto& n : names) {  // validate all first
      runner::Experiment e = runner::load_experiment(n, f->full);
      if (f->only.empty() && !e.in_reproduce) continue;  // named explicitly, it runs
      exps.push_back(std::move(e));
    }
    runner::SweepResult all;
    for (const auto& e : exps) {
      const std::string dir = (fs::path(f->out) / e.name).string();
      const runner::SweepResult r =
          runner::run_experiment(e, local_options(dir, f->jobs, true, f->threads));
      std::cout << r.jsonl << '\n';
      if (!f->no_plots) plot(dir, runner::resolve_spec_path(e.name));
      all.total += r.total;
      all.failed += r.failed;
      all.jsonl = f->out + "/*/runs.jsonl";
    }
    if (!f->no_plots) {
      const std::string cmd =
          "/usr/bin/python3 " + shell_quote(sim::data_dir() + "/plots/report.py") + " " +
          shell_quote(f->out) + " " + shell_quote(sim::data_dir() + "/experiments");
      if (std::system(cmd.c_str()) != 0) throw std::runtime_error("writing the report failed");
      std::cout << (fs::path(f->out) / "REPORT.md").string() << '\n';
    }
    report_failures(all);
  });
}

void add_plot(CLI::App& app) {
  auto dir = std::make_shared<std::string>();
  auto spec = std::make_shared<std::string>();
  CLI::App* c = app.add_subcommand("plot", "Draw an experiment's figures from its results folder");
  c->add_option("results", *dir, "Results folder holding runs.jsonl")->required();
  c->add_option("spec", *spec, "Spec file or name (default: the folder's name)");
  c->callback([dir, spec] {
    if (!fs::exists(fs::path(*dir) / "runs.jsonl"))
      throw SpecError("plot: no runs.jsonl in " + *dir);
    const std::string name = spec->empty() ? fs::path(*dir).filename().string() : *spec;
    plot(*dir, runner::resolve_spec_path(name));
  });
}

}  // namespace vtmm::cli
