@0xa8fbfa5589e80fe0;
# The embedps wire schema. Every ZeroMQ message is one Envelope frame followed
# by zero or more raw payload frames (little-endian key and value arrays) whose
# count and layout the body describes. Evolve it the Cap'n Proto way: never
# reuse or renumber a field, only add new ones at the end.

$import "/capnp/c++.capnp".namespace("embedps::wire::capnp");

enum Role {
  unknown @0;
  scheduler @1;
  server @2;
  worker @3;
  client @4;
}

enum DataType {
  float32 @0;
  uint64 @1;
}

enum ErrorCode {
  unknown @0;
  malformed @1;
  tooLarge @2;
  wrongCluster @3;
  unknownTable @4;
  dimMismatch @5;
  badValues @6;
  staleEpoch @7;
  notOwner @8;
  notAdmitted @9;
  aborted @10;
  internal @11;
  versionMismatch @12;   # the message used another wire-protocol version
  limitExceeded @13;     # a server limit (keys per request, rows, memory) refused it
  unavailable @14;       # not applied for now (a replica is down); send it again shortly
  replaced @15;          # a node presumed dead whose place another took: it must exit
}

struct Envelope {
  magic @0 :UInt32;       # kWireMagic; anything else is not an embedps peer
  clusterId @1 :UInt64;   # hash of the job's cluster token
  sender @2 :UInt32;      # node id from the scheduler; 0 before registration
  requestId @3 :UInt64;   # increases per sender; replies echo the request's id
  epoch @4 :UInt64;       # shard-map epoch the sender routed with
  body :union {
    register @5 :Register;
    registerReply @6 :RegisterReply;
    shardMap @7 :ShardMap;
    heartbeat @8 :Heartbeat;
    pull @9 :Pull;
    pullReply @10 :PullReply;
    push @11 :Push;
    pushReply @12 :PushReply;
    barrier @13 :Barrier;
    barrierReply @14 :BarrierReply;
    error @15 :Error;
    shutdown @16 :Shutdown;
    partitionRequest @17 :PartitionRequest;
    partitionGrant @18 :PartitionGrant;
    workerDone @19 :WorkerDone;
    exportModel @20 :ExportModel;
    exportModelReply @21 :ExportModelReply;
    pushPull @22 :Push;     # push, then reply with the updated rows (pullReply)
    stopTraining @23 :StopTraining;
    checkpoint @25 :Checkpoint;
    checkpointReply @26 :CheckpointReply;
    pauseTraining @27 :PauseTraining;
    paused @28 :Paused;
    resumeTraining @29 :ResumeTraining;
    restore @30 :Restore;
    restoreReply @31 :RestoreReply;
    clockReport @32 :ClockReport;
    clockUpdate @33 :ClockUpdate;
    handoff @34 :Handoff;
    handoffReply @35 :HandoffReply;
    replicaPush @36 :ReplicaPush;
    replicaAck @37 :ReplicaAck;
    evaluate @38 :Evaluate;
    evalResult @39 :EvalResult;
  }
  version @24 :UInt16;    # wire-protocol version (kWireVersion); 0 before it existed
}

struct Register {
  role @0 :Role;
  endpoint @1 :Text;      # servers: where workers connect
  host @2 :Text;
  pid @3 :UInt32;
  metricsUrl @4 :Text;    # the node's HTTP endpoint (http://HOST:PORT); empty: none
  # Rejoining after the scheduler restarted: the rank held before (-1: a
  # new node) and, for servers, whether it still holds that rank's rows.
  previousRank @5 :Int32 = -1;
  hasState @6 :Bool;
  replicaEndpoint @7 :Text;  # servers: where their primary forwards pushes (--replicas=2)
}

struct RegisterReply {
  nodeId @0 :UInt32;
  rank @1 :UInt32;        # rank within its role
  numServers @2 :UInt32;
  numWorkers @3 :UInt32;
  nodeTimeoutMs @4 :UInt32;  # the scheduler's --node_timeout_ms; 0 from older schedulers
}

struct ShardMap {
  epoch @0 :UInt64;
  numVirtualShards @1 :UInt32;
  owners @2 :List(UInt32);          # server rank of each virtual shard
  serverEndpoints @3 :List(Text);   # indexed by server rank
  # --replicas: 1, or 2 when server (r+1) % S keeps a copy of server r's rows,
  # fed by r forwarding every push there (replicaEndpoints, by rank) first.
  replicas @4 :UInt32 = 1;
  replicaEndpoints @5 :List(Text);
}

