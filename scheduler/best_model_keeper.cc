#include "scheduler/best_model_keeper.h"

namespace embedps::scheduler {

std::optional<double> BestModelKeeper::Score(const nlohmann::json& eval) {
  if (eval.contains("test_auc")) return eval["test_auc"].get<double>();
  if (eval.contains("test_rmse")) return -eval["test_rmse"].get<double>();
  return std::nullopt;
}

std::optional<std::string> BestModelKeeper::OnEvaluation(const nlohmann::json& eval) {
  if (!enabled_) return std::nullopt;
  const std::optional<double> score = Score(eval);
  if (!score) return std::nullopt;
  if (eval.value("final", false)) {
    final_ = eval;
    return std::nullopt;
  }
  if (best_ && *score <= *best_) return std::nullopt;
  best_ = *score;
  const std::string name = "best-" + std::to_string(++count_);
  snapshots_[name] = Snapshot{*score, eval, 0, 0};
  return name;
}

void BestModelKeeper::SnapshotStarted(const std::string& name, size_t servers) {
  auto it = snapshots_.find(name);
  if (it != snapshots_.end()) it->second.expected = servers;
}

void BestModelKeeper::SnapshotWritten(const std::string& name) {
  auto it = snapshots_.find(name);
  if (it != snapshots_.end()) ++it->second.written;
}

std::optional<std::string> BestModelKeeper::Kept() const {
  if (!enabled_ || !final_) return std::nullopt;
  const std::optional<double> final_score = Score(*final_);
  const std::string* best = nullptr;
  double best_score = 0;
  for (const auto& [name, s] : snapshots_) {
    if (s.complete() && (best == nullptr || s.score > best_score)) {
      best = &name;
      best_score = s.score;
    }
  }
  if (best == nullptr || !final_score || best_score <= *final_score) return std::nullopt;
  return *best;
}

nlohmann::json BestModelKeeper::Json() const {
  nlohmann::json j = {{"kept", Kept() ? "best" : "final"}};
  if (const auto kept = Kept()) j["best_eval"] = snapshots_.at(*kept).eval;
  if (final_) j["final_eval"] = *final_;
  return j;
}

}  // namespace embedps::scheduler
