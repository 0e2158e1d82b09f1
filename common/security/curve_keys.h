// CURVE keys for a cluster: generating them, the on-disk layout written by
// `embedps keygen`, the allow-list of admitted public keys, and loading what
// one node needs (see docs/security.md for the layout and threat model).
//
// Keys are Z85 text (40 characters for 32 bytes), as ZeroMQ takes them.
#pragma once

#include <map>
#include <memory>
#include <string>
#include <vector>

#include "common/status.h"

namespace embedps::security {

struct CurveKeyPair {
  std::string public_key;  // Z85
  std::string secret_key;  // Z85
};

// A fresh keypair from libsodium (through libzmq). Unavailable when this
// libzmq has no CURVE support.
StatusOr<CurveKeyPair> GenerateKeyPair();

// The role a key admits its holder in. A stolen worker key must not make
// its holder a server (or a scheduler's peer that pushes as one), so keygen
// binds each node key to one role. kAny: a key without a role (from
// `keygen --nodes`, or an allow-list written before roles) admits any role.
enum class KeyRole { kAny, kScheduler, kServer, kWorker, kClient };
// "any", "scheduler", "server", "worker", "client" (the wire role names).
const char* KeyRoleName(KeyRole role);
StatusOr<KeyRole> ParseKeyRole(const std::string& name);

// The message property (zmq_msg_gets) that the ZAP handler attaches to the
// messages of an admitted connection: the role its key is bound to
// ("worker", ...); absent for keys that admit any role.
inline constexpr char kKeyRoleProperty[] = "X-Embedps-Role";

// One node key to generate: its name (file names, logs) and its role.
struct NodeKeySpec {
  std::string name;
  KeyRole role = KeyRole::kAny;
};

// The public keys admitted into a cluster, each with a node name for logs
// and the role it admits. File format: one "NAME Z85KEY [ROLE]" per line
// (no ROLE: any role); blank lines and lines starting with '#' are
// ignored. Names are [A-Za-z0-9_.-]+ and unique.
class AllowList {
 public:
  struct Entry {
    std::string name;
    KeyRole role = KeyRole::kAny;
  };
  // InvalidArgument naming `origin` and the line for a malformed entry.
  static StatusOr<AllowList> Parse(const std::string& text, const std::string& origin);
  static StatusOr<AllowList> ReadFile(const std::string& path);

  // Adds `name` with its Z85 public key; InvalidArgument if either is
  // malformed or the name is taken by another key.
  Status Add(const std::string& name, const std::string& public_key_z85,
             KeyRole role = KeyRole::kAny);
  // The entry of a raw 32-byte public key, or nullptr when it is not admitted.
  const Entry* Find(const void* key, size_t size) const;
  // The entry named `name`, or nullptr.
  const Entry* FindName(const std::string& name) const;
  size_t size() const { return entries_.size(); }
  // The file form (see above).
  std::string ToText() const;

 private:
  std::map<std::string, Entry> entries_;  // raw 32-byte key -> entry
  std::vector<std::string> order_;        // raw keys in insertion order
};

// What one node needs to speak CURVE. Binding nodes (scheduler, servers)
// hold the cluster's secret key and the allow-list; connecting nodes hold
// only the cluster's public key and their own keypair.
struct CurveConfig {
  bool enabled() const { return !cluster_public.empty(); }

  std::string dir;             // where it was loaded from, for messages
  std::string cluster_public;  // the key every binding socket presents
  std::string cluster_secret;  // empty unless this node binds
  std::string node_name;       // empty unless this node connects
  CurveKeyPair node;
  std::shared_ptr<const AllowList> allowed;  // null unless this node binds
};

// File names inside a key directory.
inline constexpr char kClusterPublicFile[] = "cluster.pub";
inline constexpr char kClusterSecretFile[] = "cluster.secret";
inline constexpr char kAllowListFile[] = "allowed_keys";

// Writes a new key directory: the cluster keypair, one keypair per node
// (NAME.pub, NAME.secret) and the allow-list of their public keys with
// their roles. Secret files are mode 0600. AlreadyExists if `dir` holds keys.
Status WriteKeyDirectoryWithRoles(const std::string& dir, const std::vector<NodeKeySpec>& nodes);
// The same with keys that admit any role.
Status WriteKeyDirectory(const std::string& dir, const std::vector<std::string>& node_names);

// Adds one node keypair to an existing directory and its allow-list.
Status AddNodeKey(const std::string& dir, const std::string& name, KeyRole role = KeyRole::kAny);

// Loads what a node needs from `dir`: with `binds`, the cluster secret and
// the allow-list; with a non-empty `node_name`, that node's keypair.
// NotFound / InvalidArgument name the file at fault.
StatusOr<CurveConfig> LoadCurveConfig(const std::string& dir, const std::string& node_name,
                                      bool binds);

// True for names keygen accepts ([A-Za-z0-9_.-]+, at most 64 characters).
bool IsValidNodeName(const std::string& name);

}  // namespace embedps::security
