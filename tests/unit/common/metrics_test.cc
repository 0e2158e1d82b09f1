// Counters, gauges, fixed-bucket histograms, labels and collectors of the
// metrics registry.
#include "common/metrics.h"

#include <gtest/gtest.h>

#include <thread>

namespace embedps {
namespace {

const MetricFamily& Family(const std::vector<MetricFamily>& all, const std::string& name) {
  for (const auto& f : all) {
    if (f.name == name) return f;
  }
  ADD_FAILURE() << "no family " << name;
  static MetricFamily none;
  return none;
}

TEST(MetricsTest, CountersAreSharedByNameAndLabels) {
  MetricsRegistry r;
  Counter* a = r.GetCounter("server.pulls");
  a->Add(3);
  EXPECT_EQ(r.GetCounter("server.pulls"), a);
  Counter* user = r.GetCounter("server.rows", {{"table", "user"}});
  Counter* item = r.GetCounter("server.rows", {{"table", "item"}});
  EXPECT_NE(user, item);
  user->Add(5);
  EXPECT_EQ(r.GetCounter("server.rows", {{"table", "user"}})->Get(), 5u);
  EXPECT_EQ(item->Get(), 0u);
  // Snapshot lists unlabeled counters only.
  auto snap = r.Snapshot();
  EXPECT_EQ(snap["server.pulls"], 3u);
  EXPECT_EQ(snap.count("server.rows"), 0u);
}

TEST(MetricsTest, AdvanceToNeverLowersACounter) {
  Counter c;
  c.AdvanceTo(10);
  EXPECT_EQ(c.Get(), 10u);
  c.AdvanceTo(4);
  EXPECT_EQ(c.Get(), 10u);
  c.AdvanceTo(12);
  EXPECT_EQ(c.Get(), 12u);
}

TEST(MetricsTest, GaugesSetAndAdd) {
  MetricsRegistry r;
  Gauge* g = r.GetGauge("worker.loss");
  g->Set(0.5);
  g->Add(0.25);
  g->Add(-1.0);
  EXPECT_DOUBLE_EQ(g->Get(), -0.25);
}

TEST(MetricsTest, HistogramBucketsAreUpperInclusive) {
  Histogram h({0.1, 1, 10});
  for (double v : {0.05, 0.1, 0.1000001, 1.0, 5.0, 10.0, 11.0, 1e9}) h.Observe(v);
  auto s = h.Get();
  ASSERT_EQ(s.cumulative.size(), 4u);  // three bounds and +Inf
  EXPECT_EQ(s.cumulative[0], 2u);      // 0.05, 0.1
  EXPECT_EQ(s.cumulative[1], 4u);      // + 0.1000001, 1.0
  EXPECT_EQ(s.cumulative[2], 6u);      // + 5, 10
  EXPECT_EQ(s.cumulative[3], 8u);      // + 11, 1e9
  EXPECT_EQ(s.count, 8u);
  EXPECT_DOUBLE_EQ(s.sum, 0.05 + 0.1 + 0.1000001 + 1 + 5 + 10 + 11 + 1e9);
}

TEST(MetricsTest, HistogramCountsEveryObservationFromManyThreads) {
  Histogram h(LatencyBuckets());
  std::vector<std::thread> threads;
  for (int t = 0; t < 4; ++t) {
    threads.emplace_back([&h, t] {
      for (int i = 0; i < 10000; ++i) h.Observe((i % 7) * 0.001 * (t + 1));
    });
  }
  for (auto& t : threads) t.join();
  auto s = h.Get();
  EXPECT_EQ(s.count, 40000u);
  EXPECT_EQ(s.cumulative.back(), 40000u);
  double expected = 0;
  for (int t = 0; t < 4; ++t) {
    for (int i = 0; i < 10000; ++i) expected += (i % 7) * 0.001 * (t + 1);
  }
  EXPECT_NEAR(s.sum, expected, 1e-6);
}

TEST(MetricsTest, CollectCopiesTypesHelpAndLabels) {
  MetricsRegistry r;
  r.GetCounter("a.count")->Add(2);
  r.GetGauge("b.level", {{"table", "t"}})->Set(7);
  r.GetHistogram("c.seconds", {1, 2})->Observe(1.5);
  r.Describe("a.count", "things counted");
  auto all = r.Collect();
  ASSERT_EQ(all.size(), 3u);
  EXPECT_EQ(all[0].name, "a.count");  // sorted by name
  EXPECT_EQ(Family(all, "a.count").type, MetricType::kCounter);
  EXPECT_EQ(Family(all, "a.count").help, "things counted");
  EXPECT_EQ(Family(all, "a.count").series[0].value, 2);
  const auto& b = Family(all, "b.level");
  EXPECT_EQ(b.type, MetricType::kGauge);
  EXPECT_EQ(b.series[0].labels, (Labels{{"table", "t"}}));
  EXPECT_EQ(b.series[0].value, 7);
  const auto& c = Family(all, "c.seconds");
  EXPECT_EQ(c.type, MetricType::kHistogram);
  EXPECT_EQ(c.series[0].histogram.cumulative, (std::vector<uint64_t>{0, 1, 1}));
}

TEST(MetricsTest, CollectorsRunBeforeEachCollectionUntilRemoved) {
  MetricsRegistry r;
  int runs = 0;
  const int id = r.AddCollector([&] { r.GetGauge("rows")->Set(++runs * 10); });
  EXPECT_EQ(Family(r.Collect(), "rows").series[0].value, 10);
  EXPECT_EQ(Family(r.Collect(), "rows").series[0].value, 20);
  r.RemoveCollector(id);
  EXPECT_EQ(Family(r.Collect(), "rows").series[0].value, 20);
  EXPECT_EQ(runs, 2);
}

TEST(MetricsTest, NodeLabelsAddRankOnceKnown) {
  EXPECT_EQ(NodeLabels("ab12", "server", -1), (Labels{{"job_id", "ab12"}, {"role", "server"}}));
  EXPECT_EQ(NodeLabels("ab12", "worker", 3),
            (Labels{{"job_id", "ab12"}, {"role", "worker"}, {"rank", "3"}}));
}

TEST(MetricsDeathTest, OneNameCannotBeTwoTypes) {
  MetricsRegistry r;
  r.GetCounter("x");
  EXPECT_DEATH(r.GetGauge("x"), "two types");
}

}  // namespace
}  // namespace embedps
