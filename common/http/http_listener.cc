#include "common/http/http_listener.h"

#include <algorithm>
#include <atomic>
#include <optional>
#include <thread>

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
// while the client keeps the connection alive.
class Session : public std::enable_shared_from_this<Session> {
 public:
  Session(tcp::socket socket, const HttpServerOptions& options,
          const Listener::DispatchFn& dispatch, std::atomic<size_t>* open)
      : stream_(std::move(socket)), options_(options), dispatch_(dispatch), open_(open) {
    open_->fetch_add(1);
  }
  ~Session() { open_->fetch_sub(1); }

  void Read() {
    parser_.emplace();
    parser_->body_limit(options_.max_request_bytes);
    parser_->header_limit(static_cast<uint32_t>(std::min(kMaxHeaderBytes, options_.max_request_bytes)));
    stream_.expires_after(options_.read_timeout);
    bhttp::async_read(stream_, buffer_, *parser_,
                      [self = shared_from_this()](beast::error_code ec, size_t) { self->OnRead(ec); });
  }

 private:
  void OnRead(beast::error_code ec) {
    if (ec == bhttp::error::end_of_stream || ec == beast::error::timeout ||
        ec == net::error::operation_aborted || ec == net::error::connection_reset) {
      return Close();
    }
    if (ec == bhttp::error::body_limit) {
      return Write(TextResponse(413, "request too large"), false);
    }
    if (ec == bhttp::error::header_limit) {
      return Write(TextResponse(431, "request headers too large"), false);
    }
    if (ec) {
      if (ec.category() == bhttp::make_error_code(bhttp::error::bad_target).category()) {
        return Write(TextResponse(400, "bad request: " + ec.message()), false);
      }
      return Close();
    }
    const auto& req = parser_->get();
    const bool keep_alive = options_.keep_alive && req.keep_alive();
    Write(dispatch_(ToRequest(req)), keep_alive);
  }

  void Write(const Response& r, bool keep_alive) {
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
    beast::error_code ec;
    stream_.socket().shutdown(tcp::socket::shutdown_both, ec);
    stream_.socket().close(ec);
  }

  beast::tcp_stream stream_;
  beast::flat_buffer buffer_;
  std::optional<bhttp::request_parser<bhttp::string_body>> parser_;
  const HttpServerOptions& options_;
  const Listener::DispatchFn& dispatch_;
  std::atomic<size_t>* open_;
};

}  // namespace

struct Listener::Impl {
  Impl(HttpServerOptions o, DispatchFn d) : options(std::move(o)), dispatch(std::move(d)) {}

  void Accept() {
    acceptor.async_accept([this](beast::error_code ec, tcp::socket socket) {
      if (ec == net::error::operation_aborted) return;  // stopping
      if (!ec) {
        if (open.load() >= options.max_connections) {
          beast::error_code ignored;
          socket.close(ignored);
        } else {
          std::make_shared<Session>(std::move(socket), options, dispatch, &open)->Read();
        }
      }
      Accept();
    });
  }

  // Declared first so it outlives the sessions the io_context destroys.
  std::atomic<size_t> open{0};
  HttpServerOptions options;
  DispatchFn dispatch;
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
