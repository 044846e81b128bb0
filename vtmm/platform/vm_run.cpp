#include "vtmm/platform/vm_run.hpp"

#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <filesystem>
#include <mutex>
#include <sstream>
#include <thread>

#include "vtmm/core/record_identity.hpp"
#include "vtmm/platform/agent_link.hpp"
#include "vtmm/platform/domain_xml.hpp"
#include "vtmm/platform/guest_image.hpp"
#include "vtmm/platform/guest_ram.hpp"
#include "vtmm/platform/host_probe.hpp"
#include "vtmm/platform/interrupt.hpp"
#include "vtmm/platform/libvirt_session.hpp"

namespace vtmm::platform {
namespace {

// What a spec's workload becomes in the guest: the agent command and the unit of its throughput.
struct GuestWorkload {
  std::string command, op_name;
  Json resolved;
};

GuestWorkload parse_workload(const RunSpec& r) {
  const std::string impl = r.workload.value("impl", "");
  Params p(r.workload, "workload '" + impl + "' (vm)");
  p.get<std::string>("impl", "");
  GuestWorkload w;
  if (impl == "redis") {
    // redis-benchmark's keys are uniform over the keyspace (-r); it has no YCSB hotspot option.
    const auto req = p.get<uint64_t>("requests", 2000), clients = p.get<uint64_t>("clients", 8);
    const auto keys = p.get<uint64_t>("keyspace", 10000), value = p.get<uint64_t>("value_bytes", 4096);
    if (req == 0 || clients == 0 || clients > 1000 || keys == 0 || value == 0 || value > (1u << 20))
      throw SpecError(p.where() + ": requests, clients (<= 1000), keyspace and value_bytes (<= 1 MiB) must be > 0");
    w.command = "redis " + std::to_string(req) + " " + std::to_string(clients) + " " + std::to_string(keys) + " " +
                std::to_string(value);
    w.op_name = "request";
  } else if (impl == "graph500-bfs") {
    const auto scale = p.get<uint32_t>("scale", 12), ef = p.get<uint32_t>("edge_factor", 16);
    const auto roots = p.get<uint32_t>("roots", 2);
    if (scale < 4 || scale > 24 || ef == 0 || ef > 64 || roots == 0 || roots > 64)
      throw SpecError(p.where() + ": scale 4..24, edge_factor 1..64, roots 1..64");
    w.command = "bfs " + std::to_string(scale) + " " + std::to_string(ef) + " " + std::to_string(roots) + " " +
                std::to_string(r.seed);
    w.op_name = "edge";
  } else {
    throw SpecError("workload '" + impl + "': not a guest program of the vm platform (redis, graph500-bfs)");
  }
  p.finish();
  w.resolved = p.resolved();
  return w;
}

struct VmOptions {
  uint64_t memory = 512ull << 20;
  std::string accel = "auto";
  double boot_timeout_s = 300, command_timeout_s = 900;
  uint64_t soft_dirty_mib = 8, guest_move_mib = 16;
  int fast_node = -1, slow_node = -1;
  Json resolved;
};

VmOptions parse_options(const RunSpec& r) {
  Params p(r.platform_options, "platform_options");
  VmOptions o;
  o.accel = p.get<std::string>("accel", "auto");
  if (o.accel != "auto" && o.accel != "kvm" && o.accel != "tcg") p.fail("accel", "must be auto, kvm or tcg");
  o.boot_timeout_s = p.get<double>("boot_timeout_s", 300);
  o.command_timeout_s = p.get<double>("command_timeout_s", 900);
  o.soft_dirty_mib = p.get<uint64_t>("soft_dirty_mib", 8);
  o.guest_move_mib = p.get<uint64_t>("guest_move_mib", 16);
  o.fast_node = p.get<int>("fast_node", -1);
  o.slow_node = p.get<int>("slow_node", -1);
  p.finish();
  o.resolved = p.resolved();
  o.memory = r.memory_bytes ? r.memory_bytes : 512ull << 20;
  if (o.memory < (256ull << 20) || o.memory > (2ull << 30) || o.memory % (4ull << 20))
    throw SpecError("vm.memory: the vm platform takes 256 MiB .. 2 GiB in whole 4 MiB (below the PCI hole)");
  if (o.soft_dirty_mib == 0 || o.soft_dirty_mib > 64 || o.guest_move_mib == 0 || o.guest_move_mib > 64)
    throw SpecError("platform_options: soft_dirty_mib and guest_move_mib must be 1..64");
  return o;
}

const std::vector<std::string> kPolicies = {"dram-only", "slow-only", "first-touch"};

// Fast share of guest memory for first-touch, rounded to 4 MiB, both cells non-empty.
uint64_t fast_share(const RunSpec& r, uint64_t memory) {
  double f = 1;
  if (r.fast_bytes) f = static_cast<double>(r.fast_bytes) / static_cast<double>(memory);
  else if (r.ratio) f = r.ratio->fast / (r.ratio->fast + r.ratio->slow);
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

void validate_vm_run(const RunSpec& r) {
  parse_workload(r);
  parse_options(r);
  const std::string impl = r.policy.value("impl", "");
  if (std::find(kPolicies.begin(), kPolicies.end(), impl) == kPolicies.end())
    throw SpecError("policy '" + impl + "': the vm platform runs dram-only, slow-only and first-touch (static split); "
                    "hot-page policies need PML/EPT A/D or PEBS, which QEMU does not give a user-space daemon");
}

// QEMU runs as libvirt's unprivileged user (qemu.conf), which cannot reach an
// image cache under a 0700 home directory: for the run, the boot files are
// copied into a directory of their own under libvirt's boot directory, and
// removed afterwards (also when the run fails).
namespace {
class StagedBoot {
 public:
  StagedBoot(const GuestImage& img, const std::string& domain) {
    namespace fs = std::filesystem;
    const fs::path base = fs::exists("/var/lib/libvirt/boot") ? fs::path("/var/lib/libvirt/boot") : fs::temp_directory_path();
    dir_ = base / ("vtmm-" + domain);
    std::error_code ec;
    fs::remove_all(dir_, ec);
    fs::create_directories(dir_);
    fs::permissions(dir_, fs::perms::owner_all | fs::perms::group_read | fs::perms::group_exec |
                              fs::perms::others_read | fs::perms::others_exec);
    kernel = (dir_ / "vmlinuz").string();
    initrd = (dir_ / "initramfs.cpio").string();
    fs::copy_file(img.kernel, kernel, fs::copy_options::overwrite_existing);
    fs::copy_file(img.initrd, initrd, fs::copy_options::overwrite_existing);
    for (const std::string& f : {kernel, initrd})
      fs::permissions(f, fs::perms::owner_read | fs::perms::owner_write | fs::perms::group_read | fs::perms::others_read);
  }
  ~StagedBoot() {
    std::error_code ec;
    std::filesystem::remove_all(dir_, ec);
  }
  StagedBoot(const StagedBoot&) = delete;
  StagedBoot& operator=(const StagedBoot&) = delete;
  std::string kernel, initrd;

 private:
  std::filesystem::path dir_;
};
}  // namespace

Json run_vm(const RunSpec& r) {
  std::lock_guard<std::mutex> one(g_one_vm_at_a_time);
  InterruptGuard guard;
  const auto t_start = std::chrono::steady_clock::now();
  const GuestWorkload wl = parse_workload(r);
  const VmOptions opt = parse_options(r);
  validate_vm_run(r);
  const std::string policy = r.policy.value("impl", "");

  const KvmStatus kvm = probe_kvm();
  const bool use_kvm = opt.accel == "kvm" || (opt.accel == "auto" && kvm.usable);
  const NumaLayout numa = probe_numa(opt.fast_node >= 0 ? std::optional<int>(opt.fast_node) : std::nullopt,
                                     opt.slow_node >= 0 ? std::optional<int>(opt.slow_node) : std::nullopt);
  const int fast = numa.fast_node.value_or(-1);
  const int slow = numa.slow_node.value_or(fast);
  std::vector<std::string> notes;
  if (!use_kvm) notes.push_back("TCG: " + kvm.reason + " -- timings are functional, not performance");
  if (!numa.slow_node) notes.push_back("no slow host node: the slow cell is bound to the fast node " + std::to_string(fast));

  // Two guest NUMA cells, bound per the policy.
  std::vector<GuestCell> cells;
  if (policy == "first-touch") {
    const uint64_t f = fast_share(r, opt.memory);
    cells = {{f, fast}, {opt.memory - f, slow}};
  } else {
    const int node = policy == "slow-only" ? slow : fast;
    cells = {{opt.memory / 2, node}, {opt.memory - opt.memory / 2, node}};
  }

  const auto t_img = std::chrono::steady_clock::now();
  const GuestImage img = build_guest_image(ImageOptions{});
  const double image_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_img).count();
  check_interrupted();

  LibvirtSession lv;
  const std::string name = lv.next_domain_name();
  DomainConfig dc;
  dc.name = name;
  dc.kvm = use_kvm;
  dc.vcpus = r.vcpus;
  dc.cells = cells;
  const StagedBoot boot(img, name);
  dc.kernel = boot.kernel;
  dc.initrd = boot.initrd;
  dc.cmdline = "console=ttyS0 panic=-1 quiet";
  dc.serial_log = "/var/log/libvirt/qemu/" + name + ".serial.log";
  // Pin vCPUs only when the fast node has a spare core for QEMU's own threads and the daemon.
  std::vector<int> cpus;
  for (const auto& n : numa.nodes)
    if (n.id == fast) {
      std::istringstream in(n.cpus);
      for (std::string part; std::getline(in, part, ',');) {
        const auto dash = part.find('-');
        const int lo = std::stoi(part), hi = dash == std::string::npos ? lo : std::stoi(part.substr(dash + 1));
        for (int c = lo; c <= hi; ++c) cpus.push_back(c);
      }
    }
  if (cpus.size() > r.vcpus)
    for (uint32_t v = 0; v < r.vcpus; ++v) dc.vcpu_pins.push_back(cpus[1 + v]);
  else
    notes.push_back("vCPUs not pinned: the fast node has " + std::to_string(cpus.size()) + " cores for " +
                    std::to_string(r.vcpus) + " vCPUs");

  const auto t_boot = std::chrono::steady_clock::now();
  lv.create_domain(name, domain_xml(dc));
  const int qemu_pid = lv.qemu_pid(name);
  AgentLink link(agent_socket_from_xml(lv.live_xml(name)), agent_proto::MemoryMap{{{0, opt.memory}}},
                 [&] { return lv.domain_active(name); });
  const agent_proto::Hello hello = link.wait_hello(opt.boot_timeout_s);
  const double boot_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_boot).count();
  std::vector<uint64_t> cell_bytes;
  for (const auto& c : cells) cell_bytes.push_back(c.bytes);
  GuestRam ram(qemu_pid, cell_bytes);

