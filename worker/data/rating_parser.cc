#include "worker/data/rating_parser.h"

#include <algorithm>

#include <cctype>
#include <string>

#include "worker/data/keys.h"
#include "worker/data/parse_util.h"

namespace embedps::data {
namespace {

// "ratings" in ASCII: rating keys live apart from Criteo's and libsvm's.
constexpr uint64_t kRatingSalt = 0x726174696e6773ULL;


// user, item, rating[, timestamp] split at `sep`.
Status ParseRating(std::string_view line, std::string_view sep, Example* out) {
  line = StripCr(line);
  std::string_view f[4];
  const int n = SplitFields(line, sep, f, 4);
  if (n != 3 && n != 4) {
    return InvalidArgument("expected 4 fields (user, item, rating, timestamp), got " +
                           std::to_string(n));
  }
  uint64_t user = 0, item = 0;
  if (!ParseWholeInteger(f[0], &user)) return InvalidArgument("user id is not an integer: " + Quote(f[0]));
  if (!ParseWholeInteger(f[1], &item)) return InvalidArgument("item id is not an integer: " + Quote(f[1]));
  float rating = 0;
  if (!ParseFiniteFloat(f[2], &rating)) return InvalidArgument("rating is not a number: " + Quote(f[2]));
  int64_t timestamp = 0;
  if (n == 4 && !ParseWholeInteger(f[3], &timestamp)) {
    return InvalidArgument("timestamp is not an integer: " + Quote(f[3]));
  }
  out->label = rating;
  out->user = user;
  out->item = item;
  out->timestamp = timestamp;
  out->keys.assign({UserKey(user), ItemKey(item)});
  out->fields.assign({kUserField, kItemField});
  out->values.assign(2, 1.0f);
  out->dense.clear();
  return Status::OK();
}

}  // namespace

uint64_t UserKey(uint64_t user) {
  static const uint64_t ns = FieldNamespace(kRatingSalt, kUserField);
  return IdKey(ns, user);
}

uint64_t ItemKey(uint64_t item) {
  static const uint64_t ns = FieldNamespace(kRatingSalt, kItemField);
  return IdKey(ns, item);
}

Status ParseMovieLensTabLine(std::string_view line, Example* out) {
  return ParseRating(line, "\t", out);
}

Status ParseMovieLensDatLine(std::string_view line, Example* out) {
  return ParseRating(line, "::", out);
}

Status ParseMovieLensCsvLine(std::string_view line, Example* out) {
  return ParseRating(line, ",", out);
}

bool IsRatingCsvHeader(std::string_view line) {
  // user, item, rating and perhaps a timestamp: 3 or 4 named columns. A
  // wider header is another csv's.
  const auto commas = std::count(line.begin(), line.end(), ',');
  return !line.empty() && std::isalpha(static_cast<unsigned char>(line[0])) && (commas == 2 || commas == 3);
}

}  // namespace embedps::data
