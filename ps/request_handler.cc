#include "ps/request_handler.h"

#include <cstring>
#include <optional>
#include <string>
#include <variant>

#include <glog/logging.h>

#include "common/wire/codec.h"

namespace embedps::ps {
namespace {

// Frames are usually 8-byte aligned, but not always: use them in place when
// they are, copy them into per-thread scratch when not.
template <typename T>
const T* AlignedView(const zmq::message_t& frame, std::vector<T>* scratch) {
  if (reinterpret_cast<uintptr_t>(frame.data()) % alignof(T) == 0) {
    return static_cast<const T*>(frame.data());
  }
  wire::CopyPayload(frame, scratch);
  return scratch->data();
}

using DataRequest = RequestHandler::DataRequest;

bool Describe(const wire::Body& body, DataRequest* r) {
  if (auto* m = std::get_if<wire::PullMsg>(&body)) {
    *r = DataRequest{m->table, m->num_keys, 0, false, true, m->read_only};
  } else if (auto* m = std::get_if<wire::PushMsg>(&body)) {
    *r = DataRequest{m->table, m->num_keys, m->dim, true, false};
  } else if (auto* m = std::get_if<wire::PushPullMsg>(&body)) {
    *r = DataRequest{m->table, m->num_keys, m->dim, true, true};
  } else {
    return false;
  }
  return true;
}

// Whether a connection whose CURVE key is bound to `role` may send `body`:
// workers read and write rows, clients only read them, and the keys of
// servers and the scheduler never touch another server's rows.
bool RoleMaySend(const std::string& role, const wire::Body& body) {
  if (role == wire::RoleName(wire::Role::kWorker)) return true;
  return role == wire::RoleName(wire::Role::kClient) && std::holds_alternative<wire::PullMsg>(body);
}

}  // namespace

RequestHandler::RequestHandler(const ServingState* state, MetricsRegistry* metrics)
    : state_(state) {
  pulls_ = metrics->GetCounter("server.pull_requests");
  pushes_ = metrics->GetCounter("server.push_requests");
  keys_pulled_ = metrics->GetCounter("server.keys_pulled");
  keys_pushed_ = metrics->GetCounter("server.keys_pushed");
  malformed_ = metrics->GetCounter("server.malformed_messages");
  too_large_ = metrics->GetCounter("server.limit.message_bytes");
  version_mismatches_ = metrics->GetCounter("server.version_mismatches");
  rejected_ = metrics->GetCounter("server.rejected_requests");
  handler_nanos_ = metrics->GetCounter("server.handler_nanos");
  const std::string latency = "server.request_seconds";
  pull_seconds_ = metrics->GetHistogram(latency, LatencyBuckets(), {{"op", "pull"}});
  push_seconds_ = metrics->GetHistogram(latency, LatencyBuckets(), {{"op", "push"}});
  push_pull_seconds_ = metrics->GetHistogram(latency, LatencyBuckets(), {{"op", "push_pull"}});
  metrics->Describe(latency, "Time a handler thread spent serving one request, by operation");
  metrics->Describe("server.pull_requests", "Requests answered with rows (pulls and push+pulls)");
  metrics->Describe("server.push_requests", "Pushes and push+pulls applied");
  metrics->Describe("server.keys_pulled", "Keys whose rows were sent to workers");
  metrics->Describe("server.keys_pushed", "Keys whose gradients were applied");
  metrics->Describe("server.malformed_messages", "Requests that could not be decoded");
  metrics->Describe("server.rejected_requests",
                    "Requests refused: wrong cluster, a CURVE key of another role, unknown table, "
                    "stale epoch, not owner, dimension mismatch, non-finite gradients");
  metrics->Describe("server.handler_nanos", "Total handler time, in nanoseconds");
  limit_refusals_ = metrics->GetCounter("server.limit_refusals");
  limit_keys_ = metrics->GetCounter("server.limit.keys_per_request");
  limit_rows_ = metrics->GetCounter("server.limit.rows_per_table");
  limit_memory_ = metrics->GetCounter("server.limit.server_memory");
  duplicates_ = metrics->GetCounter("server.duplicate_requests");
  replica_refusals_ = metrics->GetCounter("server.replica_refused_pushes");
  metrics->Describe("server.replica_refused_pushes", "Pushes the backup refused, so not applied here either");
  metrics->Describe("server.limit_refusals", "Requests refused for a resource limit (any of the limit_* counters)");
  metrics->Describe("server.limit.keys_per_request", "Requests refused for more keys than --max_keys_per_request");
  metrics->Describe("server.limit.rows_per_table", "Pushes refused because a table reached its row limit");
  metrics->Describe("server.limit.server_memory", "Pushes refused because the server reached --max_server_memory_mb");
  metrics->Describe("server.limit.message_bytes", "Requests refused for being larger than --max_message_bytes");
  metrics->Describe("server.version_mismatches", "Requests refused for another wire-protocol version");
  metrics->Describe("server.duplicate_requests",
                    "Pushes seen again (a worker's resend of one already applied): answered, not applied twice");
}

void RequestHandler::SetShardMap(const ShardMap& map) {
  auto next = std::make_shared<const ShardMap>(map);
  MutexLock lock(&map_mu_);
  map_ = std::move(next);
}

std::shared_ptr<const ShardMap> RequestHandler::shard_map() const {
  MutexLock lock(&map_mu_);
  return map_;
}

void RequestHandler::Handle(Incoming& in, zmq::socket_t& socket) const {
  if (!in.status.ok()) {
    const wire::ErrorCode code = wire::ErrorCodeForDecodeFailure(in.status);
    if (code == wire::ErrorCode::kVersionMismatch) {
      version_mismatches_->Add();
      LOG_EVERY_N(ERROR, 100) << "refused a request from " << in.peer_address << ": "
                              << in.status.message();
    } else {
      malformed_->Add();
      if (code == wire::ErrorCode::kTooLarge) {
        too_large_->Add();
        limit_refusals_->Add();
      }
      LOG_EVERY_N(WARNING, 100) << "malformed request (" << in.bytes << " bytes) from "
                                << in.peer_address << ": " << in.status.message();
    }
    ReplyError(in.routing_id, wire::Header{}, code, in.status.message(), socket);
    return;
  }
  wire::Message& msg = in.message;
  if (msg.header.cluster_id != state_->cluster_id) {
    rejected_->Add();
    LOG_EVERY_N(WARNING, 100) << "refused a " << wire::BodyName(msg.body) << " from node "
                              << msg.header.sender << " at " << in.peer_address
                              << ": it belongs to another job (cluster id " << msg.header.cluster_id
                              << ", ours is " << state_->cluster_id << "; check --cluster_token)";
    ReplyError(in.routing_id, msg.header, wire::ErrorCode::kWrongCluster,
               "request from another cluster refused", socket);
    return;
  }
  if (!in.key_role.empty() && !RoleMaySend(in.key_role, msg.body)) {
    rejected_->Add();
    const std::string why = std::string("its CURVE key ") + in.key_name + " admits a " +
                            in.key_role + ", which may not send a " + wire::BodyName(msg.body) +
                            " to a server";
    LOG_EVERY_N(WARNING, 100) << "security: refused a " << wire::BodyName(msg.body) << " from node "
                              << msg.header.sender << " at " << in.peer_address << ": " << why;
    ReplyError(in.routing_id, msg.header, wire::ErrorCode::kNotAdmitted, why, socket);
    return;
  }
  HandleData(in.routing_id, msg, socket);
}

std::optional<RequestHandler::Refusal> RequestHandler::Admit(const wire::Message& msg, uint32_t table,
                                                             const uint64_t* keys, size_t n,
                                                             EmbeddingTable** out) const {
  auto it = state_->tables.find(table);
  if (it == state_->tables.end()) return Refusal{wire::ErrorCode::kUnknownTable, "unknown table " + std::to_string(table)};
  auto map = shard_map();
  if (map == nullptr || !state_->serving.load(std::memory_order_acquire)) {
    // A replacement may come up on its predecessor's endpoint (fixed ports:
    // ssh, Slurm, Kubernetes): the sender tries again shortly, by when it
    // serves or the new map has sent the sender elsewhere.
    return Refusal{wire::ErrorCode::kUnavailable,
                   "server is not serving yet (standby or restoring); request routed with shard map epoch " +
                       std::to_string(msg.header.epoch)};
  }
  if (LeaseExpired()) {
    return Refusal{wire::ErrorCode::kUnavailable,
                   "server has not heard from the scheduler for too long (stalled?); not serving until it does"};
  }
  const uint32_t rank = state_->rank.load(std::memory_order_relaxed);
  for (size_t i = 0; map->num_servers() > 1 && i < n; ++i) {
    if (map->ServerOf(keys[i]) != rank) {
      return Refusal{wire::ErrorCode::kNotOwner,
                     "key " + std::to_string(keys[i]) + " is not owned by server " + std::to_string(rank)};
    }
  }
  *out = it->second.get();
  return std::nullopt;
}

bool RequestHandler::LeaseExpired() const {
  const int64_t now_ns =
      std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now().time_since_epoch()).count();
  return now_ns > state_->serving_until_ns.load(std::memory_order_acquire);
}