  auto must = [&](const std::string& cmd) {
    CommandReply rep = link.command(cmd, opt.command_timeout_s);
    if (rep.status != 0) throw std::runtime_error("guest: '" + cmd + "' failed: " + rep.error);
    return rep;
  };
  const CommandReply caps = must("caps");
  const auto t_wl = std::chrono::steady_clock::now();
  const CommandReply work = must(wl.command);
  const double workload_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t_wl).count();

  // Host daemon: the guest's soft-dirty frames, moved to the slow node and back (same GPA, new backing).
  const CommandReply sd = must("soft-dirty " + std::to_string(opt.soft_dirty_mib));
  std::vector<uint64_t> gfns;
  for (const auto& pg : sd.pages) gfns.insert(gfns.end(), pg.gfns.begin(), pg.gfns.end());
  int absent = -1;
  for (const auto& n : numa.nodes) absent = std::max(absent, n.id);
  ++absent;
  const int slow_target = numa.slow_node ? *numa.slow_node : absent;
  Json daemon;
  daemon["source"] = "soft_dirty";
  daemon["pages_reported"] = gfns.size();
  daemon["marks_verified"] = ram.verify(gfns);
  daemon["to_slow"] = ram.move(gfns, slow_target);
  daemon["to_slow"]["node_absent"] = !numa.slow_node;
  daemon["to_fast"] = ram.move(gfns, fast);
  daemon["host_sees_marks_after"] = ram.marks_intact(gfns);
  // The guest still sees its data at the same GPAs after its memory moved under it.
  const CommandReply after = must("check-marks");
  daemon["guest_check"] = values_json(after.metrics);

