// Elementwise ops: arithmetic, unary math, activations, comparisons, where, dtype conversion.
// Each op: forward kernel, then its backward written with differentiable ops (the engine sums
// gradients back over broadcast dims and casts them to each input's dtype).
#include <algorithm>
#include <cfloat>
#include <cmath>
#include <functional>
#include <string>

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
  CR_CHECK(t != kBool, std::invalid_argument, op,
           ": subtraction with bool tensors is not supported; "
           "use logical_not / logical_and, or convert with .to(kInt64)");
  return t;
}

// x itself if it has dtype d, else a converted copy.
Tensor cast(const Tensor& x, Dtype d) { return x.dtype() == d ? x : convert(x, d); }

// out = f(a, b) with broadcasting, computed in dtype `ct`, written as `ot` (ct or bool).
template <class F>
Tensor binary_kernel(const Tensor& a, const Tensor& b, Dtype ct, Dtype ot, const char* op, F f) {
  Tensor ac = cast(a, ct), bc = cast(b, ct), out = empty(broadcast_shapes(a.shape(), b.shape(), op), ot);
  dispatch(ct, [&](auto tag) {
    using T = decltype(tag);
    if (ot == kBool)
      elementwise([&](T x, T y) { return static_cast<bool>(f(x, y)); }, strided<bool>(out),
                  strided<const T>(ac), strided<const T>(bc));
    else
      elementwise([&](T x, T y) { return static_cast<T>(f(x, y)); }, strided<T>(out), strided<const T>(ac),
                  strided<const T>(bc));
  });
  return out;
}

// out = f(x, s) for a scalar s, in dtype `ct` (an integral s exactly, see Scalar::int_value).
template <class F> Tensor scalar_kernel(const Tensor& x, const Scalar& s, Dtype ct, F f) {
  Tensor xc = x.dtype() == ct ? contig(x) : convert(x, ct);
  Tensor out = empty(xc.shape(), ct);
  dispatch(ct, [&](auto tag) {
    using T = decltype(tag);
    T sv = kWraps<T> && s.integral ? static_cast<T>(s.int_value) : convert_value<T>(s.value);
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
template <class Ref> struct OutsideRange {
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
template <class Ref> OutsideRange<Ref> outside(double lo32, double hi32, double lo64, double hi64, Ref ref) {
  return {lo32, hi32, lo64, hi64, ref};
}
// The normal, finite range: Eigen's packet log is exact there.
template <class Ref> OutsideRange<Ref> outside_normal(Ref ref) {
  return {FLT_MIN, FLT_MAX, DBL_MIN, DBL_MAX, ref};
}

// out[0, n) = f(in[0, n)) with every element on the same vectorised path, whatever its address or
// position. Eigen runs an unaligned head in scalar code, and its packet exp/log/sin differ from
// std:: in the last bit, so results would depend on where malloc put the tensor (x.log() and
// cr.log(x) differed). Blocks are written through an aligned buffer; the last one is padded.
template <class T, class F> void unary_blocks(const T* in, T* out, int64_t n, F f) {
  constexpr int64_t kBlock = 64;
  using Block = Eigen::Array<T, kBlock, 1>;
  alignas(64) T src[kBlock], dst[kBlock];
  for (int64_t b = 0; b < n; b += kBlock) {
    const int64_t m = std::min(kBlock, n - b);
    const T* from = in + b;
    if (m < kBlock) {
      std::fill(std::copy_n(from, m, src), src + kBlock, T(1));
      from = src;
    }
    Eigen::Map<Block, Eigen::Aligned64> to(dst);
    to = f(Eigen::Map<const Block>(from));
    std::copy_n(dst, m, out + b);
  }
}

// out = f(x) over float data, a chunk at a time as an Eigen array expression (vectorised exp, log,
// tanh, ...; each(g) for a plain scalar function), then fix(x, out, n) (see OutsideRange). Integer
// and bool inputs are computed in float32, as PyTorch does.
template <class F, class Fix = Exact> Tensor unary_float(const Tensor& x, F f, Fix fix = {}) {
  Tensor xc = is_floating(x.dtype()) ? contig(x) : convert(x, get_default_dtype());
  Tensor out = empty(xc.shape(), xc.dtype());
  dispatch_floating(xc.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = ptr<T>(xc);
    T* o = ptr<T>(out);
    parallel_for(xc.numel(), [&](int64_t b, int64_t e) {
      unary_blocks(in + b, o + b, e - b, f);
      fix(in + b, o + b, e - b);
    });
  });
  return out;
}

// A scalar function g as an array expression, for what Eigen doesn't vectorise.
template <class G> auto each(G g) {
  return [g](const auto& v) {
    using T = typename std::decay_t<decltype(v)>::Scalar;
    return v.unaryExpr([g](T e) { return static_cast<T>(g(e)); });
  };
}

Tensor scalar_of(const Scalar& s, Dtype d) { return full({}, s, d); }

}  // namespace

// ---------------------------------------------------------------- conversion, copies
// y = x as dtype d        dy/dx = 1 (the engine casts the gradient back)
Tensor Tensor::to(Dtype d) const {
  if (d == dtype()) return *this;
  if (!is_floating(d)) return convert(*this, d);  // integers and bools carry no gradient, as PyTorch
  return record(
      "to", convert(*this, d), {*this}, kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {g}; },
      [](const Duals& d) { return d.tangent(0); });
}

// y = copy of x           dy/dx = 1
Tensor Tensor::clone() const {
  return record(
      "clone", convert(*this, dtype()), {*this}, kSaveNone,
      [](const Tensor& g, const Saved&) -> Grads { return {g}; },
      [](const Duals& d) { return d.tangent(0).clone(); });  // a copy, as torch: not the input's tangent
}

// ---------------------------------------------------------------- arithmetic
// z = a + b               dz/da = 1, dz/db = 1
Tensor add(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);  // bool + bool stays bool (or), as PyTorch
  return record(
      "add", binary_kernel(a, b, t, t, "add", [](auto x, auto y) { return wrap_add(x, y); }), {a, b},
      kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {g, g}; },
      [](const Duals& d) { return tangent_sum({d.tangent(0), d.tangent(1)}); });
}

// z = a - b               dz/da = 1, dz/db = -1
Tensor sub(const Tensor& a, const Tensor& b) {
  Dtype t = sub_type(result_type(a, b), "sub");
  return record(
      "sub", binary_kernel(a, b, t, t, "sub", [](auto x, auto y) { return wrap_sub(x, y); }), {a, b},
      kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {g, neg(g)}; },
      [](const Duals& d) { return tangent_sum({d.tangent(0), d.has(1) ? neg(d.tangent(1)) : Tensor()}); });
}

// z = a * b               dz/da = b, dz/db = a
Tensor mul(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);  // bool * bool stays bool (and)
  return record(
      "mul", binary_kernel(a, b, t, t, "mul", [](auto x, auto y) { return wrap_mul(x, y); }), {a, b},
      kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        return {s.needs_grad(0) ? g * s.input(1) : Tensor(), s.needs_grad(1) ? g * s.input(0) : Tensor()};
      },
      [](const Duals& d) { return elementwise_tangent(d, {d.input(1), d.input(0)}); });
}

