#include "common/wire/codec.h"

#include <capnp/message.h>
#include <capnp/serialize.h>
#include <kj/exception.h>

#include <string>

#include "common/wire/messages.capnp.h"

namespace embedps::wire {
namespace {

namespace cp = ::embedps::wire::capnp;

template <class... Ts>
struct Overloaded : Ts... {
  using Ts::operator()...;
};
template <class... Ts>
Overloaded(Ts...) -> Overloaded<Ts...>;

void SetProgress(cp::Progress::Builder b, const Progress& p) {
  b.setRows(p.rows);
  b.setLossSum(p.loss_sum);
  b.setLinesRead(p.lines_read);
  b.setBadLines(p.bad_lines);
  b.setLeasePartition(p.lease_partition);
  b.setLeasePass(p.lease_pass);
  b.setLeaseLines(p.lease_lines);
  b.setClock(p.clock);
  b.setDensePulls(p.dense_pulls);
  b.setFirstBadLine(p.first_bad_line);
  b.setSkippedLines(p.skipped_lines);
}

Progress GetProgress(cp::Progress::Reader r) {
  return Progress{r.getRows(),           r.getLossSum(),   r.getLinesRead(), r.getBadLines(),
                  r.getLeasePartition(), r.getLeasePass(), r.getLeaseLines(), r.getClock(),
                  r.getDensePulls(),     r.getFirstBadLine(), r.getSkippedLines()};
}

void EncodeHeartbeat(cp::Heartbeat::Builder b, const HeartbeatMsg& m) {
  SetProgress(b.initProgress(), m.progress);
  if (!m.server) return;
  auto s = b.initServer();
  s.setPulls(m.server->pulls);
  s.setPushes(m.server->pushes);
  s.setKeysPulled(m.server->keys_pulled);
  s.setKeysPushed(m.server->keys_pushed);
  s.setRejected(m.server->rejected);
  s.setLeaving(m.server->leaving);
  s.setResidentBytes(m.server->resident_bytes);
  auto tables = s.initTables(static_cast<unsigned>(m.server->tables.size()));
  for (size_t i = 0; i < m.server->tables.size(); ++i) {
    const TableStats& t = m.server->tables[i];
    auto out = tables[i];
    out.setTable(t.table);
    out.setName(t.name);
    out.setRows(t.rows);
    out.setMemoryBytes(t.memory_bytes);
    out.setEvicted(t.evicted);
    out.setPendingPushes(t.pending_pushes);
  }
}

HeartbeatMsg DecodeHeartbeat(cp::Heartbeat::Reader r) {
  HeartbeatMsg m{GetProgress(r.getProgress()), std::nullopt};
  if (!r.hasServer()) return m;
  auto s = r.getServer();
  ServerStats stats;
  stats.pulls = s.getPulls();
  stats.pushes = s.getPushes();
  stats.keys_pulled = s.getKeysPulled();
  stats.keys_pushed = s.getKeysPushed();
  stats.rejected = s.getRejected();
  stats.leaving = s.getLeaving();
  stats.resident_bytes = s.getResidentBytes();
  for (auto t : s.getTables()) {
    stats.tables.push_back(TableStats{t.getTable(), t.getName(), t.getRows(), t.getMemoryBytes(),
                                      t.getEvicted(), t.getPendingPushes()});
  }
  m.server = std::move(stats);
  return m;
}

// pullReply, push and pushPull share one header shape: table, key count,
// row dimension and value type.
template <typename Builder, typename Msg>
void SetRowsHeader(Builder r, const Msg& m) {
  r.setTable(m.table);
  r.setNumKeys(m.num_keys);
  r.setDim(m.dim);
  r.setDtype(static_cast<cp::DataType>(m.dtype));
}

void SetChain(::capnp::List<cp::FileList>::Builder out, const std::vector<std::vector<std::string>>& chain) {
  for (size_t i = 0; i < chain.size(); ++i) {
    auto files = out[i].initFiles(static_cast<unsigned>(chain[i].size()));
    for (size_t j = 0; j < chain[i].size(); ++j) files.set(j, chain[i][j]);
  }
}

std::vector<std::vector<std::string>> GetChain(::capnp::List<cp::FileList>::Reader in) {
  std::vector<std::vector<std::string>> chain;
  for (auto level : in) {
    auto& files = chain.emplace_back();
    for (auto f : level.getFiles()) files.emplace_back(f.cStr());
  }
  return chain;
}

void EncodeBody(cp::Envelope::Body::Builder b, const Body& body) {
  std::visit(
      Overloaded{
          [&](const RegisterMsg& m) {
            auto r = b.initRegister();
            r.setRole(static_cast<cp::Role>(m.role));
            r.setEndpoint(m.endpoint);
            r.setHost(m.host);
            r.setPid(m.pid);
            if (!m.metrics_url.empty()) r.setMetricsUrl(m.metrics_url);
            r.setPreviousRank(m.previous_rank);
            r.setHasState(m.has_state);
            if (!m.replica_endpoint.empty()) r.setReplicaEndpoint(m.replica_endpoint);
          },
          [&](const RegisterReplyMsg& m) {
            auto r = b.initRegisterReply();
            r.setNodeId(m.node_id);
            r.setRank(m.rank);
            r.setNumServers(m.num_servers);
            r.setNumWorkers(m.num_workers);
            r.setNodeTimeoutMs(m.node_timeout_ms);
          },
          [&](const ShardMapMsg& m) {
            auto r = b.initShardMap();
            r.setEpoch(m.map.epoch());
            r.setNumVirtualShards(m.map.num_virtual_shards());
            auto owners = r.initOwners(m.map.owners().size());
            for (size_t i = 0; i < m.map.owners().size(); ++i) owners.set(i, m.map.owners()[i]);
            auto eps = r.initServerEndpoints(m.map.endpoints().size());
            for (size_t i = 0; i < m.map.endpoints().size(); ++i) eps.set(i, m.map.endpoints()[i]);
            r.setReplicas(m.map.replicas());
            const auto& reps = m.map.replica_endpoints();
            auto reps_out = r.initReplicaEndpoints(static_cast<unsigned>(reps.size()));
            for (size_t i = 0; i < reps.size(); ++i) reps_out.set(i, reps[i]);
          },
          [&](const HeartbeatMsg& m) { EncodeHeartbeat(b.initHeartbeat(), m); },
          [&](const PullMsg& m) {
            auto r = b.initPull();
            r.setTable(m.table);
            r.setNumKeys(m.num_keys);
            r.setReadOnly(m.read_only);
          },
          [&](const PullReplyMsg& m) { SetRowsHeader(b.initPullReply(), m); },
          [&](const PushMsg& m) { SetRowsHeader(b.initPush(), m); },
          [&](const PushPullMsg& m) { SetRowsHeader(b.initPushPull(), m); },
          [&](const PushReplyMsg& m) {
            auto r = b.initPushReply();
            r.setTable(m.table);
            r.setNumKeys(m.num_keys);
          },
          [&](const BarrierMsg& m) { b.initBarrier().setName(m.name); },
          [&](const BarrierReplyMsg& m) { b.initBarrierReply().setName(m.name); },
          [&](const ErrorMsg& m) {
            auto r = b.initError();
            r.setCode(static_cast<cp::ErrorCode>(m.code));
            r.setMessage(m.message);
            r.setFatal(m.fatal);
          },
          [&](const ShutdownMsg& m) {
            auto r = b.initShutdown();
            r.setOk(m.ok);
            r.setReason(m.reason);
          },
          [&](const PartitionRequestMsg& m) {
            auto r = b.initPartitionRequest();
            r.setFinishedPartition(m.finished_partition);
            SetProgress(r.initProgress(), m.progress);
          },
          [&](const PartitionGrantMsg& m) {
            auto r = b.initPartitionGrant();
            r.setHasPartition(m.has_partition);
            r.setPartitionId(m.partition.id);
            r.setFile(m.partition.file);
            r.setBegin(m.partition.begin);
            r.setEnd(m.partition.end);
            r.setFirstLine(m.partition.first_line);
            r.setPass(m.pass);
            r.setSkipLines(m.partition.skip_lines);
            r.setWaitMs(m.wait_ms);
          },
          [&](const WorkerDoneMsg& m) {
            auto d = b.initWorkerDone();
            SetProgress(d.initProgress(), m.progress);
            d.setLeaving(m.leaving);
          },
          [&](const ExportModelMsg& m) { b.initExportModel().setDirectory(m.directory); },
          [&](const ExportModelReplyMsg& m) {
            auto r = b.initExportModelReply();
            r.setRows(m.rows);
            r.setPath(m.path);
          },
          [&](const StopTrainingMsg& m) { b.initStopTraining().setReason(m.reason); },
          [&](const CheckpointMsg& m) {
            auto r = b.initCheckpoint();
            r.setId(m.id);
            r.setDelta(m.delta);
            r.setBaseId(m.base_id);
            r.setDirectory(m.directory);
          },
          [&](const CheckpointReplyMsg& m) {
            auto r = b.initCheckpointReply();
            r.setId(m.id);
            r.setWritten(m.written);
            r.setOk(m.ok);
            r.setError(m.error);
            r.setPath(m.path);
            r.setRows(m.rows);
            r.setBytes(m.bytes);
            r.setSeconds(m.seconds);
            r.setStallSeconds(m.stall_seconds);
          },
          [&](const PauseTrainingMsg& m) { b.initPauseTraining().setCheckpointId(m.checkpoint_id); },
          [&](const PausedMsg& m) {
            auto r = b.initPaused();
            r.setCheckpointId(m.checkpoint_id);
            SetProgress(r.initProgress(), m.progress);
          },
          [&](const ResumeTrainingMsg& m) { b.initResumeTraining().setCheckpointId(m.checkpoint_id); },
          [&](const RestoreMsg& m) {
            auto r = b.initRestore();
            r.setRank(m.rank);
            r.setCheckpointId(m.checkpoint_id);
            SetChain(r.initChain(static_cast<unsigned>(m.chain.size())), m.chain);
            SetChain(r.initReplicaChain(static_cast<unsigned>(m.replica_chain.size())), m.replica_chain);
            if (!m.dedup_file.empty()) r.setDedupFile(m.dedup_file);
          },
          [&](const RestoreReplyMsg& m) {
            auto r = b.initRestoreReply();
            r.setOk(m.ok);
            r.setError(m.error);
            r.setRows(m.rows);
            r.setBytes(m.bytes);
            r.setSeconds(m.seconds);
          },
          [&](const ClockReportMsg& m) {
            auto r = b.initClockReport();
            r.setClock(m.clock);
            r.setWaiting(m.waiting);
          },
          [&](const ClockUpdateMsg& m) { b.initClockUpdate().setMinClock(m.min_clock); },
          [&](const HandoffMsg& m) {
            auto r = b.initHandoff();
            r.setId(m.id);
            r.setRank(m.rank);
            r.setDirectory(m.directory);
          },
          [&](const HandoffReplyMsg& m) {
            auto r = b.initHandoffReply();
            r.setId(m.id);
            r.setOk(m.ok);
            r.setError(m.error);
            r.setReplicaFile(m.replica_file);
            r.setDedupFile(m.dedup_file);
            r.setPrimaryFile(m.primary_file);
            r.setRows(m.rows);
            r.setSeconds(m.seconds);
          },
          [&](const ReplicaPushMsg& m) {
            auto r = b.initReplicaPush();
            r.setTable(m.table);
            r.setNumKeys(m.num_keys);
            r.setDim(m.dim);
            r.setPrimaryRank(m.primary_rank);
          },
          [&](const ReplicaAckMsg& m) {
            auto r = b.initReplicaAck();
            r.setOk(m.ok);
            r.setError(m.error);
          },
          [&](const EvaluateMsg& m) {
            auto r = b.initEvaluate();
            r.setId(m.id);
            r.setMaxRows(m.max_rows);
            r.setFinal(m.final);
          },
          [&](const EvalResultMsg& m) {
            auto r = b.initEvalResult();
            r.setId(m.id);
            r.setOk(m.ok);
            r.setError(m.error);
            r.setTestRows(m.test_rows);
            r.setAuc(m.auc);
            r.setLogloss(m.logloss);
            r.setRmse(m.rmse);
            r.setMae(m.mae);
            r.setSeconds(m.seconds);
          },
      },
      body);
}

template <typename E>
StatusOr<E> CheckedEnum(uint16_t raw, uint16_t max_value, const char* what) {
  if (raw > max_value) return InvalidArgument(std::string("malformed: unknown ") + what);
  return static_cast<E>(raw);
}

// Reads the shared table/keys/dim/dtype header into a Msg of that shape.
template <typename Msg, typename Reader>
StatusOr<Body> GetRowsHeader(Reader r) {
  ASSIGN_OR_RETURN(DataType dt,
                   CheckedEnum<DataType>(static_cast<uint16_t>(r.getDtype()), 0, "dtype"));
  return Body(Msg{r.getTable(), r.getNumKeys(), r.getDim(), dt});
}

// Converts a decoded body; throws kj::Exception on structural damage, which
// Decode() turns into a Status.
StatusOr<Body> DecodeBody(cp::Envelope::Body::Reader b) {
  using W = cp::Envelope::Body::Which;
  switch (b.which()) {
    case W::REGISTER: {
      auto r = b.getRegister();
      ASSIGN_OR_RETURN(Role role, CheckedEnum<Role>(static_cast<uint16_t>(r.getRole()), 4, "role"));
      return Body(RegisterMsg{role, r.getEndpoint(), r.getHost(), r.getPid(), r.getMetricsUrl(),
                              r.getPreviousRank(), r.getHasState(), r.getReplicaEndpoint()});
    }
    case W::REGISTER_REPLY: {
      auto r = b.getRegisterReply();
      return Body(RegisterReplyMsg{r.getNodeId(), r.getRank(), r.getNumServers(), r.getNumWorkers(),
                                   r.getNodeTimeoutMs()});
    }
    case W::SHARD_MAP: {
      auto r = b.getShardMap();
      std::vector<uint32_t> owners;
      owners.reserve(r.getOwners().size());
      for (uint32_t o : r.getOwners()) owners.push_back(o);
      std::vector<std::string> eps;
      for (auto e : r.getServerEndpoints()) eps.emplace_back(e.cStr());
      if (owners.size() != r.getNumVirtualShards()) {
        return InvalidArgument("malformed: shard map owner count mismatch");
      }
      auto map = ShardMap::FromParts(r.getEpoch(), std::move(owners), std::move(eps));
      if (!map.ok()) return map.status().WithContext("malformed shard map");
      std::vector<std::string> reps;
      for (auto e : r.getReplicaEndpoints()) reps.emplace_back(e.cStr());
      Status replication = map->SetReplication(r.getReplicas(), std::move(reps));
      if (!replication.ok()) return replication.WithContext("malformed shard map");
      return Body(ShardMapMsg{std::move(map).value()});
    }
    case W::HEARTBEAT:
      return Body(DecodeHeartbeat(b.getHeartbeat()));
    case W::PULL: {
      auto r = b.getPull();
      return Body(PullMsg{r.getTable(), r.getNumKeys(), r.getReadOnly()});
    }
    case W::PULL_REPLY:
      return GetRowsHeader<PullReplyMsg>(b.getPullReply());
    case W::PUSH:
      return GetRowsHeader<PushMsg>(b.getPush());
    case W::PUSH_PULL:
      return GetRowsHeader<PushPullMsg>(b.getPushPull());
    case W::PUSH_REPLY: {
      auto r = b.getPushReply();
      return Body(PushReplyMsg{r.getTable(), r.getNumKeys()});
    }
    case W::BARRIER:
      return Body(BarrierMsg{b.getBarrier().getName()});
    case W::BARRIER_REPLY:
      return Body(BarrierReplyMsg{b.getBarrierReply().getName()});
    case W::ERROR: {
      auto r = b.getError();
      ASSIGN_OR_RETURN(ErrorCode code,
                       CheckedEnum<ErrorCode>(static_cast<uint16_t>(r.getCode()), kMaxErrorCode,
                                              "error code"));
      return Body(ErrorMsg{code, r.getMessage(), r.getFatal()});
    }
    case W::SHUTDOWN: {
      auto r = b.getShutdown();
      return Body(ShutdownMsg{r.getOk(), r.getReason()});
    }
    case W::PARTITION_REQUEST: {
      auto r = b.getPartitionRequest();
      return Body(PartitionRequestMsg{r.getFinishedPartition(), GetProgress(r.getProgress())});
    }
    case W::PARTITION_GRANT: {
      auto r = b.getPartitionGrant();
      PartitionGrantMsg m;
      m.has_partition = r.getHasPartition();
      m.partition.id = r.getPartitionId();
      m.partition.file = r.getFile();
      m.partition.begin = r.getBegin();
      m.partition.end = r.getEnd();
      m.partition.first_line = r.getFirstLine();
      m.pass = r.getPass();
      m.partition.skip_lines = r.getSkipLines();
      m.wait_ms = r.getWaitMs();
      if (m.partition.end < m.partition.begin) return InvalidArgument("malformed: partition end < begin");
      return Body(std::move(m));
    }
    case W::WORKER_DONE:
      return Body(WorkerDoneMsg{GetProgress(b.getWorkerDone().getProgress()), b.getWorkerDone().getLeaving()});
    case W::EXPORT_MODEL:
      return Body(ExportModelMsg{b.getExportModel().getDirectory()});
    case W::EXPORT_MODEL_REPLY: {
      auto r = b.getExportModelReply();
      return Body(ExportModelReplyMsg{r.getRows(), r.getPath()});
    }
    case W::STOP_TRAINING:
      return Body(StopTrainingMsg{b.getStopTraining().getReason()});
    case W::CHECKPOINT: {
      auto r = b.getCheckpoint();
      return Body(CheckpointMsg{r.getId(), r.getDelta(), r.getBaseId(), r.getDirectory()});
    }
    case W::CHECKPOINT_REPLY: {
      auto r = b.getCheckpointReply();
      return Body(CheckpointReplyMsg{r.getId(), r.getWritten(), r.getOk(), r.getError(), r.getPath(),
                                     r.getRows(), r.getBytes(), r.getSeconds(), r.getStallSeconds()});
    }
    case W::PAUSE_TRAINING:
      return Body(PauseTrainingMsg{b.getPauseTraining().getCheckpointId()});
    case W::PAUSED: {
      auto r = b.getPaused();
      return Body(PausedMsg{r.getCheckpointId(), GetProgress(r.getProgress())});
    }
    case W::RESUME_TRAINING:
      return Body(ResumeTrainingMsg{b.getResumeTraining().getCheckpointId()});
    case W::RESTORE: {
      auto r = b.getRestore();
      return Body(RestoreMsg{r.getRank(), r.getCheckpointId(), GetChain(r.getChain()),
                             GetChain(r.getReplicaChain()), r.getDedupFile()});
    }
    case W::RESTORE_REPLY: {
      auto r = b.getRestoreReply();
      return Body(RestoreReplyMsg{r.getOk(), r.getError(), r.getRows(), r.getBytes(), r.getSeconds()});
    }
    case W::CLOCK_REPORT: {
      auto r = b.getClockReport();
      return Body(ClockReportMsg{r.getClock(), r.getWaiting()});
    }
    case W::CLOCK_UPDATE:
      return Body(ClockUpdateMsg{b.getClockUpdate().getMinClock()});
    case W::HANDOFF: {
      auto r = b.getHandoff();
      return Body(HandoffMsg{r.getId(), r.getRank(), r.getDirectory()});
    }
    case W::HANDOFF_REPLY: {
      auto r = b.getHandoffReply();
      return Body(HandoffReplyMsg{r.getId(), r.getOk(), r.getError(), r.getReplicaFile(), r.getDedupFile(),
                                  r.getPrimaryFile(), r.getRows(), r.getSeconds()});
    }
    case W::REPLICA_PUSH: {
      auto r = b.getReplicaPush();
      return Body(ReplicaPushMsg{r.getTable(), r.getNumKeys(), r.getDim(), r.getPrimaryRank()});
    }
    case W::REPLICA_ACK: {
      auto r = b.getReplicaAck();
      return Body(ReplicaAckMsg{r.getOk(), r.getError()});
    }
    case W::EVALUATE: {
      auto r = b.getEvaluate();
      return Body(EvaluateMsg{r.getId(), r.getMaxRows(), r.getFinal()});
    }
    case W::EVAL_RESULT: {
      auto r = b.getEvalResult();
      return Body(EvalResultMsg{r.getId(), r.getOk(), r.getError(), r.getTestRows(), r.getAuc(),
                                r.getLogloss(), r.getRmse(), r.getMae(), r.getSeconds()});
    }
  }
  return InvalidArgument("malformed: unknown message type");
}

std::string VersionMismatchMessage(uint16_t version) {
  std::string theirs = std::to_string(version);
  if (version == 0) theirs += " (a release from before protocol versions)";
  return "wire protocol version mismatch: the peer speaks version " + theirs +
         ", this node speaks version " + std::to_string(kWireVersion) +
         "; run the same embedps release on every node";
}

Status CheckFrame(const std::vector<zmq::message_t>& p, size_t index, uint64_t expected,
                  const char* what) {
  if (p[index].size() != expected) {
    return InvalidArgument(std::string("malformed: ") + what + " frame has " +
                           std::to_string(p[index].size()) + " bytes, header says " +
                           std::to_string(expected));
  }
  return Status::OK();
}

// Every payload frame must have exactly the size its body announces, so no
// handler ever reads past a frame.
Status CheckPayloads(const Body& body, const std::vector<zmq::message_t>& p) {
  // Rows are at most 1024 floats; this also keeps keys * dim * 4 far from
  // overflowing 64 bits.
  auto check_dim = [](uint32_t dim) -> Status {
    if (dim == 0 || dim > kMaxWireDim) return InvalidArgument("malformed: dim " + std::to_string(dim) + " out of range");
    return Status::OK();
  };
  auto want = [&](size_t n) -> Status {
    if (p.size() != n) {
      return InvalidArgument("malformed: " + std::string(BodyName(body)) + " expects " +
                             std::to_string(n) + " payload frames, got " +
                             std::to_string(p.size()));
    }
    return Status::OK();
  };
  if (auto* m = std::get_if<PullMsg>(&body)) {
    RETURN_IF_ERROR(want(1));
    return CheckFrame(p, 0, uint64_t{m->num_keys} * 8, "key");
  }
  if (auto* m = std::get_if<PullReplyMsg>(&body)) {
    RETURN_IF_ERROR(check_dim(m->dim));
    RETURN_IF_ERROR(want(1));
    return CheckFrame(p, 0, uint64_t{m->num_keys} * m->dim * 4, "value");
  }
  auto check_push = [&](uint32_t num_keys, uint32_t dim) -> Status {
    RETURN_IF_ERROR(check_dim(dim));
    RETURN_IF_ERROR(want(2));
    RETURN_IF_ERROR(CheckFrame(p, 0, uint64_t{num_keys} * 8, "key"));
    return CheckFrame(p, 1, uint64_t{num_keys} * dim * 4, "gradient");
  };
  if (auto* m = std::get_if<PushMsg>(&body)) return check_push(m->num_keys, m->dim);
  if (auto* m = std::get_if<PushPullMsg>(&body)) return check_push(m->num_keys, m->dim);
  if (auto* m = std::get_if<ReplicaPushMsg>(&body)) return check_push(m->num_keys, m->dim);
  return want(0);
}

}  // namespace

ErrorCode ErrorCodeForDecodeFailure(const Status& status) {
  switch (status.code()) {
    case StatusCode::kResourceExhausted: return ErrorCode::kTooLarge;
    case StatusCode::kFailedPrecondition: return ErrorCode::kVersionMismatch;
    default: return ErrorCode::kMalformed;
  }
}

zmq::message_t EncodeEnvelope(const Header& header, const Body& body) {
  ::capnp::MallocMessageBuilder builder;
  auto env = builder.initRoot<cp::Envelope>();
  env.setMagic(kWireMagic);
  env.setClusterId(header.cluster_id);
  env.setSender(header.sender);
  env.setRequestId(header.request_id);
  env.setEpoch(header.epoch);
  env.setVersion(header.version);
  EncodeBody(env.initBody(), body);
  kj::Array<::capnp::word> words = ::capnp::messageToFlatArray(builder);
  auto bytes = words.asBytes();
  return zmq::message_t(bytes.begin(), bytes.size());
}

StatusOr<Message> Decode(std::vector<zmq::message_t> frames, const DecodeLimits& limits) {
  if (frames.empty()) return InvalidArgument("malformed: empty message");
  size_t total = 0;
  for (const auto& f : frames) total += f.size();
  if (total > limits.max_message_bytes) {
    return ResourceExhausted("too large: message of " + std::to_string(total) +
                             " bytes exceeds the limit of " +
                             std::to_string(limits.max_message_bytes));
  }
  const zmq::message_t& env_frame = frames[0];
  if (env_frame.size() == 0 || env_frame.size() % sizeof(::capnp::word) != 0) {
    return InvalidArgument("malformed: envelope of " + std::to_string(env_frame.size()) +
                           " bytes is not a whole number of words");
  }
  // ZeroMQ frames are often not 8-byte aligned; Cap'n Proto requires it.
  kj::Array<::capnp::word> aligned =
      kj::heapArray<::capnp::word>(env_frame.size() / sizeof(::capnp::word));
  std::memcpy(aligned.begin(), env_frame.data(), env_frame.size());

  Message msg;
  try {
    ::capnp::ReaderOptions options;
    options.traversalLimitInWords = limits.max_envelope_words;
    options.nestingLimit = 16;
    ::capnp::FlatArrayMessageReader reader(aligned, options);
    auto env = reader.getRoot<cp::Envelope>();
    if (env.getMagic() != kWireMagic) {
      return InvalidArgument("malformed: bad magic (not an embedps peer)");
    }
    if (env.getVersion() != kWireVersion) {
      return FailedPrecondition(VersionMismatchMessage(env.getVersion()));
    }
    msg.header = Header{env.getClusterId(), env.getSender(), env.getRequestId(), env.getEpoch(),
                        env.getVersion()};
    ASSIGN_OR_RETURN(msg.body, DecodeBody(env.getBody()));
  } catch (const kj::Exception& e) {
    return InvalidArgument(std::string("malformed: ") + e.getDescription().cStr());
  }
  frames.erase(frames.begin());
  RETURN_IF_ERROR(CheckPayloads(msg.body, frames));
  msg.payloads = std::move(frames);
  return msg;
}

}  // namespace embedps::wire