  // Guest-side placement between the two guest nodes.
  const CommandReply gm = must("numa-move " + std::to_string(opt.guest_move_mib) + " 0 1");

  link.send_only("poweroff");
  for (int i = 0; i < 100 && lv.domain_active(name); ++i) std::this_thread::sleep_for(std::chrono::milliseconds(100));
  const bool clean_poweroff = !lv.domain_active(name);
  lv.destroy_domain(name);
  std::error_code ec;
  std::filesystem::remove(dc.serial_log, ec);

  const Json wm = values_json(work.metrics);
  char host[256] = {};
  ::gethostname(host, sizeof host - 1);
  Json rec = record_identity(r, host);
  rec["accel"] = use_kvm ? "kvm" : "tcg";
  rec["notes"] = notes;
  rec["ratio"] = policy == "first-touch" && r.ratio && !r.fast_bytes ? Json(r.ratio->text) : Json(nullptr);
  rec["fast_bytes"] = cells[0].host_node == fast ? cells[0].bytes + (cells[1].host_node == fast ? cells[1].bytes : 0) : 0;
  rec["memory_bytes"] = opt.memory;
  rec["runtime_s"] = wm.value("search_s", wm.value("wall_s", workload_s));
  rec["throughput"] = wm.value("throughput", 0.0);
  rec["op_name"] = wl.op_name;
  rec["ops"] = wm.value("edges_traversed", wm.value("requests", 0.0));
  rec["slowdown"] = nullptr;
  rec["guest_metrics"] = wm;
  Json cj = Json::array();
  for (size_t i = 0; i < cells.size(); ++i)
    cj.push_back({{"cell", i}, {"bytes", cells[i].bytes}, {"host_node", cells[i].host_node},
                  {"guest_sees_bytes", i < hello.node_bytes.size() ? Json(hello.node_bytes[i]) : Json(nullptr)}});
  rec["placement"] = {{"fast_node", numa.fast_node ? Json(*numa.fast_node) : Json(nullptr)},
                      {"slow_node", numa.slow_node ? Json(*numa.slow_node) : Json(nullptr)},
                      {"cells", cj},
                      {"vcpu_pins", dc.vcpu_pins}};
  rec["guest"] = {{"nodes", hello.node_bytes.size()}, {"mem_bytes", hello.mem_bytes}, {"capabilities", values_json(caps.metrics)}};
  rec["access_report"] = values_json(sd.metrics);
  rec["daemon_migration"] = daemon;
  rec["guest_numa_move"] = values_json(gm.metrics);
  rec["agent_messages_rejected"] = link.rejected();
  rec["timing"] = {{"image_s", image_s}, {"image_cached", img.cached}, {"boot_s", boot_s}, {"workload_s", workload_s},
                   {"total_s", std::chrono::duration<double>(std::chrono::steady_clock::now() - t_start).count()},
                   {"clean_poweroff", clean_poweroff}};
  Json cfg = r.to_json();
  cfg["workload"] = wl.resolved;
  cfg["platform_options"] = opt.resolved;
  rec["config"] = {{"run", cfg}, {"image", {{"hash", img.hash}, {"kernel", img.kernel}, {"initrd_bytes", img.initrd_bytes}}}};
  return rec;
}

}  // namespace vtmm::platform
