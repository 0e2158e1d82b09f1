// The worker process logic: joins the cluster, leases data partitions from
// the scheduler, and trains sparse logistic regression on them in
// minibatches (pull the batch's rows, compute, push summed gradients
// asynchronously), reporting progress in its heartbeats.
#pragma once

#include <memory>

#include <zmq.hpp>

#include "common/metrics.h"
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
  uint32_t table = 0;
};

class Worker {
 public:
  // `metrics` is borrowed and must outlive the worker.
  Worker(zmq::context_t& ctx, WorkerOptions options, MetricsRegistry* metrics);

  // Runs until the scheduler ends the job. Returns the first error: bad
  // data past the threshold, a refused request, a lost scheduler.
  Status Run();

 private:
  Status TrainPartition(const Partition& partition);
  Status TrainBatch(const std::vector<data::CriteoExample>& batch);
  // Heartbeats and handles scheduler events between batches.
  Status Upkeep();
  Status WaitForShutdown();

  WorkerOptions options_;
  zmq::context_t& ctx_;
  MetricsRegistry* metrics_;
  SchedulerLink link_;
  std::unique_ptr<PsClient> client_;
  LrModel model_;
  std::vector<float> weights_;
  std::vector<float> grads_;
  wire::Progress progress_;
  bool aborted_ = false;
  std::string abort_reason_;
};

}  // namespace embedps::worker
