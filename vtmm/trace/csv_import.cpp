#include "vtmm/trace/csv_import.hpp"

#include <zlib.h>

#include <algorithm>
#include <cerrno>
#include <charconv>
#include <cstring>
#include <map>
#include <memory>

#include "vtmm/core/error.hpp"
#include "vtmm/trace/writer.hpp"

namespace vtmm::trace {

namespace {

bool parse_u64(std::string_view s, uint64_t& v) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() && (s.back() == ' ' || s.back() == '\t' || s.back() == '\r'))
    s.remove_suffix(1);
  int base = 10;
  if (s.size() > 2 && s[0] == '0' && (s[1] == 'x' || s[1] == 'X')) {
    s.remove_prefix(2);
    base = 16;
  }
  if (s.empty()) return false;
  const auto r = std::from_chars(s.data(), s.data() + s.size(), v, base);
  return r.ec == std::errc() && r.ptr == s.data() + s.size();
}

std::vector<std::string_view> split(std::string_view line) {
  std::vector<std::string_view> out;
  size_t at = 0;
  for (;;) {
    const size_t comma = line.find(',', at);
    out.push_back(
        line.substr(at, comma == std::string_view::npos ? std::string_view::npos : comma - at));
    if (comma == std::string_view::npos) return out;
    at = comma + 1;
  }
}

std::string trim(std::string_view s) {
  while (!s.empty() && (s.front() == ' ' || s.front() == '\t')) s.remove_prefix(1);
  while (!s.empty() &&
         (s.back() == ' ' || s.back() == '\t' || s.back() == '\r' || s.back() == '\n'))
    s.remove_suffix(1);
  return std::string(s);
}

struct GzCloser {
  void operator()(gzFile_s* f) const { gzclose(f); }
};

}  // namespace

Marker parse_phase_at(const std::string& text, const std::string& flag) {
  const auto colon = text.find(':');
  uint64_t w = 0;
  if (colon == std::string::npos || !parse_u64(std::string_view(text).substr(0, colon), w))
    throw SpecError(flag + ": expected WINDOW:NAME, got \"" + text + "\"");
  Marker m{w, text.substr(colon + 1)};
  if (!valid_marker(m.name))
    throw SpecError(flag + ": marker name \"" + m.name +
                    "\" must be 1-64 characters of A-Z a-z 0-9 _ . : -");
  return m;
}

namespace {

// The CSV's lines, plain or gzip, numbered from 1 for errors.
class CsvLines {
 public:
  explicit CsvLines(const std::string& path)
      : path_(path), in_(gzopen(path.c_str(), "rb")) {  // reads plain files too
    if (!in_) throw SpecError("csv '" + path + "': cannot open: " + std::strerror(errno));
  }
  // The next line without its line end; false at the end of the file.
  bool next(std::string& line) {
    ++line_no_;
    line.clear();
    for (;;) {
      if (gzgets(in_.get(), buf_.data(), static_cast<int>(buf_.size())) == nullptr) {
        int err = 0;
        const char* msg = gzerror(in_.get(), &err);
        if (err != Z_OK && err != Z_STREAM_END) fail(std::string("read error: ") + msg);
        while (!line.empty() && line.back() == '\r') line.pop_back();
        return !line.empty();
      }
      line += buf_.data();
      if (!line.empty() && line.back() == '\n') {
        while (!line.empty() && (line.back() == '\n' || line.back() == '\r')) line.pop_back();
        return true;
      }
    }
  }
  [[noreturn]] void fail(const std::string& what) const {
    throw SpecError("csv '" + path_ + "': line " + std::to_string(line_no_) + ": " + what);
  }
  const std::string& path() const { return path_; }

