// Internal helpers shared by the op files: dtype dispatch, OpenMP chunking, Eigen maps, and the
// one strided broadcasting loop (elementwise). Not part of the public API.
#pragma once
#include <Eigen/Core>
#include <algorithm>
#include <array>
#include <cstdint>
#include <cstring>
#include <tuple>
#include <type_traits>
#include <utility>
#ifdef _OPENMP
#include <omp.h>
#endif

#include "core/tensor.h"

namespace chainrule::kernels {

// Below this many elements an op stays on one thread: a parallel region costs microseconds.
constexpr int64_t kParallelThreshold = 32768;

template <class T> using Vec = Eigen::Map<Eigen::Array<T, Eigen::Dynamic, 1>>;
template <class T> using CVec = Eigen::Map<const Eigen::Array<T, Eigen::Dynamic, 1>>;

template <class T> struct DtypeOf;
template <> struct DtypeOf<bool> {
  static constexpr Dtype value = kBool;
};
template <> struct DtypeOf<int64_t> {
  static constexpr Dtype value = kInt64;
};
template <> struct DtypeOf<float> {
  static constexpr Dtype value = kFloat32;
};
template <> struct DtypeOf<double> {
  static constexpr Dtype value = kFloat64;
};

// dispatch(dtype, [&](auto tag) { using T = decltype(tag); ... })
template <class F> decltype(auto) dispatch(Dtype d, F&& f) {
  switch (d) {
    case kBool: return f(bool{});
    case kInt64: return f(int64_t{});
    case kFloat32: return f(float{});
    default: return f(double{});
  }
}
template <class F> decltype(auto) dispatch_floating(Dtype d, F&& f) {
  if (d == kFloat32) return f(float{});
  return f(double{});
}

// A flat pointer for kernels that index elements 0..numel-1 directly: only for contiguous tensors
// (fresh outputs, or inputs passed through contig()). A strided tensor reaching it is a bug in the
// op, reported as one instead of reading the wrong elements.
template <class T> T* ptr(const Tensor& t) {
  CR_CHECK(t.impl()->contiguous, std::logic_error, "internal: a kernel got a non-contiguous tensor of shape ",
           t.shape(), " (strides ", t.strides(), "); please report this");
  return static_cast<T*>(t.raw_data());
}
// The pointer to element (0, ..., 0) of any tensor, to be walked with its strides.
template <class T> T* sptr(const Tensor& t) { return static_cast<T*>(t.raw_data()); }

// t itself if contiguous, else a dense copy (not recorded: the op records its own inputs).
Tensor contig(const Tensor& t);

// Runs body(begin, end) over [0, n), split across threads when `work` (elements touched) is large.
template <class F> void parallel_for(int64_t n, F&& body, int64_t work = -1) {
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
template <class T> inline T blend(bool c, T a, T b) {
  using U =
      std::conditional_t<sizeof(T) == 8, uint64_t, std::conditional_t<sizeof(T) == 4, uint32_t, uint8_t>>;
  U ua, ub;
  std::memcpy(&ua, &a, sizeof(T));
  std::memcpy(&ub, &b, sizeof(T));
  const U m = U(0) - static_cast<U>(c);
  const U r = (ua & m) | (ub & ~m);
  T out;
  std::memcpy(&out, &r, sizeof(T));
  return out;
}

// The one place kernels add, subtract, multiply and negate: int64 wraps modulo 2^64, as in
// PyTorch. Signed overflow is undefined behaviour in C++ (the optimiser may assume it never
// happens), so int64 is computed in uint64, whose wrap is defined, and cast back. Float and bool
// use the plain operators (bool: + is or, * is and, after the caller's cast to bool).
template <class T> constexpr bool kWraps = std::is_same_v<T, int64_t>;
template <class T> inline T wrap_add(T a, T b) {
  if constexpr (kWraps<T>) return static_cast<T>(static_cast<uint64_t>(a) + static_cast<uint64_t>(b));
  else return static_cast<T>(a + b);
}
template <class T> inline T wrap_sub(T a, T b) {
  if constexpr (kWraps<T>) return static_cast<T>(static_cast<uint64_t>(a) - static_cast<uint64_t>(b));
  else return static_cast<T>(a - b);
}
template <class T> inline T wrap_mul(T a, T b) {
  if constexpr (kWraps<T>) return static_cast<T>(static_cast<uint64_t>(a) * static_cast<uint64_t>(b));
  else return static_cast<T>(a * b);
}
template <class T> inline T wrap_neg(T a) {
  if constexpr (kWraps<T>) return static_cast<T>(uint64_t{0} - static_cast<uint64_t>(a));
  else return static_cast<T>(-a);
}

// A double as an int64 the way PyTorch's CPU kernels convert (x86's cvttsd2si): truncated toward
// zero, and NaN, ±inf and values outside int64's range become INT64_MIN. A plain static_cast of
// those is undefined behaviour.
inline int64_t double_to_int64(double v) {
  return v >= -9223372036854775808.0 && v < 9223372036854775808.0 ? static_cast<int64_t>(v) : INT64_MIN;
}
// static_cast<D>(v), defined for every v (float to int64 through double_to_int64).
template <class D, class S> inline D convert_value(S v) {
  if constexpr (std::is_same_v<D, int64_t> && std::is_floating_point_v<S>) return double_to_int64(v);
  else return static_cast<D>(v);
}

// A number written into a tensor of dtype T by a creation or fill op (full, fill_, tensor): NaN,
// ±inf and values outside int64's range have no int64, and PyTorch raises for them too.
template <class T> T scalar_value(double v, const char* op) {
  CR_CHECK(!kWraps<T> || (v >= -9223372036854775808.0 && v < 9223372036854775808.0), std::runtime_error, op,
           ": value ", v, " cannot be converted to int64 without overflow");
  return convert_value<T>(v);
}
// The same for a Scalar: an integral one gives an int64 exactly (not through its double).
template <class T> T scalar_value(const Scalar& s, const char* op) {
  if constexpr (kWraps<T>) {
    if (s.integral) return s.int_value;
  }
  return scalar_value<T>(s.value, op);
}

// out[i] = f(a[i]) elementwise over whole tensors (same numel).
template <class T, class R, class F> void map(const T* a, R* out, int64_t n, F f) {
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t i = b; i < e; ++i) out[i] = f(a[i]);
  });
}

