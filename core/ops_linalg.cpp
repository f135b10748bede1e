// Matrix products: mm (2-D), bmm (3-D, same batch), matmul with PyTorch's 1-D/2-D/batched rules,
// and the fused linear layer. Float GEMMs run on core/blas (OpenBLAS or Eigen), integer ones on Eigen.
#include <algorithm>
#include <cctype>
#include <cmath>
#include <sstream>

#include "core/blas.h"
#include "core/kernels.h"
#include "core/linalg.h"
#include "core/ops.h"

namespace chainrule {
using namespace kernels;

namespace {
template <class T> using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
template <class T> using MatMap = Eigen::Map<RowMajor<T>>;
template <class T> using CMatMap = Eigen::Map<const RowMajor<T>>;

// As torch, products never promote (float32 @ float64 raises): a float64 batch fed to a float32
// layer is a mistake to fix at its source, not to hide with a silent copy
Dtype matmul_type(const Tensor& a, const Tensor& b, const char* op) {
  CR_CHECK(a.dtype() == b.dtype(), std::invalid_argument, op, ": expected operands of one dtype, got ",
           dtype_name(a.dtype()), " ", a.shape(), " and ", dtype_name(b.dtype()), " ", b.shape(),
           "; convert one with .float() or .double()");
  CR_CHECK(a.dtype() != kBool, std::invalid_argument, op, ": not supported for bool tensors");
  return a.dtype();
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
template <class T, class F> void with_mat(const MatLayout& L, int64_t i, int64_t rows, int64_t cols, F f) {
  using Stride = Eigen::OuterStride<>;
  const T* p = sptr<const T>(L.t) + i * L.batch_stride;
  if (L.col_major)
    f(Eigen::Map<const Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>, 0, Stride>(p, rows, cols,
                                                                                    Stride(L.ld)));
  else f(Eigen::Map<const RowMajor<T>, 0, Stride>(p, rows, cols, Stride(L.ld)));
}

// C[b] = A[b] @ B[b] for `batch` (n,k) @ (k,m) products (a, b 2-D or 3-D, any GEMM-able layout).
Tensor gemm(const Tensor& a, const Tensor& b, int64_t batch, int64_t n, int64_t k, int64_t m,
            Shape out_shape) {
  Dtype t = matmul_type(a, b, "matmul");
  MatLayout la = mat_layout(a, t), lb = mat_layout(b, t);
  Tensor out = empty(std::move(out_shape), t);
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    using U = std::conditional_t<kWraps<T>, uint64_t, T>;  // int64 wraps: computed as uint64 (wrap_add)
    if constexpr (!std::is_same_v<T, bool>) {
      for (int64_t i = 0; i < batch; ++i) {
        MatMap<U> C(reinterpret_cast<U*>(ptr<T>(out)) + i * n * m, n, m);
        if (k == 0 || n == 0 || m == 0) {
          C.setZero();
          continue;
        }
        if constexpr (std::is_floating_point_v<T>)
          blas::gemm(n, m, k, sptr<const T>(la.t) + i * la.batch_stride, la.col_major, la.ld,
                     sptr<const T>(lb.t) + i * lb.batch_stride, lb.col_major, lb.ld, C.data(), m);
        else
          with_mat<U>(la, i, n, k, [&](const auto& A) {
            with_mat<U>(lb, i, k, m, [&](const auto& B) { C.noalias() = A * B; });
          });
      }
    }
  });
  return out;
}

// (B,n,k) @ (B,k,m)      dA = G @ B^T, dB = A^T @ G   (unchecked; the public bmm checks)
Tensor batched_mm(const Tensor& a, const Tensor& b) {
  int64_t B = a.size(0), n = a.size(1), k = a.size(2), m = b.size(2);
  return record(
      "bmm", gemm(a, b, B, n, k, m, {B, n, m}), {a, b}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        return {s.needs_grad(0) ? batched_mm(g, transpose(s.input(1), 1, 2)) : Tensor(),
                s.needs_grad(1) ? batched_mm(transpose(s.input(0), 1, 2), g) : Tensor()};
      },
      [](const Duals& d) {  // dA B + A dB
        return tangent_sum({d.has(0) ? batched_mm(d.tangent(0), d.input(1)) : Tensor(),
                            d.has(1) ? batched_mm(d.input(0), d.tangent(1)) : Tensor()});
      });
}
}  // namespace

// Why (n,k) @ (k,m) failed, and the transpose that would fit, if one does (students' classic
// x @ W where x @ W.T was meant).
static std::string inner_dims_hint(const Shape& a, const Shape& b) {
  const int64_t kb = b.size() == 1 ? b[0] : b[b.size() - 2];
  std::string s = ": the inner dims " + std::to_string(a.back()) + " and " + std::to_string(kb) + " differ";
  if (a.size() == 2 && b.size() == 2) {
    auto shape = [](int64_t r, int64_t c) { return detail::concat(Shape{r, c}); };
    if (a[1] == b[1]) s += "; a @ b.T would fit: " + shape(a[0], a[1]) + " @ " + shape(b[1], b[0]);
    else if (a[0] == b[0]) s += "; a.T @ b would fit: " + shape(a[1], a[0]) + " @ " + shape(b[0], b[1]);
    else if (b[1] == a[0]) s += "; b @ a would fit: " + shape(b[0], b[1]) + " @ " + shape(a[0], a[1]);
  }
  return s;
}

