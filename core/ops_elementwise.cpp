// Elementwise ops: arithmetic, unary math, activations, comparisons, where, dtype conversion.
// Each op: forward kernel, then its backward written with differentiable ops (the engine sums
// gradients back over broadcast dims and casts them to each input's dtype).
#include <cfloat>
#include <cmath>

#include "core/kernels.h"
#include "core/ops.h"

namespace chainrule {
using namespace kernels;

// ---------------------------------------------------------------- dtype rules and kernels
namespace {

int category(Dtype d) { return d == kBool ? 0 : d == kInt64 ? 1 : 2; }

// PyTorch's rule: a 0-d tensor only decides the dtype when its category (bool < int < float) is
// higher than that of the dimensioned operand (so float32 tensor * float64 0-d stays float32).
Dtype result_type(const Tensor& a, const Tensor& b) {
  bool za = a.dim() == 0, zb = b.dim() == 0;
  if (za == zb) return promote_types(a.dtype(), b.dtype());
  const Tensor& z = za ? a : b;
  const Tensor& d = za ? b : a;
  return category(z.dtype()) > category(d.dtype()) ? z.dtype() : d.dtype();
}

// A Python-number-like scalar: int keeps the tensor's dtype, a float makes int tensors float32.
Dtype result_type(const Tensor& a, const Scalar& s) {
  if (is_floating(a.dtype())) return a.dtype();
  if (!s.integral) return get_default_dtype();
  return a.dtype() == kBool && !s.boolean ? kInt64 : a.dtype();
}

// Ops with no bool meaning (neg, pow, abs, ...) compute bool inputs as int64.
Dtype arith_type(Dtype d) { return d == kBool ? kInt64 : d; }

// PyTorch refuses bool subtraction (its meaning would be xor); so do we.
Dtype sub_type(Dtype t, const char* op) {
  CR_CHECK(t != kBool, std::invalid_argument, op, ": subtraction with bool tensors is not supported; "
           "use logical_not / logical_and, or convert with .to(kInt64)");
  return t;
}

// out = f(a, b) with broadcasting, computed in dtype `ct`, written as `ot` (ct or bool).
template <class F>
Tensor binary_kernel(const Tensor& a, const Tensor& b, Dtype ct, Dtype ot, const char* op, F f) {
  Shape so = broadcast_shapes(a.shape(), b.shape(), op);
  Tensor ac = a.dtype() == ct ? a : convert(a, ct);
  Tensor bc = b.dtype() == ct ? b : convert(b, ct);
  Tensor out = empty(so, ot);
  const bool dense = ac.is_contiguous() && bc.is_contiguous();  // else views: walk their strides
  dispatch(ct, [&](auto tag) {
    using T = decltype(tag);
    auto go = [&](auto* o, auto g) {
      if (dense)
        broadcast_binary(ptr<T>(ac), ac.shape(), ptr<T>(bc), bc.shape(), o, so, g);
      else
        strided_binary(sptr<T>(ac), broadcast_strides(ac, so), sptr<T>(bc), broadcast_strides(bc, so),
                       o, out.strides(), so, g);
    };
    if (ot == kBool) go(ptr<bool>(out), [&](T x, T y) { return static_cast<bool>(f(x, y)); });
    else go(ptr<T>(out), [&](T x, T y) { return static_cast<T>(f(x, y)); });
  });
  return out;
}

// out = f(x, s) for a scalar s, in dtype `ct`.
template <class F>
Tensor scalar_kernel(const Tensor& x, double s, Dtype ct, F f) {
  Tensor xc = x.dtype() == ct ? contig(x) : convert(x, ct);
  Tensor out = empty(xc.shape(), ct);
  dispatch(ct, [&](auto tag) {
    using T = decltype(tag);
    T sv = static_cast<T>(s);
    map(ptr<T>(xc), ptr<T>(out), xc.numel(), [&](T v) { return static_cast<T>(f(v, sv)); });
  });
  return out;
}

// For ops whose Eigen packet math is exact on every input (abs, max, inverse): no correction.
struct Exact {
  template <class T> void operator()(const T*, T*, int64_t) const {}
};

// Recomputes with the scalar libm function `ref` where the input leaves [lo, hi] (or is NaN): there
// Eigen's fast vectorised exp/log/sqrt flush subnormals and mishandle ±inf (sqrt(inf) = nan,
// exp(-inf) = 5e-309), while the scalar tail of the same tensor would be right.
template <class Ref>
struct OutsideRange {
  double lo32, hi32, lo64, hi64;
  Ref ref;
  // Fixes out[0, n) in place. The common case (every input inside the range) costs one
  // vectorised pass of comparisons; only a chunk with a special value takes the scalar loop.
  template <class T> void operator()(const T* in, T* out, int64_t n) const {
    const bool f32 = std::is_same_v<T, float>;
    const T lo = T(f32 ? lo32 : lo64), hi = T(f32 ? hi32 : hi64);
    int outside = 0;
    for (int64_t i = 0; i < n; ++i) outside |= !(in[i] >= lo) | !(in[i] <= hi);  // NaN is outside
    if (!outside) return;
    for (int64_t i = 0; i < n; ++i)
      if (!(in[i] >= lo && in[i] <= hi)) out[i] = static_cast<T>(ref(in[i]));
  }
};
template <class Ref>
OutsideRange<Ref> outside(double lo32, double hi32, double lo64, double hi64, Ref ref) {
  return {lo32, hi32, lo64, hi64, ref};
}
// The normal, finite range: log and sqrt are exact there.
template <class Ref>
OutsideRange<Ref> outside_normal(Ref ref) {
  return {FLT_MIN, FLT_MAX, DBL_MIN, DBL_MAX, ref};
}

// out = f(x) over float data with an Eigen array expression (vectorised exp, log, tanh, ...), then
// fix(x, out, n) (see OutsideRange). Integer and bool inputs are computed in float32, as
// PyTorch does.
template <class F, class Fix = Exact>
Tensor unary_float(const Tensor& x, F f, Fix fix = {}) {
  Tensor xc = is_floating(x.dtype()) ? contig(x) : convert(x, get_default_dtype());
  Tensor out = empty(xc.shape(), xc.dtype());
  dispatch_floating(xc.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = ptr<T>(xc);
    T* o = ptr<T>(out);
    parallel_for(xc.numel(), [&](int64_t b, int64_t e) {
      Vec<T>(o + b, e - b) = f(CVec<T>(in + b, e - b));
      fix(in + b, o + b, e - b);
    });
  });
  return out;
}

// Elementwise with a plain scalar function, for what Eigen doesn't vectorise.
template <class F>
Tensor unary_scalar(const Tensor& x, F f) {
  Tensor xc = is_floating(x.dtype()) ? contig(x) : convert(x, get_default_dtype());
  Tensor out = empty(xc.shape(), xc.dtype());
  dispatch_floating(xc.dtype(), [&](auto tag) {
    using T = decltype(tag);
    map(ptr<T>(xc), ptr<T>(out), xc.numel(), [&](T v) { return static_cast<T>(f(v)); });
  });
  return out;
}

Tensor scalar_of(const Scalar& s, Dtype d) { return scalar_tensor(s.value, d); }

}  // namespace

