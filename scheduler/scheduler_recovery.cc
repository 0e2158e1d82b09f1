// Recovery: what the scheduler does when a node dies, when a node joins a
// running job, and when a job resumes from a checkpoint.
//   - A dead worker's leases go back to the queue, each resuming from the
//     last position the worker reported (lines whose pushes it saw
//     acknowledged); the others, or a restarted worker, train them.
//   - A dead server's rank goes to a standby: a server admitted beyond
//     --num_servers, started as a spare (--standby_servers) or a restarted
//     process. The standby gets the map with its own endpoint at that rank,
//     restores the rank's rows from the latest checkpoint, and only then is
//     the new map (epoch + 1) published to everybody; workers resend their
//     unanswered requests to it (request ids keep pushes exactly-once).
//   - --resume: the queue and totals come from the newest usable manifest,
//     and every server restores the rows it owns under the new map (any
//     server count) before the workers get the map.
#include <algorithm>
#include <filesystem>

#include <glog/logging.h>

#include "scheduler/scheduler_core.h"

namespace embedps::scheduler {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

std::string FormatSeconds(double s) {
  char text[32];
  std::snprintf(text, sizeof(text), "%.1f", s);
  return text;
}

}  // namespace

Status SchedulerCore::LoadResumePoint() {
  if (options_.checkpoint_dir.empty()) return InvalidArgument("--resume needs --checkpoint_dir");
  std::vector<std::string> skipped;
  auto m = store_->LatestUsable(&skipped);
  for (const auto& why : skipped) RecordEvent("checkpoint_skipped", why);
  if (!m.ok()) return m.status().WithContext("--resume");
  // The rows belong to the checkpoint's model: a job started without one
  // (daemons by hand) exports that model, one that names another is refused
  // before a server loads a row.
  RETURN_IF_ERROR(CheckSameModel(m->model, options_.model_info).WithContext("--resume"));
  if (options_.model_info.is_null()) options_.model_info = m->model;
  ASSIGN_OR_RETURN(PartitionQueue queue, PartitionQueue::FromJson(m->partitions));
  partitions_ = std::make_unique<PartitionQueue>(std::move(queue));
  resumed_progress_ = m->progress;
  // Losses of failovers before the cut stay in this job's statistics.
  recovery_.Carry(m->failovers, m->lost_rows, m->lost_seconds);
  // Epochs go on from the checkpoint's, so no node mistakes the new map for
  // an old one.
  ASSIGN_OR_RETURN(shard_map_, ShardMap::Balanced(options_.num_servers, options_.num_virtual_shards,
                                                  m->shard_map_epoch + 1));
  RETURN_IF_ERROR(shard_map_.SetReplication(options_.replicas, {}));
  resumed_progress_.lease_partition = -1;
  checkpoints_.ResumedFrom(*m, store_->List().back());
  const std::string line = "resuming from checkpoint " + std::to_string(m->id) + " (" +
                           std::to_string(m->progress.rows) + " rows trained, " +
                           std::to_string(partitions_->finished()) + "/" +
                           std::to_string(partitions_->total()) + " partitions done; written by " +
                           std::to_string(m->num_servers) + " servers, restoring onto " +
                           std::to_string(options_.num_servers) + ")";
  LOG(INFO) << line;
  RecordEvent("resume", line);
  if (options_.print_progress) {
    for (const auto& why : skipped) std::printf("embedps: %s\n", why.c_str());
    std::printf("embedps: %s\n", line.c_str());
    std::fflush(stdout);
  }
  return Status::OK();
}

std::vector<bool> SchedulerCore::ShardsOf(uint32_t rank) const {
  std::vector<bool> shards(shard_map_.num_virtual_shards());
  for (uint32_t v = 0; v < shards.size(); ++v) shards[v] = shard_map_.OwnerOfShard(v) == rank;
  return shards;
}