// (n,k) @ (k,m)          dA = G @ B^T, dB = A^T @ G
Tensor mm(const Tensor& a, const Tensor& b) {
  CR_CHECK(a.dim() == 2 && b.dim() == 2, std::invalid_argument, "mm: expected (n,k) @ (k,m), got ", a.shape(),
           " @ ", b.shape());
  CR_CHECK(a.size(1) == b.size(0), std::invalid_argument, "mm: expected (n,k) @ (k,m), got ", a.shape(),
           " @ ", b.shape(), inner_dims_hint(a.shape(), b.shape()));
  int64_t n = a.size(0), k = a.size(1), m = b.size(1);
  return record(
      "mm", gemm(a, b, 1, n, k, m, {n, m}), {a, b}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        return {s.needs_grad(0) ? mm(g, s.input(1).t()) : Tensor(),
                s.needs_grad(1) ? mm(s.input(0).t(), g) : Tensor()};
      },
      [](const Duals& d) {  // dA B + A dB
        return tangent_sum({d.has(0) ? mm(d.tangent(0), d.input(1)) : Tensor(),
                            d.has(1) ? mm(d.input(0), d.tangent(1)) : Tensor()});
      });
}

namespace {
// The number of rows of x viewed as (rows, in): in may be 0, so not x.numel() / in.
int64_t leading_rows(const Tensor& x) { return shape_numel(Shape(x.shape().begin(), x.shape().end() - 1)); }

// (..., n, k) @ (..., k, m) with A or B at least 3-D (a, b: the operands as given, for the message).
Tensor matmul_batched(const Tensor& A, const Tensor& B, const Tensor& a, const Tensor& b) {
  int64_t n = A.size(-2), k = A.size(-1), m = B.size(-1);
  CR_CHECK(k == B.size(-2), std::invalid_argument, "matmul: expected (..., n, k) @ (..., k, m), got ",
           a.shape(), " @ ", b.shape());
  if (B.dim() == 2) {  // (..., n, k) @ (k, m): one GEMM over the stacked rows
    Shape os(A.shape().begin(), A.shape().end() - 1);
    os.push_back(m);
    const int64_t rows = leading_rows(A);  // not -1: k may be 0
    return reshape(mm(reshape(A, {rows, k}), B), os);
  }
  Shape ba(A.shape().begin(), A.shape().end() - 2), bb(B.shape().begin(), B.shape().end() - 2);
  Shape batch;
  try {
    batch = broadcast_shapes(ba, bb, "matmul");
  } catch (const std::invalid_argument&) {
    throw std::invalid_argument(detail::concat("matmul: cannot broadcast the batch dims ", ba, " and ", bb,
                                               " of ", a.shape(), " @ ", b.shape()));
  }
  Shape ea = batch, eb = batch, os = batch;
  ea.insert(ea.end(), {n, k});
  eb.insert(eb.end(), {k, m});
  os.insert(os.end(), {n, m});
  const int64_t nb = shape_numel(batch);
  return reshape(batched_mm(reshape(expand(A, ea), {nb, n, k}), reshape(expand(B, eb), {nb, k, m})), os);
}

// y = x W^T + b in dtype t as one GEMM over x's rows (x: rows x in, W: out_f x in).
Tensor linear_kernel(const Tensor& x, const Tensor& w, const Tensor& bias, Dtype t) {
  int64_t in = w.size(1), out_f = w.size(0), rows = leading_rows(x);
  Tensor xc = x.dtype() == t ? contig(x) : convert(x, t);
  MatLayout lw = mat_layout(w, t);
  Tensor bc = !bias.defined() ? bias : bias.dtype() == t ? contig(bias) : convert(bias, t);
  Shape os(x.shape().begin(), x.shape().end() - 1);
  os.push_back(out_f);
  Tensor y = empty(os, t);
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    using U = std::conditional_t<kWraps<T>, uint64_t, T>;  // int64 wraps: computed as uint64 (wrap_add)
    if constexpr (!std::is_same_v<T, bool>) {
      MatMap<U> Y(reinterpret_cast<U*>(ptr<T>(y)), rows, out_f);
      if (in == 0 || rows == 0 || out_f == 0) Y.setZero();
      else if constexpr (std::is_floating_point_v<T>)  // Y = X @ W^T: W read transposed, in place
        blas::gemm(rows, out_f, in, ptr<T>(xc), false, in, sptr<const T>(lw.t), !lw.col_major, lw.ld,
                   Y.data(), out_f);
      else
        with_mat<U>(lw, 0, out_f, in, [&](const auto& W) {
          Y.noalias() = CMatMap<U>(reinterpret_cast<const U*>(ptr<T>(xc)), rows, in) * W.transpose();
        });
      if (bc.defined())  // a dense bias keeps the vectorised row add
        Y.rowwise() += Eigen::Map<const Eigen::Matrix<U, 1, Eigen::Dynamic>>(
            reinterpret_cast<const U*>(ptr<T>(bc)), out_f);
    }
  });
  return y;
}
}  // namespace

