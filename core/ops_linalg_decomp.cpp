// torch.linalg's decompositions on Eigen: solve and inv (PartialPivLU), det and slogdet (LU),
// eigh and eigvalsh (SelfAdjointEigenSolver), cholesky (LLT). Inputs are batches of square
// matrices (..., n, n); each matrix is factorised on its own. Backward rules use only
// differentiable ops (matmul, solve, inv, tril, where), so second derivatives come for free.
#include <Eigen/Cholesky>
#include <Eigen/Eigenvalues>
#include <Eigen/LU>
#include <Eigen/SVD>
#include <cmath>
#include <limits>
#include <sstream>
#include <string>

#include "core/kernels.h"
#include "core/linalg.h"
#include "core/ops.h"

namespace chainrule {
using namespace kernels;

namespace {
template <class T> using Mat = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
template <class T> using RowMap =
    Eigen::Map<Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>>;

void check_square(const Tensor& a, const char* op) {
  CR_CHECK(a.dim() >= 2, std::invalid_argument, op,
           ": expected a tensor with at least 2 dims (..., n, n), got shape ", a.shape());
  CR_CHECK(a.size(-1) == a.size(-2), std::invalid_argument, op,
           ": expected batches of square matrices (..., n, n), got shape ", a.shape());
  CR_CHECK(is_floating(a.dtype()), std::invalid_argument, op, ": expected a floating point tensor, got ",
           dtype_name(a.dtype()));
}

Shape batch_of(const Tensor& a) { return Shape(a.shape().begin(), a.shape().end() - 2); }

// "(Batch element 3): " for batched inputs, as torch's messages
std::string where_in_batch(const Tensor& a, int64_t i) {
  return a.dim() > 2 ? "(Batch element " + std::to_string(i) + "): " : "";
}

// Calls f(i, A_i) for each matrix of a (..., r, c) tensor (as a row-major Eigen map).
template <class T, class F> void for_each_matrix(const Tensor& c, F f) {
  int64_t r = c.size(-2), k = c.size(-1), nb = shape_numel(batch_of(c));
  for (int64_t i = 0; i < nb; ++i) f(i, RowMap<T>(ptr<T>(c) + i * r * k, r, k));
}

// 0-based index of the first exactly zero pivot of an LU factorisation, or -1 (LAPACK's getrf info)
template <class LU> int64_t zero_pivot(const LU& lu) {
  for (int64_t j = 0; j < lu.matrixLU().rows(); ++j)
    if (lu.matrixLU()(j, j) == 0) return j;
  return -1;
}

Tensor t_(const Tensor& x) { return transpose(x, -2, -1); }  // mT

// "" if the factorised matrix can be inverted, else why not: an exactly zero pivot (LAPACK's
// criterion, torch's message), or singular to working precision (reciprocal condition number below
// eps: exactly singular matrices often end with a pivot of 1e-17 instead of 0, and their "inverse"
// would be silently meaningless numbers of size 1e16). Non-finite input passes (nan propagates).
template <class T, class LU> std::string singular_reason(const LU& lu, bool finite) {
  int64_t z = zero_pivot(lu);
  if (z >= 0) return "The diagonal element " + std::to_string(z + 1) + " is zero";
  if (!finite) return "";
  T rc = lu.rcond();
  if (rc >= std::numeric_limits<T>::epsilon()) return "";
  std::ostringstream os;
  os << "The matrix is singular to working precision (reciprocal condition number " << rc << ")";
  return os.str();
}
}  // namespace

namespace {
// X = A^-1 B for each matrix of the batch A (..., n, n), B (..., n, k) (same batch), by LU with
// partial pivoting; a singular A raises LinAlgError naming the batch element.
Tensor lu_solve(const Tensor& A, const Tensor& B) {
  const int64_t n = A.size(-1), k = B.size(-1);
  Tensor Ac = contig(A), X = empty(B.shape(), A.dtype());
  {
    NoGradGuard ng;
    X.copy_(B.detach());  // values only: the op records its own derivative
  }
  dispatch_floating(A.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_matrix<T>(Ac, [&](int64_t i, const RowMap<T>& Am) {
      if (n == 0 || k == 0) return;
      Eigen::PartialPivLU<Mat<T>> lu{Mat<T>(Am)};
      std::string why = singular_reason<T>(lu, Am.allFinite());
      if (!why.empty())
        throw LinAlgError("linalg.solve: " + where_in_batch(A, i) +
                          "The solver failed because the input matrix is singular. (" + why + ")");
      RowMap<T> Xm(ptr<T>(X) + i * n * k, n, k);
      Xm = lu.solve(Mat<T>(Xm));
    });
  });
  return X;
}
}  // namespace

