// Linear algebra for the Hessian/Newton weeks: products (dot, outer, mv, bmm, einsum), matrix
// helpers (trace, diag, tril, triu, meshgrid), norms, and the decompositions of torch.linalg
// (solve, inv, det, slogdet, eigh, eigvalsh, cholesky) with PyTorch's names, shapes and
// derivatives. Every backward rule is written with differentiable ops, so second derivatives
// (Hessians of functions of det, inv, solve, ...) work. Products and norms live in
// core/ops_linalg.cpp, the decompositions (Eigen) in core/ops_linalg_decomp.cpp.
#pragma once
#include <stdexcept>
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/tensor.h"

namespace chainrule {

// A matrix the algorithm can't handle (singular for inv/solve, not positive-definite for
// cholesky): Python's cr.linalg.LinAlgError, a RuntimeError subclass, as torch.linalg.LinAlgError.
struct LinAlgError : std::runtime_error {
  using std::runtime_error::runtime_error;
};

// ---- products ----
Tensor dot(const Tensor& a, const Tensor& b);    // (n,) . (n,) -> ()
Tensor outer(const Tensor& a, const Tensor& b);  // (n,) x (m,) -> (n, m)
Tensor mv(const Tensor& a, const Tensor& x);     // (n, m) @ (m,) -> (n,)
Tensor bmm(const Tensor& a, const Tensor& b);    // (B, n, k) @ (B, k, m) -> (B, n, m)
// torch.einsum: 'ij,jk->ik', implicit output ('ij,jk'), repeated indices ('ii->i'), '...'.
Tensor einsum(const std::string& equation, const std::vector<Tensor>& operands);

// ---- matrix helpers ----
Tensor trace(const Tensor& x);                       // 2-D -> () sum of the diagonal
Tensor diag(const Tensor& x, int64_t diagonal = 0);  // 1-D -> 2-D matrix, 2-D -> 1-D diagonal
Tensor diag_embed(const Tensor& x);                  // (..., n) -> (..., n, n)
Tensor tril(const Tensor& x, int64_t diagonal = 0);  // (..., n, m), zeros above the diagonal
Tensor triu(const Tensor& x, int64_t diagonal = 0);  // (..., n, m), zeros below the diagonal
// 1-D (or 0-d) tensors -> grids; indexing "ij" (matrix) or "xy" (Cartesian: first two dims swapped)
std::vector<Tensor> meshgrid(const std::vector<Tensor>& xs, const std::string& indexing = "ij");

// ---- norms (ord may be +-inf; dims empty = all dims) ----
Tensor vector_norm(const Tensor& x, double ord = 2.0, std::vector<int64_t> dims = {}, bool keepdim = false);
// ord: "fro", "nuc", or "1", "-1", "2", "-2", "inf", "-inf" (as strings)
Tensor matrix_norm(const Tensor& a, const std::string& ord = "fro", std::vector<int64_t> dims = {-2, -1},
                   bool keepdim = false);

Tensor singular_values(const Tensor& a);  // (..., m, n) -> (..., min(m, n)), descending (svdvals)

// ---- decompositions (torch.linalg; batched over leading dims) ----
// X with A X = B (B (..., n, k) or vectors (..., n)); left=false: X A = B (B (..., k, n), no vectors)
Tensor linalg_solve(const Tensor& a, const Tensor& b, bool left = true);
Tensor linalg_inv(const Tensor& a);
Tensor linalg_det(const Tensor& a);
std::pair<Tensor, Tensor> linalg_slogdet(const Tensor& a);                              // (sign, log|det|)
std::pair<Tensor, Tensor> linalg_eigh(const Tensor& a, const std::string& uplo = "L");  // ascending
Tensor linalg_eigvalsh(const Tensor& a, const std::string& uplo = "L");
Tensor linalg_cholesky(const Tensor& a, bool upper = false);

}  // namespace chainrule
