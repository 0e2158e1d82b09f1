#include "ps/replication/replica_receiver.h"

#include <glog/logging.h>

#include "common/security/socket_security.h"

namespace embedps::ps {

ReplicaReceiver::ReplicaReceiver(zmq::context_t& ctx, uint64_t cluster_id,
                                 const std::map<uint32_t, std::unique_ptr<EmbeddingTable>>* tables,
                                 MetricsRegistry* metrics)
    : ctx_(ctx), cluster_id_(cluster_id), tables_(tables), socket_(ctx, zmq::socket_type::router) {
  applied_ = metrics->GetCounter("server.replica_pushes_applied");
  keys_applied_ = metrics->GetCounter("server.replica_keys_applied");
  refused_ = metrics->GetCounter("server.replica_pushes_refused");
  metrics->Describe("server.replica_pushes_applied", "Forwarded pushes applied to this server's copy of its primary's rows");
  metrics->Describe("server.replica_keys_applied", "Keys of forwarded pushes applied to the copy");
  metrics->Describe("server.replica_pushes_refused", "Forwarded pushes refused (wrong primary, table, dim or values)");
}

ReplicaReceiver::~ReplicaReceiver() { Stop(); }

StatusOr<std::string> ReplicaReceiver::Start(const std::string& bind_endpoint,
                                             const security::CurveConfig& curve, size_t max_message_bytes,
                                             const wire::DecodeLimits& limits,
                                             const std::string& member_password) {
  limits_ = limits;
  ConfigureSocket(socket_, max_message_bytes);
  RETURN_IF_ERROR(security::SecureBindingSocket(socket_, curve, member_password));
  // The workers' endpoint's host, with a port of its own.
  const size_t colon = bind_endpoint.rfind(':');
  if (colon == std::string::npos) return InvalidArgument("bad endpoint " + bind_endpoint);
  ASSIGN_OR_RETURN(std::string bound, BindSocket(socket_, bind_endpoint.substr(0, colon) + ":0"));
  thread_ = std::thread([this] { Loop(); });
  return bound;
}

void ReplicaReceiver::Stop() {
  stopping_ = true;
  if (thread_.joinable()) thread_.join();
}

void ReplicaReceiver::SetMap(const ShardMap& map, uint32_t rank) {
  const bool on = map.replicas() > 1 && rank < map.num_servers();
  primary_rank_ = on ? static_cast<int64_t>(map.BackedUpBy(rank)) : -1;
}

void ReplicaReceiver::Loop() {
  while (!stopping_.load(std::memory_order_relaxed)) {
    Incoming in;
    if (ReceiveMessage(socket_, /*router=*/true, std::chrono::milliseconds(100), limits_, &in)) Handle(in);
  }
}

void ReplicaReceiver::Reply(const zmq::message_t& to, const wire::Header& request, bool ok,
                            const std::string& error) {
  if (!ok) {
    refused_->Add();
    LOG_EVERY_N(WARNING, 100) << "refused a forwarded push: " << error;
  }
  (void)SendMessage(socket_, request, wire::ReplicaAckMsg{ok, error}, {}, &to);
}

void ReplicaReceiver::Handle(Incoming& in) {
  if (!in.status.ok()) {
    refused_->Add();
    LOG_EVERY_N(WARNING, 100) << "malformed forwarded push from " << in.peer_address << ": " << in.status.message();
    return;
  }
  const wire::Message& msg = in.message;
  const auto* push = std::get_if<wire::ReplicaPushMsg>(&msg.body);
  if (msg.header.cluster_id != cluster_id_) {
    return Reply(in.routing_id, msg.header, false, "forwarded push from another cluster");
  }
  // With role-bound CURVE keys only a server may forward pushes.
  if (!in.key_role.empty() && in.key_role != "server") {
    return Reply(in.routing_id, msg.header, false,
                 "key " + in.key_name + " admits a " + in.key_role + ", and only servers forward pushes");
  }
  if (push == nullptr) {
    return Reply(in.routing_id, msg.header, false,
                 std::string("the replica endpoint accepts forwarded pushes only, not ") + wire::BodyName(msg.body));
  }
  const int64_t primary = primary_rank_.load();
  if (primary < 0 || push->primary_rank != static_cast<uint64_t>(primary)) {
    // Most likely the shard map that makes this server the backup has
    // reached the primary first: not applied, the push comes again.
    (void)SendMessage(socket_, msg.header,
                      wire::ErrorMsg{wire::ErrorCode::kStaleEpoch,
                                     primary < 0 ? "this server is not a backup yet (no replicated shard map)"
                                                 : "this server keeps the copy of server " + std::to_string(primary) +
                                                       ", not of server " + std::to_string(push->primary_rank),
                                     false},
                      {}, &in.routing_id);
    return;
  }
  auto it = tables_->find(push->table);
  if (it == tables_->end() || it->second->config().dim != push->dim) {
    return Reply(in.routing_id, msg.header, false,
                 "unknown table " + std::to_string(push->table) + " or wrong dim " + std::to_string(push->dim));
  }
  // A push forwarded again (its first answer was lost) is acknowledged, not
  // applied twice.
  switch (dedup_.Claim(msg.header.sender, msg.header.request_id)) {
    case RequestDedup::Verdict::kNew:
      break;
    case RequestDedup::Verdict::kApplied:
      return Reply(in.routing_id, msg.header, true, "");
    default:
      return Reply(in.routing_id, msg.header, false, "request id outside the duplicate-detection window");
  }
  std::vector<uint64_t> keys;
  std::vector<float> grads;
  wire::CopyPayload(msg.payloads[0], &keys);
  wire::CopyPayload(msg.payloads[1], &grads);
  Status st = it->second->Push(keys.data(), push->num_keys, grads.data(), nullptr);
  dedup_.Finish(msg.header.sender, msg.header.request_id, st.ok());
  if (!st.ok()) return Reply(in.routing_id, msg.header, false, st.message());
  applied_->Add();
  keys_applied_->Add(push->num_keys);
  Reply(in.routing_id, msg.header, true, "");
}

}  // namespace embedps::ps
