// Server failover as state, with a fake clock: vacant ranks in order, a
// stalled server reclaiming its rank, the recovery deadline, restores in
// flight, and what each failover lost.
#include "scheduler/failover_ledger.h"

#include <gtest/gtest.h>

#include "tests/support/fake_clock.h"

namespace embedps::scheduler {
namespace {

using std::chrono::milliseconds;

Clock::time_point At(int ms) { return kStart + milliseconds(ms); }

TEST(FailoverLedgerTest, VacantRanksInOrderAndTheRecoveryDeadline) {
  FailoverLedger l;
  EXPECT_FALSE(l.AnyVacant());
  l.Vacate(2, At(0), 100, At(1000));
  l.Vacate(0, At(1500), 150, At(2500));
  EXPECT_EQ(l.FirstVacant(), std::optional<uint32_t>(2));
  // The deadline counts from when a rank first became vacant.
  EXPECT_FALSE(l.Overdue(At(6000), milliseconds(5000)).has_value());
  EXPECT_EQ(l.Overdue(At(6001), milliseconds(5000)), std::optional<uint32_t>(2));
  EXPECT_EQ(l.TakeVacant(), 2u);
  EXPECT_EQ(l.FirstVacant(), std::optional<uint32_t>(0));
  EXPECT_EQ(l.RowsAtDeath(2), std::optional<uint64_t>(100)) << "dead until recovered";
  EXPECT_FALSE(l.RowsAtDeath(1).has_value());
}

TEST(FailoverLedgerTest, AStalledServerReclaimsItsRankOnlyWhileVacant) {
  FailoverLedger l;
  l.Vacate(1, At(0), 10, At(1000));
  EXPECT_TRUE(l.Reclaim(1));
  EXPECT_FALSE(l.AnyVacant());
  EXPECT_FALSE(l.RowsAtDeath(1).has_value()) << "it never died";
  l.Vacate(1, At(2000), 20, At(3000));
  EXPECT_EQ(l.TakeVacant(), 1u);  // a standby took it
  EXPECT_FALSE(l.Reclaim(1));
  EXPECT_TRUE(l.log().empty()) << "a reclaimed rank is no failover";
}

TEST(FailoverLedgerTest, RestoresInFlight) {
  FailoverLedger l;
  l.Restoring(7, 1);
  EXPECT_TRUE(l.IsRestoring(7));
  EXPECT_TRUE(l.AnyRestoring());
  EXPECT_EQ(l.EndRestore(7), std::optional<uint32_t>(1));
  EXPECT_FALSE(l.EndRestore(7).has_value()) << "answered once";
  EXPECT_FALSE(l.AnyRestoring());
}

TEST(FailoverLedgerTest, AFailoverLosesWhatWasTrainedSinceTheRestoredCut) {
  FailoverLedger l;
  // Checkpoint cut at 1 s with 400 rows; the server was last heard at 3 s
  // with 1000 rows; its replacement serves at 5 s.
  l.Vacate(0, At(3000), 1000, At(4000));
  l.TakeVacant();
  // A replacement that dies restoring leaves the first death in place.
  l.Vacate(0, At(4500), 1200, At(4500));
  l.TakeVacant();
  const auto f = l.Recovered(0, At(5000), {false, 400, At(1000)}, "checkpoint 3");
  EXPECT_DOUBLE_EQ(f.seconds, 2.0);
  EXPECT_EQ(f.lost_rows, 600u);
  EXPECT_DOUBLE_EQ(f.lost_seconds, 2.0);
  // The neighbours' copy (--replicas=2) loses nothing.
  l.Vacate(1, At(6000), 1500, At(7000));
  l.TakeVacant();
  const auto lossless = l.Recovered(1, At(8000), {true, 400, At(1000)}, "its neighbours' copy");
  EXPECT_EQ(lossless.lost_rows, 0u);
  EXPECT_EQ(l.lost_rows(), 600u);
  EXPECT_DOUBLE_EQ(l.lost_seconds(), 2.0);
  ASSERT_EQ(l.log().size(), 2u);
  EXPECT_EQ(l.log()[0]["restored_from"], "checkpoint 3");
  EXPECT_EQ(l.log()[1]["lost_rows"], 0);
}

TEST(FailoverLedgerTest, CarriesEarlierLossesThroughAResume) {
  FailoverLedger l;
  l.Carry(nlohmann::json::array({{{"rank", 1}, {"lost_rows", 30}}}), 30, 1.5);
  l.Vacate(0, At(0), 100, At(0));
  l.Recovered(0, At(1000), {false, 90, At(0)}, "checkpoint 9");
  EXPECT_EQ(l.lost_rows(), 40u);
  EXPECT_DOUBLE_EQ(l.lost_seconds(), 1.5);
  EXPECT_EQ(l.log().size(), 2u);
}

}  // namespace
}  // namespace embedps::scheduler
