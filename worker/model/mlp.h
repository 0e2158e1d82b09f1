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
  // (rows[first + t] for its t-th table); keeps activations for Backward.
  const RowMatrix& Forward(const RowMatrix& x, const TableRows& rows, size_t first);
  // Given d(loss)/d(output), adds the parameter gradients into grads (same
  // layout as rows) and returns d(loss)/d(x).
  const RowMatrix& Backward(const RowMatrix& d_out, const TableRows& rows, size_t first,
                            TableRows* grads);

 private:
  bool Relu(size_t layer) const { return layer + 2 < sizes_.size() || relu_output_; }

  std::vector<int> sizes_;
  bool relu_output_;
  std::vector<ModelTable> tables_;
  std::vector<std::vector<uint64_t>> keys_;
  std::vector<RowMatrix> acts_;  // acts_[0] = input, acts_[l+1] = output of layer l
  RowMatrix d_cur_, d_prev_;
  std::unique_ptr<DenseMatmul> matmul_;  // a pointer: Mlp stays movable

 public:
  DensePrecision precision() const { return matmul_->precision(); }
  const std::string& last_kernel() const { return matmul_->last_kernel(); }
};

}  // namespace embedps::worker
