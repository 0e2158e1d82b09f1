// Short names for Boost.Asio and Boost.Beast, for common/http's .cc files
// only (the public headers stay free of Boost).
#pragma once

#include <boost/asio.hpp>
#include <boost/beast/core.hpp>
#include <boost/beast/http.hpp>

namespace embedps::http {

namespace beast = boost::beast;
namespace bhttp = boost::beast::http;
namespace net = boost::asio;
using tcp = net::ip::tcp;

}  // namespace embedps::http
