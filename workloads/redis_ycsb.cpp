// redis-ycsb: a Redis-like key-value store (Redis 6's dict and object layout)
// driven by YCSB core workloads.
//
// Data structures, all real and held in a host arena that mirrors the
// simulated heap byte for byte (pointers stored in it are simulated
// addresses):
//  - the dict: two tables of 8-byte bucket heads; chained dictEntry
//    {key, val, next} (24 B); incremental rehash as Redis's dict: when
//    used >= size the dict expands to the next power of two >= used * 2
//    (Redis 6 _dictExpandIfNeeded) into the second table, and every
//    lookup or insert first moves `rehash_steps` buckets (_dictRehashStep,
//    visiting at most 10 empty buckets per step); lookups search both
//    tables while rehashing, inserts go to the new one;
//  - keys are sds strings ("user" + FNV hash of the key number, as YCSB
//    names keys; sdshdr8), values are a robj (16 B) pointing to an sds of
//    `value_bytes` (sdshdr16 for 4 KiB);
//  - a jemalloc-like size-class allocator carves every object from the heap
//    region: 16-byte spacing up to 128 B, then four classes per doubling
//    (a 4 KiB value's sds, 4101 B, lands in the 5 KiB class); each class
//    fills slabs (the least multiple of 4 KiB holding whole objects) so
//    objects of one class are packed; tables are page-aligned extents.
//
// YCSB: the load phase inserts `records` keys in key-number order (the
// setup phase: it is the first-touch order); then warmup_requests and
// `requests` measured requests. mix "default": 50 % read / 50 % update,
// hotspot keys (80 % of requests to 20 % of keys, the hot set being the
// first 20 % of a seeded shuffle of the key space); "a", "b", "c": YCSB
// workloads A (50/50), B (95/5), C (100 % read), scrambled zipfian 0.99.
// A read walks to the key's entry (dependent: mlp 1) then reads the
// robj and the whole value (copied to the reply: mlp 8); an update finds
// the key the same way and rewrites the value in place (same size class).
// Redis executes commands on one thread (its event loop; I/O threads, where
// enabled, only read and write sockets), so with several vCPUs vCPU 0 runs
// the server and the other vCPUs, where YCSB's client threads would run, add
// no accesses (the clients' own memory is not modelled).
//
// Check: every value carries its key number in its first 8 bytes and a tag
// of (key, version) in its last 8; each read compares them with the version
// the host expects for that key (a mismatch is recorded and thrown by
// verify()); verify() also looks every key up again and checks the entry
// count of both tables. ops = measured requests.
#include <algorithm>
#include <cstring>
#include <string>
#include <vector>

#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"
#include "workloads/access_queue.hpp"
#include "workloads/kv_requests.hpp"
#include "workloads/ycsb.hpp"

