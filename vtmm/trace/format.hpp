#pragma once
// The vtmm page-access trace: what a window of a program's data accesses did
// to each 4 KiB page. The byte layout is specified in docs/trace-format.md;
// this header holds its constants and the in-memory form of one window.
//
// A trace is read and written one window at a time (TraceReader/TraceWriter),
// so no tool needs the whole trace in memory.
#include <cstdint>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

namespace vtmm::trace {

using Json = nlohmann::json;

inline constexpr char kMagic[8] = {'V', 'T', 'M', 'M', 'T', 'R', 'C', 'E'};
inline constexpr char kEndMagic[8] = {'V', 'T', 'M', 'M', 'T', 'E', 'N', 'D'};
inline constexpr uint32_t kVersion = 1;
inline constexpr char kWindowTag[4] = {'W', 'N', 'D', 'W'};
inline constexpr char kTrailerTag[4] = {'T', 'R', 'L', 'R'};
inline constexpr uint32_t kCodecRaw = 0;   // payload stored as is (the Valgrind tool writes these)
inline constexpr uint32_t kCodecZlib = 1;  // payload is one zlib stream
inline constexpr uint32_t kBlockHeaderBytes = 20;
inline constexpr uint32_t kMaxBlockBytes = 1u << 30;  // refuses absurd lengths before allocating
inline constexpr uint32_t kMaxMarkerBytes = 64;

struct PageCount {
  uint64_t page = 0;  // virtual address >> 12
  uint64_t reads = 0, writes = 0;
  bool operator==(const PageCount&) const = default;
};

struct Window {
  uint64_t index = 0;
  uint64_t instructions = 0;
  std::string marker;            // phase that starts with this window ("" = none)
  std::vector<PageCount> pages;  // strictly ascending by page
  bool operator==(const Window&) const = default;
};

// Header fields (a JSON object in the file; unknown keys are kept).
struct Header {
  uint64_t window_accesses = 0;  // data accesses per window as recorded (0 = unknown)
  uint64_t page_size = 4096;
  std::string program;       // command line of the recorded program, or the source it came from
  std::string recorded_at;   // ISO 8601 UTC
  std::string recorder;      // what produced it
  Json extra = Json::object();
  Json to_json() const;
  static Header from_json(const Json& j, const std::string& where);
};

struct Marker {
  uint64_t window = 0;
  std::string name;
};

// Totals the writer computes and stores at the end, so a reader knows the
// footprint before streaming the windows.
struct Summary {
  uint64_t windows = 0, distinct_pages = 0, reads = 0, writes = 0, instructions = 0;
  uint64_t min_page = 0, max_page = 0;
  std::vector<Marker> markers;
  Json to_json() const;
  static Summary from_json(const Json& j, const std::string& where);
};

// CRC-32 (IEEE, as zlib's crc32()).
uint32_t crc32_of(const void* data, size_t n);

// A marker name is 1..64 characters of [A-Za-z0-9_.:-].
bool valid_marker(const std::string& name);

// Little-endian base-128 varints (payload encoding).
inline void put_varint(std::string& out, uint64_t v) {
  while (v >= 0x80) {
    out.push_back(static_cast<char>((v & 0x7f) | 0x80));
    v >>= 7;
  }
  out.push_back(static_cast<char>(v));
}

}  // namespace vtmm::trace
