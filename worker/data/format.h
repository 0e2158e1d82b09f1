// Input formats: names (as --format takes them), the line parser of each,
// and detection from a file's name and first line.
#pragma once

#include <optional>
#include <string>
#include <string_view>

#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::data {

// A pure line parser: fills *out from one line (without its newline) or
// returns InvalidArgument with a short reason.
using LineParser = Status (*)(std::string_view line, Example* out);

// "criteo", "movielens", "movielens-dat", "movielens-csv", "libsvm".
const char* FormatName(Format format);
// The format of a --format value; InvalidArgument listing the names otherwise.
[[nodiscard]] StatusOr<Format> ParseFormatName(std::string_view name);
// Every name, comma-separated, for help texts and errors.
const char* FormatNames();
// A --format flag's value: nullopt when empty (detect), else the format;
// InvalidArgument prefixed with "--format: " for an unknown name.
[[nodiscard]] StatusOr<std::optional<Format>> FormatFromFlag(std::string_view value);

LineParser ParserFor(Format format);

// True for the explicit-rating formats (MovieLens and the like), whose
// examples carry user and item ids.
bool IsRatingFormat(Format format);

// True when `line`, the first line of a file, is a header to skip rather
// than data (the "userId,movieId,..." line of ratings.csv).
bool IsHeaderLine(Format format, std::string_view line);

// The format of a file named `file_name` whose first line is `first_line`.
// The line decides when it parses as exactly one format (a Criteo line has
// 40 tab-separated fields, a rating line 3-4 numbers separated by a tab,
// "::" or ",", a libsvm line "label index:value..."); otherwise the name
// decides (u.data, *.base, *.test: movielens; *.dat: movielens-dat; *.csv:
// movielens-csv; *.svm, *.libsvm, *.svmlight: libsvm; *.tsv: criteo; a
// trailing .gz is ignored). nullopt when neither tells.
std::optional<Format> DetectFormat(std::string_view file_name, std::string_view first_line);

// DetectFormat on `path` and its first non-empty line (gzip files are
// decompressed). InvalidArgument naming the file and suggesting --format
// when the format cannot be told; NotFound for a missing file.
[[nodiscard]] StatusOr<Format> DetectFileFormat(const std::string& path);

// `requested` when set, else DetectFileFormat(path).
[[nodiscard]] StatusOr<Format> ResolveFormat(const std::optional<Format>& requested,
                                             const std::string& path);

}  // namespace embedps::data