// PyTorch's rules: 1-D operands get a dim prepended (left) or appended (right) that is removed
// afterwards; batch dims (all but the last two) broadcast.
Tensor matmul(const Tensor& a, const Tensor& b) {
  int64_t da = a.dim(), db = b.dim();
  CR_CHECK(da >= 1 && db >= 1, std::invalid_argument, "matmul: both arguments need at least 1 dim, got ",
           a.shape(), " @ ", b.shape());
  if (da == 1 && db == 1) {
    CR_CHECK(a.size(0) == b.size(0), std::invalid_argument, "matmul: expected (k,) @ (k,), got ", a.shape(),
             " @ ", b.shape());
    return reshape(mm(unsqueeze(a, 0), unsqueeze(b, 1)), {});
  }
  if (da <= 2 && db <= 2) {
    CR_CHECK(a.size(-1) == b.size(db == 1 ? 0 : -2), std::invalid_argument,
             "matmul: expected (n,k) @ (k,m), got ", a.shape(), " @ ", b.shape(),
             inner_dims_hint(a.shape(), b.shape()));
    if (da == 1) return squeeze(mm(unsqueeze(a, 0), b), 0);
    if (db == 1) return squeeze(mm(a, unsqueeze(b, 1)), 1);
    return mm(a, b);
  }
  Tensor out = matmul_batched(da == 1 ? unsqueeze(a, 0) : a, db == 1 ? unsqueeze(b, 1) : b, a, b);
  if (da == 1) out = squeeze(out, -2);
  if (db == 1) out = squeeze(out, -1);
  return out;
}

// torch's other forms of linear, composed: a 1-D weight (in,) is a dot product over the last dim
// (that dim dropped), and a bias of another shape is added with broadcasting to the output's shape.
static Tensor linear_composed(const Tensor& x, const Tensor& w, const Tensor& bias) {
  CR_CHECK(w.dim() == 2 || !bias.defined() || bias.dim() == 0, std::invalid_argument, "linear: a 1-D weight ",
           w.shape(), " takes a 0-d bias or none, got bias ", bias.shape());
  Tensor y = w.dim() == 1 ? matmul(x, w) : linear(x, w, Tensor());
  if (!bias.defined()) return y;
  bool fits = bias.dim() <= y.dim();
  for (int64_t i = 1; fits && i <= bias.dim(); ++i) fits = bias.size(-i) == 1 || bias.size(-i) == y.size(-i);
  CR_CHECK(fits, std::invalid_argument, "linear: expected bias of shape (", w.dim() == 2 ? w.size(0) : 1,
           ",) or one that broadcasts to the output shape ", y.shape(), ", got ", bias.shape());
  return add(y, bias);
}

static Dtype linear_type(const Tensor& x, const Tensor& w, const Tensor& bias) {
  CR_CHECK(
      x.dim() >= 1 && (w.dim() == 2 || w.dim() == 1) && x.size(-1) == w.size(-1), std::invalid_argument,
      "linear: expected input (..., in_features) and weight (out_features, in_features) or (in_features,), "
      "got ",
      x.shape(), " and ", w.shape());
  Dtype t = matmul_type(x, w, "linear");
  CR_CHECK(!bias.defined() || bias.dtype() == t, std::invalid_argument, "linear: expected a bias of dtype ",
           dtype_name(t), " as the input and weight, got ", dtype_name(bias.dtype()),
           "; convert one with .float() or .double()");
  return t;
}

// y = x W^T + b, x (..., in), W (out, in), b (out,)
// dx = g W,  dW = g^T x (over all leading dims),  db = Σ g
Tensor linear(const Tensor& x, const Tensor& w, const Tensor& bias) {
  Dtype t = linear_type(x, w, bias);
  if (w.dim() == 1 || (bias.defined() && !(bias.dim() == 1 && bias.size(0) == w.size(0))))
    return linear_composed(x, w, bias);
  int64_t in = w.size(1), out_f = w.size(0), rows = leading_rows(x);
  Tensor y = linear_kernel(x, w, bias, t);
  std::vector<Tensor> inputs{x, w};
  if (bias.defined()) inputs.push_back(bias);
  bool has_bias = bias.defined();
  return record(
      "linear", y, inputs, kSaveInputs,
      [in, out_f, rows, has_bias](const Tensor& g, const Saved& s) -> Grads {
        Tensor x = s.input(0), w = s.input(1);
        Tensor g2 = reshape(g, {rows, out_f});
        Grads r{s.needs_grad(0) ? reshape(mm(g2, w), x.shape()) : Tensor(),
                s.needs_grad(1) ? mm(g2.t(), reshape(x, {rows, in})) : Tensor()};
        if (has_bias) r.push_back(s.needs_grad(2) ? sum(g2, {0}) : Tensor());
        return r;
      },
      [has_bias](const Duals& d) {  // dx W^T + x dW^T + db: linear in each
        return tangent_sum({d.has(0) ? linear(d.tangent(0), d.input(1), Tensor()) : Tensor(),
                            d.has(1) ? linear(d.input(0), d.tangent(1), Tensor()) : Tensor(),
                            has_bias && d.has(2) ? d.tangent(2) : Tensor()});
      });
}

}  // namespace chainrule

