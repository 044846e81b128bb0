// liblinear: L2-regularized logistic regression trained by dual coordinate
// descent, as LIBLINEAR's -s 7 solver (solve_l2r_lr_dual; Yu, Huang & Lin,
// "Dual coordinate descent methods for logistic regression and maximum
// entropy models", MLJ 2011), on a generated sparse dataset.
//
// Data: `rows` instances with `nnz_per_row` distinct features each, feature
// ranks drawn log-uniformly (frequency ~ 1/rank, a power law as in text
// data) and scattered over the `features` ids by a seeded permutation;
// values uniform in (0, 1]; labels the sign of a hidden weight vector's
// score, flipped with probability 0.1. Stored as LIBLINEAR does: an array
// of feature_node {int index; double value} (16 B) per row ending with an
// index -1 node, plus y, xTx, alpha (two per row) and w (8 B each).
//
// Each epoch visits the rows in a fresh random order (LIBLINEAR's shuffle):
// read the row's y, xTx and alphas (random rows: mlp 4), stream its nodes
// (mlp 8) gathering w at their indices (random: mlp 4) for w.x, solve the
// one-variable sub-problem by LIBLINEAR's Newton iterations, then stream
// the nodes again updating w at the indices, and store the alphas.
// Phases: setup builds the data on the host (one write per page);
// warmup_epochs then `epochs` measured. The solver is sequential: vCPU 0
// runs it, the others only take part in setup.
// Check: the dual objective (LIBLINEAR's, computed on the host after every
// epoch) never increases and ends below its initial value; the final w's
// checksum equals that of an independent plain re-run of the training on
// the host from the same seed. ops = nonzeros processed (each counted once
// per row visit).
#include <algorithm>
#include <cmath>
#include <string>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"

