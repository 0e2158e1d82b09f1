#include "common/flags/parse_flags.h"

#include <cstdlib>

#include <gflags/gflags.h>

// gflags exits through this pointer (exported by libgflags 2.x, not in its
// headers): with 1 for a flag error and after --help, with 0 after
// --version. Parsing and help are separate steps below, so each step maps
// its 1 to the code it means.
namespace google {
extern void (*gflags_exitfunc)(int);
}  // namespace google

namespace embedps {
namespace {

[[noreturn]] void ExitAfterFlagError(int code) { std::exit(code == 1 ? kExitUsageError : code); }
[[noreturn]] void ExitAfterHelp(int code) { std::exit(code == 1 ? 0 : code); }

}  // namespace

bool IsUsageError(const Status& status) {
  return status.code() == StatusCode::kInvalidArgument && status.message().rfind("--", 0) == 0;
}

void ParseFlagsOrExit(int* argc, char*** argv) {
  void (*const saved)(int) = google::gflags_exitfunc;
  google::gflags_exitfunc = &ExitAfterFlagError;
  gflags::ParseCommandLineNonHelpFlags(argc, argv, true);
  google::gflags_exitfunc = &ExitAfterHelp;
  gflags::HandleCommandLineHelpFlags();
  google::gflags_exitfunc = saved;
}

}  // namespace embedps
