#include "ps/server.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <glog/logging.h>

#include "common/process_metrics.h"
#include "common/security/socket_security.h"
#include "common/stop_signal.h"
#include "ps/checkpoint/checkpoint.h"
#include "ps/replication/applied_ids_file.h"

namespace embedps::ps {

int DefaultHandlerThreads() {
  return std::max(1, static_cast<int>(std::thread::hardware_concurrency() / 2));
}

uint64_t DefaultServerMemoryBytes() {
  const long pages = sysconf(_SC_PHYS_PAGES);
  const long page_size = sysconf(_SC_PAGE_SIZE);
  if (pages <= 0 || page_size <= 0) return uint64_t{8} << 30;
  return static_cast<uint64_t>(pages) * static_cast<uint64_t>(page_size) / 10 * 8;
}

StatusOr<int> HandlerThreadsFromFlag(int flag) {
  if (flag < 0 || flag > 256) {
    return InvalidArgument("--server_threads must be in 0..256 (0: half the cores), got " +
                           std::to_string(flag));
  }
  return flag == 0 ? DefaultHandlerThreads() : flag;
}

Server::Server(zmq::context_t& ctx, ServerOptions options, MetricsRegistry* metrics)
    : ctx_(ctx),
      options_(std::move(options)),
      metrics_(metrics),
      router_(ctx, zmq::socket_type::router),
      backend_(ctx, zmq::socket_type::dealer),
      control_(ctx, zmq::socket_type::pair),
      control_client_(ctx, zmq::socket_type::pair),
      link_(ctx, options_.link) {
  ConfigureSocket(router_, options_.link.limits.max_message_bytes);
  backend_.set(zmq::sockopt::linger, 0);
  control_.set(zmq::sockopt::linger, 0);
  control_client_.set(zmq::sockopt::linger, 0);
  keys_pulled_rate_ = metrics_->GetGauge("server.keys_pulled_per_second");
  keys_pushed_rate_ = metrics_->GetGauge("server.keys_pushed_per_second");
  metrics_->Describe("server.keys_pulled_per_second", "Keys pulled per second over the last second");
  metrics_->Describe("server.keys_pushed_per_second", "Keys pushed per second over the last second");
  metrics_->Describe("server.table_rows", "Rows held, by table");
  metrics_->Describe("server.table_memory_bytes", "Bytes of row arena, index and admission sketch, by table");
  metrics_->Describe("server.table_rows_evicted", "Rows evicted (idle or over the memory budget), by table");
  metrics_->Describe("server.table_admission_pending_pushes",
                     "Pushes to keys not yet admitted (counted, not applied), by table");
  // The budget and what counts against it, so an alert can fire before
  // pushes are refused (launch/docker/alerts.yml).
  metrics_->Describe("server.memory_budget_bytes", "Bytes of rows this server may hold (--max_server_memory_mb)");
  metrics_->Describe("server.live_bytes", "Bytes of rows held, as counted against server_memory_budget_bytes");
  metrics_->GetGauge("server.memory_budget_bytes")->Set(static_cast<double>(options_.limits.max_memory_bytes));
  metrics_->SetConstLabels(NodeLabels(JobIdFromClusterId(options_.link.cluster_id), "server", -1));
}

Server::~Server() {
  // The collector reads the tables; it must be gone before they are.
  if (collector_id_ >= 0) metrics_->RemoveCollector(collector_id_);
  StopThreads();
}

Status Server::Setup() {
  if (options_.tables.empty()) return InvalidArgument("server has no tables configured");
  if (options_.tables.size() > options_.max_tables) {
    return InvalidArgument(std::to_string(options_.tables.size()) + " tables declared, more than --max_tables=" +
                           std::to_string(options_.max_tables));
  }
  if (options_.handler_threads < 1) return InvalidArgument("need at least one handler thread");
  for (const auto& cfg : options_.tables) {
    ASSIGN_OR_RETURN(auto table, EmbeddingTable::Create(cfg));
    if (!state_.tables.emplace(cfg.id, std::move(table)).second) {
      return InvalidArgument("table id " + std::to_string(cfg.id) + " declared twice");
    }
  }
  collector_id_ = metrics_->AddCollector([this] { ExportTableMetrics(); });
  RETURN_IF_ERROR(SecureRouter());
  ASSIGN_OR_RETURN(endpoint_, BindSocket(router_, options_.bind_endpoint));
  // inproc names are per context; the address of this object keeps two
  // servers in one process (tests) apart.
  const std::string tag = std::to_string(reinterpret_cast<uintptr_t>(this));
  backend_endpoint_ = "inproc://ps-handlers-" + tag;
  RETURN_IF_ERROR(BindSocket(backend_, backend_endpoint_).status());
  RETURN_IF_ERROR(BindSocket(control_, "inproc://ps-control-" + tag).status());
  RETURN_IF_ERROR(ConnectSocket(control_client_, "inproc://ps-control-" + tag));
  link_.set_advertised_endpoint(Advertised(endpoint_));
  RETURN_IF_ERROR(SetupReplication());
  LOG(INFO) << "server listening on " << endpoint_ << " with " << options_.handler_threads
            << " handler threads and " << options_.tables.size() << " table(s); "
            << (options_.link.curve.enabled()
                    ? "CURVE on, " + std::to_string(options_.link.curve.allowed->size()) +
                          " keys allowed"
                    : std::string("CURVE off (plain text; peers must present the cluster password)"))
            << "; limits: " << options_.limits.max_keys_per_request << " keys per request, "
            << options_.limits.max_rows_per_table << " rows per table, "
            << (options_.limits.max_memory_bytes >> 20) << " MiB of rows";
  RETURN_IF_ERROR(link_.Join());
  metrics_->SetConstLabels(
      NodeLabels(JobIdFromClusterId(options_.link.cluster_id), "server", link_.rank()));
  state_.cluster_id = options_.link.cluster_id;
  state_.node_id = link_.node_id();
  state_.rank = link_.rank();
  // Ranks past the shard map's servers are standbys: they serve once the
  // scheduler promotes them (RestoreMsg).
  state_.serving = link_.rank() < link_.shard_map().num_servers();
  if (!state_.serving) LOG(INFO) << "standing by: the scheduler promotes this server when one fails";
  state_.null_store = options_.null_store;
  state_.limits = options_.limits;
  state_.limits.max_reply_bytes = options_.link.limits.max_message_bytes;
  handler_ = std::make_unique<RequestHandler>(&state_, metrics_);
  if (!state_.null_store) handler_->set_forwarder(forwarder_.get());
  ApplyShardMap();
  return Status::OK();
}

Status Server::SetupReplication() {
  for (const auto& cfg : options_.tables) {
    ASSIGN_OR_RETURN(auto table, EmbeddingTable::Create(cfg));
    state_.replica_tables.emplace(cfg.id, std::move(table));
  }
  ReplicaForwarderOptions fo;
  fo.timeout = options_.replica_timeout;
  fo.max_message_bytes = options_.link.limits.max_message_bytes;
  fo.limits = options_.link.limits;
  fo.curve = options_.link.curve;
  fo.member_password = MemberPassword();
  forwarder_ = std::make_unique<ReplicaForwarder>(ctx_, fo, metrics_);
  receiver_ = std::make_unique<ReplicaReceiver>(ctx_, options_.link.cluster_id, &state_.replica_tables, metrics_);
  ASSIGN_OR_RETURN(std::string bound, receiver_->Start(endpoint_, options_.link.curve,
                                                       options_.link.limits.max_message_bytes,
                                                       options_.link.limits, MemberPassword()));
  link_.set_replica_endpoint(Advertised(bound));
  return Status::OK();
}

void Server::ApplyShardMap() {
  const ShardMap& map = link_.shard_map();
  handler_->SetShardMap(map);
  forwarder_->SetMap(map, state_.rank);
  receiver_->SetMap(map, state_.rank);
}

Status Server::SecureRouter() {
  const security::CurveConfig& curve = options_.link.curve;
  if (!curve.enabled()) {
    // Without CURVE a connecting peer must still show it belongs to this
    // cluster, at the handshake: a stranger's messages (of up to
    // --max_message_bytes each) are then never read into memory.
    ASSIGN_OR_RETURN(zap_, security::ZapHandler::StartForPassword(ctx_, MemberPassword(), metrics_));
    RETURN_IF_ERROR(zap_->WatchHandshakes(router_, "server"));
    return security::SecureBindingSocket(router_, curve, MemberPassword());
  }
  ASSIGN_OR_RETURN(zap_, security::ZapHandler::Start(ctx_, curve.allowed,
                                                     curve.dir + "/" + security::kAllowListFile,
                                                     metrics_));
  RETURN_IF_ERROR(zap_->WatchHandshakes(router_, "server"));
  return security::SecureBindingSocket(router_, curve);
}

std::string Server::MemberPassword() const { return security::MemberPassword(options_.link.cluster_id); }

std::string Server::Advertised(const std::string& bound) const {
  // `bound` is "tcp://HOST:PORT" as ZeroMQ reports it.
  const size_t colon = bound.rfind(':');
  std::string host = bound.substr(6, colon - 6);
  const std::string port = bound.substr(colon + 1);
  if (!options_.advertise_host.empty()) {
    host = options_.advertise_host;
  } else if (host == "0.0.0.0") {
    // A wildcard address is not connectable; name this machine instead.
    char name[256] = {0};
    gethostname(name, sizeof(name) - 1);
    host = name;
  }
  return "tcp://" + host + ":" + port;
}

void Server::StartThreads() {
  if (options_.handler_threads == 1) {
    // One handler: let it own the workers' socket and skip the proxy hop.
    handler_threads_.emplace_back([this] { ServeSocket(router_); });
    return;
  }
  proxy_thread_ = std::thread([this] {
    try {
      zmq::proxy_steerable(router_, backend_, zmq::socket_ref(), control_);
    } catch (const zmq::error_t& e) {
      if (e.num() != ETERM) LOG(ERROR) << "request proxy stopped: " << e.what();
    }
  });
  for (int i = 0; i < options_.handler_threads; ++i) {
    handler_threads_.emplace_back([this] { HandlerLoop(); });
  }
}

void Server::StopThreads() {
  stopping_ = true;
  if (receiver_ != nullptr) receiver_->Stop();
  for (auto& t : handler_threads_) t.join();
  handler_threads_.clear();
  if (proxy_thread_.joinable()) {
    control_client_.send(zmq::str_buffer("TERMINATE"), zmq::send_flags::none);
    proxy_thread_.join();
  }
}

void Server::HandlerLoop() {
  zmq::socket_t socket(ctx_, zmq::socket_type::dealer);
  socket.set(zmq::sockopt::linger, 0);
  if (!ConnectSocket(socket, backend_endpoint_).ok()) {
    LOG(ERROR) << "handler cannot reach " << backend_endpoint_;
    return;
  }
  ServeSocket(socket);
}

void Server::ServeSocket(zmq::socket_t& socket) {
  while (!stopping_.load(std::memory_order_relaxed)) {
    Incoming in;
    // Requests arrive as [worker routing id][envelope][payloads].
    if (ReceiveMessage(socket, /*router=*/true, std::chrono::milliseconds(100),
                       options_.link.limits, &in)) {
      handler_->Handle(in, socket);
    }
  }
}

Status Server::Run() {
  RETURN_IF_ERROR(Setup());
  StartThreads();
  bool done = false;
  Status result;
  auto next_eviction = Clock::now() + options_.eviction_interval;
  auto next_rates = Clock::now();
  const auto heartbeat = [this] {
    wire::ServerStats stats = CollectStats();
    stats.leaving = StopSignalled();
    return wire::HeartbeatMsg{wire::Progress{}, stats};
  };
  while (!done && result.ok()) {
    zmq::pollitem_t item{link_.socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    if (StopSignalled() && !sigterm_logged_) {
      // SIGTERM: ask the scheduler (in the heartbeats) to be replaced, and
      // serve until it says so; a job that is ending (every node got the
      // signal: a Slurm time limit, `docker compose stop`) still needs this
      // server's rows for its final checkpoint and export.
      LOG(WARNING) << "SIGTERM: asking the scheduler to replace this server; serving until it does";
      sigterm_logged_ = true;
    }
    result = link_.TickWithHeartbeat(heartbeat);
    if (!result.ok() && link_.rejoin_needed()) result = RejoinScheduler();
    RenewServingLease();
    if (result.ok()) result = HandleEvents(&done);
    if (result.ok()) result = FinishBackgroundJob();
    if (Clock::now() >= next_eviction) {
      Evict();
      next_eviction = Clock::now() + options_.eviction_interval;
    }
    if (Clock::now() >= next_rates) {
      UpdateRates();
      next_rates = Clock::now() + std::chrono::seconds(1);
    }
  }
  // A checkpoint still being written finishes (or fails) before exit.
  if (background_.valid()) background_.wait();
  StopThreads();
  LogStats();
  return result;
}

void Server::RenewServingLease() {
  // The scheduler presumes this server dead no sooner than a full timeout
  // after it received the newest request it answered, which was sent at
  // answered_sent_at(); the lease ends a margin before that (a quarter of
  // the timeout, at most 500 ms), so a replacement never serves while this
  // server still acknowledges pushes.
  const auto timeout = link_.node_timeout();
  if (timeout.count() == 0) return;
  const Clock::time_point until = link_.answered_sent_at() + timeout - ServingLeaseMargin(timeout);
  state_.serving_until_ns.store(
      std::chrono::duration_cast<std::chrono::nanoseconds>(until.time_since_epoch()).count(),
      std::memory_order_release);
}

void Server::Evict() {
  for (auto& [id, table] : state_.replica_tables) table->EvictIdle();
  for (auto& [id, table] : state_.tables) {
    const size_t n = table->EvictIdle();
    if (n > 0) {
      LOG(INFO) << "table " << table->config().name << ": evicted " << n << " rows, "
                << table->size() << " remain";
    }
  }
}

void Server::LogStats() const {
  auto m = metrics_->Snapshot();
  LOG(INFO) << "server done: " << m["server.pull_requests"] << " pulls, "
            << m["server.push_requests"] << " pushes, " << m["server.malformed_messages"]
            << " malformed, " << m["server.rejected_requests"] << " rejected ("
            << m["server.limit_refusals"] << " over limits), " << m["server.duplicate_requests"]
            << " duplicates suppressed, " << m["security.refused_connections"]
            << " connections refused";
  if (m["server.replica_forwards"] + m["server.replica_pushes_applied"] > 0) {
    LOG(INFO) << "replication: " << m["server.replica_forwards"] << " pushes confirmed by our backup, "
              << m["server.replica_pushes_applied"] << " forwarded pushes applied to our copy, "
              << m["server.replica_unavailable_refusals"] << " pushes sent back while the backup was unavailable";
  }
  for (const auto& [id, table] : state_.tables) {
    const TableStats s = table->Stats();
    LOG(INFO) << "table " << table->config().name << ": " << s.rows << " rows, "
              << s.memory_bytes / (1 << 20) << " MiB, " << s.evicted << " evicted, "
              << s.pending_pushes << " pushes to keys awaiting admission";
  }
}

wire::ServerStats Server::CollectStats() const {
  wire::ServerStats stats;
  for (const auto& [id, table] : state_.tables) {
    const TableStats s = table->Stats();
    stats.tables.push_back(wire::TableStats{id, table->config().name, s.rows, s.memory_bytes,
                                            s.evicted, s.pending_pushes});
  }
  auto m = metrics_->Snapshot();
  stats.pulls = m["server.pull_requests"];
  stats.pushes = m["server.push_requests"];
  stats.keys_pulled = m["server.keys_pulled"];
  stats.keys_pushed = m["server.keys_pushed"];
  stats.rejected = m["server.rejected_requests"] + m["server.malformed_messages"];
  stats.resident_bytes = ResidentBytes();
  return stats;
}

void Server::ExportTableMetrics() {
  metrics_->GetGauge("server.live_bytes")->Set(static_cast<double>(state_.LiveBytes()));
  for (const auto& [id, table] : state_.tables) {
    const TableStats s = table->Stats();
    const Labels labels = {{"table", table->config().name}};
    metrics_->GetGauge("server.table_rows", labels)->Set(static_cast<double>(s.rows));
    metrics_->GetGauge("server.table_memory_bytes", labels)->Set(static_cast<double>(s.memory_bytes));
    metrics_->GetCounter("server.table_rows_evicted", labels)->AdvanceTo(s.evicted);
    metrics_->GetCounter("server.table_admission_pending_pushes", labels)->AdvanceTo(s.pending_pushes);
  }
}

void Server::UpdateRates() {
  auto m = metrics_->Snapshot();
  keys_pulled_rate_->Set(pulled_meter_.Update(m["server.keys_pulled"]));
  keys_pushed_rate_->Set(pushed_meter_.Update(m["server.keys_pushed"]));
}

Status Server::HandleEvents(bool* done) {
  while (auto ev = link_.NextEvent()) {
    if (auto* s = std::get_if<wire::ShutdownMsg>(&ev->body)) {
      LOG(INFO) << "shutdown from scheduler: " << (s->ok ? "job finished" : s->reason);
      *done = true;
    } else if (auto* e = std::get_if<wire::ExportModelMsg>(&ev->body)) {
      wire::ExportModelReplyMsg reply;
      Status st = ExportModel(e->directory, &reply.rows, &reply.path);
      if (!st.ok()) {
        link_.ReportFatal(st);
        return st;
      }
      RETURN_IF_ERROR(link_.Send(reply).status());
    } else if (auto* c = std::get_if<wire::CheckpointMsg>(&ev->body)) {
      RETURN_IF_ERROR(StartCheckpoint(*c));
    } else if (auto* r = std::get_if<wire::RestoreMsg>(&ev->body)) {
      RETURN_IF_ERROR(StartRestore(*r));
    } else if (auto* h = std::get_if<wire::HandoffMsg>(&ev->body)) {
      RETURN_IF_ERROR(StartHandoff(*h));
    } else if (std::holds_alternative<wire::ShardMapMsg>(ev->body)) {
      ApplyShardMap();
      LOG(INFO) << "shard map now at epoch " << link_.shard_map().epoch();
    }
  }
  return Status::OK();
}

static std::vector<EmbeddingTable*> TablesOf(const std::map<uint32_t, std::unique_ptr<EmbeddingTable>>& set) {
  // Table ids are 0..n-1 (the table spec numbers them in order).
  std::vector<EmbeddingTable*> tables(set.size(), nullptr);
  for (const auto& [id, table] : set) {
    if (id < tables.size()) tables[id] = table.get();
  }
  return tables;
}

std::vector<EmbeddingTable*> Server::TablesById() const { return TablesOf(state_.tables); }

Status Server::StartCheckpoint(const wire::CheckpointMsg& msg) {
  wire::CheckpointReplyMsg reply;
  reply.id = msg.id;
  auto refuse = [&](const std::string& why) {
    reply.ok = false;
    reply.written = true;
    reply.error = why;
    LOG(ERROR) << "checkpoint " << msg.id << " failed: " << why;
    return link_.Send(reply).status();
  };
  if (background_.valid()) return refuse("the server is still busy with " + background_what_);
  checkpoint::CutInfo info;
  info.checkpoint_id = msg.id;
  info.kind = msg.delta ? checkpoint::Kind::kDelta : checkpoint::Kind::kFull;
  info.base_id = msg.base_id;
  info.cluster_id = state_.cluster_id;
  info.server_rank = state_.rank;
  auto writer = checkpoint::Cut(TablesById(), info);
  if (!writer.ok()) return refuse(writer.status().ToString());
  RETURN_IF_ERROR(link_.Send(reply).status());  // the cut is set
  std::error_code ec;
  std::filesystem::create_directories(msg.directory, ec);
  reply.path = msg.directory + "/server-" + std::to_string(state_.rank) + ".ckpt";
  background_what_ = "checkpoint " + std::to_string(msg.id);
  background_ = std::async(std::launch::async,
                           [reply, w = std::shared_ptr<checkpoint::CheckpointWriter>(std::move(writer).value())]() mutable {
                             reply.written = true;
                             auto stats = w->Write(reply.path);
                             if (!stats.ok()) {
                               reply.ok = false;
                               reply.error = stats.status().ToString();
                               return wire::Body(reply);
                             }
                             reply.rows = stats->rows;
                             reply.bytes = stats->bytes;
                             reply.seconds = stats->seconds;
                             reply.stall_seconds = stats->max_request_stall_seconds;
                             return wire::Body(reply);
                           });
  return Status::OK();
}

Status Server::AwaitBackgroundJob() {
  if (background_.valid()) background_.wait();
  return FinishBackgroundJob();
}

Status Server::StartRestore(const wire::RestoreMsg& msg) {
  // A checkpoint of the old rank may be being written; its file must not
  // be mixed with the new rank's rows.
  RETURN_IF_ERROR(AwaitBackgroundJob());
  state_.serving = false;
  state_.rank = msg.rank;
  ApplyShardMap();
  metrics_->SetConstLabels(NodeLabels(JobIdFromClusterId(options_.link.cluster_id), "server", msg.rank));
  LOG(INFO) << "restoring as server " << msg.rank << " from checkpoint " << msg.checkpoint_id;
  background_what_ = "restore";
  const ShardMap map = link_.shard_map();
  background_ = std::async(std::launch::async, [this, msg, map] {
    wire::RestoreReplyMsg reply;
    auto fail = [&reply](const Status& st) {
      reply.ok = false;
      reply.error = st.ToString();
      return wire::Body(reply);
    };
    // No checkpoint yet: the rank's rows are their deterministic initial
    // values, which this server creates on first touch anyway.
    if (msg.chain.empty()) return wire::Body(reply);
    const uint32_t rank = msg.rank;
    auto stats = checkpoint::Restore(
        msg.chain, [&map, rank](uint32_t, uint64_t key) { return map.ServerOf(key) == rank; },
        TablesById());
    if (!stats.ok()) return fail(stats.status());
    LOG(INFO) << "loaded rank " << rank << "'s rows: " << stats->rows_loaded << " rows, "
              << stats->bytes_read << " bytes of files in " << stats->seconds << " s";
    reply.rows = stats->rows_loaded;
    reply.bytes = stats->bytes_read;
    reply.seconds = stats->seconds;
    if (!msg.replica_chain.empty()) {
      // The copy of the rows of the server this one backs up.
      const uint32_t primary = map.BackedUpBy(rank);
      auto copy = checkpoint::Restore(
          msg.replica_chain, [&map, primary](uint32_t, uint64_t key) { return map.ServerOf(key) == primary; },
          TablesOf(state_.replica_tables));
      if (!copy.ok()) return fail(copy.status().WithContext("copy of server " + std::to_string(primary)));
      reply.bytes += copy->bytes_read;
      reply.seconds += copy->seconds;
      LOG(INFO) << "loaded the copy of server " << primary << "'s rows: " << copy->rows_loaded << " rows, "
                << copy->bytes_read << " bytes of files in " << copy->seconds << " s";
    }
    if (!msg.dedup_file.empty()) {
      RequestDedup& applied = handler_->applied_ids();
      auto ids = ReadAppliedIds(msg.dedup_file, applied.window());
      if (!ids.ok()) return fail(ids.status());
      Status st = applied.ImportApplied(*ids);
      if (!st.ok()) return fail(st);
      LOG(INFO) << "took over the applied request ids of " << ids->size() << " workers";
    }
    return wire::Body(reply);
  });
  return Status::OK();
}

Status Server::StartHandoff(const wire::HandoffMsg& msg) {
  // An abandoned checkpoint's write finishes first: the tables allow one
  // cut at a time.
  RETURN_IF_ERROR(AwaitBackgroundJob());
  const ShardMap map = link_.shard_map();
  const uint32_t rank = state_.rank;
  const bool holds_copy = map.BackupOf(msg.rank) == rank;   // of the dead server's rows
  const bool backed_up = map.BackedUpBy(msg.rank) == rank;  // by the dead server
  LOG(INFO) << "handoff " << msg.id << " for dead server " << msg.rank << ": writing"
            << (holds_copy ? " our copy of its rows" : "") << (holds_copy && backed_up ? " and" : "")
            << (backed_up ? " our own rows" : "") << " to " << msg.directory;
  background_what_ = "handoff " + std::to_string(msg.id);
  // In the background: waiting for pushes in flight must not hold up the
  // heartbeats.
  background_ = std::async(std::launch::async, [this, msg, rank, holds_copy, backed_up] {
    const auto start = Clock::now();
    wire::HandoffReplyMsg reply;
    reply.id = msg.id;
    auto fail = [&reply, &msg](const Status& s) {
      reply.ok = false;
      reply.error = s.ToString();
      LOG(ERROR) << "handoff " << msg.id << ": " << reply.error;
      return wire::Body(reply);
    };
    auto write = [&](const std::vector<EmbeddingTable*>& tables, uint32_t of_rank,
                     const std::string& path) -> Status {
      checkpoint::CutInfo info;
      info.checkpoint_id = msg.id;
      info.kind = checkpoint::Kind::kFull;
      info.cluster_id = state_.cluster_id;
      info.server_rank = of_rank;
      ASSIGN_OR_RETURN(auto writer, checkpoint::Cut(tables, info));
      ASSIGN_OR_RETURN(auto stats, writer->Write(path));
      reply.rows += stats.rows;
      return Status::OK();
    };
    std::error_code ec;
    std::filesystem::create_directories(msg.directory, ec);
    if (ec) return fail(Unavailable("cannot create " + msg.directory + ": " + ec.message()));
    if (backed_up) {
      // Our copy died with it: stop changing our rows, so what we write is
      // exactly what its replacement's copy starts from.
      Status st = forwarder_->Suspend("server " + std::to_string(msg.rank) + " (our backup) died",
                                      options_.replica_timeout * 5);
      if (!st.ok()) return fail(st);
      reply.primary_file = msg.directory + "/server-" + std::to_string(rank) + ".ckpt";
      st = write(TablesById(), rank, reply.primary_file);
      if (!st.ok()) return fail(st);
    }
    if (holds_copy) {
      // Forwarded pushes ended with the dead server: the copy holds its
      // last acknowledged ones, and their request ids go with it.
      reply.replica_file = msg.directory + "/copy-of-server-" + std::to_string(msg.rank) + ".ckpt";
      reply.dedup_file = msg.directory + "/applied-ids-server-" + std::to_string(msg.rank) + ".bin";
      RequestDedup& applied = receiver_->applied();
      Status st = write(TablesOf(state_.replica_tables), msg.rank, reply.replica_file);
      if (st.ok()) st = WriteAppliedIds(reply.dedup_file, applied.window(), applied.ExportApplied());
      if (!st.ok()) return fail(st);
    }
    reply.seconds = std::chrono::duration<double>(Clock::now() - start).count();
    return wire::Body(reply);
  });
  return Status::OK();
}

Status Server::RejoinScheduler() {
  // A checkpoint being written belongs to the old scheduler's job state;
  // let it finish, its answer has nobody to go to.
  if (background_.valid()) background_.wait();
  if (background_.valid()) background_.get();
  const bool had_rows = state_.serving.load();
  const uint32_t old_rank = state_.rank;
  // The rank it serves: a promoted standby's differs from the one it joined with.
  RETURN_IF_ERROR(link_.Rejoin(/*has_state=*/had_rows, old_rank));
  if (had_rows && link_.rank() != old_rank) {
    // Another server took its rank first (a standby, or a restarted
    // process); its rows are of no use under another rank. Not a failure
    // of the job: it leaves as a replaced node does, and comes back as a
    // spare (the simulator, seed 1170).
    rank_taken_ = true;
    return Aborted(std::string(kReplaced) + ": the restarted scheduler gave server " + std::to_string(old_rank) +
                   "'s rank to another server (this one rejoined as " + std::to_string(link_.rank()) + ")");
  }
  state_.rank = link_.rank();
  state_.serving = link_.rank() < link_.shard_map().num_servers() && had_rows;
  // Pushes refused for a handoff the old scheduler asked for would stay
  // refused for good if the backup rejoined on its endpoint (the
  // simulator, seed 9283).
  if (forwarder_) forwarder_->EndSuspension();
  ApplyShardMap();
  LOG(INFO) << "rejoined as server " << link_.rank() << (state_.serving ? ", serving its rows" : ", standing by");
  return Status::OK();
}

Status Server::FinishBackgroundJob() {
  if (!background_.valid() ||
      background_.wait_for(std::chrono::seconds(0)) != std::future_status::ready) {
    return Status::OK();
  }
  wire::Body reply = background_.get();
  if (auto* c = std::get_if<wire::CheckpointReplyMsg>(&reply)) {
    if (c->ok) {
      LOG(INFO) << "checkpoint " << c->id << ": wrote " << c->rows << " rows, " << c->bytes
                << " bytes in " << c->seconds << " s to " << c->path << " (longest request stall "
                << c->stall_seconds * 1e3 << " ms)";
    } else {
      LOG(ERROR) << "checkpoint " << c->id << " failed: " << c->error;
    }
  } else if (auto* h = std::get_if<wire::HandoffReplyMsg>(&reply)) {
    if (h->ok) {
      LOG(INFO) << "handoff " << h->id << ": wrote " << h->rows << " rows in " << h->seconds << " s";
    } else {
      LOG(ERROR) << "handoff " << h->id << " failed: " << h->error;
    }
  } else if (auto* r = std::get_if<wire::RestoreReplyMsg>(&reply)) {
    if (!r->ok) {
      LOG(ERROR) << "restore failed: " << r->error;
      // A server without its rows must not serve; the scheduler decides.
    } else {
      LOG(INFO) << "restored " << r->rows << " rows (" << r->bytes << " bytes read) in "
                << r->seconds << " s; serving as server " << state_.rank.load();
      state_.serving = true;
    }
  }
  return link_.Send(reply).status();
}

Status Server::ExportModel(const std::string& directory, uint64_t* rows, std::string* path) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return Unavailable("cannot create " + directory + ": " + ec.message());
  *rows = 0;
  for (const auto& [id, table] : state_.tables) {
    *path = directory + "/table-" + std::to_string(id) + ".server-" + std::to_string(state_.rank.load()) +
            ".epsmodel";
    ModelShard shard = table->Export();
    *rows += shard.keys.size();
    RETURN_IF_ERROR(WriteModelShard(*path, shard));
    LOG(INFO) << "exported " << shard.keys.size() << " rows of table " << id << " to " << *path;
  }
  return Status::OK();
}

}  // namespace embedps::ps
