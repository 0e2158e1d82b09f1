// Daemon flags a launcher passes through unchanged (`--node_flags`,
// `--scheduler_flags`, `--server_flags`, `--worker_flags`), so a flag a
// daemon gains later (e.g. security or monitoring settings) can be used from
// every launcher without changing it.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"

namespace embedps::launch {

struct ExtraFlags {
  std::vector<std::string> node;       // every daemon
  std::vector<std::string> scheduler;  // only the scheduler, etc.
  std::vector<std::string> server;
  std::vector<std::string> worker;

  // node + the role's own list; appended last, so they override what the
  // launcher sets itself. `role` is "scheduler", "server" or "worker".
  std::vector<std::string> For(const std::string& role) const;
};

// Splits `text` at whitespace (no quoting).
std::vector<std::string> SplitWords(const std::string& text);

// Splits whitespace-separated daemon flags. Every item must look like
// --name or --name=value; InvalidArgument names `flag` otherwise. A value
// cannot contain spaces here: put such settings in a flagfile and pass
// --flagfile=PATH instead.
StatusOr<std::vector<std::string>> SplitDaemonFlags(const char* flag, const std::string& text);

// Parses the four pass-through flags' values.
StatusOr<ExtraFlags> ParseExtraFlags(const std::string& node, const std::string& scheduler,
                                     const std::string& server, const std::string& worker);

}  // namespace embedps::launch
