#include "vtmm/platform/policy_driver.hpp"

#include <algorithm>
#include <chrono>
#include <thread>

#include "vtmm/core/error.hpp"
#include "vtmm/platform/elapsed.hpp"

namespace vtmm::platform {
namespace {

using Clock = std::chrono::steady_clock;

std::string why_absent(Mechanism x) {
  if (x == Mechanism::HintFaults)
    return ", which needs the companion module (guest/vtmm_gpt) loaded in the kernel the process "
           "runs on (docs/vm.md, \"Hint faults\")";
  if (x == Mechanism::GuestNuma)
    return ": a guest-side design, whose daemon must run in the guest's kernel (vtmm numa-check "
           "runs it so; a vm run's daemon runs on the host: docs/vm.md, \"Hint faults\")";
  return ", which a stock kernel does not give a host daemon (docs/vm.md)";
}

}  // namespace

std::unique_ptr<Policy> make_real_time_policy(const Json& spec, const std::string& where,
                                              uint64_t seed, Json* resolved,
                                              ProcessMemory::Offer offer) {
  PolicyEnv env(seed);
  env.scale_time_by_memory = false;
  env.time_scale_why = "real time: a page's accesses per second do not shrink with its VM";
  auto pol = PolicyRegistry::instance().make(spec, where, env, resolved);
  for (Mechanism x : pol->needs())
    if (!ProcessMemory::offered(x, offer))
      throw SpecError(where + ": needs " + mechanism_name(x) + why_absent(x));
  return pol;
}

bool needs(const Policy& pol, Mechanism x) {
  const auto n = pol.needs();
  return std::find(n.begin(), n.end(), x) != n.end();
}

bool needs_page_tables(const Policy& pol) {
  return needs(pol, Mechanism::GptList) || needs(pol, Mechanism::PteAdBits);
}

PolicyDriver::PolicyDriver(Policy& pol, ProcessMemory& m, const std::string& platform)
    : pol_(pol), m_(m), used_(mechanisms_for(pol, m, platform)) {
  m_.offer_only(used_);
  pol_.attach(m_);
  pol_.on_measure_start();
}

bool PolicyDriver::run(const std::function<bool()>& done, double max_s, uint32_t poll_ms) {
  const auto t0 = Clock::now();
  const double period_s = pol_.period_ns() / 1e9;
  double next = period_s;
  bool finished = false;
  while (!(finished = done()) && seconds_since(t0) < max_s) {
    const double now = seconds_since(t0);
    if (period_s > 0 && now >= next) {
      const auto t = Clock::now();
      m_.refresh();
      deliver_hint_faults();
      pol_.tick(m_);
      ++ticks_;
      tick_s_ += seconds_since(t);
      next += period_s;
      // A tick that outlasts its period is not made up for with a burst.
      if (seconds_since(t0) > next) ++late_ticks_, next = seconds_since(t0) + period_s;
      continue;
    }
    const double wait = period_s > 0 ? std::min(next - now, poll_ms / 1e3) : poll_ms / 1e3;
    std::this_thread::sleep_for(std::chrono::duration<double>(std::max(wait, 0.0)));
  }
  ran_s_ += seconds_since(t0);
  return finished;
}

// The faults since the last tick, in the order taken. A design sees them
// late (the kernel has completed the access), and sees them before it acts.
void PolicyDriver::deliver_hint_faults() {
  if (!m_.offers(Mechanism::HintFaults)) return;
  m_.drain_hint_faults(faults_);
  for (const HintFault& f : faults_) pol_.on_hint_fault(f, m_);
  delivered_ += faults_.size();
}

Json PolicyDriver::report() const {
  Json used = Json::array();
  for (Mechanism x : used_) used.push_back(mechanism_key(x));
  Json pol = Json::object();
  pol_.report(pol);
  return {{"mechanisms", used},
          {"period_s", pol_.period_ns() / 1e9},
          {"ticks", ticks_},
          {"late_ticks", late_ticks_},
          {"tick_s", tick_s_},
          {"ran_s", ran_s_},
          {"hint_faults_delivered", delivered_},
          {"policy", pol},
          {"memory", m_.report()}};
}

}  // namespace vtmm::platform
