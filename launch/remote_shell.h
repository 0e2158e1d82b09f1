// The shell commands the ssh launcher runs on remote hosts. Each is one
// string for `ssh HOST COMMAND`, which the remote login shell interprets.
#pragma once

#include <string>
#include <vector>

namespace embedps::launch {

// `text` in single quotes, safe for any POSIX shell.
std::string ShellQuote(const std::string& text);

// Runs argv (a daemon and its flags) under a small POSIX sh wrapper that
//  - writes the daemon's pid to REMOTE_DIR/NAME.pid while it runs,
//  - SIGKILLs the daemon as soon as its stdin (the ssh channel) reaches end
//    of input, i.e. when the launcher closes the pipe, dies, or the
//    connection drops, so no daemon outlives its launcher,
//  - exits with the daemon's status (128 + N when killed by signal N).
std::string RemoteNodeCommand(const std::string& remote_dir, const std::string& name,
                              const std::vector<std::string>& argv);

// SIGKILLs every daemon still named by a pid file in `remote_dir`, prints
// and removes the files named in `fetch` (in that directory), and removes
// the pid files and the directory if that leaves it empty. Never removes
// anything else.
std::string RemoteCleanupCommand(const std::string& remote_dir, const std::vector<std::string>& fetch);

}  // namespace embedps::launch
