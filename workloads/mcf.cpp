// mcf: a pointer-chasing network-simplex solver in the style of SPEC
// CPU2006 429.mcf / CPU2017 505.mcf (Loebel's MCF: primal network simplex
// with block pricing over a single arc array, nodes linked into a spanning
// tree by pred/child/sibling pointers).
//
// Problem: a random uncapacitated min-cost flow network. `nodes` nodes,
// `arcs_per_node` arcs out of each (random heads, costs uniform in
// [1, 1000]), nodes / 4 random supply-demand pairs of 1-100 units. The
// initial basis is mcf's: an artificial root with one big-M arc to or from
// every node carrying its supply.
// Pivot: price a block of `block` arcs (from where the last block ended,
// cyclically, until one has a negative reduced cost) and pick the most
// negative; walk the two tree paths up to their join (pred and depth) to find
// the leaving arc; push the flow around the cycle; re-hang the cut subtree
// under the entering arc (reversing pred pointers, relinking child and
// sibling lists); shift the potentials of that subtree by walking it through
// its child/sibling pointers. Every `refresh_every` pivots the potentials
// of the whole tree are recomputed from the root (mcf's refresh_potential).
//
// Simulated memory: the node array (64 B per node) and the arc array
// (64 B per arc, real arcs sorted by tail, then the artificial arcs), one
// cache line per struct.
// Phases: setup builds the network on the host (one write per page);
// `warmup_pivots` pivots are the warm-up, `pivots` are measured (fewer if
// the basis becomes optimal first). ops = arcs priced. The solver is
// sequential: with several vCPUs, vCPU 0 runs it and the others only take
// part in setup.
//
// Check, independent of the solver's own bookkeeping: the basis is a
// spanning tree (pred pointers reach the root, depths consistent, child
// lists hold exactly the pred relation); every tree arc joins a node and its
// pred and has zero reduced cost; non-tree arcs carry no flow; flows are
// non-negative and conserve every node's supply; the total cost equals the
// initial cost plus the sum of each pivot's reduced cost times its flow.
#include <algorithm>
#include <string>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"

namespace vtmm {
namespace {

using workloads::AccessQueue;
constexpr uint32_t kNil = UINT32_MAX;

struct alignas(64) Node {  // mcf's node_t has the same links plus a few fields more
  int64_t potential;
  int64_t supply;
  uint32_t pred, child, sibling, sibling_prev;
  uint32_t basic_arc, depth;
  uint32_t firstout, firstin;
};
static_assert(sizeof(Node) == 64);

struct alignas(64) Arc {  // mcf's arc_t: cost, tail, head, ident, nextout, nextin, flow, org_cost
  int64_t cost;
  int64_t flow;
  uint32_t tail, head;
  uint32_t nextout, nextin;
  uint32_t basic;
};
static_assert(sizeof(Arc) == 64);

class Mcf final : public workloads::SteppedWorkload, public workloads::TestCorruptible {
 public:
  Mcf(Params& p, const WorkloadEnv& env) : SteppedWorkload(env.vcpus), seed_(env.seed) {
    // Quick size: ~300 MiB, in the range of 429.mcf's ref input (~860 MB peak).
    nodes_ = p.get<uint32_t>("nodes", 1u << 19);
    arcs_per_node_ =
        p.get<uint32_t>("arcs_per_node", 8);  // assumed: a sparse network, as mcf's timetables
    block_ = p.get<uint32_t>("block",
                             1024);  // assumed: partial-pricing block of the order of mcf's groups
    refresh_every_ = p.get<uint32_t>("refresh_every", 1000);  // assumed
    warmup_pivots_ = p.get_count("warmup_pivots", 2000);
    pivots_ = p.get_count("pivots", 20000);
    // Tree walks are dependent chains (the next node is a field of this one): mlp 1.
    tree_mlp_ = p.get<uint32_t>("tree_mlp", 1);
    // Pricing: each arc's node loads depend on the arc's load but not on the
    // previous arc, and the "dual infeasible?" branch is mostly not taken,
    // so a few iterations overlap: mlp 4 assumed (set 1 for a fully
    // latency-bound model).
    pricing_mlp_ = p.get<uint32_t>("pricing_mlp", 4);
    // Assumed: a handful of integer ops and a branch per reported access, ~3 cycles.
    compute_ns_ = p.get<double>("compute_ns", 1.5);
    if (nodes_ < 4 || nodes_ > (1u << 26)) p.fail("nodes", "must be between 4 and 2^26");
    if (arcs_per_node_ < 1 || arcs_per_node_ > 64)
      p.fail("arcs_per_node", "must be between 1 and 64");
    if (block_ < 1) p.fail("block", "must be at least 1");
    if (refresh_every_ < 1) p.fail("refresh_every", "must be at least 1");
    if (pivots_ < 1) p.fail("pivots", "must be at least 1");
    if (tree_mlp_ < 1 || tree_mlp_ > 64) p.fail("tree_mlp", "must be between 1 and 64");
    if (pricing_mlp_ < 1 || pricing_mlp_ > 64) p.fail("pricing_mlp", "must be between 1 and 64");
    if (!(compute_ns_ >= 0)) p.fail("compute_ns", "must not be negative");
    narcs_ = uint64_t{nodes_} * arcs_per_node_ + nodes_;
    node_va_ = layout_.alloc((uint64_t{nodes_} + 1) * sizeof(Node));
    arc_va_ = layout_.alloc(narcs_ * sizeof(Arc));
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return priced_; }
  std::string op_name() const override { return "arc"; }

