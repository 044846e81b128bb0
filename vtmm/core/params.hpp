#pragma once
// Typed, self-documenting component parameters.
//
// A component reads each parameter once with its default in the same place:
//     hot_ = p.get<double>("hot_fraction", 1.0 / 16);
// Every read lands in resolved(), so a run record carries the full config and
// `vtmm list --json` gets each component's schema by constructing it with no
// keys. finish() rejects keys nobody read: a typo is an error naming the
// component and the key, never a silent default.
#include <cmath>
#include <cstdint>
#include <limits>
#include <nlohmann/json.hpp>
#include <string>

#include "vtmm/core/error.hpp"

namespace vtmm {

using Json = nlohmann::json;

// What a JSON value is, for messages: "a number", "a string", "an array", ...
std::string json_kind(const Json& j);

// The largest size a spec may give (guest memory, footprints, fast allowances):
// 2^48 bytes, the 48-bit address space of x86-64's 4-level paging, which the
// simulated guest's page tables (and QEMU's guests on our hosts) use. Larger
// values cannot be mapped, and near 2^64 they overflow the model's arithmetic.
inline constexpr uint64_t kMaxBytes = uint64_t{1} << 48;
// The largest operation count a workload parameter may give (updates,
// accesses, requests, ...): 2^40. The exact model simulates about 5 M accesses
// a second on our machines (docs/simulator.md), so 2^40 accesses are already
// about 2.5 days; a larger count is a typo, not an experiment, and would
// otherwise be accepted and run forever.
inline constexpr uint64_t kMaxCount = uint64_t{1} << 40;

class Params {
 public:
  Params(const Json& given, std::string where);

  template <class T>
  T get(const std::string& key, T def) {
    if (!given_.contains(key)) {
      resolved_[key] = def;
      return def;
    }
    T v = convert<T>(key);
    resolved_[key] = v;
    return v;
  }
  template <class T>
  T require(const std::string& key) {
    if (!given_.contains(key)) throw SpecError(where_ + ": missing field '" + key + "'");
    T v = convert<T>(key);
    resolved_[key] = v;
    return v;
  }
  // Byte sizes accept a number or a string with a binary suffix ("256MiB"),
  // at most kMaxBytes.
  uint64_t get_bytes(const std::string& key, uint64_t def);
  // An operation count that bounds a run's length: a whole number, at most kMaxCount.
  uint64_t get_count(const std::string& key, uint64_t def);
  // A sub-object, for nested components; its keys are checked by its own finish().
  Params child(const std::string& key);
  // Marks a key as read without converting it (the caller handles it).
  const Json& raw(const std::string& key);
  bool has(const std::string& key) const { return given_.contains(key); }

  void finish() const;
  const Json& resolved() const { return resolved_; }
  const std::string& where() const { return where_; }
  [[noreturn]] void fail(const std::string& key, const std::string& what) const;

 private:
  template <class T>
  T convert(const std::string& key) {
    used_[key] = true;
    const Json& j = given_.at(key);
    if constexpr (std::is_same_v<T, bool>) {
      if (!j.is_boolean()) fail(key, "must be true or false, got " + json_kind(j));
    } else if constexpr (std::is_integral_v<T>) {
      if (!j.is_number()) fail(key, "must be a number, got " + json_kind(j));
      if (j.is_number_float()) {
        // Not through a cast to an integer: 1e62 would overflow it (undefined behaviour).
        const double d = j.get<double>();
        if (!std::isfinite(d) || d != std::floor(d)) fail(key, "must be a whole number");
      }
      if constexpr (std::is_unsigned_v<T>) {
        if (j.is_number_integer() && !j.is_number_unsigned() && j.get<int64_t>() < 0)
          fail(key, "must not be negative");
        if (j.is_number_float() && j.get<double>() < 0) fail(key, "must not be negative");
        const long double v = j.is_number_float() ? static_cast<long double>(j.get<double>())
                                                  : static_cast<long double>(j.get<uint64_t>());
        if (v > static_cast<long double>(std::numeric_limits<T>::max())) fail(key, "is too large");
      } else {
        const long double v = j.is_number_float() ? static_cast<long double>(j.get<double>())
                                                  : static_cast<long double>(j.get<int64_t>());
        if (v > static_cast<long double>(std::numeric_limits<T>::max()) ||
            v < static_cast<long double>(std::numeric_limits<T>::min()))
          fail(key, "is out of range");
      }
    } else if constexpr (std::is_arithmetic_v<T>) {
      if (!j.is_number()) fail(key, "must be a number, got " + json_kind(j));
    } else if constexpr (std::is_same_v<T, std::string>) {
      if (!j.is_string()) fail(key, "must be a string, got " + json_kind(j));
    }
    try {
      return j.get<T>();
    } catch (const nlohmann::json::exception&) {
      fail(key, "has the wrong type");
    }
  }

  Json given_;
  Json resolved_ = Json::object();
  Json used_ = Json::object();
  std::string where_;
};

// A workload or policy as a spec gives it: a registered name, or an object
// with a string "impl". Returns the object form; throws SpecError naming
// `path` and `kind` ("workload", "policy") for any other shape.
Json component_spec(const Json& j, const std::string& path, const std::string& kind);

// "1GiB" / "512MiB" / "4KiB" / "1G" / plain integer -> bytes, at most kMaxBytes.
// Throws SpecError naming `what`.
uint64_t parse_bytes(const Json& j, const std::string& what);
std::string format_bytes(uint64_t bytes);

}  // namespace vtmm
