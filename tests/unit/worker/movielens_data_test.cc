// The real MovieLens 100K files from ../shared/data/ml-100k (or
// $EMBEDPS_DATA_DIR/ml-100k): detection, every rating read, and side
// features for every user and item. Skips when the data is absent.
#include <filesystem>
#include <set>

#include <gtest/gtest.h>

#include "common/partition.h"
#include "tests/support/test_dirs.h"
#include "worker/data/example_reader.h"
#include "worker/data/side_features.h"

namespace embedps::data {
namespace {

std::string Ml100k() { return testing::SharedDataDir() + "/ml-100k"; }

#define SKIP_WITHOUT_ML100K()                                                                  \
  if (!std::filesystem::exists(Ml100k() + "/u.data")) {                                       \
    GTEST_SKIP() << "MovieLens 100K not found at " << Ml100k()                                 \
                 << " (set EMBEDPS_DATA_DIR to a directory holding ml-100k/)";                 \
  }

TEST(MovieLensDataTest, ReadsAllRatingsOfUData) {
  SKIP_WITHOUT_ML100K();
  const std::string path = Ml100k() + "/u.data";
  auto format = DetectFileFormat(path);
  ASSERT_TRUE(format.ok()) << format.status().ToString();
  EXPECT_EQ(*format, Format::kMovieLensTab);
  // Several partitions, as the scheduler would hand them out.
  auto parts = PlanInputPartitions({path}, 5);
  ASSERT_TRUE(parts.ok()) << parts.status().ToString();
  EXPECT_EQ(parts->size(), 5u);
  std::set<uint64_t> users, items;
  uint64_t rows = 0, bad = 0;
  double rating_sum = 0;
  std::vector<Example> batch;
  for (const Partition& p : *parts) {
    auto reader = ExampleReader::Open(p, *format, ReaderOptions());
    ASSERT_TRUE(reader.ok()) << reader.status().ToString();
    while (true) {
      auto n = (*reader)->NextBatch(4096, &batch);
      ASSERT_TRUE(n.ok()) << n.status().ToString();
      if (*n == 0) break;
      for (const Example& ex : batch) {
        users.insert(ex.user);
        items.insert(ex.item);
        rating_sum += ex.label;
        ASSERT_GE(ex.label, 1.0f);
        ASSERT_LE(ex.label, 5.0f);
      }
      rows += *n;
    }
    bad += (*reader)->bad_lines();
  }
  EXPECT_EQ(rows, 100000u);
  EXPECT_EQ(bad, 0u);
  EXPECT_EQ(users.size(), 943u);
  EXPECT_EQ(items.size(), 1682u);
  EXPECT_EQ(*users.rbegin(), 943u);
  EXPECT_EQ(*items.rbegin(), 1682u);
  // The README's rating counts: 1x6110, 2x11370, 3x27145, 4x34174, 5x21201.
  EXPECT_DOUBLE_EQ(rating_sum, 6110 + 2 * 11370 + 3 * 27145 + 4 * 34174 + 5 * 21201);
}

TEST(MovieLensDataTest, SideFeaturesForEveryUserAndItem) {
  SKIP_WITHOUT_ML100K();
  SideFeatures side;
  ASSERT_TRUE(side.LoadDetected(Side::kUser, Ml100k() + "/u.user", "").ok());
  ASSERT_TRUE(side.LoadDetected(Side::kItem, Ml100k() + "/u.item", "").ok());
  EXPECT_EQ(side.rows(Side::kUser), 943u);
  EXPECT_EQ(side.rows(Side::kItem), 1682u);
  Example ex;
  ex.user = 1;
  ex.item = 1;
  side.Append(&ex);
  // Age, gender, occupation, zip prefix; Toy Story: Animation, Children's, Comedy.
  EXPECT_EQ(ex.keys.size(), 4u + 3u);
}

}  // namespace
}  // namespace embedps::data
