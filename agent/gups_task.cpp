// GUPS natively in the guest: random 8-byte XOR updates over a real table,
// a hot set chosen by the simulator's gups rule (workloads/gups_hotset.hpp),
// one thread per vCPU. Updates are atomic XORs (relaxed), so threads sharing
// the table never lose one, and the table's final XOR must equal its initial
// XOR combined with every value applied: a torn or misdirected update fails
// the run.
#include <fcntl.h>
#include <unistd.h>

#include <atomic>
#include <chrono>
#include <stdexcept>
#include <thread>
#include <vector>

#include "agent/tasks.hpp"
#include "vtmm/core/rng.hpp"
#include "workloads/gups_hotset.hpp"

namespace vtmm::agent {
namespace {

// `n` updates of thread v; returns the XOR of the values it applied.
uint64_t gups_lane(std::vector<uint64_t>& table, const workloads::GupsHotSet& hot,
                   double hot_probability, Rng& rng, uint64_t n) {
  uint64_t applied = 0;
  for (uint64_t i = 0; i < n; ++i)
    applied ^= workloads::gups_update(table.data(), table.size(), hot, hot_probability, rng);
  return applied;
}

// Runs `total` updates split over the lanes; returns the XOR of every value applied.
uint64_t run_phase(std::vector<uint64_t>& table, const workloads::GupsHotSet& hot,
                   double hot_probability, std::vector<Rng>& lanes, uint64_t total) {
  const uint64_t threads = lanes.size();
  std::vector<uint64_t> applied(threads, 0);
  std::vector<std::thread> pool;
  for (uint64_t v = 0; v < threads; ++v) {
    const uint64_t n = total / threads + (v < total % threads ? 1 : 0);
    pool.emplace_back(
        [&, v, n] { applied[v] = gups_lane(table, hot, hot_probability, lanes[v], n); });
  }
  uint64_t all = 0;
  for (uint64_t v = 0; v < threads; ++v) {
    pool[v].join();
    all ^= applied[v];
  }
  return all;
}

// The guest frames of the table's hot pages, from /proc/self/pagemap
// (present: bit 63; frame: bits 0-54).
std::vector<uint64_t> hot_frames(const std::vector<uint64_t>& table,
                                 const workloads::GupsHotSet& hot) {
  const int fd = ::open("/proc/self/pagemap", O_RDONLY | O_CLOEXEC);
  if (fd < 0) throw std::runtime_error("gups: cannot open /proc/self/pagemap");
  const auto first = reinterpret_cast<uintptr_t>(table.data() + hot.base) / kPage;
  const auto last = reinterpret_cast<uintptr_t>(table.data() + hot.base + hot.elems - 1) / kPage;
  std::vector<uint64_t> out;
  for (uintptr_t vpn = first; vpn <= last; ++vpn) {
    uint64_t e = 0;
    if (::pread(fd, &e, 8, static_cast<off_t>(vpn * 8)) == 8 && (e >> 63))
      out.push_back(e & ((uint64_t{1} << 55) - 1));
  }
  ::close(fd);
  return out;
}

}  // namespace

Values run_gups(const GupsParams& p, Channel* ch) {
  if (p.footprint < 2 * kPage || p.threads == 0 || p.threads > 256)
    throw std::runtime_error("bad arguments to gups");
  const uint64_t elems = p.footprint / sizeof(uint64_t);
  const workloads::GupsHotSet hot =
      workloads::gups_hot_set(elems, p.hot_fraction, p.hot_offset, p.seed);
  std::vector<uint64_t> table(elems);
  uint64_t expect = 0;
  for (uint64_t i = 0; i < elems; ++i) {
    table[i] = i * 0x9e3779b97f4a7c15ULL;
    expect ^= table[i];
  }
  std::vector<Rng> lanes;
  for (uint32_t v = 0; v < p.threads; ++v) lanes.emplace_back(p.seed * 0x9e37u + v + 1);
  expect ^= run_phase(table, hot, p.hot_probability, lanes, p.warmup_updates);
  const auto t0 = std::chrono::steady_clock::now();
  expect ^= run_phase(table, hot, p.hot_probability, lanes, p.updates);
  const double run_s = std::chrono::duration<double>(std::chrono::steady_clock::now() - t0).count();
  uint64_t got = 0;
  for (uint64_t x : table) got ^= x;
  if (got != expect) throw std::runtime_error("gups: table XOR does not match the updates applied");
  if (p.report_hot && ch != nullptr) {
    agent_proto::Pages hp{agent_proto::PageSource::HotSet, 0, hot_frames(table, hot), {}};
    hp.flags.assign(hp.gfns.size(), agent_proto::kAccessed);
    ch->send(agent_proto::MsgType::Pages, hp);
  }
  return {{"footprint_bytes", static_cast<double>(p.footprint)},
          {"updates", static_cast<double>(p.updates)},
          {"threads", p.threads},
          {"hot_base_elem", static_cast<double>(hot.base)},
          {"hot_elems", static_cast<double>(hot.elems)},
          {"validated", 1},
          {"run_s", run_s},
          {"throughput", run_s > 0 ? static_cast<double>(p.updates) / run_s : 0}};
}

}  // namespace vtmm::agent
