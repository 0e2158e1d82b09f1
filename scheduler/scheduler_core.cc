#include "scheduler/scheduler_core.h"

#include <algorithm>
#include <cstdio>
#include <filesystem>
#include <fstream>

#include <glog/logging.h>
#include <nlohmann/json.hpp>


namespace embedps::scheduler {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

}  // namespace

SchedulerCore::SchedulerCore(SchedulerOptions options, MetricsRegistry* metrics, StatusBoard* board,
                             CheckpointStore* store)
    : options_(std::move(options)),
      metrics_(metrics),
      store_(store),
      members_(options_.num_servers, options_.num_workers),
      board_(board),
      checkpoints_(store, {options_.full_checkpoint_every, options_.checkpoints_to_keep}),
      checkpoint_schedule_({options_.checkpoint_interval, options_.first_checkpoint_after,
                            options_.checkpoint_every_rows, options_.checkpoint_each_pass,
                            options_.checkpoint_min_gap}),
      handoffs_(options_.checkpoint_dir),
      evaluation_({options_.eval_every, options_.eval_every_rows, options_.eval_rows, options_.eval_timeout}),
      best_(options_.keep_best && !options_.model_dir.empty()) {
  malformed_ = metrics_->GetCounter("scheduler.malformed_messages");
  rejected_ = metrics_->GetCounter("scheduler.rejected_messages");
  metrics_->Describe("scheduler.malformed_messages", "Messages that could not be decoded");
  metrics_->Describe("scheduler.rejected_messages",
                     "Messages refused: another cluster, unknown node, refused registration");
  metrics_->SetConstLabels(NodeLabels(JobIdFromClusterId(options_.cluster_id), "scheduler", -1));
  checkpoints_written_ = metrics_->GetCounter("scheduler.checkpoints_written");
  checkpoint_failures_ = metrics_->GetCounter("scheduler.checkpoint_failures");
  failovers_ = metrics_->GetCounter("scheduler.failovers");
  checkpoint_age_ = metrics_->GetGauge("scheduler.last_checkpoint_age_seconds");
  checkpoint_seconds_ = metrics_->GetGauge("scheduler.last_checkpoint_seconds");
  checkpoint_pause_ = metrics_->GetGauge("scheduler.last_checkpoint_pause_seconds");
  failover_seconds_ = metrics_->GetGauge("scheduler.last_failover_seconds");
  min_clock_ = metrics_->GetGauge("scheduler.min_worker_clock");
  clock_spread_ = metrics_->GetGauge("scheduler.worker_clock_spread_batches");
  DescribeMetrics();
}

Status SchedulerCore::Setup() {
  if (options_.num_servers == 0 || options_.num_workers == 0) {
    return InvalidArgument("need at least one server and one worker");
  }
  // Without training files workers get no partitions (benchmarks, tests
  // that drive the servers directly).
  if (options_.passes == 0) return InvalidArgument("--passes must be >= 1");
  if (!options_.checkpoint_dir.empty() && store_ == nullptr) {
    owned_store_ = DirectoryCheckpointStore(options_.checkpoint_dir);
    store_ = owned_store_.get();
  }
  checkpoints_.set_store(store_);
  std::vector<Partition> all = options_.planned_partitions;
  if (all.empty() && !options_.train_files.empty()) {
    // Globs are expanded here; gzip files are one partition each.
    auto parts = PlanInputPartitions(options_.train_files,
                                     options_.num_workers * options_.partitions_per_worker);
    if (!parts.ok()) return parts.status().WithContext("training data");
    all = std::move(parts).value();
  }
  partitions_ = std::make_unique<PartitionQueue>(all, options_.passes, options_.shuffle_seed);
  plan_ = all;
  if (options_.resume_auto) {
    // Restarted jobs (Slurm requeues, pod restarts) resume when there is a
    // checkpoint and start fresh when there is none; a directory whose
    // checkpoints are all unusable fails in LoadResumePoint, never silently
    // starts over.
    options_.resume = !store_->List().empty();
    const std::string line = options_.resume ? "--resume=auto: resuming from " + options_.checkpoint_dir
                                             : "--resume=auto: no checkpoint in " + options_.checkpoint_dir +
                                                   "; starting a new job";
    LOG(INFO) << line;
    if (options_.print_progress) {
      std::printf("embedps: %s\n", line.c_str());
      std::fflush(stdout);
    }
  }
  if (options_.resume && !store_->Exists()) {
    return NotFound("--resume " + options_.checkpoint_dir + ": no such directory");
  }
  if (store_ != nullptr) RETURN_IF_ERROR(store_->Prepare());
  ASSIGN_OR_RETURN(shard_map_, ShardMap::Balanced(options_.num_servers,
                                                  options_.num_virtual_shards, 1));
  RETURN_IF_ERROR(shard_map_.SetReplication(options_.replicas, {}));
  if (options_.resume) {
    RETURN_IF_ERROR(LoadResumePoint());
  } else if (!options_.checkpoint_dir.empty()) {
    // An earlier job's checkpoints stay usable; this job's come after them,
    // so the newest checkpoint is always this job's.
    const std::vector<uint64_t> earlier = store_->List();
    if (!earlier.empty()) {
      checkpoints_.NumberAfter(earlier.back());
      LOG(INFO) << options_.checkpoint_dir << " holds checkpoints up to " << earlier.back()
                << " of an earlier job; this job's start at " << checkpoints_.next_id();
    }
  }
  return Status::OK();
}

