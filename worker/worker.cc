#include "worker/worker.h"

#include <deque>

#include <glog/logging.h>

namespace embedps::worker {

Worker::Worker(zmq::context_t& ctx, WorkerOptions options, MetricsRegistry* metrics)
    : options_(std::move(options)), ctx_(ctx), metrics_(metrics), link_(ctx, options_.link) {}

Status Worker::Run() {
  RETURN_IF_ERROR(link_.Join());
  options_.client.cluster_id = options_.link.cluster_id;
  options_.client.node_id = link_.node_id();
  options_.client.curve = options_.link.curve;
  client_ = std::make_unique<PsClient>(ctx_, options_.client);
  RETURN_IF_ERROR(client_->Connect(link_.shard_map()));

  int64_t finished = -1;
  while (true) {
    auto reply = link_.Call(wire::PartitionRequestMsg{finished, progress_},
                            std::chrono::milliseconds(options_.client.timeout));
    if (!reply.ok()) return reply.status();
    if (auto* s = std::get_if<wire::ShutdownMsg>(&reply->body)) {
      return Aborted("job aborted by the scheduler: " + s->reason);
    }
    auto* grant = std::get_if<wire::PartitionGrantMsg>(&reply->body);
    if (grant == nullptr) return Internal("scheduler answered a partition request oddly");
    if (!grant->has_partition) break;
    Status st = TrainPartition(grant->partition);
    if (!st.ok()) {
      if (!aborted_) link_.ReportFatal(st);
      return st;
    }
    finished = grant->partition.id;
  }
  // Every gradient must be applied before the scheduler may export the model.
  RETURN_IF_ERROR(client_->Flush());
  RETURN_IF_ERROR(link_.Send(wire::WorkerDoneMsg{progress_}).status());
  LOG(INFO) << "worker " << link_.rank() << " done: " << progress_.rows << " rows, "
            << progress_.bad_lines << " bad lines";
  return WaitForShutdown();
}

Status Worker::TrainPartition(const Partition& partition) {
  auto reader = data::CriteoReader::Open(partition, options_.reader);
  if (!reader.ok()) return reader.status();
  const uint64_t lines_before = progress_.lines_read;
  const uint64_t bad_before = progress_.bad_lines;
  // Up to 1 + prefetch batches are in flight: the oldest is being trained
  // while the pulls of the next ones are already on their way.
  std::deque<std::unique_ptr<InflightBatch>> inflight;
  bool reading = true;
  while (true) {
    while (reading && inflight.size() < 1 + options_.prefetch) {
      auto slot = spare_.empty() ? std::make_unique<InflightBatch>() : std::move(spare_.back());
      if (!spare_.empty()) spare_.pop_back();
      auto n = (*reader)->NextBatch(options_.batch_size, &slot->examples);
      progress_.lines_read = lines_before + (*reader)->lines_read();
      progress_.bad_lines = bad_before + (*reader)->bad_lines();
      if (!n.ok()) return n.status();
      if (*n == 0) {
        reading = false;
        spare_.push_back(std::move(slot));
        break;
      }
      slot->model.Prepare(slot->examples);
      ASSIGN_OR_RETURN(slot->ticket, client_->StartPull(options_.table, 1, slot->model.unique_keys(),
                                                        &slot->weights));
      inflight.push_back(std::move(slot));
    }
    if (inflight.empty()) break;
    RETURN_IF_ERROR(TrainBatch(*inflight.front()));
    spare_.push_back(std::move(inflight.front()));
    inflight.pop_front();
    RETURN_IF_ERROR(Upkeep());
  }
  return Status::OK();
}

Status Worker::TrainBatch(InflightBatch& b) {
  RETURN_IF_ERROR(client_->Wait(b.ticket));
  const double loss = b.model.Step(b.examples, b.weights, &grads_);
  RETURN_IF_ERROR(client_->Push(options_.table, 1, b.model.unique_keys(), grads_));
  progress_.rows += b.examples.size();
  progress_.loss_sum += loss;
  return Status::OK();
}

Status Worker::Upkeep() {
  RETURN_IF_ERROR(link_.Tick(progress_));
  while (auto ev = link_.NextEvent()) {
    if (auto* s = std::get_if<wire::ShutdownMsg>(&ev->body)) {
      aborted_ = true;
      if (s->ok) return Aborted("scheduler ended the job while this worker was training");
      return Aborted("job aborted by the scheduler: " + s->reason);
    }
  }
  return Status::OK();
}

Status Worker::WaitForShutdown() {
  while (true) {
    RETURN_IF_ERROR(link_.Tick(progress_));
    while (auto ev = link_.NextEvent()) {
      if (auto* s = std::get_if<wire::ShutdownMsg>(&ev->body)) {
        if (s->ok) return Status::OK();
        return Aborted("job aborted by the scheduler: " + s->reason);
      }
    }
    zmq::pollitem_t item{link_.socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
  }
}

}  // namespace embedps::worker
