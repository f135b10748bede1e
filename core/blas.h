// The GEMM backend: OpenBLAS's sgemm/dgemm when the build found it (CMake option CHAINRULE_BLAS),
// otherwise Eigen's GEMM. matmul, linear and everything built on them go through gemm() here.
#pragma once
#include <cstdint>
#include <string>

namespace chainrule::blas {

// C (n x m, row-major, leading dim ldc) = A (n x k) @ B (k x m), where each of A and B is stored
// row-major or, when *_col_major, column-major, with leading dim lda / ldb (a transposed view
// needs no copy). Only float and double; dims are all >= 1. Threads: chainrule's OpenMP threads
// (get_num_threads()), for products of at least 2^21 multiply-adds.
void gemm(int64_t n, int64_t m, int64_t k, const float* A, bool a_col_major, int64_t lda, const float* B,
          bool b_col_major, int64_t ldb, float* C, int64_t ldc);
void gemm(int64_t n, int64_t m, int64_t k, const double* A, bool a_col_major, int64_t lda, const double* B,
          bool b_col_major, int64_t ldb, double* C, int64_t ldc);

// Which GEMM gemm() runs now. OpenBLAS when the build linked it, unless its kernels for this CPU
// are narrower than the ones Eigen was compiled with: an OpenBLAS too old to know a CPU falls back
// to SSE3 kernels ("Prescott"; Debian 12's 0.3.21 does on recent Xeons), measured 2-4x slower than
// Eigen's AVX2/AVX-512 GEMM. set_backend() switches (tests, benchmarks); false if not built in.
enum class Backend { Eigen, OpenBLAS };
Backend active_backend();
bool set_backend(Backend b);

// What gemm() runs on, for show_config(): e.g. "OpenBLAS 0.3.34 DYNAMIC_ARCH ... SkylakeX" or
// "Eigen 3.4.0 (no BLAS found at build time)".
std::string backend();

}  // namespace chainrule::blas