struct Progress {
  rows @0 :UInt64;        # training examples consumed
  lossSum @1 :Float64;    # sum of per-example training log loss
  linesRead @2 :UInt64;
  badLines @3 :UInt64;
  # Workers: the partition lease being trained (-1: none), its pass, and the
  # lines of it (from the partition's start) whose pushes are acknowledged.
  leasePartition @4 :Int64 = -1;
  leasePass @5 :UInt32;
  leaseLines @6 :UInt64;
  # Workers: batches trained whose pushes are all acknowledged (the SSP clock,
  # see ClockReport).
  clock @7 :UInt64;
  # Workers: batches whose dense tables (MLP weights) were pulled from the
  # servers; with --dense_pull_every=K about one batch in K.
  densePulls @8 :UInt64;
  # Workers: the first malformed line they read, "FILE:LINE: reason" (at
  # most 240 bytes; empty: none), so a job failing for bad lines can say why.
  firstBadLine @9 :Text;
  # Workers: lines read but not examples nor malformed: a file's header line
  # and blank lines, so the rows trained are the lines less these and the
  # malformed ones.
  skippedLines @10 :UInt64;
}

struct Heartbeat {
  progress @0 :Progress;  # workers only
  server @1 :ServerStats; # servers only
}

struct TableStats {
  table @0 :UInt32;
  name @1 :Text;
  rows @2 :UInt64;
  memoryBytes @3 :UInt64;
  evicted @4 :UInt64;       # rows evicted so far
  pendingPushes @5 :UInt64; # pushes to keys not yet admitted
}

struct ServerStats {
  tables @0 :List(TableStats);
  pulls @1 :UInt64;         # requests served so far
  pushes @2 :UInt64;
  keysPulled @3 :UInt64;
  keysPushed @4 :UInt64;
  rejected @5 :UInt64;      # requests refused (malformed, wrong cluster, ...)
  leaving @6 :Bool;         # got SIGTERM: asks to be replaced (unless the job is ending)
  residentBytes @7 :UInt64; # the server process's resident memory (RSS); 0: unknown
}

struct Pull {
  table @0 :UInt32;
  numKeys @1 :UInt32;     # payload 0: numKeys uint64 keys
  # Evaluation: missing rows are answered with their initial values and not
  # created, and no row is marked as used.
  readOnly @2 :Bool;
}

struct PullReply {
  table @0 :UInt32;
  numKeys @1 :UInt32;
  dim @2 :UInt32;
  dtype @3 :DataType;     # payload 0: numKeys * dim values
}

struct Push {
  table @0 :UInt32;
  numKeys @1 :UInt32;
  dim @2 :UInt32;
  dtype @3 :DataType;     # payload 0: keys; payload 1: numKeys * dim gradients
}

struct PushReply {
  table @0 :UInt32;
  numKeys @1 :UInt32;
}

struct Barrier {
  name @0 :Text;
}

struct BarrierReply {
  name @0 :Text;
}

struct Error {
  code @0 :ErrorCode;
  message @1 :Text;
  fatal @2 :Bool;         # sender is giving up; the job cannot continue
}

struct Shutdown {
  ok @0 :Bool;
  reason @1 :Text;
}

struct PartitionRequest {
  finishedPartition @0 :Int64;   # -1 when none was finished
  progress @1 :Progress;
}

struct PartitionGrant {
  hasPartition @0 :Bool;         # false: no work left for this worker
  partitionId @1 :UInt32;
  file @2 :Text;
  begin @3 :UInt64;
  end @4 :UInt64;
  firstLine @5 :UInt64;
  pass @6 :UInt32;               # which pass over the data (0-based)
  skipLines @7 :UInt64;          # lines already trained (a resumed lease): skip them
  waitMs @8 :UInt32;             # no partition now, but other leases may come back: ask again after this
}

struct WorkerDone {
  progress @0 :Progress;
  leaving @1 :Bool;       # SIGTERM: the worker exits now, mid-lease (progress says where)
}

struct ExportModel {
  directory @0 :Text;
}

struct ExportModelReply {
  rows @0 :UInt64;
  path @1 :Text;
}

# The operator asked the job to stop: a worker stops after its current batch,
# flushes its pushes and reports done, so the job ends the normal way.
struct StopTraining {
  reason @0 :Text;
}

