// Membership with scripted registrations and a fake clock: ranks and
// standbys, refusals, a rejoining server's claim on its rank, and whose
// heartbeats ran out.
#include "scheduler/membership.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace embedps::scheduler {
namespace {

using std::chrono::milliseconds;

wire::RegisterMsg Server(const std::string& endpoint, int previous_rank = -1, bool has_state = false) {
  wire::RegisterMsg r;
  r.role = wire::Role::kServer;
  r.endpoint = endpoint;
  r.host = "h";
  r.previous_rank = previous_rank;
  r.has_state = has_state;
  return r;
}

wire::RegisterMsg Worker() {
  wire::RegisterMsg r;
  r.role = wire::Role::kWorker;
  r.host = "h";
  return r;
}

AdmissionRules Gathering(bool checkpoints = true, bool resumed = false) {
  AdmissionRules rules;
  rules.spares = checkpoints;
  rules.rows_kept = resumed;
  return rules;
}

AdmissionRules Training() {
  AdmissionRules rules;
  rules.gathering = false;
  rules.spares = true;
  return rules;
}

TEST(MembershipTest, ServersTakeFreeRanksThenBecomeStandbys) {
  Membership m(2, 1);
  const AdmissionRules rules = Gathering();
  EXPECT_EQ(m.Admit(Server("s0"), "r0", rules, kStart).rank, 0u);
  EXPECT_FALSE(m.AllJoined());
  EXPECT_EQ(m.Admit(Worker(), "rw", rules, kStart).rank, 0u);
  const Node& second = m.Admit(Server("s1"), "r1", rules, kStart);
  EXPECT_EQ(second.rank, 1u);
  EXPECT_FALSE(second.standby);
  EXPECT_TRUE(m.AllJoined());
  // Past the map's count: a standby, with ranks from num_servers up.
  const Node& spare = m.Admit(Server("s2"), "r2", Training(), kStart);
  EXPECT_TRUE(spare.standby);
  EXPECT_EQ(spare.rank, 2u);
  EXPECT_FALSE(Membership::IsServing(spare));
  EXPECT_EQ(m.Spare([](const Node&) { return true; })->id, spare.id);
  EXPECT_EQ(m.Spare([](const Node&) { return false; }), nullptr);
}

TEST(MembershipTest, RefusesWhatTheJobCannotUse) {
  Membership m(1, 1);
  const AdmissionRules gathering = Gathering(/*checkpoints=*/false);
  m.Admit(Server("s0"), "r0", gathering, kStart);
  m.Admit(Worker(), "rw", gathering, kStart);
  EXPECT_NE(m.Refusal(Server("s1"), "", "", "ip", gathering).find("server slots are taken"), std::string::npos);
  EXPECT_NE(m.Refusal(Worker(), "", "", "ip", gathering).find("worker slots are taken"), std::string::npos);
  EXPECT_EQ(m.Refusal(Worker(), "", "", "ip", Training()), "") << "an extra worker joins a running job";
  AdmissionRules closed = Training();
  closed.open = false;
  EXPECT_EQ(m.Refusal(Worker(), "", "", "ip", closed), "the job has already started");
  EXPECT_NE(m.Refusal(Server("s1"), "worker", "w1", "ip", Training()).find("admits a worker, not a server"),
            std::string::npos);
  EXPECT_NE(m.Refusal(Server(""), "", "", "ip", Training()).find("advertise its endpoint"), std::string::npos);
  wire::RegisterMsg odd = Worker();
  odd.role = wire::Role::kUnknown;
  EXPECT_NE(m.Refusal(odd, "", "", "ip", Training()).find("cannot admit"), std::string::npos);
}

TEST(MembershipTest, RejoiningServerKeepsItsRankAndRows) {
  Membership m(2, 1);
  const AdmissionRules resumed = Gathering(true, /*resumed=*/true);
  const Node& back = m.Admit(Server("s1", /*previous_rank=*/1, /*has_state=*/true), "r1", resumed, kStart);
  EXPECT_EQ(back.rank, 1u);
  EXPECT_TRUE(back.has_state);
  EXPECT_EQ(m.Admit(Server("fresh"), "r0", resumed, kStart).rank, 0u);
  // Rows are kept only while the job gathers its nodes.
  Membership late(2, 1);
  EXPECT_FALSE(late.Admit(Server("s1", 1, true), "r1", Training(), kStart).has_state);
}

TEST(MembershipTest, RejoinerWithRowsClaimsItsRankFromAStatelessServer) {
  Membership m(2, 1);
  const AdmissionRules resumed = Gathering(true, /*resumed=*/true);
  const uint32_t quick = m.Admit(Server("fresh", /*previous_rank=*/0), "rf", resumed, kStart).id;
  ASSERT_EQ(m.Find(quick)->rank, 0u);
  // Server 0 comes back with its rows: the stateless one moves to rank 1.
  const wire::RegisterMsg back = Server("s0", 0, true);
  EXPECT_FALSE(m.ClaimRank(back, resumed).has_value());
  EXPECT_EQ(m.Find(quick)->rank, 1u);
  EXPECT_EQ(m.Admit(back, "r0", resumed, kStart).rank, 0u);
  EXPECT_FALSE(m.AllJoined()) << "no worker yet";

  // With no free rank left, the stateless server is dropped (told to leave).
  Membership full(1, 1);
  const uint32_t taken = full.Admit(Server("fresh", 0), "rf", resumed, kStart).id;
  auto dropped = full.ClaimRank(back, resumed);
  ASSERT_TRUE(dropped.has_value());
  EXPECT_EQ(dropped->routing_id, "rf");
  EXPECT_TRUE(full.Find(taken)->dead);
  EXPECT_EQ(full.servers_joined(), 0u);
  EXPECT_EQ(full.Admit(back, "r0", resumed, kStart).rank, 0u);

  // Not in a job that was not resumed: nobody's rows are kept.
  Membership fresh_job(1, 1);
  fresh_job.Admit(Server("fresh", 0), "rf", Gathering(), kStart);
  EXPECT_FALSE(fresh_job.ClaimRank(back, Gathering()).has_value());
}

TEST(MembershipTest, FindsANodeOnlyOnItsOwnConnection) {
  Membership m(1, 1);
  const uint32_t id = m.Admit(Worker(), "conn-a", Gathering(), kStart).id;
  EXPECT_NE(m.Find(id, "conn-a"), nullptr);
  EXPECT_EQ(m.Find(id, "conn-b"), nullptr) << "an old connection of a node that registered again";
  EXPECT_EQ(m.Find(id + 100), nullptr);
}

TEST(MembershipTest, SilentNodesWithAFakeClock) {
  Membership m(1, 2);
  const AdmissionRules rules = Gathering();
  const uint32_t s = m.Admit(Server("s0"), "rs", rules, kStart).id;
  const uint32_t w0 = m.Admit(Worker(), "r0", rules, kStart).id;
  const uint32_t w1 = m.Admit(Worker(), "r1", rules, kStart).id;
  const milliseconds timeout(1000);
  m.HeardAll(kStart + milliseconds(500));
  EXPECT_TRUE(m.Silent(kStart + milliseconds(1500), timeout, false).empty()) << "exactly the timeout is not silent";
  m.Find(w0)->last_seen = kStart + milliseconds(1400);
  EXPECT_EQ(m.Silent(kStart + milliseconds(1501), timeout, false), (std::vector<uint32_t>{s, w1}));
  // Workers waiting for the map (a resume restores) are not watched.
  EXPECT_EQ(m.Silent(kStart + milliseconds(1501), timeout, true), (std::vector<uint32_t>{s}));
  // Nor finished workers, nor nodes already presumed dead.
  m.Find(w1)->done = true;
  m.Find(s)->dead = true;
  EXPECT_TRUE(m.Silent(kStart + milliseconds(1501), timeout, false).empty());
  EXPECT_EQ(m.LiveWorkers(), 1u);
  EXPECT_EQ(m.LowestLiveWorker(), std::optional<uint32_t>(w0));
  m.Find(w0)->dead = true;
  EXPECT_EQ(m.LowestLiveWorker(), std::optional<uint32_t>(w1)) << "a finished worker still evaluates";
}

}  // namespace
}  // namespace embedps::scheduler
