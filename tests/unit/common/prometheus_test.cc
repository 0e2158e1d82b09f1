// The Prometheus text exposition: names, HELP/TYPE lines, labels and their
// escaping, histogram buckets, and number formatting.
#include "common/prometheus.h"

#include <gtest/gtest.h>

#include <cmath>

namespace embedps {
namespace {

TEST(PrometheusTest, NamesGetPrefixAndCounterSuffix) {
  EXPECT_EQ(PrometheusName("server.pull_requests", MetricType::kCounter),
            "embedps_server_pull_requests_total");
  EXPECT_EQ(PrometheusName("server.rows_total", MetricType::kCounter), "embedps_server_rows_total");
  EXPECT_EQ(PrometheusName("worker.train-loss", MetricType::kGauge), "embedps_worker_train_loss");
  EXPECT_EQ(PrometheusName("a.seconds", MetricType::kHistogram), "embedps_a_seconds");
}

TEST(PrometheusTest, CountersAndGaugesWithConstantLabels) {
  MetricsRegistry r;
  r.Describe("server.pull_requests", "Pulls served");
  r.GetCounter("server.pull_requests")->Add(42);
  r.GetGauge("server.table_rows", {{"table", "user"}})->Set(1500);
  r.GetGauge("server.table_rows", {{"table", "item"}})->Set(0.25);
  r.SetConstLabels({{"job_id", "ab12cd34"}, {"role", "server"}, {"rank", "1"}});
  const std::string expected =
      "# HELP embedps_server_pull_requests_total Pulls served\n"
      "# TYPE embedps_server_pull_requests_total counter\n"
      "embedps_server_pull_requests_total{job_id=\"ab12cd34\",role=\"server\",rank=\"1\"} 42\n"
      "# HELP embedps_server_table_rows server.table_rows\n"
      "# TYPE embedps_server_table_rows gauge\n"
      "embedps_server_table_rows{job_id=\"ab12cd34\",role=\"server\",rank=\"1\",table=\"item\"} 0.25\n"
      "embedps_server_table_rows{job_id=\"ab12cd34\",role=\"server\",rank=\"1\",table=\"user\"} 1500\n";
  EXPECT_EQ(FormatPrometheus(r), expected);
}

TEST(PrometheusTest, HistogramBucketsAreCumulativeWithInfSumAndCount) {
  MetricsRegistry r;
  Histogram* h = r.GetHistogram("server.request_seconds", {0.0005, 0.01, 1}, {{"op", "pull"}});
  h->Observe(0.0001);
  h->Observe(0.0005);
  h->Observe(0.5);
  h->Observe(3);
  r.Describe("server.request_seconds", "Handler time");
  const std::string expected =
      "# HELP embedps_server_request_seconds Handler time\n"
      "# TYPE embedps_server_request_seconds histogram\n"
      "embedps_server_request_seconds_bucket{op=\"pull\",le=\"0.0005\"} 2\n"
      "embedps_server_request_seconds_bucket{op=\"pull\",le=\"0.01\"} 2\n"
      "embedps_server_request_seconds_bucket{op=\"pull\",le=\"1\"} 3\n"
      "embedps_server_request_seconds_bucket{op=\"pull\",le=\"+Inf\"} 4\n"
      "embedps_server_request_seconds_sum{op=\"pull\"} 3.5006\n"
      "embedps_server_request_seconds_count{op=\"pull\"} 4\n";
  EXPECT_EQ(FormatPrometheus(r), expected);
}

TEST(PrometheusTest, LabelValuesAndHelpAreEscaped) {
  MetricsRegistry r;
  r.Describe("g", "line one\nback\\slash");
  r.GetGauge("g", {{"table", "a\"b\\c\nd"}, {"bad-name", "x"}})->Set(1);
  const std::string text = FormatPrometheus(r);
  EXPECT_NE(text.find("# HELP embedps_g line one\\nback\\\\slash\n"), std::string::npos) << text;
  EXPECT_NE(text.find("embedps_g{table=\"a\\\"b\\\\c\\nd\",bad_name=\"x\"} 1\n"), std::string::npos)
      << text;
}

TEST(PrometheusTest, SeriesLabelOverridesConstantLabel) {
  MetricsRegistry r;
  r.SetConstLabels({{"role", "scheduler"}});
  r.GetGauge("x", {{"role", "override"}})->Set(2);
  EXPECT_NE(FormatPrometheus(r).find("embedps_x{role=\"override\"} 2\n"), std::string::npos);
}

TEST(PrometheusTest, SpecialValues) {
  MetricsRegistry r;
  r.GetGauge("inf")->Set(1.0 / 0.0);
  r.GetGauge("nan")->Set(std::nan(""));
  r.GetGauge("tiny")->Set(1e-9);
  r.GetGauge("big")->Set(12345678901234567890.0);
  const std::string text = FormatPrometheus(r);
  EXPECT_NE(text.find("embedps_inf +Inf\n"), std::string::npos) << text;
  EXPECT_NE(text.find("embedps_nan NaN\n"), std::string::npos) << text;
  EXPECT_NE(text.find("embedps_tiny 1e-09\n"), std::string::npos) << text;
  EXPECT_NE(text.find("embedps_big 1.2345678901234567e+19\n"), std::string::npos) << text;
}

TEST(PrometheusTest, EmptyFamiliesAreLeftOut) {
  MetricsRegistry r;
  r.Describe("never.used", "nothing");
  EXPECT_EQ(FormatPrometheus(r), "");
}

}  // namespace
}  // namespace embedps
