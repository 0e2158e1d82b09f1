#include "ps/store/row_codec.h"

#include <algorithm>
#include <cmath>
#include <cstring>
#include <string>

#include "ps/store/half.h"

namespace embedps::ps {
namespace {

// The largest finite binary16 value.
constexpr float kHalfMax = 65504.0f;

}  // namespace

const char* RowEncodingName(RowEncoding e) {
  switch (e) {
    case RowEncoding::kFloat32:
      return "fp32";
    case RowEncoding::kFloat16:
      return "fp16";
    case RowEncoding::kInt8:
      return "int8";
  }
  return "?";
}

StatusOr<RowEncoding> ParseRowEncoding(std::string_view name) {
  if (name == "fp32") return RowEncoding::kFloat32;
  if (name == "fp16") return RowEncoding::kFloat16;
  if (name == "int8") return RowEncoding::kInt8;
  return InvalidArgument("row encoding must be fp32, fp16 or int8, not '" + std::string(name) + "'");
}

size_t EncodedRowBytes(RowEncoding e, uint32_t dim) {
  switch (e) {
    case RowEncoding::kFloat32:
      return size_t{4} * dim;
    case RowEncoding::kFloat16:
      return size_t{2} * dim;
    case RowEncoding::kInt8:
      return 8 + size_t{dim};
  }
  return 0;
}

Status EncodeRow(RowEncoding e, const float* in, uint32_t dim, uint8_t* out) {
  for (uint32_t i = 0; i < dim; ++i) {
    if (!std::isfinite(in[i])) {
      return InvalidArgument("row value " + std::to_string(i) + " is not finite");
    }
  }
  switch (e) {
    case RowEncoding::kFloat32:
      std::memcpy(out, in, size_t{4} * dim);
      return Status::OK();
    case RowEncoding::kFloat16:
      for (uint32_t i = 0; i < dim; ++i) {
        if (std::fabs(in[i]) > kHalfMax) {
          return InvalidArgument("row value " + std::to_string(i) + " (" + std::to_string(in[i]) +
                                 ") is beyond fp16's range");
        }
        const uint16_t h = FloatToHalf(in[i]);
        std::memcpy(out + 2 * size_t{i}, &h, 2);
      }
      return Status::OK();
    case RowEncoding::kInt8: {
      float lo = dim > 0 ? in[0] : 0.0f, hi = lo;
      for (uint32_t i = 1; i < dim; ++i) {
        lo = std::min(lo, in[i]);
        hi = std::max(hi, in[i]);
      }
      // In double: hi - lo of finite floats can overflow float.
      const double step = (static_cast<double>(hi) - lo) / 255.0;
      const float step_f = static_cast<float>(step);
      std::memcpy(out, &lo, 4);
      std::memcpy(out + 4, &step_f, 4);
      for (uint32_t i = 0; i < dim; ++i) {
        const double code = step > 0 ? std::nearbyint((static_cast<double>(in[i]) - lo) / step) : 0.0;
        out[8 + i] = static_cast<uint8_t>(std::clamp(code, 0.0, 255.0));
      }
      return Status::OK();
    }
  }
  return InvalidArgument("unknown row encoding");
}

void DecodeRow(RowEncoding e, const uint8_t* in, uint32_t dim, float* out) {
  switch (e) {
    case RowEncoding::kFloat32:
      std::memcpy(out, in, size_t{4} * dim);
      return;
    case RowEncoding::kFloat16:
      for (uint32_t i = 0; i < dim; ++i) {
        uint16_t h;
        std::memcpy(&h, in + 2 * size_t{i}, 2);
        out[i] = HalfToFloat(h);
      }
      return;
    case RowEncoding::kInt8: {
      float lo, step;
      std::memcpy(&lo, in, 4);
      std::memcpy(&step, in + 4, 4);
      for (uint32_t i = 0; i < dim; ++i) {
        out[i] = static_cast<float>(lo + static_cast<double>(in[8 + i]) * step);
      }
      return;
    }
  }
}

}  // namespace embedps::ps
