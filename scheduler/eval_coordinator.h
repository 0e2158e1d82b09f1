// Periodic evaluation, as a coordinator: it decides when an evaluation is
// due (every `every` and/or `every_rows` rows trained, and once after
// training), which worker it goes to, when one in flight is given up (its
// worker died, or no answer within `timeout`), and what an answer means
// (a result for the statistics and the progress line). It owns that state
// and does no I/O: the scheduler's core hands it the time and the facts it
// needs and sends the requests it returns. Unit-tested with a fake clock
// (tests/unit/scheduler/eval_coordinator_test.cc).
#pragma once

#include <chrono>
#include <cstdint>
#include <functional>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

#include "common/transport.h"
#include "common/wire/messages.h"

namespace embedps::scheduler {

class EvalCoordinator {
 public:
  struct Settings {
    std::chrono::milliseconds every{0};  // 0: not by time
    uint64_t every_rows = 0;             // 0: not by rows
    uint64_t rows = 0;                   // test rows during training; 0: all
    std::chrono::milliseconds timeout{600000};
  };
  // An evaluation request for the core to send to worker node `node`.
  struct Request {
    uint32_t node = 0;
    wire::EvaluateMsg msg;
  };
  // A request given up.
  struct GivenUp {
    uint64_t id = 0;
    bool final = false;
    bool worker_gone = false;  // its worker died (else: no answer in time)
  };
  // A worker's answer to the request in flight.
  struct Answer {
    bool final = false;
    bool ok = false;
    std::string text;  // "test AUC 0.7310, logloss 0.5034", or the error
    uint64_t rows = 0;  // rows trained when it was asked for
    double train_seconds = 0;
    uint64_t test_rows = 0;
    double eval_seconds = 0;
  };

  explicit EvalCoordinator(Settings settings) : settings_(settings) {}
  bool enabled() const { return settings_.every.count() > 0 || settings_.every_rows > 0; }
  bool in_flight() const { return pending_.has_value(); }

  // During training: an evaluation due by time (since training began or
  // the last one) or by rows goes to `worker`; none without a worker.
  std::optional<Request> Tick(Clock::time_point now, Clock::time_point train_start, uint64_t rows,
                              std::optional<uint32_t> worker);
  // The final evaluation, after training; none without a worker. It
  // supersedes a periodic one in flight.
  std::optional<Request> AskFinal(Clock::time_point now, uint64_t rows, double train_seconds,
                                  std::optional<uint32_t> worker);
  // Gives up the request in flight when `gone(node)` says its worker died
  // or it is overdue.
  std::optional<GivenUp> CheckOverdue(Clock::time_point now, const std::function<bool(uint32_t)>& gone);
  // The answer of worker `node`; none when it is not the request in flight
  // (one given up answers late).
  std::optional<Answer> OnResult(uint32_t node, const wire::EvalResultMsg& result);

  // Every answered evaluation ("evals" in the job statistics).
  const nlohmann::json& results() const { return results_; }

 private:
  struct Pending {
    uint64_t id = 0;
    uint32_t node = 0;
    uint64_t rows = 0;
    double train_seconds = 0;
    bool final = false;
    Clock::time_point sent;
  };
  Request Send(Clock::time_point now, uint32_t node, uint64_t rows, double train_seconds, bool final);

  Settings settings_;
  std::optional<Pending> pending_;
  uint64_t next_id_ = 1;
  std::optional<Clock::time_point> last_time_;
  uint64_t last_rows_ = 0;
  nlohmann::json results_ = nlohmann::json::array();
};

}  // namespace embedps::scheduler
