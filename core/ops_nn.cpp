// Ops for layers: erf/gelu, unfold/fold (im2col/col2im, each the other's backward), conv2d as
// unfold + one matmul, and max/avg pooling. Kernels loop over (n, c) planes in parallel.
#include "core/ops_nn.h"

#include <cmath>
#include <limits>

#include "core/kernels.h"

namespace chainrule {
using namespace kernels;

namespace {

Shape tup(Size2 a) { return {a[0], a[1]}; }  // prints like a Python tuple

// The sliding-window arithmetic shared by every op here: input plane H x W, kernel kh x kw with
// stride, padding and dilation, and the resulting Ho x Wo blocks.
struct Geom {
  int64_t H, W, kh, kw, sh, sw, ph, pw, dh, dw, Ho, Wo;
};

// Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1; `what` names the spatial size in messages.
Geom geometry(const char* op, int64_t H, int64_t W, Size2 k, Size2 s, Size2 p, Size2 d,
              const std::string& what) {
  CR_CHECK(k[0] > 0 && k[1] > 0, std::invalid_argument, op, ": expected a positive kernel_size, got ", tup(k));
  CR_CHECK(s[0] > 0 && s[1] > 0, std::invalid_argument, op, ": expected a positive stride, got ", tup(s));
  CR_CHECK(p[0] >= 0 && p[1] >= 0, std::invalid_argument, op, ": expected a non-negative padding, got ", tup(p));
  CR_CHECK(d[0] > 0 && d[1] > 0, std::invalid_argument, op, ": expected a positive dilation, got ", tup(d));
  const int64_t ekh = d[0] * (k[0] - 1) + 1, ekw = d[1] * (k[1] - 1) + 1;  // dilated extent
  CR_CHECK(ekh <= H + 2 * p[0] && ekw <= W + 2 * p[1], std::invalid_argument, op,
           ": expected a kernel no larger than the padded input ", Shape{H + 2 * p[0], W + 2 * p[1]},
           ", got kernel_size ", tup(k), (d[0] > 1 || d[1] > 1 ? " (dilated: " + shape_str({ekh, ekw}) + ")" : ""),
           " for ", what);
  return {H, W, k[0], k[1], s[0], s[1], p[0], p[1], d[0], d[1],
          (H + 2 * p[0] - ekh) / s[0] + 1, (W + 2 * p[1] - ekw) / s[1] + 1};
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

// A pooling window must see at least one pixel, so empty planes are refused (as PyTorch does).
void check_plane(const Tensor& x, const char* op) {
  CR_CHECK(x.size(-2) > 0 && x.size(-1) > 0, std::invalid_argument, op,
           ": expected an input with H, W > 0, got ", x.shape());
}

// cols (planes * kh*kw, Ho*Wo) from x (planes, H, W): row (i*kw + j) of plane p holds the pixel
// that kernel tap (i, j) sees at each output position, 0 in the padding.
template <class T>
void im2col(const T* x, T* cols, int64_t planes, const Geom& g) {
  const int64_t L = g.Ho * g.Wo, K = g.kh * g.kw;
  parallel_for(planes, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* src = x + p * g.H * g.W;
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
          T* dst = cols + (p * K + i * g.kw + j) * L;
          for (int64_t oh = 0; oh < g.Ho; ++oh) {
            const int64_t ih = oh * g.sh - g.ph + i * g.dh;
            T* row = dst + oh * g.Wo;
            if (ih < 0 || ih >= g.H) {
              std::fill(row, row + g.Wo, T(0));
              continue;
            }
            const T* in = src + ih * g.W;
            for (int64_t ow = 0; ow < g.Wo; ++ow) {
              const int64_t iw = ow * g.sw - g.pw + j * g.dw;
              row[ow] = iw >= 0 && iw < g.W ? in[iw] : T(0);
            }
          }
        }
    }
  }, planes * K * L);
}

