#include "launch/hostfile.h"

#include <gtest/gtest.h>

namespace embedps::launch {
namespace {

TEST(HostfileTest, ParsesRolesCountsCommentsAndUsers) {
  auto entries = ParseHostfile(
      "# cluster\n"
      "node1 scheduler 1\n"
      "\n"
      "  alice@node2\tserver   2  # two servers\n"
      "node3 worker 4\r\n",
      "hosts");
  ASSERT_TRUE(entries.ok()) << entries.status().ToString();
  ASSERT_EQ(entries->size(), 3u);
  EXPECT_EQ((*entries)[0].role, "scheduler");
  EXPECT_EQ((*entries)[1].destination, "alice@node2");
  EXPECT_EQ((*entries)[1].host, "node2");
  EXPECT_EQ((*entries)[1].count, 2);
  EXPECT_EQ((*entries)[1].line, 4);
  EXPECT_EQ((*entries)[2].count, 4);
}

TEST(HostfileTest, ErrorsNameTheFileAndLine) {
  struct Case {
    const char* text;
    const char* expect;
  };
  const Case cases[] = {
      {"a scheduler 1\nb srv 1\nc worker 1\n", "hosts:2: unknown role 'srv'"},
      {"a scheduler 1\nb server 0\nc worker 1\n", "hosts:2: count must be an integer in 1..256, got '0'"},
      {"a scheduler 1\nb server two\nc worker 1\n", "hosts:2: count must be"},
      {"a scheduler 1\nb server 1 extra\nc worker 1\n", "hosts:2: unexpected 'extra'"},
      {"a scheduler\n", "hosts:1: expected 'host role count'"},
      {"a scheduler 1\na scheduler 1\nb server 1\nc worker 1\n", "hosts:2: only one scheduler"},
      {"a scheduler 2\nb server 1\nc worker 1\n", "hosts:1: only one scheduler"},
      {"b server 1\nc worker 1\n", "hosts: no scheduler line"},
      {"a scheduler 1\nc worker 1\n", "hosts: no server line"},
      {"a scheduler 1\nb server 1\n", "hosts: no worker line"},
      {"a scheduler 1\nalice@ server 1\nc worker 1\n", "hosts:2: empty host"},
  };
  for (const auto& c : cases) {
    auto entries = ParseHostfile(c.text, "hosts");
    ASSERT_FALSE(entries.ok()) << c.text;
    EXPECT_NE(entries.status().message().find(c.expect), std::string::npos)
        << c.text << " gave: " << entries.status().message();
  }
}

TEST(HostfileTest, MissingFileIsNamed) {
  auto entries = ReadHostfile("/nonexistent/hosts");
  ASSERT_FALSE(entries.ok());
  EXPECT_NE(entries.status().message().find("/nonexistent/hosts"), std::string::npos);
}

}  // namespace
}  // namespace embedps::launch
