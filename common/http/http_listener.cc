#include "common/http/http_listener.h"

#include <algorithm>
#include <atomic>
#include <chrono>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <glog/logging.h>

#include "common/http/beast_names.h"

namespace embedps::http {
namespace {

// Headers alone may not exceed this (or the whole request limit, if lower).
constexpr size_t kMaxHeaderBytes = 16 * 1024;

Request ToRequest(const bhttp::request<bhttp::string_body>& in) {
  Request r;
  r.method = std::string(in.method_string());
  const std::string target(in.target());
  const size_t q = target.find('?');
  r.path = target.substr(0, q);
  if (q != std::string::npos) r.query = target.substr(q + 1);
  r.body = in.body();
  for (const auto& field : in) {
    std::string name(field.name_string());
    std::transform(name.begin(), name.end(), name.begin(), ::tolower);
    r.headers[name] = std::string(field.value());
  }
  return r;
}

// One client connection: read a request, answer it, and read the next one
// while the client keeps the connection alive. It is "waiting" (sheddable)
// from when it awaits a request until that request's headers are in.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServerOptions& options, const Listener::DispatchFn& dispatch,
          std::string peer)
      : stream_(std::move(socket)), options_(options), dispatch_(dispatch), peer_(std::move(peer)) {}

  const std::string& peer() const { return peer_; }
  bool waiting() const { return waiting_ && open_; }
  bool open() const { return open_; }
  std::chrono::steady_clock::time_point since() const { return since_; }

  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_request_bytes);
    parser_->header_limit(static_cast<uint32_t>(std::min(kMaxHeaderBytes, options_.max_request_bytes)));
    waiting_ = true;
    since_ = std::chrono::steady_clock::now();
    // The headers get a short deadline of their own: a client that trickles
    // them in cannot hold the connection for the whole read timeout.
    stream_.expires_after(options_.header_timeout);
    bhttp::async_read_header(stream_, buffer_, *parser_, [self = shared_from_this()](beast::error_code ec, size_t) {
      self->OnHeader(ec);
    });
  }

  // Closes a connection still waiting for its headers, to make room.
  void Shed() { Close(); }

 private:
  // The error cases shared by the header and the body read; true when the
  // session is finished with.
  bool Failed(beast::error_code ec) {
    if (!ec) return false;
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout || ec == net::error::operation_aborted ||
        ec == net::error::connection_reset) {
      Close();
    } else if (ec == bhttp::error::body_limit) {
      Write(TextResponse(413, "request too large"), false);
    } else if (ec == bhttp::error::header_limit) {
      Write(TextResponse(431, "request headers too large"), false);
    } else if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
      Write(TextResponse(400, "bad request: " + ec.message()), false);
    } else {
      Close();
    }
    return true;
  }

  void OnHeader(beast::error_code ec) {
    waiting_ = false;
    if (Failed(ec)) return;
    stream_.expires_after(options_.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

  void OnRead(beast::error_code ec) {
    if (Failed(ec)) return;
    const auto& req = parser_->get();
    const bool keep_alive = options_.keep_alive && req.keep_alive();
    Write(dispatch_(ToRequest(req)), keep_alive);
  }

  void Write(const Response& r, bool keep_alive) {
    waiting_ = false;
    auto res = std::make_shared<bhttp::response<bhttp::string_body>>(
        static_cast<bhttp::status>(r.status), 11);
    res->set(bhttp::field::server, "embedps");
    res->set(bhttp::field::content_type, r.content_type);
    res->set("X-Content-Type-Options", "nosniff");
    res->set(bhttp::field::cache_control, "no-store");
    for (const auto& [name, value] : r.headers) res->set(name, value);
    res->body() = r.body;
    res->keep_alive(keep_alive);
    res->prepare_payload();
    stream_.expires_after(options_.read_timeout);
    bhttp::async_write(stream_, *res,
                       [self = shared_from_this(), res, keep_alive](beast::error_code ec, size_t) {
                         if (ec || !keep_alive) return self->Close();
                         self->Read();
                       });
  }

  void Close() {
    if (!open_) return;
    open_ = false;
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const HttpServerOptions& options_;
  const Listener::DispatchFn& dispatch_;
  std::string peer_;
  bool open_ = true;
  bool waiting_ = false;
  std::chrono::steady_clock::time_point since_;
};

}  // namespace

struct Listener::Impl {
  Impl(HttpServerOptions o, DispatchFn d) : options(std::move(o)), dispatch(std::move(d)) {}

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;  // stopping
      if (!ec) Admit(std::move(socket));
      Accept();
    });
  }

  // Admits a new connection within the limits, shedding the oldest
  // connection still waiting for its headers when a limit is reached.
  void Admit(tcp::socket socket) {
    beast::error_code ec;
    const auto remote = socket.remote_endpoint(ec);
    const std::string peer = ec ? std::string() : remote.address().to_string();
    // Forget sessions that ended (all on this thread: no lock needed).
    sessions.erase(std::remove_if(sessions.begin(), sessions.end(),
                                  [](const std::weak_ptr<Session>& w) {
                                    auto s = w.lock();
                                    return !s || !s->open();
                                  }),
                   sessions.end());
    size_t from_peer = 0;
    for (const auto& w : sessions) {
      if (auto s = w.lock(); s && s->peer() == peer) ++from_peer;
    }
    const bool peer_full = from_peer >= options.max_connections_per_peer;
    const bool all_full = sessions.size() >= options.max_connections;
    if (peer_full || all_full) {
      std::shared_ptr<Session> oldest;
      for (const auto& w : sessions) {
        auto s = w.lock();
        if (!s || !s->waiting() || (peer_full && s->peer() != peer)) continue;
        if (!oldest || s->since() < oldest->since()) oldest = s;
      }
      if (!oldest) {
        socket.close(ec);
        return;
      }
      LOG_EVERY_N(WARNING, 100) << "HTTP: " << (peer_full ? "too many connections from " + peer : "connection limit")
                                << "; closing one still waiting for its request (" << google::COUNTER << " so far)";
      oldest->Shed();
    }
    auto session = std::make_shared<Session>(std::move(socket), options, dispatch, peer);
    sessions.push_back(session);
    session->Read();
  }

  HttpServerOptions options;
  DispatchFn dispatch;
  // Every session admitted; those ended are forgotten at the next accept.
  std::vector<std::weak_ptr<Session>> sessions;
  net::io_context ioc{1};
  tcp::acceptor acceptor{ioc};
  std::thread thread;
};

