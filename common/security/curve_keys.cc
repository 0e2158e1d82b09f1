#include "common/security/curve_keys.h"

#include <fcntl.h>
#include <sys/stat.h>
#include <unistd.h>

#include <cctype>
#include <cerrno>
#include <cstring>
#include <filesystem>
#include <fstream>
#include <sstream>

#include <zmq.h>

namespace embedps::security {
namespace {

constexpr size_t kZ85KeyChars = 40;
constexpr size_t kRawKeyBytes = 32;

Status AlreadyExistsError(std::string message) {
  return Status(StatusCode::kAlreadyExists, std::move(message));
}

// Raw 32 bytes of a Z85 key, or InvalidArgument.
StatusOr<std::string> DecodeKey(const std::string& z85, const std::string& what) {
  if (z85.size() != kZ85KeyChars) {
    return InvalidArgument(what + ": a CURVE key is 40 Z85 characters, got " +
                           std::to_string(z85.size()));
  }
  std::string raw(kRawKeyBytes, '\0');
  if (zmq_z85_decode(reinterpret_cast<uint8_t*>(raw.data()), z85.c_str()) == nullptr) {
    return InvalidArgument(what + ": not a Z85-encoded key");
  }
  return raw;
}

// Writes `text` to a new file with `mode`; never overwrites.
Status WriteNewFile(const std::string& path, const std::string& text, mode_t mode) {
  const int fd = ::open(path.c_str(), O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, mode);
  if (fd < 0) {
    if (errno == EEXIST) return AlreadyExistsError(path + " already exists; not overwriting keys");
    return Unavailable("cannot create " + path + ": " + std::strerror(errno));
  }
  const bool ok = ::write(fd, text.data(), text.size()) == static_cast<ssize_t>(text.size());
  ::close(fd);
  if (!ok) return Unavailable("cannot write " + path);
  return Status::OK();
}

// The first line of a key file, without surrounding whitespace.
StatusOr<std::string> ReadKeyFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("CURVE key file " + path + " does not exist or cannot be read");
  std::string line;
  std::getline(in, line);
  const size_t b = line.find_first_not_of(" \t\r");
  const size_t e = line.find_last_not_of(" \t\r");
  if (b == std::string::npos) return InvalidArgument(path + ": empty key file");
  const std::string key = line.substr(b, e - b + 1);
  RETURN_IF_ERROR(DecodeKey(key, path).status());
  return key;
}

// Checks that `secret` belongs to `public_key` (a mismatched pair would only
// show up as failed handshakes much later).
Status CheckPair(const std::string& public_key, const std::string& secret, const std::string& what) {
  char derived[kZ85KeyChars + 1] = {0};
  if (zmq_curve_public(derived, secret.c_str()) != 0 || public_key != derived) {
    return InvalidArgument(what + ": the secret key does not match the public key");
  }
  return Status::OK();
}

Status WriteNodeKeys(const std::string& dir, const std::string& name, const CurveKeyPair& keys) {
  RETURN_IF_ERROR(WriteNewFile(dir + "/" + name + ".secret", keys.secret_key + "\n", 0600));
  return WriteNewFile(dir + "/" + name + ".pub", keys.public_key + "\n", 0644);
}

}  // namespace

StatusOr<CurveKeyPair> GenerateKeyPair() {
  if (!zmq_has("curve")) return Unavailable("this libzmq was built without CURVE support");
  char pub[kZ85KeyChars + 1] = {0};
  char sec[kZ85KeyChars + 1] = {0};
  if (zmq_curve_keypair(pub, sec) != 0) {
    return Unavailable(std::string("cannot generate a CURVE keypair: ") + zmq_strerror(zmq_errno()));
  }
  return CurveKeyPair{pub, sec};
}

bool IsValidNodeName(const std::string& name) {
  if (name.empty() || name.size() > 64) return false;
  for (char c : name) {
    if (!std::isalnum(static_cast<unsigned char>(c)) && c != '_' && c != '.' && c != '-') return false;
  }
  return name != "cluster" && name[0] != '.';
}

