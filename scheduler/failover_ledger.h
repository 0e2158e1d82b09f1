// Server failover, as state: the ranks whose server died and wait for a
// replacement, the restores in flight, and every finished failover with
// what it lost (the updates trained between the restored point and the
// death). Pure state: the core decides who replaces whom and sends the
// messages; the ledger answers what is vacant, what is overdue and what a
// recovery cost (tests/unit/scheduler/failover_ledger_test.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <map>
#include <optional>
#include <string>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/transport.h"

namespace embedps::scheduler {

class FailoverLedger {
 public:
  // The server of `rank` died: it was last heard at `last_heard`, when the
  // job had trained `rows`. A rank vacated again before it was recovered
  // (a replacement died restoring) keeps its first death.
  void Vacate(uint32_t rank, Clock::time_point last_heard, uint64_t rows, Clock::time_point now);
  bool AnyVacant() const { return !vacant_.empty(); }
  // The rank waiting longest for a replacement.
  std::optional<uint32_t> FirstVacant() const {
    return vacant_.empty() ? std::nullopt : std::optional<uint32_t>(vacant_.front());
  }
  // Hands the first vacant rank to a replacement.
  uint32_t TakeVacant();
  // A stalled server spoke again: true (and its rank is no longer vacant
  // nor dead) when nobody has taken its rank yet.
  bool Reclaim(uint32_t rank);
  // The first vacant rank, when a replacement has been awaited longer than
  // `timeout` since a rank first became vacant.
  std::optional<uint32_t> Overdue(Clock::time_point now, std::chrono::milliseconds timeout) const;
  // Rows the job had trained when `rank` died, if it is dead.
  std::optional<uint64_t> RowsAtDeath(uint32_t rank) const;

  // Server node `node` restores `rank`.
  void Restoring(uint32_t node, uint32_t rank) { restoring_[node] = rank; }
  bool IsRestoring(uint32_t node) const { return restoring_.count(node) > 0; }
  bool AnyRestoring() const { return !restoring_.empty(); }
  // Its restore ended (answered, or it died): the rank it restored.
  std::optional<uint32_t> EndRestore(uint32_t node);

  // Where a replacement's rows came from, to tell what the failover lost.
  struct RestoredPoint {
    bool lossless = false;  // the neighbours' copy (--replicas=2)
    uint64_t rows = 0;      // the job's rows at the restored checkpoint's cut
    Clock::time_point since;  // when that cut was taken
  };
  struct Failover {
    double seconds = 0;  // from the death to now
    uint64_t lost_rows = 0;
    double lost_seconds = 0;
  };
  // The replacement of `rank` serves at `now`, restored from `source`
  // (described in words for the log).
  Failover Recovered(uint32_t rank, Clock::time_point now, const RestoredPoint& point, const std::string& source);

  // Every failover (the statistics' "failover_details") and the totals
  // lost, carried through checkpoints so a resumed job still reports them.
  const nlohmann::json& log() const { return log_; }
  uint64_t lost_rows() const { return lost_rows_; }
  double lost_seconds() const { return lost_seconds_; }
  void Carry(nlohmann::json log, uint64_t lost_rows, double lost_seconds);

 private:
  struct Death {
    Clock::time_point at;
    uint64_t rows = 0;
  };
  std::vector<uint32_t> vacant_;  // oldest first
  Clock::time_point vacant_since_;
  std::map<uint32_t, Death> deaths_;       // by rank, until recovered
  std::map<uint32_t, uint32_t> restoring_;  // server node id -> rank
  nlohmann::json log_ = nlohmann::json::array();
  uint64_t lost_rows_ = 0;
  double lost_seconds_ = 0;
};

}  // namespace embedps::scheduler
