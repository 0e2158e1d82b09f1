#include "worker/data/csv_schema.h"

#include <algorithm>
#include <cmath>
#include <set>

#include "common/criteo_format.h"
#include "common/hash.h"
#include "worker/data/keys.h"
#include "worker/data/line_reader.h"
#include "worker/data/parse_util.h"

namespace embedps::data {
namespace {

// "csvcols" / "csvbias" in ASCII: CSV keys live apart from every format's.
constexpr uint64_t kCsvSalt = 0x637376636f6c73ULL;
constexpr uint64_t kCsvBiasSalt = 0x63737662696173ULL;

char DelimiterOf(std::string_view header) {
  for (char c : {'\t', ',', ';'}) {
    if (header.find(c) != std::string_view::npos) return c;
  }
  return ',';
}

std::string Joined(const std::vector<std::string>& names, size_t max) {
  std::string out;
  for (size_t i = 0; i < names.size() && i < max; ++i) out += (i ? ", " : "") + names[i];
  if (names.size() > max) out += ", ...";
  return out;
}

}  // namespace

Status SplitDelimited(std::string_view line, char delimiter, std::vector<std::string_view>* out) {
  out->clear();
  size_t i = 0;
  while (true) {
    if (i < line.size() && line[i] == '"') {
      // A quoted field runs to the quote that is not doubled.
      size_t j = i + 1;
      while (true) {
        j = line.find('"', j);
        if (j == std::string_view::npos) return InvalidArgument("unterminated quote in field " + std::to_string(out->size() + 1));
        if (j + 1 < line.size() && line[j + 1] == '"') {
          j += 2;
          continue;
        }
        break;
      }
      out->push_back(line.substr(i + 1, j - i - 1));
      i = j + 1;
      if (i == line.size()) return Status::OK();
      if (line[i] != delimiter) return InvalidArgument("text after a closing quote in field " + std::to_string(out->size()));
      ++i;
      continue;
    }
    const size_t at = line.find(delimiter, i);
    out->push_back(line.substr(i, (at == std::string_view::npos ? line.size() : at) - i));
    if (at == std::string_view::npos) return Status::OK();
    i = at + 1;
  }
}

StatusOr<CsvSchema> CsvSchema::FromHeader(std::string_view header, const CsvColumns& columns, bool label_optional) {
  header = StripCr(header);
  CsvSchema s;
  s.delimiter_ = DelimiterOf(header);
  std::vector<std::string_view> names;
  RETURN_IF_ERROR(SplitDelimited(header, s.delimiter_, &names).WithContext("header"));
  s.width_ = names.size();
  auto index_of = [&](const std::string& name) {
    auto it = std::find(names.begin(), names.end(), name);
    return it == names.end() ? -1 : static_cast<int>(it - names.begin());
  };
  std::set<int> taken;
  auto take = [&](const std::string& name, const char* role) -> StatusOr<int> {
    const int i = index_of(name);
    if (i < 0) return InvalidArgument(std::string(role) + " column '" + name + "' is not in the header");
    if (!taken.insert(i).second) return InvalidArgument("column '" + name + "' is given two roles");
    return i;
  };
  // The label.
  if (!columns.label.empty()) {
    if (index_of(columns.label) >= 0 || !label_optional) {
      ASSIGN_OR_RETURN(s.label_, take(columns.label, "--label_column:"));
    }
  } else {
    for (const char* name : {"label", "click", "target", "y"}) {
      if (index_of(name) >= 0) {
        ASSIGN_OR_RETURN(s.label_, take(name, "label"));
        break;
      }
    }
    if (s.label_ < 0 && !label_optional) {
      return InvalidArgument("no label column (none is called label, click, target or y): set --label_column");
    }
  }
  if (s.label_ >= 0) s.label_name_ = std::string(names[s.label_]);
  // Ignored columns: listed ones, else a row id.
  std::vector<std::string> ignore = columns.ignore;
  if (ignore.empty() && columns.categorical.empty() && index_of("id") >= 0 && s.label_name_ != "id") {
    ignore.push_back("id");
  }
  for (const std::string& name : ignore) {
    ASSIGN_OR_RETURN(const int i, take(name, "--ignore_columns:"));
    (void)i;
    s.ignored_.push_back(name);
  }
  auto column = [](int i, std::string_view name) {
    return Column{i, std::string(name), FieldNamespace(kCsvSalt, HashBytes(name))};
  };
  for (const std::string& name : columns.numeric) {
    ASSIGN_OR_RETURN(const int i, take(name, "--numeric_columns:"));
    s.numeric_.push_back(column(i, name));
  }
  if (!columns.categorical.empty()) {
    for (const std::string& name : columns.categorical) {
      ASSIGN_OR_RETURN(const int i, take(name, "--categorical_columns:"));
      s.categorical_.push_back(column(i, name));
    }
    // Columns left without a role are not used: say so in Describe.
    for (size_t i = 0; i < names.size(); ++i) {
      if (!taken.count(static_cast<int>(i))) s.ignored_.emplace_back(names[i]);
    }
  } else {
    for (size_t i = 0; i < names.size(); ++i) {
      if (!taken.count(static_cast<int>(i))) s.categorical_.push_back(column(static_cast<int>(i), names[i]));
    }
  }
  if (s.numeric_.empty() && s.categorical_.empty()) return InvalidArgument("no feature column left in the header");
  return s;
}

Status CsvSchema::Parse(std::string_view line, Example* out) const {
  thread_local std::vector<std::string_view> cols;
  RETURN_IF_ERROR(SplitDelimited(StripCr(line), delimiter_, &cols));
  if (cols.size() != width_) {
    return InvalidArgument("expected " + std::to_string(width_) + " columns as in the header, got " +
                           std::to_string(cols.size()));
  }
  out->Clear();
  if (label_ >= 0) {
    const std::string_view label = cols[label_];
    if (label != "0" && label != "1") return InvalidArgument(label_name_ + " must be 0 or 1, got " + Quote(label));
    out->label = label == "1" ? 1.0f : 0.0f;
  }
  uint16_t field = 0;
  for (const Column& c : numeric_) {
    const std::string_view text = cols[c.index];
    float v = 0;
    if (text.empty()) {
      out->AddFeature(field++, TokenKey(c.ns, text));
      out->dense.push_back(0);
      continue;
    }
    if (!ParseFiniteFloat(text, &v)) return InvalidArgument(c.name + " is not a number: " + Quote(text));
    const auto bucket = BucketizeInteger(static_cast<int64_t>(std::floor(std::clamp(v, -1e15f, 1e15f))));
    out->AddFeature(field++, IdKey(c.ns, static_cast<uint64_t>(bucket)));
    out->dense.push_back(v <= 0 ? 0.0f : std::log1p(v));
  }
  for (const Column& c : categorical_) out->AddFeature(field++, TokenKey(c.ns, cols[c.index]));
  out->AddFeature(field, Mix64(kCsvBiasSalt));
  return Status::OK();
}

CsvColumns CsvSchema::resolved() const {
  CsvColumns c;
  c.label = label_name_;
  for (const Column& n : numeric_) c.numeric.push_back(n.name);
  for (const Column& n : categorical_) c.categorical.push_back(n.name);
  return c;
}

std::string CsvSchema::Describe() const {
  const CsvColumns c = resolved();
  std::string d = std::string(delimiter_ == '\t' ? "tab" : delimiter_ == ',' ? "comma" : "semicolon") +
                  "-separated with a header; label " + (label_name_.empty() ? "none" : label_name_) + "; " +
                  std::to_string(c.categorical.size()) + " categorical (" + Joined(c.categorical, 6) + "); " +
                  std::to_string(c.numeric.size()) + " numeric";
  if (!c.numeric.empty()) d += " (" + Joined(c.numeric, 6) + ")";
  if (!ignored_.empty()) d += "; not used: " + Joined(ignored_, 6);
  return d;
}

StatusOr<CsvSchema> ReadCsvSchema(const std::string& path, const CsvColumns& columns, bool label_optional) {
  ASSIGN_OR_RETURN(auto reader, LineReader::OpenWholeFile(path, 64 << 10));
  std::string_view line;
  uint64_t line_no = 0;
  ASSIGN_OR_RETURN(const bool got, reader->Next(&line, &line_no));
  if (!got) return InvalidArgument(path + " is empty: a csv file starts with its header");
  StatusOr<CsvSchema> schema = CsvSchema::FromHeader(line, columns, label_optional);
  if (!schema.ok()) return schema.status().WithContext(path);
  return schema;
}

bool LooksLikeCsvWithHeader(std::string_view first_line, const std::vector<std::string_view>& rest) {
  first_line = StripCr(first_line);
  const char delimiter = DelimiterOf(first_line);
  std::vector<std::string_view> names, cols;
  if (!SplitDelimited(first_line, delimiter, &names).ok() || names.size() < 2) return false;
  for (std::string_view name : names) {
    float v = 0;
    if (name.empty() || ParseFiniteFloat(name, &v)) return false;
  }
  size_t matching = 0;
  for (std::string_view line : rest) {
    matching += SplitDelimited(StripCr(line), delimiter, &cols).ok() && cols.size() == names.size();
  }
  return !rest.empty() && matching * 10 >= rest.size() * 9;
}

}  // namespace embedps::data
