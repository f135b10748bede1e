// Reductions (sum, mean, amax/amin, max/min with indices, argmax/argmin, var, logsumexp) and
// softmax / log_softmax. Kernels reduce an (outer, reduced, inner) view of contiguous data.
#include <cmath>
#include <limits>

#include <vector>

#include "core/kernels.h"
#include "core/ops.h"

namespace chainrule {
using namespace kernels;

namespace {

// Normalised, sorted, duplicate-free dims; an empty list means every dim.
std::vector<int64_t> reduce_dims(const Tensor& x, std::vector<int64_t> dims, const char* op) {
  int64_t nd = x.dim();
  if (dims.empty()) {
    for (int64_t d = 0; d < nd; ++d) dims.push_back(d);
    return dims;
  }
  for (int64_t& d : dims) d = normalize_dim(d, nd, op);  // a 0-d tensor takes dim 0 / -1 (both 0)
  std::sort(dims.begin(), dims.end());
  for (size_t i = 1; i < dims.size(); ++i)
    CR_CHECK(dims[i] != dims[i - 1], std::invalid_argument, op, ": dim ", dims[i],
             " appears more than once in the list of dims");
  if (nd == 0) return {};  // PyTorch reduces nothing then
  return dims;
}

Shape keep_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape k = s;
  for (int64_t d : dims) k[d] = 1;
  return k;
}

Shape drop_shape(const Shape& s, const std::vector<int64_t>& dims) {
  Shape k;
  for (int64_t d = 0; d < static_cast<int64_t>(s.size()); ++d)
    if (!std::binary_search(dims.begin(), dims.end(), d)) k.push_back(d < 0 ? 0 : s[d]);
  return k;
}

enum class Kind { Sum, Max, Min, Prod };

// Σ p[0, n) vectorised, in an order that depends on n alone. Eigen's sum (its algorithm, which this
// follows) starts its packets at the first aligned element, so the same values at another address
// (x and x.clone(), one row of a matrix and the next) summed to a different last bit for 62% of
// float rows of 5..200 elements; here every load is unaligned and starts at p[0].
template <class T> T vec_sum(const T* p, int64_t n) {
  using namespace Eigen::internal;
  using P = typename packet_traits<T>::type;
  constexpr int64_t k = sizeof(P) / sizeof(T);  // lanes per packet (1 without SIMD)
  if (n == 0) return T(0);
  int64_t i = 0;
  T s = p[0];
  if (n >= k) {
    P a = ploadu<P>(p), b = pset1<P>(T(-0.0));  // -0: adding it leaves every value, -0 included
    for (i = k; i + 2 * k <= n; i += 2 * k) {
      a = padd(a, ploadu<P>(p + i));
      b = padd(b, ploadu<P>(p + i + k));
    }
    if (i + k <= n) {
      a = padd(a, ploadu<P>(p + i));
      i += k;
    }
    s = predux(padd(a, b));
  } else {
    i = 1;
  }
  for (; i < n; ++i) s += p[i];
  return s;
}

// float32 sums keep their error small as n grows, as torch's and NumPy's cascade sums do (a plain
// running float sum of 1e7 × 0.1 is 1005958.75): blocks of 1024 are summed with vec_sum and the
// block sums added in double.
inline float cascade_sum(const float* p, int64_t n) {
  if (n <= 1024) return vec_sum(p, n);
  const int64_t blocks = (n + 1023) / 1024;
  double small[256];
  std::vector<double> big(blocks > 256 ? blocks : 0);
  double* part = blocks > 256 ? big.data() : small;
  parallel_for(
      blocks,
      [&](int64_t b0, int64_t b1) {  // a long row: all threads, a block each
        for (int64_t b = b0; b < b1; ++b)
          part[b] = vec_sum(p + b * 1024, std::min<int64_t>(1024, n - b * 1024));
      },
      n);
  double acc = 0;
  for (int64_t b = 0; b < blocks; ++b) acc += part[b];
  return static_cast<float>(acc);
}

template <class T> T combine(Kind kind, T a, T b) {
  if (kind == Kind::Sum) return wrap_add(a, b);
  if (kind == Kind::Prod) return wrap_mul(a, b);
  if (kind == Kind::Max) return (b > a || b != b) ? b : a;  // NaN propagates, as PyTorch
  return (b < a || b != b) ? b : a;
}

// out[o] = reduce_r in[o, r]: rows reduced one per task (sums vectorised; float sums cascaded).
template <class T> void reduce_rows(const T* in, T* out, int64_t outer, int64_t red, Kind kind) {
  parallel_for(
      outer,
      [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o) {
          const T* row = in + o * red;
          if constexpr (!std::is_same_v<T, bool>) {
            if (kind == Kind::Sum) {
              if constexpr (std::is_same_v<T, float>) out[o] = cascade_sum(row, red);
              else if constexpr (kWraps<T>)  // summed as uint64: wraps, defined (see wrap_add)
                out[o] = static_cast<T>(CVec<uint64_t>(reinterpret_cast<const uint64_t*>(row), red).sum());
              else out[o] = vec_sum(row, red);
              continue;
            }
          }
          T acc = row[0];
          for (int64_t r = 1; r < red; ++r) acc = combine(kind, acc, row[r]);
          out[o] = acc;
        }
      },
      outer * red);
}

