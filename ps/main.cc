// embedps-server: holds embedding rows and applies pushed gradients.
#include <cstdio>

#include <gflags/gflags.h>
#include <glog/logging.h>

#include "common/flags/node_flags.h"
#include "common/scheduler_link.h"
#include "ps/server.h"
#include "ps/table_spec.h"

DEFINE_string(bind, "tcp://127.0.0.1:0", "Endpoint to serve workers on (port 0: any free port)");
DEFINE_string(advertise_host, "",
              "Host workers use to reach this server (default: the bound host, or the "
              "hostname when bound to 0.0.0.0)");
DEFINE_int32(server_threads, 0, "Threads serving worker requests; 0: half the cores, at least 1");
DEFINE_string(tables, "",
              "Table declarations, ';'-separated, e.g. \"name=user dim=16 optimizer=adam; "
              "name=item dim=16 fp16=1\" (see ps/table_spec.h). Default: one table from the "
              "flags below");
DEFINE_string(tables_file, "", "File with table declarations, one per line");
DEFINE_int32(dim, 1, "Default row dimension");
DEFINE_string(optimizer, "adagrad",
              "Default optimizer: sgd, adagrad, rowwise_adagrad, adam, ftrl (other hyper-parameters: "
              "see --tables)");
DEFINE_double(learning_rate, 0.05, "Default learning rate");
DEFINE_double(initial_accumulator, 0.1, "Default Adagrad initial accumulator value");
DEFINE_double(l2, 0.0, "Default L2 penalty");
DEFINE_string(init, "uniform", "Default initializer: zeros, uniform, normal");
DEFINE_double(init_scale, 0.0, "Default initializer scale (uniform half-width or normal stddev)");
DEFINE_uint64(seed, 2026, "Seed of the deterministic row initializer");
DEFINE_int64(max_keys_per_request, 1 << 20,
             "Requests with more keys are refused (limitExceeded) and counted");
DEFINE_int32(max_tables, 1024, "Most tables this server accepts in --tables / --tables_file");
DEFINE_int64(max_rows_per_table, int64_t{1} << 31,
             "Requests that would create rows past this many in one table are refused");
DEFINE_int64(max_server_memory_mb, 0,
             "Requests that would grow the rows of all tables (rows x (row bytes + 16)) past "
             "this are refused; 0: 80% of this machine's memory");

DEFINE_int32(replica_timeout_ms, 2000,
             "--replicas=2: how long a push waits for the backup server's confirmation before the worker is "
             "told to send it again");

namespace {

embedps::StatusOr<std::vector<embedps::ps::TableConfig>> TablesFromFlags() {
  using embedps::InvalidArgument;
  if (FLAGS_dim <= 0 || FLAGS_dim > 1024) return InvalidArgument("--dim must be in 1..1024");
  embedps::ps::TableConfig defaults;
  defaults.dim = static_cast<uint32_t>(FLAGS_dim);
  ASSIGN_OR_RETURN(defaults.init, embedps::ps::ParseInitializer(FLAGS_init));
  defaults.init_scale = static_cast<float>(FLAGS_init_scale);
  defaults.seed = FLAGS_seed;
  defaults.optimizer.name = FLAGS_optimizer;
  defaults.optimizer.learning_rate = static_cast<float>(FLAGS_learning_rate);
  defaults.optimizer.initial_accumulator = static_cast<float>(FLAGS_initial_accumulator);
  defaults.optimizer.l2 = static_cast<float>(FLAGS_l2);
  if (!FLAGS_tables.empty() && !FLAGS_tables_file.empty()) {
    return InvalidArgument("give --tables or --tables_file, not both");
  }
  if (!FLAGS_tables_file.empty()) return embedps::ps::ReadTableSpecFile(FLAGS_tables_file, defaults);
  return embedps::ps::ParseTableSpecs(FLAGS_tables.empty() ? "name=weights" : FLAGS_tables, defaults);
}

embedps::StatusOr<embedps::ps::ServerLimits> LimitsFromFlags() {
  using embedps::InvalidArgument;
  if (FLAGS_max_keys_per_request < 1 || FLAGS_max_keys_per_request > (int64_t{1} << 31)) {
    return InvalidArgument("--max_keys_per_request must be in 1..2^31");
  }
  if (FLAGS_max_tables < 1) return InvalidArgument("--max_tables must be >= 1");
  if (FLAGS_max_rows_per_table < 1) return InvalidArgument("--max_rows_per_table must be >= 1");
  if (FLAGS_max_server_memory_mb < 0) return InvalidArgument("--max_server_memory_mb must be >= 0");
  embedps::ps::ServerLimits limits;
  limits.max_keys_per_request = static_cast<uint32_t>(FLAGS_max_keys_per_request);
  limits.max_rows_per_table = static_cast<uint64_t>(FLAGS_max_rows_per_table);
  limits.max_memory_bytes = FLAGS_max_server_memory_mb > 0
                                ? static_cast<uint64_t>(FLAGS_max_server_memory_mb) << 20
                                : embedps::ps::DefaultServerMemoryBytes();
  return limits;
}

}  // namespace

int main(int argc, char** argv) {
  embedps::InitProcess(&argc, &argv, "embedps-server --scheduler=tcp://HOST:PORT [flags]",
                       embedps::wire::Role::kServer);
  const char* kProg = "embedps-server";
  auto link = embedps::LinkOptionsFromFlags(embedps::wire::Role::kServer);
  if (!link.ok()) return embedps::ExitWithError(kProg, link.status());
  auto tables = TablesFromFlags();
  if (!tables.ok()) return embedps::ExitWithError(kProg, tables.status());
  auto threads = embedps::ps::HandlerThreadsFromFlag(FLAGS_server_threads);
  if (!threads.ok()) return embedps::ExitWithError(kProg, threads.status());
  embedps::ps::ServerOptions options;
  options.bind_endpoint = FLAGS_bind;
  options.advertise_host = FLAGS_advertise_host;
  options.link = std::move(link).value();
  options.tables = std::move(tables).value();
  options.handler_threads = threads.value();
  auto limits = LimitsFromFlags();
  if (!limits.ok()) return embedps::ExitWithError(kProg, limits.status());
  options.limits = limits.value();
  options.max_tables = static_cast<uint32_t>(FLAGS_max_tables);
  if (FLAGS_replica_timeout_ms < 1) {
    return embedps::ExitWithError(kProg, embedps::InvalidArgument("--replica_timeout_ms must be >= 1"));
  }
  options.replica_timeout = std::chrono::milliseconds(FLAGS_replica_timeout_ms);

  // Declared before the server: the HTTP endpoint serves the registry the
  // server fills, and is stopped after the server is gone.
  embedps::MetricsRegistry metrics;
  auto http = embedps::StartMetricsServerFromFlags(&metrics, &options.link.metrics_url);
  if (!http.ok()) return embedps::ExitWithError(kProg, http.status());
  zmq::context_t ctx(1);
  embedps::ps::Server server(ctx, std::move(options), &metrics);
  embedps::Status st = server.Run();
  if (server.replaced()) {
    // Not a failure: the job goes on without this process.
    LOG(WARNING) << "leaving the job: " << st.message();
    std::fprintf(stderr, "%s: leaving the job: %s\n", kProg, st.message().c_str());
    return embedps::kExitReplaced;
  }
  if (!st.ok()) return embedps::ExitWithError(kProg, st);
  return 0;
}
