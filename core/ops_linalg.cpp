// Matrix products: mm (2-D), bmm (3-D, same batch), matmul with PyTorch's 1-D/2-D/batched rules,
// and the fused linear layer. GEMM is Eigen's (it threads itself with OpenMP).
#include "core/kernels.h"
#include "core/ops.h"

namespace chainrule {
using namespace kernels;

namespace {
template <class T>
using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T>
using MatMap = Eigen::Map<RowMajor<T>>;
template <class T>
using CMatMap = Eigen::Map<const RowMajor<T>>;

Dtype matmul_type(const Tensor& a, const Tensor& b, const char* op) {
  Dtype t = promote_types(a.dtype(), b.dtype());
  CR_CHECK(t != kBool, std::invalid_argument, op, ": not supported for bool tensors");
  return t;
}

// How a GEMM reads an operand (the last two dims of a tensor, rows x cols) in place: row-major or
// column-major with a leading dimension (a transposed or column-sliced matrix needs no copy), and
// the stride between matrices of a batch (0 when expanded). Other layouts are copied first.
struct MatLayout {
  Tensor t;
  bool col_major = false;
  int64_t ld = 0, batch_stride = 0;
};

MatLayout mat_layout(const Tensor& x, Dtype t) {
  Tensor c = x.dtype() == t ? x : convert(x, t);
  int64_t nd = c.dim(), rows = c.size(-2), cols = c.size(-1);
  int64_t rs = c.stride(-2), cs = c.stride(-1), bs = nd == 3 ? c.stride(0) : 0;
  if ((cols <= 1 || cs == 1) && rs >= std::max<int64_t>(cols, 1)) return {c, false, rs, bs};
  if ((rows <= 1 || rs == 1) && cs >= std::max<int64_t>(rows, 1)) return {c, true, cs, bs};
  c = contig(c);
  return {c, false, std::max<int64_t>(cols, 1), nd == 3 ? rows * cols : 0};
}

// Calls f with an Eigen map of matrix i of the operand (rows x cols).
template <class T, class F>
void with_mat(const MatLayout& L, int64_t i, int64_t rows, int64_t cols, F f) {
  using Stride = Eigen::OuterStride<>;
  const T* p = sptr<const T>(L.t) + i * L.batch_stride;
  if (L.col_major)
    f(Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Stride>(p, rows, cols, Stride(L.ld)));
  else
    f(Eigen::Map<const RowMajor<T>, 0, Stride>(p, rows, cols, Stride(L.ld)));
}

// C[b] = A[b] @ B[b] for `batch` (n,k) @ (k,m) products (a, b 2-D or 3-D, any GEMM-able layout).
Tensor gemm(const Tensor& a, const Tensor& b, int64_t batch, int64_t n, int64_t k, int64_t m,
            Shape out_shape) {
  Dtype t = matmul_type(a, b, "matmul");
  MatLayout la = mat_layout(a, t), lb = mat_layout(b, t);
  Tensor out = empty(std::move(out_shape), t);
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      for (int64_t i = 0; i < batch; ++i) {
        MatMap<T> C(ptr<T>(out) + i * n * m, n, m);
        if (k == 0 || n == 0 || m == 0) { C.setZero(); continue; }
        with_mat<T>(la, i, n, k, [&](const auto& A) {
          with_mat<T>(lb, i, k, m, [&](const auto& B) { C.noalias() = A * B; });
        });
      }
    }
  });
  return out;
}

// (B,n,k) @ (B,k,m)      dA = G @ B^T, dB = A^T @ G
Tensor bmm(const Tensor& a, const Tensor& b) {
  int64_t B = a.size(0), n = a.size(1), k = a.size(2), m = b.size(2);
  return record("bmm", gemm(a, b, B, n, k, m, {B, n, m}), {a, b}, kSaveInputs,
                [](const Tensor& g, const Saved& s) -> Grads {
                  return {s.needs_grad(0) ? bmm(g, transpose(s.input(1), 1, 2)) : Tensor(),
                          s.needs_grad(1) ? bmm(transpose(s.input(0), 1, 2), g) : Tensor()};
                });
}
}  // namespace

// (n,k) @ (k,m)          dA = G @ B^T, dB = A^T @ G
Tensor mm(const Tensor& a, const Tensor& b) {
  CR_CHECK(a.dim() == 2 && b.dim() == 2 && a.size(1) == b.size(0), std::invalid_argument,
           "mm: expected (n,k) @ (k,m), got ", a.shape(), " @ ", b.shape());
  int64_t n = a.size(0), k = a.size(1), m = b.size(1);
  return record("mm", gemm(a, b, 1, n, k, m, {n, m}), {a, b}, kSaveInputs,
                [](const Tensor& g, const Saved& s) -> Grads {
                  return {s.needs_grad(0) ? mm(g, s.input(1).t()) : Tensor(),
                          s.needs_grad(1) ? mm(s.input(0).t(), g) : Tensor()};
                });
}