// dst[i] = Σ_r src[r * inner + i] for i in [i0, i1) (at most kBlock): runs of 64 rows in float,
// added up in double, so that long float column sums keep their accuracy.
constexpr int64_t kBlock = 512;
void float_column_sums(const float* src, float* dst, int64_t red, int64_t inner, int64_t i0, int64_t i1) {
  double acc[kBlock] = {};
  float part[kBlock];
  for (int64_t r0 = 0; r0 < red; r0 += 64) {
    const int64_t r1 = std::min(red, r0 + 64);
    for (int64_t i = i0; i < i1; ++i) part[i - i0] = src[r0 * inner + i];
    for (int64_t r = r0 + 1; r < r1; ++r) {
      const float* row = src + r * inner;
      for (int64_t i = i0; i < i1; ++i) part[i - i0] += row[i];
    }
    for (int64_t i = i0; i < i1; ++i) acc[i - i0] += part[i - i0];
  }
  for (int64_t i = i0; i < i1; ++i) dst[i] = static_cast<float>(acc[i - i0]);
}

// out[o, i] = reduce_r in[o, r, i]; parallel over (o, block of i) so both layouts use the cores.
template <class T>
void reduce_range(const T* in, T* out, int64_t outer, int64_t red, int64_t inner, Kind kind) {
  if (inner == 1) return reduce_rows(in, out, outer, red, kind);
  int64_t blocks = (inner + kBlock - 1) / kBlock;
  parallel_for(
      outer * blocks,
      [&](int64_t t0, int64_t t1) {
        for (int64_t t = t0; t < t1; ++t) {
          int64_t o = t / blocks, i0 = (t % blocks) * kBlock, i1 = std::min(inner, i0 + kBlock);
          T* dst = out + o * inner;
          const T* src = in + o * red * inner;
          if constexpr (std::is_same_v<T, float>) {
            if (kind == Kind::Sum) {
              float_column_sums(src, dst, red, inner, i0, i1);
              continue;
            }
          }
          for (int64_t i = i0; i < i1; ++i) dst[i] = src[i];
          for (int64_t r = 1; r < red; ++r)
            for (int64_t i = i0; i < i1; ++i) dst[i] = combine(kind, dst[i], src[r * inner + i]);
        }
      },
      outer * red * inner);
}

// cur (of shape `shape`) reduced over dims [d0, d1], which become 1 in `shape` (x, dims: the
// whole reduction, for the message).
Tensor reduce_run(const Tensor& cur, Shape& shape, int64_t d0, int64_t d1, Kind kind, const char* op,
                  const Tensor& x, const std::vector<int64_t>& dims) {
  int64_t outer = 1, red = 1, inner = 1;
  for (int64_t d = 0; d < d0; ++d) outer *= shape[d];
  for (int64_t d = d0; d <= d1; ++d) red *= shape[d];
  for (int64_t d = d1 + 1; d < static_cast<int64_t>(shape.size()); ++d) inner *= shape[d];
  // An empty batch is fine (the result is empty too); an empty reduction has no max.
  CR_CHECK(kind == Kind::Sum || kind == Kind::Prod || red > 0, std::invalid_argument, op,
           ": expected a non-empty reduction, got shape ", x.shape(), " reduced over dims ", Shape(dims),
           " (there is no maximum of nothing)");
  for (int64_t d = d0; d <= d1; ++d) shape[d] = 1;
  Tensor out = empty(shape, cur.dtype());
  dispatch(cur.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if (red == 0) std::fill(ptr<T>(out), ptr<T>(out) + out.numel(), T(kind == Kind::Prod ? 1 : 0));
    else reduce_range(ptr<T>(cur), ptr<T>(out), outer, red, inner, kind);
  });
  return out;
}

// Reduces over `dims` (sorted), returning the keepdim-shaped result. Runs of adjacent dims are
// reduced in one pass; separate runs one after another, last first.
Tensor reduce(const Tensor& x, const std::vector<int64_t>& dims, Kind kind, const char* op) {
  Tensor cur = contig(x);
  Shape shape = x.shape();
  if (dims.empty()) return convert(x, x.dtype());
  for (size_t j = dims.size(); j > 0;) {
    size_t i = j - 1;
    while (i > 0 && dims[i - 1] == dims[i] - 1) --i;  // [dims[i], dims[j-1]] is one run
    cur = reduce_run(cur, shape, dims[i], dims[j - 1], kind, op, x, dims);
    j = i;
  }
  return cur;
}