// X = A^-1 B  (B (..., n, k), or (..., n) / (n,) for vectors, as torch's vector case)
// dB = A^-T G,  dA = -dB X^T
// Whether B holds vectors (torch's rule: B is 1-D, or has A's batch shape followed by n).
bool solve_rhs_is_vector(const Tensor& a, const Tensor& b) {
  Shape ab = batch_of(a);
  ab.push_back(a.size(-1));
  return b.dim() == 1 || (b.dim() == a.dim() - 1 && b.shape() == ab);
}

// A X = B for B of shape (..., n, k): the batch dims broadcast.
static Tensor solve_matrices(const Tensor& a, const Tensor& b) {
  const int64_t n = a.size(-1);
  Shape sa = broadcast_shapes(batch_of(a), Shape(b.shape().begin(), b.shape().end() - 2), "linalg.solve"),
        sb = sa;
  sa.insert(sa.end(), {n, n});
  sb.insert(sb.end(), {n, b.size(-1)});
  Tensor A = expand(a, sa), B = expand(b, sb), X = lu_solve(A, B);  // expand is recorded: gradients sum back
  return record(
      "linalg_solve", X, {A, B}, kSaveInputs | kSaveOutput,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor gB = solve_matrices(t_(s.input(0)), g);
        return {s.needs_grad(0) ? neg(matmul(gB, t_(s.output()))) : Tensor(), gB};
      },
      [](const Duals& d) {  // dX = A^-1 (dB - dA X)
        Tensor r = tangent_sum({d.tangent(1), d.has(0) ? neg(matmul(d.tangent(0), d.output())) : Tensor()});
        return solve_matrices(d.input(0), r);
      });
}

Tensor linalg_solve(const Tensor& a, const Tensor& b, bool left) {
  check_square(a, "linalg.solve");
  CR_CHECK(a.dtype() == b.dtype(), std::invalid_argument,
           "linalg.solve: expected A and B to have the same dtype, got ", dtype_name(a.dtype()), " and ",
           dtype_name(b.dtype()));
  const int64_t n = a.size(-1);
  const bool vector = solve_rhs_is_vector(a, b);
  CR_CHECK(left || !vector, std::invalid_argument,
           "linalg.solve: expected B of shape (..., k, n) for left=False (vectors are not broadcast there), "
           "got A ",
           a.shape(), " and B ", b.shape());
  CR_CHECK(vector ? b.size(-1) == n : b.dim() >= 2 && b.size(left ? -2 : -1) == n, std::invalid_argument,
           "linalg.solve: incompatible shapes of A and B for the equation ", left ? "AX = B" : "XA = B",
           ", got ", a.shape(), " and ", b.shape());
  if (!left) return t_(solve_matrices(t_(a), t_(b)));  // X A = B  <=>  A^T X^T = B^T
  if (vector) return squeeze(solve_matrices(a, unsqueeze(b, -1)), -1);
  return solve_matrices(a, b);
}