// ================================================================ linalg: products, matrix helpers,
// einsum and norms (torch names; all composed from differentiable ops, so second derivatives work)
namespace chainrule {

// (n,) . (n,) -> ()        d/da = g b, d/db = g a
Tensor dot(const Tensor& a, const Tensor& b) {
  CR_CHECK(a.dim() == 1 && b.dim() == 1, std::invalid_argument, "dot: expected 1-D tensors, got ", a.shape(),
           " and ", b.shape());
  CR_CHECK(a.size(0) == b.size(0), std::invalid_argument, "dot: expected tensors of the same size, got ",
           a.shape(), " and ", b.shape());
  CR_CHECK(a.dtype() == b.dtype(), std::invalid_argument,
           "dot: expected both vectors to have the same dtype, got ", dtype_name(a.dtype()), " and ",
           dtype_name(b.dtype()));
  return matmul(a, b);
}

// (n,) x (m,) -> (n, m) with out[i, j] = a[i] b[j]     d/da = G b, d/db = G^T a
Tensor outer(const Tensor& a, const Tensor& b) {
  CR_CHECK(a.dim() == 1 && b.dim() == 1, std::invalid_argument, "outer: expected 1-D tensors, got ",
           a.shape(), " and ", b.shape());
  return mul(unsqueeze(a, 1), unsqueeze(b, 0));
}

// (n, m) @ (m,) -> (n,)     dA = g x^T, dx = A^T g
Tensor mv(const Tensor& a, const Tensor& x) {
  CR_CHECK(a.dim() == 2 && x.dim() == 1 && a.size(1) == x.size(0), std::invalid_argument,
           "mv: expected a matrix (n, m) and a vector (m,), got ", a.shape(), " and ", x.shape());
  CR_CHECK(a.dtype() == x.dtype(), std::invalid_argument, "mv: expected the same dtype, got ",
           dtype_name(a.dtype()), " and ", dtype_name(x.dtype()));
  return matmul(a, x);
}

// (B, n, k) @ (B, k, m) -> (B, n, m), no broadcasting (matmul broadcasts)
Tensor bmm(const Tensor& a, const Tensor& b) {
  CR_CHECK(a.dim() == 3 && b.dim() == 3 && a.size(0) == b.size(0) && a.size(2) == b.size(1),
           std::invalid_argument, "bmm: expected (B, n, k) @ (B, k, m), got ", a.shape(), " @ ", b.shape());
  CR_CHECK(a.dtype() == b.dtype(), std::invalid_argument, "bmm: expected the same dtype, got ",
           dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  return batched_mm(a, b);
}

// sum_i x[i, i]      d/dx = g I
Tensor trace(const Tensor& x) {
  CR_CHECK(x.dim() == 2, std::invalid_argument, "trace: expected a matrix (2-D), got shape ", x.shape());
  return sum(diagonal(x, 0, 0, 1));
}

// 1-D v -> the (n+|k|, n+|k|) matrix with v on diagonal k; 2-D -> a copy of its diagonal k
Tensor diag(const Tensor& x, int64_t k) {
  CR_CHECK(x.dim() == 1 || x.dim() == 2, std::invalid_argument,
           "diag: expected a 1-D or 2-D tensor, got shape ", x.shape());
  if (x.dim() == 2) return diagonal(x, k, 0, 1).clone();
  int64_t n = x.size(0) + (k < 0 ? -k : k);
  return diagonal_backward(x, {n, n}, k, 0, 1);
}

// (..., n) -> (..., n, n) with x on the diagonal (torch.diag_embed)
Tensor diag_embed(const Tensor& x) {
  CR_CHECK(x.dim() >= 1, std::invalid_argument, "diag_embed: expected at least 1 dim, got shape ", x.shape());
  Shape s = x.shape();
  s.push_back(s.back());
  return diagonal_backward(x, s, 0, -2, -1);
}

namespace {
// bool (n, m) mask: j - i <= k (lower) or j - i >= k (upper)
Tensor tri_mask(int64_t n, int64_t m, int64_t k, bool lower) {
  Tensor mask = empty({n, m}, kBool);
  bool* p = mask.data<bool>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) p[i * m + j] = lower ? j - i <= k : j - i >= k;
  return mask;
}
Tensor tri(const Tensor& x, int64_t k, bool lower, const char* op) {
  CR_CHECK(x.dim() >= 2, std::invalid_argument, op, ": expected a tensor with at least 2 dims, got shape ",
           x.shape());
  Tensor mask = tri_mask(x.size(-2), x.size(-1), k, lower);
  if (x.dtype() == kBool) return logical_and(x, mask);
  return where(mask, x, zeros({}, x.dtype()));
}
}  // namespace

// x with the entries above diagonal k set to 0      d/dx = g masked the same way
Tensor tril(const Tensor& x, int64_t k) { return tri(x, k, true, "tril"); }
// x with the entries below diagonal k set to 0
Tensor triu(const Tensor& x, int64_t k) { return tri(x, k, false, "triu"); }

// Grids from 1-D tensors: out[i] varies along dim i ("ij") and is constant elsewhere; "xy" swaps
// the roles of the first two dims (x along columns). Outputs are expanded views.
std::vector<Tensor> meshgrid(const std::vector<Tensor>& xs, const std::string& indexing) {
  CR_CHECK(indexing == "ij" || indexing == "xy", std::invalid_argument,
           "meshgrid: expected indexing 'ij' or 'xy', got '", indexing, "'");
  CR_CHECK(!xs.empty(), std::invalid_argument, "meshgrid: expected at least one tensor");
  for (const Tensor& t : xs) {
    CR_CHECK(t.dim() <= 1, std::invalid_argument, "meshgrid: expected 0-D or 1-D tensors, got shape ",
             t.shape());
    CR_CHECK(t.dtype() == xs[0].dtype(), std::invalid_argument,
             "meshgrid: expected all tensors to have the same dtype, got ", dtype_name(xs[0].dtype()),
             " and ", dtype_name(t.dtype()));
  }
  const size_t n = xs.size();
  bool swap = indexing == "xy" && n >= 2;
  std::vector<size_t> pos(n);  // the output dim each input varies along
  for (size_t i = 0; i < n; ++i) pos[i] = swap && i < 2 ? 1 - i : i;
  Shape full(n);
  for (size_t i = 0; i < n; ++i) full[pos[i]] = xs[i].numel();
  std::vector<Tensor> out;
  for (size_t i = 0; i < n; ++i) {
    Shape s(n, 1);
    s[pos[i]] = xs[i].numel();
    out.push_back(expand(reshape(xs[i], s), full));
  }
  return out;
}

// ---------------------------------------------------------------- einsum
namespace {
// Labels: 0..51 for a-z, A-Z; 52 + j for the j-th ellipsis dim (right-aligned across operands).
constexpr int kEll = 52;

struct Term {
  std::vector<int> labels;  // one per dim of the operand, after expanding '...'
  bool has_ell = false;
  size_t ell_pos = 0;  // where '...' sits among the letters
  size_t n_letters = 0;
};

Term parse_term(const std::string& eq, size_t begin, size_t end) {
  Term t;
  for (size_t i = begin; i < end; ++i) {
    char c = eq[i];
    if (c == '.') {
      CR_CHECK(!t.has_ell && i + 3 <= end && eq.compare(i, 3, "...") == 0, std::invalid_argument,
               "einsum: expected '...' at most once per operand, got a stray '.' at index ", i, " of '", eq,
               "'");
      t.has_ell = true;
      t.ell_pos = t.labels.size();
      i += 2;
      continue;
    }
    CR_CHECK(std::isalpha(static_cast<unsigned char>(c)), std::invalid_argument,
             "einsum: invalid subscript '", std::string(1, c), "' at index ", i, " of '", eq,
             "'; subscripts must be in [a-zA-Z]");
    t.labels.push_back(c >= 'a' ? c - 'a' : 26 + (c - 'A'));
  }
  t.n_letters = t.labels.size();
  return t;
}

char label_char(int l) { return l < 26 ? static_cast<char>('a' + l) : static_cast<char>('A' + l - 26); }

// Sums x over the dims whose labels are in `drop`, keeping the others (and their labels).
Tensor sum_labels(const Tensor& x, std::vector<int>& labels, const std::vector<bool>& drop) {
  std::vector<int64_t> dims;
  std::vector<int> kept;
  for (size_t d = 0; d < labels.size(); ++d)
    if (drop[labels[d]]) dims.push_back(static_cast<int64_t>(d));
    else kept.push_back(labels[d]);
  if (dims.empty()) return x;
  labels = kept;
  return sum(x, dims);
}

std::vector<int> ellipsis_labels(int64_t from, int64_t to) {
  std::vector<int> ell;
  for (int64_t j = from; j < to; ++j) ell.push_back(kEll + static_cast<int>(j));
  return ell;
}

// The operands' terms, split at ','; spaces removed from eq beforehand.
std::vector<Term> input_terms(const std::string& lhs, size_t n_operands, const std::string& equation) {
  std::vector<Term> terms;
  for (size_t b = 0;;) {
    size_t e = lhs.find(',', b);
    terms.push_back(parse_term(lhs, b, e == std::string::npos ? lhs.size() : e));
    if (e == std::string::npos) break;
    b = e + 1;
  }
  CR_CHECK(terms.size() == n_operands, std::invalid_argument, "einsum: the equation '", equation, "' has ",
           terms.size(), " operand(s), got ", n_operands, " tensor(s)");
  return terms;
}

// Checks each operand's dims and dtype, replaces its '...' by labels kEll + j (right-aligned across
// operands) and returns the number of ellipsis dims.
int64_t expand_ellipses(std::vector<Term>& terms, const std::vector<Tensor>& operands) {
  int64_t n_ell = 0;
  for (size_t k = 0; k < terms.size(); ++k) {
    const Term& t = terms[k];
    int64_t nd = operands[k].dim(), nl = static_cast<int64_t>(t.n_letters);
    CR_CHECK(t.has_ell ? nd >= nl : nd == nl, std::invalid_argument, "einsum: expected operand ", k,
             " to have ", t.has_ell ? "at least " : "", nl, " dims (one per subscript",
             t.has_ell ? " besides '...'" : "", "), got shape ", operands[k].shape());
    CR_CHECK(operands[k].dtype() == operands[0].dtype(), std::invalid_argument,
             "einsum: expected operands of the same dtype, got ", dtype_name(operands[0].dtype()), " and ",
             dtype_name(operands[k].dtype()));
    if (t.has_ell) n_ell = std::max(n_ell, nd - nl);
  }
  for (size_t k = 0; k < terms.size(); ++k) {
    Term& t = terms[k];
    if (!t.has_ell) continue;
    std::vector<int> ell =
        ellipsis_labels(n_ell - (operands[k].dim() - static_cast<int64_t>(t.n_letters)), n_ell);
    t.labels.insert(t.labels.begin() + t.ell_pos, ell.begin(), ell.end());
  }
  return n_ell;
}

// Checks the letters after '->': each used by some input, none twice.
void check_output_term(const Term& t, const std::vector<int>& count) {
  std::vector<bool> seen(count.size(), false);
  for (int l : t.labels) {
    CR_CHECK(count[l] > 0, std::invalid_argument, "einsum: output subscript ", std::string(1, label_char(l)),
             " does not appear in the equation for any input operand");
    CR_CHECK(!seen[l], std::invalid_argument, "einsum: output subscript ", std::string(1, label_char(l)),
             " appears more than once in the output");
    seen[l] = true;
  }
}

// The output labels: after '->', or implicitly '...' first, then the letters used once, sorted.
std::vector<int> output_labels(const std::string& eq, size_t arrow, int64_t n_ell,
                               const std::vector<int>& count) {
  std::vector<int> out;
  if (arrow == std::string::npos) {
    out = ellipsis_labels(0, n_ell);
    for (int l = 0; l < kEll; ++l)
      if (count[l] == 1) out.push_back(l);
    return out;
  }
  std::string rhs = eq.substr(arrow + 2);
  Term t = parse_term(rhs, 0, rhs.size());
  check_output_term(t, count);
  out = t.labels;
  if (t.has_ell) {
    std::vector<int> ell = ellipsis_labels(0, n_ell);
    out.insert(out.begin() + t.ell_pos, ell.begin(), ell.end());
  }
  return out;
}

// The size of each label (size-1 dims broadcast, as torch).
std::vector<int64_t> label_sizes(const std::vector<Term>& terms, const std::vector<Tensor>& operands,
                                 int n_labels) {
  std::vector<int64_t> size(n_labels, -1);
  for (size_t k = 0; k < terms.size(); ++k)
    for (size_t d = 0; d < terms[k].labels.size(); ++d) {
      int l = terms[k].labels[d];
      int64_t s = operands[k].size(static_cast<int64_t>(d));
      CR_CHECK(size[l] == -1 || size[l] == s || size[l] == 1 || s == 1, std::invalid_argument,
               "einsum: subscript ", l < kEll ? std::string(1, label_char(l)) : std::string("..."),
               " has size ", s, " for operand ", k, " which does not broadcast with previously seen size ",
               size[l]);
      if (size[l] == -1 || size[l] == 1) size[l] = s;
    }
  return size;
}

// Operand k with each repeated label taken as a diagonal (the label moves to the last dim).
Tensor take_diagonals(Tensor x, std::vector<int>& lab, size_t k) {
  for (size_t i = 0; i < lab.size(); ++i)
    for (size_t j = i + 1; j < lab.size(); ++j)
      if (lab[i] == lab[j]) {
        CR_CHECK(x.size(i) == x.size(j), std::invalid_argument, "einsum: subscript ",
                 std::string(1, label_char(lab[i])), " is repeated for operand ", k,
                 " but the sizes don't match, ", x.size(i), " != ", x.size(j));
        x = diagonal(x, 0, static_cast<int64_t>(i), static_cast<int64_t>(j));
        int l = lab[i];
        lab.erase(lab.begin() + j);
        lab.erase(lab.begin() + i);
        lab.push_back(l);
        i = static_cast<size_t>(-1);  // restart the scan
        break;
      }
  return x;
}

// What the contraction needs to know about the labels: their sizes, which the output keeps, and
// in how many operands each still appears.
struct Labels {
  std::vector<int64_t> size;
  std::vector<bool> in_out;
  std::vector<int> uses;
  int64_t prod(const std::vector<int>& ls) const {
    int64_t p = 1;
    for (int l : ls) p *= size[l];
    return p;
  }
  // x (labelled lab) with its dims in `order`, size-1 dims broadcast to the label's size.
  Tensor arrange(const Tensor& x, const std::vector<int>& lab, const std::vector<int>& order) const {
    std::vector<int64_t> perm;
    Shape full;
    for (int l : order) {
      perm.push_back(std::find(lab.begin(), lab.end(), l) - lab.begin());
      full.push_back(size[l]);
    }
    return expand(permute(x, perm), full);
  }
};

std::vector<int> concat(std::vector<int> a, const std::vector<int>& b, const std::vector<int>& c) {
  a.insert(a.end(), b.begin(), b.end());
  a.insert(a.end(), c.begin(), c.end());
  return a;
}

// acc (labelled al) times b (labelled bl) as one batched GEMM: batch = shared labels still needed
// (by the output or a later operand), contracted = shared labels no longer needed.
Tensor contract(const Tensor& acc, std::vector<int>& al, const Tensor& b, const std::vector<int>& bl,
                Labels& L) {
  for (int l : al) --L.uses[l];
  for (int l : bl) --L.uses[l];
  auto has = [](const std::vector<int>& v, int l) { return std::find(v.begin(), v.end(), l) != v.end(); };
  std::vector<int> batch, contr, aonly, bonly;
  for (int l : al)
    if (has(bl, l)) (L.in_out[l] || L.uses[l] > 0 ? batch : contr).push_back(l);
    else aonly.push_back(l);
  for (int l : bl)
    if (!has(al, l)) bonly.push_back(l);
  int64_t nb = L.prod(batch), M = L.prod(aonly), K = L.prod(contr), N = L.prod(bonly);
  Tensor A = reshape(L.arrange(acc, al, concat(batch, aonly, contr)), {nb, M, K});
  Tensor B = reshape(L.arrange(b, bl, concat(batch, contr, bonly)), {nb, K, N});
  al = concat(batch, aonly, bonly);
  Shape rs;
  for (int l : al) rs.push_back(L.size[l]), ++L.uses[l];
  return reshape(batched_mm(A, B), rs);
}

// Sums each operand over the labels nobody else needs, multiplies the operands left to right, and
// permutes (and broadcasts) the product to the output labels.
Tensor contract_all(std::vector<Tensor>& xs, std::vector<std::vector<int>>& ls, Labels& L,
                    const std::vector<int>& out) {
  for (size_t k = 0; k < xs.size(); ++k) {
    std::vector<bool> drop(L.size.size(), false);
    for (int l : ls[k]) drop[l] = !L.in_out[l] && L.uses[l] == 1;
    for (int l : ls[k])
      if (drop[l]) --L.uses[l];
    xs[k] = sum_labels(xs[k], ls[k], drop);
  }
  Tensor acc = xs[0];
  std::vector<int> al = ls[0];
  for (size_t k = 1; k < xs.size(); ++k) acc = contract(acc, al, xs[k], ls[k], L);
  // labels left that the output doesn't name (only possible with one operand: all summed above)
  std::vector<bool> drop(L.size.size(), false);
  for (int l : al) drop[l] = !L.in_out[l];
  acc = sum_labels(acc, al, drop);
  return L.arrange(acc, al, out);
}
}  // namespace

// Each operand's repeated labels become a diagonal; labels used nowhere else are summed at once;
// then operands are multiplied pairwise as one batched GEMM (see contract); finally the result is
// permuted to the output order. Linear in each operand: the gradient flows through those ops.
// The equation without spaces; `arrow` is where its "->" is (npos if none; two are an error).
std::string einsum_equation(const std::string& equation, size_t& arrow) {
  std::string eq;
  for (char c : equation)
    if (c != ' ') eq += c;
  arrow = eq.find("->");
  CR_CHECK(arrow == std::string::npos || eq.find("->", arrow + 2) == std::string::npos, std::invalid_argument,
           "einsum: expected at most one '->' in '", equation, "'");
  return eq;
}

Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands) {
  CR_CHECK(!operands.empty(), std::invalid_argument, "einsum: expected at least one operand");
  size_t arrow;
  const std::string eq = einsum_equation(equation, arrow);
  std::vector<Term> terms = input_terms(eq.substr(0, arrow), operands.size(), equation);
  const int64_t n_ell = expand_ellipses(terms, operands);
  const int n_labels = kEll + static_cast<int>(n_ell);
  std::vector<int> count(n_labels, 0);
  for (const Term& t : terms)
    for (int l : t.labels) ++count[l];
  const std::vector<int> out = output_labels(eq, arrow, n_ell, count);
  Labels L{label_sizes(terms, operands, n_labels), std::vector<bool>(n_labels, false),
           std::vector<int>(n_labels, 0)};
  for (int l : out) L.in_out[l] = true;
  std::vector<Tensor> xs;
  std::vector<std::vector<int>> ls;
  for (size_t k = 0; k < terms.size(); ++k) {
    ls.push_back(terms[k].labels);
    xs.push_back(take_diagonals(operands[k], ls.back(), k));
    for (int l : ls.back()) ++L.uses[l];
  }
  return contract_all(xs, ls, L, out);
}
// ---------------------------------------------------------------- norms
namespace {
std::string ord_str(double ord) {
  if (std::isinf(ord)) return ord > 0 ? "inf" : "-inf";
  std::ostringstream os;
  os << ord;
  return os.str();
}
}  // namespace