  void verify() const override {
    if (!failure_.empty()) throw VerifyError("mcf: " + failure_);
    if (done_pivots_ == 0) throw VerifyError("mcf: no pivot ran");
    const uint32_t root = nodes_;
    const uint64_t nn = uint64_t{nodes_} + 1;
    if (node_[root].pred != kNil || node_[root].depth != 0)
      throw VerifyError("mcf: root is not the tree's root");
    std::vector<uint64_t> children(nn, 0), listed(nn, 0);
    std::vector<uint8_t> tree_arc(narcs_, 0);
    for (uint64_t x = 0; x < nodes_; ++x) {
      const Node& v = node_[x];
      if (v.pred >= nn || node_[v.pred].depth + 1 != v.depth)
        throw VerifyError("mcf: pred/depth do not form a tree");
      const Arc& a = arc_[v.basic_arc];
      if (!((a.tail == x && a.head == v.pred) || (a.head == x && a.tail == v.pred)))
        throw VerifyError("mcf: a tree arc does not join a node and its pred");
      if (a.cost + node_[a.tail].potential - node_[a.head].potential != 0)
        throw VerifyError("mcf: a tree arc has a non-zero reduced cost");
      tree_arc[v.basic_arc] = 1;
      ++children[v.pred];
    }
    for (uint64_t x = 0; x < nn; ++x)
      for (uint32_t c = node_[x].child; c != kNil; c = node_[c].sibling) {
        if (node_[c].pred != x || ++listed[x] > children[x])
          throw VerifyError("mcf: child lists disagree with pred");
      }
    if (listed != children) throw VerifyError("mcf: child lists disagree with pred");
    std::vector<int64_t> net(nn, 0);
    int64_t cost = 0;
    for (uint64_t k = 0; k < narcs_; ++k) {
      const Arc& a = arc_[k];
      if (a.flow < 0) throw VerifyError("mcf: negative flow");
      if (a.flow != 0 && !tree_arc[k]) throw VerifyError("mcf: flow on a non-tree arc");
      if ((a.basic != 0) != (tree_arc[k] != 0))
        throw VerifyError("mcf: arc basis flags disagree with the tree");
      net[a.tail] += a.flow;
      net[a.head] -= a.flow;
      cost += a.cost * a.flow;
    }
    for (uint64_t x = 0; x < nodes_; ++x)
      if (net[x] != supply_[x])
        throw VerifyError("mcf: flow is not conserved at node " + std::to_string(x));
    if (net[root] != 0) throw VerifyError("mcf: flow is not conserved at the root");
    if (cost != initial_cost_ + cost_change_)
      throw VerifyError("mcf: total cost does not match the pivots' gains");
  }

