// A one-shot HTTP/1.1 client for the CLI and tests: one request, one
// answer, everything (resolve, connect, write, read) within one deadline.
#pragma once

#include <chrono>
#include <string>
#include <utility>
#include <vector>

#include "common/status.h"

namespace embedps::http {

struct ClientResponse {
  int status = 0;
  std::string content_type;
  std::string body;
};

struct HostPort {
  std::string host;
  std::string port;
};

// Splits "HOST:PORT", "[V6]:PORT" or "http://HOST:PORT[/]". InvalidArgument
// for anything else (no port, a path, another scheme).
StatusOr<HostPort> ParseHostPort(const std::string& address);

// Sends `method target` to `address` (as ParseHostPort takes it) and returns
// the answer, whatever its status code. Unavailable when the host does not
// resolve or nothing accepts the connection; DeadlineExceeded when no
// complete answer arrived within `timeout`.
StatusOr<ClientResponse> Fetch(const std::string& address, const std::string& method,
                               const std::string& target, std::chrono::milliseconds timeout,
                               const std::vector<std::pair<std::string, std::string>>& headers = {},
                               const std::string& body = "");

}  // namespace embedps::http
