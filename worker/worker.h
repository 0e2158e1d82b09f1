// The worker process logic: joins the cluster, leases data partitions from
// the scheduler, and trains the job's model (worker/model/) on them in
// minibatches (pull the batch's rows of every table, compute, push summed
// gradients asynchronously), reporting progress in its heartbeats.
#pragma once

#include <chrono>
#include <deque>
#include <functional>
#include <map>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/rate_meter.h"
#include "common/scheduler_link.h"
#include "common/status.h"
#include "worker/clock_trace.h"
#include "worker/worker_control.h"
#include "worker/data/example_reader.h"
#include "worker/data/side_features.h"
#include "worker/model/model.h"
#include "worker/model/model_spec.h"
#include "worker/model/negative_sampler.h"
#include "worker/ps_client.h"

namespace embedps::worker {

struct WorkerOptions {
  SchedulerLinkOptions link;
  PsClientOptions client;  // cluster and node ids are filled in after joining
  data::ReaderOptions reader;
  // Input format of every partition; unset: detected per file.
  std::optional<data::Format> format;
  uint32_t batch_size = 1000;
  // Batches whose rows are pulled ahead while the current one trains. Each
  // adds one step of staleness: a prefetched batch does not see the pushes
  // of the batches before it.
  uint32_t prefetch = 1;
  // Bounded staleness: a batch starts only while this worker's clock is at
  // most this many ticks ahead of the slowest active worker's (see
  // docs/architecture.md, "Consistency"). 0: BSP (and no prefetch); < 0:
  // asynchronous.
  int32_t max_staleness = -1;
  // Dense tables (MLP weights) are pulled by one batch in this many; the
  // batches between reuse the last pulled copy. 1: every batch pulls.
  uint32_t dense_pull_every = 1;
  // Dense tables' gradients are summed over this many batches and pushed as
  // one, so the servers take one optimizer step per K batches (the MLP
  // trains at batch K x batch_size while the embeddings step every batch).
  // A batch counts as committed once its dense share is pushed too.
  uint32_t dense_push_every = 1;
  // The model; built from flags once the data format is known (see
  // ModelSpecFromFlags), so that it can depend on it.
  // csv data: also from the schema of the first file's header.
  std::function<StatusOr<ModelSpec>(data::Format, const data::CsvSchema*)> model_spec;
  // hybrid: appended to every example after parsing. Borrowed.
  const data::SideFeatures* side_features = nullptr;
  uint64_t seed = 1;
  // Periodic evaluation: the test files this worker scores when the
  // scheduler asks (wire::EvaluateMsg); empty: it answers with an error.
  std::string eval_test;
  // Test only: write a clock trace (ClockTrace) to this path + ".RANK", and
  // make the worker of rank `test_delay_rank` sleep `test_batch_delay` after
  // each batch (a slow worker).
  std::string test_clock_trace;
  int32_t test_delay_rank = -1;
  std::chrono::milliseconds test_batch_delay{0};
};

class Worker {
 public:
  // `metrics` is borrowed and must outlive the worker, which keeps rows,
  // rows/s, recent loss, bad lines, pull/push latencies and its staleness
  // bound in it.
  Worker(zmq::context_t& ctx, WorkerOptions options, MetricsRegistry* metrics);

  // Runs until the scheduler ends the job. Returns the first error: bad
  // data past the threshold, a refused request, a lost scheduler. When the
  // scheduler asks it to stop, it finishes the current batch, flushes its
  // pushes, reports done and returns OK at the job's end.
  Status Run();

 private:
  // A parsed batch, its key index, and the pull that fetches its rows.
  struct InflightBatch {
    std::vector<data::Example> examples;
    size_t read = 0;  // examples read from the file (the rest are sampled negatives)
    std::unique_ptr<Model> model;  // one per batch: it holds the batch's key index
    TableRows rows;
    TableRows grads;
    std::vector<uint64_t> tickets;  // the pulls started, at most one per table
    // Per table: its rows come from dense_cache_ instead of a pull.
    std::vector<char> cached;
    uint64_t end_position = 0;  // partition lines consumed through this batch
  };
  // A trained batch whose pushes may not all be acknowledged yet.
  struct PendingCommit {
    uint64_t last_request_id = 0;  // newest request sent when it was pushed
    uint64_t position = 0;
  };

