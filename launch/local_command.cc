#include "launch/local_command.h"

#include <unistd.h>

#include <chrono>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <random>
#include <thread>
#include <tuple>

#include <nlohmann/json.hpp>

#include "common/input_files.h"
#include "launch/job_control.h"
#include "launch/process_group.h"
#include "ps/optimizer.h"
#include "worker/data/format.h"
#include "ps/embedding_table.h"
#include "worker/eval/exported_model.h"
#include "worker/eval/model_evaluator.h"
#include "worker/model/model_flags.h"

namespace embedps::launch {
namespace {

using Clock = std::chrono::steady_clock;

Status Validate(const LocalOptions& o) {
  if (o.train.empty() || o.test.empty()) return InvalidArgument("--train and --test are required");
  for (const auto& spec : {o.train, o.test}) {
    ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandInputs(spec));
    for (const auto& f : files) {
      if (!std::filesystem::is_regular_file(f)) return NotFound("data file " + f + " does not exist");
    }
  }
  if (o.servers == 0 || o.servers > 64) return InvalidArgument("--servers must be in 1..64");
  if (o.workers == 0 || o.workers > 64) return InvalidArgument("--workers must be in 1..64");
  if (o.passes == 0) return InvalidArgument("--passes must be >= 1");
  if (o.batch_size == 0) return InvalidArgument("--batch_size must be >= 1");
  if (!(o.learning_rate > 0)) return InvalidArgument("--learning_rate must be > 0");
  for (const auto& [name, lr, flag] : {std::tuple{o.optimizer, o.learning_rate, "--optimizer"},
                                      std::tuple{o.dense_optimizer, o.dense_learning_rate, "--dense_optimizer"}}) {
    ps::OptimizerConfig optimizer;
    optimizer.name = name;
    optimizer.learning_rate = static_cast<float>(lr);
    if (auto made = ps::MakeOptimizer(optimizer); !made.ok()) return made.status().WithContext(flag);
  }
  return Status::OK();
}

StatusOr<std::string> MakeRunDir(const std::string& requested) {
  ASSIGN_OR_RETURN(std::string dir, MakeJobDir(requested, "embedps-local"));
  std::error_code ec;
  std::filesystem::remove_all(dir + "/model", ec);
  return dir;
}

// Waits for the scheduler to publish its endpoint, failing fast if it dies.
StatusOr<std::string> AwaitEndpoint(ProcessGroup& group, const std::string& file) {
  const auto deadline = Clock::now() + std::chrono::seconds(30);
  while (Clock::now() < deadline) {
    std::ifstream in(file);
    std::string endpoint;
    if (in >> endpoint && !endpoint.empty()) return endpoint;
    if (auto exit = group.WaitAny(std::chrono::milliseconds(50))) return DescribeExit(*exit);
    if (Interrupted()) return Aborted("interrupted");
  }
  return DeadlineExceeded("the scheduler did not start listening within 30 s");
}

std::vector<std::string> CommonFlags(const std::string& token) {
  return {"--cluster_token=" + token};
}

// The --format value, or the format detected from the first training file.
StatusOr<data::Format> JobFormat(const LocalOptions& o) {
  ASSIGN_OR_RETURN(const std::optional<data::Format> requested, data::FormatFromFlag(o.format));
  if (requested) return *requested;
  ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandInputs(o.train));
  return data::DetectFileFormat(files[0]);
}

// Writes every line of the training files, shuffled, to one file in the run
// directory and returns its path. A header line (ratings.csv) stays first.
StatusOr<std::string> ShuffledCopy(const LocalOptions& o, data::Format format, const std::string& run_dir) {
  ASSIGN_OR_RETURN(std::vector<std::string> files, ExpandInputs(o.train));
  std::vector<std::string> lines;
  std::string header;
  for (const auto& f : files) {
    if (f.size() > 3 && f.compare(f.size() - 3, 3, ".gz") == 0) {
      return InvalidArgument("--shuffle needs plain training files; " + f + " is gzip (use --shuffle=false)");
    }
    std::ifstream in(f);
    if (!in) return NotFound("cannot read " + f);
    bool first = true;
    for (std::string line; std::getline(in, line); first = false) {
      if (first && data::IsHeaderLine(format, line)) {
        if (header.empty()) header = line;
        continue;
      }
      if (!line.empty()) lines.push_back(std::move(line));
    }
  }
  std::mt19937_64 rng(o.seed);
  std::shuffle(lines.begin(), lines.end(), rng);
  const std::string path = run_dir + "/train.shuffled";
  std::ofstream out(path);
  if (!header.empty()) out << header << "\n";
  for (const auto& line : lines) out << line << "\n";
  if (!out.flush()) return Unavailable("cannot write " + path);
  return path;
}

// Pass-through flags go last so they override the launcher's own.
void AppendAll(std::vector<std::string>& args, const std::vector<std::string>& more) {
  args.insert(args.end(), more.begin(), more.end());
}