// A dense copy of t (any view) in dtype d.
Tensor kernels::convert(const Tensor& t, Dtype d) {
  Tensor out = empty(t.shape(), d);
  dispatch(t.dtype(), [&](auto tag) {
    using S = decltype(tag);
    dispatch(d, [&](auto otag) {
      using D = decltype(otag);
      if (t.is_contiguous()) {
        map(ptr<S>(t), ptr<D>(out), t.numel(), [](S v) { return static_cast<D>(v); });
      } else {
        const S* src = sptr<S>(t);
        strided_binary(src, t.strides(), src, t.strides(), ptr<D>(out), out.strides(), t.shape(),
                       [](S v, S) { return static_cast<D>(v); });
      }
    });
  });
  return out;
}

Tensor kernels::contig(const Tensor& t) { return t.is_contiguous() ? t : convert(t, t.dtype()); }

// ---------------------------------------------------------------- conversion, copies
// y = x as dtype d        dy/dx = 1 (the engine casts the gradient back)
Tensor Tensor::to(Dtype d) const {
  if (d == dtype()) return *this;
  if (!is_floating(d)) return convert(*this, d);  // integers and bools carry no gradient, as PyTorch
  return record("to", convert(*this, d), {*this}, kSaveNone,
                [](const Tensor& g, const Saved&) -> Grads { return {g}; });
}

