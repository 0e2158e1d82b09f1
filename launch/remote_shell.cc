#include "launch/remote_shell.h"

namespace embedps::launch {
namespace {

// $1 = remote dir, $2 = node name, the rest = argv. The watcher reads the
// ssh channel through fd 3 because an asynchronous list's own stdin is
// /dev/null in a non-interactive shell. It only kills while the pid file
// exists, so a pid reused after a normal exit is never hit.
constexpr char kNodeWrapper[] =
    "d=$1; n=$2; shift 2; "
    "mkdir -p \"$d\" || exit 125; "
    "\"$@\" </dev/null & p=$!; "
    "echo \"$p\" >\"$d/$n.pid\"; "
    "exec 3<&0; "
    "(cat <&3; [ -f \"$d/$n.pid\" ] && kill -KILL \"$p\"; rm -f \"$d/$n.pid\") >/dev/null 2>&1 & "
    "exec 3<&-; "
    "wait \"$p\"; rc=$?; rm -f \"$d/$n.pid\"; exit \"$rc\"";

constexpr char kCleanup[] =
    "d=$1; shift; "
    "for f in \"$d\"/*.pid; do [ -f \"$f\" ] && kill -KILL \"$(cat \"$f\")\" 2>/dev/null; "
    "rm -f \"$f\"; done; "
    "for f in \"$@\"; do cat \"$d/$f\" 2>/dev/null; rm -f \"$d/$f\"; done; "
    "rmdir \"$d\" 2>/dev/null; exit 0";

std::string ShCommand(const char* script, const std::vector<std::string>& args) {
  std::string out = "sh -c " + ShellQuote(script) + " embedps-remote";
  for (const auto& a : args) out += " " + ShellQuote(a);
  return out;
}

}  // namespace

std::string ShellQuote(const std::string& text) {
  std::string out = "'";
  for (char c : text) {
    if (c == '\'') {
      out += "'\\''";
    } else {
      out += c;
    }
  }
  return out + "'";
}

std::string RemoteNodeCommand(const std::string& remote_dir, const std::string& name,
                              const std::vector<std::string>& argv) {
  std::vector<std::string> args = {remote_dir, name};
  args.insert(args.end(), argv.begin(), argv.end());
  return ShCommand(kNodeWrapper, args);
}

std::string RemoteCleanupCommand(const std::string& remote_dir, const std::vector<std::string>& fetch) {
  std::vector<std::string> args = {remote_dir};
  args.insert(args.end(), fetch.begin(), fetch.end());
  return ShCommand(kCleanup, args);
}

}  // namespace embedps::launch
