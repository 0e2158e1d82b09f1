// The libFuzzer entry point of one target; EMBEDPS_FUZZ_TARGET names it
// (set per binary by tests/fuzz/CMakeLists.txt).
#include <cstdio>
#include <cstdlib>

#include "tests/fuzz/fuzz_targets.h"

extern "C" int LLVMFuzzerTestOneInput(const uint8_t* data, size_t size) {
  static const embedps::fuzz::FuzzTarget* target = [] {
    const auto* t = embedps::fuzz::FindFuzzTarget(EMBEDPS_FUZZ_TARGET);
    if (t == nullptr) {
      std::fprintf(stderr, "no fuzz target named %s\n", EMBEDPS_FUZZ_TARGET);
      std::abort();
    }
    return t;
  }();
  return target->fn(data, size);
}
