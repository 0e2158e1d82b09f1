#include "tests/support/in_process_trainer.h"

namespace embedps::testing {

StatusOr<std::unique_ptr<InProcessTrainer>> InProcessTrainer::Create(
    worker::Model* model, const ps::OptimizerConfig& optimizer, uint64_t seed) {
  std::unique_ptr<InProcessTrainer> t(new InProcessTrainer(model));
  uint32_t id = 0;
  for (const auto& mt : model->tables()) {
    ps::TableConfig cfg;
    cfg.id = id++;
    cfg.name = mt.name;
    cfg.dim = mt.dim;
    ASSIGN_OR_RETURN(cfg.init, ps::ParseInitializer(mt.initializer));
    cfg.init_scale = mt.init_scale;
    cfg.seed = seed;
    cfg.optimizer = optimizer;
    ASSIGN_OR_RETURN(auto table, ps::EmbeddingTable::Create(cfg));
    t->tables_.push_back(std::move(table));
  }
  return t;
}

void InProcessTrainer::Pull(worker::TableRows* rows) {
  rows->resize(tables_.size());
  for (size_t t = 0; t < tables_.size(); ++t) {
    const auto& keys = model_->Keys(t);
    (*rows)[t].resize(keys.size() * tables_[t]->config().dim);
    tables_[t]->Pull(keys.data(), keys.size(), (*rows)[t].data());
  }
}

double InProcessTrainer::TrainEpoch(const std::vector<data::Example>& data, size_t batch_size) {
  double loss = 0;
  worker::TableRows rows, grads;
  for (size_t at = 0; at < data.size(); at += batch_size) {
    const std::vector<data::Example> batch(data.begin() + at,
                                           data.begin() + std::min(data.size(), at + batch_size));
    model_->Prepare(batch);
    Pull(&rows);
    loss += model_->Step(batch, rows, &grads);
    for (size_t t = 0; t < tables_.size(); ++t) {
      const auto& keys = model_->Keys(t);
      (void)tables_[t]->Push(keys.data(), keys.size(), grads[t].data());
    }
  }
  return data.empty() ? 0 : loss / data.size();
}

std::vector<float> InProcessTrainer::Predict(const std::vector<data::Example>& data,
                                             size_t batch_size) {
  std::vector<float> scores, all;
  worker::TableRows rows;
  for (size_t at = 0; at < data.size(); at += batch_size) {
    const std::vector<data::Example> batch(data.begin() + at,
                                           data.begin() + std::min(data.size(), at + batch_size));
    model_->Prepare(batch);
    Pull(&rows);
    model_->Predict(batch, rows, &scores);
    all.insert(all.end(), scores.begin(), scores.end());
  }
  return all;
}

}  // namespace embedps::testing
