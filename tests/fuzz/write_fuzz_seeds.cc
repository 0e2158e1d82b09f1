// Writes the seed corpus of the fuzz targets: real messages, lines, model
// files and table declarations, valid and slightly broken ones. The seeds
// are checked in under tests/fuzz/corpus/; rerun after a format change:
//   build/bin/write_fuzz_seeds tests/fuzz/corpus
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <sstream>

#include "common/model_file.h"
#include "common/wire/codec.h"
#include "ps/checkpoint/checkpoint.h"
#include "tests/fuzz/fuzz_targets.h"

namespace embedps::fuzz {
namespace {

namespace fs = std::filesystem;

void Write(const fs::path& dir, const std::string& name, const std::string& bytes) {
  fs::create_directories(dir);
  std::ofstream(dir / name, std::ios::binary) << bytes;
}

std::string Message(const wire::Header& h, const wire::Body& body,
                    std::vector<std::vector<char>> payloads = {}) {
  std::vector<zmq::message_t> frames;
  frames.push_back(wire::EncodeEnvelope(h, body));
  for (const auto& p : payloads) frames.emplace_back(p.data(), p.size());
  return FrameWireInput(frames);
}

template <typename T>
std::vector<char> Bytes(const std::vector<T>& v) {
  const auto* p = reinterpret_cast<const char*>(v.data());
  return std::vector<char>(p, p + v.size() * sizeof(T));
}

void WireSeeds(const fs::path& dir) {
  const wire::Header h{0x1234, 3, 17, 1};
  const auto keys = Bytes(std::vector<uint64_t>{1, 2, 3});
  const auto rows = Bytes(std::vector<float>{0.5f, -1, 2, 0.25f, 1, 3});
  Write(dir, "register", Message(h, wire::RegisterMsg{wire::Role::kServer, "tcp://h:1", "h", 7, "http://h:2"}));
  Write(dir, "register_reply", Message(h, wire::RegisterReplyMsg{3, 1, 2, 2}));
  Write(dir, "shard_map",
        Message(h, wire::ShardMapMsg{ShardMap::FromParts(2, {0, 1, 0, 1}, {"tcp://a:1", "tcp://b:2"})
                                         .value()}));
  Write(dir, "heartbeat", Message(h, wire::HeartbeatMsg{{10, 2.5, 11, 1}, std::nullopt}));
  Write(dir, "pull", Message(h, wire::PullMsg{0, 3}, {keys}));
  Write(dir, "pull_reply", Message(h, wire::PullReplyMsg{0, 3, 2, wire::DataType::kFloat32}, {rows}));
  Write(dir, "push", Message(h, wire::PushMsg{0, 3, 2, wire::DataType::kFloat32}, {keys, rows}));
  Write(dir, "push_pull", Message(h, wire::PushPullMsg{1, 3, 2, wire::DataType::kFloat32}, {keys, rows}));
  Write(dir, "push_reply", Message(h, wire::PushReplyMsg{0, 3}));
  Write(dir, "barrier", Message(h, wire::BarrierMsg{"epoch-1"}));
  Write(dir, "error", Message(h, wire::ErrorMsg{wire::ErrorCode::kLimitExceeded, "too many", true}));
  Write(dir, "shutdown", Message(h, wire::ShutdownMsg{false, "bye"}));
  Write(dir, "partition_request", Message(h, wire::PartitionRequestMsg{4, {1, 2, 3, 4}}));
  wire::PartitionGrantMsg grant{true, Partition{5, "/data/train.tsv", 100, 900, 12}, 1};
  Write(dir, "partition_grant", Message(h, grant));
  Write(dir, "worker_done", Message(h, wire::WorkerDoneMsg{{5, 1, 5, 0}}));
  Write(dir, "export_model", Message(h, wire::ExportModelMsg{"/tmp/model"}));
  Write(dir, "export_model_reply", Message(h, wire::ExportModelReplyMsg{9, "/tmp/model/t"}));
  wire::Header old = h;
  old.version = 1;
  Write(dir, "other_version", Message(old, wire::BarrierMsg{"x"}));
  Write(dir, "short_payload", Message(h, wire::PullMsg{0, 4}, {keys}));
}

void CriteoSeeds(const fs::path& dir) {
  std::string good = "1";
  for (int f = 0; f < 13; ++f) good += "\t" + std::to_string(f * 37 - 2);
  for (int f = 0; f < 26; ++f) good += "\t" + std::string(f % 5 == 0 ? "" : "68fd1e64");
  Write(dir, "valid", good + "\n" + "0" + std::string(39, '\t') + "\n");
  Write(dir, "crlf", good + "\r\n");
  Write(dir, "bad_label", "2" + good.substr(1) + "\n");
  Write(dir, "few_fields", "1\t2\t3\n");
  Write(dir, "bad_integer", "0\t12x" + good.substr(good.find('\t', 2)) + "\n");
  Write(dir, "huge_integer", "0\t99999999999999999999999" + good.substr(good.find('\t', 2)) + "\n");
}

void ModelSeeds(const fs::path& dir) {
  const fs::path tmp = fs::temp_directory_path() / "embedps-seed.epsmodel";
  auto write = [&](const std::string& name, const ModelShard& shard, size_t cut) {
    (void)WriteModelShard(tmp.string(), shard);
    std::ifstream in(tmp, std::ios::binary);
    std::stringstream ss;
    ss << in.rdbuf();
    std::string bytes = ss.str();
    Write(dir, name, bytes.substr(0, bytes.size() - cut));
  };
  write("empty", ModelShard{0, 4, {}, {}}, 0);
  write("three_rows", ModelShard{1, 2, {1, 2, 3}, {1, 2, 3, 4, 5, 6}}, 0);
  write("truncated", ModelShard{1, 2, {1, 2, 3}, {1, 2, 3, 4, 5, 6}}, 5);
  fs::remove(tmp);
}

void TableSpecSeeds(const fs::path& dir) {
  Write(dir, "readme",
        "name=user dim=16 optimizer=adam lr=0.001 init=normal init_scale=0.01\n"
        "name=item dim=16 optimizer=adagrad fp16=1 admit_after=3 memory_budget_mb=512\n"
        "name=wide dim=1 optimizer=ftrl lr=0.05 l1=1 l2=0.1 evict_after_steps=100000\n");
  Write(dir, "semicolons", "name=a dim=8; name=b dim=4 optimizer=sgd clip_norm=1 # comment\n");
  Write(dir, "every_setting",
        "name=x dim=3 optimizer=rowwise_adagrad lr=0.1 initial_accumulator=0.2 l1=0 l2=0.01 "
        "beta1=0.9 beta2=0.99 epsilon=1e-8 ftrl_beta=1 clip_norm=5 init=uniform init_scale=0.1 "
        "seed=7 fp16=true admit_after=2 evict_after_steps=10 memory_budget_mb=1\n");
  Write(dir, "bad", "name=a dim=0\nname=a dim=2000 optimizer=none\nnoequals\n");
}

std::string ReadFile(const fs::path& path) {
  std::ifstream in(path, std::ios::binary);
  std::stringstream ss;
  ss << in.rdbuf();
  return ss.str();
}

// Writes a checkpoint of `table` to `tmp`; returns its bytes.
std::string Checkpoint(ps::EmbeddingTable& table, ps::checkpoint::Kind kind, uint64_t id,
                       const fs::path& tmp) {
  ps::checkpoint::CutInfo info;
  info.checkpoint_id = id;
  info.base_id = id - 1;
  info.kind = kind;
  auto writer = ps::checkpoint::Cut({&table}, info);
  if (!writer.ok() || !(*writer)->Write(tmp.string()).ok()) return "";
  return ReadFile(tmp);
}

void CheckpointSeeds(const fs::path& dir) {
  using ps::checkpoint::Kind;
  const fs::path tmp = fs::temp_directory_path() / "embedps-seed.ckpt";
  auto table = ps::EmbeddingTable::Create(CheckpointFuzzTableConfig()).value();
  Write(dir, "empty", Checkpoint(*table, Kind::kFull, 1, tmp));
  std::vector<uint64_t> keys;
  for (uint64_t k = 1; k <= 40; ++k) keys.push_back(k * 0x9e3779b97f4a7c15ULL);
  std::vector<float> grads(keys.size() * 3, 0.25f);
  (void)table->Push(keys.data(), keys.size(), grads.data());
  const std::string full = Checkpoint(*table, Kind::kFull, 2, tmp);
  Write(dir, "full", full);
  Write(dir, "truncated", full.substr(0, full.size() - 7));
  std::string flipped = full;
  flipped[full.size() / 2] ^= 1;
  Write(dir, "flipped", flipped);
  // Ten pushes to a few rows, so the others are evicted: rows and tombstones.
  for (int i = 0; i < 10; ++i) (void)table->Push(keys.data(), 5, grads.data());
  table->EvictIdle();
  Write(dir, "delta", Checkpoint(*table, Kind::kDelta, 3, tmp));
  fs::remove(tmp);
}

}  // namespace
}  // namespace embedps::fuzz

int main(int argc, char** argv) {
  if (argc != 2) {
    std::fprintf(stderr, "usage: write_fuzz_seeds CORPUS_DIR\n");
    return 2;
  }
  const std::filesystem::path root = argv[1];
  embedps::fuzz::WireSeeds(root / "wire_decode");
  embedps::fuzz::CriteoSeeds(root / "criteo_line");
  embedps::fuzz::ModelSeeds(root / "model_file");
  embedps::fuzz::TableSpecSeeds(root / "table_spec");
  embedps::fuzz::CheckpointSeeds(root / "checkpoint_file");
  std::printf("wrote seeds under %s\n", argv[1]);
  return 0;
}
