// The parameter server process: joins the cluster, serves pull, push and
// push+pull requests on a pool of handler threads, evicts idle rows, and
// exports its rows when the scheduler asks.
//
// Threads: a ZeroMQ proxy thread moves requests from the workers' ROUTER
// socket to an inproc DEALER that spreads them over the handler threads
// (each with its own socket); replies travel back the same way. With a
// single handler thread that thread owns the ROUTER and there is no proxy. The calling
// thread keeps the scheduler link. Tables are striped and locked per stripe,
// so handlers run in parallel without a global lock.
#pragma once

#include <atomic>
#include <future>
#include <memory>
#include <optional>
#include <string>
#include <thread>
#include <vector>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/rate_meter.h"
#include "common/scheduler_link.h"
#include "common/security/zap_handler.h"
#include "common/status.h"
#include "ps/replication/replica_forwarder.h"
#include "ps/replication/replica_receiver.h"
#include "ps/request_handler.h"

namespace embedps::ps {

// Half the cores, at least one: the rest go to ZeroMQ's I/O thread and the
// kernel's TCP work, which take about as much CPU as the store itself.
int DefaultHandlerThreads();

// 80% of this machine's physical memory: the default bound on the rows a
// server keeps, so it refuses growth before the kernel's OOM killer acts.
uint64_t DefaultServerMemoryBytes();

// `flag` (the --server_threads value) with 0 meaning DefaultHandlerThreads().
StatusOr<int> HandlerThreadsFromFlag(int flag);

struct ServerOptions {
  // Where workers connect; port 0 picks a free one.
  std::string bind_endpoint = "tcp://127.0.0.1:0";
  // Host workers should use to reach this server. Empty: the bound host, or
  // this machine's hostname when bound to a wildcard address.
  std::string advertise_host;
  SchedulerLinkOptions link;
  std::vector<TableConfig> tables;
  // Threads serving requests (see DefaultHandlerThreads).
  int handler_threads = 2;
  // Benchmark reference: skip the tables (see ServingState::null_store).
  bool null_store = false;
  // Bounds on requests (keys, rows, memory); max_reply_bytes is taken from
  // link.limits.max_message_bytes.
  ServerLimits limits;
  // Most tables a server accepts in its configuration.
  uint32_t max_tables = 1024;
  // How often idle and over-budget rows are evicted.
  std::chrono::milliseconds eviction_interval{1000};
  // --replicas=2 (set by the scheduler): how long a push waits for the
  // backup's confirmation before the worker is told to send it again.
  std::chrono::milliseconds replica_timeout{2000};
};

class Server {
 public:
  // `metrics` is borrowed and must outlive the server. The server keeps it
  // current: request counters and latencies, per-table rows, memory,
  // evictions and admission counts (read when metrics are collected), and
  // recent keys/s.
  Server(zmq::context_t& ctx, ServerOptions options, MetricsRegistry* metrics);
  ~Server();

  // Binds, joins the cluster, and serves until the scheduler sends shutdown
  // (OK) or something fatal happens (bind failure, scheduler lost).
  Status Run();
  // True when Run() ended because the scheduler replaced this server
  // (presumed dead while stalled; another server took its rank), or a
  // restarted scheduler gave its rank to another server before it rejoined:
  // it leaves with kExitReplaced, and a supervisor starts it again as a
  // spare.
  bool replaced() const { return link_.replaced() || rank_taken_; }

 private:
  Status Setup();
  // With CURVE: starts the ZAP handler and turns CURVE on for router_.
  Status SecureRouter();
  // What peers of this cluster present without CURVE (socket_security.h).
  std::string MemberPassword() const;
  // `bound` ("tcp://HOST:PORT") as others reach it (see advertise_host).
  std::string Advertised(const std::string& bound) const;
  // Creates the copy tables and the replication halves (see ps/replication/).
  Status SetupReplication();
  // Follows a new shard map or rank: request routing and replication.
  void ApplyShardMap();
  // --replicas=2: writes what this server holds of dead server msg.rank in
  // the background (see HandoffMsg).
  Status StartHandoff(const wire::HandoffMsg& msg);
  void StartThreads();
  void StopThreads();
  void HandlerLoop();
  // Serves requests from `socket` ([routing id][envelope][payloads]) until
  // stopping_.
  void ServeSocket(zmq::socket_t& socket);
  // Handles scheduler events; sets *done when the job is over.
  Status HandleEvents(bool* done);
  Status ExportModel(const std::string& directory, uint64_t* rows, std::string* path);
  // Checkpoints (ps/checkpoint/): cuts at once and answers "cut", then
  // writes in the background; the "written" answer goes out from Run().
  Status StartCheckpoint(const wire::CheckpointMsg& msg);
  // Becomes server msg.rank and loads its rows in the background; serving
  // starts when that is done.
  Status StartRestore(const wire::RestoreMsg& msg);
  // Registers again with a restarted scheduler, keeping rank and rows.
  Status RejoinScheduler();
  // Sends the answer of the background job once it has finished.
  Status FinishBackgroundJob();
  // Waits for the background job, if any, and sends its answer.
  Status AwaitBackgroundJob();
  std::vector<EmbeddingTable*> TablesById() const;
  // Extends the lease on its rank (ServingState::serving_until_ns) from
  // the last time the scheduler was heard from.
  void RenewServingLease();
  void Evict();
  void LogStats() const;
  // Table sizes and request totals, for heartbeats and metrics.
  wire::ServerStats CollectStats() const;
  // Copies per-table statistics into the registry (a metrics collector).
  void ExportTableMetrics();
  void UpdateRates();

  zmq::context_t& ctx_;
  ServerOptions options_;
  MetricsRegistry* metrics_;
  std::unique_ptr<security::ZapHandler> zap_;  // with CURVE: admits workers by key
  zmq::socket_t router_;   // workers connect here; used by the proxy thread
  zmq::socket_t backend_;  // inproc DEALER to the handlers; proxy thread
  zmq::socket_t control_;  // inproc PAIR the proxy listens to for TERMINATE
  zmq::socket_t control_client_;  // our end of it
  std::string backend_endpoint_;
  SchedulerLink link_;
  ServingState state_;
  std::unique_ptr<RequestHandler> handler_;
  std::unique_ptr<ReplicaForwarder> forwarder_;
  std::unique_ptr<ReplicaReceiver> receiver_;
  std::string endpoint_;
  std::thread proxy_thread_;
  std::vector<std::thread> handler_threads_;
  std::atomic<bool> stopping_{false};
  int collector_id_ = -1;
  bool sigterm_logged_ = false;  // SIGTERM seen; the heartbeats ask to be replaced
  // A checkpoint write or a restore running off the main thread; its result
  // is the message to send the scheduler. One at a time.
  std::future<wire::Body> background_;
  std::string background_what_;
  RateMeter pulled_meter_;
  RateMeter pushed_meter_;
  Gauge* keys_pulled_rate_;
  Gauge* keys_pushed_rate_;
  // A restarted scheduler gave this server's rank to another one (see
  // RejoinScheduler).
  bool rank_taken_ = false;
};

}  // namespace embedps::ps
