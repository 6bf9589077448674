#include "observability/metrics.h"

#include <cmath>
#include <cstdio>
#include <cstdlib>
#include <sstream>

namespace sb::observability {
namespace {

std::string FormatNumber(double v) {
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  if (std::isnan(v)) return "NaN";
  char buf[64];
  if (v == std::floor(v) && std::fabs(v) < 1e15) {
    std::snprintf(buf, sizeof buf, "%.0f", v);
  } else {
    std::snprintf(buf, sizeof buf, "%.15g", v);
    if (std::strtod(buf, nullptr) != v) std::snprintf(buf, sizeof buf, "%.17g", v);
  }
  return buf;
}

std::string RenderLabels(const Labels& labels, const std::string& extra_key = {},
                         const std::string& extra_value = {}) {
  if (labels.empty() && extra_key.empty()) return "";
  std::string out = "{";
  bool first = true;
  for (const auto& [k, v] : labels) {
    out += (first ? "" : ",") + k + "=\"" + EscapeLabelValue(v) + "\"";
    first = false;
  }
  if (!extra_key.empty()) out += (first ? "" : ",") + extra_key + "=\"" + extra_value + "\"";
  return out + "}";
}

}  // namespace

std::string EscapeLabelValue(const std::string& v) {
  std::string out;
  for (char c : v) {
    if (c == '\\')
      out += "\\\\";
    else if (c == '"')
      out += "\\\"";
    else if (c == '\n')
      out += "\\n";
    else
      out += c;
  }
  return out;
}

void Registry::DeclareCounter(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> l(mu_);
  families_.try_emplace(name, Family{Kind::kCounter, help, {}, {}, {}});
}

void Registry::DeclareGauge(const std::string& name, const std::string& help) {
  std::lock_guard<std::mutex> l(mu_);
  families_.try_emplace(name, Family{Kind::kGauge, help, {}, {}, {}});
}

void Registry::DeclareHistogram(const std::string& name, const std::string& help,
                                std::vector<double> buckets) {
  std::lock_guard<std::mutex> l(mu_);
  families_.try_emplace(name, Family{Kind::kHistogram, help, std::move(buckets), {}, {}});
}

void Registry::Increment(const std::string& name, const Labels& labels, double by) {
  std::lock_guard<std::mutex> l(mu_);
  families_[name].values[labels] += by;
}

void Registry::Set(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> l(mu_);
  families_[name].values[labels] = value;
}

void Registry::Add(const std::string& name, const Labels& labels, double delta) {
  std::lock_guard<std::mutex> l(mu_);
  families_[name].values[labels] += delta;
}

void Registry::Observe(const std::string& name, const Labels& labels, double value) {
  std::lock_guard<std::mutex> l(mu_);
  Family& f = families_[name];
  HistogramData& h = f.histograms[labels];
  if (h.counts.size() != f.buckets.size()) h.counts.assign(f.buckets.size(), 0);
  for (size_t i = 0; i < f.buckets.size(); ++i) {
    if (value <= f.buckets[i]) {
      ++h.counts[i];
      break;
    }
  }
  ++h.count;
  h.sum += value;
}

double Registry::Value(const std::string& name, const Labels& labels) const {
  std::lock_guard<std::mutex> l(mu_);
  auto f = families_.find(name);
  if (f == families_.end()) return 0;
  if (f->second.kind == Kind::kHistogram) {
    auto h = f->second.histograms.find(labels);
    return h == f->second.histograms.end() ? 0 : static_cast<double>(h->second.count);
  }
  auto v = f->second.values.find(labels);
  return v == f->second.values.end() ? 0 : v->second;
}

std::string Registry::RenderPrometheus() const {
  std::lock_guard<std::mutex> l(mu_);
  std::ostringstream out;
  for (const auto& [name, f] : families_) {
    const char* type = f.kind == Kind::kCounter ? "counter"
                       : f.kind == Kind::kGauge ? "gauge"
                                                : "histogram";
    out << "# HELP " << name << " " << f.help << "\n# TYPE " << name << " " << type << "\n";
    if (f.kind != Kind::kHistogram) {
      for (const auto& [labels, v] : f.values)
        out << name << RenderLabels(labels) << " " << FormatNumber(v) << "\n";
      continue;
    }
    for (const auto& [labels, h] : f.histograms) {
      uint64_t cumulative = 0;
      for (size_t i = 0; i < f.buckets.size(); ++i) {
        cumulative += i < h.counts.size() ? h.counts[i] : 0;
        out << name << "_bucket" << RenderLabels(labels, "le", FormatNumber(f.buckets[i])) << " "
            << cumulative << "\n";
      }
      out << name << "_bucket" << RenderLabels(labels, "le", "+Inf") << " " << h.count << "\n";
      out << name << "_sum" << RenderLabels(labels) << " " << FormatNumber(h.sum) << "\n";
      out << name << "_count" << RenderLabels(labels) << " " << h.count << "\n";
    }
  }
  return out.str();
}

}  // namespace sb::observability
