// Ops for layers: erf/gelu, unfold/fold (im2col/col2im, each the other's backward), conv2d as
// unfold + one matmul, and max/avg pooling. Kernels loop over (n, c) planes in parallel.
#include "core/ops_nn.h"

#include <algorithm>
#include <cmath>
#include <limits>
#include <string>
#include <utility>
#include <vector>

#include "core/kernels.h"
#include "core/sizes.h"

namespace chainrule {
using namespace kernels;

namespace {

Shape tup(Size2 a) { return {a[0], a[1]}; }  // prints like a Python tuple

// The sliding-window arithmetic shared by every op here: input plane H x W, kernel kh x kw with
// stride, padding and dilation, and the resulting Ho x Wo blocks.
struct Geom {
  int64_t H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo;
};

// Output length along one dim, as torch's pooling_output_shape: floor((n + 2p - ek) / s) + 1, or with
// ceil_mode the ceiling, less one if that last window would start past the input and its left
// padding. (Floor division: with ceil_mode a kernel may overhang a small input, as in torch.)
// Every sum and product of user numbers is checked (padding 2**31 - 1 made Ho * Wo wrap to 0 once).
int64_t out_len(const char* op, int64_t n, int64_t ek, int64_t s, int64_t p, bool ceil_mode) {
  const int64_t padded = checked_add(n, checked_mul(2, p, op, "padding"), op, "padded size");
  const int64_t num = checked_add(padded - ek, ceil_mode ? s - 1 : 0, op, "padded size");
  int64_t o = (num >= 0 ? num / s : -((-num + s - 1) / s)) + 1;
  if (ceil_mode && (o - 1) * s >= n + p) --o;
  return o;
}

// Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1 (see out_len for ceil_mode); `what` names the spatial
// size in messages. A kernel larger than the padded input is a ShapeError (a RuntimeError in torch).
Geom geometry(const char* op, int64_t H, int64_t W, Size2 k, Size2 s, Size2 p, Size2 d,
              const std::string& what, bool ceil_mode = false) {
  CR_CHECK(k[0] > 0 && k[1] > 0, std::invalid_argument, op, ": expected a positive kernel_size, got ",
           tup(k));
  CR_CHECK(s[0] > 0 && s[1] > 0, std::invalid_argument, op, ": expected a positive stride, got ", tup(s));
  CR_CHECK(p[0] >= 0 && p[1] >= 0, std::invalid_argument, op, ": expected a non-negative padding, got ",
           tup(p));
  CR_CHECK(d[0] > 0 && d[1] > 0, std::invalid_argument, op, ": expected a positive dilation, got ", tup(d));
  const int64_t ekh = checked_mul(d[0], k[0] - 1, op, "dilated kernel size") + 1;  // dilated extent
  const int64_t ekw = checked_mul(d[1], k[1] - 1, op, "dilated kernel size") + 1;
  const int64_t Ho = out_len(op, H, ekh, s[0], p[0], ceil_mode),
                Wo = out_len(op, W, ekw, s[1], p[1], ceil_mode);
  CR_CHECK(Ho >= 1 && Wo >= 1, std::invalid_argument, op,
           ": expected a kernel no larger than the padded input ", Shape{H + 2 * p[0], W + 2 * p[1]},
           ", got kernel_size ", tup(k),
           (d[0] > 1 || d[1] > 1 ? " (dilated: " + shape_str({ekh, ekw}) + ")" : ""), " for ", what);
  checked_mul(checked_mul(Ho, Wo, op, "number of blocks"), checked_mul(k[0], k[1], op, "kernel area"), op,
              "number of blocks times kernel area");  // the kernels' work, Ho * Wo * kh * kw, fits too
  return {H, W, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1], Ho, Wo};
}

void check_floating(const Tensor& x, const char* op) {
  CR_CHECK(is_floating(x.dtype()), std::invalid_argument, op,
           ": expected a floating input (float32 or float64), got ", dtype_name(x.dtype()));
}

void check_image(const Tensor& x, const char* op) {
  CR_CHECK(x.dim() == 3 || x.dim() == 4, std::invalid_argument, op,
           ": expected input (N, C, H, W) or (C, H, W), got ", x.shape());
  check_floating(x, op);
}

// As torch, of (N, C, *spatial) only the batch N may be 0 (an input of spatial + 1 dims has no
// batch): a window must see a pixel, a reflection needs one, and an empty channel dim is a mistake.
void check_nonempty_but_batch(const Tensor& x, int64_t spatial, const char* op) {
  for (int64_t d = x.dim() == spatial + 2 ? 1 : 0; d < x.dim(); ++d)
    CR_CHECK(x.size(d) > 0, std::invalid_argument, op, ": expected non-empty ",
             x.dim() == spatial + 2 ? "dims after the batch dim (only N may be 0)" : "dims", ", got input ",
             x.shape());
}

// Where im2col puts the column rows of image n, channel c: row (c*kh + i)*kw + j of image n starts
// at n*batch_stride + ((c*kh + i)*kw + j)*row_stride. unfold's (N, C*kh*kw, L) layout is
// {C, C*kh*kw*L, L}; conv2d's (C*kh*kw, N*L) layout, one GEMM for the whole batch, is {C, L, N*L}.
struct ColsLayout {
  int64_t C, batch_stride, row_stride;
};
ColsLayout unfold_layout(int64_t C, const Geom& g) { return {C, C * g.kh * g.kw * g.Ho * g.Wo, g.Ho * g.Wo}; }

// The output positions [lo, hi) of a row of n_out whose input index o*s + off lies in [0, n): the
// kernels copy that span with no test per element (a test per element kept im2col from
// vectorising; it cost more than the GEMM after it in the course CNN's second conv).
std::pair<int64_t, int64_t> span_inside(int64_t n_out, int64_t n, int64_t s, int64_t off) {
  const int64_t lo = std::min(n_out, off >= 0 ? int64_t{0} : (-off + s - 1) / s);
  const int64_t hi = off >= n ? 0 : std::min(n_out, (n - 1 - off) / s + 1);
  return {lo, std::max(lo, hi)};
}

// cols from x (planes = N*C, H, W): row (i*kw + j) of plane p holds the pixel that kernel tap (i, j)
// sees at each output position, 0 in the padding.
template <class T> void im2col(const T* x, T* cols, int64_t planes, const Geom& g, const ColsLayout& lay) {
  const int64_t L = g.Ho * g.Wo, K = g.kh * g.kw;
  parallel_for(
      planes,
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          const T* src = x + p * g.H * g.W;
          T* plane = cols + (p / lay.C) * lay.batch_stride + (p % lay.C) * K * lay.row_stride;
          for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
              T* dst = plane + (i * g.kw + j) * lay.row_stride;
              const int64_t off = j * g.dw - g.pw;  // input column of output column 0
              const auto [lo, hi] = span_inside(g.Wo, g.W, g.sw, off);
              if (g.sh == 1 && g.sw == 1 && g.Wo == g.W) {
                // "same" rows: the tap's rows, padding columns aside, are one run of the plane
                const auto [r0, r1] = span_inside(g.Ho, g.H, 1, i * g.dh - g.ph);
                const int64_t shift = (i * g.dh - g.ph) * g.W + off;  // dst[q] = src[q + shift]
                std::fill(dst, dst + r0 * g.Wo, T(0));
                if (r0 < r1 && lo < hi) {
                  std::copy(src + r0 * g.W + lo + shift, src + (r1 - 1) * g.W + hi + shift,
                            dst + r0 * g.W + lo);
                  for (int64_t oh = r0; oh < r1; ++oh) {  // the run also took neighbours' pixels there
                    std::fill(dst + oh * g.W, dst + oh * g.W + lo, T(0));
                    std::fill(dst + oh * g.W + hi, dst + (oh + 1) * g.W, T(0));
                  }
                } else std::fill(dst + r0 * g.Wo, dst + r1 * g.Wo, T(0));
                std::fill(dst + r1 * g.Wo, dst + g.Ho * g.Wo, T(0));
                continue;
              }
              for (int64_t oh = 0; oh < g.Ho; ++oh) {
                const int64_t ih = oh * g.sh - g.ph + i * g.dh;
                T* row = dst + oh * g.Wo;
                if (ih < 0 || ih >= g.H) {
                  std::fill(row, row + g.Wo, T(0));
                  continue;
                }
                const T* in = src + ih * g.W;
                for (int64_t ow = 0; ow < lo; ++ow) row[ow] = T(0);
                if (g.sw == 1)
                  for (int64_t ow = lo; ow < hi; ++ow) row[ow] = in[ow + off];
                else
                  for (int64_t ow = lo; ow < hi; ++ow) row[ow] = in[ow * g.sw + off];
                for (int64_t ow = hi; ow < g.Wo; ++ow) row[ow] = T(0);
              }
            }
        }
      },
      planes * K * L);
}

