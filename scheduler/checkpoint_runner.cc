#include "scheduler/checkpoint_runner.h"

#include <algorithm>

#include <glog/logging.h>

namespace embedps::scheduler {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

void CheckpointRunner::ResumedFrom(const Manifest& m, uint64_t newest) {
  last_ = m;
  next_id_ = std::max(m.id, newest) + 1;
  force_full_ = true;
}

std::vector<NodeMessage> CheckpointRunner::Begin(Manifest skeleton, const std::string& reason,
                                                 Clock::time_point now, const std::vector<uint32_t>& workers) {
  Run run;
  run.reason = reason;
  run.started = now;
  Manifest& m = run.manifest = std::move(skeleton);
  m.id = next_id_++;
  m.delta = !force_full_ && last_ && settings_.full_every > 1 && deltas_since_full_ + 1 < settings_.full_every;
  m.chain = m.delta ? last_->chain : std::vector<uint64_t>{};
  m.chain.push_back(m.id);
  run.waiting.insert(workers.begin(), workers.end());
  run.paused.assign(run.waiting.begin(), run.waiting.end());
  std::vector<NodeMessage> pauses;
  for (uint32_t id : run.paused) pauses.push_back({id, wire::PauseTrainingMsg{m.id}});
  run_ = std::move(run);
  return pauses;
}

bool CheckpointRunner::OnPaused(uint32_t node, uint64_t id) {
  if (!run_ || run_->manifest.id != id) return false;
  if (run_->stage == Stage::kPausing) run_->waiting.erase(node);
  return true;
}

void CheckpointRunner::WorkerGone(uint32_t node) {
  // A dead worker sent its last push long ago; the cut need not wait.
  if (run_ && run_->stage == Stage::kPausing) run_->waiting.erase(node);
}

std::vector<NodeMessage> CheckpointRunner::Cut(CutFacts facts, const std::vector<uint32_t>& servers,
                                               const std::string& directory) {
  Manifest& m = run_->manifest;
  run_->stage = Stage::kCutting;
  m.partitions = std::move(facts.partitions);
  m.progress = facts.progress;
  m.failovers = std::move(facts.failovers);
  m.lost_rows = facts.lost_rows;
  m.lost_seconds = facts.lost_seconds;
  m.created_unix = facts.created_unix;
  const uint64_t base = m.delta ? last_->id : 0;
  std::vector<NodeMessage> cuts;
  for (uint32_t id : servers) {
    run_->waiting.insert(id);
    cuts.push_back({id, wire::CheckpointMsg{m.id, m.delta, base, directory}});
  }
  return cuts;
}

Status CheckpointRunner::OnReply(uint32_t node, const wire::CheckpointReplyMsg& reply) {
  if (!run_ || run_->manifest.id != reply.id) return Status::OK();  // abandoned
  if (!reply.ok) return Unavailable("could not write it: " + reply.error);
  if (!reply.written) {
    if (run_->stage == Stage::kCutting) run_->waiting.erase(node);
    return Status::OK();
  }
  if (run_->stage == Stage::kCutting) {
    // A server may finish writing before the last cut arrived.
    LOG(WARNING) << "node " << node << " answered 'written' before 'cut' for checkpoint " << reply.id;
    return Status::OK();
  }
  if (run_->stage != Stage::kWriting || run_->waiting.erase(node) == 0) return Status::OK();
  Manifest& m = run_->manifest;
  m.files.push_back(reply.path.substr(reply.path.find_last_of('/') + 1));
  m.rows += reply.rows;
  m.bytes += reply.bytes;
  run_->max_stall = std::max(run_->max_stall, reply.stall_seconds);
  return Status::OK();
}

std::vector<NodeMessage> CheckpointRunner::Resume(Clock::time_point now, const std::vector<uint32_t>& servers,
                                                  const std::function<bool(uint32_t)>& alive) {
  run_->stage = Stage::kWriting;
  run_->manifest.pause_seconds = Seconds(now - run_->started);
  run_->waiting.insert(servers.begin(), servers.end());
  return ResumeMessages(alive);
}

std::vector<NodeMessage> CheckpointRunner::ResumeMessages(const std::function<bool(uint32_t)>& alive) const {
  std::vector<NodeMessage> resumes;
  for (uint32_t id : run_->paused) {
    if (alive(id)) resumes.push_back({id, wire::ResumeTrainingMsg{run_->manifest.id}});
  }
  return resumes;
}

StatusOr<CheckpointRunner::Written> CheckpointRunner::Finish(Clock::time_point now) {
  Manifest& m = run_->manifest;
  m.seconds = Seconds(now - run_->started);
  std::sort(m.files.begin(), m.files.end());
  // Never call a checkpoint complete unless every rank's file is there and
  // is the file of this checkpoint and that rank.
  RETURN_IF_ERROR(store_->CheckComplete(m));
  RETURN_IF_ERROR(store_->WriteManifest(m));
  deltas_since_full_ = m.delta ? deltas_since_full_ + 1 : 0;
  force_full_ = false;
  last_ = m;
  Written written{std::move(m), std::move(run_->reason), run_->started, run_->max_stall, 0};
  run_.reset();
  written.pruned = store_->Prune(settings_.keep);
  return written;
}

std::optional<CheckpointRunner::Abandoned> CheckpointRunner::Abandon(const std::function<bool(uint32_t)>& alive) {
  if (!run_) return std::nullopt;
  Abandoned gone{run_->manifest.id, run_->reason, {}};
  // Once writing, the workers were resumed already.
  if (run_->stage != Stage::kWriting) gone.resumes = ResumeMessages(alive);
  // Its partial files take space and could be mistaken for a checkpoint:
  // remove them (a server still writing there fails harmlessly); they
  // would spoil a delta chain too, so the next one is full.
  store_->Remove(gone.id);
  force_full_ = true;
  run_.reset();
  return gone;
}

}  // namespace embedps::scheduler
