// graph500-sssp: Graph500 kernel 3, single-source shortest paths over the
// undirected Kronecker graph of graph500-bfs with Graph500's edge weights
// (uniform in [0, 1), float), by Dijkstra's algorithm with an indexed binary
// heap (decrease-key), from `roots` sampled keys. Each search is validated
// the Graph500 way against the edge list as soon as it ends.
//
// Simulated memory: offsets (8 B per vertex), adjacency (4 B per entry) and
// weights (4 B per entry, parallel arrays as in the Graph500 reference),
// dist (float), parent (4 B), the heap (8 B entries: key, vertex) and the
// heap position of each vertex (4 B). The edge list is the harness's
// validation copy and is not laid out in the simulated space.
//
// Phases: setup builds the graph on the host and reports one write per page
// of each array; `warmup_roots` searches are the warm-up, `roots` are
// measured; each search resets dist/parent/pos (sequential writes) first.
// ops = adjacency entries relaxed. Dijkstra is sequential: with several
// vCPUs, vCPU 0 runs the searches and the others only take part in setup.
#include <limits>
#include <string>

#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"
#include "workloads/kronecker.hpp"

namespace vtmm {
namespace {

using workloads::AccessQueue;
using workloads::kNoVertex;

class Graph500Sssp final : public workloads::SteppedWorkload, public workloads::TestCorruptible {
 public:
  Graph500Sssp(Params& p, const WorkloadEnv& env) : SteppedWorkload(env.vcpus), seed_(env.seed) {
    // Quick scale: 18, not 20. At 20 a run takes ~100 s of CPU
    // (600M reported accesses; Dijkstra's heap adds ~3 accesses per edge to
    // BFS's 2); 18 takes about a quarter. Graph500's smallest class is 26.
    const auto searches = workloads::Graph500Searches::read(p, env.seed, 18);
    spec_ = searches.spec;
    roots_count_ = searches.roots;
    warmup_roots_ = searches.warmup_roots;
    // Relaxing one vertex's list: the dist[] loads of its neighbours are
    // independent (addresses from the sequentially read list), each followed
    // by a compare-and-branch, as the BFS parent checks: mlp 4.
    relax_mlp_ = p.get<uint32_t>("relax_mlp", 4);
    // Heap operations are dependent chains: each sift level's compare picks
    // the next entry to load, and pos[] updates follow the moved entries: mlp 1.
    heap_mlp_ = p.get<uint32_t>("heap_mlp", 1);
    // Assumed: a float add/compare and a branch per reported access, 2-3 cycles.
    compute_ns_ = p.get<double>("compute_ns", 1.2);
    if (relax_mlp_ < 1 || relax_mlp_ > 64) p.fail("relax_mlp", "must be between 1 and 64");
    if (heap_mlp_ < 1 || heap_mlp_ > 64) p.fail("heap_mlp", "must be between 1 and 64");
    if (!(compute_ns_ >= 0)) p.fail("compute_ns", "must not be negative");
    const uint64_t n = spec_.vertices(), entries = 2 * spec_.edges();
    offsets_va_ = layout_.alloc((n + 1) * sizeof(uint64_t));
    adj_va_ = layout_.alloc(entries * sizeof(uint32_t));
    w_va_ = layout_.alloc(entries * sizeof(float));
    dist_va_ = layout_.alloc(n * sizeof(float));
    parent_va_ = layout_.alloc(n * sizeof(uint32_t));
    heap_va_ = layout_.alloc(n * sizeof(HeapEntry));
    pos_va_ = layout_.alloc(n * sizeof(uint32_t));
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return relaxed_; }
  std::string op_name() const override { return "edge"; }

  void verify() const override {
    if (!failure_.empty()) throw VerifyError("graph500-sssp: " + failure_);
    const workloads::Graph500Searches want{spec_, roots_count_, warmup_roots_};
    if (const std::string gap = want.incomplete(roots_.size(), searched_); !gap.empty())
      throw VerifyError("graph500-sssp: " + gap);
    const std::string err = workloads::check_sssp(edges_, g_.n, roots_.back(), parent_, dist_);
    if (!err.empty())
      throw VerifyError("graph500-sssp: root " + std::to_string(roots_.back()) + ": " + err);
  }

