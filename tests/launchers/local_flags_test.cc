// `embedps local` passes --node_flags / --scheduler_flags / --server_flags /
// --worker_flags through to the daemons, last, so any daemon flag (one added
// later included) can be set without changing the launcher.
#include <gtest/gtest.h>

#include "tests/support/subprocess.h"
#include "tests/support/criteo_data.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::seconds;

TEST(LocalFlagsTest, PassThroughFlagsReachTheDaemons) {
  testing::ScratchDir dir;
  const std::string data = testing::GenerateCriteoFile(dir, "d.tsv", 3000, 1);
  // The default is 4 partitions per worker; the scheduler must see 3.
  auto r = testing::RunBinary("embedps",
                              {"local", "--train=" + data, "--test=" + data, "--servers=1", "--workers=1",
                               "--scheduler_flags=--partitions_per_worker=3",
                               "--node_flags=--heartbeat_interval_ms=300", "--run_dir=" + dir.File("run")},
                              dir.File("local.log"), seconds(120));
  ASSERT_EQ(r.exit_code, 0) << r.output;
  EXPECT_NE(r.output.find("training on 3 partitions"), std::string::npos) << r.output;

  // A flag a daemon does not know fails that daemon, which is named.
  r = testing::RunBinary("embedps",
                         {"local", "--train=" + data, "--test=" + data, "--servers=1", "--workers=1",
                          "--server_flags=--no_such_flag=1", "--run_dir=" + dir.File("run2")},
                         dir.File("local2.log"), seconds(120));
  EXPECT_EQ(r.exit_code, 1) << r.output;
  EXPECT_NE(r.output.find("server-0 exited with code 2"), std::string::npos) << "a usage error: " << r.output;
  EXPECT_NE(r.output.find("no_such_flag"), std::string::npos) << r.output;

  r = testing::RunBinary("embedps", {"local", "--train=" + data, "--test=" + data, "--worker_flags=batch_size=5"},
                         dir.File("local3.log"), seconds(20));
  EXPECT_EQ(r.exit_code, 2) << "a usage error: " << r.output;
  EXPECT_NE(r.output.find("--worker_flags: 'batch_size=5' is not a daemon flag"), std::string::npos) << r.output;
}

}  // namespace
}  // namespace embedps
