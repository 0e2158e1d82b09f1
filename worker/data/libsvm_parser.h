// libsvm / svmlight text: one example per line,
//   label index:value index:value ... [# comment]
// separated by spaces or tabs. The label is 0/1, -1/+1 (-1 becomes 0) or any
// real number (kept, for regression). Each index:value becomes the feature
// LibsvmKey(index) in field 0 with that value; "qid:N" tokens are ignored.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::data {

inline constexpr uint16_t kLibsvmField = 0;

// The key of feature index `index`. Stable: exported models store it.
uint64_t LibsvmKey(uint64_t index);

// Parses one line (without its newline; a trailing '\r' is accepted) into
// *out, overwriting all of it. InvalidArgument with a short reason for a bad
// label, a token that is not index:value, a non-integer index or a
// non-finite value; *out is then unspecified.
[[nodiscard]] Status ParseLibsvmLine(std::string_view line, Example* out);

}  // namespace embedps::data
