#include "launch/bench/parse_bench.h"

#include <time.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <optional>
#include <vector>

#include <nlohmann/json.hpp>

#include "common/partition.h"
#include "worker/data/example_reader.h"

namespace embedps::launch {
namespace {

struct PassResult {
  uint64_t lines = 0;
  uint64_t bad = 0;
  uint64_t bytes = 0;  // decompressed bytes
  double seconds = 0;
  double cpu_seconds = 0;  // of this thread: the per-core cost even on a busy machine
};

double ThreadCpuSeconds() {
  timespec t{};
  clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
  return static_cast<double>(t.tv_sec) + static_cast<double>(t.tv_nsec) * 1e-9;
}

double Median(std::vector<double> v) {
  std::sort(v.begin(), v.end());
  return v[v.size() / 2];
}

// One timed pass over every partition, one thread.
StatusOr<PassResult> ReadAll(const std::vector<Partition>& parts,
                             const std::vector<data::Format>& formats, uint32_t batch_size) {
  data::ReaderOptions opts;
  opts.max_bad_line_fraction = 1.0;  // measure, do not judge
  PassResult r;
  std::vector<data::Example> batch;
  const auto start = std::chrono::steady_clock::now();
  const double cpu_start = ThreadCpuSeconds();
  for (size_t i = 0; i < parts.size(); ++i) {
    ASSIGN_OR_RETURN(auto reader, data::ExampleReader::Open(parts[i], formats[i], opts));
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader->NextBatch(batch_size, &batch));
      if (n == 0) break;
    }
    r.lines += reader->lines_read();
    r.bad += reader->bad_lines();
    r.bytes += reader->bytes_read();
  }
  r.seconds = std::chrono::duration<double>(std::chrono::steady_clock::now() - start).count();
  r.cpu_seconds = ThreadCpuSeconds() - cpu_start;
  return r;
}

}  // namespace

Status RunParseBench(const ParseBenchOptions& o) {
  if (o.files.empty()) return InvalidArgument("--file is required");
  if (o.repeat == 0 || o.batch_size == 0) return InvalidArgument("--repeat and --batch_size must be >= 1");
  ASSIGN_OR_RETURN(const std::optional<data::Format> requested, data::FormatFromFlag(o.format));
  // One partition per file, as evaluation reads them.
  ASSIGN_OR_RETURN(std::vector<Partition> parts, PlanInputPartitions({o.files}, 1));
  std::vector<data::Format> formats;
  uint64_t file_bytes = 0;
  for (const Partition& p : parts) {
    ASSIGN_OR_RETURN(data::Format f, data::ResolveFormat(requested, p.file));
    formats.push_back(f);
    file_bytes += p.end - p.begin;
  }
  std::vector<double> rates, cpu_rates;
  PassResult last;
  for (uint32_t i = 0; i < o.repeat; ++i) {
    ASSIGN_OR_RETURN(last, ReadAll(parts, formats, o.batch_size));
    rates.push_back(last.lines / last.seconds);
    cpu_rates.push_back(last.lines / std::max(last.cpu_seconds, 1e-9));
  }
  if (last.lines == 0) return InvalidArgument(o.files + " holds no lines");
  const double median = Median(rates);
  const double cpu_median = Median(cpu_rates);
  const double mb_per_sec = median * static_cast<double>(last.bytes) / last.lines / 1e6;
  const char* format = data::FormatName(formats[0]);
  if (o.json) {
    nlohmann::json j = {{"files", o.files},         {"format", format},
                        {"partitions", parts.size()}, {"lines", last.lines},
                        {"bad_lines", last.bad},      {"file_bytes", file_bytes},
                        {"bytes", last.bytes},        {"lines_per_sec", rates},
                        {"median_lines_per_sec", median},
                        {"lines_per_cpu_sec", cpu_rates},
                        {"median_lines_per_cpu_sec", cpu_median},
                        {"median_mb_per_sec", mb_per_sec}};
    std::printf("%s\n", j.dump().c_str());
  } else {
    std::printf("bench parse: %s (%s, %zu file(s), %.1f MB on disk, %.1f MB of text): %llu lines, "
                "%llu bad; median of %u: %.3f M lines/s, %.0f MB/s of text (one thread); "
                "%.3f M lines per CPU second\n",
                o.files.c_str(), format, parts.size(), file_bytes / 1e6, last.bytes / 1e6,
                static_cast<unsigned long long>(last.lines), static_cast<unsigned long long>(last.bad),
                o.repeat, median / 1e6, mb_per_sec, cpu_median / 1e6);
  }
  return Status::OK();
}

}  // namespace embedps::launch