# Scheduler -> server: take checkpoint `id` now (the workers are paused and
# their pushes acknowledged): cut, answer with stage "cut", write the file
# into `directory` in the background, answer with stage "written".
struct Checkpoint {
  id @0 :UInt64;
  delta @1 :Bool;         # only rows changed since checkpoint baseId
  baseId @2 :UInt64;
  directory @3 :Text;
}

struct CheckpointReply {
  id @0 :UInt64;
  written @1 :Bool;       # false: the cut is set; true: the file is written (or failed)
  ok @2 :Bool;
  error @3 :Text;
  path @4 :Text;
  rows @5 :UInt64;
  bytes @6 :UInt64;
  seconds @7 :Float64;
  stallSeconds @8 :Float64;   # longest wait of one request for a stripe copy
}

# Scheduler -> workers: stop at the next batch boundary, wait for every push
# to be acknowledged, answer Paused, and wait for ResumeTraining.
struct PauseTraining {
  checkpointId @0 :UInt64;
}

struct Paused {
  checkpointId @0 :UInt64;
  progress @1 :Progress;
}

struct ResumeTraining {
  checkpointId @0 :UInt64;
}

struct FileList {
  files @0 :List(Text);
}

# Scheduler -> server: you are server `rank`; load the rows you own (under
# the shard map already sent) from a checkpoint chain, then answer.
struct Restore {
  rank @0 :UInt32;
  checkpointId @1 :UInt64;
  chain @2 :List(FileList);   # a full checkpoint's files, then each delta's
  # --replicas=2: where the copy of server (rank-1)'s rows comes from (a
  # chain, as above), and request ids already applied to the restored rows.
  replicaChain @3 :List(FileList);
  dedupFile @4 :Text;
}

struct RestoreReply {
  ok @0 :Bool;
  error @1 :Text;
  rows @2 :UInt64;
  bytes @3 :UInt64;
  seconds @4 :Float64;
}

# Bounded staleness (worker --max_staleness=k). A worker's clock counts the
# batches it trained whose pushes are all acknowledged; a worker may start a
# batch only while its clock is at most k ahead of the slowest active
# worker's. Worker -> scheduler at every tick of its clock, and while it
# waits on the bound.
struct ClockReport {
  clock @0 :UInt64;
  waiting @1 :Bool;        # blocked on the bound: answer with the current minimum now
}
# Scheduler -> workers that report clocks: the minimum clock over the live,
# unfinished workers holding a lease, whenever it advances.
struct ClockUpdate {
  minClock @0 :UInt64;
}

# --replicas=2, scheduler -> the servers next to a dead server `rank`: write
# what you hold of it to `directory`. Its backup (rank+1) writes its copy of
# the dead server's rows and the request ids applied to them; the server it
# backed up (rank-1) stops applying pushes (their copy is gone) and writes
# its own rows, to seed the replacement's copy.
struct Handoff {
  id @0 :UInt64;
  rank @1 :UInt32;
  directory @2 :Text;
}

struct HandoffReply {
  id @0 :UInt64;
  ok @1 :Bool;
  error @2 :Text;
  replicaFile @3 :Text;    # the dead rank's rows (from its backup)
  dedupFile @4 :Text;      # request ids applied to them
  primaryFile @5 :Text;    # rank-1's rows (the replacement's copy)
  rows @6 :UInt64;
  seconds @7 :Float64;
}

# Primary -> backup: apply this push (keys, gradients frames) to your copy.
# The envelope is the worker's (sender, request id), so the backup drops a
# push it has already applied.
struct ReplicaPush {
  table @0 :UInt32;
  numKeys @1 :UInt32;
  dim @2 :UInt32;
  primaryRank @3 :UInt32;
}

struct ReplicaAck {
  ok @0 :Bool;
  error @1 :Text;
}

# Periodic evaluation (scheduler --eval_every_s / --eval_every_rows). The
# scheduler asks one worker to score the test set against the servers' rows
# now (`final`: after every worker finished, before the export); the worker
# answers with the metrics at its next batch boundary.
struct Evaluate {
  id @0 :UInt64;
  maxRows @1 :UInt64;      # test rows to score; 0: all
  final @2 :Bool;
}
struct EvalResult {
  id @0 :UInt64;
  ok @1 :Bool;
  error @2 :Text;
  testRows @3 :UInt64;
  auc @4 :Float64;         # binary objectives
  logloss @5 :Float64;
  rmse @6 :Float64;        # ratings
  mae @7 :Float64;
  seconds @8 :Float64;     # time the evaluation took
}