std::optional<RequestHandler::Refusal> RequestHandler::Check(const wire::Message& msg, const DataRequest& req,
                                                             const uint64_t* keys, EmbeddingTable** table) const {
  if (auto refusal = Admit(msg, req.table, keys, req.num_keys, table)) return refusal;
  const uint32_t dim = (*table)->config().dim;
  if (req.has_grads && req.dim != dim) {
    return Refusal{wire::ErrorCode::kDimMismatch, "push has dim " + std::to_string(req.dim) + ", table " +
                                                      std::to_string(req.table) + " has dim " + std::to_string(dim)};
  }
  return CheckLimits(**table, keys, req.num_keys, req.wants_values);
}

void RequestHandler::HandleData(const zmq::message_t& from, wire::Message& msg,
                                zmq::socket_t& socket) const {
  DataRequest req;
  if (!Describe(msg.body, &req)) {
    return Refuse(from, msg.header,
                  Refusal{wire::ErrorCode::kMalformed, std::string("servers do not accept ") + wire::BodyName(msg.body)},
                  socket);
  }
  if (req.num_keys > state_->limits.max_keys_per_request) {
    return Refuse(from, msg.header,
                  Refusal{wire::ErrorCode::kLimitExceeded,
                          "request has " + std::to_string(req.num_keys) + " keys, more than --max_keys_per_request=" +
                              std::to_string(state_->limits.max_keys_per_request),
                          Refusal::Kind::kOverLimit, limit_keys_},
                  socket);
  }
  const auto start = Clock::now();
  thread_local std::vector<uint64_t> key_scratch;
  thread_local std::vector<float> grad_scratch;
  const uint64_t* keys = AlignedView(msg.payloads[0], &key_scratch);
  EmbeddingTable* table = nullptr;
  if (auto refusal = Check(msg, req, keys, &table)) return Refuse(from, msg.header, *refusal, socket);
  const uint32_t dim = table->config().dim;
  // Pushes claim their request id; the claim is finished on every path.
  Claim claimed = req.has_grads ? ClaimOnce(from, msg, *table, keys, req.num_keys, req.wants_values, socket)
                                : Claim{std::nullopt, std::nullopt, /*apply=*/true};
  if (claimed.refusal) return Refuse(from, msg.header, *claimed.refusal, socket);
  if (!claimed.apply) return;  // a duplicate, answered
  wire::PayloadBuffer<float> values(req.wants_values ? size_t{req.num_keys} * dim : 0);
  if (state_->null_store) {
    if (req.wants_values) std::memset(values.data(), 0, values.size() * sizeof(float));
  } else if (req.has_grads) {
    // --replicas=2: the backup applies it first; unconfirmed, it is not
    // applied here either. The ticket holds off a handoff cut until the
    // push is applied here too.
    std::optional<ReplicaForwarder::Ticket> ticket;
    if (forwarder_ != nullptr && forwarder_->enabled()) {
      ticket.emplace(forwarder_);
      std::string why;
      const auto outcome = forwarder_->Forward(msg.header, req.table, req.num_keys, dim, msg.payloads[0],
                                               msg.payloads[1], &why);
      // The lease was checked before the forward, which waits for the
      // backup (up to --replica_timeout_ms, longer across a SIGSTOP): if
      // it ran out meanwhile, the rank may have failed over without this
      // push, so it is not acknowledged (the simulator, seed 38148). The
      // backup's copy has it; the resend is acknowledged there (request
      // dedup), or applied by a replacement restored from a checkpoint.
      const bool lapsed = outcome == ReplicaForwarder::Outcome::kReplicated && LeaseExpired();
      if (lapsed) why = "server has not heard from the scheduler for too long (stalled?); send the push again";
      // Released before the reply: the sender's retry must find it free.
      const bool not_applied =
          lapsed || outcome == ReplicaForwarder::Outcome::kUnavailable || outcome == ReplicaForwarder::Outcome::kRefused;
      if (not_applied && claimed.claim) claimed.claim->Finish(false);
      if (lapsed || outcome == ReplicaForwarder::Outcome::kUnavailable) {
        return Refuse(from, msg.header, Refusal{wire::ErrorCode::kUnavailable, why, Refusal::Kind::kRetry}, socket);
      }
      if (outcome == ReplicaForwarder::Outcome::kRefused) {
        replica_refusals_->Add();
        return Refuse(from, msg.header, Refusal{wire::ErrorCode::kBadValues, why}, socket);
      }
    }
    const float* grads = AlignedView(msg.payloads[1], &grad_scratch);
    Status st = table->Push(keys, req.num_keys, grads, req.wants_values ? values.data() : nullptr);
    if (claimed.claim) claimed.claim->Finish(st.ok());
    if (!st.ok()) {
      LOG_EVERY_N(WARNING, 100) << "refused push from node " << msg.header.sender << ": " << st.message();
      return Refuse(from, msg.header, Refusal{wire::ErrorCode::kBadValues, st.message()}, socket);
    }
    pushes_->Add();
    keys_pushed_->Add(req.num_keys);
  } else {
    table->Pull(keys, req.num_keys, values.data(), req.read_only);
  }
  if (claimed.claim) claimed.claim->Finish(true);  // null store: "applied"
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  handler_nanos_->Add(nanos);
  Histogram* latency = !req.has_grads ? pull_seconds_ : req.wants_values ? push_pull_seconds_ : push_seconds_;
  latency->Observe(nanos * 1e-9);
  if (req.wants_values) {
    ReplyRows(from, msg, req.table, req.num_keys, dim, std::move(values), socket);
  } else {
    wire::Header reply = msg.header;
    reply.sender = state_->node_id;
    (void)SendMessage(socket, reply, wire::PushReplyMsg{req.table, req.num_keys}, {}, &from);
  }
}

