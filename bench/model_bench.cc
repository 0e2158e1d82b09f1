// Worker-side model math per batch: Prepare + Step on rows already pulled,
// for Criteo-shaped examples (39 one-hot fields + bias, 13 dense features).
// Items processed = examples, so items_per_second is the ceiling one worker
// thread's model puts on training rows/s.
#include <random>

#include <chrono>
#include <vector>

#include <benchmark/benchmark.h>

#include "common/hash.h"
#include "worker/model/batch_index.h"
#include "worker/model/deepfm_model.h"
#include "worker/model/dense_matmul.h"
#include "worker/model/factor_models.h"
#include "worker/model/ncf_model.h"

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

// MovieLens-shaped implicit feedback: a user and an item per example,
// 943 users and 1,682 items as in ML-100K, one positive in five (NCF's 4
// sampled negatives per rating).
std::vector<data::Example> RatingShapedBatch(size_t n) {
  std::mt19937_64 rng(5);
  std::vector<data::Example> batch(n);
  for (auto& ex : batch) {
    ex.label = static_cast<float>(rng() % 5 == 0);
    ex.user = rng() % 943;
    ex.item = rng() % 1682;
    ex.AddFeature(0, HashCombine(0, ex.user));
    ex.AddFeature(1, HashCombine(1, ex.item));
  }
  return batch;
}

void RunSteps(benchmark::State& state, Model& model,
              const std::vector<data::Example>& batch) {
  TableRows rows, grads;
  for (auto _ : state) {
    model.Prepare(batch);
    rows.resize(model.tables().size());
    for (size_t t = 0; t < rows.size(); ++t) rows[t].assign(model.Keys(t).size() * model.tables()[t].dim, 0.01f);
    benchmark::DoNotOptimize(model.Step(batch, rows, &grads));
  }
  state.SetItemsProcessed(state.iterations() * static_cast<int64_t>(batch.size()));
}

void RunSteps(benchmark::State& state, Model& model) {
  RunSteps(state, model, CriteoShapedBatch(static_cast<size_t>(state.range(0))));
}

// The dense layers of the models built next run on one thread in the
// precision of arg 1 (0: fp32, 1: bf16); false (the benchmark skipped)
// where the CPU has no bf16.
bool SetUpDense(benchmark::State& state, DensePrecision* precision) {
  *precision = state.range(1) ? DensePrecision::kBf16 : DensePrecision::kFp32;
  if (*precision == DensePrecision::kBf16 && !CpuHasBf16()) {
    state.SkipWithError("this CPU has no bf16 matrix instructions");
    return false;
  }
  SetDenseThreads(1);
  SetDensePrecision(*precision);
  return true;
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
// Args: batch size, dense precision (0: fp32, 1: bf16). Reports the MLP's
// GFLOP/s and its ratio to the peak of the same precision on this thread,
// measured beside it (a 4096 x 4096 x 4096 oneDNN product, its inputs
// already in the precision's type, so that it times the kernel alone).
void BM_DeepFmStep(benchmark::State& state) {
  DensePrecision precision;
  if (!SetUpDense(state, &precision)) return;
  double peak_gflops = 0;
  {
    constexpr int64_t n = 4096;
    const bool bf16 = precision == DensePrecision::kBf16;
    const DenseType type = bf16 ? DenseType::kBf16 : DenseType::kF32;
    // 0.5 and 0.25 are exact in both types.
    std::vector<float> a32(bf16 ? 0 : n * n, 0.5f), b32(bf16 ? 0 : n * n, 0.25f), c(n * n);
    std::vector<uint16_t> a16(bf16 ? n * n : 0, 0x3f00), b16(bf16 ? n * n : 0, 0x3e80);
    const void* a = bf16 ? static_cast<const void*>(a16.data()) : a32.data();
    const void* b = bf16 ? static_cast<const void*>(b16.data()) : b32.data();
    DenseMatmul mm(precision);
    const MatrixRef ra{a, n, n, n, false, type}, rb{b, n, n, n, false, type};
    mm.Multiply(ra, rb, c.data(), n, false);  // builds the primitive
    const auto start = std::chrono::steady_clock::now();
    constexpr int kReps = 2;
    for (int i = 0; i < kReps; ++i) mm.Multiply(ra, rb, c.data(), n, false);
    peak_gflops = 2.0 * n * n * n * kReps / std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count() / 1e9;
    if (c[0] != 0.125f * n) state.SkipWithError("the peak product computed a wrong value");
  }
  DeepFmOptions o;
  o.fm.factors = 16;
  o.first_field = 13;
  o.fields = 26;
  o.dense_scale = 0.1f;
  DeepFmModel deepfm(o);
  const auto start = std::chrono::steady_clock::now();
  RunSteps(state, deepfm);
  const double seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  // Forward and backward (two products) of each layer: 6 * in * out per row.
  std::vector<int> sizes = {26 * 16 + 13};
  sizes.insert(sizes.end(), o.hidden.begin(), o.hidden.end());
  sizes.push_back(1);
  double flops_per_row = 0;
  for (size_t l = 0; l + 1 < sizes.size(); ++l) flops_per_row += 6.0 * sizes[l] * sizes[l + 1];
  const double rows = static_cast<double>(state.iterations()) * static_cast<double>(state.range(0));
  state.counters["mlp_GFLOP/s"] = benchmark::Counter(rows * flops_per_row / 1e9, benchmark::Counter::kIsRate);
  state.counters["peak_GFLOP/s"] = peak_gflops;
  state.counters["mlp_vs_peak"] = rows * flops_per_row / seconds / 1e9 / peak_gflops;
  state.SetLabel(DensePrecisionName(precision));
}

// NCF as `embedps local --model ncf` trains it on MovieLens (32 factors,
// MLP 64-32-16); args: examples per batch (1,000 ratings with their 4
// negatives = 5,000), dense precision (0: fp32, 1: bf16).
void BM_NcfStep(benchmark::State& state) {
  DensePrecision precision;
  if (!SetUpDense(state, &precision)) return;
  NcfOptions o;
  o.factors = 32;
  o.hidden = {64, 32, 16};
  NcfModel ncf(o);
  RunSteps(state, ncf, RatingShapedBatch(static_cast<size_t>(state.range(0))));
  state.SetLabel(DensePrecisionName(precision));
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
BENCHMARK(BM_DeepFmStep)->Args({500, 0})->Args({1000, 0})->Args({500, 1})->Args({1000, 1});
BENCHMARK(BM_NcfStep)->Args({5000, 0})->Args({5000, 1});

}  // namespace
}  // namespace embedps::worker

BENCHMARK_MAIN();
