#pragma once
// TraceWriter: writes a trace window by window (zlib-compressed blocks by
// default), then the summary trailer. The file appears at `path` only when
// finish() succeeds: it is written to "<path>.part" and renamed, so a failed
// recording or import leaves nothing half-written.
#include <cstdio>
#include <string>
#include <unordered_set>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

class TraceWriter {
 public:
  TraceWriter(std::string path, const Header& header, uint32_t codec = kCodecZlib);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Windows come in order, index 0, 1, 2, ... (empty windows included).
  // A marker may also be given for a window that already has none.
  void write(const Window& w);
  // Writes the trailer and moves the file into place.
  const Summary& finish();
  uint64_t bytes_written() const { return offset_; }

 private:
  void put(const void* p, size_t n);
  void block(const char tag[4], const std::string& raw);

  std::string path_, part_;
  uint32_t codec_;
  std::FILE* f_ = nullptr;
  uint64_t offset_ = 0;
  Summary sum_;
  std::unordered_set<uint64_t> seen_;
  bool finished_ = false;
};

}  // namespace vtmm::trace
