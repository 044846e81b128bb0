#pragma once
// The graph the guest's graph kernels run on: the project's undirected
// Kronecker graph (workloads/kronecker.hpp), built in guest memory and timed.
#include <chrono>
#include <cstdint>

#include "workloads/kronecker.hpp"

namespace vtmm::agent {

struct GuestGraph {
  workloads::EdgeList edges;
  workloads::Csr csr;
  double build_s = 0;
};

inline GuestGraph build_guest_graph(uint32_t scale, uint32_t edge_factor, uint64_t seed) {
  workloads::KronSpec s;
  s.scale = scale;
  s.edge_factor = edge_factor;
  s.seed = seed;
  const auto t0 = std::chrono::steady_clock::now();
  GuestGraph out;
  out.edges = workloads::kronecker_edges(s, false);
  out.csr = workloads::build_undirected_csr(out.edges, s.vertices());
  out.build_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  return out;
}

}  // namespace vtmm::agent
