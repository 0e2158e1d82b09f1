// The network side of HttpServer: accepts connections and reads and writes
// HTTP/1.1 messages with Boost.Beast on one thread of its own. Requests
// are handed to a dispatch function; limits (size, read time, connection
// count) come from HttpServerOptions. Internal to common/http.
#pragma once

#include <functional>
#include <memory>

#include "common/http/http_server.h"
#include "common/status.h"

namespace embedps::http {

class Listener {
 public:
  using DispatchFn = std::function<Response(const Request&)>;

  Listener(HttpServerOptions options, DispatchFn dispatch);
  ~Listener();  // Stop()
  Listener(const Listener&) = delete;
  Listener& operator=(const Listener&) = delete;

  // Binds, listens and starts the I/O thread; returns the bound port.
  StatusOr<int> Start();
  // Stops the I/O thread and closes every socket. Idempotent.
  void Stop();

 private:
  struct Impl;
  std::unique_ptr<Impl> impl_;
};

}  // namespace embedps::http
