// The GEMM backend (core/blas: OpenBLAS or Eigen) behind matmul and linear: every operand layout a
// view can give, sizes through the kernels' vector tails, special values, and build_config.
#include <cmath>
#include <limits>
#include <random>

#include "core/blas.h"
#include "core/ops.h"
#include "test_util.h"

using namespace chainrule;
using namespace chainrule::test_util;

namespace {
// out[i][j] = Σ_p a[i][p] b[p][j] for 2-D a, b, accumulated in long double from to_vector().
std::vector<double> naive(const Tensor& a, const Tensor& b) {
  const int64_t n = a.size(0), k = a.size(1), m = b.size(1);
  std::vector<double> A = a.to_vector(), B = b.to_vector(), C(size_t(n * m));
  for (int64_t i = 0; i < n; ++i)
    for (int64_t j = 0; j < m; ++j) {
      long double s = 0;
      for (int64_t p = 0; p < k; ++p) s += (long double)A[size_t(i * k + p)] * B[size_t(p * m + j)];
      C[size_t(i * m + j)] = double(s);
    }
  return C;
}

Tensor random(const Shape& s, Dtype d, uint64_t seed) {
  std::mt19937_64 g(seed);
  std::uniform_real_distribution<double> u(-1, 1);
  std::vector<double> v(size_t(shape_numel(s)));
  for (double& x : v) x = u(g);
  return tensor(v, s, d);
}

// The same (n, k) matrix in three layouts: contiguous, the transpose of a contiguous (k, n)
// (column-major), and a column slice of a wider matrix (row-major with leading dim > k).
// Runs f under each backend this build has (Eigen always, OpenBLAS when linked), then restores
// the default.
template <class F> void for_each_backend(F f) {
  const blas::Backend before = blas::active_backend();
  for (blas::Backend b : {blas::Backend::Eigen, blas::Backend::OpenBLAS}) {
    if (!blas::set_backend(b)) continue;
    SCOPED_TRACE(b == blas::Backend::Eigen ? "Eigen" : "OpenBLAS");
    f();
  }
  blas::set_backend(before);
}

std::vector<Tensor> layouts(const Tensor& x) {
  const int64_t n = x.size(0), k = x.size(1);
  Tensor wide = zeros({n, k + 3}, x.dtype());
  wide.slice(1, 2, 2 + k).copy_(x);
  return {x, x.t().contiguous().t(), wide.slice(1, 2, 2 + k)};
}
}  // namespace

TEST(Blas, MatmulEveryLayoutAndTailMatchesNaiveProduct) {
  for_each_backend([&] {
    for (Dtype d : {kFloat32, kFloat64}) {
      const double eps = d == kFloat32 ? 1e-6 : 1e-14;
      for (auto [n, k, m] : std::vector<std::array<int64_t, 3>>{{1, 1, 1},
                                                                {1, 7, 1},
                                                                {3, 1, 5},
                                                                {2, 33, 3},
                                                                {17, 9, 31},
                                                                {33, 17, 8},
                                                                {8, 64, 33},
                                                                {65, 40, 70}}) {
        Tensor a = random({n, k}, d, uint64_t(n * 1000 + k)), b = random({k, m}, d, uint64_t(m * 7 + k));
        const std::vector<double> want = naive(a, b);
        for (const Tensor& la : layouts(a))
          for (const Tensor& lb : layouts(b)) {
            SCOPED_TRACE(std::string(dtype_name(d)) + " " + shape_str({n, k}) + " @ " + shape_str({k, m}) +
                         " strides " + shape_str(la.strides()) + " " + shape_str(lb.strides()));
            Tensor y = matmul(la, lb);
            EXPECT_EQ(y.dtype(), d);
            EXPECT_TRUE(Near(y, {n, m}, want, eps * double(k)));
            // linear reads its weight transposed: y = x @ W^T with W = b^T in every layout
            EXPECT_TRUE(Near(linear(la, lb.t().contiguous(), Tensor()), {n, m}, want, eps * double(k)));
            EXPECT_TRUE(Near(linear(la, lb.t(), Tensor()), {n, m}, want, eps * double(k)));
          }
      }
    }
  });
}

TEST(Blas, BatchedProductsWithExpandedAndTransposedOperands) {
  for_each_backend([&] {
    Tensor w = random({4, 6}, kFloat32, 1), x = random({3, 6, 5}, kFloat32, 2);
    Tensor y = matmul(w, x);  // w expanded over the batch (stride 0)
    Tensor yt = matmul(x.transpose(1, 2), w.t());
    for (int64_t i = 0; i < 3; ++i) {
      EXPECT_TRUE(Near(y.select(0, i), {4, 5}, naive(w, x.select(0, i).contiguous()), 1e-5));
      EXPECT_TRUE(
          Near(yt.select(0, i), {5, 4}, naive(x.select(0, i).t().contiguous(), w.t().contiguous()), 1e-5));
    }
  });
}

