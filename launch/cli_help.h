// Help per subcommand: `embedps help` lists the subcommands, `embedps help
// CMD` and `embedps CMD --help` show the flags CMD takes, grouped (data,
// model, cluster, checkpoints, monitoring, ...), with their defaults, and
// without glog's and gflags' own flags (`--helpfull` still shows all).
#pragma once

#include <string>
#include <vector>

namespace embedps::launch {

// The subcommands, in the order `embedps help` lists them.
std::vector<std::string> CommandNames();

// The one-screen overview: every subcommand with one line each, the exit
// codes, and where help goes on.
std::string CommandList();

// CMD's usage, summary and flags by group (each flag with its type, default
// and description); empty for an unknown command.
std::string CommandHelp(const std::string& command);

// Every flag the help tables name, with the commands that take it: a flag
// of the binary in no table would be missing from every help page.
struct HelpEntry {
  std::string flag;
  std::string group;
  std::vector<std::string> commands;
};
std::vector<HelpEntry> HelpEntries();

}  // namespace embedps::launch