  void corrupt_for_test() override { node_[0].potential += 1; }

 protected:
  void build() override {
    const uint32_t n = nodes_, root = nodes_;
    Rng rng(seed_ * 0x9e3779b97f4a7c15ULL + 0x6d6366ULL);
    node_.assign(uint64_t{n} + 1, Node{});
    arc_.assign(narcs_, Arc{});
    supply_.assign(n, 0);
    for (uint32_t i = 0; i < n / 4; ++i) {
      const uint64_t s = rng.below(n), t = rng.below(n);
      if (s == t) continue;
      const int64_t amount = 1 + static_cast<int64_t>(rng.below(100));
      supply_[s] += amount;
      supply_[t] -= amount;
    }
    std::vector<uint32_t> lastin(uint64_t{n} + 1, kNil);
    const auto link_in = [&](uint32_t k) {
      const uint32_t h = arc_[k].head;
      if (lastin[h] == kNil)
        node_[h].firstin = k;
      else
        arc_[lastin[h]].nextin = k;
      lastin[h] = k;
    };
    for (uint64_t x = 0; x <= n; ++x) node_[x].firstin = node_[x].firstout = kNil;
    uint32_t k = 0;
    for (uint32_t u = 0; u < n; ++u) {
      node_[u].firstout = k;
      for (uint32_t j = 0; j < arcs_per_node_; ++j, ++k) {
        uint32_t h = static_cast<uint32_t>(rng.below(n - 1));
        if (h >= u) ++h;  // no self-loops
        arc_[k] = Arc{1 + static_cast<int64_t>(rng.below(1000)), 0,    u, h,
                      j + 1 < arcs_per_node_ ? k + 1 : kNil,     kNil, 0};
        link_in(k);
      }
    }
    // The artificial basis: node v hangs under the root by a big-M arc carrying its supply.
    node_[root] = Node{0, 0, kNil, n > 0 ? 0u : kNil, kNil, kNil, kNil, 0, kNil, kNil};
    for (uint32_t v = 0; v < n; ++v, ++k) {
      const bool out = supply_[v] >= 0;
      arc_[k] =
          Arc{kBigM, out ? supply_[v] : -supply_[v], out ? v : root, out ? root : v, kNil, kNil, 1};
      link_in(k);
      Node& x = node_[v];
      x.potential = out ? -kBigM : kBigM;
      x.supply = supply_[v];
      x.pred = root;
      x.child = kNil;
      x.sibling = v + 1 < n ? v + 1 : kNil;
      x.sibling_prev = v > 0 ? v - 1 : kNil;
      x.basic_arc = k;
      x.depth = 1;
    }
    initial_cost_ = 0;
    for (const Arc& a : arc_) initial_cost_ += a.cost * a.flow;
    sweep_.add(node_va_, node_.size() * sizeof(Node));
    sweep_.add(arc_va_, arc_.size() * sizeof(Arc));
  }

  bool step(uint32_t v, AccessQueue& q) override {
    if (!sweep_.done()) return sweep_.step(q, 256);
    if (v != 0 || optimal_ || done_pivots_ >= warmup_pivots_ + pivots_) return false;
    const bool measured = done_pivots_ >= warmup_pivots_;
    ph_ = measured ? Phase::Measured : Phase::Warmup;
    // Pricing.
    q.mode(ph_, static_cast<uint8_t>(pricing_mlp_), static_cast<float>(compute_ns_));
    uint64_t best = narcs_, scanned = 0;
    int64_t best_rc = 0;
    while (best == narcs_ && scanned < narcs_) {
      for (uint64_t i = 0; i < block_ && scanned < narcs_; ++i, ++scanned) {
        const Arc& a = arc_[price_at_];
        q.push(arc_addr(price_at_), kRead);
        if (!a.basic) {
          q.push(node_addr(a.tail), kRead);
          q.push(node_addr(a.head), kRead);
          const int64_t rc = a.cost + node_[a.tail].potential - node_[a.head].potential;
          if (rc < best_rc) {
            best_rc = rc;
            best = price_at_;
          }
        }
        if (++price_at_ == narcs_) price_at_ = 0;
      }
    }
    if (measured) priced_ += scanned;
    if (best == narcs_) {  // no arc prices out: the basis is optimal
      optimal_ = true;
      return true;
    }
    pivot(q, static_cast<uint32_t>(best), best_rc);
    ++done_pivots_;
    if (done_pivots_ % refresh_every_ == 0) refresh_potentials(q);
    return true;
  }

