#include "common/security/socket_security.h"

#include <cstdio>

namespace embedps::security {

std::string MemberPassword(uint64_t cluster_id) {
  char text[40];
  std::snprintf(text, sizeof(text), "cluster-%016llx", static_cast<unsigned long long>(cluster_id));
  return text;
}

Status SecureBindingSocket(zmq::socket_t& socket, const CurveConfig& curve, const std::string& member_password) {
  if (!curve.enabled()) {
    if (member_password.empty()) return Status::OK();
    try {
      socket.set(zmq::sockopt::plain_server, 1);
      // The process's ZAP handler checks the password; without one ZeroMQ
      // would take any, so the caller starts it first.
      socket.set(zmq::sockopt::zap_domain, kZapDomain);
    } catch (const zmq::error_t& e) {
      return Unavailable(std::string("cannot ask peers for the cluster password: ") + e.what());
    }
    return Status::OK();
  }
  if (curve.cluster_secret.empty()) {
    return FailedPrecondition("CURVE: this node binds a socket but has no cluster secret key (" +
                              curve.dir + "/" + kClusterSecretFile + ")");
  }
  try {
    socket.set(zmq::sockopt::curve_server, 1);
    socket.set(zmq::sockopt::curve_secretkey, curve.cluster_secret);
    socket.set(zmq::sockopt::zap_domain, kZapDomain);
  } catch (const zmq::error_t& e) {
    return Unavailable(std::string("cannot turn CURVE on: ") + e.what());
  }
  return Status::OK();
}

Status SecureConnectingSocket(zmq::socket_t& socket, const CurveConfig& curve,
                              const std::string& member_password) {
  if (!curve.enabled()) {
    if (member_password.empty()) return Status::OK();
    try {
      socket.set(zmq::sockopt::plain_username, kMemberUser);
      socket.set(zmq::sockopt::plain_password, member_password);
    } catch (const zmq::error_t& e) {
      return Unavailable(std::string("cannot present the cluster password: ") + e.what());
    }
    return Status::OK();
  }
  if (curve.node.secret_key.empty()) {
    return FailedPrecondition("CURVE: this node connects but has no node key (--curve_key)");
  }
  try {
    socket.set(zmq::sockopt::curve_serverkey, curve.cluster_public);
    socket.set(zmq::sockopt::curve_publickey, curve.node.public_key);
    socket.set(zmq::sockopt::curve_secretkey, curve.node.secret_key);
  } catch (const zmq::error_t& e) {
    return Unavailable(std::string("cannot turn CURVE on: ") + e.what());
  }
  return Status::OK();
}

}  // namespace embedps::security
