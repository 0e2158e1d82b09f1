// A checkpoint that does not fit on its disk fails cleanly: the Status says
// the disk is full, the temporary file is gone and the previous checkpoint
// is untouched. The disk is real: a 256 KiB tmpfs mounted in a private
// mount namespace of a child process (needs root), or else a file size
// limit (RLIMIT_FSIZE) that makes write() fail with EFBIG.
#include <gtest/gtest.h>
#include <sched.h>
#include <signal.h>
#include <sys/mount.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include <filesystem>

#include "tests/support/test_dirs.h"
#include "tests/unit/ps/checkpoint_test_util.h"

namespace embedps::ps::checkpoint {
namespace {

using embedps::testing::ScratchDir;

constexpr int kSkip = 77;

// The checks, run in the child; returns what failed, or "" when all held.
std::string FullDiskChecks(const std::string& dir) {
  auto table = NewTable(TestConfig("emb", 16, "adagrad"));
  PushRandom(*table, KeyRange(1, 200), 1, 1);
  const std::string previous = dir + "/ckpt";
  auto w = Cut({table.get()}, FullCut(1));
  if (!w.ok() || !(*w)->Write(previous).ok()) return "the small first checkpoint failed";
  // 5,000 rows of 136 bytes: far more than the 256 KiB disk.
  PushRandom(*table, KeyRange(1, 5000), 1, 2);
  for (const std::string& path : {dir + "/ckpt2", previous}) {
    w = Cut({table.get()}, FullCut(2));
    if (!w.ok()) return w.status().ToString();
    auto stats = (*w)->Write(path);
    if (stats.ok()) return "a checkpoint larger than the disk was written to " + path;
    const std::string text = stats.status().ToString();
    if (stats.status().code() != StatusCode::kResourceExhausted ||
        (text.find("No space left on device") == std::string::npos &&
         text.find("File too large") == std::string::npos)) {
      return "unexpected error: " + text;
    }
    if (std::filesystem::exists(path + ".tmp")) return "temporary file left behind: " + text;
    if (path != previous && std::filesystem::exists(path)) return "a file was left at " + path;
    std::fprintf(stderr, "refused as expected: %s\n", text.c_str());
  }
  if (!Verify(previous).ok()) return "the previous checkpoint was damaged";
  auto restored = NewTable(TestConfig("emb", 16, "adagrad"));
  auto r = Restore({{previous}}, OwnAll, {restored.get()});
  if (!r.ok() || restored->size() != 200) return "the previous checkpoint does not restore";
  // A delta after the failed checkpoint would have no base.
  if (Cut({table.get()}, DeltaCut(3, 2)).ok()) return "a delta was allowed after a failed write";
  return "";
}

// Forks; the child mounts a tiny tmpfs (or limits file sizes when `use_rlimit`)
// and runs the checks. Returns the child's exit status.
int RunInChild(const std::string& scratch, bool use_rlimit) {
  const pid_t pid = fork();
  if (pid != 0) {
    int status = 0;
    waitpid(pid, &status, 0);
    return WIFEXITED(status) ? WEXITSTATUS(status) : 128 + WTERMSIG(status);
  }
  const std::string dir = scratch + "/disk";
  std::filesystem::create_directories(dir);
  if (use_rlimit) {
    signal(SIGXFSZ, SIG_IGN);  // write() then fails with EFBIG
    const struct rlimit limit{256 * 1024, 256 * 1024};
    if (setrlimit(RLIMIT_FSIZE, &limit) != 0) _exit(kSkip);
  } else if (geteuid() != 0 || unshare(CLONE_NEWNS) != 0 ||
             mount("none", "/", nullptr, MS_REC | MS_PRIVATE, nullptr) != 0 ||
             mount("tmpfs", dir.c_str(), "tmpfs", 0, "size=256k") != 0) {
    _exit(kSkip);
  }
  const std::string failed = FullDiskChecks(dir);
  if (!failed.empty()) std::fprintf(stderr, "full disk check failed: %s\n", failed.c_str());
  _exit(failed.empty() ? 0 : 1);
}

TEST(CheckpointFullDiskTest, FullTmpfsFailsCleanly) {
  ScratchDir scratch;
  const int rc = RunInChild(scratch.path(), false);
  if (rc == kSkip) GTEST_SKIP() << "needs root and mount namespaces to mount a small tmpfs";
  EXPECT_EQ(rc, 0) << "see the child's message above";
}

TEST(CheckpointFullDiskTest, FileSizeLimitFailsCleanly) {
  ScratchDir scratch;
  const int rc = RunInChild(scratch.path(), true);
  if (rc == kSkip) GTEST_SKIP() << "setrlimit(RLIMIT_FSIZE) refused";
  EXPECT_EQ(rc, 0) << "see the child's message above";
}

}  // namespace
}  // namespace embedps::ps::checkpoint
