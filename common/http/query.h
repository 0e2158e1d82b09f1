// Query-string parameters of a request target ("user=12&k=10").
#pragma once

#include <optional>
#include <string>
#include <string_view>

namespace embedps::http {

// The value of the first `name=value` pair of `query`, percent-decoded
// ('+' as a space); nullopt when absent. A pair without '=' has an empty
// value.
std::optional<std::string> QueryParam(std::string_view query, std::string_view name);

}  // namespace embedps::http
