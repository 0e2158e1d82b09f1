#include "tests/support/reference_lr.h"

#include <algorithm>
#include <cmath>
#include <memory>
#include <unordered_map>
#include <vector>

#include "common/eval_metrics.h"
#include "common/partition.h"
#include "worker/data/example_reader.h"

namespace embedps::testing {
namespace {

// Float storage like a parameter server's; arithmetic is done in double.
struct Param {
  float weight = 0;
  float accumulator = 0;
};
using Model = std::unordered_map<uint64_t, Param>;

constexpr size_t kReadBatch = 8192;

// A whole Criteo file as one partition (PlanPartitions with count 1 also
// validates it).
StatusOr<std::unique_ptr<data::ExampleReader>> OpenWholeFile(const std::string& file) {
  ASSIGN_OR_RETURN(std::vector<Partition> parts, PlanPartitions(file, 1));
  return data::ExampleReader::Open(parts[0], data::Format::kCriteo, data::ReaderOptions());
}

double Logit(const Model& model, const data::Example& ex) {
  double z = 0;
  for (size_t j = 0; j < ex.keys.size(); ++j) {
    auto it = model.find(ex.keys[j]);
    if (it != model.end()) z += it->second.weight * ex.values[j];
  }
  return z;
}

// Trainer state across the examples of one minibatch.
class Trainer {
 public:
  Trainer(const ReferenceLrOptions& o, Model* model) : o_(o), model_(model) {}

  // Adds one example's gradient; applies the update when the batch is full.
  void Add(const data::Example& ex) {
    // Weights are read before any update of this batch: a synchronous
    // minibatch step, as the distributed system takes one per batch.
    const double g = Sigmoid(static_cast<float>(Logit(*model_, ex))) - ex.label;
    for (size_t j = 0; j < ex.keys.size(); ++j) pending_.push_back({ex.keys[j], g * ex.values[j]});
    if (++in_batch_ == o_.batch_size) Flush();
  }

  // Applies the gradient of the (possibly partial) current batch.
  void Flush() {
    if (in_batch_ == 0) return;
    // A key's gradient is the sum over the batch's examples divided by the
    // batch size (the gradient of the mean loss), applied once per batch.
    std::sort(pending_.begin(), pending_.end(),
              [](const Grad& a, const Grad& b) { return a.key < b.key; });
    const double inv = 1.0 / in_batch_;
    for (size_t i = 0; i < pending_.size();) {
      double sum = 0;
      size_t j = i;
      for (; j < pending_.size() && pending_[j].key == pending_[i].key; ++j) sum += pending_[j].g;
      Apply(pending_[i].key, sum * inv);
      i = j;
    }
    pending_.clear();
    in_batch_ = 0;
  }

 private:
  struct Grad {
    uint64_t key;
    double g;
  };

  void Apply(uint64_t key, double g) {
    Param& p = model_->try_emplace(key, Param{0, static_cast<float>(o_.initial_accumulator)})
                   .first->second;
    if (o_.adagrad) {
      p.accumulator = static_cast<float>(p.accumulator + g * g);
      p.weight = static_cast<float>(p.weight - o_.learning_rate * g / std::sqrt(p.accumulator));
    } else {
      p.weight = static_cast<float>(p.weight - o_.learning_rate * g);
    }
  }

  const ReferenceLrOptions& o_;
  Model* model_;
  std::vector<Grad> pending_;
  int in_batch_ = 0;
};

}  // namespace

StatusOr<ReferenceLrResult> TrainReferenceLr(const std::string& train_file,
                                             const std::string& test_file,
                                             const ReferenceLrOptions& o) {
  if (o.epochs < 1 || o.batch_size < 1 || !(o.learning_rate > 0)) {
    return InvalidArgument("reference LR needs epochs >= 1, batch_size >= 1, learning_rate > 0");
  }
  if (o.adagrad && !(o.initial_accumulator > 0)) {
    return InvalidArgument("Adagrad needs initial_accumulator > 0");
  }
  ReferenceLrResult result;
  Model model;
  model.reserve(1 << 20);
  Trainer trainer(o, &model);
  std::vector<data::Example> batch;
  for (int epoch = 0; epoch < o.epochs; ++epoch) {
    ASSIGN_OR_RETURN(auto reader, OpenWholeFile(train_file));
    while (true) {
      ASSIGN_OR_RETURN(size_t n, reader->NextBatch(kReadBatch, &batch));
      if (n == 0) break;
      for (const data::Example& ex : batch) trainer.Add(ex);
      result.train_rows += n;
    }
  }
  trainer.Flush();

  ASSIGN_OR_RETURN(auto reader, OpenWholeFile(test_file));
  std::vector<float> scores;
  std::vector<float> labels;
  double logloss_sum = 0;
  while (true) {
    ASSIGN_OR_RETURN(size_t n, reader->NextBatch(kReadBatch, &batch));
    if (n == 0) break;
    for (const data::Example& ex : batch) {
      const double z = Logit(model, ex);
      scores.push_back(static_cast<float>(z));
      labels.push_back(ex.label);
      logloss_sum += LogLossFromLogit(z, ex.label);
    }
  }
  if (scores.empty()) return InvalidArgument(test_file + " has no examples");
  result.test_auc = RocAuc(scores, labels);
  result.test_logloss = logloss_sum / static_cast<double>(scores.size());
  return result;
}

}  // namespace embedps::testing
