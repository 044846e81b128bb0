// graph500-bfs: Graph500 kernel 2, breadth-first search over an undirected
// Kronecker graph (workloads/kronecker.hpp) in CSR form, top-down with a
// FIFO queue, from `roots` sampled search keys; each search is validated the
// Graph500 way against the edge list (not the CSR) as soon as it ends.
//
// Simulated memory: offsets (8 B per vertex), adjacency (4 B per entry,
// sized for every generated edge in both directions), parent (4 B per
// vertex) and the queue (4 B per vertex). The edge list is the harness's
// copy for validation (Graph500 keeps it outside the timed kernel) and is
// not laid out in the simulated space.
//
// Phases: setup builds the graph on the host and reports one write per page
// of each array; `warmup_roots` searches are the warm-up, `roots` searches
// are measured. Each search resets the parent array (sequential writes)
// then runs. ops = adjacency entries scanned (each undirected edge is
// traversed from both ends, as a top-down search does).
// With several vCPUs the searches share one FIFO, level-synchronous as the
// Graph500 reference's parallel BFS: each step takes the next vertices of
// the current level's frontier, and a barrier ends the parent reset and
// every level (the FIFO holds one level after another, so a level ends where
// the queue's tail stood when it began). The result is exactly a sequential
// BFS; the vCPUs split its accesses and wait for each other at the barriers.
#include <string>

#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"
#include "workloads/kronecker.hpp"

namespace vtmm {
namespace {

using workloads::AccessQueue;
using workloads::kNoVertex;

class Graph500Bfs final : public workloads::SteppedWorkload, public workloads::TestCorruptible {
 public:
  Graph500Bfs(Params& p, const WorkloadEnv& env) : SteppedWorkload(env.vcpus), seed_(env.seed) {
    // Quick scale: 20, about 150 MiB (Graph500's smallest class, "toy", is 26).
    const auto searches = workloads::Graph500Searches::read(p, env.seed, 20);
    spec_ = searches.spec;
    roots_count_ = searches.roots;
    warmup_roots_ = searches.warmup_roots;
    // Top-down BFS: the parent checks of one neighbour list are independent
    // loads (addresses come from the sequentially read list), but each is
    // followed by a data-dependent, poorly predicted branch, which keeps the
    // core from running far ahead: about half the ~10 fill buffers in use.
    mlp_ = p.get<uint32_t>("mlp", 4);
    // Assumed: a compare, a branch (often mispredicted) and index arithmetic
    // per reported access, about 2-3 cycles at 2.1 GHz.
    compute_ns_ = p.get<double>("compute_ns", 1.2);
    if (mlp_ < 1 || mlp_ > 64) p.fail("mlp", "must be between 1 and 64");
    if (!(compute_ns_ >= 0)) p.fail("compute_ns", "must not be negative");
    const uint64_t n = spec_.vertices();
    offsets_va_ = layout_.alloc((n + 1) * sizeof(uint64_t));
    adj_va_ = layout_.alloc(2 * spec_.edges() * sizeof(uint32_t));
    parent_va_ = layout_.alloc(n * sizeof(uint32_t));
    queue_va_ = layout_.alloc(n * sizeof(uint32_t));
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return traversed_; }
  std::string op_name() const override { return "edge"; }

  void verify() const override {
    if (!failure_.empty()) throw VerifyError("graph500-bfs: " + failure_);
    const workloads::Graph500Searches want{spec_, roots_count_, warmup_roots_};
    if (const std::string gap = want.incomplete(roots_.size(), searched_); !gap.empty())
      throw VerifyError("graph500-bfs: " + gap);
    const std::string err = workloads::check_bfs_tree(edges_, g_.n, roots_.back(), parent_);
    if (!err.empty())
      throw VerifyError("graph500-bfs: root " + std::to_string(roots_.back()) + ": " + err);
  }

  void corrupt_for_test() override {
    // Re-hang a vertex two or more levels down directly under the root: its
    // new tree edge is not in the graph.
    const uint32_t root = roots_.back();
    for (uint64_t x = 0; x < g_.n; ++x)
      if (x != root && parent_[x] != kNoVertex && parent_[x] != root) {
        parent_[x] = root;
        return;
      }
  }

