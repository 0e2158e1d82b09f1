// One embedding table held by a server: 64-bit keys to rows of `dim` floats,
// created on first touch with a deterministic initial value and updated in
// place by the table's optimizer.
//
// Layout: the key space is split into stripes by hash. Each stripe owns an
// open-addressing index (key -> row id), an arena of fixed-size rows
// (weights, then optimizer state, then the last step that touched the row),
// an admission sketch, and the mutex that guards all three. A request is
// grouped by stripe first, so each stripe's lock is taken once per request,
// and requests touching different stripes run in parallel.
//
// Thread-safe: every public method may be called from any thread.
#pragma once

#include <algorithm>
#include <atomic>
#include <chrono>
#include <cstdint>
#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "common/model_file.h"
#include "common/mutex.h"
#include "common/status.h"
#include "ps/optimizer.h"
#include "ps/table_config.h"
#include "ps/store/admission_sketch.h"
#include "ps/store/row_arena.h"
#include "ps/store/row_index.h"
#include "ps/store/step_timeline.h"
#include "ps/store/stripe_copy.h"

namespace embedps::ps {

struct TableStats {
  uint64_t rows = 0;
  uint64_t memory_bytes = 0;       // arena chunks + index + sketches
  uint64_t bytes_per_live_row = 0;  // row bytes + index bytes per row, for budgets
  uint64_t evicted = 0;
  uint64_t pending_pushes = 0;     // pushes to keys not yet admitted
  uint64_t steps = 0;              // push requests applied
  uint64_t changed_since_cut = 0;  // rows a delta checkpoint would write now
};

class EmbeddingTable {
 public:
  static StatusOr<std::unique_ptr<EmbeddingTable>> Create(const TableConfig& config);
  ~EmbeddingTable();

  // Copies the rows of `keys` into out[n * dim], creating missing rows
  // (unless admission holds them back). `read_only` (evaluation): missing
  // rows read as their initial values without being created, and no row is
  // stamped as used.
  void Pull(const uint64_t* keys, size_t n, float* out, bool read_only = false);

  // Applies grads[n * dim] to the rows of `keys`; with `out`, also copies
  // the updated rows there (a push+pull in one pass). The whole push is
  // refused with InvalidArgument, changing nothing, if any gradient is not
  // finite.
  Status Push(const uint64_t* keys, size_t n, const float* grads, float* out = nullptr);

  // The deterministic initial weights of `key` (dim floats into out).
  void InitialValue(uint64_t key, float* out) const;

  // Evicts idle rows (by steps, by wall-clock time at `now`) and, over
  // budget, the least recently used ones. Returns how many rows it removed.
  // The server calls it every eviction interval.
  size_t EvictIdle(std::chrono::steady_clock::time_point now = std::chrono::steady_clock::now());

  // Every row's weights (not optimizer state), in no particular order.
  ModelShard Export() const;

  size_t size() const;
  // The row count without taking the stripe locks: exact when no request is
  // running, and never behind by more than the rows being created right now.
  uint64_t approx_rows() const { return rows_.load(std::memory_order_relaxed); }
  // How many of `keys` have no row yet (a request creating them would grow
  // the table by that much). Takes each touched stripe's lock once.
  size_t CountMissing(const uint64_t* keys, size_t n) const;
  // Bytes a live row costs (row plus index), the unit of memory budgets.
  uint64_t bytes_per_live_row() const { return row_bytes_ + 16; }
  TableStats Stats() const;
  const TableConfig& config() const { return config_; }

  // ---- Checkpoint support (ps/checkpoint; embedding_table_checkpoint.cc) --
  // Row layout, as in the arena and in checkpoint records: weight_bytes()
  // of weights (f32, or fp16 bits padded to 4 bytes), state_floats() floats
  // of optimizer state, then a u32 last-step stamp when tracks_steps().
  uint32_t weight_bytes() const { return weight_bytes_; }
  uint32_t state_floats() const { return state_floats_; }
  bool tracks_steps() const { return track_steps_; }
  size_t row_bytes() const { return row_bytes_; }
  uint32_t num_stripes() const { return static_cast<uint32_t>(stripes_.size()); }

