// Runs a line parser over every line of a fuzz input and checks each
// accepted example's invariant.
#pragma once

#include <string_view>

#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::fuzz {

template <typename Parse, typename Check>
int FuzzLines(const uint8_t* data, size_t size, Parse parse, Check check) {
  std::string_view text(reinterpret_cast<const char*>(data), size);
  data::Example ex;  // reused across lines, as the readers do
  while (true) {
    const size_t end = text.find('\n');
    if (parse(text.substr(0, end), &ex).ok()) {
      if (ex.keys.size() != ex.fields.size() || ex.keys.size() != ex.values.size()) {
        FuzzInvariantFailed("keys, fields and values differ in length");
      }
      check(ex);
    }
    if (end == std::string_view::npos) break;
    text.remove_prefix(end + 1);
  }
  return 0;
}

}  // namespace embedps::fuzz
