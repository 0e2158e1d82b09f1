#include "ps/store/huge_pages.h"

#include <sys/mman.h>

#include <cstdlib>
#include <new>

namespace embedps::ps {

void HugeFree::operator()(char* p) const { std::free(p); }

HugeBuffer AllocateHuge(size_t bytes) {
  if (bytes < kHugePageBytes) {
    void* p = std::malloc(bytes);
    if (p == nullptr) throw std::bad_alloc();
    return HugeBuffer(static_cast<char*>(p));
  }
  const size_t rounded = (bytes + kHugePageBytes - 1) & ~(kHugePageBytes - 1);
  void* p = std::aligned_alloc(kHugePageBytes, rounded);
  if (p == nullptr) throw std::bad_alloc();
#ifdef MADV_HUGEPAGE
  // Advice only: where THP is off this fails harmlessly and 4 KiB pages stay.
  (void)madvise(p, rounded, MADV_HUGEPAGE);
#endif
  return HugeBuffer(static_cast<char*>(p));
}

}  // namespace embedps::ps
