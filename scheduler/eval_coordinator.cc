#include "scheduler/eval_coordinator.h"

#include <algorithm>
#include <cstdio>

namespace embedps::scheduler {

EvalCoordinator::Request EvalCoordinator::Send(Clock::time_point now, uint32_t node, uint64_t rows,
                                               double train_seconds, bool final) {
  Pending p;
  p.id = next_id_++;
  p.node = node;
  p.rows = rows;
  p.train_seconds = train_seconds;
  p.final = final;
  p.sent = now;
  pending_ = p;
  // The final evaluation scores every test row.
  return Request{node, wire::EvaluateMsg{p.id, final ? 0 : settings_.rows, final}};
}

std::optional<EvalCoordinator::Request> EvalCoordinator::Tick(Clock::time_point now, Clock::time_point train_start,
                                                              uint64_t rows, std::optional<uint32_t> worker) {
  if (!enabled() || pending_) return std::nullopt;
  const Clock::time_point since = std::max(last_time_.value_or(train_start), train_start);
  const bool by_time = settings_.every.count() > 0 && now - since >= settings_.every;
  const bool by_rows = settings_.every_rows > 0 && rows - last_rows_ >= settings_.every_rows;
  if (!by_time && !by_rows) return std::nullopt;
  last_time_ = now;
  last_rows_ = rows;
  if (!worker) return std::nullopt;
  return Send(now, *worker, rows, std::chrono::duration<double>(now - train_start).count(), /*final=*/false);
}

std::optional<EvalCoordinator::Request> EvalCoordinator::AskFinal(Clock::time_point now, uint64_t rows,
                                                                  double train_seconds,
                                                                  std::optional<uint32_t> worker) {
  pending_.reset();
  if (!worker) return std::nullopt;
  return Send(now, *worker, rows, train_seconds, /*final=*/true);
}

std::optional<EvalCoordinator::GivenUp> EvalCoordinator::CheckOverdue(Clock::time_point now,
                                                                      const std::function<bool(uint32_t)>& gone) {
  if (!pending_) return std::nullopt;
  const bool worker_gone = gone(pending_->node);
  if (!worker_gone && now - pending_->sent < settings_.timeout) return std::nullopt;
  GivenUp g{pending_->id, pending_->final, worker_gone};
  pending_.reset();
  return g;
}

std::optional<EvalCoordinator::Answer> EvalCoordinator::OnResult(uint32_t node, const wire::EvalResultMsg& result) {
  if (!pending_ || pending_->id != result.id || pending_->node != node) return std::nullopt;
  const Pending p = *pending_;
  pending_.reset();
  Answer a;
  a.final = p.final;
  a.ok = result.ok;
  a.rows = p.rows;
  a.train_seconds = p.train_seconds;
  a.test_rows = result.test_rows;
  a.eval_seconds = result.seconds;
  if (!result.ok) {
    a.text = result.error;
    return a;
  }
  nlohmann::json e = {{"rows", p.rows},          {"train_seconds", p.train_seconds}, {"test_rows", result.test_rows},
                      {"eval_seconds", result.seconds}, {"final", p.final}};
  char text[160];
  // Click models always have a positive (clipped) log loss, rating models none.
  if (result.logloss == 0) {
    e["test_rmse"] = result.rmse;
    e["test_mae"] = result.mae;
    std::snprintf(text, sizeof(text), "test RMSE %.4f, MAE %.4f", result.rmse, result.mae);
  } else {
    e["test_auc"] = result.auc;
    e["test_logloss"] = result.logloss;
    std::snprintf(text, sizeof(text), "test AUC %.4f, logloss %.4f", result.auc, result.logloss);
  }
  results_.push_back(e);
  a.text = text;
  return a;
}

}  // namespace embedps::scheduler
