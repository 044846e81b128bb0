// Graph500 BFS natively in the guest, on the project's Kronecker graph and
// with its validator (workloads/kronecker.hpp): the same kernel as the sim
// workload graph500-bfs, but on real memory.
#include <chrono>
#include <stdexcept>

#include "agent/guest_graph.hpp"
#include "agent/tasks.hpp"
#include "workloads/kronecker.hpp"

namespace vtmm::agent {

Values run_bfs(uint32_t scale, uint32_t edge_factor, uint32_t roots, uint64_t seed) {
  using namespace vtmm::workloads;
  const GuestGraph gg = build_guest_graph(scale, edge_factor, seed);
  const EdgeList& e = gg.edges;
  const Csr& g = gg.csr;
  const double build_s = gg.build_s;
  const auto keys = sample_roots(g, roots, seed);
  std::vector<uint32_t> parent(g.n), queue(g.n);
  double search_s = 0;
  uint64_t traversed = 0;
  for (uint32_t root : keys) {
    const auto t0 = std::chrono::steady_clock::now();
    std::fill(parent.begin(), parent.end(), kNoVertex);
    size_t head = 0, tail = 0;
    parent[root] = root;
    queue[tail++] = root;
    while (head < tail) {
      const uint32_t u = queue[head++];
      for (uint64_t k = g.offsets[u]; k < g.offsets[u + 1]; ++k) {
        const uint32_t w = g.adj[k];
        ++traversed;
        if (parent[w] == kNoVertex) {
          parent[w] = u;
          queue[tail++] = w;
        }
      }
    }
    search_s += std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
    const std::string bad = check_bfs_tree(e, g.n, root, parent);
    if (!bad.empty()) throw std::runtime_error("BFS validation failed: " + bad);
  }
  return {{"scale", scale},
          {"edge_factor", edge_factor},
          {"roots", static_cast<double>(keys.size())},
          {"validated", 1},
          {"build_s", build_s},
          {"search_s", search_s},
          {"edges_traversed", static_cast<double>(traversed)},
          {"throughput", search_s > 0 ? static_cast<double>(traversed) / search_s : 0}};
}

}  // namespace vtmm::agent
