// nn::utils: gradient clipping (by total norm or by value), as torch.nn.utils, and flattening
// parameters into one vector and back.
#pragma once
#include <vector>

#include "core/tensor.h"

namespace chainrule::nn::utils {

// The norm of the tensors taken together, ‖(‖t_1‖_p, ‖t_2‖_p, ...)‖_p, p > 0 or INFINITY (the
// largest |t|), as a 0-d tensor of their promoted dtype; no tensors give 0 (float32).
// error_if_nonfinite: a NaN or infinite total is std::runtime_error.
Tensor get_total_norm(const std::vector<Tensor>& tensors, double norm_type = 2.0,
                      bool error_if_nonfinite = false);

// Scales the parameters' gradients in place by min(1, max_norm / (total_norm + 1e-6)).
void clip_grads_with_norm_(const std::vector<Tensor>& params, double max_norm, const Tensor& total_norm);

// Both of the above on the parameters' gradients (parameters without one are skipped): returns
// the total norm before clipping, as torch.nn.utils.clip_grad_norm_.
Tensor clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type = 2.0,
                       bool error_if_nonfinite = false);

// Clamps every gradient in place to [-clip_value, clip_value].
void clip_grad_value_(const std::vector<Tensor>& params, double clip_value);

// All parameters flattened and concatenated (differentiable), and the inverse: copies consecutive
// slices of vec into the parameters in place (under no-grad).
Tensor parameters_to_vector(const std::vector<Tensor>& params);
void vector_to_parameters(const Tensor& vec, const std::vector<Tensor>& params);

}  // namespace chainrule::nn::utils
