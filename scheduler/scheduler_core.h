// The scheduler's protocol, without I/O: it admits nodes and assigns ranks,
// publishes the shard map, leases data partitions to workers, runs
// barriers, watches heartbeats, drives checkpoints and failover, prints job
// progress, and ends the job by having the servers export the model and
// then shutting every node down. It also keeps the job's status (nodes,
// health, progress, a throughput/loss history, events) for GET /status and
// its metrics, and honours stop requests.
//
// It owns no socket and reads no clock: the shell (scheduler/scheduler.h)
// or the simulator (sim/) hands it each decoded message and a tick, with
// the time, and sends what it leaves in its outbox. So the same code runs a
// real job and thousands of simulated ones.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <set>
#include <string>
#include <utility>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/metrics.h"
#include "common/rate_meter.h"
#include "common/security/curve_keys.h"
#include "common/shard_map.h"
#include "common/status.h"
#include "common/transport.h"
#include "scheduler/checkpoint_runner.h"
#include "scheduler/checkpoint_schedule.h"
#include "scheduler/checkpoint_store.h"
#include "scheduler/clock_tracker.h"
#include "scheduler/best_model_keeper.h"
#include "scheduler/eval_coordinator.h"
#include "scheduler/failover_ledger.h"
#include "scheduler/handoff_tracker.h"
#include "scheduler/job_history.h"
#include "scheduler/manifest.h"
#include "scheduler/membership.h"
#include "scheduler/partition_queue.h"
#include "scheduler/status_board.h"

namespace embedps::scheduler {

struct SchedulerOptions {
  std::string bind_endpoint = "tcp://127.0.0.1:0";
  // When set, the bound endpoint is written here (atomically) once listening.
  std::string endpoint_file;
  uint64_t cluster_id = 0;
  uint32_t num_servers = 1;
  uint32_t num_workers = 1;
  uint32_t num_virtual_shards = kDefaultVirtualShards;
  // 2: each server's rows are copied on the next server, which hands them
  // to a dead server's replacement (docs/fault-tolerance.md).
  uint32_t replicas = 1;
  // Files or glob patterns whose partitions are leased to workers; may be
  // empty.
  std::vector<std::string> train_files;
  // One pass's partitions, when given: used instead of planning them from
  // train_files (the simulator's jobs have no files).
  std::vector<Partition> planned_partitions;
  uint32_t partitions_per_worker = 4;
  uint32_t passes = 1;
  // Non-zero: each pass hands out the partitions in a random order.
  uint64_t shuffle_seed = 0;
  // Servers export their rows here at the end; empty: no export.
  std::string model_dir;
  // model.json without its training figures (the launchers' --model_info):
  // after the export the scheduler adds the job's statistics and writes
  // MODEL_DIR/model.json, so a model trained by any launcher, or by daemons
  // started by hand, can be evaluated, served and exported. Empty: none.
  nlohmann::json model_info;
  // The launcher's description of the job's settings (--job_config), for
  // /status; may be null.
  nlohmann::json job_config;
  // Job statistics (rows, seconds, rows/s, training loss) are written here.
  std::string stats_json;
  // The job fails when more than this fraction of all lines read so far is
  // malformed (checked once min_lines_for_bad_check lines were read, and at
  // the end).
  double max_bad_line_fraction = 0.01;
  uint64_t min_lines_for_bad_check = 1000;
  std::chrono::milliseconds node_timeout{15000};  // missed heartbeats => dead
  std::chrono::milliseconds join_timeout{120000};
  // How long the servers may take to export the model at the end.
  std::chrono::milliseconds export_timeout{600000};
  std::chrono::milliseconds progress_interval{2000};
  // Print job progress and the final summary to stdout.
  bool print_progress = true;
  wire::DecodeLimits limits;
  // Shown on /status and the dashboard.
  std::string job_name = "embedps";
  // This scheduler's own HTTP endpoint (the dashboard), or "".
  std::string http_url;
  // How often the status and metrics are refreshed.
  std::chrono::milliseconds status_interval{250};
  // CURVE keys (cluster keypair and allow-list); disabled when empty.
  security::CurveConfig curve;