// z = a / b               dz/da = 1/b, dz/db = -a/b^2
Tensor div(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  if (!is_floating(t)) t = get_default_dtype();  // true division, as Python's /
  return record(
      "div", binary_kernel(a, b, t, t, "div", [](auto x, auto y) { return x / y; }), {a, b}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor b = s.input(1);
        return {s.needs_grad(0) ? g / b : Tensor(),
                s.needs_grad(1) ? neg(g * s.input(0) / (b * b)) : Tensor()};
      },
      [](const Duals& d) {
        const Tensor& b = d.input(1);
        return tangent_sum({d.has(0) ? d.tangent(0) / b : Tensor(),
                            d.has(1) ? neg(d.tangent(1) * d.input(0) / (b * b)) : Tensor()});
      });
}

// z = a + c               dz/da = 1
Tensor add(const Tensor& a, const Scalar& c) {
  Dtype t = result_type(a, c);
  return record_elementwise("add", scalar_kernel(a, c, t, [](auto x, auto y) { return wrap_add(x, y); }), a,
                            kSaveNone, [](const Tensor& v, const Tensor&, const Tensor&) { return v; });
}

Tensor sub(const Tensor& a, const Scalar& c) {
  sub_type(result_type(a, c), "sub");
  Scalar m = c;
  m.value = -c.value;
  m.int_value = wrap_neg(c.int_value);
  return add(a, m);
}

// z = c - a               dz/da = -1
Tensor rsub(const Tensor& a, const Scalar& c) {
  Dtype t = sub_type(result_type(a, c), "rsub");
  return record_elementwise("rsub", scalar_kernel(a, c, t, [](auto x, auto y) { return wrap_sub(y, x); }), a,
                            kSaveNone, [](const Tensor& v, const Tensor&, const Tensor&) { return neg(v); });
}

// z = a * c               dz/da = c
Tensor mul(const Tensor& a, const Scalar& c) {
  Dtype t = result_type(a, c);
  double cv = c.value;
  return record_elementwise("mul", scalar_kernel(a, c, t, [](auto x, auto y) { return wrap_mul(x, y); }), a,
                            kSaveNone,
                            [cv](const Tensor& v, const Tensor&, const Tensor&) { return mul(v, cv); });
}

// z = a / c               dz/da = 1/c
Tensor div(const Tensor& a, const Scalar& c) {
  Dtype t = is_floating(a.dtype()) ? a.dtype() : get_default_dtype();
  double cv = c.value;
  return record_elementwise("div", scalar_kernel(a, cv, t, [](auto x, auto y) { return x / y; }), a,
                            kSaveNone,
                            [cv](const Tensor& v, const Tensor&, const Tensor&) { return div(v, cv); });
}

// z = c / a               dz/da = -c / a^2 = -z / a
Tensor rdiv(const Tensor& a, const Scalar& c) { return mul(reciprocal(a), c); }

// y = 1 / x               dy/dx = -y^2
Tensor reciprocal(const Tensor& x) {
  return record_elementwise("reciprocal", unary_float(x, [](const auto& v) { return v.inverse(); }), x,
                            kSaveOutput,
                            [](const Tensor& v, const Tensor&, const Tensor& y) { return neg(v * y * y); });
}

// y = -x                  dy/dx = -1
Tensor neg(const Tensor& x) {
  CR_CHECK(x.dtype() != kBool, std::invalid_argument,
           "neg: negation of a bool tensor is not "
           "supported; use logical_not");
  return record_elementwise("neg", scalar_kernel(x, 0, x.dtype(), [](auto v, auto) { return wrap_neg(v); }),
                            x, kSaveNone,
                            [](const Tensor& v, const Tensor&, const Tensor&) { return neg(v); });
}

// v^q for an integer v and q >= 0 by squaring: O(log q), wraps like PyTorch.
template <class T> T int_pow(T v, T q) {
  if constexpr (std::is_same_v<T, bool>) {
    return 1;
  } else {
    uint64_t e = static_cast<uint64_t>(q), b = static_cast<uint64_t>(v), acc = 1;
    for (; e; e >>= 1, b *= b)
      if (e & 1) acc *= b;
    return static_cast<T>(acc);
  }
}

// x^pv in dtype t. The exponents students write most are computed as PyTorch computes them (and
// as fast: no std::pow per element); so x**0.5 is sqrt(x) (sqrt(-0) = -0) and x**-1 is 1/x, exactly
// as in torch; integers by squaring.
static Tensor pow_kernel(const Tensor& x, double pv, Dtype t) {
  if (pv == 2.0) return scalar_kernel(x, pv, t, [](auto v, auto) { return wrap_mul(v, v); });
  if (pv == 1.0) return scalar_kernel(x, pv, t, [](auto v, auto) { return v; });
  if (pv == 3.0) return scalar_kernel(x, pv, t, [](auto v, auto) { return wrap_mul(wrap_mul(v, v), v); });
  if (is_floating(t) && (pv == 0.5 || pv == -0.5)) {
    NoGradGuard forward_only;  // sqrt's kernel computes the root; pow records its own node
    Tensor y = sqrt(x.to(t));
    return pv == 0.5 ? y : scalar_kernel(y, pv, t, [](auto v, auto) { return 1 / v; });
  }
  if (is_floating(t) && pv == -1.0) return scalar_kernel(x, pv, t, [](auto v, auto) { return 1 / v; });
  if (is_floating(t) && pv == -2.0) return scalar_kernel(x, pv, t, [](auto v, auto) { return 1 / (v * v); });
  if (is_floating(t)) return scalar_kernel(x, pv, t, [](auto v, auto q) { return std::pow(v, q); });
  CR_CHECK(pv >= 0, std::invalid_argument,
           "pow: integer tensors can't be raised to negative "
           "integer powers, got exponent ",
           pv);
  return scalar_kernel(x, pv, t, [](auto v, auto q) { return int_pow(v, q); });
}

// v (p x^(p-1)) for a floating x in one pass (two for a square root), x^(p-1) taken as pow_kernel
// takes it and the products in the rule's order: the rule's bits without its three temporaries.
static Tensor pow_grad_kernel(const Tensor& v, const Tensor& x, double pv) {
  const double q = pv - 1;
  auto scaled = [&](auto xq) {
    return binary_kernel(v, x, x.dtype(), x.dtype(), "pow",
                         [pv, xq](auto g, auto a) { return g * (xq(a) * convert_value<decltype(a)>(pv)); });
  };
  if (q == 1) return scaled([](auto a) { return a; });
  if (q == 2) return scaled([](auto a) { return a * a; });
  if (q == 3) return scaled([](auto a) { return a * a * a; });
  if (q == 0.5 || q == -0.5) {  // the root from sqrt's vectorized kernel, as pow_kernel takes it
    Tensor r = pow_kernel(x, 0.5, x.dtype());
    return binary_kernel(v, r, x.dtype(), x.dtype(), "pow", [pv, q](auto g, auto a) {
      return g * ((q > 0 ? a : 1 / a) * convert_value<decltype(a)>(pv));
    });
  }
  if (q == -1) return scaled([](auto a) { return 1 / a; });
  if (q == -2) return scaled([](auto a) { return 1 / (a * a); });
  return scaled([q](auto a) { return std::pow(a, convert_value<decltype(a)>(q)); });
}

