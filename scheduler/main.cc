// embedps-scheduler: admits nodes, publishes the shard map, leases data
// partitions, watches heartbeats and ends the job.
#include <algorithm>
#include <sstream>
#include <thread>

#include <gflags/gflags.h>
#include <nlohmann/json.hpp>

#include "common/flags/node_flags.h"
#include "scheduler/http_routes.h"
#include "scheduler/scheduler.h"
#include "scheduler/status_board.h"

DEFINE_string(bind, "tcp://127.0.0.1:0", "Endpoint to listen on (port 0: any free port)");
DEFINE_string(endpoint_file, "", "Write the bound endpoint to this file once listening");
DEFINE_int32(num_servers, 1, "Servers to wait for");
DEFINE_int32(num_workers, 1, "Workers to wait for");
DEFINE_int32(virtual_shards, 1024, "Virtual shards in the shard map");
DEFINE_int32(replicas, 1,
             "Copies of each server's rows: 1, or 2 (the next server keeps a copy fed by every push before "
             "it is acknowledged; a dead server's replacement loses nothing acknowledged). Needs 2+ servers");
DEFINE_string(train, "", "Training file(s), comma-separated");
DEFINE_int32(partitions_per_worker, 4, "Data partitions per worker and pass");
DEFINE_int32(passes, 1, "Passes over the training data");
DEFINE_uint64(shuffle_seed, 0, "Non-zero: hand out each pass's partitions in a random order from this seed");
DEFINE_string(model_dir, "", "Directory the servers export the trained model to");
DEFINE_string(stats_json, "", "Write job statistics here at the end");
DEFINE_double(max_bad_line_fraction, 0.01,
              "Fail the job when more than this fraction of the lines read is malformed");
DEFINE_int32(node_timeout_ms, 5000, "A node silent this long is presumed dead (and, with checkpoints, replaced)");
DEFINE_string(checkpoint_dir, "",
              "Write checkpoints here (and fail over dead servers and workers); empty: no checkpoints, "
              "and a dead node fails the job");
DEFINE_int32(checkpoint_interval_s, 60, "Checkpoint every this many seconds (0: not by time)");
DEFINE_int32(first_checkpoint_s, 5,
             "The first checkpoint comes this many seconds after training starts (0: only the other "
             "triggers); a server that dies before the first checkpoint fails the job, since its rows "
             "could not be restored");
DEFINE_uint64(checkpoint_every_rows, 0, "Checkpoint every this many training rows (0: not by rows)");
DEFINE_bool(checkpoint_each_pass, true, "Checkpoint at the end of every pass over the data");
DEFINE_int32(checkpoint_min_gap_s, 5,
             "Checkpoints at pass ends and by rows come at least this many seconds apart");
DEFINE_int32(checkpoints_to_keep, 3, "Keep the newest this many checkpoints (and the ones their deltas need)");
DEFINE_int32(full_checkpoint_every, 4, "Every Nth checkpoint is full, the others deltas (1: always full)");
DEFINE_int32(checkpoint_timeout_ms, 300000, "A checkpoint not complete by then is abandoned");
DEFINE_string(model_info, "",
              "model.json of the model the workers train, without its training figures (JSON, as "
              "`embedps node-flags --role=scheduler` prints it): written to --model_dir with the job's "
              "statistics after the export, so the model can be evaluated and served");
DEFINE_string(resume, "",
              "Resume the job from the newest usable checkpoint in this directory (it becomes "
              "--checkpoint_dir unless that is set); 'auto': resume from --checkpoint_dir when it "
              "holds a checkpoint, else start a new job (for jobs a manager restarts)");
DEFINE_int32(recovery_timeout_ms, 120000,
             "How long to wait for a replacement of a dead server, or for any worker when all died");
DEFINE_int32(progress_interval_ms, 2000, "How often progress is printed");
DEFINE_double(eval_every_s, 0,
              "Evaluate the model on the test set (the workers' --eval_test) every this many seconds of "
              "training, and once at the end; 0: not by time");
DEFINE_uint64(eval_every_rows, 0,
              "Evaluate the model every this many rows trained (all workers), and once at the end; 0: "
              "not by rows");