// o[oo * inner + ii] = the r where in[oo, r, ii] is largest (smallest): the first on ties; a NaN wins.
template <class T>
void arg_reduce_kernel(const T* in, int64_t* o, int64_t outer, int64_t red, int64_t inner, bool is_max) {
  parallel_for(
      outer * inner,
      [&](int64_t s, int64_t e) {
        for (int64_t t = s; t < e; ++t) {
          int64_t oo = t / inner, ii = t % inner, best = 0;
          const T* base = in + oo * red * inner + ii;
          T bv = base[0];
          for (int64_t r = 1; r < red; ++r) {
            T v = base[r * inner];
            if (bv != bv) break;  // NaN wins
            if ((is_max ? v > bv : v < bv) || v != v) {
              bv = v;
              best = r;
            }
          }
          o[t] = best;
        }
      },
      outer * red * inner);
}

// Index of the max (min) along one dim: the first one on ties, as PyTorch.
Tensor arg_reduce(const Tensor& x, int64_t dim, bool keepdim, bool is_max, const char* op) {
  int64_t nd = x.dim(), outer = 1, inner = 1, red = nd ? x.shape()[dim] : 1;
  CR_CHECK(red > 0, std::invalid_argument, op, ": expected a non-empty dim ", dim, ", got shape ", x.shape());
  for (int64_t d = 0; d < dim; ++d) outer *= x.shape()[d];
  for (int64_t d = dim + 1; d < nd; ++d) inner *= x.shape()[d];
  Shape ks = nd ? keep_shape(x.shape(), {dim}) : Shape{};
  Tensor out = empty(ks, kInt64);
  int64_t* o = ptr<int64_t>(out);
  Tensor xc = contig(x);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    arg_reduce_kernel(ptr<T>(xc), o, outer, red, inner, is_max);
  });
  return keepdim || nd == 0 ? out : squeeze(out, dim);
}

Tensor float_input(const Tensor& x) { return is_floating(x.dtype()) ? x : x.to(get_default_dtype()); }

}  // namespace

// ---------------------------------------------------------------- sum, mean
// y = Σ_dims x            dy/dx = 1 (the gradient is broadcast back over the reduced dims)
Tensor sum(const Tensor& x, std::vector<int64_t> dims_in, bool keepdim) {
  std::vector<int64_t> dims = reduce_dims(x, std::move(dims_in), "sum");
  Tensor xs = x.dtype() == kBool ? convert(x, kInt64) : x;
  Tensor y = reduce(xs, dims, Kind::Sum, "sum");
  Shape ks = y.shape();
  if (!keepdim) y = y.reshape(drop_shape(x.shape(), dims));  // a view of a fresh tensor: no graph yet
  return record(
      "sum", y, {x}, kSaveNone,
      [ks](const Tensor& g, const Saved& s) -> Grads { return {expand(reshape(g, ks), s.input_shape(0))}; },
      [dims, keepdim](const Duals& d) { return sum(d.tangent(0), dims, keepdim); });
}
Tensor sum(const Tensor& x) { return sum(x, {}, false); }

// y = Σ_dims x / N        (composed: its gradient comes from sum and mul)
Tensor mean(const Tensor& x, std::vector<int64_t> dims_in, bool keepdim) {
  CR_CHECK(is_floating(x.dtype()), std::invalid_argument,
           "mean: expected a floating tensor "
           "(float32 or float64), got ",
           dtype_name(x.dtype()), "; convert it with .to(kFloat32) first");
  std::vector<int64_t> dims = reduce_dims(x, dims_in, "mean");
  int64_t n = 1;
  for (int64_t d : dims) n *= x.shape()[d];
  return mul(sum(x, dims, keepdim), n ? 1.0 / n : NAN);
}
Tensor mean(const Tensor& x) { return mean(x, {}, false); }

// ---------------------------------------------------------------- max, min
// y = max_dims x          dy/dx = [x = y] / #ties   (ties share the gradient equally)
static Tensor amax_amin(const Tensor& x, std::vector<int64_t> dims_in, bool keepdim, bool is_max,
                        const char* op) {
  CR_CHECK(x.dtype() != kBool, std::invalid_argument, op, ": not supported for bool tensors");
  std::vector<int64_t> dims = reduce_dims(x, std::move(dims_in), op);
  Tensor y = reduce(x, dims, is_max ? Kind::Max : Kind::Min, op);
  Shape ks = y.shape();
  if (!keepdim) y = y.reshape(drop_shape(x.shape(), dims));
  auto share = [ks, dims](const Tensor& x, const Tensor& y) {  // dy/dx: 1 / #ties on the ties
    Tensor mask = eq(x, reshape(y, ks)).to(x.dtype());
    return mask / sum(mask, dims, true);
  };
  return record(
      op, y, {x}, kSaveInputs | kSaveOutput,
      [ks, share](const Tensor& g, const Saved& s) -> Grads {
        return {depends_on(reshape(g, ks) * share(s.input(0), s.output()), s.input(0))};
      },
      [dims, share](const Duals& d) {
        Tensor t = sum(d.tangent(0) * share(d.input(0), d.output()), dims, true);
        return depends_on(reshape(t, d.output().shape()), d.input(0));
      });
}
Tensor amax(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  return amax_amin(x, std::move(dims), keepdim, true, "amax");
}
Tensor amin(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  return amax_amin(x, std::move(dims), keepdim, false, "amin");
}
Tensor max(const Tensor& x) { return amax_amin(x, {}, false, true, "max"); }
Tensor min(const Tensor& x) { return amax_amin(x, {}, false, false, "min"); }