std::optional<RequestHandler::Refusal> RequestHandler::CheckLimits(const EmbeddingTable& table,
                                                                   const uint64_t* keys, uint32_t num_keys,
                                                                   bool wants_values) const {
  const ServerLimits& limits = state_->limits;
  const uint64_t reply_bytes = uint64_t{num_keys} * table.config().dim * sizeof(float);
  if (wants_values && reply_bytes > limits.max_reply_bytes) {
    return Refusal{wire::ErrorCode::kTooLarge,
                   "the reply would be " + std::to_string(reply_bytes) + " bytes, more than --max_message_bytes=" +
                       std::to_string(limits.max_reply_bytes),
                   Refusal::Kind::kOverLimit, too_large_};
  }
  if (state_->null_store) return std::nullopt;
  // Only a request that could create rows past a limit pays for counting
  // its missing keys; every other request passes on a few atomic loads.
  const uint64_t row_cost = table.bytes_per_live_row();
  const uint64_t rows = table.approx_rows();
  const uint64_t memory = state_->LiveBytes();
  if (rows + num_keys <= limits.max_rows_per_table &&
      memory + num_keys * row_cost <= limits.max_memory_bytes) {
    return std::nullopt;
  }
  const uint64_t missing = table.CountMissing(keys, num_keys);
  if (missing == 0) return std::nullopt;
  if (rows + missing > limits.max_rows_per_table) {
    return Refusal{wire::ErrorCode::kLimitExceeded,
                   "table '" + table.config().name + "' holds " + std::to_string(rows) + " rows; " +
                       std::to_string(missing) + " new ones would pass --max_rows_per_table=" +
                       std::to_string(limits.max_rows_per_table),
                   Refusal::Kind::kOverLimit, limit_rows_};
  }
  if (memory + missing * row_cost > limits.max_memory_bytes) {
    return Refusal{wire::ErrorCode::kLimitExceeded,
                   "server rows take " + std::to_string(memory >> 20) + " MiB; " + std::to_string(missing) +
                       " new rows would pass --max_server_memory_mb=" + std::to_string(limits.max_memory_bytes >> 20),
                   Refusal::Kind::kOverLimit, limit_memory_};
  }
  return std::nullopt;
}

