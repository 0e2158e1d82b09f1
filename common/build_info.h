// What the binaries were built from: the project's version and the git
// commit (12 hex digits, or "unknown" outside a git checkout).
#pragma once

#include <string>

namespace embedps {

const char* BuildVersion();
const char* BuildCommit();
// "0.9.0 (commit 0123456789ab)", as --version prints it.
std::string VersionString();

}  // namespace embedps
