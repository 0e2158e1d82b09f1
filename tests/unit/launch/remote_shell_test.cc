// The remote commands are run by a real /bin/sh here, as ssh's remote shell
// would run them.
#include "launch/remote_shell.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "launch/extra_flags.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps::launch {
namespace {

using std::chrono::seconds;

testing::RunResult Sh(const testing::ScratchDir& dir, const std::string& command) {
  return testing::RunProgram("/bin/sh", {"-c", command}, dir.File("sh.log"), seconds(20));
}

TEST(RemoteShellTest, QuotingSurvivesTheShell) {
  testing::ScratchDir dir;
  for (const std::string text : {"plain", "two words", "it's", "$HOME `id` \"q\" \\ ;|&", ""}) {
    auto r = Sh(dir, "printf '[%s]' " + ShellQuote(text));
    EXPECT_EQ(r.output, "[" + text + "]");
    std::filesystem::remove(dir.File("sh.log"));
  }
}

TEST(RemoteShellTest, WrapperRunsTheDaemonAndPassesItsExitCode) {
  testing::ScratchDir dir;
  const std::string remote = dir.File("remote");
  // Input stays open (for a second) while the daemon finishes on its own:
  // its exit status comes back. (With input at its end at once the wrapper
  // would be right to kill the daemon, so </dev/null would race.)
  auto r = Sh(dir, "sleep 1 | " + RemoteNodeCommand(remote, "node", {"/bin/sh", "-c", "echo 'hi there'; exit 3"}));
  EXPECT_EQ(r.exit_code, 3);
  EXPECT_NE(r.output.find("hi there"), std::string::npos);
  EXPECT_FALSE(std::filesystem::exists(remote + "/node.pid"));
}

TEST(RemoteShellTest, EndOfInputKillsTheDaemon) {
  testing::ScratchDir dir;
  const std::string remote = dir.File("remote");
  // The pipe's writer lives 1 s, then input ends: the wrapper must kill the
  // 60 s sleep and report SIGKILL (137) long before it would finish.
  const auto start = std::chrono::steady_clock::now();
  auto r = Sh(dir, "sleep 1 | " + RemoteNodeCommand(remote, "node", {"/bin/sleep", "60"}));
  EXPECT_EQ(r.exit_code, 137) << r.output;
  EXPECT_LT(std::chrono::steady_clock::now() - start, seconds(15));
  EXPECT_TRUE(testing::AwaitNoProcessMatching("/bin/sleep 60", seconds(3)).empty());
}

TEST(RemoteShellTest, CleanupKillsNamedPidsAndPrintsFetchedFiles) {
  testing::ScratchDir dir;
  const std::string remote = dir.File("remote");
  std::filesystem::create_directories(remote);
  launch::ProcessGroup group;
  auto pid = group.Start({"sleeper", "/bin/sleep", {"60"}, dir.File("sleep.log")});
  ASSERT_TRUE(pid.ok());
  std::ofstream(remote + "/node.pid") << *pid << "\n";
  std::ofstream(remote + "/stats.json") << "{\"rows\": 5}";
  auto r = Sh(dir, RemoteCleanupCommand(remote, {"stats.json"}));
  EXPECT_EQ(r.exit_code, 0);
  EXPECT_EQ(r.output, "{\"rows\": 5}");
  auto exit = group.WaitAny(std::chrono::milliseconds(5000));
  ASSERT_TRUE(exit.has_value());
  EXPECT_EQ(exit->exit_code, 128 + 9);
  EXPECT_FALSE(std::filesystem::exists(remote));
}

TEST(ExtraFlagsTest, SplitsAndChecksDaemonFlags) {
  auto flags = ParseExtraFlags("--a=1  --b", "--s=2", "", "--w");
  ASSERT_TRUE(flags.ok());
  EXPECT_EQ(flags->For("scheduler"), (std::vector<std::string>{"--a=1", "--b", "--s=2"}));
  EXPECT_EQ(flags->For("server"), (std::vector<std::string>{"--a=1", "--b"}));
  EXPECT_EQ(flags->For("worker"), (std::vector<std::string>{"--a=1", "--b", "--w"}));
  auto bad = ParseExtraFlags("", "", "-x", "");
  ASSERT_FALSE(bad.ok());
  EXPECT_NE(bad.status().message().find("--server_flags: '-x' is not a daemon flag"), std::string::npos);
}

}  // namespace
}  // namespace embedps::launch
