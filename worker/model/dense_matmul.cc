#include "worker/model/dense_matmul.h"

#include <omp.h>

#include <atomic>
#include <cstring>

#include <oneapi/dnnl/dnnl.hpp>

namespace embedps::worker {
namespace {

using dt = dnnl::memory::data_type;

// float32 -> bfloat16, rounding to nearest even (NaN stays NaN).
inline uint16_t ToBf16(float f) {
  uint32_t u;
  std::memcpy(&u, &f, sizeof(u));
  if ((u & 0x7fffffffu) > 0x7f800000u) return static_cast<uint16_t>((u >> 16) | 0x40);
  u += 0x7fffu + ((u >> 16) & 1u);
  return static_cast<uint16_t>(u >> 16);
}

// Copies the stored matrix of `m` (rows x cols of storage) into bf16,
// densely packed with the same orientation.
void PackBf16(const MatrixRef& m, std::vector<uint16_t>* out) {
  const int64_t rows = m.transposed ? m.cols : m.rows, cols = m.transposed ? m.rows : m.cols;
  out->resize(static_cast<size_t>(rows * cols));
  for (int64_t r = 0; r < rows; ++r) {
    const float* src = m.data + r * m.stride;
    uint16_t* dst = out->data() + r * cols;
    for (int64_t c = 0; c < cols; ++c) dst[c] = ToBf16(src[c]);
  }
}

// The logical matrix's memory descriptor: strides say where (r, c) lies.
dnnl::memory::desc Desc(const MatrixRef& m, dt type, bool packed) {
  const int64_t stored_cols = m.transposed ? m.rows : m.cols;
  const int64_t stride = packed ? stored_cols : m.stride;
  const dnnl::memory::dims strides = m.transposed ? dnnl::memory::dims{1, stride} : dnnl::memory::dims{stride, 1};
  return dnnl::memory::desc({m.rows, m.cols}, type, strides);
}

}  // namespace

namespace {
std::atomic<int> g_precision{-1};  // -1: not set yet
}  // namespace

void SetDensePrecision(DensePrecision p) { g_precision = static_cast<int>(p); }

DensePrecision CurrentDensePrecision() {
  if (g_precision < 0) g_precision = static_cast<int>(ResolveDensePrecision("auto").value());
  return static_cast<DensePrecision>(g_precision.load());
}

void SetDenseThreads(int threads) { omp_set_num_threads(threads); }

const char* DensePrecisionName(DensePrecision p) { return p == DensePrecision::kBf16 ? "bf16" : "fp32"; }

bool CpuHasBf16() {
  const dnnl::cpu_isa isa = dnnl::get_effective_cpu_isa();
  return isa == dnnl::cpu_isa::avx512_core_bf16 || isa == dnnl::cpu_isa::avx512_core_amx;
}

StatusOr<DensePrecision> ResolveDensePrecision(std::string_view flag) {
  if (flag == "fp32") return DensePrecision::kFp32;
  if (flag == "auto") return CpuHasBf16() ? DensePrecision::kBf16 : DensePrecision::kFp32;
  if (flag == "bf16") {
    if (!CpuHasBf16()) {
      return InvalidArgument("--dense_precision bf16: this CPU has no bf16 matrix instructions (AVX-512 BF16 or "
                             "AMX); use auto or fp32");
    }
    return DensePrecision::kBf16;
  }
  return InvalidArgument("--dense_precision must be auto, bf16 or fp32, not '" + std::string(flag) + "'");
}

struct DenseMatmul::Impl {
  dnnl::engine engine{dnnl::engine::kind::cpu, 0};
  dnnl::stream stream{engine};
  // Shape, orientation, strides and accumulation -> the primitive.
  using Key = std::tuple<int64_t, int64_t, int64_t, bool, bool, int64_t, int64_t, int64_t, bool>;
  struct Entry {
    dnnl::matmul primitive;
    dnnl::memory::desc a, b, c;
    std::string kernel;
  };
  std::map<Key, Entry> cache;
  std::vector<uint16_t> a16, b16;
};

DenseMatmul::DenseMatmul(DensePrecision precision) : precision_(precision), impl_(std::make_unique<Impl>()) {}

DenseMatmul::~DenseMatmul() = default;

void DenseMatmul::Multiply(const MatrixRef& a, const MatrixRef& b, float* c, int64_t c_stride, bool accumulate) {
  const bool bf16 = precision_ == DensePrecision::kBf16;
  // bf16 inputs are packed (dense), so their strides are the packed ones.
  const Impl::Key key{a.rows, a.cols, b.cols, a.transposed, b.transposed, bf16 ? 0 : a.stride,
                      bf16 ? 0 : b.stride, c_stride, accumulate};
  auto it = impl_->cache.find(key);
  if (it == impl_->cache.end()) {
    const dt in = bf16 ? dt::bf16 : dt::f32;
    Impl::Entry e;
    e.a = Desc(a, in, bf16);
    e.b = Desc(b, in, bf16);
    e.c = dnnl::memory::desc({a.rows, b.cols}, dt::f32, dnnl::memory::dims{c_stride, 1});
    dnnl::primitive_attr attr;
    if (accumulate) {
      dnnl::post_ops ops;
      ops.append_sum(1.0f);
      attr.set_post_ops(ops);
    }
    const dnnl::matmul::primitive_desc pd(dnnl::matmul::desc(e.a, e.b, e.c), attr, impl_->engine);
    e.primitive = dnnl::matmul(pd);
    e.kernel = pd.impl_info_str();
    it = impl_->cache.emplace(key, std::move(e)).first;
  }
  const Impl::Entry& e = it->second;
  void* a_data = const_cast<float*>(a.data);
  void* b_data = const_cast<float*>(b.data);
  if (bf16) {
    PackBf16(a, &impl_->a16);
    PackBf16(b, &impl_->b16);
    a_data = impl_->a16.data();
    b_data = impl_->b16.data();
  }
  dnnl::memory am(e.a, impl_->engine, a_data), bm(e.b, impl_->engine, b_data), cm(e.c, impl_->engine, c);
  e.primitive.execute(impl_->stream, {{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}});
  impl_->stream.wait();
  last_kernel_ = e.kernel;
}

}  // namespace embedps::worker
