// `embedps status`, `embedps stop` and `embedps checkpoint`: talk to a running job's scheduler
// over its HTTP endpoint (HOST:PORT is the scheduler's --http_port address,
// not its ZeroMQ endpoint).
//
// Exit codes (kExit*): 0 done; 1 the scheduler answered with an error or
// refused (401/403) or a local file could not be read; 2 bad usage; 3 the
// scheduler could not be reached within the timeout.
#pragma once

#include <chrono>
#include <string>

#include <nlohmann/json.hpp>

namespace embedps::launch {

inline constexpr int kExitOk = 0;
inline constexpr int kExitError = 1;
inline constexpr int kExitUsage = 2;
inline constexpr int kExitUnreachable = 3;

struct CliOptions {
  std::string scheduler;  // HOST:PORT of the scheduler's HTTP endpoint
  std::chrono::milliseconds timeout{5000};
  bool json = false;       // status: print the raw JSON document
  std::string token_file;  // stop: bearer token for POST /stop
};

// Prints the job's status (a table, or JSON with options.json) to stdout,
// errors to stderr; returns an exit code as above.
int RunStatusCommand(const CliOptions& options);

// Asks the scheduler to stop the job; returns an exit code as above.
int RunStopCommand(const CliOptions& options);

// Asks the scheduler for a checkpoint now (POST /checkpoint, a mutation:
// the scheduler needs --http_enable_mutations) and waits until /status
// shows it complete; returns an exit code as above.
int RunCheckpointCommand(const CliOptions& options);

// The human-readable form of a /status document.
std::string FormatStatusTable(const nlohmann::json& status);

}  // namespace embedps::launch
