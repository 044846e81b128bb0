// vtmm: the command line. Each subcommand is a small function; errors a user
// can fix print one line and exit 2.
#include <unistd.h>

#include <CLI/CLI.hpp>
#include <cstdio>
#include <iostream>
#include <string>

#include "vtmm/cli/commands.hpp"
#include "vtmm/core/error.hpp"

int main(int argc, char** argv) {
  CLI::App app{"vtmm: tiered-memory management for virtual machines (simulated host)"};
  app.require_subcommand(1);
  app.set_help_all_flag("--help-all", "Show help for every subcommand");
  vtmm::cli::add_sim(app);
  vtmm::cli::add_run(app);
  vtmm::cli::add_list(app);
  vtmm::cli::add_reproduce(app);
  vtmm::cli::add_plot(app);
  vtmm::cli::add_doctor(app);
  vtmm::cli::add_image(app);
  vtmm::cli::add_numa_check(app);
  vtmm::cli::add_collect(app);
  vtmm::cli::add_run_one(app);
  vtmm::cli::add_trace(app);
  vtmm::cli::add_compare(app);
  // CLI11 reports an unknown first word as "A subcommand is required"; name it.
  if (argc > 1 && argv[1][0] != '-') {
    std::string names;
    bool known = false;
    for (const CLI::App* sub : app.get_subcommands([](const CLI::App*) { return true; })) {
      known = known || sub->check_name(argv[1]);
      names += (names.empty() ? "" : ", ") + sub->get_name();
    }
    if (!known) {
      std::fprintf(stderr, "vtmm: error: unknown command '%.60s' (commands: %s)\n", argv[1],
                   names.c_str());
      return 2;
    }
  }
  try {
    app.parse(argc, argv);
  } catch (const CLI::CallForHelp& e) {
    return app.exit(e);
  } catch (const CLI::CallForAllHelp& e) {
    return app.exit(e);
  } catch (const CLI::ParseError& e) {
    std::fprintf(stderr, "vtmm: error: %s\n", e.what());
    return 2;
  } catch (const vtmm::SpecError& e) {
    std::fprintf(stderr, "vtmm: error: %s\n", e.what());
    return 2;
  } catch (const vtmm::VerifyError& e) {
    std::fprintf(stderr, "vtmm: workload check failed: %s\n", e.what());
    return 1;
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vtmm: internal error: %s\n", e.what());
    return 1;
  }
  return vtmm::cli::exit_code();
}
