// The host daemon on its own, run in the guest (docs/vm.md, "The two-node
// check"): /bin/vtmm-tierd with the host's arguments; its JSON report comes
// back as metrics, nested keys joined with '.', a string in an array as
// key.string = 1 (the mechanisms list).
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

Values run_tierd(const std::vector<std::string>& args) {
  std::vector<std::string> argv{"/bin/sh", "-c", "exec /bin/vtmm-tierd \"$@\" 2>/tmp/tierd.err",
                                "vtmm-tierd"};
  argv.insert(argv.end(), args.begin(), args.end());
  const pid_t pid = spawn_process(argv, "/tmp/tierd.json");
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

}  // namespace vtmm::agent
