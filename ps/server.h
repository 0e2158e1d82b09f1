// The parameter server process logic: joins the cluster, serves pull and push
// requests for the virtual shards it owns, and exports its rows when the
// scheduler asks. Bad requests get an error reply and are counted; they never
// stop the server.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include <zmq.hpp>

#include "common/metrics.h"
#include "common/scheduler_link.h"
#include "common/status.h"
#include "common/transport.h"
#include "ps/embedding_table.h"

namespace embedps::ps {

struct ServerOptions {
  // Where workers connect; port 0 picks a free one.
  std::string bind_endpoint = "tcp://127.0.0.1:0";
  // Host workers should use to reach this server. Empty: the bound host, or
  // this machine's hostname when bound to a wildcard address.
  std::string advertise_host;
  SchedulerLinkOptions link;
  std::vector<TableConfig> tables;
};

class Server {
 public:
  // `metrics` is borrowed and must outlive the server.
  Server(zmq::context_t& ctx, ServerOptions options, MetricsRegistry* metrics);

  // Binds, joins the cluster, and serves until the scheduler sends shutdown
  // (OK) or something fatal happens (bind failure, scheduler lost).
  Status Run();

 private:
  Status Setup();
  std::string AdvertisedEndpoint() const;
  void HandleRequest(Incoming& in);
  void HandlePull(const zmq::message_t& from, wire::Message& msg);
  void HandlePush(const zmq::message_t& from, wire::Message& msg);
  // Validates table, epoch and ownership; on failure sends the error reply
  // and returns null.
  EmbeddingTable* Admit(const zmq::message_t& from, const wire::Message& msg, uint32_t table,
                        const std::vector<uint64_t>& keys);
  void ReplyError(const zmq::message_t& to, const wire::Header& request, wire::ErrorCode code,
                  const std::string& message);
  // Handles scheduler events; sets *done when the job is over.
  Status HandleEvents(bool* done);
  Status ExportModel(const std::string& directory, uint64_t* rows, std::string* path);

  ServerOptions options_;
  MetricsRegistry* metrics_;
  zmq::socket_t router_;
  SchedulerLink link_;
  std::map<uint32_t, std::unique_ptr<EmbeddingTable>> tables_;
  std::string endpoint_;

  Counter* pulls_;
  Counter* pushes_;
  Counter* keys_pulled_;
  Counter* keys_pushed_;
  Counter* malformed_;
  Counter* rejected_;
};

}  // namespace embedps::ps
