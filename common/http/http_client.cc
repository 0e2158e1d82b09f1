#include "common/http/http_client.h"

#include "common/http/beast_names.h"

namespace embedps::http {
namespace {

// Answers larger than this are refused (a status page is a few KB).
constexpr size_t kMaxAnswerBytes = 16 << 20;

}  // namespace

StatusOr<HostPort> ParseHostPort(const std::string& address) {
  std::string rest = address;
  const std::string scheme = "http://";
  if (rest.rfind(scheme, 0) == 0) rest = rest.substr(scheme.size());
  if (!rest.empty() && rest.back() == '/') rest.pop_back();
  const auto bad = [&](const std::string& why) {
    return InvalidArgument("'" + address + "' is not HOST:PORT (" + why + ")");
  };
  if (rest.find('/') != std::string::npos || rest.find("://") != std::string::npos) {
    return bad("give the scheduler's HTTP address without a path");
  }
  HostPort hp;
  size_t colon;
  if (!rest.empty() && rest.front() == '[') {
    const size_t close = rest.find(']');
    if (close == std::string::npos) return bad("unclosed '['");
    hp.host = rest.substr(1, close - 1);
    colon = close + 1;
    if (colon >= rest.size() || rest[colon] != ':') return bad("no port");
  } else {
    colon = rest.rfind(':');
    if (colon == std::string::npos) return bad("no port");
    hp.host = rest.substr(0, colon);
  }
  hp.port = rest.substr(colon + 1);
  if (hp.host.empty()) return bad("no host");
  if (hp.port.empty() || hp.port.size() > 5 ||
      hp.port.find_first_not_of("0123456789") != std::string::npos || std::stoi(hp.port) == 0 ||
      std::stoi(hp.port) > 65535) {
    return bad("port must be 1..65535");
  }
  return hp;
}

StatusOr<ClientResponse> Fetch(const std::string& address, const std::string& method,
                               const std::string& target, std::chrono::milliseconds timeout,
                               const std::vector<std::pair<std::string, std::string>>& headers,
                               const std::string& body) {
  ASSIGN_OR_RETURN(HostPort hp, ParseHostPort(address));
  const std::string where = hp.host + ":" + hp.port;
  net::io_context ioc;
  tcp::resolver resolver(ioc);
  beast::tcp_stream stream(ioc);
  beast::flat_buffer buffer;
  bhttp::request<bhttp::string_body> req(bhttp::string_to_verb(method), target, 11);
  req.set(bhttp::field::host, hp.host);
  req.set(bhttp::field::user_agent, "embedps");
  for (const auto& [name, value] : headers) req.set(name, value);
  req.body() = body;
  req.prepare_payload();
  bhttp::response_parser<bhttp::string_body> parser;
  parser.body_limit(kMaxAnswerBytes);

  // Each step starts the next; `failure` keeps the first error.
  Status failure;
  bool done = false;
  auto fail = [&](const std::string& what, beast::error_code ec) {
    failure = Unavailable(what + " " + where + ": " + ec.message());
  };
  resolver.async_resolve(hp.host, hp.port, [&](beast::error_code ec, tcp::resolver::results_type r) {
    if (ec) return fail("cannot resolve", ec);
    stream.async_connect(r, [&](beast::error_code ec, const tcp::endpoint&) {
      if (ec) return fail("cannot connect to", ec);
      bhttp::async_write(stream, req, [&](beast::error_code ec, size_t) {
        if (ec) return fail("cannot send to", ec);
        bhttp::async_read(stream, buffer, parser, [&](beast::error_code ec, size_t) {
          if (ec) return fail("no valid answer from", ec);
          done = true;
        });
      });
    });
  });
  ioc.run_for(timeout);
  if (!failure.ok()) return failure;
  if (!done) {
    return DeadlineExceeded("no answer from " + where + " within " +
                            std::to_string(timeout.count()) + " ms");
  }
  ClientResponse out;
  const auto& res = parser.get();
  out.status = static_cast<int>(res.result_int());
  out.content_type = std::string(res[bhttp::field::content_type]);
  out.body = res.body();
  return out;
}

}  // namespace embedps::http