// The adjoint of im2col: every column entry is added back to the pixel it was copied from.
// Planes are disjoint, so the threads never write to the same place.
template <class T>
void col2im(const T* cols, T* x, int64_t planes, const Geom& g) {
  const int64_t L = g.Ho * g.Wo, K = g.kh * g.kw;
  parallel_for(planes, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      T* dst = x + p * g.H * g.W;
      std::fill(dst, dst + g.H * g.W, T(0));
      for (int64_t i = 0; i < g.kh; ++i)
        for (int64_t j = 0; j < g.kw; ++j) {
          const T* src = cols + (p * K + i * g.kw + j) * L;
          for (int64_t oh = 0; oh < g.Ho; ++oh) {
            const int64_t ih = oh * g.sh - g.ph + i * g.dh;
            if (ih < 0 || ih >= g.H) continue;
            T* out = dst + ih * g.W;
            const T* row = src + oh * g.Wo;
            for (int64_t ow = 0; ow < g.Wo; ++ow) {
              const int64_t iw = ow * g.sw - g.pw + j * g.dw;
              if (iw >= 0 && iw < g.W) out[iw] += row[ow];
            }
          }
        }
    }
  }, planes * K * L);
}

// Index (into the H*W plane) of each window's max, as PyTorch's CPU kernel picks it: start at the
// first real pixel with max = -inf, then take v when v > max or v is NaN.
template <class T>
void max_pool_indices(const T* x, int64_t* idx, int64_t planes, const Geom& g) {
  parallel_for(planes, [&](int64_t b, int64_t e) {
    for (int64_t p = b; p < e; ++p) {
      const T* src = x + p * g.H * g.W;
      int64_t* dst = idx + p * g.Ho * g.Wo;
      for (int64_t oh = 0; oh < g.Ho; ++oh)
        for (int64_t ow = 0; ow < g.Wo; ++ow) {
          T best = -std::numeric_limits<T>::infinity();
          int64_t arg = -1;
          for (int64_t i = 0; i < g.kh; ++i) {
            const int64_t ih = oh * g.sh - g.ph + i * g.dh;
            if (ih < 0 || ih >= g.H) continue;
            for (int64_t j = 0; j < g.kw; ++j) {
              const int64_t iw = ow * g.sw - g.pw + j * g.dw;
              if (iw < 0 || iw >= g.W) continue;
              const T v = src[ih * g.W + iw];
              if (arg < 0) arg = ih * g.W + iw;
              if (v > best || std::isnan(v)) { best = v; arg = ih * g.W + iw; }
            }
          }
          dst[oh * g.Wo + ow] = arg;
        }
    }
  }, planes * g.Ho * g.Wo * g.kh * g.kw);
}

// Number of kernel taps of output row o that land inside [0, n) (0 means the window is padding only).
int64_t taps_inside(int64_t o, int64_t n, int64_t k, int64_t s, int64_t p, int64_t d) {
  int64_t c = 0;
  for (int64_t i = 0; i < k; ++i) c += (o * s - p + i * d >= 0 && o * s - p + i * d < n);
  return c;
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
  return record("erf", y, {x}, kSaveInputs, [](const Tensor& g, const Saved& s) -> Grads {
    Tensor x = s.input(0);
    return {g * mul(exp(neg(x * x)), 2.0 / std::sqrt(M_PI))};
  });
}

// Composed from erf / tanh / mul, so its first and second derivatives come from theirs. The
// operation order is PyTorch's CPU kernel's, so float32 values round the same way.
Tensor gelu(const Tensor& x, const std::string& approximate) {
  if (approximate == "none") return mul(x, 0.5) * add(erf(mul(x, M_SQRT1_2)), 1);
  CR_CHECK(approximate == "tanh", std::invalid_argument,
           "gelu: expected approximate 'none' or 'tanh', got '", approximate, "'");
  const double beta = M_SQRT2 * M_2_SQRTPI * 0.5, kappa = 0.044715;  // sqrt(2/pi)
  Tensor inner = mul(add(x, mul(x * x * x, kappa)), beta);
  return mul(x, 0.5) * add(tanh(inner), 1);
}