  void corrupt_for_test() override {
    // Lengthen one reached vertex's distance: its tight edges become slack.
    const uint32_t root = roots_.back();
    for (uint64_t x = 0; x < g_.n; ++x)
      if (x != root && parent_[x] != kNoVertex) {
        dist_[x] += 0.5f;
        return;
      }
  }

 protected:
  void build() override {
    edges_ = workloads::kronecker_edges(spec_, true);
    g_ = workloads::build_undirected_csr(edges_, spec_.vertices());
    roots_ = workloads::sample_roots(g_, warmup_roots_ + roots_count_, seed_);
    dist_.assign(g_.n, kInf);
    parent_.assign(g_.n, kNoVertex);
    pos_.assign(g_.n, kNoVertex);
    heap_.assign(g_.n, HeapEntry{0, 0});
    sweep_.add(offsets_va_, g_.offsets.size() * sizeof(uint64_t));
    sweep_.add(adj_va_, g_.adj.size() * sizeof(uint32_t));
    sweep_.add(w_va_, g_.w.size() * sizeof(float));
    sweep_.add(dist_va_, g_.n * sizeof(float));
    sweep_.add(parent_va_, g_.n * sizeof(uint32_t));
    sweep_.add(heap_va_, g_.n * sizeof(HeapEntry));
    sweep_.add(pos_va_, g_.n * sizeof(uint32_t));
  }

  bool step(uint32_t v, AccessQueue& q) override {
    if (!sweep_.done()) return sweep_.step(q, 256);
    if (v != 0 || searched_ >= roots_.size()) return false;
    const bool measured = searched_ >= warmup_roots_;
    const Phase ph = measured ? Phase::Measured : Phase::Warmup;
    const float c = static_cast<float>(compute_ns_);
    if (stage_ == Stage::Reset) {  // three sequential store streams
      q.mode(ph, 8, 0.3f);
      const uint64_t from = reset_at_;
      for (uint64_t end = std::min<uint64_t>(g_.n, reset_at_ + 8192); reset_at_ < end;
           ++reset_at_) {
        dist_[reset_at_] = kInf;
        parent_[reset_at_] = kNoVertex;
        pos_[reset_at_] = kNoVertex;
      }
      for (uint64_t i = from; i < reset_at_; i += 16) q.push(dist_va_ + i * 4, kWrite);
      for (uint64_t i = from; i < reset_at_; i += 16) q.push(parent_va_ + i * 4, kWrite);
      for (uint64_t i = from; i < reset_at_; i += 16) q.push(pos_va_ + i * 4, kWrite);
      if (reset_at_ == g_.n) {
        const uint32_t root = roots_[searched_];
        dist_[root] = 0;
        parent_[root] = root;
        q.push(dist_va_ + uint64_t{root} * 4, kWrite);
        q.push(parent_va_ + uint64_t{root} * 4, kWrite);
        size_ = 0;
        q.mode(ph, static_cast<uint8_t>(heap_mlp_), c);
        sift_up(q, root, 0.0f);
        stage_ = Stage::Search;
      }
      return true;
    }
    for (int k = 0; k < 16 && size_ > 0; ++k) {
      q.mode(ph, static_cast<uint8_t>(heap_mlp_), c);
      const uint32_t u = pop_min(q);
      const float du = dist_[u];
      q.mode(ph, static_cast<uint8_t>(relax_mlp_), c);
      q.push(dist_va_ + uint64_t{u} * 4, kRead);
      q.push(offsets_va_ + uint64_t{u} * 8, kRead);
      q.push(offsets_va_ + uint64_t{u + 1} * 8, kRead);
      const uint64_t b = g_.offsets[u], e = g_.offsets[u + 1];
      for (uint64_t j = b; j < e; ++j) {
        const uint32_t x = g_.adj[j];
        const float nd = du + g_.w[j];
        q.push(adj_va_ + j * 4, kRead);
        q.push(w_va_ + j * 4, kRead);
        q.push(dist_va_ + uint64_t{x} * 4, kRead);
        if (nd < dist_[x]) {
          dist_[x] = nd;
          parent_[x] = u;
          q.push(dist_va_ + uint64_t{x} * 4, kWrite);
          q.push(parent_va_ + uint64_t{x} * 4, kWrite);
          q.mode(ph, static_cast<uint8_t>(heap_mlp_), c);
          sift_up(q, x, nd);
          q.mode(ph, static_cast<uint8_t>(relax_mlp_), c);
        }
      }
      if (measured) relaxed_ += e - b;
    }
    if (size_ == 0) {  // search done: validate it now, its arrays are reused
      const std::string err =
          workloads::check_sssp(edges_, g_.n, roots_[searched_], parent_, dist_);
      if (!err.empty() && failure_.empty())
        failure_ = "root " + std::to_string(roots_[searched_]) + ": " + err;
      ++searched_;
      stage_ = Stage::Reset;
      reset_at_ = 0;
    }
    return true;
  }

