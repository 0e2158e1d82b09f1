#include "launch/keygen_command.h"

#include <cstdio>

#include "common/security/curve_keys.h"

namespace embedps::launch {

std::vector<std::string> DefaultNodeKeyNames(uint32_t count) {
  std::vector<std::string> names;
  for (uint32_t i = 0; i < count; ++i) names.push_back("node-" + std::to_string(i));
  return names;
}

Status RunKeygen(const KeygenOptions& o) {
  if (o.out.empty()) return InvalidArgument("--out DIR is required");
  if (!o.add.empty()) {
    RETURN_IF_ERROR(security::AddNodeKey(o.out, o.add));
    std::printf("embedps: added node key %s to %s (%s/%s.secret; restart the scheduler and "
                "servers to admit it)\n",
                o.add.c_str(), o.out.c_str(), o.out.c_str(), o.add.c_str());
    return Status::OK();
  }
  if (o.nodes == 0 || o.nodes > 100000) return InvalidArgument("--nodes must be in 1..100000");
  RETURN_IF_ERROR(security::WriteKeyDirectory(o.out, DefaultNodeKeyNames(o.nodes)));
  std::printf("embedps: wrote CURVE keys to %s: cluster keypair (%s, %s), %u node keypairs "
              "(node-0 .. node-%u) and the allow-list %s\n",
              o.out.c_str(), security::kClusterPublicFile, security::kClusterSecretFile, o.nodes,
              o.nodes - 1, security::kAllowListFile);
  std::printf("embedps: give every daemon --curve_dir=DIR; servers and workers also "
              "--curve_key=node-K (one per node). Workers need only cluster.pub and their own "
              "key files.\n");
  return Status::OK();
}

}  // namespace embedps::launch