 private:
  // Big enough to make every artificial arc unattractive. Costs stay within
  // int64: |flow| <= 100 * nodes / 4 and potentials within a path of costs,
  // so the total cost stays below 4e18 even at 2^26 nodes.
  static constexpr int64_t kBigM = 1'000'000'000;
  uint64_t node_addr(uint64_t x) const { return node_va_ + x * sizeof(Node); }
  uint64_t arc_addr(uint64_t k) const { return arc_va_ + k * sizeof(Arc); }

  // One step of a tree path up from x: does the cycle's flow (which runs
  // x -> pred on the `up` side, pred -> x on the other) shrink x's tree arc?
  bool shrinks(uint32_t x, bool up) const {
    const Arc& a = arc_[node_[x].basic_arc];
    return up ? a.tail != x : a.tail == x;
  }

  void pivot(AccessQueue& q, uint32_t e, int64_t rc) {
    q.mode(ph_, static_cast<uint8_t>(tree_mlp_), static_cast<float>(compute_ns_));
    const uint32_t k = arc_[e].tail, l = arc_[e].head;
    // Flow goes k -> l over e, then back along the tree from l to k: up from
    // l to the join (x -> pred), down from the join to k (pred -> x).
    int64_t theta = INT64_MAX;
    uint32_t leave = kNil;
    bool leave_on_l = false;
    uint32_t a = l, b = k;
    q.push(node_addr(a), kRead);
    q.push(node_addr(b), kRead);
    const auto climb = [&](uint32_t& x, bool l_side) {
      q.push(arc_addr(node_[x].basic_arc), kRead);
      if (shrinks(x, l_side)) {
        const int64_t f = arc_[node_[x].basic_arc].flow;
        if (f < theta || (f == theta && l_side)) {
          theta = f;
          leave = x;
          leave_on_l = l_side;
        }
      }
      x = node_[x].pred;
      q.push(node_addr(x), kRead);
    };
    while (a != b) {
      if (node_[a].depth >= node_[b].depth)
        climb(a, true);
      else
        climb(b, false);
    }
    const uint32_t join = a;
    if (leave == kNil) {  // impossible with positive costs: the cycle would be a negative one
      failure_ = "a pivot found no leaving arc";
      optimal_ = true;
      return;
    }
    if (theta > 0) {  // push theta around the cycle
      arc_[e].flow += theta;
      q.push(arc_addr(e), kReadWrite);
      for (int side = 0; side < 2; ++side)
        for (uint32_t x = side == 0 ? l : k; x != join; x = node_[x].pred) {
          q.push(node_addr(x), kRead);
          Arc& t = arc_[node_[x].basic_arc];
          t.flow += shrinks(x, side == 0) ? -theta : theta;
          q.push(arc_addr(node_[x].basic_arc), kReadWrite);
        }
      cost_change_ += rc * theta;
    }
    // Swap the arcs in the basis and re-hang the cut subtree under e.
    const uint32_t leaving_arc = node_[leave].basic_arc;
    arc_[leaving_arc].basic = 0;
    q.push(arc_addr(leaving_arc), kReadWrite);
    arc_[e].basic = 1;
    q.push(arc_addr(e), kReadWrite);
    const uint32_t s = leave_on_l ? l : k, t = leave_on_l ? k : l;
    uint32_t x = s, new_pred = t, new_arc = e;
    for (;;) {
      const uint32_t old_pred = node_[x].pred, old_arc = node_[x].basic_arc;
      unlink(q, x);
      link(q, x, new_pred);
      node_[x].basic_arc = new_arc;
      q.push(node_addr(x), kWrite);
      if (x == leave) break;
      new_pred = x;
      new_arc = old_arc;
      x = old_pred;
    }
    // Shift the subtree's potentials so e's reduced cost becomes zero; fix depths.
    const int64_t delta = leave_on_l ? rc : -rc;
    q.push(node_addr(t), kRead);
    walk_subtree(q, s, node_[t].depth + 1, [&](uint32_t y) { node_[y].potential += delta; });
  }

