// Issue #9, item 4: a job whose checkpoint directory, or whole run
// directory, is on a disk too small for it. Every failed checkpoint is said
// on the console and in the summary, and nothing partial is left behind
// (it used to drop the final checkpoint silently, exit 0 with
// "checkpoints_written: 0" and leave an orphan server file; and a run
// directory on a full disk kept .epsmodel.tmp files and partial
// checkpoint directories).
//
// The disk is real: a 4 MiB tmpfs mounted in a private mount namespace
// (`unshare -m`, needs root). The job runs inside it, and so does the look
// at what it left, since the mount vanishes with the namespace.
#include <gtest/gtest.h>

#include <unistd.h>

#include <filesystem>
#include <fstream>

#include <nlohmann/json.hpp>

#include "tests/support/fault_job.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

constexpr int kSkip = 77;

// Runs `embedps local ARGS` with a 4 MiB tmpfs mounted at `mount_point`,
// then lists what it left there: "exit=N", then one "left: PATH" line for
// each temporary file and each checkpoint directory without a manifest.
testing::RunResult RunOnSmallDisk(const testing::ScratchDir& dir, const std::string& mount_point,
                                  const std::vector<std::string>& args) {
  std::string command = "mount -t tmpfs -o size=4m embedps-test " + mount_point + " || exit " +
                        std::to_string(kSkip) + "; " + testing::BinDir() + "/embedps local";
  for (const auto& a : args) command += " '" + a + "'";
  command += "; echo exit=$?; find " + mount_point +
             " -name '*.tmp' -printf 'left: %p\\n'; for c in $(find " + mount_point +
             " -type d -name 'ckpt-*'); do [ -f $c/MANIFEST.json ] || echo left: $c; done";
  return testing::RunProgram("/usr/bin/unshare", {"-m", "--propagation", "private", "sh", "-c", command},
                             dir.File("unshare.log"), seconds(240));
}

class FullDiskTest : public ::testing::Test {
 protected:
  void SetUp() override {
    if (geteuid() != 0) GTEST_SKIP() << "needs root to mount a small tmpfs";
    // 200k rows: each checkpoint is about 5.6 MB, more than the 4 MiB disk.
    data_ = testing::GenerateFaultData(dir_, 200000, 5000, 61);
  }
  testing::ScratchDir dir_;
  testing::FaultData data_;
};

TEST_F(FullDiskTest, FailedCheckpointsAreReportedAndLeaveNothingBehind) {
  const std::string disk = dir_.File("disk");
  std::filesystem::create_directories(disk);
  const std::string summary = dir_.File("summary.json");
  auto r = RunOnSmallDisk(dir_, disk,
                          testing::FaultJobArgs(data_, 3, 500,
                                                {"--run_dir=" + dir_.File("run"), "--checkpoint_dir=" + disk,
                                                 "--checkpoint_interval_s=1", "--summary_json=" + summary,
                                                 "--http_port=-1"}));
  if (r.exit_code == kSkip) GTEST_SKIP() << "cannot mount a tmpfs here: " << r.output;
  ASSERT_NE(r.output.find("exit=0"), std::string::npos) << "the model itself was exported: " << r.output;
  // The console says so, for the final checkpoint too.
  EXPECT_NE(r.output.find("(end of training) abandoned"), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("left: "), std::string::npos) << r.output;
  std::ifstream in(summary);
  auto j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  ASSERT_TRUE(j.is_object()) << r.output;
  EXPECT_EQ(j.value("checkpoints_written", 1), 0) << j.dump(2);
  EXPECT_GE(j.value("checkpoint_failures", 0), 1) << j.dump(2);
  ASSERT_TRUE(j["checkpoint_failure_details"].is_array());
  EXPECT_EQ(j["checkpoint_failure_details"].back().value("reason", ""), "end of training") << j.dump(2);
}

TEST_F(FullDiskTest, ARunDirectoryOnAFullDiskFailsClearlyAndLeavesNoPartialFiles) {
  const std::string disk = dir_.File("disk");
  std::filesystem::create_directories(disk);
  auto r = RunOnSmallDisk(dir_, disk,
                          testing::FaultJobArgs(data_, 2, 500,
                                                {"--run_dir=" + disk + "/run", "--checkpoint_interval_s=1",
                                                 "--http_port=-1"}));
  if (r.exit_code == kSkip) GTEST_SKIP() << "cannot mount a tmpfs here: " << r.output;
  EXPECT_EQ(r.output.find("exit=0"), std::string::npos) << "the export cannot fit: " << r.output;
  EXPECT_NE(r.output.find("exit="), std::string::npos) << r.output;
  EXPECT_NE(r.output.find("No space left on device"), std::string::npos) << r.output;
  EXPECT_EQ(r.output.find("left: "), std::string::npos) << r.output;
}

}  // namespace
}  // namespace embedps
