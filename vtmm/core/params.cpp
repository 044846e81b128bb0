#include "vtmm/core/params.hpp"

#include <cctype>
#include <cmath>

namespace vtmm {

std::string json_kind(const Json& j) {
  switch (j.type()) {
    case Json::value_t::null:
      return "null";
    case Json::value_t::boolean:
      return "true/false";
    case Json::value_t::string:
      return "a string";
    case Json::value_t::array:
      return "an array";
    case Json::value_t::object:
      return "an object";
    case Json::value_t::discarded:
      return "nothing";
    default:
      return "a number";
  }
}

Json component_spec(const Json& j, const std::string& path, const std::string& kind) {
  if (j.is_string()) return Json{{"impl", j}};
  if (!j.is_object())
    throw SpecError(path + ": expected a " + kind + " name or an object with 'impl', got " +
                    json_kind(j));
  if (!j.contains("impl"))
    throw SpecError(path + ": missing field 'impl' (a registered " + kind + " name)");
  if (!j.at("impl").is_string())
    throw SpecError(path + ".impl: expected a registered " + kind + " name, got " +
                    json_kind(j.at("impl")));
  return j;
}

Params::Params(const Json& given, std::string where) : where_(std::move(where)) {
  if (given.is_null()) {
    given_ = Json::object();
  } else if (!given.is_object()) {
    throw SpecError(where_ + ": expected a JSON object, got " + json_kind(given));
  } else {
    given_ = given;
  }
}

void Params::fail(const std::string& key, const std::string& what) const {
  throw SpecError(where_ + ": '" + key + "' " + what);
}

uint64_t Params::get_bytes(const std::string& key, uint64_t def) {
  uint64_t v = def;
  if (given_.contains(key)) {
    used_[key] = true;
    v = parse_bytes(given_.at(key), where_ + ": '" + key + "'");
  }
  resolved_[key] = v;
  return v;
}

uint64_t Params::get_count(const std::string& key, uint64_t def) {
  const uint64_t v = get<uint64_t>(key, def);
  if (v > kMaxCount)
    fail(key, "is " + std::to_string(v) + ", more than the 2^40 (" + std::to_string(kMaxCount) +
                  ") a run can simulate (the exact model runs about 5 M accesses/s)");
  return v;
}

Params Params::child(const std::string& key) {
  used_[key] = true;
  Params p(given_.contains(key) ? given_.at(key) : Json(), where_ + "." + key);
  return p;
}

const Json& Params::raw(const std::string& key) {
  used_[key] = true;
  resolved_[key] = given_.at(key);
  return given_.at(key);
}

void Params::finish() const {
  for (auto it = given_.begin(); it != given_.end(); ++it) {
    if (!used_.contains(it.key())) {
      throw SpecError(where_ + ": unknown key '" + it.key() + "'");
    }
  }
}

namespace {
[[noreturn]] void too_large(const std::string& what) {
  throw SpecError(what +
                  " is more than 256 TiB (2^48 bytes, the 48-bit address space of 4-level paging)");
}
}  // namespace

uint64_t parse_bytes(const Json& j, const std::string& what) {
  if (j.is_number_unsigned() || j.is_number_integer()) {
    if (!j.is_number_unsigned() && j.get<int64_t>() < 0)
      throw SpecError(what + " must not be negative");
    if (j.get<uint64_t>() > kMaxBytes) too_large(what);
    return j.get<uint64_t>();
  }
  if (j.is_number_float()) {
    double d = j.get<double>();
    if (!(d >= 0) || d != std::floor(d)) throw SpecError(what + " must be a whole number of bytes");
    if (d > static_cast<double>(kMaxBytes)) too_large(what);
    return static_cast<uint64_t>(d);
  }
  if (!j.is_string())
    throw SpecError(what + " must be a size like 1GiB or a number of bytes, got " + json_kind(j));
  const std::string s = j.get<std::string>();
  const std::string shown = s.size() > 40 ? s.substr(0, 40) + "..." : s;
  size_t i = 0;
  double num = 0;
  bool digits = false;
  while (i < s.size() && (std::isdigit(static_cast<unsigned char>(s[i])) || s[i] == '.')) {
    ++i;
    digits = true;
  }
  if (!digits) throw SpecError(what + " must be a size like 1GiB, got \"" + shown + "\"");
  try {
    size_t used = 0;
    num = std::stod(s.substr(0, i), &used);
    if (used != i) throw std::invalid_argument("trailing characters");
  } catch (...) {
    throw SpecError(what + " must be a size like 1GiB, got \"" + shown + "\"");
  }
  std::string unit = s.substr(i);
  while (!unit.empty() && unit.front() == ' ') unit.erase(unit.begin());
  double mult = 0;
  if (unit.empty() || unit == "B")
    mult = 1;
  else if (unit == "K" || unit == "KiB" || unit == "k")
    mult = 1024.0;
  else if (unit == "M" || unit == "MiB")
    mult = 1024.0 * 1024;
  else if (unit == "G" || unit == "GiB")
    mult = 1024.0 * 1024 * 1024;
  else if (unit == "T" || unit == "TiB")
    mult = 1024.0 * 1024 * 1024 * 1024;
  else
    throw SpecError(what + ": unknown size unit \"" +
                    (unit.size() > 16 ? unit.substr(0, 16) + "..." : unit) +
                    "\" (use B, KiB, MiB, GiB, TiB)");
  const double bytes = num * mult;
  if (!(bytes <= static_cast<double>(kMaxBytes))) too_large(what);
  if (bytes != std::floor(bytes))
    throw SpecError(what + " must be a whole number of bytes, got \"" + shown + "\"");
  return static_cast<uint64_t>(bytes);
}

std::string format_bytes(uint64_t b) {
  static const char* units[] = {"B", "KiB", "MiB", "GiB", "TiB"};
  int u = 0;
  double v = static_cast<double>(b);
  while (v >= 1024 && u < 4 && std::fmod(v, 1024) == 0) {
    v /= 1024;
    ++u;
  }
  char buf[64];
  std::snprintf(buf, sizeof buf, "%.0f%s", v, units[u]);
  return buf;
}

}  // namespace vtmm