 private:
  struct HeapEntry {
    float key;
    uint32_t vertex;
  };
  static constexpr float kInf = std::numeric_limits<float>::infinity();
  enum class Stage { Reset, Search };

  void put(AccessQueue& q, uint64_t i, HeapEntry e) {
    heap_[i] = e;
    q.push(heap_va_ + i * sizeof(HeapEntry), kWrite);
    pos_[e.vertex] = static_cast<uint32_t>(i);
    q.push(pos_va_ + uint64_t{e.vertex} * 4, kWrite);
  }
  // Inserts x with key `key`, or decreases its key if it is in the heap.
  void sift_up(AccessQueue& q, uint32_t x, float key) {
    q.push(pos_va_ + uint64_t{x} * 4, kRead);
    uint64_t i = pos_[x] == kNoVertex ? size_++ : pos_[x];
    while (i > 0) {
      const uint64_t up = (i - 1) / 2;
      q.push(heap_va_ + up * sizeof(HeapEntry), kRead);
      if (!(heap_[up].key > key)) break;
      put(q, i, heap_[up]);
      i = up;
    }
    put(q, i, HeapEntry{key, x});
  }
  uint32_t pop_min(AccessQueue& q) {
    q.push(heap_va_, kRead);
    const uint32_t top = heap_[0].vertex;
    pos_[top] = kNoVertex;
    q.push(pos_va_ + uint64_t{top} * 4, kWrite);
    --size_;
    if (size_ == 0) return top;
    q.push(heap_va_ + size_ * sizeof(HeapEntry), kRead);
    const HeapEntry last = heap_[size_];
    uint64_t i = 0;
    for (;;) {
      uint64_t child = 2 * i + 1;
      if (child >= size_) break;
      q.push(heap_va_ + child * sizeof(HeapEntry), kRead);
      if (child + 1 < size_) {
        q.push(heap_va_ + (child + 1) * sizeof(HeapEntry), kRead);
        if (heap_[child + 1].key < heap_[child].key) ++child;
      }
      if (!(heap_[child].key < last.key)) break;
      put(q, i, heap_[child]);
      i = child;
    }
    put(q, i, last);
    return top;
  }

  workloads::KronSpec spec_;
  uint64_t seed_;
  uint32_t roots_count_, warmup_roots_, relax_mlp_, heap_mlp_;
  double compute_ns_;
  VaLayout layout_;
  uint64_t offsets_va_, adj_va_, w_va_, dist_va_, parent_va_, heap_va_, pos_va_;

  workloads::EdgeList edges_;
  workloads::Csr g_;
  std::vector<uint32_t> roots_, parent_, pos_;
  std::vector<float> dist_;
  std::vector<HeapEntry> heap_;
  uint64_t size_ = 0;
  workloads::RegionSweep sweep_;
  Stage stage_ = Stage::Reset;
  uint64_t reset_at_ = 0, relaxed_ = 0;
  size_t searched_ = 0;
  std::string failure_;
};

VTMM_REGISTER(
    WorkloadRegistry, Graph500Sssp, "graph500-sssp",
    "Graph500 SSSP (Dijkstra, binary heap) over a weighted Kronecker graph, Graph500 validation")

}  // namespace
}  // namespace vtmm
