// The scheduler daemon's shell: binds the socket (with CURVE, its ZAP
// handler), then loops: receive and decode a message, hand it to the core
// with the time, send what the core left in its outbox; tick the core's
// timers; turn SIGTERM and the status board's requests into core events.
// All protocol logic lives in SchedulerCore (scheduler_core.h).
#pragma once

#include <memory>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/security/zap_handler.h"
#include "common/status.h"
#include "scheduler/scheduler_core.h"
#include "scheduler/status_board.h"

namespace embedps::scheduler {

class Scheduler {
 public:
  // `metrics` and `board` are borrowed and must outlive the scheduler;
  // `board` may be null (no status, no stop requests).
  Scheduler(zmq::context_t& ctx, SchedulerOptions options, MetricsRegistry* metrics,
            StatusBoard* board = nullptr);

  // Plans partitions, binds, and runs the job to its end. OK when every
  // worker finished and the model was exported; otherwise the reason the job
  // was aborted (after telling every node to shut down).
  Status Run();

 private:
  // Binds router_ (with CURVE: starts the ZAP handler first) and writes the
  // endpoint file.
  Status Bind();
  void Flush();

  zmq::context_t& ctx_;
  StatusBoard* board_;
  SchedulerCore core_;
  std::unique_ptr<security::ZapHandler> zap_;  // with CURVE: admits nodes by key
  zmq::socket_t router_;
  MetricsRegistry* metrics_;
  bool stop_signal_seen_ = false;
};

}  // namespace embedps::scheduler