Listener::Listener(HttpServerOptions options, DispatchFn dispatch)
    : impl_(std::make_unique<Impl>(std::move(options), std::move(dispatch))) {}

Listener::~Listener() { Stop(); }

StatusOr<int> Listener::Start() {
  const std::string where =
      impl_->options.bind_address + ":" + std::to_string(impl_->options.port);
  beast::error_code ec;
  tcp::resolver resolver(impl_->ioc);
  auto results = resolver.resolve(impl_->options.bind_address, std::to_string(impl_->options.port),
                                  tcp::resolver::passive | tcp::resolver::numeric_service, ec);
  if (ec || results.empty()) {
    return InvalidArgument("cannot resolve HTTP bind address '" + impl_->options.bind_address +
                           "': " + ec.message());
  }
  const tcp::endpoint endpoint = results.begin()->endpoint();
  auto& acceptor = impl_->acceptor;
  acceptor.open(endpoint.protocol(), ec);
  if (!ec) acceptor.set_option(net::socket_base::reuse_address(true), ec);
  if (!ec) acceptor.bind(endpoint, ec);
  if (!ec) acceptor.listen(net::socket_base::max_listen_connections, ec);
  if (ec) return Unavailable("cannot serve HTTP on " + where + ": " + ec.message());
  const int port = acceptor.local_endpoint(ec).port();
  impl_->Accept();
  impl_->thread = std::thread([impl = impl_.get()] {
    try {
      impl->ioc.run();
    } catch (const std::exception& e) {
      LOG(ERROR) << "HTTP server stopped: " << e.what();
    }
  });
  return port;
}

void Listener::Stop() {
  if (!impl_->thread.joinable()) return;
  net::post(impl_->ioc, [impl = impl_.get()] {
    beast::error_code ec;
    impl->acceptor.close(ec);
  });
  impl_->ioc.stop();
  impl_->thread.join();
}

}  // namespace embedps::http
