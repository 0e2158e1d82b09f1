#include "common/transport.h"

#include <cstdio>
#include <algorithm>
#include <climits>

#include <zmq_addon.hpp>

#include "common/hash.h"
#include "common/security/curve_keys.h"

namespace embedps {

StatusOr<std::string> BindSocket(zmq::socket_t& s, const std::string& endpoint) {
  std::string target = endpoint;
  // ZeroMQ spells "any free port" as '*'; accept the more familiar ':0' too.
  if (target.size() > 2 && target.compare(target.size() - 2, 2, ":0") == 0) {
    target.replace(target.size() - 1, 1, "*");
  }
  try {
    s.bind(target);
    return s.get(zmq::sockopt::last_endpoint);
  } catch (const zmq::error_t& e) {
    if (e.num() == EADDRINUSE) return Unavailable("cannot bind " + endpoint + ": address already in use");
    return Unavailable("cannot bind " + endpoint + ": " + e.what());
  }
}

Status ConnectSocket(zmq::socket_t& s, const std::string& endpoint) {
  try {
    s.connect(endpoint);
    return Status::OK();
  } catch (const zmq::error_t& e) {
    return InvalidArgument("cannot connect to '" + endpoint + "': " + e.what());
  }
}

void ConfigureSocket(zmq::socket_t& s, size_t max_message_bytes) {
  s.set(zmq::sockopt::linger, 0);
  // A peer that sends a frame over the cap is disconnected by ZeroMQ before
  // the bytes are buffered; smaller oversized messages are refused by Decode.
  s.set(zmq::sockopt::maxmsgsize, static_cast<int64_t>(max_message_bytes));
  s.set(zmq::sockopt::sndhwm, 10000);
  s.set(zmq::sockopt::rcvhwm, 10000);
  // Data requests are hundreds of kilobytes; kernel buffers of a few MB let
  // a whole request sit in flight, which cuts wakeups on both ends.
  s.set(zmq::sockopt::sndbuf, 4 << 20);
  s.set(zmq::sockopt::rcvbuf, 4 << 20);
}

void SetSendTimeout(zmq::socket_t& s, std::chrono::milliseconds timeout) {
  s.set(zmq::sockopt::sndtimeo, static_cast<int>(std::min<int64_t>(timeout.count(), INT32_MAX)));
}

Status SendFrames(zmq::socket_t& s, std::vector<zmq::message_t> frames,
                  const zmq::message_t* routing_id) {
  try {
    if (routing_id != nullptr) {
      zmq::message_t id(routing_id->data(), routing_id->size());
      s.send(id, frames.empty() ? zmq::send_flags::none : zmq::send_flags::sndmore);
    }
    for (size_t i = 0; i < frames.size(); ++i) {
      bool last = i + 1 == frames.size();
      // Only the first frame can fail this way: once it is queued, ZeroMQ
      // takes the rest of the message.
      if (!s.send(frames[i], last ? zmq::send_flags::none : zmq::send_flags::sndmore)) {
        return Unavailable("send timed out: no usable connection to the peer (is it up, and does "
                           "it accept this node's CURVE key?)");
      }
    }
    return Status::OK();
  } catch (const zmq::error_t& e) {
    return Unavailable(std::string("send failed: ") + e.what());
  }
}

Status SendMessage(zmq::socket_t& s, const wire::Header& header, const wire::Body& body,
                   std::vector<zmq::message_t> payloads, const zmq::message_t* routing_id) {
  std::vector<zmq::message_t> frames;
  frames.reserve(1 + payloads.size());
  frames.push_back(wire::EncodeEnvelope(header, body));
  for (auto& p : payloads) frames.push_back(std::move(p));
  return SendFrames(s, std::move(frames), routing_id);
}

bool ReceiveMessage(zmq::socket_t& s, bool router, std::chrono::milliseconds timeout,
                    const wire::DecodeLimits& limits, Incoming* out) {
  zmq::pollitem_t item{s.handle(), 0, ZMQ_POLLIN, 0};
  if (zmq::poll(&item, 1, timeout) == 0) return false;
  std::vector<zmq::message_t> frames;
  if (!zmq::recv_multipart(s, std::back_inserter(frames), zmq::recv_flags::dontwait)) return false;
  out->bytes = 0;
  for (const auto& f : frames) out->bytes += f.size();
  out->routing_id = zmq::message_t();
  if (router) {
    out->routing_id = std::move(frames.front());
    frames.erase(frames.begin());
    // The routing id is made up locally; the first wire frame carries the
    // connection's properties.
    const char* addr = frames.empty() ? nullptr : zmq_msg_gets(frames[0].handle(), "Peer-Address");
    const char* user = frames.empty() ? nullptr : zmq_msg_gets(frames[0].handle(), "User-Id");
    const char* role =
        frames.empty() ? nullptr : zmq_msg_gets(frames[0].handle(), security::kKeyRoleProperty);
    out->peer_address = addr != nullptr ? addr : "";
    out->key_name = user != nullptr ? user : "";
    out->key_role = role != nullptr ? role : "";
  }
  auto decoded = wire::Decode(std::move(frames), limits);
  if (decoded.ok()) {
    out->status = Status::OK();
    out->message = std::move(decoded).value();
  } else {
    out->status = decoded.status();
    out->message = wire::Message{};
  }
  return true;
}

uint64_t ClusterIdFromToken(const std::string& token) { return HashBytes(token, 0xc105e7ULL); }

std::string JobIdFromClusterId(uint64_t cluster_id) {
  char buf[17];
  std::snprintf(buf, sizeof(buf), "%016llx", static_cast<unsigned long long>(cluster_id));
  return std::string(buf, 8);
}

}  // namespace embedps
