#pragma once
// TraceReader: opens a trace and checks all of it before anything trusts it,
// then streams the windows one at a time. Memory use is one window (and,
// while opening, one entry per distinct page), never the whole trace.
//
// Opening reads the file once from end to end and checks what
// docs/trace-format.md ("What a reader checks") lists: the header, every
// block's length and CRC, every window's contents and bounds, and the trailer
// against what the windows hold. So a reader that exists reads a trace that
// `vtmm trace info` accepts, and a consumer that stops early (the replay at
// an end marker) still refuses a file damaged past that point.
//
// Every defect throws SpecError "trace 'PATH': at byte N: what", N being the
// offset of the field or block that is wrong.
#include <cstdio>
#include <functional>
#include <memory>
#include <string>

#include "vtmm/trace/format.hpp"

namespace vtmm::trace {

class TraceReader {
 public:
  using WindowFn = std::function<void(const Window&)>;

  // Opens and checks `path`. The check decompresses every block once; `each`,
  // if given, sees every window of that pass in order, so a caller that looks
  // at every window once (trace info) needs no second pass.
  explicit TraceReader(std::string path, const WindowFn& each = {});
  TraceReader(const TraceReader&) = delete;
  TraceReader& operator=(const TraceReader&) = delete;

  const Header& header() const { return header_; }
  // The trailer, equal to what the windows hold (but `instructions`, which the
  // Valgrind tool's raw file may overstate; docs/trace-format.md).
  const Summary& summary() const { return summary_; }
  const std::string& path() const { return path_; }
  uint64_t file_bytes() const { return size_; }

  // Reads the next window into w; false after the last one.
  bool next(Window& w);
  // Back to the first window.
  void rewind();

 private:
  [[noreturn]] void fail(uint64_t at, const std::string& what) const;
  std::string at_byte(uint64_t at) const;
  void read_at(uint64_t at, void* buf, size_t n, const char* what);
  void read_header();
  void read_trailer();
  // Reads every window once, then compares the trailer with them.
  void verify(const WindowFn& each);
  void check_trailer(const Summary& seen) const;
  // Reads the block at `at` (which must carry `tag`) into raw; returns the offset after it.
  uint64_t read_block(uint64_t at, const char tag[4], uint64_t limit, std::string& raw);

  struct Closer {
    void operator()(std::FILE* f) const { std::fclose(f); }
  };

  std::string path_;
  std::unique_ptr<std::FILE, Closer> f_;  // closed on a throw from the constructor too
  uint64_t size_ = 0, first_block_ = 0, trailer_at_ = 0, pos_ = 0, next_index_ = 0;
  Header header_;
  Summary summary_;
  std::string stored_, raw_;
};

}  // namespace vtmm::trace
