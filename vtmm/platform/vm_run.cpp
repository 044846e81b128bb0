#include "vtmm/platform/vm_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdio>
#include <filesystem>
#include <functional>
#include <mutex>
#include <sstream>
#include <thread>

#include "vtmm/core/run_record.hpp"
#include "vtmm/platform/agent_link.hpp"
#include "vtmm/platform/agent_page_tables.hpp"
#include "vtmm/platform/domain_xml.hpp"
#include "vtmm/platform/elapsed.hpp"
#include "vtmm/platform/guest_image.hpp"
#include "vtmm/platform/guest_ram.hpp"
#include "vtmm/platform/guest_session.hpp"
#include "vtmm/platform/host_probe.hpp"
#include "vtmm/platform/interrupt.hpp"
#include "vtmm/platform/libvirt_session.hpp"
#include "vtmm/platform/policy_driver.hpp"
#include "vtmm/platform/tracepoint_counter.hpp"
#include "vtmm/platform/vm_policies.hpp"
#include "workloads/gups_hotset.hpp"
#include "workloads/ycsb.hpp"

namespace vtmm::platform {
namespace {

// What a spec's workload becomes in the guest: the agent command and the unit of its throughput.
struct GuestWorkload {
  std::string command, op_name;
  Json resolved;
  uint64_t footprint = 0;  // the memory a guest daemon tracks (gups: its table; 0: unknown)
};

// The guest graph kernels' Kronecker graph: "SCALE EDGE_FACTOR" for the agent.
std::string graph_args(Params& p) {
  const auto scale = p.get<uint32_t>("scale", 12), ef = p.get<uint32_t>("edge_factor", 16);
  if (scale < 4 || scale > 24) p.fail("scale", "must be 4..24");
  if (ef == 0 || ef > 64) p.fail("edge_factor", "must be 1..64");
  return std::to_string(scale) + " " + std::to_string(ef);
}

// The guest's memory: the spec's, or 512 MiB when it names none.
uint64_t guest_memory(const RunSpec& r) {
  return r.vm().memory_bytes ? r.vm().memory_bytes : 512ull << 20;
}

// One YCSB run of the agent's client against the guest's redis-server.
struct YcsbRun {
  uint64_t records = 0, ops = 0, clients = 1, value = 0;
  std::string mix, dist;  // the agent's workload letter and key distribution
};

// Checks the sizes and fills the agent commands (run now, or start in the background).
// `ops_field` is the spec's name for the operation count.
void ycsb_workload(Params& p, const RunSpec& r, const YcsbRun& y, const char* ops_field,
                   GuestWorkload& w) {
  if (y.ops == 0 || y.ops > 1'000'000'000) p.fail(ops_field, "must be 1..1000000000");
  try {
    workloads::ycsb::parse_distribution(y.dist);  // the agent's own list
  } catch (const std::invalid_argument& e) {
    p.fail("distribution", e.what());
  }
  if (y.records == 0 || y.records > 10'000'000) p.fail("records", "must be 1..10000000");
  if (y.clients == 0 || y.clients > 256) p.fail("clients", "must be 1..256");
  if (y.value == 0 || y.value > (1u << 20)) p.fail("value_bytes", "must be 1..1048576");
  if (y.records * y.value > (1ull << 30))
    p.fail("records", "records x value_bytes must fit in 1 GiB");
  const std::string args = std::to_string(y.records) + " " + std::to_string(y.ops) + " " +
                           std::to_string(y.clients) + " " + std::to_string(y.value) + " " + y.mix +
                           " " + y.dist + " " + std::to_string(r.options.seed);
  w.command = "ycsb " + args;
  w.op_name = "operation";
}

// gups with the simulator workload's parameter names and defaults
// (workloads/gups.cpp), one thread per vCPU; its table must leave the guest
// room for its kernel and the agent. Sets `footprint` (a guest daemon's
// measure of the workload's memory).
std::string gups_command(Params& p, const RunSpec& r, uint64_t& footprint) {
  footprint = p.get_bytes("footprint", uint64_t{1} << 30);
  const uint64_t updates = p.get_count("updates", 4'000'000),
                 warmup = p.get_count("warmup_updates", 1'000'000);
  const double hot_fraction = p.get<double>("hot_fraction", 1.0 / 16);
  const double hot_probability = p.get<double>("hot_probability", 0.9);
  const std::string hot_at = p.get<std::string>("hot_offset", "random");
  if (footprint < 8192) p.fail("footprint", "must be at least 8KiB");
  if (footprint > guest_memory(r) / 2)
    p.fail("footprint",
           "must be at most half the guest's memory (the rest holds its kernel and the agent)");
  if (updates == 0) p.fail("updates", "must be at least 1");
  if (!(hot_fraction > 0 && hot_fraction <= 1)) p.fail("hot_fraction", "must be in (0, 1]");
  if (!(hot_probability >= 0 && hot_probability <= 1))
    p.fail("hot_probability", "must be in [0, 1]");
  if (!workloads::gups_hot_offset_ok(hot_at))
    p.fail("hot_offset", "must be \"random\", \"start\" or \"end\"");
  char probs[64];
  std::snprintf(probs, sizeof probs, "%.17g %.17g", hot_fraction, hot_probability);
  return "gups " + std::to_string(footprint) + " " + std::to_string(updates) + " " +
         std::to_string(warmup) + " " + std::to_string(r.vm().vcpus) + " " + probs + " " + hot_at +
         " " + std::to_string(r.options.seed);
}

// redis-server with redis-benchmark or the agent's YCSB client.
void redis_workload(Params& p, const RunSpec& r, GuestWorkload& w) {
  const auto client = p.get<std::string>("client", "redis-benchmark");
  if (client == "ycsb") {
    // The agent's YCSB client: YCSB's key choice and core workload mixes.
    YcsbRun y;
    y.records = p.get<uint64_t>("records", 10000);
    y.ops = p.get<uint64_t>("operations", 10000);
    y.clients = p.get<uint64_t>("clients", 8);
    y.value = p.get<uint64_t>("value_bytes", 1024);
    y.mix = p.get<std::string>("workload", "a");
    y.dist = p.get<std::string>("distribution", "zipfian");
    if (y.mix != "a" && y.mix != "b" && y.mix != "c")
      p.fail("workload", "must be a (50/50 read/update), b (95/5) or c (read only)");
    ycsb_workload(p, r, y, "operations", w);
  } else if (client == "redis-benchmark") {
    // redis-benchmark's keys are uniform over the keyspace (-r); it has no YCSB hotspot option.
    const auto req = p.get<uint64_t>("requests", 2000), clients = p.get<uint64_t>("clients", 8);
    const auto keys = p.get<uint64_t>("keyspace", 10000),
               value = p.get<uint64_t>("value_bytes", 4096);
    if (req == 0 || clients == 0 || clients > 1000 || keys == 0 || value == 0 || value > (1u << 20))
      throw SpecError(
          p.where() +
          ": requests, clients (<= 1000), keyspace and value_bytes (<= 1 MiB) must be > 0");
    w.command = "redis " + std::to_string(req) + " " + std::to_string(clients) + " " +
                std::to_string(keys) + " " + std::to_string(value);
    w.op_name = "request";
  } else {
    p.fail("client", "must be redis-benchmark or ycsb");
  }
}

// The simulator's redis-ycsb on redis-server and the agent's YCSB client.
void redis_ycsb_workload(Params& p, const RunSpec& r, GuestWorkload& w) {
  // The simulator workload's names and defaults (workloads/redis_ycsb.cpp):
  // mix "default" is the paper's (50/50 read/update, hotspot keys), a/b/c
  // YCSB's workloads on scrambled zipfian keys; one client per vCPU.
  YcsbRun y;
  y.records = p.get_count("records", 200'000);
  y.ops = p.get_count("requests", 200'000);
  y.value = p.get<uint64_t>("value_bytes", 4096);
  y.clients = r.vm().vcpus;
  const auto mix = p.get<std::string>("mix", "default");
  if (mix != "default" && mix != "a" && mix != "b" && mix != "c")
    p.fail("mix", "must be \"default\", \"a\", \"b\" or \"c\"");
  y.mix = mix == "default" ? "a" : mix;
  y.dist = mix == "default" ? "hotspot" : "zipfian";
  // The simulator's defaults (800 MB of values) would not fit the default guest: say so
  // before booting it.
  if (y.records * y.value > guest_memory(r) / 2)
    p.fail("records",
           "records x value_bytes must be at most half the guest's memory (the rest "
           "holds its kernel, redis-server's overhead and the agent)");
  ycsb_workload(p, r, y, "requests", w);
}

GuestWorkload parse_workload(const RunSpec& r) {
  const std::string impl = r.vm().workload.value("impl", "");
  Params p(r.vm().workload, "workload '" + impl + "' (vm)");
  p.get<std::string>("impl", "");
  GuestWorkload w;
  if (impl == "redis") {
    redis_workload(p, r, w);
  } else if (impl == "redis-ycsb") {
    redis_ycsb_workload(p, r, w);
  } else if (impl == "graph500-bfs") {
    const std::string graph = graph_args(p);
    const auto roots = p.get<uint32_t>("roots", 2);
    if (roots == 0 || roots > 64) p.fail("roots", "must be 1..64");
    w.command = "bfs " + graph + " " + std::to_string(roots) + " " + std::to_string(r.options.seed);
    w.op_name = "edge";
  } else if (impl == "pagerank") {
    // The sim workload's rule and parameter names (workloads/pagerank.cpp).
    const std::string graph = graph_args(p);
    const auto iters = p.get<uint32_t>("iterations", 10);
    const double tol = p.get<double>("tolerance", 1e-4);
    if (iters == 0 || iters > 1000) p.fail("iterations", "must be 1..1000");
    if (!(tol >= 0 && tol < 1)) p.fail("tolerance", "must be in [0, 1)");
    char t[32];
    std::snprintf(t, sizeof t, "%.17g", tol);
    w.command = "pagerank " + graph + " " + std::to_string(iters) + " " + t + " " +
                std::to_string(r.options.seed);
    w.op_name = "edge";
  } else if (impl == "gups") {
    w.command = gups_command(p, r, w.footprint);
    w.op_name = "update";
  } else {
    throw SpecError("workload '" + impl +
                    "': not a guest program of the vm platform (redis, redis-ycsb, graph500-bfs, "
                    "pagerank, gups)");
  }
  p.finish();
  w.resolved = p.resolved();
  return w;
}

struct VmOptions {
  uint64_t memory = 512ull << 20;  // guest_memory()'s default
  std::string accel = "auto";
  double boot_timeout_s = 300, command_timeout_s = 900;
  uint64_t soft_dirty_mib = 8, guest_move_mib = 16;
  int fast_node = -1, slow_node = -1;
  Json resolved;
};

VmOptions parse_options(const RunSpec& r) {
  Params p(r.host.platform_options, "platform_options");
  VmOptions o;
  o.accel = p.get<std::string>("accel", "auto");
  if (o.accel != "auto" && o.accel != "kvm" && o.accel != "tcg")
    p.fail("accel", "must be auto, kvm or tcg");
  o.boot_timeout_s = p.get<double>("boot_timeout_s", 300);
  o.command_timeout_s = p.get<double>("command_timeout_s", 900);
  o.soft_dirty_mib = p.get<uint64_t>("soft_dirty_mib", 8);
  o.guest_move_mib = p.get<uint64_t>("guest_move_mib", 16);
  o.fast_node = p.get<int>("fast_node", -1);
  o.slow_node = p.get<int>("slow_node", -1);
  p.finish();
  o.resolved = p.resolved();
  if (r.vm().initial_tier != "policy")
    throw SpecError(
        "vm.initial_tier: the vm platform places first touches by its policy only (\"policy\")");
  if (r.vm().policy_thread_core != "spare")
    throw SpecError(
        "vm.policy_thread_core: the vm platform leaves the policy thread to the host's scheduler "
        "(\"spare\")");
  o.memory = guest_memory(r);
  if (o.memory < (256ull << 20) || o.memory > (2ull << 30) || o.memory % (4ull << 20))
    throw SpecError(
        "vm.memory: the vm platform takes 256 MiB .. 2 GiB in whole 4 MiB (below the PCI hole)");
  if (o.soft_dirty_mib == 0 || o.soft_dirty_mib > 64 || o.guest_move_mib == 0 ||
      o.guest_move_mib > 64)
    throw SpecError("platform_options: soft_dirty_mib and guest_move_mib must be 1..64");
  return o;
}

// The run's design: a registered one (run by the host daemon through
// ProcessMemory, vtmm/platform/policy_driver.hpp), or the guest kernel's own
// tiering ("guest-tiering": no policy code of ours, the guest kernel is the design).
struct VmPolicy {
  std::string impl;
  std::shared_ptr<Policy> design;  // null for guest-tiering
  Json resolved;
  Json spec;  // as the run spec gave it (a guest daemon resolves it again, the same way)
  // A registered name bare, a node as JSON: one argument for vtmm-tierd.
  std::string spec_text() const { return spec.is_string() ? spec.get<std::string>() : spec.dump(); }
  Policy::Sizing sizing() const { return design ? design->sizing() : Policy::Sizing::Ratio; }
  // Whether it runs in a daemon: it uses mechanisms (its period is only
  // known once attached; one that uses none only sizes the cells). A
  // guest-side design's daemon runs in the guest (on the guest's NUMA nodes,
  // page tables and hint faults), every other one's in the host.
  bool in_daemon() const { return design && !design->needs().empty(); }
  bool in_guest() const { return design && needs(*design, Mechanism::GuestNuma); }
};

VmPolicy parse_policy(const RunSpec& r) {
  VmPolicy v;
  v.impl = r.policy.is_string() ? r.policy.get<std::string>() : r.policy.value("impl", "");
  v.spec = r.policy;
  if (v.impl == "guest-tiering") {
    Params p(r.policy.is_string() ? Json{{"impl", v.impl}} : r.policy,
             "policy 'guest-tiering' (vm)");
    p.get<std::string>("impl", "");
    if (p.has("label")) p.get<std::string>("label", "");
    p.finish();
    v.resolved = p.resolved();
    return v;
  }
  // The guest companion gives the guest's page tables (AgentPageTables).
  // A guest-side design's daemon runs in the guest, whose image carries the
  // companion (page tables, hint faults); a host-side design's hint faults
  // need the companion loaded in this, the host's, kernel.
  const std::string where = "policy '" + v.impl + "'";
  v.design = make_real_time_policy(r.policy, where, r.options.seed, &v.resolved,
                                   {.page_tables = true, .hints = true, .own = true});
  if (!v.in_guest() && needs(*v.design, Mechanism::HintFaults) &&
      !ProcessMemory::hint_faults_available())
    throw SpecError(where +
                    ": needs NUMA hint faults on QEMU's memory, which needs the companion module "
                    "(guest/vtmm_gpt) loaded in this host's kernel (docs/vm.md, \"Hint faults\")");
  if (v.design->sizing() == Policy::Sizing::MemoryMode)
    throw SpecError("policy '" + v.impl +
                    "': needs the host's DRAM as a cache of its slow memory (Memory Mode)");
  return v;
}

// A guest-side design's daemon finds the workload's memory as its
// anonymous mappings once they hold the workload's footprint: known for
// gups (its table); the design travels as one agent argument.
void check_guest_side(const VmPolicy& v, const GuestWorkload& w) {
  if (!v.in_guest()) return;
  if (w.footprint == 0)
    throw SpecError("policy '" + v.impl +
                    "': a guest-side design runs in the guest against the workload's memory, "
                    "which the vm platform finds for gups only (its table); this workload needs "
                    "a host-side design");
  if (v.spec_text().find_first_of(" \t\n") != std::string::npos)
    throw SpecError("policy '" + v.impl +
                    "': must not contain whitespace (it travels to the guest "
                    "as one argument)");
}

// Fast share of guest memory for first-touch, rounded to 4 MiB, both cells non-empty.
uint64_t fast_share(const RunSpec& r, uint64_t memory) {
  double f = 1;
  if (r.options.fast_bytes)
    f = static_cast<double>(r.options.fast_bytes) / static_cast<double>(memory);
  else if (r.options.ratio)
    f = r.options.ratio->fast / (r.options.ratio->fast + r.options.ratio->slow);
  uint64_t b = static_cast<uint64_t>(f * static_cast<double>(memory)) / (4ull << 20) * (4ull << 20);
  return std::clamp<uint64_t>(b, 128ull << 20, memory - (128ull << 20));
}

Json values_json(const std::vector<std::pair<std::string, double>>& v) {
  Json j = Json::object();
  for (const auto& [k, x] : v) j[k] = x;
  return j;
}

std::mutex g_one_vm_at_a_time;  // runs share the host's libvirtd; --jobs serialises them here

}  // namespace

bool vm_policy_uses_ratio(const Json& policy, uint64_t seed) {
  RunSpec r;
  r.policy = policy;
  r.options.seed = seed;
  return parse_policy(r).sizing() == Policy::Sizing::Ratio;
}

void validate_vm_run(const RunSpec& r) {
  const GuestWorkload w = parse_workload(r);
  check_guest_side(parse_policy(r), w);
  parse_options(r);
}

namespace {

// Two guest NUMA cells, bound per the design's sizing: a fast and a slow cell
// for Ratio, both on one node for AllFast (dram-only) / AllSlow (slow-only).
std::vector<GuestCell> guest_cells(const RunSpec& r, const VmOptions& opt, Policy::Sizing sizing,
                                   int fast, int slow) {
  if (sizing == Policy::Sizing::Ratio) {
    const uint64_t f = fast_share(r, opt.memory);
    return {{f, fast}, {opt.memory - f, slow}};
  }
  const int node = sizing == Policy::Sizing::AllSlow ? slow : fast;
  return {{opt.memory / 2, node}, {opt.memory - opt.memory / 2, node}};
}

// Pins vCPUs only when the fast node has a spare core for QEMU's own threads and the daemon.
void pin_vcpus(const NumaLayout& numa, int fast, uint32_t vcpus, DomainConfig& dc,
               std::vector<std::string>& notes) {
  std::vector<int> cpus;
  for (const auto& n : numa.nodes)
    if (n.id == fast) {
      std::istringstream in(n.cpus);
      for (std::string part; std::getline(in, part, ',');) {
        const auto dash = part.find('-');
        const int lo = std::stoi(part),
                  hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
        for (int c = lo; c <= hi; ++c) cpus.push_back(c);
      }
    }
  if (cpus.size() > vcpus)
    for (uint32_t v = 0; v < vcpus; ++v) dc.vcpu_pins.push_back(cpus[1 + v]);
  else
    notes.push_back("vCPUs not pinned: the fast node has " + std::to_string(cpus.size()) +
                    " cores for " + std::to_string(vcpus) + " vCPUs");
}

using Must = std::function<CommandReply(const std::string&)>;

// What one run gathered, for its record.
struct VmRunState {
  explicit VmRunState(const RunSpec& spec) : r(spec) {}
  const RunSpec& r;
  GuestWorkload wl;
  VmOptions opt;
  VmPolicy vp;
  NumaLayout numa;
  int fast = -1, slow = -1;
  int slow_target = -1;  // where demotions go: the slow node, or an absent one
  bool use_kvm = false;
  std::vector<std::string> notes;
  std::vector<GuestCell> cells;
  DomainConfig dc;
  agent_proto::Hello hello;
  CommandReply caps, work, access_report, guest_move;
  Json tiering, daemon;
  Json daemon_run;                  // the design's run in the host daemon
  Json mechanisms = Json::array();  // what it used
  Json kernel_counts;               // tracepoint counts over the workload
  double image_s = 0, boot_s = 0, workload_s = 0;
};

// A design that uses mechanisms runs in the host daemon (a thread of this
// process) while the guest runs the workload: both cells' RAM found first
// (marks on both guest nodes), then ProcessMemory over them on QEMU's process.
void run_with_daemon(VmRunState& s, GuestRam& ram, const Must& must, GuestSession& g) {
  const int qemu_pid = g.qemu_pid();
  const CommandReply marks = must("soft-dirty " + std::to_string(s.opt.soft_dirty_mib) + " split");
  std::vector<uint64_t> mg;
  for (const auto& pg : marks.pages) mg.insert(mg.end(), pg.gfns.begin(), pg.gfns.end());
  ram.verify(mg);
  ProcessMemoryConfig c{
      qemu_pid, {}, s.fast, s.slow, s.cells[0].bytes / kPageSize, s.opt.memory / kPageSize};
  c.hint_faults = needs(*s.vp.design, Mechanism::HintFaults);
  for (const auto& cell : ram.cells()) {
    if (cell.hva == 0)
      throw std::runtime_error("daemon: guest RAM of cell at GPA " + std::to_string(cell.gpa) +
                               " not found in QEMU's mappings");
    c.regions.push_back({cell.hva, cell.bytes});
  }
  ProcessMemory mem(c);
  // The guest's page tables, from the companion through the agent's second port.
  if (needs_page_tables(*s.vp.design))
    mem.use_page_tables(std::make_unique<AgentPageTables>(
        g.open_page_table_link(s.opt.boot_timeout_s), static_cast<uint32_t>(mem.guest_pages()),
        s.opt.command_timeout_s));
  PolicyDriver driver(*s.vp.design, mem, "vm");
  std::atomic<bool> done{false};
  std::exception_ptr failed;
  std::thread daemon([&] {
    try {
      driver.run([&] { return done.load(); }, 1e9);
    } catch (...) {
      failed = std::current_exception();
    }
  });
  try {
    s.work = must(s.wl.command);
  } catch (...) {
    done = true;
    daemon.join();
    throw;
  }
  done = true;
  daemon.join();
  if (failed) std::rethrow_exception(failed);
  mem.refresh();
  s.daemon_run = driver.report();
  s.mechanisms = s.daemon_run.at("mechanisms");
}

// vtmm-tierd's report as the agent flattened it ("a.b" keys; a list of
// names as "list.name" = 1), nested again as the host daemon's report is.
Json guest_daemon_report(const std::vector<std::pair<std::string, double>>& metrics) {
  Json out = {{"side", "guest"}, {"mechanisms", Json::array()}};
  for (const auto& [key, x] : metrics) {
    if (key.rfind("mechanisms.", 0) == 0) {
      out["mechanisms"].push_back(key.substr(11));
      continue;
    }
    Json* at = &out;
    size_t from = 0;
    for (size_t dot; (dot = key.find('.', from)) != std::string::npos; from = dot + 1) {
      Json& next = (*at)[key.substr(from, dot - from)];
      if (!next.is_object()) next = Json::object();
      at = &next;
    }
    (*at)[key.substr(from)] = x;
  }
  return out;
}

// A guest-side design: vtmm-tierd in the guest against the workload's
// process, started before the workload (it waits for the workload's memory)
// and stopped once the workload ends; its report comes back flattened
// (docs/vm.md, "Hint faults").
void run_with_guest_daemon(VmRunState& s, const Must& must) {
  const std::string args =
      "--guest --pid-file /tmp/vtmm-workload.pid --policy " + s.vp.spec_text() + " --min-mib " +
      std::to_string(std::max<uint64_t>(1, s.wl.footprint >> 20)) + " --fast-mib " +
      std::to_string(std::max<uint64_t>(1, s.cells[0].bytes >> 20)) + " --seconds 86400 --seed " +
      std::to_string(s.r.options.seed) + " --fast-node 0 --slow-node 1";
  must("daemon-start " + args);
  try {
    s.work = must(s.wl.command);
  } catch (...) {
    try {
      must("daemon-stop");
    } catch (...) {
    }
    throw;
  }
  s.daemon_run = guest_daemon_report(must("daemon-stop").metrics);
  s.mechanisms = s.daemon_run.at("mechanisms");
}

// The workload, under the policy's own loop where it has one.
void run_workload(VmRunState& s, GuestRam& ram, const Must& must, GuestSession& g) {
  const auto t_wl = std::chrono::steady_clock::now();
  if (s.vp.in_guest()) {
    run_with_guest_daemon(s, must);
  } else if (s.vp.in_daemon()) {
    run_with_daemon(s, ram, must, g);
  } else if (s.vp.impl == "guest-tiering") {
    const CommandReply on = must("tiering-on");
    const CommandReply before = must("vmstat");
    s.work = must(s.wl.command);
    const CommandReply after = must("vmstat");
    s.tiering = guest_tiering_record(on, before, after);
    s.notes.push_back(s.tiering.at("observed").get<std::string>());
  } else {
    s.work = must(s.wl.command);
  }
  s.workload_s = seconds_since(t_wl);
}

// Host daemon: the guest's soft-dirty frames, moved to the slow node and
// back (same GPA, new backing); then the guest checks it still sees its data.
void daemon_round_trip(VmRunState& s, GuestRam& ram, const Must& must) {
  s.access_report = must("soft-dirty " + std::to_string(s.opt.soft_dirty_mib));
  std::vector<uint64_t> gfns;
  for (const auto& pg : s.access_report.pages)
    gfns.insert(gfns.end(), pg.gfns.begin(), pg.gfns.end());
  Json& d = s.daemon;
  d["source"] = "soft_dirty";
  d["pages_reported"] = gfns.size();
  d["marks_verified"] = ram.verify(gfns);
  d["to_slow"] = ram.move(gfns, s.slow_target);
  d["to_slow"]["node_absent"] = !s.numa.slow_node;
  d["to_fast"] = ram.move(gfns, s.fast);
  d["host_sees_marks_after"] = ram.marks_intact(gfns);
  const CommandReply after = must("check-marks");
  d["guest_check"] = values_json(after.metrics);
}

Json vm_record(const VmRunState& s, const GuestImage& img, bool clean_poweroff, uint64_t rejected,
               double total_s) {
  const RunSpec& r = s.r;
  const std::string& policy = s.vp.impl;
  const Json wm = values_json(s.work.metrics);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  Json rec = open_record(r, host, s.vp.sizing() == Policy::Sizing::Ratio && !r.options.fast_bytes);
  rec["accel"] = s.use_kvm ? "kvm" : "tcg";
  rec["notes"] = s.notes;
  const auto& cells = s.cells;
  rec["fast_bytes"] = cells[0].host_node == s.fast
                          ? cells[0].bytes + (cells[1].host_node == s.fast ? cells[1].bytes : 0)
                          : 0;
  rec["memory_bytes"] = s.opt.memory;
  rec["runtime_s"] = wm.value("search_s", wm.value("run_s", wm.value("wall_s", s.workload_s)));
  rec["throughput"] = wm.value("throughput", 0.0);
  rec["op_name"] = s.wl.op_name;
  rec["ops"] = wm.value("edges_traversed",
                        wm.value("edges_pulled", wm.value("requests", wm.value("updates", 0.0))));
  rec["guest_metrics"] = wm;
  Json cj = Json::array();
  for (size_t i = 0; i < cells.size(); ++i)
    cj.push_back({{"cell", i},
                  {"bytes", cells[i].bytes},
                  {"host_node", cells[i].host_node},
                  {"guest_sees_bytes",
                   i < s.hello.node_bytes.size() ? Json(s.hello.node_bytes[i]) : Json(nullptr)}});
  rec["placement"] = {{"fast_node", s.numa.fast_node ? Json(*s.numa.fast_node) : Json(nullptr)},
                      {"slow_node", s.numa.slow_node ? Json(*s.numa.slow_node) : Json(nullptr)},
                      {"cells", cj},
                      {"vcpu_pins", s.dc.vcpu_pins}};
  rec["guest"] = {{"nodes", s.hello.node_bytes.size()},
                  {"mem_bytes", s.hello.mem_bytes},
                  {"capabilities", values_json(s.caps.metrics)}};
  rec["access_report"] = values_json(s.access_report.metrics);
  rec["daemon_migration"] = s.daemon;
  rec["guest_numa_move"] = values_json(s.guest_move.metrics);
  rec["mechanisms"] = s.mechanisms;
  rec["kernel_counts"] = s.kernel_counts;
  if (s.vp.in_daemon()) rec["daemon"] = s.daemon_run;
  if (policy == "guest-tiering") rec["guest_tiering"] = s.tiering;
  rec["agent_messages_rejected"] = rejected;
  rec["timing"] = {{"image_s", s.image_s}, {"image_cached", img.cached},
                   {"boot_s", s.boot_s},   {"workload_s", s.workload_s},
                   {"total_s", total_s},   {"clean_poweroff", clean_poweroff}};
  Json cfg = r.to_json();
  cfg["workload"] = s.wl.resolved;
  cfg["platform_options"] = s.opt.resolved;
  cfg["policy"] = s.vp.resolved;
  close_record(
      rec, std::move(cfg),
      {{"image",
        {{"hash", img.hash}, {"kernel", img.kernel}, {"initrd_bytes", img.initrd_bytes}}}});
  return rec;
}

// Probes the host and decides the guest's shape (accelerator, nodes, cells, pins).
VmRunState plan_vm(const RunSpec& r) {
  VmRunState s(r);
  s.wl = parse_workload(r);
  s.opt = parse_options(r);
  s.vp = parse_policy(r);
  check_guest_side(s.vp, s.wl);
  const KvmStatus kvm = probe_kvm();
  s.use_kvm = s.opt.accel == "kvm" || (s.opt.accel == "auto" && kvm.usable);
  s.numa = probe_numa(s.opt.fast_node >= 0 ? std::optional<int>(s.opt.fast_node) : std::nullopt,
                      s.opt.slow_node >= 0 ? std::optional<int>(s.opt.slow_node) : std::nullopt);
  s.fast = s.numa.fast_node.value_or(-1);
  s.slow = s.numa.slow_node.value_or(s.fast);
  if (!s.use_kvm)
    s.notes.push_back("TCG: " + kvm.reason + " -- timings are functional, not performance");
  if (!s.numa.slow_node)
    s.notes.push_back("no slow host node: the slow cell is bound to the fast node " +
                      std::to_string(s.fast));
  if (s.vp.in_daemon() && !s.vp.in_guest() && !s.numa.slow_node)
    throw std::runtime_error(
        "policy '" + s.vp.impl +
        "': moves guest pages between host nodes, and this host has one NUMA node "
        "(`vtmm numa-check` runs the same design on a two-node guest kernel)");
  s.cells = guest_cells(r, s.opt, s.vp.sizing(), s.fast, s.slow);
  int absent = -1;
  for (const auto& n : s.numa.nodes) absent = std::max(absent, n.id);
  s.slow_target = s.numa.slow_node ? *s.numa.slow_node : absent + 1;
  s.dc.kvm = s.use_kvm;
  s.dc.vcpus = r.vm().vcpus;
  s.dc.cells = s.cells;
  s.dc.cmdline = "console=ttyS0 panic=-1 quiet";
  pin_vcpus(s.numa, s.fast, r.vm().vcpus, s.dc, s.notes);
  return s;
}

}  // namespace

Json run_vm(const RunSpec& r) {
  std::lock_guard<std::mutex> one(g_one_vm_at_a_time);
  InterruptGuard guard;
  const auto t_start = std::chrono::steady_clock::now();
  VmRunState s = plan_vm(r);
  GuestSession g(s.dc, s.opt.memory, s.opt.boot_timeout_s);
  s.dc = g.domain();
  s.hello = g.hello();
  s.image_s = g.image_s();
  s.boot_s = g.boot_s();
  std::vector<uint64_t> cell_bytes;
  for (const auto& c : s.cells) cell_bytes.push_back(c.bytes);
  GuestRam ram(g.qemu_pid(), cell_bytes);

  const Must must = [&](const std::string& cmd) { return g.must(cmd, s.opt.command_timeout_s); };
  s.caps = must("caps");
  // The kernel's counts over the workload (and the daemon's moves): VM exits,
  // EPT violations, page migrations; null with the reason where not countable.
  TracepointCounters kernel({"kvm:kvm_exit", "kvm:kvm_page_fault", "migrate:mm_migrate_pages"});
  kernel.start();
  run_workload(s, ram, must, g);
  kernel.stop();
  s.kernel_counts = kernel.counts();
  daemon_round_trip(s, ram, must);
  // Guest-side placement between the two guest nodes.
  s.guest_move = must("numa-move " + std::to_string(s.opt.guest_move_mib) + " 0 1");
  const bool clean_poweroff = g.poweroff();
  return vm_record(s, g.image(), clean_poweroff, g.rejected(), seconds_since(t_start));
}

}  // namespace vtmm::platform
