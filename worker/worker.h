// The worker process logic: joins the cluster, leases data partitions from
// the scheduler, and trains sparse logistic regression on them in
// minibatches (pull the batch's rows, compute, push summed gradients
// asynchronously), reporting progress in its heartbeats.
#pragma once

#include <memory>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/rate_meter.h"
#include "common/scheduler_link.h"
#include "common/status.h"
#include "worker/data/criteo_reader.h"
#include "worker/model/lr_model.h"
#include "worker/ps_client.h"

namespace embedps::worker {

struct WorkerOptions {
  SchedulerLinkOptions link;
  PsClientOptions client;  // cluster and node ids are filled in after joining
  data::ReaderOptions reader;
  uint32_t batch_size = 1000;
  // Batches whose rows are pulled ahead while the current one trains. Each
  // adds one step of staleness: a prefetched batch does not see the pushes
  // of the batches before it.
  uint32_t prefetch = 1;
  uint32_t table = 0;
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
    std::vector<data::CriteoExample> examples;
    LrModel model;
    std::vector<float> weights;
    uint64_t ticket = 0;
  };

  Status TrainPartition(const Partition& partition);
  // Waits for the batch's rows, computes, and pushes its gradients.
  Status TrainBatch(InflightBatch& batch);
  // Heartbeats and handles scheduler events between batches.
  Status Upkeep();
  Status WaitForShutdown();
  // Copies progress into the metrics; rates and loss once a second.
  void UpdateMetrics();

  WorkerOptions options_;
  zmq::context_t& ctx_;
  MetricsRegistry* metrics_;
  SchedulerLink link_;
  std::unique_ptr<PsClient> client_;
  std::vector<std::unique_ptr<InflightBatch>> spare_;  // reused batch buffers
  std::vector<float> grads_;
  wire::Progress progress_;
  bool aborted_ = false;
  bool stop_requested_ = false;  // the scheduler sent StopTraining
  std::string abort_reason_;

  struct Metrics {
    Counter* rows;
    Counter* lines_read;
    Counter* bad_lines;
    Gauge* rows_per_second;
    Gauge* loss;
    Gauge* staleness_bound;
    Gauge* inflight_pushes;
  };
  Metrics m_;
  RateMeter rows_meter_;
  wire::Progress last_rate_progress_;
  Clock::time_point next_rate_update_;
};

}  // namespace embedps::worker
