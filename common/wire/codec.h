// Encodes and decodes the envelope frame, and moves key/value arrays in and
// out of payload frames. Decoding never throws and never trusts its input:
// every malformed or inconsistent message becomes a non-OK Status.
#pragma once

#include <cstring>
#include <memory>
#include <vector>

#include <zmq.hpp>

#include "common/status.h"
#include "common/wire/messages.h"

namespace embedps::wire {

struct DecodeLimits {
  // Largest message (envelope plus payloads) accepted, in bytes.
  size_t max_message_bytes = size_t{256} << 20;
  // Cap'n Proto traversal limit for the envelope, in 8-byte words.
  uint64_t max_envelope_words = 1 << 20;
};

// The error code a refusal of an undecodable message carries: tooLarge,
// versionMismatch or malformed, from the Decode status.
ErrorCode ErrorCodeForDecodeFailure(const Status& status);

// Serializes header and body into one envelope frame.
zmq::message_t EncodeEnvelope(const Header& header, const Body& body);

// Decodes an envelope plus its payload frames (taken by move). Checks the
// magic, the traversal limit, the size limit, and that the payload frames
// match what the body declares (count and byte sizes), and the wire-protocol
// version. Returns InvalidArgument("malformed ..."), ResourceExhausted("too
// large ...") or, for another protocol version, FailedPrecondition("wire
// protocol version mismatch ...").
StatusOr<Message> Decode(std::vector<zmq::message_t> frames, const DecodeLimits& limits);

// A payload frame that takes ownership of `values` without copying; the
// vector's buffer is freed when ZeroMQ is done sending it.
template <typename T>
zmq::message_t PayloadFromVector(std::vector<T>&& values) {
  auto* owned = new std::vector<T>(std::move(values));
  return zmq::message_t(
      owned->data(), owned->size() * sizeof(T),
      [](void*, void* hint) { delete static_cast<std::vector<T>*>(hint); }, owned);
}

// An uninitialized array of `count` T (no zero-filling: it is about to be
// overwritten) that becomes a payload frame without copying.
template <typename T>
class PayloadBuffer {
 public:
  explicit PayloadBuffer(size_t count) : data_(new T[count]), count_(count) {}
  T* data() { return data_.get(); }
  size_t size() const { return count_; }
  // Hands the buffer to a frame that frees it once ZeroMQ has sent it.
  zmq::message_t Release() && {
    T* raw = data_.release();
    return zmq::message_t(
        raw, count_ * sizeof(T), [](void* p, void*) { delete[] static_cast<T*>(p); }, nullptr);
  }

 private:
  std::unique_ptr<T[]> data_;
  size_t count_;
};

// Copies a payload frame into `out`. Received frames may be unaligned, so the
// bytes are memcpy'd rather than reinterpreted in place.
template <typename T>
void CopyPayload(const zmq::message_t& frame, std::vector<T>* out) {
  out->resize(frame.size() / sizeof(T));
  if (!out->empty()) std::memcpy(out->data(), frame.data(), out->size() * sizeof(T));
}

}  // namespace embedps::wire
