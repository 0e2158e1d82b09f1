// The Docker, Compose, Prometheus, Grafana, Kubernetes and Slurm files cannot
// be run here (no Docker engine, no cluster), so they are checked with the
// tools Debian has (docker-compose config, promtool check/test rules,
// shellcheck, kubectl kustomize of the Kubernetes overlays) and by
// tests/launchers/check_deploy_files.py: structure, names and ports that must
// agree, and every daemon flag against the built binaries.
#include <unistd.h>

#include <gtest/gtest.h>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

constexpr char kPython[] = "/usr/bin/python3";
constexpr int kSkip = 77;

void Check(const std::string& what) {
  if (access(kPython, X_OK) != 0) GTEST_SKIP() << "python3 is not installed";
  testing::ScratchDir dir;
  auto r = testing::RunProgram(kPython,
                               {testing::SourceDir() + "/tests/launchers/check_deploy_files.py",
                                testing::SourceDir(), testing::BinDir(), what},
                               dir.File("check.log"), std::chrono::seconds(120));
  if (r.exit_code == kSkip) GTEST_SKIP() << r.output;
  EXPECT_EQ(r.exit_code, 0) << r.output;
  std::cout << r.output;  // notes on what was not checked
}

TEST(DeployFilesTest, JobFlagfilesParseAsTheDaemonsReadThem) { Check("flagfiles"); }
TEST(DeployFilesTest, ComposeStack) { Check("compose"); }
TEST(DeployFilesTest, PrometheusScrapesEveryNode) { Check("prometheus"); }
TEST(DeployFilesTest, GrafanaProvisioningAndDashboard) { Check("grafana"); }
TEST(DeployFilesTest, KubernetesManifests) { Check("k8s"); }
TEST(DeployFilesTest, DockerfileStagesAndRuntimeLibraries) { Check("docker"); }
TEST(DeployFilesTest, SlurmScripts) { Check("slurm"); }

}  // namespace
}  // namespace embedps