// The adjoint of im2col: every column entry is added back to the pixel it was copied from.
// Planes are disjoint, so the threads never write to the same place.
template <class T> void col2im(const T* cols, T* x, int64_t planes, const Geom& g, const ColsLayout& lay) {
  const int64_t L = g.Ho * g.Wo, K = g.kh * g.kw;
  parallel_for(
      planes,
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          T* dst = x + p * g.H * g.W;
          const T* plane = cols + (p / lay.C) * lay.batch_stride + (p % lay.C) * K * lay.row_stride;
          std::fill(dst, dst + g.H * g.W, T(0));
          for (int64_t i = 0; i < g.kh; ++i)
            for (int64_t j = 0; j < g.kw; ++j) {
              const T* src = plane + (i * g.kw + j) * lay.row_stride;
              const int64_t off = j * g.dw - g.pw;
              const auto [lo, hi] = span_inside(g.Wo, g.W, g.sw, off);
              if (g.sh == 1 && g.sw == 1) {  // the rows in range, then a plain (vectorised) add per row
                const auto [r0, r1] = span_inside(g.Ho, g.H, 1, i * g.dh - g.ph);
                const int64_t W = g.W, Wo = g.Wo, shift = (i * g.dh - g.ph) * W + off;
                for (int64_t oh = r0; oh < r1; ++oh) {
                  T* __restrict out = dst + oh * W + shift + lo;  // x and cols never overlap
                  const T* __restrict row = src + oh * Wo + lo;
                  for (int64_t q = 0; q < hi - lo; ++q) out[q] += row[q];
                }
                continue;
              }
              for (int64_t oh = 0; oh < g.Ho; ++oh) {
                const int64_t ih = oh * g.sh - g.ph + i * g.dh;
                if (ih < 0 || ih >= g.H) continue;
                T* out = dst + ih * g.W;
                const T* row = src + oh * g.Wo;
                if (g.sw == 1)
                  for (int64_t ow = lo; ow < hi; ++ow) out[ow + off] += row[ow];
                else
                  for (int64_t ow = lo; ow < hi; ++ow) out[ow * g.sw + off] += row[ow];
              }
            }
        }
      },
      planes * K * L);
}

// The kernel taps [lo, hi) of output position o whose input index o*s - p + i*d lies in [0, n):
// computed, not searched, so a window of 2**31 taps over a 5-pixel input costs 5 steps.
std::pair<int64_t, int64_t> taps_in(int64_t o, int64_t n, int64_t k, int64_t s, int64_t p, int64_t d) {
  const int64_t start = o * s - p;  // the input index of tap 0
  const int64_t lo = start >= 0 ? 0 : (-start + d - 1) / d;
  const int64_t hi = start >= n ? 0 : std::min(k, (n - 1 - start) / d + 1);
  return {lo, std::max(lo, hi)};
}

