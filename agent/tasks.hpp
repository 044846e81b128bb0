#pragma once
// What the agent does on the host's command; each returns the metrics it
// measured (sent as one Metrics frame) or throws with a reason.
#include <string>
#include <utility>
#include <vector>

#include "agent/channel.hpp"

namespace vtmm::agent {

using Values = std::vector<std::pair<std::string, double>>;

// redis-server on a unix socket + redis-benchmark SET/GET: throughput and latency percentiles.
Values run_redis(uint64_t requests, uint32_t clients, uint64_t keyspace, uint32_t value_bytes);
// Graph500 BFS (the project's Kronecker generator and validator, native memory):
// mean TEPS over `roots` validated searches.
Values run_bfs(uint32_t scale, uint32_t edge_factor, uint32_t roots, uint64_t seed);
// Guest-side placement: `mib` of memory first-touched on guest node `from`,
// moved with move_pages(2) to `to`; counts per node before and after from
// move_pages' query mode and from /proc/self/numa_maps.
Values run_numa_move(uint64_t mib, int from, int to);
// Access information the guest kernel offers: soft-dirty (clear_refs +
// pagemap) over a buffer of `mib` of which every other page is written;
// sends the dirty pages' guest frame numbers as Pages frames. Written pages
// carry "VTMMPAGE" + their frame number; the buffer stays mapped.
Values report_soft_dirty(Channel& ch, uint64_t mib);
// Whether the last report's marked pages still hold their marks at the same
// guest frames (after the host moved their backing).
Values check_marks();
// What the guest kernel offers (page_idle, soft-dirty, DAMON, NUMA nodes).
Values guest_capabilities();

}  // namespace vtmm::agent