Status SchedulerCore::Start(Clock::time_point now) {
  now_ = now;
  RETURN_IF_ERROR(Setup());
  started_ = last_report_ = now_;
  RecordEvent("start", "waiting for " + std::to_string(options_.num_servers) + " servers and " +
                           std::to_string(options_.num_workers) + " workers");
  return Status::OK();
}

Status SchedulerCore::OnMessage(const Inbound& in, Clock::time_point now) {
  now_ = std::max(now_, now);
  return Dispatch(in);
}

Status SchedulerCore::OnTick(Clock::time_point now) {
  now_ = std::max(now_, now);
  RETURN_IF_ERROR(CheckLiveness());
  RETURN_IF_ERROR(MaybeCheckpoint());
  RETURN_IF_ERROR(PublishMinClock());
  RETURN_IF_ERROR(MaybeEvaluate());
  if (phase_ == Phase::kTraining && !final_eval_asked_ && options_.print_progress &&
      now_ - last_report_ >= options_.progress_interval) {
    ReportProgress(false);
  }
  RefreshStatus(false);
  return Status::OK();
}

Status SchedulerCore::OnStopRequest(const std::string& reason, Clock::time_point now) {
  now_ = std::max(now_, now);
  return BeginStop(reason);
}

Status SchedulerCore::Finish(Status result, Clock::time_point now) {
  now_ = std::max(now_, now);
  if (!options_.checkpoint_dir.empty()) {
    // Abandoned checkpoints whose writer finished after they were given up.
    const size_t n = store_->RemoveIncomplete(checkpoints_.next_id());
    if (n > 0) LOG(INFO) << "removed " << n << " incomplete checkpoint directories";
  }
  if (!result.ok()) {
    LOG(ERROR) << "aborting job: " << result.message();
    phase_ = Phase::kFailed;
    failure_ = result.message();
    RecordEvent("failed", result.message());
    RefreshStatus(true);
    ShutdownAll(false, result.message());
    return result;
  }
  RecordEvent("finished", stopping_ ? "job stopped: " + stop_reason_ : "job finished");
  RefreshStatus(true);
  ShutdownAll(true, "job finished");
  RETURN_IF_ERROR(ApplyKeptModel());
  RETURN_IF_ERROR(WriteModelJson());
  return WriteStats();
}

Status SchedulerCore::Dispatch(const Inbound& in) {
  const std::string& from = in.from;
  if (!in.status.ok()) {
    const wire::ErrorCode code = wire::ErrorCodeForDecodeFailure(in.status);
    if (code == wire::ErrorCode::kVersionMismatch) {
      rejected_->Add();
      // Control traffic is sparse and a node refused this way gives up, so
      // every one is worth a line.
      LOG(ERROR) << "refused a message from " << in.peer_address << ": " << in.status.message();
    } else {
      malformed_->Add();
      LOG_EVERY_N(WARNING, 100) << "malformed message from " << in.peer_address << ": "
                                << in.status.message();
    }
    SendToRouting(from, wire::ErrorMsg{code, in.status.message(), false}, 0);
    return Status::OK();
  }
  const wire::Message& msg = in.message;
  if (msg.header.cluster_id != options_.cluster_id) {
    rejected_->Add();
    std::string who = "node " + std::to_string(msg.header.sender);
    if (auto* reg = std::get_if<wire::RegisterMsg>(&msg.body)) {
      who = std::string(wire::RoleName(reg->role)) + " (host " + reg->host + ", pid " +
            std::to_string(reg->pid) + ")";
    }
    LOG_EVERY_N(WARNING, 20) << "refused a " << wire::BodyName(msg.body) << " from " << who
                             << " at " << in.peer_address
                             << ": it belongs to another job (cluster id "
                             << msg.header.cluster_id << ", this job's is " << options_.cluster_id
                             << "; check --cluster_token)";
    SendToRouting(from,
                  wire::ErrorMsg{wire::ErrorCode::kWrongCluster,
                                 "this scheduler belongs to another cluster (token mismatch)",
                                 false},
                  msg.header.request_id);
    return Status::OK();
  }
  if (std::holds_alternative<wire::RegisterMsg>(msg.body)) {
    // A node rejoining a restarted scheduler has seen maps up to its
    // header's epoch: the maps this scheduler publishes must be newer, or
    // the nodes ignore them as stale (the simulator found epochs going back
    // after a restart that resumed from an older checkpoint, seed 111597).
    epoch_seen_ = std::max(epoch_seen_, msg.header.epoch);
    return OnRegister(from, in);
  }

  Node* known = members_.Find(msg.header.sender, from);
  if (known == nullptr) {
    rejected_->Add();
    SendToRouting(from, wire::ErrorMsg{wire::ErrorCode::kNotAdmitted, "unknown node; register first", false},
                  msg.header.request_id);
    return Status::OK();
  }
  Node& node = *known;
  if (node.dead && node.role == wire::Role::kWorker) {
    // Its leases went back to the queue when it was presumed dead. Left to
    // train on, it would take new leases that no death check covers any
    // more; told it is unknown, it registers again as a new worker.
    rejected_->Add();
    SendToRouting(from,
                  wire::ErrorMsg{wire::ErrorCode::kNotAdmitted,
                                 "this worker was presumed dead (missed heartbeats); register again", false},
                  msg.header.request_id);
    return Status::OK();
  }
  if (node.dead && node.role == wire::Role::kServer) {
    // A server presumed dead that was only stalled: it serves its rank
    // again if nobody took it, and is told to leave if somebody did.
    if (!ReinstateStalledServer(node)) {
      rejected_->Add();
      SendToRouting(from, wire::ErrorMsg{wire::ErrorCode::kReplaced, ReplacedReason(node), false},
                    msg.header.request_id);
      return Status::OK();
    }
    // Maps that went out while it was presumed dead passed it by: with
    // --replicas=2 it would forward to a replaced backup, or refuse every
    // push for good after a handoff (the simulator, seed 1486).
    RETURN_IF_ERROR(SendTo(node, wire::ShardMapMsg{shard_map_}));
  }
  node.last_seen = now_;
  if (auto* hb = std::get_if<wire::HeartbeatMsg>(&msg.body)) {
    // A heartbeat may repeat an older one (SchedulerLink::Call sends the last
    // one again while it waits): totals never go back.
    if (node.role == wire::Role::kWorker && !node.done && hb->progress.rows >= node.progress.rows) {
      node.progress = hb->progress;
      if (!node.dead) clocks_.Report(node.id, hb->progress.clock);
      if (hb->progress.lease_partition >= 0) {
        partitions_->UpdatePosition(node.id, static_cast<uint32_t>(hb->progress.lease_partition),
                                    hb->progress.lease_lines);
      }
    }
    if (node.role == wire::Role::kServer && hb->server) {
      node.server_stats = hb->server;
      if (hb->server->leaving) return OnServerLeaving(node, msg.header.request_id);
    }
    RETURN_IF_ERROR(SendTo(node, wire::HeartbeatMsg{}, msg.header.request_id));
    return CheckBadLines(false);
  }
  if (std::holds_alternative<wire::PartitionRequestMsg>(msg.body)) {
    RETURN_IF_ERROR(OnPartitionRequest(node, msg));
    return CheckBadLines(false);
  }
  if (std::holds_alternative<wire::ClockReportMsg>(msg.body)) return OnClockReport(node, msg);
  if (std::holds_alternative<wire::BarrierMsg>(msg.body)) return OnBarrier(node, msg);
  if (std::holds_alternative<wire::WorkerDoneMsg>(msg.body)) return OnWorkerDone(node, msg);
  if (std::holds_alternative<wire::ExportModelReplyMsg>(msg.body)) return OnExported(node, msg);
  if (std::holds_alternative<wire::PausedMsg>(msg.body)) return OnPaused(node, msg);
  if (std::holds_alternative<wire::CheckpointReplyMsg>(msg.body)) return OnCheckpointReply(node, msg);
  if (std::holds_alternative<wire::RestoreReplyMsg>(msg.body)) return OnRestoreReply(node, msg);
  if (std::holds_alternative<wire::HandoffReplyMsg>(msg.body)) return OnHandoffReply(node, msg);
  if (std::holds_alternative<wire::EvalResultMsg>(msg.body)) return OnEvalResult(node, msg);
  if (auto* err = std::get_if<wire::ErrorMsg>(&msg.body)) {
    if (err->fatal) {
      RecordEvent("error", Describe(node) + " failed: " + err->message);
      return Aborted(Describe(node) + " failed: " + err->message);
    }
    LOG(WARNING) << Describe(node) << " reported: " << err->message;
    return Status::OK();
  }
  rejected_->Add();
  return SendTo(node, wire::ErrorMsg{wire::ErrorCode::kMalformed,
                                     std::string("scheduler does not accept ") +
                                         wire::BodyName(msg.body),
                                     false},
                msg.header.request_id);
}