// Each window's max and its index into the H*W plane, as PyTorch's CPU kernel picks it: start at
// the first real pixel with max = -inf, then take v when v > max or v is NaN. A row of windows is
// done together, tap by tap, so that the windows' compare-and-selects are independent (one window
// at a time is a chain of dependent selects, or of mispredicted branches: 3-5x slower).
template <class T> void max_pool_kernel(const T* x, T* y, int64_t* idx, int64_t planes, const Geom& g) {
  std::vector<std::pair<int64_t, int64_t>> rows(g.Ho), cols(g.Wo);  // taps inside, per row / column
  for (int64_t oh = 0; oh < g.Ho; ++oh) rows[oh] = taps_in(oh, g.H, g.kh, g.sh, g.ph, g.dh);
  int64_t j_lo = g.kw, j_hi = 0;  // the column taps inside for some window
  for (int64_t ow = 0; ow < g.Wo; ++ow) {
    cols[ow] = taps_in(ow, g.W, g.kw, g.sw, g.pw, g.dw);
    j_lo = std::min(j_lo, cols[ow].first);
    j_hi = std::max(j_hi, cols[ow].second);
  }
  const bool pool2x2 = g.kh == 2 && g.kw == 2 && g.sh == 2 && g.sw == 2 && g.ph == 0 && g.pw == 0 &&
                       g.dh == 1 && g.dw == 1 && 2 * g.Ho <= g.H &&
                       2 * g.Wo <= g.W;            // no window past the edge
  std::vector<std::pair<int64_t, int64_t>> spans;  // for tap j_lo + t: the windows it is inside
  for (int64_t j = j_lo; j < j_hi; ++j) spans.push_back(span_inside(g.Wo, g.W, g.sw, j * g.dw - g.pw));
  parallel_for(
      planes,
      [&](int64_t b, int64_t e) {
        for (int64_t p = b; p < e; ++p) {
          const T* src = x + p * g.H * g.W;
          if (pool2x2) {  // the common 2x2 / stride 2 pool, each window's 4 taps in registers
            const int64_t W = g.W, Wo = g.Wo;
            for (int64_t oh = 0; oh < g.Ho; ++oh) {
              T* __restrict best_out = y + (p * g.Ho + oh) * Wo;
              int64_t* __restrict arg_out = idx + (p * g.Ho + oh) * Wo;
              for (int64_t ow = 0; ow < Wo; ++ow) {
                const int64_t at = 2 * oh * W + 2 * ow;  // tap (0, 0): -inf or not, it starts the max
                T best = src[at];
                int64_t arg = at;
                for (const int64_t t : {at + 1, at + W, at + W + 1}) {  // taps (0, 1), (1, 0), (1, 1)
                  const T v = src[t];
                  const bool take = (v > best) | (v != v);
                  best = blend(take, v, best);
                  arg = blend(take, t, arg);
                }
                best_out[ow] = best;
                arg_out[ow] = arg;
              }
            }
            continue;
          }
          for (int64_t oh = 0; oh < g.Ho; ++oh) {
            const auto [i0, i1] = rows[oh];
            const int64_t ih0 = oh * g.sh - g.ph;
            T* best = y + (p * g.Ho + oh) * g.Wo;
            int64_t* arg = idx + (p * g.Ho + oh) * g.Wo;
            for (int64_t ow = 0; ow < g.Wo; ++ow) {  // every window has a real pixel (checked)
              best[ow] = -std::numeric_limits<T>::infinity();
              arg[ow] = (ih0 + i0 * g.dh) * g.W + ow * g.sw - g.pw + cols[ow].first * g.dw;
            }
            for (int64_t i = i0; i < i1; ++i) {
              const int64_t row = (ih0 + i * g.dh) * g.W;
              for (int64_t j = j_lo; j < j_hi; ++j) {
                const int64_t off = row + j * g.dw - g.pw, sw = g.sw;  // local: arg's stores may alias g
                const auto [lo, hi] = spans[j - j_lo];
                for (int64_t ow = lo; ow < hi; ++ow) {
                  const int64_t at = off + ow * sw;  // tap j of window ow
                  const T v = src[at];
                  const bool take = (v > best[ow]) | (v != v);  // bitwise: a select, not a branch
                  best[ow] = blend(take, v, best[ow]);
                  arg[ow] = blend(take, at, arg[ow]);
                }
              }
            }
          }
        }
      },
      planes * g.Ho * g.Wo * std::min(g.kh, g.H) * std::min(g.kw, g.W));  // taps inside, at most
}

// Number of kernel taps of output row o that land inside [0, n) (0 means the window is padding only).
int64_t taps_inside(int64_t o, int64_t n, int64_t k, int64_t s, int64_t p, int64_t d) {
  const auto [lo, hi] = taps_in(o, n, k, s, p, d);
  return hi - lo;
}

// PyTorch's pooling rule: padding at most half the (dilated) kernel, so that windows stay mostly real.
void check_pool_padding(const char* op, Size2 k, Size2 p, Size2 d) {
  CR_CHECK(p[0] <= (d[0] * (k[0] - 1) + 1) / 2 && p[1] <= (d[1] * (k[1] - 1) + 1) / 2, std::invalid_argument,
           op, ": expected padding at most half the kernel size, got padding ", tup(p), " for kernel_size ",
           tup(k), (d[0] > 1 || d[1] > 1 ? " and dilation " + shape_str(tup(d)) : ""));
}

std::string input_str(const Tensor& x) { return "input " + shape_str(x.shape()); }

}  // namespace

// ---------------------------------------------------------------- erf, gelu
// y = erf(x)               dy/dx = 2/sqrt(pi) e^{-x^2}
Tensor erf(const Tensor& x) {
  Tensor xc = is_floating(x.dtype()) ? contig(x) : convert(x, get_default_dtype());
  Tensor y = empty(xc.shape(), xc.dtype());
  dispatch_floating(xc.dtype(), [&](auto tag) {
    using T = decltype(tag);
    map(ptr<T>(xc), ptr<T>(y), xc.numel(), [](T v) { return std::erf(v); });
  });
  return record_elementwise("erf", y, x, kSaveInputs, [](const Tensor& v, const Tensor& x, const Tensor&) {
    return v * mul(exp(neg(x * x)), 2.0 / std::sqrt(M_PI));
  });
}

