#include "worker/data/format.h"

#include <array>
#include <vector>

#include "worker/data/criteo_parser.h"
#include "worker/data/csv_schema.h"
#include "worker/data/libsvm_parser.h"
#include "worker/data/line_reader.h"
#include "worker/data/parse_util.h"
#include "worker/data/rating_parser.h"

namespace embedps::data {
namespace {

struct FormatInfo {
  Format format;
  const char* name;
  LineParser parser;
};

// A csv line means nothing without its file's header: ExampleReader parses
// csv with the file's CsvSchema, and line-by-line detection never picks it.
Status NeedsHeader(std::string_view, Example*) {
  return InvalidArgument("csv lines are read with their file's header");
}

constexpr std::array<FormatInfo, 7> kFormats = {{
    {Format::kCriteo, "criteo", &ParseCriteoLine},
    {Format::kCriteoUnlabeled, "criteo-unlabeled", &ParseUnlabeledCriteoLine},
    {Format::kMovieLensTab, "movielens", &ParseMovieLensTabLine},
    {Format::kMovieLensColon, "movielens-dat", &ParseMovieLensDatLine},
    {Format::kMovieLensCsv, "movielens-csv", &ParseMovieLensCsvLine},
    {Format::kLibsvm, "libsvm", &ParseLibsvmLine},
    {Format::kCsv, "csv", &NeedsHeader},
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

// One bit per format, bit i for the enum value i (kFormats is in enum order).
using FormatSet = uint32_t;
constexpr bool InEnumOrder() {
  for (size_t i = 0; i < kFormats.size(); ++i) {
    if (static_cast<size_t>(kFormats[i].format) != i) return false;
  }
  return true;
}
static_assert(InEnumOrder(), "kFormats must list the formats in enum order");
constexpr FormatSet Bit(Format f) { return 1u << static_cast<int>(f); }
constexpr FormatSet kAllFormats = (1u << kFormats.size()) - 1;

// The formats that parse `line`. A libsvm line of a bare label ("1")
// proves nothing, so it does not count as libsvm.
FormatSet FormatsOfLine(std::string_view line) {
  if (IsRatingCsvHeader(line)) return Bit(Format::kMovieLensCsv);
  FormatSet set = 0;
  Example ex;
  for (size_t i = 0; i < kFormats.size(); ++i) {
    if (!kFormats[i].parser(line, &ex).ok()) continue;
    if (kFormats[i].format == Format::kLibsvm && ex.keys.empty()) continue;
    set |= 1u << i;
  }
  return set;
}

// The one format in `set`, if it holds exactly one.
std::optional<Format> OnlyFormat(FormatSet set) {
  if (set == 0 || (set & (set - 1)) != 0) return std::nullopt;
  return kFormats[__builtin_ctz(set)].format;
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

const char* FormatNames() {
  return "criteo, criteo-unlabeled, movielens, movielens-dat, movielens-csv, libsvm, csv";
}

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
  if (format == Format::kCsv) return true;
  if (format == Format::kMovieLensCsv && IsRatingCsvHeader(line)) return true;
  // Column names: every data line of every format has a number (its label
  // at least); a first line without one names the columns.
  bool any_text = false;
  size_t start = 0;
  line = StripCr(line);
  for (size_t i = 0; i <= line.size(); ++i) {
    if (i < line.size() && std::string_view("\t,: |;").find(line[i]) == std::string_view::npos) continue;
    const std::string_view token = line.substr(start, i - start);
    start = i + 1;
    if (token.empty()) continue;
    float v = 0;
    if (ParseFiniteFloat(token, &v)) return false;
    any_text = true;
  }
  return any_text;
}

std::optional<Format> DetectFormat(std::string_view file_name, const std::vector<std::string_view>& lines) {
  // The formats that parse every line; a line that parses as none (a
  // malformed one) is left out rather than ruling everything out.
  FormatSet candidates = kAllFormats;
  for (std::string_view line : lines) {
    const FormatSet set = FormatsOfLine(line);
    if ((candidates & set) != 0) candidates &= set;
  }
  if (candidates == kAllFormats) candidates = 0;  // no line parsed at all
  if (auto only = OnlyFormat(candidates)) return only;
  // Rows no known format reads under a line of column names: a csv with a
  // header (Avazu's layout), whatever the file is called.
  if (candidates == 0 && !lines.empty() &&
      LooksLikeCsvWithHeader(lines[0], std::vector<std::string_view>(lines.begin() + 1, lines.end()))) {
    return Format::kCsv;
  }
  const std::optional<Format> by_name = FormatOfName(file_name);
  if (candidates == 0 || (by_name && (candidates & Bit(*by_name)) != 0)) return by_name;
  // Still several: a labeled Criteo line with its last field trimmed has 39
  // fields, like an unlabeled one. Labeled files are the common case.
  if (candidates == (Bit(Format::kCriteo) | Bit(Format::kCriteoUnlabeled))) {
    return Format::kCriteo;
  }
  return std::nullopt;
}

std::optional<Format> DetectFormat(std::string_view file_name, std::string_view first_line) {
  return DetectFormat(file_name, std::vector<std::string_view>{first_line});
}

StatusOr<Format> DetectFileFormat(const std::string& path) {
  // The first lines, not only the first: one line of 39 Criteo fields may
  // be labeled and trimmed or unlabeled, but a file's lines tell.
  constexpr int kLinesLooked = 32;
  ASSIGN_OR_RETURN(auto reader, LineReader::OpenWholeFile(path, 64 << 10));
  std::vector<std::string> lines;
  std::string_view line;
  uint64_t line_no = 0;
  while (lines.size() < kLinesLooked) {
    ASSIGN_OR_RETURN(const bool got, reader->Next(&line, &line_no));
    if (!got) break;
    if (!line.empty() && line != "\r") lines.emplace_back(line);
  }
  const std::vector<std::string_view> views(lines.begin(), lines.end());
  if (auto format = DetectFormat(path, views)) return *format;
  return InvalidArgument("cannot tell the format of " + path +
                         " from its name or first lines; set --format (" + FormatNames() + ")");
}

StatusOr<Format> ResolveFormat(const std::optional<Format>& requested, const std::string& path) {
  if (requested) return *requested;
  return DetectFileFormat(path);
}

bool HasLabels(Format format) { return format != Format::kCriteoUnlabeled; }

bool SameFeatures(Format a, Format b) {
  auto family = [](Format f) { return f == Format::kCriteoUnlabeled ? Format::kCriteo : f; };
  return family(a) == family(b);
}

bool IsRatingFormat(Format format) {
  return format == Format::kMovieLensTab || format == Format::kMovieLensColon ||
         format == Format::kMovieLensCsv;
}

}  // namespace embedps::data
