#include "worker/data/criteo_parser.h"

#include <charconv>
#include <cstring>
#include <string>

#include "common/hash.h"

namespace embedps::data {
namespace {

// Salts: arbitrary constants ("embedps" in ASCII) so Criteo keys do not
// coincide with hashes computed elsewhere from small integers.
constexpr uint64_t kFieldSalt = 0x656d6265647073ULL;
constexpr uint64_t kBiasSalt = 0x626961732d6b6579ULL;

// Per-field namespace constants, computed once; the parser hits this table
// 39 times per line.
const std::array<uint64_t, kCriteoFeatureFields>& FieldConstants() {
  static const std::array<uint64_t, kCriteoFeatureFields> table = [] {
    std::array<uint64_t, kCriteoFeatureFields> t{};
    for (int f = 0; f < kCriteoFeatureFields; ++f) t[f] = Mix64(kFieldSalt + f);
    return t;
  }();
  return table;
}

// "I1".."I13", "C1".."C26" as in the Criteo data description.
std::string FieldName(int field) {
  return field < kCriteoIntFields ? "I" + std::to_string(field + 1)
                                  : "C" + std::to_string(field - kCriteoIntFields + 1);
}

// Quotes a token for an error message, cut short so one bad line cannot flood
// the log.
std::string Quote(std::string_view token) {
  constexpr size_t kMax = 32;
  std::string q = "'";
  q.append(token.substr(0, kMax));
  if (token.size() > kMax) q.append("...");
  q.push_back('\'');
  return q;
}

inline uint64_t KeyWithConstant(uint64_t field_constant, std::string_view token) {
  return HashCombine(field_constant, HashBytes(token));
}

inline uint64_t IntegerKeyWithConstant(uint64_t field_constant, int64_t bucket) {
  char buf[24];
  auto res = std::to_chars(buf, buf + sizeof(buf), bucket);
  return KeyWithConstant(field_constant, std::string_view(buf, res.ptr - buf));
}

}  // namespace

uint64_t FeatureKey(int field, std::string_view token) {
  CHECK(field >= 0 && field < kCriteoFeatureFields) << "bad Criteo field " << field;
  return KeyWithConstant(FieldConstants()[field], token);
}

uint64_t IntegerFeatureKey(int field, int64_t bucket) {
  CHECK(field >= 0 && field < kCriteoIntFields) << "bad Criteo integer field " << field;
  return IntegerKeyWithConstant(FieldConstants()[field], bucket);
}

uint64_t BiasKey() { return Mix64(kBiasSalt); }

Status ParseCriteoLine(std::string_view line, CriteoExample* out) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);

  // Split into exactly 40 views first so a short or long line is rejected
  // before any hashing work.
  std::array<std::string_view, kCriteoLineFields> fields;
  const char* p = line.data();
  const char* const end = p + line.size();
  int n = 0;
  while (true) {
    const char* tab = static_cast<const char*>(std::memchr(p, '\t', end - p));
    const char* field_end = tab ? tab : end;
    if (n < kCriteoLineFields) fields[n] = std::string_view(p, field_end - p);
    ++n;
    if (tab == nullptr) break;
    p = tab + 1;
  }
  if (n != kCriteoLineFields) {
    return InvalidArgument("expected " + std::to_string(kCriteoLineFields) + " fields, got " +
                           std::to_string(n));
  }

  if (fields[0] == "0") {
    out->label = 0;
  } else if (fields[0] == "1") {
    out->label = 1;
  } else {
    return InvalidArgument("label must be 0 or 1, got " + Quote(fields[0]));
  }

  const auto& constants = FieldConstants();
  for (int f = 0; f < kCriteoIntFields; ++f) {
    std::string_view tok = fields[f + 1];
    if (tok.empty()) {
      out->keys[f] = KeyWithConstant(constants[f], tok);
      continue;
    }
    int64_t v = 0;
    auto res = std::from_chars(tok.data(), tok.data() + tok.size(), v);
    if (res.ec == std::errc::result_out_of_range) {
      return InvalidArgument("field " + FieldName(f) + " is out of range: " + Quote(tok));
    }
    if (res.ec != std::errc() || res.ptr != tok.data() + tok.size()) {
      return InvalidArgument("field " + FieldName(f) + " is not an integer: " + Quote(tok));
    }
    out->keys[f] = IntegerKeyWithConstant(constants[f], BucketizeInteger(v));
  }
  for (int f = kCriteoIntFields; f < kCriteoFeatureFields; ++f) {
    out->keys[f] = KeyWithConstant(constants[f], fields[f + 1]);
  }
  out->keys[kCriteoFeatureFields] = BiasKey();
  return Status::OK();
}

}  // namespace embedps::data
