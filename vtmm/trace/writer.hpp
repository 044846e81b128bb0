#pragma once
// TraceWriter: writes a trace window by window (zlib-compressed blocks by
// default), then the summary trailer. The file appears at `path` only when
// finish() succeeds: it is written to "<path>.part" and renamed, so a failed
// recording or import leaves nothing half-written.
#include <cstdio>
#include <string>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

class TraceWriter {
 public:
  // Throws SpecError if the header fails Header::check.
  TraceWriter(std::string path, const Header& header, uint32_t codec = kCodecZlib);
  ~TraceWriter();
  TraceWriter(const TraceWriter&) = delete;
  TraceWriter& operator=(const TraceWriter&) = delete;

  // Windows come in order, index 0, 1, 2, ... (empty windows included), and
  // must pass check_window with the header's max_window_accesses(), so a
  // reader accepts every file the writer makes. A marker may also be given
  // for a window that already has none.
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
  uint64_t offset_ = 0, max_accesses_ = 0;
  SummaryBuilder sum_;
  bool finished_ = false;
};

}  // namespace vtmm::trace