  // Starts a cut: each stripe is copied as it is now, by TakeCutStripe or by
  // the first request that would change it. Takes each stripe lock once and
  // copies nothing. FailedPrecondition while a cut is running, or for a
  // delta when no earlier cut completed (or one failed since), as the delta
  // would have no base.
  Status BeginCut(bool delta);
  // What BeginCut would refuse, without starting anything.
  Status CheckCut(bool delta) const;
  // The copy of `stripe` at the cut, copied now if no request did; handed
  // over (its memory is the caller's). Full cut: every row. Delta cut: rows
  // changed since the previous cut and the keys removed since. Once per
  // stripe, between BeginCut and EndCut.
  StripeCopy TakeCutStripe(uint32_t stripe);
  // The push counter at the cut and the longest time a request spent
  // copying a stripe before changing it.
  uint64_t cut_step() const;
  double cut_max_stall_seconds() const;
  // Ends the cut: stripes not yet copied stay as they are. `complete`: all
  // stripes were taken and written, so later deltas may be relative to it.
  void EndCut(bool complete);

  // Every row as a record (u64 key + the row's bytes, padding zeroed), in
  // no particular order; for tests and tools that compare tables exactly.
  StripeCopy ExportRecords() const;

  // Restore: makes room in the stripes' indexes for about `rows` more rows
  // (spread evenly, as keys hash), so loading does not grow them.
  void ReserveRows(uint64_t rows);
  // Never held a row, no cut running, no change tracked: a table a restore
  // can undo by ResetToPristine.
  bool IsPristine() const;
  // Drops every row and sets the push counter back to `step`, for a restore
  // into a pristine table that failed half way.
  void ResetToPristine(uint64_t step);
  uint64_t step() const { return step_.load(std::memory_order_relaxed); }
  // Restore: raises the push counter to at least `step` (stamps of loaded
  // rows are relative to it). Call before LoadRows.
  void AdvanceStepTo(uint64_t step);
  // Loads `count` records (u64 key + weights + state [+ u32 stamp when
  // `has_stamp`]) whose keys `keep` accepts, creating or overwriting rows;
  // a stamp is turned into an age relative to `source_step` (the writer's
  // counter) and re-stamped against this table's counter. Weights and state
  // must have this table's layout. Returns the records not kept.
  uint64_t LoadRows(const char* records, uint64_t count, bool has_stamp, uint64_t source_step,
                    const std::function<bool(uint64_t key)>& keep);
  // Removes the rows of the keys `keep` accepts. Returns how many existed.
  uint64_t EraseRows(const uint64_t* keys, uint64_t count,
                     const std::function<bool(uint64_t key)>& keep);
  // After a restore: every row counts as unchanged, and deltas may follow.
  void MarkRestored();

 private:
  // Stripe and CutState are defined here, not in a header of their own,
  // because the helpers' REQUIRES(s.mu) below needs Stripe complete.

  // A cut in progress: the copy of every stripe as it was at the cut. A copy
  // is made under that stripe's lock, by the writer or by the first request
  // that would change the stripe first.
  struct CutState {
    CutState(bool delta, uint64_t step, size_t stripes) : delta(delta), step(step), copies(stripes) {}
    const bool delta;
    const uint64_t step;  // the table's push counter at the cut
    std::vector<StripeCopy> copies;  // [stripe]; each guarded by its stripe's lock
    std::atomic<int64_t> max_stall_ns{0};
  };

  struct Stripe {
    Stripe(uint32_t index, size_t row_bytes, bool admission)
        : index_in_table(index), arena(row_bytes), sketch(admission ? kSketchWidth : 1) {}
    static constexpr uint32_t kSketchWidth = 1 << 14;

    // Marks `row` changed since the last cut (only while track_changes; the
    // bitmap covers every row the arena has handed out, see CoverArena).
    void MarkChanged(uint32_t row) REQUIRES(mu) { changed[row >> 6] |= uint64_t{1} << (row & 63); }
    // Grows the bitmap to cover every row id the arena has handed out; call
    // after each Allocate while tracking, so MarkChanged needs no check.
    void CoverArena() REQUIRES(mu) {
      const size_t words = (arena.rows_handed_out() + 63) / 64;
      if (words > changed.size()) changed.resize(std::max(words, changed.size() * 3 / 2), 0);
    }
    bool IsChanged(uint32_t row) const REQUIRES(mu) {
      const size_t word = row >> 6;
      return word < changed.size() && ((changed[word] >> (row & 63)) & 1);
    }
    void ClearChanged(uint32_t row) REQUIRES(mu) {
      const size_t word = row >> 6;
      if (word < changed.size()) changed[word] &= ~(uint64_t{1} << (row & 63));
    }