// y = copy of x           dy/dx = 1
Tensor Tensor::clone() const {
  return record("clone", convert(*this, dtype()), {*this}, kSaveNone,
                [](const Tensor& g, const Saved&) -> Grads { return {g}; });
}

// ---------------------------------------------------------------- arithmetic
// z = a + b               dz/da = 1, dz/db = 1
Tensor add(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);  // bool + bool stays bool (or), as PyTorch
  return record("add", binary_kernel(a, b, t, t, "add", [](auto x, auto y) { return x + y; }),
                {a, b}, kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {g, g}; });
}

// z = a - b               dz/da = 1, dz/db = -1
Tensor sub(const Tensor& a, const Tensor& b) {
  Dtype t = sub_type(result_type(a, b), "sub");
  return record("sub", binary_kernel(a, b, t, t, "sub", [](auto x, auto y) { return x - y; }),
                {a, b}, kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {g, neg(g)}; });
}

// z = a * b               dz/da = b, dz/db = a
Tensor mul(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);  // bool * bool stays bool (and)
  return record("mul", binary_kernel(a, b, t, t, "mul", [](auto x, auto y) { return x * y; }),
                {a, b}, kSaveInputs, [](const Tensor& g, const Saved& s) -> Grads {
                  return {s.needs_grad(0) ? g * s.input(1) : Tensor(),
                          s.needs_grad(1) ? g * s.input(0) : Tensor()};
                });
}

// z = a / b               dz/da = 1/b, dz/db = -a/b^2
Tensor div(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  if (!is_floating(t)) t = get_default_dtype();  // true division, as Python's /
  return record("div", binary_kernel(a, b, t, t, "div", [](auto x, auto y) { return x / y; }),
                {a, b}, kSaveInputs, [](const Tensor& g, const Saved& s) -> Grads {
                  Tensor b = s.input(1);
                  return {s.needs_grad(0) ? g / b : Tensor(),
                          s.needs_grad(1) ? neg(g * s.input(0) / (b * b)) : Tensor()};
                });
}

// z = a + c               dz/da = 1
Tensor add(const Tensor& a, const Scalar& c) {
  Dtype t = result_type(a, c);
  return record("add", scalar_kernel(a, c.value, t, [](auto x, auto y) { return x + y; }), {a},
                kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {g}; });
}

Tensor sub(const Tensor& a, const Scalar& c) {
  sub_type(result_type(a, c), "sub");
  Scalar m = c;
  m.value = -c.value;
  return add(a, m);
}

// z = c - a               dz/da = -1
Tensor rsub(const Tensor& a, const Scalar& c) {
  Dtype t = sub_type(result_type(a, c), "rsub");
  return record("rsub", scalar_kernel(a, c.value, t, [](auto x, auto y) { return y - x; }), {a},
                kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {neg(g)}; });
}

// z = a * c               dz/da = c
Tensor mul(const Tensor& a, const Scalar& c) {
  Dtype t = result_type(a, c);
  double cv = c.value;
  return record("mul", scalar_kernel(a, cv, t, [](auto x, auto y) { return x * y; }), {a},
                kSaveNone, [cv](const Tensor& g, const Saved&) -> Grads { return {mul(g, cv)}; });
}

// z = a / c               dz/da = 1/c
Tensor div(const Tensor& a, const Scalar& c) {
  Dtype t = is_floating(a.dtype()) ? a.dtype() : get_default_dtype();
  double cv = c.value;
  return record("div", scalar_kernel(a, cv, t, [](auto x, auto y) { return x / y; }), {a},
                kSaveNone, [cv](const Tensor& g, const Saved&) -> Grads { return {div(g, cv)}; });
}

