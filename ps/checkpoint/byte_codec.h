// Little-endian field encoding for the checkpoint format: an appending
// writer and a bounds-checked reader that fails instead of reading past
// the end (so a lying length can never make it read garbage).
#pragma once

#include <cstdint>
#include <cstring>
#include <string>

namespace embedps::ps::checkpoint {

static_assert(__BYTE_ORDER__ == __ORDER_LITTLE_ENDIAN__,
              "checkpoint files are little-endian; this code copies fields as they are in memory");

class ByteWriter {
 public:
  template <typename T>
  void Put(T value) {
    out_.append(reinterpret_cast<const char*>(&value), sizeof(T));
  }
  void PutString(const std::string& s) {
    Put<uint32_t>(static_cast<uint32_t>(s.size()));
    out_ += s;
  }
  std::string& bytes() { return out_; }

 private:
  std::string out_;
};

class ByteReader {
 public:
  ByteReader(const char* data, size_t size) : p_(data), end_(data + size) {}
  // False (and a zero value) once a read would pass the end.
  template <typename T>
  bool Get(T* value) {
    if (static_cast<size_t>(end_ - p_) < sizeof(T)) {
      ok_ = false;
      *value = T{};
      return false;
    }
    std::memcpy(value, p_, sizeof(T));
    p_ += sizeof(T);
    return true;
  }
  bool GetString(std::string* s, uint32_t max_bytes) {
    uint32_t n = 0;
    if (!Get(&n) || n > max_bytes || static_cast<size_t>(end_ - p_) < n) return ok_ = false;
    s->assign(p_, n);
    p_ += n;
    return true;
  }
  bool ok() const { return ok_; }
  size_t left() const { return static_cast<size_t>(end_ - p_); }

 private:
  const char* p_;
  const char* end_;
  bool ok_ = true;
};

}  // namespace embedps::ps::checkpoint