namespace vtmm {
namespace {

using workloads::AccessQueue;

struct FeatureNode {  // LIBLINEAR's feature_node
  int32_t index;
  double value;
};
static_assert(sizeof(FeatureNode) == 16);

struct Data {
  uint64_t rows = 0, features = 0;
  std::vector<uint64_t> start;  // node offset of each row; rows + 1 entries
  std::vector<FeatureNode> nodes;
  std::vector<double> y, xtx;
};

Data generate(uint64_t rows, uint64_t features, uint32_t nnz, uint64_t seed) {
  Data d;
  d.rows = rows;
  d.features = features;
  Rng rng(seed ^ 0x6c69626c696eULL);
  std::vector<uint32_t> perm(features);
  for (uint64_t i = 0; i < features; ++i) perm[i] = static_cast<uint32_t>(i);
  for (uint64_t i = features - 1; i > 0; --i) std::swap(perm[i], perm[rng.below(i + 1)]);
  std::vector<double> hidden(features);
  for (auto& h : hidden) h = rng.uniform() * 2 - 1;
  d.start.reserve(rows + 1);
  d.nodes.reserve(rows * (nnz + 1));
  std::vector<int32_t> row;
  const double lnf = std::log(static_cast<double>(features));
  for (uint64_t r = 0; r < rows; ++r) {
    d.start.push_back(d.nodes.size());
    row.clear();
    while (row.size() < nnz) {
      const uint64_t rank = std::min<uint64_t>(
          features - 1, static_cast<uint64_t>(std::exp(rng.uniform() * lnf)) - 1);
      const int32_t f = static_cast<int32_t>(perm[rank]) + 1;  // LIBLINEAR indices are 1-based
      if (std::find(row.begin(), row.end(), f) == row.end()) row.push_back(f);
    }
    std::sort(row.begin(), row.end());
    double score = 0, sq = 0;
    for (int32_t f : row) {
      const double v = 1.0 - rng.uniform();
      d.nodes.push_back(FeatureNode{f, v});
      score += hidden[static_cast<uint64_t>(f - 1)] * v;
      sq += v * v;
    }
    d.nodes.push_back(FeatureNode{-1, 0});
    double y = score >= 0 ? 1 : -1;
    if (rng.uniform() < 0.1) y = -y;
    d.y.push_back(y);
    d.xtx.push_back(sq);
  }
  d.start.push_back(d.nodes.size());
  return d;
}

// LIBLINEAR's dual objective (up to its constant): 0.5 w.w + sum of
// alpha log alpha over both alphas of every row.
double dual_objective(const std::vector<double>& w, const std::vector<double>& alpha) {
  double v = 0;
  for (double x : w) v += x * x;
  v *= 0.5;
  for (double a : alpha) v += a * std::log(a);
  return v;
}

constexpr int kMaxInner = 100;      // LIBLINEAR's max_inner_iter
constexpr double kInnerEps = 1e-2;  // LIBLINEAR's initial innereps

// The one-variable Newton solve of solve_l2r_lr_dual. Returns the step
// factor for w (0 if alpha did not move).
double newton(double a, double b, double c, double* alpha, double& innereps,
              double& delta_alpha_sign) {
  int sign = 1;
  double* a1 = &alpha[0];
  double* a2 = &alpha[1];
  if (0.5 * a * (*a2 - *a1) + b < 0) {
    std::swap(a1, a2);
    sign = -1;
  }
  const double alpha_old = *a1;
  double z = alpha_old;
  if (c - z < 0.5 * c) z = 0.1 * z;
  double gp = a * (z - alpha_old) + sign * b + std::log(z / (c - z));
  int inner = 0;
  while (inner <= kMaxInner) {
    if (std::fabs(gp) < innereps) break;
    const double gpp = a + c / (c - z) / z;
    const double tmpz = z - gp / gpp;
    if (tmpz <= 0)
      z *= 0.1;
    else
      z = tmpz;
    gp = a * (z - alpha_old) + sign * b + std::log(z / (c - z));
    ++inner;
  }
  delta_alpha_sign = sign;
  if (inner == 0) return 0;
  *a1 = z;
  *a2 = c - z;
  return sign * (z - alpha_old);
}

class Liblinear final : public workloads::SteppedWorkload, public workloads::TestCorruptible {
 public:
  Liblinear(Params& p, const WorkloadEnv& env) : SteppedWorkload(env.vcpus), seed_(env.seed) {
    // Quick scale: ~100 MiB of nodes (the url / kdd datasets LIBLINEAR is
    // benchmarked on run to GiBs).
    rows_ = p.get_count("rows", 200'000);
    features_ = p.get_count("features", uint64_t{1} << 20);
    nnz_ = p.get<uint32_t>("nnz_per_row", 32);  // a short text document's distinct terms
    epochs_ = p.get<uint32_t>("epochs", 2);
    warmup_epochs_ = p.get<uint32_t>("warmup_epochs", 1);
    c_ = p.get<double>("C", 1.0);  // LIBLINEAR's default -c
    // Assumed: a multiply-add and a bounds check per node, ~1.5 ns per access.
    compute_ns_ = p.get<double>("compute_ns", 1.5);
    if (rows_ < 2 || rows_ > (uint64_t{1} << 30)) p.fail("rows", "must be between 2 and 2^30");
    if (features_ < 4 || features_ > (uint64_t{1} << 30))
      p.fail("features", "must be between 4 and 2^30");
    if (nnz_ < 1 || nnz_ > features_ / 2)
      p.fail("nnz_per_row", "must be between 1 and features / 2");
    if (epochs_ < 1 || epochs_ > 10000)
      p.fail("epochs", "must be between 1 and 10000");  // as pagerank's iterations
    if (warmup_epochs_ > 10000) p.fail("warmup_epochs", "must be at most 10000");
    if (!(c_ > 0)) p.fail("C", "must be positive");
    if (!(compute_ns_ >= 0)) p.fail("compute_ns", "must not be negative");
    nodes_va_ = layout_.alloc(rows_ * (nnz_ + 1) * sizeof(FeatureNode));
    start_va_ = layout_.alloc((rows_ + 1) * 8);
    y_va_ = layout_.alloc(rows_ * 8);
    xtx_va_ = layout_.alloc(rows_ * 8);
    alpha_va_ = layout_.alloc(rows_ * 16);
    index_va_ = layout_.alloc(rows_ * 4);
    w_va_ = layout_.alloc(features_ * 8);
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return measured_; }
  std::string op_name() const override { return "nonzero"; }

  void verify() const override {
    if (epoch_ != warmup_epochs_ + epochs_ || objective_.size() != epoch_ + 1u)
      throw VerifyError("liblinear: not every epoch ran");
    for (size_t k = 1; k < objective_.size(); ++k)
      if (objective_[k] > objective_[k - 1] + 1e-9 * std::fabs(objective_[k - 1]))
        throw VerifyError("liblinear: the dual objective rose in epoch " + std::to_string(k));
    if (!(objective_.back() < objective_.front()))
      throw VerifyError("liblinear: the dual objective did not decrease");
    const double ref = reference_checksum();
    if (std::fabs(checksum(w_) - ref) > 1e-9 * (1 + std::fabs(ref)))
      throw VerifyError("liblinear: w differs from an independent re-run of the training");
  }

  void corrupt_for_test() override { w_[static_cast<uint64_t>(data_.nodes[0].index - 1)] += 0.5; }

 protected:
  void build() override {
    data_ = generate(rows_, features_, nnz_, seed_);
    init(alpha_, w_);
    objective_.push_back(dual_objective(w_, alpha_));
    order_.resize(rows_);
    for (uint64_t i = 0; i < rows_; ++i) order_[i] = static_cast<uint32_t>(i);
    rng_ = Rng(seed_ ^ 0x73687566ULL);
    sweep_.add(nodes_va_, data_.nodes.size() * sizeof(FeatureNode));
    sweep_.add(start_va_, (rows_ + 1) * 8);
    sweep_.add(y_va_, rows_ * 8);
    sweep_.add(xtx_va_, rows_ * 8);
    sweep_.add(alpha_va_, rows_ * 16);
    sweep_.add(index_va_, rows_ * 4);
    sweep_.add(w_va_, features_ * 8);
  }

  bool step(uint32_t v, AccessQueue& q) override {
    if (!sweep_.done()) return sweep_.step(q, 256);
    if (v != 0 || epoch_ >= warmup_epochs_ + epochs_) return false;
    const bool measured = epoch_ >= warmup_epochs_;
    const Phase ph = measured ? Phase::Measured : Phase::Warmup;
    if (s_ == 0) shuffle(rng_, order_);  // a new epoch's order
    const float c = static_cast<float>(compute_ns_);
    for (int k = 0; k < 16 && s_ < rows_; ++k, ++s_) {
      const uint64_t i = order_[s_];
      q.mode(ph, 8, c);
      q.push(index_va_ + s_ * 4, kRead);
      q.mode(ph, 4, c);
      q.push(y_va_ + i * 8, kRead);
      q.push(xtx_va_ + i * 8, kRead);
      q.push(alpha_va_ + i * 16, kRead);
      q.push(start_va_ + i * 8, kRead);
      const uint64_t b = data_.start[i], e = data_.start[i + 1];
      double ywtx = 0;
      for (uint64_t j = b; j < e; ++j) {  // w.x, the terminator included
        q.mode(ph, 8, c);
        q.push(nodes_va_ + j * sizeof(FeatureNode), kRead);
        if (data_.nodes[j].index < 0) break;
        const uint64_t f = static_cast<uint64_t>(data_.nodes[j].index - 1);
        q.mode(ph, 4, c);
        q.push(w_va_ + f * 8, kRead);
        ywtx += w_[f] * data_.nodes[j].value;
      }
      ywtx *= data_.y[i];
      double sign;
      const double delta = newton(data_.xtx[i], ywtx, c_, &alpha_[2 * i], innereps_, sign);
      if (delta != 0) {
        const double d = delta * data_.y[i];
        for (uint64_t j = b; j + 1 < e; ++j) {
          q.mode(ph, 8, c);
          q.push(nodes_va_ + j * sizeof(FeatureNode), kRead);
          const uint64_t f = static_cast<uint64_t>(data_.nodes[j].index - 1);
          q.mode(ph, 4, c);
          q.push(w_va_ + f * 8, kReadWrite);
          w_[f] += d * data_.nodes[j].value;
        }
        q.mode(ph, 4, c);
        q.push(alpha_va_ + i * 16, kWrite);
      }
      if (measured) measured_ += e - b - 1;
    }
    if (s_ == rows_) {
      objective_.push_back(dual_objective(w_, alpha_));
      s_ = 0;
      ++epoch_;
    }
    return true;
  }

 private:
  static void shuffle(Rng& rng, std::vector<uint32_t>& order) {
    for (uint64_t i = 0; i + 1 < order.size(); ++i)
      std::swap(order[i], order[i + rng.below(order.size() - i)]);
  }
  static double checksum(const std::vector<double>& w) {
    double s = 0;
    for (uint64_t f = 0; f < w.size(); ++f) s += w[f] * static_cast<double>(f % 7 + 1);
    return s;
  }
  // LIBLINEAR's initial alphas and the w they give.
  void init(std::vector<double>& alpha, std::vector<double>& w) const {
    alpha.assign(2 * rows_, 0);
    w.assign(features_, 0);
    for (uint64_t i = 0; i < rows_; ++i) {
      alpha[2 * i] = std::min(0.001 * c_, 1e-8);
      alpha[2 * i + 1] = c_ - alpha[2 * i];
      for (uint64_t j = data_.start[i]; data_.nodes[j].index >= 0; ++j)
        w[static_cast<uint64_t>(data_.nodes[j].index - 1)] +=
            data_.y[i] * alpha[2 * i] * data_.nodes[j].value;
    }
  }
  // The same training written as one plain loop over freshly generated data.
  double reference_checksum() const {
    const Data d = generate(rows_, features_, nnz_, seed_);
    std::vector<double> alpha(2 * rows_, 0), w(features_, 0);
    for (uint64_t i = 0; i < rows_; ++i) {
      alpha[2 * i] = std::min(0.001 * c_, 1e-8);
      alpha[2 * i + 1] = c_ - alpha[2 * i];
      for (const FeatureNode* x = &d.nodes[d.start[i]]; x->index != -1; ++x)
        w[static_cast<uint64_t>(x->index - 1)] += d.y[i] * alpha[2 * i] * x->value;
    }
    std::vector<uint32_t> order(rows_);
    for (uint64_t i = 0; i < rows_; ++i) order[i] = static_cast<uint32_t>(i);
    Rng rng(seed_ ^ 0x73687566ULL);
    double innereps = kInnerEps;
    for (uint32_t ep = 0; ep < warmup_epochs_ + epochs_; ++ep) {
      shuffle(rng, order);
      for (uint32_t i : order) {
        double ywtx = 0;
        for (const FeatureNode* x = &d.nodes[d.start[i]]; x->index != -1; ++x)
          ywtx += w[static_cast<uint64_t>(x->index - 1)] * x->value;
        ywtx *= d.y[i];
        double sign;
        const double delta = newton(d.xtx[i], ywtx, c_, &alpha[2 * uint64_t{i}], innereps, sign);
        if (delta == 0) continue;
        for (const FeatureNode* x = &d.nodes[d.start[i]]; x->index != -1; ++x)
          w[static_cast<uint64_t>(x->index - 1)] += delta * d.y[i] * x->value;
      }
    }
    return checksum(w);
  }

  uint64_t seed_;
  uint64_t rows_, features_;
  uint32_t nnz_, epochs_, warmup_epochs_;
  double c_, compute_ns_;
  VaLayout layout_;
  uint64_t nodes_va_, start_va_, y_va_, xtx_va_, alpha_va_, index_va_, w_va_;

  Data data_;
  std::vector<double> alpha_, w_, objective_;
  std::vector<uint32_t> order_;
  workloads::RegionSweep sweep_;
  Rng rng_{1};
  double innereps_ = kInnerEps;
  uint64_t s_ = 0, measured_ = 0;
  uint32_t epoch_ = 0;
};

VTMM_REGISTER(
    WorkloadRegistry, Liblinear, "liblinear",
    "LIBLINEAR -s 7: L2 logistic regression by dual coordinate descent on sparse power-law data")

}  // namespace
}  // namespace vtmm
