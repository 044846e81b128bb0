// memcached: a memcached-like cache (memcached 1.4's slab allocator, item
// layout, chained hash table and per-class LRU) under a YCSB-like mix.
//
// Data structures, all real and held in host arrays that mirror the
// simulated regions byte for byte (pointers stored in them are simulated
// addresses):
//  - slab classes: chunk sizes from 96 B (48-byte item header + the default
//    48-byte minimum, memcached -n 48) growing by -f 1.25, 8-byte aligned, up
//    to half a slab page; 1 MiB slab pages (-I 1m) handed to a class when its
//    free list and current page are empty, up to `memory` bytes (-m);
//  - items: a 56-byte header {LRU next, LRU prev, hash next, time, nbytes,
//    refcount, flags, class, nkey, cas}, the key, a NUL, the data and its
//    "\r\n", in one chunk of the smallest class that holds it;
//  - a hash table of 8-byte bucket heads, 2^hash_power of them, chained
//    through the item headers (memcached starts with -o hashpower=16 and
//    grows in the background; here it is sized for `records` up front);
//  - a doubly linked LRU per class; a GET bumps the item to the head at most
//    once per `bump_every` requests (memcached: ITEM_UPDATE_INTERVAL, 60 s);
//    when a class cannot get a chunk it evicts its LRU tail.
// A SET allocates a new item, writes it, then replaces the old one
// (do_item_replace: unlink from the hash chain and the LRU, free its chunk
// to the class's free list) and links the new one (hash head, LRU head).
//
// Requests: a load phase (setup) SETs `records` keys; then warmup_requests
// and `requests` measured requests, `get_fraction` GETs (default 90 %) and
// SETs, keys by YCSB's scrambled zipfian (0.99), value sizes uniform in
// [value_min, value_max]. Requests are dealt to vCPUs as they ask (memcached
// worker threads); the cache is one shared host structure.
//
// Check: every value carries its key number in its first 8 bytes and a tag
// of (key, version) in its last 8 bytes; a GET hit must return the last SET
// (a miss is allowed only for a key the host saw evicted or whose SET failed
// for lack of memory); verify() also checks every present key, the item
// count, and every LRU list's links. ops = measured requests.
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

constexpr uint64_t kHdr = 56;  // item header incl. the 8-byte CAS
constexpr uint64_t kSlabPage = uint64_t{1} << 20;

constexpr uint64_t kMemcachedTagSalt = 0x3e3ca4edcafe1234ULL;  // workloads::value_tag