// Y = A^-1           dA = -Y^T G Y^T
Tensor linalg_inv(const Tensor& a) {
  check_square(a, "linalg.inv");
  const int64_t n = a.size(-1);
  Tensor Ac = contig(a), Y = empty(a.shape(), a.dtype());
  dispatch_floating(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_matrix<T>(Ac, [&](int64_t i, const RowMap<T>& Am) {
      if (n == 0) return;
      Eigen::PartialPivLU<Mat<T>> lu{Mat<T>(Am)};
      std::string why = singular_reason<T>(lu, Am.allFinite());
      if (!why.empty())
        throw LinAlgError("linalg.inv: " + where_in_batch(a, i) + why +
                          ", the inversion could not be completed because the input matrix is singular.");
      RowMap<T>(ptr<T>(Y) + i * n * n, n, n) = lu.inverse();
    });
  });
  return record(
      "linalg_inv", Y, {a}, kSaveOutput,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor yt = t_(s.output());
        return {neg(matmul(matmul(yt, g), yt))};
      },
      [](const Duals& d) {
        return neg(matmul(matmul(d.output(), d.tangent(0)), d.output()));
      });  // dY = -Y dA Y
}

namespace {
// The cofactor matrix (the gradient of det) of every matrix, from the SVD A = U S V^T:
// cof(A) = det(U) det(V) U diag(prod_{j != i} s_j) V^T. Finite for singular A too.
Tensor cofactor(const Tensor& a) {
  const int64_t n = a.size(-1);
  Tensor Ac = contig(a.detach().to(kFloat64)), C = empty(a.shape(), kFloat64);
  for_each_matrix<double>(Ac, [&](int64_t i, const RowMap<double>& Am) {
    Eigen::JacobiSVD<Mat<double>> svd(Mat<double>(Am), Eigen::ComputeFullU | Eigen::ComputeFullV);
    Eigen::VectorXd s = svd.singularValues(), p(n);
    for (int64_t r = 0; r < n; ++r) {
      p(r) = 1;
      for (int64_t j = 0; j < n; ++j)
        if (j != r) p(r) *= s(j);
    }
    double sign = svd.matrixU().determinant() * svd.matrixV().determinant();
    RowMap<double>(ptr<double>(C) + i * n * n, n, n) =
        sign * svd.matrixU() * p.asDiagonal() * svd.matrixV().transpose();
  });
  return C.to(a.dtype());
}
}  // namespace

// Whether some matrix is too close to singular for det(A) A^-T to be accurate (reciprocal
// condition number below sqrt(eps)); the exactly singular ones included.
static bool near_singular(const Tensor& a) {
  bool bad = false;
  Tensor Ac = contig(a.detach());
  dispatch_floating(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_matrix<T>(Ac, [&](int64_t, const RowMap<T>& Am) {
      if (Am.rows() == 0 || bad) return;
      Eigen::PartialPivLU<Mat<T>> lu{Mat<T>(Am)};
      T rc = zero_pivot(lu) >= 0 ? T(0) : lu.rcond();
      bad = !(rc >= std::sqrt(std::numeric_limits<T>::epsilon()));
    });
  });
  return bad;
}

// cof(A)_ij = (-1)^(i+j) det(A without row i and column j), written with differentiable ops
// (index_select, det), so it can be differentiated again: the second derivative at a singular A.
static Tensor cofactor_by_minors(const Tensor& a) {
  const int64_t n = a.size(-1), nd = a.dim();
  if (n == 1) return depends_on(ones(a.shape(), a.dtype()), a);
  std::vector<double> rest, sign;
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < n; ++j) {
      if (j != i) rest.push_back(static_cast<double>(j));
      sign.push_back((i + j) % 2 ? -1.0 : 1.0);
    }
  Tensor idx = tensor(rest, {n * (n - 1)}, kInt64);
  Shape s4 = batch_of(a);
  s4.insert(s4.end(), {n, n - 1, n});
  Tensor rows = reshape(index_select(a, nd - 2, idx), s4);  // (..., i, r, n)
  Shape s5 = batch_of(a);
  s5.insert(s5.end(), {n, n - 1, n, n - 1});
  Tensor m = reshape(index_select(rows, nd, idx), s5);  // (..., i, r, j, c)
  std::vector<int64_t> perm;
  for (int64_t d = 0; d < nd - 2; ++d) perm.push_back(d);
  perm.insert(perm.end(), {nd - 2, nd, nd - 1, nd + 1});  // (..., i, j, r, c)
  return mul(linalg_det(permute(m, perm)), tensor(sign, {n, n}, a.dtype()));
}