DEFINE_uint64(eval_rows, 0, "Test rows scored by each evaluation during training (0: all); the final one scores all");
DEFINE_string(job_name, "embedps", "Name of the job shown on /status and the dashboard");
DEFINE_bool(keep_best, false,
            "Snapshot the model at each best periodic evaluation and export the best snapshot when the final "
            "evaluation is worse (needs --model_dir and periodic evaluation)");
DEFINE_string(job_config, "",
              "The job's settings as its launcher describes them (a JSON object: data, batch, optimizers), "
              "shown on /status and the dashboard");
DEFINE_int32(http_linger_ms, 0,
             "Keep serving /status and the dashboard this long after the job ended, so its "
             "final state (or failure) can still be read");
DECLARE_int32(join_timeout_ms);

namespace {

embedps::StatusOr<embedps::scheduler::SchedulerOptions> OptionsFromFlags() {
  using embedps::InvalidArgument;
  if (FLAGS_num_servers <= 0 || FLAGS_num_workers <= 0) {
    return InvalidArgument("--num_servers and --num_workers must be >= 1");
  }
  if (FLAGS_virtual_shards < FLAGS_num_servers) {
    return InvalidArgument("--virtual_shards must be at least --num_servers");
  }
  if (FLAGS_partitions_per_worker <= 0) return InvalidArgument("--partitions_per_worker must be >= 1");
  if (FLAGS_passes <= 0) return InvalidArgument("--passes must be >= 1");
  if (FLAGS_node_timeout_ms <= 0) return InvalidArgument("--node_timeout_ms must be > 0");
  if (FLAGS_checkpoint_interval_s < 0 || FLAGS_checkpoints_to_keep < 1 || FLAGS_full_checkpoint_every < 1 ||
      FLAGS_checkpoint_timeout_ms <= 0 || FLAGS_recovery_timeout_ms <= 0) {
    return InvalidArgument(
        "--checkpoint_interval_s must be >= 0, --checkpoints_to_keep and --full_checkpoint_every >= 1, "
        "--checkpoint_timeout_ms and --recovery_timeout_ms > 0");
  }
  if (FLAGS_http_linger_ms < 0) return InvalidArgument("--http_linger_ms must be >= 0");
  if (!(FLAGS_eval_every_s >= 0)) return InvalidArgument("--eval_every_s must be >= 0");
  if (FLAGS_train.empty()) return InvalidArgument("--train is required");
  if (!(FLAGS_max_bad_line_fraction >= 0 && FLAGS_max_bad_line_fraction <= 1)) {
    return InvalidArgument("--max_bad_line_fraction must be in [0, 1]");
  }
  embedps::scheduler::SchedulerOptions o;
  o.bind_endpoint = FLAGS_bind;
  o.endpoint_file = FLAGS_endpoint_file;
  o.cluster_id = embedps::ClusterIdFromFlags();
  o.num_servers = FLAGS_num_servers;
  o.num_workers = FLAGS_num_workers;
  o.num_virtual_shards = FLAGS_virtual_shards;
  if (FLAGS_replicas != 1 && FLAGS_replicas != 2) {
    return embedps::InvalidArgument("--replicas must be 1 or 2, got " + std::to_string(FLAGS_replicas));
  }
  if (FLAGS_replicas == 2 && FLAGS_num_servers < 2) {
    return embedps::InvalidArgument("--replicas=2 needs --num_servers >= 2: a server's copy lives on another server");
  }
  if (FLAGS_replicas == 2 && FLAGS_checkpoint_dir.empty() && FLAGS_resume.empty()) {
    return embedps::InvalidArgument("--replicas=2 needs --checkpoint_dir: the handoff files to a dead server's replacement go there");
  }
  o.replicas = static_cast<uint32_t>(FLAGS_replicas);
  std::stringstream files(FLAGS_train);
  for (std::string f; std::getline(files, f, ',');) {
    if (!f.empty()) o.train_files.push_back(f);
  }
  o.partitions_per_worker = FLAGS_partitions_per_worker;
  o.passes = FLAGS_passes;
  o.shuffle_seed = FLAGS_shuffle_seed;
  o.model_dir = FLAGS_model_dir;
  if (!FLAGS_job_config.empty()) {
    o.job_config = nlohmann::json::parse(FLAGS_job_config, nullptr, /*allow_exceptions=*/false);
    if (!o.job_config.is_object()) return embedps::InvalidArgument("--job_config is not a JSON object");
  }
  if (!FLAGS_model_info.empty()) {
    o.model_info = nlohmann::json::parse(FLAGS_model_info, nullptr, /*allow_exceptions=*/false);
    if (!o.model_info.is_object() || o.model_info.value("format", "") != "embedps-model") {
      return embedps::InvalidArgument("--model_info is not a model description (print one with embedps node-flags "
                                      "--role=scheduler)");
    }
  }
  o.stats_json = FLAGS_stats_json;
  o.max_bad_line_fraction = FLAGS_max_bad_line_fraction;
  o.node_timeout = std::chrono::milliseconds(FLAGS_node_timeout_ms);
  o.join_timeout = std::chrono::milliseconds(FLAGS_join_timeout_ms);
  o.progress_interval = std::chrono::milliseconds(FLAGS_progress_interval_ms);
  o.limits = embedps::DecodeLimitsFromFlags();
  o.job_name = FLAGS_job_name;
  if (FLAGS_resume == "auto") {
    if (FLAGS_checkpoint_dir.empty()) return embedps::InvalidArgument("--resume=auto needs --checkpoint_dir");
    o.checkpoint_dir = FLAGS_checkpoint_dir;
    o.resume_auto = true;
  } else {
    o.checkpoint_dir = FLAGS_checkpoint_dir.empty() ? FLAGS_resume : FLAGS_checkpoint_dir;
    o.resume = !FLAGS_resume.empty();
  }
  o.checkpoint_interval = std::chrono::seconds(FLAGS_checkpoint_interval_s);
  o.first_checkpoint_after = std::chrono::seconds(std::max(0, FLAGS_first_checkpoint_s));
  o.checkpoint_every_rows = FLAGS_checkpoint_every_rows;
  o.checkpoint_each_pass = FLAGS_checkpoint_each_pass;
  o.checkpoint_min_gap = std::chrono::seconds(std::max(0, FLAGS_checkpoint_min_gap_s));
  o.checkpoints_to_keep = FLAGS_checkpoints_to_keep;
  o.full_checkpoint_every = FLAGS_full_checkpoint_every;
  o.checkpoint_timeout = std::chrono::milliseconds(FLAGS_checkpoint_timeout_ms);
  o.recovery_timeout = std::chrono::milliseconds(FLAGS_recovery_timeout_ms);
  o.eval_every = std::chrono::milliseconds(static_cast<int64_t>(FLAGS_eval_every_s * 1000));
  o.eval_every_rows = FLAGS_eval_every_rows;
  o.eval_rows = FLAGS_eval_rows;
  o.keep_best = FLAGS_keep_best;
  ASSIGN_OR_RETURN(o.curve, embedps::CurveConfigFromFlags(/*binds=*/true, /*connects=*/false));
  return o;
}

}  // namespace

