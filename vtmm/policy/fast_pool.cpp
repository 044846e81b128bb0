#include "vtmm/policy/fast_pool.hpp"

#include <algorithm>
#include <cmath>

#include "vtmm/core/error.hpp"
#include "vtmm/core/types.hpp"

namespace vtmm::policy {
namespace {

// Shares `free` among the needs, max-min fair (equal parts, each capped at
// its need), in index order for the remainder: deterministic.
void share_fairly(uint64_t free, std::vector<uint64_t>& need, std::vector<uint64_t>& got) {
  for (;;) {
    size_t askers = 0;
    for (uint64_t x : need) askers += x > 0 ? 1 : 0;
    if (askers == 0 || free == 0) return;
    const uint64_t part = std::max<uint64_t>(1, free / askers);
    for (size_t i = 0; i < need.size() && free > 0; ++i) {
      if (need[i] == 0) continue;
      const uint64_t take = std::min({part, need[i], free});
      got[i] += take;
      need[i] -= take;
      free -= take;
    }
  }
}

}  // namespace

Sharing sharing_of(const std::string& name) {
  if (name == "pool") return Sharing::Pool;
  if (name == "static") return Sharing::Static;
  if (name == "proportional") return Sharing::Proportional;
  throw SpecError("fast_memory_sharing: \"" + name +
                  "\" must be \"pool\", \"static\" or \"proportional\"");
}

const char* sharing_name(Sharing s) {
  switch (s) {
    case Sharing::Pool:
      return "pool";
    case Sharing::Static:
      return "static";
    case Sharing::Proportional:
      return "proportional";
  }
  return "?";
}

FastPool::FastPool(Sharing mode, uint64_t fast_pages, PoolParams params)
    : mode_(mode), fast_(fast_pages), params_(params) {}

size_t FastPool::add(uint64_t share_pages, uint64_t memory_pages) {
  if (mode_ != Sharing::Static && members_.size() >= params_.max_vms)
    throw SpecError("pool: more VMs than the pool serves (max_vms " +
                    std::to_string(params_.max_vms) + ")");
  members_.push_back(
      PoolMember{std::min(share_pages, memory_pages), memory_pages, false, std::nullopt, 0});
  shares_ += members_.back().share;
  return members_.size() - 1;
}

uint64_t FastPool::guaranteed(size_t vm) const {
  const uint64_t s = members_[vm].share;
  if (shares_ <= fast_) return s;
  // Overcommitted: shares scaled down so the guarantees fit (floor: never more than fast).
  return static_cast<uint64_t>(static_cast<long double>(s) * fast_ / shares_);
}

uint64_t FastPool::minimum(size_t vm) const {
  return std::min(guaranteed(vm), params_.reserve_pages);
}

// What a VM asks for: its hot set plus the reserve (never under its minimum,
// never over its memory); a VM without a demand signal asks for its guarantee.
uint64_t FastPool::want(size_t vm) const {
  const PoolMember& m = members_[vm];
  if (!m.demand) return guaranteed(vm);
  return std::clamp(*m.demand + params_.reserve_pages, minimum(vm), m.memory);
}

void FastPool::rebalance() {
  const size_t n = members_.size();
  for (auto& m : members_) m.allowance = 0;
  if (mode_ == Sharing::Static) {
    for (size_t i = 0; i < n; ++i)
      if (members_[i].active) members_[i].allowance = guaranteed(i);
    return;
  }
  if (mode_ == Sharing::Proportional) {
    // The whole fast tier split in proportion to what each VM asks for.
    uint64_t total = 0;  // at most 64 VMs of < 2^32 pages: no overflow
    for (size_t i = 0; i < n; ++i)
      if (members_[i].active) total += want(i);
    if (total == 0) return;
    uint64_t given = 0;
    for (size_t i = 0; i < n; ++i) {
      if (!members_[i].active) continue;
      const uint64_t part =
          static_cast<uint64_t>(static_cast<long double>(want(i)) * fast_ / total);
      members_[i].allowance = std::min(std::max(part, minimum(i)), members_[i].memory);
      given += members_[i].allowance;
    }
    // The minimum may have pushed the sum over the tier: take the excess back
    // from the largest allowances above their minimum.
    while (given > fast_) {
      size_t big = n;
      for (size_t i = 0; i < n; ++i)
        if (members_[i].active && members_[i].allowance > minimum(i) &&
            (big == n || members_[i].allowance > members_[big].allowance))
          big = i;
      if (big == n) break;
      const uint64_t cut = std::min(given - fast_, members_[big].allowance - minimum(big));
      members_[big].allowance -= cut;
      given -= cut;
    }
    return;
  }
  // Pool: everyone first gets what it wants up to its guarantee; lenders keep
  // hot set + reserve and return the rest. What is free is then shared among
  // the borrowers, max-min fair (equal parts, capped at each one's need), so a
  // VM with a huge hot set cannot starve a VM with a modest one.
  uint64_t held = 0;
  std::vector<uint64_t> need(n, 0);
  for (size_t i = 0; i < n; ++i) {
    if (!members_[i].active) continue;
    const uint64_t w = want(i);
    members_[i].allowance = std::min(w, guaranteed(i));
    held += members_[i].allowance;
    need[i] = w - members_[i].allowance;
  }
  std::vector<uint64_t> got(n, 0);
  share_fairly(fast_ > held ? fast_ - held : 0, need, got);
  for (size_t i = 0; i < n; ++i) members_[i].allowance += got[i];
}

std::vector<uint64_t> FastPool::caps(const std::vector<uint64_t>& used) const {
  const size_t n = members_.size();
  std::vector<uint64_t> cap(n, 0), need(n, 0);
  uint64_t in_use = 0;
  for (size_t i = 0; i < n; ++i) {
    in_use += used[i];
    const uint64_t a = members_[i].allowance;
    cap[i] = std::min(a, used[i]);
    need[i] = a > used[i] ? a - used[i] : 0;
  }
  share_fairly(fast_ > in_use ? fast_ - in_use : 0, need, cap);
  return cap;
}

PoolLedger FastPool::ledger() const {
  PoolLedger l;
  l.fast = fast_;
  uint64_t guaranteed_sum = 0, held = 0;
  for (size_t i = 0; i < members_.size(); ++i) {
    const uint64_t g = guaranteed(i), a = members_[i].allowance;
    guaranteed_sum += g;
    held += a;
    l.kept += std::min(a, g);
    l.lent += g > a ? g - a : 0;
    l.borrowed += a > g ? a - g : 0;
  }
  l.free = fast_ - std::min(fast_, held);
  l.unassigned = fast_ - std::min(fast_, guaranteed_sum);
  return l;
}

PoolParams read_pool_params(const Json& j, double time_scale, Json* resolved) {
  Params p(j, "pool");
  PoolParams out;
  // The journal version's pool serves up to 8 VMs.
  out.max_vms = p.get<uint32_t>("max_vms", 8);
  if (out.max_vms == 0) p.fail("max_vms", "must be at least 1");
  // The journal version keeps a 50 MB reserve; scaled with the VMs' size.
  const uint64_t reserve = p.get_bytes("reserve_bytes", uint64_t{50} << 20);
  // Assumed: once per vTMM tracking window (600 ms, docs/vtmm.md), so every
  // rebalance sees a fresh hot set.
  const double interval_ms = p.get<double>("interval_ms", 600.0);
  const double scale = p.get<double>("time_scale", time_scale);
  if (!(interval_ms > 0)) p.fail("interval_ms", "must be positive");
  if (!(scale > 0)) p.fail("time_scale", "must be positive");
  p.finish();
  out.reserve_pages =
      static_cast<uint64_t>(std::llround(static_cast<double>(reserve) * scale / kPageSize));
  out.interval_ns = interval_ms * 1e6 * scale;
  if (resolved != nullptr)
    *resolved = Json{{"max_vms", out.max_vms},
                     {"reserve_bytes", reserve},
                     {"interval_ms", interval_ms},
                     {"time_scale", scale},
                     {"reserve_pages_effective", out.reserve_pages},
                     {"interval_ms_effective", out.interval_ns * 1e-6}};
  return out;
}

}  // namespace vtmm::policy
