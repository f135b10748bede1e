// Eigen's GEMM against a CBLAS sgemm (whichever library is linked), row-major float32, at the
// products of the course's models and at large sizes; medians of 5 interleaved rounds. How the
// GEMM backend was chosen (benchmarks/README.md, "GEMM backends"). Not built by CMake:
//   g++ -O3 -march=native -DNDEBUG -I/usr/include/eigen3 -DCBLAS_SGEMM=cblas_sgemm \
//       benchmarks/gemm_backends.cpp -o /tmp/gemm_backends -lopenblas      # or -lblis, -lmkl_rt
//   OMP_NUM_THREADS=1 OPENBLAS_NUM_THREADS=1 BLIS_NUM_THREADS=1 /tmp/gemm_backends
// (the scipy-openblas32 wheel's library: -DCBLAS_SGEMM=scipy_cblas_sgemm -L<its lib dir> -lscipy_openblas)
#include <Eigen/Core>
#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <vector>
extern "C" void CBLAS_SGEMM(int, int, int, int, int, int, float, const float*, int, const float*, int, float,
                            float*, int);
using M = Eigen::Matrix<float, -1, -1, Eigen::RowMajor>;
template <class F> double tm(F f) {
  f();
  int n = 1;
  for (;;) {
    auto t = std::chrono::steady_clock::now();
    for (int i = 0; i < n; ++i) f();
    double d = std::chrono::duration<double>(std::chrono::steady_clock::now() - t).count();
    if (d > 0.02) return d / n;
    n *= 2;
  }
}
int main() {
  int sz[][3] = {{8, 8, 8},        {32, 64, 128},     {64, 64, 10},    {32, 128, 10},
                 {64, 784, 128},   {64, 128, 10},     {128, 128, 128}, {8, 9, 784},
                 {256, 784, 1024}, {256, 1024, 1024}, {512, 512, 512}, {1024, 1024, 1024}};
  for (auto& s : sz) {
    int n = s[0], k = s[1], m = s[2];
    M a = M::Random(n, k), b = M::Random(k, m), c(n, m), c2(n, m);
    std::vector<double> te, tb;
    for (int r = 0; r < 5; ++r) {
      te.push_back(tm([&] { c.noalias() = a * b; }));
      tb.push_back(
          tm([&] { CBLAS_SGEMM(101, 111, 111, n, m, k, 1.f, a.data(), k, b.data(), m, 0.f, c2.data(), m); }));
    }
    std::sort(te.begin(), te.end());
    std::sort(tb.begin(), tb.end());
    double g = 2.0 * n * k * m / 1e9, e = te[2], bl = tb[2];
    std::printf(
        "%5dx%5dx%5d  eigen %9.2fus %6.1f GF   blas %9.2fus %6.1f GF   blas/eigen %.2f  maxdiff %.1e\n", n, k,
        m, e * 1e6, g / e, bl * 1e6, g / bl, bl / e, (c - c2).cwiseAbs().maxCoeff());
  }
}
