#include "vtmm/trace/recorder.hpp"

#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdlib>
#include <ctime>
#include <filesystem>
#include <map>

#include "vtmm/core/error.hpp"
#include "vtmm/trace/reader.hpp"
#include "vtmm/trace/writer.hpp"

#ifndef VTMM_PAGECOUNT_TOOL
#define VTMM_PAGECOUNT_TOOL ""
#endif

namespace vtmm::trace {

namespace fs = std::filesystem;

std::string default_tool_path() { return VTMM_PAGECOUNT_TOOL; }

namespace {

constexpr const char* kToolName = "pagecount";
constexpr const char* kPlatform = "amd64-linux";

// Runs argv with extra environment; returns (exit status or 128+signal, wall seconds).
std::pair<int, double> run(const std::vector<std::string>& argv,
                           const std::map<std::string, std::string>& env) {
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t pid = fork();
  if (pid < 0) throw SpecError("trace record: fork failed");
  if (pid == 0) {
    for (const auto& [k, v] : env) setenv(k.c_str(), v.c_str(), 1);
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    execvp(a[0], a.data());
    std::fprintf(stderr, "vtmm: error: trace record: cannot run '%s'\n", a[0]);
    _exit(127);
  }
  int st = 0;
  while (waitpid(pid, &st, 0) < 0) {
  }
  const double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return {WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st), wall};
}

std::string valgrind_libdir() {
  for (const char* d :
       {"/usr/libexec/valgrind", "/usr/lib/x86_64-linux-gnu/valgrind", "/usr/lib/valgrind"})
    if (fs::exists(fs::path(d) / "vgpreload_core-amd64-linux.so")) return d;
  throw SpecError(
      "trace record: cannot find Valgrind's library directory (is the valgrind package installed? "
      "scripts/setup.sh)");
}

std::string utc_now() {
  const std::time_t t = std::time(nullptr);
  char buf[32];
  std::strftime(buf, sizeof buf, "%Y-%m-%dT%H:%M:%SZ", std::gmtime(&t));
  return buf;
}

struct TempDir {
  fs::path path;
  TempDir() {
    std::string tmpl = (fs::temp_directory_path() / "vtmm-record-XXXXXX").string();
    if (mkdtemp(tmpl.data()) == nullptr)
      throw SpecError("trace record: cannot create a temporary directory");
    path = tmpl;
  }
  ~TempDir() {
    std::error_code ec;
    fs::remove_all(path, ec);
  }
};

}  // namespace

RecordResult record(const RecordOptions& opt) {
  if (opt.command.empty())
    throw SpecError("trace record: no program given (vtmm trace record --out FILE -- CMD ARGS...)");
  if (opt.window == 0) throw SpecError("trace record: --window must be at least 1");
  if (opt.out.empty()) throw SpecError("trace record: --out is required");
  if (opt.tool.empty() || !fs::exists(opt.tool))
    throw SpecError("trace record: the Valgrind tool is not built" +
                    (opt.tool.empty() ? std::string() : " ('" + opt.tool + "' missing)") +
                    "; it builds when valgrind's headers are installed (scripts/setup.sh), or pass "
                    "--tool PATH");
  std::map<uint64_t, std::string> phase_at;
  for (const auto& m : opt.phase_at)
    if (!phase_at.emplace(m.window, m.name).second)
      throw SpecError("--phase-at: two markers for window " + std::to_string(m.window));
  const fs::path out_dir = fs::absolute(opt.out).parent_path();
  if (!fs::is_directory(out_dir))
    throw SpecError("trace record: --out: directory '" + out_dir.string() + "' does not exist");

  RecordResult res;
  if (opt.compare_native) {
    const auto [status, wall] = run(opt.command, {});
    res.native_wall_s = wall;
    std::fprintf(stderr, "vtmm: native run: %.3f s (exit status %d)\n", wall, status);
  }

  TempDir tmp;
  const std::string libdir = valgrind_libdir();
  for (const auto& e : fs::directory_iterator(libdir))
    fs::create_symlink(e.path(), tmp.path / e.path().filename());
  fs::create_symlink(fs::absolute(opt.tool), tmp.path / (std::string(kToolName) + "-" + kPlatform));
  const std::string raw = (tmp.path / "raw.vtrace").string();

  std::vector<std::string> argv = {opt.valgrind, "-q", std::string("--tool=") + kToolName,
                                   "--trace-out=" + raw, "--window=" + std::to_string(opt.window)};
  if (!opt.marker_file.empty())
    argv.push_back("--marker-file=" + fs::absolute(opt.marker_file).string());
  argv.insert(argv.end(), opt.command.begin(), opt.command.end());
  const auto [status, wall] = run(argv, {{"VALGRIND_LIB", tmp.path.string()}});
  res.wall_s = wall;
  res.exit_status = status;
  if (!fs::exists(raw))
    throw SpecError("trace record: the tool wrote no trace (valgrind exit status " +
                    std::to_string(status) + ")");

  TraceReader in(raw);
  if (!phase_at.empty() && phase_at.rbegin()->first >= in.summary().windows)
    throw SpecError("--phase-at: window " + std::to_string(phase_at.rbegin()->first) +
                    " is past the recording's last window " +
                    std::to_string(in.summary().windows == 0 ? 0 : in.summary().windows - 1));
  Header h = in.header();
  std::string prog;
  for (const auto& a : opt.command) {
    const bool plain = !a.empty() && a.find_first_of(" \t'\"\\$`") == std::string::npos;
    std::string q = "'";
    for (char ch : a) q += ch == '\'' ? std::string("'\\''") : std::string(1, ch);
    prog += (prog.empty() ? "" : " ") + (plain ? a : q + "'");
  }
  h.program = prog;
  h.recorded_at = utc_now();
  h.recorder = "vtmm trace record (valgrind tool " + std::string(kToolName) + ")";
  h.extra["recording"] = {{"wall_s", wall}, {"exit_status", status}};
  if (opt.compare_native) {
    h.extra["recording"]["native_wall_s"] = res.native_wall_s;
    h.extra["recording"]["slowdown"] = res.native_wall_s > 0 ? wall / res.native_wall_s : 0.0;
  }
  TraceWriter out(opt.out, h);
  Window w;
  while (in.next(w)) {
    if (auto it = phase_at.find(w.index); it != phase_at.end()) {
      if (!w.marker.empty() && w.marker != it->second)
        throw SpecError("--phase-at: window " + std::to_string(w.index) +
                        " already carries marker '" + w.marker + "' from the marker file");
      w.marker = it->second;
    }
    out.write(w);
  }
  res.summary = out.finish();
  res.out_bytes = fs::file_size(opt.out);
  return res;
}

}  // namespace vtmm::trace