// d det(A) / dA: det(A) A^-T (the cofactor matrix). At a (near-)singular A, A^-1 is inaccurate or
// doesn't exist but the cofactor matrix is fine: from the SVD (a constant), or, when a graph is
// being built, from the minors' dets (differentiable again).
static Tensor det_derivative(const Tensor& A, const Tensor& y) {
  if (!near_singular(A)) return mul(unsqueeze(unsqueeze(y, -1), -1), t_(linalg_inv(A)));
  return is_grad_enabled() || forward_ad::current_level() != 0 ? cofactor_by_minors(A) : cofactor(A);
}

// det A (the product of the LU pivots, with the permutation's sign)
// dA = g cof(A)           d det = <cof(A), dA> (Jacobi's formula)
Tensor linalg_det(const Tensor& a) {
  check_square(a, "linalg.det");
  const int64_t n = a.size(-1);
  Tensor Ac = contig(a), y = empty(batch_of(a), a.dtype());
  dispatch_floating(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_matrix<T>(Ac, [&](int64_t i, const RowMap<T>& Am) {
      ptr<T>(y)[i] = n == 0 ? T(1) : Eigen::PartialPivLU<Mat<T>>(Mat<T>(Am)).determinant();
    });
  });
  return record(
      "linalg_det", y, {a}, kSaveInputs | kSaveOutput,
      [](const Tensor& g, const Saved& s) -> Grads {
        return {mul(unsqueeze(unsqueeze(g, -1), -1), det_derivative(s.input(0), s.output()))};
      },
      [](const Duals& d) {
        return sum(mul(det_derivative(d.input(0), d.output()), d.tangent(0)), {-2, -1});
      });
}

namespace {
// sign and log|det| of each matrix of a, from its LU factors.
void slogdet_kernel(const Tensor& a, Tensor& sg, Tensor& la) {
  const int64_t n = a.size(-1);
  dispatch_floating(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_matrix<T>(contig(a), [&](int64_t i, const RowMap<T>& Am) {
      T sign = 1, logabs = 0;
      if (n > 0) {
        Eigen::PartialPivLU<Mat<T>> lu{Mat<T>(Am)};
        sign = lu.permutationP().determinant();
        for (int64_t j = 0; j < n; ++j) {
          T d = lu.matrixLU()(j, j);
          sign *= d > 0 ? T(1) : d < 0 ? T(-1) : T(0);
          logabs += std::log(std::abs(d));
        }
      }
      ptr<T>(sg)[i] = sign;
      ptr<T>(la)[i] = logabs;
    });
  });
}
}  // namespace

// (sign, log|det A|); sign is 0 and log|det| -inf for a singular A.   d log|det A| / dA = A^-T
Tensor slogdet_logabs(const Tensor& a, Tensor& sign_out) {
  check_square(a, "linalg.slogdet");
  Tensor sg = empty(batch_of(a), a.dtype()), la = empty(batch_of(a), a.dtype());
  slogdet_kernel(a, sg, la);
  sign_out = sg;
  return record(
      "linalg_slogdet", la, {a}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        return {mul(unsqueeze(unsqueeze(g, -1), -1), t_(linalg_inv(s.input(0))))};
      },
      [](const Duals& d) {
        return sum(t_(linalg_inv(d.input(0))) * d.tangent(0), {-2, -1});
      });  // tr(A^-1 dA)
}

std::pair<Tensor, Tensor> linalg_slogdet(const Tensor& a) {
  Tensor sign;
  Tensor logabs = slogdet_logabs(a, sign);
  return {sign, logabs};
}

