// Process-wide glog set-up for the daemons: every line's prefix names the
// job, the node's role and (once it joined) its rank, so logs gathered from
// many machines stay readable:
//   I1125 17:09:18.753446 13534 [job=3fa2c1d0 server=1] server.cc:57] ...
// glog is process-global, so this is too; components never call it.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "common/wire/messages.h"

namespace embedps {

// Initializes glog with the prefix above. Call once, before any logging.
void InitLogging(const char* argv0, const std::string& job_id, wire::Role role);

// Sets the rank shown in the prefix. Thread-safe.
void SetLogRank(uint32_t rank);

// Sends this process's stderr (hence its whole log) to one new file
// DIR/ROLE-HOST-PID.log, creating DIR; returns the file's path.
StatusOr<std::string> RedirectLogToDir(const std::string& dir, wire::Role role);

}  // namespace embedps
