// Checkpoints, driven by the scheduler. One runs at a time, in stages:
//   pausing  every training worker stops at a batch boundary, waits until
//            its pushes are acknowledged and reports its lease position;
//   cutting  every server sets its cut (fast: no copying) and answers;
//   writing  workers resume at once; servers write their files in the
//            background while training goes on;
// and once every server has written, the manifest is written (atomically)
// and old checkpoints are pruned. Pausing makes the checkpoint consistent:
// it holds exactly the pushes of the lines the manifest records as trained.
#include <algorithm>
#include <ctime>

#include <glog/logging.h>

#include "scheduler/scheduler_core.h"

namespace embedps::scheduler {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

Status SchedulerCore::MaybeCheckpoint() {
  if (final_checkpoint_) {
    if (checkpoint_) return Status::OK();
    if (!vacant_ranks_.empty() || !restoring_.empty()) {
      // The final checkpoint, and the export after it, need every rank's
      // rows: a rank whose server died waits for its replacement. A server
      // that died during the final checkpoint abandoned it: it is taken
      // again once the rank is served, never skipped for the export.
      final_checkpoint_begun_ = false;
      return Status::OK();
    }
    if (!final_checkpoint_begun_) {
      final_checkpoint_begun_ = true;
      return BeginCheckpoint("end of training");
    }
    final_checkpoint_ = false;
    return StartExport();
  }
  if (options_.checkpoint_dir.empty() || phase_ != Phase::kTraining || checkpoint_ || stopping_) {
    return Status::OK();
  }
  // A checkpoint taken while a server's rows are missing would record them
  // as lost; wait until every rank is served again.
  if (!vacant_ranks_.empty() || !restoring_.empty()) return Status::OK();
  const auto reason = checkpoint_schedule_.Due({now_, train_start_, TotalProgress().rows, partitions_->CurrentPass(),
                                                partitions_->passes(), last_checkpoint_.has_value()});
  if (!reason) return Status::OK();
  return BeginCheckpoint(*reason);
}

Status SchedulerCore::BeginCheckpoint(const std::string& reason) {
  CheckpointRun run;
  run.reason = reason;
  run.started = now_;
  Manifest& m = run.manifest;
  m.id = next_checkpoint_id_++;
  m.delta = !force_full_ && last_checkpoint_ && options_.full_checkpoint_every > 1 &&
            deltas_since_full_ + 1 < options_.full_checkpoint_every;
  m.chain = m.delta ? last_checkpoint_->chain : std::vector<uint64_t>{};
  m.chain.push_back(m.id);
  m.shard_map_epoch = shard_map_.epoch();
  m.num_servers = options_.num_servers;
  m.num_virtual_shards = shard_map_.num_virtual_shards();
  m.config = JobConfigJson();
  m.model = options_.model_info;
  for (const auto& [id, node] : members_.all()) {
    if (node.role == wire::Role::kWorker && !node.dead) run.waiting.insert(id);
  }
  for (uint32_t id : run.waiting) RETURN_IF_ERROR(SendTo(*members_.Find(id), wire::PauseTrainingMsg{m.id}));
  run.paused.assign(run.waiting.begin(), run.waiting.end());
  LOG(INFO) << "checkpoint " << m.id << " (" << (m.delta ? "delta" : "full") << ", " << reason
            << "): pausing " << run.waiting.size() << " workers";
  checkpoint_ = std::move(run);
  if (checkpoint_->waiting.empty()) SendCheckpointStage();
  return Status::OK();
}

void SchedulerCore::SendCheckpointStage() {
  CheckpointRun& run = *checkpoint_;
  Manifest& m = run.manifest;
  if (run.stage == CheckpointRun::Stage::kPausing) {
    // Every worker is paused with its pushes applied: this is the cut.
    run.stage = CheckpointRun::Stage::kCutting;
    m.partitions = partitions_->ToJson();
    m.progress = TotalProgress();
    m.failovers = failover_log_;
    m.lost_rows = lost_rows_;
    m.lost_seconds = lost_seconds_;
    m.created_unix = static_cast<double>(std::time(nullptr));
    const std::string dir = CheckpointDir(store_->root(), m.id);
    const uint64_t base = m.delta ? last_checkpoint_->id : 0;
    for (auto& [id, node] : members_.all()) {
      if (!IsServing(node)) continue;
      run.waiting.insert(id);
      (void)SendTo(node, wire::CheckpointMsg{m.id, m.delta, base, dir});
    }
    return;
  }
  if (run.stage == CheckpointRun::Stage::kCutting) {
    run.stage = CheckpointRun::Stage::kWriting;
    run.resumed = now_;
    for (uint32_t id : run.paused) {
      if (!members_.Find(id)->dead) (void)SendTo(*members_.Find(id), wire::ResumeTrainingMsg{m.id});
    }
    m.pause_seconds = Seconds(run.resumed - run.started);
    for (auto& [id, node] : members_.all()) {
      if (IsServing(node)) run.waiting.insert(id);
    }
  }
}

Status SchedulerCore::OnPaused(Node& node, const wire::Message& msg) {
  const auto& paused = std::get<wire::PausedMsg>(msg.body);
  node.progress = paused.progress;
  if (paused.progress.lease_partition >= 0) {
    partitions_->UpdatePosition(node.id, static_cast<uint32_t>(paused.progress.lease_partition),
                                paused.progress.lease_lines);
  }
  if (!checkpoint_ || checkpoint_->manifest.id != paused.checkpoint_id) {
    // An abandoned checkpoint: let the worker go on.
    return SendTo(node, wire::ResumeTrainingMsg{paused.checkpoint_id});
  }
  if (checkpoint_->stage != CheckpointRun::Stage::kPausing) return Status::OK();
  checkpoint_->waiting.erase(node.id);
  if (checkpoint_->waiting.empty()) SendCheckpointStage();
  return Status::OK();
}

Status SchedulerCore::OnCheckpointReply(Node& node, const wire::Message& msg) {
  const auto& r = std::get<wire::CheckpointReplyMsg>(msg.body);
  if (!checkpoint_ || checkpoint_->manifest.id != r.id) return Status::OK();  // abandoned
  CheckpointRun& run = *checkpoint_;
  if (!r.ok) {
    AbandonCheckpoint(Describe(node) + " could not write it: " + r.error);
    return Status::OK();
  }
  if (!r.written) {
    if (run.stage != CheckpointRun::Stage::kCutting) return Status::OK();
    run.waiting.erase(node.id);
    if (run.waiting.empty()) SendCheckpointStage();
    return Status::OK();
  }
  // A server may finish writing before the last cut arrived.
  if (run.stage == CheckpointRun::Stage::kCutting) {
    LOG(WARNING) << Describe(node) << " answered 'written' before 'cut' for checkpoint " << r.id;
    return Status::OK();
  }
  run.waiting.erase(node.id);
  const std::string base = r.path.substr(r.path.find_last_of('/') + 1);
  run.manifest.files.push_back(base);
  run.manifest.rows += r.rows;
  run.manifest.bytes += r.bytes;
  run.max_stall = std::max(run.max_stall, r.stall_seconds);
  if (run.waiting.empty()) return FinishCheckpoint();
  return Status::OK();
}

Status SchedulerCore::FinishCheckpoint() {
  CheckpointRun run = std::move(*checkpoint_);
  checkpoint_.reset();
  Manifest& m = run.manifest;
  m.seconds = Seconds(now_ - run.started);
  std::sort(m.files.begin(), m.files.end());
  // Never call a checkpoint complete unless every rank's file is there and
  // is the file of this checkpoint and that rank.
  Status st = store_->CheckComplete(m);
  if (st.ok()) st = store_->WriteManifest(m);
  if (!st.ok()) {
    checkpoint_ = std::move(run);
    AbandonCheckpoint(st.message());
    return Status::OK();
  }
  deltas_since_full_ = m.delta ? deltas_since_full_ + 1 : 0;
  force_full_ = false;
  last_checkpoint_ = m;
  checkpoint_schedule_.Taken(run.started, m.progress.rows, partitions_->CurrentPass());
  checkpoints_written_->Add();
  checkpoint_seconds_->Set(m.seconds);
  checkpoint_pause_->Set(m.pause_seconds);
  const size_t pruned = store_->Prune(options_.checkpoints_to_keep);
  char line[256];
  std::snprintf(line, sizeof(line),
                "checkpoint %llu (%s, %s) written: %llu rows, %.1f MB in %.2f s; training paused "
                "%.1f ms, longest request stall %.1f ms",
                static_cast<unsigned long long>(m.id), m.delta ? "delta" : "full", run.reason.c_str(),
                static_cast<unsigned long long>(m.rows), m.bytes / 1e6, m.seconds, m.pause_seconds * 1e3,
                run.max_stall * 1e3);
  LOG(INFO) << line << (pruned > 0 ? "; pruned " + std::to_string(pruned) + " old" : "");
  RecordEvent("checkpoint", line);
  if (options_.print_progress) {
    std::printf("embedps: %s\n", line);
    std::fflush(stdout);
  }
  return Status::OK();
}

void SchedulerCore::AbandonCheckpoint(const std::string& why, bool failed) {
  if (!checkpoint_) return;
  CheckpointRun& run = *checkpoint_;
  if (run.stage != CheckpointRun::Stage::kWriting) {
    for (uint32_t id : run.paused) {
      if (!members_.Find(id)->dead) (void)SendTo(*members_.Find(id), wire::ResumeTrainingMsg{run.manifest.id});
    }
  }
  const std::string text = "checkpoint " + std::to_string(run.manifest.id) + " (" + run.reason +
                           ") abandoned: " + why;
  const std::string latest = last_checkpoint_ ? "checkpoint " + std::to_string(last_checkpoint_->id) + " stays the latest"
                                              : "the job has no checkpoint yet";
  if (failed) {
    checkpoint_failures_->Add();
    LOG(ERROR) << text << "; " << latest;
    RecordEvent("checkpoint_failed", text);
    checkpoint_failure_log_.push_back({{"id", run.manifest.id}, {"reason", run.reason}, {"error", why}});
  } else {
    LOG(INFO) << text;
  }
  if (failed && options_.print_progress) {
    std::printf("embedps: %s; %s\n", text.c_str(), latest.c_str());
    std::fflush(stdout);
  }
  // Its partial files take space and could be mistaken for a checkpoint:
  // remove them (a server still writing there fails harmlessly).
  store_->Remove(run.manifest.id);
  // Its partial files would spoil a delta chain: the next one is full.
  force_full_ = true;
  checkpoint_.reset();
}

nlohmann::json SchedulerCore::JobConfigJson() const {
  return {{"num_servers", options_.num_servers},
          {"num_workers", options_.num_workers},
          {"train_files", options_.train_files},
          {"passes", options_.passes},
          {"shuffle_seed", options_.shuffle_seed},
          {"num_virtual_shards", options_.num_virtual_shards},
          {"job_name", options_.job_name}};
}

nlohmann::json SchedulerCore::LastCheckpointJson() const {
  if (!last_checkpoint_) return nullptr;
  const Manifest& m = *last_checkpoint_;
  return {{"id", m.id},
          {"kind", m.delta ? "delta" : "full"},
          {"directory", CheckpointDir(options_.checkpoint_dir, m.id)},
          {"age_seconds", std::max(0.0, static_cast<double>(std::time(nullptr)) - m.created_unix)},
          {"seconds", m.seconds},
          {"pause_seconds", m.pause_seconds},
          {"rows", m.rows},
          {"bytes", m.bytes},
          {"trained_rows", m.progress.rows}};
}

}  // namespace embedps::scheduler
