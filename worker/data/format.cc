#include "worker/data/format.h"

#include <array>

#include "worker/data/criteo_parser.h"
#include "worker/data/libsvm_parser.h"
#include "worker/data/line_reader.h"
#include "worker/data/rating_parser.h"

namespace embedps::data {
namespace {

struct FormatInfo {
  Format format;
  const char* name;
  LineParser parser;
};

constexpr std::array<FormatInfo, 5> kFormats = {{
    {Format::kCriteo, "criteo", &ParseCriteoLine},
    {Format::kMovieLensTab, "movielens", &ParseMovieLensTabLine},
    {Format::kMovieLensColon, "movielens-dat", &ParseMovieLensDatLine},
    {Format::kMovieLensCsv, "movielens-csv", &ParseMovieLensCsvLine},
    {Format::kLibsvm, "libsvm", &ParseLibsvmLine},
}};

const FormatInfo& Info(Format format) {
  for (const FormatInfo& f : kFormats) {
    if (f.format == format) return f;
  }
  LOG(FATAL) << "unknown format " << static_cast<int>(format);
}

bool EndsWith(std::string_view s, std::string_view suffix) {
  return s.size() >= suffix.size() && s.substr(s.size() - suffix.size()) == suffix;
}

// The format that the first line alone proves, if exactly one parses it.
std::optional<Format> FormatOfLine(std::string_view line) {
  if (IsRatingCsvHeader(line)) return Format::kMovieLensCsv;
  std::optional<Format> found;
  Example ex;
  for (const FormatInfo& f : kFormats) {
    if (!f.parser(line, &ex).ok()) continue;
    // A libsvm line of a bare label ("1") proves nothing.
    if (f.format == Format::kLibsvm && ex.keys.empty()) continue;
    if (found) return std::nullopt;
    found = f.format;
  }
  return found;
}

std::optional<Format> FormatOfName(std::string_view name) {
  if (const size_t slash = name.rfind('/'); slash != std::string_view::npos) {
    name.remove_prefix(slash + 1);
  }
  if (EndsWith(name, ".gz")) name.remove_suffix(3);
  if (name == "u.data" || EndsWith(name, ".base") || EndsWith(name, ".test")) {
    return Format::kMovieLensTab;
  }
  if (EndsWith(name, ".dat")) return Format::kMovieLensColon;
  if (EndsWith(name, ".csv")) return Format::kMovieLensCsv;
  if (EndsWith(name, ".svm") || EndsWith(name, ".libsvm") || EndsWith(name, ".svmlight")) {
    return Format::kLibsvm;
  }
  if (EndsWith(name, ".tsv")) return Format::kCriteo;
  return std::nullopt;
}

}  // namespace

const char* FormatName(Format format) { return Info(format).name; }

const char* FormatNames() { return "criteo, movielens, movielens-dat, movielens-csv, libsvm"; }

StatusOr<Format> ParseFormatName(std::string_view name) {
  for (const FormatInfo& f : kFormats) {
    if (name == f.name) return f.format;
  }
  return InvalidArgument("unknown format '" + std::string(name) + "' (expected one of " +
                         FormatNames() + ")");
}

StatusOr<std::optional<Format>> FormatFromFlag(std::string_view value) {
  if (value.empty()) return std::optional<Format>();
  StatusOr<Format> format = ParseFormatName(value);
  if (!format.ok()) return format.status().WithContext("--format");
  return std::optional<Format>(format.value());
}

LineParser ParserFor(Format format) { return Info(format).parser; }

bool IsHeaderLine(Format format, std::string_view line) {
  return format == Format::kMovieLensCsv && IsRatingCsvHeader(line);
}

std::optional<Format> DetectFormat(std::string_view file_name, std::string_view first_line) {
  if (auto by_line = FormatOfLine(first_line)) return by_line;
  return FormatOfName(file_name);
}

StatusOr<Format> DetectFileFormat(const std::string& path) {
  ASSIGN_OR_RETURN(auto reader, LineReader::OpenWholeFile(path, 64 << 10));
  std::string_view line;
  uint64_t line_no = 0;
  while (true) {
    ASSIGN_OR_RETURN(const bool got, reader->Next(&line, &line_no));
    if (!got) {
      line = {};
      break;
    }
    if (!line.empty() && line != "\r") break;
  }
  if (auto format = DetectFormat(path, line)) return *format;
  return InvalidArgument("cannot tell the format of " + path +
                         " from its name or first line; set --format (" + FormatNames() + ")");
}

StatusOr<Format> ResolveFormat(const std::optional<Format>& requested, const std::string& path) {
  if (requested) return *requested;
  return DetectFileFormat(path);
}

bool IsRatingFormat(Format format) {
  return format == Format::kMovieLensTab || format == Format::kMovieLensColon ||
         format == Format::kMovieLensCsv;
}

}  // namespace embedps::data
