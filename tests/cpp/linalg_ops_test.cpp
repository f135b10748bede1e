// The linalg area: dot/outer/mv/bmm/trace/diag/tril/triu/meshgrid/einsum, vector and matrix norms,
// and the torch.linalg decompositions (solve, inv, det, slogdet, eigh, eigvalsh, cholesky).
// Values by hand, float64 gradcheck + gradgradcheck (decompositions on well-conditioned or SPD
// matrices built inside the function), LinAlgError for singular / not positive-definite input,
// and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/gradcheck.h"
#include "core/linalg.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

// F + n I: well-conditioned for the small random F used here
Tensor General(const Tensor& f) {
  return add(f, mul(eye(f.size(-1), -1, kFloat64), static_cast<double>(f.size(-1))));
}
// F F^T + n I: symmetric positive-definite
Tensor Spd(const Tensor& f) {
  return add(matmul(f, f.mT()), mul(eye(f.size(-1), -1, kFloat64), static_cast<double>(f.size(-1))));
}

TEST(LinalgOps, ProductsByHand) {
  Tensor a = T({1, 2, 3}, {3}), b = T({4, 5, 6}, {3});
  EXPECT_TRUE(Near(dot(a, b), {}, {32}));
  EXPECT_TRUE(Near(outer(T({1, 2}, {2}), b), {2, 3}, {4, 5, 6, 8, 10, 12}));
  EXPECT_TRUE(Near(mv(T({1, 2, 3, 4, 5, 6}, {2, 3}), a), {2}, {14, 32}));
  EXPECT_TRUE(Near(trace(T({1, 2, 3, 4}, {2, 2})), {}, {5}));
  EXPECT_TRUE(Near(diag(T({1, 2}, {2}), 1), {3, 3}, {0, 1, 0, 0, 0, 2, 0, 0, 0}));
  EXPECT_TRUE(Near(diag(T({1, 2, 3, 4}, {2, 2})), {2}, {1, 4}));
  EXPECT_TRUE(Near(tril(T({1, 2, 3, 4}, {2, 2})), {2, 2}, {1, 0, 3, 4}));
  EXPECT_TRUE(Near(triu(T({1, 2, 3, 4}, {2, 2}), 1), {2, 2}, {0, 2, 0, 0}));
  std::vector<Tensor> g = meshgrid({T({1, 2}, {2}), T({3, 4, 5}, {3})}, "xy");
  EXPECT_TRUE(Near(g[0], {3, 2}, {1, 2, 1, 2, 1, 2}));
  EXPECT_TRUE(Near(g[1], {3, 2}, {3, 3, 4, 4, 5, 5}));
}

TEST(LinalgOps, EinsumForms) {
  Tensor A = T({1, 2, 3, 4}, {2, 2}), v = T({1, -1}, {2});
  EXPECT_TRUE(Near(einsum("ij,jk->ik", {A, A}), {2, 2}, {7, 10, 15, 22}));
  EXPECT_TRUE(Near(einsum("ij,jk", {A, A}), {2, 2}, {7, 10, 15, 22}));
  EXPECT_TRUE(Near(einsum("ii->", {A}), {}, {5}));
  EXPECT_TRUE(Near(einsum("ii->i", {A}), {2}, {1, 4}));
  EXPECT_TRUE(Near(einsum("ij->ji", {A}), {2, 2}, {1, 3, 2, 4}));
  EXPECT_TRUE(Near(einsum("i,ij,j->", {v, A, v}), {}, {1 - 2 - 3 + 4}));
  EXPECT_TRUE(Near(einsum("...ij,...j->...i", {A, v}), {2}, {-1, -1}));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { einsum("ij->k", {A}); }),
                       "einsum: output subscript k does not appear in the equation for any input operand"));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { einsum("i,i->", {v, T({1, 2, 3}, {3})}); }),
                       "einsum: subscript i has size 3 for operand 1"));
}

