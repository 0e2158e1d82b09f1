// Plain C++ views of the wire messages. Only common/wire/codec.cc touches the
// Cap'n Proto generated types; everything else speaks these structs.
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include <zmq.hpp>

#include "common/partition.h"
#include "common/shard_map.h"

namespace embedps::wire {

// "EPS1": the first field of every envelope; anything else is not a peer.
inline constexpr uint32_t kWireMagic = 0x45505331;
// Wire-protocol version, carried by every envelope and checked on every
// receive: a peer speaking another version is refused. Version 1 was the
// unversioned format (its envelopes read as version 0); bump this whenever
// the meaning of a message changes.
inline constexpr uint16_t kWireVersion = 4;
// Largest row dimension a message may carry.
inline constexpr uint32_t kMaxWireDim = 1024;

enum class Role : uint8_t { kUnknown = 0, kScheduler, kServer, kWorker, kClient };
enum class DataType : uint8_t { kFloat32 = 0, kUint64 };
enum class ErrorCode : uint16_t {
  kUnknown = 0,
  kMalformed,
  kTooLarge,
  kWrongCluster,
  kUnknownTable,
  kDimMismatch,
  kBadValues,
  kStaleEpoch,
  kNotOwner,
  kNotAdmitted,
  kAborted,
  kInternal,
  kVersionMismatch,
  kLimitExceeded,
  kUnavailable,  // not applied for now; the sender tries again shortly
  kReplaced,     // presumed dead and replaced: the node must leave the job
};
// Largest ErrorCode value, for range checks when decoding.
inline constexpr uint16_t kMaxErrorCode = static_cast<uint16_t>(ErrorCode::kReplaced);
const char* RoleName(Role role);
const char* ErrorCodeName(ErrorCode code);

struct Header {
  uint64_t cluster_id = 0;
  uint32_t sender = 0;
  uint64_t request_id = 0;
  uint64_t epoch = 0;
  // Protocol version the message is (or was) encoded with; only tests set
  // another value, to play a peer from another release.
  uint16_t version = kWireVersion;
};

struct Progress {
  uint64_t rows = 0;
  double loss_sum = 0;
  uint64_t lines_read = 0;
  uint64_t bad_lines = 0;
  // Workers: the lease being trained (-1: none), its pass, and the lines of
  // it (counted from the partition's start) whose pushes are acknowledged.
  int64_t lease_partition = -1;
  uint32_t lease_pass = 0;
  uint64_t lease_lines = 0;
  // Workers: batches trained whose pushes are all acknowledged (the SSP clock).
  uint64_t clock = 0;
  // Workers: batches that pulled the dense tables (--dense_pull_every).
  uint64_t dense_pulls = 0;
  // Workers: the first malformed line read, "FILE:LINE: reason" (empty: none).
  std::string first_bad_line;
  // Workers: header and blank lines read (neither examples nor malformed).
  uint64_t skipped_lines = 0;
};

struct RegisterMsg {
  Role role = Role::kUnknown;
  std::string endpoint;
  std::string host;
  uint32_t pid = 0;
  std::string metrics_url;  // http://HOST:PORT, or empty
  // Rejoining after the scheduler restarted: the rank held before (-1: a
  // new node) and, for servers, whether it still holds that rank's rows.
  int32_t previous_rank = -1;
  bool has_state = false;
  std::string replica_endpoint;  // servers: where forwarded pushes arrive
};
struct RegisterReplyMsg {
  uint32_t node_id = 0;
  uint32_t rank = 0;
  uint32_t num_servers = 0;
  uint32_t num_workers = 0;
  // How long the scheduler waits for a silent node before it presumes it
  // dead (and replaces a server): a server serves only while it has heard
  // from the scheduler within this, less a margin (0: unknown, no limit).
  uint32_t node_timeout_ms = 0;
};
struct ShardMapMsg {
  ShardMap map;
};
// One table's size, as a server reports it in its heartbeats.
struct TableStats {
  uint32_t table = 0;
  std::string name;
  uint64_t rows = 0;
  uint64_t memory_bytes = 0;
  uint64_t evicted = 0;
  uint64_t pending_pushes = 0;
};
struct ServerStats {
  std::vector<TableStats> tables;
  uint64_t pulls = 0;
  uint64_t pushes = 0;
  uint64_t keys_pulled = 0;
  uint64_t keys_pushed = 0;
  uint64_t rejected = 0;
  bool leaving = false;  // SIGTERM: replace this server unless the job is ending
  // The process's resident memory (RSS), what it really uses; the tables'
  // memory_bytes is what they reserved. 0: unknown.
  uint64_t resident_bytes = 0;
};
struct HeartbeatMsg {
  Progress progress;                  // workers
  std::optional<ServerStats> server;  // servers
};
// Payload 0: num_keys uint64 keys.
struct PullMsg {
  uint32_t table = 0;
  uint32_t num_keys = 0;
  bool read_only = false;  // evaluation: create no rows, mark none as used
};
// Payload 0: num_keys * dim float32 values, in the order of the pulled keys.
struct PullReplyMsg {
  uint32_t table = 0;
  uint32_t num_keys = 0;
  uint32_t dim = 0;
  DataType dtype = DataType::kFloat32;
};
// Payload 0: keys; payload 1: num_keys * dim float32 gradients.
struct PushMsg {
  uint32_t table = 0;
  uint32_t num_keys = 0;
  uint32_t dim = 0;
  DataType dtype = DataType::kFloat32;
};
// A push whose reply is a PullReplyMsg with the rows after the update.
// Same payload frames as PushMsg.
struct PushPullMsg {
  uint32_t table = 0;
  uint32_t num_keys = 0;
  uint32_t dim = 0;
  DataType dtype = DataType::kFloat32;
};
struct PushReplyMsg {
  uint32_t table = 0;
  uint32_t num_keys = 0;
};
struct BarrierMsg {
  std::string name;
};
struct BarrierReplyMsg {
  std::string name;
};
struct ErrorMsg {
  ErrorCode code = ErrorCode::kUnknown;
  std::string message;
  bool fatal = false;
};
struct ShutdownMsg {
  bool ok = true;
  std::string reason;
};
struct PartitionRequestMsg {
  int64_t finished_partition = -1;
  Progress progress;
};
struct PartitionGrantMsg {
  bool has_partition = false;
  Partition partition;  // skip_lines set for a resumed lease
  uint32_t pass = 0;
  // !has_partition: ask again after this long (leases held by others may
  // come back if their workers die); 0: no work is left, the worker is done.
  uint32_t wait_ms = 0;
};
struct WorkerDoneMsg {
  Progress progress;
  bool leaving = false;  // SIGTERM: the worker exits now instead of awaiting the shutdown
};
struct ExportModelMsg {
  std::string directory;
};
struct ExportModelReplyMsg {
  uint64_t rows = 0;
  std::string path;
};
// Scheduler -> workers: stop after the current batch, flush, report done.
struct StopTrainingMsg {
  std::string reason;
};

struct CheckpointMsg {
  uint64_t id = 0;
  bool delta = false;
  uint64_t base_id = 0;
  std::string directory;
};
struct CheckpointReplyMsg {
  uint64_t id = 0;
  bool written = false;  // false: cut set; true: file written, or failed
  bool ok = true;
  std::string error;
  std::string path;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  double seconds = 0;
  double stall_seconds = 0;
};
// Scheduler -> workers: pause at the next batch boundary with every push
// acknowledged, answer PausedMsg, wait for ResumeTrainingMsg.
struct PauseTrainingMsg {
  uint64_t checkpoint_id = 0;
};
struct PausedMsg {
  uint64_t checkpoint_id = 0;
  Progress progress;
};
struct ResumeTrainingMsg {
  uint64_t checkpoint_id = 0;
};
// Scheduler -> server: become `rank` and load its rows from a chain of
// checkpoint files (chain[0] a full checkpoint's, then each delta's).
struct RestoreMsg {
  uint32_t rank = 0;
  uint64_t checkpoint_id = 0;
  std::vector<std::vector<std::string>> chain;
  // --replicas=2: the chain of server (rank-1)'s rows for this server's copy
  // of them, and a file of request ids already applied to the rows.
  std::vector<std::vector<std::string>> replica_chain;
  std::string dedup_file;
};
struct RestoreReplyMsg {
  bool ok = true;
  std::string error;
  uint64_t rows = 0;
  uint64_t bytes = 0;
  double seconds = 0;
};

// Bounded staleness (--max_staleness): worker -> scheduler at every tick of
// its clock, and with `waiting` while it is blocked on the bound (answered at
// once with a ClockUpdateMsg).
struct ClockReportMsg {
  uint64_t clock = 0;
  bool waiting = false;
};
// Scheduler -> clock-reporting workers: the minimum clock over the live,
// unfinished workers that hold a lease.
struct ClockUpdateMsg {
  uint64_t min_clock = 0;
};

// --replicas=2, scheduler -> the neighbours of dead server `rank`: write
// what you hold of its rows (the backup: its copy and the applied request
// ids; the server it backed up: stop applying pushes, write your rows).
struct HandoffMsg {
  uint64_t id = 0;
  uint32_t rank = 0;
  std::string directory;
};
struct HandoffReplyMsg {
  uint64_t id = 0;
  bool ok = true;
  std::string error;
  std::string replica_file;
  std::string dedup_file;
  std::string primary_file;
  uint64_t rows = 0;
  double seconds = 0;
};
// Primary -> backup, under the worker's envelope; payloads: keys, gradients.
struct ReplicaPushMsg {
  uint32_t table = 0;
  uint32_t num_keys = 0;
  uint32_t dim = 0;
  uint32_t primary_rank = 0;
};
struct ReplicaAckMsg {
  bool ok = true;
  std::string error;
};
// Periodic evaluation: scheduler -> one worker, which scores the test set
// against the servers' current rows and answers with an EvalResultMsg.
struct EvaluateMsg {
  uint64_t id = 0;
  uint64_t max_rows = 0;  // 0: every test row
  bool final = false;     // after training ended, before the export
};
struct EvalResultMsg {
  uint64_t id = 0;
  bool ok = true;
  std::string error;
  uint64_t test_rows = 0;
  double auc = 0;
  double logloss = 0;
  double rmse = 0;
  double mae = 0;
  double seconds = 0;
};

using Body = std::variant<RegisterMsg, RegisterReplyMsg, ShardMapMsg, HeartbeatMsg, PullMsg,
                          PullReplyMsg, PushMsg, PushReplyMsg, BarrierMsg, BarrierReplyMsg,
                          ErrorMsg, ShutdownMsg, PartitionRequestMsg, PartitionGrantMsg,
                          WorkerDoneMsg, ExportModelMsg, ExportModelReplyMsg, PushPullMsg,
                          StopTrainingMsg, CheckpointMsg, CheckpointReplyMsg, PauseTrainingMsg,
                          PausedMsg, ResumeTrainingMsg, RestoreMsg, RestoreReplyMsg,
                          ClockReportMsg, ClockUpdateMsg, HandoffMsg, HandoffReplyMsg,
                          ReplicaPushMsg, ReplicaAckMsg, EvaluateMsg, EvalResultMsg>;

// Short name of the body's type, for logs ("pull", "push", ...).
const char* BodyName(const Body& body);

// A decoded message: header, body and the raw payload frames it owns.
struct Message {
  Header header;
  Body body;
  std::vector<zmq::message_t> payloads;
};

}  // namespace embedps::wire
