#include "common/security/zap_handler.h"

#include <arpa/inet.h>
#include <netinet/in.h>
#include <sys/socket.h>

#include <chrono>
#include <cstring>

#include <glog/logging.h>
#include <zmq_addon.hpp>

namespace embedps::security {
namespace {

constexpr char kZapEndpoint[] = "inproc://zeromq.zap.01";
constexpr int64_t kRepeatLogIntervalMs = 10000;
constexpr int kMonitoredEvents = ZMQ_EVENT_ACCEPTED | ZMQ_EVENT_DISCONNECTED |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL |
                                 ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL;

int64_t NowMs() {
  return std::chrono::duration_cast<std::chrono::milliseconds>(
             std::chrono::steady_clock::now().time_since_epoch())
      .count();
}

std::string Z85(const void* raw, size_t size) {
  if (size != 32) return "(" + std::to_string(size) + "-byte credential)";
  char out[41] = {0};
  zmq_z85_encode(out, static_cast<const uint8_t*>(raw), size);
  return out;
}

// "ip:port" of the peer of a just-accepted socket, best effort: the
// connection may already be gone when the event is read.
std::string PeerOfFd(int fd) {
  sockaddr_storage addr{};
  socklen_t len = sizeof(addr);
  if (getpeername(fd, reinterpret_cast<sockaddr*>(&addr), &len) != 0) return "an unknown address";
  char host[INET6_ADDRSTRLEN] = {0};
  uint16_t port = 0;
  if (addr.ss_family == AF_INET) {
    const auto* a = reinterpret_cast<const sockaddr_in*>(&addr);
    inet_ntop(AF_INET, &a->sin_addr, host, sizeof(host));
    port = ntohs(a->sin_port);
  } else if (addr.ss_family == AF_INET6) {
    const auto* a = reinterpret_cast<const sockaddr_in6*>(&addr);
    inet_ntop(AF_INET6, &a->sin6_addr, host, sizeof(host));
    port = ntohs(a->sin6_port);
  } else {
    return "a non-IP peer";
  }
  return std::string(host) + ":" + std::to_string(port);
}

// Why a handshake failed, in terms of what the operator should check.
std::string HandshakeFailure(uint32_t code, bool curve) {
  if (!curve) {
    switch (code) {
      case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
        return "the peer did not present this cluster's password (not an embedps node of this job, or one "
               "of an older build)";
      case ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED:
        return "the peer left during the handshake (it does not present this cluster's password)";
      default:
        break;
    }
  }
  switch (code) {
    case ZMQ_PROTOCOL_ERROR_ZMTP_MECHANISM_MISMATCH:
      return "the peer does not speak CURVE (a node started without --curve_dir, or not an "
             "embedps node)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED:
      // The peer hung up mid-handshake, which is what it does when it sees
      // the mismatch first.
      return "the peer left during the handshake (it does not speak CURVE, or it expects another "
             "cluster key)";
    case ZMQ_PROTOCOL_ERROR_ZMTP_CRYPTOGRAPHIC:
    case ZMQ_PROTOCOL_ERROR_ZMTP_KEY_EXCHANGE:
      return "CURVE handshake failed: the peer expects another cluster key (keys of another "
             "job or another keygen run)";
    default: {
      char hex[16];
      std::snprintf(hex, sizeof(hex), "0x%x", code);
      return std::string("handshake failed (ZeroMQ protocol error ") + hex + ")";
    }
  }
}

// ZAP metadata (ZMTP property encoding: name length, name, 32-bit
// big-endian value length, value) naming the role a key admits; ZeroMQ
// attaches it to every message of the connection.
std::string RoleMetadata(KeyRole role) {
  if (role == KeyRole::kAny) return "";
  const std::string value = KeyRoleName(role);
  std::string out;
  out += static_cast<char>(std::strlen(kKeyRoleProperty));
  out += kKeyRoleProperty;
  const uint32_t n = static_cast<uint32_t>(value.size());
  for (int shift : {24, 16, 8, 0}) out += static_cast<char>((n >> shift) & 0xff);
  return out + value;
}

}  // namespace

StatusOr<std::unique_ptr<ZapHandler>> ZapHandler::Start(zmq::context_t& ctx,
                                                        std::shared_ptr<const AllowList> allowed,
                                                        const std::string& allow_list_origin,
                                                        MetricsRegistry* metrics) {
  std::unique_ptr<ZapHandler> h(new ZapHandler(ctx, std::move(allowed), allow_list_origin, metrics));
  try {
    h->zap_.set(zmq::sockopt::linger, 0);
    h->zap_.bind(kZapEndpoint);
  } catch (const zmq::error_t& e) {
    return Unavailable(std::string("cannot serve ZAP on ") + kZapEndpoint + ": " + e.what());
  }
  // The socket moves to the handler thread; starting the thread is the
  // memory barrier ZeroMQ asks for when a socket changes threads.
  h->thread_ = std::thread([p = h.get()] { p->Run(); });
  return h;
}

StatusOr<std::unique_ptr<ZapHandler>> ZapHandler::StartForPassword(zmq::context_t& ctx, std::string password,
                                                                   MetricsRegistry* metrics) {
  if (password.empty()) return InvalidArgument("ZAP: an empty cluster password admits nobody");
  ASSIGN_OR_RETURN(auto h, Start(ctx, nullptr, "", metrics));
  // Set before any request can arrive: no socket asks before it binds, and
  // the caller binds only after this returns.
  h->password_ = std::move(password);
  return h;
}

ZapHandler::ZapHandler(zmq::context_t& ctx, std::shared_ptr<const AllowList> allowed,
                       std::string origin, MetricsRegistry* metrics)
    : ctx_(ctx), allowed_(std::move(allowed)), origin_(std::move(origin)),
      zap_(ctx, zmq::socket_type::rep) {
  if (metrics != nullptr) {
    refused_counter_ = metrics->GetCounter("security.refused_connections");
    metrics->Describe("security.refused_connections", "Connections refused at the CURVE handshake (unknown key, wrong role)");
  }
}

ZapHandler::~ZapHandler() {
  stop_ = true;
  if (thread_.joinable()) thread_.join();
}

Status ZapHandler::WatchHandshakes(zmq::socket_t& socket, const std::string& name) {
  std::string endpoint;
  {
    MutexLock lock(&mu_);
    endpoint = "inproc://embedps-handshakes-" + std::to_string(reinterpret_cast<uintptr_t>(this)) +
               "-" + std::to_string(next_monitor_++);
  }
  if (zmq_socket_monitor(socket.handle(), endpoint.c_str(), kMonitoredEvents) != 0) {
    return Unavailable(std::string("cannot watch handshakes: ") + zmq_strerror(zmq_errno()));
  }
  auto w = std::make_unique<Watched>(Watched{zmq::socket_t(ctx_, zmq::socket_type::pair), name, {}, 0});
  // Connected here, not in the handler thread, so no event is lost between
  // now and the thread's next turn; the mutex hands the socket over.
  w->monitor.set(zmq::sockopt::linger, 0);
  w->monitor.connect(endpoint);
  MutexLock lock(&mu_);
  pending_.push_back(std::move(w));
  return Status::OK();
}

void ZapHandler::AdoptNewWatches() {
  MutexLock lock(&mu_);
  for (auto& w : pending_) watched_.push_back(std::move(w));
  pending_.clear();
}

void ZapHandler::Run() {
  try {
    while (!stop_.load()) {
      AdoptNewWatches();
      std::vector<zmq::pollitem_t> items{{zap_.handle(), 0, ZMQ_POLLIN, 0}};
      for (auto& w : watched_) items.push_back({w->monitor.handle(), 0, ZMQ_POLLIN, 0});
      zmq::poll(items.data(), items.size(), std::chrono::milliseconds(50));
      if (items[0].revents & ZMQ_POLLIN) ServeZapRequest();
      for (size_t i = 0; i < watched_.size(); ++i) {
        if (items[i + 1].revents & ZMQ_POLLIN) ReadMonitorEvent(*watched_[i]);
      }
    }
  } catch (const zmq::error_t& e) {
    // ETERM: the context is shutting down under us; nothing left to guard.
    if (e.num() != ETERM) LOG(ERROR) << "ZAP handler stopped: " << e.what();
  }
  watched_.clear();
  zap_.close();
}

void ZapHandler::ServeZapRequest() {
  // Request (RFC 27): version, request id, domain, address, identity,
  // mechanism, credentials...
  std::vector<zmq::message_t> req;
  if (!zmq::recv_multipart(zap_, std::back_inserter(req), zmq::recv_flags::dontwait)) return;
  std::string status = "400", text = "malformed ZAP request", user, metadata;
  if (req.size() >= 6) {
    if (password_.empty()) {
      CheckCurve(req, &status, &text, &user, &metadata);
    } else {
      CheckPassword(req, &status, &text, &user);
    }
  }
  std::vector<zmq::message_t> reply;
  reply.emplace_back(std::string("1.0"));
  reply.push_back(req.size() >= 2 ? std::move(req[1]) : zmq::message_t());
  reply.emplace_back(status);
  reply.emplace_back(text);
  reply.emplace_back(user);  // becomes the "User-Id" property of its messages
  reply.emplace_back(metadata);  // the key's role, as the kKeyRoleProperty property
  zmq::send_multipart(zap_, reply);
}

void ZapHandler::CheckCurve(std::vector<zmq::message_t>& req, std::string* status, std::string* text,
                            std::string* user, std::string* metadata) {
  const std::string address = req[3].to_string();
  const std::string mechanism = req[5].to_string();
  if (mechanism != "CURVE" || req.size() < 7) {
    *text = "mechanism " + mechanism + " is not allowed";
    Refuse(address, "it uses the " + mechanism + " mechanism; only CURVE is admitted");
  } else if (const AllowList::Entry* entry = allowed_->Find(req[6].data(), req[6].size())) {
    *status = "200";
    *text = "OK";
    *user = entry->name;
    *metadata = RoleMetadata(entry->role);
  } else {
    *text = "key not on the allow-list";
    Refuse(address, "its CURVE public key " + Z85(req[6].data(), req[6].size()) + " is not on the allow-list (" +
                        origin_ + ")");
  }
}

void ZapHandler::CheckPassword(std::vector<zmq::message_t>& req, std::string* status, std::string* text,
                               std::string* user) {
  const std::string address = req[3].to_string();
  const std::string mechanism = req[5].to_string();
  if (mechanism != "PLAIN" || req.size() < 8) {
    *text = "mechanism " + mechanism + " is not allowed";
    Refuse(address, "it uses the " + mechanism + " mechanism, not this cluster's password");
    return;
  }
  // Compared in constant time, like the HTTP bearer token.
  const std::string given = req[7].to_string();
  unsigned char diff = given.size() == password_.size() ? 0 : 1;
  for (size_t i = 0; i < given.size(); ++i) diff |= given[i] ^ password_[i % password_.size()];
  if (diff == 0) {
    *status = "200";
    *text = "OK";
    *user = req[6].to_string();
    return;
  }
  *text = "wrong cluster password";
  Refuse(address, "it presented another cluster's password (a node of another job: check --cluster_token)");
}

void ZapHandler::ReadMonitorEvent(Watched& w) {
  std::vector<zmq::message_t> frames;
  if (!zmq::recv_multipart(w.monitor, std::back_inserter(frames), zmq::recv_flags::dontwait)) return;
  if (frames.size() < 2 || frames[0].size() < 6) return;
  uint16_t event = 0;
  uint32_t value = 0;
  std::memcpy(&event, frames[0].data(), 2);
  std::memcpy(&value, static_cast<const char*>(frames[0].data()) + 2, 4);
  const int fd = static_cast<int>(value);
  switch (event) {
    case ZMQ_EVENT_ACCEPTED:
      w.peer_of_fd[fd] = PeerOfFd(fd);
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_PROTOCOL:
      w.failed_code = value;
      break;
    case ZMQ_EVENT_HANDSHAKE_FAILED_NO_DETAIL:
      w.failed_code = ZMQ_PROTOCOL_ERROR_ZMTP_UNSPECIFIED;
      break;
    case ZMQ_EVENT_DISCONNECTED: {
      // One I/O thread reports a failing connection's handshake failure and
      // then its disconnect, back to back; that pairs the two.
      auto it = w.peer_of_fd.find(fd);
      const std::string peer = it == w.peer_of_fd.end() ? "an unknown address" : it->second;
      if (it != w.peer_of_fd.end()) w.peer_of_fd.erase(it);
      if (w.failed_code != 0) {
        Refuse(peer + " on " + w.name + " (" + frames[1].to_string() + ")",
               HandshakeFailure(w.failed_code, password_.empty()));
        w.failed_code = 0;
      }
      break;
    }
    default:
      break;
  }
}

void ZapHandler::Refuse(const std::string& peer, const std::string& reason) {
  refused_.fetch_add(1, std::memory_order_relaxed);
  if (refused_counter_ != nullptr) refused_counter_->Add();
  // Reconnect attempts carry a new port each time; fold repeats by host.
  const std::string host = peer.substr(0, peer.find(':'));
  Repeats& r = repeats_[host + "|" + reason];
  const int64_t now = NowMs();
  if (r.last_logged_ms != 0 && now - r.last_logged_ms < kRepeatLogIntervalMs) {
    ++r.unlogged;
    return;
  }
  LOG(WARNING) << "security: refused a connection from " << peer << ": " << reason
               << (r.unlogged > 0 ? " (and " + std::to_string(r.unlogged) + " more times since)"
                                  : "");
  r.last_logged_ms = now;
  r.unlogged = 0;
}

}  // namespace embedps::security