class Memcached final : public workloads::SteppedWorkload, public workloads::TestCorruptible {
 public:
  Memcached(Params& p, const WorkloadEnv& env) : SteppedWorkload(env.vcpus), seed_(env.seed) {
    // ~1 GiB of slab memory, ~70 % filled by 1.2M items of ~600 B on average.
    records_ = p.get_count("records", 1'200'000);
    memory_ = p.get_bytes("memory", uint64_t{1} << 30);  // -m 1024
    value_min_ = p.get<uint32_t>("value_min",
                                 100);  // the project's memcached shape: values uniform 100..1000 B
    value_max_ = p.get<uint32_t>("value_max", 1000);
    get_fraction_ = p.get<double>("get_fraction", 0.9);  // a read-mostly cache: 90 % GET / 10 % SET
    // Quick scale.
    warmup_ = p.get_count("warmup_requests", 200'000);
    requests_ = p.get_count("requests", 1'000'000);
    // memcached bumps an item at most once per ITEM_UPDATE_INTERVAL (60 s);
    // in requests, assumed: a quick run lasts well under a minute of server
    // time, so a rate that lets the hottest keys bump a few times per run.
    bump_every_ = p.get<uint64_t>("bump_every", 100'000);
    factor_ = p.get<double>("growth_factor", 1.25);  // memcached -f default
    // Assumed, as for redis-ycsb: ~1 us of user-space work per request
    // (protocol parsing, hashing, reply); the network stack is not modelled.
    request_ns_ = p.get<double>("request_ns", 1000.0);
    compute_ns_ = p.get<double>("compute_ns", 0.5);  // ~1 cycle per line copied or pointer hop
    uint32_t hp = 16;  // memcached's default hashpower, grown to hold `records` at load factor <= 1
    while ((uint64_t{1} << hp) < records_) ++hp;
    hash_power_ = p.get<uint32_t>("hash_power", hp);
    if (records_ < 16 || records_ > (uint64_t{1} << 28))
      p.fail("records", "must be between 16 and 2^28");
    if (memory_ < 4 * kSlabPage) p.fail("memory", "must be at least 4MiB");
    if (value_min_ < 16) p.fail("value_min", "must be at least 16");
    if (value_max_ < value_min_ || value_max_ > 256 * 1024)
      p.fail("value_max", "must be in [value_min, 256KiB]");
    if (!(get_fraction_ >= 0 && get_fraction_ <= 1)) p.fail("get_fraction", "must be in [0, 1]");
    if (requests_ < 1) p.fail("requests", "must be at least 1");
    if (bump_every_ < 1) p.fail("bump_every", "must be at least 1");
    if (!(factor_ >= 1.05 && factor_ <= 4)) p.fail("growth_factor", "must be in [1.05, 4]");
    if (hash_power_ < 4 || hash_power_ > 32) p.fail("hash_power", "must be between 4 and 32");
    if (!(request_ns_ >= 0)) p.fail("request_ns", "must not be negative");
    if (!(compute_ns_ >= 0)) p.fail("compute_ns", "must not be negative");
    loop_ = workloads::RequestLoop(records_, warmup_, requests_);
    // slabs_init: sizes grow by the factor from 96 B, 8-byte aligned, up to
    // half a page; the last class is half a page.
    double size = 96;
    for (;;) {
      uint64_t s = static_cast<uint64_t>(size);
      if (s % 8) s += 8 - s % 8;
      if (static_cast<double>(kSlabPage / 2) / factor_ < static_cast<double>(s)) break;
      chunk_.push_back(s);
      size = static_cast<double>(s) * factor_;
    }
    chunk_.push_back(kSlabPage / 2);
    if (kHdr + 24 + 1 + value_max_ + 2 > kSlabPage / 2)
      p.fail("value_max", "items must fit in half a slab page");
    pages_ = memory_ / kSlabPage;
    hash_va_ = layout_.alloc((uint64_t{1} << hash_power_) * 8);
    slab_va_ = layout_.alloc(pages_ * kSlabPage);
  }

  uint64_t footprint_bytes() const override { return layout_.bytes(); }
  uint64_t ops() const override { return loop_.measured(); }
  std::string op_name() const override { return "request"; }

  void verify() const override {
    if (!failure_.empty()) throw VerifyError("memcached: " + failure_);
    if (!loop_.finished()) throw VerifyError("memcached: not every request ran");
    uint64_t in_hash = 0;
    for (uint64_t b = 0; b < (uint64_t{1} << hash_power_); ++b)
      for (uint64_t it = ld(hash_va_ + b * 8); it != 0; it = ld(it + 16)) ++in_hash;
    uint64_t present = 0;
    for (uint64_t id = 0; id < records_; ++id) {
      if (!present_[id]) continue;
      ++present;
      const std::string key = workloads::ycsb::key_name(id);
      const uint64_t it = find_host(key, workloads::key_hash(key));
      if (it == 0) throw VerifyError("memcached: key " + key + " is missing");
      const std::string err = check(it, id);
      if (!err.empty()) throw VerifyError("memcached: " + err);
    }
    if (in_hash != present)
      throw VerifyError("memcached: the hash table holds " + std::to_string(in_hash) +
                        " items, expected " + std::to_string(present));
    uint64_t in_lru = 0;
    for (size_t c = 0; c < chunk_.size(); ++c) {
      uint64_t prev = 0;
      for (uint64_t it = heads_[c]; it != 0; prev = it, it = ld(it)) {
        if (ld(it + 8) != prev || static_cast<size_t>(at(it)[39]) != c)
          throw VerifyError("memcached: an LRU list is broken");
        ++in_lru;
      }
      if (tails_[c] != prev) throw VerifyError("memcached: an LRU tail is wrong");
    }
    if (in_lru != present) throw VerifyError("memcached: the LRU lists do not hold every item");
  }

  void corrupt_for_test() override {
    for (uint64_t id = 0; id < records_; ++id)
      if (present_[id]) {
        const std::string key = workloads::ycsb::key_name(id);
        const uint64_t it = find_host(key, workloads::key_hash(key));
        const uint64_t end = data(it) + nbytes(it) - 2 - 8;
        st(end, ld(end) ^ 1);  // a torn write
        return;
      }
  }

 protected:
  void build() override {
    hash_.assign((uint64_t{1} << hash_power_) * 8, 0);
    slab_.assign(pages_ * kSlabPage, 0);
    heads_.assign(chunk_.size(), 0);
    tails_.assign(chunk_.size(), 0);
    free_.assign(chunk_.size(), 0);
    cur_.assign(chunk_.size(), 0);
    end_.assign(chunk_.size(), 0);
    version_.assign(records_, 0);
    present_.assign(records_, 0);
    rng_ = Rng(seed_ * 0x9e3779b97f4a7c15ULL + 29);
    zipf_ = workloads::ycsb::ScrambledZipfian(records_);
  }

  bool step(uint32_t, AccessQueue& q) override {
    return loop_.step(
        32, ph_, [&](uint64_t id) { set(q, id); },
        [&] {
          const uint64_t id = zipf_.next(rng_);
          if (rng_.uniform() < get_fraction_)
            get(q, id);
          else
            set(q, id);
        });
  }

 private:
  // --- host mirrors of the simulated regions -----------------------------
  uint8_t* at(uint64_t va) {
    return va >= slab_va_ ? &slab_[va - slab_va_] : &hash_[va - hash_va_];
  }
  const uint8_t* at(uint64_t va) const {
    return va >= slab_va_ ? &slab_[va - slab_va_] : &hash_[va - hash_va_];
  }
  uint64_t ld(uint64_t va) const {
    uint64_t v;
    std::memcpy(&v, at(va), 8);
    return v;
  }
  void st(uint64_t va, uint64_t v) { std::memcpy(at(va), &v, 8); }
  uint32_t ld32(uint64_t va) const {
    uint32_t v;
    std::memcpy(&v, at(va), 4);
    return v;
  }
  void st32(uint64_t va, uint32_t v) { std::memcpy(at(va), &v, 4); }
  uint64_t nkey(uint64_t it) const { return at(it)[40]; }
  uint64_t nbytes(uint64_t it) const { return ld32(it + 32); }
  uint64_t data(uint64_t it) const { return it + kHdr + nkey(it) + 1; }
  uint64_t ntotal(uint64_t it) const { return kHdr + nkey(it) + 1 + nbytes(it); }

  bool key_equals(uint64_t it, const std::string& key) const {
    return nkey(it) == key.size() && std::memcmp(at(it + kHdr), key.data(), key.size()) == 0;
  }
  uint64_t bucket(uint64_t h) const {
    return hash_va_ + (h & ((uint64_t{1} << hash_power_) - 1)) * 8;
  }

  void mode(AccessQueue& q, uint8_t mlp, double extra = 0) const {
    q.mode(ph_, mlp, static_cast<float>(compute_ns_ + extra));
  }
  void push_range(AccessQueue& q, uint64_t va, uint64_t bytes, AccessKind k) const {
    mode(q, 8);
    for (uint64_t l = va >> kLineShift, e = (va + bytes - 1) >> kLineShift; l <= e; ++l)
      q.push(l << kLineShift, k);
  }
  // Reads an item's header and key while walking a chain (the key may spill
  // into the next line).
  void push_key(AccessQueue& q, uint64_t it) const {
    q.push(it, kRead);
    q.push(it + kHdr + nkey(it) - 1, kRead);
  }

  // assoc_find, with the chain walk reported.
  uint64_t find(AccessQueue& q, const std::string& key, uint64_t h) {
    mode(q, 1, request_ns_);
    const uint64_t b = bucket(h);
    q.push(b, kRead);
    mode(q, 1);
    for (uint64_t it = ld(b); it != 0; it = ld(it + 16)) {
      push_key(q, it);
      if (key_equals(it, key)) return it;
    }
    return 0;
  }
  uint64_t find_host(const std::string& key, uint64_t h) const {
    for (uint64_t it = ld(bucket(h)); it != 0; it = ld(it + 16))
      if (key_equals(it, key)) return it;
    return 0;
  }

  // assoc_delete: walk to the predecessor and unlink.
  void hash_unlink(AccessQueue& q, uint64_t it, uint64_t h) {
    mode(q, 1);
    uint64_t link = bucket(h);
    q.push(link, kRead);
    while (ld(link) != it) {
      const uint64_t cur = ld(link);
      push_key(q, cur);
      link = cur + 16;
    }
    st(link, ld(it + 16));
    q.push(link, kWrite);
  }
  void hash_link(AccessQueue& q, uint64_t it, uint64_t h) {
    mode(q, 1);
    const uint64_t b = bucket(h);
    st(it + 16, ld(b));
    q.push(b, kReadWrite);
    q.push(it + 16, kWrite);
    st(b, it);
  }
  // The LRU heads and tails are small per-class arrays, always cached: not reported.
  void lru_unlink(AccessQueue& q, uint64_t it) {
    mode(q, 4);
    const size_t c = at(it)[39];
    const uint64_t next = ld(it), prev = ld(it + 8);
    q.push(it, kRead);
    if (prev != 0) {
      st(prev, next);
      q.push(prev, kWrite);
    } else {
      heads_[c] = next;
    }
    if (next != 0) {
      st(next + 8, prev);
      q.push(next + 8, kWrite);
    } else {
      tails_[c] = prev;
    }
  }
  void lru_link(AccessQueue& q, uint64_t it) {
    mode(q, 4);
    const size_t c = at(it)[39];
    st(it, heads_[c]);
    st(it + 8, 0);
    q.push(it, kWrite);
    if (heads_[c] != 0) {
      st(heads_[c] + 8, it);
      q.push(heads_[c] + 8, kWrite);
    } else {
      tails_[c] = it;
    }
    heads_[c] = it;
  }

  uint64_t item_id(uint64_t it) const { return ld(data(it)); }

  // slabs_alloc, evicting the class's LRU tail when memory is full; 0 if the
  // class has nothing to evict ("SERVER_ERROR out of memory").
  uint64_t alloc(AccessQueue& q, size_t c) {
    mode(q, 1);
    if (free_[c] != 0) {
      const uint64_t it = free_[c];
      q.push(it, kRead);
      free_[c] = ld(it);
      return it;
    }
    if (cur_[c] == end_[c] && next_page_ < pages_) {
      cur_[c] = slab_va_ + next_page_++ * kSlabPage;
      end_[c] = cur_[c] + kSlabPage / chunk_[c] * chunk_[c];
    }
    if (cur_[c] != end_[c]) {
      const uint64_t it = cur_[c];
      cur_[c] += chunk_[c];
      return it;
    }
    const uint64_t victim = tails_[c];
    if (victim == 0) return 0;
    q.push(victim, kRead);
    const uint64_t id = item_id(victim);
    q.push(data(victim), kRead);
    const std::string key = workloads::ycsb::key_name(id);
    hash_unlink(q, victim, workloads::key_hash(key));
    lru_unlink(q, victim);
    present_[id] = 0;
    ++evictions_;
    return victim;
  }
  void free_item(AccessQueue& q, uint64_t it) {
    const size_t c = at(it)[39];
    mode(q, 1);
    st(it, free_[c]);
    at(it)[38] = 0;  // ITEM_SLABBED would be set; the flags byte is cleared
    q.push(it, kWrite);
    free_[c] = it;
  }

  std::string check(uint64_t it, uint64_t id) const {
    const uint64_t d = data(it), n = nbytes(it) - 2;
    if (ld(d) != id || ld(d + n - 8) != workloads::value_tag(id, version_[id], kMemcachedTagSalt))
      return "key " + std::to_string(id) +
             ": the value read is not the last one written (version " +
             std::to_string(version_[id]) + ")";
    return {};
  }

  void get(AccessQueue& q, uint64_t id) {
    const std::string key = workloads::ycsb::key_name(id);
    const uint64_t it = find(q, key, workloads::key_hash(key));
    if (it == 0) {
      if (present_[id] && failure_.empty())
        failure_ = "GET of key " + std::to_string(id) + " missed a stored item";
      return;
    }
    if (!present_[id] && failure_.empty())
      failure_ = "GET of key " + std::to_string(id) + " hit an evicted item";
    // do_item_update: bump at most once per interval.
    if (ld(it + 24) + bump_every_ <= loop_.done()) {
      lru_unlink(q, it);
      st(it + 24, loop_.done());
      lru_link(q, it);
    }
    push_range(q, data(it), nbytes(it), kRead);
    const std::string err = check(it, id);
    if (!err.empty() && failure_.empty()) failure_ = "GET of " + err;
  }

  void set(AccessQueue& q, uint64_t id) {
    const std::string key = workloads::ycsb::key_name(id);
    const uint64_t h = workloads::key_hash(key);
    const uint64_t value = value_min_ + rng_.below(value_max_ - value_min_ + 1);
    const uint64_t total = kHdr + key.size() + 1 + value + 2;
    const size_t c =
        static_cast<size_t>(std::lower_bound(chunk_.begin(), chunk_.end(), total) - chunk_.begin());
    const uint64_t it = alloc(q, c);
    const uint64_t old = find(q, key, h);  // do_store_item's do_item_get
    if (it == 0) {                         // out of memory: memcached drops the stale item too
      if (old != 0) {
        hash_unlink(q, old, h);
        lru_unlink(q, old);
        free_item(q, old);
      }
      present_[id] = 0;
      ++failed_sets_;
      return;
    }
    uint8_t* p = at(it);
    std::memset(p, 0, kHdr);
    st(it + 24, loop_.done());
    st32(it + 32, static_cast<uint32_t>(value + 2));
    p[36] = 1;  // refcount
    p[38] = 1;  // ITEM_LINKED
    p[39] = static_cast<uint8_t>(c);
    p[40] = static_cast<uint8_t>(key.size());
    st(it + 48, ++cas_);
    std::memcpy(p + kHdr, key.data(), key.size());
    p[kHdr + key.size()] = 0;
    ++version_[id];
    const uint64_t d = data(it);
    st(d, id);
    st(d + value - 8, workloads::value_tag(id, version_[id], kMemcachedTagSalt));
    at(d + value)[0] = '\r';
    at(d + value)[1] = '\n';
    push_range(q, it, total, kWrite);
    if (old != 0) {  // do_item_replace
      hash_unlink(q, old, h);
      lru_unlink(q, old);
      free_item(q, old);
    }
    hash_link(q, it, h);
    lru_link(q, it);
    present_[id] = 1;
  }

  uint64_t seed_;
  uint64_t records_, memory_, warmup_, requests_, bump_every_;
  uint32_t value_min_, value_max_, hash_power_;
  double get_fraction_, factor_, request_ns_, compute_ns_;
  std::vector<uint64_t> chunk_;
  uint64_t pages_, next_page_ = 0;
  VaLayout layout_;
  uint64_t hash_va_, slab_va_;

  std::vector<uint8_t> hash_, slab_;
  std::vector<uint64_t> heads_, tails_, free_, cur_, end_, version_;
  std::vector<uint8_t> present_;
  Rng rng_{1};
  workloads::ycsb::ScrambledZipfian zipf_{1};
  Phase ph_ = Phase::Setup;
  workloads::RequestLoop loop_;
  uint64_t cas_ = 0, evictions_ = 0, failed_sets_ = 0;
  std::string failure_;
};

VTMM_REGISTER(WorkloadRegistry, Memcached, "memcached",
              "memcached-like slab cache (1.25x slab classes, chained hash, LRU) under a YCSB-like "
              "GET/SET mix")

}  // namespace
}  // namespace vtmm