int main(int argc, char** argv) {
  embedps::InitProcess(&argc, &argv,
                       "embedps-scheduler --num_servers=S --num_workers=W --train=FILE [flags]",
                       embedps::wire::Role::kScheduler);
  const char* kProg = "embedps-scheduler";
  auto options = OptionsFromFlags();
  if (!options.ok()) return embedps::ExitWithError(kProg, options.status());
  // The HTTP endpoint reads the registry and the board; both outlive it.
  embedps::MetricsRegistry metrics;
  embedps::scheduler::StatusBoard board;
  auto http = embedps::HttpServerFromFlags(&metrics);
  if (!http.ok()) return embedps::ExitWithError(kProg, http.status());
  if (*http) embedps::scheduler::AddSchedulerRoutes(http->get(), &board);
  auto url = embedps::StartHttpServer(http->get());
  if (!url.ok()) return embedps::ExitWithError(kProg, url.status());
  options->http_url = *url;
  zmq::context_t ctx(1);
  embedps::scheduler::Scheduler scheduler(ctx, std::move(options).value(), &metrics, &board);
  embedps::Status st = scheduler.Run();
  if (*http && FLAGS_http_linger_ms > 0) {
    std::this_thread::sleep_for(std::chrono::milliseconds(FLAGS_http_linger_ms));
  }
  if (!st.ok()) return embedps::ExitWithError(kProg, st);
  return 0;
}
