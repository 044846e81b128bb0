#include "workloads/kronecker.hpp"

#include <algorithm>
#include <cmath>

#include "vtmm/core/rng.hpp"

namespace vtmm::workloads {

Graph500Searches Graph500Searches::read(Params& p, uint64_t seed, uint32_t default_scale) {
  Graph500Searches g;
  g.spec.scale = p.get<uint32_t>("scale", default_scale);
  g.spec.edge_factor = p.get<uint32_t>("edge_factor", 16);  // Graph500 specification
  g.spec.seed = seed;
  g.roots =
      p.get<uint32_t>("roots", 4);  // Graph500 runs 64 search keys; 4 keep the quick run short
  g.warmup_roots = p.get<uint32_t>("warmup_roots", 1);  // one search to warm caches and policies
  if (g.spec.scale < 2 || g.spec.scale > 30) p.fail("scale", "must be between 2 and 30");
  if (g.spec.edge_factor < 1 || g.spec.edge_factor > 256)
    p.fail("edge_factor", "must be between 1 and 256");
  if (g.roots < 1 || g.roots > 4096) p.fail("roots", "must be between 1 and 4096");
  if (g.warmup_roots > 4096) p.fail("warmup_roots", "must be at most 4096");
  return g;
}

std::string Graph500Searches::incomplete(uint64_t sampled, uint64_t searched) const {
  if (sampled == 0 || searched != sampled || sampled != uint64_t{warmup_roots} + roots)
    return "not every search ran";
  return "";
}

EdgeList kronecker_edges(const KronSpec& s, bool weights) {
  const uint64_t n = s.vertices(), m = s.edges();
  // kronecker_generator.m: the row bit is 1 with probability C + D; given the
  // row bit, the column bit is 1 with probability B / (A + B) or D / (C + D).
  const double ab = s.a + s.b, c_norm = s.c / (1.0 - ab), a_norm = s.a / ab;
  const auto threshold = [](double p) { return static_cast<uint64_t>(std::ldexp(p, 32)); };
  const uint64_t t_ab = threshold(ab), t_c = threshold(c_norm), t_a = threshold(a_norm);
  EdgeList e;
  e.u.resize(m);
  e.v.resize(m);
  Rng rng(s.seed * 0x9e3779b97f4a7c15ULL + 0x6b726f6eULL);
  for (uint64_t k = 0; k < m; ++k) {
    uint32_t u = 0, v = 0;
    for (uint32_t bit = 0; bit < s.scale; ++bit) {
      const uint64_t r = rng.next();  // two 32-bit uniforms per level
      const uint32_t ii = (r & 0xffffffffULL) >= t_ab ? 1u : 0u;
      const uint32_t jj = (r >> 32) >= (ii ? t_c : t_a) ? 1u : 0u;
      u |= ii << bit;
      v |= jj << bit;
    }
    e.u[k] = u;
    e.v[k] = v;
  }
  // Graph500 permutes vertex labels so vertex numbers carry no degree information.
  std::vector<uint32_t> perm(n);
  for (uint64_t i = 0; i < n; ++i) perm[i] = static_cast<uint32_t>(i);
  for (uint64_t i = n; i > 1; --i) std::swap(perm[i - 1], perm[rng.below(i)]);
  for (uint64_t k = 0; k < m; ++k) {
    e.u[k] = perm[e.u[k]];
    e.v[k] = perm[e.v[k]];
  }
  if (weights) {
    e.w.resize(m);
    // 24 random bits: exactly representable as float, always < 1.
    for (uint64_t k = 0; k < m; ++k) e.w[k] = static_cast<float>(rng.next() >> 40) * 0x1.0p-24f;
  }
  return e;
}

Csr build_undirected_csr(const EdgeList& e, uint64_t n) {
  Csr g;
  g.n = n;
  g.offsets.assign(n + 1, 0);
  for (uint64_t k = 0; k < e.size(); ++k) {
    if (e.u[k] == e.v[k]) continue;
    ++g.offsets[e.u[k] + 1];
    ++g.offsets[e.v[k] + 1];
  }
  for (uint64_t x = 0; x < n; ++x) g.offsets[x + 1] += g.offsets[x];
  g.adj.resize(g.offsets[n]);
  const bool weighted = !e.w.empty();
  if (weighted) g.w.resize(g.offsets[n]);
  std::vector<uint64_t> at(g.offsets.begin(), g.offsets.end() - 1);
  for (uint64_t k = 0; k < e.size(); ++k) {
    const uint32_t u = e.u[k], v = e.v[k];
    if (u == v) continue;
    const uint64_t iu = at[u]++, iv = at[v]++;
    g.adj[iu] = v;
    g.adj[iv] = u;
    if (weighted) g.w[iu] = g.w[iv] = e.w[k];
  }
  return g;
}

std::vector<uint32_t> sample_roots(const Csr& g, uint32_t count, uint64_t seed) {
  std::vector<uint32_t> roots;
  std::vector<bool> taken(g.n, false);
  Rng rng(seed * 0x2545f4914f6cdd1dULL + 0x726f6f74ULL);
  for (uint64_t tries = 0; roots.size() < count && tries < 100 * uint64_t{count}; ++tries) {
    const uint64_t x = rng.below(g.n);
    if (g.degree(x) == 0 || taken[x]) continue;
    taken[x] = true;
    roots.push_back(static_cast<uint32_t>(x));
  }
  for (uint64_t x = 0; x < g.n && roots.size() < count; ++x)
    if (g.degree(x) > 0 && !taken[x]) {
      taken[x] = true;
      roots.push_back(static_cast<uint32_t>(x));
    }
  return roots;
}

namespace {

// Levels of the tree given by parent pointers (-1: unreached); "" or an error.
std::string tree_levels(uint64_t n, uint32_t root, const std::vector<uint32_t>& parent,
                        std::vector<int64_t>& level) {
  if (root >= n || parent.size() != n) return "bad root or parent array size";
  if (parent[root] != root) return "parent[root] != root";
  level.assign(n, -1);
  level[root] = 0;
  std::vector<uint32_t> path;
  for (uint64_t x = 0; x < n; ++x) {
    if (parent[x] == kNoVertex || level[x] >= 0) continue;
    path.clear();
    uint32_t y = static_cast<uint32_t>(x);
    while (level[y] < 0) {
      if (parent[y] == kNoVertex) return "vertex " + std::to_string(y) + " has an unreached parent";
      if (parent[y] >= n) return "parent out of range";
      if (path.size() > n) return "the parent pointers contain a cycle";
      path.push_back(y);
      y = parent[y];
    }
    for (size_t i = path.size(); i-- > 0;) level[path[i]] = level[parent[path[i]]] + 1;
  }
  return "";
}

}  // namespace

std::string check_bfs_tree(const EdgeList& e, uint64_t n, uint32_t root,
                           const std::vector<uint32_t>& parent) {
  std::vector<int64_t> level;
  if (std::string err = tree_levels(n, root, parent, level); !err.empty()) return err;
  std::vector<bool> found(n, false);
  for (uint64_t k = 0; k < e.size(); ++k) {
    const uint32_t u = e.u[k], v = e.v[k];
    if (u == v) continue;
    const int64_t lu = level[u], lv = level[v];
    if ((lu < 0) != (lv < 0))
      return "edge " + std::to_string(u) + "-" + std::to_string(v) +
             " joins a reached and an unreached vertex";
    if (lu < 0) continue;
    if (lu - lv > 1 || lv - lu > 1)
      return "edge " + std::to_string(u) + "-" + std::to_string(v) + " spans more than one level";
    if (parent[v] == u) found[v] = true;
    if (parent[u] == v) found[u] = true;
  }
  for (uint64_t x = 0; x < n; ++x)
    if (x != root && level[x] >= 0 && !found[x])
      return "tree edge of vertex " + std::to_string(x) + " is not in the graph";
  return "";
}

std::string check_sssp(const EdgeList& e, uint64_t n, uint32_t root,
                       const std::vector<uint32_t>& parent, const std::vector<float>& dist) {
  if (dist.size() != n) return "bad distance array size";
  std::vector<int64_t> level;
  if (std::string err = tree_levels(n, root, parent, level); !err.empty()) return err;
  if (dist[root] != 0.0f) return "dist[root] != 0";
  std::vector<bool> found(n, false);
  for (uint64_t k = 0; k < e.size(); ++k) {
    const uint32_t u = e.u[k], v = e.v[k];
    if (u == v) continue;
    const float w = e.w[k];
    if (dist[v] > dist[u] + w || dist[u] > dist[v] + w)
      return "edge " + std::to_string(u) + "-" + std::to_string(v) + " violates d[v] <= d[u] + w";
    if (parent[v] == u && dist[v] == dist[u] + w) found[v] = true;
    if (parent[u] == v && dist[u] == dist[v] + w) found[u] = true;
  }
  for (uint64_t x = 0; x < n; ++x) {
    const bool reached = std::isfinite(dist[x]);
    if (reached != (level[x] >= 0))
      return "vertex " + std::to_string(x) + ": distance and parent disagree on reachability";
    if (x != root && reached && !found[x])
      return "no parent edge of vertex " + std::to_string(x) + " is tight";
  }
  return "";
}

}  // namespace vtmm::workloads
