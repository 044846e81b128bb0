#include "vtmm/trace/format.hpp"

#include <zlib.h>

#include <algorithm>

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
    const bool ok = (ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
                    (ch >= '0' && ch <= '9') || ch == '_' || ch == '.' || ch == ':' || ch == '-';
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

// Fields are required and strictly typed: a header or trailer the writer did
// not write is refused rather than read with defaults.
const Json& required(const Json& j, const char* key, const std::string& where) {
  const auto it = j.find(key);
  if (it == j.end()) throw SpecError(where + ": field '" + key + "' is missing");
  return *it;
}

uint64_t count_field(const Json& j, const char* key, const std::string& where) {
  const Json& v = required(j, key, where);
  // A parsed non-negative integer is "unsigned"; one built in code may be a signed int.
  const bool whole = v.is_number_unsigned() || (v.is_number_integer() && v.get<int64_t>() >= 0);
  if (!whole) throw SpecError(where + ": field '" + key + "' must be a whole number >= 0");
  return v.get<uint64_t>();
}

std::string text_field(const Json& j, const char* key, const std::string& where) {
  const Json& v = required(j, key, where);
  if (!v.is_string()) throw SpecError(where + ": field '" + key + "' must be a string");
  return v.get<std::string>();
}

}  // namespace

void Header::check(const std::string& where) const {
  if (page_size != kPageSize)
    throw SpecError(where + ": page_size " + std::to_string(page_size) +
                    " is not supported (4096 only)");
  if (window_accesses > kMaxWindowAccesses)
    throw SpecError(where + ": window_accesses " + std::to_string(window_accesses) +
                    " is above the format's limit of " + std::to_string(kMaxWindowAccesses));
}

Header Header::from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw SpecError(where + ": header is not a JSON object");
  if (text_field(j, "format", where) != "vtmm-trace")
    throw SpecError(where + ": field 'format' must be \"vtmm-trace\"");
  // The JSON repeats the binary version; the reader has already required kVersion there.
  const uint64_t version = count_field(j, "version", where);
  if (version != kVersion)
    throw SpecError(where + ": field 'version' is " + std::to_string(version) +
                    ", the file's binary version is " + std::to_string(kVersion));
  Header h;
  h.page_size = count_field(j, "page_size", where);
  h.window_accesses = count_field(j, "window_accesses", where);
  h.program = text_field(j, "program", where);
  h.recorded_at = text_field(j, "recorded_at", where);
  h.recorder = text_field(j, "recorder", where);
  h.check(where);
  h.extra = j;
  for (const char* k :
       {"format", "version", "page_size", "window_accesses", "program", "recorded_at", "recorder"})
    h.extra.erase(k);
  return h;
}

Json Summary::to_json() const {
  Json m = Json::array();
  for (const auto& mk : markers) m.push_back({{"window", mk.window}, {"name", mk.name}});
  return Json{{"windows", windows},
              {"distinct_pages", distinct_pages},
              {"reads", reads},
              {"writes", writes},
              {"instructions", instructions},
              {"min_page", min_page},
              {"max_page", max_page},
              {"markers", m}};
}

Summary Summary::from_json(const Json& j, const std::string& where) {
  if (!j.is_object()) throw SpecError(where + ": trailer is not a JSON object");
  Summary s;
  s.windows = count_field(j, "windows", where);
  s.distinct_pages = count_field(j, "distinct_pages", where);
  s.reads = count_field(j, "reads", where);
  s.writes = count_field(j, "writes", where);
  s.instructions = count_field(j, "instructions", where);
  s.min_page = count_field(j, "min_page", where);
  s.max_page = count_field(j, "max_page", where);
  if (s.max_page >= kPageLimit)
    throw SpecError(where + ": max_page " + std::to_string(s.max_page) + " is not below 2^52");
  if (s.min_page > s.max_page)
    throw SpecError(where + ": min_page " + std::to_string(s.min_page) + " is above max_page " +
                    std::to_string(s.max_page));
  const Json& markers = required(j, "markers", where);
  if (!markers.is_array()) throw SpecError(where + ": 'markers' is not an array");
  for (const auto& m : markers) {
    if (!m.is_object()) throw SpecError(where + ": a marker is not a JSON object");
    Marker mk{count_field(m, "window", where), text_field(m, "name", where)};
    if (!valid_marker(mk.name)) throw SpecError(where + ": invalid marker name '" + mk.name + "'");
    s.markers.push_back(std::move(mk));
  }
  return s;
}

namespace {

// a += b, or SpecError naming the total if that would overflow 64 bits.
void add_to(uint64_t& a, uint64_t b, const char* total, const std::string& where) {
  if (b > UINT64_MAX - a) throw SpecError(where + ": the trace's " + total + " overflow 64 bits");
  a += b;
}

}  // namespace

void SummaryBuilder::add(const Window& w, const std::string& where) {
  for (const auto& p : w.pages) {
    if (seen_.insert(p.page).second) {
      sum_.min_page = sum_.distinct_pages == 0 ? p.page : std::min(sum_.min_page, p.page);
      sum_.max_page = std::max(sum_.max_page, p.page);
      ++sum_.distinct_pages;
    }
    add_to(sum_.reads, p.reads, "reads", where);
    add_to(sum_.writes, p.writes, "writes", where);
  }
  // Consumers add the two (trace info's access totals).
  if (sum_.writes > UINT64_MAX - sum_.reads)
    throw SpecError(where + ": the trace's reads + writes overflow 64 bits");
  add_to(sum_.instructions, w.instructions, "instructions", where);
  if (!w.marker.empty()) sum_.markers.push_back({w.index, w.marker});
  ++sum_.windows;
}

}  // namespace vtmm::trace
