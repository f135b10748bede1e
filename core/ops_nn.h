// The differentiable ops that layers are built from: erf/gelu, the im2col pair unfold/fold, conv2d
// (unfold + one matmul) and 2-D pooling. Names and semantics follow torch.nn.functional; every
// backward is written with differentiable ops, so double backward works.
#pragma once
#include <array>
#include <cstdint>
#include <optional>
#include <string>
#include <utility>

#include "core/ops.h"

namespace chainrule {

// (height, width) of a kernel, stride, padding, dilation or output size.
using Size2 = std::array<int64_t, 2>;

// ---- activations ----
// y = erf(x)               dy/dx = 2/sqrt(pi) e^{-x^2}
Tensor erf(const Tensor& x);
// approximate "none":  x/2 (1 + erf(x/sqrt 2));  "tanh": x/2 (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
Tensor gelu(const Tensor& x, const std::string& approximate = "none");

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
// input (N, C, H, W) or (C, H, W), weight (O, C, kh, kw), bias (O,) or undefined -> (N, O, Ho, Wo),
// Ho = (H + 2 ph - dh (kh - 1) - 1) / sh + 1. Cross-correlation, as PyTorch (no kernel flip).
Tensor conv2d(const Tensor& input, const Tensor& weight, const Tensor& bias = Tensor(),
              Size2 stride = {1, 1}, Size2 padding = {0, 0}, Size2 dilation = {1, 1});

// ---- pooling (input (N, C, H, W) or (C, H, W); stride defaults to the kernel size) ----
// Max over each window, padding counting as -inf; the gradient goes to the window's argmax (the
// first on ties, a NaN if there is one, as PyTorch). Also returns the argmax as int64 indices into
// each (H*W) plane, like torch's return_indices=True.
std::pair<Tensor, Tensor> max_pool2d_with_indices(const Tensor& input, Size2 kernel_size,
                                                  std::optional<Size2> stride = std::nullopt,
                                                  Size2 padding = {0, 0}, Size2 dilation = {1, 1});
Tensor max_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = {0, 0}, Size2 dilation = {1, 1});
// Mean over each window. count_include_pad: divide by kh*kw (padding counts as zeros) or by the
// number of real elements; divisor_override replaces either divisor.
Tensor avg_pool2d(const Tensor& input, Size2 kernel_size, std::optional<Size2> stride = std::nullopt,
                  Size2 padding = {0, 0}, bool count_include_pad = true,
                  std::optional<int64_t> divisor_override = std::nullopt);

}  // namespace chainrule
