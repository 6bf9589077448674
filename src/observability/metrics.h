// A small metrics registry with Prometheus text exposition (format 0.0.4).
// Counters and gauges are keyed by a label set; histograms have fixed
// buckets. Thread-safe; the hot path is one mutex-protected map lookup.
#pragma once

#include <cstdint>
#include <map>
#include <mutex>
#include <string>
#include <utility>
#include <vector>

namespace sb::observability {

using Labels = std::vector<std::pair<std::string, std::string>>;

class Registry {
 public:
  // Declares a metric family (name, type and help text) before use.
  void DeclareCounter(const std::string& name, const std::string& help);
  void DeclareGauge(const std::string& name, const std::string& help);
  void DeclareHistogram(const std::string& name, const std::string& help,
                        std::vector<double> buckets);

  void Increment(const std::string& name, const Labels& labels = {}, double by = 1);
  void Set(const std::string& name, const Labels& labels, double value);
  void Add(const std::string& name, const Labels& labels, double delta);
  void Observe(const std::string& name, const Labels& labels, double value);

  double Value(const std::string& name, const Labels& labels = {}) const;
  std::string RenderPrometheus() const;

 private:
  enum class Kind { kCounter, kGauge, kHistogram };
  struct HistogramData {
    std::vector<uint64_t> counts;  // per bucket, not cumulative
    uint64_t count = 0;
    double sum = 0;
  };
  struct Family {
    Kind kind;
    std::string help;
    std::vector<double> buckets;
    std::map<Labels, double> values;
    std::map<Labels, HistogramData> histograms;
  };
  mutable std::mutex mu_;
  std::map<std::string, Family> families_;
};

// Escapes a label value for the text format.
std::string EscapeLabelValue(const std::string& v);

}  // namespace sb::observability
