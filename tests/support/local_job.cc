#include "tests/support/local_job.h"

#include <fstream>
#include <thread>

#include "common/http/http_client.h"
#include "datagen/criteo_generator.h"
#include "tests/support/subprocess.h"

namespace embedps::testing {
namespace {

using Clock = std::chrono::steady_clock;

Status Generate(const std::string& path, uint64_t rows, uint64_t seed) {
  datagen::CriteoGeneratorOptions gen;
  gen.rows = rows;
  gen.seed = seed;
  gen.out = path;
  gen.progress = false;
  return datagen::GenerateCriteo(gen).status();
}

}  // namespace

LocalJob::LocalJob(const ScratchDir& dir, int passes, std::vector<std::string> extra)
    : dir_(dir), passes_(passes), extra_(std::move(extra)) {}

LocalJob::~LocalJob() { group_.TerminateAll(std::chrono::milliseconds(0)); }

std::string LocalJob::output() const { return ReadFile(dir_.File("local.log")); }

StatusOr<nlohmann::json> LocalJob::FetchStatus() const {
  ASSIGN_OR_RETURN(auto res, http::Fetch(scheduler_, "GET", "/status", std::chrono::seconds(5)));
  if (res.status != 200) return Unavailable("/status answered " + std::to_string(res.status));
  auto j = nlohmann::json::parse(res.body, nullptr, /*allow_exceptions=*/false);
  if (j.is_discarded()) return DataLoss("/status is not JSON");
  return j;
}

Status LocalJob::Start(size_t samples) {
  RETURN_IF_ERROR(Generate(dir_.File("train.tsv"), 20000, 31));
  RETURN_IF_ERROR(Generate(dir_.File("test.tsv"), 2000, 32));
  token_file_ = dir_.Write("token", "test-token-0123456789abcdef\n");
  const std::string run_dir = dir_.File("run");
  launch::ChildSpec spec{"local", BinDir() + "/embedps",
                         {"local", "--train=" + dir_.File("train.tsv"), "--test=" + dir_.File("test.tsv"),
                          "--servers=2", "--workers=2", "--passes=" + std::to_string(passes_),
                          "--timeout_s=90", "--run_dir=" + run_dir, "--summary_json=" + summary_file(),
                          "--http_enable_mutations", "--http_token_file=" + token_file_},
                         dir_.File("local.log")};
  spec.args.insert(spec.args.end(), extra_.begin(), extra_.end());
  RETURN_IF_ERROR(group_.Start(spec).status());
  const auto deadline = Clock::now() + std::chrono::seconds(60) * TimeoutScale();
  while (Clock::now() < deadline) {
    if (auto exit = group_.WaitAny(std::chrono::milliseconds(100))) {
      return Internal("embedps local exited early with " + std::to_string(exit->exit_code) + ":\n" + output());
    }
    if (scheduler_.empty()) {
      std::ifstream in(run_dir + "/http/scheduler.url");
      std::string url;
      if (in >> url) scheduler_ = url.substr(url.find("//") + 2);
      continue;
    }
    auto status = FetchStatus();
    if (status.ok() && (*status)["job"]["state"] == "training" &&
        (*status)["history"].size() >= samples) {
      return Status::OK();
    }
  }
  return DeadlineExceeded("the job did not start training within 60 s:\n" + output());
}

int LocalJob::Wait(std::chrono::seconds timeout) {
  auto exit = group_.WaitAny(timeout);
  return exit ? exit->exit_code : -1;
}

}  // namespace embedps::testing
