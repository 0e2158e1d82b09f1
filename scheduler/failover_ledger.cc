#include "scheduler/failover_ledger.h"

#include <algorithm>

namespace embedps::scheduler {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void FailoverLedger::Vacate(uint32_t rank, Clock::time_point last_heard, uint64_t rows, Clock::time_point now) {
  if (vacant_.empty()) vacant_since_ = now;
  vacant_.push_back(rank);
  // It died when it was last heard from, not when the timeout noticed.
  deaths_.emplace(rank, Death{last_heard, rows});
}

uint32_t FailoverLedger::TakeVacant() {
  const uint32_t rank = vacant_.front();
  vacant_.erase(vacant_.begin());
  return rank;
}

bool FailoverLedger::Reclaim(uint32_t rank) {
  auto it = std::find(vacant_.begin(), vacant_.end(), rank);
  if (it == vacant_.end()) return false;
  vacant_.erase(it);
  deaths_.erase(rank);
  return true;
}

std::optional<uint32_t> FailoverLedger::Overdue(Clock::time_point now, std::chrono::milliseconds timeout) const {
  if (vacant_.empty() || now - vacant_since_ <= timeout) return std::nullopt;
  return vacant_.front();
}

std::optional<uint64_t> FailoverLedger::RowsAtDeath(uint32_t rank) const {
  auto it = deaths_.find(rank);
  return it == deaths_.end() ? std::nullopt : std::optional<uint64_t>(it->second.rows);
}

std::optional<uint32_t> FailoverLedger::EndRestore(uint32_t node) {
  auto it = restoring_.find(node);
  if (it == restoring_.end()) return std::nullopt;
  const uint32_t rank = it->second;
  restoring_.erase(it);
  return rank;
}

FailoverLedger::Failover FailoverLedger::Recovered(uint32_t rank, Clock::time_point now,
                                                   const RestoredPoint& point, const std::string& source) {
  Failover f;
  if (auto d = deaths_.find(rank); d != deaths_.end()) {
    f.seconds = Seconds(now - d->second.at);
    if (!point.lossless) {
      // The replacement holds the rank's rows as of the restored cut: what
      // every worker trained from then until the death updated the dead
      // server's rows in vain.
      f.lost_rows = d->second.rows > point.rows ? d->second.rows - point.rows : 0;
      f.lost_seconds = std::max(0.0, Seconds(d->second.at - point.since));
    }
    deaths_.erase(d);
  }
  lost_rows_ += f.lost_rows;
  lost_seconds_ += f.lost_seconds;
  log_.push_back({{"rank", rank},
                  {"restored_from", source},
                  {"seconds", f.seconds},
                  {"lost_rows", f.lost_rows},
                  {"lost_training_seconds", f.lost_seconds}});
  return f;
}

void FailoverLedger::Carry(nlohmann::json log, uint64_t lost_rows, double lost_seconds) {
  log_ = std::move(log);
  lost_rows_ = lost_rows;
  lost_seconds_ = lost_seconds;
}

}  // namespace embedps::scheduler
