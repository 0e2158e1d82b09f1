// --keep_best: the job keeps the model of its best periodic evaluation (on
// --validation) when the last one is worse, since another pass can make a
// model worse. Each evaluation that beats the best so far has the servers
// write a snapshot of their rows next to the model; at the end, the best
// complete snapshot replaces the export if it beat the final evaluation.
// Pure bookkeeping: the core sends the exports and moves the files.
#pragma once

#include <cstdint>
#include <map>
#include <optional>
#include <string>

#include <nlohmann/json.hpp>

namespace embedps::scheduler {

class BestModelKeeper {
 public:
  explicit BestModelKeeper(bool enabled) : enabled_(enabled) {}
  bool enabled() const { return enabled_; }

  // An evaluation answered: `eval` (the json of EvalCoordinator::results()).
  // Returns the snapshot's name ("best-N") when it beats every earlier one
  // and a snapshot is due (never for the final one, which the export
  // itself keeps).
  std::optional<std::string> OnEvaluation(const nlohmann::json& eval);
  // A snapshot's export was sent to `servers` servers; one of them wrote it.
  void SnapshotStarted(const std::string& name, size_t servers);
  void SnapshotWritten(const std::string& name);

  // The snapshot to export instead of the final model: the best complete
  // one, when it beat the final evaluation; none otherwise.
  std::optional<std::string> Kept() const;
  // What happened, for the statistics: the best evaluation, the final one,
  // and which model was kept.
  nlohmann::json Json() const;

 private:
  // Higher is better: AUC, or minus the RMSE.
  static std::optional<double> Score(const nlohmann::json& eval);

  struct Snapshot {
    double score = 0;
    nlohmann::json eval;
    size_t expected = 0;
    size_t written = 0;
    bool complete() const { return expected > 0 && written >= expected; }
  };
  bool enabled_;
  std::optional<double> best_;
  std::map<std::string, Snapshot> snapshots_;
  std::optional<nlohmann::json> final_;
  uint64_t count_ = 0;
};

}  // namespace embedps::scheduler
