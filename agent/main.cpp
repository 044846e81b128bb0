// vtmm-agent: the guest side of the vm platform (PID 1's successor in the
// initramfs). It says hello with the guest's memory layout, then runs the
// host's commands one at a time, answering each with Metrics (or Pages) and
// a Done frame, all carrying the command's seq, until "poweroff". Command
// grammar (space-separated):
//   caps | redis REQ CLIENTS KEYSPACE VALUE_BYTES | bfs SCALE EDGE_FACTOR ROOTS SEED
//   | pagerank SCALE EDGE_FACTOR ITERATIONS TOLERANCE SEED
//   | gups FOOTPRINT UPDATES WARMUP THREADS HOT_FRACTION HOT_PROBABILITY HOT_OFFSET SEED
//   [report-hot] | ycsb RECORDS OPERATIONS CLIENTS VALUE_BYTES WORKLOAD(a|b|c) DISTRIBUTION SEED |
//   tiering-on | vmstat | numa-move MIB FROM TO | soft-dirty MIB [split] | check-marks | tierd
//   ARGS... | poweroff
// A child serves the guest companion's walks on the second port meanwhile
// (agent/page_table_task.cpp).
#include <sys/reboot.h>
#include <unistd.h>

#include <fstream>
#include <sstream>

#include "agent/tasks.hpp"
#include "workloads/gups_hotset.hpp"

namespace {

using namespace vtmm;

uint64_t node_bytes(int n) {
  std::ifstream in("/sys/devices/system/node/node" + std::to_string(n) + "/meminfo");
  std::string line;
  while (std::getline(in, line))
    if (auto at = line.find("MemTotal:"); at != std::string::npos)
      return std::stoull(line.substr(at + 9)) * 1024;
  return 0;
}

agent_proto::Hello hello() {
  agent_proto::Hello h;
  for (int n = 0; n < 64; ++n) {
    const uint64_t b = node_bytes(n);
    if (b == 0) break;
    h.node_bytes.push_back(b);
    h.mem_bytes += b;
  }
  return h;
}

agent::Values run(agent::Channel& ch, const std::string& cmd, std::string& name) {
  std::istringstream in(cmd);
  in >> name;
  auto num = [&] {
    uint64_t v;
    if (!(in >> v)) throw std::runtime_error("bad arguments to " + name);
    return v;
  };
  if (name == "caps") return agent::guest_capabilities();
  if (name == "redis") {
    const uint64_t req = num(), cl = num(), ks = num(), vb = num();
    return agent::run_redis(req, static_cast<uint32_t>(cl), ks, static_cast<uint32_t>(vb));
  }
  if (name == "ycsb") {
    agent::YcsbParams p;
    p.records = num();
    p.operations = num();
    p.clients = static_cast<uint32_t>(num());
    p.value_bytes = static_cast<uint32_t>(num());
    std::string wl;
    if (!(in >> wl >> p.distribution) || wl.size() != 1)
      throw std::runtime_error("bad arguments to " + name);
    p.workload = wl[0];
    p.seed = num();
    return agent::run_ycsb(p);
  }
  if (name == "tiering-on") return agent::guest_tiering_on();
  if (name == "vmstat") return agent::guest_vmstat();
  if (name == "bfs") {
    const uint64_t sc = num(), ef = num(), roots = num(), seed = num();
    return agent::run_bfs(static_cast<uint32_t>(sc), static_cast<uint32_t>(ef),
                          static_cast<uint32_t>(roots), seed);
  }
  if (name == "pagerank") {
    const uint64_t sc = num(), ef = num(), iters = num();
    double tol = 0;
    if (!(in >> tol) || !(tol >= 0)) throw std::runtime_error("bad arguments to " + name);
    const uint64_t seed = num();
    return agent::run_pagerank(static_cast<uint32_t>(sc), static_cast<uint32_t>(ef),
                               static_cast<uint32_t>(iters), tol, seed);
  }
  if (name == "gups") {
    agent::GupsParams g;
    g.footprint = num();
    g.updates = num();
    g.warmup_updates = num();
    g.threads = static_cast<uint32_t>(num());
    if (!(in >> g.hot_fraction >> g.hot_probability >> g.hot_offset))
      throw std::runtime_error("bad arguments to " + name);
    if (!(g.hot_fraction > 0 && g.hot_fraction <= 1) ||
        !(g.hot_probability >= 0 && g.hot_probability <= 1) ||
        !workloads::gups_hot_offset_ok(g.hot_offset))
      throw std::runtime_error("bad arguments to " + name);
    g.seed = num();
    std::string extra;
    g.report_hot = (in >> extra) && extra == "report-hot";
    return agent::run_gups(g, &ch);
  }
  if (name == "numa-move") {
    const uint64_t mib = num(), from = num(), to = num();
    return agent::run_numa_move(mib, static_cast<int>(from), static_cast<int>(to));
  }
  if (name == "soft-dirty") {
    const uint64_t mib = num();
    std::string mode;
    in >> mode;
    return agent::report_soft_dirty(ch, mib, mode == "split");
  }
  if (name == "check-marks") return agent::check_marks();
  if (name == "tierd" || name == "daemon-start") {
    std::vector<std::string> args;
    for (std::string a; in >> a;) args.push_back(a);
    return name == "tierd" ? agent::run_tierd(args) : agent::start_guest_daemon(args);
  }
  if (name == "daemon-stop") return agent::stop_guest_daemon();
  throw std::runtime_error("unknown command '" + name + "'");
}

}  // namespace

int main() {
  try {
    agent::Channel ch("org.vtmm.agent.0", 60);
    ch.log("channel open");
    const agent_proto::Hello h = hello();
    ch.send(agent_proto::MsgType::Hello, h);
    agent::set_workload_pid(::getpid());
    if (::fork() == 0) {
      agent::serve_page_tables(h);
      ::_exit(0);
    }
    for (;;) {
      const std::string cmd = ch.next_command();
      if (cmd == "poweroff") break;
      std::string name;
      try {
        agent::Values v = run(ch, cmd, name);
        agent::set_workload_pid(::getpid());
        ch.send(agent_proto::MsgType::Metrics, agent_proto::Metrics{name, std::move(v)});
        ch.send(agent_proto::MsgType::Done, agent_proto::Done{0});
      } catch (const std::exception& e) {
        std::string why = e.what();
        for (char& c : why)
          if (c < 0x20 || c > 0x7e) c = ' ';
        agent::set_workload_pid(::getpid());
        ch.send(agent_proto::MsgType::Error,
                agent_proto::Text{why.substr(0, agent_proto::kMaxText)});
        ch.send(agent_proto::MsgType::Done, agent_proto::Done{1});
      }
    }
  } catch (const std::exception& e) {
    std::fprintf(stderr, "vtmm-agent: %s\n", e.what());
  }
  ::sync();
  ::reboot(RB_POWER_OFF);
  return 0;
}
