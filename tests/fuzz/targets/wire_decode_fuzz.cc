// Wire decoding: the input is cut into frames (byte 0 picks 1-4 frames;
// every frame but the last is a 2-byte little-endian length and its bytes;
// the last frame is the rest), decoded with the daemons' default limits,
// and every message that decodes must survive a re-encode and decode with
// the same header and body type.
#include <cstring>

#include "common/wire/codec.h"
#include "tests/fuzz/fuzz_targets.h"

namespace embedps::fuzz {
namespace {

std::vector<zmq::message_t> CutFrames(const uint8_t* data, size_t size) {
  std::vector<zmq::message_t> frames;
  if (size == 0) return frames;
  const int count = 1 + data[0] % 4;
  size_t at = 1;
  for (int i = 0; i + 1 < count; ++i) {
    size_t len = 0;
    if (at + 2 <= size) len = data[at] | (size_t{data[at + 1]} << 8);
    at = std::min(size, at + 2);
    len = std::min(len, size - at);
    frames.emplace_back(data + at, len);
    at += len;
  }
  frames.emplace_back(data + at, size - at);
  return frames;
}

}  // namespace

int FuzzWireDecode(const uint8_t* data, size_t size) {
  wire::DecodeLimits limits;
  auto decoded = wire::Decode(CutFrames(data, size), limits);
  if (!decoded.ok()) {
    const auto code = wire::ErrorCodeForDecodeFailure(decoded.status());
    if (code == wire::ErrorCode::kUnknown) FuzzInvariantFailed("decode failure without a code");
    return 0;
  }
  const wire::Message& m = decoded.value();
  std::vector<zmq::message_t> again;
  again.push_back(wire::EncodeEnvelope(m.header, m.body));
  for (const auto& p : m.payloads) again.emplace_back(p.data(), p.size());
  auto redecoded = wire::Decode(std::move(again), limits);
  if (!redecoded.ok()) FuzzInvariantFailed("a decoded message does not decode after re-encoding");
  const wire::Header& a = m.header;
  const wire::Header& b = redecoded->header;
  if (a.cluster_id != b.cluster_id || a.sender != b.sender || a.request_id != b.request_id ||
      a.epoch != b.epoch || m.body.index() != redecoded->body.index()) {
    FuzzInvariantFailed("re-encoding changed the message");
  }
  return 0;
}

// Seeds are written in this framing by write_fuzz_seeds.
std::string FrameWireInput(const std::vector<zmq::message_t>& frames) {
  std::string out(1, static_cast<char>(frames.size() - 1));
  for (size_t i = 0; i < frames.size(); ++i) {
    const auto* p = static_cast<const char*>(frames[i].data());
    if (i + 1 < frames.size()) {
      out.push_back(static_cast<char>(frames[i].size() & 0xff));
      out.push_back(static_cast<char>(frames[i].size() >> 8));
    }
    out.append(p, frames[i].size());
  }
  return out;
}

}  // namespace embedps::fuzz
