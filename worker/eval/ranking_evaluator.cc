#include "worker/eval/ranking_evaluator.h"

#include <algorithm>
#include <random>
#include <unordered_set>

#include "common/hash.h"
#include "common/rating_metrics.h"
#include "worker/eval/recommender.h"

namespace embedps::worker {
namespace {

struct HeldOut {
  uint64_t user = 0;
  uint64_t item = 0;
};

// Up to n catalog items that `user` has no interaction with in `train` or
// `test`, drawn without replacement from a generator seeded by the pair.
std::vector<uint64_t> SampleNegatives(const std::vector<uint64_t>& catalog, const Interactions& train,
                                      const Interactions& test, const HeldOut& pair, uint32_t n,
                                      uint64_t seed) {
  std::mt19937_64 rng(HashCombine(HashCombine(Mix64(seed), pair.user), pair.item));
  std::uniform_int_distribution<size_t> pick(0, catalog.size() - 1);
  std::unordered_set<uint64_t> chosen;
  std::vector<uint64_t> out;
  // Bounded tries: a user who has seen nearly every item gets fewer negatives.
  for (size_t tries = 0; out.size() < n && tries < size_t{n} * 100; ++tries) {
    const uint64_t item = catalog[pick(rng)];
    if (train.Has(pair.user, item) || test.Has(pair.user, item) || !chosen.insert(item).second) continue;
    out.push_back(item);
  }
  return out;
}

void RankSampled(ExportedModel& model, const data::SideFeatures* side, const Interactions& train,
                 const Interactions& test, const std::vector<HeldOut>& relevant,
                 const std::vector<uint64_t>& catalog, const RankingOptions& o, RankingResult* r) {
  std::vector<float> scores;
  double hits = 0, ndcg = 0;
  for (const HeldOut& pair : relevant) {
    std::vector<uint64_t> items = {pair.item};
    const auto negatives = SampleNegatives(catalog, train, test, pair, o.negatives, o.seed);
    items.insert(items.end(), negatives.begin(), negatives.end());
    ScoreUserItems(model, side, pair.user, items, &scores);
    const double rank = RankAmong(scores[0], std::vector<float>(scores.begin() + 1, scores.end()));
    hits += HitAtK(rank, o.k);
    ndcg += NdcgAtK(rank, o.k);
  }
  r->heldout = relevant.size();
  r->hit_ratio = hits / relevant.size();
  r->ndcg = ndcg / relevant.size();
}

// The users full-catalog ranking covers: all, or the max_full_catalog_users
// whose seeded hash is smallest.
std::unordered_set<uint64_t> FullCatalogUsers(const std::vector<HeldOut>& relevant, const RankingOptions& o) {
  std::vector<std::pair<uint64_t, uint64_t>> users;  // (hash, user)
  std::unordered_set<uint64_t> all;
  for (const HeldOut& pair : relevant) {
    if (all.insert(pair.user).second) users.emplace_back(HashCombine(Mix64(o.seed), pair.user), pair.user);
  }
  if (users.size() <= o.max_full_catalog_users) return all;
  std::nth_element(users.begin(), users.begin() + static_cast<std::ptrdiff_t>(o.max_full_catalog_users),
                   users.end());
  std::unordered_set<uint64_t> chosen;
  for (size_t i = 0; i < o.max_full_catalog_users; ++i) chosen.insert(users[i].second);
  return chosen;
}

void RankFullCatalog(ExportedModel& model, const data::SideFeatures* side, const Interactions& train,
                     const std::vector<HeldOut>& relevant, const std::vector<uint64_t>& catalog,
                     const RankingOptions& o, RankingResult* r) {
  const std::unordered_set<uint64_t> users = FullCatalogUsers(relevant, o);
  Interactions wanted;
  for (const HeldOut& pair : relevant) {
    if (users.count(pair.user) > 0) wanted.Add(pair.user, pair.item);
  }
  wanted.Finish();
  std::vector<float> scores;
  std::vector<uint64_t> ranked;
  double precision = 0, recall = 0;
  for (const auto& [user, items] : wanted.users()) {
    const std::vector<uint64_t> candidates = UnseenItems(catalog, train, user);
    ScoreUserItems(model, side, user, candidates, &scores);
    ranked.clear();
    for (const ScoredItem& s : TopK(candidates, scores, o.k)) ranked.push_back(s.item);
    precision += PrecisionAtK(ranked, items, o.k);
    recall += RecallAtK(ranked, items, o.k);
  }
  r->users = wanted.users().size();
  r->precision = precision / r->users;
  r->recall = recall / r->users;
}

}  // namespace

StatusOr<RankingResult> EvaluateRanking(ExportedModel& model, const Interactions& train,
                                        const std::string& test_files, std::optional<data::Format> format,
                                        const data::SideFeatures* side, const RankingOptions& o) {
  RankingResult r;
  Interactions test;
  std::vector<HeldOut> relevant;
  RETURN_IF_ERROR(ScanExamples(
      test_files, format, o.scan,
      [&](std::vector<data::Example>& batch) {
        for (const auto& ex : batch) {
          test.Add(ex.user, ex.item);
          if (ex.label >= o.min_relevant_label) relevant.push_back({ex.user, ex.item});
        }
        return Status::OK();
      },
      &r.bad_lines).WithContext("test data"));
  test.Finish();
  if (relevant.empty()) return InvalidArgument("test data " + test_files + " has no relevant (user, item) pairs");
  std::vector<uint64_t> catalog;
  std::set_union(train.items().begin(), train.items().end(), test.items().begin(), test.items().end(),
                 std::back_inserter(catalog));
  if (o.sampled) RankSampled(model, side, train, test, relevant, catalog, o, &r);
  if (o.full_catalog) RankFullCatalog(model, side, train, relevant, catalog, o, &r);
  return r;
}

}  // namespace embedps::worker