// y = x^p                 dy/dx = p x^(p-1)   (0 when p = 0, as PyTorch)
Tensor pow(const Tensor& x, const Scalar& p) {
  Dtype t = arith_type(result_type(x, p));
  double pv = p.value;
  Tensor y = pow_kernel(x, pv, t);
  return record_elementwise("pow", y, x, kSaveInputs, [pv](const Tensor& v, const Tensor& x, const Tensor&) {
    if (pv == 0.0) return zeros_like(v);
    // no graph to build and no tangent to carry: the fused kernel
    if (!is_grad_enabled() && forward_ad::current_level() == 0 && is_floating(x.dtype()) &&
        v.dtype() == x.dtype())
      return pow_grad_kernel(v, x.detach(), pv);
    return v * (pv == 2.0 ? mul(x, 2.0) : mul(pow(x, pv - 1.0), pv));
  });
}

// y = a^b                 dy/da = b a^(b-1),  dy/db = y log(a)   (0 where a = 0 and b >= 0)
Tensor pow(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  if (!is_floating(t)) t = get_default_dtype();
  Tensor y = binary_kernel(a, b, t, t, "pow", [](auto x, auto q) { return std::pow(x, q); });
  // v·dy/da and v·dy/db
  auto da = [](const Tensor& v, const Tensor& a, const Tensor& b) {
    return where(eq(b, 0), 0, v * b * pow(a, b - 1.0));  // 0^0: 0, as PyTorch
  };
  auto db = [](const Tensor& v, const Tensor& a, const Tensor& b, const Tensor& y) {  // log a in y's dtype
    Tensor af = a.dtype() == y.dtype() ? a : a.to(y.dtype());
    return v * y * where(logical_and(eq(a, 0), ge(b, 0)), 0, log(af));
  };
  return record(
      "pow", y, {a, b}, kSaveInputs | kSaveOutput,
      [da, db](const Tensor& g, const Saved& s) -> Grads {
        Tensor a = s.input(0), b = s.input(1);
        return {s.needs_grad(0) ? da(g, a, b) : Tensor(),
                s.needs_grad(1) ? db(g, a, b, s.output()) : Tensor()};
      },
      [da, db](const Duals& d) {
        const Tensor &a = d.input(0), &b = d.input(1);
        return tangent_sum({d.has(0) ? da(d.tangent(0), a, b) : Tensor(),
                            d.has(1) ? db(d.tangent(1), a, b, d.output()) : Tensor()});
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
  return record(
      "exp",
      unary_float(
          x, [](const auto& v) { return v.exp(); }, outside(-87, 88, -708, 709, ref)),
      {x}, kSaveOutput, [](const Tensor& g, const Saved& s) -> Grads { return {g * s.output()}; },
      [](const Duals& d) { return d.tangent(0) * d.output(); });
}

// y = ln x                dy/dx = 1/x
Tensor log(const Tensor& x) {
  auto ref = [](auto v) { return std::log(v); };
  return record(
      "log",
      unary_float(
          x, [](const auto& v) { return v.log(); }, outside_normal(ref)),
      {x}, kSaveInputs, [](const Tensor& g, const Saved& s) -> Grads { return {g / s.input(0)}; },
      [](const Duals& d) { return d.tangent(0) / d.input(0); });
}

// y = sqrt(x)             dy/dx = 1 / (2y)
// std::sqrt, correctly rounded as IEEE asks (and NumPy and torch give): Eigen's packet sqrt under
// its default EIGEN_FAST_MATH is an rsqrt estimate plus a Newton step on AVX-512 (float and double)
// and AVX (float), 1 ulp off for a third of the inputs.
Tensor sqrt(const Tensor& x) {
  auto ref = [](auto v) { return std::sqrt(v); };
  return record(
      "sqrt", unary_float(x, each(ref)), {x}, kSaveOutput,
      [](const Tensor& g, const Saved& s) -> Grads { return {g / mul(s.output(), 2.0)}; },
      [](const Duals& d) { return d.tangent(0) / mul(d.output(), 2.0); });
}

// y = |x|                 dy/dx = sign(x)   (0 at 0, as PyTorch)
Tensor abs(const Tensor& x) {
  Tensor y = is_floating(x.dtype()) ? unary_float(x, [](const auto& v) { return v.abs(); })
                                    : scalar_kernel(x, 0, arith_type(x.dtype()),
                                                    [](auto v, auto z) { return v < z ? wrap_neg(v) : v; });
  return record_elementwise("abs", y, x, kSaveInputs, [](const Tensor& v, const Tensor& x, const Tensor&) {
    return depends_on(v * sign(x), x);
  });
}

Tensor sign(const Tensor& x) {
  Dtype t = arith_type(x.dtype());
  return scalar_kernel(x, 0, t, [](auto v, auto z) { return static_cast<decltype(v)>((v > z) - (v < z)); });
}

// y = sin x               dy/dx = cos x
Tensor sin(const Tensor& x) {
  return record_elementwise("sin", unary_float(x, [](const auto& v) { return v.sin(); }), x, kSaveInputs,
                            [](const Tensor& v, const Tensor& x, const Tensor&) { return v * cos(x); });
}

// y = cos x               dy/dx = -sin x
Tensor cos(const Tensor& x) {
  return record_elementwise("cos", unary_float(x, [](const auto& v) { return v.cos(); }), x, kSaveInputs,
                            [](const Tensor& v, const Tensor& x, const Tensor&) { return neg(v * sin(x)); });
}

// y = tanh x              dy/dx = 1 - y^2
Tensor tanh(const Tensor& x) {
  return record_elementwise(
      "tanh", unary_float(x, [](const auto& v) { return v.tanh(); }), x, kSaveOutput,
      [](const Tensor& v, const Tensor&, const Tensor& y) { return v * rsub(y * y, 1); });
}

// y = 1 / (1 + e^-x)      dy/dx = y (1 - y)
Tensor sigmoid(const Tensor& x) {
  auto ref = [](auto v) { return 1 / (1 + std::exp(-v)); };  // torch's formula where exp saturates
  Tensor y = unary_float(x, [](const auto& v) { return v.logistic(); }, outside(-80, 80, -700, 700, ref));
  return record_elementwise(
      "sigmoid", y, x, kSaveOutput,
      [](const Tensor& v, const Tensor&, const Tensor& y) { return v * y * rsub(y, 1); });
}

// relu's backward, fused (one pass instead of a comparison and a select): 0 where y <= 0, else g
// (so a NaN input passes its gradient, as in PyTorch).
// Linear in g, so its own backward is itself; it depends on y only through the mask (derivative 0).
static Tensor threshold_backward(const Tensor& g, const Tensor& y) {
  if (g.shape() != y.shape() || g.dtype() != y.dtype() || !is_floating(g.dtype()))
    return where(le(y, 0), 0, g);
  Tensor out = empty(g.shape(), g.dtype());
  dispatch_floating(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    elementwise([](T gv, T yv) { return blend(!(yv <= T(0)), gv, T(0)); },  // NaN passes, as torch
                strided<T>(out), strided<const T>(g), strided<const T>(y));
  });
  return record(
      "threshold_backward", out, {g, y}, kSaveInputs,
      [](const Tensor& gg, const Saved& s) -> Grads {
        return {threshold_backward(gg, s.input(1)), zeros_like(s.input(1))};
      },
      [](const Duals& d) { return d.has(0) ? threshold_backward(d.tangent(0), d.input(1)) : Tensor(); });
}

// y = max(x, 0)           dy/dx = [x > 0]
Tensor relu(const Tensor& x) {
  Tensor y =
      is_floating(x.dtype())
          ? unary_float(x, [](const auto& v) { return v.max(typename std::decay_t<decltype(v)>::Scalar(0)); })
          : scalar_kernel(x, 0, arith_type(x.dtype()), [](auto v, auto z) { return v > z ? v : z; });
  return record_elementwise("relu", y, x, kSaveOutput, [](const Tensor& v, const Tensor&, const Tensor& y) {
    return threshold_backward(v, y);
  });
}

// y = x if x > 0 else a x dy/dx = 1 or a
Tensor leaky_relu(const Tensor& x, double a) {
  Tensor y = unary_float(x, each([a](auto v) { return v > 0 ? v : v * static_cast<decltype(v)>(a); }));
  return record_elementwise("leaky_relu", y, x, kSaveInputs,
                            [a](const Tensor& v, const Tensor& x, const Tensor&) {
                              return depends_on(where(gt(x, 0), v, mul(v, a)), x);
                            });
}

// y = log(1 + e^(βx)) / β, or x where βx > threshold       dy/dx = sigmoid(βx) (or 1)
Tensor softplus(const Tensor& x, double beta, double threshold) {
  Tensor y =
      unary_float(x, each([beta, threshold](auto v) {
                    using T = decltype(v);
                    return v * beta > threshold ? v : static_cast<T>(std::log1p(std::exp(v * beta)) / beta);
                  }));
  return record_elementwise("softplus", y, x, kSaveInputs,
                            [beta, threshold](const Tensor& v, const Tensor& x, const Tensor&) {
                              Tensor bx = mul(x, beta);
                              return where(gt(bx, threshold), v, v * sigmoid(bx));
                            });
}

// y = min(max(x, lo), hi) dy/dx = [lo <= x <= hi]
Tensor clamp(const Tensor& x, double lo, double hi) {
  Dtype t = arith_type(x.dtype());
  Tensor y = scalar_kernel(x, 0, t, [lo, hi](auto v, auto) {
    using T = decltype(v);
    T r = lo > -INFINITY && v < convert_value<T>(lo) ? convert_value<T>(lo) : v;
    return hi < INFINITY && r > convert_value<T>(hi) ? convert_value<T>(hi) : r;
  });
  return record_elementwise("clamp", y, x, kSaveInputs,
                            [lo, hi](const Tensor& v, const Tensor& x, const Tensor&) {
                              return depends_on(where(logical_and(ge(x, lo), le(x, hi)), v, 0), x);
                            });
}
Tensor clamp_min(const Tensor& x, double lo) { return clamp(x, lo, INFINITY); }
Tensor clamp_max(const Tensor& x, double hi) { return clamp(x, -INFINITY, hi); }

// ---------------------------------------------------------------- binary
// The tangent of maximum/minimum: the winner's (a where a_wins), the mean of both at a tie.
static Tensor extremum_tangent(const Duals& d, const Tensor& a_wins) {
  const Tensor &a = d.input(0), &b = d.input(1), ta = d.tangent_or_zeros(0), tb = d.tangent_or_zeros(1);
  Tensor t = where(eq(a, b), mul(ta + tb, 0.5), where(a_wins, ta, tb));
  return depends_on(depends_on(t, a), b);
}

// z = max(a, b)           dz/da = [a > b] + ½[a = b]   (ties split the gradient, as PyTorch)
Tensor maximum(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  Tensor z = binary_kernel(a, b, t, t, "maximum",
                           [](auto x, auto y) { return (x != x || x > y) ? x : y; });  // NaN propagates
  return record(
      "maximum", z, {a, b}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor a = s.input(0), b = s.input(1);
        Tensor half = where(eq(a, b), mul(g, 0.5), g);
        return {depends_on(where(lt(a, b), 0, half), a), depends_on(where(lt(b, a), 0, half), b)};
      },
      [](const Duals& d) { return extremum_tangent(d, gt(d.input(0), d.input(1))); });
}

