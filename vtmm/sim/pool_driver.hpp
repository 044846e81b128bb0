#pragma once
// The simulated hypervisor's side of the fast-memory pool: at every interval
// it reads each live VM's demand from its policy, lets the FastPool recompute
// allowances, and sets each VM's fast cap so the host's fast tier is never
// over-subscribed (FastPool::caps). It also keeps what the record reports:
// time-weighted allowances and the pool's extremes.
#include <vector>

#include "vtmm/core/policy.hpp"
#include "vtmm/policy/fast_pool.hpp"
#include "vtmm/sim/vm.hpp"

namespace vtmm::sim {

class PoolDriver {
 public:
  explicit PoolDriver(policy::FastPool pool) : pool_(std::move(pool)) {}

  double interval_ns() const { return pool_.params().interval_ns; }
  void attach(std::vector<Vm*> vms, std::vector<Policy*> pols);
  void set_live(size_t vm, bool on, double now_ns);
  void rebalance(double now_ns);
  // Closes the time-weighted averages at `now_ns`.
  void finish(double now_ns);

  const policy::FastPool& pool() const { return pool_; }
  struct VmStats {
    double allowance_page_ns = 0, live_ns = 0;  // integral of the allowance, time live
    uint64_t min_allowance = ~uint64_t{0}, max_allowance = 0;
  };
  const std::vector<VmStats>& stats() const { return stats_; }
  uint64_t rebalances() const { return rebalances_; }
  uint64_t max_lent() const { return max_lent_; }
  uint64_t max_borrowed() const { return max_borrowed_; }

 private:
  void account(double now_ns);

  policy::FastPool pool_;
  std::vector<Vm*> vms_;
  std::vector<Policy*> pols_;
  std::vector<bool> live_;
  std::vector<VmStats> stats_;
  double last_ns_ = 0;
  uint64_t rebalances_ = 0, max_lent_ = 0, max_borrowed_ = 0;
};

}  // namespace vtmm::sim
