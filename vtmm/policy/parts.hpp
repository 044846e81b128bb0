#pragma once
// vTMM's parts, each chosen by name from a registry of its own, so a design
// is a composition and a new part is one file:
//     VTMM_REGISTER(TrackerRegistry, MyTracker, "my-tracker", "what it reads, once a window");
// A policy spec names a part in its field ("tracker": "ept", or the node
// form {"tracker": {"impl": "ept"}}); `vtmm list` shows every part. The
// parts and their registrations:
//   tracker        what a window of tracking saw each page do   tracker.cpp    pml, ept
//   classifier     how a page's history becomes its key         hotness.cpp    temperature, lru
//   hot-set rule   which keys are hot and what moves            placement.cpp  adaptive, fixed
//   migration      how the platform moves a batch of pages      parts.cpp      pml, linux, wp
// A part's settings are the policy's (history, weights, mlq, fixed_threshold,
// ...): PartEnv carries them, so records keep one flat list of parameters.
#include <memory>
#include <string>
#include <vector>

#include "vtmm/core/mechanisms.hpp"
#include "vtmm/core/registry.hpp"
#include "vtmm/policy/hotness.hpp"
#include "vtmm/policy/mlq.hpp"

namespace vtmm::policy {

struct TrackStats;

// The policy's settings a part may read.
struct PartEnv {
  MlqConfig mlq;                 // the PML tracker's multi-level queue
  uint32_t fixed_threshold = 9;  // the fixed hot-set rule's temperature
};

// A window of tracking: fills seen[g] for every guest page (Seen::None for
// pages not seen) and charges its own costs through Mechanisms.
class Tracker {
 public:
  static constexpr const char* kKind = "tracker";
  virtual ~Tracker() = default;
  // The mechanisms it reads and writes (the policy adds its own).
  virtual std::vector<Mechanism> needs() const = 0;
  virtual void attach(Mechanisms& m) = 0;
  virtual void window(Mechanisms& m, uint32_t k, std::vector<uint8_t>& seen, TrackStats& st) = 0;
  // By GPA: the page is some PTE's target / a page-table page. Empty when
  // the tracker cannot tell (then no page counts as free).
  virtual const PageBits& referenced() const { return kNothing; }
  virtual const PageBits& is_gpt() const { return kNothing; }

 protected:
  static inline const PageBits kNothing{};
};
using TrackerRegistry = Registry<Tracker, PartEnv>;

// How a page's access history becomes its key (hotness.hpp's kernels).
class Classifier {
 public:
  static constexpr const char* kKind = "classifier";
  virtual ~Classifier() = default;
  virtual Hotness::Kind kind() const = 0;
};
using ClassifierRegistry = Registry<Classifier, PartEnv>;

// Which keys are hot and which pages move this window.
class HotSetRule {
 public:
  static constexpr const char* kKind = "hot-set rule";
  virtual ~HotSetRule() = default;
  virtual void plan(PlanInput in, Plan& out) const = 0;
};
using HotSetRuleRegistry = Registry<HotSetRule, PartEnv>;

// How the platform moves a batch (Mechanisms::migrate's methods).
class MigrationPart {
 public:
  static constexpr const char* kKind = "migration method";
  virtual ~MigrationPart() = default;
  virtual MigrationMethod method() const = 0;
  // What the method needs beyond Migrate (PM_PML: PML; PM_WP: write protection).
  virtual std::vector<Mechanism> needs() const = 0;
};
using MigrationRegistry = Registry<MigrationPart, PartEnv>;

// The part a policy's field `key` names (`def` when the spec leaves it out).
// A plain name stays a plain name in the record's resolved parameters.
// `name`, if given, receives the part's registered name.
template <class Reg>
std::unique_ptr<typename Reg::Base> make_part(Params& p, const std::string& key,
                                              const std::string& def, const PartEnv& env,
                                              std::string* name = nullptr) {
  const Json given = p.has(key) ? p.raw(key) : Json(p.get<std::string>(key, def));
  Json resolved;
  auto part = Reg::instance().make(given, p.where() + ": '" + key + "'", env, &resolved);
  if (name != nullptr) *name = resolved.at("impl").template get<std::string>();
  return part;
}

}  // namespace vtmm::policy
