#include "launch/bench/memory_bench.h"

#include <chrono>
#include <cstdio>
#include <fstream>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "launch/bench/table_fill.h"
#include "ps/embedding_table.h"

namespace embedps::launch {
namespace {

// VmRSS of this process in bytes.
uint64_t ResidentBytes() {
  std::ifstream in("/proc/self/status");
  std::string line;
  while (std::getline(in, line)) {
    if (line.rfind("VmRSS:", 0) == 0) return std::stoull(line.substr(6)) * 1024;
  }
  return 0;
}

}  // namespace

Status RunMemoryBench(const MemoryBenchOptions& o) {
  ASSIGN_OR_RETURN(const ps::TableConfig config, BenchTableConfig(o.rows, o.dim, o.optimizer, o.fp16));
  ASSIGN_OR_RETURN(auto optimizer, ps::MakeOptimizer(config.optimizer));
  const uint64_t payload = (o.fp16 ? 2 : 4) * uint64_t{o.dim} + 4 * uint64_t{optimizer->StateFloats(o.dim)};

  const uint64_t before = ResidentBytes();
  ASSIGN_OR_RETURN(auto table, ps::EmbeddingTable::Create(config));
  const auto start = std::chrono::steady_clock::now();
  RETURN_IF_ERROR(FillTable(*table, o.rows, "bench memory", o.json));
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  const uint64_t after = ResidentBytes();
  const double per_row = static_cast<double>(after - before) / o.rows;
  nlohmann::json j = {{"bench", "memory"},
                      {"rows", o.rows},
                      {"dim", o.dim},
                      {"optimizer", o.optimizer},
                      {"fp16", o.fp16},
                      {"rss_before_bytes", before},
                      {"rss_after_bytes", after},
                      {"bytes_per_row", per_row},
                      {"payload_bytes_per_row", payload},
                      {"overhead_ratio", per_row / payload},
                      {"table_rows", table->size()},
                      {"insert_rows_per_sec", o.rows / seconds}};
  if (o.json) {
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("bench memory: %llu rows, dim %u, %s%s: %.1f bytes/row resident for %llu bytes of "
                "payload (%.3fx); %.0f inserts/s\n",
                static_cast<unsigned long long>(o.rows), o.dim, o.optimizer.c_str(),
                o.fp16 ? ", fp16" : "", per_row, static_cast<unsigned long long>(payload),
                per_row / payload, o.rows / seconds);
  }
  return Status::OK();
}

}  // namespace embedps::launch
