// embedps-server: holds embedding rows and applies pushed gradients.
#include <gflags/gflags.h>

#include "common/flags/node_flags.h"
#include "ps/server.h"

DEFINE_string(bind, "tcp://127.0.0.1:0", "Endpoint to serve workers on (port 0: any free port)");
DEFINE_string(advertise_host, "",
              "Host workers use to reach this server (default: the bound host, or the "
              "hostname when bound to 0.0.0.0)");
DEFINE_int32(dim, 1, "Row dimension of table 0");
DEFINE_string(optimizer, "adagrad", "Optimizer of table 0: sgd or adagrad");
DEFINE_double(learning_rate, 0.05, "Learning rate");
DEFINE_double(initial_accumulator, 0.1, "Adagrad initial accumulator value");
DEFINE_double(l2, 0.0, "L2 penalty");
DEFINE_double(init_scale, 0.0, "New rows start uniform in [-init_scale, init_scale]");
DEFINE_uint64(seed, 2026, "Seed of the deterministic row initializer");

int main(int argc, char** argv) {
  embedps::InitProcess(&argc, &argv, "embedps-server --scheduler=tcp://HOST:PORT [flags]");
  auto link = embedps::LinkOptionsFromFlags(embedps::wire::Role::kServer);
  if (!link.ok()) return embedps::ExitWithError("embedps-server", link.status());

  embedps::ps::ServerOptions options;
  options.bind_endpoint = FLAGS_bind;
  options.advertise_host = FLAGS_advertise_host;
  options.link = std::move(link).value();
  embedps::ps::TableConfig table;
  table.id = 0;
  table.dim = static_cast<uint32_t>(FLAGS_dim);
  table.init_scale = static_cast<float>(FLAGS_init_scale);
  table.seed = FLAGS_seed;
  table.optimizer.name = FLAGS_optimizer;
  table.optimizer.learning_rate = static_cast<float>(FLAGS_learning_rate);
  table.optimizer.initial_accumulator = static_cast<float>(FLAGS_initial_accumulator);
  table.optimizer.l2 = static_cast<float>(FLAGS_l2);
  if (FLAGS_dim <= 0) return embedps::ExitWithError("embedps-server", embedps::InvalidArgument("--dim must be > 0"));
  options.tables.push_back(table);

  zmq::context_t ctx(1);
  embedps::MetricsRegistry metrics;
  embedps::ps::Server server(ctx, std::move(options), &metrics);
  embedps::Status st = server.Run();
  if (!st.ok()) return embedps::ExitWithError("embedps-server", st);
  return 0;
}
