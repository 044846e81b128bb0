#pragma once
// Graph500's Kronecker generator, an undirected CSR, and the Graph500-style
// result checks shared by graph500-bfs, graph500-sssp and pagerank.
//
// Generator: the Graph500 reference (kronecker_generator.m, spec section
// "Graph Generation"): 2^scale vertices, edge_factor * 2^scale edges, each
// edge placed by `scale` recursive choices of a quadrant with initiator
// probabilities A, B, C, D = 1 - A - B - C; vertex labels are then permuted
// at random. The edge order is not shuffled (the CSR does not depend on it).
// Graph500 SSSP weights are uniform in [0, 1).
#include <cstdint>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"

namespace vtmm::workloads {

inline constexpr uint32_t kNoVertex = UINT32_MAX;

struct KronSpec {
  uint32_t scale = 20;
  uint32_t edge_factor = 16;
  double a = 0.57, b = 0.19, c = 0.19;  // Graph500 spec, D = 0.05
  uint64_t seed = 1;
  uint64_t vertices() const { return uint64_t{1} << scale; }
  uint64_t edges() const { return uint64_t{edge_factor} << scale; }
};

// The search kernels' shared parameters: the graph (scale, edge_factor) and
// how many sampled roots are searched (warm-up, then measured).
struct Graph500Searches {
  KronSpec spec;
  uint32_t roots = 4, warmup_roots = 1;
  // Reads and checks scale (default_scale), edge_factor, roots, warmup_roots.
  static Graph500Searches read(Params& p, uint64_t seed, uint32_t default_scale);
  // "" when every search ran, else what is missing (for verify()).
  std::string incomplete(uint64_t sampled, uint64_t searched) const;
};

struct EdgeList {
  std::vector<uint32_t> u, v;
  std::vector<float> w;  // empty unless weights were asked for
  uint64_t size() const { return u.size(); }
};

EdgeList kronecker_edges(const KronSpec& s, bool weights);

// Undirected CSR: each non-loop edge {u, v} appears in u's list and in v's
// list (self-loops dropped, duplicate edges kept: Graph500 kernel 1 may do
// either). Entries keep the edge list's order.
struct Csr {
  uint64_t n = 0;
  std::vector<uint64_t> offsets;  // n + 1
  std::vector<uint32_t> adj;
  std::vector<float> w;  // parallel to adj when the edge list has weights
  uint64_t degree(uint64_t x) const { return offsets[x + 1] - offsets[x]; }
};

Csr build_undirected_csr(const EdgeList& e, uint64_t n);

// `count` distinct roots with at least one neighbour (Graph500 samples
// search keys among vertices of non-zero degree), chosen from `seed`.
std::vector<uint32_t> sample_roots(const Csr& g, uint32_t count, uint64_t seed);

// Graph500 BFS validation against the edge list (not the CSR the search
// used): parent[root] == root; the parent pointers form a tree whose levels
// are derived here; every tree edge is an edge of the graph; every edge joins
// vertices whose levels differ by at most one; no edge joins a reached and an
// unreached vertex. Returns "" if valid, else what is wrong.
std::string check_bfs_tree(const EdgeList& e, uint64_t n, uint32_t root,
                           const std::vector<uint32_t>& parent);

// Graph500 SSSP validation: dist[root] == 0, parent[root] == root; for every
// edge d[v] <= d[u] + w and d[u] <= d[v] + w; every reached vertex but the
// root has an edge to its parent with d[v] == d[parent] + w; parents of
// reached vertices are reached; unreached vertices have no parent.
std::string check_sssp(const EdgeList& e, uint64_t n, uint32_t root,
                       const std::vector<uint32_t>& parent, const std::vector<float>& dist);

}  // namespace vtmm::workloads
