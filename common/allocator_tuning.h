// Process-wide malloc settings for the data path.
#pragma once

#include <malloc.h>

namespace embedps {

// Message buffers of hundreds of KB are allocated and freed for every
// request. By default glibc serves those with mmap/munmap, paying a page
// fault per 4 KB on every request; keeping them on the heap (up to 32 MiB)
// lets freed buffers be reused. Freed heap memory is returned to the system
// only above 256 MiB of slack.
inline void KeepLargeBuffersOnHeap() {
  mallopt(M_MMAP_THRESHOLD, 32 << 20);
  mallopt(M_TRIM_THRESHOLD, 256 << 20);
}

}  // namespace embedps