AdmissionRules SchedulerCore::Admission() const {
  AdmissionRules rules;
  const bool checkpoints = !options_.checkpoint_dir.empty();
  rules.gathering = phase_ == Phase::kAdmitting;
  // Once training began, only a job with checkpoints can use a newcomer (a
  // replacement, an extra worker), and not while it ends.
  rules.open = rules.gathering || (checkpoints && phase_ != Phase::kExporting && phase_ != Phase::kFinished);
  rules.spares = checkpoints;
  rules.rows_kept = rules.gathering && checkpoints_.last().has_value();
  return rules;
}

Status SchedulerCore::OnRegister(const std::string& from, const Inbound& in) {
  const wire::Message& msg = in.message;
  wire::RegisterMsg reg = std::get<wire::RegisterMsg>(msg.body);
  const AdmissionRules rules = Admission();
  if (reg.has_state && checkpoints_.last() && msg.header.epoch < checkpoints_.last()->shard_map_epoch) {
    // It never saw the map of the checkpoint this job resumes from: it was
    // presumed dead (stalled) before that cut and its rank failed over, so
    // its rows lack what the checkpoint holds. It restores the checkpoint
    // like a new server, and the server that took its rank, rejoining
    // with its rows while this scheduler gathers, claims the rank from it
    // (the simulator, seed 50288).
    LOG(INFO) << "server " << reg.previous_rank << " (" << reg.endpoint << ") rejoins with rows of map epoch "
              << msg.header.epoch << ", older than checkpoint " << checkpoints_.last()->id
              << "'s: its rows are not kept";
    reg.has_state = false;
  }
  const std::string refusal = members_.Refusal(reg, in.key_role, in.key_name, in.peer_address, rules);
  if (!refusal.empty()) {
    rejected_->Add();
    LOG(WARNING) << "refused " << wire::RoleName(reg.role) << " from " << reg.host << " pid "
                 << reg.pid << ": " << refusal;
    SendToRouting(from, wire::ErrorMsg{wire::ErrorCode::kNotAdmitted, refusal, false},
                  msg.header.request_id);
    return Status::OK();
  }
  if (auto dropped = members_.ClaimRank(reg, rules)) {
    SendToRouting(dropped->routing_id,
                  wire::ErrorMsg{wire::ErrorCode::kReplaced,
                                 "server " + std::to_string(reg.previous_rank) +
                                     " rejoined with its rows; start again as a spare",
                                 false},
                  0);
  }
  Node& node = members_.Admit(reg, from, rules, now_);
  const std::string where = reg.host + " pid " + std::to_string(reg.pid) +
                            (reg.endpoint.empty() ? "" : ", " + reg.endpoint) +
                            (reg.metrics_url.empty() ? "" : ", metrics " + reg.metrics_url) +
                            (in.key_name.empty() ? "" : ", CURVE key " + in.key_name);
  LOG(INFO) << "admitted " << Describe(node) << (node.standby ? " as a standby" : "") << " (" << where << ")";
  RecordEvent("join", Describe(node) + " joined (" + where + ")");
  RETURN_IF_ERROR(SendTo(node,
                         wire::RegisterReplyMsg{node.id, node.rank, options_.num_servers, options_.num_workers,
                                                static_cast<uint32_t>(options_.node_timeout.count())},
                         msg.header.request_id));
  if (phase_ != Phase::kAdmitting) return AdmitLate(node, msg.header.request_id);
  if (members_.AllJoined()) return StartTraining();
  return Status::OK();
}

