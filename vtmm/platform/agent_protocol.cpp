#include "vtmm/platform/agent_protocol.hpp"

#include <cmath>
#include <cstring>
#include <set>

namespace vtmm::agent_proto {
namespace {

// Little-endian writers/readers; the reader never reads past its end and
// reports exhaustion instead of trusting a length it was given.
void put(std::string& o, uint64_t v, int bytes) {
  for (int i = 0; i < bytes; ++i) o.push_back(static_cast<char>((v >> (8 * i)) & 0xff));
}
void put_f64(std::string& o, double d) {
  uint64_t v;
  std::memcpy(&v, &d, 8);
  put(o, v, 8);
}

class Reader {
 public:
  Reader(const uint8_t* p, size_t n) : p_(p), n_(n) {}
  bool u(int bytes, uint64_t& v) {
    if (n_ - at_ < static_cast<size_t>(bytes)) return false;
    v = 0;
    for (int i = 0; i < bytes; ++i) v |= uint64_t{p_[at_ + i]} << (8 * i);
    at_ += bytes;
    return true;
  }
  bool str(size_t len, std::string& s) {
    if (n_ - at_ < len) return false;
    s.assign(reinterpret_cast<const char*>(p_ + at_), len);
    at_ += len;
    return true;
  }
  size_t left() const { return n_ - at_; }

