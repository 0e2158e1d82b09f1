// `embedps help`, `embedps CMD --help` and the deprecated spellings (#10,
// command line): every subcommand has a page of the flags it takes,
// grouped, with defaults and without glog's flags; every flag of the binary
// is on some page (or is a daemon flag no subcommand reads); the old
// spellings still work for one release and say what replaces them.
#include <regex>
#include <set>
#include <sstream>
#include <string>

#include <gtest/gtest.h>

#include "tests/support/planted_mf.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

testing::RunResult Embedps(const testing::ScratchDir& dir, const std::string& log, std::vector<std::string> args) {
  return testing::RunBinary("embedps", args, dir.File(log), std::chrono::seconds(30));
}

const std::vector<std::string> kCommands = {"local",  "ssh",    "node-flags", "gen-criteo", "eval",
                                            "export", "predict", "recommend", "serve",      "keygen",
                                            "bench",  "status", "stop",       "checkpoint"};

TEST(CliHelpTest, EveryCommandHasAPageOfItsFlags) {
  testing::ScratchDir dir;
  auto list = Embedps(dir, "help.log", {"help"});
  ASSERT_EQ(list.exit_code, 0) << list.output;
  for (const std::string& c : kCommands) EXPECT_NE(list.output.find("\n  " + c + " "), std::string::npos) << c;
  EXPECT_NE(list.output.find("exit codes: 0 ok"), std::string::npos);
  EXPECT_EQ(Embedps(dir, "bare.log", {"--help"}).output, list.output) << "embedps --help is the list";

  auto local = Embedps(dir, "local.log", {"local", "--help"});
  ASSERT_EQ(local.exit_code, 0) << local.output;
  for (const char* group : {"\ndata:\n", "\nmodel:\n", "\ntraining:\n", "\ncluster:\n", "\ncheckpoints:\n",
                            "\nmonitoring:\n", "\noutput:\n"}) {
    EXPECT_NE(local.output.find(group), std::string::npos) << group << local.output;
  }
  EXPECT_LT(local.output.find("\ndata:\n"), local.output.find("\nmodel:\n"));
  EXPECT_NE(local.output.find("  --passes (int32, default 1)\n"), std::string::npos) << local.output;
  EXPECT_NE(local.output.find("  --model (string, default \"lr\")\n"), std::string::npos) << local.output;
  EXPECT_NE(local.output.find("  --servers (int32, default 2)\n      number of servers\n"), std::string::npos)
      << "the page's own part of a shared description: " << local.output;
  for (const char* foreign : {"--logtostderr", "--vmodule", "--helpfull (", "--rows", "--hostfile", "--input"}) {
    EXPECT_EQ(local.output.find(foreign), std::string::npos) << foreign << " is not local's";
  }
  EXPECT_EQ(Embedps(dir, "help-local.log", {"help", "local"}).output, local.output);
  auto unknown = Embedps(dir, "unknown.log", {"help", "train"});
  EXPECT_EQ(unknown.exit_code, 2) << unknown.output;
  EXPECT_NE(unknown.output.find("no command 'train'"), std::string::npos) << unknown.output;

  // Every flag of the binary but glog's and gflags' is on a page.
  auto full = Embedps(dir, "full.log", {"--helpfull"});
  ASSERT_EQ(full.exit_code, 0) << full.output;
  std::string pages;
  for (const std::string& c : kCommands) {
    auto page = Embedps(dir, c + ".log", {c, "--help"});
    ASSERT_EQ(page.exit_code, 0) << c;
    EXPECT_NE(page.output.find("usage: embedps " + c), std::string::npos) << page.output;
    pages += page.output;
  }
  // The daemon flags the node code links in, which no subcommand reads.
  const std::set<std::string> daemon_only = {"cluster_token",   "curve_dir",         "curve_key",
                                             "heartbeat_interval_ms", "join_timeout_ms", "max_message_bytes",
                                             "scheduler_timeout_ms"};
  std::istringstream lines(full.output);
  std::string line, source;
  const std::regex from(R"(  Flags from (\S+):)"), flag(R"(    -(\w+) \()");
  int checked = 0;
  for (std::smatch m; std::getline(lines, line);) {
    if (std::regex_search(line, m, from)) source = m[1];
    const bool ours = source.find("launch/") != std::string::npos || source.find("worker/") != std::string::npos ||
                      source.find("common/") != std::string::npos;
    if (!ours || !std::regex_search(line, m, flag)) continue;
    const std::string name = m[1];
    if (daemon_only.count(name)) continue;
    ++checked;
    EXPECT_NE(pages.find("  --" + name + " ("), std::string::npos) << "--" << name << " (" << source << ") is on no page";
  }
  EXPECT_GT(checked, 90);
}

TEST(CliHelpTest, OldSpellingsWorkAndSayWhatReplacesThem) {
  testing::ScratchDir dir;
  testing::PlantedMf m;
  m.item_bias = {{1, 0.5f}};
  m.item_factor = {{1, 1.0f}};
  m.user_factor = {{8, -0.25f}};
  m.seen = {{8, 1}};
  ASSERT_TRUE(testing::WritePlantedMf(dir.File("model"), m).ok());
  const std::string input = dir.Write("in.txt", "8\t1\t3\t1\n");
  auto old = Embedps(dir, "old.log", {"predict", "--model=" + dir.File("model"), "--input=" + input,
                                      "--output=" + dir.File("old.txt")});
  ASSERT_EQ(old.exit_code, 0) << old.output;
  EXPECT_NE(old.output.find("--model is deprecated and goes away in the next release: use --model_dir"),
            std::string::npos)
      << old.output;
  EXPECT_NE(old.output.find("--output is deprecated and goes away in the next release: use --out"), std::string::npos)
      << old.output;
  auto now = Embedps(dir, "new.log", {"predict", "--model_dir=" + dir.File("model"), "--input=" + input,
                                      "--out=" + dir.File("new.txt")});
  ASSERT_EQ(now.exit_code, 0) << now.output;
  EXPECT_EQ(now.output.find("deprecated"), std::string::npos) << now.output;
  EXPECT_EQ(testing::ReadFile(dir.File("new.txt")), testing::ReadFile(dir.File("old.txt")));
  auto clash = Embedps(dir, "clash.log", {"predict", "--model_dir=" + dir.File("model"), "--input=" + input,
                                          "--out=" + dir.File("a.txt"), "--output=" + dir.File("b.txt")});
  EXPECT_EQ(clash.exit_code, 2) << clash.output;

  auto status = Embedps(dir, "status.log", {"status", "--scheduler=127.0.0.1:1", "--timeout_ms=200"});
  EXPECT_EQ(status.exit_code, 3) << status.output;
  EXPECT_NE(status.output.find("--timeout_ms is deprecated"), std::string::npos) << status.output;
}

}  // namespace
}  // namespace embedps
