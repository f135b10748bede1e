// GEMM through OpenBLAS's CBLAS interface when CHAINRULE_BLAS_PREFIX is defined (the build found
// OpenBLAS: "" for the system library, "scipy_" for the scipy-openblas32 wheel), else through Eigen.
#include "core/blas.h"

#include <strings.h>
#include <Eigen/Core>
#include <algorithm>
#include <atomic>
#include <climits>
#include <cstring>
#include <type_traits>

#ifdef _OPENMP
#include <omp.h>
#endif

#ifdef CHAINRULE_BLAS_PREFIX
#define CR_CAT2(a, b) a##b
#define CR_CAT(a, b) CR_CAT2(a, b)
#define CR_BLAS(name) CR_CAT(CHAINRULE_BLAS_PREFIX, name)
// The few CBLAS declarations we use (101 = CblasRowMajor, 111 = CblasNoTrans, 112 = CblasTrans),
// declared here so that no BLAS header is needed to build.
extern "C" {
void CR_BLAS(cblas_sgemm)(int order, int ta, int tb, int m, int n, int k, float alpha, const float* a,
                          int lda, const float* b, int ldb, float beta, float* c, int ldc);
void CR_BLAS(cblas_dgemm)(int order, int ta, int tb, int m, int n, int k, double alpha, const double* a,
                          int lda, const double* b, int ldb, double beta, double* c, int ldc);
void CR_BLAS(openblas_set_num_threads)(int n);
char* CR_BLAS(openblas_get_config)(void);
char* CR_BLAS(openblas_get_corename)(void);
}
#endif