const char* KeyRoleName(KeyRole role) {
  switch (role) {
    case KeyRole::kScheduler: return "scheduler";
    case KeyRole::kServer: return "server";
    case KeyRole::kWorker: return "worker";
    case KeyRole::kClient: return "client";
    case KeyRole::kAny: break;
  }
  return "any";
}

StatusOr<KeyRole> ParseKeyRole(const std::string& name) {
  for (KeyRole r : {KeyRole::kAny, KeyRole::kScheduler, KeyRole::kServer, KeyRole::kWorker,
                    KeyRole::kClient}) {
    if (name == KeyRoleName(r)) return r;
  }
  return InvalidArgument("unknown key role '" + name +
                         "' (expected scheduler, server, worker, client or any)");
}

Status AllowList::Add(const std::string& name, const std::string& public_key_z85, KeyRole role) {
  if (!IsValidNodeName(name)) return InvalidArgument("invalid node name '" + name + "'");
  ASSIGN_OR_RETURN(std::string raw, DecodeKey(public_key_z85, "key of " + name));
  for (const auto& [key, entry] : entries_) {
    // One name, one key: logs and role checks identify a node by its name.
    if (entry.name == name && key != raw) return InvalidArgument("node name '" + name + "' is listed twice");
  }
  if (entries_.emplace(raw, Entry{name, role}).second) order_.push_back(raw);
  return Status::OK();
}

StatusOr<AllowList> AllowList::Parse(const std::string& text, const std::string& origin) {
  AllowList list;
  std::istringstream in(text);
  std::string line;
  for (int number = 1; std::getline(in, line); ++number) {
    if (!line.empty() && line.back() == '\r') line.pop_back();
    const size_t first = line.find_first_not_of(" \t");
    if (first == std::string::npos || line[first] == '#') continue;
    std::istringstream fields(line);
    std::string name, key, role_name, extra;
    fields >> name >> key >> role_name;
    const std::string where = origin + ":" + std::to_string(number);
    if (key.empty() || (fields >> extra)) {
      return InvalidArgument(where + ": expected 'NAME PUBLIC_KEY [ROLE]'");
    }
    KeyRole role = KeyRole::kAny;
    if (!role_name.empty()) {
      auto parsed = ParseKeyRole(role_name);
      if (!parsed.ok()) return parsed.status().WithContext(where);
      role = *parsed;
    }
    Status st = list.Add(name, key, role);
    if (!st.ok()) return st.WithContext(where);
  }
  return list;
}

StatusOr<AllowList> AllowList::ReadFile(const std::string& path) {
  std::ifstream in(path);
  if (!in) return NotFound("CURVE allow-list " + path + " does not exist or cannot be read");
  std::stringstream text;
  text << in.rdbuf();
  return Parse(text.str(), path);
}

const AllowList::Entry* AllowList::Find(const void* key, size_t size) const {
  if (size != kRawKeyBytes) return nullptr;
  auto it = entries_.find(std::string(static_cast<const char*>(key), size));
  return it == entries_.end() ? nullptr : &it->second;
}

const AllowList::Entry* AllowList::FindName(const std::string& name) const {
  for (const auto& [key, entry] : entries_) {
    if (entry.name == name) return &entry;
  }
  return nullptr;
}

std::string AllowList::ToText() const {
  std::string out =
      "# Public CURVE keys admitted into this cluster: NAME KEY ROLE per line\n"
      "# (ROLE: scheduler, server, worker or client; none: any role).\n";
  for (const std::string& raw : order_) {
    char z85[kZ85KeyChars + 1] = {0};
    zmq_z85_encode(z85, reinterpret_cast<const uint8_t*>(raw.data()), raw.size());
    const Entry& e = entries_.at(raw);
    out += e.name + " " + z85;
    if (e.role != KeyRole::kAny) out += std::string(" ") + KeyRoleName(e.role);
    out += "\n";
  }
  return out;
}

Status WriteKeyDirectory(const std::string& dir, const std::vector<std::string>& node_names) {
  std::vector<NodeKeySpec> nodes;
  for (const std::string& name : node_names) nodes.push_back(NodeKeySpec{name, KeyRole::kAny});
  return WriteKeyDirectoryWithRoles(dir, nodes);
}

