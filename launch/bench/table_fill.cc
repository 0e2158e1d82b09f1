#include "launch/bench/table_fill.h"

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <vector>

#include "common/hash.h"

namespace embedps::launch {

StatusOr<ps::TableConfig> BenchTableConfig(uint64_t rows, uint32_t dim, const std::string& optimizer,
                                           bool fp16) {
  if (rows == 0 || rows > (uint64_t{1} << 32) - 1) return InvalidArgument("--rows must be in 1..4294967295");
  ps::TableConfig config;
  config.dim = dim;
  config.fp16 = fp16;
  config.init = ps::Initializer::kNormal;
  config.init_scale = 0.01f;
  config.optimizer.name = optimizer;
  return config;
}

Status FillTable(ps::EmbeddingTable& table, uint64_t rows, const std::string& label, bool quiet) {
  const uint32_t dim = table.config().dim;
  const size_t batch = 100000;
  std::vector<uint64_t> keys(batch);
  std::vector<float> grads(batch * dim, 0.01f);
  auto last_report = std::chrono::steady_clock::now();
  for (uint64_t done = 0; done < rows;) {
    const size_t n = static_cast<size_t>(std::min<uint64_t>(batch, rows - done));
    for (size_t i = 0; i < n; ++i) keys[i] = Mix64(done + i + 1);
    RETURN_IF_ERROR(table.Push(keys.data(), n, grads.data()));
    done += n;
    const auto now = std::chrono::steady_clock::now();
    if (!quiet && now - last_report > std::chrono::seconds(5)) {
      std::fprintf(stderr, "%s: %llu / %llu rows\n", label.c_str(),
                   static_cast<unsigned long long>(done), static_cast<unsigned long long>(rows));
      last_report = now;
    }
  }
  return Status::OK();
}

}  // namespace embedps::launch
