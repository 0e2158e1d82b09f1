// Remembers which recent mutating requests (push, push+pull) each sender
// has had applied, so that a retried or duplicated request is answered
// without being applied twice.
//
// Request ids increase per sender (gaps are normal: a server sees only the
// requests routed to it). For each sender the last `window` ids below its
// highest id are remembered; an id older than that can no longer be
// checked and is refused rather than risk a second application.
//
// Thread-safe; handler threads claim and finish requests concurrently.
#pragma once

#include <cstdint>
#include <unordered_map>
#include <utility>
#include <vector>

#include "common/mutex.h"
#include "common/status.h"

namespace embedps::ps {

class RequestDedup {
 public:
  enum class Verdict {
    kNew,         // claimed: apply it, then call Finish
    kApplied,     // a copy was applied: acknowledge, do not apply
    kInProgress,  // a copy is being applied right now: drop this one
    kTooOld,      // beyond the window: refuse it
    kTooManySenders,  // no room to track another sender: refuse it
  };

  // `window` ids per sender (rounded up to a multiple of 64), at most
  // `max_senders` senders (each costs window / 4 bytes).
  explicit RequestDedup(uint32_t window = 1 << 16, uint32_t max_senders = 1024);

  Verdict Claim(uint32_t sender, uint64_t request_id);
  // Records how a kNew claim ended. Not applied (refused) releases the
  // claim, so a copy of the request is judged afresh.
  void Finish(uint32_t sender, uint64_t request_id, bool applied);

  // A kNew claim that every path out of a handler finishes: Finish(applied)
  // records the outcome at once; a claim left unfinished is released as not
  // applied when the guard goes, so no early return can leave a request
  // "in progress" forever (its retries would be dropped).
  class ScopedClaim {
   public:
    ScopedClaim(RequestDedup* dedup, uint32_t sender, uint64_t request_id)
        : dedup_(dedup), sender_(sender), request_id_(request_id) {}
    ScopedClaim(ScopedClaim&& other) noexcept
        : dedup_(std::exchange(other.dedup_, nullptr)), sender_(other.sender_), request_id_(other.request_id_) {}
    ScopedClaim(const ScopedClaim&) = delete;
    ScopedClaim& operator=(const ScopedClaim&) = delete;
    ScopedClaim& operator=(ScopedClaim&&) = delete;
    ~ScopedClaim() { Finish(false); }
    void Finish(bool applied) {
      if (dedup_ != nullptr) std::exchange(dedup_, nullptr)->Finish(sender_, request_id_, applied);
    }

   private:
    RequestDedup* dedup_;
    uint32_t sender_;
    uint64_t request_id_;
  };

  // The applied ids of each sender, so that another server can take over
  // rows these requests were applied to (the replication handoff) and
  // still recognise their retries. `applied` is the bitset, id % window.
  struct SenderIds {
    uint32_t sender = 0;
    uint64_t highest = 0;
    std::vector<uint64_t> applied;
  };
  std::vector<SenderIds> ExportApplied();
  // Adds `ids` (exported by a RequestDedup with the same window) to what
  // this one knows. InvalidArgument on a window mismatch.
  Status ImportApplied(const std::vector<SenderIds>& ids);
  uint64_t window() const { return window_; }

 private:
  struct Sender {
    uint64_t highest = 0;
    std::vector<uint64_t> applied;      // bit per id, indexed id % window
    std::vector<uint64_t> in_progress;  // same indexing
  };
  // Forgets the slots of ids (s.highest, id] before they are reused.
  void Advance(Sender& s, uint64_t id) const;

  const uint64_t window_;
  const uint32_t max_senders_;
  Mutex mu_;
  std::unordered_map<uint32_t, Sender> senders_ GUARDED_BY(mu_);
};

}  // namespace embedps::ps
