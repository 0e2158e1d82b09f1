#include "ps/table_spec.h"

#include <charconv>
#include <fstream>
#include <set>
#include <sstream>

namespace embedps::ps {
namespace {

template <typename T>
Status ParseNumber(const std::string& value, T* out) {
  if constexpr (std::is_floating_point_v<T>) {
    char* end = nullptr;
    const double v = std::strtod(value.c_str(), &end);
    if (value.empty() || *end != '\0') return InvalidArgument("'" + value + "' is not a number");
    *out = static_cast<T>(v);
    return Status::OK();
  } else {
    auto [ptr, ec] = std::from_chars(value.data(), value.data() + value.size(), *out);
    if (ec != std::errc() || ptr != value.data() + value.size()) {
      return InvalidArgument("'" + value + "' is not a non-negative integer");
    }
    return Status::OK();
  }
}

Status Apply(const std::string& key, const std::string& value, TableConfig* t) {
  OptimizerConfig& o = t->optimizer;
  if (key == "name") { t->name = value; return Status::OK(); }
  if (key == "optimizer") { o.name = value; return Status::OK(); }
  if (key == "init") {
    ASSIGN_OR_RETURN(t->init, ParseInitializer(value));
    return Status::OK();
  }
  if (key == "dim") return ParseNumber(value, &t->dim);
  if (key == "lr") return ParseNumber(value, &o.learning_rate);
  if (key == "initial_accumulator") return ParseNumber(value, &o.initial_accumulator);
  if (key == "factor_lr") return ParseNumber(value, &o.factor_learning_rate);
  if (key == "l1") return ParseNumber(value, &o.l1);
  if (key == "l2") return ParseNumber(value, &o.l2);
  if (key == "beta1") return ParseNumber(value, &o.beta1);
  if (key == "beta2") return ParseNumber(value, &o.beta2);
  if (key == "epsilon") return ParseNumber(value, &o.epsilon);
  if (key == "ftrl_beta") return ParseNumber(value, &o.ftrl_beta);
  if (key == "clip_norm") return ParseNumber(value, &o.clip_norm);
  if (key == "init_scale") return ParseNumber(value, &t->init_scale);
  if (key == "seed") return ParseNumber(value, &t->seed);
  if (key == "admit_after") return ParseNumber(value, &t->admit_after);
  if (key == "evict_after_steps") return ParseNumber(value, &t->evict_after_steps);
  if (key == "evict_after_seconds") return ParseNumber(value, &t->evict_after_seconds);
  if (key == "fp16") {
    if (value != "0" && value != "1" && value != "true" && value != "false") {
      return InvalidArgument("fp16 must be 0/1/true/false");
    }
    t->fp16 = value == "1" || value == "true";
    return Status::OK();
  }
  if (key == "memory_budget_mb") {
    uint64_t mb = 0;
    RETURN_IF_ERROR(ParseNumber(value, &mb));
    t->memory_budget_bytes = mb << 20;
    return Status::OK();
  }
  return InvalidArgument("unknown setting '" + key + "'");
}

}  // namespace

StatusOr<std::vector<TableConfig>> ParseTableSpecs(const std::string& text,
                                                   const TableConfig& defaults) {
  std::vector<TableConfig> tables;
  std::set<std::string> names;
  std::string normalized = text;
  for (char& c : normalized) {
    if (c == ';') c = '\n';
  }
  std::istringstream lines(normalized);
  std::string line;
  while (std::getline(lines, line)) {
    line = line.substr(0, line.find('#'));
    std::istringstream words(line);
    std::string word;
    TableConfig t = defaults;
    t.id = static_cast<uint32_t>(tables.size());
    t.name = "table" + std::to_string(t.id);
    bool any = false;
    while (words >> word) {
      any = true;
      const size_t eq = word.find('=');
      if (eq == std::string::npos) {
        return InvalidArgument("table " + std::to_string(t.id) + ": expected key=value, got '" + word + "'");
      }
      Status st = Apply(word.substr(0, eq), word.substr(eq + 1), &t);
      if (!st.ok()) return st.WithContext("table " + std::to_string(t.id) + " (" + t.name + ")");
    }
    if (!any) continue;
    if (!names.insert(t.name).second) return InvalidArgument("table name '" + t.name + "' declared twice");
    // Validate now, so a bad spec fails at start-up with the table named.
    auto probe = EmbeddingTable::Create(t);
    if (!probe.ok()) return probe.status();
    tables.push_back(t);
  }
  if (tables.empty()) return InvalidArgument("no tables declared");
  return tables;
}

StatusOr<std::vector<TableConfig>> ReadTableSpecFile(const std::string& path,
                                                     const TableConfig& defaults) {
  std::ifstream in(path);
  if (!in) return NotFound("table spec file " + path + " does not exist");
  std::stringstream ss;
  ss << in.rdbuf();
  auto tables = ParseTableSpecs(ss.str(), defaults);
  if (!tables.ok()) return tables.status().WithContext(path);
  return tables;
}

}  // namespace embedps::ps
