// Delimited files with a header line naming their columns (Avazu's
// `id,click,hour,C1,banner_pos,...`, most exports from SQL or pandas): the
// header says which column is the label, which are numbers and which are
// categories, and each used column becomes one field of the example.
//
// Field layout, as Criteo's: the numeric columns first (each a bucket key
// in its own field and a dense value), then the categorical columns (one
// key each), then a bias key. Keys are salted by the column's name, not its
// position, so a file with its columns in another order (a test file, a
// later day) gives the same keys.
#pragma once

#include <cstdint>
#include <string>
#include <string_view>
#include <vector>

#include "common/status.h"
#include "worker/data/example.h"

namespace embedps::data {

// Which columns play which role, by header name. Empty lists mean: the
// label is the first of label/click/target/y present; numeric: none;
// ignore: "id" when present (a row id, one category per row); categorical:
// every other column.
struct CsvColumns {
  std::string label;
  std::vector<std::string> numeric;
  std::vector<std::string> categorical;
  std::vector<std::string> ignore;
};

// The roles resolved against one header line.
class CsvSchema {
 public:
  // The delimiter is the header's: a tab, else a comma, else a semicolon.
  // InvalidArgument naming the column for a listed column the header lacks,
  // a column given two roles, no label (unless `label_optional`: files to
  // score may lack it) or no feature column.
  [[nodiscard]] static StatusOr<CsvSchema> FromHeader(std::string_view header, const CsvColumns& columns,
                                                     bool label_optional = false);

  // Fills *out from one data line, overwriting it. InvalidArgument with a
  // short reason for another column count, a label other than 0/1, a
  // numeric column that is not a number, an unterminated quote.
  [[nodiscard]] Status Parse(std::string_view line, Example* out) const;

  // What the schema resolved to, with the names in field order: the model
  // records it, and a file to score is read with it.
  CsvColumns resolved() const;
  bool has_label() const { return label_ >= 0; }
  char delimiter() const { return delimiter_; }
  uint32_t numeric_fields() const { return static_cast<uint32_t>(numeric_.size()); }
  uint32_t categorical_fields() const { return static_cast<uint32_t>(categorical_.size()); }
  // "label click; 21 categorical (hour, C1, ...); 0 numeric; ignored: id".
  std::string Describe() const;

 private:
  struct Column {
    int index = 0;  // in the file's header
    std::string name;
    uint64_t ns = 0;  // key namespace, from the name
  };
  char delimiter_ = ',';
  size_t width_ = 0;  // columns per line
  int label_ = -1;
  std::string label_name_;
  std::vector<Column> numeric_, categorical_;
  std::vector<std::string> ignored_;
};

// Splits one delimited line into its fields (RFC 4180 quoting: a field in
// double quotes may hold the delimiter; the quotes are dropped, a doubled
// quote inside stays doubled). InvalidArgument for an unterminated quote.
[[nodiscard]] Status SplitDelimited(std::string_view line, char delimiter, std::vector<std::string_view>* out);

// Reads the header line of `path` (plain or gzip) and resolves `columns`
// against it.
[[nodiscard]] StatusOr<CsvSchema> ReadCsvSchema(const std::string& path, const CsvColumns& columns,
                                                bool label_optional = false);

// Whether `first_line` and the `rest` of a file's first lines look like a
// delimited file with a header: a line of column names without numbers,
// and data lines with as many fields.
bool LooksLikeCsvWithHeader(std::string_view first_line, const std::vector<std::string_view>& rest);

}  // namespace embedps::data
