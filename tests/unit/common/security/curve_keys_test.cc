#include "common/security/curve_keys.h"

#include <gtest/gtest.h>

#include <fstream>

#include "tests/support/test_dirs.h"

namespace embedps::security {
namespace {

TEST(AllowListTest, ParsesNamesAndKeysAndFindsRawKeys) {
  auto a = GenerateKeyPair();
  auto b = GenerateKeyPair();
  ASSERT_TRUE(a.ok() && b.ok());
  const std::string text = "# comment\n\nworker-0 " + a->public_key + "\r\n  server.1 " +
                           b->public_key + "\n";
  auto list = AllowList::Parse(text, "test");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  EXPECT_EQ(list->size(), 2u);
  auto again = AllowList::Parse(list->ToText(), "round trip");
  ASSERT_TRUE(again.ok());
  EXPECT_EQ(again->size(), 2u);
}

TEST(AllowListTest, KeepsEachKeysRole) {
  auto a = GenerateKeyPair();
  auto b = GenerateKeyPair();
  auto c = GenerateKeyPair();
  ASSERT_TRUE(a.ok() && b.ok() && c.ok());
  // No role: the key admits any role (allow-lists from before roles).
  const std::string text = "server-0 " + a->public_key + " server\nworker-0 " + b->public_key +
                           " worker\nold " + c->public_key + "\n";
  auto list = AllowList::Parse(text, "test");
  ASSERT_TRUE(list.ok()) << list.status().ToString();
  auto again = AllowList::Parse(list->ToText(), "round trip");
  ASSERT_TRUE(again.ok()) << again.status().ToString();
  for (const AllowList* l : {&*list, &*again}) {
    ASSERT_NE(l->FindName("server-0"), nullptr);
    EXPECT_EQ(l->FindName("server-0")->role, KeyRole::kServer);
    EXPECT_EQ(l->FindName("worker-0")->role, KeyRole::kWorker);
    EXPECT_EQ(l->FindName("old")->role, KeyRole::kAny);
    EXPECT_EQ(l->FindName("nobody"), nullptr);
  }
  EXPECT_NE(list->ToText().find("worker-0 " + b->public_key + " worker\n"), std::string::npos);
  EXPECT_NE(list->ToText().find("old " + c->public_key + "\n"), std::string::npos);
  for (KeyRole r : {KeyRole::kAny, KeyRole::kScheduler, KeyRole::kServer, KeyRole::kWorker,
                    KeyRole::kClient}) {
    auto parsed = ParseKeyRole(KeyRoleName(r));
    ASSERT_TRUE(parsed.ok());
    EXPECT_EQ(*parsed, r);
  }
}

TEST(AllowListTest, RefusesMalformedLinesWithTheirNumber) {
  auto a = GenerateKeyPair();
  ASSERT_TRUE(a.ok());
  struct Case {
    std::string text, expect;
  } cases[] = {
      {"worker-0\n", "test:1: expected 'NAME PUBLIC_KEY [ROLE]'"},
      {"w " + a->public_key + " admin\n", "test:1: unknown key role 'admin'"},
      {"w " + a->public_key + " worker\nw " + GenerateKeyPair()->public_key + "\n",
       "test:2: node name 'w' is listed twice"},
      {"ok " + a->public_key + "\nw " + a->public_key + " extra\n", "test:2"},
      {"w shortkey\n", "40 Z85 characters"},
      {"w " + std::string(40, '"') + "\n", "not a Z85-encoded key"},
      {"bad/name " + a->public_key + "\n", "invalid node name"},
  };
  for (const auto& c : cases) {
    auto list = AllowList::Parse(c.text, "test");
    ASSERT_FALSE(list.ok()) << c.text;
    EXPECT_NE(list.status().message().find(c.expect), std::string::npos) << list.status().ToString();
  }
}

TEST(KeyDirectoryTest, WritesLoadsAndChecksPairs) {
  testing::ScratchDir dir;
  const std::string keys = dir.File("keys");
  ASSERT_TRUE(WriteKeyDirectory(keys, {"server-0", "worker-0"}).ok());
  EXPECT_EQ(WriteKeyDirectory(keys, {"x"}).code(), StatusCode::kAlreadyExists);

  auto server = LoadCurveConfig(keys, "server-0", /*binds=*/true);
  ASSERT_TRUE(server.ok()) << server.status().ToString();
  EXPECT_TRUE(server->enabled());
  EXPECT_EQ(server->allowed->size(), 2u);
  EXPECT_FALSE(server->cluster_secret.empty());

  auto worker = LoadCurveConfig(keys, "worker-0", /*binds=*/false);
  ASSERT_TRUE(worker.ok());
  EXPECT_TRUE(worker->cluster_secret.empty());  // connecting nodes never need it
  EXPECT_EQ(worker->allowed, nullptr);

  EXPECT_EQ(LoadCurveConfig(keys, "worker-9", false).status().code(), StatusCode::kNotFound);
  EXPECT_EQ(LoadCurveConfig(keys, "../x", false).status().code(), StatusCode::kInvalidArgument);

  // A secret that belongs to another public key is caught at load time.
  std::ofstream(keys + "/worker-0.secret") << GenerateKeyPair()->secret_key << "\n";
  auto broken = LoadCurveConfig(keys, "worker-0", false);
  ASSERT_FALSE(broken.ok());
  EXPECT_NE(broken.status().message().find("does not match"), std::string::npos);
}

TEST(KeyDirectoryTest, AddNodeKeyExtendsTheAllowList) {
  testing::ScratchDir dir;
  const std::string keys = dir.File("keys");
  ASSERT_TRUE(WriteKeyDirectory(keys, {"node-0"}).ok());
  ASSERT_TRUE(AddNodeKey(keys, "node-1", KeyRole::kClient).ok());
  EXPECT_EQ(AddNodeKey(keys, "node-1").code(), StatusCode::kAlreadyExists);
  auto c = LoadCurveConfig(keys, "node-1", /*binds=*/true);
  ASSERT_TRUE(c.ok()) << c.status().ToString();
  EXPECT_EQ(c->allowed->size(), 2u);
  EXPECT_EQ(c->allowed->FindName("node-0")->role, KeyRole::kAny);
  EXPECT_EQ(c->allowed->FindName("node-1")->role, KeyRole::kClient);
}

}  // namespace
}  // namespace embedps::security