// Non-differentiable building block (no graph is recorded): a dense copy of any view, in dtype d.
Tensor convert(const Tensor& t, Dtype d);

// One operand of an elementwise loop: where its element (0, ..., 0) is, its sizes and its strides
// (in elements). It is broadcast NumPy-style to the loop's shape: stride 0 where it has size 1.
template <class T> struct Strided {
  T* data;
  const Shape& shape;
  const Shape& strides;
  bool dense = false;  // contiguous: element i at data[i]
};
template <class T> Strided<T> strided(const Tensor& t) {
  return {sptr<T>(t), t.shape(), t.strides(), t.is_contiguous()};
}

// Merged geometry lives on the stack (ops on small tensors are overhead-bound): up to kMaxDims.
constexpr int kMaxDims = 64;

// Calls body(off, n, step) over the elements of `shape` in row-major order, a piece of a row at a
// time: n elements, the k-th operand's at off[k] + i * step[k]. Dims of size 1 are dropped and
// adjacent dims that are dense for every operand merged, so rows are as long as the layouts allow
// (same-shape dense operands make one row). Large work is split across threads by elements, so
// that one long row is split too.
template <size_t K, class F> void for_each_row(const Shape& shape, const std::array<const Shape*, K>& sizes,
                                               const std::array<const Shape*, K>& strides, F body) {
  const int64_t n = shape_numel(shape), nd0 = static_cast<int64_t>(shape.size());
  if (n == 0) return;
  CR_CHECK(nd0 <= kMaxDims, std::invalid_argument, "tensors with more than ", kMaxDims,
           " dims are not supported, got shape ", shape);
  std::array<int64_t, K> lead;
  for (size_t k = 0; k < K; ++k) {
    lead[k] = nd0 - static_cast<int64_t>(sizes[k]->size());
    CR_CHECK(lead[k] >= 0, std::logic_error, "internal: an operand of shape ", *sizes[k],
             " has more dims than the loop's shape ", shape, "; please report this");
  }
  // Built innermost first: ms[0] is the row dim.
  int64_t ms[kMaxDims], mst[K][kMaxDims];
  int nd = 0;
  for (int64_t d = nd0 - 1; d >= 0; --d) {
    if (shape[d] == 1) continue;
    std::array<int64_t, K> st;
    bool merge = nd > 0;
    for (size_t k = 0; k < K; ++k) {
      const int64_t dk = d - lead[k];
      st[k] = dk < 0 || (*sizes[k])[dk] == 1 ? 0 : (*strides[k])[dk];
      merge = merge && st[k] == mst[k][nd - 1] * ms[nd - 1];
    }
    if (merge) {
      ms[nd - 1] *= shape[d];
    } else {
      ms[nd] = shape[d];
      for (size_t k = 0; k < K; ++k) mst[k][nd] = st[k];
      ++nd;
    }
  }
  if (nd == 0) {  // a single element
    ms[0] = 1;
    for (size_t k = 0; k < K; ++k) mst[k][0] = 0;
    nd = 1;
  }
  const int64_t inner = ms[0];
  std::array<int64_t, K> step;
  for (size_t k = 0; k < K; ++k) step[k] = mst[k][0];
  parallel_for(n, [&](int64_t b, int64_t e) {
    for (int64_t r = b / inner, c = b % inner; b < e; ++r, c = 0) {
      std::array<int64_t, K> off;
      for (size_t k = 0; k < K; ++k) off[k] = c * step[k];
      for (int64_t d = 1, rem = r; d < nd; ++d) {
        const int64_t idx = rem % ms[d];
        rem /= ms[d];
        for (size_t k = 0; k < K; ++k) off[k] += idx * mst[k][d];
      }
      const int64_t len = std::min(inner - c, e - b);
      body(off, len, step);
      b += len;
    }
  });
}

