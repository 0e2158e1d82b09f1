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

// The public keys admitted into a cluster, each with a node name for logs.
// File format: one "NAME Z85KEY" per line; blank lines and lines starting
// with '#' are ignored. Names are [A-Za-z0-9_.-]+.
class AllowList {
 public:
  // InvalidArgument naming `origin` and the line for a malformed entry.
  static StatusOr<AllowList> Parse(const std::string& text, const std::string& origin);
  static StatusOr<AllowList> ReadFile(const std::string& path);

  // Adds `name` with its Z85 public key; InvalidArgument if either is malformed.
  Status Add(const std::string& name, const std::string& public_key_z85);
  // The name of a raw 32-byte public key, or nullptr when it is not admitted.
  const std::string* Find(const void* key, size_t size) const;
  size_t size() const { return names_.size(); }
  // The file form (see above).
  std::string ToText() const;

 private:
  std::map<std::string, std::string> names_;  // raw 32-byte key -> name
  std::vector<std::string> order_;            // raw keys in insertion order
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

// Writes a new key directory: the cluster keypair, one keypair per name in
// `node_names` (NAME.pub, NAME.secret) and the allow-list of their public
// keys. Secret files are mode 0600. AlreadyExists if `dir` holds keys.
Status WriteKeyDirectory(const std::string& dir, const std::vector<std::string>& node_names);

// Adds one node keypair to an existing directory and its allow-list.
Status AddNodeKey(const std::string& dir, const std::string& name);

// Loads what a node needs from `dir`: with `binds`, the cluster secret and
// the allow-list; with a non-empty `node_name`, that node's keypair.
// NotFound / InvalidArgument name the file at fault.
StatusOr<CurveConfig> LoadCurveConfig(const std::string& dir, const std::string& node_name,
                                      bool binds);

// True for names keygen accepts ([A-Za-z0-9_.-]+, at most 64 characters).
bool IsValidNodeName(const std::string& name);

}  // namespace embedps::security