Status SchedulerCore::SendRestore(Node& node, uint32_t rank) {
  wire::RestoreMsg msg;
  msg.rank = rank;
  if (const auto stale = handoffs_.Finish(rank)) {
    // An earlier replacement restored from a handoff and died before it
    // served: its files are of no more use, and this restore is not from
    // them (it would be counted lossless when it is from the checkpoint:
    // the simulator, seed 25685).
    std::error_code ec;
    std::filesystem::remove_all(*stale, ec);
  }
  if (handoffs_.Use(&msg)) {
    LOG(INFO) << "server " << rank << "'s replacement restores from its neighbours' handoff, not the checkpoint";
    recovery_.Restoring(node.id, rank);
    return SendTo(node, msg);
  }
  if (checkpoints_.last()) {
    msg.checkpoint_id = checkpoints_.last()->id;
    // Only the files that can hold the rank's rows: after a failover, the
    // rank's own file of each level, not every server's.
    ASSIGN_OR_RETURN(msg.chain, store_->ChainFiles(*checkpoints_.last(), ShardsOf(rank)));
    // The copy this server keeps of its primary's rows comes from the
    // primary's files.
    if (shard_map_.replicas() > 1) {
      ASSIGN_OR_RETURN(msg.replica_chain,
                       store_->ChainFiles(*checkpoints_.last(), ShardsOf(shard_map_.BackedUpBy(rank))));
    }
  }
  if (!checkpoints_.last() && phase_ != Phase::kRestoring) {
    // Its rows would start again from their initial values while every
    // other server keeps what it learned: a model silently missing part of
    // its training. Fail instead, saying what to change.
    const uint64_t trained = recovery_.RowsAtDeath(rank).value_or(TotalProgress().rows);
    if (trained > resumed_progress_.rows) {
      char why[400];
      std::snprintf(why, sizeof(why),
                    "server %u died before the job's first checkpoint: the rows it learned from %llu trained "
                    "rows cannot be restored, and starting them again from their initial values would "
                    "silently lose that training. Rerun the job; a first checkpoint comes "
                    "--first_checkpoint_s after training starts, and --replicas=2 loses nothing",
                    rank, static_cast<unsigned long long>(trained - resumed_progress_.rows));
      return DataLoss(why);
    }
  }
  recovery_.Restoring(node.id, rank);
  return SendTo(node, msg);
}

Status SchedulerCore::OnRestoreReply(Node& node, const wire::Message& msg) {
  const auto& r = std::get<wire::RestoreReplyMsg>(msg.body);
  const auto restored = recovery_.EndRestore(node.id);
  if (!restored) return Status::OK();
  const uint32_t rank = *restored;
  if (!r.ok) return DataLoss(Describe(node) + " could not restore its rows: " + r.error);
  char text[200];
  std::snprintf(text, sizeof(text), "%s restored %llu rows (%.1f MB) in %.2f s", Describe(node).c_str(),
                static_cast<unsigned long long>(r.rows), r.bytes / 1e6, r.seconds);
  LOG(INFO) << text;
  RecordEvent("restored", text);
  if (phase_ == Phase::kRestoring) return recovery_.AnyRestoring() ? Status::OK() : FinishRestorePhase();
  return OnReplacementRestored(node, rank);
}

Status SchedulerCore::FinishRestorePhase() {
  {
    // Every server has its rows: now the workers may start (their silence
    // while they waited for the map counts from now).
    for (auto& [id, n] : members_.all()) {
      if (n.role != wire::Role::kWorker) continue;
      n.last_seen = now_;
      RETURN_IF_ERROR(SendTo(n, wire::ShardMapMsg{shard_map_}));
    }
    phase_ = Phase::kTraining;
    train_start_ = last_report_ = now_;
    history_.StartTraining(train_start_, TotalProgress());
    partitions_at_start_ = partitions_->finished();
    last_reported_ = TotalProgress();
    checkpoint_schedule_.Taken(train_start_, TotalProgress().rows, partitions_->CurrentPass());
    RecordEvent("training", "cluster up after restore");
    if (options_.print_progress) {
      std::printf("embedps: cluster up (%u servers, %u workers); resumed training, %zu/%zu partitions done\n",
                  options_.num_servers, options_.num_workers, partitions_->finished(), partitions_->total());
      std::fflush(stdout);
    }
    return Status::OK();
  }
}

