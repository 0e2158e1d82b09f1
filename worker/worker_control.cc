#include "worker/worker_control.h"

#include <algorithm>
#include <utility>

#include <glog/logging.h>

namespace embedps::worker {

void WorkerControl::OnEvent(const wire::Message& event) {
  const wire::Body& body = event.body;
  if (auto* p = std::get_if<wire::PauseTrainingMsg>(&body)) {
    pause_ = p->checkpoint_id;
  } else if (auto* r = std::get_if<wire::ResumeTrainingMsg>(&body)) {
    resumed_ = r->checkpoint_id;
    // A resume for a pause not yet answered (the checkpoint was given up):
    // nothing to answer any more.
    if (pause_ && *pause_ == r->checkpoint_id) pause_.reset();
  } else if (auto* e = std::get_if<wire::EvaluateMsg>(&body)) {
    evaluation_ = *e;  // a newer request supersedes an older one
  } else if (auto* c = std::get_if<wire::ClockUpdateMsg>(&body)) {
    min_clock_ = std::max(min_clock_.value_or(0), c->min_clock);
  } else if (auto* s = std::get_if<wire::StopTrainingMsg>(&body)) {
    if (!stop_requested_) LOG(INFO) << "stopping: " << s->reason;
    stop_requested_ = true;
    stop_reason_ = s->reason;
  } else if (auto* s = std::get_if<wire::ShutdownMsg>(&body)) {
    if (!shutdown_) shutdown_ = s->ok ? Status::OK() : Aborted("job aborted by the scheduler: " + s->reason);
  } else {
    if (ignored_++ == 0) LOG(WARNING) << "ignoring a " << wire::BodyName(body) << " from the scheduler";
  }
}

std::optional<uint64_t> WorkerControl::TakePause() { return std::exchange(pause_, std::nullopt); }

bool WorkerControl::TakeResume(uint64_t id) {
  if (!resumed_ || *resumed_ != id) return false;
  resumed_.reset();
  return true;
}

std::optional<wire::EvaluateMsg> WorkerControl::TakeEvaluation() { return std::exchange(evaluation_, std::nullopt); }

std::optional<uint64_t> WorkerControl::TakeMinClock() { return std::exchange(min_clock_, std::nullopt); }

void WorkerControl::Leave() {
  if (leaving_) return;
  LOG(WARNING) << "SIGTERM: handing the lease back and leaving the job";
  leaving_ = true;
  stop_requested_ = true;
  stop_reason_ = "SIGTERM";
}

void WorkerControl::Reset() {
  pause_.reset();
  resumed_.reset();
  evaluation_.reset();
  min_clock_.reset();
  shutdown_.reset();
  stop_requested_ = leaving_;
  if (!leaving_) stop_reason_.clear();
}

}  // namespace embedps::worker