// Composed from erf / tanh / mul, so its first and second derivatives come from theirs. The
// operation order is PyTorch's CPU kernel's, so float32 values round the same way.
Tensor gelu(const Tensor& x, const std::string& approximate) {
  if (approximate == "none") return mul(x, 0.5) * add(erf(mul(x, M_SQRT1_2)), 1);
  CR_CHECK(approximate == "tanh", std::invalid_argument, "gelu: expected approximate 'none' or 'tanh', got '",
           approximate, "'");
  const double beta = M_SQRT2 * M_2_SQRTPI * 0.5, kappa = 0.044715;  // sqrt(2/pi)
  Tensor inner = mul(add(x, mul(x * x * x, kappa)), beta);
  return mul(x, 0.5) * add(tanh(inner), 1);
}

// ---------------------------------------------------------------- silu, elu, hardtanh, softsign
namespace {
// y = f(x) elementwise, x floating (a fresh dense output)
template <class F> Tensor map_floating(const Tensor& x, const char* op, F f) {
  check_floating(x, op);
  Tensor xc = contig(x), y = empty(x.shape(), x.dtype());
  dispatch_floating(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    map(ptr<T>(xc), ptr<T>(y), xc.numel(), [&](T v) { return static_cast<T>(f(v)); });
  });
  return y;
}
}  // namespace

// y = x / (1 + e^-x) (torch's formula)      dy/dx = s (1 + x (1 - s)), s = sigmoid(x)
Tensor silu(const Tensor& x) {
  Tensor y = map_floating(x, "silu", [](auto v) { return v / (1 + std::exp(-v)); });
  return record_elementwise("silu", y, x, kSaveInputs, [](const Tensor& v, const Tensor& x, const Tensor&) {
    Tensor sg = sigmoid(x);
    return v * sg * add(x * rsub(sg, 1), 1);
  });
}

// y = x (x > 0), alpha (e^x - 1) (x <= 0)    dy/dx = 1 or alpha e^x
// The exponential in the backward only ever sees x < 0 (else 0), so a large x can't make 0 * inf = NaN
// in a second derivative.
Tensor elu(const Tensor& x, double alpha) {
  Tensor y = map_floating(x, "elu", [alpha](auto v) {
    using T = decltype(v);
    return v > 0 ? v : static_cast<T>(alpha) * std::expm1(v);
  });
  return record_elementwise("elu", y, x, kSaveInputs,
                            [alpha](const Tensor& v, const Tensor& x, const Tensor&) {
                              // x <= 0 takes alpha e^x (a NaN takes v); the exponent reads x only where x <
                              // 0, so as in torch the second derivative is 0 at x = 0 itself
                              return where(le(x, 0), v * mul(exp(where(lt(x, 0), x, 0.0)), alpha), v);
                            });
}

// y = clamp(x, lo, hi)     dy/dx = 1 where lo < x < hi, 0 at and beyond the bounds (and at a NaN)
Tensor hardtanh(const Tensor& x, double lo, double hi) {
  CR_CHECK(lo <= hi, std::invalid_argument, "hardtanh: expected min_val <= max_val, got min_val ", lo,
           " and max_val ", hi);
  CR_CHECK(x.dtype() != kBool, std::invalid_argument, "hardtanh: expected a numeric input, got bool");
  Tensor y;
  {
    NoGradGuard no_grad;
    y = clamp(x, lo, hi);
  }
  return record_elementwise("hardtanh", y, x, kSaveInputs,
                            [lo, hi](const Tensor& v, const Tensor& x, const Tensor&) {
                              return depends_on(where(logical_and(gt(x, lo), lt(x, hi)), v, 0), x);
                            });
}

Tensor relu6(const Tensor& x) { return hardtanh(x, 0.0, 6.0); }

// Composed (as torch.nn.functional.softsign is): x / (|x| + 1).
Tensor softsign(const Tensor& x) {
  CR_CHECK(x.dtype() != kBool, std::invalid_argument, "softsign: expected a numeric input, got bool");
  return div(x, add(abs(x), 1));
}

// ---------------------------------------------------------------- pad
namespace {
// x placed inside a `value`-filled tensor of shape `out` (cropped where a width is negative).
// Backward: the same pad with negated widths crops the gradient back to x's shape.
Tensor constant_pad(const Tensor& x, const std::vector<int64_t>& p, const Shape& out, double value) {
  Tensor y = empty(out, x.dtype(), "pad");
  y.fill_(value);
  {
    NoGradGuard no_grad;
    Tensor dst = y, src = x.detach();
    for (size_t i = 0; i < p.size() / 2; ++i) {
      const int64_t d = x.dim() - 1 - static_cast<int64_t>(i), n = x.size(d), l = p[2 * i], r = p[2 * i + 1];
      const int64_t len = n + std::min<int64_t>(l, 0) + std::min<int64_t>(r, 0);  // >= 0, checked by pad
      dst = narrow(dst, d, std::max<int64_t>(l, 0), len);
      src = narrow(src, d, std::max<int64_t>(-l, 0), len);
    }
    dst.copy_(src);
  }
  std::vector<int64_t> back(p.size());
  for (size_t i = 0; i < p.size(); ++i) back[i] = -p[i];
  return record(
      "constant_pad_nd", y, {x}, kSaveNone,
      [back](const Tensor& g, const Saved&) -> Grads { return {pad(g, back, "constant", 0.0)}; },
      [p](const Duals& d) { return pad(d.tangent(0), p, "constant", 0.0); });
}
}  // namespace

