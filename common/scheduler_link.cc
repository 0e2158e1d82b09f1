#include "common/scheduler_link.h"

#include <unistd.h>

#include <algorithm>

#include <glog/logging.h>

#include "common/security/socket_security.h"

namespace embedps {

SchedulerLink::SchedulerLink(zmq::context_t& ctx, SchedulerLinkOptions options)
    : options_(std::move(options)), socket_(ctx, zmq::socket_type::dealer) {
  ConfigureSocket(socket_, options_.limits.max_message_bytes);
  SetSendTimeout(socket_, options_.scheduler_timeout);
  header_.cluster_id = options_.cluster_id;
  header_.version = options_.wire_version;
  last_heard_ = Clock::now();
  next_heartbeat_ = Clock::now();
}

StatusOr<uint64_t> SchedulerLink::Send(const wire::Body& body) {
  ++header_.request_id;
  RETURN_IF_ERROR(SendMessage(socket_, header_, body));
  sent_.emplace_back(header_.request_id, Clock::now());
  // Only the newest requests can still be answered in time to matter.
  if (sent_.size() > 64) sent_.pop_front();
  return header_.request_id;
}

void SchedulerLink::NoteAnswer(const wire::Message& m) {
  // An answer (not an error) to a request sent at time t: the scheduler
  // held this node alive at some instant after t.
  if (std::holds_alternative<wire::ErrorMsg>(m.body)) return;
  while (!sent_.empty() && sent_.front().first <= m.header.request_id) {
    if (sent_.front().first == m.header.request_id) answered_sent_at_ = std::max(answered_sent_at_, sent_.front().second);
    sent_.pop_front();
  }
}

bool SchedulerLink::ReceiveOne(std::chrono::milliseconds timeout, uint64_t request_id,
                               std::optional<wire::Message>* reply) {
  Incoming in;
  if (!ReceiveMessage(socket_, /*router=*/false, timeout, options_.limits, &in)) return false;
  if (!in.status.ok()) {
    if (wire::ErrorCodeForDecodeFailure(in.status) == wire::ErrorCode::kVersionMismatch) {
      if (incompatible_.ok()) LOG(ERROR) << "cannot talk to the scheduler: " << in.status.message();
      incompatible_ = in.status;
      return true;
    }
    LOG(WARNING) << "dropping malformed message from scheduler: " << in.status.ToString();
    return true;
  }
  if (in.message.header.cluster_id != options_.cluster_id) {
    // The one message worth reading from a foreign cluster is its refusal:
    // it tells the user why this node cannot join.
    auto* err = std::get_if<wire::ErrorMsg>(&in.message.body);
    if (err == nullptr || err->code != wire::ErrorCode::kWrongCluster) {
      LOG(WARNING) << "dropping message from another cluster";
      return true;
    }
  }
  if (auto* err = std::get_if<wire::ErrorMsg>(&in.message.body);
      err != nullptr && err->code == wire::ErrorCode::kReplaced) {
    // Presumed dead while stalled, and another node took this one's place.
    if (replaced_.ok()) LOG(WARNING) << "replaced: " << err->message;
    replaced_ = Aborted(std::string(kReplaced) + ": " + err->message);
    last_heard_ = Clock::now();
    return true;
  }
  if (auto* err = std::get_if<wire::ErrorMsg>(&in.message.body);
      err != nullptr && err->code == wire::ErrorCode::kNotAdmitted && joined_) {
    // A scheduler that does not know this node: it restarted.
    if (!rejoin_needed_) {
      LOG(WARNING) << "the scheduler does not know this node any more (it restarted, or it presumed this node "
                      "dead): "
                   << err->message;
    }
    rejoin_needed_ = true;
    last_heard_ = Clock::now();
    return true;
  }
  if (auto* err = std::get_if<wire::ErrorMsg>(&in.message.body);
      err != nullptr && err->code == wire::ErrorCode::kVersionMismatch) {
    // The scheduler could not read our messages: nothing we send will work.
    if (incompatible_.ok()) LOG(ERROR) << "the scheduler refused this node: " << err->message;
    incompatible_ = FailedPrecondition("the scheduler refused this node: " + err->message);
    return true;
  }
  last_heard_ = Clock::now();
  NoteAnswer(in.message);
  if (request_id != 0 && in.message.header.request_id == request_id &&
      !std::holds_alternative<wire::ShardMapMsg>(in.message.body)) {
    *reply = std::move(in.message);
    return true;
  }
  if (auto* m = std::get_if<wire::ShardMapMsg>(&in.message.body)) {
    if (m->map.epoch() >= shard_map_.epoch()) {
      shard_map_ = m->map;
      header_.epoch = shard_map_.epoch();
    }
  }
  // Heartbeat echoes only prove the scheduler is alive.
  if (!std::holds_alternative<wire::HeartbeatMsg>(in.message.body)) {
    events_.push_back(std::move(in.message));
  }
  return true;
}

StatusOr<wire::Message> SchedulerLink::Call(const wire::Body& body,
                                            std::chrono::milliseconds timeout) {
  ASSIGN_OR_RETURN(uint64_t id, Send(body));
  // A request that carries the node's progress is newer than the last
  // heartbeat: repeat that progress, not an older one.
  if (const auto* req = std::get_if<wire::PartitionRequestMsg>(&body)) last_heartbeat_.progress = req->progress;
  const auto deadline = Clock::now() + timeout;
  while (Clock::now() < deadline) {
    if (joined_ && Clock::now() >= next_heartbeat_) {
      // The scheduler never lets a repeated heartbeat take totals back.
      RETURN_IF_ERROR(Send(last_heartbeat_).status());
      next_heartbeat_ = Clock::now() + options_.heartbeat_interval;
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - Clock::now());
    std::optional<wire::Message> reply;
    ReceiveOne(std::min(left, std::chrono::milliseconds(100)), id, &reply);
    if (!incompatible_.ok()) return incompatible_;
    if (!replaced_.ok()) return replaced_;
    if (rejoin_needed_) return Unavailable(kSchedulerRestarted);
    if (!reply) continue;
    if (auto* err = std::get_if<wire::ErrorMsg>(&reply->body)) {
      return FailedPrecondition(std::string("scheduler refused ") + wire::BodyName(body) + ": " +
                                err->message);
    }
    return std::move(*reply);
  }
  std::string hint;
  if (options_.curve.enabled()) {
    hint = " (CURVE is on: check that this node's key '" + options_.curve.node_name +
           "' is on the scheduler's allow-list and that " + options_.curve.dir +
           " holds this cluster's public key; the scheduler's log names refused connections)";
  } else {
    hint = " (is the scheduler up? If the cluster uses CURVE, this node needs --curve_dir and "
           "--curve_key too)";
  }
  return DeadlineExceeded(std::string("no reply from scheduler to ") + wire::BodyName(body) +
                          " within " + std::to_string(timeout.count()) + " ms" + hint);
}

Status SchedulerLink::Join() {
  RETURN_IF_ERROR(security::SecureConnectingSocket(socket_, options_.curve));
  RETURN_IF_ERROR(ConnectSocket(socket_, options_.scheduler_endpoint));
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  return Register(wire::RegisterMsg{options_.role, options_.advertised_endpoint, host,
                                    static_cast<uint32_t>(getpid()), options_.metrics_url, -1, false,
                                    options_.replica_endpoint});
}

Status SchedulerLink::Rejoin(bool has_state, std::optional<uint32_t> rank) {
  if (rank) rank_ = *rank;
  char host[256] = {0};
  gethostname(host, sizeof(host) - 1);
  wire::RegisterMsg reg{options_.role, options_.advertised_endpoint, host, static_cast<uint32_t>(getpid()),
                        options_.metrics_url, static_cast<int32_t>(rank_), has_state,
                        options_.replica_endpoint};
  joined_ = false;
  rejoin_needed_ = false;
  events_.clear();
  last_heartbeat_ = wire::HeartbeatMsg{};  // the new scheduler counts from its checkpoint
  shard_map_ = ShardMap();
  header_.sender = 0;
  LOG(INFO) << "rejoining the restarted scheduler as " << wire::RoleName(options_.role) << " (was rank "
            << rank_ << (has_state ? ", rows kept" : "") << ")";
  return Register(reg);
}

Status SchedulerLink::Register(const wire::RegisterMsg& reg) {
  auto reply = Call(reg, options_.join_timeout);
  if (!reply.ok()) {
    return reply.status().WithContext("cannot join the cluster at " + options_.scheduler_endpoint);
  }
  auto* r = std::get_if<wire::RegisterReplyMsg>(&reply->body);
  if (r == nullptr) return Internal("scheduler answered register with the wrong message");
  node_id_ = r->node_id;
  rank_ = r->rank;
  num_workers_ = r->num_workers;
  node_timeout_ms_ = r->node_timeout_ms;
  header_.sender = node_id_;
  if (options_.on_joined) options_.on_joined(rank_);
  LOG(INFO) << "joined as " << wire::RoleName(options_.role) << " rank " << rank_ << " (node "
            << node_id_ << "); waiting for the shard map";
  const auto deadline = Clock::now() + options_.join_timeout;
  while (shard_map_.num_virtual_shards() == 0) {
    if (Clock::now() > deadline) return DeadlineExceeded("no shard map from the scheduler");
    ReceiveOne(std::chrono::milliseconds(100), 0, nullptr);
    if (!incompatible_.ok()) return incompatible_;
    for (auto& ev : events_) {
      if (auto* s = std::get_if<wire::ShutdownMsg>(&ev.body)) {
        return Aborted("scheduler ended the job before it started: " + s->reason);
      }
    }
  }
  // The shard map itself is not an event for the caller.
  events_.erase(std::remove_if(events_.begin(), events_.end(),
                               [](const wire::Message& m) {
                                 return std::holds_alternative<wire::ShardMapMsg>(m.body);
                               }),
                events_.end());
  last_heard_ = Clock::now();
  joined_ = true;
  return Status::OK();
}

Status SchedulerLink::Tick(const wire::Progress& progress) {
  return TickWithHeartbeat([&progress] { return wire::HeartbeatMsg{progress, std::nullopt}; });
}

Status SchedulerLink::TickWithHeartbeat(const std::function<wire::HeartbeatMsg()>& make_heartbeat) {
  if (!incompatible_.ok()) return incompatible_;
  const auto now = Clock::now();
  if (now >= next_heartbeat_) {
    last_heartbeat_ = make_heartbeat();
    RETURN_IF_ERROR(Send(last_heartbeat_).status());
    next_heartbeat_ = now + options_.heartbeat_interval;
  }
  while (ReceiveOne(std::chrono::milliseconds(0), 0, nullptr)) {
  }
  if (!replaced_.ok()) return replaced_;
  if (rejoin_needed_) return Unavailable(kSchedulerRestarted);
  if (Clock::now() - last_heard_ > options_.scheduler_timeout) {
    return Unavailable("lost contact with the scheduler at " + options_.scheduler_endpoint);
  }
  return Status::OK();
}

std::optional<wire::Message> SchedulerLink::NextEvent() {
  if (events_.empty()) return std::nullopt;
  wire::Message m = std::move(events_.front());
  events_.pop_front();
  return m;
}

void SchedulerLink::ReportFatal(const Status& status) {
  wire::ErrorMsg err{wire::ErrorCode::kAborted, status.ToString(), /*fatal=*/true};
  (void)Send(err);
}

}  // namespace embedps