Status SchedulerCore::StartTraining() {
  // Admitted nodes waited for the map without heartbeating (the join
  // timeout bounded that); their silence counts from now.
  members_.HeardAll(now_);
  if (epoch_seen_ >= shard_map_.epoch()) {
    ASSIGN_OR_RETURN(shard_map_, ShardMap::Balanced(options_.num_servers, options_.num_virtual_shards, epoch_seen_ + 1));
  }
  std::vector<std::string> endpoints(options_.num_servers);
  std::vector<std::string> replica_endpoints(options_.num_servers);
  for (const auto& [id, node] : members_.all()) {
    if (!IsServing(node)) continue;
    endpoints[node.rank] = node.endpoint;
    replica_endpoints[node.rank] = node.replica_endpoint;
  }
  shard_map_.set_endpoints(endpoints);
  if (options_.replicas > 1) {
    for (uint32_t r = 0; r < options_.num_servers; ++r) {
      if (replica_endpoints[r].empty()) {
        return FailedPrecondition("--replicas=2, but server " + std::to_string(r) +
                                  " did not say where its primary forwards pushes (an older embedps-server?)");
      }
    }
  }
  RETURN_IF_ERROR(shard_map_.SetReplication(options_.replicas, std::move(replica_endpoints)));
  if (checkpoints_.last() && phase_ == Phase::kAdmitting) {
    // --resume: the servers load their rows before any worker sees the map.
    phase_ = Phase::kRestoring;
    RecordEvent("restore", "servers restore checkpoint " + std::to_string(checkpoints_.last()->id));
    for (auto& [id, node] : members_.all()) {
      if (node.role != wire::Role::kServer) continue;
      RETURN_IF_ERROR(SendTo(node, wire::ShardMapMsg{shard_map_}));
      // A server that kept its rows through a scheduler restart has newer
      // rows than the checkpoint: it keeps them (the data since the
      // checkpoint is trained again: at least once, never lost).
      if (IsServing(node) && !node.has_state) RETURN_IF_ERROR(SendRestore(node, node.rank));
    }
    if (!recovery_.AnyRestoring()) return FinishRestorePhase();
    return Status::OK();
  }
  for (const auto& [id, node] : members_.all()) RETURN_IF_ERROR(SendTo(node, wire::ShardMapMsg{shard_map_}));
  phase_ = Phase::kTraining;
  checkpoint_schedule_.Taken(now_, TotalProgress().rows, partitions_->CurrentPass());
  train_start_ = last_report_ = now_;
  // Rates start from zero rows at this instant, so the first sample has one.
  history_.StartTraining(train_start_, TotalProgress());
  partitions_at_start_ = partitions_->finished();
  for (auto& [id, node] : members_.all()) node.rows_meter.Update(0, train_start_);
  RecordEvent("training", "cluster up; training on " + std::to_string(partitions_->total()) +
                              " partitions");
  if (!options_.print_progress) return Status::OK();
  std::printf("embedps: cluster up (%u servers, %u workers); training on %zu partitions\n",
              options_.num_servers, options_.num_workers, partitions_->total());
  std::fflush(stdout);
  return Status::OK();
}

Status SchedulerCore::OnPartitionRequest(Node& node, const wire::Message& msg) {
  const auto& req = std::get<wire::PartitionRequestMsg>(msg.body);
  if (node.role != wire::Role::kWorker) return Internal("a server asked for a partition");
  node.progress = req.progress;
  if (req.finished_partition >= 0 &&
      !partitions_->Finish(node.id, static_cast<uint32_t>(req.finished_partition), req.progress.lease_lines)) {
    LOG(WARNING) << Describe(node) << " finished partition " << req.finished_partition
                 << " it did not hold";
  }
  wire::PartitionGrantMsg grant;
  if (stopping_) {
    RETURN_IF_ERROR(SetWorkerActive(node, false));
    return SendTo(node, grant, msg.header.request_id);  // no more work
  }
  auto lease = partitions_->Acquire(node.id);
  RETURN_IF_ERROR(SetWorkerActive(node, lease.has_value()));
  if (lease) {
    grant.has_partition = true;
    grant.partition = lease->partition;
    grant.pass = lease->pass;
  } else if (partitions_->outstanding() > 0 && !options_.checkpoint_dir.empty()) {
    // Leases of other workers come back if those die: stay available.
    grant.wait_ms = 200;
  }
  return SendTo(node, grant, msg.header.request_id);
}