Status WriteKeyDirectoryWithRoles(const std::string& dir, const std::vector<NodeKeySpec>& nodes) {
  std::error_code ec;
  std::filesystem::create_directories(dir, ec);
  if (ec) return Unavailable("cannot create " + dir + ": " + ec.message());
  ::chmod(dir.c_str(), 0700);
  if (std::filesystem::exists(dir + "/" + kClusterSecretFile)) {
    return AlreadyExistsError(dir + " already holds cluster keys; not overwriting them");
  }
  ASSIGN_OR_RETURN(CurveKeyPair cluster, GenerateKeyPair());
  AllowList allowed;
  for (const NodeKeySpec& node : nodes) {
    if (!IsValidNodeName(node.name)) return InvalidArgument("invalid node name '" + node.name + "'");
    ASSIGN_OR_RETURN(CurveKeyPair keys, GenerateKeyPair());
    RETURN_IF_ERROR(WriteNodeKeys(dir, node.name, keys));
    RETURN_IF_ERROR(allowed.Add(node.name, keys.public_key, node.role));
  }
  RETURN_IF_ERROR(WriteNewFile(dir + "/" + kClusterSecretFile, cluster.secret_key + "\n", 0600));
  RETURN_IF_ERROR(WriteNewFile(dir + "/" + kClusterPublicFile, cluster.public_key + "\n", 0644));
  return WriteNewFile(dir + "/" + kAllowListFile, allowed.ToText(), 0644);
}

Status AddNodeKey(const std::string& dir, const std::string& name, KeyRole role) {
  if (!IsValidNodeName(name)) return InvalidArgument("invalid node name '" + name + "'");
  const std::string list_path = dir + "/" + kAllowListFile;
  ASSIGN_OR_RETURN(AllowList allowed, AllowList::ReadFile(list_path));
  ASSIGN_OR_RETURN(CurveKeyPair keys, GenerateKeyPair());
  RETURN_IF_ERROR(WriteNodeKeys(dir, name, keys));
  RETURN_IF_ERROR(allowed.Add(name, keys.public_key, role));
  // Replace the list atomically so a binding node never reads half of it.
  const std::string tmp = list_path + ".tmp";
  std::filesystem::remove(tmp);
  RETURN_IF_ERROR(WriteNewFile(tmp, allowed.ToText(), 0644));
  if (std::rename(tmp.c_str(), list_path.c_str()) != 0) {
    return Unavailable("cannot replace " + list_path + ": " + std::strerror(errno));
  }
  return Status::OK();
}

StatusOr<CurveConfig> LoadCurveConfig(const std::string& dir, const std::string& node_name,
                                      bool binds) {
  CurveConfig c;
  c.dir = dir;
  ASSIGN_OR_RETURN(c.cluster_public, ReadKeyFile(dir + "/" + kClusterPublicFile));
  if (binds) {
    const std::string secret_path = dir + "/" + kClusterSecretFile;
    ASSIGN_OR_RETURN(c.cluster_secret, ReadKeyFile(secret_path));
    RETURN_IF_ERROR(CheckPair(c.cluster_public, c.cluster_secret, secret_path));
    ASSIGN_OR_RETURN(AllowList allowed, AllowList::ReadFile(dir + "/" + kAllowListFile));
    if (allowed.size() == 0) {
      return InvalidArgument(dir + "/" + kAllowListFile + " admits no keys");
    }
    c.allowed = std::make_shared<const AllowList>(std::move(allowed));
  }
  if (!node_name.empty()) {
    if (!IsValidNodeName(node_name)) {
      return InvalidArgument("invalid CURVE node key name '" + node_name + "'");
    }
    const std::string base = dir + "/" + node_name;
    c.node_name = node_name;
    ASSIGN_OR_RETURN(c.node.public_key, ReadKeyFile(base + ".pub"));
    ASSIGN_OR_RETURN(c.node.secret_key, ReadKeyFile(base + ".secret"));
    RETURN_IF_ERROR(CheckPair(c.node.public_key, c.node.secret_key, base + ".secret"));
  }
  return c;
}

}  // namespace embedps::security
