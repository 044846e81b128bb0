#pragma once
// One bit per guest page, 64 pages to a word: a set of pages (a hot set) or
// a per-page flag (a page-table page, a PTE's target) at an eighth of a byte
// a page, which is what keeps a policy's metadata for a 64 GiB guest (16 Mi
// pages) within its budget (docs/simulator.md, "Speed and memory of the
// simulator itself").
#include <bit>
#include <cstddef>
#include <cstdint>
#include <span>
#include <vector>

namespace vtmm::policy {

class PageBits {
 public:
  PageBits() = default;
  explicit PageBits(size_t pages) { reset(pages); }
  void reset(size_t pages) {  // all clear, keeping the words' memory
    words_.assign((pages + 63) / 64, 0);
    size_ = pages;
  }
  bool operator[](size_t g) const { return (words_[g >> 6] >> (g & 63)) & 1; }
  void set(size_t g) { words_[g >> 6] |= uint64_t{1} << (g & 63); }
  void clear(size_t g) { words_[g >> 6] &= ~(uint64_t{1} << (g & 63)); }
  size_t size() const { return size_; }
  std::span<const uint64_t> words() const { return words_; }
  uint64_t count() const {  // pages set
    uint64_t n = 0;
    for (uint64_t w : words_) n += static_cast<uint64_t>(std::popcount(w));
    return n;
  }
  bool operator==(const PageBits&) const = default;

 private:
  std::vector<uint64_t> words_;
  size_t size_ = 0;
};

}  // namespace vtmm::policy
