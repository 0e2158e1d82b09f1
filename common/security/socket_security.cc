#include "common/security/socket_security.h"

namespace embedps::security {

Status SecureBindingSocket(zmq::socket_t& socket, const CurveConfig& curve) {
  if (!curve.enabled()) return Status::OK();
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

Status SecureConnectingSocket(zmq::socket_t& socket, const CurveConfig& curve) {
  if (!curve.enabled()) return Status::OK();
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
