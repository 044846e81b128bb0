// `vtmm trace record|import|info`: page-access traces of real programs
// (docs/trace-format.md); the `trace` workload replays them.
#include <cstdio>
#include <iostream>
#include <memory>

#include "vtmm/cli/commands.hpp"
#include "vtmm/core/error.hpp"
#include "vtmm/trace/csv_import.hpp"
#include "vtmm/trace/info.hpp"
#include "vtmm/trace/recorder.hpp"

namespace vtmm::cli {
namespace {

std::vector<trace::Marker> markers(const std::vector<std::string>& texts) {
  std::vector<trace::Marker> out;
  for (const auto& t : texts) out.push_back(trace::parse_phase_at(t, "--phase-at"));
  return out;
}

void add_record(CLI::App& parent) {
  struct Flags {
    trace::RecordOptions opt;
    std::vector<std::string> phase_at;
  };
  auto f = std::make_shared<Flags>();
  f->opt.tool = trace::default_tool_path();
  CLI::App* c = parent.add_subcommand(
      "record", "Run a program under vtmm's Valgrind tool and write its page-access trace");
  c->add_option("--out,-o", f->opt.out, "Trace file to write")->required();
  c->add_option("--window", f->opt.window, "Data accesses (loads + stores) per window")
      ->capture_default_str();
  c->add_option("--phase-at", f->phase_at,
                "Mark a phase: WINDOW:NAME, e.g. 40:measured (repeatable)");
  c->add_option("--marker-file", f->opt.marker_file,
                "File the tool checks at each window boundary; writing a name into it (echo "
                "measured > F) marks that phase");
  c->add_flag("--compare-native", f->opt.compare_native,
              "Run the program natively first and report the recorder's slowdown");
  c->add_option("--tool", f->opt.tool, "Path of the pagecount tool")->capture_default_str();
  c->add_option("--valgrind", f->opt.valgrind, "Valgrind launcher")->capture_default_str();
  c->add_option("command", f->opt.command, "Program and arguments, after --")->required();
  c->callback([f] {
    f->opt.phase_at = markers(f->phase_at);
    const trace::RecordResult r = trace::record(f->opt);
    const auto& s = r.summary;
    std::fprintf(stderr,
                 "vtmm: recorded %llu windows, %llu distinct pages (%.1f MiB), %llu reads, %llu "
                 "writes, %llu instructions"
                 " -> %s (%llu bytes)\n",
                 (unsigned long long)s.windows, (unsigned long long)s.distinct_pages,
                 static_cast<double>(s.distinct_pages) * 4096 / (1 << 20),
                 (unsigned long long)s.reads, (unsigned long long)s.writes,
                 (unsigned long long)s.instructions, f->opt.out.c_str(),
                 (unsigned long long)r.out_bytes);
    std::fprintf(
        stderr, "vtmm: under the tool: %.3f s, %.1f M data accesses/s; program exit status %d\n",
        r.wall_s, r.wall_s > 0 ? static_cast<double>(s.reads + s.writes) / r.wall_s / 1e6 : 0.0,
        r.exit_status);
    if (f->opt.compare_native)
      std::fprintf(stderr, "vtmm: slowdown vs native: %.2fx (native %.3f s)\n",
                   r.native_wall_s > 0 ? r.wall_s / r.native_wall_s : 0.0, r.native_wall_s);
  });
}

void add_import(CLI::App& parent) {
  struct Flags {
    std::string csv, out;
    uint64_t window = 0;
    std::vector<std::string> phase_at;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = parent.add_subcommand(
      "import", "Convert a CSV trace (window,page,reads,writes[,instructions]; .csv or .csv.gz)");
  c->add_option("--csv", f->csv,
                "CSV file (gzip-compressed if it ends in .gz or starts with gzip's magic)")
      ->required();
  c->add_option("--out,-o", f->out, "Trace file to write")->required();
  c->add_option("--window", f->window,
                "Window length of the original recording in data accesses (0 = unknown)");
  c->add_option("--phase-at", f->phase_at, "Mark a phase: WINDOW:NAME (repeatable)");
  c->callback([f] {
    trace::ImportOptions opt;
    opt.window_accesses = f->window;
    opt.markers = markers(f->phase_at);
    const trace::Summary s = trace::import_csv(f->csv, f->out, opt);
    std::fprintf(
        stderr, "vtmm: imported %llu windows, %llu distinct pages, %llu reads, %llu writes -> %s\n",
        (unsigned long long)s.windows, (unsigned long long)s.distinct_pages,
        (unsigned long long)s.reads, (unsigned long long)s.writes, f->out.c_str());
  });
}

void add_info(CLI::App& parent) {
  struct Flags {
    std::string file;
    bool json = false;
  };
  auto f = std::make_shared<Flags>();
  CLI::App* c = parent.add_subcommand(
      "info", "Statistics of a trace: windows, pages, footprint, skew, read/write mix");
  c->add_option("file", f->file, "Trace file")->required();
  c->add_flag("--json", f->json, "Machine-readable");
  c->callback([f] {
    const trace::Json j = trace::trace_info(f->file);
    if (f->json) {
      std::cout << j.dump(2) << '\n';
    } else {
      std::cout << trace::format_info(j);
    }
  });
}

}  // namespace

void add_trace(CLI::App& app) {
  CLI::App* t =
      app.add_subcommand("trace", "Record, import and inspect page-access traces of real programs");
  t->require_subcommand(1);
  add_record(*t);
  add_import(*t);
  add_info(*t);
}

}  // namespace vtmm::cli