TEST(LinalgOps, NormsByHandAndGradientAtZero) {
  Tensor x = T({3, -4}, {2});
  EXPECT_TRUE(Near(vector_norm(x), {}, {5}));
  EXPECT_TRUE(Near(vector_norm(x, 1), {}, {7}));
  EXPECT_TRUE(Near(vector_norm(x, INFINITY), {}, {4}));
  EXPECT_TRUE(Near(vector_norm(x, 0), {}, {2}));
  EXPECT_TRUE(Near(matrix_norm(T({1, -2, 3, 4}, {2, 2}), "1"), {}, {6}));
  EXPECT_TRUE(Near(matrix_norm(T({1, -2, 3, 4}, {2, 2}), "inf"), {}, {7}));
  Tensor z = zeros({3}, kFloat64).set_requires_grad(true);
  vector_norm(z).backward();
  EXPECT_TRUE(Near(z.grad(), {3}, {0, 0, 0}));  // 0, not nan (torch's convention)
}

TEST(LinalgOps, DecompositionsByHand) {
  Tensor A = T({4, 2, 2, 3}, {2, 2});
  EXPECT_TRUE(Near(linalg_det(A), {}, {8}));
  EXPECT_TRUE(Near(linalg_inv(A), {2, 2}, {3.0 / 8, -2.0 / 8, -2.0 / 8, 4.0 / 8}));
  EXPECT_TRUE(Near(linalg_solve(A, T({6, 5}, {2})), {2}, {1, 1}));
  EXPECT_TRUE(Near(linalg_cholesky(T({4, 2, 2, 2}, {2, 2})), {2, 2}, {2, 0, 1, 1}));
  EXPECT_TRUE(Near(linalg_eigvalsh(T({2, 1, 1, 2}, {2, 2})), {2}, {1, 3}));
  auto [sign, logabs] = linalg_slogdet(T({0, 1, 1, 0}, {2, 2}));
  EXPECT_TRUE(Near(sign, {}, {-1}));
  EXPECT_TRUE(Near(logabs, {}, {0}));
  EXPECT_TRUE(Near(linalg_det(zeros({0, 0}, kFloat64)), {}, {1}));
  // X A = B (left=false): X = B A^-1; [1, 1] A^-1 = [1/8, 2/8]
  EXPECT_TRUE(Near(linalg_solve(A, T({1, 1}, {1, 2}), false), {1, 2}, {1.0 / 8, 2.0 / 8}));
  // a (1, 1, 1) batch and a vector b: the batch dim stays (torch's (1, 1))
  EXPECT_TRUE(Near(linalg_solve(T({2}, {1, 1, 1}), T({1}, {1})), {1, 1}, {0.5}));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { linalg_solve(A, T({1, 1}, {2}), false); }),
                       "vectors are not broadcast there"));
  EXPECT_TRUE(Near(matrix_norm(zeros({2, 0}, kFloat64), "2"), {}, {0}));            // empty: 0 for max orders
  EXPECT_THROW(matrix_norm(zeros({2, 0}, kFloat64), "-1"), std::invalid_argument);  // min of nothing
}

TEST(LinalgOps, DetOfSingularMatrixHasTheCofactorGradient) {
  Tensor A = T({1, 2, 2, 4}, {2, 2}, kFloat64, true);
  Tensor d = linalg_det(A);
  EXPECT_TRUE(Near(d, {}, {0}));
  d.backward();
  EXPECT_TRUE(Near(A.grad(), {2, 2}, {4, -2, -2, 1}, 1e-10));
}