  void unlink(AccessQueue& q, uint32_t x) {
    Node& v = node_[x];
    if (v.sibling_prev != kNil) {
      node_[v.sibling_prev].sibling = v.sibling;
      q.push(node_addr(v.sibling_prev), kWrite);
    } else {
      node_[v.pred].child = v.sibling;
      q.push(node_addr(v.pred), kWrite);
    }
    if (v.sibling != kNil) {
      node_[v.sibling].sibling_prev = v.sibling_prev;
      q.push(node_addr(v.sibling), kWrite);
    }
  }
  void link(AccessQueue& q, uint32_t x, uint32_t parent) {
    Node& v = node_[x];
    Node& p = node_[parent];
    q.push(node_addr(parent), kReadWrite);
    v.sibling = p.child;
    v.sibling_prev = kNil;
    if (p.child != kNil) {
      node_[p.child].sibling_prev = x;
      q.push(node_addr(p.child), kWrite);
    }
    p.child = x;
    v.pred = parent;
  }

  // Visits s's subtree in preorder through child/sibling/pred pointers,
  // setting depths from depth_s; f(y) updates node y.
  template <class F>
  void walk_subtree(AccessQueue& q, uint32_t s, uint32_t depth_s, F&& f) {
    uint32_t x = s, d = depth_s;
    for (;;) {
      node_[x].depth = d;
      f(x);
      q.push(node_addr(x), kReadWrite);
      if (node_[x].child != kNil) {
        x = node_[x].child;
        ++d;
        continue;
      }
      while (x != s && node_[x].sibling == kNil) {
        x = node_[x].pred;
        --d;
        q.push(node_addr(x), kRead);
      }
      if (x == s) return;
      x = node_[x].sibling;
    }
  }

  // mcf's refresh_potential: potentials recomputed from the root down.
  void refresh_potentials(AccessQueue& q) {
    q.mode(ph_, static_cast<uint8_t>(tree_mlp_), static_cast<float>(compute_ns_));
    walk_subtree(q, nodes_, 0, [&](uint32_t y) {
      if (y == nodes_) return;
      const Node& v = node_[y];
      const Arc& a = arc_[v.basic_arc];
      q.push(arc_addr(v.basic_arc), kRead);
      q.push(node_addr(v.pred), kRead);
      const int64_t pi =
          a.tail == y ? node_[v.pred].potential - a.cost : node_[v.pred].potential + a.cost;
      if (pi != v.potential && failure_.empty())
        failure_ = "refresh found a potential the pivots got wrong";
      node_[y].potential = pi;
    });
  }

  uint64_t seed_;
  uint32_t nodes_, arcs_per_node_, block_, refresh_every_, tree_mlp_, pricing_mlp_;
  uint64_t warmup_pivots_, pivots_, narcs_;
  double compute_ns_;
  VaLayout layout_;
  uint64_t node_va_, arc_va_;

  std::vector<Node> node_;
  std::vector<Arc> arc_;
  std::vector<int64_t> supply_;  // the problem's copy, for the check
  workloads::RegionSweep sweep_;
  Phase ph_ = Phase::Warmup;
  uint64_t price_at_ = 0, done_pivots_ = 0, priced_ = 0;
  int64_t initial_cost_ = 0, cost_change_ = 0;
  bool optimal_ = false;
  std::string failure_;
};

VTMM_REGISTER(
    WorkloadRegistry, Mcf, "mcf",
    "mcf-like network simplex: block pricing over an arc array, spanning-tree pointer chasing")

}  // namespace
}  // namespace vtmm