  // Checkpoints (see docs/fault-tolerance.md). Empty: none, and a dead
  // server fails the job.
  std::string checkpoint_dir;
  std::chrono::milliseconds checkpoint_interval{0};  // 0: not by time
  // The first checkpoint of a run comes this long after training starts
  // (if no other trigger came first): a server that dies before it fails
  // the job. 0: no early first checkpoint.
  std::chrono::milliseconds first_checkpoint_after{5000};
  uint64_t checkpoint_every_rows = 0;                // 0: not by rows trained
  bool checkpoint_each_pass = true;                  // at the end of every pass
  // Pass-end and row-count checkpoints come at least this far apart, so a
  // job of many tiny passes does not checkpoint constantly.
  std::chrono::milliseconds checkpoint_min_gap{5000};
  uint32_t checkpoints_to_keep = 3;
  // Every Nth checkpoint is full, the others deltas; 1: always full.
  uint32_t full_checkpoint_every = 4;
  std::chrono::milliseconds checkpoint_timeout{300000};
  // Start from the newest usable checkpoint in checkpoint_dir.
  bool resume = false;
  // Resume when checkpoint_dir holds a checkpoint, start fresh otherwise
  // (--resume=auto, for jobs that a manager restarts).
  bool resume_auto = false;
  // How long the job waits for a replacement (a standby or a restarted
  // process) when a server or every worker is gone.
  std::chrono::milliseconds recovery_timeout{120000};

  // Periodic evaluation (scheduler_eval.cc): every eval_every and/or every
  // eval_every_rows rows trained, and once after training, one worker scores
  // its --eval_test files against the servers' rows; at most eval_rows test
  // rows during training (0: all), all of them at the end. Off when both
  // intervals are 0.
  std::chrono::milliseconds eval_every{0};
  uint64_t eval_every_rows = 0;
  uint64_t eval_rows = 0;
  // A request unanswered this long is given up (the export waits at most
  // this long for the final one).
  std::chrono::milliseconds eval_timeout{600000};
  // --keep_best: snapshot the servers' rows at each best evaluation and
  // export the best snapshot when the final evaluation is worse
  // (best_model_keeper.h).
  bool keep_best = false;
};

// A decoded message as the scheduler's socket received it.
struct Inbound {
  std::string from;  // the sender's routing id
  // The sender's IP address, and with CURVE the name of its key and the
  // role that key admits (empty without CURVE), for logs and admission.
  std::string peer_address;
  std::string key_name;
  std::string key_role;
  Status status;  // not OK: the message could not be decoded
  wire::Message message;
};

// A message for the shell to send.
struct Outgoing {
  std::string to;  // routing id
  wire::Header header;
  wire::Body body;
};

class SchedulerCore {
 public:
  // `metrics`, `board` and `store` are borrowed and must outlive the core;
  // `board` may be null (no status); `store` null: the directory
  // options.checkpoint_dir (when checkpoints are on).
  SchedulerCore(SchedulerOptions options, MetricsRegistry* metrics, StatusBoard* board = nullptr,
                CheckpointStore* store = nullptr);

  // Plans partitions and loads the resume point. Call once, first.
  Status Start(Clock::time_point now);
  // Where nodes reach the scheduler (shown on /status).
  void SetEndpoint(std::string endpoint) { endpoint_ = std::move(endpoint); }
  const SchedulerOptions& options() const { return options_; }

  // One decoded message. An error ends the job (pass it to Finish).
  Status OnMessage(const Inbound& in, Clock::time_point now);
  // Timers: liveness, checkpoint and evaluation triggers, progress lines,
  // status. Call often (the shell: every 50 ms at most).
  Status OnTick(Clock::time_point now);
  // A stop request (POST /stop, SIGTERM): checkpoint, export, end.
  Status OnStopRequest(const std::string& reason, Clock::time_point now);
  // POST /checkpoint: one is taken at the next tick.
  void RequestCheckpoint() { checkpoint_schedule_.Request(); }

