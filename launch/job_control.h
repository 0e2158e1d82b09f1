// What every launcher (`embedps local`, `embedps ssh`) does around its process
// group: a job directory, Ctrl-C handling, and waiting for the children with
// the first failure ending the job.
#pragma once

#include <chrono>
#include <functional>
#include <string>

#include "common/status.h"
#include "launch/process_group.h"

namespace embedps::launch {

// Makes SIGINT and SIGTERM set a flag that Interrupted() reports instead of
// killing the launcher, so it can stop its children in order.
void InstallInterruptHandler();
bool Interrupted();
// True when the interrupt is a SIGTERM alone (no SIGINT): a process manager
// asking the job to stop well, which a launcher that can do so (`local`)
// passes on to its scheduler instead of killing the job.
bool TerminateRequested();

// Creates `requested` (or a new /tmp/<prefix>-XXXXXX when empty) with a logs/
// subdirectory and returns its absolute path.
StatusOr<std::string> MakeJobDir(const std::string& requested, const std::string& prefix);

// Waits until every child of `group` has exited. The first child that exits
// non-zero ends the wait with describe(exit); an interrupt ends it with
// Aborted, and `timeout` with DeadlineExceeded. Children still running are
// left for the caller to stop.
Status AwaitGroup(ProcessGroup& group, std::chrono::seconds timeout,
                  const std::function<Status(const ChildExit&)>& describe);

}  // namespace embedps::launch