 protected:
  void build() override {
    edges_ = workloads::kronecker_edges(spec_, false);
    g_ = workloads::build_undirected_csr(edges_, spec_.vertices());
    roots_ = workloads::sample_roots(g_, warmup_roots_ + roots_count_, seed_);
    parent_.assign(g_.n, kNoVertex);
    queue_.assign(g_.n, 0);
    sweep_.add(offsets_va_, g_.offsets.size() * sizeof(uint64_t));
    sweep_.add(adj_va_, g_.adj.size() * sizeof(uint32_t));
    sweep_.add(parent_va_, g_.n * sizeof(uint32_t));
    sweep_.add(queue_va_, g_.n * sizeof(uint32_t));
  }

  bool step(uint32_t, AccessQueue& q) override {
    if (!sweep_.done()) return sweep_.step(q, 256);
    if (searched_ >= roots_.size()) return false;
    const bool measured = searched_ >= warmup_roots_;
    const Phase ph = measured ? Phase::Measured : Phase::Warmup;
    if (stage_ == Stage::Reset) {  // parent[] = -1, a sequential store stream
      q.mode(ph, 8, 0.3f);
      for (uint64_t end = std::min<uint64_t>(g_.n, reset_at_ + 16384); reset_at_ < end;
           ++reset_at_) {
        parent_[reset_at_] = kNoVertex;
        q.push(parent_va_ + reset_at_ * 4, kWrite);
      }
      if (reset_at_ == g_.n) stage_ = Stage::Search;
      const uint32_t root = roots_[searched_];
      if (stage_ == Stage::Search) {
        sync(q);  // the reset is a parallel loop: every vCPU ends it before the search
        parent_[root] = root;
        q.push(parent_va_ + uint64_t{root} * 4, kWrite);
        queue_[0] = root;
        q.push(queue_va_, kWrite);
        head_ = 0;
        tail_ = 1;
        level_end_ = 1;
      }
      return true;
    }
    q.mode(ph, static_cast<uint8_t>(mlp_), static_cast<float>(compute_ns_));
    for (int k = 0; k < 64 && head_ < tail_; ++k) {
      if (head_ == level_end_) {  // the next level: after every vCPU's part of this one
        sync(q);
        level_end_ = tail_;
      }
      const uint32_t u = queue_[head_];
      q.push(queue_va_ + head_ * 4, kRead);
      ++head_;
      q.push(offsets_va_ + uint64_t{u} * 8, kRead);
      q.push(offsets_va_ + uint64_t{u + 1} * 8, kRead);
      const uint64_t b = g_.offsets[u], e = g_.offsets[u + 1];
      for (uint64_t j = b; j < e; ++j) {
        const uint32_t x = g_.adj[j];
        q.push(adj_va_ + j * 4, kRead);
        q.push(parent_va_ + uint64_t{x} * 4, kRead);
        if (parent_[x] == kNoVertex) {
          parent_[x] = u;
          q.push(parent_va_ + uint64_t{x} * 4, kWrite);
          queue_[tail_] = x;
          q.push(queue_va_ + tail_ * 4, kWrite);
          ++tail_;
        }
      }
      if (measured) traversed_ += e - b;
    }
    if (head_ == tail_) {  // search done: validate it now, its parent array is reused
      const std::string err = workloads::check_bfs_tree(edges_, g_.n, roots_[searched_], parent_);
      if (!err.empty() && failure_.empty())
        failure_ = "root " + std::to_string(roots_[searched_]) + ": " + err;
      ++searched_;
      stage_ = Stage::Reset;
      reset_at_ = 0;
      sync(q);  // the next search's reset starts once this search has ended everywhere
    }
    return true;
  }

 private:
  enum class Stage { Reset, Search };

  workloads::KronSpec spec_;
  uint64_t seed_;
  uint32_t roots_count_ = 0;
  uint32_t warmup_roots_, mlp_;
  double compute_ns_;
  VaLayout layout_;
  uint64_t offsets_va_, adj_va_, parent_va_, queue_va_;

  workloads::EdgeList edges_;
  workloads::Csr g_;
  std::vector<uint32_t> roots_, parent_, queue_;
  workloads::RegionSweep sweep_;
  Stage stage_ = Stage::Reset;
  uint64_t reset_at_ = 0, head_ = 0, tail_ = 0, level_end_ = 0, traversed_ = 0;
  size_t searched_ = 0;
  std::string failure_;
};

VTMM_REGISTER(WorkloadRegistry, Graph500Bfs, "graph500-bfs",
              "Graph500 top-down BFS over a Kronecker graph (CSR), Graph500 validation")

}  // namespace
}  // namespace vtmm
