#include "worker/eval/server_evaluator.h"

#include "worker/eval/example_scan.h"

namespace embedps::worker {

StatusOr<EvalResult> EvaluateOnServers(PsClient& client, const ModelSpec& spec, const ServerEvalOptions& o) {
  ASSIGN_OR_RETURN(std::unique_ptr<Model> model, MakeModel(spec));
  const auto& tables = model->tables();
  TableRows rows(tables.size());
  std::vector<char> dense_pulled(tables.size(), 0);
  std::vector<uint64_t> tickets;
  std::vector<float> scores, labels, batch_scores;
  ScanOptions scan;
  scan.max_bad_line_fraction = o.max_bad_line_fraction;
  scan.batch_size = o.batch_size;
  scan.max_rows = o.max_rows;
  scan.csv = o.csv;
  uint64_t bad_lines = 0;
  RETURN_IF_ERROR(ScanExamples(
      o.test_files, o.format, scan,
      [&](std::vector<data::Example>& batch) {
        if (o.side != nullptr) {
          for (auto& ex : batch) o.side->Append(&ex);
        }
        model->Prepare(batch);
        tickets.clear();
        for (size_t t = 0; t < tables.size(); ++t) {
          // Dense rows are the same keys every batch: one pull serves all.
          if (tables[t].dense && dense_pulled[t]) continue;
          dense_pulled[t] = tables[t].dense;
          ASSIGN_OR_RETURN(uint64_t ticket, client.StartPull(static_cast<uint32_t>(t), tables[t].dim,
                                                             model->Keys(t), &rows[t], /*read_only=*/true));
          tickets.push_back(ticket);
        }
        for (uint64_t ticket : tickets) RETURN_IF_ERROR(client.Wait(ticket));
        model->Predict(batch, rows, &batch_scores);
        scores.insert(scores.end(), batch_scores.begin(), batch_scores.end());
        for (const auto& ex : batch) labels.push_back(ex.label);
        return o.between_batches ? o.between_batches() : Status::OK();
      },
      &bad_lines).WithContext("test data"));
  if (scores.empty()) return InvalidArgument("test data " + o.test_files + " has no valid rows");
  EvalResult result = MetricsOf(model->objective(), scores, labels);
  result.bad_lines = bad_lines;
  return result;
}

}  // namespace embedps::worker
