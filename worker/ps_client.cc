#include "worker/ps_client.h"

#include <cmath>
#include <cstring>

#include <glog/logging.h>

#include "common/wire/codec.h"

namespace embedps::worker {

PsClient::PsClient(zmq::context_t& ctx, PsClientOptions options)
    : options_(std::move(options)), ctx_(ctx) {
  header_.cluster_id = options_.cluster_id;
  header_.sender = options_.node_id;
}

Status PsClient::Connect(const ShardMap& map) {
  map_ = map;
  header_.epoch = map.epoch();
  sockets_.clear();
  for (const std::string& endpoint : map.endpoints()) {
    zmq::socket_t s(ctx_, zmq::socket_type::dealer);
    ConfigureSocket(s, options_.limits.max_message_bytes);
    RETURN_IF_ERROR(ConnectSocket(s, endpoint));
    sockets_.push_back(std::move(s));
  }
  poll_items_.clear();
  for (auto& s : sockets_) poll_items_.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
  routed_.assign(sockets_.size(), {});
  return Status::OK();
}

void PsClient::Route(const std::vector<uint64_t>& keys) {
  for (auto& r : routed_) r.clear();
  for (uint32_t i = 0; i < keys.size(); ++i) routed_[map_.ServerOf(keys[i])].push_back(i);
}

Status PsClient::Send(uint32_t server, const wire::Body& body,
                      std::vector<zmq::message_t> payloads, uint64_t* request_id) {
  header_.request_id++;
  *request_id = header_.request_id;
  return SendMessage(sockets_[server], header_, body, std::move(payloads));
}

Status PsClient::Pull(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
                      std::vector<float>* values) {
  if (!error_.ok()) return std::exchange(error_, Status::OK());
  values->resize(keys.size() * dim);
  pull_out_ = values;
  pull_dim_ = dim;
  Route(keys);
  pending_pulls_.clear();
  for (uint32_t s = 0; s < routed_.size(); ++s) {
    if (routed_[s].empty()) continue;
    std::vector<uint64_t> part(routed_[s].size());
    for (size_t i = 0; i < part.size(); ++i) part[i] = keys[routed_[s][i]];
    std::vector<zmq::message_t> payloads;
    payloads.push_back(wire::PayloadFromVector(std::move(part)));
    uint64_t id = 0;
    RETURN_IF_ERROR(Send(s, wire::PullMsg{table, static_cast<uint32_t>(routed_[s].size())},
                         std::move(payloads), &id));
    pending_pulls_[id] = PendingPull{s, &routed_[s], false};
  }
  Status st = PumpUntil(
      [&] {
        for (const auto& [id, p] : pending_pulls_) {
          if (!p.done) return false;
        }
        return true;
      },
      "pull");
  pending_pulls_.clear();
  pull_out_ = nullptr;
  if (!st.ok()) return st;
  return std::exchange(error_, Status::OK());
}

Status PsClient::Push(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
                      const std::vector<float>& grads) {
  if (grads.size() != keys.size() * dim) {
    return InvalidArgument("push of " + std::to_string(keys.size()) + " keys needs " +
                           std::to_string(keys.size() * dim) + " gradients, got " +
                           std::to_string(grads.size()));
  }
  // Servers refuse non-finite gradients too, but only for their own part;
  // checking here keeps a push all-or-nothing.
  for (float g : grads) {
    if (!std::isfinite(g)) return InvalidArgument("push refused: gradient is NaN or infinite");
  }
  RETURN_IF_ERROR(PumpUntil(
      [&] { return inflight_pushes_.size() + sockets_.size() <= options_.max_inflight_pushes; },
      "push window"));
  if (!error_.ok()) return std::exchange(error_, Status::OK());
  Route(keys);
  for (uint32_t s = 0; s < routed_.size(); ++s) {
    const auto& pos = routed_[s];
    if (pos.empty()) continue;
    std::vector<uint64_t> part_keys(pos.size());
    std::vector<float> part_grads(pos.size() * dim);
    for (size_t i = 0; i < pos.size(); ++i) {
      part_keys[i] = keys[pos[i]];
      std::memcpy(&part_grads[i * dim], &grads[size_t{pos[i]} * dim], dim * sizeof(float));
    }
    std::vector<zmq::message_t> payloads;
    payloads.push_back(wire::PayloadFromVector(std::move(part_keys)));
    payloads.push_back(wire::PayloadFromVector(std::move(part_grads)));
    uint64_t id = 0;
    RETURN_IF_ERROR(Send(s,
                         wire::PushMsg{table, static_cast<uint32_t>(pos.size()), dim,
                                       wire::DataType::kFloat32},
                         std::move(payloads), &id));
    inflight_pushes_[id] = s;
  }
  return Status::OK();
}

Status PsClient::Flush() {
  RETURN_IF_ERROR(PumpUntil([&] { return inflight_pushes_.empty(); }, "push flush"));
  return std::exchange(error_, Status::OK());
}

template <typename Done>
Status PsClient::PumpUntil(Done done, const char* what) {
  const auto deadline = Clock::now() + options_.timeout;
  while (!done()) {
    const auto now = Clock::now();
    if (now >= deadline) {
      return DeadlineExceeded(std::string(what) + ": no reply from the servers within " +
                              std::to_string(options_.timeout.count()) + " ms");
    }
    auto left = std::chrono::duration_cast<std::chrono::milliseconds>(deadline - now);
    zmq::poll(poll_items_.data(), poll_items_.size(), std::min(left, std::chrono::milliseconds(100)));
    for (uint32_t s = 0; s < sockets_.size(); ++s) {
      Incoming in;
      while (ReceiveMessage(sockets_[s], /*router=*/false, std::chrono::milliseconds(0),
                            options_.limits, &in)) {
        if (!in.status.ok()) {
          LOG_EVERY_N(WARNING, 100) << "malformed reply from server " << s << ": "
                                    << in.status.message();
          continue;
        }
        HandleReply(s, in.message);
      }
    }
  }
  return Status::OK();
}

void PsClient::HandleReply(uint32_t server, wire::Message& msg) {
  const uint64_t id = msg.header.request_id;
  if (auto* err = std::get_if<wire::ErrorMsg>(&msg.body)) {
    Status st = FailedPrecondition("server " + std::to_string(server) + " refused request: " +
                                   err->message + " (" + wire::ErrorCodeName(err->code) + ")");
    if (error_.ok()) error_ = st;
    if (auto it = pending_pulls_.find(id); it != pending_pulls_.end()) it->second.done = true;
    inflight_pushes_.erase(id);
    return;
  }
  if (std::holds_alternative<wire::PushReplyMsg>(msg.body)) {
    inflight_pushes_.erase(id);
    return;
  }
  auto* reply = std::get_if<wire::PullReplyMsg>(&msg.body);
  auto it = pending_pulls_.find(id);
  if (reply == nullptr || it == pending_pulls_.end() || it->second.done) {
    LOG_EVERY_N(WARNING, 100) << "unexpected " << wire::BodyName(msg.body) << " from server "
                              << server;
    return;
  }
  PendingPull& pull = it->second;
  const auto& positions = *pull.positions;
  if (reply->num_keys != positions.size() || reply->dim != pull_dim_) {
    if (error_.ok()) {
      error_ = Internal("server " + std::to_string(server) + " answered a pull of " +
                        std::to_string(positions.size()) + " keys with " +
                        std::to_string(reply->num_keys) + " rows of dim " +
                        std::to_string(reply->dim));
    }
    pull.done = true;
    return;
  }
  // Frames may be unaligned: copy row by row with memcpy.
  const auto* src = static_cast<const char*>(msg.payloads[0].data());
  const size_t row_bytes = size_t{pull_dim_} * sizeof(float);
  float* out = pull_out_->data();
  for (size_t i = 0; i < positions.size(); ++i) {
    std::memcpy(out + size_t{positions[i]} * pull_dim_, src + i * row_bytes, row_bytes);
  }
  pull.done = true;
}

}  // namespace embedps::worker