Tensor argmax(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce(x, normalize_dim(dim, x.dim(), "argmax"), keepdim, true, "argmax");
}
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim) {
  return arg_reduce(x, normalize_dim(dim, x.dim(), "argmin"), keepdim, false, "argmin");
}
Tensor argmax(const Tensor& x) { return arg_reduce(reshape(x.detach(), {-1}), 0, false, true, "argmax"); }
Tensor argmin(const Tensor& x) { return arg_reduce(reshape(x.detach(), {-1}), 0, false, false, "argmin"); }

// values = x gathered at the arg index: the gradient goes to that one element, as PyTorch.
static std::pair<Tensor, Tensor> max_min_dim(const Tensor& x, int64_t dim, bool keepdim, bool is_max) {
  const char* op = is_max ? "max" : "min";
  dim = normalize_dim(dim, x.dim(), op);
  if (x.dim() == 0) return {x.clone(), zeros({}, kInt64)};
  Tensor idx = arg_reduce(x, dim, true, is_max, op);
  Tensor values = gather(x, dim, idx);
  if (!keepdim) return {squeeze(values, dim), squeeze(idx, dim)};
  return {values, idx};
}
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim) {
  return max_min_dim(x, dim, keepdim, true);
}
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim) {
  return max_min_dim(x, dim, keepdim, false);
}

// ---------------------------------------------------------------- composed statistics
// var = Σ (x - mean)^2 / (N - correction)
// var and std: the reduced dims of a floating x, and N - correction (at least 0).
static std::pair<std::vector<int64_t>, double> spread_dims(const Tensor& x, std::vector<int64_t> dims_in,
                                                           double correction, const char* op) {
  CR_CHECK(is_floating(x.dtype()), std::invalid_argument, op, ": expected a floating tensor, got ",
           dtype_name(x.dtype()));
  std::vector<int64_t> dims = reduce_dims(x, std::move(dims_in), op);
  int64_t n = 1;
  for (int64_t d : dims) n *= x.shape()[d];
  return {dims, std::max(0.0, n - correction)};
}

// x - mean(x) over dims, computed from x shifted by its first element (detached): the spread is
// the same, but equal values give exact zeros (a rounded mean of equal values would not), so
// the var and std of a constant are 0, as PyTorch's Welford sums give.
static Tensor centered(const Tensor& x, const std::vector<int64_t>& dims) {
  Tensor xs = x;
  if (x.numel() > 0) {
    Tensor first = x.detach();
    for (int64_t d : dims) first = narrow(first, d, 0, 1);
    xs = x - first;
  }
  return xs - mean(xs, dims, true);
}

Tensor var(const Tensor& x, std::vector<int64_t> dims_in, double correction, bool keepdim) {
  auto [dims, denom] = spread_dims(x, std::move(dims_in), correction, "var");
  Tensor c = centered(x, dims);
  return div(sum(c * c, dims, keepdim), denom);
}

// log Σ e^x, shifted by the (detached) max so that logits of 1e4 don't overflow
Tensor logsumexp(const Tensor& x_in, std::vector<int64_t> dims_in, bool keepdim) {
  Tensor x = float_input(x_in);
  std::vector<int64_t> dims = reduce_dims(x, std::move(dims_in), "logsumexp");
  if (x.numel() == 0) return log(sum(exp(x), dims, keepdim));
  Tensor m = amax(x.detach(), dims, true);
  m = where(eq(abs(m), INFINITY), 0, m);  // all -inf (or an inf) must not make inf - inf
  Tensor y = m + log(sum(exp(x - m), dims, true));
  return keepdim ? y : reshape(y, drop_shape(x.shape(), dims));
}

}  // namespace chainrule

// ================================================================ reduce helper: std, prod, scans, all/any
namespace chainrule {
using namespace kernels;

namespace {

// (outer, n, inner) geometry of a contiguous tensor seen along `dim` (a 0-d tensor is one line of 1).
struct Lines {
  int64_t outer = 1, n = 1, inner = 1;
  Lines(const Shape& s, int64_t dim) {
    if (s.empty()) return;
    n = s[dim];
    for (int64_t d = 0; d < dim; ++d) outer *= s[d];
    for (int64_t d = dim + 1; d < static_cast<int64_t>(s.size()); ++d) inner *= s[d];
  }
  int64_t count() const { return outer * inner; }
  int64_t base(int64_t line) const { return (line / inner) * n * inner + line % inner; }
  // Runs f(at) for every line, in parallel; at(j) is the offset of the line's j-th element
  // (counted from the end when reverse).
  template <class F> void for_each_line(bool reverse, F&& f) const {
    parallel_for(
        count(),
        [&](int64_t t0, int64_t t1) {
          for (int64_t t = t0; t < t1; ++t) {
            const int64_t b = base(t);
            f([&](int64_t j) { return b + (reverse ? n - 1 - j : j) * inner; });
          }
        },
        count() * n);
  }
};

// out_r = x_0 ∘ ... ∘ x_r along dim (∘ = + or ×; from the end when reverse). float32 accumulates
// in double, as PyTorch's CPU scans do.
Tensor scan_kernel(const Tensor& x, int64_t dim, bool reverse, bool is_prod) {
  Tensor xc = contig(x), out = empty(x.shape(), x.dtype());
  const Lines L(x.shape(), dim);
  if (x.numel() == 0) return out;
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using A = std::conditional_t<std::is_same_v<T, float>, double, T>;
    const T* in = ptr<T>(xc);
    T* o = ptr<T>(out);
    L.for_each_line(reverse, [&](auto at) {
      A acc = is_prod ? A(1) : A(0);
      for (int64_t j = 0; j < L.n; ++j) {
        acc = is_prod ? wrap_mul(acc, static_cast<A>(in[at(j)])) : wrap_add(acc, static_cast<A>(in[at(j)]));
        o[at(j)] = static_cast<T>(acc);
      }
    });
  });
  return out;
}

