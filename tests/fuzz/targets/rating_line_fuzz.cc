// The three MovieLens line parsers on the same input: an accepted line is a
// finite rating with the user key in field 0 and the item key in field 1.
#include <cmath>

#include "tests/fuzz/fuzz_targets.h"
#include "tests/fuzz/targets/line_fuzz.h"
#include "worker/data/rating_parser.h"

namespace embedps::fuzz {

int FuzzRatingLine(const uint8_t* data, size_t size) {
  auto check = [](const data::Example& ex) {
    if (!std::isfinite(ex.label)) FuzzInvariantFailed("rating is not finite");
    if (ex.keys.size() != 2 || ex.fields[0] != data::kUserField || ex.fields[1] != data::kItemField) {
      FuzzInvariantFailed("a rating is not (user, item)");
    }
  };
  FuzzLines(data, size, data::ParseMovieLensTabLine, check);
  FuzzLines(data, size, data::ParseMovieLensDatLine, check);
  return FuzzLines(data, size, data::ParseMovieLensCsvLine, check);
}

}  // namespace embedps::fuzz
