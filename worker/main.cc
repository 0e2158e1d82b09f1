// embedps-worker: streams data partitions and trains against the servers.
#include <cstdio>

#include <gflags/gflags.h>

#include "common/flags/node_flags.h"
#include "worker/model/model_flags.h"
#include "worker/worker.h"

DEFINE_int32(batch_size, 1000, "Examples per minibatch");
DEFINE_int32(prefetch, 1,
             "Batches whose rows are pulled while the current batch trains (0: none; each adds "
             "one step of staleness)");
DEFINE_int32(max_staleness, -1,
             "Bounded staleness (SSP): start a batch only while this worker's clock (batches "
             "trained) is at most this many ahead of the slowest worker's; 0: BSP (implies "
             "--prefetch=0); -1: asynchronous. Give every worker of a job the same value");
DEFINE_int32(dense_pull_every, 1,
             "Pull the dense tables (MLP weights) in one batch of this many and reuse that copy in "
             "the batches between. 1: every batch");
DEFINE_int32(dense_push_every, 1,
             "Sum the dense tables' gradients over this many batches and push them as one (one "
             "server optimizer step per K batches). 1: every batch");
DEFINE_string(eval_test, "",
              "Test data this worker scores against the servers' rows when the scheduler asks "
              "(scheduler --eval_every_s / --eval_every_rows): a file, comma-separated files or a glob");
DEFINE_string(test_clock_trace, "", "Test only: write clock events to PATH.RANK");
DEFINE_string(test_batch_delay, "", "Test only: RANK:MS, the worker of that rank sleeps MS ms after each batch");
DEFINE_int32(request_timeout_ms, 30000, "Deadline for each pull and push window wait");
DEFINE_int32(max_inflight_pushes, 16, "Unacknowledged push requests allowed in flight");
DEFINE_string(format, "",
              "Input format: criteo, criteo-unlabeled (predict only), movielens, movielens-dat, movielens-csv, libsvm or csv (default: "
              "detected per file from its name and first line)");
DEFINE_int32(request_retry_ms, 5000,
             "Resend a request (same id; servers apply a push once) after this long without a "
             "reply, until --request_timeout_ms; 0: never");

int main(int argc, char** argv) {
  embedps::InitProcess(&argc, &argv, "embedps-worker --scheduler=tcp://HOST:PORT [flags]",
                       embedps::wire::Role::kWorker);
  const char* kProg = "embedps-worker";
  auto link = embedps::LinkOptionsFromFlags(embedps::wire::Role::kWorker);
  if (!link.ok()) return embedps::ExitWithError(kProg, link.status());
  if (FLAGS_batch_size <= 0) {
    return embedps::ExitWithError(kProg, embedps::InvalidArgument("--batch_size must be >= 1"));
  }
  if (FLAGS_request_timeout_ms <= 0 || FLAGS_max_inflight_pushes <= 0) {
    return embedps::ExitWithError(
        kProg, embedps::InvalidArgument("--request_timeout_ms and --max_inflight_pushes must be > 0"));
  }
  embedps::worker::WorkerOptions options;
  options.link = std::move(link).value();
  options.batch_size = FLAGS_batch_size;
  if (FLAGS_prefetch < 0 || FLAGS_prefetch > 64) {
    return embedps::ExitWithError(kProg, embedps::InvalidArgument("--prefetch must be in 0..64"));
  }
  options.prefetch = static_cast<uint32_t>(FLAGS_prefetch);
  if (FLAGS_max_staleness < -1) {
    return embedps::ExitWithError(kProg, embedps::InvalidArgument("--max_staleness must be >= -1"));
  }
  options.max_staleness = FLAGS_max_staleness;
  if (FLAGS_dense_pull_every < 1) {
    return embedps::ExitWithError(kProg, embedps::InvalidArgument("--dense_pull_every must be >= 1"));
  }
  options.dense_pull_every = static_cast<uint32_t>(FLAGS_dense_pull_every);
  if (FLAGS_dense_push_every < 1) {
    return embedps::ExitWithError(kProg, embedps::InvalidArgument("--dense_push_every must be >= 1"));
  }
  options.dense_push_every = static_cast<uint32_t>(FLAGS_dense_push_every);
  options.test_clock_trace = FLAGS_test_clock_trace;
  options.eval_test = FLAGS_eval_test;
  if (!FLAGS_test_batch_delay.empty()) {
    unsigned rank = 0, ms = 0;
    if (std::sscanf(FLAGS_test_batch_delay.c_str(), "%u:%u", &rank, &ms) != 2) {
      return embedps::ExitWithError(kProg, embedps::InvalidArgument("--test_batch_delay must be RANK:MS"));
    }
    options.test_delay_rank = static_cast<int32_t>(rank);
    options.test_batch_delay = std::chrono::milliseconds(ms);
  }
  auto format = embedps::data::FormatFromFlag(FLAGS_format);
  if (!format.ok()) return embedps::ExitWithError(kProg, format.status());
  options.format = format.value();
  options.client.timeout = std::chrono::milliseconds(FLAGS_request_timeout_ms);
  options.client.max_inflight_pushes = FLAGS_max_inflight_pushes;
  if (FLAGS_request_retry_ms < 0) {
    return embedps::ExitWithError(kProg, embedps::InvalidArgument("--request_retry_ms must be >= 0"));
  }
  options.client.retry_interval = std::chrono::milliseconds(FLAGS_request_retry_ms);
  options.client.limits = options.link.limits;
  // The scheduler judges the bad-line fraction over the whole job; one
  // partition may legitimately hold a cluster of bad lines.
  options.reader.max_bad_line_fraction = 1.0;

  auto side = embedps::worker::SideFeaturesFromFlags();
  if (!side.ok()) return embedps::ExitWithError(kProg, side.status());
  options.side_features = side->get();
  options.model_spec = [side = side->get()](embedps::data::Format format, const embedps::data::CsvSchema* csv) {
    return embedps::worker::ModelSpecFromFlags(format, side, csv);
  };
  options.reader.csv = embedps::worker::CsvColumnsFromFlags();
  // One oneDNN thread: the worker's processes share the cores already.
  embedps::worker::SetDenseThreads(1);
  auto precision = embedps::worker::ApplyDensePrecisionFlag();
  if (!precision.ok()) return embedps::ExitWithError(kProg, precision.status());
  LOG(INFO) << "dense layers: " << embedps::worker::DensePrecisionName(*precision) << " on oneDNN";

  // Declared before the worker, so the HTTP endpoint outlives it.
  embedps::MetricsRegistry metrics;
  auto http = embedps::StartMetricsServerFromFlags(&metrics, &options.link.metrics_url);
  if (!http.ok()) return embedps::ExitWithError(kProg, http.status());
  zmq::context_t ctx(1);
  embedps::worker::Worker worker(ctx, std::move(options), &metrics);
  embedps::Status st = worker.Run();
  if (!st.ok()) return embedps::ExitWithError(kProg, st);
  return 0;
}
