#include "launch/keygen_command.h"

#include <cstdio>

namespace embedps::launch {

std::vector<security::NodeKeySpec> RoleNodeKeys(uint32_t servers, uint32_t workers, uint32_t standby_servers) {
  std::vector<security::NodeKeySpec> keys;
  for (uint32_t s = 0; s < servers; ++s) {
    keys.push_back({"server-" + std::to_string(s), security::KeyRole::kServer});
  }
  for (uint32_t s = servers; s < servers + standby_servers; ++s) {
    keys.push_back({"standby-" + std::to_string(s), security::KeyRole::kServer});
  }
  for (uint32_t w = 0; w < workers; ++w) {
    keys.push_back({"worker-" + std::to_string(w), security::KeyRole::kWorker});
  }
  return keys;
}

std::vector<std::string> DefaultNodeKeyNames(uint32_t count) {
  std::vector<std::string> names;
  for (uint32_t i = 0; i < count; ++i) names.push_back("node-" + std::to_string(i));
  return names;
}

namespace {

Status AddOne(const KeygenOptions& o) {
  if (o.add_role.empty()) {
    return InvalidArgument("--add needs --role (scheduler, server, worker, client, or any for a "
                           "key that admits every role)");
  }
  ASSIGN_OR_RETURN(security::KeyRole role, security::ParseKeyRole(o.add_role));
  RETURN_IF_ERROR(security::AddNodeKey(o.out, o.add, role));
  std::printf("embedps: added node key %s (role %s) to %s (%s/%s.secret; restart the scheduler "
              "and servers to admit it)\n",
              o.add.c_str(), security::KeyRoleName(role), o.out.c_str(), o.out.c_str(),
              o.add.c_str());
  return Status::OK();
}

}  // namespace

Status RunKeygen(const KeygenOptions& o) {
  if (o.out.empty()) return InvalidArgument("--out DIR is required");
  if (!o.add.empty()) return AddOne(o);
  if (o.nodes > 100000 || o.servers > 100000 || o.workers > 100000 || o.standby_servers > 100000) {
    return InvalidArgument("--nodes, --servers, --workers and --standby_servers must be at most 100000");
  }
  if (o.nodes > 0) {
    RETURN_IF_ERROR(security::WriteKeyDirectory(o.out, DefaultNodeKeyNames(o.nodes)));
    std::printf("embedps: wrote CURVE keys to %s: cluster keypair (%s, %s), %u node keypairs "
                "(node-0 .. node-%u, each admits any role) and the allow-list %s\n",
                o.out.c_str(), security::kClusterPublicFile, security::kClusterSecretFile, o.nodes,
                o.nodes - 1, security::kAllowListFile);
  } else {
    if (o.servers == 0 || o.workers == 0) {
      return InvalidArgument("--servers and --workers must be >= 1 (or give --nodes N)");
    }
    RETURN_IF_ERROR(security::WriteKeyDirectoryWithRoles(o.out, RoleNodeKeys(o.servers, o.workers, o.standby_servers)));
    std::printf("embedps: wrote CURVE keys to %s: cluster keypair (%s, %s), %u server keys "
                "(server-0 ..), %u standby server keys (standby-%u ..) and %u worker keys (worker-0 ..), "
                "each admitted only in its role, and the allow-list %s\n",
                o.out.c_str(), security::kClusterPublicFile, security::kClusterSecretFile,
                o.servers, o.standby_servers, o.servers, o.workers, security::kAllowListFile);
  }
  std::printf("embedps: give every daemon --curve_dir=DIR; servers and workers also "
              "--curve_key=NAME (their own key). Workers need only cluster.pub and their own "
              "key files.\n");
  return Status::OK();
}

}  // namespace embedps::launch
