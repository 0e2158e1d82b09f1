#include "ps/checkpoint/table_match.h"

#include "ps/checkpoint/table_info.h"

namespace embedps::ps::checkpoint {
namespace {

template <typename T>
std::string Text(const T& v) {
  if constexpr (std::is_same_v<T, std::string>) {
    return "'" + v + "'";
  } else {
    return std::to_string(v);
  }
}

}  // namespace

Status CheckTablesMatch(const std::string& path, const std::vector<TableInfo>& in_file,
                        const std::vector<EmbeddingTable*>& tables) {
  if (in_file.size() != tables.size()) {
    return FailedPrecondition(path + ": the checkpoint has " + std::to_string(in_file.size()) +
                              " tables, this server " + std::to_string(tables.size()));
  }
  for (size_t i = 0; i < tables.size(); ++i) {
    const TableInfo& f = in_file[i];
    const TableInfo here = DescribeTable(*tables[i], 0);
    Status st;
    auto check = [&](const char* field, const auto& in_ckpt, const auto& ours) {
      if (st.ok() && !(in_ckpt == ours)) {
        st = FailedPrecondition(path + ": table " + std::to_string(i) + " ('" + here.config.name +
                                "'): " + field + " is " + Text(in_ckpt) + " in the checkpoint, " +
                                Text(ours) + " here");
      }
    };
    check("name", f.config.name, here.config.name);
    check("dim", f.config.dim, here.config.dim);
    check("optimizer", f.config.optimizer.name, here.config.optimizer.name);
    check("fp16", static_cast<int>(f.config.fp16), static_cast<int>(here.config.fp16));
    check("weight bytes per row", f.weight_bytes, here.weight_bytes);
    check("optimizer state floats per row", f.state_floats, here.state_floats);
    RETURN_IF_ERROR(st);
  }
  return Status::OK();
}

}  // namespace embedps::ps::checkpoint
