#include "ps/server.h"

#include <unistd.h>

#include <filesystem>

#include <glog/logging.h>

#include "common/wire/codec.h"

namespace embedps::ps {

Server::Server(zmq::context_t& ctx, ServerOptions options, MetricsRegistry* metrics)
    : options_(std::move(options)),
      metrics_(metrics),
      router_(ctx, zmq::socket_type::router),
      link_(ctx, options_.link) {
  ConfigureSocket(router_, options_.link.limits.max_message_bytes);
  pulls_ = metrics_->GetCounter("server.pull_requests");
  pushes_ = metrics_->GetCounter("server.push_requests");
  keys_pulled_ = metrics_->GetCounter("server.keys_pulled");
  keys_pushed_ = metrics_->GetCounter("server.keys_pushed");
  malformed_ = metrics_->GetCounter("server.malformed_messages");
  rejected_ = metrics_->GetCounter("server.rejected_requests");
}

Status Server::Setup() {
  if (options_.tables.empty()) return InvalidArgument("server has no tables configured");
  for (const auto& cfg : options_.tables) {
    ASSIGN_OR_RETURN(auto table, EmbeddingTable::Create(cfg));
    if (!tables_.emplace(cfg.id, std::move(table)).second) {
      return InvalidArgument("table id " + std::to_string(cfg.id) + " declared twice");
    }
  }
  ASSIGN_OR_RETURN(endpoint_, BindSocket(router_, options_.bind_endpoint));
  link_.set_advertised_endpoint(AdvertisedEndpoint());
  LOG(INFO) << "server listening on " << endpoint_;
  return link_.Join();
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

Status Server::Run() {
  RETURN_IF_ERROR(Setup());
  zmq::pollitem_t items[] = {{router_.handle(), 0, ZMQ_POLLIN, 0},
                             {link_.socket().handle(), 0, ZMQ_POLLIN, 0}};
  bool done = false;
  while (!done) {
    zmq::poll(items, 2, std::chrono::milliseconds(100));
    // Drain a bounded burst of requests so control traffic is never starved.
    for (int i = 0; i < 256; ++i) {
      Incoming in;
      if (!ReceiveMessage(router_, /*router=*/true, std::chrono::milliseconds(0),
                          options_.link.limits, &in)) {
        break;
      }
      HandleRequest(in);
    }
    RETURN_IF_ERROR(link_.Tick(wire::Progress{}));
    RETURN_IF_ERROR(HandleEvents(&done));
  }
  LOG(INFO) << "server done: " << pulls_->Get() << " pulls, " << pushes_->Get() << " pushes, "
            << malformed_->Get() << " malformed, " << rejected_->Get() << " rejected";
  return Status::OK();
}

void Server::HandleRequest(Incoming& in) {
  if (!in.status.ok()) {
    malformed_->Add();
    LOG_EVERY_N(WARNING, 100) << "malformed request (" << in.bytes
                              << " bytes): " << in.status.message();
    const auto code = in.status.code() == StatusCode::kResourceExhausted
                          ? wire::ErrorCode::kTooLarge
                          : wire::ErrorCode::kMalformed;
    ReplyError(in.routing_id, wire::Header{}, code, in.status.message());
    return;
  }
  wire::Message& msg = in.message;
  if (msg.header.cluster_id != options_.link.cluster_id) {
    rejected_->Add();
    ReplyError(in.routing_id, msg.header, wire::ErrorCode::kWrongCluster,
               "request from another cluster refused");
    return;
  }
  if (std::holds_alternative<wire::PullMsg>(msg.body)) {
    HandlePull(in.routing_id, msg);
  } else if (std::holds_alternative<wire::PushMsg>(msg.body)) {
    HandlePush(in.routing_id, msg);
  } else {
    rejected_->Add();
    ReplyError(in.routing_id, msg.header, wire::ErrorCode::kMalformed,
               std::string("servers do not accept ") + wire::BodyName(msg.body));
  }
}

EmbeddingTable* Server::Admit(const zmq::message_t& from, const wire::Message& msg,
                              uint32_t table, const std::vector<uint64_t>& keys) {
  auto it = tables_.find(table);
  if (it == tables_.end()) {
    rejected_->Add();
    ReplyError(from, msg.header, wire::ErrorCode::kUnknownTable,
               "unknown table " + std::to_string(table));
    return nullptr;
  }
  const ShardMap& map = link_.shard_map();
  if (msg.header.epoch != map.epoch()) {
    rejected_->Add();
    ReplyError(from, msg.header, wire::ErrorCode::kStaleEpoch,
               "request routed with shard map epoch " + std::to_string(msg.header.epoch) +
                   ", current is " + std::to_string(map.epoch()));
    return nullptr;
  }
  for (uint64_t key : keys) {
    if (map.ServerOf(key) != link_.rank()) {
      rejected_->Add();
      ReplyError(from, msg.header, wire::ErrorCode::kNotOwner,
                 "key " + std::to_string(key) + " is not owned by server " +
                     std::to_string(link_.rank()));
      return nullptr;
    }
  }
  return it->second.get();
}

void Server::HandlePull(const zmq::message_t& from, wire::Message& msg) {
  const auto& pull = std::get<wire::PullMsg>(msg.body);
  std::vector<uint64_t> keys;
  wire::CopyPayload(msg.payloads[0], &keys);
  EmbeddingTable* table = Admit(from, msg, pull.table, keys);
  if (table == nullptr) return;
  const uint32_t dim = table->config().dim;
  std::vector<float> values(keys.size() * dim);
  table->Pull(keys.data(), keys.size(), values.data());
  pulls_->Add();
  keys_pulled_->Add(keys.size());
  std::vector<zmq::message_t> payloads;
  payloads.push_back(wire::PayloadFromVector(std::move(values)));
  wire::Header reply = msg.header;
  reply.sender = link_.node_id();
  wire::PullReplyMsg body{pull.table, pull.num_keys, dim, wire::DataType::kFloat32};
  (void)SendMessage(router_, reply, body, std::move(payloads), &from);
}

void Server::HandlePush(const zmq::message_t& from, wire::Message& msg) {
  const auto& push = std::get<wire::PushMsg>(msg.body);
  std::vector<uint64_t> keys;
  wire::CopyPayload(msg.payloads[0], &keys);
  EmbeddingTable* table = Admit(from, msg, push.table, keys);
  if (table == nullptr) return;
  if (push.dim != table->config().dim) {
    rejected_->Add();
    ReplyError(from, msg.header, wire::ErrorCode::kDimMismatch,
               "push has dim " + std::to_string(push.dim) + ", table " +
                   std::to_string(push.table) + " has dim " +
                   std::to_string(table->config().dim));
    return;
  }
  std::vector<float> grads;
  wire::CopyPayload(msg.payloads[1], &grads);
  Status st = table->Push(keys.data(), keys.size(), grads.data());
  if (!st.ok()) {
    rejected_->Add();
    LOG_EVERY_N(WARNING, 100) << "rejected push from node " << msg.header.sender << ": "
                              << st.message();
    ReplyError(from, msg.header, wire::ErrorCode::kBadValues, st.message());
    return;
  }
  pushes_->Add();
  keys_pushed_->Add(keys.size());
  wire::Header reply = msg.header;
  reply.sender = link_.node_id();
  (void)SendMessage(router_, reply, wire::PushReplyMsg{push.table, push.num_keys}, {}, &from);
}

void Server::ReplyError(const zmq::message_t& to, const wire::Header& request,
                        wire::ErrorCode code, const std::string& message) {
  wire::Header reply = request;
  reply.cluster_id = options_.link.cluster_id;
  reply.sender = link_.node_id();
  (void)SendMessage(router_, reply, wire::ErrorMsg{code, message, false}, {}, &to);
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
    } else if (std::holds_alternative<wire::ShardMapMsg>(ev->body)) {
      LOG(INFO) << "shard map now at epoch " << link_.shard_map().epoch();
    }
  }
  return Status::OK();
}

Status Server::ExportModel(const std::string& directory, uint64_t* rows, std::string* path) {
  std::error_code ec;
  std::filesystem::create_directories(directory, ec);
  if (ec) return Unavailable("cannot create " + directory + ": " + ec.message());
  *rows = 0;
  for (const auto& [id, table] : tables_) {
    *path = directory + "/table-" + std::to_string(id) + ".server-" +
            std::to_string(link_.rank()) + ".epsmodel";
    ModelShard shard = table->Export();
    *rows += shard.keys.size();
    RETURN_IF_ERROR(WriteModelShard(*path, shard));
    LOG(INFO) << "exported " << shard.keys.size() << " rows of table " << id << " to " << *path;
  }
  return Status::OK();
}

}  // namespace embedps::ps
