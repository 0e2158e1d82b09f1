// Compact encodings of a row of floats (weights and optimizer state) for
// cold storage and quantized exports: float32 as is, IEEE fp16, or int8
// with a per-row offset and scale. One codec for every tier and export
// that needs one (#13's cold rows, #14's quantized export).
//
//   kFloat32: dim f32, exact.
//   kFloat16: dim binary16 (ps/store/half.h), relative error at most 2^-11
//             within fp16's range; values beyond it become infinities, so
//             Encode refuses them.
//   kInt8:    f32 min | f32 step | dim u8 codes, value = min + code * step
//             with step = (max - min) / 255: absolute error at most
//             step / 2 = (max - min) / 510 per element, exact for constant
//             rows. Asymmetric, because optimizer state (Adagrad's sums of
//             squares, Adam's second moments) is one-signed.
#pragma once

#include <cstddef>
#include <cstdint>
#include <string_view>

#include "common/status.h"

namespace embedps::ps {

enum class RowEncoding : uint8_t { kFloat32 = 0, kFloat16 = 1, kInt8 = 2 };

// "fp32", "fp16", "int8".
const char* RowEncodingName(RowEncoding e);
[[nodiscard]] StatusOr<RowEncoding> ParseRowEncoding(std::string_view name);

// Bytes one encoded row of `dim` floats takes.
size_t EncodedRowBytes(RowEncoding e, uint32_t dim);

// Writes EncodedRowBytes(e, dim) bytes to `out`. InvalidArgument, writing
// nothing useful, for a non-finite value or (fp16) one beyond fp16's range:
// a cold row must come back as the row that went in, or not at all.
[[nodiscard]] Status EncodeRow(RowEncoding e, const float* in, uint32_t dim, uint8_t* out);

// Reads a row EncodeRow wrote.
void DecodeRow(RowEncoding e, const uint8_t* in, uint32_t dim, float* out);

}  // namespace embedps::ps
