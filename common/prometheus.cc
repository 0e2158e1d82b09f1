#include "common/prometheus.h"

#include <charconv>
#include <cmath>

namespace embedps {
namespace {

std::string Sanitize(const std::string& s, bool allow_colon) {
  std::string out = s;
  for (char& c : out) {
    const bool ok = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') || (c >= '0' && c <= '9') ||
                    c == '_' || (allow_colon && c == ':');
    if (!ok) c = '_';
  }
  if (!out.empty() && out[0] >= '0' && out[0] <= '9') out.insert(out.begin(), '_');
  return out;
}

// Shortest text that reads back as `v`; Prometheus spells infinities +Inf/-Inf.
std::string FormatValue(double v) {
  if (std::isnan(v)) return "NaN";
  if (std::isinf(v)) return v > 0 ? "+Inf" : "-Inf";
  char buf[400];
  // Plain decimals for the usual range ("0.0001", not "1e-04"), shortest
  // round-trip digits either way.
  const double a = std::fabs(v);
  const auto format = a == 0 || (a >= 1e-6 && a < 1e15) ? std::chars_format::fixed
                                                         : std::chars_format::general;
  auto r = std::to_chars(buf, buf + sizeof(buf), v, format);
  return std::string(buf, r.ptr);
}

void AppendEscaped(std::string* out, const std::string& text, bool quote) {
  for (char c : text) {
    if (c == '\\') {
      *out += "\\\\";
    } else if (c == '\n') {
      *out += "\\n";
    } else if (quote && c == '"') {
      *out += "\\\"";
    } else {
      *out += c;
    }
  }
}

// `{a="1",b="2"}` from the constant labels, the series' labels and an extra
// pair (the histogram's le); empty when there are none.
std::string LabelText(const Labels& const_labels, const Labels& labels, const std::string& le) {
  Labels all;
  for (const auto& c : const_labels) {
    bool overridden = false;
    for (const auto& l : labels) overridden |= l.first == c.first;
    if (!overridden) all.push_back(c);
  }
  all.insert(all.end(), labels.begin(), labels.end());
  if (!le.empty()) all.emplace_back("le", le);
  if (all.empty()) return "";
  std::string out = "{";
  for (size_t i = 0; i < all.size(); ++i) {
    if (i > 0) out += ',';
    out += Sanitize(all[i].first, false);
    out += "=\"";
    AppendEscaped(&out, all[i].second, true);
    out += '"';
  }
  out += '}';
  return out;
}

const char* TypeName(MetricType type) {
  switch (type) {
    case MetricType::kCounter: return "counter";
    case MetricType::kGauge: return "gauge";
    case MetricType::kHistogram: return "histogram";
  }
  return "untyped";
}

void AppendHistogram(std::string* out, const std::string& name, const Labels& const_labels,
                     const MetricFamily::Series& s) {
  const auto& h = s.histogram;
  for (size_t i = 0; i < h.cumulative.size(); ++i) {
    const std::string le = i < h.upper_bounds.size() ? FormatValue(h.upper_bounds[i]) : "+Inf";
    *out += name + "_bucket" + LabelText(const_labels, s.labels, le) + " " +
            std::to_string(h.cumulative[i]) + "\n";
  }
  const std::string labels = LabelText(const_labels, s.labels, "");
  *out += name + "_sum" + labels + " " + FormatValue(h.sum) + "\n";
  *out += name + "_count" + labels + " " + std::to_string(h.count) + "\n";
}

}  // namespace

std::string PrometheusName(const std::string& name, MetricType type) {
  std::string out = "embedps_" + Sanitize(name, true);
  const std::string suffix = "_total";
  const bool has_suffix =
      out.size() >= suffix.size() && out.compare(out.size() - suffix.size(), suffix.size(), suffix) == 0;
  if (type == MetricType::kCounter && !has_suffix) out += suffix;
  return out;
}

std::string FormatPrometheus(const std::vector<MetricFamily>& families, const Labels& const_labels) {
  std::string out;
  for (const auto& f : families) {
    if (f.series.empty()) continue;
    const std::string name = PrometheusName(f.name, f.type);
    out += "# HELP " + name + " ";
    AppendEscaped(&out, f.help.empty() ? f.name : f.help, false);
    out += "\n# TYPE " + name + " " + TypeName(f.type) + "\n";
    for (const auto& s : f.series) {
      if (f.type == MetricType::kHistogram) {
        AppendHistogram(&out, name, const_labels, s);
      } else {
        out += name + LabelText(const_labels, s.labels, "") + " " + FormatValue(s.value) + "\n";
      }
    }
  }
  return out;
}

std::string FormatPrometheus(const MetricsRegistry& registry) {
  return FormatPrometheus(registry.Collect(), registry.const_labels());
}

}  // namespace embedps
