// `embedps recommend --model DIR --user U --k 10 [--json]`: the top K items
// the user has no interaction with in the model's training data, with their
// scores (interaction probability for ncf; the predicted rating, unclipped,
// for mf and hybrid). `--serve PORT` answers GET /recommend?user=U&k=K
// instead (recommend_service.h) until SIGINT or SIGTERM.
//
// The catalog and each user's items come from DIR/interactions.tsv, which
// `embedps local` writes for rating data; --train FILE reads them from the
// rating files instead.
#pragma once

#include <cstdint>
#include <string>

#include "common/status.h"
#include "worker/data/side_features.h"

namespace embedps::launch {

struct RecommendOptions {
  std::string model_dir;
  std::string user;  // as given; required unless serving
  std::string k = "10";
  bool json = false;
  int serve_port = -1;  // -1: answer once; 0: serve on a free port
  std::string bind = "127.0.0.1";
  // Rating files with the training interactions; empty: DIR/interactions.tsv.
  std::string train;
  std::string format;  // of `train`; empty: detected
  double max_bad_line_fraction = 0.01;
};

Status RunRecommend(const RecommendOptions& options, const data::SideFeatures* side);

}  // namespace embedps::launch
