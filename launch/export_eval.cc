#include "launch/export_eval.h"

#include <cmath>
#include <cstdio>
#include <filesystem>
#include <fstream>
#include <limits>

#include <glog/logging.h>

#include "launch/local_command.h"
#include "worker/data/format.h"
#include "worker/eval/interactions.h"
#include "worker/eval/model_evaluator.h"
#include "worker/eval/ranking_evaluator.h"

namespace embedps::launch {
namespace {

std::string Format(const char* fmt, double a, double b) {
  char buf[160];
  std::snprintf(buf, sizeof(buf), fmt, a, b);
  return buf;
}

// The oracle figures of generated data (gen-criteo's TEST.meta.json).
void AddOracle(const std::string& test, nlohmann::json* summary) {
  std::ifstream in(test + ".meta.json");
  if (!in) return;
  const nlohmann::json meta = nlohmann::json::parse(in, nullptr, /*allow_exceptions=*/false);
  if (meta.is_discarded()) return;
  for (const char* key : {"oracle_auc", "oracle_logloss"}) {
    if (meta.contains(key) && meta[key].is_number()) (*summary)[key] = meta[key];
  }
}

std::string ObjectiveLine(const worker::EvalResult& eval, nlohmann::json* summary) {
  if (eval.objective != worker::Objective::kBinary) {
    (*summary)["test_rmse"] = eval.rmse;
    (*summary)["test_mae"] = eval.mae;
    return Format("test RMSE %.4f, MAE %.4f", eval.rmse, eval.mae);
  }
  (*summary)["test_auc"] = eval.auc;
  (*summary)["test_logloss"] = eval.logloss;
  std::string line = Format("test AUC %.4f", eval.auc, 0);
  if (summary->contains("oracle_auc")) line += Format(" (oracle %.4f)", (*summary)["oracle_auc"].get<double>(), 0);
  line += Format(", test logloss %.4f", eval.logloss, 0);
  if (summary->contains("oracle_logloss")) line += Format(" (oracle %.4f)", (*summary)["oracle_logloss"].get<double>(), 0);
  return line;
}

// Ranking metrics from the export's interactions; `line` gets them appended.
Status AddRanking(worker::ExportedModel& exported, const ExportEvalRequest& r, bool ncf,
                  nlohmann::json* summary, std::string* line) {
  ASSIGN_OR_RETURN(const worker::Interactions train,
                   worker::ReadInteractionsFile(r.model_dir + "/" + worker::kInteractionsFile));
  worker::RankingOptions o;
  o.k = kRankingK;
  o.sampled = ncf;
  o.scan.max_bad_line_fraction = r.max_bad_line_fraction;
  if (!ncf) {
    o.min_relevant_label = kRelevantRating;
    // Rank by the unclipped rating: clipping would tie every item above the top.
    RETURN_IF_ERROR(exported.SetRatingRange(-std::numeric_limits<float>::infinity(),
                                            std::numeric_limits<float>::infinity()));
  }
  ASSIGN_OR_RETURN(const worker::RankingResult rank,
                   worker::EvaluateRanking(exported, train, r.test, r.format, r.side, o));
  if (ncf) {
    (*summary)["test_rows"] = rank.heldout;
    (*summary)["test_hr_at_10"] = rank.hit_ratio;
    (*summary)["test_ndcg_at_10"] = rank.ndcg;
    *line += Format("test HR@10 %.4f, NDCG@10 %.4f (99 sampled negatives)", rank.hit_ratio, rank.ndcg);
  }
  (*summary)["test_precision_at_10"] = rank.precision;
  (*summary)["test_recall_at_10"] = rank.recall;
  (*summary)["test_ranking_users"] = rank.users;
  *line += Format(", precision@10 %.4f, recall@10 %.4f", rank.precision, rank.recall) +
           " (full catalog, " + std::to_string(rank.users) + " users)";
  return Status::OK();
}

}  // namespace

Status WriteExportInteractions(const std::string& model_dir, const std::string& train, data::Format format,
                               double max_bad_line_fraction) {
  if (!data::IsRatingFormat(format)) return Status::OK();
  worker::ScanOptions scan;
  scan.max_bad_line_fraction = max_bad_line_fraction;
  ASSIGN_OR_RETURN(const worker::Interactions interactions, worker::CollectInteractions(train, format, scan));
  return worker::WriteInteractionsFile(model_dir + "/" + worker::kInteractionsFile, interactions);
}

StatusOr<std::string> EvaluateExport(const ExportEvalRequest& r, nlohmann::json* summary) {
  ASSIGN_OR_RETURN(auto exported, LoadExportedModel(r.model_dir));
  const bool ncf = exported->info().spec.model == "ncf";
  (*summary)["model_rows"] = exported->rows(0);
  std::string line;
  if (!ncf) {
    ASSIGN_OR_RETURN(const worker::EvalResult eval,
                     worker::EvaluateModel(*exported, r.test, r.max_bad_line_fraction, r.format, r.side));
    (*summary)["test_rows"] = eval.rows;
    if (eval.objective == worker::Objective::kBinary) AddOracle(r.test, summary);
    line = ObjectiveLine(eval, summary);
    if (eval.objective == worker::Objective::kBinary) return line;
  }
  std::error_code ec;
  if (!std::filesystem::exists(r.model_dir + "/" + worker::kInteractionsFile, ec)) {
    if (ncf) {
      return FailedPrecondition(r.model_dir + " has no " + worker::kInteractionsFile +
                                " (the training interactions ranking needs)");
    }
    return line;
  }
  Status ranked = AddRanking(*exported, r, ncf, summary, &line);
  if (ncf) RETURN_IF_ERROR(ranked);
  // A rating test set may have no rating >= kRelevantRating: RMSE still stands.
  if (!ranked.ok()) LOG(WARNING) << "no ranking metrics: " << ranked.message();
  return line;
}

}  // namespace embedps::launch
