// The wire's own ceiling for `bench pushpull`: a request of `request_bytes`
// answered by a reply of `reply_bytes` over one plain loopback TCP
// connection, `depth` requests in flight, with nothing else done to the
// bytes (no framing, no copies, no store). Threads: a server that reads a
// request and writes its reply, a client writer and a client reader, so the
// same cores are shared as in the real benchmark.
#pragma once

#include <cstddef>
#include <cstdint>

#include "common/status.h"

namespace embedps::launch {

struct RawTcpFigures {
  double round_trips_per_sec = 0;
};

StatusOr<RawTcpFigures> MeasureRawTcpRoundTrips(size_t request_bytes, size_t reply_bytes, uint32_t depth,
                                                double seconds);

}  // namespace embedps::launch
