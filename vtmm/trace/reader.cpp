#include "vtmm/trace/reader.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>

#include "vtmm/core/error.hpp"
#include "vtmm/core/json_input.hpp"
#include "vtmm/trace/codec.hpp"

namespace vtmm::trace {

namespace {
uint32_t le32(const unsigned char* p) {
  return uint32_t{p[0]} | uint32_t{p[1]} << 8 | uint32_t{p[2]} << 16 | uint32_t{p[3]} << 24;
}
uint64_t le64(const unsigned char* p) { return uint64_t{le32(p)} | uint64_t{le32(p + 4)} << 32; }
}  // namespace

std::string TraceReader::at_byte(uint64_t at) const {
  return "trace '" + path_ + "': at byte " + std::to_string(at);
}

void TraceReader::fail(uint64_t at, const std::string& what) const {
  throw SpecError(at_byte(at) + ": " + what);
}

void TraceReader::read_at(uint64_t at, void* buf, size_t n, const char* what) {
  if (at + n > size_)
    fail(at, std::string("file ends inside the ") + what + " (file is " + std::to_string(size_) +
                 " bytes; truncated?)");
  if (std::fseek(f_.get(), static_cast<long>(at), SEEK_SET) != 0 ||
      std::fread(buf, 1, n, f_.get()) != n)
    fail(at, std::string("cannot read the ") + what + ": " + std::strerror(errno));
}

TraceReader::TraceReader(std::string path, const WindowFn& each) : path_(std::move(path)) {
  f_.reset(std::fopen(path_.c_str(), "rb"));
  if (!f_) throw SpecError("trace '" + path_ + "': cannot open: " + std::strerror(errno));
  std::fseek(f_.get(), 0, SEEK_END);
  size_ = static_cast<uint64_t>(std::ftell(f_.get()));
  read_header();
  read_trailer();
  verify(each);
}

void TraceReader::read_header() {
  unsigned char head[20];
  read_at(0, head, sizeof head, "file header");
  if (std::memcmp(head, kMagic, 8) != 0) fail(0, "not a vtmm trace (bad magic)");
  const uint32_t version = le32(head + 8);
  if (version != kVersion)
    fail(8, "format version " + std::to_string(version) +
                " is not supported (this vtmm reads version " + std::to_string(kVersion) + ")");
  const uint32_t jlen = le32(head + 12);
  if (jlen > (1u << 20)) fail(12, "header length " + std::to_string(jlen) + " is too large");
  std::string js(jlen, '\0');
  read_at(20, js.data(), jlen, "header JSON");
  if (crc32_of(js.data(), js.size()) != le32(head + 16))
    fail(20, "header CRC mismatch (corrupt file)");
  Json hj = parse_json_or_discarded(js);
  if (hj.is_discarded()) fail(20, "header is not valid JSON");
  header_ = Header::from_json(hj, at_byte(20) + ": header");
  first_block_ = 20 + uint64_t{jlen};
}

void TraceReader::read_trailer() {
  unsigned char end[16];
  if (size_ < first_block_ + 16) fail(size_, "file ends before its end marker (truncated?)");
  read_at(size_ - 16, end, sizeof end, "end marker");
  if (std::memcmp(end + 8, kEndMagic, 8) != 0)
    fail(size_ - 16, "no end marker (truncated or still being written?)");
  trailer_at_ = le64(end);
  if (trailer_at_ < first_block_ || trailer_at_ > size_ - 16 - kBlockHeaderBytes)
    fail(size_ - 16, "trailer offset " + std::to_string(trailer_at_) + " is outside the file");
  std::string tj;
  if (read_block(trailer_at_, kTrailerTag, size_ - 16, tj) != size_ - 16)
    fail(trailer_at_, "bytes between the trailer and the end marker");
  Json sj = parse_json_or_discarded(tj);
  if (sj.is_discarded()) fail(trailer_at_, "trailer is not valid JSON");
  summary_ = Summary::from_json(sj, at_byte(trailer_at_) + ": trailer");
}

// The one check of a whole trace, shared by every consumer (trace info, the
// replay, trace record's re-read): a full sequential read. The replay then
// decompresses each block a second time as it streams; keeping the decoded
// windows instead would hold the whole trace in memory.
void TraceReader::verify(const WindowFn& each) {
  rewind();
  SummaryBuilder seen;
  Window w;
  uint64_t at = pos_;
  while (next(w)) {
    seen.add(w, at_byte(at));
    if (each) each(w);
    at = pos_;
  }
  check_trailer(seen.summary());
  rewind();
}

// Every figure a consumer sizes or checks anything by must be the windows'
// own (the window count next() has compared already). `instructions` is not
// compared: the Valgrind tool's raw file counts the instructions after its
// last full window in the trailer only (`trace record` rewrites the file with
// exact totals), and no consumer relies on it.
void TraceReader::check_trailer(const Summary& seen) const {
  const struct {
    const char* name;
    uint64_t said, found;
  } figures[] = {{"distinct_pages", summary_.distinct_pages, seen.distinct_pages},
                 {"reads", summary_.reads, seen.reads},
                 {"writes", summary_.writes, seen.writes},
                 {"min_page", summary_.min_page, seen.min_page},
                 {"max_page", summary_.max_page, seen.max_page}};
  for (const auto& f : figures)
    if (f.said != f.found)
      fail(trailer_at_, std::string("trailer says ") + f.name + " " + std::to_string(f.said) +
                            ", the windows hold " + std::to_string(f.found));
  bool same = summary_.markers.size() == seen.markers.size();
  for (size_t i = 0; same && i < seen.markers.size(); ++i)
    same = summary_.markers[i].window == seen.markers[i].window &&
           summary_.markers[i].name == seen.markers[i].name;
  if (!same) fail(trailer_at_, "trailer's markers differ from the markers the windows carry");
}

uint64_t TraceReader::read_block(uint64_t at, const char tag[4], uint64_t limit, std::string& raw) {
  unsigned char h[kBlockHeaderBytes];
  if (at + kBlockHeaderBytes > limit)
    fail(at, "block header runs past the end of the data (truncated?)");
  read_at(at, h, sizeof h, "block header");
  if (std::memcmp(h, tag, 4) != 0)
    fail(at, std::string("expected a '") + std::string(tag, 4) +
                 "' block, found bytes that are not one (corrupt file)");
  const uint32_t codec = le32(h + 4), stored = le32(h + 8), rawlen = le32(h + 12),
                 crc = le32(h + 16);
  if (codec != kCodecRaw && codec != kCodecZlib)
    fail(at + 4, "unknown codec " + std::to_string(codec));
  if (stored > kMaxBlockBytes || rawlen > kMaxBlockBytes)
    fail(at + 8, "block length is implausible (corrupt file)");
  if (codec == kCodecRaw && stored != rawlen) fail(at + 8, "raw block with two different lengths");
  if (codec == kCodecZlib && rawlen > uint64_t{stored} * kMaxZlibRatio)
    fail(at + 12, "block claims " + std::to_string(rawlen) + " bytes from " +
                      std::to_string(stored) +
                      " compressed ones, more than zlib can produce (corrupt file)");
  const uint64_t body = at + kBlockHeaderBytes;
  if (body + stored > limit)
    fail(at + 8, "block of " + std::to_string(stored) +
                     " bytes runs past the end of the data (truncated?)");
  stored_.resize(stored);
  read_at(body, stored_.data(), stored, "block");
  if (crc32_of(stored_.data(), stored) != crc) fail(body, "block CRC mismatch (corrupt file)");
  if (codec == kCodecRaw) {
    raw.swap(stored_);
  } else {
    raw.resize(rawlen);
    uLongf out = rawlen;
    const int rc = uncompress(reinterpret_cast<Bytef*>(raw.data()), &out,
                              reinterpret_cast<const Bytef*>(stored_.data()), stored);
    if (rc != Z_OK || out != rawlen)
      fail(body, "block does not decompress to its stated length (corrupt file)");
  }
  return body + stored;
}

bool TraceReader::next(Window& w) {
  if (pos_ == trailer_at_) {
    if (next_index_ != summary_.windows)
      fail(trailer_at_, "trailer says " + std::to_string(summary_.windows) +
                            " windows, file holds " + std::to_string(next_index_));
    return false;
  }
  const uint64_t at = pos_;
  pos_ = read_block(at, kWindowTag, trailer_at_, raw_);
  decode_window(raw_, w, at_byte(at), header_.max_window_accesses());
  if (w.index != next_index_)
    fail(at, "window " + std::to_string(w.index) + " where window " + std::to_string(next_index_) +
                 " was expected");
  // The trailer's page range is known before any window: a page outside it
  // is named where it occurs rather than as a mismatch at the end.
  for (const auto& p : w.pages)
    if (p.page < summary_.min_page || p.page > summary_.max_page)
      fail(at, "page " + std::to_string(p.page) + " is outside the trailer's range " +
                   std::to_string(summary_.min_page) + ".." + std::to_string(summary_.max_page));
  ++next_index_;
  return true;
}

void TraceReader::rewind() {
  pos_ = first_block_;
  next_index_ = 0;
}

}  // namespace vtmm::trace
