// What a launcher derives from the model flags and the data before it
// starts the nodes (launch/job_model.h): the rating range, the models a
// format cannot train, the side files model.json lists.
#include "launch/job_model.h"

#include <gflags/gflags.h>
#include <gtest/gtest.h>

#include <filesystem>
#include <set>
#include <string>

#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps::launch {
namespace {

std::string Flag(const char* name) {
  std::string value;
  gflags::GetCommandLineOption(name, &value);
  return value;
}

// Half stars in the data widen the clip range to them; flags set by the
// user win; other data and implicit-feedback models are left alone.
TEST(JobModelTest, RatingRangeComesFromTheDataUnlessAFlagSetsIt) {
  testing::ScratchDir dir;
  const std::string half_stars = dir.Write("ratings.csv", "userId,movieId,rating,timestamp\n1,2,0.5,1\n1,3,4.5,2\n2,2,3,3\n");
  {
    gflags::FlagSaver saver;
    gflags::SetCommandLineOption("model", "mf");
    ASSERT_TRUE(AdoptRatingRange(half_stars, data::Format::kMovieLensCsv, 0.01).ok());
    EXPECT_EQ(Flag("min_rating"), "0.5");
    EXPECT_EQ(Flag("max_rating"), "4.5");
    auto model = BuildJobModel(data::Format::kMovieLensCsv);
    ASSERT_TRUE(model.ok()) << model.status().ToString();
    EXPECT_EQ(model->spec.min_rating, 0.5f);
    EXPECT_EQ(model->spec.max_rating, 4.5f);
  }
  {
    gflags::FlagSaver saver;
    gflags::SetCommandLineOption("model", "mf");
    gflags::SetCommandLineOption("max_rating", "10");
    ASSERT_TRUE(AdoptRatingRange(half_stars, data::Format::kMovieLensCsv, 0.01).ok());
    EXPECT_EQ(Flag("min_rating"), "1") << "a flag set by the user keeps the other at its default";
    EXPECT_EQ(Flag("max_rating"), "10");
  }
  for (const char* model : {"ncf", "mf"}) {
    gflags::FlagSaver saver;
    gflags::SetCommandLineOption("model", model);
    const data::Format format = std::string(model) == "ncf" ? data::Format::kMovieLensCsv : data::Format::kCriteo;
    ASSERT_TRUE(AdoptRatingRange(half_stars, format, 0.01).ok());
    EXPECT_EQ(Flag("min_rating"), "1") << model;
    EXPECT_EQ(Flag("max_rating"), "5") << model;
  }
}

TEST(JobModelTest, DeepFmNeedsFields) {
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("model", "deepfm");
  auto libsvm = BuildJobModel(data::Format::kLibsvm);
  EXPECT_EQ(libsvm.status().code(), StatusCode::kInvalidArgument);
  EXPECT_NE(libsvm.status().message().find("libsvm puts every feature in one field"), std::string::npos)
      << libsvm.status().message();
  gflags::SetCommandLineOption("model", "fm");
  EXPECT_TRUE(BuildJobModel(data::Format::kLibsvm).ok());
}

TEST(JobModelTest, ModelInfoListsTheSideFilesWithAbsolutePaths) {
  testing::ScratchDir dir;
  gflags::FlagSaver saver;
  gflags::SetCommandLineOption("model", "hybrid");
  gflags::SetCommandLineOption("item_features", dir.Write("genres", "1::Toy Story (1995)::Animation|Comedy\n").c_str());
  auto model = BuildJobModel(data::Format::kMovieLensColon);
  ASSERT_TRUE(model.ok()) << model.status().ToString();
  const worker::ExportedModelInfo info = ModelInfo(*model, nlohmann::json::object());
  ASSERT_EQ(info.side_files.size(), 1u);
  EXPECT_EQ(info.side_files[0].side, "item");
  EXPECT_EQ(info.side_files[0].file, "item_features");
  EXPECT_EQ(info.side_files[0].source, dir.File("genres"));
  EXPECT_EQ(info.side_files[0].spec, "sep=:: id=0 list:2:|");
  EXPECT_EQ(info.spec.item_fields, (std::set<uint16_t>{1, 2}));

  // Written with a copy, or listed without one when the source is gone.
  const std::string out = dir.File("model");
  std::filesystem::create_directory(out);
  ASSERT_TRUE(WriteModelInfoWithSideFiles(out, info).ok());
  EXPECT_EQ(testing::ReadFile(out + "/item_features"), testing::ReadFile(dir.File("genres")));
  auto gone = info;
  gone.side_files[0].source = dir.File("missing");
  ASSERT_TRUE(WriteModelInfoWithSideFiles(out, gone).ok());
  auto read = worker::ReadModelInfo(out);
  ASSERT_TRUE(read.ok()) << read.status().ToString();
  EXPECT_EQ(read->side_files[0].file, "");
  EXPECT_EQ(read->side_files[0].source, dir.File("missing"));
}

}  // namespace
}  // namespace embedps::launch
