// Internal helpers shared by the op files: dtype dispatch, OpenMP chunking, Eigen maps, and the
// broadcasting loop. Not part of the public API.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstring>
#include <type_traits>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/tensor.h"

namespace chainrule::kernels {

// Below this many elements an op stays on one thread: a parallel region costs microseconds.
constexpr int64_t kParallelThreshold = 32768;

template <class T>
using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T>
using CVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class T> struct DtypeOf;
template <> struct DtypeOf<bool> { static constexpr Dtype value = kBool; };
template <> struct DtypeOf<int64_t> { static constexpr Dtype value = kInt64; };
template <> struct DtypeOf<float> { static constexpr Dtype value = kFloat32; };
template <> struct DtypeOf<double> { static constexpr Dtype value = kFloat64; };

// dispatch(dtype, [&](auto tag) { using T = decltype(tag); ... })
template <class F>
decltype(auto) dispatch(Dtype d, F&& f) {
  switch (d) {
    case kBool: return f(bool{});
    case kInt64: return f(int64_t{});
    case kFloat32: return f(float{});
    default: return f(double{});
  }
}
template <class F>
decltype(auto) dispatch_floating(Dtype d, F&& f) {
  if (d == kFloat32) return f(float{});
  return f(double{});
}

// A flat pointer for kernels that index elements 0..numel-1 directly: only for contiguous tensors
// (fresh outputs, or inputs passed through contig()). A strided tensor reaching it is a bug in the
// op, reported as one instead of reading the wrong elements.
template <class T> T* ptr(const Tensor& t) {
  CR_CHECK(t.impl()->contiguous, std::logic_error,
           "internal: a kernel got a non-contiguous tensor of shape ", t.shape(), " (strides ",
           t.strides(), "); please report this");
  return static_cast<T*>(t.raw_data());
}
// The pointer to element (0, ..., 0) of any tensor, to be walked with its strides.
template <class T> T* sptr(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

// t itself if contiguous, else a dense copy (not recorded: the op records its own inputs).
Tensor contig(const Tensor& t);

// Runs body(begin, end) over [0, n), split across threads when `work` (elements touched) is large.
template <class F>
void parallel_for(int64_t n, F&& body, int64_t work = -1) {
#ifdef _OPENMP
  if ((work < 0 ? n : work) > kParallelThreshold && n > 1 && !omp_in_parallel()) {
#pragma omp parallel
    {
      int nt = omp_get_num_threads(), id = omp_get_thread_num();
      int64_t chunk = (n + nt - 1) / nt, b = id * chunk, e = std::min(n, b + chunk);
      if (b < e) body(b, e);
    }
    return;
  }
#endif
  body(int64_t{0}, n);
}

// c ? a : b without a branch: with a random mask (relu's backward) a branch mispredicts on half
// the elements and runs ~25x slower; a bitwise blend is exact for every value (inf, NaN) and
// vectorises.
template <class T>
inline T blend(bool c, T a, T b) {
  using U = std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint8_t>>;
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(T));
  std::memcpy(&ub, &b, sizeof(T));
  const U m = U(0) - static_cast<U>(c);
  const U r = (ua & m) | (ub & ~m);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

// out[i] = f(a[i]) elementwise over whole tensors (same numel).
template <class T, class R, class F>
void map(const T* a, R* out, int64_t n, F f) {
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = f(a[i]);
  });
}

// Non-differentiable building block (no graph is recorded): a dense copy of any view, in dtype d.
Tensor convert(const Tensor& t, Dtype d);

// Strides (in elements) of `in` seen through a broadcast to `out` shape: 0 where broadcast. The
// Tensor form uses the tensor's own strides (a view), the Shape form those of a dense tensor.
Shape broadcast_strides(const Shape& in, const Shape& out);
Shape broadcast_strides(const Tensor& in, const Shape& out);

// Calls body(row, off, inner, step) for each row of `shape` in row-major order: a row is `inner`
// elements, the k-th operand's at off[k] + i * step[k] (strides in elements from strides[k]).
// Adjacent dims that are dense for every operand are merged first, so rows are as long as the
// layouts allow; rows are split across threads when the work is large.
// Merged geometry lives on the stack (ops on small tensors are overhead-bound): up to kMaxDims.
constexpr int kMaxDims = 64;

