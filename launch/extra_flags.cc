#include "launch/extra_flags.h"

#include <sstream>

namespace embedps::launch {

std::vector<std::string> ExtraFlags::For(const std::string& role) const {
  std::vector<std::string> out = node;
  const auto& own = role == "scheduler" ? scheduler : role == "server" ? server : worker;
  out.insert(out.end(), own.begin(), own.end());
  return out;
}

std::vector<std::string> SplitWords(const std::string& text) {
  std::vector<std::string> out;
  std::istringstream in(text);
  for (std::string item; in >> item;) out.push_back(item);
  return out;
}

StatusOr<std::vector<std::string>> SplitDaemonFlags(const char* flag, const std::string& text) {
  std::vector<std::string> out = SplitWords(text);
  for (const auto& item : out) {
    if (item.size() < 3 || item.compare(0, 2, "--") != 0 || item[2] == '=') {
      return InvalidArgument(std::string("--") + flag + ": '" + item +
                             "' is not a daemon flag (expected --name or --name=value)");
    }
  }
  return out;
}

StatusOr<ExtraFlags> ParseExtraFlags(const std::string& node, const std::string& scheduler,
                                     const std::string& server, const std::string& worker) {
  ExtraFlags f;
  ASSIGN_OR_RETURN(f.node, SplitDaemonFlags("node_flags", node));
  ASSIGN_OR_RETURN(f.scheduler, SplitDaemonFlags("scheduler_flags", scheduler));
  ASSIGN_OR_RETURN(f.server, SplitDaemonFlags("server_flags", server));
  ASSIGN_OR_RETURN(f.worker, SplitDaemonFlags("worker_flags", worker));
  return f;
}

}  // namespace embedps::launch