Status SchedulerCore::OnBarrier(Node& node, const wire::Message& msg) {
  const auto& name = std::get<wire::BarrierMsg>(msg.body).name;
  auto& waiting = barriers_[name];
  waiting[node.id] = msg.header.request_id;
  if (waiting.size() < options_.num_workers) return Status::OK();
  for (const auto& [id, request_id] : waiting) {
    RETURN_IF_ERROR(SendTo(*members_.Find(id), wire::BarrierReplyMsg{name}, request_id));
  }
  barriers_.erase(name);
  return Status::OK();
}

Status SchedulerCore::OnWorkerDone(Node& node, const wire::Message& msg) {
  const auto& done = std::get<wire::WorkerDoneMsg>(msg.body);
  node.progress = done.progress;
  node.done = true;
  // A worker leaving (SIGTERM) is gone: nothing may wait for it any more
  // (a checkpoint's pause, an evaluation).
  if (done.leaving) node.dead = true;
  clocks_.Remove(node.id);  // a finished worker holds nobody back
  if (node.progress.lease_partition >= 0) {
    // Where a worker that stopped or left mid-lease got to: the last line
    // whose pushes it saw acknowledged.
    partitions_->UpdatePosition(node.id, static_cast<uint32_t>(node.progress.lease_partition),
                                node.progress.lease_lines);
  }
  if (node.progress.lease_partition >= 0 && !stopping_) {
    // A worker leaving mid-lease (SIGTERM) hands it back; another worker
    // takes it up from there.
    const size_t n = partitions_->Requeue(node.id);
    const std::string line = Describe(node) + " left the job; " + std::to_string(n) +
                             " lease(s) go back to the queue, resuming after line " +
                             std::to_string(node.progress.lease_lines);
    LOG(INFO) << line;
    RecordEvent("left", line);
    if (options_.print_progress) {
      std::printf("embedps: %s\n", line.c_str());
      std::fflush(stdout);
    }
    if (LiveWorkers() == 0) workers_gone_since_ = now_;
  }
  LOG(INFO) << Describe(node) << " finished: " << node.progress.rows << " rows";
  RecordEvent("done", Describe(node) + " finished: " + std::to_string(node.progress.rows) + " rows");
  return MaybeEndTraining();
}

Status SchedulerCore::MaybeEndTraining() {
  if (phase_ != Phase::kTraining) return Status::OK();
  for (const auto& [id, n] : members_.all()) {
    if (n.role == wire::Role::kWorker && !n.done && !n.dead) return Status::OK();
  }
  // Work given back by a dead worker waits for a live one.
  if (partitions_->finished() < partitions_->total() && !stopping_) return Status::OK();
  if (final_checkpoint_ || final_eval_asked_) return Status::OK();
  // A checkpoint whose servers already cut goes on (they are writing it,
  // and would refuse the final one meanwhile); the final checkpoint follows
  // it. One still pausing workers that have all finished is given up.
  if (checkpoints_.stage() == CheckpointRunner::Stage::kPausing) AbandonCheckpoint("training ended", /*failed=*/false);
  train_end_ = now_;
  SampleHistory(train_end_, /*force=*/true);  // the last point of the plots
  RETURN_IF_ERROR(CheckBadLines(true));
  if (options_.print_progress) ReportProgress(true);
  if (EvalEnabled()) {
    final_eval_asked_ = true;
    // A periodic evaluation still running is superseded by the final one.
    if (RequestFinalEvaluation()) return Status::OK();
  }
  return EndTraining();
}

Status SchedulerCore::EndTraining() {
  if (!options_.checkpoint_dir.empty()) {
    // The trained state, checkpointed: a job resumed from it has nothing
    // left to train and exports exactly this model.
    final_checkpoint_ = true;
    return MaybeCheckpoint();
  }
  return StartExport();
}

Status SchedulerCore::StartExport() {
  if (options_.model_dir.empty()) {
    phase_ = Phase::kFinished;
    return Status::OK();
  }
  phase_ = Phase::kExporting;
  RecordEvent("export", "servers export the model to " + options_.model_dir);
  for (const auto& [id, n] : members_.all()) {
    if (IsServing(n)) RETURN_IF_ERROR(SendTo(n, wire::ExportModelMsg{options_.model_dir}));
  }
  return Status::OK();
}

Status SchedulerCore::OnExported(Node& node, const wire::Message& msg) {
  const auto& reply = std::get<wire::ExportModelReplyMsg>(msg.body);
  // A --keep_best snapshot (written to MODEL_DIR/best-N/), not the export.
  const std::string snapshots = options_.model_dir + "/best-";
  if (reply.path.rfind(snapshots, 0) == 0) {
    const std::string name = reply.path.substr(options_.model_dir.size() + 1,
                                               reply.path.find('/', snapshots.size()) - options_.model_dir.size() - 1);
    best_.SnapshotWritten(name);
    return Status::OK();
  }
  LOG(INFO) << Describe(node) << " exported " << reply.rows << " rows";
  RecordEvent("exported", Describe(node) + " exported " + std::to_string(reply.rows) + " rows");
  node.done = true;
  for (const auto& [id, n] : members_.all()) {
    if (IsServing(n) && !n.done) return Status::OK();
  }
  phase_ = Phase::kFinished;
  return Status::OK();
}