 private:
  const uint8_t* p_;
  size_t n_, at_ = 0;
};

bool name_ok(const std::string& s) {
  if (s.empty() || s.size() > kMaxName) return false;
  for (unsigned char c : s)
    if (!(std::isalnum(c) || c == '_' || c == '-' || c == '.' || c == ':' || c == '/'))
      return false;
  return true;
}
bool text_ok(const std::string& s) {
  for (unsigned char c : s)
    if (c < 0x20 || c > 0x7e) return false;
  return s.size() <= kMaxText;
}

Decoded fail(std::string why) { return Decoded{std::nullopt, std::move(why)}; }

}  // namespace

bool MemoryMap::contains_gfn(uint64_t gfn) const {
  if (gfn > (UINT64_MAX >> 12)) return false;
  const uint64_t a = gfn << 12;
  for (const auto& [b, e] : ranges)
    if (a >= b && a < e && e - a >= 4096) return true;
  return false;
}

uint64_t MemoryMap::total_bytes() const {
  uint64_t t = 0;
  for (const auto& [b, e] : ranges) t += e > b ? e - b : 0;
  return t;
}

std::string encode(const Message& m) {
  std::string p;
  if (const auto* h = std::get_if<Hello>(&m.body)) {
    put(p, h->agent_version, 4);
    put(p, h->node_bytes.size(), 4);
    put(p, h->mem_bytes, 8);
    for (uint64_t b : h->node_bytes) put(p, b, 8);
  } else if (const auto* x = std::get_if<Metrics>(&m.body)) {
    put(p, x->name.size(), 1);
    p += x->name;
    put(p, x->values.size(), 2);
    for (const auto& [k, v] : x->values) {
      put(p, k.size(), 1);
      p += k;
      put_f64(p, v);
    }
  } else if (const auto* g = std::get_if<Pages>(&m.body)) {
    put(p, static_cast<uint8_t>(g->source), 1);
    put(p, 0, 3);
    put(p, g->window, 4);
    put(p, g->gfns.size(), 4);
    for (size_t i = 0; i < g->gfns.size(); ++i)
      put(p,
          (g->gfns[i] & kPfnMask) |
              (uint64_t{i < g->flags.size() ? g->flags[i] : uint8_t{0}} << 56),
          8);
  } else if (const auto* tb = std::get_if<Tables>(&m.body)) {
    put(p, tb->gfns.size(), 4);
    for (size_t i = 0; i < tb->gfns.size(); ++i) {
      put(p, tb->gfns[i], 8);
      for (size_t j = 0; j < kPtesPerTable; ++j) {
        const size_t at = i * kPtesPerTable + j;
        put(p, at < tb->entries.size() ? tb->entries[at] : 0, 8);
      }
    }
  } else if (const auto* d = std::get_if<Done>(&m.body)) {
    put(p, static_cast<uint32_t>(d->status), 4);
  } else if (const auto* t = std::get_if<Text>(&m.body)) {
    put(p, t->text.size(), 2);
    p += t->text;
  }
  std::string f;
  put(f, kMagic, 4);
  put(f, kVersion, 2);
  put(f, static_cast<uint16_t>(m.type), 2);
  put(f, p.size(), 4);
  put(f, m.seq, 4);
  return f + p;
}

namespace {

// Each body decoder fills m.body from the payload and returns "" or why the
// payload is refused.
std::string decode_hello(Reader& r, const MemoryMap& map, Message& m) {
  Hello h;
  uint64_t ver, nodes, mem;
  if (!r.u(4, ver) || !r.u(4, nodes) || !r.u(8, mem)) return "hello: truncated";
  if (nodes == 0 || nodes > kMaxNodes) return "hello: node count out of range";
  if (r.left() != nodes * 8) return "hello: size does not match node count";
  uint64_t sum = 0;
  for (uint64_t i = 0; i < nodes; ++i) {
    uint64_t b = 0;
    if (!r.u(8, b)) return "hello: truncated";
    if (b > map.total_bytes()) return "hello: node larger than the VM";
    sum += b;
    h.node_bytes.push_back(b);
  }
  if (sum != mem) return "hello: node sizes do not add up to mem_bytes";
  if (mem == 0 || mem > map.total_bytes()) return "hello: mem_bytes outside the VM's memory map";
  h.agent_version = static_cast<uint32_t>(ver);
  h.mem_bytes = mem;
  m.body = std::move(h);
  return "";
}

std::string decode_metrics(Reader& r, Message& m) {
  Metrics x;
  uint64_t nl, count;
  if (!r.u(1, nl) || !r.str(nl, x.name)) return "metrics: truncated name";
  if (!name_ok(x.name)) return "metrics: bad name";
  if (!r.u(2, count)) return "metrics: truncated count";
  if (count > kMaxMetrics) return "metrics: too many values";
  std::set<std::string> keys;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t kl, bits;
    std::string k;
    if (!r.u(1, kl) || !r.str(kl, k) || !r.u(8, bits)) return "metrics: truncated value";
    if (!name_ok(k)) return "metrics: bad key";
    if (!keys.insert(k).second) return "metrics: duplicate key " + k;
    double v;
    std::memcpy(&v, &bits, 8);
    if (!std::isfinite(v)) return "metrics: non-finite value for " + k;
    x.values.emplace_back(std::move(k), v);
  }
  if (r.left() != 0) return "metrics: trailing bytes";
  m.body = std::move(x);
  return "";
}

std::string decode_pages(Reader& r, const MemoryMap& map, Message& m) {
  Pages g;
  uint64_t src, pad, window, count;
  if (!r.u(1, src) || !r.u(3, pad) || !r.u(4, window) || !r.u(4, count)) return "pages: truncated";
  if (src < 1 || src > 4) return "pages: unknown source";
  if (pad != 0) return "pages: reserved bytes set";
  if (count > kMaxPages || r.left() != count * 8) return "pages: size does not match count";
  g.source = static_cast<PageSource>(src);
  g.window = static_cast<uint32_t>(window);
  g.gfns.reserve(count);
  g.flags.reserve(count);
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t e = 0;
    if (!r.u(8, e)) return "pages: truncated";
    const uint64_t gfn = e & kPfnMask;
    const uint64_t flags = e >> 56;
    if ((e >> 52) & 0xf) return "pages: reserved bits set";
    if (flags == 0 || (flags & ~uint64_t{kAccessed | kDirty})) return "pages: bad flags";
    if (!map.contains_gfn(gfn)) return "pages: GPA outside the VM's memory map";
    g.gfns.push_back(gfn);
    g.flags.push_back(static_cast<uint8_t>(flags));
  }
  m.body = std::move(g);
  return "";
}

std::string decode_tables(Reader& r, const MemoryMap& map, Message& m) {
  Tables t;
  uint64_t count;
  if (!r.u(4, count)) return "tables: truncated";
  if (count == 0 || count > kMaxTablesPerFrame || r.left() != count * (8 + kPtesPerTable * 8))
    return "tables: size does not match count";
  t.gfns.reserve(count);
  t.entries.reserve(count * kPtesPerTable);
  std::set<uint64_t> seen;
  for (uint64_t i = 0; i < count; ++i) {
    uint64_t gfn = 0;
    if (!r.u(8, gfn)) return "tables: truncated";
    if (!map.contains_gfn(gfn)) return "tables: table outside the VM's memory map";
    if (!seen.insert(gfn).second) return "tables: table sent twice";
    t.gfns.push_back(gfn);
    for (size_t j = 0; j < kPtesPerTable; ++j) {
      uint64_t e = 0;
      if (!r.u(8, e)) return "tables: truncated";
      const uint64_t flags = e >> 56;
      if (e != 0) {
        if ((e >> 52) & 0xf) return "tables: reserved bits set";
        if (!(flags & kPresent) || (flags & ~uint64_t{kAccessed | kDirty | kPresent}))
          return "tables: bad flags";
        if (!map.contains_gfn(e & kPfnMask)) return "tables: GPA outside the VM's memory map";
      }
      t.entries.push_back(e);
    }
  }
  m.body = std::move(t);
  return "";
}