  // Leases and trains partitions until the scheduler has no more, then
  // reports done and waits for the end of the job.
  Status TrainUntilDone();
  // Registers again with a restarted scheduler (see SchedulerLink::Rejoin).
  Status RejoinScheduler();
  Status TrainPartition(const Partition& partition);
  // options_.format, or the detected format of `file` (remembered per file).
  StatusOr<data::Format> FormatOf(const std::string& file);
  // Reads the next batch into *b and starts its pulls; false at the end.
  StatusOr<bool> StartBatch(data::ExampleReader& reader, data::Format format, InflightBatch* b);
  // Waits for the batch's rows, computes, and pushes its gradients.
  Status TrainBatch(InflightBatch& batch);
  // Dense tables (--dense_pull_every): after a batch's pulls completed,
  // keeps the pulled dense rows as the cache and gives cached tables the
  // cached rows; UseCachedRows swaps them in, ReturnCachedRows back.
  Status UseCachedRows(InflightBatch& batch);
  void ReturnCachedRows(InflightBatch& batch);
  // Records a trained batch (lines consumed through `position`) for commit,
  // pushing the summed dense gradients when --dense_push_every batches have
  // added to them; until then the commit waits with them.
  Status CommitBatch(uint64_t position);
  // Pushes the summed dense gradients, if any, and commits the batches that
  // waited for them. Called at every point that needs all gradients sent:
  // partition end, checkpoint pause, a bounded-staleness wait.
  Status PushDenseGradients();
  // Forgets the summed dense gradients and the commit waiting for them.
  void DropDenseGradients();
  // Heartbeats and handles scheduler events between batches.
  Status Upkeep();
  // Turns a SIGTERM into a stop that hands the lease back and leaves.
  void CheckStopSignal();
  // Keeps the control channel alive while waiting on the servers: heartbeats
  // and a newer shard map (a failed server replaced).
  Status WhileWaiting();
  // Moves the lease's committed position past every batch whose pushes are
  // all acknowledged, and the clock (progress_.clock) with it.
  void AdvanceCommitted();
  // Bounded staleness: waits until this worker's clock is within
  // --max_staleness of the slowest worker's, heartbeating and answering
  // checkpoint pauses meanwhile; returns early when a stop is requested.
  Status AwaitClock();
  // Tells the scheduler the clock when it advanced (or, `waiting`, always).
  Status ReportClock(bool waiting);
  // The scheduler's minimum clock; a worker below it starts there.
  void OnClockUpdate(uint64_t min_clock);
  // Hands every queued scheduler message to control_ and applies a new
  // minimum clock.
  void DrainSchedulerEvents();
  // Pauses for checkpoint `id`: flushes the pushes, reports its position,
  // and waits for the scheduler to resume training.
  Status PauseForCheckpoint(uint64_t id);
  Status WaitForShutdown();
  // Runs the evaluation the scheduler asked for (in control_), if any and
  // none is running, and sends the result. Fails only when the job ends
  // meanwhile; a failed evaluation is reported to the scheduler instead.
  Status MaybeEvaluate();
  // Copies progress into the metrics; rates and loss once a second.
  void UpdateMetrics();

  WorkerOptions options_;
  zmq::context_t& ctx_;
  MetricsRegistry* metrics_;
  SchedulerLink link_;
  std::unique_ptr<PsClient> client_;
  std::vector<std::unique_ptr<InflightBatch>> spare_;  // reused batch buffers
  std::map<std::string, data::Format> detected_formats_;
  data::CsvColumns csv_columns_;  // csv data: the trained columns, once known
  std::optional<ModelSpec> spec_;  // set by the first partition
  std::unique_ptr<NegativeSampler> sampler_;  // ncf
  wire::Progress progress_;  // lease_* fields: the lease being trained
  std::deque<PendingCommit> pending_commits_;
  bool aborted_ = false;
  // What the scheduler (and SIGTERM) asked: pause, resume, stop, evaluate,
  // shut down. Every wait on the scheduler feeds it (DrainSchedulerEvents).
  WorkerControl control_;
  // Set while RejoinScheduler waits for the acknowledgements of the pushes
  // in flight: the link can only repeat that a rejoin is due, so the wait
  // ignores it, up to this deadline.
  std::optional<Clock::time_point> rejoin_flush_deadline_;
  std::string abort_reason_;
  // Bounded staleness. clock_ counts the batches trained (plus a jump to the
  // slowest worker's clock when starting late); progress_.clock those of
  // them whose pushes are acknowledged, which is what the scheduler sees.
  uint64_t clock_ = 0;
  uint64_t reported_clock_ = 0;
  uint64_t known_min_ = 0;  // the slowest active worker's clock, as last heard
  uint64_t max_lead_ = 0;
  std::unique_ptr<ClockTrace> trace_;  // test only
  // The last pulled rows of each dense table (empty for sparse tables), and
  // the batches started since the job began, which pick the pulling ones.
  TableRows dense_cache_;
  uint64_t batches_started_ = 0;
  // --dense_push_every: per dense table the gradients summed so far and the
  // table's keys, the batches summed, and the newest trained position that
  // waits for them.
  TableRows dense_grad_sum_;
  std::vector<std::vector<uint64_t>> dense_grad_keys_;
  uint32_t dense_grad_batches_ = 0;
  std::optional<uint64_t> uncommitted_position_;
  bool evaluating_ = false;

  struct Metrics {
    Counter* rows;
    Counter* lines_read;
    Counter* bad_lines;
    Counter* dense_pulls;
    Gauge* rows_per_second;
    Gauge* loss = nullptr;     // worker.train_loss{loss=...}, once the model is known
    Gauge* logloss = nullptr;  // worker.train_logloss, click models only
    Gauge* staleness_bound;
    Gauge* inflight_pushes;
    Histogram* checkpoint_pause;
    Gauge* clock;
    Gauge* clock_lead;
    Gauge* max_clock_lead;
    Histogram* ssp_wait;
  };
  Metrics m_;
  RateMeter rows_meter_;
  wire::Progress last_rate_progress_;
  Clock::time_point next_rate_update_;
};

}  // namespace embedps::worker
