// Where the scheduler thread leaves its latest status for the HTTP thread
// (GET /status), and where the HTTP thread leaves stop and checkpoint
// requests for the scheduler (POST /stop, POST /checkpoint). Thread-safe; owned by main, borrowed by both.
#pragma once

#include <optional>
#include <string>

#include "common/mutex.h"

namespace embedps::scheduler {

class StatusBoard {
 public:
  // Replaces the published status (a JSON document).
  void Publish(std::string status_json);
  // The last published status; "" before the first.
  std::string status_json() const;

  // Asks the scheduler to stop the job. Returns false when a stop was
  // already requested (the first reason is kept).
  bool RequestStop(std::string reason);
  // The pending stop request, once: later calls return nothing.
  std::optional<std::string> TakeStopRequest();

  // Asks the scheduler for a checkpoint now (POST /checkpoint). Requests
  // made before the scheduler takes them count as one.
  void RequestCheckpoint();
  bool TakeCheckpointRequest();

 private:
  mutable Mutex mu_;
  std::string status_json_ GUARDED_BY(mu_);
  bool stop_requested_ GUARDED_BY(mu_) = false;
  std::optional<std::string> pending_stop_ GUARDED_BY(mu_);
  bool checkpoint_requested_ GUARDED_BY(mu_) = false;
};

}  // namespace embedps::scheduler
