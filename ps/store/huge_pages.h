// Large store allocations backed by transparent huge pages where the kernel
// allows them. Rows and index slots are read in random order across
// gigabytes; with 4 KiB pages nearly every access also misses the TLB, and
// 2 MiB pages remove most of those misses.
#pragma once

#include <cstddef>
#include <memory>

namespace embedps::ps {

struct HugeFree {
  void operator()(char* p) const;
};
using HugeBuffer = std::unique_ptr<char[], HugeFree>;

// Allocates `bytes` (uninitialized; untouched pages cost no memory). At or
// above 2 MiB the block is 2 MiB-aligned and advised as huge-page backed.
HugeBuffer AllocateHuge(size_t bytes);

// The size from which AllocateHuge asks for huge pages.
constexpr size_t kHugePageBytes = size_t{2} << 20;

}  // namespace embedps::ps
