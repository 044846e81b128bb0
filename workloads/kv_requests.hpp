#pragma once
// What the two key-value server models (redis-ycsb, memcached) share: a
// YCSB-style client (a load phase that inserts every record once, then
// warmup + measured requests) and the hash their tables use.
#include <cstdint>
#include <string>

#include "vtmm/core/fnv.hpp"
#include "vtmm/core/rng.hpp"
#include "vtmm/core/workload.hpp"

namespace vtmm::workloads {

class RequestLoop {
 public:
  RequestLoop() = default;
  RequestLoop(uint64_t records, uint64_t warmup, uint64_t requests)
      : records_(records), warmup_(warmup), total_(warmup + requests) {}

  // Runs up to `batch` loads (load(id) for the next record, in Setup) or,
  // once every record is in, up to `batch` requests (request(), in Warmup
  // or Measured); false when every request has run.
  template <class Load, class Request>
  bool step(int batch, Phase& phase, Load&& load, Request&& request) {
    if (loaded_ < records_) {
      phase = Phase::Setup;
      for (int k = 0; k < batch && loaded_ < records_; ++k) load(loaded_++);
      return true;
    }
    if (done_ >= total_) return false;
    for (int k = 0; k < batch && done_ < total_; ++k) {
      const bool measured = done_ >= warmup_;
      phase = measured ? Phase::Measured : Phase::Warmup;
      request();
      ++done_;
      if (measured) ++measured_;
    }
    return true;
  }

  bool finished() const { return loaded_ == records_ && done_ == total_; }
  uint64_t done() const { return done_; }          // requests so far, warmup included
  uint64_t measured() const { return measured_; }  // measured requests so far

 private:
  uint64_t records_ = 0, warmup_ = 0, total_ = 0;
  uint64_t loaded_ = 0, done_ = 0, measured_ = 0;
};

// Both servers' table hash, kept simple: FNV-1a over the key, finished with
// splitmix64 so every bit of the bucket index depends on the whole key.
inline uint64_t key_hash(const std::string& key) {
  uint64_t h = fnv1a64(key);
  return splitmix64(h);
}

// The tag a value carries in its last 8 bytes, checked on every read (each
// server model salts it with a constant of its own).
inline uint64_t value_tag(uint64_t id, uint64_t version, uint64_t salt) {
  uint64_t x = (id << 24) ^ version ^ salt;
  return splitmix64(x);
}

}  // namespace vtmm::workloads
