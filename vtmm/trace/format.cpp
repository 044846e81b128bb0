#include "vtmm/trace/format.hpp"

#include <zlib.h>

#include "vtmm/core/error.hpp"

namespace vtmm::trace {

uint32_t crc32_of(const void* data, size_t n) {
  uLong c = ::crc32(0L, Z_NULL, 0);
  const auto* p = static_cast<const Bytef*>(data);
  while (n > 0) {  // zlib takes uInt lengths
    const uInt step = n > (1u << 30) ? (1u << 30) : static_cast<uInt>(n);
    c = ::crc32(c, p, step);
    p += step;
    n -= step;
  }
  return static_cast<uint32_t>(c);
}

bool valid_marker(const std::string& name) {
  if (name.empty() || name.size() > kMaxMarkerBytes) return false;
  for (char ch : name) {
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') || (ch >= '0' && ch <= '9') ||
                    ch == '_' || ch == '.' || ch == ':' || ch == '-';
    if (!ok) return false;
  }
  return true;
}

Json Header::to_json() const {
  Json j = extra;
  j["format"] = "vtmm-trace";
  j["version"] = kVersion;
  j["page_size"] = page_size;
  j["window_accesses"] = window_accesses;
  j["program"] = program;
  j["recorded_at"] = recorded_at;
  j["recorder"] = recorder;
  return j;
}

namespace {

template <class T>
T field(const Json& j, const char* key, const std::string& where, T def) {
  if (!j.contains(key)) return def;
  try {
    return j.at(key).get<T>();
  } catch (const nlohmann::json::exception&) {
    throw SpecError(where + ": field '" + key + "' has the wrong type");
  }
}

}  // namespace

Header Header::from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw SpecError(where + ": header is not a JSON object");
  Header h;
  h.page_size = field<uint64_t>(j, "page_size", where, 0);
  if (h.page_size != 4096) throw SpecError(where + ": page_size " + std::to_string(h.page_size) + " is not supported (4096 only)");
  h.window_accesses = field<uint64_t>(j, "window_accesses", where, 0);
  h.program = field<std::string>(j, "program", where, "");
  h.recorded_at = field<std::string>(j, "recorded_at", where, "");
  h.recorder = field<std::string>(j, "recorder", where, "");
  h.extra = j;
  for (const char* k : {"format", "version", "page_size", "window_accesses", "program", "recorded_at", "recorder"})
    h.extra.erase(k);
  return h;
}

Json Summary::to_json() const {
  Json m = Json::array();
  for (const auto& mk : markers) m.push_back({{"window", mk.window}, {"name", mk.name}});
  return Json{{"windows", windows},   {"distinct_pages", distinct_pages}, {"reads", reads},
              {"writes", writes},     {"instructions", instructions},     {"min_page", min_page},
              {"max_page", max_page}, {"markers", m}};
}

Summary Summary::from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw SpecError(where + ": trailer is not a JSON object");
  Summary s;
  s.windows = field<uint64_t>(j, "windows", where, 0);
  s.distinct_pages = field<uint64_t>(j, "distinct_pages", where, 0);
  s.reads = field<uint64_t>(j, "reads", where, 0);
  s.writes = field<uint64_t>(j, "writes", where, 0);
  s.instructions = field<uint64_t>(j, "instructions", where, 0);
  s.min_page = field<uint64_t>(j, "min_page", where, 0);
  s.max_page = field<uint64_t>(j, "max_page", where, 0);
  if (j.contains("markers")) {
    if (!j.at("markers").is_array()) throw SpecError(where + ": 'markers' is not an array");
    for (const auto& m : j.at("markers")) {
      Marker mk{field<uint64_t>(m, "window", where, 0), field<std::string>(m, "name", where, "")};
      if (!valid_marker(mk.name)) throw SpecError(where + ": invalid marker name '" + mk.name + "'");
      s.markers.push_back(std::move(mk));
    }
  }
  return s;
}

}  // namespace vtmm::trace