namespace {
// The shape of input padded by p ((left, right) widths, last dim first), checked.
Shape padded_shape(const Tensor& input, const std::vector<int64_t>& p) {
  const int64_t nd = input.dim(), np = static_cast<int64_t>(p.size());
  CR_CHECK(np % 2 == 0, std::invalid_argument, "pad: expected (left, right) pairs of widths, got ", np,
           " values");
  CR_CHECK(np / 2 <= nd, std::invalid_argument, "pad: expected at most 2 widths per dim of input ",
           input.shape(), " (", 2 * nd, "), got ", np);
  Shape out = input.shape();
  for (int64_t i = 0; i < np / 2; ++i) {
    const int64_t d = nd - 1 - i;
    out[d] = checked_add(checked_add(input.size(d), p[2 * i], "pad", "padded size"), p[2 * i + 1], "pad",
                         "padded size");
    CR_CHECK(out[d] >= 0, std::invalid_argument, "pad: expected a non-negative output size, got ", out[d],
             " for dim ", d, " of input ", input.shape(), " padded by (", p[2 * i], ", ", p[2 * i + 1], ")");
    CR_CHECK(input.size(d) + std::min<int64_t>(p[2 * i], 0) + std::min<int64_t>(p[2 * i + 1], 0) >= 0,
             std::invalid_argument, "pad: expected negative widths to crop at most the size ", input.size(d),
             " of dim ", d, ", got (", p[2 * i], ", ", p[2 * i + 1], ") for input ", input.shape());
  }
  return out;
}

// For reflect/replicate/circular padding of a dim of size n by (l, r): the source index of each of
// the n + l + r output positions (checked against the mode's limits).
Tensor pad_source_index(const Tensor& input, int64_t d, int64_t l, int64_t r, const std::string& mode) {
  const int64_t n = input.size(d), m = n + l + r;
  CR_CHECK(n > 0, std::invalid_argument, "pad: mode '", mode, "' expected a non-empty dim ", d,
           ", got input ", input.shape());
  if (mode == "reflect")
    CR_CHECK(l < n && r < n, std::invalid_argument,
             "pad: mode 'reflect' expected widths smaller than the size ", n, " of dim ", d, ", got (", l,
             ", ", r, ") for input ", input.shape());
  if (mode == "circular")
    CR_CHECK(l <= n && r <= n, std::invalid_argument,
             "pad: mode 'circular' expected widths at most the size ", n, " of dim ", d, ", got (", l, ", ",
             r, ") for input ", input.shape());
  Tensor index = empty({m}, kInt64, "pad");
  int64_t* idx = ptr<int64_t>(index);
  for (int64_t j = 0; j < m; ++j) {
    int64_t k = j - l;
    if (mode == "reflect") k = k < 0 ? -k : (k >= n ? 2 * (n - 1) - k : k);
    else if (mode == "replicate") k = std::clamp<int64_t>(k, 0, n - 1);
    else k = ((k % n) + n) % n;
    idx[j] = k;
  }
  return index;
}
}  // namespace

// Constant padding (see constant_pad); the other modes as one index_select per padded dim, with
// the source index of every output position: the gradient is index_select's (an index_add).
Tensor pad(const Tensor& input, const std::vector<int64_t>& p, const std::string& mode, double value) {
  const int64_t nd = input.dim(), np = static_cast<int64_t>(p.size());
  Shape out = padded_shape(input, p);
  if (mode == "constant") return constant_pad(input, p, out, value);
  CR_CHECK(mode == "reflect" || mode == "replicate" || mode == "circular", std::invalid_argument,
           "pad: expected mode 'constant', 'reflect', 'replicate' or 'circular', got '", mode, "'");
  CR_CHECK(np >= 2 && np <= 6 && (nd == np / 2 + 1 || nd == np / 2 + 2), std::invalid_argument, "pad: mode '",
           mode, "' pads the last 1, 2 or 3 dims of a 2-3-D, 3-4-D or 4-5-D input, got ", np,
           " widths for input ", input.shape());
  if (mode != "circular") check_nonempty_but_batch(input, np / 2, ("pad (mode '" + mode + "')").c_str());
  Tensor y = input;
  for (int64_t i = 0; i < np / 2; ++i)
    y = index_select(y, nd - 1 - i, pad_source_index(input, nd - 1 - i, p[2 * i], p[2 * i + 1], mode));
  return y;
}

// ---------------------------------------------------------------- unfold, fold
namespace {
// unfold(x) for `op` (conv2d, avg_pool2d): too little memory for its columns names `op`, the call the
// user made, not the unfold inside it.
Tensor unfold_for(const char* op, const Tensor& x, Size2 k, Size2 s, Size2 p, Size2 d);
}  // namespace

// (N, C, H, W) -> (N, C*kh*kw, Ho*Wo)      backward: fold (col2im) of the gradient
Tensor unfold(const Tensor& input, Size2 k, Size2 s, Size2 p, Size2 d) {
  check_image(input, "unfold");
  check_nonempty_but_batch(input, 2, "unfold");
  if (input.dim() == 3) return squeeze(unfold(unsqueeze(input, 0), k, s, p, d), 0);
  const int64_t N = input.size(0), C = input.size(1);
  Geom g = geometry("unfold", input.size(2), input.size(3), k, s, p, d, input_str(input));
  Tensor cols = empty({N, checked_mul(C, g.kh * g.kw, "unfold", "rows C * kh * kw"), g.Ho * g.Wo},
                      input.dtype(), "unfold");
  dispatch_floating(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    im2col(ptr<T>(contig(input)), ptr<T>(cols), N * C, g, unfold_layout(C, g));
  });
  return record(
      "unfold", cols, {input}, kSaveNone,
      [g](const Tensor& grad, const Saved&) -> Grads {
        return {fold(grad, {g.H, g.W}, {g.kh, g.kw}, {g.sh, g.sw}, {g.ph, g.pw}, {g.dh, g.dw})};
      },
      [k, s, p, d](const Duals& dl) { return unfold(dl.tangent(0), k, s, p, d); });
}

