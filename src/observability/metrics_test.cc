#include "observability/metrics.h"

#include <gtest/gtest.h>

namespace sb::observability {
namespace {

TEST(MetricsTest, CountersRenderWithLabelsAndHelp) {
  Registry r;
  r.DeclareCounter("sb_queries_total", "Queries.");
  r.Increment("sb_queries_total", {{"type", "select"}, {"status", "ok"}});
  r.Increment("sb_queries_total", {{"type", "select"}, {"status", "ok"}});
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("# TYPE sb_queries_total counter"), std::string::npos);
  EXPECT_NE(text.find("sb_queries_total{type=\"select\",status=\"ok\"} 2"), std::string::npos)
      << text;
  EXPECT_EQ(r.Value("sb_queries_total", {{"type", "select"}, {"status", "ok"}}), 2);
}

TEST(MetricsTest, HistogramBucketsAreCumulative) {
  Registry r;
  r.DeclareHistogram("lat", "Latency.", {0.1, 1, 10});
  r.Observe("lat", {}, 0.05);
  r.Observe("lat", {}, 0.5);
  r.Observe("lat", {}, 50);
  std::string text = r.RenderPrometheus();
  EXPECT_NE(text.find("lat_bucket{le=\"0.1\"} 1"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{le=\"1\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{le=\"10\"} 2"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_bucket{le=\"+Inf\"} 3"), std::string::npos) << text;
  EXPECT_NE(text.find("lat_count 3"), std::string::npos) << text;
}

TEST(MetricsTest, LabelValuesAreEscaped) {
  EXPECT_EQ(EscapeLabelValue("a\"b\\c\nd"), "a\\\"b\\\\c\\nd");
}

TEST(MetricsTest, GaugeGoesUpAndDown) {
  Registry r;
  r.DeclareGauge("conns", "Connections.");
  r.Add("conns", {}, 1);
  r.Add("conns", {}, 1);
  r.Add("conns", {}, -1);
  EXPECT_EQ(r.Value("conns"), 1);
}

}  // namespace
}  // namespace sb::observability