// dL/dx_i = Σ_{k≥i} g_k Π_{j≤k, j≠i} x_j = (Π_{j<i} x_j) · R_i with R_i = g_i + x_{i+1} R_{i+1}:
// O(n) and no division, so exact with zeros. A kernel: used when no graph is being built.
Tensor cumprod_grad_kernel(const Tensor& g_in, const Tensor& x_in, int64_t dim, bool reverse) {
  Tensor x = contig(x_in), g = convert(g_in, x.dtype()), out = empty(x.shape(), x.dtype());
  const Lines L(x.shape(), dim);
  if (x.numel() == 0) return out;
  dispatch_floating(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T *gp = ptr<T>(g), *xp = ptr<T>(x);
    T* o = ptr<T>(out);
    L.for_each_line(reverse, [&](auto at) {
      T l = 1, r = 0;
      for (int64_t j = 0; j < L.n; ++j) {  // o holds the prefix products Π_{j'<j} x_j' for now
        o[at(j)] = l;
        l *= xp[at(j)];
      }
      for (int64_t j = L.n - 1; j >= 0; --j) {
        r = j == L.n - 1 ? gp[at(j)] : gp[at(j)] + xp[at(j + 1)] * r;
        o[at(j)] *= r;
      }
    });
  });
  return out;
}

Tensor cumsum_dir(const Tensor& x, int64_t dim, bool reverse);
Tensor cumprod_dir(const Tensor& x, int64_t dim, bool reverse);

// The same gradient with differentiable ops, for second derivatives when x has zeros: row i of an
// (n, n) matrix is x with x_i replaced by 1, so its cumprod holds Π_{j≤k, j≠i} x_j. O(n²) memory.
Tensor cumprod_grad_graph(const Tensor& g, const Tensor& x, int64_t dim, bool reverse) {
  const int64_t n = x.shape()[dim];
  Tensor xt = transpose(x, dim, -1), gt = transpose(g, dim, -1);  // (..., n)
  Tensor r = arange(n), i = unsqueeze(r, 1), k = unsqueeze(r, 0);
  Tensor rows = where(eq(i, k), 1.0, unsqueeze(xt, -2));  // (..., n, n)
  Tensor c = cumprod_dir(rows, rows.dim() - 1, reverse);
  Tensor terms = where(reverse ? le(k, i) : ge(k, i), c * unsqueeze(gt, -2), 0.0);
  return transpose(sum(terms, {-1}), dim, -1);
}

// cumprod's tangent: Σ_{i≤r} t_i Π_{j≤r, j≠i} x_j = y_r Σ_{i≤r} t_i / x_i when x has no zero;
// with zeros, row i of an (n, n) matrix is x with x_i replaced by t_i, whose cumprod at r ≥ i is term i.
Tensor cumprod_tangent(const Duals& d, int64_t dim, bool reverse) {
  const Tensor &x = d.input(0), &t = d.tangent(0);
  if (x.dim() == 0) return t;
  if (!any(eq(x.detach(), 0)).item()) return d.output() * cumsum_dir(t / x, dim, reverse);
  const int64_t n = x.shape()[dim];
  Tensor xt = transpose(x, dim, -1), tt = transpose(t, dim, -1);  // (..., n)
  Tensor r = arange(n), i = unsqueeze(r, 1), k = unsqueeze(r, 0);
  Tensor rows = where(eq(i, k), unsqueeze(tt, -1), unsqueeze(xt, -2));  // (..., n, n)
  Tensor c = cumprod_dir(rows, rows.dim() - 1, reverse);
  Tensor terms = where(reverse ? le(k, i) : ge(k, i), c, 0.0);
  return transpose(sum(terms, {-2}), dim, -1);
}

// y_r = Σ_{j≤r} x_j (reverse: Σ_{j≥r})      dL/dx = the cumsum of g taken the other way
Tensor cumsum_dir(const Tensor& x, int64_t dim, bool reverse) {
  return record(
      "cumsum", scan_kernel(x, dim, reverse, false), {x}, kSaveNone,
      [dim, reverse](const Tensor& g, const Saved&) -> Grads { return {cumsum_dir(g, dim, !reverse)}; },
      [dim, reverse](const Duals& d) { return cumsum_dir(d.tangent(0), dim, reverse); });
}