// (N, C*kh*kw, L) -> (N, C, H, W), overlapping blocks summed      backward: unfold of the gradient
Tensor fold(const Tensor& input, Size2 out, Size2 k, Size2 s, Size2 p, Size2 d) {
  CR_CHECK(input.dim() == 2 || input.dim() == 3, std::invalid_argument,
           "fold: expected input (N, C*kh*kw, L) or (C*kh*kw, L), got ", input.shape());
  check_floating(input, "fold");
  if (input.dim() == 2) return squeeze(fold(unsqueeze(input, 0), out, k, s, p, d), 0);
  CR_CHECK(out[0] >= 0 && out[1] >= 0, std::invalid_argument,
           "fold: expected a non-negative output_size, got ", tup(out));
  Geom g = geometry("fold", out[0], out[1], k, s, p, d, "output_size " + shape_str(tup(out)));
  const int64_t N = input.size(0), K = g.kh * g.kw;
  CR_CHECK(input.size(1) % K == 0, std::invalid_argument,
           "fold: expected input.size(1) divisible by kh*kw = ", K, ", got input ", input.shape(),
           " for kernel_size ", tup(k));
  CR_CHECK(input.size(2) == g.Ho * g.Wo, std::invalid_argument,
           "fold: expected input.size(2) to be the number of ", "sliding blocks ", g.Ho, " * ", g.Wo, " = ",
           g.Ho * g.Wo, " for output_size ", tup(out), ", got input ", input.shape());
  Tensor y = empty({N, input.size(1) / K, g.H, g.W}, input.dtype(), "fold");
  dispatch_floating(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    col2im(ptr<T>(contig(input)), ptr<T>(y), y.size(0) * y.size(1), g, unfold_layout(y.size(1), g));
  });
  return record(
      "fold", y, {input}, kSaveNone,
      [g](const Tensor& grad, const Saved&) -> Grads {
        return {unfold(grad, {g.kh, g.kw}, {g.sh, g.sw}, {g.ph, g.pw}, {g.dh, g.dw})};
      },
      [out, k, s, p, d](const Duals& dl) { return fold(dl.tangent(0), out, k, s, p, d); });
}

// ---------------------------------------------------------------- conv2d
namespace {
Tensor unfold_for(const char* op, const Tensor& x, Size2 k, Size2 s, Size2 p, Size2 d) {
  try {
    return unfold(x, k, s, p, d);
  } catch (const OutOfMemory&) {
    Geom g = geometry(op, x.size(2), x.size(3), k, s, p, d, input_str(x));
    throw_out_of_memory(op, {x.size(0), x.size(1) * g.kh * g.kw, g.Ho * g.Wo}, x.dtype());
  }
}

// Channels, groups, dtypes and bias of a batched (N, C, H, W) conv2d.
void check_conv2d_args(const Tensor& input, const Tensor& weight, const Tensor& bias, int64_t groups) {
  const int64_t C = input.size(1), O = weight.size(0), G = groups;
  const std::string with_groups = G > 1 ? " and groups " + std::to_string(G) : "";
  CR_CHECK(O > 0, std::invalid_argument,
           "conv2d: expected at least 1 out_channel (weight.size(0)), got weight ",
           weight.shape());  // as torch
  CR_CHECK(O % G == 0, std::invalid_argument,
           "conv2d: expected out_channels (weight.size(0)) divisible by groups ", G, ", got weight ",
           weight.shape());
  CR_CHECK(weight.size(1) * G == C, std::invalid_argument, "conv2d: expected input with ", weight.size(1) * G,
           " channels for weight ", weight.shape(), with_groups, ", got input ", input.shape());
  CR_CHECK(weight.dtype() == input.dtype() && (!bias.defined() || bias.dtype() == input.dtype()),
           std::invalid_argument, "conv2d: expected input, weight and bias of one dtype, got ",
           dtype_name(input.dtype()), ", ", dtype_name(weight.dtype()),
           (bias.defined() ? std::string(", ") + dtype_name(bias.dtype()) : std::string()),
           "; convert one with .float() or .double()");
  if (bias.defined())
    CR_CHECK(bias.dim() == 1 && bias.size(0) == O, std::invalid_argument, "conv2d: expected bias of shape (",
             O, ",), got ", bias.shape());
}
}  // namespace

namespace {
Tensor fold_batch_cols(const Tensor& cols, int64_t N, int64_t C, const Geom& g);

// x (N, C, H, W) -> cols (C*kh*kw, N*L): unfold with the batch moved next to the output positions,
// so that conv2d is one GEMM over the whole batch instead of N small ones.
// Backward: fold_batch_cols (col2im) of the gradient; tangent: the same unfold of the tangent.
Tensor unfold_batch_cols(const Tensor& x, const Geom& g) {
  const int64_t N = x.size(0), C = x.size(1), L = g.Ho * g.Wo;
  Tensor cols = empty({C * g.kh * g.kw, N * L}, x.dtype(), "conv2d");
  dispatch_floating(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    im2col(ptr<T>(contig(x)), ptr<T>(cols), N * C, g, ColsLayout{C, L, N * L});
  });
  return record(
      "unfold", cols, {x}, kSaveNone,
      [g, N, C](const Tensor& grad, const Saved&) -> Grads { return {fold_batch_cols(grad, N, C, g)}; },
      [g](const Duals& d) { return unfold_batch_cols(d.tangent(0), g); });
}

// The adjoint: cols (C*kh*kw, N*L) summed back into (N, C, H, W).
// Backward: unfold_batch_cols of the gradient; tangent: the same fold of the tangent.
Tensor fold_batch_cols(const Tensor& cols, int64_t N, int64_t C, const Geom& g) {
  const int64_t L = g.Ho * g.Wo;
  Tensor x = empty({N, C, g.H, g.W}, cols.dtype(), "conv2d");
  dispatch_floating(cols.dtype(), [&](auto tag) {
    using T = decltype(tag);
    col2im(ptr<T>(contig(cols)), ptr<T>(x), N * C, g, ColsLayout{C, L, N * L});
  });
  return record(
      "fold", x, {cols}, kSaveNone,
      [g](const Tensor& grad, const Saved&) -> Grads { return {unfold_batch_cols(grad, g)}; },
      [g, N, C](const Duals& d) { return fold_batch_cols(d.tangent(0), N, C, g); });
}
}  // namespace

