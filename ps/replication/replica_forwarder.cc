#include "ps/replication/replica_forwarder.h"

#include <thread>

#include <glog/logging.h>

#include "common/security/socket_security.h"

namespace embedps::ps {

ReplicaForwarder::ReplicaForwarder(zmq::context_t& ctx, ReplicaForwarderOptions options,
                                   MetricsRegistry* metrics)
    : ctx_(ctx), options_(std::move(options)) {
  forwarded_ = metrics->GetCounter("server.replica_forwards");
  refused_ = metrics->GetCounter("server.replica_unavailable_refusals");
  timeouts_ = metrics->GetCounter("server.replica_timeouts");
  forward_seconds_ = metrics->GetHistogram("server.replica_forward_seconds", LatencyBuckets());
  metrics->Describe("server.replica_forwards", "Pushes confirmed by this server's backup (--replicas=2)");
  metrics->Describe("server.replica_unavailable_refusals",
                    "Pushes not applied because the backup could not confirm them (the worker sends them again)");
  metrics->Describe("server.replica_timeouts", "Forwards to the backup that got no answer in time");
  metrics->Describe("server.replica_forward_seconds", "Time from forwarding a push to the backup's answer");
}

void ReplicaForwarder::SetMap(const ShardMap& map, uint32_t rank) {
  MutexLock lock(&mu_);
  const bool on = map.replicas() > 1 && rank < map.num_servers() &&
                  map.replica_endpoints().size() == map.num_servers();
  rank_ = rank;
  if (!on) {
    enabled_.store(false, std::memory_order_release);
    return;
  }
  backup_rank_ = map.BackupOf(rank);
  backup_endpoint_ = map.replica_endpoints()[backup_rank_];
  if (!suspended_endpoint_.empty() && suspended_endpoint_ != backup_endpoint_) {
    LOG(INFO) << "backup server " << backup_rank_ << " is back at " << backup_endpoint_
              << "; pushes are replicated again";
    suspended_endpoint_.clear();
    retry_at_ = {};
  }
  enabled_.store(true, std::memory_order_release);
}

Status ReplicaForwarder::Suspend(const std::string& why, std::chrono::milliseconds wait) {
  {
    MutexLock lock(&mu_);
    suspended_endpoint_ = backup_endpoint_;
    suspended_why_ = why;
    pool_.clear();  // queued forwards to the dead backup go with the sockets
  }
  LOG(WARNING) << "pushes to this server are refused until its backup is replaced: " << why;
  const auto deadline = Clock::now() + wait;
  while (in_flight_.load() > 0) {
    if (Clock::now() >= deadline) {
      return DeadlineExceeded(std::to_string(in_flight_.load()) + " pushes still in flight after " +
                              std::to_string(wait.count()) + " ms");
    }
    std::this_thread::sleep_for(std::chrono::milliseconds(1));
  }
  return Status::OK();
}

void ReplicaForwarder::EndSuspension() {
  MutexLock lock(&mu_);
  suspended_endpoint_.clear();
  retry_at_ = {};
}

StatusOr<ReplicaForwarder::Pooled> ReplicaForwarder::TakeSocket(const std::string& endpoint) {
  {
    MutexLock lock(&mu_);
    while (!pool_.empty()) {
      Pooled p = std::move(pool_.back());
      pool_.pop_back();
      if (p.endpoint == endpoint) return p;
    }
  }
  Pooled p{endpoint, std::make_unique<zmq::socket_t>(ctx_, zmq::socket_type::dealer)};
  ConfigureSocket(*p.socket, options_.max_message_bytes);
  SetSendTimeout(*p.socket, options_.timeout);
  RETURN_IF_ERROR(security::SecureConnectingSocket(*p.socket, options_.curve, options_.member_password));
  RETURN_IF_ERROR(ConnectSocket(*p.socket, endpoint));
  return p;
}

void ReplicaForwarder::ReturnSocket(Pooled pooled) {
  MutexLock lock(&mu_);
  if (pooled.endpoint == backup_endpoint_ && suspended_endpoint_.empty()) pool_.push_back(std::move(pooled));
}

ReplicaForwarder::Outcome ReplicaForwarder::Forward(const wire::Header& header, uint32_t table,
                                                    uint32_t num_keys, uint32_t dim,
                                                    const zmq::message_t& keys,
                                                    const zmq::message_t& grads, std::string* error) {
  if (!enabled()) return Outcome::kNotReplicated;
  std::string endpoint;
  uint32_t rank = 0;
  {
    MutexLock lock(&mu_);
    if (!suspended_endpoint_.empty() || Clock::now() < retry_at_) {
      refused_->Add();
      *error = "the copy of this server's rows (server " + std::to_string(backup_rank_) + ") is unavailable" +
               (suspended_why_.empty() || suspended_endpoint_.empty() ? std::string() : ": " + suspended_why_) +
               "; send the push again";
      return Outcome::kUnavailable;
    }
    endpoint = backup_endpoint_;
    rank = rank_;
  }
  const auto start = Clock::now();
  auto give_up = [&](const std::string& why) {
    {
      MutexLock lock(&mu_);
      retry_at_ = Clock::now() + options_.retry_after;
    }
    timeouts_->Add();
    refused_->Add();
    LOG_EVERY_N(WARNING, 20) << "backup server at " << endpoint << ": " << why
                             << "; refusing pushes for " << options_.retry_after.count() << " ms";
    *error = "the backup server did not confirm the push (" + why + "); send it again";
    return Outcome::kUnavailable;
  };
  auto pooled = TakeSocket(endpoint);
  if (!pooled.ok()) return give_up(pooled.status().message());
  // Payloads are shared with the request, not copied (zmq_msg_copy).
  std::vector<zmq::message_t> payloads(2);
  payloads[0].copy(const_cast<zmq::message_t&>(keys));
  payloads[1].copy(const_cast<zmq::message_t&>(grads));
  Status sent = SendMessage(*pooled->socket, header, wire::ReplicaPushMsg{table, num_keys, dim, rank},
                            std::move(payloads));
  if (!sent.ok()) return give_up(sent.message());
  Incoming in;
  const auto deadline = start + options_.timeout;
  while (true) {
    const auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    if (left.count() <= 0 || !ReceiveMessage(*pooled->socket, /*router=*/false, left, options_.limits, &in)) {
      return give_up("no answer within " + std::to_string(options_.timeout.count()) + " ms");
    }
    // One request at a time per socket: anything else is not ours.
    if (in.status.ok() && in.message.header.request_id == header.request_id) break;
  }
  forward_seconds_->Observe(std::chrono::duration<double>(Clock::now() - start).count());
  ReturnSocket(std::move(pooled).value());
  if (const auto* ack = std::get_if<wire::ReplicaAckMsg>(&in.message.body)) {
    if (ack->ok) {
      forwarded_->Add();
      return Outcome::kReplicated;
    }
    *error = "the backup refused the push: " + ack->error;
    return Outcome::kRefused;
  }
  if (const auto* err = std::get_if<wire::ErrorMsg>(&in.message.body)) {
    if (err->code == wire::ErrorCode::kStaleEpoch) {
      // The backup is alive but has not applied the shard map that makes
      // it our backup yet: the push is not applied and comes again.
      refused_->Add();
      *error = "the backup server is not ready: " + err->message + "; send the push again";
      return Outcome::kUnavailable;
    }
    *error = "the backup refused the push: " + err->message;
    return err->code == wire::ErrorCode::kBadValues ? Outcome::kRefused : give_up(err->message);
  }
  return give_up(std::string("unexpected ") + wire::BodyName(in.message.body) + " from the backup");
}

}  // namespace embedps::ps
