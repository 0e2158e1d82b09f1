// The exported-model file: round trip, and clear errors for missing,
// truncated and corrupted files.
#include "common/model_file.h"

#include <gtest/gtest.h>

#include <filesystem>
#include <fstream>

#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

ModelShard Sample() {
  ModelShard s;
  s.table = 3;
  s.dim = 2;
  for (uint64_t k = 0; k < 100; ++k) {
    s.keys.push_back(k * 1000003);
    s.values.push_back(k * 0.5f);
    s.values.push_back(-static_cast<float>(k));
  }
  return s;
}

TEST(ModelFileTest, RoundTrip) {
  testing::ScratchDir dir;
  const std::string path = dir.File("m.epsmodel");
  ASSERT_TRUE(WriteModelShard(path, Sample()).ok());
  auto got = ReadModelShard(path);
  ASSERT_TRUE(got.ok()) << got.status().ToString();
  EXPECT_EQ(got->table, 3u);
  EXPECT_EQ(got->dim, 2u);
  EXPECT_EQ(got->keys, Sample().keys);
  EXPECT_EQ(got->values, Sample().values);
  EXPECT_FALSE(std::filesystem::exists(path + ".tmp"));
}

TEST(ModelFileTest, MissingFileIsNotFound) {
  EXPECT_EQ(ReadModelShard("/nonexistent/x.epsmodel").status().code(), StatusCode::kNotFound);
}

TEST(ModelFileTest, CorruptionIsDataLoss) {
  testing::ScratchDir dir;
  const std::string path = dir.File("m.epsmodel");
  ASSERT_TRUE(WriteModelShard(path, Sample()).ok());
  const auto size = std::filesystem::file_size(path);
  {
    std::fstream f(path, std::ios::in | std::ios::out | std::ios::binary);
    f.seekp(static_cast<std::streamoff>(size / 2));
    char c;
    f.read(&c, 1);
    c ^= 0x40;
    f.seekp(static_cast<std::streamoff>(size / 2));
    f.write(&c, 1);
  }
  auto got = ReadModelShard(path);
  ASSERT_FALSE(got.ok());
  EXPECT_EQ(got.status().code(), StatusCode::kDataLoss);
  EXPECT_NE(got.status().message().find("checksum"), std::string::npos);

  std::filesystem::resize_file(path, size - 20);
  EXPECT_EQ(ReadModelShard(path).status().code(), StatusCode::kDataLoss);

  std::ofstream(path) << "EPSMODEX and some more bytes that are not a model";
  EXPECT_EQ(ReadModelShard(path).status().code(), StatusCode::kDataLoss);
}

}  // namespace
}  // namespace embedps