// The dims a vector norm reduces (normalized; empty = all), checked to have an identity for `ord`.
static std::vector<int64_t> vector_norm_dims(const Tensor& x, double ord, std::vector<int64_t> dims) {
  CR_CHECK(is_floating(x.dtype()), std::invalid_argument,
           "linalg.vector_norm: expected a floating point tensor, got ", dtype_name(x.dtype()));
  CR_CHECK(!std::isnan(ord), std::invalid_argument, "linalg.vector_norm: ord must not be nan");
  for (int64_t& d : dims) d = normalize_dim(d, std::max<int64_t>(x.dim(), 1), "linalg.vector_norm");
  if (x.dim() == 0 && !dims.empty()) dims.clear();
  int64_t n = 1;
  if (dims.empty()) n = x.numel();
  else
    for (int64_t d : dims) n *= x.size(d);
  CR_CHECK(n > 0 || (ord >= 0 && !std::isinf(ord)), std::invalid_argument,
           "linalg.vector_norm: can't compute the ", ord_str(ord),
           " norm on an empty tensor because the operation does not have an identity");
  return dims;
}

// d||x||_p/dx * g for a finite p other than 0 and 1, with y = ||x||_p and g kept at the reduced dims:
// sign(x) |x|^(p-1) / y^(p-1). Where y = 0 the first derivative is 0 (torch's convention); the
// second is nan there (as torch's: the Hessian of a norm blows up like 1/||x|| at 0).
static Tensor vector_norm_grad(const Tensor& g, const Tensor& x, const Tensor& y, double ord) {
  Tensor zero = eq(y, Scalar(0)), z0 = zeros({}, x.dtype());
  if (ord == 2) return mul(g, where(zero, z0, div(x, y)));
  Tensor ax = abs(x);
  if (ord < 1) {  // |x|^(p-1) is infinite at 0: torch sets those entries to 0
    Tensor az = eq(ax, Scalar(0));
    Tensor scaled = where(az, z0, mul(sign(x), pow(where(az, ones({}, x.dtype()), ax), ord - 1)));
    return mul(mul(scaled, g), pow(y, 1 - ord));
  }
  return mul(mul(sign(x), pow(ax, ord - 1)), where(zero, z0, div(g, pow(y, ord - 1))));
}

