#include "common/http/token_file.h"

#include <cctype>
#include <cstring>
#include <fstream>

namespace embedps::http {

StatusOr<std::string> ReadTokenFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("cannot read token file " + path + ": " + std::strerror(errno));
  std::string line;
  std::getline(in, line);
  const size_t begin = line.find_first_not_of(" \t\r");
  const size_t end = line.find_last_not_of(" \t\r");
  const std::string token = begin == std::string::npos ? "" : line.substr(begin, end - begin + 1);
  // Short tokens are guessable; 16 characters is a floor, not a target.
  if (token.size() < 16) {
    return InvalidArgument("token file " + path + " must hold a token of at least 16 characters");
  }
  for (char c : token) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && std::strchr("-._~+/=", c) == nullptr) {
      return InvalidArgument("token file " + path +
                             " holds characters outside letters, digits and -._~+/=");
    }
  }
  return token;
}

}  // namespace embedps::http
