// EmbeddingTable: the checkpoint side (cuts, copy on write, change tracking
// for deltas, loading rows back). The request side is embedding_table.cc.
#include <chrono>
#include <cstring>

#include "ps/embedding_table.h"

namespace embedps::ps {

void EmbeddingTable::CopyForCut(Stripe& s, bool request) {
  const auto start = std::chrono::steady_clock::now();
  CutState& cut = *s.cut;
  StripeCopy& out = cut.copies[s.index_in_table];
  uint64_t rows = s.index.size();
  if (cut.delta) {
    rows = 0;
    for (uint64_t word : s.changed) rows += __builtin_popcountll(word);
  }
  out.records.reset(new char[rows * (8 + row_bytes_)]);
  CopyRecords(s, cut.delta, rows, out.records.get());
  out.count = rows;
  if (cut.delta) out.removed.swap(s.removed);
  // The next delta is relative to this cut.
  s.removed.clear();
  std::fill(s.changed.begin(), s.changed.end(), 0);
  s.track_changes = true;
  s.CoverArena();
  s.cut = nullptr;
  if (request) {
    const int64_t ns = std::chrono::duration_cast<std::chrono::nanoseconds>(
                           std::chrono::steady_clock::now() - start).count();
    int64_t seen = cut.max_stall_ns.load(std::memory_order_relaxed);
    while (ns > seen && !cut.max_stall_ns.compare_exchange_weak(seen, ns)) {
    }
  }
}

void EmbeddingTable::CopyRecords(const Stripe& s, bool changed_only, uint64_t rows, char* out) const {
  const size_t pad_from = config_.fp16 ? config_.dim * 2 : weight_bytes_;
  [[maybe_unused]] char* const end = out + rows * (8 + row_bytes_);
  s.index.ForEach([&](uint64_t key, uint32_t row) {
    s.mu.AssertHeld();  // called back under the caller's lock
    if (changed_only && !s.IsChanged(row)) return;
    DCHECK(out < end);
    std::memcpy(out, &key, 8);
    std::memcpy(out + 8, s.arena.Row(row), row_bytes_);
    // fp16 rows of odd dim have two bytes of padding, never written: zero
    // them so that files are reproducible.
    std::memset(out + 8 + pad_from, 0, weight_bytes_ - pad_from);
    out += 8 + row_bytes_;
  });
}

// Not analysed: it holds every stripe's lock at once, a number of locks the
// analysis cannot follow.
StripeCopy EmbeddingTable::ExportRecords() const NO_THREAD_SAFETY_ANALYSIS {
  StripeCopy all;
  std::vector<std::unique_lock<Mutex>> locks;
  for (const auto& sp : stripes_) {
    locks.emplace_back(sp->mu);
    all.count += sp->index.size();
  }
  all.records.reset(new char[all.count * (8 + row_bytes_)]);
  char* out = all.records.get();
  for (const auto& sp : stripes_) {
    CopyRecords(*sp, false, sp->index.size(), out);
    out += sp->index.size() * (8 + row_bytes_);
  }
  return all;
}

Status EmbeddingTable::CheckCut(bool delta) const {
  MutexLock guard(&cut_mu_);
  if (cut_ != nullptr) {
    return FailedPrecondition("table '" + config_.name + "': a checkpoint of it is still being written");
  }
  if (delta && !delta_base_) {
    return FailedPrecondition("table '" + config_.name +
                              "': no complete checkpoint (or restore) for a delta to be relative "
                              "to; take a full checkpoint");
  }
  return Status::OK();
}

Status EmbeddingTable::BeginCut(bool delta) {
  RETURN_IF_ERROR(CheckCut(delta));
  MutexLock guard(&cut_mu_);
  // Until this cut completes, its copies have reset the change tracking.
  delta_base_ = false;
  cut_ = std::make_unique<CutState>(delta, step_.load(std::memory_order_relaxed), stripes_.size());
  for (auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    sp->cut = cut_.get();
  }
  return Status::OK();
}

StripeCopy EmbeddingTable::TakeCutStripe(uint32_t stripe) {
  MutexLock guard(&cut_mu_);
  CHECK(cut_ != nullptr) << "TakeCutStripe without BeginCut";
  Stripe& s = *stripes_[stripe];
  MutexLock lock(&s.mu);
  if (s.cut != nullptr) CopyForCut(s, false);
  return std::move(cut_->copies[stripe]);
}

uint64_t EmbeddingTable::cut_step() const {
  MutexLock guard(&cut_mu_);
  return cut_ == nullptr ? 0 : cut_->step;
}

double EmbeddingTable::cut_max_stall_seconds() const {
  MutexLock guard(&cut_mu_);
  return cut_ == nullptr ? 0 : cut_->max_stall_ns.load() * 1e-9;
}

void EmbeddingTable::EndCut(bool complete) {
  MutexLock guard(&cut_mu_);
  if (cut_ == nullptr) return;
  for (auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    sp->cut = nullptr;
  }
  cut_.reset();
  delta_base_ = complete;
}

void EmbeddingTable::ReserveRows(uint64_t rows) {
  // Keys spread over stripes binomially: 1/16 more plus a constant covers
  // the spread at every size.
  const uint64_t per_stripe = rows / stripes_.size() + rows / stripes_.size() / 16 + 64;
  for (auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    sp->index.Reserve(sp->index.size() + per_stripe);
  }
}

bool EmbeddingTable::IsPristine() const {
  MutexLock guard(&cut_mu_);
  if (cut_ != nullptr || delta_base_) return false;
  for (const auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    if (sp->arena.rows_handed_out() != 0 || sp->track_changes) return false;
  }
  return true;
}

void EmbeddingTable::ResetToPristine(uint64_t step) {
  MutexLock guard(&cut_mu_);
  for (auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    sp->index = RowIndex();
    sp->arena = RowArena(row_bytes_);
    sp->changed.clear();
    sp->removed.clear();
    sp->track_changes = false;
  }
  rows_.store(0, std::memory_order_relaxed);
  step_.store(step, std::memory_order_relaxed);
  delta_base_ = false;
}

void EmbeddingTable::AdvanceStepTo(uint64_t step) {
  uint64_t now = step_.load(std::memory_order_relaxed);
  while (now < step && !step_.compare_exchange_weak(now, step)) {
  }
}

uint64_t EmbeddingTable::LoadRows(const char* records, uint64_t count, bool has_stamp,
                                  uint64_t source_step, const std::function<bool(uint64_t)>& keep) {
  const size_t body = weight_bytes_ + state_floats_ * 4;
  const size_t record = 8 + body + (has_stamp ? 4 : 0);
  const uint32_t now = static_cast<uint32_t>(step_.load(std::memory_order_relaxed));
  uint64_t skipped = 0;
  auto key_at = [&](uint64_t i) {
    uint64_t key;
    std::memcpy(&key, records + i * record, 8);
    return key;
  };
  uint64_t i = 0;
  // Moves i to the next record kept (or to count).
  auto skip_unkept = [&] {
    for (; i < count && !keep(key_at(i)); ++i) ++skipped;
  };
  skip_unkept();
  while (i < count) {
    // Records come grouped by stripe: one lock hold covers the run of kept
    // records of a stripe (and the unkept ones between them).
    Stripe& s = *stripes_[StripeOf(key_at(i))];
    MutexLock lock(&s.mu);
    if (s.cut != nullptr) CopyForCut(s, true);
    do {
      const char* r = records + i * record;
      const uint64_t key = key_at(i);
      uint32_t row = s.index.Find(key);
      if (row == RowIndex::kNoRow) {
        row = s.arena.Allocate();
        s.index.Insert(key, row);
        if (s.track_changes) s.CoverArena();
        rows_.fetch_add(1, std::memory_order_relaxed);
      }
      char* p = s.arena.Row(row);
      std::memcpy(p, r + 8, body);
      if (track_steps_) {
        uint32_t stamp = now;  // a row without a stamp counts as just touched
        if (has_stamp) {
          uint32_t old;
          std::memcpy(&old, r + 8 + body, 4);
          stamp = now - (static_cast<uint32_t>(source_step) - old);
        }
        *LastStep(p) = stamp;
      }
      ++i;
      skip_unkept();
    } while (i < count && stripes_[StripeOf(key_at(i))].get() == &s);
  }
  return skipped;
}

uint64_t EmbeddingTable::EraseRows(const uint64_t* keys, uint64_t count,
                                   const std::function<bool(uint64_t)>& keep) {
  uint64_t erased = 0;
  for (uint64_t i = 0; i < count; ++i) {
    if (!keep(keys[i])) continue;
    Stripe& s = *stripes_[StripeOf(keys[i])];
    MutexLock lock(&s.mu);
    if (s.cut != nullptr) CopyForCut(s, true);
    const uint32_t row = s.index.Erase(keys[i]);
    if (row == RowIndex::kNoRow) continue;
    s.ClearChanged(row);
    s.arena.Free(row);
    rows_.fetch_sub(1, std::memory_order_relaxed);
    ++erased;
  }
  return erased;
}

void EmbeddingTable::MarkRestored() {
  MutexLock guard(&cut_mu_);
  for (auto& sp : stripes_) {
    MutexLock lock(&sp->mu);
    std::fill(sp->changed.begin(), sp->changed.end(), 0);
    sp->removed.clear();
    sp->track_changes = true;
    sp->CoverArena();
  }
  delta_base_ = cut_ == nullptr;
}

}  // namespace embedps::ps