// z = min(a, b)           dz/da = [a < b] + ½[a = b]
Tensor minimum(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  Tensor z = binary_kernel(a, b, t, t, "minimum", [](auto x, auto y) { return (x != x || x < y) ? x : y; });
  return record(
      "minimum", z, {a, b}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor a = s.input(0), b = s.input(1);
        Tensor half = where(eq(a, b), mul(g, 0.5), g);
        return {depends_on(where(gt(a, b), 0, half), a), depends_on(where(gt(b, a), 0, half), b)};
      },
      [](const Duals& d) { return extremum_tangent(d, lt(d.input(0), d.input(1))); });
}

// Comparisons: bool results, no gradient.
#define CR_COMPARISON(name, expr)                                                                     \
  Tensor name(const Tensor& a, const Tensor& b) {                                                     \
    return binary_kernel(a, b, result_type(a, b), kBool, #name, [](auto x, auto y) { return expr; }); \
  }                                                                                                   \
  Tensor name(const Tensor& a, const Scalar& c) { return name(a, full({}, c, result_type(a, c))); }
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
template <class F> static auto on_integers(F f) {
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
  return t == kBool ? logical_not(a) : scalar_kernel(a, 0, t, on_integers([](auto v, auto) {
                                                       if constexpr (std::is_same_v<decltype(v), bool>)
                                                         return !v;  // never reached (bool -> logical_not)
                                                       else return ~v;
                                                     }));
}

// z = cond ? a : b        dz/da = [cond], dz/db = [!cond]
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b) {
  CR_CHECK(cond.dtype() == kBool, std::invalid_argument, "where: expected a bool condition, got ",
           dtype_name(cond.dtype()), "; compare first, e.g. where(x > 0, a, b)");
  Shape so = broadcast_shapes(broadcast_shapes(cond.shape(), a.shape(), "where"), b.shape(), "where");
  Dtype t = result_type(a, b);
  Tensor ac = cast(a, t), bc = cast(b, t), out = empty(so, t);
  dispatch(t, [&](auto tag) {  // blend: a random mask must not cost a mispredicted branch each
    using T = decltype(tag);
    elementwise([](bool c, T x, T y) { return blend(c, x, y); }, strided<T>(out), strided<const bool>(cond),
                strided<const T>(ac), strided<const T>(bc));
  });
  return record(
      "where", out, {cond, a, b}, kSaveFirstInput,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor c = s.input(0);
        return {Tensor(), s.needs_grad(1) ? where(c, g, 0) : Tensor(),
                s.needs_grad(2) ? where(c, 0, g) : Tensor()};
      },
      [](const Duals& d) { return where(d.input(0), d.tangent_or_zeros(1), d.tangent_or_zeros(2)); });
}

Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b) {
  return where(cond, a, scalar_of(b, result_type(a, b)));
}
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b) {
  return where(cond, scalar_of(a, result_type(b, a)), b);
}

