// The process's gatekeeper for CURVE (or, without CURVE, for the cluster's
// membership password, security::MemberPassword): a ZAP handler (ZeroMQ's authentication
// protocol, served on inproc://zeromq.zap.01 of one context) that admits
// only public keys on the cluster's allow-list (and tells the receiving
// socket the role each key admits, kKeyRoleProperty), plus a watcher of the
// binding sockets' handshakes that logs the peers ZAP never hears about
// (no CURVE at all, or another cluster's keys).
//
// Every refusal is logged as one line naming the peer's address, the key
// (when known) and the reason; repeats from the same peer (ZeroMQ
// reconnects every few hundred milliseconds) are folded into a count logged
// at most every 10 s. Runs one thread; thread-safe.
#pragma once

#include <atomic>
#include <map>
#include <memory>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/mutex.h"
#include "common/security/curve_keys.h"
#include "common/status.h"

namespace embedps::security {

class ZapHandler {
 public:
  // Starts serving ZAP for `ctx` with `allowed`. `metrics` (borrowed, may be
  // null) gets security.refused_connections. Unavailable if another ZAP
  // handler already serves this context.
  static StatusOr<std::unique_ptr<ZapHandler>> Start(zmq::context_t& ctx,
                                                     std::shared_ptr<const AllowList> allowed,
                                                     const std::string& allow_list_origin,
                                                     MetricsRegistry* metrics);
  // The same for a cluster without CURVE: admits PLAIN connections whose
  // password is `password` (security::MemberPassword), refuses the rest.
  static StatusOr<std::unique_ptr<ZapHandler>> StartForPassword(zmq::context_t& ctx, std::string password,
                                                                MetricsRegistry* metrics);
  ~ZapHandler();
  ZapHandler(const ZapHandler&) = delete;
  ZapHandler& operator=(const ZapHandler&) = delete;

  // Logs failed CURVE handshakes on `socket` (a binding socket of the same
  // context). Call from the thread that owns `socket`, before it binds.
  Status WatchHandshakes(zmq::socket_t& socket, const std::string& name);

  // Connections refused so far (ZAP denials and failed handshakes).
  uint64_t refused() const { return refused_.load(std::memory_order_relaxed); }

 private:
  struct Watched {
    zmq::socket_t monitor;  // PAIR receiving the socket's events
    std::string name;
    std::map<int, std::string> peer_of_fd;
    uint32_t failed_code = 0;  // handshake failure awaiting its disconnect
  };

  ZapHandler(zmq::context_t& ctx, std::shared_ptr<const AllowList> allowed, std::string origin,
             MetricsRegistry* metrics);
  void Run();
  void AdoptNewWatches();
  void ServeZapRequest();
  void ReadMonitorEvent(Watched& w);
  // Logs "refused ..." for (peer, reason), folding repeats.
  void Refuse(const std::string& peer, const std::string& reason);

  // Admits the ZAP request `req` (RFC 27 frames): status "200" and the
  // user id and metadata to attach, or "400" and the reason.
  void CheckCurve(std::vector<zmq::message_t>& req, std::string* status, std::string* text, std::string* user,
                  std::string* metadata);
  void CheckPassword(std::vector<zmq::message_t>& req, std::string* status, std::string* text, std::string* user);

  zmq::context_t& ctx_;
  std::shared_ptr<const AllowList> allowed_;  // CURVE mode
  std::string password_;                      // PLAIN mode (no CURVE)
  std::string origin_;
  Counter* refused_counter_ = nullptr;
  std::atomic<uint64_t> refused_{0};
  zmq::socket_t zap_;  // REP on inproc://zeromq.zap.01; the thread's
  std::vector<std::unique_ptr<Watched>> watched_;  // the thread's
  Mutex mu_;
  std::vector<std::unique_ptr<Watched>> pending_ GUARDED_BY(mu_);
  int next_monitor_ GUARDED_BY(mu_) = 0;
  struct Repeats {
    int64_t last_logged_ms = 0;
    uint64_t unlogged = 0;
  };
  std::map<std::string, Repeats> repeats_;  // the thread's
  std::atomic<bool> stop_{false};
  std::thread thread_;
};

}  // namespace embedps::security
