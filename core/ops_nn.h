// The differentiable ops that layers are built from: erf/gelu, the im2col pair unfold/fold, conv2d
// (unfold + one matmul) and 2-D pooling. Names and semantics follow torch.nn.functional; every
// backward is written with differentiable ops, so double backward works.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>
#include <vector>

#include "core/ops.h"

namespace chainrule {

// (height, width) of a kernel, stride, padding, dilation or output size.
using Size2 = std::array<int64_t, 2>;

// ---- activations ----
// y = erf(x)               dy/dx = 2/sqrt(pi) e^{-x^2}
Tensor erf(const Tensor& x);
// approximate "none":  x/2 (1 + erf(x/sqrt 2));  "tanh": x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
Tensor gelu(const Tensor& x, const std::string& approximate = "none");

// y = x sigmoid(x)         dy/dx = s (1 + x (1 - s)), s = sigmoid(x)
Tensor silu(const Tensor& x);
// y = x if x > 0 else alpha (e^x - 1)       dy/dx = 1 or alpha e^x (alpha e^x at 0, as torch)
Tensor elu(const Tensor& x, double alpha = 1.0);
// y = clamp(x, min_val, max_val)    dy/dx = 1 strictly inside (min_val, max_val), else 0 (torch's
// convention at the boundaries; clamp passes the gradient there, hardtanh does not)
Tensor hardtanh(const Tensor& x, double min_val = -1.0, double max_val = 1.0);
Tensor relu6(const Tensor& x);  // hardtanh(x, 0, 6)
// y = x / (1 + |x|)         dy/dx = 1 / (1 + |x|)^2
Tensor softsign(const Tensor& x);

// ---- padding ----
// torch.nn.functional.pad: `pad` lists (left, right) pairs starting from the LAST dim, so (1, 2)
// pads the last dim with 1 before and 2 after and (1, 1, 2, 2) also pads the dim before it.
// mode "constant" fills with `value` and allows negative pads (cropping); "reflect" mirrors
// without repeating the edge, "replicate" repeats the edge, "circular" wraps around (these three
// pad the last 1, 2 or 3 dims of a 2-3-D, 3-4-D or 4-5-D input). Backward: constant pad crops the
// gradient (a pad with the negated widths); the others are index_selects, whose backward sums.
Tensor pad(const Tensor& input, const std::vector<int64_t>& pad, const std::string& mode = "constant",
           double value = 0.0);

// ---- im2col / col2im ----
// Sliding blocks of a (N, C, H, W) input as columns: (N, C*kh*kw, L), L = Ho*Wo, the row index being
// (c*kh + i)*kw + j, zeros where a block hangs over the padding. A 3-D (C, H, W) input gives
// (C*kh*kw, L). Backward: fold (overlapping blocks sum their gradients).
// C++ argument order is (kernel, stride, padding, dilation) as in conv2d; torch's Python order is
// (kernel_size, dilation, padding, stride), which the bindings keep.
Tensor unfold(const Tensor& input, Size2 kernel_size, Size2 stride = {1, 1}, Size2 padding = {0, 0},
              Size2 dilation = {1, 1});
// The adjoint of unfold: (N, C*kh*kw, L) columns summed back into (N, C, H, W), H, W = output_size
// (a 2-D input gives (C, H, W)). Backward: unfold.
Tensor fold(const Tensor& input, Size2 output_size, Size2 kernel_size, Size2 stride = {1, 1},
            Size2 padding = {0, 0}, Size2 dilation = {1, 1});

// ---- convolution ----
// input (N, C, H, W) or (C, H, W), weight (O, C/groups, kh, kw), bias (O,) or undefined
// -> (N, O, Ho, Wo), Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1. Cross-correlation, as PyTorch (no
// kernel flip). groups splits the channels: output channels [g O/G, (g+1) O/G) see only input
// channels [g C/G, (g+1) C/G).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(), Size2 stride = {1, 1},
              Size2 padding = {0, 0}, Size2 dilation = {1, 1}, int64_t groups = 1);
// padding "valid" (= 0) or "same" (output H, W = input H, W; stride must be 1; a const char* so that
// a braced {ph, pw} never converts to it). For a total padding
// d (k - 1) that is odd, the extra row/column goes at the bottom/right, as torch does.
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias, Size2 stride,
              const char* padding, Size2 dilation = {1, 1}, int64_t groups = 1);

// ---- pooling (input (N, C, H, W) or (C, H, W); stride defaults to the kernel size) ----
// ceil_mode: Ho = ceil((H + 2 ph - dh (kh - 1) - 1) / sh) + 1, less one if that last window would
// start past the input and its left padding ((Ho - 1) sh >= H + ph), as torch. (In C++ ceil_mode
// is the last argument; torch's Python order is kept by the bindings.)
// Max over each window, padding counting as -inf; the gradient goes to the window's argmax (the
// first on ties, a NaN if there is one, as PyTorch). Also returns the argmax as int64 indices into
// each (H*W) plane, like torch's return_indices=True.
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 kernel_size,
                                                  std::optional<Size2> stride = std::nullopt,
                                                  Size2 padding = {0, 0}, Size2 dilation = {1, 1},
                                                  bool ceil_mode = false);
Tensor max_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = {0, 0}, Size2 dilation = {1, 1}, bool ceil_mode = false);
// Mean over each window. count_include_pad: divide by the window's size within the padded input
// (kh*kw, except where ceil_mode's last window hangs past the padding) or by the number of real
// elements; divisor_override replaces either divisor.
Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = {0, 0}, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt, bool ceil_mode = false);

}  // namespace chainrule
