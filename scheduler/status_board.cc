#include "scheduler/status_board.h"

#include <utility>

namespace embedps::scheduler {

void StatusBoard::Publish(std::string status_json) {
  MutexLock lock(&mu_);
  status_json_ = std::move(status_json);
}

std::string StatusBoard::status_json() const {
  MutexLock lock(&mu_);
  return status_json_;
}

bool StatusBoard::RequestStop(std::string reason) {
  MutexLock lock(&mu_);
  if (stop_requested_) return false;
  stop_requested_ = true;
  pending_stop_ = std::move(reason);
  return true;
}

std::optional<std::string> StatusBoard::TakeStopRequest() {
  MutexLock lock(&mu_);
  return std::exchange(pending_stop_, std::nullopt);
}

void StatusBoard::RequestCheckpoint() {
  MutexLock lock(&mu_);
  checkpoint_requested_ = true;
}

bool StatusBoard::TakeCheckpointRequest() {
  MutexLock lock(&mu_);
  return std::exchange(checkpoint_requested_, false);
}

}  // namespace embedps::scheduler