  bool finished() const { return phase_ == Phase::kFinished; }
  // Ends the job with `result` (OK, or why it failed): shuts every node
  // down, writes model.json and the statistics. Returns the job's outcome.
  Status Finish(Status result, Clock::time_point now);

  // Messages to send, oldest first; the core forgets them.
  std::vector<Outgoing> TakeOutbox() { return std::exchange(outbox_, {}); }

  // For invariant checks (the simulator) and tests.
  const PartitionQueue* partitions() const { return partitions_.get(); }
  const ShardMap& shard_map() const { return shard_map_; }
  const std::optional<Manifest>& last_checkpoint() const { return checkpoints_.last(); }
  const ClockTracker& clocks() const { return clocks_; }
  // Also hands every job event (the /status events) to `sink` (the
  // simulator's trace).
  void SetEventSink(std::function<void(const std::string& kind, const std::string& text)> sink) {
    event_sink_ = std::move(sink);
  }
  // Whether node `id` is presumed dead (or has left).
  bool NodePresumedDead(uint32_t id) const {
    const Node* node = members_.Find(id);
    return node != nullptr && node->dead;
  }
  nlohmann::json StatsJson() const;

 private:
  enum class Phase { kAdmitting, kRestoring, kTraining, kExporting, kFinished, kFailed };

  Status Setup();
  Status Dispatch(const Inbound& in);
  Status OnRegister(const std::string& from, const Inbound& in);
  // What registration may do now (membership.h).
  AdmissionRules Admission() const;
  Status OnPartitionRequest(Node& node, const wire::Message& msg);
  Status OnBarrier(Node& node, const wire::Message& msg);
  Status OnWorkerDone(Node& node, const wire::Message& msg);
  // Ends training once no live worker trains and the work is done (or the
  // job is stopping): the final evaluation, checkpoint and export follow.
  Status MaybeEndTraining();
  Status OnExported(Node& node, const wire::Message& msg);
  Status StartExport();

  // Checkpoints (scheduler_checkpoint.cc).
  // Starts one when a trigger fired (time, rows, pass end, on demand).
  Status MaybeCheckpoint();
  Status BeginCheckpoint(const std::string& reason);
  // Takes the running checkpoint to its next stage when it is ready for it
  // (after a pause, a reply, a death): cut, resume, finish.
  Status AdvanceCheckpoint();
  Status OnPaused(Node& node, const wire::Message& msg);
  Status OnCheckpointReply(Node& node, const wire::Message& msg);
  // Gives up the running checkpoint (a node died, a server failed to write,
  // too slow): resumes paused workers; the previous checkpoint stays.
  // `failed`: counted and reported as a failed checkpoint (not when it was
  // simply overtaken, as by the end of training).
  void AbandonCheckpoint(const std::string& why, bool failed = true);
  // Serving servers' ids, and sending a coordinator's messages.
  std::vector<uint32_t> ServingIds() const;
  void SendAll(const std::vector<NodeMessage>& messages);
  nlohmann::json JobConfigJson() const;
  nlohmann::json LastCheckpointJson() const;

  // Bounded staleness (scheduler_ssp.cc).
  Status OnClockReport(Node& node, const wire::Message& msg);
  // Counts the worker in the minimum clock while it holds a lease; a worker
  // that starts one below the minimum is told to jump to it.
  Status SetWorkerActive(const Node& node, bool active);
  // Sends the minimum clock to the subscribed workers when it advanced.
  Status PublishMinClock();