// y_r = Π_{j≤r} x_j (reverse: Π_{j≥r})      dL/dx_i = Σ_{k≥i} g_k Π_{j≤k, j≠i} x_j
// = cumsum_reversed(g y)_i / x_i when x has no zero (as PyTorch); with zeros, no division.
Tensor cumprod_dir(const Tensor& x, int64_t dim, bool reverse) {
  return record(
      "cumprod", scan_kernel(x, dim, reverse, true), {x}, kSaveInputs | kSaveOutput,
      [dim, reverse](const Tensor& g, const Saved& s) -> Grads {
        Tensor x = s.input(0);
        // the fused kernel records nothing: not when a graph or a tangent must flow through it
        if ((!is_grad_enabled() && forward_ad::current_level() == 0) || x.dim() == 0)
          return {x.dim() == 0 ? g : cumprod_grad_kernel(g, x, dim, reverse)};
        if (!any(eq(x.detach(), 0)).item()) return {cumsum_dir(g * s.output(), dim, !reverse) / x};
        return {cumprod_grad_graph(g, x, dim, reverse)};
      },
      [dim, reverse](const Duals& d) { return cumprod_tangent(d, dim, reverse); });
}

// Π_{j<i} x_j along dim (reverse: Π_{j>i} x_j), differentiable: a cumprod of x shifted by one.
Tensor exclusive_cumprod(const Tensor& x, int64_t dim, bool reverse) {
  const int64_t n = x.shape()[dim];
  if (n == 0) return x;
  Shape s = x.shape();
  s[dim] = 1;
  Tensor one = ones(s, x.dtype());
  Tensor shifted =
      reverse ? cat({narrow(x, dim, 1, n - 1), one}, dim) : cat({one, narrow(x, dim, 0, n - 1)}, dim);
  return cumprod_dir(shifted, dim, reverse);
}

Tensor int_input(const Tensor& x) { return x.dtype() == kBool ? convert(x, kInt64) : x; }

// Softmax (log = false) or log-softmax of every line of x along dim, in one pass per line: with
// m the line's max (nan when the line has a nan), s = x - m, softmax = e^s / Σ e^s and
// log_softmax = s - log Σ e^s. Subtracting the max first keeps float32 exact for logits of 1e4
// (x - logsumexp(x) would round logsumexp at that size). A line with +inf, or all -inf, is all nan
// (inf - inf), as in PyTorch.
Tensor softmax_kernel(const Tensor& x_in, int64_t dim, bool log) {
  Tensor x = contig(x_in.detach()), out = empty(x.shape(), x.dtype());
  const Lines L(x.shape(), dim);
  if (x.numel() == 0) return out;
  dispatch_floating(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    using Array = Eigen::Array<T, Eigen::Dynamic, 1>;
    using Line = Eigen::Map<Array, 0, Eigen::InnerStride<>>;
    using ConstLine = Eigen::Map<const Array, 0, Eigen::InnerStride<>>;
    const T* in = ptr<T>(x);
    T* o = ptr<T>(out);
    parallel_for(
        L.count(),
        [&](int64_t t0, int64_t t1) {
          for (int64_t t = t0; t < t1; ++t) {
            const int64_t b = L.base(t);
            ConstLine xs(in + b, L.n, Eigen::InnerStride<>(L.inner));
            Line ys(o + b, L.n, Eigen::InnerStride<>(L.inner));
            T m = -std::numeric_limits<T>::infinity();
            for (int64_t j = 0; j < L.n; ++j) m = std::isnan(xs[j]) || xs[j] > m ? xs[j] : m;
            ys = xs - m;
            if (log) {
              ys -= std::log(ys.exp().sum());
            } else {
              ys = ys.exp();
              ys /= ys.sum();
            }
          }
        },
        x.numel());
  });
  return out;
}

}  // namespace

// ---------------------------------------------------------------- std, std_mean, var_mean
// std = sqrt(var)        dstd/dx = (x - mean) / ((N - correction) std), and 0 where std = 0 (as
// PyTorch: a constant input has gradient 0, not nan)
Tensor std(const Tensor& x, std::vector<int64_t> dims_in, double correction, bool keepdim) {
  auto spread = spread_dims(x, std::move(dims_in), correction, "std");
  std::vector<int64_t> dims = spread.first;  // named copies: the backward lambda captures them
  const double denom = spread.second;
  Tensor y;
  {
    NoGradGuard no_grad;
    y = sqrt(var(x, dims, correction, true));
  }
  Shape ks = y.shape();
  if (!keepdim) y = y.reshape(drop_shape(x.shape(), dims));
  return record(
      "std", y, {x}, kSaveInputs | kSaveOutput,
      [ks, dims, denom](const Tensor& g, const Saved& s) -> Grads {
        Tensor x = s.input(0), y = reshape(s.output(), ks);
        Tensor gvar = where(eq(y, 0), 0.0, reshape(g, ks) / (y * 2));  // dL/dvar
        return {gvar * centered(x, dims) * (2 / denom)};
      },
      [ks, dims, denom](const Duals& d) {  // Σ (x - mean) t / (denom std)
        Tensor y = reshape(d.output(), ks);
        Tensor t = sum(centered(d.input(0), dims) * d.tangent(0), dims, true);
        return reshape(where(eq(y, 0), 0.0, t / (y * denom)), d.output().shape());
      });
}

