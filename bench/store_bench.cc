// Google Benchmark of the embedding table alone (no network): pull, push and
// push+pull of batches of unique keys, Zipf(1.1) over 10M ids, with every key
// inserted before timing. Items processed = keys.
#include <benchmark/benchmark.h>

#include <filesystem>
#include <random>
#include <unordered_set>

#include "common/hash.h"
#include "datagen/zipf.h"
#include "ps/checkpoint/checkpoint.h"
#include "ps/embedding_table.h"

namespace embedps::ps {
namespace {

// Four batches of n unique keys, used in turn, as `embedps bench pushpull`
// does: a batch's rows are not all in cache when it comes round again.
std::vector<std::vector<uint64_t>> Batches(size_t n) {
  datagen::ZipfSampler zipf(10000000, 1.1);
  std::mt19937_64 rng(7);
  std::vector<std::vector<uint64_t>> batches(4);
  for (auto& b : batches) {
    std::unordered_set<uint64_t> seen;
    while (seen.size() < n) seen.insert(Mix64(zipf(rng)));
    b.assign(seen.begin(), seen.end());
  }
  return batches;
}

std::unique_ptr<EmbeddingTable> Table(uint32_t dim, const char* optimizer) {
  TableConfig c;
  c.dim = dim;
  c.init = Initializer::kNormal;
  c.init_scale = 0.01f;
  c.optimizer.name = optimizer;
  return EmbeddingTable::Create(c).value();
}

void BM_Pull(benchmark::State& state) {
  const auto batches = Batches(state.range(0));
  const uint32_t dim = static_cast<uint32_t>(state.range(1));
  auto table = Table(dim, "adagrad");
  std::vector<float> out(batches[0].size() * dim);
  for (const auto& keys : batches) table->Pull(keys.data(), keys.size(), out.data());
  size_t i = 0;
  for (auto _ : state) {
    const auto& keys = batches[i++ % batches.size()];
    table->Pull(keys.data(), keys.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * batches[0].size());
}

// Writes a full checkpoint of `table` to a scratch file, so that the table
// tracks changed rows for the next delta from then on.
void CheckpointOnce(EmbeddingTable& table) {
  char dir[] = "/tmp/store-bench-XXXXXX";
  CHECK(mkdtemp(dir) != nullptr);
  const std::string path = std::string(dir) + "/ckpt";
  auto writer = checkpoint::Cut({&table}, checkpoint::CutInfo{});
  CHECK(writer.ok() && (*writer)->Write(path).ok());
  std::filesystem::remove_all(dir);
}

void BM_Push(benchmark::State& state, bool read_back, bool after_checkpoint = false) {
  const auto batches = Batches(state.range(0));
  const uint32_t dim = static_cast<uint32_t>(state.range(1));
  auto table = Table(dim, "adagrad");
  const size_t n = batches[0].size();
  std::vector<float> grads(n * dim, 0.001f), out(n * dim);
  for (const auto& keys : batches) (void)table->Push(keys.data(), n, grads.data());
  if (after_checkpoint) CheckpointOnce(*table);
  size_t i = 0;
  for (auto _ : state) {
    const auto& keys = batches[i++ % batches.size()];
    benchmark::DoNotOptimize(table->Push(keys.data(), n, grads.data(), read_back ? out.data() : nullptr));
  }
  state.SetItemsProcessed(state.iterations() * n);
}

void BM_PushAdagrad(benchmark::State& state) { BM_Push(state, false); }
void BM_PushPullAdagrad(benchmark::State& state) { BM_Push(state, true); }
// The same with change tracking on (after a checkpoint), as a delta needs.
void BM_PushAdagradTracked(benchmark::State& state) { BM_Push(state, false, true); }

BENCHMARK(BM_Pull)->Args({10000, 16})->Args({100000, 64});
BENCHMARK(BM_PushAdagrad)->Args({10000, 16})->Args({100000, 64});
BENCHMARK(BM_PushPullAdagrad)->Args({10000, 16})->Args({100000, 64});
BENCHMARK(BM_PushAdagradTracked)->Args({10000, 16})->Args({100000, 64});

}  // namespace
}  // namespace embedps::ps

BENCHMARK_MAIN();