// z = c / a               dz/da = -c / a^2 = -z / a
Tensor rdiv(const Tensor& a, const Scalar& c) { return mul(reciprocal(a), c); }

// y = 1 / x               dy/dx = -y^2
Tensor reciprocal(const Tensor& x) {
  return record("reciprocal", unary_float(x, [](const auto& v) { return v.inverse(); }), {x},
                kSaveOutput, [](const Tensor& g, const Saved& s) -> Grads {
                  Tensor y = s.output();
                  return {neg(g * y * y)};
                });
}

// y = -x                  dy/dx = -1
Tensor neg(const Tensor& x) {
  CR_CHECK(x.dtype() != kBool, std::invalid_argument, "neg: negation of a bool tensor is not "
           "supported; use logical_not");
  return record("neg", scalar_kernel(x, 0, x.dtype(), [](auto v, auto) { return -v; }), {x},
                kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {neg(g)}; });
}

// y = x^p                 dy/dx = p x^(p-1)   (0 when p = 0, as PyTorch)
Tensor pow(const Tensor& x, const Scalar& p) {
  Dtype t = arith_type(result_type(x, p));
  double pv = p.value;
  Tensor y;
  // The exponents students write most, as PyTorch computes them (and as fast: no std::pow per
  // element); so x**0.5 is sqrt(x) (sqrt(-0) = -0) and x**-1 is 1/x, exactly as in torch.
  if (pv == 2.0) y = scalar_kernel(x, pv, t, [](auto v, auto) { return v * v; });
  else if (pv == 1.0) y = scalar_kernel(x, pv, t, [](auto v, auto) { return v; });
  else if (pv == 3.0) y = scalar_kernel(x, pv, t, [](auto v, auto) { return v * v * v; });
  else if (is_floating(t) && (pv == 0.5 || pv == -0.5)) {
    NoGradGuard forward_only;  // sqrt's kernel computes the root; pow records its own node below
    y = sqrt(x.to(t));
    if (pv == -0.5) y = scalar_kernel(y, pv, t, [](auto v, auto) { return 1 / v; });
  }
  else if (is_floating(t) && pv == -1.0) y = scalar_kernel(x, pv, t, [](auto v, auto) { return 1 / v; });
  else if (is_floating(t) && pv == -2.0) y = scalar_kernel(x, pv, t, [](auto v, auto) { return 1 / (v * v); });
  else if (is_floating(t)) y = scalar_kernel(x, pv, t, [](auto v, auto q) { return std::pow(v, q); });
  else {
    CR_CHECK(pv >= 0, std::invalid_argument, "pow: integer tensors can't be raised to negative "
             "integer powers, got exponent ", pv);
    y = scalar_kernel(x, pv, t, [](auto v, auto q) {  // by squaring: O(log q), wraps like PyTorch
      using T = decltype(v);
      T r = 1;
      if constexpr (!std::is_same_v<T, bool>) {
        uint64_t e = static_cast<uint64_t>(q), b = static_cast<uint64_t>(v), acc = 1;
        for (; e; e >>= 1, b *= b)
          if (e & 1) acc *= b;
        r = static_cast<T>(acc);
      }
      return r;
    });
  }
  return record("pow", y, {x}, kSaveInputs, [pv](const Tensor& g, const Saved& s) -> Grads {
    if (pv == 0.0) return {zeros_like(g)};
    Tensor x = s.input(0);
    return {g * (pv == 2.0 ? mul(x, 2.0) : mul(pow(x, pv - 1.0), pv))};
  });
}

// y = a^b                 dy/da = b a^(b-1),  dy/db = y log(a)   (0 where a = 0 and b >= 0)
Tensor pow(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  if (!is_floating(t)) t = get_default_dtype();
  Tensor y = binary_kernel(a, b, t, t, "pow", [](auto x, auto q) { return std::pow(x, q); });
  return record("pow", y, {a, b}, kSaveInputs | kSaveOutput,
                [](const Tensor& g, const Saved& s) -> Grads {
                  Tensor a = s.input(0), b = s.input(1), ga, gb;
                  if (s.needs_grad(0)) ga = where(eq(b, 0), 0, g * b * pow(a, b - 1.0));  // 0^0: 0, as PyTorch
                  if (s.needs_grad(1))
                    gb = g * s.output() * where(logical_and(eq(a, 0), ge(b, 0)), 0, log(a));
                  return {ga, gb};
                });
}