// Seed of every table's initializer: rows are a function of (seed, table,
// key), which model.json records for keys the model never trained.
constexpr uint64_t kTableSeed = 1;

// The servers' table declarations for the model's tables: sparse tables take
// --optimizer, dense ones (MLP weights) --dense_optimizer.
std::string TableSpecs(const LocalOptions& o, const worker::Model& model) {
  std::string text;
  for (const auto& t : model.tables()) {
    const std::string& optimizer = t.dense ? o.dense_optimizer : o.optimizer;
    const double lr = t.dense ? o.dense_learning_rate : o.learning_rate;
    text += "name=" + t.name + " dim=" + std::to_string(t.dim) + " init=" + t.initializer +
            " init_scale=" + std::to_string(t.init_scale) + " seed=" + std::to_string(kTableSeed) +
            " optimizer=" + optimizer + " lr=" + std::to_string(lr) + "\n";
  }
  return text;
}

Status StartCluster(const LocalOptions& o, data::Format format, const worker::Model& model,
                    const std::string& run_dir, const std::string& train, ProcessGroup& group) {
  const std::string tables_file = run_dir + "/tables.spec";
  {
    std::ofstream out(tables_file);
    out << TableSpecs(o, model);
    if (!out.flush()) return Unavailable("cannot write " + tables_file);
  }
  const std::string token = "local-" + std::to_string(getpid()) + "-" +
                            std::to_string(Clock::now().time_since_epoch().count());
  const std::string endpoint_file = run_dir + "/scheduler.endpoint";
  std::filesystem::remove(endpoint_file);
  ChildSpec sched{"scheduler", o.bin_dir + "/embedps-scheduler", CommonFlags(token),
                  run_dir + "/logs/scheduler.log", /*inherit_stdout=*/true};
  sched.args.insert(sched.args.end(),
                    {"--endpoint_file=" + endpoint_file, "--num_servers=" + std::to_string(o.servers),
                     "--num_workers=" + std::to_string(o.workers), "--train=" + train,
                     "--shuffle_seed=" + std::to_string(o.shuffle ? o.seed : 0),
                     "--passes=" + std::to_string(o.passes), "--model_dir=" + run_dir + "/model",
                     "--max_bad_line_fraction=" + std::to_string(o.max_bad_line_fraction),
                     "--stats_json=" + run_dir + "/train_stats.json"});
  AppendAll(sched.args, o.extra.For("scheduler"));
  RETURN_IF_ERROR(group.Start(sched).status());
  ASSIGN_OR_RETURN(std::string endpoint, AwaitEndpoint(group, endpoint_file));

  for (uint32_t s = 0; s < o.servers; ++s) {
    ChildSpec spec{"server-" + std::to_string(s), o.bin_dir + "/embedps-server", CommonFlags(token),
                   run_dir + "/logs/server-" + std::to_string(s) + ".log"};
    spec.args.insert(spec.args.end(),
                     {"--scheduler=" + endpoint, "--tables_file=" + tables_file});
    AppendAll(spec.args, o.extra.For("server"));
    RETURN_IF_ERROR(group.Start(spec).status());
  }
  for (uint32_t w = 0; w < o.workers; ++w) {
    ChildSpec spec{"worker-" + std::to_string(w), o.bin_dir + "/embedps-worker", CommonFlags(token),
                   run_dir + "/logs/worker-" + std::to_string(w) + ".log"};
    spec.args.insert(spec.args.end(),
                     {"--scheduler=" + endpoint, "--batch_size=" + std::to_string(o.batch_size),
                      "--prefetch=" + std::to_string(o.prefetch),
                      std::string("--format=") + data::FormatName(format)});
    AppendAll(spec.args, worker::ModelFlagArgs());
    AppendAll(spec.args, o.extra.For("worker"));
    RETURN_IF_ERROR(group.Start(spec).status());
  }
  return Status::OK();
}

StatusOr<nlohmann::json> ReadJson(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound(path + " does not exist");
  nlohmann::json j = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss(path + " is not valid JSON");
  return j;
}

// The export's model.json: the spec and every table's initializer.
worker::ExportedModelInfo ModelInfo(const worker::ModelSpec& spec, const worker::Model& model,
                                    data::Format format, const nlohmann::json& stats) {
  worker::ExportedModelInfo info;
  info.spec = spec;
  uint32_t id = 0;
  for (const auto& t : model.tables()) {
    info.tables.push_back(worker::ExportedTableInfo{id++, t.name, t.dim, t.initializer, t.init_scale, kTableSeed});
  }
  info.data_format = data::FormatName(format);
  info.extra = stats;
  return info;
}

}  // namespace

