// Parses the command line's flags as gflags does, with the exit codes
// people and scripts expect: 2 for a usage error (an unknown flag, a bad
// value: gflags exits 1), 0 after --help or --version.
#pragma once

#include "common/status.h"

namespace embedps {

inline constexpr int kExitUsageError = 2;

// gflags::ParseCommandLineFlags(argc, argv, true) with those exit codes.
void ParseFlagsOrExit(int* argc, char*** argv);

// A usage error: an InvalidArgument whose message names a flag first
// ("--passes must be in 1..1000"), as every check of a flag's value
// words it. Commands exit kExitUsageError for these, 1 for other errors.
bool IsUsageError(const Status& status);

}  // namespace embedps
