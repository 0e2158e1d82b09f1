// The Criteo line parser, line by line: a line it accepts must carry a 0/1
// label and the shared bias key last.
#include <string_view>

#include "tests/fuzz/fuzz_targets.h"
#include "worker/data/criteo_parser.h"

namespace embedps::fuzz {

int FuzzCriteoLine(const uint8_t* data, size_t size) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  while (true) {
    const size_t end = text.find('\n');
    data::CriteoExample ex;
    if (data::ParseCriteoLine(text.substr(0, end), &ex).ok()) {
      if (ex.label != 0.0f && ex.label != 1.0f) FuzzInvariantFailed("label is not 0 or 1");
      if (ex.keys.back() != data::BiasKey()) FuzzInvariantFailed("bias key is not last");
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return 0;
}

}  // namespace embedps::fuzz
