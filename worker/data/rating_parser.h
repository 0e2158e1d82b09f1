// Explicit-rating files (MovieLens and the like): one rating per line,
//   u.data       user \t item \t rating \t timestamp
//   ratings.dat  user::item::rating::timestamp
//   ratings.csv  userId,movieId,rating,timestamp   (first line a header)
// The timestamp may be left out (3 fields). An example gets label = rating,
// user/item/timestamp as written, and two features: UserKey(user) in field
// kUserField and ItemKey(item) in field kItemField, both with value 1.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::data {

inline constexpr uint16_t kUserField = 0;
inline constexpr uint16_t kItemField = 1;
// Side features (see side_features.h) start after the user and item.
inline constexpr uint16_t kFirstSideField = 2;

// The key of a user id and of an item id (separate namespaces: user 5 and
// item 5 are different rows). Stable: exported models store them.
uint64_t UserKey(uint64_t user);
uint64_t ItemKey(uint64_t item);

// Each parses one line (without its newline; a trailing '\r' is accepted)
// into *out, overwriting all of it. InvalidArgument with a short reason for a
// wrong field count, a non-integer id, a non-finite rating or a bad
// timestamp; *out is then unspecified.
[[nodiscard]] Status ParseMovieLensTabLine(std::string_view line, Example* out);
[[nodiscard]] Status ParseMovieLensDatLine(std::string_view line, Example* out);
[[nodiscard]] Status ParseMovieLensCsvLine(std::string_view line, Example* out);

// True for the header line of a ratings.csv file ("userId,movieId,...").
bool IsRatingCsvHeader(std::string_view line);

}  // namespace embedps::data