// ================================================================ elementwise math (torch names)
// Trigonometric/hyperbolic/log/exp variants, rounding, fmod/remainder/floor division, predicates,
// isclose, clamp with tensor bounds, lerp, copysign, and in-place forms.
namespace {

// The dtype of an op over several tensors, with PyTorch's 0-d rule (see result_type above).
Dtype result_type(const std::vector<Tensor>& ts) {
  bool has_dim = false, has_zero = false;
  Dtype d = kBool, z = kBool;
  for (const Tensor& t : ts) {
    if (!t.defined()) continue;
    if (t.dim() == 0) z = has_zero ? promote_types(z, t.dtype()) : t.dtype(), has_zero = true;
    else d = has_dim ? promote_types(d, t.dtype()) : t.dtype(), has_dim = true;
  }
  if (!has_dim) return z;
  if (!has_zero) return d;
  return category(z) > category(d) ? z : d;
}

// Integer division and modulo by zero raise, as in PyTorch (the CPU would trap with SIGFPE).
void check_int_divisor(const Tensor& b, Dtype t, const char* op) {
  if (is_floating(t)) return;
  Tensor bc = convert(b, kInt64);
  const int64_t* p = ptr<int64_t>(bc);
  for (int64_t i = 0; i < bc.numel(); ++i)
    CR_CHECK(p[i] != 0, std::runtime_error, op, ": ZeroDivisionError (integer division or modulo by zero)");
}

// Division-like ops have no bool meaning: PyTorch refuses them, and so do we.
Dtype division_type(const Tensor& a, const Tensor& b, const char* op) {
  Dtype t = result_type(a, b);
  CR_CHECK(t != kBool, std::invalid_argument, op,
           ": not implemented for bool tensors; convert with .long() or .float()");
  return t;
}

// The integer quotient and remainder rounded toward zero; b == -1 is done by negation, as
// INT64_MIN / -1 overflows (it wraps, as in PyTorch, instead of trapping).
template <class T> T trunc_div(T a, T b) {
  if (b == -1) return static_cast<T>(0ull - static_cast<uint64_t>(a));
  return b == 0 ? T(0) : a / b;
}
template <class T> T trunc_mod(T a, T b) { return (b == 0 || b == -1) ? T(0) : a % b; }

// PyTorch's kernels, element by element (floats: c10's div_floor_floating and remainder).
struct FloorDiv {
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) {
      if (b == 0) return a / b;
      T mod = std::fmod(a, b), div = (a - mod) / b;
      if (mod != 0 && (b < 0) != (mod < 0)) div -= 1;
      if (div == 0) return std::copysign(T(0), a / b);
      T fl = std::floor(div);
      return div - fl > T(0.5) ? fl + 1 : fl;
    } else if constexpr (std::is_same_v<T, bool>) {
      return a;
    } else {
      T q = trunc_div(a, b), r = trunc_mod(a, b);
      return (r != 0 && (r < 0) != (b < 0)) ? q - 1 : q;
    }
  }
};
struct TruncDiv {
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) return std::trunc(a / b);
    else if constexpr (std::is_same_v<T, bool>) return a;
    else return trunc_div(a, b);
  }
};
struct Remainder {  // the sign of the divisor, as Python's %
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_same_v<T, bool>) {
      return a;
    } else {
      T mod;
      if constexpr (std::is_floating_point_v<T>) mod = std::fmod(a, b);
      else mod = trunc_mod(a, b);
      if (mod != 0 && (b < 0) != (mod < 0)) mod += b;
      return mod;
    }
  }
};
struct Fmod {  // the sign of the dividend, as C's fmod
  template <class T> T operator()(T a, T b) const {
    if constexpr (std::is_floating_point_v<T>) return std::fmod(a, b);
    else if constexpr (std::is_same_v<T, bool>) return a;
    else return trunc_mod(a, b);
  }
};

template <class F> Tensor division_kernel(const Tensor& a, const Tensor& b, const char* op, F f) {
  Dtype t = division_type(a, b, op);
  check_int_divisor(b, t, op);
  return binary_kernel(a, b, t, t, op, f);
}

// A unary float function with a derivative rule (int64/bool inputs computed in float32).
template <class F, class S> Tensor unary_math(const char* op, const Tensor& x, F f, unsigned save, S scale) {
  return record_elementwise(op, unary_float(x, each(f)), x, save, scale);
}

// Rounding keeps int64 as it is (a copy) and refuses bool, as PyTorch; its derivative is 0.
template <class F> Tensor rounding(const char* op, const Tensor& x, F f) {
  CR_CHECK(x.dtype() != kBool, std::invalid_argument, op, ": not implemented for bool tensors");
  if (x.dtype() == kInt64) return convert(x, kInt64);
  return record_elementwise(op, unary_float(x, each(f)), x, kSaveNone,
                            [](const Tensor& v, const Tensor&, const Tensor&) { return zeros_like(v); });
}

// A bool tensor of x's shape: pred(v) on floats; `for_ints` everywhere for int64/bool.
template <class P> Tensor predicate(const Tensor& x, bool for_ints, P pred) {
  if (!is_floating(x.dtype())) return full(x.shape(), Scalar(for_ints), kBool);
  Tensor xc = contig(x), out = empty(x.shape(), kBool);
  dispatch_floating(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    map(ptr<T>(xc), ptr<bool>(out), xc.numel(), [&](T v) { return static_cast<bool>(pred(v)); });
  });
  return out;
}

const double kLn2 = 0.6931471805599453, kLn10 = 2.302585092994046;

}  // namespace

// ---------------------------------------------------------------- trigonometric, hyperbolic
// y = tan x               dy/dx = 1 + y^2
Tensor tan(const Tensor& x) {
  return unary_math(
      "tan", x, [](auto v) { return std::tan(v); }, kSaveOutput,
      [](const Tensor& v, const Tensor&, const Tensor& y) { return v * (y * y + 1); });
}