Status SchedulerCore::OnReplacementRestored(Node& node, uint32_t rank) {
  // A replacement: it serves now; tell everybody where the rank lives.
  node.standby = false;
  shard_map_ = shard_map_.WithServer(shard_map_.epoch() + 1, rank, node.endpoint, node.replica_endpoint);
  const auto handoff_dir = handoffs_.Finish(rank);
  const bool restored_from_handoff = handoff_dir.has_value();
  if (handoff_dir) {
    std::error_code ec;
    std::filesystem::remove_all(*handoff_dir, ec);
  }
  for (const auto& [id, n] : members_.all()) {
    if (!n.dead) RETURN_IF_ERROR(SendTo(n, wire::ShardMapMsg{shard_map_}));
  }
  const auto& last = checkpoints_.last();
  FailoverLedger::RestoredPoint point;
  point.lossless = restored_from_handoff;
  point.rows = last ? last->progress.rows : resumed_progress_.rows;
  point.since = last ? std::max(checkpoint_schedule_.last_time(), train_start_) : train_start_;
  const std::string source = restored_from_handoff ? "its neighbours' copy (--replicas=2)"
                             : last                ? "checkpoint " + std::to_string(last->id)
                                                   : "initial values";
  const FailoverLedger::Failover f = recovery_.Recovered(rank, now_, point, source);
  failover_seconds_->Set(f.seconds);
  failovers_->Add();
  // Deltas must not span the dead server's lost updates.
  checkpoints_.ForceFull();
  char line[400];
  std::snprintf(line, sizeof(line),
                "server %u is back (shard map epoch %llu), %.1f s after it died; restored from %s: %s", rank,
                static_cast<unsigned long long>(shard_map_.epoch()), f.seconds, source.c_str(),
                f.lost_rows == 0 ? "no update lost"
                               : ("the updates of " + std::to_string(f.lost_rows) + " trained rows (" +
                                  FormatSeconds(f.lost_seconds) + " s of training) to its rows are lost")
                                     .c_str());
  LOG(INFO) << line;
  RecordEvent("failover", line);
  if (options_.print_progress) {
    std::printf("embedps: %s\n", line);
    std::fflush(stdout);
  }
  return Status::OK();
}

Status SchedulerCore::OnNodeDead(Node& node, const std::string& cause) {
  node.dead = true;
  const std::string why = !cause.empty() ? cause
                                         : Describe(node) + " missed heartbeats for " +
                                               std::to_string(options_.node_timeout.count()) + " ms; presumed dead";
  LOG(ERROR) << why;
  RecordEvent("death", why);
  if (options_.checkpoint_dir.empty()) return Unavailable(why);
  if (options_.print_progress && cause.empty()) {
    std::printf("embedps: %s\n", why.c_str());
    std::fflush(stdout);
  }
  if (checkpoints_.running()) {
    if (node.role == wire::Role::kWorker) {
      checkpoints_.WorkerGone(node.id);
      RETURN_IF_ERROR(AdvanceCheckpoint());
    } else if (node.role == wire::Role::kServer && !node.standby) {
      AbandonCheckpoint(Describe(node) + " died");
    }
  }
  if (node.role == wire::Role::kWorker) {
    const size_t n = partitions_->Requeue(node.id);
    failovers_->Add();
    if (LiveWorkers() == 0) workers_gone_since_ = now_;
    LOG(INFO) << "requeued " << n << " lease(s) of " << Describe(node);
    // It may have been the last worker the job waited for (it died holding
    // no lease after the others finished): the job ends now, not never.
    return MaybeEndTraining();
  }
  const bool was_restoring = recovery_.EndRestore(node.id).has_value();
  if (was_restoring && phase_ == Phase::kRestoring) return Unavailable(Describe(node) + " died while restoring");
  // A standby held no rank; one promoted that died while restoring its
  // rank leaves that rank vacant again, for the next replacement (the
  // simulator found the rank otherwise waited forever, seed 640).
  if (node.standby && !was_restoring) return Status::OK();
  FailHandoffsWaitingOn(node);
  recovery_.Vacate(node.rank, node.last_seen, TotalProgress().rows, now_);
  if (shard_map_.replicas() > 1 && phase_ == Phase::kTraining) RETURN_IF_ERROR(StartHandoff(node.rank));
  return PromoteStandbys();
}