// A product's special values as IEEE arithmetic gives them (and torch): a NaN or an infinity times
// zero poisons its row, an infinity stays one, and no zero in the other operand skips the product.
TEST(Blas, SpecialValuesPropagateAsIeeeArithmetic) {
  for_each_backend([&] {
    const double inf = std::numeric_limits<double>::infinity(),
                 nan = std::numeric_limits<double>::quiet_NaN();
    for (Dtype d : {kFloat32, kFloat64})
      for (int64_t k : {1, 2, 9, 33}) {
        SCOPED_TRACE(std::string(dtype_name(d)) + " k=" + std::to_string(k));
        std::vector<double> av(size_t(3 * k), 0.0), bv(size_t(k * 2), 0.0);
        av[0] = nan;                  // NaN * 0
        av[size_t(2 * k - 1)] = inf;  // row 1: inf * 0 in column 0, inf * 1 in column 1
        bv[size_t(2 * k - 1)] = 1.0;
        Tensor a = tensor(av, {3, k}, d), b = tensor(bv, {k, 2}, d);
        Tensor y = matmul(a, b);
        EXPECT_EQ(y.shape(), (Shape{3, 2}));
        const std::vector<double> got = y.to_vector(), want = {nan, nan, nan, inf, 0, 0};
        for (size_t i = 0; i < want.size(); ++i)  // exact: NaN where NaN, the infinity itself, zeros
          EXPECT_TRUE(std::isnan(want[i]) ? std::isnan(got[i]) : got[i] == want[i])
              << "element " << i << ": got " << got[i] << ", expected " << want[i];
        // the subnormal products of tiny operands survive (no flush to zero)
        const double tiny = d == kFloat32 ? 1e-20 : 1e-160;
        Tensor s = matmul(full({1, k}, tiny, d), full({k, 1}, tiny, d));
        EXPECT_GT(s.item(), 0.0);
      }
  });
}

TEST(Blas, EmptyDimsGiveZerosOrEmpty) {
  for_each_backend([&] {
    for (Dtype d : {kFloat32, kFloat64}) {
      EXPECT_TRUE(Near(matmul(ones({2, 0}, d), ones({0, 3}, d)), {2, 3}, std::vector<double>(6, 0.0)));
      EXPECT_EQ(matmul(ones({0, 4}, d), ones({4, 3}, d)).shape(), (Shape{0, 3}));
      EXPECT_EQ(matmul(ones({2, 4}, d), ones({4, 0}, d)).shape(), (Shape{2, 0}));
      EXPECT_TRUE(
          Near(linear(ones({2, 0}, d), ones({3, 0}, d), ones({3}, d)), {2, 3}, std::vector<double>(6, 1.0)));
    }
  });
}

TEST(Blas, ThreadCountsGiveTheSameProduct) {
  for_each_backend([&] {
    Tensor a = random({96, 300}, kFloat32, 5), b = random({300, 80}, kFloat32, 6);
    const int before = get_num_threads();
    set_num_threads(1);
    std::vector<double> one = matmul(a, b).to_vector();
    set_num_threads(2);
    Tensor two = matmul(a, b);
    set_num_threads(before);
    EXPECT_TRUE(Near(two, {96, 80}, one, 1e-5));
  });
}

TEST(Blas, BuildConfigNamesTheGemmBackend) {
  auto config = build_config();
  ASSERT_FALSE(config.empty());
  EXPECT_EQ(config[0].first, "gemm");
  const std::string& gemm = config[0].second;
  EXPECT_TRUE(gemm.rfind("OpenBLAS", 0) == 0 || gemm.rfind("Eigen", 0) == 0) << gemm;
  EXPECT_EQ(gemm.rfind("OpenBLAS", 0) == 0, blas::active_backend() == blas::Backend::OpenBLAS) << gemm;
}

// The tests are compiled with the library's -march: what the compiler may use, the config names.
TEST(Blas, BuildConfigNamesTheWidestSimd) {
  std::string simd;
  for (const auto& [key, value] : build_config())
    if (key == "simd") simd = value;
#ifdef __AVX512F__
  EXPECT_NE(simd.find("AVX512"), std::string::npos) << simd;
#endif
#ifdef __AVX2__
  EXPECT_NE(simd.find("AVX2"), std::string::npos) << simd;
#endif
#ifdef __FMA__
  EXPECT_NE(simd.find("FMA"), std::string::npos) << simd;
#endif
  EXPECT_FALSE(simd.empty());
}

// The layouts where a leading dimension could go wrong: 1-row/1-column views with ld 1, stride-0
// expands, views with an offset, and a batch dim that is not the outermost one.
TEST(Blas, DegenerateAndOffsetLayoutsMatchTheirContiguousCopies) {
  for_each_backend([&] {
    for (Dtype d : {kFloat32, kFloat64}) {
      SCOPED_TRACE(dtype_name(d));
      const double tol = d == kFloat32 ? 1e-5 : 1e-13;
      Tensor v = random({7}, d, 11), w = random({7, 5}, d, 12);
      Tensor row = v.unsqueeze(1).t();  // (1, 7), strides (1, 1): column-major with ld 1
      EXPECT_TRUE(Near(matmul(row, w), {1, 5}, naive(row.contiguous(), w), tol));
      EXPECT_TRUE(
          Near(matmul(w.t(), v.unsqueeze(1)), {5, 1}, naive(w.t().contiguous(), v.unsqueeze(1)), tol));
      Tensor col = random({7, 1}, d, 13).expand({7, 4});  // strides (1, 0)
      EXPECT_TRUE(Near(matmul(w.t(), col), {5, 4}, naive(w.t().contiguous(), col.contiguous()), tol));
      Tensor big = random({9, 7}, d, 14);
      Tensor rows = big.slice(0, 2, 6);  // a view starting 14 elements in
      EXPECT_TRUE(Near(linear(rows, w.t(), Tensor()), {4, 5}, naive(rows.contiguous(), w), tol));
      EXPECT_TRUE(Near(matmul(rows, w), {4, 5}, naive(rows.contiguous(), w), tol));
      Tensor x = random({3, 5, 4}, d, 15).permute({1, 0, 2});  // (5, 3, 4): batch stride 4, rows 20
      Tensor y = matmul(x, random({5, 4, 2}, d, 16));
      Tensor yc = matmul(x.contiguous(), random({5, 4, 2}, d, 16));
      EXPECT_TRUE(Near(y, {5, 3, 2}, yc.to_vector(), tol));
    }
  });
}