std::pair<Tensor, Tensor> std_mean(const Tensor& x, std::vector<int64_t> dims, double correction,
                                   bool keepdim) {
  return {std(x, dims, correction, keepdim), mean(x, dims, keepdim)};
}
std::pair<Tensor, Tensor> var_mean(const Tensor& x, std::vector<int64_t> dims, double correction,
                                   bool keepdim) {
  return {var(x, dims, correction, keepdim), mean(x, dims, keepdim)};
}

// ---------------------------------------------------------------- prod
// y = Π_dim x        dy/dx_i = Π_{j≠i} x_j = (Π_{j<i} x_j)(Π_{j>i} x_j): no division, so one or
// several zeros in x give PyTorch's gradient, and the second derivative is exact as well.
Tensor prod(const Tensor& x_in, int64_t dim, bool keepdim) {
  Tensor x = int_input(x_in);
  dim = normalize_dim(dim, x.dim(), "prod");
  if (x.dim() == 0) return x_in.dtype() == kBool ? x : x.clone();
  Tensor y = reduce(x, {dim}, Kind::Prod, "prod");
  Shape ks = y.shape();
  if (!keepdim) y = y.reshape(drop_shape(x.shape(), {dim}));
  return record(
      "prod", y, {x}, kSaveInputs,
      [dim, ks](const Tensor& g, const Saved& s) -> Grads {
        Tensor x = s.input(0);
        return {reshape(g, ks) * exclusive_cumprod(x, dim, false) * exclusive_cumprod(x, dim, true)};
      },
      [dim, keepdim](const Duals& d) {
        const Tensor& x = d.input(0);
        return sum(d.tangent(0) * exclusive_cumprod(x, dim, false) * exclusive_cumprod(x, dim, true), {dim},
                   keepdim);
      });
}
Tensor prod(const Tensor& x) {
  Tensor y;
  {
    NoGradGuard no_grad;
    y = reshape(prod(reshape(x, {-1}), 0, false), {});
  }
  return record(
      "prod", y, {x}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor flat = reshape(s.input(0), {-1});
        return {reshape(g * exclusive_cumprod(flat, 0, false) * exclusive_cumprod(flat, 0, true),
                        s.input_shape(0))};
      },
      [](const Duals& d) {
        Tensor flat = reshape(d.input(0), {-1});
        return sum(reshape(d.tangent(0), {-1}) * exclusive_cumprod(flat, 0, false) *
                   exclusive_cumprod(flat, 0, true));
      });
}

// ---------------------------------------------------------------- softmax, log_softmax
// y = softmax(x) along dim, shapes unchanged      dL/dx = y (g - Σ_dim g y)      J·t = y (t - Σ_dim y t)
Tensor softmax(const Tensor& x_in, int64_t dim) {
  Tensor x = float_input(x_in);
  dim = normalize_dim(dim, x.dim(), "softmax");
  return record(
      "softmax", softmax_kernel(x, dim, false), {x}, kSaveOutput,
      [dim](const Tensor& g, const Saved& s) -> Grads {
        Tensor y = s.output();
        return {y * (g - sum(g * y, {dim}, true))};
      },
      [dim](const Duals& d) {
        const Tensor &y = d.output(), &t = d.tangent(0);
        return y * (t - sum(y * t, {dim}, true));
      });
}

// y = log_softmax(x) along dim      dL/dx = g - e^y Σ_dim g      J·t = t - Σ_dim e^y t
Tensor log_softmax(const Tensor& x_in, int64_t dim) {
  Tensor x = float_input(x_in);
  dim = normalize_dim(dim, x.dim(), "log_softmax");
  return record(
      "log_softmax", softmax_kernel(x, dim, true), {x}, kSaveOutput,
      [dim](const Tensor& g, const Saved& s) -> Grads { return {g - exp(s.output()) * sum(g, {dim}, true)}; },
      [dim](const Duals& d) {
        const Tensor& t = d.tangent(0);
        return t - sum(exp(d.output()) * t, {dim}, true);
      });
}

// ---------------------------------------------------------------- cumsum, cumprod
Tensor cumsum(const Tensor& x, int64_t dim) {
  return cumsum_dir(int_input(x), normalize_dim(dim, x.dim(), "cumsum"), false);
}
Tensor cumprod(const Tensor& x, int64_t dim) {
  return cumprod_dir(int_input(x), normalize_dim(dim, x.dim(), "cumprod"), false);
}