  // Recovery (scheduler_recovery.cc).
  // Loads the newest usable checkpoint for --resume.
  Status LoadResumePoint();
  // A node missed its heartbeats: requeue a worker's lease, replace a server.
  // `cause`: why, when it did not simply miss its heartbeats.
  Status OnNodeDead(Node& node, const std::string& cause = "");
  // A server presumed dead spoke again (it was stalled, not dead). While
  // its rank is still vacant, no replacement restores it and no handoff
  // started, it serves again with every row it had (true); otherwise it
  // has been replaced and must leave (false).
  bool ReinstateStalledServer(Node& node);
  std::string ReplacedReason(const Node& node) const;
  // A server asks to leave (SIGTERM). While the job is ending it is needed
  // for the final checkpoint and export, and stays; otherwise it counts as
  // dead at once (its rank goes to a replacement) and is told to leave.
  Status OnServerLeaving(Node& node, uint64_t request_id);
  // Promotes standbys to the ranks of dead servers, if any wait.
  Status PromoteStandbys();
  // Tells server `node` to become `rank` and load the latest checkpoint.
  Status SendRestore(Node& node, uint32_t rank);
  // One flag per virtual shard: owned by `rank` in the current map.
  std::vector<bool> ShardsOf(uint32_t rank) const;
  Status OnRestoreReply(Node& node, const wire::Message& msg);
  // Every server has its rows after --resume: the workers get the map.
  Status FinishRestorePhase();
  // A standby restored a dead server's rank: publish the new map.
  Status OnReplacementRestored(Node& node, uint32_t rank);
  // Replication (scheduler_replication.cc). Asks the neighbours of dead
  // server `rank` for its rows and its copy of rank-1's rows.
  Status StartHandoff(uint32_t rank);
  Status OnHandoffReply(Node& node, const wire::Message& msg);
  // A neighbour died during a handoff: the replacement falls back to the
  // checkpoint.
  void FailHandoffsWaitingOn(const Node& node);

  // Periodic evaluation (scheduler_eval.cc).
  bool EvalEnabled() const { return evaluation_.enabled(); }
  // Asks a worker for an evaluation when one is due during training, and
  // gives up on one that is overdue or whose worker died.
  Status MaybeEvaluate();
  // The final evaluation, to the live worker of lowest rank; false when
  // there is none.
  bool RequestFinalEvaluation();
  // The live worker of lowest rank (its node id), which evaluates.
  std::optional<uint32_t> EvalWorker() const { return members_.LowestLiveWorker(); }
  Status OnEvalResult(Node& node, const wire::Message& msg);
  // After training: the final checkpoint (when checkpointing), then the
  // export.
  Status EndTraining();
  // Admits a node arriving after training began: a server as a standby, a
  // worker as an extra worker.
  Status AdmitLate(Node& node, uint64_t request_id);
  static bool IsServing(const Node& node) { return Membership::IsServing(node); }
  size_t LiveWorkers() const { return members_.LiveWorkers(); }
  Status StartTraining();
  Status CheckLiveness();
  // Fails the job when the malformed-line fraction passed the threshold.
  Status CheckBadLines(bool final_check) const;
  void ReportProgress(bool final_report);
  // The training loss of the job's model ("logloss" or "squared_error"),
  // and in words for people.
  std::string LossName() const;
  std::string LossWords() const;
  // " (42%, about 30 s to go)": the share of partitions done and, at this
  // run's rate, the time left.
  std::string DoneAndEta(double elapsed) const;
  // Rows per second trained by this run (not counting rows resumed from a
  // checkpoint) over `seconds`.
  double RowsPerSecond(const wire::Progress& total, double seconds) const;
  Status SendTo(const Node& node, const wire::Body& body, uint64_t request_id = 0);
  void SendToRouting(const std::string& routing_id, const wire::Body& body, uint64_t request_id);
  // Tells every node to stop; ok=false carries `reason`.
  void ShutdownAll(bool ok, const std::string& reason);
  Status WriteStats() const;
  // Copies the side files model.json lists into the model directory; one
  // that cannot be copied is listed without a copy.
  void CopySideFiles(nlohmann::json* model_info) const;
  // --keep_best: moves the kept snapshot's files over the export and
  // removes the snapshots; returns what was kept (for the statistics).
  Status ApplyKeptModel();
  // MODEL_DIR/model.json from options_.model_info and the statistics.
  Status WriteModelJson() const;
  wire::Progress TotalProgress() const;
  // Input rows trained, each once per pass (a line trained again after a
  // failure counts once): the "rows" of the job's statistics.
  uint64_t TrainedRows() const;
  std::string Describe(const Node& node) const;
  // Starts a stop requested through the status board.
  Status BeginStop(const std::string& reason);

