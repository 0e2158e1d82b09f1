// The Criteo line parser, line by line: a line it accepts must carry a 0/1
// label, 13 dense values and the shared bias key last.
#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/targets/line_fuzz.h"
#include "worker/data/criteo_parser.h"

namespace embedps::fuzz {

int FuzzCriteoLine(const uint8_t* data, size_t size) {
  return FuzzLines(data, size, data::ParseCriteoLine, [](const data::Example& ex) {
    if (ex.label != 0.0f && ex.label != 1.0f) FuzzInvariantFailed("label is not 0 or 1");
    if (ex.keys.empty() || ex.keys.back() != data::BiasKey()) FuzzInvariantFailed("bias key is not last");
    if (ex.dense.size() != data::kCriteoIntFields) FuzzInvariantFailed("not 13 dense features");
  });
}

}  // namespace embedps::fuzz
