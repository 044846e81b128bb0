#pragma once
// Subcommands register their options and callback on the app; callbacks run
// inside app.parse(), so their SpecErrors reach main's one-line handler.
#include <CLI/CLI.hpp>

namespace vtmm::cli {

void add_sim(CLI::App& app);
void add_run(CLI::App& app);
void add_list(CLI::App& app);
void add_reproduce(CLI::App& app);
void add_plot(CLI::App& app);
void add_doctor(CLI::App& app);      // doctor_cmd.cpp
void add_image(CLI::App& app);       // image_cmd.cpp
void add_numa_check(CLI::App& app);  // numa_check_cmd.cpp
void add_collect(CLI::App& app);     // and run-one: the Slurm executor (collect_cmd.cpp)
void add_run_one(CLI::App& app);
void add_trace(CLI::App& app);
void add_compare(CLI::App& app);

// `--threads N` on a subcommand that runs simulations (ExecOptions::threads).
void add_threads_option(CLI::App* c, unsigned& threads);

// Exit status set by a callback (0 unless a subcommand reports failure).
int exit_code();
void set_exit_code(int code);

}  // namespace vtmm::cli