namespace vtmm {
namespace {

using workloads::AccessQueue;

// jemalloc's size classes (4 per doubling above 128 B, 16-byte quantum below).
uint64_t size_class(uint64_t n) {
  if (n <= 8) return 8;
  if (n <= 128) return (n + 15) & ~uint64_t{15};
  int lg = 63 - __builtin_clzll(n - 1);  // 2^lg < n <= 2^(lg+1)
  const uint64_t delta = uint64_t{1} << (lg - 2);
  return (n + delta - 1) & ~(delta - 1);
}

uint64_t slab_bytes(uint64_t cls) {
  uint64_t s = kPageSize;
  while (s % cls != 0) s += kPageSize;
  return s;
}

uint64_t next_pow2(uint64_t n) {
  uint64_t s = 4;  // DICT_HT_INITIAL_SIZE
  while (s < n) s <<= 1;
  return s;
}

constexpr uint64_t kRedisTagSalt = 0x5ee0c0ffee123457ULL;  // workloads::value_tag

class RedisYcsb final : public workloads::SteppedWorkload, public workloads::TestCorruptible {
 public:
  RedisYcsb(Params& p, const WorkloadEnv& env) : SteppedWorkload(env.vcpus), seed_(env.seed) {
    // ~1 GiB footprint: a 4 KiB value occupies a 5 KiB jemalloc class plus
    // ~100 B of entry, key and robj, so 200k records.
    records_ = p.get_count("records", 200'000);
    value_bytes_ = p.get<uint32_t>("value_bytes", 4096);  // the paper's Redis: 4 KiB values
    // Quick scale (YCSB's default operationcount is 1000; runs use ~1M).
    warmup_ = p.get_count("warmup_requests", 50'000);
    requests_ = p.get_count("requests", 200'000);
    mix_ = p.get<std::string>("mix", "default");
    rehash_steps_ = p.get<uint32_t>("rehash_steps", 1);  // Redis's _dictRehashStep moves one bucket
    // Assumed: RESP parsing, command dispatch, hashing the key (siphash) and
    // building the reply; redis-benchmark with pipelining serves ~1M GETs
    // per second per core, i.e. ~1 us of user-space work per request. The
    // kernel's network stack is not modelled.
    request_ns_ = p.get<double>("request_ns", 1000.0);
    // Assumed: ~1 cycle per 64-byte line copied (AVX2 memcpy) or pointer hop.
    compute_ns_ = p.get<double>("compute_ns", 0.5);
    if (records_ < 16 || records_ > (uint64_t{1} << 28))
      p.fail("records", "must be between 16 and 2^28");
    if (value_bytes_ < 16 || value_bytes_ > (1u << 20))
      p.fail("value_bytes", "must be between 16 and 1MiB");
    if (requests_ < 1) p.fail("requests", "must be at least 1");
    if (rehash_steps_ < 1 || rehash_steps_ > 1024)
      p.fail("rehash_steps", "must be between 1 and 1024");
    if (!(request_ns_ >= 0)) p.fail("request_ns", "must not be negative");
    if (!(compute_ns_ >= 0)) p.fail("compute_ns", "must not be negative");
    loop_ = workloads::RequestLoop(records_, warmup_, requests_);
    if (mix_ == "default") {
      read_fraction_ = 0.5;
    } else if (mix_ == "a") {
      read_fraction_ = 0.5;
    } else if (mix_ == "b") {
      read_fraction_ = 0.95;
    } else if (mix_ == "c") {
      read_fraction_ = 1.0;
    } else {
      p.fail("mix", "must be \"default\", \"a\", \"b\" or \"c\"");
    }
    // Object sizes: dictEntry 24 B; key sds: 3-byte sdshdr8 + up to 23 chars
    // + NUL; robj 16 B; value sds: header by length (sdsReqType) + NUL.
    val_hdr_ = value_bytes_ < 256 ? 3 : value_bytes_ < 65536 ? 5 : 9;
    const uint64_t classes[4] = {size_class(24), size_class(27), size_class(16),
                                 size_class(val_hdr_ + value_bytes_ + 1)};
    for (int c = 0; c < 4; ++c) {
      cls_[c] = classes[c];
      slab_[c] = slab_bytes(cls_[c]);
    }
    uint64_t heap = kPageSize;  // offset 0 is never handed out (null)
    for (int c = 0; c < 4; ++c) {
      const uint64_t per = slab_[c] / cls_[c];
      heap += (records_ + per - 1) / per * slab_[c] + slab_[c];
    }
    for (uint64_t s = 4, used = 0; used <= records_; used = s, s = next_pow2(s * 2))
      heap += (s * 8 + kPageSize - 1) / kPageSize * kPageSize;
    heap_bytes_ = heap;
    heap_va_ = layout_.alloc(heap_bytes_);
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return loop_.measured(); }
  std::string op_name() const override { return "request"; }

  void verify() const override {
    if (!failure_.empty()) throw VerifyError("redis-ycsb: " + failure_);
    if (!loop_.finished()) throw VerifyError("redis-ycsb: not every request ran");
    uint64_t count = 0;
    for (int t = 0; t < 2; ++t)
      for (uint64_t i = 0; i < ht_[t].size; ++i)
        for (uint64_t de = ld(ht_[t].va + i * 8); de != 0; de = ld(de + 16)) ++count;
    if (count != records_ || ht_[0].used + ht_[1].used != records_)
      throw VerifyError("redis-ycsb: the dict holds " + std::to_string(count) +
                        " entries, expected " + std::to_string(records_));
    for (uint64_t id = 0; id < records_; ++id) {
      const std::string key = workloads::ycsb::key_name(id);
      const uint64_t de = find_host(key, workloads::key_hash(key));
      if (de == 0) throw VerifyError("redis-ycsb: key " + key + " is missing");
      const std::string err = check_value(de, id);
      if (!err.empty()) throw VerifyError("redis-ycsb: " + err);
    }
  }

  void corrupt_for_test() override {
    const std::string key = workloads::ycsb::key_name(records_ / 2);
    const uint64_t de = find_host(key, workloads::key_hash(key));
    const uint64_t buf = ld(ld(de + 8) + 8);
    st(buf + value_bytes_ - 8, ld(buf + value_bytes_ - 8) ^ 1);  // a lost update
  }

 protected:
  void build() override {
    arena_.assign(heap_bytes_, 0);
    brk_ = kPageSize;
    version_.assign(records_, 0);
    rng_ = Rng(seed_ * 0x9e3779b97f4a7c15ULL + 17);
    zipf_ = workloads::ycsb::ScrambledZipfian(records_);
    hotspot_ =
        workloads::ycsb::ShuffledHotspot(records_, seed_);  // 20 % of keys get 80 % of requests
  }

  bool step(uint32_t v, AccessQueue& q) override {
    if (v != 0) return false;  // the single-threaded server
    return loop_.step(
        16, ph_, [&](uint64_t id) { insert(q, id); },
        [&] {
          const uint64_t id = mix_ == "default" ? hotspot_.next(rng_) : zipf_.next(rng_);
          if (rng_.uniform() < read_fraction_)
            get(q, id);
          else
            update(q, id);
        });
  }

 private:
  struct Table {
    uint64_t va = 0, size = 0, used = 0;
  };

  // --- the arena ----------------------------------------------------------
  uint64_t ld(uint64_t va) const {
    uint64_t v;
    std::memcpy(&v, &arena_[va - heap_va_], 8);
    return v;
  }
  void st(uint64_t va, uint64_t v) { std::memcpy(&arena_[va - heap_va_], &v, 8); }
  uint8_t* at(uint64_t va) { return &arena_[va - heap_va_]; }
  const uint8_t* at(uint64_t va) const { return &arena_[va - heap_va_]; }

  uint64_t carve(uint64_t bytes) {
    const uint64_t off = brk_;
    brk_ += bytes;
    if (brk_ > heap_bytes_) throw VerifyError("redis-ycsb: simulated heap exhausted");
    return heap_va_ + off;
  }
  uint64_t malloc_class(int c) {
    if (cur_[c] == end_[c]) {
      cur_[c] = carve(slab_[c]);
      end_[c] = cur_[c] + slab_[c] / cls_[c] * cls_[c];
    }
    const uint64_t va = cur_[c];
    cur_[c] += cls_[c];
    return va;
  }

  // --- accesses -----------------------------------------------------------
  void chain_mode(AccessQueue& q, float extra = 0) const {
    q.mode(ph_, 1, static_cast<float>(compute_ns_) + extra);
  }
  void push_range(AccessQueue& q, uint64_t va, uint64_t bytes, AccessKind k) const {
    q.mode(ph_, 8, static_cast<float>(compute_ns_));
    for (uint64_t l = va >> kLineShift, e = (va + bytes - 1) >> kLineShift; l <= e; ++l)
      q.push(l << kLineShift, k);
  }

  bool key_equals(uint64_t sds, const std::string& key) const {
    const uint8_t* p = at(sds);
    return static_cast<size_t>(p[0]) == key.size() &&
           std::memcmp(p + 3, key.data(), key.size()) == 0;
  }
  uint64_t key_hash_at(uint64_t sds) const {
    const uint8_t* p = at(sds);
    return workloads::key_hash(std::string(reinterpret_cast<const char*>(p + 3), p[0]));
  }

  // dictRehash(d, rehash_steps_).
  void rehash_step(AccessQueue& q) {
    if (rehashidx_ < 0) return;
    chain_mode(q);
    uint64_t n = rehash_steps_, empty_visits = n * 10;
    while (n-- > 0 && ht_[0].used != 0) {
      uint64_t slot = ht_[0].va + static_cast<uint64_t>(rehashidx_) * 8;
      q.push(slot, kRead);
      while (ld(slot) == 0) {
        ++rehashidx_;
        if (--empty_visits == 0) return;
        slot += 8;
        q.push(slot, kRead);
      }
      for (uint64_t de = ld(slot); de != 0;) {
        q.push(de, kRead);
        const uint64_t next = ld(de + 16);
        const uint64_t key = ld(de);
        q.push(key, kRead);
        const uint64_t dst = ht_[1].va + (key_hash_at(key) & (ht_[1].size - 1)) * 8;
        q.push(dst, kRead);
        st(de + 16, ld(dst));
        q.push(de + 16, kWrite);
        st(dst, de);
        q.push(dst, kWrite);
        --ht_[0].used;
        ++ht_[1].used;
        de = next;
      }
      st(slot, 0);
      q.push(slot, kWrite);
      ++rehashidx_;
    }
    if (ht_[0].used == 0) {  // the old table is freed (its extent is not reused here)
      ht_[0] = ht_[1];
      ht_[1] = Table{};
      rehashidx_ = -1;
    }
  }

  void expand_if_needed() {
    if (rehashidx_ >= 0) return;
    if (ht_[0].size == 0) {
      ht_[0] = new_table(4);
      return;
    }
    if (ht_[0].used >= ht_[0].size) {
      ht_[1] = new_table(next_pow2(ht_[0].used * 2));
      rehashidx_ = 0;
    }
  }
  Table new_table(uint64_t size) {
    Table t;
    t.size = size;
    t.va = carve((size * 8 + kPageSize - 1) / kPageSize * kPageSize);  // zeroed pages (calloc)
    return t;
  }

  // dictFind's search (after its rehash step): both tables while rehashing.
  uint64_t find(AccessQueue& q, const std::string& key, uint64_t h) {
    chain_mode(q, static_cast<float>(request_ns_));
    bool first = true;
    for (int t = 0; t < (rehashidx_ >= 0 ? 2 : 1); ++t) {
      if (ht_[t].size == 0) continue;
      const uint64_t slot = ht_[t].va + (h & (ht_[t].size - 1)) * 8;
      q.push(slot, kRead);
      if (first) chain_mode(q);
      first = false;
      for (uint64_t de = ld(slot); de != 0; de = ld(de + 16)) {
        q.push(de, kRead);
        q.push(ld(de), kRead);
        if (key_equals(ld(de), key)) return de;
      }
    }
    return 0;
  }
  uint64_t find_host(const std::string& key, uint64_t h) const {
    for (int t = 0; t < 2; ++t) {
      if (ht_[t].size == 0) continue;
      for (uint64_t de = ld(ht_[t].va + (h & (ht_[t].size - 1)) * 8); de != 0; de = ld(de + 16))
        if (key_equals(ld(de), key)) return de;
    }
    return 0;
  }

  void write_value(uint64_t buf, uint64_t id) {
    st(buf, id);
    st(buf + value_bytes_ - 8, workloads::value_tag(id, version_[id], kRedisTagSalt));
  }
  std::string check_value(uint64_t de, uint64_t id) const {
    const uint64_t buf = ld(ld(de + 8) + 8);
    if (ld(buf) != id ||
        ld(buf + value_bytes_ - 8) != workloads::value_tag(id, version_[id], kRedisTagSalt))
      return "key " + std::to_string(id) +
             ": the value read is not the last one written (version " +
             std::to_string(version_[id]) + ")";
    return {};
  }

  void insert(AccessQueue& q, uint64_t id) {
    const std::string key = workloads::ycsb::key_name(id);
    const uint64_t h = workloads::key_hash(key);
    // The SET's argv: the value sds and its robj are built while parsing.
    const uint64_t sds = malloc_class(3), robj = malloc_class(2);
    const uint64_t buf = sds + val_hdr_;
    write_value(buf, id);
    push_range(q, sds, val_hdr_ + value_bytes_ + 1, kWrite);
    st(robj + 8, buf);
    chain_mode(q);
    q.push(robj, kWrite);
    // dictAdd: rehash step, expand, key index (walks the chains), link.
    rehash_step(q);
    expand_if_needed();
    if (find(q, key, h) != 0) throw VerifyError("redis-ycsb: key inserted twice");
    const uint64_t ksds = malloc_class(1), de = malloc_class(0);
    uint8_t* kp = at(ksds);
    kp[0] = static_cast<uint8_t>(key.size());
    kp[1] = static_cast<uint8_t>(key.size());
    kp[2] = 1;  // SDS_TYPE_8
    std::memcpy(kp + 3, key.data(), key.size());
    q.push(ksds, kWrite);
    Table& t = ht_[rehashidx_ >= 0 ? 1 : 0];
    const uint64_t slot = t.va + (h & (t.size - 1)) * 8;
    st(de, ksds);
    st(de + 8, robj);
    st(de + 16, ld(slot));
    q.push(de, kWrite);
    st(slot, de);
    q.push(slot, kReadWrite);
    ++t.used;
  }

  uint64_t lookup(AccessQueue& q, uint64_t id) {
    const std::string key = workloads::ycsb::key_name(id);
    const uint64_t h = workloads::key_hash(key);
    rehash_step(q);
    const uint64_t de = find(q, key, h);
    if (de == 0) throw VerifyError("redis-ycsb: key " + key + " not found");
    q.push(ld(de + 8), kRead);  // the robj
    return ld(ld(de + 8) + 8);  // the value's buf
  }

  void get(AccessQueue& q, uint64_t id) {
    const uint64_t buf = lookup(q, id);
    push_range(q, buf - val_hdr_, val_hdr_ + value_bytes_ + 1, kRead);
    if (ld(buf) != id ||
        ld(buf + value_bytes_ - 8) != workloads::value_tag(id, version_[id], kRedisTagSalt)) {
      if (failure_.empty())
        failure_ = "GET of key " + std::to_string(id) +
                   " returned a value other than the last SET (version " +
                   std::to_string(version_[id]) + ")";
    }
  }

  void update(AccessQueue& q, uint64_t id) {
    const uint64_t buf = lookup(q, id);
    ++version_[id];
    write_value(buf, id);
    push_range(q, buf - val_hdr_, val_hdr_ + value_bytes_ + 1, kWrite);
  }

  uint64_t seed_;
  uint64_t records_, warmup_, requests_;
  uint32_t value_bytes_, rehash_steps_;
  std::string mix_;
  double read_fraction_ = 0.5, request_ns_, compute_ns_;
  uint64_t val_hdr_;
  uint64_t cls_[4], slab_[4];
  uint64_t cur_[4] = {0, 0, 0, 0}, end_[4] = {0, 0, 0, 0};
  VaLayout layout_;
  uint64_t heap_va_, heap_bytes_, brk_ = 0;

  std::vector<uint8_t> arena_;
  std::vector<uint64_t> version_;
  Table ht_[2];
  int64_t rehashidx_ = -1;
  Rng rng_{1};
  workloads::ycsb::ScrambledZipfian zipf_{1};
  workloads::ycsb::ShuffledHotspot hotspot_;
  Phase ph_ = Phase::Setup;
  workloads::RequestLoop loop_;
  std::string failure_;
};

VTMM_REGISTER(
    WorkloadRegistry, RedisYcsb, "redis-ycsb",
    "Redis-like dict (chained, incremental rehash, jemalloc size classes) under YCSB requests")

}  // namespace
}  // namespace vtmm
