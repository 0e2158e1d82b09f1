#include "worker/model/mlp.h"

#include <cmath>
#include <utility>

#include "worker/model/dense_kernels.h"

namespace embedps::worker {

namespace {
MatrixRef F32(const float* data, int64_t rows, int64_t cols, bool transposed = false) {
  return transposed ? MatrixRef{data, cols, rows, cols, true, DenseType::kF32}
                    : MatrixRef{data, rows, cols, cols, false, DenseType::kF32};
}
MatrixRef Bf16(const uint16_t* data, int64_t rows, int64_t cols, bool transposed = false) {
  return transposed ? MatrixRef{data, cols, rows, cols, true, DenseType::kBf16}
                    : MatrixRef{data, rows, cols, cols, false, DenseType::kBf16};
}
// An operand read transposed: the same storage, the transposed view.
MatrixRef Transposed(MatrixRef m) {
  std::swap(m.rows, m.cols);
  m.transposed = !m.transposed;
  return m;
}
}  // namespace

Mlp::Mlp(std::vector<int> sizes, const std::string& prefix, bool relu_output)
    : Mlp(std::move(sizes), prefix, relu_output, CurrentDensePrecision()) {}

Mlp::Mlp(std::vector<int> sizes, const std::string& prefix, bool relu_output, DensePrecision precision)
    : sizes_(std::move(sizes)), relu_output_(relu_output), matmul_(std::make_unique<DenseMatmul>(precision)) {
  for (size_t l = 0; l + 1 < sizes_.size(); ++l) {
    const int in = sizes_[l], out = sizes_[l + 1];
    // Glorot-uniform weights keep activations in range for ReLU stacks of
    // these widths; biases start at zero.
    const float scale = std::sqrt(6.0f / static_cast<float>(in + out));
    tables_.push_back(ModelTable{prefix + "w" + std::to_string(l), static_cast<uint32_t>(out), "uniform", scale, true});
    tables_.push_back(ModelTable{prefix + "b" + std::to_string(l), static_cast<uint32_t>(out), "zeros", 0.0f, true});
    std::vector<uint64_t> rows(in);
    for (int i = 0; i < in; ++i) rows[i] = static_cast<uint64_t>(i);
    keys_.push_back(std::move(rows));
    keys_.push_back({0});
  }
  out32_.resize(layers());
  out16_.resize(layers());
  w16_.resize(layers());
}

MatrixRef Mlp::Input(size_t l) const {
  const int64_t n = x_->rows();
  if (l == 0) return bf16() ? Bf16(x16_.data(), n, sizes_[0]) : F32(x_->data(), n, sizes_[0]);
  return bf16() && l < layers() ? Bf16(out16_[l - 1].data(), n, sizes_[l]) : F32(out32_[l - 1].data(), n, sizes_[l]);
}

const RowMatrix& Mlp::Forward(const RowMatrix& x, const TableRows& rows, size_t first) {
  x_ = &x;
  const int64_t n = x.rows();
  if (bf16()) {
    x16_.resize(static_cast<size_t>(x.size()));
    FloatToBf16(x.data(), x16_.data(), x16_.size());
  }
  for (size_t l = 0; l < layers(); ++l) {
    const int64_t in = sizes_[l], out = sizes_[l + 1];
    MatrixRef w = F32(rows[first + 2 * l].data(), in, out);
    if (bf16()) {
      // Rounded once here, read again by Backward's d(input) product.
      w16_[l].resize(static_cast<size_t>(in * out));
      FloatToBf16(rows[first + 2 * l].data(), w16_[l].data(), w16_[l].size());
      w = Bf16(w16_[l].data(), in, out);
    }
    DenseEpilogue epilogue;
    epilogue.bias = rows[first + 2 * l + 1].data();
    epilogue.relu = Relu(l);
    const bool last = l + 1 == layers();
    if (bf16() && !last) {
      out16_[l].resize(static_cast<size_t>(n * out));
      matmul_->Multiply(Input(l), w, DenseOutput{out16_[l].data(), out, DenseType::kBf16}, epilogue);
    } else {
      out32_[l].resize(n, out);
      matmul_->Multiply(Input(l), w, DenseOutput{out32_[l].data(), out, DenseType::kF32}, epilogue);
    }
  }
  return out32_.back();
}

const RowMatrix& Mlp::Backward(const RowMatrix& d_out, const TableRows& rows, size_t first,
                               TableRows* grads) {
  d_cur_ = d_out;
  const int64_t n = d_cur_.rows();
  for (size_t l = layers(); l-- > 0;) {
    const int64_t in = sizes_[l], out = sizes_[l + 1];
    const bool last = l + 1 == layers();
    // Through the ReLU (where it has one) and the bias, rounding d once for
    // both products in bf16.
    const float* act32 = Relu(l) && (!bf16() || last) ? out32_[l].data() : nullptr;
    const uint16_t* act16 = Relu(l) && bf16() && !last ? out16_[l].data() : nullptr;
    std::vector<float>& gw = (*grads)[first + 2 * l];
    std::vector<float>& gb = (*grads)[first + 2 * l + 1];
    gw.resize(static_cast<size_t>(in * out));
    gb.resize(static_cast<size_t>(out));
    if (bf16()) d16_.resize(static_cast<size_t>(n * out));
    ReluBiasBackward(d_cur_.data(), act32, act16, n, out, gb.data(), bf16() ? d16_.data() : nullptr);
    const MatrixRef d = bf16() ? Bf16(d16_.data(), n, out) : F32(d_cur_.data(), n, out);
    // dW = input^T d and d(input) = d W^T: transposes are strides, not copies.
    matmul_->Multiply(Transposed(Input(l)), d, gw.data(), out, /*accumulate=*/false);
    const MatrixRef w = bf16() ? Bf16(w16_[l].data(), in, out) : F32(rows[first + 2 * l].data(), in, out);
    d_prev_.resize(n, in);
    matmul_->Multiply(d, Transposed(w), d_prev_.data(), in, /*accumulate=*/false);
    std::swap(d_cur_, d_prev_);
  }
  return d_cur_;
}

}  // namespace embedps::worker
