// Checkpoints, driven by the scheduler: when one is due
// (checkpoint_schedule.h), and its stages (checkpoint_runner.h: pause the
// workers, cut, resume, write, manifest), with their logs, events and
// metrics.
#include <algorithm>
#include <ctime>

#include <glog/logging.h>

#include "scheduler/scheduler_core.h"

namespace embedps::scheduler {
Status SchedulerCore::MaybeCheckpoint() {
  if (final_checkpoint_) {
    if (checkpoints_.running()) return Status::OK();
    if (recovery_.AnyVacant() || recovery_.AnyRestoring()) {
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
  if (options_.checkpoint_dir.empty() || phase_ != Phase::kTraining || checkpoints_.running() || stopping_) {
    return Status::OK();
  }
  // A checkpoint taken while a server's rows are missing would record them
  // as lost; wait until every rank is served again.
  if (recovery_.AnyVacant() || recovery_.AnyRestoring()) return Status::OK();
  const auto reason = checkpoint_schedule_.Due({now_, train_start_, TotalProgress().rows, partitions_->CurrentPass(),
                                                partitions_->passes(), checkpoints_.last().has_value()});
  if (!reason) return Status::OK();
  return BeginCheckpoint(*reason);
}

Status SchedulerCore::BeginCheckpoint(const std::string& reason) {
  Manifest m;
  m.shard_map_epoch = shard_map_.epoch();
  m.num_servers = options_.num_servers;
  m.num_virtual_shards = shard_map_.num_virtual_shards();
  m.owners = shard_map_.owners();
  m.config = JobConfigJson();
  m.model = options_.model_info;
  std::vector<uint32_t> workers;
  for (const auto& [id, node] : members_.all()) {
    if (node.role == wire::Role::kWorker && !node.dead) workers.push_back(id);
  }
  SendAll(checkpoints_.Begin(std::move(m), reason, now_, workers));
  LOG(INFO) << "checkpoint " << checkpoints_.next_id() - 1 << " (" << reason << "): pausing " << workers.size()
            << " workers";
  return AdvanceCheckpoint();
}

std::vector<uint32_t> SchedulerCore::ServingIds() const {
  std::vector<uint32_t> ids;
  for (const auto& [id, node] : members_.all()) {
    if (IsServing(node)) ids.push_back(id);
  }
  return ids;
}

void SchedulerCore::SendAll(const std::vector<NodeMessage>& messages) {
  for (const NodeMessage& m : messages) {
    if (const Node* node = members_.Find(m.node)) (void)SendTo(*node, m.body);
  }
}

Status SchedulerCore::AdvanceCheckpoint() {
  const auto alive = [this](uint32_t id) { return !members_.Find(id)->dead; };
  if (checkpoints_.ReadyToCut()) {
    // Every worker is paused with its pushes applied: this is the cut.
    CheckpointRunner::CutFacts facts{partitions_->ToJson(),  TotalProgress(),          recovery_.log(),
                                     recovery_.lost_rows(), recovery_.lost_seconds(), static_cast<double>(std::time(nullptr))};
    SendAll(checkpoints_.Cut(std::move(facts), ServingIds(), CheckpointDir(store_->root(), checkpoints_.next_id() - 1)));
  }
  if (checkpoints_.ReadyToResume()) SendAll(checkpoints_.Resume(now_, ServingIds(), alive));
  if (!checkpoints_.ReadyToFinish()) return Status::OK();
  auto written = checkpoints_.Finish(now_);
  if (!written.ok()) {
    AbandonCheckpoint(written.status().message());
    return Status::OK();
  }
  const Manifest& m = written->manifest;
  checkpoint_schedule_.Taken(written->started, m.progress.rows, partitions_->CurrentPass());
  checkpoints_written_->Add();
  checkpoint_seconds_->Set(m.seconds);
  checkpoint_pause_->Set(m.pause_seconds);
  char line[256];
  std::snprintf(line, sizeof(line),
                "checkpoint %llu (%s, %s) written: %llu rows, %.1f MB in %.2f s; training paused "
                "%.1f ms, longest request stall %.1f ms",
                static_cast<unsigned long long>(m.id), m.delta ? "delta" : "full", written->reason.c_str(),
                static_cast<unsigned long long>(m.rows), m.bytes / 1e6, m.seconds, m.pause_seconds * 1e3,
                written->max_stall * 1e3);
  LOG(INFO) << line << (written->pruned > 0 ? "; pruned " + std::to_string(written->pruned) + " old" : "");
  RecordEvent("checkpoint", line);
  if (options_.print_progress) {
    std::printf("embedps: %s\n", line);
    std::fflush(stdout);
  }
  return Status::OK();
}

Status SchedulerCore::OnPaused(Node& node, const wire::Message& msg) {
  const auto& paused = std::get<wire::PausedMsg>(msg.body);
  node.progress = paused.progress;
  if (paused.progress.lease_partition >= 0) {
    partitions_->UpdatePosition(node.id, static_cast<uint32_t>(paused.progress.lease_partition),
                                paused.progress.lease_lines);
  }
  if (!checkpoints_.OnPaused(node.id, paused.checkpoint_id)) {
    // An abandoned checkpoint: let the worker go on.
    return SendTo(node, wire::ResumeTrainingMsg{paused.checkpoint_id});
  }
  return AdvanceCheckpoint();
}

Status SchedulerCore::OnCheckpointReply(Node& node, const wire::Message& msg) {
  const Status st = checkpoints_.OnReply(node.id, std::get<wire::CheckpointReplyMsg>(msg.body));
  if (!st.ok()) {
    AbandonCheckpoint(Describe(node) + " " + st.message());
    return Status::OK();
  }
  return AdvanceCheckpoint();
}

void SchedulerCore::AbandonCheckpoint(const std::string& why, bool failed) {
  const auto gone = checkpoints_.Abandon([this](uint32_t id) { return !members_.Find(id)->dead; });
  if (!gone) return;
  SendAll(gone->resumes);
  const std::string text = "checkpoint " + std::to_string(gone->id) + " (" + gone->reason + ") abandoned: " + why;
  const auto& last = checkpoints_.last();
  const std::string latest = last ? "checkpoint " + std::to_string(last->id) + " stays the latest"
                                  : "the job has no checkpoint yet";
  if (!failed) {
    LOG(INFO) << text;
    return;
  }
  checkpoint_failures_->Add();
  LOG(ERROR) << text << "; " << latest;
  RecordEvent("checkpoint_failed", text);
  checkpoint_failure_log_.push_back({{"id", gone->id}, {"reason", gone->reason}, {"error", why}});
  if (options_.print_progress) {
    std::printf("embedps: %s; %s\n", text.c_str(), latest.c_str());
    std::fflush(stdout);
  }
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
  if (!checkpoints_.last()) return nullptr;
  const Manifest& m = *checkpoints_.last();
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