Status SchedulerCore::CheckLiveness() {
  const auto now = now_;
  if (phase_ == Phase::kAdmitting) {
    if (now - started_ > options_.join_timeout) {
      return DeadlineExceeded("only " + std::to_string(members_.servers_joined()) + "/" +
                              std::to_string(options_.num_servers) + " servers and " +
                              std::to_string(members_.workers_joined()) + "/" +
                              std::to_string(options_.num_workers) + " workers joined within " +
                              std::to_string(options_.join_timeout.count()) + " ms");
    }
    // Admitted nodes wait for the shard map without heartbeating; the join
    // timeout above bounds this phase.
    return Status::OK();
  }
  if (phase_ == Phase::kExporting) {
    // Servers write their rows on their main thread and cannot heartbeat
    // meanwhile; the export has its own deadline instead.
    if (now - train_end_ > options_.export_timeout) {
      return DeadlineExceeded("servers did not finish exporting the model within " +
                              std::to_string(options_.export_timeout.count()) + " ms");
    }
    return Status::OK();
  }
  // While servers restore (--resume), workers wait for the map without
  // heartbeating; the restore's own failure handling bounds that.
  for (uint32_t id : members_.Silent(now, options_.node_timeout, /*workers_wait=*/phase_ == Phase::kRestoring)) {
    Node& node = *members_.Find(id);
    if (node.dead) continue;  // an earlier death's handling already dealt with it
    RETURN_IF_ERROR(OnNodeDead(node));
    clocks_.Remove(node.id);  // a dead worker holds nobody back
  }
  if (const auto overdue = recovery_.Overdue(now, options_.recovery_timeout)) {
    return Unavailable("no replacement for server " + std::to_string(*overdue) + " within " +
                       std::to_string(options_.recovery_timeout.count()) +
                       " ms (start a standby with --standby_servers, or restart it)");
  }
  if (workers_gone_since_ && phase_ == Phase::kTraining && LiveWorkers() == 0 && !stopping_ &&
      partitions_->finished() < partitions_->total() && now - *workers_gone_since_ > options_.recovery_timeout) {
    return Unavailable("every worker is dead and none rejoined within " +
                       std::to_string(options_.recovery_timeout.count()) + " ms");
  }
  if (checkpoints_.running() && now - checkpoints_.started() > options_.checkpoint_timeout) {
    AbandonCheckpoint("not complete within " + std::to_string(options_.checkpoint_timeout.count()) + " ms");
  }
  return Status::OK();
}

Status SchedulerCore::CheckBadLines(bool final_check) const {
  const wire::Progress total = TotalProgress();
  if (total.lines_read == 0) return Status::OK();
  if (!final_check && total.lines_read < options_.min_lines_for_bad_check) return Status::OK();
  const double fraction = static_cast<double>(total.bad_lines) / total.lines_read;
  if (fraction <= options_.max_bad_line_fraction) return Status::OK();
  std::string files;
  for (const auto& f : options_.train_files) files += (files.empty() ? "" : ", ") + f;
  char buf[160];
  std::snprintf(buf, sizeof(buf), "%.2f%%, which exceeds --max_bad_line_fraction=%g)",
                100.0 * fraction, options_.max_bad_line_fraction);
  // The first bad line each worker read (up to three), so the console
  // says why without a trip to the worker logs.
  std::string examples;
  int shown = 0;
  for (const auto& [id, node] : members_.all()) {
    if (node.role != wire::Role::kWorker || node.progress.first_bad_line.empty() || shown == 3) continue;
    examples += (shown++ == 0 ? "; first bad lines: " : "; ") + node.progress.first_bad_line;
  }
  return InvalidArgument("training data " + files + ": " + std::to_string(total.bad_lines) + " of " +
                         std::to_string(total.lines_read) + " lines malformed (" + buf + examples +
                         "; the worker logs have more");
}

wire::Progress SchedulerCore::TotalProgress() const {
  wire::Progress total = resumed_progress_;
  for (const auto& [id, node] : members_.all()) {
    if (node.role != wire::Role::kWorker) continue;
    total.rows += node.progress.rows;
    total.loss_sum += node.progress.loss_sum;
    total.lines_read += node.progress.lines_read;
    total.bad_lines += node.progress.bad_lines;
    total.skipped_lines += node.progress.skipped_lines;
    total.dense_pulls += node.progress.dense_pulls;
  }
  return total;
}

uint64_t SchedulerCore::TrainedRows() const {
  // Lines whose pushes were acknowledged, once per pass, less the malformed
  // ones, headers and blank lines the workers skipped.
  const uint64_t lines = partitions_ ? partitions_->TrainedLines() : 0;
  const wire::Progress total = TotalProgress();
  const uint64_t not_rows = total.bad_lines + total.skipped_lines;
  return lines > not_rows ? lines - not_rows : 0;
}

double SchedulerCore::RowsPerSecond(const wire::Progress& total, double seconds) const {
  // Rows trained before a --resume were not trained in these seconds.
  return seconds > 0 ? (total.rows - std::min(total.rows, resumed_progress_.rows)) / seconds : 0.0;
}

std::string SchedulerCore::LossName() const {
  // The model's objective (model.json's spec; worker::ObjectiveLossName):
  // rating models minimise squared error, click models log loss. A job
  // started without a model description is taken for a click model.
  const nlohmann::json& info = options_.model_info;
  const bool rating = info.is_object() && info.contains("spec") && info["spec"].is_object() &&
                      info["spec"].value("objective", "binary") == "rating";
  return rating ? "squared_error" : "logloss";
}

std::string SchedulerCore::LossWords() const {
  std::string words = LossName();
  std::replace(words.begin(), words.end(), '_', ' ');
  return words;
}

