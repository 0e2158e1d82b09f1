#include "worker/data/libsvm_parser.h"

#include <string>

#include "worker/data/keys.h"
#include "worker/data/parse_util.h"

namespace embedps::data {
namespace {

// "libsvm" in ASCII.
constexpr uint64_t kLibsvmSalt = 0x6c696273766dULL;

bool IsBlank(char c) { return c == ' ' || c == '\t'; }

// Moves *tok to the next blank-separated token of *rest and sets *colon to
// the offset of its first ':' (npos if none), in one pass over the bytes;
// false at the end or at a '#' comment.
bool NextToken(std::string_view* rest, std::string_view* tok, size_t* colon) {
  size_t i = 0;
  while (i < rest->size() && IsBlank((*rest)[i])) ++i;
  if (i == rest->size() || (*rest)[i] == '#') return false;
  *colon = std::string_view::npos;
  size_t j = i;
  for (; j < rest->size() && !IsBlank((*rest)[j]); ++j) {
    if ((*rest)[j] == ':' && *colon == std::string_view::npos) *colon = j - i;
  }
  *tok = rest->substr(i, j - i);
  rest->remove_prefix(j);
  return true;
}

Status ParseLabel(std::string_view tok, float* label) {
  std::string_view digits = tok;
  // from_chars takes no '+', but "+1" is the usual positive label.
  if (digits.size() > 1 && digits[0] == '+' && digits[1] != '-') digits.remove_prefix(1);
  if (!ParseFiniteFloat(digits, label)) return InvalidArgument("label is not a number: " + Quote(tok));
  if (*label == -1.0f) *label = 0.0f;
  return Status::OK();
}

}  // namespace

uint64_t LibsvmKey(uint64_t index) {
  static const uint64_t ns = FieldNamespace(kLibsvmSalt, kLibsvmField);
  return IdKey(ns, index);
}

Status ParseLibsvmLine(std::string_view line, Example* out) {
  std::string_view rest = StripCr(line);
  std::string_view tok;
  size_t colon = 0;
  if (!NextToken(&rest, &tok, &colon)) return InvalidArgument("empty line (no label)");
  RETURN_IF_ERROR(ParseLabel(tok, &out->label));
  out->keys.clear();
  out->fields.clear();
  out->values.clear();
  out->dense.clear();
  out->user = out->item = 0;
  out->timestamp = 0;
  for (int n = 1; NextToken(&rest, &tok, &colon); ++n) {
    if (colon == std::string_view::npos) {
      return InvalidArgument("token " + std::to_string(n) + " is not index:value: " + Quote(tok));
    }
    const std::string_view index_text = tok.substr(0, colon);
    const std::string_view value_text = tok.substr(colon + 1);
    if (index_text == "qid") continue;  // ranking query ids carry no feature
    uint64_t index = 0;
    if (!ParseWholeInteger(index_text, &index)) {
      return InvalidArgument("index is not a non-negative integer: " + Quote(tok));
    }
    float value = 0;
    if (!ParseFiniteFloat(value_text, &value)) {
      return InvalidArgument("value is not a finite number: " + Quote(tok));
    }
    out->AddFeature(kLibsvmField, LibsvmKey(index), value);
  }
  return Status::OK();
}

}  // namespace embedps::data