// ||x||_p over dims (all when empty) = (sum |x|^p)^(1/p); p = inf: max |x|; -inf: min |x|;
// 0: the number of nonzeros. d/dx = sign(x) |x|^(p-1) / ||x||^(p-1) (vector_norm_grad).
Tensor vector_norm(const Tensor& x, double ord, std::vector<int64_t> dims, bool keepdim) {
  dims = vector_norm_dims(x, ord, std::move(dims));
  if (std::isinf(ord)) return ord > 0 ? amax(abs(x), dims, keepdim) : amin(abs(x), dims, keepdim);
  if (ord == 0) return depends_on(sum(ne(x, Scalar(0)).to(x.dtype()), dims, keepdim), x);
  if (ord == 1) return sum(abs(x), dims, keepdim);
  Tensor y;
  {
    NoGradGuard ng;
    y = ord == 2 ? sqrt(sum(mul(x, x), dims, keepdim)) : pow(sum(pow(abs(x), ord), dims, keepdim), 1.0 / ord);
  }
  std::vector<int64_t> kd = dims;
  if (kd.empty())
    for (int64_t d = 0; d < x.dim(); ++d) kd.push_back(d);
  std::sort(kd.begin(), kd.end());       // backward re-inserts the reduced dims, lowest first
  auto kept = [kd, keepdim](Tensor t) {  // t with the reduced dims back (size 1)
    for (int64_t d : kd) t = keepdim ? t : unsqueeze(t, d);
    return t;
  };
  return record(
      "linalg_vector_norm", y, {x}, kSaveInputs | kSaveOutput,
      [ord, kept](const Tensor& g, const Saved& s) -> Grads {
        return {vector_norm_grad(kept(g), s.input(0), kept(s.output()), ord)};
      },
      [ord, kept, kd, keepdim](const Duals& d) {  // Σ dy/dx · t over the reduced dims
        Tensor y = kept(d.output());
        return sum(vector_norm_grad(ones_like(y), d.input(0), y, ord) * d.tangent(0), kd, keepdim);
      });
}