  // Status, history, events and metrics (scheduler_status.cc).
  void RecordEvent(const std::string& kind, const std::string& text);
  void RefreshStatus(bool force);
  // Adds a history sample when one is due (always with `force`).
  void SampleHistory(Clock::time_point now, bool force = false);
  void UpdateMetrics();
  void DescribeMetrics();
  nlohmann::json StatusJson() const;
  nlohmann::json NodeJson(const Node& node, Clock::time_point now) const;
  // Every node, the scheduler first, then by role and rank.
  nlohmann::json NodesJson(Clock::time_point now) const;
  // Totals over the servers in `nodes` (as NodesJson gives them).
  nlohmann::json MetricsSummaryJson(const nlohmann::json& nodes) const;
  // The job's settings for /status: model, data, batch, optimizers.
  nlohmann::json ConfigJson() const;
  nlohmann::json ProgressJson() const;
  std::string Health(const Node& node, Clock::time_point now) const;
  const char* PhaseName() const;

  SchedulerOptions options_;
  MetricsRegistry* metrics_;
  std::string endpoint_;  // as bound
  Clock::time_point now_;  // of the event being handled
  std::vector<Outgoing> outbox_;
  std::function<void(const std::string&, const std::string&)> event_sink_;
  CheckpointStore* store_;  // null without checkpoints
  std::unique_ptr<CheckpointStore> owned_store_;
  Phase phase_ = Phase::kAdmitting;
  Membership members_;  // the nodes, their ranks, their liveness
  ShardMap shard_map_;
  uint64_t epoch_seen_ = 0;  // the newest map epoch a (re)registering node had
  std::unique_ptr<PartitionQueue> partitions_;
  std::vector<Partition> plan_;  // one pass's partitions
  // Barrier name -> (node id -> request id to answer).
  std::map<std::string, std::map<uint32_t, uint64_t>> barriers_;
  Clock::time_point started_;
  Clock::time_point train_start_;
  Clock::time_point train_end_;
  Clock::time_point last_report_;
  wire::Progress last_reported_;
  size_t partitions_at_start_ = 0;  // finished before this run (--resume)
  uint64_t request_id_ = 0;
  Counter* malformed_;
  Counter* rejected_;

  StatusBoard* board_;
  bool stopping_ = false;  // a stop was requested during training
  bool stop_signal_seen_ = false;  // SIGTERM arrived and was acted on
  std::string stop_reason_;
  std::string failure_;  // why the job failed, once it has
  Clock::time_point next_status_;
  JobHistory history_;  // events and progress samples (job_history.h)

  // Checkpoints and recovery.
  // The running checkpoint, ids, and the newest complete one
  // (checkpoint_runner.h).
  CheckpointRunner checkpoints_;
  // When the next checkpoint is due (checkpoint_schedule.h).
  CheckpointSchedule checkpoint_schedule_;
  bool final_checkpoint_ = false;  // training is over; export after this checkpoint
  bool final_checkpoint_begun_ = false;
  wire::Progress resumed_progress_;  // totals trained before a --resume
  // When the last live worker died, while no other has joined since.
  std::optional<Clock::time_point> workers_gone_since_;
  Counter* checkpoints_written_;
  Counter* checkpoint_failures_;
  Counter* failovers_;
  Gauge* checkpoint_age_;
  Gauge* checkpoint_seconds_;
  Gauge* checkpoint_pause_;
  Gauge* failover_seconds_;
  // Dead servers' ranks awaiting a replacement, restores in flight, and
  // what each failover lost (failover_ledger.h).
  FailoverLedger recovery_;
  // Checkpoints given up, with why (summary JSON "checkpoint_failures").
  nlohmann::json checkpoint_failure_log_ = nlohmann::json::array();
  // --replicas=2: dead servers' rows, handed off by their neighbours.
  HandoffTracker handoffs_;

  // Periodic evaluation (eval_coordinator.h).
  EvalCoordinator evaluation_;
  BestModelKeeper best_;
  bool final_eval_asked_ = false;

  // Bounded staleness: workers' clocks and their minimum.
  ClockTracker clocks_;
  Gauge* min_clock_;
  Gauge* clock_spread_;
};

}  // namespace embedps::scheduler
