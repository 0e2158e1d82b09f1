// A multi-layer perceptron whose weights live in server tables: layer l's
// weight matrix (in_l x out_l) is a table with one row per input unit (key
// i = row i, dim out_l), and its bias a one-row table (key 0). Dense
// parameters are thus split across servers by the same key hashing as
// embeddings, and updated by the servers' optimizers.
//
// Hidden layers use ReLU; the last layer is linear unless relu_output.
#pragma once

#include <memory>
#include <string>
#include <vector>

#include <Eigen/Core>

#include "worker/model/dense_matmul.h"
#include "worker/model/model.h"

namespace embedps::worker {

using RowMatrix = Eigen::Matrix<float, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;

class Mlp {
 public:
  // sizes = {input, hidden..., output}; table names are prefix + "w<l>" and
  // prefix + "b<l>".
  // The products run on oneDNN in `precision` (CurrentDensePrecision()
  // unless given).
  Mlp(std::vector<int> sizes, const std::string& prefix, bool relu_output = false);
  Mlp(std::vector<int> sizes, const std::string& prefix, bool relu_output, DensePrecision precision);

  // Two tables per layer (weights, bias), in layer order.
  const std::vector<ModelTable>& tables() const { return tables_; }
  // The keys of table t of this MLP: 0..rows-1.
  const std::vector<uint64_t>& Keys(size_t t) const { return keys_[t]; }
  int input_size() const { return sizes_.front(); }
  int output_size() const { return sizes_.back(); }

  // Forward pass of x (n x input) with the pulled rows of this MLP's tables
  // (rows[first + t] for its t-th table); keeps what Backward needs. x must
  // stay unchanged until Backward.
  const RowMatrix& Forward(const RowMatrix& x, const TableRows& rows, size_t first);
  // Given d(loss)/d(output), writes the parameter gradients of this MLP's
  // tables into (*grads)[first + t] (resized to match rows) and returns
  // d(loss)/d(x).
  const RowMatrix& Backward(const RowMatrix& d_out, const TableRows& rows, size_t first,
                            TableRows* grads);

  DensePrecision precision() const { return matmul_->precision(); }
  const std::string& last_kernel() const { return matmul_->last_kernel(); }

 private:
  bool Relu(size_t layer) const { return layer + 2 < sizes_.size() || relu_output_; }
  bool bf16() const { return precision() == DensePrecision::kBf16; }
  size_t layers() const { return sizes_.size() - 1; }
  // Layer l's input: x for l == 0, else the layer below's output.
  MatrixRef Input(size_t l) const;

  std::vector<int> sizes_;
  bool relu_output_;
  std::vector<ModelTable> tables_;
  std::vector<std::vector<uint64_t>> keys_;
  // Activations in the products' precision: in bf16 the hidden layers'
  // outputs are written in bfloat16 by the products themselves (what the
  // next layer and the weight gradient read), and x is rounded once. The
  // last layer's output is float32 (the model's score).
  const RowMatrix* x_ = nullptr;
  std::vector<uint16_t> x16_;
  std::vector<RowMatrix> out32_;               // per layer, float32 outputs
  std::vector<std::vector<uint16_t>> out16_;  // per layer, bf16 outputs
  std::vector<std::vector<uint16_t>> w16_;    // per layer, weights in bf16 (rounded once per step)
  std::vector<uint16_t> d16_;
  RowMatrix d_cur_, d_prev_;
  std::unique_ptr<DenseMatmul> matmul_;  // a pointer: Mlp stays movable
};

}  // namespace embedps::worker
