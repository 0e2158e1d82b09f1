// Small strict token parsers shared by the line parsers. Strict means the
// whole token must be the number: no spaces, no trailing text, no "+" (the
// libsvm label handles its own sign).
#pragma once

#include <charconv>
#include <cmath>
#include <cstdint>
#include <string>
#include <string_view>

namespace embedps::data {

// Quotes a token for an error message, cut short so one bad line cannot
// flood the log.
inline std::string Quote(std::string_view token) {
  constexpr size_t kMax = 32;
  std::string q = "'";
  q.append(token.substr(0, kMax));
  if (token.size() > kMax) q.append("...");
  q.push_back('\'');
  return q;
}

template <typename T>
inline bool ParseWholeInteger(std::string_view tok, T* out) {
  auto res = std::from_chars(tok.data(), tok.data() + tok.size(), *out);
  return res.ec == std::errc() && res.ptr == tok.data() + tok.size() && !tok.empty();
}

// A finite decimal number ("3", "4.5", "-1e-3"); false for inf/nan.
inline bool ParseFiniteFloat(std::string_view tok, float* out) {
  auto res = std::from_chars(tok.data(), tok.data() + tok.size(), *out);
  return res.ec == std::errc() && res.ptr == tok.data() + tok.size() && !tok.empty() &&
         std::isfinite(*out);
}

// Splits `line` at each occurrence of `sep` into at most `max` views; returns
// the number of fields found (which may exceed `max`: the rest are counted,
// not stored), so callers can reject a wrong field count.
inline int SplitFields(std::string_view line, std::string_view sep, std::string_view* fields,
                       int max) {
  int n = 0;
  size_t start = 0;
  while (true) {
    const size_t at = line.find(sep, start);
    const size_t end = at == std::string_view::npos ? line.size() : at;
    if (n < max) fields[n] = line.substr(start, end - start);
    ++n;
    if (at == std::string_view::npos) return n;
    start = at + sep.size();
  }
}

// Drops one trailing '\r' (files written on Windows).
inline std::string_view StripCr(std::string_view line) {
  if (!line.empty() && line.back() == '\r') line.remove_suffix(1);
  return line;
}

}  // namespace embedps::data
