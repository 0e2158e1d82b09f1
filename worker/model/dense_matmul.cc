#include "worker/model/dense_matmul.h"

#include <omp.h>

#include <atomic>
#include <cstring>
#include <unordered_map>

#include <glog/logging.h>

#include <oneapi/dnnl/dnnl.hpp>

#include "worker/model/dense_kernels.h"

namespace embedps::worker {
namespace {

using dt = dnnl::memory::data_type;

// The stored matrix of `m` (rows x cols of storage), float32, in bfloat16,
// densely packed with the same orientation.
void PackBf16(const MatrixRef& m, std::vector<uint16_t>* out) {
  const int64_t rows = m.transposed ? m.cols : m.rows, cols = m.transposed ? m.rows : m.cols;
  out->resize(static_cast<size_t>(rows * cols));
  const float* src = static_cast<const float*>(m.data);
  if (m.stride == cols) {
    FloatToBf16(src, out->data(), out->size());
    return;
  }
  for (int64_t r = 0; r < rows; ++r) FloatToBf16(src + r * m.stride, out->data() + r * cols, cols);
}

// The logical matrix's memory descriptor: strides say where (r, c) lies.
dnnl::memory::desc Desc(const MatrixRef& m, dt type, int64_t stride) {
  const dnnl::memory::dims strides = m.transposed ? dnnl::memory::dims{1, stride} : dnnl::memory::dims{stride, 1};
  return dnnl::memory::desc({m.rows, m.cols}, type, strides);
}

dt TypeOf(DenseType t) { return t == DenseType::kBf16 ? dt::bf16 : dt::f32; }

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
  // Shape, orientations, types, strides and epilogue -> the primitive.
  using Key = std::tuple<int64_t, int64_t, int64_t, bool, bool, dt, dt, dt, int64_t, int64_t, int64_t, bool, bool,
                         bool>;
  struct Entry {
    dnnl::matmul primitive;
    dnnl::memory::desc a, b, c, bias;
    std::string kernel;
  };
  std::map<Key, Entry> cache;
  std::vector<uint16_t> a16, b16;
};

DenseMatmul::DenseMatmul(DensePrecision precision) : precision_(precision), impl_(std::make_unique<Impl>()) {}

DenseMatmul::~DenseMatmul() = default;

void DenseMatmul::Multiply(const MatrixRef& a, const MatrixRef& b, float* c, int64_t c_stride, bool accumulate) {
  DenseEpilogue e;
  e.accumulate = accumulate;
  Multiply(a, b, DenseOutput{c, c_stride, DenseType::kF32}, e);
}

void DenseMatmul::Multiply(const MatrixRef& a_in, const MatrixRef& b_in, const DenseOutput& c,
                           const DenseEpilogue& epilogue) {
  const bool bf16 = precision_ == DensePrecision::kBf16;
  if (!bf16 && (a_in.type != DenseType::kF32 || b_in.type != DenseType::kF32 || c.type != DenseType::kF32)) {
    LOG(FATAL) << "DenseMatmul: bfloat16 data in an fp32 product";
  }
  // In bf16, float32 inputs are packed densely: their stride becomes the
  // packed one.
  MatrixRef a = a_in, b = b_in;
  auto pack = [&](MatrixRef* m, std::vector<uint16_t>* buf) {
    if (!bf16 || m->type == DenseType::kBf16) return;
    PackBf16(*m, buf);
    m->data = buf->data();
    m->stride = m->transposed ? m->rows : m->cols;
    m->type = DenseType::kBf16;
  };
  pack(&a, &impl_->a16);
  pack(&b, &impl_->b16);
  const bool has_bias = epilogue.bias != nullptr;
  const Impl::Key key{a.rows, a.cols, b.cols, a.transposed, b.transposed, TypeOf(a.type), TypeOf(b.type),
                      TypeOf(c.type), a.stride, b.stride, c.stride, epilogue.accumulate, has_bias, epilogue.relu};
  auto it = impl_->cache.find(key);
  if (it == impl_->cache.end()) {
    Impl::Entry e;
    e.a = Desc(a, TypeOf(a.type), a.stride);
    e.b = Desc(b, TypeOf(b.type), b.stride);
    e.c = dnnl::memory::desc({a.rows, b.cols}, TypeOf(c.type), dnnl::memory::dims{c.stride, 1});
    if (has_bias) e.bias = dnnl::memory::desc({1, b.cols}, dt::f32, dnnl::memory::dims{b.cols, 1});
    dnnl::primitive_attr attr;
    dnnl::post_ops ops;
    if (epilogue.accumulate) ops.append_sum(1.0f);
    if (epilogue.relu) ops.append_eltwise(1.0f, dnnl::algorithm::eltwise_relu, 0.0f, 0.0f);
    attr.set_post_ops(ops);
    const dnnl::matmul::primitive_desc pd(has_bias ? dnnl::matmul::desc(e.a, e.b, e.bias, e.c)
                                                   : dnnl::matmul::desc(e.a, e.b, e.c),
                                          attr, impl_->engine);
    e.primitive = dnnl::matmul(pd);
    e.kernel = pd.impl_info_str();
    it = impl_->cache.emplace(key, std::move(e)).first;
  }
  const Impl::Entry& e = it->second;
  dnnl::memory am(e.a, impl_->engine, const_cast<void*>(a.data)), bm(e.b, impl_->engine, const_cast<void*>(b.data)),
      cm(e.c, impl_->engine, c.data);
  std::unordered_map<int, dnnl::memory> args{{DNNL_ARG_SRC, am}, {DNNL_ARG_WEIGHTS, bm}, {DNNL_ARG_DST, cm}};
  if (has_bias) args.emplace(DNNL_ARG_BIAS, dnnl::memory(e.bias, impl_->engine, const_cast<float*>(epilogue.bias)));
  e.primitive.execute(impl_->stream, args);
  impl_->stream.wait();
  last_kernel_ = e.kernel;
}

}  // namespace embedps::worker