namespace {
// Each matrix's eigenvectors (rows 0..n-1) and eigenvalues (row n) packed in one (..., n+1, n).
Tensor eigh_kernel(const Tensor& a, const Shape& packed_shape, bool upper) {
  const int64_t n = a.size(-1);
  Tensor P = empty(packed_shape, a.dtype());
  dispatch_floating(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_matrix<T>(contig(a), [&](int64_t i, const RowMap<T>& Am) {
      if (n == 0) return;
      RowMap<T> out(ptr<T>(P) + i * (n + 1) * n, n + 1, n);
      if (!Am.allFinite()) {  // inf/nan in: nan out, as torch (no convergence error)
        out.setConstant(std::numeric_limits<T>::quiet_NaN());
        return;
      }
      Mat<T> M = upper ? Mat<T>(Am.transpose()) : Mat<T>(Am);  // the solver reads the lower triangle
      Eigen::SelfAdjointEigenSolver<Mat<T>> es(M);
      if (es.info() != Eigen::Success)
        throw LinAlgError(
            "linalg.eigh: " + where_in_batch(a, i) +
            "The algorithm failed to converge because the input matrix is ill-conditioned or has "
            "too many repeated eigenvalues.");
      out.topRows(n) = es.eigenvectors();
      out.row(n) = es.eigenvalues().transpose();
    });
  });
  return P;
}
}  // namespace

// S_ij / (L_j - L_i) off the diagonal, and 0 on it and between repeated eigenvalues that get no
// signal (S_ij = 0), as torch; elsewhere linear in S (a guard on S alone would make the
// linearisation at S = 0 wrong). Repeated eigenvalues with signal give inf, as torch.
static Tensor over_gaps(const Tensor& S, const Tensor& L) {
  Tensor E = sub(unsqueeze(L, -2), unsqueeze(L, -1)), r = arange(L.size(-1));
  Tensor none =
      logical_or(eq(unsqueeze(r, -1), unsqueeze(r, 0)), logical_and(eq(S, Scalar(0)), eq(E, Scalar(0))));
  return where(none, 0, div(S, where(none, 1, E)));  // no 0/0 in the unused branch either
}

// A = V diag(L) V^T with L ascending; only the lower (UPLO="L") or upper triangle is read.
// Both outputs are slices of one packed (..., n+1, n) result (rows 0..n-1: V, row n: L), so one
// node gets both gradients:  dA = V (diag(gL) + S / E) V^T, S = skew(V^T gV), E_ij = L_j - L_i.
// As in torch, the gradient through V is infinite/nan when eigenvalues repeat (V is then not
// unique); the gradient through L alone is always finite.
std::pair<Tensor, Tensor> linalg_eigh(const Tensor& a, const std::string& uplo) {
  check_square(a, "linalg.eigh");
  CR_CHECK(uplo == "L" || uplo == "U" || uplo == "l" || uplo == "u", std::invalid_argument,
           "linalg.eigh: expected UPLO to be 'L' or 'U', got '", uplo, "'");
  const bool upper = uplo == "U" || uplo == "u";
  const int64_t n = a.size(-1);
  Shape ps = batch_of(a);
  ps.insert(ps.end(), {n + 1, n});
  Tensor P = eigh_kernel(a, ps, upper);
  P = record(
      "linalg_eigh", P, {a}, kSaveOutput,
      [n](const Tensor& g, const Saved& s) -> Grads {
        Tensor P = s.output();
        Tensor V = narrow(P, -2, 0, n), L = select(P, -2, n);
        Tensor gV = narrow(g, -2, 0, n), gL = select(g, -2, n);
        Tensor VtgV = matmul(t_(V), gV);
        Tensor S = mul(sub(VtgV, t_(VtgV)), 0.5);
        return {matmul(V, matmul(add(over_gaps(S, L), diag_embed(gL)), t_(V)))};
      },
      [n](const Duals& d) {  // dL = diag(V^T dA V), dV = V (V^T dA V / E) (0 on the diagonal)
        Tensor P = d.output(), V = narrow(P, -2, 0, n), L = select(P, -2, n);
        Tensor dA = d.tangent(0), S = matmul(t_(V), matmul(mul(add(dA, t_(dA)), 0.5), V));  // dA symmetrised
        return cat({matmul(V, over_gaps(S, L)), unsqueeze(diagonal(S, 0, -2, -1), -2)}, -2);
      });
  return {select(P, -2, n).contiguous(), narrow(P, -2, 0, n).contiguous()};
}

