#include "worker/model/mlp.h"

#include <cmath>

namespace embedps::worker {

namespace {
using RowMap = Eigen::Map<RowMatrix>;

// A row-major Eigen matrix, or its transpose, as a product's operand.
MatrixRef Ref(const float* data, int64_t rows, int64_t cols, bool transposed = false) {
  return transposed ? MatrixRef{data, cols, rows, cols, true} : MatrixRef{data, rows, cols, cols, false};
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
  acts_.resize(sizes_.size());
}

const RowMatrix& Mlp::Forward(const RowMatrix& x, const TableRows& rows, size_t first) {
  acts_[0] = x;
  const size_t layers = sizes_.size() - 1;
  for (size_t l = 0; l < layers; ++l) {
    const Eigen::Map<const Eigen::RowVectorXf> b(rows[first + 2 * l + 1].data(), sizes_[l + 1]);
    const int64_t n = acts_[l].rows(), in = sizes_[l], out = sizes_[l + 1];
    acts_[l + 1].resize(n, out);
    matmul_->Multiply(Ref(acts_[l].data(), n, in), Ref(rows[first + 2 * l].data(), in, out), acts_[l + 1].data(), out,
                      /*accumulate=*/false);
    acts_[l + 1].rowwise() += b;
    if (Relu(l)) acts_[l + 1] = acts_[l + 1].cwiseMax(0.0f);
  }
  return acts_.back();
}

const RowMatrix& Mlp::Backward(const RowMatrix& d_out, const TableRows& rows, size_t first,
                               TableRows* grads) {
  d_cur_ = d_out;
  if (relu_output_) d_cur_.array() *= (acts_.back().array() > 0.0f).cast<float>();
  for (size_t l = sizes_.size() - 1; l-- > 0;) {
    RowMap gw((*grads)[first + 2 * l].data(), sizes_[l], sizes_[l + 1]);
    Eigen::Map<Eigen::RowVectorXf> gb((*grads)[first + 2 * l + 1].data(), sizes_[l + 1]);
    const int64_t n = d_cur_.rows(), in = sizes_[l], out = sizes_[l + 1];
    // dW += act^T d, dX = d W^T: transposes are strides, not copies.
    matmul_->Multiply(Ref(acts_[l].data(), n, in, /*transposed=*/true), Ref(d_cur_.data(), n, out), gw.data(), out,
                      /*accumulate=*/true);
    gb += d_cur_.colwise().sum();
    d_prev_.resize(n, in);
    matmul_->Multiply(Ref(d_cur_.data(), n, out), Ref(rows[first + 2 * l].data(), in, out, /*transposed=*/true),
                      d_prev_.data(), in, /*accumulate=*/false);
    // ReLU: no gradient where the layer below was clipped at zero. The
    // input (l == 0) has no activation.
    if (l > 0 && Relu(l - 1)) d_prev_.array() *= (acts_[l].array() > 0.0f).cast<float>();
    std::swap(d_cur_, d_prev_);
  }
  return d_cur_;
}

}  // namespace embedps::worker