// The singular values of each (..., m, n) matrix (descending, as torch.linalg.svdvals): the k =
// min(m, n) largest eigenvalues of the symmetric [[0, A], [A^T, 0]], whose eigenvalues are +-s_i and
// |m - n| zeros. eigh is backward stable on it (absolute error ~ eps s_max, like an SVD), and its
// derivatives give d s_i / dA = u_i v_i^T, second derivatives included.
Tensor singular_values(const Tensor& a) {
  const int64_t m = a.size(-2), n = a.size(-1), k = std::min(m, n);
  Shape bm(a.shape().begin(), a.shape().end() - 2), bn = bm;
  bm.insert(bm.end(), {m, m});
  bn.insert(bn.end(), {n, n});
  Tensor M = cat({cat({zeros(bm, a.dtype()), a}, -1), cat({a.mT(), zeros(bn, a.dtype())}, -1)}, -2);
  std::vector<double> desc;
  for (int64_t i = m + n - 1; i >= m + n - k; --i) desc.push_back(static_cast<double>(i));
  Tensor w = index_select(linalg_eigvalsh(M), -1, tensor(desc, {k}, kInt64));
  return abs(w);  // a zero singular value may come out as -1e-17
}

// "nuc", "2" or "-2" over dims d0, d1: the sum, largest or smallest singular value.
static Tensor spectral_norm(const Tensor& a, const std::string& ord, int64_t d0, int64_t d1, bool keepdim) {
  std::vector<int64_t> perm;  // the two matrix dims last
  for (int64_t d = 0; d < a.dim(); ++d)
    if (d != d0 && d != d1) perm.push_back(d);
  perm.insert(perm.end(), {d0, d1});
  Tensor s = singular_values(permute(a, perm));
  Tensor r = ord == "nuc" ? sum(s, {-1}) : ord == "2" ? amax(s, {-1}) : amin(s, {-1});
  if (keepdim)
    for (int64_t d : {std::min(d0, d1), std::max(d0, d1)}) r = unsqueeze(r, d);
  return r;
}