 private:
  std::string path_;
  std::unique_ptr<gzFile_s, GzCloser> in_;
  std::vector<char> buf_ = std::vector<char>(1 << 16);
  uint64_t line_no_ = 0;
};

// Where each column is; instructions is optional (-1 when absent).
struct Columns {
  int window = -1, page = -1, reads = -1, writes = -1, instructions = -1;
  size_t count = 0;  // fields per row
};

Columns read_header(CsvLines& in) {
  std::string line;
  if (!in.next(line))
    in.fail("empty file (expected the header window,page,reads,writes[,instructions])");
  Columns c;
  const auto cols = split(line);
  c.count = cols.size();
  for (size_t i = 0; i < cols.size(); ++i) {
    const std::string name = trim(cols[i]);
    int* slot = name == "window"         ? &c.window
                : name == "page"         ? &c.page
                : name == "reads"        ? &c.reads
                : name == "writes"       ? &c.writes
                : name == "instructions" ? &c.instructions
                                         : nullptr;
    if (slot == nullptr)
      in.fail("unknown column '" + name + "' (expected window,page,reads,writes[,instructions])");
    if (*slot >= 0) in.fail("column '" + name + "' given twice");
    *slot = static_cast<int>(i);
  }
  if (c.window < 0 || c.page < 0 || c.reads < 0 || c.writes < 0)
    in.fail("header must name the columns window,page,reads,writes (and optionally instructions)");
  return c;
}

struct Row {
  uint64_t window = 0, page = 0, reads = 0, writes = 0;
  bool has_instructions = false;
  uint64_t instructions = 0;
};

// One data row, checked field by field; max_accesses is what one window may hold.
Row parse_row(const std::string& line, const Columns& c, uint64_t max_accesses,
              const CsvLines& in) {
  const auto f = split(line);
  if (f.size() != c.count)
    in.fail("expected " + std::to_string(c.count) + " fields, found " + std::to_string(f.size()));
  auto field = [&](int col) { return f[static_cast<size_t>(col)]; };
  Row r;
  if (!parse_u64(field(c.window), r.window)) in.fail("window is not a whole number");
  if (!parse_u64(field(c.page), r.page)) in.fail("page is not a whole number (decimal or 0x-hex)");
  if (r.page >= kPageLimit)
    in.fail("page number is beyond a 64-bit address space (not below 2^52)");
  if (!parse_u64(field(c.reads), r.reads)) in.fail("reads is not a whole number");
  if (!parse_u64(field(c.writes), r.writes)) in.fail("writes is not a whole number");
  if (r.reads == 0 && r.writes == 0) in.fail("a row with no reads and no writes");
  // The writer checks each window's total; a row alone over the bound is named by its line here.
  if (r.reads > max_accesses || r.writes > max_accesses - r.reads)
    in.fail("reads + writes above " + std::to_string(max_accesses) +
            ", the most one window may hold");
  if (c.instructions >= 0 && !trim(field(c.instructions)).empty()) {
    if (!parse_u64(field(c.instructions), r.instructions))
      in.fail("instructions is not a whole number");
    r.has_instructions = true;
  }
  return r;
}

// Gathers rows into windows and writes each as soon as the next one starts
// (one window in memory), with an empty window for every index skipped.
class WindowAssembler {
 public:
  WindowAssembler(TraceWriter& out, std::map<uint64_t, std::string> markers, const CsvLines& in)
      : out_(out), markers_(std::move(markers)), in_(in) {}

  void add(const Row& r) {
    if (r.window < next_ || (have_ && r.window < cur_.index))
      in_.fail("windows must be ascending (window " + std::to_string(r.window) +
               " after a later one)");
    if (have_ && r.window != cur_.index) flush_until(cur_.index + 1);
    if (!have_) {
      flush_until(r.window);
      cur_ = Window{};
      cur_.index = r.window;
      have_ = true;
      instructions_set_ = false;
    }
    if (r.has_instructions) {
      if (instructions_set_ && r.instructions != cur_.instructions)
        in_.fail("instructions differs from an earlier row of window " + std::to_string(r.window));
      cur_.instructions = r.instructions;
      instructions_set_ = true;
    }
    cur_.pages.push_back({r.page, r.reads, r.writes});
  }

  // Writes the last window; returns how many windows were written.
  uint64_t finish() {
    if (have_) flush_until(cur_.index + 1);
    return next_;
  }

 private:
  void flush_until(uint64_t upto) {  // writes windows next_..upto-1
    while (next_ < upto) {
      Window w;
      if (have_ && cur_.index == next_) {
        w = std::move(cur_);
        sort_and_check(w);
        have_ = false;
      }
      w.index = next_;
      if (auto it = markers_.find(next_); it != markers_.end()) w.marker = it->second;
      out_.write(w);
      ++next_;
    }
  }
  void sort_and_check(Window& w) const {
    std::sort(w.pages.begin(), w.pages.end(),
              [](const PageCount& a, const PageCount& b) { return a.page < b.page; });
    for (size_t i = 1; i < w.pages.size(); ++i)
      if (w.pages[i].page == w.pages[i - 1].page)
        throw SpecError("csv '" + in_.path() + "': window " + std::to_string(w.index) + ": page " +
                        std::to_string(w.pages[i].page) + " appears twice");
  }

  TraceWriter& out_;
  std::map<uint64_t, std::string> markers_;
  const CsvLines& in_;
  Window cur_;
  bool have_ = false, instructions_set_ = false;
  uint64_t next_ = 0;
};

}  // namespace

Summary import_csv(const std::string& csv_path, const std::string& out_path,
                   const ImportOptions& opt) {
  CsvLines in(csv_path);
  std::map<uint64_t, std::string> markers;
  for (const auto& m : opt.markers) {
    if (markers.count(m.window))
      throw SpecError("--phase-at: two markers for window " + std::to_string(m.window));
    markers[m.window] = m.name;
  }
  const Columns cols = read_header(in);

  Header h;
  h.program = "imported from " + csv_path;
  h.recorder = "vtmm trace import";
  h.window_accesses = opt.window_accesses;
  TraceWriter out(out_path, h);
  WindowAssembler windows(out, markers, in);
  for (std::string line; in.next(line);)
    if (!trim(line).empty()) windows.add(parse_row(line, cols, h.max_window_accesses(), in));
  const uint64_t written = windows.finish();
  if (!markers.empty() && markers.rbegin()->first >= written)
    throw SpecError("--phase-at: window " + std::to_string(markers.rbegin()->first) +
                    " is past the trace's last window " +
                    std::to_string(written == 0 ? 0 : written - 1));
  if (written == 0) throw SpecError("csv '" + csv_path + "': no data rows");
  return out.finish();
}

}  // namespace vtmm::trace