// y = asin x              dy/dx = 1 / sqrt(1 - x^2)
Tensor asin(const Tensor& x) {
  return unary_math(
      "asin", x, [](auto v) { return std::asin(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v * rsqrt(rsub(x * x, 1)); });
}

// y = acos x              dy/dx = -1 / sqrt(1 - x^2)
Tensor acos(const Tensor& x) {
  return unary_math(
      "acos", x, [](auto v) { return std::acos(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return neg(v * rsqrt(rsub(x * x, 1))); });
}

// y = atan x              dy/dx = 1 / (1 + x^2)
Tensor atan(const Tensor& x) {
  return unary_math(
      "atan", x, [](auto v) { return std::atan(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v / (x * x + 1); });
}

// z = atan2(a, b), the angle of the point (b, a)     dz/da = b / (a^2 + b^2), dz/db = -a / (a^2 + b^2)
Tensor atan2(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  if (!is_floating(t)) t = get_default_dtype();
  Tensor z = binary_kernel(a, b, t, t, "atan2", [](auto y, auto x) {
    if constexpr (std::is_floating_point_v<decltype(y)>) return std::atan2(y, x);
    else return y;
  });
  return record(
      "atan2", z, {a, b}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor a = s.input(0), b = s.input(1);
        Tensor d = a * a + b * b;
        Tensor r = where(eq(d, 0), 0, reciprocal(d));  // 0 at the origin, as torch (not 0 * inf = nan)
        return {s.needs_grad(0) ? g * b * r : Tensor(), s.needs_grad(1) ? g * neg(a) * r : Tensor()};
      },
      [](const Duals& d) {
        const Tensor &a = d.input(0), &b = d.input(1);
        Tensor n = a * a + b * b, r = where(eq(n, 0), 0, reciprocal(n));
        return elementwise_tangent(d, {b * r, neg(a) * r});
      });
}

// y = sinh x              dy/dx = cosh x
Tensor sinh(const Tensor& x) {
  return unary_math(
      "sinh", x, [](auto v) { return std::sinh(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v * cosh(x); });
}

// y = cosh x              dy/dx = sinh x
Tensor cosh(const Tensor& x) {
  return unary_math(
      "cosh", x, [](auto v) { return std::cosh(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v * sinh(x); });
}

// y = asinh x             dy/dx = 1 / sqrt(x^2 + 1)
Tensor asinh(const Tensor& x) {
  return unary_math(
      "asinh", x, [](auto v) { return std::asinh(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v * rsqrt(x * x + 1); });
}

// y = acosh x             dy/dx = 1 / sqrt(x^2 - 1)
Tensor acosh(const Tensor& x) {
  return unary_math(
      "acosh", x, [](auto v) { return std::acosh(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v * rsqrt(x * x - 1); });
}

// y = atanh x             dy/dx = 1 / (1 - x^2)
Tensor atanh(const Tensor& x) {
  return unary_math(
      "atanh", x, [](auto v) { return std::atanh(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v / rsub(x * x, 1); });
}

// ---------------------------------------------------------------- logarithms, exponentials, powers
// y = ln(1 + x)           dy/dx = 1 / (1 + x)
Tensor log1p(const Tensor& x) {
  return record_elementwise("log1p", unary_float(x, [](const auto& v) { return v.log1p(); }), x, kSaveInputs,
                            [](const Tensor& v, const Tensor& x, const Tensor&) { return v / (x + 1); });
}

// y = e^x - 1             dy/dx = y + 1
Tensor expm1(const Tensor& x) {
  auto ref = [](auto v) { return std::expm1(v); };  // where Eigen's overflows early (as exp's)
  return record_elementwise("expm1",
                            unary_float(
                                x, [](const auto& v) { return v.expm1(); }, outside(-87, 88, -708, 709, ref)),
                            x, kSaveOutput,
                            [](const Tensor& v, const Tensor&, const Tensor& y) { return v * (y + 1); });
}

// y = log2 x              dy/dx = 1 / (x ln 2)
Tensor log2(const Tensor& x) {
  return unary_math(
      "log2", x, [](auto v) { return std::log2(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v / mul(x, kLn2); });
}

// y = log10 x             dy/dx = 1 / (x ln 10)
Tensor log10(const Tensor& x) {
  return unary_math(
      "log10", x, [](auto v) { return std::log10(v); }, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v / mul(x, kLn10); });
}

// y = 2^x                 dy/dx = y ln 2
Tensor exp2(const Tensor& x) {
  return unary_math(
      "exp2", x, [](auto v) { return std::exp2(v); }, kSaveOutput,
      [](const Tensor& v, const Tensor&, const Tensor& y) { return mul(v * y, kLn2); });
}

// y = x^2 (int64 stays int64, bool becomes int64, as torch.square)     dy/dx = 2x
Tensor square(const Tensor& x) { return pow(x, Scalar(2)); }

// y = 1 / sqrt(x)         dy/dx = -y^3 / 2
Tensor rsqrt(const Tensor& x) {
  auto ref = [](auto v) { return 1 / std::sqrt(v); };  // rsqrt(±0) = ±inf, rsqrt(inf) = 0
  Tensor y = unary_float(x, each(ref));                // std::sqrt, as sqrt above
  return record_elementwise("rsqrt", y, x, kSaveOutput, [](const Tensor& v, const Tensor&, const Tensor& y) {
    return mul(v * pow(y, 3), -0.5);
  });
}

// ---------------------------------------------------------------- rounding (derivative 0)
Tensor floor(const Tensor& x) {
  return rounding("floor", x, [](auto v) { return std::floor(v); });
}
Tensor ceil(const Tensor& x) {
  return rounding("ceil", x, [](auto v) { return std::ceil(v); });
}
Tensor trunc(const Tensor& x) {
  return rounding("trunc", x, [](auto v) { return std::trunc(v); });
}
// Half to even (2.5 -> 2), as torch.round; with decimals, nearbyint(x * 10^d) / 10^d (d < 0:
// nearbyint(x / 10^-d) * 10^-d), computed in x's dtype as PyTorch does.
Tensor round(const Tensor& x, int64_t decimals) {
  if (decimals == 0) return rounding("round", x, [](auto v) { return std::nearbyint(v); });
  CR_CHECK(is_floating(x.dtype()), std::invalid_argument, "round: decimals != 0 is not implemented for ",
           dtype_name(x.dtype()), " tensors");
  const bool neg_d = decimals < 0;
  const double p = std::pow(10.0, static_cast<double>(neg_d ? -decimals : decimals));
  return rounding("round", x, [p, neg_d](auto v) {
    using T = decltype(v);
    return neg_d ? std::nearbyint(v / T(p)) * T(p) : std::nearbyint(v * T(p)) / T(p);
  });
}

// y = x - trunc(x)        dy/dx = 1
Tensor frac(const Tensor& x) {
  CR_CHECK(is_floating(x.dtype()), std::invalid_argument, "frac: not implemented for ", dtype_name(x.dtype()),
           " tensors");
  return record_elementwise("frac", unary_float(x, each([](auto v) { return v - std::trunc(v); })), x,
                            kSaveNone, [](const Tensor& v, const Tensor&, const Tensor&) { return v; });
}

// ---------------------------------------------------------------- fmod, remainder, floor division
// z = a - q(a/b) b, q rounding toward zero ("trunc") or down ("floor")    dz/da = 1, dz/db = -q(a/b)
static Tensor record_remainder(const char* op, Tensor z, const Tensor& a, const Tensor& b, const char* q) {
  return record(
      op, std::move(z), {a, b}, kSaveInputs,
      [q](const Tensor& g, const Saved& s) -> Grads {
        return {s.needs_grad(0) ? g : Tensor(),
                s.needs_grad(1) ? neg(g * div(s.input(0), s.input(1), q)) : Tensor()};
      },
      [q](const Duals& d) {
        return tangent_sum(
            {d.tangent(0), d.has(1) ? neg(d.tangent(1) * div(d.input(0), d.input(1), q)) : Tensor()});
      });
}

// z = a - trunc(a/b) b (the sign of a, C's fmod)
Tensor fmod(const Tensor& a, const Tensor& b) {
  return record_remainder("fmod", division_kernel(a, b, "fmod", Fmod{}), a, b, "trunc");
}
Tensor fmod(const Tensor& a, const Scalar& b) { return fmod(a, scalar_of(b, result_type(a, b))); }

// z = a - floor(a/b) b (the sign of b, Python's %)
Tensor remainder(const Tensor& a, const Tensor& b) {
  return record_remainder("remainder", division_kernel(a, b, "remainder", Remainder{}), a, b, "floor");
}
Tensor remainder(const Tensor& a, const Scalar& b) { return remainder(a, scalar_of(b, result_type(a, b))); }
// PyTorch has no derivative for a number % tensor: backward raises, as in torch.
Tensor remainder(const Scalar& a, const Tensor& b) {
  Tensor z;
  {
    NoGradGuard forward_only;
    z = remainder(scalar_of(a, result_type(b, a)), b);
  }
  return record("remainder", z, {b}, kSaveNone, [](const Tensor&, const Saved&) -> Grads {
    throw std::runtime_error(
        "remainder: the derivative of remainder(number, tensor) is not implemented (as in "
        "PyTorch); write it with a tensor dividend: remainder(full_like(x, c), x)");
  });
}

// z = floor(a / b)  (Python's //). PyTorch has no derivative for floor_divide: backward raises,
// as in torch (div(a, b, "floor") has derivative 0).
Tensor floor_divide(const Tensor& a, const Tensor& b) {
  return record("floor_divide", division_kernel(a, b, "floor_divide", FloorDiv{}), {a, b}, kSaveNone,
                [](const Tensor&, const Saved&) -> Grads {
                  throw std::runtime_error(
                      "floor_divide: the derivative of floor_divide is not implemented (as in "
                      "PyTorch); use div(a, b, rounding_mode='floor'), whose derivative is 0");
                });
}
Tensor floor_divide(const Tensor& a, const Scalar& b) {
  return floor_divide(a, scalar_of(b, result_type(a, b)));
}
Tensor floor_divide(const Scalar& a, const Tensor& b) {
  return floor_divide(scalar_of(a, result_type(b, a)), b);
}

// z = a / b rounded: "trunc" toward zero, "floor" down ("" is true division); int64 stays int64.
// The rounded quotients have derivative 0.
Tensor div(const Tensor& a, const Tensor& b, const std::string& rounding_mode) {
  if (rounding_mode.empty()) return div(a, b);
  CR_CHECK(rounding_mode == "trunc" || rounding_mode == "floor", std::invalid_argument,
           "div: expected rounding_mode to be one of None, 'trunc', or 'floor', got '", rounding_mode, "'");
  const bool fl = rounding_mode == "floor";
  Tensor z = fl ? division_kernel(a, b, "div", FloorDiv{}) : division_kernel(a, b, "div", TruncDiv{});
  return record(
      "div", z, {a, b}, kSaveNone,
      [](const Tensor& g, const Saved& s) -> Grads {
        return {s.needs_grad(0) ? zeros_like(g) : Tensor(), s.needs_grad(1) ? zeros_like(g) : Tensor()};
      },
      [](const Duals&) { return Tensor(); });  // a zero tangent
}
Tensor div(const Tensor& a, const Scalar& b, const std::string& rounding_mode) {
  if (rounding_mode.empty()) return div(a, b);
  return div(a, scalar_of(b, result_type(a, b)), rounding_mode);
}

// ---------------------------------------------------------------- add/sub with alpha
namespace {
void check_alpha(Dtype t, const Scalar& alpha, const char* op) {
  CR_CHECK(is_floating(t) || alpha.integral, std::invalid_argument, op,
           ": for integral input tensors, argument alpha must not be a floating point number, got ",
           alpha.value);
  CR_CHECK(t == kBool || !alpha.boolean, std::invalid_argument, op,
           ": boolean alpha is only supported for boolean results");
}
}  // namespace

// z = a + alpha b         dz/da = 1, dz/db = alpha
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  check_alpha(result_type(a, b), alpha, "add");
  if (alpha.value == 1) return add(a, b);
  if (result_type(a, b) == kBool) return alpha.value != 0 ? add(a, b) : add(a, zeros_like(b));
  return add(a, mul(b, alpha));
}
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  check_alpha(result_type(a, b), alpha, "add");
  Scalar s = b;
  s.value = b.value * alpha.value;
  s.int_value = wrap_mul(b.int_value, alpha.int_value);
  s.integral = b.integral && alpha.integral;
  s.boolean = b.boolean && alpha.boolean;
  return add(a, s);
}
// z = a - alpha b         dz/da = 1, dz/db = -alpha
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha) {
  check_alpha(sub_type(result_type(a, b), "sub"), alpha, "sub");
  return alpha.value == 1 ? sub(a, b) : sub(a, mul(b, alpha));
}
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha) {
  check_alpha(sub_type(result_type(a, b), "sub"), alpha, "sub");
  Scalar s = b;
  s.value = b.value * alpha.value;
  s.int_value = wrap_mul(b.int_value, alpha.int_value);
  s.integral = b.integral && alpha.integral;
  return sub(a, s);
}

// ---------------------------------------------------------------- predicates (bool, no gradient)
Tensor isnan(const Tensor& x) {
  return predicate(x, false, [](auto v) { return v != v; });
}
Tensor isinf(const Tensor& x) {
  return predicate(x, false, [](auto v) { return std::isinf(v); });
}
Tensor isfinite(const Tensor& x) {
  return predicate(x, true, [](auto v) { return std::isfinite(v); });
}
Tensor isposinf(const Tensor& x) {
  return predicate(x, false, [](auto v) { return std::isinf(v) && v > 0; });
}
Tensor isneginf(const Tensor& x) {
  return predicate(x, false, [](auto v) { return std::isinf(v) && v < 0; });
}

// |a - b| <= atol + rtol |b| (finite), or a == b (so inf == inf), or both NaN with equal_nan;
// PyTorch's formula and order of operations.
Tensor isclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  CR_CHECK(a.dtype() == b.dtype(), std::invalid_argument, "isclose: expected tensors of the same dtype, got ",
           dtype_name(a.dtype()), " and ", dtype_name(b.dtype()));
  CR_CHECK(rtol >= 0, std::invalid_argument, "isclose: expected rtol >= 0, got ", rtol);
  CR_CHECK(atol >= 0, std::invalid_argument, "isclose: expected atol >= 0, got ", atol);
  NoGradGuard no_grad;
  Tensor close = eq(a, b);
  if (equal_nan && is_floating(a.dtype())) close = logical_or(close, logical_and(isnan(a), isnan(b)));
  if (rtol == 0 && atol == 0) return close;
  Tensor ac = a.dtype() == kBool ? a.to(kFloat32) : a, bc = b.dtype() == kBool ? b.to(kFloat32) : b;
  Tensor allowed = add(abs(mul(bc, rtol)), atol), actual = abs(ac - bc);
  return logical_or(close, logical_and(isfinite(actual), le(actual, allowed)));
}

bool allclose(const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
  Tensor c = contig(isclose(a, b, rtol, atol, equal_nan));
  const bool* p = ptr<bool>(c);
  return std::all_of(p, p + c.numel(), [](bool v) { return v; });
}

// ---------------------------------------------------------------- clamp with tensor bounds, lerp, copysign
// y = min(max(x, lo), hi) (max wins when lo > hi; NaN anywhere gives NaN), bounds broadcast.
// dy/dx = [lo <= x <= hi], dy/dlo = [x < lo and lo < hi], dy/dhi = [x > hi or hi < lo]  (as PyTorch)
// clamp's gradients: g flows to x where lo <= x <= hi, to lo where x < lo (and lo < hi: when the
// bounds cross, hi wins), to hi where x > hi or hi < lo.
Grads clamp_grads(const Tensor& g, const Saved& s, bool has_lo, bool has_hi) {
  Tensor x = s.input(0), lo = has_lo ? s.input(1) : Tensor(), hi = has_hi ? s.input(2) : Tensor(), gx, glo,
         ghi;
  if (s.needs_grad(0)) {
    Tensor inside = has_lo && has_hi ? logical_and(ge(x, lo), le(x, hi)) : has_lo ? ge(x, lo) : le(x, hi);
    gx = depends_on(where(inside, g, 0), x);
  }
  if (s.needs_grad(1)) glo = where(has_hi ? logical_and(lt(x, lo), lt(lo, hi)) : lt(x, lo), g, 0);
  if (s.needs_grad(2)) ghi = where(has_lo ? logical_or(gt(x, hi), lt(hi, lo)) : gt(x, hi), g, 0);
  return {gx, glo, ghi};
}

// y = min(max(x, lo), hi)   dy/dx = 1 inside [lo, hi], else 0; dy/dlo, dy/dhi where they bind
Tensor clamp(const Tensor& x, const Tensor& lo, const Tensor& hi) {
  CR_CHECK(lo.defined() || hi.defined(), std::invalid_argument,
           "clamp: expected at least one of min and max");
  Dtype t = arith_type(result_type({x, lo, hi}));
  Tensor y = x.dtype() == t ? x : convert(x, t);
  if (lo.defined())
    y = binary_kernel(y, lo, t, t, "clamp", [](auto v, auto m) { return (m != m || v < m) ? m : v; });
  if (hi.defined())
    y = binary_kernel(y, hi, t, t, "clamp", [](auto v, auto m) { return (m != m || v > m) ? m : v; });
  const bool has_lo = lo.defined(), has_hi = hi.defined();
  return record(
      "clamp", y, {x, lo, hi}, kSaveInputs,
      [has_lo, has_hi](const Tensor& g, const Saved& s) { return clamp_grads(g, s, has_lo, has_hi); },
      [has_lo, has_hi](const Duals& d) {  // the tangent of whichever of x, lo, hi binds (as clamp_grads)
        const Tensor &x = d.input(0), &lo = d.input(1), &hi = d.input(2);
        Tensor inside = has_lo && has_hi ? logical_and(ge(x, lo), le(x, hi)) : has_lo ? ge(x, lo) : le(x, hi);
        Tensor t = where(inside, d.tangent_or_zeros(0), 0);
        if (has_lo)
          t = where(has_hi ? logical_and(lt(x, lo), lt(lo, hi)) : lt(x, lo), d.tangent_or_zeros(1), t);
        if (has_hi)
          t = where(has_lo ? logical_or(gt(x, hi), lt(hi, lo)) : gt(x, hi), d.tangent_or_zeros(2), t);
        return depends_on(t, x);
      });
}
Tensor clip(const Tensor& x, double min, double max) { return clamp(x, min, max); }
Tensor clip(const Tensor& x, const Tensor& min, const Tensor& max) { return clamp(x, min, max); }

// y = a + w (b - a), computed as PyTorch (from the nearer end: b - (b - a)(1 - w) when |w| >= 1/2)
// dy/da = 1 - w, dy/db = w, dy/dw = b - a
Tensor lerp(const Tensor& a, const Tensor& b, const Tensor& weight) {
  // a 0-d weight acts as a number (any dtype), as in PyTorch
  Tensor w = weight.dim() == 0 && weight.dtype() != a.dtype() && is_floating(a.dtype()) ? weight.to(a.dtype())
                                                                                        : weight;
  for (const Tensor* t : std::initializer_list<const Tensor*>{&b, &w})
    CR_CHECK(t->dtype() == a.dtype(), std::invalid_argument, "lerp: expected ", t == &b ? "end" : "weight",
             " of dtype ", dtype_name(a.dtype()), " (the dtype of start), got ", dtype_name(t->dtype()));
  CR_CHECK(is_floating(a.dtype()), std::invalid_argument, "lerp: expected floating tensors, got ",
           dtype_name(a.dtype()));
  Shape so = broadcast_shapes(broadcast_shapes(a.shape(), b.shape(), "lerp"), w.shape(), "lerp");
  Tensor y = empty(so, a.dtype());
  dispatch_floating(a.dtype(), [&](auto tag) {
    using T = decltype(tag);
    elementwise(
        [](T x, T z, T v) { return std::abs(v) < T(0.5) ? x + v * (z - x) : z - (z - x) * (T(1) - v); },
        strided<T>(y), strided<const T>(a), strided<const T>(b), strided<const T>(w));
  });
  return record(
      "lerp", y, {a, b, w}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor a = s.input(0), b = s.input(1), w = s.input(2);
        return {s.needs_grad(0) ? g * rsub(w, 1) : Tensor(), s.needs_grad(1) ? g * w : Tensor(),
                s.needs_grad(2) ? g * (b - a) : Tensor()};
      },
      [](const Duals& d) {
        const Tensor &a = d.input(0), &b = d.input(1), &w = d.input(2);
        return elementwise_tangent(d, {rsub(w, 1), w, b - a});
      });
}
Tensor lerp(const Tensor& a, const Tensor& b, const Scalar& w) { return lerp(a, b, scalar_of(w, a.dtype())); }

// y = |a| with the sign of b (int64/bool -> float32)     dy/da = y / a (0 at a = ±0), dy/db = 0
Tensor copysign(const Tensor& a, const Tensor& b) {
  Dtype t = result_type(a, b);
  if (!is_floating(t)) t = get_default_dtype();
  Tensor y = binary_kernel(a, b, t, t, "copysign", [](auto x, auto s) {
    if constexpr (std::is_floating_point_v<decltype(x)>) return std::copysign(x, s);
    else return x;
  });
  return record(
      "copysign", y, {a, b}, kSaveInputs | kSaveOutput,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor a = s.input(0);
        return {s.needs_grad(0) ? g * where(eq(a, 0), 0, s.output() / a) : Tensor(),
                s.needs_grad(1) ? zeros(s.input_shape(1), s.input_dtype(1)) : Tensor()};
      },
      [](const Duals& d) {
        const Tensor& a = d.input(0);
        return d.has(0) ? d.tangent(0) * where(eq(a, 0), 0, d.output() / a) : Tensor();
      });
}
Tensor copysign(const Tensor& a, const Scalar& b) {
  Dtype t = is_floating(a.dtype()) ? a.dtype() : get_default_dtype();
  return copysign(a, scalar_of(b, t));
}

