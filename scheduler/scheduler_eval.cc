// Periodic evaluation: the scheduler decides when, one worker scores the
// test set against the servers' current rows (worker/eval/server_evaluator.h)
// and the results go into the progress lines and the job statistics.
#include <cstdio>

#include <glog/logging.h>

#include "scheduler/scheduler_core.h"

namespace embedps::scheduler {

Status SchedulerCore::MaybeEvaluate() {
  if (!evaluation_.enabled()) return Status::OK();
  const auto gave_up = evaluation_.CheckOverdue(now_, [this](uint32_t id) {
    const Node* node = members_.Find(id);
    return node == nullptr || node->dead;
  });
  if (gave_up) {
    LOG(WARNING) << "evaluation " << gave_up->id << (gave_up->worker_gone ? ": its worker died" : ": no answer in time")
                 << "; giving up on it";
    RecordEvent("eval", "evaluation " + std::to_string(gave_up->id) + " given up");
    // The final evaluation goes to another live worker, or the job ends
    // without it.
    if (gave_up->final && (gave_up->worker_gone ? !RequestFinalEvaluation() : true)) return EndTraining();
    return Status::OK();
  }
  if (evaluation_.in_flight()) return Status::OK();
  if (phase_ != Phase::kTraining || final_eval_asked_ || stopping_ || checkpoints_.running()) return Status::OK();
  if (auto request = evaluation_.Tick(now_, train_start_, TotalProgress().rows, EvalWorker())) {
    return SendTo(*members_.Find(request->node), request->msg);
  }
  return Status::OK();
}

bool SchedulerCore::RequestFinalEvaluation() {
  const double train_seconds = std::chrono::duration<double>(train_end_ - train_start_).count();
  auto request = evaluation_.AskFinal(now_, TotalProgress().rows, train_seconds, EvalWorker());
  if (!request) return false;
  (void)SendTo(*members_.Find(request->node), request->msg);
  return true;
}

Status SchedulerCore::OnEvalResult(Node& node, const wire::Message& msg) {
  const auto answer = evaluation_.OnResult(node.id, std::get<wire::EvalResultMsg>(msg.body));
  if (!answer) return Status::OK();  // given up on
  if (!answer->ok) {
    LOG(WARNING) << Describe(node) << " could not evaluate: " << answer->text;
    RecordEvent("eval", Describe(node) + " could not evaluate: " + answer->text);
    if (options_.print_progress) {
      std::printf("eval: failed on %s: %s\n", Describe(node).c_str(), answer->text.c_str());
      std::fflush(stdout);
    }
  } else {
    RecordEvent("eval", answer->text + " after " + std::to_string(answer->rows) + " rows");
    if (const auto snapshot = best_.OnEvaluation(evaluation_.results().back())) {
      // The best so far: the servers write their rows aside (--keep_best).
      size_t servers = 0;
      for (const auto& [id, n] : members_.all()) {
        if (!IsServing(n)) continue;
        RETURN_IF_ERROR(SendTo(n, wire::ExportModelMsg{options_.model_dir + "/" + *snapshot}));
        ++servers;
      }
      best_.SnapshotStarted(*snapshot, servers);
    }
    if (options_.print_progress) {
      // With --validation the workers score it, not the test set.
      const bool validation = options_.job_config.is_object() && !options_.job_config.value("validation", "").empty();
      std::string text = answer->text;
      if (validation && text.rfind("test ", 0) == 0) text = "validation " + text.substr(5);
      std::printf("eval%s: %llu rows trained (%.1f s): %s on %llu %s rows (%.1f s)\n", answer->final ? " (final)" : "",
                  static_cast<unsigned long long>(answer->rows), answer->train_seconds, text.c_str(),
                  static_cast<unsigned long long>(answer->test_rows), validation ? "validation" : "test",
                  answer->eval_seconds);
      std::fflush(stdout);
    }
  }
  return answer->final ? EndTraining() : Status::OK();
}

}  // namespace embedps::scheduler
