// `embedps recommend` and `embedps export` as real processes on a planted
// model with known scores: the text and JSON answers, and --serve over
// 127.0.0.1 (200, 400, 404) until SIGTERM ends it cleanly.
#include <signal.h>

#include <chrono>
#include <filesystem>
#include <thread>

#include <gtest/gtest.h>
#include <nlohmann/json.hpp>

#include "common/http/http_client.h"
#include "launch/process_group.h"
#include "tests/support/planted_mf.h"
#include "tests/support/subprocess.h"
#include "tests/support/test_dirs.h"

namespace embedps {
namespace {

using std::chrono::milliseconds;

// Items 1..8 rank by bias; user 1 has seen 8 and 6, user 2 items 1..4.
testing::PlantedMf Planted() {
  testing::PlantedMf m;
  for (uint64_t item = 1; item <= 8; ++item) m.item_bias[item] = 0.1f * item;
  m.user_factor[1] = 0;
  m.seen = {{1, 8}, {1, 6}, {2, 1}, {2, 2}, {2, 3}, {2, 4}, {2, 5}, {2, 7}};
  return m;
}

std::vector<uint64_t> Items(const nlohmann::json& answer) {
  std::vector<uint64_t> items;
  for (const auto& i : answer["items"]) items.push_back(i["item"].get<uint64_t>());
  return items;
}

nlohmann::json JsonLine(const std::string& output) {
  const size_t at = output.find("\n{") == std::string::npos ? output.find('{') : output.find("\n{") + 1;
  return nlohmann::json::parse(output.substr(at, output.find('\n', at) - at));
}

TEST(RecommendTest, PrintsTheTopUnseenItemsAfterExport) {
  testing::ScratchDir dir;
  ASSERT_TRUE(testing::WritePlantedMf(dir.File("run/model"), Planted()).ok());
  // export copies RUN_DIR/model into a directory of its own.
  auto exported = testing::RunBinary("embedps", {"export", "--from=" + dir.File("run"), "--out=" + dir.File("m")},
                                     dir.File("export.log"), std::chrono::seconds(20));
  ASSERT_EQ(exported.exit_code, 0) << exported.output;
  EXPECT_TRUE(std::filesystem::exists(dir.File("m/interactions.tsv")));
  auto again = testing::RunBinary("embedps", {"export", "--from=" + dir.File("run"), "--out=" + dir.File("m")},
                                  dir.File("export2.log"), std::chrono::seconds(20));
  EXPECT_EQ(again.exit_code, 1) << "export over a non-empty directory must fail: " << again.output;

  auto text = testing::RunBinary("embedps", {"recommend", "--model=" + dir.File("m"), "--user=1", "--k=3"},
                                 dir.File("text.log"), std::chrono::seconds(20));
  ASSERT_EQ(text.exit_code, 0) << text.output;
  EXPECT_NE(text.output.find("1\t7\t3.7"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("2\t5\t3.5"), std::string::npos) << text.output;
  EXPECT_NE(text.output.find("3\t4\t3.4"), std::string::npos) << text.output;

  auto json = testing::RunBinary("embedps",
                                 {"recommend", "--model=" + dir.File("m"), "--user=2", "--k=5", "--json"},
                                 dir.File("json.log"), std::chrono::seconds(20));
  ASSERT_EQ(json.exit_code, 0) << json.output;
  EXPECT_EQ(Items(JsonLine(json.output)), (std::vector<uint64_t>{8, 6}));

  auto unknown = testing::RunBinary("embedps", {"recommend", "--model=" + dir.File("m"), "--user=42"},
                                    dir.File("unknown.log"), std::chrono::seconds(20));
  EXPECT_EQ(unknown.exit_code, 1);
  EXPECT_NE(unknown.output.find("user 42"), std::string::npos) << unknown.output;
}

// `embedps serve`, and its old spelling `recommend --serve PORT --bind H`
// (deprecated, one release).
class RecommendServeTest : public ::testing::TestWithParam<bool> {};

TEST_P(RecommendServeTest, ServesOverHttpUntilSigterm) {
  testing::ScratchDir dir;
  ASSERT_TRUE(testing::WritePlantedMf(dir.path(), Planted()).ok());
  launch::ProcessGroup group;
  const std::vector<std::string> args =
      GetParam() ? std::vector<std::string>{"serve", "--model_dir=" + dir.path(), "--http_port=0",
                                            "--http_bind=127.0.0.1", "--http_url_file=" + dir.File("url")}
                 : std::vector<std::string>{"recommend", "--model=" + dir.path(), "--serve=0", "--bind=127.0.0.1",
                                            "--http_url_file=" + dir.File("url")};
  launch::ChildSpec spec{"recommend", testing::BinDir() + "/embedps", args, dir.File("serve.log")};
  auto pid = group.Start(spec);
  ASSERT_TRUE(pid.ok()) << pid.status().message();
  std::string url;
  for (int i = 0; i < 200 && url.empty(); ++i) {
    url = testing::ReadFile(dir.File("url"));
    if (url.empty()) std::this_thread::sleep_for(milliseconds(50));
  }
  ASSERT_FALSE(url.empty()) << testing::ReadFile(dir.File("serve.log"));
  url = url.substr(0, url.find('\n'));
  ASSERT_EQ(url.rfind("http://127.0.0.1:", 0), 0u) << url;

  auto get = [&](const std::string& target) {
    auto r = http::Fetch(url, "GET", target, milliseconds(5000));
    EXPECT_TRUE(r.ok()) << r.status().message();
    return r.ok() ? *r : http::ClientResponse{};
  };
  const auto ok = get("/recommend?user=1&k=3");
  ASSERT_EQ(ok.status, 200) << ok.body;
  const auto answer = nlohmann::json::parse(ok.body);
  EXPECT_EQ(Items(answer), (std::vector<uint64_t>{7, 5, 4}));
  EXPECT_NEAR(answer["items"][0]["score"].get<double>(), 3.7, 1e-5);
  EXPECT_EQ(get("/recommend?user=2").status, 200);
  EXPECT_EQ(get("/recommend").status, 400);
  EXPECT_EQ(get("/recommend?user=x1").status, 400);
  EXPECT_EQ(get("/recommend?user=1&k=-2").status, 400);
  EXPECT_EQ(get("/recommend?user=999").status, 404);
  EXPECT_EQ(get("/nothing").status, 404);

  ASSERT_EQ(::kill(*pid, SIGTERM), 0);
  auto exit = group.WaitAny(milliseconds(10000));
  ASSERT_TRUE(exit.has_value()) << "recommend --serve did not stop on SIGTERM";
  EXPECT_EQ(exit->exit_code, 0) << testing::ReadFile(dir.File("serve.log"));
  const bool warned = testing::ReadFile(dir.File("serve.log")).find("--serve is deprecated") != std::string::npos;
  EXPECT_EQ(warned, !GetParam()) << testing::ReadFile(dir.File("serve.log"));
}

INSTANTIATE_TEST_SUITE_P(Spellings, RecommendServeTest, ::testing::Bool(),
                         [](const ::testing::TestParamInfo<bool>& info) {
                           return info.param ? std::string("Serve") : std::string("DeprecatedRecommendServe");
                         });

}  // namespace
}  // namespace embedps
