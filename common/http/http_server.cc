// Routing and authorization; the sockets live in http_listener.cc.
#include "common/http/http_server.h"

#include <strings.h>
#include <unistd.h>

#include <exception>

#include <glog/logging.h>

#include "common/http/http_listener.h"

namespace embedps::http {
namespace {

// Compares in time independent of where the strings differ, so response
// timing does not reveal how much of a guessed token was right.
bool ConstantTimeEquals(const std::string& a, const std::string& b) {
  if (a.size() != b.size()) return false;
  unsigned char diff = 0;
  for (size_t i = 0; i < a.size(); ++i) diff |= static_cast<unsigned char>(a[i] ^ b[i]);
  return diff == 0;
}

// The token of an `Authorization: Bearer <token>` header, or "".
std::string BearerToken(const Request& request) {
  auto it = request.headers.find("authorization");
  if (it == request.headers.end()) return "";
  const std::string& value = it->second;
  constexpr char kScheme[] = "bearer ";
  constexpr size_t kLen = sizeof(kScheme) - 1;
  if (value.size() <= kLen || strncasecmp(value.c_str(), kScheme, kLen) != 0) return "";
  size_t begin = kLen;
  while (begin < value.size() && value[begin] == ' ') ++begin;
  size_t end = value.size();
  while (end > begin && (value[end - 1] == ' ' || value[end - 1] == '\t')) --end;
  return value.substr(begin, end - begin);
}

bool IsWildcard(const std::string& address) {
  return address == "0.0.0.0" || address == "::" || address == "[::]";
}

}  // namespace

Response TextResponse(int status, const std::string& text) {
  Response r;
  r.status = status;
  r.body = text + "\n";
  return r;
}

Response JsonResponse(int status, const std::string& json) {
  Response r;
  r.status = status;
  r.content_type = "application/json";
  r.body = json + "\n";
  return r;
}

std::string AdvertisedUrl(const std::string& bind_address, int port) {
  std::string host = bind_address;
  if (IsWildcard(host)) {
    char name[256] = {0};
    gethostname(name, sizeof(name) - 1);
    host = name;
  } else if (host.find(':') != std::string::npos && host.front() != '[') {
    host = "[" + host + "]";  // an IPv6 literal
  }
  return "http://" + host + ":" + std::to_string(port);
}

HttpServer::HttpServer(HttpServerOptions options) : options_(std::move(options)) {}

HttpServer::~HttpServer() { Stop(); }

void HttpServer::Get(const std::string& path, Handler handler) {
  routes_[path]["GET"] = Route{std::move(handler), false};
}

void HttpServer::Post(const std::string& path, Handler handler) {
  routes_[path]["POST"] = Route{std::move(handler), true};
}

std::string HttpServer::url() const { return AdvertisedUrl(options_.bind_address, port_); }

Status HttpServer::Start() {
  if (impl_) return FailedPrecondition("HTTP server already started");
  if (options_.enable_mutations && options_.bearer_token.empty()) {
    return InvalidArgument("mutating HTTP endpoints need a bearer token (--http_token_file)");
  }
  auto listener = std::make_unique<Listener>(
      options_, [this](const Request& request) { return Dispatch(request); });
  ASSIGN_OR_RETURN(port_, listener->Start());
  impl_ = std::move(listener);
  return Status::OK();
}

void HttpServer::Stop() {
  if (impl_) impl_->Stop();
  impl_.reset();
}

Response HttpServer::Authorize(const Request& request) const {
  if (!options_.enable_mutations) {
    return TextResponse(403, "forbidden: " + request.method + " " + request.path +
                                 " changes the job and is disabled (start the node with "
                                 "--http_enable_mutations and --http_token_file)");
  }
  if (!ConstantTimeEquals(BearerToken(request), options_.bearer_token)) {
    Response r = TextResponse(401, "unauthorized: send 'Authorization: Bearer <token>' with the "
                                   "token from the node's --http_token_file");
    r.headers.emplace_back("WWW-Authenticate", "Bearer realm=\"embedps\"");
    return r;
  }
  Response ok;
  ok.status = 0;  // authorized
  return ok;
}

Response HttpServer::Dispatch(const Request& request) const {
  auto path = routes_.find(request.path);
  if (path == routes_.end()) return TextResponse(404, "not found: " + request.path);
  auto route = path->second.find(request.method);
  if (route == path->second.end()) {
    std::string allow;
    for (const auto& [method, r] : path->second) allow += (allow.empty() ? "" : ", ") + method;
    Response r = TextResponse(405, "method " + request.method + " not allowed on " +
                                       request.path + " (allowed: " + allow + ")");
    r.headers.emplace_back("Allow", allow);
    return r;
  }
  if (route->second.mutating) {
    Response denied = Authorize(request);
    if (denied.status != 0) return denied;
  }
  try {
    return route->second.handler(request);
  } catch (const std::exception& e) {
    // A handler bug must not take the I/O thread (and the node) down.
    LOG(ERROR) << "HTTP handler for " << request.path << " failed: " << e.what();
    return TextResponse(500, "internal error");
  }
}

}  // namespace embedps::http
