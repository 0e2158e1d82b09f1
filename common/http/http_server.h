// A small HTTP/1.1 server for a node's monitoring and control endpoints,
// built on Boost.Beast. It runs on its own thread, routes (method, path) to
// handlers, binds 127.0.0.1 unless told otherwise, bounds request sizes and
// read times, and guards mutating (POST) routes: they answer 403 unless
// mutations are enabled, and 401 without `Authorization: Bearer <token>`.
//
// Handlers run on the server's single I/O thread, one at a time; they must
// be safe to call concurrently with the rest of the process (read snapshots,
// set atomics) and should be quick.
#pragma once

#include <chrono>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace embedps::http {

struct Request {
  std::string method;  // "GET", "POST", ...
  std::string path;    // the target without its query string
  std::string query;   // after '?'; may be empty
  std::string body;
  std::map<std::string, std::string> headers;  // names lower-cased
};

struct Response {
  int status = 200;
  std::string content_type = "text/plain; charset=utf-8";
  std::string body;
  std::vector<std::pair<std::string, std::string>> headers;  // extra headers
};

// A plain-text or JSON response with a trailing newline.
Response TextResponse(int status, const std::string& text);
Response JsonResponse(int status, const std::string& json);

using Handler = std::function<Response(const Request&)>;

class Listener;  // the sockets (http_listener.h)

struct HttpServerOptions {
  // An IP address or host name; 0.0.0.0 listens on every interface.
  std::string bind_address = "127.0.0.1";
  int port = 0;  // 0: a free port chosen by the OS
  // Mutating routes answer 403 unless this is set...
  bool enable_mutations = false;
  // ...and then need `Authorization: Bearer <bearer_token>` (401 otherwise).
  std::string bearer_token;
  // Largest request (headers + body) accepted; larger ones get 413 or 431.
  size_t max_request_bytes = 64 * 1024;
  bool keep_alive = true;
  // A request's headers must arrive within this long of its first byte
  // being awaited (slow senders, slowloris); an idle keep-alive connection
  // is closed after it too.
  std::chrono::milliseconds header_timeout{2000};
  // The body, and writing the response, may take this long.
  std::chrono::milliseconds read_timeout{10000};
  // Connections open at once, in all and from one peer address. A new
  // connection over either limit sheds the oldest connection still waiting
  // for its headers (of that peer, for the per-peer limit); if there is
  // none, the new one is closed at once. So half-sent requests cannot keep
  // a client with a whole request out.
  size_t max_connections = 64;
  size_t max_connections_per_peer = 16;
};

class HttpServer {
 public:
  explicit HttpServer(HttpServerOptions options);
  ~HttpServer();  // stops the server
  HttpServer(const HttpServer&) = delete;
  HttpServer& operator=(const HttpServer&) = delete;

  // Register routes; call before Start().
  void Get(const std::string& path, Handler handler);
  // A mutating route (see the class comment).
  void Post(const std::string& path, Handler handler);

  // Binds and starts serving on a new thread. InvalidArgument for a bad
  // bind address or mutations without a token; Unavailable when the port
  // cannot be bound (in use, no permission).
  Status Start();

  // Closes the listener and every connection and joins the thread.
  // Idempotent; safe to call when never started.
  void Stop();

  // The bound port (after Start()).
  int port() const { return port_; }
  // http://HOST:PORT, where HOST is the bind address, or this machine's
  // host name when bound to a wildcard address.
  std::string url() const;

  // Routes `request` as the server would (routing, method and auth checks,
  // handler exceptions as 500). Thread-compatible with Start()ed serving.
  Response Dispatch(const Request& request) const;

 private:
  struct Route {
    Handler handler;
    bool mutating = false;
  };
  Response Authorize(const Request& request) const;

  HttpServerOptions options_;
  std::map<std::string, std::map<std::string, Route>> routes_;  // path -> method -> route
  std::unique_ptr<Listener> impl_;
  int port_ = 0;
};

// The URL other machines use to reach a server bound to (bind_address, port).
std::string AdvertisedUrl(const std::string& bind_address, int port);

}  // namespace embedps::http
