#pragma once
// vTMM's fast-memory pool (journal version): one pool of fast memory for the
// VMs of a host. Each VM has a default fast share; a VM whose hot set fits in
// its share keeps its hot set plus a reserve and returns the rest to the pool;
// a VM whose hot set does not fit borrows from what others returned. The
// guest's memory size never changes, only how much of it the host backs with
// fast memory (its allowance); the VM's own policy demotes free pages first,
// then cold ones, when its allowance shrinks.
//
// Two comparison points share the code: static partitioning (every VM keeps
// its share, whatever its demand) and a demand-proportional split of the
// whole fast tier.
//
// Overcommit: the shares may sum to more than the fast tier; then each VM's
// guaranteed part is its share scaled down by fast / sum(shares) and the pool
// arbitrates the rest by demand.
//
// Pure bookkeeping (no simulator types), so the rules are tested directly.
#include <cstdint>
#include <optional>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"

namespace vtmm::policy {

enum class Sharing : uint8_t { Pool, Static, Proportional };
Sharing sharing_of(const std::string& name);  // "pool" | "static" | "proportional"
const char* sharing_name(Sharing s);

struct PoolParams {
  uint32_t max_vms = 8;        // the paper's pool serves up to 8 VMs
  uint64_t reserve_pages = 0;  // what a lender keeps above its hot set (50 MB in the paper, scaled)
  double interval_ns = 0;      // how often allowances are recomputed
};

// One VM as the pool sees it.
struct PoolMember {
  uint64_t share = 0;   // default fast share, in pages
  uint64_t memory = 0;  // guest memory: no allowance above it is useful
  bool active = false;  // started and not finished: only active VMs hold memory
  // The VM's hot-set size from its policy (Policy::fast_demand_pages;
  // nullopt: no demand signal yet, or none at all: it keeps its guarantee).
  std::optional<uint64_t> demand;
  uint64_t allowance = 0;  // set by FastPool::rebalance
};

// Where the fast tier's pages are, after a rebalance. With guaranteed part
// g_i = the share scaled for overcommit:
//   kept + borrowed + free == fast   (every fast page is held or free)
//   kept + lent + unassigned == fast (every fast page is someone's default)
struct PoolLedger {
  uint64_t fast = 0, kept = 0, lent = 0, borrowed = 0, free = 0, unassigned = 0;
};

class FastPool {
 public:
  FastPool(Sharing mode, uint64_t fast_pages, PoolParams params);

  // Adds a VM (inactive until set_active); returns its index.
  size_t add(uint64_t share_pages, uint64_t memory_pages);
  void set_active(size_t vm, bool on) { members_[vm].active = on; }
  void set_demand(size_t vm, std::optional<uint64_t> pages) { members_[vm].demand = pages; }

  // Recomputes every allowance from shares, demands and the mode.
  void rebalance();

  uint64_t allowance(size_t vm) const { return members_[vm].allowance; }
  // The caps to enforce now, given the fast pages each VM uses: a VM whose
  // allowance is below its use gets its allowance (it demotes down to it); a
  // VM whose allowance is above its use may grow only into pages that are
  // free on the host now (shared max-min fair), so the fast tier is never
  // over-subscribed while other VMs are still demoting what they returned.
  std::vector<uint64_t> caps(const std::vector<uint64_t>& used) const;
  // The part of its share a VM is sure to get (scaled down when overcommitted).
  uint64_t guaranteed(size_t vm) const;
  // The least a VM is ever given while active: its reserve, or its whole
  // guaranteed part if that is smaller.
  uint64_t minimum(size_t vm) const;
  PoolLedger ledger() const;
  const std::vector<PoolMember>& members() const { return members_; }
  Sharing mode() const { return mode_; }
  uint64_t fast_pages() const { return fast_; }
  const PoolParams& params() const { return params_; }
  bool overcommitted() const { return shares_ > fast_; }

 private:
  uint64_t want(size_t vm) const;

  Sharing mode_;
  uint64_t fast_;
  PoolParams params_;
  uint64_t shares_ = 0;
  std::vector<PoolMember> members_;
};

// Reads the spec's "pool" object. reserve_bytes and interval_ms are scaled
// by time_scale (the vTMM convention: the run's VM size / a 16 GiB reference
// VM), so a small simulated host keeps the paper's proportions.
PoolParams read_pool_params(const Json& j, double time_scale, Json* resolved);

}  // namespace vtmm::policy
