// Feature keys: every sparse feature is a 64-bit key
//   HashCombine(namespace of its field, hash of its value),
// so the same value in two fields is two keys. Each format salts its field
// namespaces differently. Keys are stored in checkpoints and exported models:
// these functions must never change behaviour.
#pragma once

#include <cstdint>
#include <string_view>

#include "common/hash.h"

namespace embedps::data {

// The namespace constant of field `field` of a format salted with `salt`.
inline uint64_t FieldNamespace(uint64_t salt, uint64_t field) { return Mix64(salt + field); }

// Key of a text value in the field whose namespace is `ns`.
inline uint64_t TokenKey(uint64_t ns, std::string_view token) {
  return HashCombine(ns, HashBytes(token));
}

// Key of an integer id in the field whose namespace is `ns` (HashCombine
// mixes the id itself).
inline uint64_t IdKey(uint64_t ns, uint64_t id) { return HashCombine(ns, id); }

}  // namespace embedps::data
