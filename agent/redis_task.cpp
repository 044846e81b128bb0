#include <signal.h>
#include <sys/wait.h>
#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <sstream>
#include <stdexcept>
#include <thread>

#include "agent/tasks.hpp"

namespace vtmm::agent {
namespace {

const char* kSocket = "/tmp/redis.sock";

}  // namespace

pid_t spawn_process(const std::vector<std::string>& argv, const char* out_path) {
  const pid_t pid = ::fork();
  if (pid < 0) throw std::runtime_error("fork failed");
  if (pid == 0) {
    if (out_path) {
      if (std::FILE* f = std::fopen(out_path, "w")) ::dup2(fileno(f), 1);
    }
    std::vector<char*> a;
    for (const auto& s : argv) a.push_back(const_cast<char*>(s.c_str()));
    a.push_back(nullptr);
    ::execv(a[0], a.data());
    ::_exit(127);
  }
  return pid;
}

namespace {

std::string slurp(const char* path) {
  std::FILE* f = std::fopen(path, "r");
  if (!f) return "";
  std::string s;
  char buf[4096];
  for (size_t n; (n = std::fread(buf, 1, sizeof buf, f)) > 0;) s.append(buf, n);
  std::fclose(f);
  return s;
}

std::vector<std::string> csv_fields(const std::string& line) {
  std::vector<std::string> out;
  std::string cur;
  bool q = false;
  for (char c : line) {
    if (c == '"')
      q = !q;
    else if (c == ',' && !q)
      out.push_back(cur), cur.clear();
    else if (c != '\r')
      cur += c;
  }
  out.push_back(cur);
  return out;
}

}  // namespace

Values run_redis(uint64_t requests, uint32_t clients, uint64_t keyspace, uint32_t value_bytes) {
  ::unlink(kSocket);
  const pid_t server =
      spawn_process({"/usr/bin/redis-server", "--port", "0", "--unixsocket", kSocket, "--save", "",
                     "--appendonly", "no", "--daemonize", "no"},
                    "/tmp/redis-server.log");
  for (int i = 0; i < 600 && ::access(kSocket, F_OK) != 0; ++i)
    std::this_thread::sleep_for(std::chrono::milliseconds(100));
  if (::access(kSocket, F_OK) != 0) {
    ::kill(server, SIGKILL);
    ::waitpid(server, nullptr, 0);
    throw std::runtime_error("redis-server did not open its socket: " +
                             slurp("/tmp/redis-server.log").substr(0, 200));
  }
  set_workload_pid(server);
  const auto t0 = std::chrono::steady_clock::now();
  const pid_t bench =
      spawn_process({"/usr/bin/redis-benchmark", "-s", kSocket, "-t", "set,get", "-n",
                     std::to_string(requests), "-c", std::to_string(clients), "-r",
                     std::to_string(keyspace), "-d", std::to_string(value_bytes), "--csv"},
                    "/tmp/redis-benchmark.csv");
  int st = 0;
  ::waitpid(bench, &st, 0);
  const double secs = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  ::kill(server, SIGTERM);
  ::waitpid(server, nullptr, 0);
  if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) throw std::runtime_error("redis-benchmark failed");
  // "test","rps","avg_latency_ms","min_latency_ms","p50_latency_ms","p95_latency_ms","p99_latency_ms","max_latency_ms"
  Values v;
  std::istringstream csv(slurp("/tmp/redis-benchmark.csv"));
  std::string line;
  std::getline(csv, line);
  const auto head = csv_fields(line);
  double total_rps = 0;
  int tests = 0;
  while (std::getline(csv, line)) {
    const auto f = csv_fields(line);
    if (f.size() != head.size() || f.size() < 2) continue;
    std::string test = f[0];
    for (char& c : test) c = static_cast<char>(std::tolower(static_cast<unsigned char>(c)));
    for (size_t i = 1; i < f.size(); ++i) v.emplace_back(test + "_" + head[i], std::stod(f[i]));
    total_rps += std::stod(f[1]);
    ++tests;
  }
  if (tests == 0) throw std::runtime_error("redis-benchmark printed no results");
  v.emplace_back("requests", static_cast<double>(requests * static_cast<uint64_t>(tests)));
  v.emplace_back("wall_s", secs);
  v.emplace_back("throughput", total_rps / tests);
  return v;
}

}  // namespace vtmm::agent