std::string decode_done(Reader& r, Message& m) {
  uint64_t s;
  if (!r.u(4, s) || r.left() != 0) return "done: size must be 4";
  m.body = Done{static_cast<int32_t>(static_cast<uint32_t>(s))};
  return "";
}

std::string decode_text(Reader& r, Message& m) {
  uint64_t n;
  Text t;
  if (!r.u(2, n) || n > kMaxText || !r.str(n, t.text) || r.left() != 0)
    return "text: size mismatch";
  if (!text_ok(t.text)) return "text: unprintable bytes";
  m.body = std::move(t);
  return "";
}

}  // namespace

Decoded decode_frame(const uint8_t* data, size_t len, const MemoryMap& map) {
  Reader r(data, len);
  uint64_t magic, version, type, length, seq;
  if (!r.u(4, magic) || !r.u(2, version) || !r.u(2, type) || !r.u(4, length) || !r.u(4, seq))
    return fail("truncated header");
  if (magic != kMagic) return fail("bad magic");
  if (version != kVersion) return fail("unsupported protocol version " + std::to_string(version));
  if (length > kMaxPayload)
    return fail("payload length " + std::to_string(length) + " over the limit");
  if (length != r.left())
    return fail("payload length " + std::to_string(length) + " does not match the frame");
  Message m;
  m.seq = static_cast<uint32_t>(seq);
  std::string why;
  switch (static_cast<MsgType>(type)) {
    case MsgType::Hello:
      why = decode_hello(r, map, m);
      break;
    case MsgType::Metrics:
      why = decode_metrics(r, m);
      break;
    case MsgType::Pages:
      why = decode_pages(r, map, m);
      break;
    case MsgType::Tables:
      why = decode_tables(r, map, m);
      break;
    case MsgType::Done:
      why = decode_done(r, m);
      break;
    case MsgType::Error:
    case MsgType::Command:
      why = decode_text(r, m);
      break;
    default:
      return fail("unknown message type " + std::to_string(type));
  }
  if (!why.empty()) return fail(std::move(why));
  m.type = static_cast<MsgType>(type);
  return Decoded{std::move(m), ""};
}

void StreamDecoder::feed(const void* data, size_t len) {
  if (pos_ > 0 && pos_ == buf_.size()) {
    buf_.clear();
    pos_ = 0;
  } else if (pos_ > (1u << 16)) {
    buf_.erase(0, pos_);
    pos_ = 0;
  }
  buf_.append(static_cast<const char*>(data), len);
}

void StreamDecoder::reject(std::string why) {
  ++rejected_;
  if (reasons_.size() < 100) reasons_.push_back(why);
  last_reason_ = std::move(why);
}

std::optional<Message> StreamDecoder::next() {
  for (;;) {
    if (buf_.size() - pos_ < kHeaderBytes) return std::nullopt;
    const auto* p = reinterpret_cast<const uint8_t*>(buf_.data() + pos_);
    uint32_t magic = 0, length = 0;
    for (int i = 0; i < 4; ++i) magic |= uint32_t{p[i]} << (8 * i);
    for (int i = 0; i < 4; ++i) length |= uint32_t{p[8 + i]} << (8 * i);
    if (magic != kMagic) {  // skip to the next possible frame start
      const size_t next_magic = buf_.find("VTMA", pos_ + 1);
      const size_t skip = (next_magic == std::string::npos ? buf_.size() - 3 : next_magic) - pos_;
      reject("bad magic: skipped " + std::to_string(skip) + " bytes");
      pos_ += skip;
      continue;
    }
    if (length > kMaxPayload) {
      reject("payload length " + std::to_string(length) + " over the limit");
      pos_ += 1;
      continue;
    }
    if (buf_.size() - pos_ < kHeaderBytes + length) return std::nullopt;
    Decoded d = decode_frame(p, kHeaderBytes + length, map_);
    pos_ += kHeaderBytes + length;
    if (d.msg) return d.msg;
    reject(d.error);
  }
}

}  // namespace vtmm::agent_proto
