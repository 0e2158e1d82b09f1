#include "worker/data/side_features.h"

#include <algorithm>
#include <cstdio>
#include <limits>

#include "worker/data/keys.h"
#include "worker/data/line_reader.h"
#include "worker/data/parse_util.h"

namespace embedps::data {
namespace {

// "usrside" / "itmside" in ASCII: side keys live apart from every format's.
constexpr uint64_t kUserSideSalt = 0x75737273696465ULL;
constexpr uint64_t kItemSideSalt = 0x69746d73696465ULL;

std::vector<std::string_view> SplitAll(std::string_view s, std::string_view sep) {
  std::vector<std::string_view> out;
  size_t start = 0;
  while (true) {
    const size_t at = s.find(sep, start);
    out.push_back(s.substr(start, (at == std::string_view::npos ? s.size() : at) - start));
    if (at == std::string_view::npos) return out;
    start = at + sep.size();
  }
}

StatusOr<int> ParseIndex(std::string_view setting, std::string_view text) {
  int v = 0;
  if (!ParseWholeInteger(text, &v) || v < 0 || v > 4096) {
    return InvalidArgument("side file spec: bad number " + Quote(text) + " in " + Quote(setting));
  }
  return v;
}

std::string SeparatorByName(std::string_view s) {
  if (s == "tab") return "\t";
  if (s == "space") return " ";
  if (s == "comma") return ",";
  if (s == "pipe") return "|";
  return std::string(s);
}

// One "kind:COL[:ARG]" setting.
StatusOr<SideColumn> ParseColumn(std::string_view setting) {
  const std::vector<std::string_view> parts = SplitAll(setting, ":");
  using Kind = SideColumn::Kind;
  static const std::pair<std::string_view, Kind> kKinds[] = {
      {"cat", Kind::kCategory}, {"bucket", Kind::kBucket}, {"prefix", Kind::kPrefix},
      {"flags", Kind::kFlags},  {"list", Kind::kList}};
  SideColumn c;
  auto kind = std::find_if(std::begin(kKinds), std::end(kKinds),
                           [&](const auto& k) { return k.first == parts[0]; });
  if (kind == std::end(kKinds) || parts.size() < 2 || parts.size() > 3) {
    return InvalidArgument("side file spec: unknown setting " + Quote(setting) +
                           " (expected sep=, id=, header=, cat:, bucket:, prefix:, flags:, list:)");
  }
  c.kind = kind->second;
  ASSIGN_OR_RETURN(c.column, ParseIndex(setting, parts[1]));
  const bool has_arg = parts.size() == 3;
  const bool needs_arg = c.kind == Kind::kBucket || c.kind == Kind::kPrefix || c.kind == Kind::kFlags;
  if (needs_arg != has_arg && c.kind != Kind::kList) {
    return InvalidArgument("side file spec: " + Quote(setting) +
                           (needs_arg ? " needs a third part" : " takes no third part"));
  }
  if (c.kind == Kind::kPrefix || c.kind == Kind::kFlags) {
    ASSIGN_OR_RETURN(c.width, ParseIndex(setting, parts[2]));
    if (c.width == 0) return InvalidArgument("side file spec: zero width in " + Quote(setting));
  } else if (c.kind == Kind::kList && has_arg) {
    c.list_separator = SeparatorByName(parts[2]);
    if (c.list_separator.empty()) return InvalidArgument("side file spec: empty list separator");
  } else if (c.kind == Kind::kBucket) {
    for (std::string_view b : SplitAll(parts[2], ",")) {
      float v = 0;
      if (!ParseFiniteFloat(b, &v) || (!c.bounds.empty() && v <= c.bounds.back())) {
        return InvalidArgument("side file spec: bucket bounds must be ascending numbers: " +
                               Quote(setting));
      }
      c.bounds.push_back(v);
    }
  }
  return c;
}

// The namespace of one spec column: fixed by side, column and kind, so keys
// do not depend on the order in which files are loaded.
uint64_t ColumnNamespace(Side side, const SideColumn& c) {
  const uint64_t salt = side == Side::kUser ? kUserSideSalt : kItemSideSalt;
  return FieldNamespace(salt, static_cast<uint64_t>(c.column) * 8 + static_cast<uint64_t>(c.kind));
}

// The tokens of column `c` of a split line, as keys; InvalidArgument for a
// bad value.
Status ColumnKeys(const SideColumn& c, const std::vector<std::string_view>& cols, uint64_t ns,
                  std::vector<uint64_t>* keys) {
  const std::string_view text = cols[c.column];
  switch (c.kind) {
    case SideColumn::Kind::kCategory:
      keys->push_back(TokenKey(ns, text));
      return Status::OK();
    case SideColumn::Kind::kPrefix:
      keys->push_back(TokenKey(ns, text.substr(0, static_cast<size_t>(c.width))));
      return Status::OK();
    case SideColumn::Kind::kBucket: {
      float v = 0;
      if (!ParseFiniteFloat(text, &v)) {
        return InvalidArgument("column " + std::to_string(c.column + 1) + " is not a number: " + Quote(text));
      }
      const auto bucket = std::upper_bound(c.bounds.begin(), c.bounds.end(), v) - c.bounds.begin();
      keys->push_back(TokenKey(ns, std::to_string(bucket)));
      return Status::OK();
    }
    case SideColumn::Kind::kFlags:
      for (int k = 0; k < c.width; ++k) {
        const std::string_view flag = cols[c.column + k];
        if (flag != "0" && flag != "1") {
          return InvalidArgument("column " + std::to_string(c.column + k + 1) +
                                 " is not a 0/1 flag: " + Quote(flag));
        }
        if (flag == "1") keys->push_back(TokenKey(ns, std::to_string(k)));
      }
      return Status::OK();
    case SideColumn::Kind::kList:
      for (std::string_view item : SplitAll(text, c.list_separator)) {
        if (!item.empty()) keys->push_back(TokenKey(ns, item));
      }
      return Status::OK();
  }
  return Internal("unknown side column kind");
}

}  // namespace

StatusOr<SideFileSpec> ParseSideFileSpec(std::string_view text) {
  SideFileSpec spec;
  for (std::string_view setting : SplitAll(text, " ")) {
    if (setting.empty()) continue;
    if (setting.substr(0, 4) == "sep=") {
      spec.separator = SeparatorByName(setting.substr(4));
      if (spec.separator.empty()) return InvalidArgument("side file spec: empty separator");
    } else if (setting.substr(0, 3) == "id=") {
      ASSIGN_OR_RETURN(spec.id_column, ParseIndex(setting, setting.substr(3)));
    } else if (setting == "header=0" || setting == "header=1") {
      spec.header = setting.back() == '1';
    } else {
      ASSIGN_OR_RETURN(SideColumn c, ParseColumn(setting));
      spec.columns.push_back(std::move(c));
    }
  }
  if (spec.columns.empty()) return InvalidArgument("side file spec names no feature column");
  return spec;
}

std::string SideFileSpecText(const SideFileSpec& spec) {
  auto separator = [](const std::string& sep) -> std::string {
    if (sep == "\t") return "tab";
    if (sep == " ") return "space";
    return sep;
  };
  std::string text = "sep=" + separator(spec.separator) + " id=" + std::to_string(spec.id_column);
  if (spec.header) text += " header=1";
  for (const SideColumn& c : spec.columns) {
    using Kind = SideColumn::Kind;
    const std::string col = std::to_string(c.column);
    switch (c.kind) {
      case Kind::kCategory: text += " cat:" + col; break;
      case Kind::kPrefix: text += " prefix:" + col + ":" + std::to_string(c.width); break;
      case Kind::kFlags: text += " flags:" + col + ":" + std::to_string(c.width); break;
      case Kind::kList: text += " list:" + col + ":" + separator(c.list_separator); break;
      case Kind::kBucket: {
        text += " bucket:" + col + ":";
        for (size_t i = 0; i < c.bounds.size(); ++i) {
          char b[32];
          std::snprintf(b, sizeof(b), "%s%.9g", i ? "," : "", c.bounds[i]);
          text += b;
        }
        break;
      }
    }
  }
  return text;
}

const char* SideName(Side side) { return side == Side::kUser ? "user" : "item"; }

StatusOr<SideLayout> DetectMovieLensLayout(Side side, std::string_view first_line) {
  first_line = StripCr(first_line);
  const bool colons = first_line.find("::") != std::string_view::npos;
  const std::vector<std::string_view> cols = SplitAll(first_line, colons ? "::" : "|");
  uint64_t id = 0;
  const bool has_id = !cols.empty() && ParseWholeInteger(cols[0], &id);
  auto is_gender = [](std::string_view g) { return g == "M" || g == "F"; };
  // u.item: id|title|release|video release|url|19 genre flags (a bad flag
  // is the loader's to report, with its line).
  const bool flags = cols.size() == 24;
  struct Preset {
    const char* name;
    Side side;
    bool match;
    const char* spec;
  };
  const Preset presets[] = {
      {"MovieLens 100K u.user (age bucket, gender, occupation, zip prefix)", Side::kUser,
       !colons && cols.size() == 5 && is_gender(cols[2]), "sep=| id=0 bucket:1:18,25,35,45,50,56 cat:2 cat:3 prefix:4:3"},
      {"MovieLens 100K u.item (19 genre flags)", Side::kItem, !colons && flags, "sep=| id=0 flags:5:19"},
      {"MovieLens 1M users.dat (gender, age code, occupation, zip prefix)", Side::kUser,
       colons && cols.size() == 5 && is_gender(cols[1]), "sep=:: id=0 cat:1 cat:2 cat:3 prefix:4:3"},
      {"MovieLens 1M movies.dat (genre list)", Side::kItem, colons && cols.size() == 3, "sep=:: id=0 list:2:|"},
  };
  for (const Preset& p : presets) {
    if (!has_id || !p.match) continue;
    if (p.side != side) {
      return InvalidArgument(std::string("looks like ") + (p.side == Side::kUser ? "a user" : "an item") + " file (" +
                             p.name + "), not " + (side == Side::kUser ? "a user" : "an item") + " file");
    }
    return SideLayout{p.name, ParseSideFileSpec(p.spec).value()};
  }
  return InvalidArgument("first line " + Quote(first_line.substr(0, 80)) +
                         " has no MovieLens side-file layout (u.user, u.item, users.dat, movies.dat); describe "
                         "the file with --" + SideName(side) + "_features_spec (README: side features)");
}

Status SideFeatures::LoadDetected(Side side, const std::string& path, const std::string& spec_text) {
  SideLayout layout;
  if (!spec_text.empty()) {
    ASSIGN_OR_RETURN(layout.spec, ParseSideFileSpec(spec_text));
    layout.name = std::string("--") + SideName(side) + "_features_spec";
  } else {
    ASSIGN_OR_RETURN(auto reader, LineReader::OpenWholeFile(path, 64 << 10));
    std::string_view line;
    uint64_t line_no = 0;
    do {
      ASSIGN_OR_RETURN(const bool got, reader->Next(&line, &line_no));
      if (!got) return InvalidArgument(path + " is empty");
    } while (StripCr(line).empty());
    StatusOr<SideLayout> detected = DetectMovieLensLayout(side, line);
    if (!detected.ok()) return detected.status().WithContext(path);
    layout = std::move(detected).value();
  }
  RETURN_IF_ERROR(Load(side, path, layout.spec));
  LoadedFile& f = loaded_.back();
  f.layout = layout.name;
  LOG(INFO) << SideName(side) << " features: " << f.rows << " " << SideName(side) << "s from " << path << ", "
            << f.layout << ": " << f.fields << " fields (" << f.spec << ")";
  return Status::OK();
}

Status ParseSideLine(std::string_view line, const SideFileSpec& spec, Side side,
                     uint16_t first_field, SideRow* out) {
  out->keys.clear();
  out->fields.clear();
  size_t min_columns = static_cast<size_t>(spec.id_column) + 1;
  for (const SideColumn& c : spec.columns) {
    const int columns = c.kind == SideColumn::Kind::kFlags ? c.width : 1;
    min_columns = std::max(min_columns, static_cast<size_t>(c.column + columns));
  }
  const std::vector<std::string_view> cols = SplitAll(StripCr(line), spec.separator);
  if (cols.size() < min_columns) {
    return InvalidArgument("expected at least " + std::to_string(min_columns) + " columns, got " +
                           std::to_string(cols.size()));
  }
  if (!ParseWholeInteger(cols[spec.id_column], &out->id)) {
    return InvalidArgument("id is not an integer: " + Quote(cols[spec.id_column]));
  }
  for (size_t i = 0; i < spec.columns.size(); ++i) {
    RETURN_IF_ERROR(ColumnKeys(spec.columns[i], cols, ColumnNamespace(side, spec.columns[i]), &out->keys));
    out->fields.resize(out->keys.size(), static_cast<uint16_t>(first_field + i));
  }
  return Status::OK();
}

Status SideFeatures::Load(Side side, const std::string& path, const SideFileSpec& spec,
                          const ReaderOptions& opts) {
  RETURN_IF_ERROR(BadLineCounter::CheckOptions(opts));
  if (spec.columns.empty() || spec.separator.empty()) {
    return InvalidArgument("side file spec for " + path + " needs a separator and a column");
  }
  if (next_field_ + spec.columns.size() > std::numeric_limits<uint16_t>::max()) {
    return InvalidArgument("too many side feature fields");
  }
  ASSIGN_OR_RETURN(auto reader, LineReader::OpenWholeFile(path, opts.buffer_bytes));
  BadLineCounter counter(path, opts);
  Table& t = table(side);
  SideRow row;
  std::string_view line;
  uint64_t line_no = 0;
  while (true) {
    ASSIGN_OR_RETURN(const bool got, reader->Next(&line, &line_no));
    if (!got) break;
    if (StripCr(line).empty() || (spec.header && line_no == 1)) continue;
    Status st = ParseSideLine(line, spec, side, next_field_, &row);
    if (st.ok() && t.rows.count(row.id)) {
      st = InvalidArgument("id " + std::to_string(row.id) + " appears twice");
    }
    RETURN_IF_ERROR(counter.Record(line_no, st));
    if (!st.ok()) continue;
    t.rows[row.id] = Range{static_cast<uint32_t>(t.keys.size()), static_cast<uint32_t>(row.keys.size())};
    t.keys.insert(t.keys.end(), row.keys.begin(), row.keys.end());
    t.fields.insert(t.fields.end(), row.fields.begin(), row.fields.end());
  }
  RETURN_IF_ERROR(counter.CheckAtEnd());
  if (side == Side::kItem) {
    for (size_t i = 0; i < spec.columns.size(); ++i) item_fields_.insert(static_cast<uint16_t>(next_field_ + i));
  }
  loaded_.push_back(LoadedFile{side, path, "", SideFileSpecText(spec), t.rows.size(), spec.columns.size()});
  next_field_ = static_cast<uint16_t>(next_field_ + spec.columns.size());
  return Status::OK();
}

void SideFeatures::Append(Example* ex) const {
  for (const auto& [t, id] : {std::pair<const Table*, uint64_t>{&users_, ex->user},
                              std::pair<const Table*, uint64_t>{&items_, ex->item}}) {
    auto it = t->rows.find(id);
    if (it == t->rows.end()) continue;
    for (uint32_t i = it->second.begin; i < it->second.begin + it->second.count; ++i) {
      ex->AddFeature(t->fields[i], t->keys[i]);
    }
  }
}

}  // namespace embedps::data
