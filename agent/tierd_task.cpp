// The host daemon on its own, run in the guest (docs/vm.md, "The two-node
// check"): /bin/vtmm-tierd with the host's arguments; its JSON report comes
// back as metrics, nested keys joined with '.', a string in an array as
// key.string = 1 (the mechanisms list).
#include <signal.h>
#include <sys/wait.h>

#include <cstdio>
#include <fstream>
#include <sstream>
#include <stdexcept>

#include "agent/tasks.hpp"
#include "vtmm/core/params.hpp"

namespace vtmm::agent {
namespace {

void flatten(const Json& j, const std::string& key, Values& out) {
  if (j.is_number() || j.is_boolean()) {
    out.emplace_back(key, j.is_boolean() ? (j.get<bool>() ? 1.0 : 0.0) : j.get<double>());
  } else if (j.is_object()) {
    for (const auto& [k, v] : j.items()) flatten(v, key.empty() ? k : key + "." + k, out);
  } else if (j.is_array()) {
    for (const auto& v : j)
      if (v.is_string()) out.emplace_back(key + "." + v.get<std::string>(), 1.0);
  }
}

std::string first_line(const char* path) {
  std::ifstream in(path);
  std::string line;
  std::getline(in, line);
  return line.substr(0, 300);
}

}  // namespace

namespace {

pid_t spawn_tierd(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/bin/sh", "-c", "exec /bin/vtmm-tierd \"$@\" 2>/tmp/tierd.err",
                                "vtmm-tierd"};
  argv.insert(argv.end(), args.begin(), args.end());
  return spawn_process(argv, "/tmp/tierd.json");
}

// Waits for tierd and reads its report.
Values collect(pid_t pid) {
  int st = 0;
  if (::waitpid(pid, &st, 0) != pid) throw std::runtime_error("tierd: waitpid failed");
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0)
    throw std::runtime_error("tierd exited " +
                             std::to_string(WIFEXITED(st) ? WEXITSTATUS(st) : 128 + WTERMSIG(st)) +
                             ": " + first_line("/tmp/tierd.err"));
  std::ifstream in("/tmp/tierd.json");
  Values out;
  flatten(Json::parse(in), "", out);
  return out;
}

pid_t g_background = 0;  // the guest daemon beside a workload

}  // namespace

Values run_tierd(const std::vector<std::string>& args) { return collect(spawn_tierd(args)); }

Values start_guest_daemon(const std::vector<std::string>& args) {
  if (g_background != 0) throw std::runtime_error("daemon-start: a guest daemon already runs");
  g_background = spawn_tierd(args);
  return {{"pid", static_cast<double>(g_background)}};
}

Values stop_guest_daemon() {
  if (g_background == 0) throw std::runtime_error("daemon-stop: no guest daemon runs");
  const pid_t pid = g_background;
  g_background = 0;
  ::kill(pid, SIGTERM);  // tierd reports what it did, then exits
  return collect(pid);
}

}  // namespace vtmm::agent