    const uint32_t index_in_table;
    Mutex mu;
    RowIndex index GUARDED_BY(mu);
    RowArena arena GUARDED_BY(mu);
    AdmissionSketch sketch GUARDED_BY(mu);
    // Non-null while a cut is running and this stripe is not copied yet: the
    // stripe must be copied before anything in it changes.
    CutState* cut GUARDED_BY(mu) = nullptr;
    // Change tracking for delta checkpoints, on from the first cut (or
    // restore): rows changed since the last cut (bit per arena row id) and
    // keys removed since then.
    bool track_changes GUARDED_BY(mu) = false;
    std::vector<uint64_t> changed GUARDED_BY(mu);
    std::vector<uint64_t> removed GUARDED_BY(mu);
  };

  EmbeddingTable(const TableConfig& config, std::unique_ptr<Optimizer> optimizer);

  // Groups key positions by stripe (per-thread scratch) and calls
  // fn(stripe, positions, keys at those positions, count) for each
  // non-empty stripe.
  template <typename Fn>
  void ForEachStripe(const uint64_t* keys, size_t n, Fn&& fn) const;
  uint32_t StripeOf(uint64_t key) const;
  // rows[j] = the row of keys[j] as resolve(key) gives its id, or nullptr
  // for kNoRow; prefetches index slots ahead.
  template <typename ResolveFn>
  void ResolveRows(Stripe& s, const uint64_t* keys, uint32_t count, char** rows,
                   ResolveFn&& resolve) REQUIRES(s.mu);
  // The row id of key in `s`, creating it if `create`; kNoRow otherwise.
  uint32_t FindOrCreate(Stripe& s, uint64_t key, bool create) REQUIRES(s.mu);
  void ReadWeights(const char* row, float* out) const;
  void WriteWeights(char* row, const float* in) const;
  float* State(char* row) const { return reinterpret_cast<float*>(row + weight_bytes_); }
  uint32_t* LastStep(char* row) const {
    return reinterpret_cast<uint32_t*>(row + weight_bytes_ + state_floats_ * 4);
  }
  // Copies `s` for the running cut (s.cut != nullptr) and resets its change
  // tracking; `request`: a request waits on it, so the time counts as a
  // stall.
  void CopyForCut(Stripe& s, bool request) REQUIRES(s.mu);
  // Copies the rows of `s` (all, or only the changed ones) as records into
  // `out`, which must hold `rows` records.
  void CopyRecords(const Stripe& s, bool changed_only, uint64_t rows, char* out) const REQUIRES(s.mu);
  // Evicts rows last touched at least `min_age` steps ago.
  size_t EvictAged(uint32_t min_age);
  // Evicts rows stamped before step `threshold` (modulo 2^32, as ages).
  size_t EvictStampedBefore(uint32_t threshold);
  // Evicts the rows whose stamp `victim(stamp)` accepts.
  template <typename Victim>
  size_t EvictWhere(Victim victim);
  // The age from which rows must go to bring the table under 90% of its
  // budget; 0 when it is within budget.
  uint32_t LruMinAge(uint64_t live_rows, uint64_t bytes_per_row) const;

  TableConfig config_;
  std::unique_ptr<Optimizer> optimizer_;
  uint32_t weight_bytes_;
  uint32_t state_floats_;
  bool track_steps_;
  size_t row_bytes_;
  uint32_t stripe_bits_;
  std::vector<std::unique_ptr<Stripe>> stripes_;
  std::atomic<uint64_t> step_{0};
  std::atomic<uint64_t> evicted_{0};
  // evict_after_seconds: when the step counter had which value.
  Mutex timeline_mu_;
  StepTimeline timeline_ GUARDED_BY(timeline_mu_);
  std::atomic<uint64_t> rows_{0};
  std::atomic<uint64_t> pending_pushes_{0};
  mutable Mutex cut_mu_;
  std::unique_ptr<CutState> cut_ GUARDED_BY(cut_mu_);
  bool delta_base_ GUARDED_BY(cut_mu_) = false;  // the last cut completed: a delta may follow
};

}  // namespace embedps::ps
