#include "vtmm/trace/codec.hpp"

#include "vtmm/core/error.hpp"

namespace vtmm::trace {

std::string encode_window(const Window& w) {
  std::string out;
  out.reserve(16 + w.pages.size() * 6);
  put_varint(out, w.index);
  put_varint(out, w.instructions);
  put_varint(out, w.marker.size());
  out += w.marker;
  put_varint(out, w.pages.size());
  uint64_t prev = 0;
  for (const auto& p : w.pages) {
    put_varint(out, p.page - prev);
    put_varint(out, p.reads);
    put_varint(out, p.writes);
    prev = p.page;
  }
  return out;
}

namespace {

struct Cursor {
  std::string_view s;
  size_t at = 0;
  const std::string& where;
  uint64_t varint(const char* what) {
    uint64_t v = 0;
    for (int shift = 0; shift < 64; shift += 7) {
      if (at >= s.size()) throw SpecError(where + ": payload ends inside " + what);
      const auto b = static_cast<uint8_t>(s[at++]);
      v |= static_cast<uint64_t>(b & 0x7f) << shift;
      if ((b & 0x80) == 0) return v;
    }
    throw SpecError(where + ": " + what + " is not a valid varint");
  }
};

}  // namespace

void decode_window(std::string_view payload, Window& w, const std::string& where,
                   uint64_t max_accesses) {
  Cursor c{payload, 0, where};
  w.index = c.varint("window index");
  w.instructions = c.varint("instruction count");
  const uint64_t mlen = c.varint("marker length");
  if (mlen > kMaxMarkerBytes || mlen > payload.size() - c.at)
    throw SpecError(where + ": bad marker length " + std::to_string(mlen));
  w.marker.assign(payload.substr(c.at, mlen));
  c.at += mlen;
  const uint64_t n = c.varint("page count");
  // A page is a delta, a read count and a write count, a byte each at least.
  if (n > (payload.size() - c.at) / 3)
    throw SpecError(where + ": page count " + std::to_string(n) +
                    " is more than the payload can hold");
  w.pages.resize(n);
  uint64_t prev = 0;
  for (uint64_t i = 0; i < n; ++i) {
    PageCount& p = w.pages[i];
    const uint64_t d = c.varint("page delta");
    // Checked before adding: a delta near 2^64 would wrap to a smaller page.
    if (d >= kPageLimit - prev)
      throw SpecError(where + ": page number after page " + std::to_string(prev) +
                      " is not below 2^52");
    p.page = prev + d;
    p.reads = c.varint("read count");
    p.writes = c.varint("write count");
    prev = p.page;
  }
  if (c.at != payload.size())
    throw SpecError(where + ": " + std::to_string(payload.size() - c.at) +
                    " stray bytes after the last page");
  check_window(w, where, max_accesses);
}

void check_window(const Window& w, const std::string& where, uint64_t max_accesses) {
  if (!w.marker.empty() && !valid_marker(w.marker))
    throw SpecError(where + ": marker '" + w.marker +
                    "' must be 1-64 characters of A-Z a-z 0-9 _ . : -");
  uint64_t accesses = 0;
  for (size_t i = 0; i < w.pages.size(); ++i) {
    const PageCount& p = w.pages[i];
    auto fail = [&](const std::string& what) {
      throw SpecError(where + ": page " + std::to_string(p.page) + " " + what);
    };
    if (i > 0 && p.page == w.pages[i - 1].page) fail("listed twice");
    if (i > 0 && p.page < w.pages[i - 1].page)
      fail("is out of order (pages must be strictly ascending)");
    if (p.page >= kPageLimit) fail("is not below 2^52");
    if (p.reads == 0 && p.writes == 0) fail("has no accesses");
    // Compared before adding, so no sum can overflow.
    if (p.reads > max_accesses - accesses || p.writes > max_accesses - accesses - p.reads)
      fail("(" + std::to_string(p.reads) + " reads, " + std::to_string(p.writes) +
           " writes) takes window " + std::to_string(w.index) + " past " +
           std::to_string(max_accesses) + " accesses, the most a window of this trace may hold");
    accesses += p.reads + p.writes;
  }
}

}  // namespace vtmm::trace
