// The worker process logic: joins the cluster, leases data partitions from
// the scheduler, and trains sparse logistic regression on them in
// minibatches (pull the batch's rows, compute, push summed gradients
// asynchronously), reporting progress in its heartbeats.
#pragma once

#include <map>
#include <memory>
#include <optional>
#include <string>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/scheduler_link.h"
#include "common/status.h"
#include "worker/data/example_reader.h"
#include "worker/model/lr_model.h"
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
  // A parsed batch, its key index, and the pull that fetches its rows.
  struct InflightBatch {
    std::vector<data::Example> examples;
    LrModel model;
    std::vector<float> weights;
    uint64_t ticket = 0;
  };

  Status TrainPartition(const Partition& partition);
  // options_.format, or the detected format of `file` (remembered per file).
  StatusOr<data::Format> FormatOf(const std::string& file);
  // Waits for the batch's rows, computes, and pushes its gradients.
  Status TrainBatch(InflightBatch& batch);
  // Heartbeats and handles scheduler events between batches.
  Status Upkeep();
  Status WaitForShutdown();

  WorkerOptions options_;
  zmq::context_t& ctx_;
  MetricsRegistry* metrics_;
  SchedulerLink link_;
  std::unique_ptr<PsClient> client_;
  std::vector<std::unique_ptr<InflightBatch>> spare_;  // reused batch buffers
  std::vector<float> grads_;
  std::map<std::string, data::Format> detected_formats_;
  wire::Progress progress_;
  bool aborted_ = false;
  std::string abort_reason_;
};

}  // namespace embedps::worker