// ---------------------------------------------------------------- unfold, fold
// (N, C, H, W) -> (N, C*kh*kw, Ho*Wo)      backward: fold (col2im) of the gradient
Tensor unfold(const Tensor& input, Size2 k, Size2 s, Size2 p, Size2 d) {
  check_image(input, "unfold");
  if (input.dim() == 3) return squeeze(unfold(unsqueeze(input, 0), k, s, p, d), 0);
  const int64_t N = input.size(0), C = input.size(1);
  Geom g = geometry("unfold", input.size(2), input.size(3), k, s, p, d, input_str(input));
  Tensor cols = empty({N, C * g.kh * g.kw, g.Ho * g.Wo}, input.dtype());
  dispatch_floating(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    im2col(ptr<T>(contig(input)), ptr<T>(cols), N * C, g);
  });
  return record("unfold", cols, {input}, kSaveNone, [g](const Tensor& grad, const Saved&) -> Grads {
    return {fold(grad, {g.H, g.W}, {g.kh, g.kw}, {g.sh, g.sw}, {g.ph, g.pw}, {g.dh, g.dw})};
  });
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
  CR_CHECK(input.size(1) % K == 0, std::invalid_argument, "fold: expected input.size(1) divisible by kh*kw = ",
           K, ", got input ", input.shape(), " for kernel_size ", tup(k));
  CR_CHECK(input.size(2) == g.Ho * g.Wo, std::invalid_argument, "fold: expected input.size(2) to be the number of "
           "sliding blocks ", g.Ho, " * ", g.Wo, " = ", g.Ho * g.Wo, " for output_size ", tup(out), ", got input ",
           input.shape());
  const int64_t C = input.size(1) / K;
  Tensor y = empty({N, C, g.H, g.W}, input.dtype());
  dispatch_floating(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    col2im(ptr<T>(contig(input)), ptr<T>(y), N * C, g);
  });
  return record("fold", y, {input}, kSaveNone, [g](const Tensor& grad, const Saved&) -> Grads {
    return {unfold(grad, {g.kh, g.kw}, {g.sh, g.sw}, {g.ph, g.pw}, {g.dh, g.dw})};
  });
}

// ---------------------------------------------------------------- conv2d
// y[n] = W (O, C*kh*kw) @ unfold(x)[n] (C*kh*kw, L) + b: one batched GEMM. Gradients come from
// matmul's (dW = Σ_n g[n] cols[n]^T, dcols = W^T g) and unfold's (dx = fold(dcols)).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 s, Size2 p, Size2 d) {
  check_image(input, "conv2d");
  CR_CHECK(weight.dim() == 4, std::invalid_argument,
           "conv2d: expected weight (out_channels, in_channels, kh, kw), got ", weight.shape());
  if (input.dim() == 3) return squeeze(conv2d(unsqueeze(input, 0), weight, bias, s, p, d), 0);
  const int64_t N = input.size(0), C = input.size(1), O = weight.size(0);
  CR_CHECK(weight.size(1) == C, std::invalid_argument, "conv2d: expected input with ", weight.size(1),
           " channels for weight ", weight.shape(), ", got input ", input.shape());
  CR_CHECK(weight.dtype() == input.dtype() && (!bias.defined() || bias.dtype() == input.dtype()),
           std::invalid_argument, "conv2d: expected input, weight and bias of one dtype, got ",
           dtype_name(input.dtype()), ", ", dtype_name(weight.dtype()),
           (bias.defined() ? std::string(", ") + dtype_name(bias.dtype()) : std::string()));
  if (bias.defined())
    CR_CHECK(bias.dim() == 1 && bias.size(0) == O, std::invalid_argument, "conv2d: expected bias of shape (",
             O, ",), got ", bias.shape());
  Size2 k{weight.size(2), weight.size(3)};
  Geom g = geometry("conv2d", input.size(2), input.size(3), k, s, p, d, input_str(input));
  Tensor y = matmul(reshape(weight, {O, C * g.kh * g.kw}), unfold(input, k, s, p, d));  // (N, O, L)
  if (bias.defined()) y = y + reshape(bias, {1, O, 1});
  return reshape(y, {N, O, g.Ho, g.Wo});
}