std::string SchedulerCore::DoneAndEta(double elapsed) const {
  const size_t total = partitions_->total(), done = partitions_->finished();
  if (total == 0) return "";
  char text[96];
  const int percent = static_cast<int>(100.0 * done / total);
  // The rate of this run (a resumed job's earlier partitions took no time
  // of it); partitions are of similar size (PlanPartitions).
  const size_t done_here = done - std::min(done, partitions_at_start_);
  if (done_here == 0 || done == total || elapsed <= 0) {
    std::snprintf(text, sizeof(text), " (%d%%)", percent);
    return text;
  }
  const double eta = elapsed * static_cast<double>(total - done) / static_cast<double>(done_here);
  std::snprintf(text, sizeof(text), " (%d%%, about %.0f s to go)", percent, eta);
  return text;
}

void SchedulerCore::ReportProgress(bool final_report) {
  const auto now = now_;
  const wire::Progress total = TotalProgress();
  const double elapsed = Seconds((final_report ? train_end_ : now) - train_start_);
  const uint64_t rows = total.rows - last_reported_.rows;
  const double loss = rows > 0 ? (total.loss_sum - last_reported_.loss_sum) / rows : 0.0;
  if (final_report) {
    const uint64_t trained = TrainedRows();
    const uint64_t again = total.rows > trained ? total.rows - trained : 0;
    std::printf("embedps: trained %llu rows in %.1f s (%.0f rows/s), mean train %s %.4f, "
                "%llu bad lines skipped%s\n",
                static_cast<unsigned long long>(trained), elapsed, RowsPerSecond(total, elapsed),
                LossWords().c_str(), total.rows > 0 ? total.loss_sum / total.rows : 0.0,
                static_cast<unsigned long long>(total.bad_lines),
                again == 0 ? "" : ("; " + std::to_string(again) + " rows trained again after failures").c_str());
  } else {
    // No loss for an interval without rows (a stall, a failover): a 0.0000
    // there would read as a perfect model.
    char loss_text[64];
    if (rows > 0) {
      std::snprintf(loss_text, sizeof(loss_text), "%s %.4f (last %.0f s)", LossWords().c_str(), loss,
                    Seconds(now - last_report_));
    } else {
      std::snprintf(loss_text, sizeof(loss_text), "no rows trained in the last %.0f s", Seconds(now - last_report_));
    }
    std::printf("progress: %llu rows, %.0f rows/s, %s, partitions %zu/%zu%s\n",
                static_cast<unsigned long long>(total.rows), RowsPerSecond(total, elapsed), loss_text,
                partitions_->finished(), partitions_->total(), DoneAndEta(elapsed).c_str());
  }
  std::fflush(stdout);
  last_report_ = now;
  last_reported_ = total;
}

Status SchedulerCore::SendTo(const Node& node, const wire::Body& body, uint64_t request_id) {
  SendToRouting(node.routing_id, body, request_id);
  return Status::OK();
}

void SchedulerCore::SendToRouting(const std::string& routing_id, const wire::Body& body,
                              uint64_t request_id) {
  wire::Header h;
  h.cluster_id = options_.cluster_id;
  h.sender = 0;
  // Messages the scheduler sends on its own (shard maps, evaluation and
  // checkpoint requests) take ids with the top bit set: a node counts its
  // requests from 1, so such a message can never pass for the reply to the
  // node's pending request (an EvaluateMsg once did, as a partition grant).
  constexpr uint64_t kUnsolicited = uint64_t{1} << 63;
  h.request_id = request_id != 0 ? request_id : (kUnsolicited | ++request_id_);
  h.epoch = shard_map_.epoch();
  outbox_.push_back({routing_id, h, body});
}

void SchedulerCore::ShutdownAll(bool ok, const std::string& reason) {
  // Nodes presumed dead too: one that was only stalled must not outlive
  // the job and fail it later by timing out.
  for (const auto& [id, node] : members_.all()) (void)SendTo(node, wire::ShutdownMsg{ok, reason});
}

Status SchedulerCore::WriteStats() const {
  if (options_.stats_json.empty()) return Status::OK();
  std::ofstream out(options_.stats_json);
  out << StatsJson().dump(2) << "\n";
  if (!out) return Unavailable("cannot write " + options_.stats_json);
  return Status::OK();
}

void SchedulerCore::CopySideFiles(nlohmann::json* model_info) const {
  if (!model_info->contains("side_files")) return;
  for (nlohmann::json& f : (*model_info)["side_files"]) {
    const std::string source = f.value("source", ""), name = f.value("file", "");
    if (name.empty() || name.find('/') != std::string::npos) continue;
    std::error_code ec;
    std::filesystem::copy_file(source, options_.model_dir + "/" + name,
                               std::filesystem::copy_options::overwrite_existing, ec);
    if (ec) {
      // The model then says it lacks them, and scoring it asks for them.
      LOG(WARNING) << "side file " << source << " not copied into the model: " << ec.message();
      f["file"] = "";
    }
  }
}

