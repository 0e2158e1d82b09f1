#include "ps/request_handler.h"

#include <cstring>

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

struct DataRequest {
  uint32_t table = 0;
  uint32_t num_keys = 0;
  uint32_t dim = 0;
  bool has_grads = false;
  bool wants_values = false;
};

bool Describe(const wire::Body& body, DataRequest* r) {
  if (auto* m = std::get_if<wire::PullMsg>(&body)) {
    *r = DataRequest{m->table, m->num_keys, 0, false, true};
  } else if (auto* m = std::get_if<wire::PushMsg>(&body)) {
    *r = DataRequest{m->table, m->num_keys, m->dim, true, false};
  } else if (auto* m = std::get_if<wire::PushPullMsg>(&body)) {
    *r = DataRequest{m->table, m->num_keys, m->dim, true, true};
  } else {
    return false;
  }
  return true;
}

}  // namespace

RequestHandler::RequestHandler(const ServingState* state, MetricsRegistry* metrics)
    : state_(state) {
  pulls_ = metrics->GetCounter("server.pull_requests");
  pushes_ = metrics->GetCounter("server.push_requests");
  keys_pulled_ = metrics->GetCounter("server.keys_pulled");
  keys_pushed_ = metrics->GetCounter("server.keys_pushed");
  malformed_ = metrics->GetCounter("server.malformed_messages");
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
                    "Requests refused: wrong cluster, unknown table, stale epoch, not owner, "
                    "dimension mismatch, non-finite gradients");
  metrics->Describe("server.handler_nanos", "Total handler time, in nanoseconds");
}

void RequestHandler::SetShardMap(const ShardMap& map) {
  auto next = std::make_shared<const ShardMap>(map);
  std::lock_guard<std::mutex> lock(map_mu_);
  map_ = std::move(next);
}

std::shared_ptr<const ShardMap> RequestHandler::shard_map() const {
  std::lock_guard<std::mutex> lock(map_mu_);
  return map_;
}

void RequestHandler::Handle(Incoming& in, zmq::socket_t& socket) const {
  if (!in.status.ok()) {
    malformed_->Add();
    LOG_EVERY_N(WARNING, 100) << "malformed request (" << in.bytes << " bytes): " << in.status.message();
    const auto code = in.status.code() == StatusCode::kResourceExhausted ? wire::ErrorCode::kTooLarge
                                                                         : wire::ErrorCode::kMalformed;
    ReplyError(in.routing_id, wire::Header{}, code, in.status.message(), socket);
    return;
  }
  wire::Message& msg = in.message;
  if (msg.header.cluster_id != state_->cluster_id) {
    rejected_->Add();
    ReplyError(in.routing_id, msg.header, wire::ErrorCode::kWrongCluster,
               "request from another cluster refused", socket);
    return;
  }
  HandleData(in.routing_id, msg, socket);
}

EmbeddingTable* RequestHandler::Admit(const zmq::message_t& from, const wire::Message& msg,
                                      uint32_t table, const uint64_t* keys, size_t n,
                                      zmq::socket_t& socket) const {
  auto it = state_->tables.find(table);
  if (it == state_->tables.end()) {
    rejected_->Add();
    ReplyError(from, msg.header, wire::ErrorCode::kUnknownTable, "unknown table " + std::to_string(table),
               socket);
    return nullptr;
  }
  auto map = shard_map();
  if (map == nullptr || msg.header.epoch != map->epoch()) {
    rejected_->Add();
    ReplyError(from, msg.header, wire::ErrorCode::kStaleEpoch,
               "request routed with shard map epoch " + std::to_string(msg.header.epoch) +
                   ", current is " + std::to_string(map ? map->epoch() : 0),
               socket);
    return nullptr;
  }
  for (size_t i = 0; map->num_servers() > 1 && i < n; ++i) {
    if (map->ServerOf(keys[i]) != state_->rank) {
      rejected_->Add();
      ReplyError(from, msg.header, wire::ErrorCode::kNotOwner,
                 "key " + std::to_string(keys[i]) + " is not owned by server " +
                     std::to_string(state_->rank),
                 socket);
      return nullptr;
    }
  }
  return it->second.get();
}

void RequestHandler::HandleData(const zmq::message_t& from, wire::Message& msg,
                                zmq::socket_t& socket) const {
  DataRequest req;
  if (!Describe(msg.body, &req)) {
    rejected_->Add();
    ReplyError(from, msg.header, wire::ErrorCode::kMalformed,
               std::string("servers do not accept ") + wire::BodyName(msg.body), socket);
    return;
  }
  const auto start = Clock::now();
  thread_local std::vector<uint64_t> key_scratch;
  thread_local std::vector<float> grad_scratch;
  const uint64_t* keys = AlignedView(msg.payloads[0], &key_scratch);
  EmbeddingTable* table = Admit(from, msg, req.table, keys, req.num_keys, socket);
  if (table == nullptr) return;
  const uint32_t dim = table->config().dim;
  if (req.has_grads && req.dim != dim) {
    rejected_->Add();
    ReplyError(from, msg.header, wire::ErrorCode::kDimMismatch,
               "push has dim " + std::to_string(req.dim) + ", table " + std::to_string(req.table) +
                   " has dim " + std::to_string(dim),
               socket);
    return;
  }
  wire::PayloadBuffer<float> values(req.wants_values ? size_t{req.num_keys} * dim : 0);
  if (state_->null_store) {
    if (req.wants_values) std::memset(values.data(), 0, values.size() * sizeof(float));
  } else if (req.has_grads) {
    const float* grads = AlignedView(msg.payloads[1], &grad_scratch);
    Status st = table->Push(keys, req.num_keys, grads, req.wants_values ? values.data() : nullptr);
    if (!st.ok()) {
      rejected_->Add();
      LOG_EVERY_N(WARNING, 100) << "refused push from node " << msg.header.sender << ": " << st.message();
      ReplyError(from, msg.header, wire::ErrorCode::kBadValues, st.message(), socket);
      return;
    }
    pushes_->Add();
    keys_pushed_->Add(req.num_keys);
  } else {
    table->Pull(keys, req.num_keys, values.data());
  }
  if (req.wants_values) {
    pulls_->Add();
    keys_pulled_->Add(req.num_keys);
  }
  const auto nanos = std::chrono::duration_cast<std::chrono::nanoseconds>(Clock::now() - start).count();
  handler_nanos_->Add(nanos);
  Histogram* latency = !req.has_grads ? pull_seconds_ : req.wants_values ? push_pull_seconds_ : push_seconds_;
  latency->Observe(nanos * 1e-9);
  wire::Header reply = msg.header;
  reply.sender = state_->node_id;
  std::vector<zmq::message_t> payloads;
  if (req.wants_values) {
    payloads.push_back(std::move(values).Release());
    (void)SendMessage(socket, reply, wire::PullReplyMsg{req.table, req.num_keys, dim, wire::DataType::kFloat32},
                      std::move(payloads), &from);
  } else {
    (void)SendMessage(socket, reply, wire::PushReplyMsg{req.table, req.num_keys}, {}, &from);
  }
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