Tensor pow(const Scalar& base, const Tensor& e) {
  Dtype t = is_floating(e.dtype()) ? e.dtype() : get_default_dtype();
  return pow(scalar_of(base, t), e);
}

Tensor operator+(const Tensor& a, const Tensor& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Tensor& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Tensor& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Tensor& b) { return div(a, b); }
Tensor operator-(const Tensor& a) { return neg(a); }
Tensor operator+(const Tensor& a, const Scalar& b) { return add(a, b); }
Tensor operator-(const Tensor& a, const Scalar& b) { return sub(a, b); }
Tensor operator*(const Tensor& a, const Scalar& b) { return mul(a, b); }
Tensor operator/(const Tensor& a, const Scalar& b) { return div(a, b); }
Tensor operator+(const Scalar& a, const Tensor& b) { return add(b, a); }
Tensor operator-(const Scalar& a, const Tensor& b) { return rsub(b, a); }
Tensor operator*(const Scalar& a, const Tensor& b) { return mul(b, a); }
Tensor operator/(const Scalar& a, const Tensor& b) { return rdiv(b, a); }

// ---------------------------------------------------------------- unary math
// y = e^x                 dy/dx = y
Tensor exp(const Tensor& x) {
  auto ref = [](auto v) { return std::exp(v); };
  return record("exp", unary_float(x, [](const auto& v) { return v.exp(); }, outside(-87, 88, -708, 709, ref)),
                {x}, kSaveOutput,
                [](const Tensor& g, const Saved& s) -> Grads { return {g * s.output()}; });
}

// y = ln x                dy/dx = 1/x
Tensor log(const Tensor& x) {
  auto ref = [](auto v) { return std::log(v); };
  return record("log", unary_float(x, [](const auto& v) { return v.log(); }, outside_normal(ref)), {x}, kSaveInputs,
                [](const Tensor& g, const Saved& s) -> Grads { return {g / s.input(0)}; });
}

// y = sqrt(x)             dy/dx = 1 / (2y)
Tensor sqrt(const Tensor& x) {
  auto ref = [](auto v) { return std::sqrt(v); };
  return record("sqrt", unary_float(x, [](const auto& v) { return v.sqrt(); }, outside_normal(ref)), {x}, kSaveOutput,
                [](const Tensor& g, const Saved& s) -> Grads { return {g / mul(s.output(), 2.0)}; });
}

// y = |x|                 dy/dx = sign(x)   (0 at 0, as PyTorch)
Tensor abs(const Tensor& x) {
  Tensor y = is_floating(x.dtype()) ? unary_float(x, [](const auto& v) { return v.abs(); })
                                    : scalar_kernel(x, 0, arith_type(x.dtype()), [](auto v, auto z) { return v < z ? -v : v; });
  return record("abs", y, {x}, kSaveInputs,
                [](const Tensor& g, const Saved& s) -> Grads {
                  Tensor x = s.input(0);
                  return {depends_on(g * sign(x), x)};
                });
}

Tensor sign(const Tensor& x) {
  Dtype t = arith_type(x.dtype());
  return scalar_kernel(x, 0, t, [](auto v, auto z) { return static_cast<decltype(v)>((v > z) - (v < z)); });
}

// y = sin x               dy/dx = cos x
Tensor sin(const Tensor& x) {
  return record("sin", unary_float(x, [](const auto& v) { return v.sin(); }), {x}, kSaveInputs,
                [](const Tensor& g, const Saved& s) -> Grads { return {g * cos(s.input(0))}; });
}

// y = cos x               dy/dx = -sin x
Tensor cos(const Tensor& x) {
  return record("cos", unary_float(x, [](const auto& v) { return v.cos(); }), {x}, kSaveInputs,
                [](const Tensor& g, const Saved& s) -> Grads { return {neg(g * sin(s.input(0)))}; });
}