RequestHandler::Claim RequestHandler::ClaimOnce(const zmq::message_t& from, const wire::Message& msg,
                                                EmbeddingTable& table, const uint64_t* keys, uint32_t num_keys,
                                                bool wants_values, zmq::socket_t& socket) const {
  using Verdict = RequestDedup::Verdict;
  Claim result;
  // Node ids come from the scheduler; 0 (not registered) names no one.
  if (msg.header.sender == 0) {
    result.apply = true;
    return result;
  }
  switch (dedup_.Claim(msg.header.sender, msg.header.request_id)) {
    case Verdict::kNew:
      result.claim.emplace(&dedup_, msg.header.sender, msg.header.request_id);
      result.apply = true;
      return result;
    case Verdict::kApplied: {
      // Acknowledge again without applying; a push+pull gets today's rows.
      duplicates_->Add();
      if (!wants_values) {
        wire::Header reply = msg.header;
        reply.sender = state_->node_id;
        (void)SendMessage(socket, reply, wire::PushReplyMsg{table.config().id, num_keys}, {}, &from);
        return result;
      }
      const uint32_t dim = table.config().dim;
      wire::PayloadBuffer<float> values(size_t{num_keys} * dim);
      if (state_->null_store) {
        std::memset(values.data(), 0, values.size() * sizeof(float));
      } else {
        table.Pull(keys, num_keys, values.data());
      }
      ReplyRows(from, msg, table.config().id, num_keys, dim, std::move(values), socket);
      return result;
    }
    case Verdict::kInProgress:
      // The copy being applied will answer.
      duplicates_->Add();
      return result;
    case Verdict::kTooOld:
      result.refusal = Refusal{wire::ErrorCode::kAborted, "request id " + std::to_string(msg.header.request_id) +
                                                              " is too old to check for duplicates; not applied"};
      return result;
    case Verdict::kTooManySenders:
      result.refusal = Refusal{wire::ErrorCode::kLimitExceeded, "too many distinct senders to track; not applied",
                               Refusal::Kind::kOverLimit, limit_refusals_};
      return result;
  }
  return result;
}

