// Periodic evaluation: the scheduler decides when, one worker scores the
// test set against the servers' current rows (worker/eval/server_evaluator.h)
// and the results go into the progress lines and the job statistics.
#include <cstdio>

#include <glog/logging.h>

#include "scheduler/scheduler_core.h"

namespace embedps::scheduler {

Status SchedulerCore::MaybeEvaluate() {
  if (!EvalEnabled()) return Status::OK();
  const auto now = now_;
  if (eval_) {
    auto it = nodes_.find(eval_->node);
    const bool gone = it == nodes_.end() || it->second.dead;
    if (!gone && now - eval_->sent < options_.eval_timeout) return Status::OK();
    LOG(WARNING) << "evaluation " << eval_->id << (gone ? ": its worker died" : ": no answer in time")
                 << "; giving up on it";
    RecordEvent("eval", "evaluation " + std::to_string(eval_->id) + " given up");
    const bool final = eval_->final;
    eval_.reset();
    // The final evaluation goes to another live worker, or the job ends
    // without it.
    if (final && (gone ? !RequestEvaluation(true) : true)) return EndTraining();
    return Status::OK();
  }
  if (phase_ != Phase::kTraining || final_eval_asked_ || stopping_ || checkpoint_) return Status::OK();
  const uint64_t rows = TotalProgress().rows;
  const bool by_time = options_.eval_every.count() > 0 &&
                       now - std::max(last_eval_time_, train_start_) >= options_.eval_every;
  const bool by_rows = options_.eval_every_rows > 0 && rows - last_eval_rows_ >= options_.eval_every_rows;
  if (!by_time && !by_rows) return Status::OK();
  last_eval_time_ = now;
  last_eval_rows_ = rows;
  RequestEvaluation(/*final=*/false);
  return Status::OK();
}

bool SchedulerCore::RequestEvaluation(bool final) {
  const Node* target = nullptr;
  for (const auto& [id, node] : nodes_) {
    if (node.role != wire::Role::kWorker || node.dead) continue;
    if (target == nullptr || node.rank < target->rank) target = &node;
  }
  if (target == nullptr) return false;
  const auto now = now_;
  EvalRequest r;
  r.id = next_eval_id_++;
  r.node = target->id;
  r.rows = TotalProgress().rows;
  r.train_seconds = std::chrono::duration<double>((final ? train_end_ : now) - train_start_).count();
  r.final = final;
  r.sent = now;
  if (!SendTo(*target, wire::EvaluateMsg{r.id, final ? 0 : options_.eval_rows, final}).ok()) return false;
  eval_ = r;
  return true;
}

Status SchedulerCore::OnEvalResult(Node& node, const wire::Message& msg) {
  const auto& result = std::get<wire::EvalResultMsg>(msg.body);
  if (!eval_ || eval_->id != result.id || eval_->node != node.id) return Status::OK();  // given up on
  const EvalRequest request = *eval_;
  eval_.reset();
  if (!result.ok) {
    LOG(WARNING) << Describe(node) << " could not evaluate: " << result.error;
    RecordEvent("eval", Describe(node) + " could not evaluate: " + result.error);
    if (options_.print_progress) {
      std::printf("eval: failed on %s: %s\n", Describe(node).c_str(), result.error.c_str());
      std::fflush(stdout);
    }
  } else {
    nlohmann::json e = {{"rows", request.rows},           {"train_seconds", request.train_seconds},
                        {"test_rows", result.test_rows},  {"eval_seconds", result.seconds},
                        {"final", request.final}};
    char metrics[160];
    // Click models always have a positive (clipped) log loss, rating models none.
    if (result.logloss == 0) {
      e["test_rmse"] = result.rmse;
      e["test_mae"] = result.mae;
      std::snprintf(metrics, sizeof(metrics), "test RMSE %.4f, MAE %.4f", result.rmse, result.mae);
    } else {
      e["test_auc"] = result.auc;
      e["test_logloss"] = result.logloss;
      std::snprintf(metrics, sizeof(metrics), "test AUC %.4f, logloss %.4f", result.auc, result.logloss);
    }
    evals_.push_back(e);
    RecordEvent("eval", std::string(metrics) + " after " + std::to_string(request.rows) + " rows");
    if (options_.print_progress) {
      std::printf("eval%s: %llu rows trained (%.1f s): %s on %llu test rows (%.1f s)\n",
                  request.final ? " (final)" : "", static_cast<unsigned long long>(request.rows),
                  request.train_seconds, metrics, static_cast<unsigned long long>(result.test_rows),
                  result.seconds);
      std::fflush(stdout);
    }
  }
  return request.final ? EndTraining() : Status::OK();
}

}  // namespace embedps::scheduler
