#include "vtmm/sim/pool_driver.hpp"

#include <stdexcept>

namespace vtmm::sim {

void PoolDriver::attach(std::vector<Vm*> vms, std::vector<Policy*> pols) {
  vms_ = std::move(vms);
  pols_ = std::move(pols);
  live_.assign(vms_.size(), false);
  stats_.assign(vms_.size(), VmStats{});
}

void PoolDriver::account(double now_ns) {
  const double dt = now_ns > last_ns_ ? now_ns - last_ns_ : 0;
  for (size_t i = 0; i < vms_.size() && dt > 0; ++i) {
    if (!live_[i]) continue;
    const uint64_t cap = vms_[i]->capacity(Tier::Fast);
    stats_[i].allowance_page_ns += static_cast<double>(cap) * dt;
    stats_[i].live_ns += dt;
    stats_[i].min_allowance = std::min(stats_[i].min_allowance, cap);
    stats_[i].max_allowance = std::max(stats_[i].max_allowance, cap);
  }
  last_ns_ = std::max(last_ns_, now_ns);
}

void PoolDriver::set_live(size_t vm, bool on, double now_ns) {
  account(now_ns);
  live_[vm] = on;
  pool_.set_active(vm, on);
  rebalance(now_ns);  // a VM that starts claims its share; one that ends frees all it held
}

void PoolDriver::rebalance(double now_ns) {
  account(now_ns);
  std::vector<uint64_t> used(vms_.size(), 0);
  for (size_t i = 0; i < vms_.size(); ++i) {
    // A VM not started holds nothing; a finished VM was shut down and its
    // memory freed.
    pool_.set_demand(i, live_[i] ? pols_[i]->fast_demand_pages() : std::nullopt);
    used[i] = live_[i] ? vms_[i]->used(Tier::Fast) : 0;
  }
  pool_.rebalance();
  const std::vector<uint64_t> caps = pool_.caps(used);
  for (size_t i = 0; i < vms_.size(); ++i)
    vms_[i]->set_capacity(Tier::Fast, live_[i] ? caps[i] : 0);
  const policy::PoolLedger l = pool_.ledger();
  if (l.kept + l.borrowed + l.free != l.fast || l.kept + l.lent + l.unassigned != l.fast)
    throw std::logic_error("pool: ledger does not balance (kept + borrowed + free != fast tier)");
  max_lent_ = std::max(max_lent_, l.lent);
  max_borrowed_ = std::max(max_borrowed_, l.borrowed);
  ++rebalances_;
}

void PoolDriver::finish(double now_ns) { account(now_ns); }

}  // namespace vtmm::sim
