// xsbench: XSBench's event-based macroscopic cross-section lookups over a
// unionized energy grid (Tramm et al., PHYSOR 2014; the reference is
// ANL-CESAR/XSBench, openmp-threading: GridInit.c, Materials.c,
// Simulation.c, unionized grid type).
//
// Data: n_isotopes nuclide grids of n_gridpoints points each (energy and five
// cross sections, 48 B per point, energies uniform in [0, 1) and sorted per
// nuclide, cross sections uniform); the unionized energy grid (every
// nuclide's energies, sorted: 8 B each) with its index grid (for each union
// point and nuclide, the nuclide's grid point at or below it, 4 B each, as
// XSBench's generate_grids fills it). Materials: XSBench's 12 with its
// nuclide counts for the "small" problem (34, 5, 4, 4, 27, 21 x5, 9, 9);
// which nuclides each holds and their concentrations are drawn from the
// seed (XSBench lists fixed ones).
//
// Lookup: a random energy in [0, 1) and a material by XSBench's pick_mat
// distribution (including its cumulative sum, which skips the fuel's own
// probability); binary search of the union grid (dependent: mlp 1); then for
// each nuclide of the material its index-grid entry and the two bracketing
// grid points (independent across nuclides: `mlp`), interpolated and
// accumulated into five macroscopic cross sections weighted by
// concentration.
//
// Simulated memory: the nuclide grids, the union energies and the index
// grid (the material tables are a few hundred bytes, always cached).
// Phases: setup builds the grids on the host (one write per page);
// warmup_lookups then `lookups` measured. Lookups are dealt to vCPUs as
// they ask (XSBench's OpenMP loop).
// Check: a hash of every lookup's five results (bit-exact) and the index of
// its largest one, summed over lookups keyed by lookup number, must equal
// the hash computed in verify() by an independent implementation that
// regenerates the same lookups and searches each nuclide's own grid
// (XSBench's "nuclide grid" method) instead of the unionized one.
// ops = lookups.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"