// An operand's row: p[i * step]. Rows that are dense (step 1) or one broadcast value (step 0) get
// the step as a compile-time constant, so that their loops vectorise.
template <class T> struct Row {
  const T* p;
  int64_t step;
  T operator[](int64_t i) const { return p[i * step]; }
};
template <class T> struct DenseRow {
  const T* p;
  T operator[](int64_t i) const { return p[i]; }
};
template <class T> struct ValueRow {
  // Read once. An input sharing out's memory is either out itself, walked with out's strides (a
  // step-0 row of it has a step-0 out row, which takes the general loop), or a copy (inplace_operand).
  T v;
  T operator[](int64_t) const { return v; }
};

// Calls body(rows...) with each Row turned into a DenseRow or a ValueRow (every step is 0 or 1).
template <class Body, class... Done> void with_fixed_steps(Body& body, std::tuple<Done...> done) {
  std::apply(body, done);
}
template <class Body, class... Done, class T, class... Rest>
void with_fixed_steps(Body& body, std::tuple<Done...> done, Row<T> r, Rest... rest) {
  if (r.step == 0)
    with_fixed_steps(body, std::tuple_cat(done, std::make_tuple(ValueRow<T>{r.p[0]})), rest...);
  else with_fixed_steps(body, std::tuple_cat(done, std::make_tuple(DenseRow<T>{r.p})), rest...);
}

template <class F, class R, class... A, size_t... I>
void elementwise_impl(std::index_sequence<I...>, F& f, const Strided<R>& out, const Strided<A>&... in) {
  constexpr size_t K = 1 + sizeof...(A);
  using Offsets = std::array<int64_t, K>;
  for_each_row<K>(out.shape, {&out.shape, &in.shape...}, {&out.strides, &in.strides...},
                  [&](const Offsets& off, int64_t n, const Offsets& st) {
                    R* o = out.data + off[0];
                    if (st[0] == 1 && ((st[I + 1] == 0 || st[I + 1] == 1) && ...)) {
                      auto loop = [&](auto... x) {
                        for (int64_t i = 0; i < n; ++i) o[i] = f(x[i]...);
                      };
                      with_fixed_steps(loop, std::tuple<>{},
                                       Row<std::remove_const_t<A>>{in.data + off[I + 1], st[I + 1]}...);
                    } else {
                      for (int64_t i = 0; i < n; ++i)
                        o[i * st[0]] = f(in.data[off[I + 1] + i * st[I + 1]]...);
                    }
                  });
}

// The loop behind every elementwise op: out[idx] = f(in[idx]...) for every index idx of out's
// shape, each input broadcast to it. Every operand is walked with its own strides, so views
// (transposed, sliced, expanded, flipped with negative strides) need no copy; out may be a view
// too (in-place ops). Usage: elementwise(f, strided<T>(out), strided<const T>(a), ...).
template <class F, class R, class... A>
void elementwise(F f, const Strided<R>& out, const Strided<A>&... in) {
  if (out.dense && ((in.dense && in.shape == out.shape) && ...)) {  // the common case, without geometry
    parallel_for(shape_numel(out.shape), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) out.data[i] = f(in.data[i]...);
    });
    return;
  }
  elementwise_impl(std::index_sequence_for<A...>{}, f, out, in...);
}

}  // namespace chainrule::kernels