Status SchedulerCore::ApplyKeptModel() {
  if (!best_.enabled()) return Status::OK();
  namespace fs = std::filesystem;
  std::error_code ec;
  if (!fs::is_directory(options_.model_dir, ec)) {
    LOG(WARNING) << "--keep_best: --model_dir " << options_.model_dir << " is not on this host; the final model stays";
    return Status::OK();
  }
  if (const auto kept = best_.Kept()) {
    // The export's tables give way to the snapshot's (same file names).
    const std::string from = options_.model_dir + "/" + *kept;
    for (const auto& entry : fs::directory_iterator(options_.model_dir, ec)) {
      if (entry.path().extension() == ".epsmodel") fs::remove(entry.path(), ec);
    }
    for (const auto& entry : fs::directory_iterator(from, ec)) {
      fs::copy_file(entry.path(), options_.model_dir + "/" + entry.path().filename().string(),
                    fs::copy_options::overwrite_existing, ec);
      if (ec) return Unavailable("--keep_best: cannot copy " + entry.path().string() + ": " + ec.message());
    }
    const nlohmann::json j = best_.Json();
    const std::string line = "kept the model of the evaluation after " +
                             std::to_string(j["best_eval"]["rows"].get<uint64_t>()) +
                             " rows: it beat the final one (--keep_best)";
    LOG(INFO) << line;
    RecordEvent("export", line);
    if (options_.print_progress) {
      std::printf("embedps: %s\n", line.c_str());
      std::fflush(stdout);
    }
  }
  for (const auto& entry : fs::directory_iterator(options_.model_dir, ec)) {
    if (entry.is_directory() && entry.path().filename().string().rfind("best-", 0) == 0) fs::remove_all(entry.path(), ec);
  }
  return Status::OK();
}

Status SchedulerCore::WriteModelJson() const {
  if (options_.model_info.is_null() || options_.model_dir.empty()) return Status::OK();
  std::error_code ec;
  if (!std::filesystem::is_directory(options_.model_dir, ec)) {
    // The servers exported on their own hosts, which this one does not
    // share: the model is there, its description can be written later
    // (`embedps node-flags --role=scheduler` prints it).
    LOG(WARNING) << "model.json not written: --model_dir " << options_.model_dir << " is not on this host";
    return Status::OK();
  }
  nlohmann::json j = options_.model_info;
  j["training"] = StatsJson();
  CopySideFiles(&j);
  const std::string path = options_.model_dir + "/model.json", tmp = path + ".tmp";
  {
    std::ofstream out(tmp);
    out << j.dump(2) << "\n";
    if (!out.flush()) {
      std::remove(tmp.c_str());
      return Unavailable("cannot write " + tmp + " (is --model_dir on this host, e.g. shared storage?)");
    }
  }
  if (std::rename(tmp.c_str(), path.c_str()) != 0) {
    std::remove(tmp.c_str());
    return Unavailable("cannot rename " + tmp + " to " + path);
  }
  LOG(INFO) << "wrote " << path;
  return Status::OK();
}

nlohmann::json SchedulerCore::StatsJson() const {
  const wire::Progress total = TotalProgress();
  const double seconds = Seconds(train_end_ - train_start_);
  nlohmann::json j;
  const uint64_t rows = TrainedRows();
  j["rows"] = rows;
  // Rows the workers trained beyond those: lines trained again after a
  // failure (at least once, docs/fault-tolerance.md).
  j["rows_retrained"] = total.rows > rows ? total.rows - rows : 0;
  j["train_seconds"] = seconds;
  j["rows_per_sec"] = RowsPerSecond(total, seconds);
  const double mean_loss = total.rows > 0 ? total.loss_sum / total.rows : 0.0;
  j["loss"] = LossName();
  j["train_loss"] = mean_loss;
  if (LossName() == "logloss") j["train_logloss"] = mean_loss;  // the name before the loss was named
  j["lines_read"] = total.lines_read;
  j["bad_lines"] = total.bad_lines;
  j["dense_pulls"] = total.dense_pulls;
  if (EvalEnabled()) j["evals"] = evaluation_.results();
  if (best_.enabled()) j["keep_best"] = best_.Json();
  j["servers"] = options_.num_servers;
  j["workers"] = options_.num_workers;
  j["passes"] = options_.passes;
  j["stopped"] = stopping_;
  j["checkpoints_written"] = checkpoints_written_->Get();
  j["checkpoint_failures"] = checkpoint_failure_log_.size();
  j["checkpoint_failure_details"] = checkpoint_failure_log_;
  j["failovers"] = failovers_->Get();
  j["failover_details"] = recovery_.log();
  j["lost_rows"] = recovery_.lost_rows();
  j["lost_training_seconds"] = recovery_.lost_seconds();
  // Line ranges trained per partition (ids unique across passes): a worker
  // that died leaves a range its successor continues.
  j["trained_ranges"] = partitions_->ToJson()["trained"];
  // The partitions of one pass; pass p's copy of partition i has id
  // p * partition_plan.size() + i.
  nlohmann::json plan = nlohmann::json::array();
  for (const Partition& p : plan_) {
    plan.push_back({{"id", p.id}, {"file", p.file}, {"begin", p.begin}, {"end", p.end}});
  }
  j["partition_plan"] = plan;
  if (stopping_) j["stop_reason"] = stop_reason_;
  return j;
}

Status SchedulerCore::BeginStop(const std::string& reason) {
  LOG(INFO) << "stop requested: " << reason;
  RecordEvent("stop", "stop requested: " + reason);
  if (phase_ == Phase::kAdmitting) return Aborted("job stopped before training began: " + reason);
  if (phase_ != Phase::kTraining || stopping_) return Status::OK();  // already ending
  stopping_ = true;
  stop_reason_ = reason;
  if (options_.print_progress) {
    std::printf("embedps: stop requested (%s); workers finish their current batch\n", reason.c_str());
    std::fflush(stdout);
  }
  for (const auto& [id, node] : members_.all()) {
    if (node.role == wire::Role::kWorker && !node.done) {
      RETURN_IF_ERROR(SendTo(node, wire::StopTrainingMsg{reason}));
    }
  }
  // Every worker may have left already (each got the same SIGTERM).
  return MaybeEndTraining();
}

std::string SchedulerCore::Describe(const Node& node) const {
  return std::string(wire::RoleName(node.role)) + " " + std::to_string(node.rank);
}

}  // namespace embedps::scheduler