// y = tanh x              dy/dx = 1 - y^2
Tensor tanh(const Tensor& x) {
  return record("tanh", unary_float(x, [](const auto& v) { return v.tanh(); }), {x}, kSaveOutput,
                [](const Tensor& g, const Saved& s) -> Grads {
                  Tensor y = s.output();
                  return {g * rsub(y * y, 1)};
                });
}

// y = 1 / (1 + e^-x)      dy/dx = y (1 - y)
Tensor sigmoid(const Tensor& x) {
  auto ref = [](auto v) { return 1 / (1 + std::exp(-v)); };  // torch's formula where exp saturates
  Tensor y = unary_float(x, [](const auto& v) { return v.logistic(); }, outside(-80, 80, -700, 700, ref));
  return record("sigmoid", y, {x},
                kSaveOutput, [](const Tensor& g, const Saved& s) -> Grads {
                  Tensor y = s.output();
                  return {g * y * rsub(y, 1)};
                });
}

// relu's backward, fused (one pass instead of a comparison and a select): 0 where y <= 0, else g
// (so a NaN input passes its gradient, as in PyTorch).
// Linear in g, so its own backward is itself; it depends on y only through the mask (derivative 0).
static Tensor threshold_backward(const Tensor& g, const Tensor& y) {
  if (g.shape() != y.shape() || g.dtype() != y.dtype() || !is_floating(g.dtype()))
    return where(le(y, 0), 0, g);
  Tensor out = empty(g.shape(), g.dtype()), gc = contig(g), yc = contig(y);
  dispatch_floating(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T *pg = ptr<T>(gc), *py = ptr<T>(yc);
    T* o = ptr<T>(out);
    parallel_for(g.numel(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) o[i] = blend(!(py[i] <= T(0)), pg[i], T(0));  // NaN passes, as torch
    });
  });
  return record("threshold_backward", out, {g, y}, kSaveInputs, [](const Tensor& gg, const Saved& s) -> Grads {
    return {threshold_backward(gg, s.input(1)), zeros_like(s.input(1))};
  });
}

// y = max(x, 0)           dy/dx = [x > 0]
Tensor relu(const Tensor& x) {
  Tensor y = is_floating(x.dtype()) ? unary_float(x, [](const auto& v) { return v.max(0); })
                                    : scalar_kernel(x, 0, arith_type(x.dtype()), [](auto v, auto z) { return v > z ? v : z; });
  return record("relu", y, {x}, kSaveOutput, [](const Tensor& g, const Saved& s) -> Grads {
    return {threshold_backward(g, s.output())};
  });
}

// y = x if x > 0 else a x dy/dx = 1 or a
Tensor leaky_relu(const Tensor& x, double a) {
  Tensor y = unary_scalar(x, [a](auto v) { return v > 0 ? v : v * static_cast<decltype(v)>(a); });
  return record("leaky_relu", y, {x}, kSaveInputs, [a](const Tensor& g, const Saved& s) -> Grads {
    Tensor x = s.input(0);
    return {depends_on(where(gt(x, 0), g, mul(g, a)), x)};
  });
}

// y = log(1 + e^(βx)) / β, or x where βx > threshold       dy/dx = sigmoid(βx) (or 1)
Tensor softplus(const Tensor& x, double beta, double threshold) {
  Tensor y = unary_scalar(x, [beta, threshold](auto v) {
    using T = decltype(v);
    return v * beta > threshold ? v : static_cast<T>(std::log1p(std::exp(v * beta)) / beta);
  });
  return record("softplus", y, {x}, kSaveInputs,
                [beta, threshold](const Tensor& g, const Saved& s) -> Grads {
                  Tensor bx = mul(s.input(0), beta);
                  return {where(gt(bx, threshold), g, g * sigmoid(bx))};
                });
}

