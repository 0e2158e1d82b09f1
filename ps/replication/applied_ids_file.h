// The file a backup hands to a dead server's replacement with the request
// ids already applied to the rows it hands over (--replicas=2): so a worker
// resending a push the dead server never answered is acknowledged, not
// applied a second time.
//
//   "EPSDEDUP" | u32 version | u64 window | u32 senders
//   | senders x (u32 sender | u64 highest | window/64 x u64 applied bits)
//   | u32 CRC-32 of everything before it
//
// Written with tmp + fsync + rename; read back whole and checked.
#pragma once

#include <string>
#include <vector>

#include "common/status.h"
#include "ps/request_dedup.h"

namespace embedps::ps {

Status WriteAppliedIds(const std::string& path, uint64_t window,
                       const std::vector<RequestDedup::SenderIds>& ids);

// DataLoss when the file is damaged (checksum, length, magic, version).
StatusOr<std::vector<RequestDedup::SenderIds>> ReadAppliedIds(const std::string& path, uint64_t window);

}  // namespace embedps::ps
