#pragma once
// The vtmm page-access trace: what a window of a program's data accesses did
// to each 4 KiB page. The byte layout is specified in docs/trace-format.md;
// this header holds its constants and the in-memory form of one window.
//
// A trace is read and written one window at a time (TraceReader/TraceWriter),
// so no tool needs the whole trace in memory.
#include <cstdint>
#include <nlohmann/json.hpp>
#include <string>
#include <unordered_set>
#include <vector>

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
// deflate cannot expand more than 1032:1 (a 258-byte match in a few bits), so a
// zlib block's raw_len above stored_len x 1032 is a lie, refused before the
// reader allocates raw_len bytes for it.
inline constexpr uint64_t kMaxZlibRatio = 1032;

// A page number is a 64-bit virtual address shifted right by 12, so it is
// below 2^52; anything larger is corrupt.
inline constexpr uint64_t kPageLimit = uint64_t{1} << 52;
inline constexpr uint64_t kPageSize = 4096;  // the only page size version 1 has

// The most data accesses (reads + writes over all pages) one window may hold
// when the header's window_accesses is 0 (unknown, as in imports), and the
// largest window_accesses a header may give. Every recorded window fits: the
// Valgrind tool's --window is at most 2,000,000,000 < 2^31. The bound is what
// keeps the replay finite: it expands a window to one 8-byte entry per
// access, so no window can make it allocate more than 16 GiB, whatever the
// counts in the file say. It also keeps the sum of two counts (each checked
// against it first) far from overflowing 64 bits.
inline constexpr uint64_t kMaxWindowAccesses = uint64_t{1} << 31;

struct PageCount {
  uint64_t page = 0;  // virtual address >> 12, below kPageLimit
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
  uint64_t page_size = kPageSize;
  std::string program;      // command line of the recorded program, or the source it came from
  std::string recorded_at;  // ISO 8601 UTC
  std::string recorder;     // what produced it
  Json extra = Json::object();

  // The most reads + writes one window of this trace may hold.
  uint64_t max_window_accesses() const {
    return window_accesses != 0 ? window_accesses : kMaxWindowAccesses;
  }
  // Throws SpecError "<where>: ..." unless page_size is 4096 and
  // window_accesses is at most kMaxWindowAccesses.
  void check(const std::string& where) const;

  Json to_json() const;
  // Requires every key to_json writes ("format", "version" equal to kVersion,
  // "page_size", "window_accesses", "program", "recorded_at", "recorder"),
  // each of its type, then check(); other keys go to `extra`.
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
  // Requires every key to_json writes, each of its type, page numbers below
  // kPageLimit and min_page <= max_page. Whether the figures are true is for
  // the reader to check against the windows (TraceReader).
  static Summary from_json(const Json& j, const std::string& where);
};

// Builds the Summary of the windows given to it, in order: the writer stores
// it as the trailer, the reader compares it with the trailer it found.
// Memory: one entry per distinct page.
class SummaryBuilder {
 public:
  // Throws SpecError "<where>: ..." if a total would overflow 64 bits.
  void add(const Window& w, const std::string& where);
  const Summary& summary() const { return sum_; }

 private:
  Summary sum_;
  std::unordered_set<uint64_t> seen_;
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
