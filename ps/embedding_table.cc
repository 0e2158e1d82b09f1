#include "ps/embedding_table.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <optional>

#include <glog/logging.h>

#include "common/float_checks.h"
#include "common/hash.h"
#include "ps/store/half.h"

namespace embedps::ps {

namespace {
constexpr uint32_t kStripeBits = 6;  // 64 stripes per table
constexpr uint32_t kMaxDim = 1024;
// How far ahead (in keys) the index slots and the rows are prefetched. A
// request touches rows spread over gigabytes, so without these the loops
// wait on a cache miss for nearly every key.
constexpr uint32_t kIndexAhead = 16;
constexpr uint32_t kRowAhead = 6;

// Hints the CPU to fetch [p, p + bytes), at most 16 cache lines, for
// reading or (kWrite) for writing.
enum PrefetchFor { kRead = 0, kWrite = 1 };
template <PrefetchFor kFor = kRead>
inline void PrefetchBytes(const void* p, size_t bytes) {
  const auto first = reinterpret_cast<uintptr_t>(p) & ~uintptr_t{63};
  const auto last = std::min(reinterpret_cast<uintptr_t>(p) + bytes - 1, first + 15 * 64);
  for (uintptr_t line = first; line <= last; line += 64) {
    __builtin_prefetch(reinterpret_cast<const void*>(line), kFor);
  }
}
}  // namespace

StatusOr<std::unique_ptr<EmbeddingTable>> EmbeddingTable::Create(const TableConfig& config) {
  const std::string what = "table '" + config.name + "'";
  if (config.dim == 0 || config.dim > kMaxDim) {
    return InvalidArgument(what + ": dim must be in 1..1024, got " + std::to_string(config.dim));
  }
  if (!(config.init_scale >= 0) || !std::isfinite(config.init_scale)) {
    return InvalidArgument(what + ": init scale must be >= 0");
  }
  if (config.admit_after > 255) {
    return InvalidArgument(what + ": admit_after must be at most 255 (the sketch counts to 255)");
  }
  if (config.evict_after_steps >= (uint64_t{1} << 31)) {
    return InvalidArgument(what + ": evict_after_steps must be below 2^31");
  }
  // Ten years: far beyond any job, and far from overflowing a duration.
  if (config.evict_after_seconds > uint64_t{10} * 366 * 24 * 3600) {
    return InvalidArgument(what + ": evict_after_seconds must be at most ten years");
  }
  auto optimizer = MakeOptimizer(config.optimizer);
  if (!optimizer.ok()) return optimizer.status().WithContext(what);
  return std::unique_ptr<EmbeddingTable>(new EmbeddingTable(config, std::move(optimizer).value()));
}

EmbeddingTable::EmbeddingTable(const TableConfig& config, std::unique_ptr<Optimizer> optimizer)
    : config_(config),
      optimizer_(std::move(optimizer)),
      timeline_(std::chrono::seconds(config.evict_after_seconds)) {
  weight_bytes_ = config_.fp16 ? ((config_.dim * 2 + 3) & ~3u) : config_.dim * 4;
  state_floats_ = optimizer_->StateFloats(config_.dim);
  track_steps_ =
      config_.evict_after_steps > 0 || config_.memory_budget_bytes > 0 || config_.evict_after_seconds > 0;
  if (config_.evict_after_seconds > 0) {
    MutexLock lock(&timeline_mu_);
    timeline_.Record(StepTimeline::Clock::now(), 0);  // every row is touched after this
  }
  row_bytes_ = weight_bytes_ + state_floats_ * 4 + (track_steps_ ? 4 : 0);
  stripe_bits_ = kStripeBits;
  for (uint32_t i = 0; i < (1u << stripe_bits_); ++i) {
    stripes_.push_back(std::make_unique<Stripe>(i, row_bytes_, config_.admit_after > 1));
  }
}

EmbeddingTable::~EmbeddingTable() = default;

uint32_t EmbeddingTable::StripeOf(uint64_t key) const {
  // Top bits; the index uses the low bits of the same mix.
  return static_cast<uint32_t>(Mix64(key) >> (64 - stripe_bits_));
}

template <typename Fn>
void EmbeddingTable::ForEachStripe(const uint64_t* keys, size_t n, Fn&& fn) const {
  // Counting sort of positions by stripe, into per-thread scratch.
  thread_local std::vector<uint32_t> order;
  thread_local std::vector<uint64_t> sorted_keys;
  thread_local std::vector<uint32_t> stripe_of;
  const uint32_t num = 1u << stripe_bits_;
  uint32_t start[(1u << kStripeBits) + 1] = {0};
  order.resize(n);
  sorted_keys.resize(n);
  stripe_of.resize(n);
  for (size_t i = 0; i < n; ++i) {
    stripe_of[i] = StripeOf(keys[i]);
    ++start[stripe_of[i] + 1];
  }
  for (uint32_t s = 0; s < num; ++s) start[s + 1] += start[s];
  uint32_t fill[1u << kStripeBits];
  std::memcpy(fill, start, sizeof(fill));
  // Keys are copied in stripe order too, so that the lookups read them
  // sequentially (a large request's keys do not fit in L2).
  for (size_t i = 0; i < n; ++i) {
    const uint32_t to = fill[stripe_of[i]]++;
    order[to] = static_cast<uint32_t>(i);
    sorted_keys[to] = keys[i];
  }
  for (uint32_t s = 0; s < num; ++s) {
    if (start[s + 1] > start[s]) {
      fn(*stripes_[s], &order[start[s]], &sorted_keys[start[s]], start[s + 1] - start[s]);
    }
  }
}

void EmbeddingTable::InitialValue(uint64_t key, float* out) const {
  const uint64_t base = HashCombine(HashCombine(config_.seed, config_.id), key);
  const float scale = config_.init_scale;
  for (uint32_t i = 0; i < config_.dim; ++i) {
    switch (config_.init) {
      case Initializer::kZeros:
        out[i] = 0.0f;
        break;
      case Initializer::kUniform:
        out[i] = static_cast<float>((2.0 * HashToUnit(HashCombine(base, i)) - 1.0) * scale);
        break;
      case Initializer::kNormal: {
        // Box-Muller on two hashed uniforms; 1 - u keeps the log finite.
        const double u1 = 1.0 - HashToUnit(HashCombine(base, 2 * i));
        const double u2 = HashToUnit(HashCombine(base, 2 * i + 1));
        out[i] = static_cast<float>(std::sqrt(-2.0 * std::log(u1)) * std::cos(2 * M_PI * u2) * scale);
        break;
      }
    }
  }
}

void EmbeddingTable::ReadWeights(const char* row, float* out) const {
  if (!config_.fp16) {
    std::memcpy(out, row, config_.dim * 4);
    return;
  }
  const auto* h = reinterpret_cast<const uint16_t*>(row);
  for (uint32_t i = 0; i < config_.dim; ++i) out[i] = HalfToFloat(h[i]);
}

void EmbeddingTable::WriteWeights(char* row, const float* in) const {
  if (!config_.fp16) {
    std::memcpy(row, in, config_.dim * 4);
    return;
  }
  auto* h = reinterpret_cast<uint16_t*>(row);
  for (uint32_t i = 0; i < config_.dim; ++i) h[i] = FloatToHalf(in[i]);
}

uint32_t EmbeddingTable::FindOrCreate(Stripe& s, uint64_t key, bool create) {
  uint32_t row = s.index.Find(key);
  if (row != RowIndex::kNoRow || !create) return row;
  row = s.arena.Allocate();
  char* p = s.arena.Row(row);
  float init[kMaxDim];
  InitialValue(key, init);
  WriteWeights(p, init);
  optimizer_->InitState(State(p), config_.dim);
  s.index.Insert(key, row);
  if (s.track_changes) {
    s.CoverArena();
    s.MarkChanged(row);
  }
  rows_.fetch_add(1, std::memory_order_relaxed);
  return row;
}

template <typename ResolveFn>
void EmbeddingTable::ResolveRows(Stripe& s, const uint64_t* keys, uint32_t count, char** rows,
                                 ResolveFn&& resolve) {
  for (uint32_t j = 0; j < count; ++j) {
    if (j + kIndexAhead < count) s.index.Prefetch(keys[j + kIndexAhead]);
    const uint32_t row = resolve(keys[j]);
    rows[j] = row == RowIndex::kNoRow ? nullptr : s.arena.Row(row);
  }
}

void EmbeddingTable::Pull(const uint64_t* keys, size_t n, float* out, bool read_only) {
  const uint32_t dim = config_.dim;
  const bool create = config_.admit_after <= 1 && !read_only;
  const bool stamp = track_steps_ && !read_only;
  const uint32_t now = static_cast<uint32_t>(step_.load(std::memory_order_relaxed));
  ForEachStripe(keys, n, [&](Stripe& s, const uint32_t* pos, const uint64_t* skeys,
                                 uint32_t count) {
    thread_local std::vector<char*> rows;
    rows.resize(count);
    MutexLock lock(&s.mu);
    // A pull changes the stripe when it creates rows or stamps them.
    if (s.cut != nullptr && (create || stamp)) CopyForCut(s, true);
    // A stamp is part of the row, so stamped rows go into the next delta.
    const bool mark = stamp && s.track_changes;
    // Two passes: find every row first, then copy, prefetching rows ahead.
    ResolveRows(s, skeys, count, rows.data(), [&](uint64_t key) {
      s.mu.AssertHeld();  // called back under the lock above
      const uint32_t row = FindOrCreate(s, key, create);
      if (mark && row != RowIndex::kNoRow) s.MarkChanged(row);
      return row;
    });
    for (uint32_t j = 0; j < count; ++j) {
      if (j + kRowAhead < count) {
        if (rows[j + kRowAhead] != nullptr) PrefetchBytes(rows[j + kRowAhead], weight_bytes_);
        PrefetchBytes<kWrite>(out + size_t{pos[j + kRowAhead]} * dim, dim * 4);
      }
      const uint32_t i = pos[j];
      char* p = rows[j];
      if (p == nullptr) {
        InitialValue(skeys[j], out + size_t{i} * dim);
        continue;
      }
      ReadWeights(p, out + size_t{i} * dim);
      if (stamp) *LastStep(p) = now;
    }
  });
}

Status EmbeddingTable::Push(const uint64_t* keys, size_t n, const float* grads, float* out) {
  const uint32_t dim = config_.dim;
  if (!AllFinite(grads, n * dim)) {
    for (size_t i = 0; i < n * dim; ++i) {
      if (!std::isfinite(grads[i])) {
        return InvalidArgument("table '" + config_.name + "': gradient for key " +
                               std::to_string(keys[i / dim]) + " is not finite; push refused");
      }
    }
  }
  const uint32_t now = static_cast<uint32_t>(step_.fetch_add(1, std::memory_order_relaxed) + 1);
  const uint32_t admit_after = config_.admit_after;
  uint64_t pending = 0;
  ForEachStripe(keys, n, [&](Stripe& s, const uint32_t* pos, const uint64_t* skeys,
                                 uint32_t count) {
    thread_local std::vector<char*> rows;
    rows.resize(count);
    float w[kMaxDim];
    MutexLock lock(&s.mu);
    if (s.cut != nullptr) CopyForCut(s, true);
    const bool mark = s.track_changes;
    ResolveRows(s, skeys, count, rows.data(), [&](uint64_t key) {
      s.mu.AssertHeld();  // called back under the lock above
      const uint32_t row = s.index.Find(key);
      if (row != RowIndex::kNoRow) {
        if (mark) s.MarkChanged(row);
        return row;
      }
      // Held back by admission: counted, and answered with the initial value.
      if (admit_after > 1 && s.sketch.Increment(key) < admit_after) return RowIndex::kNoRow;
      return FindOrCreate(s, key, true);
    });
    for (uint32_t j = 0; j < count; ++j) {
      if (j + kRowAhead < count) {
        if (rows[j + kRowAhead] != nullptr) PrefetchBytes(rows[j + kRowAhead], row_bytes_);
        PrefetchBytes(grads + size_t{pos[j + kRowAhead]} * dim, dim * 4);
        if (out != nullptr) PrefetchBytes<kWrite>(out + size_t{pos[j + kRowAhead]} * dim, dim * 4);
      }
      const uint32_t i = pos[j];
      char* p = rows[j];
      if (p == nullptr) {
        ++pending;
        if (out != nullptr) InitialValue(skeys[j], out + size_t{i} * dim);
        continue;
      }
      if (config_.fp16) {
        ReadWeights(p, w);
        optimizer_->Apply(w, State(p), grads + size_t{i} * dim, dim);
        WriteWeights(p, w);
      } else {
        // Rows are 4-byte aligned, so the optimizer can work in place.
        optimizer_->Apply(reinterpret_cast<float*>(p), State(p), grads + size_t{i} * dim, dim);
      }
      if (track_steps_) *LastStep(p) = now;
      if (out != nullptr) ReadWeights(p, out + size_t{i} * dim);
    }
  });
  if (pending > 0) pending_pushes_.fetch_add(pending, std::memory_order_relaxed);
  return Status::OK();
}

// Steps are stamped into rows as 32 bits; ages are computed modulo 2^32, so
// they stay right across the wrap as long as they are below 2^31 (Create
// caps evict_after_steps accordingly).
size_t EmbeddingTable::EvictAged(uint32_t min_age) {
  const uint32_t now = static_cast<uint32_t>(step_.load(std::memory_order_relaxed));
  return EvictWhere([&](uint32_t stamp) { return static_cast<uint32_t>(now - stamp) >= min_age; });
}

size_t EmbeddingTable::EvictStampedBefore(uint32_t threshold) {
  return EvictWhere([&](uint32_t stamp) { return static_cast<int32_t>(stamp - threshold) < 0; });
}

template <typename Victim>
size_t EmbeddingTable::EvictWhere(Victim victim) {
  size_t removed = 0;
  std::vector<uint64_t> victims;
  for (auto& sp : stripes_) {
    Stripe& s = *sp;
    MutexLock lock(&s.mu);
    victims.clear();
    s.index.ForEach([&](uint64_t key, uint32_t row) {
      s.mu.AssertHeld();  // called back under the lock above
      if (victim(*LastStep(s.arena.Row(row)))) victims.push_back(key);
    });
    if (victims.empty()) continue;
    if (s.cut != nullptr) CopyForCut(s, true);
    for (uint64_t key : victims) {
      const uint32_t row = s.index.Erase(key);
      if (s.track_changes) {
        s.ClearChanged(row);
        s.removed.push_back(key);
      }
      s.arena.Free(row);
    }
    removed += victims.size();
    rows_.fetch_sub(victims.size(), std::memory_order_relaxed);
  }
  evicted_.fetch_add(removed, std::memory_order_relaxed);
  return removed;
}

uint32_t EmbeddingTable::LruMinAge(uint64_t live_rows, uint64_t bytes_per_row) const {
  // Evict down to 90% of the budget so eviction does not run on every call.
  const uint64_t target_rows = config_.memory_budget_bytes * 9 / 10 / bytes_per_row;
  if (live_rows <= target_rows) return 0;
  const double drop = static_cast<double>(live_rows - target_rows) / live_rows;
  // The age above which that fraction of rows lies, from a sample of up to
  // 64 rows per stripe.
  const uint32_t now = static_cast<uint32_t>(step_.load(std::memory_order_relaxed));
  std::vector<uint32_t> ages;
  for (const auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    size_t taken = 0;
    sp->index.ForEach([&](uint64_t, uint32_t row) {
      sp->mu.AssertHeld();  // called back under the lock above
      if (taken++ < 64) ages.push_back(now - *LastStep(sp->arena.Row(row)));
    });
  }
  if (ages.empty()) return 0;
  std::sort(ages.begin(), ages.end());
  const size_t k = std::min(ages.size(), static_cast<size_t>(std::ceil(drop * ages.size())));
  // Never evict rows touched at the current step: when many rows share the
  // newest stamp (e.g. after a pull-only phase) that would wipe the table.
  return std::max<uint32_t>(1, ages[ages.size() - k]);
}

size_t EmbeddingTable::EvictIdle(std::chrono::steady_clock::time_point now) {
  if (!track_steps_) return 0;
  size_t removed = 0;
  if (config_.evict_after_steps > 0) {
    removed += EvictAged(static_cast<uint32_t>(config_.evict_after_steps) + 1);
  }
  if (config_.evict_after_seconds > 0) {
    // A tick: rows touched from here on are stamped later than any row
    // touched before, pushes or not.
    const uint64_t step = step_.fetch_add(1, std::memory_order_relaxed) + 1;
    std::optional<uint64_t> idle_before;
    {
      MutexLock lock(&timeline_mu_);
      timeline_.Record(now, step);
      idle_before = timeline_.IdleBefore(now);
    }
    if (idle_before) removed += EvictStampedBefore(static_cast<uint32_t>(*idle_before));
  }
  if (config_.memory_budget_bytes > 0) {
    const TableStats stats = Stats();
    const uint32_t min_age = LruMinAge(stats.rows, stats.bytes_per_live_row);
    if (min_age > 0) removed += EvictAged(min_age);
  }
  return removed;
}

ModelShard EmbeddingTable::Export() const {
  ModelShard shard;
  shard.table = config_.id;
  shard.dim = config_.dim;
  for (const auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    const size_t base = shard.keys.size();
    shard.keys.resize(base + sp->index.size());
    shard.values.resize(shard.keys.size() * config_.dim);
    size_t r = base;
    sp->index.ForEach([&](uint64_t key, uint32_t row) {
      sp->mu.AssertHeld();  // called back under the lock above
      shard.keys[r] = key;
      ReadWeights(sp->arena.Row(row), &shard.values[r * config_.dim]);
      ++r;
    });
  }
  return shard;
}

size_t EmbeddingTable::CountMissing(const uint64_t* keys, size_t n) const {
  size_t missing = 0;
  ForEachStripe(keys, n, [&](Stripe& s, const uint32_t*, const uint64_t* skeys, uint32_t count) {
    MutexLock lock(&s.mu);
    for (uint32_t j = 0; j < count; ++j) {
      if (j + kIndexAhead < count) s.index.Prefetch(skeys[j + kIndexAhead]);
      missing += s.index.Find(skeys[j]) == RowIndex::kNoRow;
    }
  });
  return missing;
}

size_t EmbeddingTable::size() const {
  size_t n = 0;
  for (const auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    n += sp->index.size();
  }
  return n;
}

TableStats EmbeddingTable::Stats() const {
  TableStats stats;
  for (const auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    stats.rows += sp->index.size();
    stats.memory_bytes += sp->index.MemoryBytes() + sp->arena.MemoryBytes() + sp->sketch.MemoryBytes();
    stats.memory_bytes += (sp->changed.capacity() + sp->removed.capacity()) * sizeof(uint64_t);
    for (uint64_t word : sp->changed) stats.changed_since_cut += __builtin_popcountll(word);
  }
  // Index slots are 12 bytes at up to 3/4 load: count 16 bytes per row.
  stats.bytes_per_live_row = row_bytes_ + 16;
  stats.evicted = evicted_.load(std::memory_order_relaxed);
  stats.pending_pushes = pending_pushes_.load(std::memory_order_relaxed);
  stats.steps = step_.load(std::memory_order_relaxed);
  return stats;
}

}  // namespace embedps::ps