TEST(LinalgOps, SingularAndNotPositiveDefiniteRaiseLinAlgError) {
  Tensor S = T({1, 2, 2, 4}, {2, 2});
  EXPECT_EQ(
      Thrown<LinAlgError>([&] { linalg_inv(S); }),
      "linalg.inv: The diagonal element 2 is zero, the inversion could not be completed because the input "
      "matrix is singular.");
  EXPECT_TRUE(Contains(Thrown<LinAlgError>([&] { linalg_solve(S, T({1, 1}, {2})); }),
                       "linalg.solve: The solver failed because the input matrix is singular."));
  EXPECT_TRUE(Contains(Thrown<LinAlgError>([&] { linalg_cholesky(T({1, 2, 2, 1}, {2, 2})); }),
                       "(the leading minor of order 2 is not positive-definite)"));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { linalg_inv(ones({2, 3}, kFloat64)); }),
                       "linalg.inv: expected batches of square matrices (..., n, n), got shape (2, 3)"));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { dot(ones({2, 3}), ones({3})); }),
                       "dot: expected 1-D tensors, got (2, 3) and (3,)"));
}

TEST(LinalgOps, Gradchecks) {
  manual_seed(3);
  RunGradCases({
      {"dot", [](In x) { return dot(x[0], x[1]); }, {Leaf({4}), Leaf({4})}},
      {"outer", [](In x) { return outer(x[0], x[1]); }, {Leaf({3}), Leaf({2})}},
      {"mv", [](In x) { return mv(x[0], x[1]); }, {Leaf({2, 3}), Leaf({3})}},
      {"bmm", [](In x) { return bmm(x[0], x[1]); }, {Leaf({2, 2, 3}), Leaf({2, 3, 2})}},
      {"trace", [](In x) { return trace(x[0]); }, {Leaf({3, 3})}},
      {"tril", [](In x) { return tril(x[0], -1); }, {Leaf({2, 3, 3})}},
      {"einsum_bilinear",
       [](In x) { return einsum("i,ij,j->", {x[0], x[1], x[2]}); },
       {Leaf({2}), Leaf({2, 3}), Leaf({3})}},
      {"einsum_batched",
       [](In x) { return einsum("...ij,...jk->...ik", {x[0], x[1]}); },
       {Leaf({2, 2, 3}), Leaf({3, 2})}},
      {"vector_norm_2", [](In x) { return vector_norm(x[0]); }, {Leaf({2, 3})}},
      {"vector_norm_3_dim", [](In x) { return vector_norm(x[0], 3, {1}, true); }, {Leaf({2, 3})}},
      {"matrix_norm_fro", [](In x) { return matrix_norm(x[0]); }, {Leaf({2, 3})}},
      {"solve", [](In x) { return linalg_solve(General(x[0]), x[1]); }, {Leaf({3, 3}), Leaf({3, 2})}},
      {"solve_vector", [](In x) { return linalg_solve(General(x[0]), x[1]); }, {Leaf({2, 3, 3}), Leaf({3})}},
      {"solve_right",
       [](In x) { return linalg_solve(General(x[0]), x[1], false); },
       {Leaf({2, 3, 3}), Leaf({4, 3})}},
      {"matrix_norm_1_empty", [](In x) { return matrix_norm(x[0], "1"); }, {Leaf({2, 0})}},
      {"inv", [](In x) { return linalg_inv(General(x[0])); }, {Leaf({3, 3})}},
      {"det", [](In x) { return linalg_det(General(x[0])); }, {Leaf({2, 3, 3})}},
      {"slogdet", [](In x) { return linalg_slogdet(General(x[0])).second; }, {Leaf({3, 3})}},
      {"cholesky", [](In x) { return linalg_cholesky(Spd(x[0])); }, {Leaf({3, 3})}},
      {"cholesky_upper", [](In x) { return linalg_cholesky(Spd(x[0]), true); }, {Leaf({2, 3, 3})}},
      {"eigvalsh", [](In x) { return linalg_eigvalsh(Spd(x[0])); }, {Leaf({3, 3})}},
      {"eigh_reconstruct",
       [](In x) {
         auto [w, v] = linalg_eigh(add(x[0], x[0].mT()));
         return matmul(matmul(v, diag_embed(mul(w, w))), v.mT());  // sign-invariant: A^2
       },
       {Leaf({3, 3})}},
  });
}

}  // namespace
