// PageRank natively in the guest, with the rule of the sim workload
// `pagerank` (workloads/pagerank.cpp: GAP-style pull PageRank on the
// project's undirected Kronecker graph, damping 0.85, the mass of vertices
// without edges spread evenly, stop after `iterations` or when an
// iteration's L1 change is below `tolerance`), but on real memory.
// Check: the ranks are positive and sum to 1 within 1e-6, and the last
// iteration recomputed push-style from the edge list matches the pulled ranks.
#include <chrono>
#include <cmath>
#include <stdexcept>
#include <string>

#include "agent/guest_graph.hpp"
#include "agent/tasks.hpp"
#include "workloads/kronecker.hpp"

namespace vtmm::agent {

namespace {

constexpr double kDamping = 0.85;

// One pull iteration from `score` into `next`; returns the L1 change.
double pull(const workloads::Csr& g, const std::vector<double>& score, std::vector<double>& contrib,
            std::vector<double>& next) {
  const double n = static_cast<double>(g.n);
  double dangling = 0;
  for (uint64_t v = 0; v < g.n; ++v) {
    const uint64_t d = g.degree(v);
    contrib[v] = d ? score[v] / static_cast<double>(d) : 0;
    if (d == 0) dangling += score[v];
  }
  const double base = (1 - kDamping) / n + kDamping * dangling / n;
  double change = 0;
  for (uint64_t u = 0; u < g.n; ++u) {
    double sum = 0;
    for (uint64_t k = g.offsets[u]; k < g.offsets[u + 1]; ++k) sum += contrib[g.adj[k]];
    next[u] = base + kDamping * sum;
    change += std::fabs(next[u] - score[u]);
  }
  return change;
}

// The same iteration push-style from the edge list (each undirected edge
// both ways, self-loops dropped, as build_undirected_csr stores them).
std::vector<double> push(const workloads::EdgeList& e, const workloads::Csr& g,
                         const std::vector<double>& score) {
  const double n = static_cast<double>(g.n);
  double dangling = 0;
  for (uint64_t v = 0; v < g.n; ++v)
    if (g.degree(v) == 0) dangling += score[v];
  std::vector<double> next(g.n, (1 - kDamping) / n + kDamping * dangling / n);
  for (size_t i = 0; i < e.size(); ++i) {
    const uint32_t a = e.u[i], b = e.v[i];
    if (a == b) continue;
    next[b] += kDamping * score[a] / static_cast<double>(g.degree(a));
    next[a] += kDamping * score[b] / static_cast<double>(g.degree(b));
  }
  return next;
}

}  // namespace

Values run_pagerank(uint32_t scale, uint32_t edge_factor, uint32_t iterations, double tolerance,
                    uint64_t seed) {
  using namespace vtmm::workloads;
  const GuestGraph gg = build_guest_graph(scale, edge_factor, seed);
  const EdgeList& e = gg.edges;
  const Csr& g = gg.csr;
  const double build_s = gg.build_s;
  std::vector<double> score(g.n, 1.0 / static_cast<double>(g.n)), contrib(g.n), next(g.n), prev;
  uint32_t done = 0;
  double change = 0;
  const auto t0 = std::chrono::steady_clock::now();
  for (; done < iterations; ++done) {
    change = pull(g, score, contrib, next);
    prev.swap(score);
    score = next;
    if (change < tolerance) {
      ++done;
      break;
    }
  }
  const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  double sum = 0;
  for (double x : score) {
    if (!(x > 0)) throw std::runtime_error("PageRank validation failed: a rank is not positive");
    sum += x;
  }
  if (std::fabs(sum - 1) > 1e-6)
    throw std::runtime_error("PageRank validation failed: ranks sum to " + std::to_string(sum));
  const std::vector<double> ref = push(e, g, prev);
  for (uint64_t v = 0; v < g.n; ++v)
    if (std::fabs(ref[v] - score[v]) > 1e-9 * ref[v])
      throw std::runtime_error("PageRank validation failed: vertex " + std::to_string(v) +
                               " differs from the push recomputation");
  const double pulled = static_cast<double>(g.adj.size()) * done;
  return {{"scale", scale},
          {"edge_factor", edge_factor},
          {"iterations", static_cast<double>(done)},
          {"validated", 1},
          {"build_s", build_s},
          {"run_s", run_s},
          {"last_change", change},
          {"edges_pulled", pulled},
          {"throughput", run_s > 0 ? pulled / run_s : 0}};
}

}  // namespace vtmm::agent