// ---------------------------------------------------------------- all, any
// all: no element is 0; any: some element is not 0 (nan is not 0). bool results, no gradient.
Tensor all(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  dims = reduce_dims(x, std::move(dims), "all");
  return eq(sum(eq(x.detach(), 0), dims, keepdim), 0);
}
Tensor any(const Tensor& x, std::vector<int64_t> dims, bool keepdim) {
  dims = reduce_dims(x, std::move(dims), "any");
  return gt(sum(ne(x.detach(), 0), dims, keepdim), 0);
}

}  // namespace chainrule

// ================================================================ tensor_stats: numbers for diagnostics
namespace chainrule {

namespace {

// Σ(x - k), Σ(x - k)² and Σx² over x_i = p[i] (- q[i] with kMinus), in double, in one fused pass.
// Floating sums vectorise only when told that reordering them is fine: `omp simd reduction` says so
// for this loop alone (3x faster than widening into a buffer for Eigen's sums, and no -ffast-math).
// Blocks of 1024 keep each partial sum short (the error grows with the block, not the tensor).
template <class T, bool kMinus> void shifted_sums(const T* p, const T* q, int64_t n, double k, double& s1_out,
                                                  double& s2_out, double& sq_out) {
  constexpr int64_t kBlock = 1024;
  for (int64_t at = 0; at < n; at += kBlock) {
    const int64_t len = std::min(kBlock, n - at);
    const T* a = p + at;
    const T* b = kMinus ? q + at : nullptr;
    double s1 = 0, s2 = 0, sq = 0;
#ifdef _OPENMP
#pragma omp simd reduction(+ : s1, s2, sq)
#endif
    for (int64_t j = 0; j < len; ++j) {
      double x = kMinus ? double(a[j]) - double(b[j]) : double(a[j]);
      double d = x - k;
      s1 += d;
      s2 += d * d;
      sq += x * x;
    }
    s1_out += s1;
    s2_out += s2;
    sq_out += sq;
  }
}

}  // namespace

// One pass over the elements in double, building no graph: what cr.doctor reads of every activation,
// gradient and weight on a sampled step (six tensor ops and a NumPy copy each would cost more than the
// step). Sums are shifted by k, the mean of the first 256 values (var = (Σd² - (Σd)²/n) / (n - 1) with
// d = x - k: precise while k is within a few std of the mean). With a nan or inf a second, plain pass
// counts them and gives mean and std as NumPy's float64 arithmetic would.
TensorStats tensor_stats(const Tensor& x_in, const std::optional<Tensor>& minus) {
  CR_CHECK(is_floating(x_in.dtype()), std::invalid_argument, "tensor_stats: expected a floating tensor, got ",
           dtype_name(x_in.dtype()));
  if (minus) {
    CR_CHECK(minus->shape() == x_in.shape() && minus->dtype() == x_in.dtype(), std::invalid_argument,
             "tensor_stats: minus must have the input's shape and dtype, got ", x_in.shape(), " ",
             dtype_name(x_in.dtype()), " and ", minus->shape(), " ", dtype_name(minus->dtype()));
  }
  Tensor x = x_in.detach().contiguous();
  Tensor y = minus ? minus->detach().contiguous() : Tensor();
  TensorStats s;
  s.numel = x.numel();
  if (s.numel == 0) {
    s.mean = s.std = NAN;
    return s;
  }
  double n = double(s.numel);
  dispatch_floating(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = ptr<T>(x);
    const T* q = minus ? ptr<T>(y) : nullptr;
    auto value = [&](int64_t i) { return q ? double(p[i]) - double(q[i]) : double(p[i]); };
    double k = 0, s1 = 0, s2 = 0, sq = 0;
    int64_t head = std::min<int64_t>(s.numel, 256);
#ifdef _OPENMP
#pragma omp simd reduction(+ : k)
#endif
    for (int64_t i = 0; i < head; ++i) k += value(i);
    k /= double(head);
    if (!std::isfinite(k)) k = 0;  // a nan or inf: the plain pass below
    if (q) {
      shifted_sums<T, true>(p, q, s.numel, k, s1, s2, sq);
    } else {
      shifted_sums<T, false>(p, q, s.numel, k, s1, s2, sq);
    }
    if (std::isfinite(s2) && std::isfinite(sq)) {
      s.mean = k + s1 / n;
      s.sumsq = sq;
      s.std = s.numel > 1 ? std::sqrt(std::max(0.0, s2 - s1 * s1 / n) / (n - 1)) : NAN;
      return;
    }
    // a nan or inf (or values beyond 1e154, whose squares overflow): the plain sums
    double sum = 0, c = 0;
    s.sumsq = 0;
    for (int64_t i = 0; i < s.numel; ++i) {
      double v = value(i);
      sum += v;
      s.sumsq += v * v;
      s.nan += std::isnan(v);
      s.inf += std::isinf(v);
    }
    s.mean = sum / n;
    for (int64_t i = 0; i < s.numel; ++i) c += (value(i) - s.mean) * (value(i) - s.mean);
    s.std = s.numel > 1 ? std::sqrt(c / (n - 1)) : NAN;
  });
  return s;
}

}  // namespace chainrule
