#pragma once
// An allocator for big arrays read at random (a workload's table, the LLC's
// tags): blocks of 2 MiB or more are 2 MiB aligned and advised for
// transparent huge pages (MADV_HUGEPAGE; this host's THP mode is "madvise").
// With 4 KiB host pages a random access over a 1 GiB array misses the host's
// own TLB nearly every time; with 2 MiB pages the whole array fits in it.
// Only where memory sits in the host changes, never what it holds, so results
// are the same with or without huge pages (the kernel may decline them).
#include <sys/mman.h>

#include <cstdlib>
#include <memory>
#include <new>

#include "vtmm/core/types.hpp"

namespace vtmm {

template <class T>
struct HugePageAllocator {
  using value_type = T;
  HugePageAllocator() = default;
  template <class U>
  HugePageAllocator(const HugePageAllocator<U>&) {}

  T* allocate(size_t n) {
    const size_t bytes = n * sizeof(T);
    if (bytes < kHugeSize) return std::allocator<T>{}.allocate(n);
    const size_t rounded = (bytes + kHugeSize - 1) & ~(kHugeSize - 1);
    void* p = std::aligned_alloc(kHugeSize, rounded);
    if (p == nullptr) throw std::bad_alloc();
    madvise(p, rounded, MADV_HUGEPAGE);  // advice only: a refusal leaves 4 KiB pages
    return static_cast<T*>(p);
  }
  void deallocate(T* p, size_t n) {
    if (n * sizeof(T) < kHugeSize)
      std::allocator<T>{}.deallocate(p, n);
    else
      std::free(p);
  }
  template <class U>
  bool operator==(const HugePageAllocator<U>&) const {
    return true;
  }
};

}  // namespace vtmm