// ---------------------------------------------------------------- in-place forms
// self = f(self), under the in-place rules (check_inplace); the result must keep self's dtype.
static Tensor& assign_inplace(Tensor& self, const char* op, const std::function<Tensor(const Tensor&)>& f) {
  check_inplace(self, op);
  for (int64_t d = 0; d < self.dim() && self.numel() > 1; ++d)
    CR_CHECK(self.strides()[d] != 0 || self.shape()[d] <= 1, std::runtime_error, op,
             ": unsupported operation: more than one element of the written-to tensor refers to a single "
             "memory location (shape ",
             self.shape(), ", strides ", self.strides(), "); clone() it before writing");
  NoGradGuard no_grad;
  Tensor y = f(self);
  CR_CHECK(y.dtype() == self.dtype(), std::invalid_argument, op, ": result type ", dtype_name(y.dtype()),
           " can't be cast to the tensor's dtype ", dtype_name(self.dtype()));
  self.copy_(y);
  return self;
}

#define CR_INPLACE(name, expr)                                                     \
  Tensor& Tensor::name##_() {                                                      \
    return assign_inplace(*this, #name "_", [](const Tensor& x) { return expr; }); \
  }
CR_INPLACE(abs, chainrule::abs(x))
CR_INPLACE(neg, chainrule::neg(x))
CR_INPLACE(exp, chainrule::exp(x))
CR_INPLACE(log, chainrule::log(x))
CR_INPLACE(sqrt, chainrule::sqrt(x))
CR_INPLACE(sin, chainrule::sin(x))
CR_INPLACE(cos, chainrule::cos(x))
CR_INPLACE(tanh, chainrule::tanh(x))
CR_INPLACE(sigmoid, chainrule::sigmoid(x))
CR_INPLACE(relu, chainrule::relu(x))
CR_INPLACE(floor, chainrule::floor(x))
CR_INPLACE(ceil, chainrule::ceil(x))
CR_INPLACE(trunc, chainrule::trunc(x))
CR_INPLACE(square, chainrule::square(x))
#undef CR_INPLACE
Tensor& Tensor::round_(int64_t decimals) {
  return assign_inplace(*this, "round_",
                        [decimals](const Tensor& x) { return chainrule::round(x, decimals); });
}
Tensor& Tensor::clamp_min_(const Scalar& min) { return clamp_(min, Scalar(INFINITY)); }
Tensor& Tensor::clamp_max_(const Scalar& max) { return clamp_(Scalar(-INFINITY), max); }

}  // namespace chainrule
