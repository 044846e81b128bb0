#pragma once
// TraceReader: opens a trace, checks its header and trailer (so the summary,
// e.g. the footprint, is known before any window is read), then streams the
// windows one at a time. Memory use is one window, never the whole trace.
//
// Every defect (wrong magic, truncation, bad CRC, bad payload, windows out
// of order) throws SpecError "trace 'PATH': at byte N: what", N being the
// offset of the field or block that is wrong.
#include <cstdio>
#include <string>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

class TraceReader {
 public:
  explicit TraceReader(std::string path);
  ~TraceReader();
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  const Header& header() const { return header_; }
  const Summary& summary() const { return summary_; }
  const std::string& path() const { return path_; }
  uint64_t file_bytes() const { return size_; }

  // Reads the next window into w; false after the last one.
  bool next(Window& w);
  // Back to the first window.
  void rewind();

 private:
  [[noreturn]] void fail(uint64_t at, const std::string& what) const;
  void read_at(uint64_t at, void* buf, size_t n, const char* what);
  // Reads the block at `at` (which must carry `tag`) into raw; returns the offset after it.
  uint64_t read_block(uint64_t at, const char tag[4], uint64_t limit, std::string& raw);

  std::string path_;
  std::FILE* f_ = nullptr;
  uint64_t size_ = 0, first_block_ = 0, trailer_at_ = 0, pos_ = 0, next_index_ = 0;
  Header header_;
  Summary summary_;
  std::string stored_, raw_;
};

}  // namespace vtmm::trace
