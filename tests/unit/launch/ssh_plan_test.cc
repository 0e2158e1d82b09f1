#include "launch/ssh_plan.h"

#include <gtest/gtest.h>

#include <set>

namespace embedps::launch {
namespace {

std::vector<HostfileEntry> Entries(const std::string& text) {
  auto parsed = ParseHostfile(text, "hosts");
  EXPECT_TRUE(parsed.ok()) << parsed.status().ToString();
  return parsed.ok() ? *parsed : std::vector<HostfileEntry>{};
}

TEST(SshPlanTest, NamesRanksAndPortsPerMachine) {
  // Workers are listed first but still come after the servers.
  auto nodes = PlanNodes(Entries("10.9.0.2 worker 2\n10.9.0.1 scheduler 1\n10.9.0.1 server 2\n"
                                 "10.9.0.2 server 1\n"),
                         PortOptions{9000, 9100});
  ASSERT_TRUE(nodes.ok()) << nodes.status().ToString();
  std::vector<std::string> names, hosts;
  std::vector<int> ports, http;
  for (const auto& n : *nodes) {
    names.push_back(n.name);
    hosts.push_back(n.host);
    ports.push_back(n.port);
    http.push_back(n.http_port);
  }
  EXPECT_EQ(names, (std::vector<std::string>{"scheduler", "server-0", "server-1", "server-2", "worker-0",
                                             "worker-1"}));
  EXPECT_EQ(hosts, (std::vector<std::string>{"10.9.0.1", "10.9.0.1", "10.9.0.1", "10.9.0.2", "10.9.0.2",
                                             "10.9.0.2"}));
  // Each machine counts its own slots from the base port.
  EXPECT_EQ(ports, (std::vector<int>{9000, 9001, 9002, 9000, 9001, 9002}));
  EXPECT_EQ(http, (std::vector<int>{9100, 9101, 9102, 9100, 9101, 9102}));
}

TEST(SshPlanTest, OneMachineUnderTwoNamesSharesItsPorts) {
  auto nodes = PlanNodes(Entries("127.0.0.1 scheduler 1\nlocalhost server 2\nroot@127.0.0.1 worker 1\n"),
                         PortOptions{29500, -1});
  ASSERT_TRUE(nodes.ok());
  std::set<int> ports;
  for (const auto& n : *nodes) {
    EXPECT_TRUE(ports.insert(n.port).second) << n.name << " reuses port " << n.port;
    EXPECT_EQ(n.http_port, -1);
  }
  EXPECT_EQ((*nodes)[3].destination, "root@127.0.0.1");
  EXPECT_EQ((*nodes)[3].host, "127.0.0.1");
}

TEST(SshPlanTest, RejectsPortRangesThatDoNotFit) {
  const auto entries = Entries("a scheduler 1\na server 3\na worker 1\n");
  auto overflow = PlanNodes(entries, PortOptions{65534, -1});
  ASSERT_FALSE(overflow.ok());
  EXPECT_NE(overflow.status().message().find("--base_port=65534"), std::string::npos);
  auto overlap = PlanNodes(entries, PortOptions{9000, 9003});
  ASSERT_FALSE(overlap.ok());
  EXPECT_NE(overlap.status().message().find("overlaps"), std::string::npos);
  EXPECT_TRUE(PlanNodes(entries, PortOptions{9000, 9005}).ok());
}

}  // namespace
}  // namespace embedps::launch