// y = W (O, C*kh*kw) @ cols (C*kh*kw, N*L) + b, cols = x unfolded with the batch beside the
// positions: one GEMM for the whole batch instead of N small ones (one per image, with dW summed
// over an (N, O, C*kh*kw) stack), then (O, N, L) permuted to (N, O, L). Gradients come from matmul's
// (dW = g (O, N*L) @ cols^T and dcols = W^T @ g: one GEMM each), unfold_batch_cols's (a fold) and
// permute's, all differentiable, so conv2d is differentiable twice and has a tangent.
// With groups G: cols (G, Cg*kh*kw, N*L) and weight (G, Og, Cg*kh*kw), one GEMM per group.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 s, Size2 p, Size2 d,
              int64_t groups) {
  check_image(input, "conv2d");
  CR_CHECK(weight.dim() == 4, std::invalid_argument,
           "conv2d: expected weight (out_channels, in_channels / groups, kh, kw), got ", weight.shape());
  CR_CHECK(groups > 0, std::invalid_argument, "conv2d: expected a positive groups, got ", groups);
  if (input.dim() == 3) return squeeze(conv2d(unsqueeze(input, 0), weight, bias, s, p, d, groups), 0);
  check_conv2d_args(input, weight, bias, groups);
  const int64_t N = input.size(0), C = input.size(1), O = weight.size(0), G = groups;
  Size2 k{weight.size(2), weight.size(3)};
  Geom g = geometry("conv2d", input.size(2), input.size(3), k, s, p, d, input_str(input));
  const int64_t K = (C / G) * g.kh * g.kw, NL = N * g.Ho * g.Wo;
  Tensor cols;  // group g's rows are one block
  try {
    cols = unfold_batch_cols(input, g);
  } catch (const OutOfMemory&) {  // named as the unfold it is, (N, C*kh*kw, L): the same bytes
    throw_out_of_memory("conv2d", {N, C * g.kh * g.kw, g.Ho * g.Wo}, input.dtype());
  }
  Tensor y = G == 1 ? mm(reshape(weight, {O, K}), cols)
                    : reshape(matmul(reshape(weight, {G, O / G, K}), reshape(cols, {G, K, NL})), {O, NL});
  if (bias.defined()) y = y + reshape(bias, {O, 1});
  return permute(reshape(y, {O, N, g.Ho, g.Wo}), {1, 0, 2, 3}).contiguous();
}

// "same": total padding d (k - 1) per dim, half on each side; an odd total puts the extra row or
// column at the bottom/right (a constant pad first), exactly as torch does.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 s, const char* padding,
              Size2 d, int64_t groups) {
  const std::string mode = padding;
  if (mode == "valid") return conv2d(input, weight, bias, s, Size2{0, 0}, d, groups);
  CR_CHECK(mode == "same", std::invalid_argument,
           "conv2d: expected padding 'valid', 'same', an int or a pair of ints, got '", mode, "'");
  CR_CHECK(s[0] == 1 && s[1] == 1, std::runtime_error,
           "conv2d: padding='same' is not supported for strided convolutions, got stride ", tup(s));
  CR_CHECK(weight.dim() == 4, std::invalid_argument,
           "conv2d: expected weight (out_channels, in_channels / groups, kh, kw), got ", weight.shape());
  CR_CHECK(d[0] > 0 && d[1] > 0, std::invalid_argument, "conv2d: expected a positive dilation, got ", tup(d));
  check_image(input, "conv2d");
  const Size2 total{checked_mul(d[0], weight.size(2) - 1, "conv2d", "dilated kernel size"),
                    checked_mul(d[1], weight.size(3) - 1, "conv2d", "dilated kernel size")};
  Tensor x = total[0] % 2 || total[1] % 2 ? pad(input, {0, total[1] % 2, 0, total[0] % 2}) : input;
  return conv2d(x, weight, bias, s, Size2{total[0] / 2, total[1] / 2}, d, groups);
}

// ---------------------------------------------------------------- pooling
namespace {
// Dilation can make a window miss the input (it must see at least one pixel).
void check_windows_overlap(const Tensor& input, const Geom& g, Size2 k, Size2 s, Size2 p, Size2 d) {
  const int64_t H = input.size(2), W = input.size(3);
  for (int64_t o = 0; o < std::max(g.Ho, g.Wo); ++o)
    CR_CHECK((o >= g.Ho || taps_inside(o, H, g.kh, g.sh, g.ph, g.dh) > 0) &&
                 (o >= g.Wo || taps_inside(o, W, g.kw, g.sw, g.pw, g.dw) > 0),
             std::invalid_argument,
             "max_pool2d: expected every window to overlap the input, got a window in the padding only for ",
             input_str(input), ", kernel_size ", tup(k), ", stride ", tup(s), ", padding ", tup(p),
             ", dilation ", tup(d));
}
}  // namespace

namespace {
Tensor scatter_planes(const Tensor& g, const Tensor& idx, int64_t H, int64_t W);

// y (N, C, Ho, Wo) = x (N, C, H, W) at idx, an index into each flattened H*W plane: max pooling's
// gather (y already computed by the pooling kernel, or here). Backward: scatter_planes;
// tangent: the same gather of the tangent.
Tensor gather_planes(const Tensor& x, const Tensor& idx, Tensor y = Tensor()) {
  const int64_t H = x.size(2), W = x.size(3);
  if (!y.defined()) {
    y = empty(idx.shape(), x.dtype(), "max_pool2d");
    const int64_t L = idx.size(2) * idx.size(3);
    Tensor xc = contig(x);  // alive while the kernel reads it
    dispatch_floating(x.dtype(), [&](auto tag) {
      using T = decltype(tag);
      const T* src = ptr<T>(xc);
      const int64_t* at = ptr<int64_t>(idx);
      T* out = ptr<T>(y);
      parallel_for(
          idx.size(0) * idx.size(1),
          [&](int64_t b, int64_t e) {
            for (int64_t p = b; p < e; ++p)
              for (int64_t o = 0; o < L; ++o) out[p * L + o] = src[p * H * W + at[p * L + o]];
          },
          y.numel());
    });
  }
  return record(
      "max_pool2d", y, {x}, kSaveNone,
      [idx, H, W](const Tensor& g, const Saved&) -> Grads { return {scatter_planes(g, idx, H, W)}; },
      [idx](const Duals& d) { return gather_planes(d.tangent(0), idx); });
}

// The adjoint: (N, C, H, W) zeros with each g (N, C, Ho, Wo) added at its idx (windows may share
// an argmax). Backward: gather_planes; tangent: the same scatter of the tangent.
Tensor scatter_planes(const Tensor& g, const Tensor& idx, int64_t H, int64_t W) {
  Tensor x = zeros({idx.size(0), idx.size(1), H, W}, g.dtype());
  const int64_t L = idx.size(2) * idx.size(3);
  Tensor gc = contig(g);  // alive while the kernel reads it
  dispatch_floating(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* src = ptr<T>(gc);
    const int64_t* at = ptr<int64_t>(idx);
    T* out = ptr<T>(x);
    parallel_for(
        idx.size(0) * idx.size(1),
        [&](int64_t b, int64_t e) {
          for (int64_t p = b; p < e; ++p)
            for (int64_t o = 0; o < L; ++o) out[p * H * W + at[p * L + o]] += src[p * L + o];
        },
        x.numel());
  });
  return record(
      "max_pool2d_backward", x, {g}, kSaveNone,
      [idx](const Tensor& gg, const Saved&) -> Grads { return {gather_planes(gg, idx)}; },
      [idx, H, W](const Duals& d) { return scatter_planes(d.tangent(0), idx, H, W); });
}
}  // namespace

