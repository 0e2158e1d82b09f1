#include "worker/ps_client.h"

#include <algorithm>
#include <cmath>
#include <cstring>

#include <glog/logging.h>

#include "common/float_checks.h"
#include "common/security/socket_security.h"
#include "common/wire/codec.h"

namespace embedps::worker {
namespace {
// How soon a request answered "unavailable" is sent again.
constexpr std::chrono::milliseconds kUnavailableBackoff{100};
}  // namespace

PsClient::PsClient(zmq::context_t& ctx, PsClientOptions options)
    : options_(std::move(options)), ctx_(ctx) {
  header_.cluster_id = options_.cluster_id;
  header_.sender = options_.node_id;
}

StatusOr<zmq::socket_t> PsClient::ConnectTo(const std::string& endpoint) {
  zmq::socket_t s(ctx_, zmq::socket_type::dealer);
  ConfigureSocket(s, options_.limits.max_message_bytes);
  SetSendTimeout(s, options_.timeout);
  RETURN_IF_ERROR(security::SecureConnectingSocket(s, options_.curve, security::MemberPassword(options_.cluster_id)));
  RETURN_IF_ERROR(ConnectSocket(s, endpoint));
  return s;
}

Status PsClient::Connect(const ShardMap& map) {
  map_ = map;
  header_.epoch = map.epoch();
  sockets_.clear();
  for (const std::string& endpoint : map.endpoints()) {
    ASSIGN_OR_RETURN(zmq::socket_t s, ConnectTo(endpoint));
    sockets_.push_back(std::move(s));
  }
  poll_items_.clear();
  for (auto& s : sockets_) poll_items_.push_back({s.handle(), 0, ZMQ_POLLIN, 0});
  return Status::OK();
}

Status PsClient::UpdateMap(const ShardMap& map) {
  if (map.epoch() <= map_.epoch()) return Status::OK();
  if (map.num_servers() != map_.num_servers() || map.owners() != map_.owners()) {
    return FailedPrecondition("the shard map's ownership changed during training (epoch " +
                              std::to_string(map_.epoch()) + " -> " + std::to_string(map.epoch()) +
                              "); only endpoint changes are supported live");
  }
  std::vector<uint32_t> moved;
  for (uint32_t r = 0; r < map.num_servers(); ++r) {
    if (map.endpoints()[r] == map_.endpoints()[r]) continue;
    ASSIGN_OR_RETURN(sockets_[r], ConnectTo(map.endpoints()[r]));
    poll_items_[r].socket = sockets_[r].handle();
    moved.push_back(r);
    moved_at_[r] = Clock::now();
    LOG(INFO) << "server " << r << " moved to " << map.endpoints()[r] << " (shard map epoch "
              << map.epoch() << ")";
  }
  map_ = map;
  header_.epoch = map.epoch();
  size_t resent = 0;
  for (auto& [id, kept] : unanswered_) {
    if (std::find(moved.begin(), moved.end(), kept.server) == moved.end()) continue;
    Resend(kept.server, kept);
    ++resent;
  }
  if (resent > 0) LOG(INFO) << "sent " << resent << " unanswered requests to the new servers";
  return Status::OK();
}

void PsClient::Resend(uint32_t server, Unanswered& kept) {
  std::vector<zmq::message_t> frames;
  for (auto& f : kept.frames) frames.emplace_back().copy(f);
  kept.sent = Clock::now();
  kept.retry_at.reset();
  ++retries_;
  Status st = SendFrames(sockets_[server], std::move(frames));
  if (!st.ok()) {
    LOG_EVERY_N(WARNING, 100) << "resending to server " << server << ": " << st.message();
  }
}

void PsClient::Route(const std::vector<uint64_t>& keys,
                     std::vector<std::vector<uint32_t>>* routed) const {
  routed->resize(sockets_.size());
  for (auto& r : *routed) r.clear();
  if (sockets_.size() == 1) {
    // One server owns everything: no hashing needed.
    auto& all = (*routed)[0];
    all.resize(keys.size());
    for (uint32_t i = 0; i < keys.size(); ++i) all[i] = i;
    return;
  }
  for (uint32_t i = 0; i < keys.size(); ++i) (*routed)[map_.ServerOf(keys[i])].push_back(i);
}

Status PsClient::Send(uint32_t server, const wire::Body& body,
                      std::vector<zmq::message_t> payloads, uint64_t* request_id) {
  header_.request_id++;
  *request_id = header_.request_id;
  std::vector<zmq::message_t> frames;
  frames.reserve(1 + payloads.size());
  frames.push_back(wire::EncodeEnvelope(header_, body));
  for (auto& p : payloads) frames.push_back(std::move(p));
  Unanswered& kept = unanswered_[*request_id];
  kept.server = server;
  kept.sent = Clock::now();
  for (auto& f : frames) kept.frames.emplace_back().copy(f);
  return SendFrames(sockets_[server], std::move(frames));
}

void PsClient::ResendDue() {
  const auto now = Clock::now();
  for (auto& [id, kept] : unanswered_) {
    const bool due = kept.retry_at ? now >= *kept.retry_at
                                   : options_.retry_interval.count() > 0 && now - kept.sent >= options_.retry_interval;
    if (due) Resend(kept.server, kept);
  }
}

Status PsClient::CheckFinite(const std::vector<float>& grads) {
  // Servers refuse non-finite gradients too, but only for their own part;
  // checking here keeps a push all-or-nothing.
  if (!AllFinite(grads.data(), grads.size())) {
    return InvalidArgument("push refused: gradient is NaN or infinite");
  }
  return Status::OK();
}

StatusOr<uint64_t> PsClient::StartValuesOp(uint32_t table, uint32_t dim,
                                           const std::vector<uint64_t>& keys,
                                           const std::vector<float>* grads,
                                           std::vector<float>* values,
                                           bool read_only) {
  if (grads != nullptr) {
    if (grads->size() != keys.size() * dim) {
      return InvalidArgument("push of " + std::to_string(keys.size()) + " keys needs " +
                             std::to_string(keys.size() * dim) + " gradients, got " +
                             std::to_string(grads->size()));
    }
    RETURN_IF_ERROR(CheckFinite(*grads));
  }
  values->resize(keys.size() * dim);
  const uint64_t ticket = ++next_ticket_;
  Operation& op = operations_[ticket];
  op.values = values;
  op.dim = dim;
  op.started = Clock::now();
  Route(keys, &op.positions);
  for (uint32_t s = 0; s < op.positions.size(); ++s) {
    const auto& pos = op.positions[s];
    if (pos.empty()) continue;
    const auto n = static_cast<uint32_t>(pos.size());
    // With a single part the positions are the identity: copy in bulk.
    const bool whole = n == keys.size();
    wire::PayloadBuffer<uint64_t> part_keys(n);
    if (whole) {
      std::memcpy(part_keys.data(), keys.data(), n * sizeof(uint64_t));
    } else {
      for (size_t i = 0; i < n; ++i) part_keys.data()[i] = keys[pos[i]];
    }
    std::vector<zmq::message_t> payloads;
    payloads.push_back(std::move(part_keys).Release());
    wire::Body body = wire::PullMsg{table, n, read_only};
    if (grads != nullptr) {
      wire::PayloadBuffer<float> part_grads(size_t{n} * dim);
      if (whole) {
        std::memcpy(part_grads.data(), grads->data(), grads->size() * sizeof(float));
      } else {
        for (size_t i = 0; i < n; ++i) {
          std::memcpy(part_grads.data() + i * dim, &(*grads)[size_t{pos[i]} * dim], dim * sizeof(float));
        }
      }
      payloads.push_back(std::move(part_grads).Release());
      body = wire::PushPullMsg{table, n, dim, wire::DataType::kFloat32};
    }
    uint64_t id = 0;
    Status st = Send(s, body, std::move(payloads), &id);
    if (!st.ok()) {
      op.status = st;
      break;
    }
    parts_[id] = Part{ticket, s};
    ++op.parts_left;
  }
  return ticket;
}

StatusOr<uint64_t> PsClient::StartPull(uint32_t table, uint32_t dim,
                                       const std::vector<uint64_t>& keys,
                                       std::vector<float>* values, bool read_only) {
  return StartValuesOp(table, dim, keys, nullptr, values, read_only);
}

StatusOr<uint64_t> PsClient::StartPushPull(uint32_t table, uint32_t dim,
                                           const std::vector<uint64_t>& keys,
                                           const std::vector<float>& grads,
                                           std::vector<float>* values) {
  return StartValuesOp(table, dim, keys, &grads, values);
}

Status PsClient::Wait(uint64_t ticket) {
  auto it = operations_.find(ticket);
  if (it == operations_.end()) return InvalidArgument("unknown ticket " + std::to_string(ticket));
  Status st = PumpUntil([&] { return it->second.parts_left == 0; }, "pull");
  if (st.ok()) st = it->second.status;
  if (!st.ok()) {
    // Forget late replies to an abandoned operation.
    for (auto p = parts_.begin(); p != parts_.end();) {
      if (p->second.ticket != ticket) {
        ++p;
        continue;
      }
      unanswered_.erase(p->first);
      p = parts_.erase(p);
    }
  }
  operations_.erase(it);
  return st;
}

Status PsClient::Pull(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
                      std::vector<float>* values, bool read_only) {
  if (!push_error_.ok()) return std::exchange(push_error_, Status::OK());
  ASSIGN_OR_RETURN(uint64_t ticket, StartPull(table, dim, keys, values, read_only));
  RETURN_IF_ERROR(Wait(ticket));
  return std::exchange(push_error_, Status::OK());
}

Status PsClient::Push(uint32_t table, uint32_t dim, const std::vector<uint64_t>& keys,
                      const std::vector<float>& grads) {
  if (grads.size() != keys.size() * dim) {
    return InvalidArgument("push of " + std::to_string(keys.size()) + " keys needs " +
                           std::to_string(keys.size() * dim) + " gradients, got " +
                           std::to_string(grads.size()));
  }
  RETURN_IF_ERROR(CheckFinite(grads));
  RETURN_IF_ERROR(PumpUntil(
      [&] {
        // Always let one push through, even with more servers than the window.
        return inflight_pushes_.empty() ||
               inflight_pushes_.size() + sockets_.size() <= options_.max_inflight_pushes;
      },
      "push window"));
  if (!push_error_.ok()) return std::exchange(push_error_, Status::OK());
  Route(keys, &push_routed_);
  for (uint32_t s = 0; s < push_routed_.size(); ++s) {
    const auto& pos = push_routed_[s];
    if (pos.empty()) continue;
    wire::PayloadBuffer<uint64_t> part_keys(pos.size());
    wire::PayloadBuffer<float> part_grads(pos.size() * dim);
    for (size_t i = 0; i < pos.size(); ++i) {
      part_keys.data()[i] = keys[pos[i]];
      std::memcpy(part_grads.data() + i * dim, &grads[size_t{pos[i]} * dim], dim * sizeof(float));
    }
    std::vector<zmq::message_t> payloads;
    payloads.push_back(std::move(part_keys).Release());
    payloads.push_back(std::move(part_grads).Release());
    uint64_t id = 0;
    RETURN_IF_ERROR(Send(s,
                         wire::PushMsg{table, static_cast<uint32_t>(pos.size()), dim,
                                       wire::DataType::kFloat32},
                         std::move(payloads), &id));
    inflight_pushes_[id] = InflightPush{s, Clock::now()};
  }
  return Status::OK();
}

void PsClient::AbandonValueOperations() {
  for (const auto& [id, part] : parts_) unanswered_.erase(id);
  parts_.clear();
  operations_.clear();
}

Status PsClient::Flush() {
  RETURN_IF_ERROR(PumpUntil([&] { return inflight_pushes_.empty(); }, "push flush"));
  return std::exchange(push_error_, Status::OK());
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
    if (!unanswered_.empty()) ResendDue();
    if (options_.on_idle) RETURN_IF_ERROR(options_.on_idle());
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
  if (const auto* err = std::get_if<wire::ErrorMsg>(&msg.body); err != nullptr && err->code == wire::ErrorCode::kUnavailable) {
    // Not applied for now (the server's backup is being replaced): send the
    // same request again shortly.
    if (auto it = unanswered_.find(id); it != unanswered_.end()) {
      ++unavailable_answers_;
      it->second.retry_at = Clock::now() + kUnavailableBackoff;
      LOG_EVERY_N(INFO, 100) << "server " << server << " asked to send a request again: " << err->message;
      return;
    }
  }
  // Any other answer, even a refusal, ends the resending of that request.
  unanswered_.erase(id);
  if (auto* err = std::get_if<wire::ErrorMsg>(&msg.body)) {
    if (id == 0) {
      // The server could not read our request at all (malformed or too
      // large), so it cannot say which one; the request will time out.
      LOG_EVERY_N(WARNING, 10) << "server " << server << " refused an unreadable request: " << err->message;
    }
    Status st = FailedPrecondition("server " + std::to_string(server) + " refused request: " +
                                   err->message + " (" + wire::ErrorCodeName(err->code) + ")");
    if (inflight_pushes_.erase(id) > 0) {
      if (push_error_.ok()) push_error_ = st;
      return;
    }
    CompletePart(id, st, nullptr);
    return;
  }
  if (std::holds_alternative<wire::PushReplyMsg>(msg.body)) {
    auto it = inflight_pushes_.find(id);
    if (it == inflight_pushes_.end()) return;
    if (options_.push_seconds != nullptr) {
      options_.push_seconds->Observe(std::chrono::duration<double>(Clock::now() - it->second.sent).count());
    }
    if (auto m = moved_at_.find(server); m != moved_at_.end()) {
      LOG(INFO) << "first push acknowledged by the new server " << server << ", "
                << std::chrono::duration<double, std::milli>(Clock::now() - m->second).count()
                << " ms after its new endpoint arrived";
      moved_at_.erase(m);
    }
    inflight_pushes_.erase(it);
    return;
  }
  if (std::holds_alternative<wire::PullReplyMsg>(msg.body)) {
    CompletePart(id, Status::OK(), &msg);
    return;
  }
  LOG_EVERY_N(WARNING, 100) << "unexpected " << wire::BodyName(msg.body) << " from server " << server;
}

void PsClient::CompletePart(uint64_t request_id, const Status& status, const wire::Message* reply) {
  auto part = parts_.find(request_id);
  if (part == parts_.end()) return;  // late reply to an abandoned operation
  const Part p = part->second;
  parts_.erase(part);
  auto op_it = operations_.find(p.ticket);
  if (op_it == operations_.end()) return;
  Operation& op = op_it->second;
  --op.parts_left;
  if (!status.ok()) {
    if (op.status.ok()) op.status = status;
    return;
  }
  if (op.parts_left == 0 && options_.pull_seconds != nullptr) {
    options_.pull_seconds->Observe(std::chrono::duration<double>(Clock::now() - op.started).count());
  }
  const auto& positions = op.positions[p.server];
  const auto& r = std::get<wire::PullReplyMsg>(reply->body);
  if (r.num_keys != positions.size() || r.dim != op.dim) {
    if (op.status.ok()) {
      op.status = Internal("server " + std::to_string(p.server) + " answered " +
                           std::to_string(positions.size()) + " keys with " +
                           std::to_string(r.num_keys) + " rows of dim " + std::to_string(r.dim));
    }
    return;
  }
  // Frames may be unaligned: copy with memcpy, in bulk when this part holds
  // every key in order.
  const auto* src = static_cast<const char*>(reply->payloads[0].data());
  const size_t row_bytes = size_t{op.dim} * sizeof(float);
  float* out = op.values->data();
  if (positions.size() * op.dim == op.values->size()) {
    std::memcpy(out, src, op.values->size() * sizeof(float));
    return;
  }
  for (size_t i = 0; i < positions.size(); ++i) {
    std::memcpy(out + size_t{positions[i]} * op.dim, src + i * row_bytes, row_bytes);
  }
}

}  // namespace embedps::worker
