// Input formats: names (as --format takes them), the line parser of each,
// and detection from a file's name and first line.
#pragma once

#include <optional>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::data {

// A pure line parser: fills *out from one line (without its newline) or
// returns InvalidArgument with a short reason.
using LineParser = Status (*)(std::string_view line, Example* out);

// "criteo", "criteo-unlabeled", "movielens", "movielens-dat",
// "movielens-csv", "libsvm", "csv".
const char* FormatName(Format format);
// The format of a --format value; InvalidArgument listing the names otherwise.
[[nodiscard]] StatusOr<Format> ParseFormatName(std::string_view name);
// Every name, comma-separated, for help texts and errors.
const char* FormatNames();
// A --format flag's value: nullopt when empty (detect), else the format;
// InvalidArgument prefixed with "--format: " for an unknown name.
[[nodiscard]] StatusOr<std::optional<Format>> FormatFromFlag(std::string_view value);

LineParser ParserFor(Format format);

// False for criteo-unlabeled, whose rows can be scored but not trained or
// evaluated on.
bool HasLabels(Format format);
// True when a model trained on `a` reads the same features from `b`
// (criteo and criteo-unlabeled; a format and itself).
bool SameFeatures(Format a, Format b);

// True for the explicit-rating formats (MovieLens and the like), whose
// examples carry user and item ids.
bool IsRatingFormat(Format format);

// True when `line`, the first line of a file, is a header to skip rather
// than data: always for csv; the "userId,movieId,..." line of ratings.csv, or any line of
// column names without a number (every data line has one, its label), so a
// header is not a malformed line in any format.
bool IsHeaderLine(Format format, std::string_view line);

// The format of a file named `file_name` whose first lines are `lines`.
// The lines decide when exactly one format parses all of them (lines that
// parse as nothing are left out): a Criteo line has 40 tab-separated fields
// (39 unlabeled), a rating line 3-4 numbers separated by a tab, "::" or ",",
// a libsvm line "label index:value...". Lines no format reads under a line
// of column names with as many fields are csv (csv_schema.h). Otherwise the
// name decides among
// the formats the lines allow (u.data, *.base, *.test: movielens; *.dat:
// movielens-dat; *.csv: movielens-csv; *.svm, *.libsvm, *.svmlight:
// libsvm; *.tsv: criteo; a trailing .gz is ignored); lines of 39 Criteo
// fields that could be either are labeled ones trimmed. nullopt when
// neither tells.
std::optional<Format> DetectFormat(std::string_view file_name, const std::vector<std::string_view>& lines);
std::optional<Format> DetectFormat(std::string_view file_name, std::string_view first_line);

// DetectFormat on `path` and its first 32 non-empty lines (gzip files are
// decompressed). InvalidArgument naming the file and suggesting --format
// when the format cannot be told; NotFound for a missing file.
[[nodiscard]] StatusOr<Format> DetectFileFormat(const std::string& path);

// `requested` when set, else DetectFileFormat(path).
[[nodiscard]] StatusOr<Format> ResolveFormat(const std::optional<Format>& requested,
                                             const std::string& path);

}  // namespace embedps::data