StatusOr<std::unique_ptr<worker::ExportedModel>> LoadExportedModel(const std::string& dir) {
  ASSIGN_OR_RETURN(worker::ExportedModelInfo info, worker::ReadModelInfo(dir));
  // Keys the model never trained read as the servers would have created them.
  auto tables = std::make_shared<std::vector<std::unique_ptr<ps::EmbeddingTable>>>();
  for (const auto& t : info.tables) {
    ps::TableConfig cfg;
    cfg.id = t.id;
    cfg.name = t.name;
    cfg.dim = t.dim;
    ASSIGN_OR_RETURN(cfg.init, ps::ParseInitializer(t.initializer));
    cfg.init_scale = t.init_scale;
    cfg.seed = t.seed;
    ASSIGN_OR_RETURN(auto table, ps::EmbeddingTable::Create(cfg));
    tables->push_back(std::move(table));
  }
  return worker::ExportedModel::Load(dir, [tables](size_t t, uint64_t key, float* out) {
    (*tables)[t]->InitialValue(key, out);
  });
}

Status RunLocal(const LocalOptions& o) {
  RETURN_IF_ERROR(Validate(o));
  ASSIGN_OR_RETURN(const data::Format format, JobFormat(o));
  ASSIGN_OR_RETURN(auto side, worker::SideFeaturesFromFlags());
  ASSIGN_OR_RETURN(const worker::ModelSpec spec, worker::ModelSpecFromFlags(format, side.get()));
  ASSIGN_OR_RETURN(auto model, worker::MakeModel(spec));
  ASSIGN_OR_RETURN(const std::string run_dir, MakeRunDir(o.run_dir));
  InstallInterruptHandler();
  std::printf("embedps: local cluster with %u servers and %u workers; model %s on %s data; logs in %s/logs\n",
              o.servers, o.workers, spec.model.c_str(), data::FormatName(format), run_dir.c_str());
  std::fflush(stdout);
  const auto wall_start = Clock::now();
  {
    ProcessGroup group;
    std::string train = o.train;
    if (o.shuffle) {
      ASSIGN_OR_RETURN(train, ShuffledCopy(o, format, run_dir));
    }
    Status st = StartCluster(o, format, *model, run_dir, train, group);
    if (st.ok()) st = AwaitGroup(group, std::chrono::seconds(o.timeout_s), DescribeExit);
    if (!st.ok()) {
      group.TerminateAll(std::chrono::milliseconds(2000));
      return st;
    }
  }
  ASSIGN_OR_RETURN(nlohmann::json stats, ReadJson(run_dir + "/train_stats.json"));
  const std::string model_dir = run_dir + "/model";
  RETURN_IF_ERROR(worker::WriteModelInfo(model_dir, ModelInfo(spec, *model, format, stats)));
  std::printf("embedps: evaluating on %s\n", o.test.c_str());
  std::fflush(stdout);
  ASSIGN_OR_RETURN(auto exported, LoadExportedModel(model_dir));
  ASSIGN_OR_RETURN(worker::EvalResult eval,
                   worker::EvaluateModel(*exported, o.test, o.max_bad_line_fraction, format, side.get()));

  nlohmann::json summary = stats;
  summary["model"] = spec.model;
  summary["model_dir"] = model_dir;
  summary["format"] = data::FormatName(format);
  summary["test_rows"] = eval.rows;
  if (eval.objective == worker::Objective::kBinary) {
    summary["test_auc"] = eval.auc;
    summary["test_logloss"] = eval.logloss;
  } else {
    summary["test_rmse"] = eval.rmse;
    summary["test_mae"] = eval.mae;
  }
  summary["model_rows"] = eval.model_rows;
  summary["wall_seconds"] = std::chrono::duration<double>(Clock::now() - wall_start).count();
  summary["run_dir"] = run_dir;
  if (eval.objective == worker::Objective::kBinary) {
    std::string oracle;
    if (auto meta = ReadJson(o.test + ".meta.json"); meta.ok()) {
      for (const char* key : {"oracle_auc", "oracle_logloss"}) {
        if (meta->contains(key)) summary[key] = (*meta)[key];
      }
      if (meta->contains("oracle_auc")) {
        char buf[128];
        std::snprintf(buf, sizeof(buf), " (oracle %.4f)", (*meta)["oracle_auc"].get<double>());
        oracle = buf;
      }
    }
    std::printf("embedps: test AUC %.4f%s, test logloss %.4f", eval.auc, oracle.c_str(), eval.logloss);
    if (summary.contains("oracle_logloss")) {
      std::printf(" (oracle %.4f)", summary["oracle_logloss"].get<double>());
    }
  } else {
    std::printf("embedps: test RMSE %.4f, MAE %.4f", eval.rmse, eval.mae);
  }
  std::printf(" on %llu rows; %.0f training rows/s\n", static_cast<unsigned long long>(eval.rows),
              summary.value("rows_per_sec", 0.0));
  if (!o.summary_json.empty()) {
    std::ofstream out(o.summary_json);
    out << summary.dump(2) << "\n";
    if (!out) return Unavailable("cannot write " + o.summary_json);
    std::printf("embedps: summary written to %s\n", o.summary_json.c_str());
  }
  std::fflush(stdout);
  return Status::OK();
}

}  // namespace embedps::launch
