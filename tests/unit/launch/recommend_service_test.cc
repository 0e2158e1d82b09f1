// GET /recommend routed in-process (HttpServer::Dispatch) on a planted model:
// status codes and the JSON answer. tests/integration/recommend_test.cc
// covers the same over a socket from the real binary.
#include "launch/recommend_service.h"

#include <gtest/gtest.h>

#include "launch/local_command.h"
#include "tests/support/planted_mf.h"
#include "tests/support/test_dirs.h"

namespace embedps::launch {
namespace {

class RecommendServiceTest : public ::testing::Test {
 protected:
  void SetUp() override {
    testing::PlantedMf m;
    for (uint64_t item = 1; item <= 6; ++item) m.item_bias[item] = 0.1f * item;
    m.user_factor[1] = 0;
    m.seen = {{1, 6}, {1, 2}, {2, 1}, {2, 3}, {2, 4}, {2, 5}};
    ASSERT_TRUE(testing::WritePlantedMf(dir_.path(), m).ok());
    auto model = LoadExportedModel(dir_.path());
    ASSERT_TRUE(model.ok()) << model.status().message();
    model_ = std::move(model).value();
    auto seen = worker::ReadInteractionsFile(dir_.File(worker::kInteractionsFile));
    ASSERT_TRUE(seen.ok());
    seen_ = std::move(seen).value();
    recommender_ = std::make_unique<worker::Recommender>(*model_, seen_, nullptr);
    AddRecommendRoute(&server_, recommender_.get());
  }

  http::Response Get(const std::string& query) const {
    http::Request r;
    r.method = "GET";
    r.path = "/recommend";
    r.query = query;
    return server_.Dispatch(r);
  }

  testing::ScratchDir dir_;
  std::unique_ptr<worker::ExportedModel> model_;
  worker::Interactions seen_;
  std::unique_ptr<worker::Recommender> recommender_;
  http::HttpServer server_{http::HttpServerOptions{}};
};

TEST_F(RecommendServiceTest, AnswersTheTopUnseenItems) {
  const http::Response r = Get("user=1&k=3");
  ASSERT_EQ(r.status, 200) << r.body;
  const auto j = nlohmann::json::parse(r.body);
  EXPECT_EQ(j["user"], 1);
  EXPECT_EQ(j["k"], 3);
  ASSERT_EQ(j["items"].size(), 3u);
  // Items 6 and 2 are seen; the rest rank by bias: 5, 4, 3.
  EXPECT_EQ(j["items"][0]["item"], 5);
  EXPECT_EQ(j["items"][1]["item"], 4);
  EXPECT_EQ(j["items"][2]["item"], 3);
  EXPECT_NEAR(j["items"][0]["score"].get<double>(), 3.5, 1e-5);
  // k defaults to 10 and is capped by the unseen items.
  const auto all = nlohmann::json::parse(Get("user=1").body);
  EXPECT_EQ(all["items"].size(), 4u);
}

TEST_F(RecommendServiceTest, BadRequestsAndUnknownUsers) {
  EXPECT_EQ(Get("").status, 400);
  EXPECT_EQ(Get("k=3").status, 400);
  EXPECT_EQ(Get("user=").status, 400);
  EXPECT_EQ(Get("user=abc").status, 400);
  EXPECT_EQ(Get("user=-1").status, 400);
  EXPECT_EQ(Get("user=1&k=0").status, 400);
  EXPECT_EQ(Get("user=1&k=ten").status, 400);
  const http::Response unknown = Get("user=99");
  EXPECT_EQ(unknown.status, 404);
  EXPECT_NE(unknown.body.find("99"), std::string::npos) << unknown.body;
}

}  // namespace
}  // namespace embedps::launch
