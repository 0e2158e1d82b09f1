// The scheduler's view of the job for people and monitoring: the /status
// document, the progress history behind the dashboard's plots, the events
// list, and the scheduler's metrics. All of it runs on the scheduler thread;
// the HTTP thread only ever sees the published JSON text.
#include <algorithm>
#include <chrono>

#include "scheduler/scheduler_core.h"

#include <ctime>

namespace embedps::scheduler {
namespace {

double Seconds(Clock::duration d) { return std::chrono::duration<double>(d).count(); }

double UnixNow() {
  return std::chrono::duration<double>(std::chrono::system_clock::now().time_since_epoch()).count();
}

Labels NodeSeries(const std::string& role, uint32_t rank) {
  return {{"node_role", role}, {"node_rank", std::to_string(rank)}};
}

}  // namespace

const char* SchedulerCore::PhaseName() const {
  switch (phase_) {
    case Phase::kAdmitting: return "admitting";
    case Phase::kRestoring: return "restoring";
    case Phase::kTraining: return stopping_ ? "stopping" : "training";
    case Phase::kExporting: return "exporting";
    case Phase::kFinished: return "finished";
    case Phase::kFailed: return "failed";
  }
  return "unknown";
}

void SchedulerCore::RecordEvent(const std::string& kind, const std::string& text) {
  history_.AddEvent(Seconds(now_ - started_), UnixNow(), kind, text);
  if (event_sink_) event_sink_(kind, text);
}

std::string SchedulerCore::Health(const Node& node, Clock::time_point now) const {
  if (node.dead) return "dead";
  if (node.done) return node.role == wire::Role::kWorker ? "done" : "exported";
  if (phase_ == Phase::kAdmitting) return "joined";
  if (phase_ == Phase::kExporting && node.role == wire::Role::kServer) return "exporting";
  // Half the timeout without a heartbeat is worth a warning before the
  // verdict.
  if (now - node.last_seen > options_.node_timeout / 2) return "late";
  return "up";
}

void SchedulerCore::SampleHistory(Clock::time_point now, bool force) {
  if (!history_.Sample(now, TotalProgress(), force)) return;
  for (auto& [id, node] : members_.all()) {
    if (node.role == wire::Role::kWorker) node.rows_per_sec = node.rows_meter.Update(node.progress.rows, now);
  }
}

void SchedulerCore::RefreshStatus(bool force) {
  const auto now = now_;
  if (!force && now < next_status_) return;
  next_status_ = now + options_.status_interval;
  if (phase_ == Phase::kTraining || phase_ == Phase::kExporting) SampleHistory(now);
  UpdateMetrics();
  if (board_ == nullptr) return;
  // Hosts and reasons come from the network: replace invalid UTF-8 rather
  // than throw.
  board_->Publish(StatusJson().dump(-1, ' ', false, nlohmann::json::error_handler_t::replace));
}

void SchedulerCore::DescribeMetrics() {
  static const std::pair<const char*, const char*> kHelp[] = {
      {"scheduler.node_up", "1 while a node is alive, 0 once presumed dead"},
      {"scheduler.node_heartbeat_age_seconds", "Seconds since the node was last heard from"},
      {"scheduler.rows", "Training examples consumed by all workers"},
      {"scheduler.lines_read", "Input lines read by all workers"},
      {"scheduler.bad_lines", "Malformed input lines skipped by all workers"},
      {"scheduler.rows_per_second", "Training examples per second, recent"},
      {"scheduler.train_loss", "Mean training loss over the last sampling interval (label loss: logloss or squared_error)"},
      {"scheduler.train_logloss", "Mean training log loss over the last sampling interval (click models; see train_loss)"},
      {"scheduler.partitions_done", "Data partitions finished (all passes)"},
      {"scheduler.partitions_planned", "Data partitions to train (all passes)"},
      {"scheduler.nodes_joined", "Nodes admitted"},
      {"scheduler.nodes_expected", "Servers plus workers the job waits for"},
      {"scheduler.checkpoints_written", "Checkpoints completed (every server wrote, manifest written)"},
      {"scheduler.checkpoint_failures", "Checkpoints abandoned (a server failed to write, a node died, timeout)"},
      {"scheduler.failovers", "Dead nodes recovered from: servers replaced, workers' leases requeued"},
      {"scheduler.last_checkpoint_age_seconds", "Seconds since the newest complete checkpoint was cut"},
      {"scheduler.last_checkpoint_seconds", "Duration of the newest checkpoint, pause to manifest"},
      {"scheduler.last_checkpoint_pause_seconds", "How long training paused for the newest checkpoint"},
      {"scheduler.last_failover_seconds", "From a server's death to its replacement serving (restored)"},
      {"scheduler.min_worker_clock",
       "Slowest clock (batches trained and acknowledged) over the workers holding a lease"},
      {"scheduler.worker_clock_spread_batches",
       "Fastest minus slowest worker clock, as last reported (heartbeats; every batch with --max_staleness)"},
      {"scheduler.stop_requested", "1 once a stop was requested (POST /stop)"},
      {"scheduler.eval_test_auc", "Test AUC of the newest evaluation during training (--eval_every_s; click models)"},
      {"scheduler.eval_test_logloss", "Test log loss of the newest evaluation (click models)"},
      {"scheduler.eval_test_rmse", "Test RMSE of the newest evaluation (rating models)"},
      {"scheduler.eval_test_mae", "Test MAE of the newest evaluation (rating models)"},
      {"scheduler.evals", "Evaluations answered (periodic and final)"},
      {"scheduler.uptime_seconds", "Seconds since the scheduler started"},
      {"scheduler.phase", "1 for the job's current phase"},
  };
  for (const auto& [name, help] : kHelp) metrics_->Describe(name, help);
}

void SchedulerCore::UpdateMetrics() {
  const auto now = now_;
  MetricsRegistry& m = *metrics_;
  if (checkpoints_.last()) {
    checkpoint_age_->Set(std::max(0.0, static_cast<double>(std::time(nullptr)) - checkpoints_.last()->created_unix));
  }
  for (const auto& [id, node] : members_.all()) {
    const Labels labels = NodeSeries(wire::RoleName(node.role), node.rank);
    m.GetGauge("scheduler.node_up", labels)->Set(node.dead ? 0 : 1);
    m.GetGauge("scheduler.node_heartbeat_age_seconds", labels)->Set(Seconds(now - node.last_seen));
  }
  const wire::Progress total = TotalProgress();
  m.GetCounter("scheduler.rows")->AdvanceTo(total.rows);
  m.GetCounter("scheduler.lines_read")->AdvanceTo(total.lines_read);
  m.GetCounter("scheduler.bad_lines")->AdvanceTo(total.bad_lines);
  m.GetGauge("scheduler.rows_per_second")->Set(history_.recent_rows_per_sec());
  if (history_.recent_loss() >= 0) {
    m.GetGauge("scheduler.train_loss", {{"loss", LossName()}})->Set(history_.recent_loss());
    if (LossName() == "logloss") m.GetGauge("scheduler.train_logloss")->Set(history_.recent_loss());
  }
  m.GetGauge("scheduler.partitions_done")->Set(static_cast<double>(partitions_->finished()));
  // Not "_total": that suffix means a counter to Prometheus.
  m.GetGauge("scheduler.partitions_planned")->Set(static_cast<double>(partitions_->total()));
  m.GetGauge("scheduler.nodes_joined")->Set(static_cast<double>(members_.all().size()));
  m.GetGauge("scheduler.nodes_expected")->Set(options_.num_servers + options_.num_workers);
  m.GetGauge("scheduler.stop_requested")->Set(stopping_ ? 1 : 0);
  if (const nlohmann::json& evals = evaluation_.results(); !evals.empty()) {
    m.GetCounter("scheduler.evals")->AdvanceTo(evals.size());
    for (const char* key : {"test_auc", "test_logloss", "test_rmse", "test_mae"}) {
      if (evals.back().contains(key)) m.GetGauge(std::string("scheduler.eval_") + key)->Set(evals.back()[key].get<double>());
    }
  }
  m.GetGauge("scheduler.uptime_seconds")->Set(Seconds(now - started_));
  for (const char* phase : {"admitting", "restoring", "training", "stopping", "exporting", "finished", "failed"}) {
    m.GetGauge("scheduler.phase", {{"phase", phase}})->Set(std::string(phase) == PhaseName() ? 1 : 0);
  }
}

nlohmann::json SchedulerCore::NodeJson(const Node& node, Clock::time_point now) const {
  nlohmann::json j = {{"id", node.id},
                      {"role", wire::RoleName(node.role)},
                      {"rank", node.rank},
                      {"address", node.endpoint.empty() ? node.host : node.endpoint},
                      {"host", node.host},
                      {"pid", node.pid},
                      {"metrics_url", node.metrics_url},
                      {"last_heartbeat_age_seconds", Seconds(now - node.last_seen)},
                      {"health", Health(node, now)}};
  if (node.role == wire::Role::kWorker) {
    const auto& p = node.progress;
    j["rows"] = p.rows;
    j["rows_per_sec"] = node.rows_per_sec;
    j["lines_read"] = p.lines_read;
    j["bad_lines"] = p.bad_lines;
    j["train_loss"] = p.rows > 0 ? nlohmann::json(p.loss_sum / p.rows) : nlohmann::json();
    if (LossName() == "logloss") j["train_logloss"] = j["train_loss"];
  }
  if (node.role == wire::Role::kServer && node.server_stats) {
    const auto& s = *node.server_stats;
    nlohmann::json tables = nlohmann::json::array();
    uint64_t rows = 0, bytes = 0;
    for (const auto& t : s.tables) {
      tables.push_back({{"table", t.table}, {"name", t.name}, {"rows", t.rows},
                        {"memory_bytes", t.memory_bytes}, {"evicted", t.evicted},
                        {"pending_pushes", t.pending_pushes}});
      rows += t.rows;
      bytes += t.memory_bytes;
    }
    j["tables"] = tables;
    j["rows"] = rows;
    // What the tables reserved (arena, index, sketch) and what the process
    // really holds in memory: reserved pages are mostly untouched, so the
    // first can be several times the second.
    j["reserved_bytes"] = bytes;
    j["resident_bytes"] = s.resident_bytes;
    j["memory_bytes"] = bytes;  // the name before both were reported
    j["pulls"] = s.pulls;
    j["pushes"] = s.pushes;
    j["keys_pulled"] = s.keys_pulled;
    j["keys_pushed"] = s.keys_pushed;
    j["rejected"] = s.rejected;
  }
  return j;
}

nlohmann::json SchedulerCore::ProgressJson() const {
  const wire::Progress total = TotalProgress();
  const bool trained = phase_ != Phase::kAdmitting;
  const auto end = train_end_ > train_start_ ? train_end_ : now_;
  const double seconds = trained ? Seconds(end - train_start_) : 0.0;
  const nlohmann::json mean_loss = total.rows > 0 ? nlohmann::json(total.loss_sum / total.rows) : nlohmann::json();
  const nlohmann::json recent_loss = history_.recent_loss() >= 0 ? nlohmann::json(history_.recent_loss()) : nlohmann::json();
  nlohmann::json j = {{"rows", total.rows},
                      {"rows_per_sec", history_.recent_rows_per_sec()},
                      {"mean_rows_per_sec", RowsPerSecond(total, seconds)},
                      {"train_seconds", seconds},
                      {"loss", LossName()},
                      {"train_loss", mean_loss},
                      {"recent_loss", recent_loss},
                      {"partitions_done", partitions_->finished()},
                      {"partitions_total", partitions_->total()},
                      {"passes", options_.passes},
                      {"lines_read", total.lines_read},
                      {"bad_lines", total.bad_lines}};
  if (LossName() == "logloss") {
    // The names before the loss was named, for scripts that read them.
    j["train_logloss"] = mean_loss;
    j["recent_logloss"] = recent_loss;
  }
  return j;
}

nlohmann::json SchedulerCore::NodesJson(Clock::time_point now) const {
  nlohmann::json nodes = nlohmann::json::array();
  nodes.push_back({{"id", 0}, {"role", "scheduler"}, {"rank", 0}, {"address", endpoint_},
                   {"host", ""}, {"metrics_url", options_.http_url},
                   {"last_heartbeat_age_seconds", 0.0},
                   {"health", phase_ == Phase::kFailed ? "failed" : "up"}});
  std::vector<const Node*> sorted;
  for (const auto& [id, node] : members_.all()) sorted.push_back(&node);
  std::sort(sorted.begin(), sorted.end(), [](const Node* a, const Node* b) {
    return std::make_pair(a->role, a->rank) < std::make_pair(b->role, b->rank);
  });
  for (const Node* n : sorted) nodes.push_back(NodeJson(*n, now));
  return nodes;
}

nlohmann::json SchedulerCore::MetricsSummaryJson(const nlohmann::json& nodes) const {
  // Status field -> the server node field summed into it.
  static const std::pair<const char*, const char*> kSums[] = {
      {"keys_pulled", "keys_pulled"}, {"keys_pushed", "keys_pushed"}, {"pulls", "pulls"},
      {"pushes", "pushes"},           {"server_rows", "rows"},       {"server_memory_bytes", "memory_bytes"},
      {"server_reserved_bytes", "reserved_bytes"}, {"server_resident_bytes", "resident_bytes"},
      {"server_rejected_requests", "rejected"}};
  nlohmann::json summary;
  for (const auto& [out, in] : kSums) {
    uint64_t sum = 0;
    for (const auto& n : nodes) {
      if (n["role"] == "server" && n.contains(in)) sum += n[in].get<uint64_t>();
    }
    summary[out] = sum;
  }
  summary["rejected_messages"] = rejected_->Get();
  summary["malformed_messages"] = malformed_->Get();
  return summary;
}

nlohmann::json SchedulerCore::StatusJson() const {
  const auto now = now_;
  nlohmann::json nodes = NodesJson(now);
  nlohmann::json job = {{"id", JobIdFromClusterId(options_.cluster_id)},
                        {"name", options_.job_name},
                        {"state", PhaseName()},
                        {"uptime_seconds", Seconds(now - started_)},
                        {"servers", options_.num_servers},
                        {"workers", options_.num_workers},
                        {"dashboard_url", options_.http_url},
                        {"scheduler_endpoint", endpoint_},
                        {"error", failure_.empty() ? nlohmann::json() : nlohmann::json(failure_)},
                        {"stop_reason", stopping_ ? nlohmann::json(stop_reason_) : nlohmann::json()}};
  return {{"job", job},
          {"metrics", MetricsSummaryJson(nodes)},
          {"nodes", std::move(nodes)},
          {"progress", ProgressJson()},
          {"history", history_.SamplesJson()},
          {"history_interval_seconds", history_.interval().count() / 1000.0},
          {"events", history_.EventsJson()},
          // Periodic and final evaluations, oldest first (as in the statistics).
          {"evals", evaluation_.results()},
          {"last_checkpoint", LastCheckpointJson()},
          {"checkpoints", {{"written", checkpoints_written_->Get()},
                           {"failures", checkpoint_failures_->Get()},
                           {"enabled", !options_.checkpoint_dir.empty()}}},
          {"config", ConfigJson()}};
}

nlohmann::json SchedulerCore::ConfigJson() const {
  // The launcher's settings, and the model from model.json's description.
  nlohmann::json config = options_.job_config.is_object() ? options_.job_config : nlohmann::json::object();
  if (options_.model_info.is_object() && options_.model_info.contains("spec")) {
    const nlohmann::json& spec = options_.model_info["spec"];
    const std::string model = spec.value("model", "");
    if (!model.empty()) config["model"] = model;
    // Only what the model uses: lr has neither factors nor an MLP.
    if (model != "lr" && spec.contains("factors")) config["factors"] = spec["factors"];
    const bool dense = model == "deepfm" || model == "ncf";
    if (dense && spec.contains("hidden")) config["hidden"] = spec["hidden"];
    if (!dense) {
      config.erase("dense_optimizer");  // no dense tables to optimize
      config.erase("dense_learning_rate");
    }
    if (!config.contains("format") && options_.model_info.contains("data_format")) {
      config["format"] = options_.model_info["data_format"];
    }
  }
  if (!config.contains("train")) config["train"] = options_.train_files;
  if (!config.contains("passes")) config["passes"] = options_.passes;
  return config;
}

}  // namespace embedps::scheduler
