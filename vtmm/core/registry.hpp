#pragma once
// One registry per extension point (policies, workloads), filled by one line
// next to each implementation:
//     VTMM_REGISTER(PolicyRegistry, FirstTouch, "first-touch", "fast until full, then slow");
// Registries are function-local statics (no init-order games); a duplicate
// name aborts at start-up, because two components answering to one name would
// make results ambiguous.
#include <algorithm>
#include <cstdio>
#include <cstdlib>
#include <memory>
#include <string>
#include <vector>

#include "vtmm/core/params.hpp"

namespace vtmm {

template <class BaseT, class EnvT>
class Registry {
 public:
  using Base = BaseT;
  using Env = EnvT;
  using Factory = std::unique_ptr<BaseT> (*)(Params&, const EnvT&);
  struct Entry {
    std::string name;
    std::string summary;
    Factory make;
  };

  static Registry& instance() {
    static Registry r;
    return r;
  }

  bool add(std::string name, std::string summary, Factory factory) {
    if (find(name) != nullptr) {
      std::fprintf(stderr, "vtmm: two components registered as '%s'\n", name.c_str());
      std::abort();
    }
    entries_.push_back({std::move(name), std::move(summary), factory});
    std::sort(entries_.begin(), entries_.end(),
              [](const Entry& a, const Entry& b) { return a.name < b.name; });
    return true;
  }

  const Entry* find(const std::string& name) const {
    for (const auto& e : entries_)
      if (e.name == name) return &e;
    return nullptr;
  }

  // `given` is a registered name, or {"impl": name, "label"?: text, ...params}.
  // `where` is the field's path for errors ("workload", "spec t:
  // sweep.policy[2]"); the base class's kKind names the extension point. A
  // label names a configured variant in records and figures (e.g. vtmm with
  // migration "wp"); it is not a parameter.
  std::unique_ptr<BaseT> make(const Json& given, const std::string& where, const EnvT& env,
                              Json* resolved = nullptr) const {
    const std::string kind = BaseT::kKind;
    const Json spec = component_spec(given, where, kind);
    const std::string name = spec.at("impl").get<std::string>();
    const Entry* e = find(name);
    if (e == nullptr)
      throw SpecError(where + ": unknown " + kind + " '" + name + "' (see `vtmm list`)");
    Json params = spec;
    params.erase("impl");
    if (params.contains("label") && !params.at("label").is_string())
      throw SpecError(where + " '" + name + "': 'label' must be a string, got " +
                      json_kind(params.at("label")));
    params.erase("label");
    Params p(params, where + " '" + name + "'");
    auto obj = e->make(p, env);
    p.finish();
    if (resolved != nullptr) {
      *resolved = p.resolved();
      (*resolved)["impl"] = name;
      if (spec.contains("label")) (*resolved)["label"] = spec.at("label");
    }
    return obj;
  }

  const std::vector<Entry>& entries() const { return entries_; }

 private:
  std::vector<Entry> entries_;
};

}  // namespace vtmm

#define VTMM_REGISTER(RegistryType, Class, name, summary)                                          \
  namespace {                                                                                      \
  [[maybe_unused]] const bool vtmm_registered_##Class = RegistryType::instance().add(              \
      name, summary,                                                                               \
      [](::vtmm::Params& p, const RegistryType::Env& env) -> std::unique_ptr<RegistryType::Base> { \
        return std::make_unique<Class>(p, env);                                                    \
      });                                                                                          \
  }