// ---------------------------------------------------------------- pooling
// y = x at each window's argmax: a gather over the flattened planes, so the gradient is gather's
// (scatter_add into the argmax positions), itself differentiable.
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 k, std::optional<Size2> stride,
                                                  Size2 p, Size2 d) {
  check_image(input, "max_pool2d");
  if (input.dim() == 3) {
    auto [y, idx] = max_pool2d_with_indices(unsqueeze(input, 0), k, stride, p, d);
    return {squeeze(y, 0), squeeze(idx, 0)};
  }
  const int64_t N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  check_plane(input, "max_pool2d");
  Size2 s = stride.value_or(k);
  Geom g = geometry("max_pool2d", H, W, k, s, p, d, input_str(input));
  check_pool_padding("max_pool2d", k, p, d);
  for (int64_t o = 0; o < std::max(g.Ho, g.Wo); ++o)  // dilation can make a window miss the input
    CR_CHECK((o >= g.Ho || taps_inside(o, H, g.kh, g.sh, g.ph, g.dh) > 0) &&
             (o >= g.Wo || taps_inside(o, W, g.kw, g.sw, g.pw, g.dw) > 0), std::invalid_argument,
             "max_pool2d: expected every window to overlap the input, got a window in the padding only for ",
             input_str(input), ", kernel_size ", tup(k), ", stride ", tup(s), ", padding ", tup(p),
             ", dilation ", tup(d));
  Tensor idx = empty({N, C, g.Ho, g.Wo}, kInt64);
  dispatch_floating(input.dtype(), [&](auto tag) {
    using T = decltype(tag);
    max_pool_indices(ptr<T>(contig(input)), ptr<int64_t>(idx), N * C, g);
  });
  Tensor y = gather(reshape(input, {N, C, H * W}), 2, reshape(idx, {N, C, g.Ho * g.Wo}));
  return {reshape(y, {N, C, g.Ho, g.Wo}), idx};
}

Tensor max_pool2d(const Tensor& input, Size2 k, std::optional<Size2> stride, Size2 p, Size2 d) {
  return max_pool2d_with_indices(input, k, stride, p, d).first;
}

// y = (Σ over the window of unfold(x)) / divisor, padding counting as zeros; the gradient comes
// from sum's and unfold's: g / divisor spread over each window (fold sums the overlaps).
Tensor avg_pool2d(const Tensor& input, Size2 k, std::optional<Size2> stride, Size2 p, bool count_include_pad,
                  std::optional<int64_t> divisor_override) {
  check_image(input, "avg_pool2d");
  if (input.dim() == 3)
    return squeeze(avg_pool2d(unsqueeze(input, 0), k, stride, p, count_include_pad, divisor_override), 0);
  const int64_t N = input.size(0), C = input.size(1), H = input.size(2), W = input.size(3);
  check_plane(input, "avg_pool2d");
  Size2 s = stride.value_or(k);
  Geom g = geometry("avg_pool2d", H, W, k, s, p, {1, 1}, input_str(input));
  check_pool_padding("avg_pool2d", k, p, {1, 1});
  CR_CHECK(!divisor_override || *divisor_override != 0, std::invalid_argument,
           "avg_pool2d: expected a non-zero divisor_override, got 0");
  Tensor sums = sum(reshape(unfold(input, k, s, p), {N, C, g.kh * g.kw, g.Ho * g.Wo}), {2});  // (N, C, L)
  Tensor y;
  if (divisor_override) {
    y = div(sums, static_cast<double>(*divisor_override));
  } else if (count_include_pad) {
    y = div(sums, static_cast<double>(g.kh * g.kw));
  } else {  // divide by the number of real pixels under each window
    std::vector<double> counts(static_cast<size_t>(g.Ho * g.Wo));
    for (int64_t oh = 0; oh < g.Ho; ++oh)
      for (int64_t ow = 0; ow < g.Wo; ++ow)
        counts[oh * g.Wo + ow] = static_cast<double>(taps_inside(oh, H, g.kh, g.sh, g.ph, 1) *
                                                     taps_inside(ow, W, g.kw, g.sw, g.pw, 1));
    y = sums / tensor(counts, {g.Ho * g.Wo}, input.dtype());
  }
  return reshape(y, {N, C, g.Ho, g.Wo});
}

}  // namespace chainrule
