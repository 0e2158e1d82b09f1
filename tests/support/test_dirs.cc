#include "tests/support/test_dirs.h"

#include <cstdlib>
#include <filesystem>
#include <fstream>

#include <glog/logging.h>
#include <gtest/gtest.h>
#include <zlib.h>


namespace embedps::testing {

std::string BinDir() { return EMBEDPS_BIN_DIR; }

std::string SourceDir() { return EMBEDPS_SOURCE_DIR; }

std::string SharedDataDir() {
  if (const char* env = std::getenv("EMBEDPS_DATA_DIR")) return env;
  return EMBEDPS_SHARED_DATA_DIR;
}

std::string TestOutputDir(const std::string& name) {
  const std::string dir = std::string(EMBEDPS_BUILD_DIR) + "/test-output/" + name;
  std::filesystem::create_directories(dir);
  return dir;
}

std::string ArtifactsDir() {
  const std::string dir = std::string(EMBEDPS_BUILD_DIR) + "/test-artifacts";
  std::filesystem::create_directories(dir);
  return dir;
}

ScratchDir::ScratchDir() {
  std::string templ = ::testing::TempDir() + "embedps-XXXXXX";
  char* made = mkdtemp(templ.data());
  CHECK(made != nullptr) << "mkdtemp failed for " << templ;
  path_ = made;
}

std::string ScratchDir::Write(const std::string& name, const std::string& content) const {
  const std::string path = File(name);
  std::ofstream(path, std::ios::binary) << content;
  return path;
}

std::string ScratchDir::WriteGzip(const std::string& name, const std::string& content) const {
  const std::string path = File(name);
  gzFile gz = gzopen(path.c_str(), "wb");
  CHECK(gz != nullptr) << "cannot create " << path;
  if (!content.empty()) {
    CHECK_EQ(gzwrite(gz, content.data(), static_cast<unsigned>(content.size())),
             static_cast<int>(content.size()));
  }
  CHECK_EQ(gzclose(gz), Z_OK);
  return path;
}

ScratchDir::~ScratchDir() {
  std::error_code ec;
  std::filesystem::remove_all(path_, ec);
}

}  // namespace embedps::testing
