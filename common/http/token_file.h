// Reads the bearer token that guards mutating HTTP endpoints.
#pragma once

#include <string>

#include "common/status.h"

namespace embedps::http {

// The token in `path`: its first line without surrounding whitespace.
// NotFound when the file cannot be read; InvalidArgument when the token is
// empty, shorter than 16 characters, or holds characters outside RFC 6750's
// token alphabet (letters, digits, -._~+/=).
StatusOr<std::string> ReadTokenFile(const std::string& path);

}  // namespace embedps::http