// y = min(max(x, lo), hi) dy/dx = [lo <= x <= hi]
Tensor clamp(const Tensor& x, double lo, double hi) {
  Dtype t = arith_type(x.dtype());
  Tensor y = scalar_kernel(x, 0, t, [lo, hi](auto v, auto) {
    using T = decltype(v);
    T r = v < static_cast<T>(lo) && lo > -INFINITY ? static_cast<T>(lo) : v;
    return r > static_cast<T>(hi) && hi < INFINITY ? static_cast<T>(hi) : r;
  });
  return record("clamp", y, {x}, kSaveInputs, [lo, hi](const Tensor& g, const Saved& s) -> Grads {
    Tensor x = s.input(0);
    return {depends_on(where(logical_and(ge(x, lo), le(x, hi)), g, 0), x)};
  });
}
Tensor clamp_min(const Tensor& x, double lo) { return clamp(x, lo, INFINITY); }
Tensor clamp_max(const Tensor& x, double hi) { return clamp(x, -INFINITY, hi); }

// ---------------------------------------------------------------- binary
// z = max(a, b)           dz/da = [a > b] + ½[a = b]   (ties split the gradient, as PyTorch)
Tensor maximum(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  Tensor z = binary_kernel(a, b, t, t, "maximum", [](auto x, auto y) { return (x != x || x > y) ? x : y; });  // NaN propagates
  return record("maximum", z, {a, b}, kSaveInputs, [](const Tensor& g, const Saved& s) -> Grads {
    Tensor a = s.input(0), b = s.input(1);
    Tensor half = where(eq(a, b), mul(g, 0.5), g);
    return {depends_on(where(lt(a, b), 0, half), a), depends_on(where(lt(b, a), 0, half), b)};
  });
}

// z = min(a, b)           dz/da = [a < b] + ½[a = b]
Tensor minimum(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  Tensor z = binary_kernel(a, b, t, t, "minimum", [](auto x, auto y) { return (x != x || x < y) ? x : y; });
  return record("minimum", z, {a, b}, kSaveInputs, [](const Tensor& g, const Saved& s) -> Grads {
    Tensor a = s.input(0), b = s.input(1);
    Tensor half = where(eq(a, b), mul(g, 0.5), g);
    return {depends_on(where(gt(a, b), 0, half), a), depends_on(where(gt(b, a), 0, half), b)};
  });
}