template <size_t K, class F>
void for_each_row(const Shape& shape, const std::array<const int64_t*, K>& strides, F body) {
  if (shape_numel(shape) == 0) return;
  CR_CHECK(shape.size() <= static_cast<size_t>(kMaxDims), std::invalid_argument,
           "tensors with more than ", kMaxDims, " dims are not supported, got shape ", shape);
  // Dims of size 1 move nothing; the rest are merged outward while dense for every operand.
  // Built innermost first: ms[0] is the last (row) dim.
  int64_t ms[kMaxDims], mst[K][kMaxDims];
  int nd = 0;
  for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    bool merge = nd > 0;
    for (size_t k = 0; k < K && merge; ++k) merge = strides[k][d] == mst[k][nd - 1] * ms[nd - 1];
    if (merge) {
      ms[nd - 1] *= shape[d];
    } else {
      ms[nd] = shape[d];
      for (size_t k = 0; k < K; ++k) mst[k][nd] = strides[k][d];
      ++nd;
    }
  }
  if (nd == 0) {  // a single element
    ms[0] = 1;
    for (size_t k = 0; k < K; ++k) mst[k][0] = 0;
    nd = 1;
  }
  const int64_t inner = ms[0];
  int64_t rows = 1;
  for (int d = 1; d < nd; ++d) rows *= ms[d];
  std::array<int64_t, K> step;
  for (size_t k = 0; k < K; ++k) step[k] = mst[k][0];
  parallel_for(rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      std::array<int64_t, K> off{};
      int64_t rem = r;
      for (int d = 1; d < nd; ++d) {
        int64_t idx = rem % ms[d];
        rem /= ms[d];
        for (size_t k = 0; k < K; ++k) off[k] += idx * mst[k][d];
      }
      body(r, off, inner, step);
    }
  }, rows * inner);
}

// out[..] = f(a[..], b[..]) over `shape`, each operand walked with its own strides (0 where
// broadcast): in-place ops on views, and binary ops whose inputs are views.
template <class A, class B, class R, class F>
void strided_binary(const A* a, const Shape& ta, const B* b, const Shape& tb, R* out,
                    const Shape& to, const Shape& shape, F f) {
  using Offsets = std::array<int64_t, 3>;
  for_each_row<3>(shape, {ta.data(), tb.data(), to.data()},
                  [&](int64_t, const Offsets& off, int64_t inner, const Offsets& st) {
    const A* pa = a + off[0];
    const B* pb = b + off[1];
    R* po = out + off[2];
    // dense rows, and rows against one broadcast value, get loops the compiler can vectorise
    if (st[0] == 1 && st[1] == 1 && st[2] == 1)
      for (int64_t i = 0; i < inner; ++i) po[i] = f(pa[i], pb[i]);
    else if (st[0] == 0 && st[1] == 1 && st[2] == 1)
      for (int64_t i = 0; i < inner; ++i) po[i] = f(pa[0], pb[i]);
    else if (st[0] == 1 && st[1] == 0 && st[2] == 1)
      for (int64_t i = 0; i < inner; ++i) po[i] = f(pa[i], pb[0]);
    else
      for (int64_t i = 0; i < inner; ++i) po[i * st[2]] = f(pa[i * st[0]], pb[i * st[1]]);
  });
}

// out[i] = f(a[ia], b[ib]) with NumPy broadcasting. The inner loop runs over the last dim with
// strides 0/1 so that common cases (same shape, scalar, row/column vectors) stay tight.
template <class A, class B, class R, class F>
void broadcast_binary(const A* a, const Shape& sa, const B* b, const Shape& sb, R* out,
                      const Shape& so, F f) {
  int64_t n = shape_numel(so);
  if (n == 0) return;
  if (sa == so && sb == so) {
    parallel_for(n, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) out[i] = f(a[i], b[i]); });
    return;
  }
  if (sb == so && shape_numel(sa) == 1) {
    A av = a[0];
    parallel_for(n, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) out[i] = f(av, b[i]); });
    return;
  }
  if (sa == so && shape_numel(sb) == 1) {
    B bv = b[0];
    parallel_for(n, [&](int64_t s, int64_t e) { for (int64_t i = s; i < e; ++i) out[i] = f(a[i], bv); });
    return;
  }
  Shape ta = broadcast_strides(sa, so), tb = broadcast_strides(sb, so);
  const int64_t nd = static_cast<int64_t>(so.size());
  const int64_t inner = so.back(), rows = n / inner;
  const int64_t ia = ta.back(), ib = tb.back();
  parallel_for(rows, [&](int64_t r0, int64_t r1) {
    for (int64_t r = r0; r < r1; ++r) {
      int64_t oa = 0, ob = 0, rem = r;
      for (int64_t d = nd - 2; d >= 0; --d) {
        int64_t idx = rem % so[d];
        rem /= so[d];
        oa += idx * ta[d];
        ob += idx * tb[d];
      }
      R* o = out + r * inner;
      const A* pa = a + oa;
      const B* pb = b + ob;
      for (int64_t i = 0; i < inner; ++i) o[i] = f(pa[i * ia], pb[i * ib]);
    }
  }, n);
}

}  // namespace chainrule::kernels
