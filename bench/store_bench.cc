// Google Benchmark of the embedding table alone (no network): pull, push and
// push+pull of batches of unique keys, Zipf(1.1) over 10M ids, with every key
// inserted before timing. Items processed = keys.
#include <benchmark/benchmark.h>

#include <random>
#include <unordered_set>

#include "common/hash.h"
#include "datagen/zipf.h"
#include "ps/embedding_table.h"

namespace embedps::ps {
namespace {

std::vector<uint64_t> Keys(size_t n) {
  datagen::ZipfSampler zipf(10000000, 1.1);
  std::mt19937_64 rng(7);
  std::unordered_set<uint64_t> seen;
  while (seen.size() < n) seen.insert(Mix64(zipf(rng)));
  return {seen.begin(), seen.end()};
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
  const auto keys = Keys(state.range(0));
  const uint32_t dim = static_cast<uint32_t>(state.range(1));
  auto table = Table(dim, "adagrad");
  std::vector<float> out(keys.size() * dim);
  table->Pull(keys.data(), keys.size(), out.data());
  for (auto _ : state) {
    table->Pull(keys.data(), keys.size(), out.data());
    benchmark::DoNotOptimize(out.data());
  }
  state.SetItemsProcessed(state.iterations() * keys.size());
}

void BM_Push(benchmark::State& state, bool read_back) {
  const auto keys = Keys(state.range(0));
  const uint32_t dim = static_cast<uint32_t>(state.range(1));
  auto table = Table(dim, "adagrad");
  std::vector<float> grads(keys.size() * dim, 0.001f), out(keys.size() * dim);
  (void)table->Push(keys.data(), keys.size(), grads.data());
  for (auto _ : state) {
    benchmark::DoNotOptimize(table->Push(keys.data(), keys.size(), grads.data(),
                                         read_back ? out.data() : nullptr));
  }
  state.SetItemsProcessed(state.iterations() * keys.size());
}

void BM_PushAdagrad(benchmark::State& state) { BM_Push(state, false); }
void BM_PushPullAdagrad(benchmark::State& state) { BM_Push(state, true); }

BENCHMARK(BM_Pull)->Args({10000, 16})->Args({100000, 64});
BENCHMARK(BM_PushAdagrad)->Args({10000, 16})->Args({100000, 64});
BENCHMARK(BM_PushPullAdagrad)->Args({10000, 16})->Args({100000, 64});

}  // namespace
}  // namespace embedps::ps

BENCHMARK_MAIN();
