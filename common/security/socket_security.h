// Turns CURVE on for one socket, before it binds or connects; without CURVE,
// optionally asks connecting peers for the cluster's membership password
// (ZeroMQ's PLAIN mechanism), so a stranger is refused at the handshake,
// before ZeroMQ reads (and buffers) any message of its. Both calls do
// nothing when neither applies, so callers need no branches.
#pragma once

#include <cstdint>
#include <string>

#include <zmq.hpp>

#include "common/security/curve_keys.h"
#include "common/status.h"

namespace embedps::security {

// The ZAP domain every embedps binding socket asks its ZAP handler about.
inline constexpr char kZapDomain[] = "embedps";
// The PLAIN user name members present with their password.
inline constexpr char kMemberUser[] = "embedps-member";

// The password members of cluster `cluster_id` (the hash of its cluster
// token) present without CURVE. It proves membership, not identity: it is
// no secret from a peer that can read the cluster's traffic or the nodes'
// command lines; CURVE is what protects a cluster on an untrusted network.
std::string MemberPassword(uint64_t cluster_id);

// A socket that binds: presents the cluster's key and has each connecting
// peer's key checked by the process's ZAP handler (see zap_handler.h).
// FailedPrecondition when `curve` lacks the cluster's secret key. Without
// CURVE and with a `member_password`, it takes only peers presenting that
// password (checked by a ZapHandler started with StartForPassword).
Status SecureBindingSocket(zmq::socket_t& socket, const CurveConfig& curve,
                           const std::string& member_password = "");

// A socket that connects: expects the cluster's key from the peer it
// reaches and presents this node's keypair; without CURVE, presents
// `member_password` when one is given (the peer must then ask for it).
// FailedPrecondition when `curve` has no node keypair.
Status SecureConnectingSocket(zmq::socket_t& socket, const CurveConfig& curve,
                              const std::string& member_password = "");

}  // namespace embedps::security