Tensor linalg_eigvalsh(const Tensor& a, const std::string& uplo) {
  check_square(a, "linalg.eigvalsh");
  return linalg_eigh(a, uplo).first;
}

namespace {
// The order (1-based) of the first leading minor that is not positive-definite, as LAPACK's potrf.
template <class T> int64_t failing_minor(const RowMap<T>& A) {
  const int64_t n = A.rows();
  Mat<double> L = Mat<double>::Zero(n, n);
  for (int64_t j = 0; j < n; ++j) {
    double d = A(j, j);
    for (int64_t k = 0; k < j; ++k) d -= L(j, k) * L(j, k);
    if (!(d > 0)) return j + 1;
    L(j, j) = std::sqrt(d);
    for (int64_t i = j + 1; i < n; ++i) {
      double v = A(i, j);
      for (int64_t k = 0; k < j; ++k) v -= L(i, k) * L(j, k);
      L(i, j) = v / L(j, j);
    }
  }
  return n;
}

// The lower Cholesky factor of each matrix; LinAlgError naming the first failing minor otherwise.
Tensor cholesky_kernel(const Tensor& a) {
  const int64_t n = a.size(-1);
  Tensor L = zeros(a.shape(), a.dtype());
  dispatch_floating(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for_each_matrix<T>(contig(a), [&](int64_t i, const RowMap<T>& Am) {
      if (n == 0) return;
      Eigen::LLT<Mat<T>, Eigen::Lower> llt{Mat<T>(Am)};
      bool finite = llt.info() == Eigen::Success && llt.matrixLLT().diagonal().array().isFinite().all();
      if (!finite)
        throw LinAlgError(
            "linalg.cholesky: " + where_in_batch(a, i) +
            "The factorization could not be completed because the input is not positive-definite "
            "(the leading minor of order " +
            std::to_string(failing_minor<T>(Am)) + " is not positive-definite).");
      RowMap<T>(ptr<T>(L) + i * n * n, n, n) = llt.matrixL().toDenseMatrix();
    });
  });
  return L;
}
}  // namespace

// A = L L^T with L lower triangular (only A's lower triangle is read); upper=True gives L^T.
// dA = L^-T Phi(L^T G) L^-1 symmetrised: Phi takes the lower triangle with its diagonal halved.
Tensor linalg_cholesky(const Tensor& a, bool upper) {
  check_square(a, "linalg.cholesky");
  Tensor L = cholesky_kernel(a);
  L = record(
      "linalg_cholesky", L, {a}, kSaveOutput,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor L = s.output();
        Tensor P = tril(matmul(t_(L), g));
        Tensor phi =
            mul(add(P, t_(tril(P, -1))), 0.5);    // symmetric: P's lower part mirrored, diagonal halved
        Tensor X = linalg_solve(t_(L), phi);      // L^-T phi
        return {t_(linalg_solve(t_(L), t_(X)))};  // L^-T phi L^-1
      },
      [](const Duals& d) {  // dL = L Phi(L^-1 dA L^-T), dA symmetrised
        Tensor L = d.output(), dA = d.tangent(0);
        Tensor M = linalg_solve(L, t_(linalg_solve(L, mul(add(dA, t_(dA)), 0.5))));
        return matmul(L, sub(tril(M), mul(diag_embed(diagonal(M, 0, -2, -1)), 0.5)));
      });
  return upper ? t_(L).contiguous() : L;
}

}  // namespace chainrule
