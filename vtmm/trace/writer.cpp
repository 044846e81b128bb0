#include "vtmm/trace/writer.hpp"

#include <zlib.h>

#include <cerrno>
#include <cstring>
#include <filesystem>

#include "vtmm/core/error.hpp"
#include "vtmm/trace/codec.hpp"

namespace vtmm::trace {

namespace {
void le32(char* p, uint32_t v) {
  for (int i = 0; i < 4; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
void le64(char* p, uint64_t v) {
  for (int i = 0; i < 8; ++i) p[i] = static_cast<char>((v >> (8 * i)) & 0xff);
}
}  // namespace

TraceWriter::TraceWriter(std::string path, const Header& header, uint32_t codec)
    : path_(std::move(path)),
      part_(path_ + ".part"),
      codec_(codec),
      max_accesses_(header.max_window_accesses()) {
  header.check("trace '" + path_ + "': header");
  f_ = std::fopen(part_.c_str(), "wb");
  if (f_ == nullptr)
    throw SpecError("trace '" + path_ + "': cannot create: " + std::strerror(errno));
  const std::string js = header.to_json().dump();
  char head[20];
  std::memcpy(head, kMagic, 8);
  le32(head + 8, kVersion);
  le32(head + 12, static_cast<uint32_t>(js.size()));
  le32(head + 16, crc32_of(js.data(), js.size()));
  put(head, sizeof head);
  put(js.data(), js.size());
}

TraceWriter::~TraceWriter() {
  if (f_ != nullptr) std::fclose(f_);
  if (!finished_) std::remove(part_.c_str());
}

void TraceWriter::put(const void* p, size_t n) {
  if (std::fwrite(p, 1, n, f_) != n)
    throw SpecError("trace '" + path_ + "': write failed: " + std::strerror(errno));
  offset_ += n;
}

void TraceWriter::block(const char tag[4], const std::string& raw) {
  std::string stored;
  if (codec_ == kCodecZlib) {
    uLongf len = compressBound(static_cast<uLong>(raw.size()));
    stored.resize(len);
    if (compress2(reinterpret_cast<Bytef*>(stored.data()), &len,
                  reinterpret_cast<const Bytef*>(raw.data()), static_cast<uLong>(raw.size()),
                  Z_DEFAULT_COMPRESSION) != Z_OK)
      throw SpecError("trace '" + path_ + "': zlib compression failed");
    stored.resize(len);
  } else {
    stored = raw;
  }
  if (stored.size() > kMaxBlockBytes || raw.size() > kMaxBlockBytes)
    throw SpecError("trace '" + path_ + "': a window is too large for one block (over 1 GiB)");
  char h[kBlockHeaderBytes];
  std::memcpy(h, tag, 4);
  le32(h + 4, codec_);
  le32(h + 8, static_cast<uint32_t>(stored.size()));
  le32(h + 12, static_cast<uint32_t>(raw.size()));
  le32(h + 16, crc32_of(stored.data(), stored.size()));
  put(h, sizeof h);
  put(stored.data(), stored.size());
}

void TraceWriter::write(const Window& w) {
  const std::string where = "trace '" + path_ + "': window " + std::to_string(w.index);
  if (finished_) throw SpecError(where + ": written after finish()");
  const uint64_t expected = sum_.summary().windows;
  if (w.index != expected)
    throw SpecError(where + ": windows must be written in order (expected window " +
                    std::to_string(expected) + ")");
  check_window(w, where, max_accesses_);
  sum_.add(w, where);
  block(kWindowTag, encode_window(w));
}

const Summary& TraceWriter::finish() {
  if (finished_) return sum_.summary();
  const uint64_t trailer_at = offset_;
  block(kTrailerTag, sum_.summary().to_json().dump());
  char end[16];
  le64(end, trailer_at);
  std::memcpy(end + 8, kEndMagic, 8);
  put(end, sizeof end);
  const bool ok = std::fflush(f_) == 0;
  std::fclose(f_);
  f_ = nullptr;
  if (!ok) throw SpecError("trace '" + path_ + "': write failed: " + std::strerror(errno));
  std::error_code ec;
  std::filesystem::rename(part_, path_, ec);
  if (ec) throw SpecError("trace '" + path_ + "': cannot move into place: " + ec.message());
  finished_ = true;
  return sum_.summary();
}

}  // namespace vtmm::trace