// y = x at each window's argmax, found by max_pool_kernel: a gather over the flattened planes, so
// the gradient is a scatter-add into the argmax positions (gather_planes / scatter_planes, each
// the other's backward, so pooling is differentiable twice).
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 k, std::optional<Size2> stride,
                                                  Size2 p, Size2 d, bool ceil_mode) {
  check_image(input, "max_pool2d");
  check_nonempty_but_batch(input, 2, "max_pool2d");
  if (input.dim() == 3) {
    auto [y, idx] = max_pool2d_with_indices(unsqueeze(input, 0), k, stride, p, d, ceil_mode);
    return {squeeze(y, 0), squeeze(idx, 0)};
  }
  const int64_t N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  Size2 s = stride.value_or(k);
  Geom g = geometry("max_pool2d", H, W, k, s, p, d, input_str(input), ceil_mode);
  check_pool_padding("max_pool2d", k, p, d);
  check_windows_overlap(input, g, k, s, p, d);
  Tensor idx = empty({N, C, g.Ho, g.Wo}, kInt64, "max_pool2d");
  Tensor y = empty({N, C, g.Ho, g.Wo}, input.dtype(), "max_pool2d");
  dispatch_floating(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    max_pool_kernel(ptr<T>(contig(input)), ptr<T>(y), ptr<int64_t>(idx), N * C, g);
  });
  return {gather_planes(input, idx, y), idx};
}

Tensor max_pool2d(const Tensor& input, Size2 k, std::optional<Size2> stride, Size2 p, Size2 d,
                  bool ceil_mode) {
  return max_pool2d_with_indices(input, k, stride, p, d, ceil_mode).first;
}

namespace {
// The divisor of each of the Ho * Wo windows: its area inside the padded input [-p, n + p), or
// inside the input [0, n) without count_include_pad.
Tensor avg_pool_divisors(int64_t H, int64_t W, const Geom& g, bool count_include_pad, Dtype dtype) {
  auto extent = [count_include_pad](int64_t o, int64_t n, int64_t kk, int64_t ss, int64_t pp) {
    const int64_t a = o * ss - pp, b = std::min(a + kk, n + pp);
    return count_include_pad ? b - a : std::min(b, n) - std::max<int64_t>(a, 0);
  };
  std::vector<double> counts(static_cast<size_t>(g.Ho * g.Wo));
  for (int64_t oh = 0; oh < g.Ho; ++oh)
    for (int64_t ow = 0; ow < g.Wo; ++ow)
      counts[oh * g.Wo + ow] =
          static_cast<double>(extent(oh, H, g.kh, g.sh, g.ph) * extent(ow, W, g.kw, g.sw, g.pw));
  return tensor(counts, {g.Ho * g.Wo}, dtype);
}
}  // namespace

// y = (Σ over the window of unfold(x)) / divisor, padding counting as zeros; the gradient comes
// from sum's and unfold's: g / divisor spread over each window (fold sums the overlaps). ceil_mode's
// last window may hang past the padding: zeros are padded at the bottom/right for it, and its
// divisor (torch's) counts only the part inside the padded input.
Tensor avg_pool2d(const Tensor& input, Size2 k, std::optional<Size2> stride, Size2 p, bool count_include_pad,
                  std::optional<int64_t> divisor_override, bool ceil_mode) {
  check_image(input, "avg_pool2d");
  check_nonempty_but_batch(input, 2, "avg_pool2d");
  if (input.dim() == 3)
    return squeeze(
        avg_pool2d(unsqueeze(input, 0), k, stride, p, count_include_pad, divisor_override, ceil_mode), 0);
  const int64_t N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  Size2 s = stride.value_or(k);
  Geom g = geometry("avg_pool2d", H, W, k, s, p, {1, 1}, input_str(input), ceil_mode);
  check_pool_padding("avg_pool2d", k, p, {1, 1});
  CR_CHECK(!divisor_override || *divisor_override != 0, std::invalid_argument,
           "avg_pool2d: expected a non-zero divisor_override, got 0");
  const int64_t eh = std::max<int64_t>(0, (g.Ho - 1) * g.sh + g.kh - (H + 2 * g.ph));
  const int64_t ew = std::max<int64_t>(0, (g.Wo - 1) * g.sw + g.kw - (W + 2 * g.pw));
  Tensor x = eh || ew ? pad(input, {0, ew, 0, eh}) : input;
  Tensor sums = sum(reshape(unfold_for("avg_pool2d", x, k, s, p, {1, 1}), {N, C, g.kh * g.kw, g.Ho * g.Wo}),
                    {2});  // (N, C, L)
  if (divisor_override) return reshape(div(sums, static_cast<double>(*divisor_override)), {N, C, g.Ho, g.Wo});
  return reshape(sums / avg_pool_divisors(H, W, g, count_include_pad, input.dtype()), {N, C, g.Ho, g.Wo});
}

}  // namespace chainrule