// Comparisons: bool results, no gradient.
#define CR_COMPARISON(name, expr)                                                             \
  Tensor name(const Tensor& a, const Tensor& b) {                                             \
    return binary_kernel(a, b, result_type(a, b), kBool, #name, [](auto x, auto y) { return expr; }); \
  }                                                                                           \
  Tensor name(const Tensor& a, const Scalar& c) {                                             \
    return name(a, scalar_tensor(c.value, result_type(a, c)));                                \
  }
CR_COMPARISON(eq, x == y)
CR_COMPARISON(ne, x != y)
CR_COMPARISON(lt, x < y)
CR_COMPARISON(le, x <= y)
CR_COMPARISON(gt, x > y)
CR_COMPARISON(ge, x >= y)
#undef CR_COMPARISON

Tensor logical_and(const Tensor& a, const Tensor& b) {
  return binary_kernel(a, b, result_type(a, b), kBool, "logical_and",
                       [](auto x, auto y) { return x != 0 && y != 0; });
}
Tensor logical_or(const Tensor& a, const Tensor& b) {
  return binary_kernel(a, b, result_type(a, b), kBool, "logical_or",
                       [](auto x, auto y) { return x != 0 || y != 0; });
}
Tensor logical_not(const Tensor& a) { return eq(a, 0); }

// Bitwise on int64, logical on bool, as PyTorch; floating tensors have no bits to combine.
static Dtype bitwise_type(Dtype t, const char* op) {
  CR_CHECK(!is_floating(t), std::invalid_argument, op, ": not implemented for ", dtype_name(t),
           " tensors; it is for int64 and bool (for masks of floats, compare first: (x > 0) & (y > 0))");
  return t;
}
// f on integer dtypes; the dispatch instantiates the float ones too, which bitwise_type refuses.
template <class F>
static auto on_integers(F f) {
  return [f](auto x, auto y) {
    if constexpr (std::is_integral_v<decltype(x)>) return static_cast<decltype(x)>(f(x, y));
    else return x;
  };
}

Tensor bitwise_and(const Tensor& a, const Tensor& b) {
  Dtype t = bitwise_type(result_type(a, b), "bitwise_and");
  return binary_kernel(a, b, t, t, "bitwise_and", on_integers([](auto x, auto y) { return x & y; }));
}
Tensor bitwise_or(const Tensor& a, const Tensor& b) {
  Dtype t = bitwise_type(result_type(a, b), "bitwise_or");
  return binary_kernel(a, b, t, t, "bitwise_or", on_integers([](auto x, auto y) { return x | y; }));
}
Tensor bitwise_xor(const Tensor& a, const Tensor& b) {
  Dtype t = bitwise_type(result_type(a, b), "bitwise_xor");
  return binary_kernel(a, b, t, t, "bitwise_xor", on_integers([](auto x, auto y) { return x ^ y; }));
}
Tensor bitwise_not(const Tensor& a) {
  Dtype t = bitwise_type(a.dtype(), "bitwise_not");
  return t == kBool ? logical_not(a) : scalar_kernel(a, 0, t, on_integers([](auto v, auto) { return ~v; }));
}

// z = cond ? a : b        dz/da = [cond], dz/db = [!cond]
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  CR_CHECK(cond.dtype() == kBool, std::invalid_argument,
           "where: expected a bool condition, got ", dtype_name(cond.dtype()),
           "; compare first, e.g. where(x > 0, a, b)");
  Shape so = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Dtype t = result_type(a, b);
  Tensor ac = a.dtype() == t ? a : convert(a, t), bc = b.dtype() == t ? b : convert(b, t);
  Tensor out = empty(so, t);
  // Each operand walked with its own strides (views, broadcasts); blend() keeps random masks from
  // costing a branch each.
  Shape tc = broadcast_strides(cond, so), ta = broadcast_strides(ac, so), tb = broadcast_strides(bc, so);
  const int64_t n = out.numel();
  dispatch(t, [&](auto tag) {
    using T = decltype(tag);
    const bool* pc = sptr<bool>(cond);
    const T *pa = sptr<T>(ac), *pb = sptr<T>(bc);
    T* o = ptr<T>(out);
    if (cond.shape() == so && ac.shape() == so && (bc.shape() == so || bc.numel() == 1) &&
        cond.is_contiguous() && ac.is_contiguous() && (bc.is_contiguous() || bc.numel() == 1)) {
      // The common case (masks of the same shape): a flat loop without index arithmetic.
      parallel_for(n, [&](int64_t b, int64_t e) {
        if (bc.numel() == 1) {
          const T v = pb[0];
          for (int64_t i = b; i < e; ++i) o[i] = blend(pc[i], pa[i], v);
        } else {
          for (int64_t i = b; i < e; ++i) o[i] = blend(pc[i], pa[i], pb[i]);
        }
      });
      return;
    }
    using Offsets = std::array<int64_t, 4>;
    for_each_row<4>(so, {tc.data(), ta.data(), tb.data(), out.strides().data()},
                    [&](int64_t, const Offsets& off, int64_t inner, const Offsets& st) {
      const bool* c = pc + off[0];
      const T *x = pa + off[1], *y = pb + off[2];
      T* dst = o + off[3];
      for (int64_t i = 0; i < inner; ++i) dst[i * st[3]] = blend(c[i * st[0]], x[i * st[1]], y[i * st[2]]);
    });
  });
  return record("where", out, {cond, a, b}, kSaveFirstInput, [](const Tensor& g, const Saved& s) -> Grads {
    Tensor c = s.input(0);
    return {Tensor(), s.needs_grad(1) ? where(c, g, 0) : Tensor(), s.needs_grad(2) ? where(c, 0, g) : Tensor()};
  });
}

Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b) {
  return where(cond, a, scalar_of(b, result_type(a, b)));
}
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b) {
  return where(cond, scalar_of(a, result_type(b, a)), b);
}

}  // namespace chainrule
