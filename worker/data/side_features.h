// Side features for hybrid (content + collaborative) models: per-user and
// per-item attributes read from id-keyed side files (MovieLens u.user and
// u.item, or any delimited file described by a SideFileSpec), appended to a
// rating example as extra sparse fields.
#pragma once

#include <cstdint>
#include <optional>
#include <set>
#include <string>
#include <string_view>
#include <unordered_map>
#include <vector>

#include "common/status.h"
#include "worker/data/bad_lines.h"
#include "worker/data/example.h"

namespace embedps::data {

// One column (or run of columns) of a side file that becomes one field.
struct SideColumn {
  enum class Kind {
    kCategory,  // the text is the value: occupation, gender
    kBucket,    // a number bucketed by `bounds`: age
    kPrefix,    // the first `width` characters: a zip code's region
    kFlags,     // `width` 0/1 columns from `column`, multi-hot: genre flags
    kList,      // a `list_separator`-separated list, multi-hot: "Comedy|Drama"
  };
  Kind kind = Kind::kCategory;
  int column = 0;  // 0-based
  int width = 1;
  std::vector<double> bounds;  // ascending; bucket = how many bounds are <= the value
  std::string list_separator = "|";
};

// How to read one side file: columns split at `separator`, the id in
// `id_column`, an optional header line.
struct SideFileSpec {
  std::string separator = "|";
  int id_column = 0;
  bool header = false;
  std::vector<SideColumn> columns;
};

// Parses a spec written as space-separated settings, e.g. MovieLens 100K's
// u.user:
//   "sep=| id=0 bucket:1:18,25,35,45,50,56 cat:2 cat:3 prefix:4:3"
// Settings: sep=S (S literal, or tab/space/comma/pipe), id=N, header=0|1,
// cat:COL, bucket:COL:B1,B2,..., prefix:COL:CHARS, flags:COL:COUNT,
// list:COL[:SEP]. InvalidArgument naming the bad setting.
[[nodiscard]] StatusOr<SideFileSpec> ParseSideFileSpec(std::string_view text);

// The spec as ParseSideFileSpec reads it back.
std::string SideFileSpecText(const SideFileSpec& spec);

enum class Side { kUser, kItem };
const char* SideName(Side side);  // "user" or "item"

// A side file's spec with a name for the logs.
struct SideLayout {
  std::string name;  // "MovieLens 100K u.user" or "--user_features_spec"
  SideFileSpec spec;
};

// The MovieLens layout `first_line` of a `side` file has, told by content
// (separator, column count, a gender column, genre flags), whatever the
// file is called: u.user and u.item (100K: age bucket, gender, occupation,
// zip prefix; 19 genre flags), users.dat and movies.dat (1M: gender, age
// code, occupation, zip prefix; the genre list). InvalidArgument saying
// what the line looks like otherwise (an item file given as a user file,
// or no known layout: then a spec flag is the way).
[[nodiscard]] StatusOr<SideLayout> DetectMovieLensLayout(Side side, std::string_view first_line);

// One parsed line of a side file.
struct SideRow {
  uint64_t id = 0;
  std::vector<uint64_t> keys;
  std::vector<uint16_t> fields;
};

// Parses one line of a side file of `side` described by `spec`, its columns
// numbered as fields from `first_field`, into *out (overwritten). A key
// depends on the side, the column, the column's kind and the value only.
// InvalidArgument with a short reason for too few columns, a non-integer
// id, a bad number or a flag other than 0/1; *out is then unspecified.
[[nodiscard]] Status ParseSideLine(std::string_view line, const SideFileSpec& spec, Side side,
                                   uint16_t first_field, SideRow* out);

// Side features of users and items, loaded once and then read-only: Append
// may be called from several threads at once.
class SideFeatures {
 public:
  // Loaded columns become fields first_field, first_field + 1, ... in load
  // order (after a rating's user and item fields by default).
  explicit SideFeatures(uint16_t first_field = 2) : next_field_(first_field) {}

  // Loads the rows of one side file (plain or gzip). Malformed lines (too
  // few columns, a non-integer or repeated id, a bad number or flag) are
  // skipped, counted and logged as file:line, and fail the load past
  // opts.max_bad_line_fraction like the example readers. NotFound for a
  // missing file. After an error the object is partly loaded: discard it.
  [[nodiscard]] Status Load(Side side, const std::string& path, const SideFileSpec& spec,
                            const ReaderOptions& opts = ReaderOptions());
  // Load with `spec_text` (ParseSideFileSpec), or, when it is empty, the
  // MovieLens layout the file's first line shows (DetectMovieLensLayout).
  [[nodiscard]] Status LoadDetected(Side side, const std::string& path, const std::string& spec_text);

  // What was loaded, in load order (the order that numbers the fields):
  // loading the same files with the same specs in this order rebuilds the
  // same features.
  struct LoadedFile {
    Side side = Side::kUser;
    std::string path;
    std::string layout;  // SideLayout::name
    std::string spec;    // SideFileSpecText
    size_t rows = 0;
    size_t fields = 0;
  };
  const std::vector<LoadedFile>& loaded() const { return loaded_; }

  // Appends the features of ex->user and then of ex->item (value 1 each).
  // An id missing from its side file gets no side features.
  void Append(Example* ex) const;

  // One past the highest field used so far.
  uint16_t end_field() const { return next_field_; }
  // The item id's field (kItemField) and every field loaded from item side
  // files: the item side of a factorization model's dot product.
  std::set<uint16_t> item_fields() const { return item_fields_; }
  size_t rows(Side side) const { return table(side).rows.size(); }

 private:
  struct Range {
    uint32_t begin = 0;
    uint32_t count = 0;
  };
  struct Table {
    std::unordered_map<uint64_t, Range> rows;
    std::vector<uint64_t> keys;
    std::vector<uint16_t> fields;
  };
  const Table& table(Side side) const { return side == Side::kUser ? users_ : items_; }
  Table& table(Side side) { return side == Side::kUser ? users_ : items_; }

  Table users_;
  Table items_;
  std::vector<LoadedFile> loaded_;
  uint16_t next_field_;
  std::set<uint16_t> item_fields_ = {1};
};

}  // namespace embedps::data
