// Flags shared by every daemon (scheduler address, cluster token, timeouts,
// message limits, the HTTP endpoint, logs) and the process start-up every
// main() does. This is the only place besides the main.cc files that reads
// gflags.
#pragma once

#include <memory>
#include <string>

#include "common/http/http_server.h"
#include "common/metrics.h"
#include "common/scheduler_link.h"
#include "common/status.h"

namespace embedps {

// Parses flags (including --flagfile), sends glog to stderr (or to one file
// under --log_dir, whose path is printed), prefixes every log line with the
// job id, `role` and (once joined) rank, and installs glog's failure
// handler. `usage` is shown by --help.
void InitProcess(int* argc, char*** argv, const char* usage, wire::Role role);

// Scheduler-link options for a node of `role`, from the shared flags. Its
// on_joined hook puts the node's rank into the log prefix.
// InvalidArgument for missing or out-of-range values.
StatusOr<SchedulerLinkOptions> LinkOptionsFromFlags(wire::Role role);

// The decode limits from --max_message_bytes.
wire::DecodeLimits DecodeLimitsFromFlags();

// CURVE keys from --curve_dir and --curve_key (disabled when --curve_dir is
// empty): a node that `binds` loads the cluster secret and the allow-list,
// one that `connects` its own keypair.
StatusOr<security::CurveConfig> CurveConfigFromFlags(bool binds, bool connects);

// The cluster id from --cluster_token.
uint64_t ClusterIdFromFlags();

// The job id shown in logs, metrics and /status: the cluster id's first 8
// hex digits.
std::string JobIdFromFlags();

// The node's HTTP server from --http_port, --http_bind,
// --http_enable_mutations and --http_token_file, with GET /metrics serving
// `metrics`; not started, so callers may add routes. nullptr with
// --http_port=-1. InvalidArgument for bad values, mutations without a
// token file, or a bad token file.
// The server also answers /healthz and /readyz (ready once MarkNodeReady()).
StatusOr<std::unique_ptr<http::HttpServer>> HttpServerFromFlags(const MetricsRegistry* metrics);

// This process is ready for work (/readyz): a server or worker once the
// scheduler admitted it (SchedulerLinkOptionsFromFlags does it on joining),
// the scheduler once it listens.
void MarkNodeReady();
bool NodeReady();

// Starts `server` (nothing when null), logs its URL and writes it to
// --http_url_file. Returns the URL, or "" when there is no server.
StatusOr<std::string> StartHttpServer(http::HttpServer* server);

// HttpServerFromFlags() then StartHttpServer(), for nodes that serve only
// /metrics; *url receives the URL ("" with --http_port=-1).
StatusOr<std::unique_ptr<http::HttpServer>> StartMetricsServerFromFlags(
    const MetricsRegistry* metrics, std::string* url);

// Prints "<program>: error: <message>" as one line and returns the exit
// code: 2 for a usage error (IsUsageError: a bad flag), 1 otherwise.
int ExitWithError(const char* program, const Status& status);

}  // namespace embedps