// PyTorch's rules: 1-D operands get a dim prepended (left) or appended (right) that is removed
// afterwards; batch dims (all but the last two) broadcast.
Tensor matmul(const Tensor& a, const Tensor& b) {
  int64_t da = a.dim(), db = b.dim();
  CR_CHECK(da >= 1 && db >= 1, std::invalid_argument,
           "matmul: both arguments need at least 1 dim, got ", a.shape(), " @ ", b.shape());
  if (da == 1 && db == 1) {
    CR_CHECK(a.size(0) == b.size(0), std::invalid_argument, "matmul: expected (k,) @ (k,), got ",
             a.shape(), " @ ", b.shape());
    return reshape(mm(unsqueeze(a, 0), unsqueeze(b, 1)), {});
  }
  if (da <= 2 && db <= 2) {
    CR_CHECK(a.size(-1) == b.size(db == 1 ? 0 : -2), std::invalid_argument,
             "matmul: expected (n,k) @ (k,m), got ", a.shape(), " @ ", b.shape());
    if (da == 1) return squeeze(mm(unsqueeze(a, 0), b), 0);
    if (db == 1) return squeeze(mm(a, unsqueeze(b, 1)), 1);
    return mm(a, b);
  }
  Tensor A = da == 1 ? unsqueeze(a, 0) : a, B = db == 1 ? unsqueeze(b, 1) : b;
  int64_t n = A.size(-2), k = A.size(-1), m = B.size(-1);
  CR_CHECK(k == B.size(-2), std::invalid_argument, "matmul: expected (..., n, k) @ (..., k, m), got ",
           a.shape(), " @ ", b.shape());
  Tensor out;
  if (B.dim() == 2) {  // (..., n, k) @ (k, m): one GEMM over the stacked rows
    Shape os(A.shape().begin(), A.shape().end() - 1);
    os.push_back(m);
    const int64_t rows = shape_numel(Shape(A.shape().begin(), A.shape().end() - 1));  // not -1: k may be 0
    out = reshape(mm(reshape(A, {rows, k}), B), os);
  } else {
    Shape ba(A.shape().begin(), A.shape().end() - 2), bb(B.shape().begin(), B.shape().end() - 2);
    Shape batch = broadcast_shapes(ba, bb, "matmul");
    Shape ea = batch, eb = batch, os = batch;
    ea.insert(ea.end(), {n, k});
    eb.insert(eb.end(), {k, m});
    os.insert(os.end(), {n, m});
    const int64_t nb = shape_numel(batch);
    out = reshape(bmm(reshape(expand(A, ea), {nb, n, k}), reshape(expand(B, eb), {nb, k, m})), os);
  }
  if (da == 1) out = squeeze(out, -2);
  if (db == 1) out = squeeze(out, -1);
  return out;
}

// y = x W^T + b, x (..., in), W (out, in), b (out,)
// dx = g W,  dW = g^T x (over all leading dims),  db = Σ g
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  CR_CHECK(x.dim() >= 1 && w.dim() == 2 && x.size(-1) == w.size(1), std::invalid_argument,
           "linear: expected input (..., in_features) and weight (out_features, in_features), got ",
           x.shape(), " and ", w.shape());
  int64_t in = w.size(1), out_f = w.size(0), rows = x.numel() / std::max<int64_t>(in, 1);
  if (bias.defined())
    CR_CHECK(bias.dim() == 1 && bias.size(0) == out_f, std::invalid_argument,
             "linear: expected bias of shape (", out_f, ",), got ", bias.shape());
  Dtype t = matmul_type(x, w, "linear");
  if (bias.defined()) t = promote_types(t, bias.dtype());
  Tensor xc = x.dtype() == t ? contig(x) : convert(x, t);
  MatLayout lw = mat_layout(w, t);
  Tensor bc = !bias.defined() ? bias : bias.dtype() == t ? contig(bias) : convert(bias, t);
  Shape os(x.shape().begin(), x.shape().end() - 1);
  os.push_back(out_f);
  Tensor y = empty(os, t);
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    if constexpr (!std::is_same_v<T, bool>) {
      MatMap<T> Y(ptr<T>(y), rows, out_f);
      if (in == 0 || rows == 0 || out_f == 0) Y.setZero();
      else
        with_mat<T>(lw, 0, out_f, in,
                    [&](const auto& W) { Y.noalias() = CMatMap<T>(ptr<T>(xc), rows, in) * W.transpose(); });
      if (bc.defined())  // a dense bias keeps the vectorised row add
        Y.rowwise() += Eigen::Map<const Eigen::Matrix<T, 1, Eigen::Dynamic>>(ptr<const T>(bc), out_f);
    }
  });
  std::vector<Tensor> inputs{x, w};
  if (bias.defined()) inputs.push_back(bias);
  bool has_bias = bias.defined();
  return record("linear", y, inputs, kSaveInputs, [in, out_f, has_bias](const Tensor& g, const Saved& s) -> Grads {
    Tensor x = s.input(0), w = s.input(1);
    Tensor g2 = reshape(g, {-1, out_f});
    Grads r{s.needs_grad(0) ? reshape(mm(g2, w), x.shape()) : Tensor(),
            s.needs_grad(1) ? mm(g2.t(), reshape(x, {-1, in})) : Tensor()};
    if (has_bias) r.push_back(s.needs_grad(2) ? sum(g2, {0}) : Tensor());
    return r;
  });
}

}  // namespace chainrule