// Matrix norms over the two dims: "fro" (sqrt of the sum of squares), "1"/"-1" (max/min column
// abs-sum), "inf"/"-inf" (max/min row abs-sum), "2"/"-2" (largest/smallest singular value),
// "nuc" (sum of the singular values).
Tensor matrix_norm(const Tensor& a, const std::string& ord, std::vector<int64_t> dims, bool keepdim) {
  CR_CHECK(a.dim() >= 2, std::invalid_argument,
           "linalg.matrix_norm: expected a tensor with at least 2 dims, got shape ", a.shape());
  CR_CHECK(is_floating(a.dtype()), std::invalid_argument,
           "linalg.matrix_norm: expected a floating point tensor, got ", dtype_name(a.dtype()));
  CR_CHECK(dims.size() == 2, std::invalid_argument, "linalg.matrix_norm: dim must be a 2-tuple, got ",
           dims.size(), " dims");
  int64_t d0 = normalize_dim(dims[0], a.dim(), "linalg.matrix_norm"),
          d1 = normalize_dim(dims[1], a.dim(), "linalg.matrix_norm");
  CR_CHECK(d0 != d1, std::invalid_argument, "linalg.matrix_norm: dims must be different, got (", dims[0],
           ", ", dims[1], ")");
  // An empty matrix has norm 0 for the orders that take a sum or a max (a max of no sums is the
  // empty sum, 0, in PyTorch); the min orders raise there, as amin of nothing does.
  const bool empty = a.size(d0) == 0 || a.size(d1) == 0;
  if (ord == "fro" || (empty && ord[0] != '-')) return vector_norm(a, 2.0, {d0, d1}, keepdim);
  if (ord == "nuc" || ord == "2" || ord == "-2") return spectral_norm(a, ord, d0, d1, keepdim);
  bool col = ord == "1" || ord == "-1", row = ord == "inf" || ord == "-inf";
  CR_CHECK(col || row, std::invalid_argument, "linalg.matrix_norm: order ", ord, " not supported");
  bool mx = ord[0] != '-';
  int64_t sum_dim = col ? d0 : d1, red_dim = col ? d1 : d0;
  Tensor s = sum(abs(a), {sum_dim}, true);
  Tensor r = mx ? amax(s, {red_dim}, true) : amin(s, {red_dim}, true);
  if (!keepdim) r = squeeze(squeeze(r, std::max(d0, d1)), std::min(d0, d1));
  return r;
}

}  // namespace chainrule
