#pragma once
// What the agent does on the host's command; each returns the metrics it
// measured (sent as one Metrics frame) or throws with a reason.
#include <sys/types.h>

#include <string>
#include <utility>
#include <vector>

#include "agent/channel.hpp"

namespace vtmm::agent {

using Values = std::vector<std::pair<std::string, double>>;

// The guest's base page size (x86-64), for the tasks that walk memory by page.
inline constexpr size_t kPage = 4096;

// redis-server on a unix socket + redis-benchmark SET/GET: throughput and latency percentiles.
Values run_redis(uint64_t requests, uint32_t clients, uint64_t keyspace, uint32_t value_bytes);
// YCSB core workload a/b/c against redis-server over TCP (agent/ycsb_client.cpp):
// per operation type throughput and latency percentiles, the drawn key shares.
struct YcsbParams {
  uint64_t records = 0, operations = 0;
  uint32_t clients = 1, value_bytes = 0;
  char workload = 'a';
  std::string distribution = "zipfian";
  uint64_t seed = 1;
};
Values run_ycsb(const YcsbParams& p);
// /bin/vtmm-tierd with `args` (agent/tierd_task.cpp): its report as metrics.
Values run_tierd(const std::vector<std::string>& args);
// vtmm-tierd in the background beside the workload (a guest-side design:
// --guest --pid-file ...), and its report once stopped with SIGTERM.
Values start_guest_daemon(const std::vector<std::string>& args);
Values stop_guest_daemon();
// The process whose page tables the guest companion walks for the host
// (agent/page_table_task.cpp): the agent itself, or redis-server while it serves.
void set_workload_pid(pid_t pid);
// Serves `gpt-walk MASK` on the agent's second port until the host goes away
// (in a child process: the first port's commands run meanwhile).
void serve_page_tables(const agent_proto::Hello& hello);
// fork + execv with stdout to `out_path` (if set).
pid_t spawn_process(const std::vector<std::string>& argv, const char* out_path);
// Graph500 BFS (the project's Kronecker generator and validator, native memory):
// mean TEPS over `roots` validated searches.
Values run_bfs(uint32_t scale, uint32_t edge_factor, uint32_t roots, uint64_t seed);
Values run_pagerank(uint32_t scale, uint32_t edge_factor, uint32_t iterations, double tolerance,
                    uint64_t seed);
// GUPS (agent/gups_task.cpp): the simulator's gups rules on a real table,
// one thread per vCPU; update rate of the measured updates, checked.
struct GupsParams {
  uint64_t footprint = 0, updates = 0, warmup_updates = 0;
  uint32_t threads = 1;
  double hot_fraction = 1.0 / 16, hot_probability = 0.9;
  std::string hot_offset = "random";
  uint64_t seed = 1;
  // Also send the hot set's guest frames (a Pages frame of source hot_set)
  // on `ch` after the run, for a check of what a tracker found.
  bool report_hot = false;
};
Values run_gups(const GupsParams& p, Channel* ch = nullptr);
// Guest-side placement: `mib` of memory first-touched on guest node `from`,
// moved with move_pages(2) to `to`; counts per node before and after from
// move_pages' query mode and from /proc/self/numa_maps.
Values run_numa_move(uint64_t mib, int from, int to);
// Access information the guest kernel offers: soft-dirty (clear_refs +
// pagemap) over a buffer of `mib` of which every other page is written;
// sends the dirty pages' guest frame numbers as Pages frames. Written pages
// carry "VTMMPAGE" + their frame number; the buffer stays mapped.
// `split`: the buffer's first half bound to guest node 0, the second to node 1.
Values report_soft_dirty(Channel& ch, uint64_t mib, bool split);
// Whether the last report's marked pages still hold their marks at the same
// guest frames (after the host moved their backing).
Values check_marks();
// The guest kernel's own tiering: kernel.numa_balancing=2 and
// demotion_enabled=1, read back; and how many memory tiers the kernel formed.
Values guest_tiering_on();
// /proc/vmstat's numa_*, pgpromote*, pgdemote*, pgmigrate* counters.
Values guest_vmstat();
// What the guest kernel offers (page_idle, soft-dirty, DAMON, NUMA nodes).
Values guest_capabilities();

}  // namespace vtmm::agent
