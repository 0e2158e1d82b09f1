#include "worker/worker.h"

#include <algorithm>
#include <thread>

#include <Eigen/Core>
#include <glog/logging.h>

#include "common/stop_signal.h"
#include "worker/eval/server_evaluator.h"

namespace embedps::worker {

Worker::Worker(zmq::context_t& ctx, WorkerOptions options, MetricsRegistry* metrics)
    : options_(std::move(options)), ctx_(ctx), metrics_(metrics), link_(ctx, options_.link) {
  MetricsRegistry& r = *metrics_;
  m_.rows = r.GetCounter("worker.rows");
  m_.lines_read = r.GetCounter("worker.lines_read");
  m_.bad_lines = r.GetCounter("worker.bad_lines");
  m_.dense_pulls = r.GetCounter("worker.dense_pulls");
  r.Describe("worker.dense_pulls",
             "Batches that pulled the dense tables (MLP weights) from the servers; the others reuse "
             "the last pulled copy (--dense_pull_every)");
  m_.rows_per_second = r.GetGauge("worker.rows_per_second");
  m_.staleness_bound = r.GetGauge("worker.staleness_bound_batches");
  m_.inflight_pushes = r.GetGauge("worker.inflight_pushes");
  m_.checkpoint_pause = r.GetHistogram("worker.checkpoint_pause_seconds", LatencyBuckets());
  r.Describe("worker.checkpoint_pause_seconds",
             "Training paused for a checkpoint: push flush, the servers' cut, resume");
  options_.client.pull_seconds = r.GetHistogram("worker.pull_seconds", LatencyBuckets());
  options_.client.push_seconds = r.GetHistogram("worker.push_seconds", LatencyBuckets());
  r.Describe("worker.rows", "Training examples consumed");
  r.Describe("worker.lines_read", "Input lines read, malformed ones included");
  r.Describe("worker.bad_lines", "Malformed input lines skipped");
  r.Describe("worker.rows_per_second", "Training examples per second over the last second");
  r.Describe("worker.train_loss",
             "Mean training loss over the last second's batches (label loss: logloss or squared_error)");
  r.Describe("worker.train_logloss", "Mean training log loss over the last second's batches (click models; see train_loss)");
  r.Describe("worker.staleness_bound_batches",
             "Staleness bound this worker runs with: --max_staleness (clock ticks it may lead the "
             "slowest worker) when set, else --prefetch (batches whose rows are pulled ahead); "
             "configured, not measured");
  m_.clock = r.GetGauge("worker.clock");
  m_.clock_lead = r.GetGauge("worker.clock_lead_batches");
  m_.max_clock_lead = r.GetGauge("worker.max_clock_lead_batches");
  m_.ssp_wait = r.GetHistogram("worker.ssp_wait_seconds", LatencyBuckets());
  r.Describe("worker.clock", "Batches trained whose pushes are acknowledged (the SSP clock)");
  r.Describe("worker.clock_lead_batches",
             "With --max_staleness: this worker's clock minus the slowest worker's, at the last batch start");
  r.Describe("worker.max_clock_lead_batches",
             "With --max_staleness: the largest clock lead over the slowest worker at a batch start");
  r.Describe("worker.ssp_wait_seconds",
             "With --max_staleness: time blocked before a batch until the slowest worker caught up");
  r.Describe("worker.inflight_pushes", "Push requests sent and not yet acknowledged");
  r.Describe("worker.pull_seconds", "Time from sending a pull to its last reply");
  r.Describe("worker.push_seconds", "Time from sending a push to its acknowledgement");
  // BSP: a batch's pulls must see every worker's pushes of the batch
  // before, so none may be pulled ahead.
  if (options_.max_staleness == 0) options_.prefetch = 0;
  m_.staleness_bound->Set(options_.max_staleness >= 0 ? options_.max_staleness : options_.prefetch);
  r.SetConstLabels(NodeLabels(JobIdFromClusterId(options_.link.cluster_id), "worker", -1));
}

Status Worker::Run() {
  RETURN_IF_ERROR(link_.Join());
  if (!options_.test_clock_trace.empty()) {
    ASSIGN_OR_RETURN(trace_, ClockTrace::Open(options_.test_clock_trace + "." + std::to_string(link_.rank())));
  }
  metrics_->SetConstLabels(
      NodeLabels(JobIdFromClusterId(options_.link.cluster_id), "worker", link_.rank()));
  options_.client.cluster_id = options_.link.cluster_id;
  options_.client.node_id = link_.node_id();
  options_.client.curve = options_.link.curve;
  // Heartbeats continue while a pull or push waits on a slow or dead server.
  options_.client.on_idle = [this] { return WhileWaiting(); };
  client_ = std::make_unique<PsClient>(ctx_, options_.client);
  RETURN_IF_ERROR(client_->Connect(link_.shard_map()));
  while (true) {
    Status st = TrainUntilDone();
    if (st.ok() || !link_.rejoin_needed()) {
      if (!st.ok() && !aborted_) link_.ReportFatal(st);
      return st;
    }
    RETURN_IF_ERROR(RejoinScheduler());
  }
}

// How long a rejoin waits for the pushes in flight to be acknowledged (a
// server may be down too; the pushes stay applied or lost as they are).
constexpr std::chrono::milliseconds kRejoinFlushTimeout{5000};

Status Worker::RejoinScheduler() {
  // What was pushed counts: wait for the acknowledgements, then start over
  // with a new client (replies to pulls of abandoned batches must not land
  // in buffers that are gone) and fresh totals (the new scheduler resumes
  // from its checkpoint, which has the totals up to then).
  // The batches whose rows were being pulled are gone with the unwound
  // training loop: their late replies must not be written anywhere.
  client_->AbandonValueOperations();
  rejoin_flush_deadline_ = Clock::now() + kRejoinFlushTimeout;
  Status flushed = client_->Flush();
  rejoin_flush_deadline_.reset();
  if (!flushed.ok()) LOG(WARNING) << "flushing pushes before rejoining: " << flushed.message();
  RETURN_IF_ERROR(link_.Rejoin(/*has_state=*/false));
  options_.client.node_id = link_.node_id();
  client_ = std::make_unique<PsClient>(ctx_, options_.client);
  RETURN_IF_ERROR(client_->Connect(link_.shard_map()));
  progress_ = wire::Progress{};
  // A new node to the scheduler: its clocks start over, as its acknowledged
  // clock (progress_) does, and a lease jumps it to the slowest worker's.
  // Kept, the old clock stays ahead of the one the scheduler counts, and
  // with a staleness bound every worker waits for it forever.
  clock_ = known_min_ = reported_clock_ = 0;
  last_rate_progress_ = wire::Progress{};
  pending_commits_.clear();
  // What the old scheduler asked is void; SIGTERM still holds.
  control_.Reset();
  return Status::OK();
}

Status Worker::TrainUntilDone() {
  int64_t finished = -1;
  while (true) {
    if (trace_) trace_->Record("request", clock_);
    auto reply = link_.Call(wire::PartitionRequestMsg{finished, progress_},
                            std::chrono::milliseconds(options_.client.timeout));
    if (!reply.ok()) return reply.status();
    if (auto* s = std::get_if<wire::ShutdownMsg>(&reply->body)) {
      return Aborted("job aborted by the scheduler: " + s->reason);
    }
    auto* grant = std::get_if<wire::PartitionGrantMsg>(&reply->body);
    if (grant == nullptr) return Internal("scheduler answered a partition request oddly");
    if (trace_) trace_->Record(grant->has_partition ? "grant" : "nogrant", clock_);
    if (!grant->has_partition && grant->wait_ms > 0) {
      // Nothing to do right now, but a dead worker's lease may come back.
      finished = -1;
      const auto until = Clock::now() + std::chrono::milliseconds(grant->wait_ms);
      while (Clock::now() < until) {
        RETURN_IF_ERROR(WhileWaiting());
        DrainSchedulerEvents();
        if (control_.shutdown()) return *control_.shutdown();
        // Holding no lease, nothing is in flight: answer a pause at once.
        if (auto p = control_.TakePause()) RETURN_IF_ERROR(link_.Send(wire::PausedMsg{*p, progress_}).status());
        RETURN_IF_ERROR(MaybeEvaluate());
        CheckStopSignal();
        if (control_.leaving()) break;
        std::this_thread::sleep_for(std::chrono::milliseconds(20));
      }
      if (control_.stop_requested()) break;
      continue;
    }
    if (!grant->has_partition) break;
    progress_.lease_partition = grant->partition.id;
    progress_.lease_pass = grant->pass;
    progress_.lease_lines = grant->partition.skip_lines;
    pending_commits_.clear();
    // Dense gradients summed for batches of an abandoned lease (a rejoin)
    // are dropped with their commits: those batches are trained again.
    DropDenseGradients();
    if (grant->partition.skip_lines > 0) {
      LOG(INFO) << "resuming partition " << grant->partition.id << " (pass " << grant->pass
                << ") after line " << grant->partition.skip_lines;
    }
    RETURN_IF_ERROR(TrainPartition(grant->partition));
    if (control_.stop_requested()) break;  // the partition is unfinished; the job is ending
    // Acknowledged pushes only: the scheduler treats a finished partition as
    // applied, also if this worker dies right after.
    RETURN_IF_ERROR(client_->Flush());
    AdvanceCommitted();
    finished = grant->partition.id;
    progress_.lease_partition = -1;
  }
  // Every gradient must be applied before the scheduler may export the model.
  RETURN_IF_ERROR(client_->Flush());
  AdvanceCommitted();
  if (trace_) {
    trace_->Record("done", clock_);
    trace_->Flush();
  }
  // A worker leaving mid-lease reports where it got to (lease_partition and
  // lease_lines, acknowledged lines only): the scheduler hands the rest on.
  RETURN_IF_ERROR(link_.Send(wire::WorkerDoneMsg{progress_, control_.leaving()}).status());
  UpdateMetrics();
  LOG(INFO) << "worker " << link_.rank()
            << (control_.leaving() ? " left: " : control_.stop_requested() ? " stopped: " : " done: ")
            << progress_.rows << " rows, " << progress_.bad_lines << " bad lines";
  if (control_.leaving()) {
    // Sent before the socket closes (linger).
    link_.socket().set(zmq::sockopt::linger, 2000);
    return Status::OK();
  }
  if (options_.max_staleness >= 0) {
    const Histogram::Snapshot waits = m_.ssp_wait->Get();
    LOG(INFO) << "clock " << clock_ << ", max_staleness " << options_.max_staleness
              << ": largest lead over the slowest worker " << max_lead_ << ", waited "
              << waits.sum << " s in " << waits.count << " waits";
  }
  return WaitForShutdown();
}

StatusOr<data::Format> Worker::FormatOf(const std::string& file) {
  if (options_.format) return *options_.format;
  auto it = detected_formats_.find(file);
  if (it != detected_formats_.end()) return it->second;
  ASSIGN_OR_RETURN(data::Format format, data::DetectFileFormat(file));
  LOG(INFO) << file << ": detected format " << data::FormatName(format);
  detected_formats_.emplace(file, format);
  return format;
}

Status Worker::TrainPartition(const Partition& partition) {
  ASSIGN_OR_RETURN(const data::Format format, FormatOf(partition.file));
  auto reader = data::ExampleReader::Open(partition, format, options_.reader);
  if (!reader.ok()) return reader.status();
  if (!spec_) {
    const data::CsvSchema* csv = (*reader)->csv_schema();
    ASSIGN_OR_RETURN(ModelSpec spec, options_.model_spec(format, csv));
    if (csv != nullptr) {
      // Test files are read with the columns the model trains on.
      csv_columns_ = csv->resolved();
      LOG(INFO) << partition.file << ": " << csv->Describe();
    }
    spec_ = spec;
    // The loss is the model's: its gauge is labelled once the model is known.
    const std::string loss = ObjectiveLossName(spec.objective);
    m_.loss = metrics_->GetGauge("worker.train_loss", {{"loss", loss}});
    if (loss == "logloss") m_.logloss = metrics_->GetGauge("worker.train_logloss");
    if (spec.model == "ncf") sampler_ = std::make_unique<NegativeSampler>(spec.negatives, options_.seed + link_.rank());
    LOG(INFO) << "training " << spec.model << " on " << data::FormatName(format) << " data";
  }
  const uint64_t lines_before = progress_.lines_read;
  const uint64_t bad_before = progress_.bad_lines;
  const uint64_t skipped_before = progress_.skipped_lines;
  // Up to 1 + prefetch batches are in flight: the oldest is being trained
  // while the pulls of the next ones are already on their way.
  std::deque<std::unique_ptr<InflightBatch>> inflight;
  bool reading = true;
  while (true) {
    RETURN_IF_ERROR(AwaitClock());
    if (control_.stop_requested()) {
      // Collect the pulls already started, so no reply lands in a reused
      // buffer later; their batches are not trained.
      for (auto& batch : inflight) {
        for (uint64_t ticket : batch->tickets) RETURN_IF_ERROR(client_->Wait(ticket));
      }
      break;
    }
    while (reading && inflight.size() < 1 + options_.prefetch) {
      auto slot = spare_.empty() ? std::make_unique<InflightBatch>() : std::move(spare_.back());
      if (!spare_.empty()) spare_.pop_back();
      auto started = StartBatch(**reader, format, slot.get());
      progress_.lines_read = lines_before + (*reader)->lines_read();
      progress_.bad_lines = bad_before + (*reader)->bad_lines();
      progress_.skipped_lines = skipped_before + (*reader)->skipped_lines();
      if (progress_.first_bad_line.empty() && !(*reader)->first_bad_line().empty()) {
        // The scheduler shows it when the job fails for bad lines.
        progress_.first_bad_line = (*reader)->first_bad_line().substr(0, 240);
      }
      if (!started.ok()) return started.status();
      if (!*started) {
        reading = false;
        spare_.push_back(std::move(slot));
        break;
      }
      slot->end_position = (*reader)->position();
      inflight.push_back(std::move(slot));
    }
    if (inflight.empty()) break;
    RETURN_IF_ERROR(TrainBatch(*inflight.front()));
    ++clock_;
    RETURN_IF_ERROR(CommitBatch(inflight.front()->end_position));
    spare_.push_back(std::move(inflight.front()));
    inflight.pop_front();
    if (options_.test_batch_delay.count() > 0 && options_.test_delay_rank == static_cast<int32_t>(link_.rank())) {
      std::this_thread::sleep_for(options_.test_batch_delay);
    }
    RETURN_IF_ERROR(Upkeep());
  }
  return PushDenseGradients();
}

Status Worker::CommitBatch(uint64_t position) {
  uncommitted_position_ = position;
  if (dense_grad_batches_ > 0 && dense_grad_batches_ < options_.dense_push_every) return Status::OK();
  return PushDenseGradients();
}

void Worker::DropDenseGradients() {
  for (auto& sum : dense_grad_sum_) std::fill(sum.begin(), sum.end(), 0.0f);
  dense_grad_batches_ = 0;
  uncommitted_position_.reset();
}

Status Worker::PushDenseGradients() {
  if (dense_grad_batches_ > 0) {
    for (size_t t = 0; t < dense_grad_sum_.size(); ++t) {
      if (dense_grad_keys_[t].empty()) continue;
      RETURN_IF_ERROR(client_->Push(static_cast<uint32_t>(t),
                                    static_cast<uint32_t>(dense_grad_sum_[t].size() / dense_grad_keys_[t].size()),
                                    dense_grad_keys_[t], dense_grad_sum_[t]));
      std::fill(dense_grad_sum_[t].begin(), dense_grad_sum_[t].end(), 0.0f);
    }
    dense_grad_batches_ = 0;
  }
  if (uncommitted_position_) {
    pending_commits_.push_back({client_->last_request_id(), *uncommitted_position_});
    uncommitted_position_.reset();
  }
  return Status::OK();
}

StatusOr<bool> Worker::StartBatch(data::ExampleReader& reader, data::Format format, InflightBatch* b) {
  ASSIGN_OR_RETURN(b->read, reader.NextBatch(options_.batch_size, &b->examples));
  if (b->read == 0) return false;
  if (options_.side_features != nullptr) {
    for (auto& ex : b->examples) options_.side_features->Append(&ex);
  }
  if (sampler_) sampler_->Expand(&b->examples);
  if (!b->model) {
    ASSIGN_OR_RETURN(b->model, MakeModel(*spec_));
  }
  Model& m = *b->model;
  m.Prepare(b->examples);
  const auto& tables = m.tables();
  b->rows.resize(tables.size());
  b->tickets.clear();
  b->cached.assign(tables.size(), 0);
  const bool pull_dense = batches_started_++ % options_.dense_pull_every == 0;
  bool pulled_dense = false;
  for (size_t t = 0; t < tables.size(); ++t) {
    if (tables[t].dense && !pull_dense) {
      b->cached[t] = 1;
      continue;
    }
    pulled_dense |= tables[t].dense;
    ASSIGN_OR_RETURN(uint64_t ticket, client_->StartPull(static_cast<uint32_t>(t), tables[t].dim, m.Keys(t),
                                                         &b->rows[t]));
    b->tickets.push_back(ticket);
  }
  if (pulled_dense) ++progress_.dense_pulls;
  return true;
}

Status Worker::UseCachedRows(InflightBatch& b) {
  const auto& tables = b.model->tables();
  dense_cache_.resize(tables.size());
  for (size_t t = 0; t < tables.size(); ++t) {
    if (!tables[t].dense) continue;
    const size_t size = b.model->Keys(t).size() * tables[t].dim;
    if (!b.cached[t]) {
      dense_cache_[t] = b.rows[t];
      continue;
    }
    if (dense_cache_[t].size() != size) {
      // The batch that was to pull them was abandoned (a rejoin): pull now.
      RETURN_IF_ERROR(client_->Pull(static_cast<uint32_t>(t), tables[t].dim, b.model->Keys(t), &dense_cache_[t]));
      ++progress_.dense_pulls;
    }
    b.rows[t].swap(dense_cache_[t]);
  }
  return Status::OK();
}

void Worker::ReturnCachedRows(InflightBatch& b) {
  for (size_t t = 0; t < b.cached.size(); ++t) {
    if (b.cached[t]) b.rows[t].swap(dense_cache_[t]);
  }
}

Status Worker::TrainBatch(InflightBatch& b) {
  for (uint64_t ticket : b.tickets) RETURN_IF_ERROR(client_->Wait(ticket));
  if (options_.dense_pull_every > 1) RETURN_IF_ERROR(UseCachedRows(b));
  Model& m = *b.model;
  const double loss = m.Step(b.examples, b.rows, &b.grads);
  ReturnCachedRows(b);
  const auto& tables = m.tables();
  const bool sum_dense = options_.dense_push_every > 1;
  bool summed = false;
  if (sum_dense) {
    dense_grad_sum_.resize(tables.size());
    dense_grad_keys_.resize(tables.size());
  }
  for (size_t t = 0; t < tables.size(); ++t) {
    if (sum_dense && tables[t].dense) {
      std::vector<float>& sum = dense_grad_sum_[t];
      if (sum.size() != b.grads[t].size()) {
        sum.assign(b.grads[t].size(), 0.0f);
        dense_grad_keys_[t] = m.Keys(t);
      }
      Eigen::Map<Eigen::VectorXf>(sum.data(), static_cast<Eigen::Index>(sum.size())) +=
          Eigen::Map<const Eigen::VectorXf>(b.grads[t].data(), static_cast<Eigen::Index>(sum.size()));
      summed = true;
      continue;
    }
    RETURN_IF_ERROR(client_->Push(static_cast<uint32_t>(t), tables[t].dim, m.Keys(t), b.grads[t]));
  }
  if (summed) ++dense_grad_batches_;
  progress_.rows += b.read;
  // The loss of the read examples and, for ncf, their sampled negatives,
  // scaled to a per-read-example sum so progress lines stay comparable.
  progress_.loss_sum += loss * b.read / b.examples.size();
  return Status::OK();
}

void Worker::AdvanceCommitted() {
  const uint64_t clock_before = progress_.clock;
  while (!pending_commits_.empty() && client_->AckedThrough(pending_commits_.front().last_request_id)) {
    progress_.lease_lines = pending_commits_.front().position;
    pending_commits_.pop_front();
    ++progress_.clock;
  }
  if (trace_ && progress_.clock != clock_before) trace_->Record("applied", progress_.clock);
}

Status Worker::AwaitClock() {
  if (options_.max_staleness < 0) {
    if (trace_) trace_->Record("start", clock_);
    return Status::OK();
  }
  const uint64_t bound = static_cast<uint64_t>(options_.max_staleness);
  if (clock_ > known_min_ + bound) {
    const auto start = Clock::now();
    // Blocked anyway: have every push acknowledged, so the clock the
    // scheduler counts for this worker is its whole clock (BSP needs it).
    RETURN_IF_ERROR(PushDenseGradients());
    RETURN_IF_ERROR(client_->Flush());
    AdvanceCommitted();
    auto next_report = start;
    while (clock_ > known_min_ + bound && !control_.stop_requested()) {
      if (Clock::now() >= next_report) {
        // Repeated: an update lost to a scheduler restart must not block
        // this worker forever.
        RETURN_IF_ERROR(ReportClock(/*waiting=*/true));
        next_report = Clock::now() + std::chrono::milliseconds(500);
      }
      zmq::pollitem_t item{link_.socket().handle(), 0, ZMQ_POLLIN, 0};
      zmq::poll(&item, 1, std::chrono::milliseconds(20));
      RETURN_IF_ERROR(Upkeep());
    }
    m_.ssp_wait->Observe(std::chrono::duration<double>(Clock::now() - start).count());
  }
  if (control_.stop_requested()) return Status::OK();
  const uint64_t lead = clock_ - std::min(clock_, known_min_);
  max_lead_ = std::max(max_lead_, lead);
  m_.clock_lead->Set(static_cast<double>(lead));
  m_.max_clock_lead->Set(static_cast<double>(max_lead_));
  if (trace_) trace_->Record("start", clock_);
  return Status::OK();
}

Status Worker::ReportClock(bool waiting) {
  if (options_.max_staleness < 0 || (!waiting && progress_.clock <= reported_clock_)) return Status::OK();
  reported_clock_ = progress_.clock;
  return link_.Send(wire::ClockReportMsg{progress_.clock, waiting}).status();
}

void Worker::OnClockUpdate(uint64_t min_clock) {
  known_min_ = std::max(known_min_, min_clock);
  if (min_clock <= clock_) return;
  // Counted at the slowest worker's clock from now on (it joined late or
  // waited for work).
  const uint64_t jump = min_clock - clock_;
  clock_ += jump;
  progress_.clock += jump;
  reported_clock_ = std::max(reported_clock_, progress_.clock);
  if (trace_) trace_->Record("jump", clock_);
}

Status Worker::WhileWaiting() {
  if (rejoin_flush_deadline_) {
    if (Clock::now() < *rejoin_flush_deadline_) return Status::OK();
    return DeadlineExceeded("pushes not acknowledged within " + std::to_string(kRejoinFlushTimeout.count()) +
                            " ms; rejoining without waiting for them");
  }
  CheckStopSignal();
  AdvanceCommitted();
  RETURN_IF_ERROR(ReportClock(/*waiting=*/false));
  RETURN_IF_ERROR(link_.Tick(progress_));
  if (client_ && link_.shard_map().epoch() > client_->epoch()) {
    RETURN_IF_ERROR(client_->UpdateMap(link_.shard_map()));
  }
  return Status::OK();
}

Status Worker::PauseForCheckpoint(uint64_t id) {
  const auto start = Clock::now();
  RETURN_IF_ERROR(PushDenseGradients());
  RETURN_IF_ERROR(client_->Flush());
  AdvanceCommitted();
  RETURN_IF_ERROR(link_.Send(wire::PausedMsg{id, progress_}).status());
  while (true) {
    RETURN_IF_ERROR(WhileWaiting());
    // Other requests (an evaluation, a stop) wait in control_ until training
    // goes on; none is dropped.
    DrainSchedulerEvents();
    if (control_.TakeResume(id)) {
      m_.checkpoint_pause->Observe(std::chrono::duration<double>(Clock::now() - start).count());
      return Status::OK();
    }
    if (const auto& s = control_.shutdown()) {
      aborted_ = true;
      return s->ok() ? Aborted("scheduler ended the job during a checkpoint") : *s;
    }
    zmq::pollitem_t item{link_.socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(50));
  }
}

// SIGTERM: finish the batch in hand, see its pushes acknowledged, hand the
// lease back and leave (TrainUntilDone).
void Worker::CheckStopSignal() {
  if (StopSignalled()) control_.Leave();
}

void Worker::DrainSchedulerEvents() {
  while (auto ev = link_.NextEvent()) control_.OnEvent(*ev);
  // The minimum clock applies wherever the worker is.
  if (auto min_clock = control_.TakeMinClock()) OnClockUpdate(*min_clock);
}

Status Worker::Upkeep() {
  CheckStopSignal();
  UpdateMetrics();
  AdvanceCommitted();
  RETURN_IF_ERROR(ReportClock(/*waiting=*/false));
  RETURN_IF_ERROR(link_.Tick(progress_));
  if (link_.shard_map().epoch() > client_->epoch()) RETURN_IF_ERROR(client_->UpdateMap(link_.shard_map()));
  DrainSchedulerEvents();
  if (const auto& s = control_.shutdown()) {
    aborted_ = true;
    return s->ok() ? Aborted("scheduler ended the job while this worker was training") : *s;
  }
  while (auto p = control_.TakePause()) RETURN_IF_ERROR(PauseForCheckpoint(*p));
  return MaybeEvaluate();
}

Status Worker::MaybeEvaluate() {
  if (!control_.evaluation_pending() || evaluating_) return Status::OK();
  const wire::EvaluateMsg request = *control_.TakeEvaluation();
  const auto start = Clock::now();
  wire::EvalResultMsg reply;
  reply.id = request.id;
  StatusOr<EvalResult> result = FailedPrecondition("this worker has no --eval_test");
  if (!options_.eval_test.empty() && spec_) {
    ServerEvalOptions eval;
    eval.test_files = options_.eval_test;
    eval.format = options_.format;
    eval.side = options_.side_features;
    eval.csv = csv_columns_;
    eval.max_rows = request.max_rows;
    // Heartbeats and checkpoint pauses go on; a nested request waits.
    eval.between_batches = [this] { return Upkeep(); };
    evaluating_ = true;
    result = EvaluateOnServers(*client_, *spec_, eval);
    evaluating_ = false;
    if (!result.ok() && aborted_) return result.status();
  } else if (!options_.eval_test.empty()) {
    result = FailedPrecondition("this worker has not trained yet, so it does not know the model");
  }
  reply.seconds = std::chrono::duration<double>(Clock::now() - start).count();
  if (result.ok()) {
    reply.test_rows = result->rows;
    reply.auc = result->auc;
    reply.logloss = result->logloss;
    reply.rmse = result->rmse;
    reply.mae = result->mae;
    LOG(INFO) << "evaluation " << request.id << (request.final ? " (final)" : "") << ": " << result->rows
              << " test rows in " << reply.seconds << " s";
  } else {
    reply.ok = false;
    reply.error = result.status().ToString();
    LOG(WARNING) << "evaluation " << request.id << " failed: " << reply.error;
  }
  return link_.Send(reply).status();
}

void Worker::UpdateMetrics() {
  m_.rows->AdvanceTo(progress_.rows);
  m_.lines_read->AdvanceTo(progress_.lines_read);
  m_.clock->Set(static_cast<double>(progress_.clock));
  m_.bad_lines->AdvanceTo(progress_.bad_lines);
  m_.dense_pulls->AdvanceTo(progress_.dense_pulls);
  if (client_) m_.inflight_pushes->Set(static_cast<double>(client_->inflight_pushes()));
  const auto now = Clock::now();
  if (now < next_rate_update_) return;
  next_rate_update_ = now + std::chrono::seconds(1);
  m_.rows_per_second->Set(rows_meter_.Update(progress_.rows, now));
  const uint64_t rows = progress_.rows - last_rate_progress_.rows;
  if (rows > 0 && m_.loss != nullptr) {
    const double loss = (progress_.loss_sum - last_rate_progress_.loss_sum) / rows;
    m_.loss->Set(loss);
    if (m_.logloss != nullptr) m_.logloss->Set(loss);
  }
  last_rate_progress_ = progress_;
}

Status Worker::WaitForShutdown() {
  while (true) {
    RETURN_IF_ERROR(link_.Tick(progress_));
    DrainSchedulerEvents();
    if (control_.shutdown()) return *control_.shutdown();
    // Done: every push is acknowledged already, there is nothing to pause.
    if (auto p = control_.TakePause()) RETURN_IF_ERROR(link_.Send(wire::PausedMsg{*p, progress_}).status());
    RETURN_IF_ERROR(MaybeEvaluate());
    zmq::pollitem_t item{link_.socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
  }
}

}  // namespace embedps::worker