bool SchedulerCore::ReinstateStalledServer(Node& node) {
  if (node.standby || phase_ == Phase::kFinished || phase_ == Phase::kFailed) return false;
  // A replacement is restoring the rank, or the neighbours are writing its
  // rows for one (their forwarding is suspended until a new map): the
  // rank is no longer this process's.
  if (handoffs_.Involves(node.rank) || !recovery_.Reclaim(node.rank)) return false;
  node.dead = false;
  const double silent = Seconds(now_ - node.last_seen);
  char line[300];
  std::snprintf(line, sizeof(line),
                "%s was only stalled (silent for %.1f s) and speaks again: nobody took its place, so it "
                "serves its rank again with every row it had",
                Describe(node).c_str(), silent);
  LOG(WARNING) << line;
  RecordEvent("reinstated", line);
  if (options_.print_progress) {
    std::printf("embedps: %s\n", line);
    std::fflush(stdout);
  }
  return true;
}

Status SchedulerCore::OnServerLeaving(Node& node, uint64_t request_id) {
  const bool ending = stopping_ || final_checkpoint_ || phase_ != Phase::kTraining;
  if (ending || node.dead) return SendTo(node, wire::HeartbeatMsg{}, request_id);
  const std::string line = Describe(node) + " got SIGTERM and leaves the job; its rank goes to a replacement";
  if (options_.print_progress) {
    std::printf("embedps: %s\n", line.c_str());
    std::fflush(stdout);
  }
  if (options_.checkpoint_dir.empty()) {
    return Unavailable(line + "; without --checkpoint_dir its rows cannot be restored");
  }
  RETURN_IF_ERROR(OnNodeDead(node, line));
  SendToRouting(node.routing_id,
                wire::ErrorMsg{wire::ErrorCode::kReplaced, Describe(node) + " left on SIGTERM; its rank goes to a replacement",
                               false},
                request_id);
  return Status::OK();
}

std::string SchedulerCore::ReplacedReason(const Node& node) const {
  return Describe(node) + " was presumed dead (silent for more than " + std::to_string(options_.node_timeout.count()) +
         " ms) and its place was taken; this process must leave the job";
}

Status SchedulerCore::PromoteStandbys() {
  while (const auto vacant = recovery_.FirstVacant()) {
    if (handoffs_.Pending(*vacant)) return Status::OK();  // promoted once it is written
    Node* spare = members_.Spare([this](const Node& n) { return !recovery_.IsRestoring(n.id); });
    if (spare == nullptr) {
      LOG(WARNING) << "server " << *vacant
                   << " has no replacement yet; waiting for a standby or a restarted server";
      return Status::OK();
    }
    const uint32_t rank = recovery_.TakeVacant();
    LOG(INFO) << "promoting standby " << Describe(*spare) << " (" << spare->endpoint << ") to server " << rank;
    spare->rank = rank;
    // It learns the map with its own endpoint at `rank` now; everybody
    // else once its rows are restored.
    const ShardMap its_map = shard_map_.WithServer(shard_map_.epoch(), rank, spare->endpoint, spare->replica_endpoint);
    RETURN_IF_ERROR(SendTo(*spare, wire::ShardMapMsg{its_map}));
    RETURN_IF_ERROR(SendRestore(*spare, rank));
  }
  return Status::OK();
}

Status SchedulerCore::AdmitLate(Node& node, uint64_t /*request_id*/) {
  if (node.role == wire::Role::kWorker) {
    LOG(INFO) << "a new " << Describe(node) << " joins the running job";
    workers_gone_since_.reset();
    if (phase_ == Phase::kTraining) RETURN_IF_ERROR(SendTo(node, wire::ShardMapMsg{shard_map_}));
    return Status::OK();
  }
  // A server: a standby (its rank beyond the map) that gets the map now, so
  // it can serve once promoted.
  RETURN_IF_ERROR(SendTo(node, wire::ShardMapMsg{shard_map_}));
  return PromoteStandbys();
}

}  // namespace embedps::scheduler
