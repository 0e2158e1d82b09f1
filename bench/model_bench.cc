// Worker-side model math per batch: Prepare + Step on rows already pulled,
// for Criteo-shaped examples (39 one-hot fields + bias, 13 dense features).
// Items processed = examples, so items_per_second is the ceiling one worker
// thread's model puts on training rows/s.
#include <random>

#include <benchmark/benchmark.h>

#include "common/hash.h"
#include "worker/model/batch_index.h"
#include "worker/model/deepfm_model.h"
#include "worker/model/factor_models.h"

namespace embedps::worker {
namespace {

std::vector<data::Example> CriteoShapedBatch(size_t n) {
  std::mt19937_64 rng(5);
  std::vector<data::Example> batch(n);
  for (auto& ex : batch) {
    ex.label = static_cast<float>(rng() % 4 == 0);
    for (uint16_t f = 0; f < 40; ++f) ex.AddFeature(f, HashCombine(f, rng() % 5000));
    for (int d = 0; d < 13; ++d) ex.dense.push_back(static_cast<float>(rng() % 100) / 50.0f);
  }
  return batch;
}

void RunSteps(benchmark::State& state, Model& model) {
  const auto batch = CriteoShapedBatch(static_cast<size_t>(state.range(0)));
  TableRows rows, grads;
  for (auto _ : state) {
    model.Prepare(batch);
    rows.resize(model.tables().size());
    for (size_t t = 0; t < rows.size(); ++t) rows[t].assign(model.Keys(t).size() * model.tables()[t].dim, 0.01f);
    benchmark::DoNotOptimize(model.Step(batch, rows, &grads));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
}

void BM_FmStep(benchmark::State& state) {
  FactorModelOptions o;
  o.factors = 10;
  FmModel fm(o);
  RunSteps(state, fm);
}

// The layout `embedps local --model deepfm` trains on Criteo: 16 factors, the
// MLP (400-400-400) over the 26 categorical fields and the 13 scaled dense
// features.
void BM_DeepFmStep(benchmark::State& state) {
  DeepFmOptions o;
  o.fm.factors = 16;
  o.first_field = 13;
  o.fields = 26;
  o.dense_scale = 0.1f;
  DeepFmModel deepfm(o);
  RunSteps(state, deepfm);
}

// Dedup of a batch's keys (every model's Prepare starts with it).
void BM_BatchIndexBuild(benchmark::State& state) {
  const auto batch = CriteoShapedBatch(static_cast<size_t>(state.range(0)));
  BatchIndex index;
  for (auto _ : state) {
    index.Build(batch, {1});
    benchmark::DoNotOptimize(index.keys().data());
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
}

BENCHMARK(BM_BatchIndexBuild)->Arg(1000);
BENCHMARK(BM_FmStep)->Arg(1000);
BENCHMARK(BM_DeepFmStep)->Arg(500)->Arg(1000);

}  // namespace
}  // namespace embedps::worker

BENCHMARK_MAIN();