namespace chainrule::blas {
namespace {
// Below this much work (multiply-adds) a product runs on the calling thread. Eigen would split one
// once rows * cols * depth > 50000 per thread: for the products of course-sized models (a (32, 64)
// @ (64, 128) layer) the parallel region costs more than it saves, and on a loaded 2-core machine a
// split product waits for a descheduled thread (measured 10-400x slower).
constexpr double kParallelWork = 1 << 21;

template <class T> void eigen_gemm(int64_t n, int64_t m, int64_t k, const T* A, bool ac, int64_t lda,
                                   const T* B, bool bc, int64_t ldb, T* C, int64_t ldc) {
  using RowMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic, Eigen::RowMajor>;
  using ColMajor = Eigen::Matrix<T, Eigen::Dynamic, Eigen::Dynamic>;
  using S = Eigen::OuterStride<>;
  Eigen::Map<RowMajor, 0, S> c(C, n, m, S(ldc));
  auto with = [](const T* p, bool col, int64_t r, int64_t cc, int64_t ld, auto f) {
    if (col) f(Eigen::Map<const ColMajor, 0, S>(p, r, cc, S(ld)));
    else f(Eigen::Map<const RowMajor, 0, S>(p, r, cc, S(ld)));
  };
#ifdef _OPENMP
  // omp_set_num_threads changes only this thread's setting, so a small product runs serially
  // without touching other threads' products; restored however the product ends.
  struct SerialIfSmall {
    int threads = omp_get_max_threads();
    bool serial;
    explicit SerialIfSmall(double work) : serial(threads > 1 && work < kParallelWork) {
      if (serial) omp_set_num_threads(1);
    }
    ~SerialIfSmall() {
      if (serial) omp_set_num_threads(threads);
    }
  } guard(double(n) * double(m) * double(k));
#endif
  with(A, ac, n, k, lda,
       [&](const auto& a) { with(B, bc, k, m, ldb, [&](const auto& b) { c.noalias() = a * b; }); });
}

#ifdef CHAINRULE_BLAS_PREFIX
bool fits_int(int64_t v) { return v <= INT_MAX; }

// OpenBLAS's x86 kernels with AVX2 and FMA (or wider), by the core names it reports.
bool blas_core_is_wide() {
  const char* core = CR_BLAS(openblas_get_corename)();
  for (const char* wide : {"Haswell", "Zen", "SkylakeX", "Cooperlake", "SapphireRapids", "Excavator"})
    if (strcasecmp(core, wide) == 0) return true;  // a build for one CPU says "HASWELL"
  return false;
}

Backend default_backend() {
  CR_BLAS(openblas_set_num_threads)(1);  // cblas_gemm does the threading
#if defined(EIGEN_VECTORIZE_AVX2) || defined(EIGEN_VECTORIZE_AVX512)
  if (!blas_core_is_wide()) return Backend::Eigen;
#endif
  return Backend::OpenBLAS;
}
std::atomic<Backend> g_backend{default_backend()};

// OpenBLAS runs on the calling thread only (default_backend() sets its pool to 1): a big product is
// split into row (or column) blocks over chainrule's own OpenMP threads. With OpenBLAS's pthreads
// and OpenMP's threads both spin-waiting on 2 cores, a 2-thread MNIST step took 20x its 1-thread time.
template <class T, class F> bool cblas_gemm(F f, int64_t n, int64_t m, int64_t k, const T* A, bool ac,
                                            int64_t lda, const T* B, bool bc, int64_t ldb, T* C,
                                            int64_t ldc) {
  if (!(fits_int(n) && fits_int(m) && fits_int(k) && fits_int(lda) && fits_int(ldb) && fits_int(ldc)))
    return false;  // CBLAS takes int sizes: Eigen does the (rare) larger ones
  // C[i0:i1, j0:j1] = A[i0:i1, :] @ B[:, j0:j1]; row-major CBLAS reads a column-major operand as
  // the transpose of a row-major one, and a block keeps its parent's leading dims.
  auto block = [&](int64_t i0, int64_t i1, int64_t j0, int64_t j1) {
    f(101, ac ? 112 : 111, bc ? 112 : 111, int(i1 - i0), int(j1 - j0), int(k), T(1), A + (ac ? i0 : i0 * lda),
      int(lda), B + (bc ? j0 * ldb : j0), int(ldb), T(0), C + i0 * ldc + j0, int(ldc));
  };
  int threads = 1;
#ifdef _OPENMP
  if (double(n) * double(m) * double(k) >= kParallelWork && !omp_in_parallel())
    threads = omp_get_max_threads();
#endif
  const bool by_rows = n >= m;
  const int64_t len = by_rows ? n : m;
  if (threads <= 1 || len < 2) {
    block(0, n, 0, m);
    return true;
  }
#pragma omp parallel num_threads(int(std::min<int64_t>(threads, len)))
  {
#ifdef _OPENMP
    const int64_t t = omp_get_thread_num(), nt = omp_get_num_threads();
#else
    const int64_t t = 0, nt = 1;
#endif
    const int64_t lo = len * t / nt, hi = len * (t + 1) / nt;
    if (lo < hi) {
      if (by_rows) block(lo, hi, 0, m);
      else block(0, n, lo, hi);
    }
  }
  return true;
}
#endif
}  // namespace

void gemm(int64_t n, int64_t m, int64_t k, const float* A, bool ac, int64_t lda, const float* B, bool bc,
          int64_t ldb, float* C, int64_t ldc) {
#ifdef CHAINRULE_BLAS_PREFIX
  if (g_backend.load(std::memory_order_relaxed) == Backend::OpenBLAS &&
      cblas_gemm(CR_BLAS(cblas_sgemm), n, m, k, A, ac, lda, B, bc, ldb, C, ldc))
    return;
#endif
  eigen_gemm(n, m, k, A, ac, lda, B, bc, ldb, C, ldc);
}

void gemm(int64_t n, int64_t m, int64_t k, const double* A, bool ac, int64_t lda, const double* B, bool bc,
          int64_t ldb, double* C, int64_t ldc) {
#ifdef CHAINRULE_BLAS_PREFIX
  if (g_backend.load(std::memory_order_relaxed) == Backend::OpenBLAS &&
      cblas_gemm(CR_BLAS(cblas_dgemm), n, m, k, A, ac, lda, B, bc, ldb, C, ldc))
    return;
#endif
  eigen_gemm(n, m, k, A, ac, lda, B, bc, ldb, C, ldc);
}

Backend active_backend() {
#ifdef CHAINRULE_BLAS_PREFIX
  return g_backend.load();
#else
  return Backend::Eigen;
#endif
}

bool set_backend(Backend b) {
#ifdef CHAINRULE_BLAS_PREFIX
  g_backend.store(b);
  return true;
#else
  return b == Backend::Eigen;
#endif
}

std::string backend() {
#ifdef CHAINRULE_BLAS_PREFIX
  std::string config = CR_BLAS(openblas_get_config)();
  while (!config.empty() && config.back() == ' ') config.pop_back();
  config += std::string(" (core ") + CR_BLAS(openblas_get_corename)() + ")";
  if (active_backend() == Backend::OpenBLAS) return config;
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION) + ": the linked " + config +
         (blas_core_is_wide() ? " is switched off"
                              : " has no AVX2 kernels for this CPU (OPENBLAS_CORETYPE can name one)");
#else
  return "Eigen " + std::to_string(EIGEN_WORLD_VERSION) + "." + std::to_string(EIGEN_MAJOR_VERSION) + "." +
         std::to_string(EIGEN_MINOR_VERSION) + " (built without a BLAS)";
#endif
}

}  // namespace chainrule::blas
