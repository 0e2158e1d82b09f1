// Thin, Status-returning helpers over cppzmq: binding with clear errors,
// sending an envelope plus payload frames, and receiving with a timeout.
// A socket must only ever be used from one thread.
#pragma once

#include <chrono>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/status.h"
#include "common/wire/codec.h"

namespace embedps {

using Clock = std::chrono::steady_clock;

// Binds `s` to `endpoint` ("tcp://127.0.0.1:0" or ":*" picks a free port) and
// returns the endpoint actually bound. Unavailable("address already in use")
// and the like, never an exception.
StatusOr<std::string> BindSocket(zmq::socket_t& s, const std::string& endpoint);

// Connects `s` to `endpoint`; InvalidArgument for a malformed endpoint.
Status ConnectSocket(zmq::socket_t& s, const std::string& endpoint);

// Applies the options every embedps socket uses: no linger on close, a
// per-frame size cap, and bounded queues.
void ConfigureSocket(zmq::socket_t& s, size_t max_message_bytes);

// Makes sends on `s` give up after `timeout` instead of blocking while the
// socket has no usable connection (a DEALER whose peer is down or refused
// its handshake); the send then returns Unavailable.
void SetSendTimeout(zmq::socket_t& s, std::chrono::milliseconds timeout);

// Sends [routing_id] + envelope + payloads. Payload frames are moved out.
// Unavailable when ZeroMQ refuses the send (e.g. unroutable peer).
Status SendMessage(zmq::socket_t& s, const wire::Header& header, const wire::Body& body,
                   std::vector<zmq::message_t> payloads = {},
                   const zmq::message_t* routing_id = nullptr);

// Sends `frames` (taken by move) as one message, after [routing_id] when
// given. Unavailable when ZeroMQ refuses the send.
Status SendFrames(zmq::socket_t& s, std::vector<zmq::message_t> frames,
                  const zmq::message_t* routing_id = nullptr);

// One received message. `status` is the decode result: when it is not OK the
// message was malformed and only `routing_id` and `bytes` are meaningful.
struct Incoming {
  zmq::message_t routing_id;
  // ROUTER sockets only: the sender's IP address, and with CURVE the name of
  // its key on the allow-list (empty without CURVE), for logs, and the role
  // that key is bound to ("server", "worker", ...; empty without CURVE or
  // for a key that admits any role), for admission.
  std::string peer_address;
  std::string key_name;
  std::string key_role;
  Status status;
  wire::Message message;
  size_t bytes = 0;
};

// Waits up to `timeout` for one message on `s`. Returns false if none came.
// `router` says whether the first frame is a routing id.
bool ReceiveMessage(zmq::socket_t& s, bool router, std::chrono::milliseconds timeout,
                    const wire::DecodeLimits& limits, Incoming* out);

// Stable 64-bit id for a cluster token: peers with different tokens refuse
// each other's messages.
uint64_t ClusterIdFromToken(const std::string& token);

// The job id shown in logs, metrics and /status: the cluster id's first 8
// hex digits (the same for every node of a job).
std::string JobIdFromClusterId(uint64_t cluster_id);

}  // namespace embedps
