#include "worker/data/criteo_parser.h"

#include <charconv>
#include <cstring>
#include <string>

#include "common/hash.h"
#include "worker/data/keys.h"
#include "worker/data/parse_util.h"

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
    for (int f = 0; f < kCriteoFeatureFields; ++f) t[f] = FieldNamespace(kFieldSalt, f);
    return t;
  }();
  return table;
}

// "I1".."I13", "C1".."C26" as in the Criteo data description.
std::string FieldName(int field) {
  return field < kCriteoIntFields ? "I" + std::to_string(field + 1)
                                  : "C" + std::to_string(field - kCriteoIntFields + 1);
}

// One bit (the top bit of the byte) per tab byte among the 8 bytes at p,
// in memory order from the least significant byte. Exact per byte: the
// additions cannot carry across bytes because each byte is masked to 7 bits.
inline uint64_t TabMask(const char* p) {
  static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__, "TabMask assumes little endian");
  constexpr uint64_t kTabs = 0x0909090909090909ULL;
  constexpr uint64_t kLow7 = 0x7f7f7f7f7f7f7f7fULL;
  uint64_t word;
  std::memcpy(&word, p, sizeof(word));
  const uint64_t x = word ^ kTabs;  // tab bytes become zero
  return ~(((x & kLow7) + kLow7) | x | kLow7);
}

// Bucket of small values from a table built with BucketizeInteger itself, so
// it is identical by construction; counts are mostly small and log() is a
// sizeable part of the parse time.
inline int64_t FastBucket(int64_t v) {
  constexpr int64_t kTableSize = 4096;
  static const std::array<int32_t, kTableSize> table = [] {
    std::array<int32_t, kTableSize> t{};
    for (int64_t i = 0; i < kTableSize; ++i) t[i] = static_cast<int32_t>(BucketizeInteger(i));
    return t;
  }();
  if (v >= 0 && v < kTableSize) return table[v];
  return BucketizeInteger(v);
}

// CriteoDenseValue from a table for small counts, for the same reason.
inline float FastDense(int64_t v) {
  constexpr int64_t kTableSize = 4096;
  static const std::array<float, kTableSize> table = [] {
    std::array<float, kTableSize> t{};
    for (int64_t i = 0; i < kTableSize; ++i) t[i] = CriteoDenseValue(i);
    return t;
  }();
  if (v >= 0 && v < kTableSize) return table[v];
  return CriteoDenseValue(v);
}

inline uint64_t KeyWithConstant(uint64_t field_constant, std::string_view token) {
  return TokenKey(field_constant, token);
}

// Sets the parts of a Criteo example that do not depend on the line.
void ShapeCriteoExample(Example* out) {
  out->keys.resize(kCriteoKeysPerExample);
  out->dense.resize(kCriteoIntFields);
  static const std::array<uint16_t, kCriteoKeysPerExample> kFields = [] {
    std::array<uint16_t, kCriteoKeysPerExample> f{};
    for (int i = 0; i < kCriteoKeysPerExample; ++i) f[i] = static_cast<uint16_t>(i);
    return f;
  }();
  out->fields.assign(kFields.begin(), kFields.end());
  out->values.assign(kCriteoKeysPerExample, 1.0f);
  out->user = out->item = 0;
  out->timestamp = 0;
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

float CriteoDenseValue(int64_t v) {
  return v <= 0 ? 0.0f : static_cast<float>(std::log1p(static_cast<double>(v)));
}

namespace {

// Both layouts: `label_fields` is 1 for a training line (label first) and 0
// for an unlabeled one (Kaggle's test.txt), whose feature field f is the
// labeled layout's field f + 1.
Status ParseCriteoFields(std::string_view line, int label_fields, Example* out) {
  line = StripCr(line);
  const int line_fields = kCriteoFeatureFields + label_fields;
  const int min_fields = kCriteoIntFields + label_fields;

  // Find every tab first so a short or long line is rejected before any
  // hashing work. field_end[i] is where field i ends (its tab or the line end).
  const char* const begin = line.data();
  const char* const end = begin + line.size();
  const char* field_end[kCriteoLineFields];
  int tabs = 0;
  auto on_tab = [&](const char* tab) {
    if (tabs < line_fields - 1) field_end[tabs] = tab;
    ++tabs;
  };
  const char* p = begin;
  // Eight bytes at a time: fields average ~6 bytes, too short for memchr or a
  // byte loop (one mispredicted branch per field) to be cheap.
  for (; end - p >= 8; p += 8) {
    uint64_t mask = TabMask(p);
    while (mask != 0) {
      on_tab(p + (__builtin_ctzll(mask) >> 3));
      mask &= mask - 1;
    }
  }
  for (; p != end; ++p) {
    if (*p == '\t') on_tab(p);
  }
  // Tools that trim lines drop the trailing empty fields (missing
  // categorical values): those are missing values, not a broken line. At
  // least the label and the 13 integer fields must be there.
  const int present = tabs + 1;
  if (present > line_fields || present < min_fields) {
    return InvalidArgument("expected " + std::to_string(line_fields) + " fields (or " + std::to_string(min_fields) +
                           " and more with empty ones trimmed), got " + std::to_string(present));
  }
  field_end[present - 1] = end;
  // Field i as a view; fields are separated by exactly one tab, and those
  // past the line's end are empty.
  auto field = [&](int i) {
    i += label_fields - 1;  // i counts from the labeled layout's label
    if (i >= present) return std::string_view();
    const char* b = i == 0 ? begin : field_end[i - 1] + 1;
    return std::string_view(b, static_cast<size_t>(field_end[i] - b));
  };
  if (label_fields == 0) {
    out->label = 0;
  } else if (const std::string_view label = field(0); label == "0") {
    out->label = 0;
  } else if (label == "1") {
    out->label = 1;
  } else {
    return InvalidArgument("label must be 0 or 1, got " + Quote(label));
  }

  ShapeCriteoExample(out);
  uint64_t* const keys = out->keys.data();
  float* const dense = out->dense.data();
  const auto& constants = FieldConstants();
  for (int f = 0; f < kCriteoIntFields; ++f) {
    const std::string_view tok = field(f + 1);
    if (tok.empty()) {
      keys[f] = KeyWithConstant(constants[f], tok);
      dense[f] = 0;
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
    keys[f] = IntegerKeyWithConstant(constants[f], FastBucket(v));
    dense[f] = FastDense(v);
  }
  for (int f = kCriteoIntFields; f < kCriteoFeatureFields; ++f) {
    keys[f] = KeyWithConstant(constants[f], field(f + 1));
  }
  keys[kCriteoFeatureFields] = BiasKey();
  return Status::OK();
}

}  // namespace

Status ParseCriteoLine(std::string_view line, Example* out) { return ParseCriteoFields(line, 1, out); }

Status ParseUnlabeledCriteoLine(std::string_view line, Example* out) { return ParseCriteoFields(line, 0, out); }

}  // namespace embedps::data
