// Bindings of the linalg area: dot, outer, mv, bmm, trace, diag, tril, triu, einsum, meshgrid,
// norm (cr.* and methods), and the torch.linalg functions as _linalg_* (wrapped with torch's
// signatures and named tuples by chainrule/linalg.py). LinAlgError becomes a RuntimeError subclass.
#include <cmath>
#include <string>
#include <vector>

#include "core/linalg.h"
#include "python/bind_util.h"

namespace chainrule::bind {

namespace {
// ord as torch.linalg.vector_norm takes it: a number (float('inf') included)
double ord_arg(py::handle ord, const char* op) {
  if (py::isinstance<py::str>(ord) || py::isinstance<py::bool_>(ord) || ord.is_none())
    throw py::type_error(std::string(op) + ": expected ord to be a number, got " + type_name(ord));
  return arg<double>(ord, op, "ord to be a number");
}

Tensor vnorm(const Tensor& x, py::handle ord, py::object dim, bool keepdim) {
  double p = ord_arg(ord, "linalg.vector_norm");
  std::vector<int64_t> dims = dims_arg(dim);
  py::gil_scoped_release r;
  return vector_norm(x, p, dims, keepdim);
}

// ord: "fro", "nuc", or a number among 1, -1, 2, -2, inf, -inf
Tensor mnorm(const Tensor& a, py::handle ord, py::object dim, bool keepdim) {
  std::string o;
  if (py::isinstance<py::str>(ord)) {
    o = ord.cast<std::string>();
    CR_CHECK(o == "fro" || o == "nuc", std::invalid_argument, "linalg.matrix_norm: order ", o,
             " not supported");
  } else {
    double p = ord_arg(ord, "linalg.matrix_norm");
    if (p == 1 || p == -1 || p == 2 || p == -2)
      o = p > 0 ? std::to_string(static_cast<int>(p)) : "-" + std::to_string(static_cast<int>(-p));
    else if (std::isinf(p)) o = p > 0 ? "inf" : "-inf";
    else
      throw std::invalid_argument("linalg.matrix_norm: order " + std::string(py::str(ord)) +
                                  " not supported");
  }
  std::vector<int64_t> dims = dims_arg(dim);
  py::gil_scoped_release r;
  return matrix_norm(a, o, dims, keepdim);
}
}  // namespace

void bind_linalg(py::module_& m, py::class_<Tensor>& T) {
  py::register_exception<LinAlgError>(m, "LinAlgError", PyExc_RuntimeError);
  auto both = [&m, &T](const char* name, auto&& f, auto&&... extra) { def_both(m, T, name, f, extra...); };

  both(
      "dot", [](const Tensor& a, const Tensor& b) { return dot(a, b); }, py::arg("tensor"),
      "Dot product of two 1-D tensors of the same size and dtype: sum(a * b).\n"
      "d/da = g * b, d/db = g * a. Example: cr.dot(cr.tensor([1., 2.]), cr.tensor([3., 4.])) -> tensor(11.)");
  both(
      "outer", [](const Tensor& a, const Tensor& b) { return outer(a, b); }, py::arg("vec2"),
      "Outer product of 1-D tensors: out[i, j] = a[i] * b[j], shape (n, m).\n"
      "d/da = G @ b, d/db = G.T @ a. "
      "Example: cr.outer(cr.tensor([1., 2.]), cr.tensor([1., 0., -1.])).shape -> (2, 3)");
  both(
      "mv",
      [](const Tensor& a, const Tensor& x) {
        py::gil_scoped_release r;
        return mv(a, x);
      },
      py::arg("vec"),
      "Matrix-vector product: (n, m) @ (m,) -> (n,). dA = outer(g, x), dx = A.T @ g.\n"
      "Example: cr.mv(cr.eye(2), cr.tensor([1., 2.])) -> tensor([1., 2.])");
  both(
      "bmm",
      [](const Tensor& a, const Tensor& b) {
        py::gil_scoped_release r;
        return bmm(a, b);
      },
      py::arg("mat2"),
      "Batched matrix product: (B, n, k) @ (B, k, m) -> (B, n, m); 3-D only, no broadcasting (matmul "
      "broadcasts).\n"
      "dA = G @ B^T, dB = A^T @ G per batch. Example: cr.bmm(cr.ones(2, 3, 4), cr.ones(2, 4, 5)).shape -> "
      "(2, 3, 5)");
  both(
      "trace", [](const Tensor& x) { return trace(x); },
      "Sum of the diagonal of a 2-D tensor. d/dA trace(A) = I.\n"
      "Example: cr.trace(cr.tensor([[1., 2.], [3., 4.]])) -> tensor(5.)");
  both(
      "diag", [](const Tensor& x, int64_t k) { return diag(x, k); }, py::arg("diagonal") = 0,
      "1-D v -> the square matrix with v on diagonal `diagonal` (> 0 above, < 0 below the main one);\n"
      "2-D A -> a copy of A's diagonal `diagonal`. Linear, so its gradient is diag again.\n"
      "Example: cr.diag(cr.tensor([1., 2.])) -> tensor([[1., 0.], [0., 2.]])");
  both(
      "tril", [](const Tensor& x, int64_t k) { return tril(x, k); }, py::arg("diagonal") = 0,
      "The lower triangle of the last two dims (entries above diagonal `diagonal` set to 0); batched.\n"
      "Its gradient is the upstream gradient masked the same way. Example: cr.tril(cr.ones(3, 3))");
  both(
      "triu", [](const Tensor& x, int64_t k) { return triu(x, k); }, py::arg("diagonal") = 0,
      "The upper triangle of the last two dims (entries below diagonal `diagonal` set to 0); batched.\n"
      "Its gradient is the upstream gradient masked the same way. Example: cr.triu(cr.ones(3, 3), 1)");
  both(
      "diag_embed", [](const Tensor& x) { return diag_embed(x); },
      "(..., n) -> (..., n, n) with the last dim on the diagonal (torch.diag_embed with default arguments).\n"
      "Example: cr.diag_embed(cr.ones(2, 3)).shape -> (2, 3, 3)");
  both(
      "det",
      [](const Tensor& a) {
        py::gil_scoped_release r;
        return linalg_det(a);
      },
      "Determinant of each (..., n, n) matrix (torch.det = torch.linalg.det). d det(A)/dA = det(A) A^-T.");
  both(
      "inverse",
      [](const Tensor& a) {
        py::gil_scoped_release r;
        return linalg_inv(a);
      },
      "Inverse of each (..., n, n) matrix (torch.inverse = torch.linalg.inv); a singular matrix raises\n"
      "cr.linalg.LinAlgError. dA = -A^-T G A^-T.");
  m.def(
      "einsum",
      [](const std::string& eq, py::args ops) {
        std::vector<Tensor> xs;
        if (ops.size() == 1 && !py::isinstance<Tensor>(ops[0]) && py::isinstance<py::sequence>(ops[0]))
          xs = arg<std::vector<Tensor>>(ops[0], "einsum", "tensors");
        else
          for (auto o : ops) xs.push_back(arg<Tensor>(o, "einsum", "tensors as operands"));
        py::gil_scoped_release r;
        return einsum(eq, xs);
      },
      py::arg("equation"), R"doc(
Einstein summation, as torch.einsum(equation, *operands): each operand's dims are named by letters;
letters shared between operands are multiplied, letters missing from the output are summed.
'ij,jk->ik' (matmul), 'i,i->' (dot), 'ij->ji' (transpose), 'ii->i' (diagonal), 'ii->' (trace),
'bij,bjk->bik' (bmm), 'i,j->ij' (outer), 'ij,j->i' (mv), '...ij,...jk->...ik' (batched).
Without '->' the output is the letters used once, in alphabetical order ('ij,jk' = 'ij,jk->ik').
Differentiable (built from diagonal, permute, reshape, matmul and sum).
Example: cr.einsum('ij,jk->ik', A, B) equals A @ B.)doc");
  m.def("_meshgrid", [](const std::vector<Tensor>& xs, const std::string& indexing) {
    return py::tuple(py::cast(meshgrid(xs, indexing)));
  });
  both(
      "norm",
      [](const Tensor& x, py::object p, py::object dim, bool keepdim) -> Tensor {
        std::vector<int64_t> dims = dims_arg(dim);
        if (py::isinstance<py::str>(p)) {
          std::string s = p.cast<std::string>();
          if (s == "fro" && dims.size() <= 2) return vector_norm(x, 2.0, dims, keepdim);
          if (dims.empty())
            for (int64_t d = 0; d < x.dim(); ++d) dims.push_back(d);
          return matrix_norm(x, s, dims, keepdim);
        }
        return vector_norm(x, p.is_none() ? 2.0 : ord_arg(p, "norm"), dims, keepdim);
      },
      py::arg("p") = "fro", py::arg("dim") = py::none(), py::arg("keepdim") = false, R"doc(
torch.norm: p='fro' (default) or a number gives the vector p-norm over dim (all elements when dim is
None): (sum |x|^p)^(1/p); p=inf: max |x|; p=0: the count of nonzeros; p='nuc' the nuclear norm of a
matrix (sum of singular values). Its gradient at x = 0 is 0 (not nan), as torch's.
Example: cr.norm(cr.tensor([3., 4.])) -> tensor(5.))doc");

  // torch.linalg (wrapped by chainrule/linalg.py)
  m.def("_linalg_vector_norm", &vnorm);
  m.def("_linalg_matrix_norm", &mnorm);
  m.def(
      "_linalg_solve",
      [](const Tensor& a, const Tensor& b, bool left) {
        py::gil_scoped_release r;
        return linalg_solve(a, b, left);
      },
      py::arg("A"), py::arg("B"), py::arg("left") = true);
  m.def("_linalg_inv", [](const Tensor& a) {
    py::gil_scoped_release r;
    return linalg_inv(a);
  });
  m.def("_linalg_det", [](const Tensor& a) {
    py::gil_scoped_release r;
    return linalg_det(a);
  });
  m.def("_linalg_slogdet", [](const Tensor& a) {
    py::gil_scoped_release r;
    return linalg_slogdet(a);
  });
  m.def("_linalg_eigh", [](const Tensor& a, const std::string& uplo) {
    py::gil_scoped_release r;
    return linalg_eigh(a, uplo);
  });
  m.def("_linalg_eigvalsh", [](const Tensor& a, const std::string& uplo) {
    py::gil_scoped_release r;
    return linalg_eigvalsh(a, uplo);
  });
  m.def("_linalg_svdvals", [](const Tensor& a) {
    CR_CHECK(a.dim() >= 2, std::invalid_argument,
             "linalg.svdvals: expected a tensor with at least 2 dims, got shape ", a.shape());
    CR_CHECK(is_floating(a.dtype()), std::invalid_argument,
             "linalg.svdvals: expected a floating point tensor, got ", dtype_name(a.dtype()));
    py::gil_scoped_release r;
    return singular_values(a);
  });
  m.def("_linalg_cholesky", [](const Tensor& a, bool upper) {
    py::gil_scoped_release r;
    return linalg_cholesky(a, upper);
  });
}

}  // namespace chainrule::bind
