// Turns CURVE on for one socket, before it binds or connects. Both calls do
// nothing when `curve` is not enabled, so callers need no branches.
#pragma once

#include <zmq.hpp>

#include "common/security/curve_keys.h"
#include "common/status.h"

namespace embedps::security {

// The ZAP domain every embedps binding socket asks its ZAP handler about.
inline constexpr char kZapDomain[] = "embedps";

// A socket that binds: presents the cluster's key and has each connecting
// peer's key checked by the process's ZAP handler (see zap_handler.h).
// FailedPrecondition when `curve` lacks the cluster's secret key.
Status SecureBindingSocket(zmq::socket_t& socket, const CurveConfig& curve);

// A socket that connects: expects the cluster's key from the peer it
// reaches and presents this node's keypair.
// FailedPrecondition when `curve` has no node keypair.
Status SecureConnectingSocket(zmq::socket_t& socket, const CurveConfig& curve);

}  // namespace embedps::security