void RequestHandler::ReplyRows(const zmq::message_t& to, const wire::Message& msg, uint32_t table,
                               uint32_t num_keys, uint32_t dim, wire::PayloadBuffer<float> values,
                               zmq::socket_t& socket) const {
  pulls_->Add();
  keys_pulled_->Add(num_keys);
  wire::Header reply = msg.header;
  reply.sender = state_->node_id;
  std::vector<zmq::message_t> payloads;
  payloads.push_back(std::move(values).Release());
  (void)SendMessage(socket, reply, wire::PullReplyMsg{table, num_keys, dim, wire::DataType::kFloat32},
                    std::move(payloads), &to);
}

void RequestHandler::Refuse(const zmq::message_t& to, const wire::Header& request, const Refusal& refusal,
                            zmq::socket_t& socket) const {
  switch (refusal.kind) {
    case Refusal::Kind::kRejected:
      rejected_->Add();
      break;
    case Refusal::Kind::kOverLimit:
      if (refusal.limit_counter != nullptr && refusal.limit_counter != limit_refusals_) refusal.limit_counter->Add();
      limit_refusals_->Add();
      rejected_->Add();
      LOG_EVERY_N(WARNING, 100) << "refused a request from node " << request.sender << ": " << refusal.message;
      break;
    case Refusal::Kind::kRetry:
      break;
  }
  ReplyError(to, request, refusal.code, refusal.message, socket);
}

void RequestHandler::ReplyError(const zmq::message_t& to, const wire::Header& request,
                                wire::ErrorCode code, const std::string& message,
                                zmq::socket_t& socket) const {
  wire::Header reply = request;
  reply.cluster_id = state_->cluster_id;
  reply.sender = state_->node_id;
  (void)SendMessage(socket, reply, wire::ErrorMsg{code, message, false}, {}, &to);
}

}  // namespace embedps::ps
