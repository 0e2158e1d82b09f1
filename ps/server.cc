#include "ps/server.h"

#include <unistd.h>

#include <algorithm>
#include <filesystem>

#include <glog/logging.h>

#include "common/security/socket_security.h"
#include "ps/checkpoint/checkpoint.h"

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
  link_.set_advertised_endpoint(AdvertisedEndpoint());
  LOG(INFO) << "server listening on " << endpoint_ << " with " << options_.handler_threads
            << " handler threads and " << options_.tables.size() << " table(s); "
            << (options_.link.curve.enabled()
                    ? "CURVE on, " + std::to_string(options_.link.curve.allowed->size()) +
                          " keys allowed"
                    : std::string("CURVE off (plain text)"))
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
  handler_->SetShardMap(link_.shard_map());
  return Status::OK();
}

Status Server::SecureRouter() {
  const security::CurveConfig& curve = options_.link.curve;
  if (!curve.enabled()) return Status::OK();
  ASSIGN_OR_RETURN(zap_, security::ZapHandler::Start(ctx_, curve.allowed,
                                                     curve.dir + "/" + security::kAllowListFile,
                                                     metrics_));
  RETURN_IF_ERROR(zap_->WatchHandshakes(router_, "server"));
  return security::SecureBindingSocket(router_, curve);
}

std::string Server::AdvertisedEndpoint() const {
  // endpoint_ is "tcp://HOST:PORT" as ZeroMQ reports it.
  const size_t colon = endpoint_.rfind(':');
  std::string host = endpoint_.substr(6, colon - 6);
  const std::string port = endpoint_.substr(colon + 1);
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
  const auto heartbeat = [this] { return wire::HeartbeatMsg{wire::Progress{}, CollectStats()}; };
  while (!done && result.ok()) {
    zmq::pollitem_t item{link_.socket().handle(), 0, ZMQ_POLLIN, 0};
    zmq::poll(&item, 1, std::chrono::milliseconds(100));
    result = link_.TickWithHeartbeat(heartbeat);
    if (!result.ok() && link_.rejoin_needed()) result = RejoinScheduler();
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

void Server::Evict() {
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
  return stats;
}

void Server::ExportTableMetrics() {
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
    } else if (std::holds_alternative<wire::ShardMapMsg>(ev->body)) {
      handler_->SetShardMap(link_.shard_map());
      LOG(INFO) << "shard map now at epoch " << link_.shard_map().epoch();
    }
  }
  return Status::OK();
}

std::vector<EmbeddingTable*> Server::TablesById() const {
  // Table ids are 0..n-1 (the table spec numbers them in order).
  std::vector<EmbeddingTable*> tables(state_.tables.size(), nullptr);
  for (const auto& [id, table] : state_.tables) {
    if (id < tables.size()) tables[id] = table.get();
  }
  return tables;
}

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

Status Server::StartRestore(const wire::RestoreMsg& msg) {
  if (background_.valid()) {
    // A checkpoint of the old rank is being written; its file must not be
    // mixed with the new rank's rows.
    background_.wait();
    RETURN_IF_ERROR(FinishBackgroundJob());
  }
  state_.serving = false;
  state_.rank = msg.rank;
  metrics_->SetConstLabels(NodeLabels(JobIdFromClusterId(options_.link.cluster_id), "server", msg.rank));
  LOG(INFO) << "restoring as server " << msg.rank << " from checkpoint " << msg.checkpoint_id;
  background_what_ = "restore";
  const ShardMap map = link_.shard_map();
  background_ = std::async(std::launch::async, [this, msg, map] {
    wire::RestoreReplyMsg reply;
    // No checkpoint yet: the rank's rows are their deterministic initial
    // values, which this server creates on first touch anyway.
    if (msg.chain.empty()) return wire::Body(reply);
    const uint32_t rank = msg.rank;
    auto stats = checkpoint::Restore(
        msg.chain, [&map, rank](uint32_t, uint64_t key) { return map.ServerOf(key) == rank; },
        TablesById());
    if (!stats.ok()) {
      reply.ok = false;
      reply.error = stats.status().ToString();
      return wire::Body(reply);
    }
    reply.rows = stats->rows_loaded;
    reply.bytes = stats->bytes_read;
    reply.seconds = stats->seconds;
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
  RETURN_IF_ERROR(link_.Rejoin(/*has_state=*/had_rows));
  if (had_rows && link_.rank() != old_rank) {
    return FailedPrecondition("rejoined the restarted scheduler as server " + std::to_string(link_.rank()) +
                              " but holds the rows of server " + std::to_string(old_rank) +
                              "; restart this server");
  }
  state_.rank = link_.rank();
  state_.serving = link_.rank() < link_.shard_map().num_servers() && had_rows;
  handler_->SetShardMap(link_.shard_map());
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