namespace vtmm {
namespace {

using workloads::AccessQueue;

struct GridPoint {  // XSBench's NuclideGridPoint
  double energy, total_xs, elastic_xs, absorbtion_xs, fission_xs, nu_fission_xs;
};
static_assert(sizeof(GridPoint) == 48);

constexpr int kMaterials = 12;

// XSBench pick_mat, verbatim in effect.
int pick_mat(double roll) {
  static constexpr double dist[kMaterials] = {0.140, 0.052, 0.275, 0.134, 0.154, 0.064,
                                              0.066, 0.055, 0.008, 0.015, 0.025, 0.013};
  for (int i = 0; i < kMaterials; ++i) {
    double running = 0;
    for (int j = i; j > 0; --j) running += dist[j];
    if (roll < running) return i;
  }
  return 0;
}

uint64_t mix(uint64_t a, uint64_t b) {
  uint64_t x = a * 0x9e3779b97f4a7c15ULL ^ b;
  return splitmix64(x);
}

class XsBench final : public workloads::SteppedWorkload, public workloads::TestCorruptible {
 public:
  XsBench(Params& p, const WorkloadEnv& env) : SteppedWorkload(env.vcpus), seed_(env.seed) {
    n_iso_ = p.get<uint32_t>("n_isotopes", 68);  // XSBench "small"
    // XSBench's small problem has 11303 points per nuclide (~240 MiB); 24000
    // brings the footprint to ~512 MiB, well beyond any host's LLC.
    n_grid_ = p.get<uint32_t>("n_gridpoints", 24'000);
    // Quick scale (XSBench's default is 17M lookups).
    warmup_ = p.get_count("warmup_lookups", 50'000);
    lookups_ = p.get_count("lookups", 300'000);
    // Each nuclide's index load and its grid-point loads are a two-step
    // chain, but the nuclides are independent: about half the fill buffers.
    mlp_ = p.get<uint32_t>("mlp", 6);
    // Assumed: the interpolation of five cross sections and their weighted
    // sums, ~12 flops per reported grid access; ~1 ns per search step.
    compute_ns_ = p.get<double>("compute_ns", 2.0);
    search_ns_ = p.get<double>("search_ns", 1.0);
    if (n_iso_ < 34 || n_iso_ > 1024)
      p.fail("n_isotopes", "must be between 34 and 1024 (material 0 holds 34)");
    if (n_grid_ < 4 || n_grid_ > 1'000'000) p.fail("n_gridpoints", "must be between 4 and 10^6");
    if (uint64_t{n_iso_} * n_grid_ * n_iso_ > (uint64_t{1} << 32))
      p.fail("n_gridpoints", "index grid too large");
    if (lookups_ < 1) p.fail("lookups", "must be at least 1");
    if (mlp_ < 1 || mlp_ > 64) p.fail("mlp", "must be between 1 and 64");
    if (!(compute_ns_ >= 0)) p.fail("compute_ns", "must not be negative");
    if (!(search_ns_ >= 0)) p.fail("search_ns", "must not be negative");
    n_union_ = uint64_t{n_iso_} * n_grid_;
    nuc_va_ = layout_.alloc(n_union_ * sizeof(GridPoint));
    egrid_va_ = layout_.alloc(n_union_ * sizeof(double));
    index_va_ = layout_.alloc(n_union_ * n_iso_ * sizeof(int32_t));
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return measured_; }
  std::string op_name() const override { return "lookup"; }

  void verify() const override {
    if (done_ != warmup_ + lookups_) throw VerifyError("xsbench: not every lookup ran");
    // Independent reference: regenerate the lookups, search each nuclide's grid.
    Rng rng(seed_ ^ 0x785362656e6368ULL);
    uint64_t ref = 0;
    for (uint64_t i = 0; i < done_; ++i) {
      const double e = rng.uniform();
      const int mat = pick_mat(rng.uniform());
      double macro[5] = {0, 0, 0, 0, 0};
      for (size_t j = 0; j < mats_[mat].size(); ++j) {
        const uint32_t nuc = mats_[mat][j];
        const GridPoint* g = &grids_[uint64_t{nuc} * n_grid_];
        uint64_t lo = 0, hi = n_grid_ - 1;  // XSBench grid_search_nuclide
        while (hi - lo > 1) {
          const uint64_t mid = lo + (hi - lo) / 2;
          if (g[mid].energy > e)
            hi = mid;
          else
            lo = mid;
        }
        interpolate(g[lo], g[lo + 1], e, concs_[mat][j], macro);
      }
      ref += result_hash(i, macro);
    }
    if (ref != hash_)
      throw VerifyError("xsbench: the verification hash differs from the nuclide-grid reference");
  }

  void corrupt_for_test() override { hash_ += 1; }

 protected:
  void build() override {
    Rng gen(seed_ ^ 0x6772696473ULL);
    grids_.resize(n_union_);
    for (uint32_t n = 0; n < n_iso_; ++n) {
      GridPoint* g = &grids_[uint64_t{n} * n_grid_];
      for (uint32_t k = 0; k < n_grid_; ++k)
        g[k] = GridPoint{gen.uniform(), gen.uniform(), gen.uniform(),
                         gen.uniform(), gen.uniform(), gen.uniform()};
      std::sort(g, g + n_grid_,
                [](const GridPoint& a, const GridPoint& b) { return a.energy < b.energy; });
    }
    egrid_.resize(n_union_);
    for (uint64_t k = 0; k < n_union_; ++k) egrid_[k] = grids_[k].energy;
    std::sort(egrid_.begin(), egrid_.end());
    // generate_grids: index_grid[e][i] = the last point of nuclide i at or below union energy e.
    index_.resize(n_union_ * n_iso_);
    std::vector<uint32_t> idx_low(n_iso_, 0);
    std::vector<double> energy_high(n_iso_);
    for (uint32_t i = 0; i < n_iso_; ++i) energy_high[i] = grids_[uint64_t{i} * n_grid_ + 1].energy;
    for (uint64_t e = 0; e < n_union_; ++e) {
      const double u = egrid_[e];
      int32_t* row = &index_[e * n_iso_];
      for (uint32_t i = 0; i < n_iso_; ++i) {
        if (u >= energy_high[i] && idx_low[i] != n_grid_ - 2) {
          // Advance as far as needed (XSBench advances one point per union
          // point, which is the same since every point is a union point).
          while (idx_low[i] != n_grid_ - 2 &&
                 u >= grids_[uint64_t{i} * n_grid_ + idx_low[i] + 1].energy)
            ++idx_low[i];
          energy_high[i] = grids_[uint64_t{i} * n_grid_ + idx_low[i] + 1].energy;
        }
        row[i] = static_cast<int32_t>(idx_low[i]);
      }
    }
    // Materials: XSBench's nuclide counts; nuclides and concentrations drawn.
    static constexpr uint32_t num_nucs[kMaterials] = {34, 5, 4, 4, 27, 21, 21, 21, 21, 21, 9, 9};
    Rng mats(seed_ ^ 0x6d617473ULL);
    std::vector<uint32_t> all(n_iso_);
    for (int m = 0; m < kMaterials; ++m) {
      for (uint32_t i = 0; i < n_iso_; ++i) all[i] = i;
      for (uint32_t k = 0; k < num_nucs[m]; ++k) {
        std::swap(all[k], all[k + mats.below(n_iso_ - k)]);
        mats_[m].push_back(all[k]);
        concs_[m].push_back(mats.uniform());
      }
    }
    rng_ = Rng(seed_ ^ 0x785362656e6368ULL);
    sweep_.add(nuc_va_, n_union_ * sizeof(GridPoint));
    sweep_.add(egrid_va_, n_union_ * sizeof(double));
    sweep_.add(index_va_, n_union_ * n_iso_ * sizeof(int32_t));
  }

  bool step(uint32_t, AccessQueue& q) override {
    if (!sweep_.done()) return sweep_.step(q, 256);
    if (done_ >= warmup_ + lookups_) return false;
    for (int k = 0; k < 8 && done_ < warmup_ + lookups_; ++k) {
      const bool measured = done_ >= warmup_;
      const Phase ph = measured ? Phase::Measured : Phase::Warmup;
      const double e = rng_.uniform();
      const int mat = pick_mat(rng_.uniform());
      // grid_search over the unionized energies.
      q.mode(ph, 1, static_cast<float>(search_ns_));
      uint64_t lo = 0, hi = n_union_ - 1;
      while (hi - lo > 1) {
        const uint64_t mid = lo + (hi - lo) / 2;
        q.push(egrid_va_ + mid * 8, kRead);
        if (egrid_[mid] > e)
          hi = mid;
        else
          lo = mid;
      }
      q.mode(ph, static_cast<uint8_t>(mlp_), static_cast<float>(compute_ns_));
      double macro[5] = {0, 0, 0, 0, 0};
      for (size_t j = 0; j < mats_[mat].size(); ++j) {
        const uint32_t nuc = mats_[mat][j];
        const uint64_t at = lo * n_iso_ + nuc;
        q.push(index_va_ + at * 4, kRead);
        uint64_t g = static_cast<uint64_t>(index_[at]);
        if (g == n_grid_ - 1) --g;
        const uint64_t p = uint64_t{nuc} * n_grid_ + g;
        q.push(nuc_va_ + p * sizeof(GridPoint), kRead);
        q.push(nuc_va_ + (p + 1) * sizeof(GridPoint) + sizeof(GridPoint) - 1, kRead);
        interpolate(grids_[p], grids_[p + 1], e, concs_[mat][j], macro);
      }
      hash_ += result_hash(done_, macro);
      ++done_;
      if (measured) ++measured_;
    }
    return true;
  }

 private:
  static void interpolate(const GridPoint& low, const GridPoint& high, double e, double conc,
                          double* macro) {
    const double f = (high.energy - e) / (high.energy - low.energy);
    macro[0] += (high.total_xs - f * (high.total_xs - low.total_xs)) * conc;
    macro[1] += (high.elastic_xs - f * (high.elastic_xs - low.elastic_xs)) * conc;
    macro[2] += (high.absorbtion_xs - f * (high.absorbtion_xs - low.absorbtion_xs)) * conc;
    macro[3] += (high.fission_xs - f * (high.fission_xs - low.fission_xs)) * conc;
    macro[4] += (high.nu_fission_xs - f * (high.nu_fission_xs - low.nu_fission_xs)) * conc;
  }
  // XSBench's verification value is the index of the largest macro xs; the
  // five values' bits are hashed as well.
  static uint64_t result_hash(uint64_t lookup, const double* macro) {
    uint64_t h = lookup;
    int max_idx = 0;
    for (int k = 0; k < 5; ++k) {
      if (macro[k] > macro[max_idx]) max_idx = k;
      uint64_t bits;
      std::memcpy(&bits, &macro[k], 8);
      h = mix(h, bits);
    }
    return mix(h, static_cast<uint64_t>(max_idx + 1));
  }

  uint64_t seed_;
  uint32_t n_iso_, n_grid_, mlp_;
  uint64_t warmup_, lookups_, n_union_;
  double compute_ns_, search_ns_;
  VaLayout layout_;
  uint64_t nuc_va_, egrid_va_, index_va_;

  std::vector<GridPoint> grids_;
  std::vector<double> egrid_;
  std::vector<int32_t> index_;
  std::vector<uint32_t> mats_[kMaterials];
  std::vector<double> concs_[kMaterials];
  workloads::RegionSweep sweep_;
  Rng rng_{1};
  uint64_t done_ = 0, measured_ = 0, hash_ = 0;
};

VTMM_REGISTER(WorkloadRegistry, XsBench, "xsbench",
              "XSBench event-based cross-section lookups over a unionized energy grid")

}  // namespace
}  // namespace vtmm
