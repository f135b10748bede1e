// nn::utils: gradient clipping and parameter flattening. Gradients are changed in place under
// no-grad, so optimizers see the clipped values.
#include "nn/utils.h"

#include <algorithm>
#include <cmath>
#include <string>

#include "core/ops.h"

namespace chainrule::nn::utils {
namespace {
std::vector<Tensor> grads_of(const std::vector<Tensor>& params) {
  std::vector<Tensor> grads;
  for (const Tensor& p : params)
    if (p.defined() && p.grad().defined()) grads.push_back(p.grad());
  return grads;
}

// Σ |g|^p (or max |g| for p = ∞), accumulated in double.
template <class T> double accumulate(const Tensor& g, double p, double acc) {
  const Tensor gc = g.detach().contiguous();
  const T* d = gc.data<T>();
  for (int64_t i = 0; i < g.numel(); ++i) {
    const double a = std::abs(static_cast<double>(d[i]));
    if (std::isinf(p)) acc = (a > acc || std::isnan(a)) ? a : acc;
    else acc += p == 2 ? a * a : p == 1 ? a : std::pow(a, p);
  }
  return acc;
}
}  // namespace

Tensor get_total_norm(const std::vector<Tensor>& tensors, double norm_type, bool error_if_nonfinite) {
  CR_CHECK(norm_type > 0, std::invalid_argument, "clip_grad_norm_: expected norm_type > 0 (or inf), got ",
           norm_type);
  if (tensors.empty()) return zeros({});
  Dtype dtype = tensors[0].dtype();
  double acc = 0;
  for (const Tensor& t : tensors) {
    CR_CHECK(t.defined() && is_floating(t.dtype()), std::invalid_argument,
             "clip_grad_norm_: expected floating gradients, got ",
             t.defined() ? dtype_name(t.dtype()) : "None");
    dtype = promote_types(dtype, t.dtype());
    acc =
        t.dtype() == kFloat32 ? accumulate<float>(t, norm_type, acc) : accumulate<double>(t, norm_type, acc);
  }
  const double total = std::isinf(norm_type) ? acc : std::pow(acc, 1.0 / norm_type);
  CR_CHECK(!error_if_nonfinite || std::isfinite(total), std::runtime_error,
           "clip_grad_norm_: the total norm of order ", norm_type, " of the gradients is ", total,
           ", so it can't be clipped; pass error_if_nonfinite=false to scale by it anyway");
  return scalar_tensor(total, dtype);
}

void clip_grads_with_norm_(const std::vector<Tensor>& params, double max_norm, const Tensor& total_norm) {
  CR_CHECK(total_norm.numel() == 1, std::invalid_argument,
           "clip_grads_with_norm_: expected a one-element total_norm, got shape ", total_norm.shape());
  // coef = max_norm / (total + 1e-6), at most 1, rounded as torch does it: in the norm's dtype,
  // and as reciprocal times max_norm (Python's number / tensor).
  double coef;
  if (total_norm.dtype() == kFloat32) {
    const float c = (1.0f / (static_cast<float>(total_norm.item()) + 1e-6f)) * static_cast<float>(max_norm);
    coef = std::min(c, 1.0f);
  } else {
    coef = std::min((1.0 / (total_norm.item() + 1e-6)) * max_norm, 1.0);
  }
  NoGradGuard no_grad;
  for (Tensor g : grads_of(params)) g.mul_(coef);
}

Tensor clip_grad_norm_(const std::vector<Tensor>& params, double max_norm, double norm_type,
                       bool error_if_nonfinite) {
  Tensor total = get_total_norm(grads_of(params), norm_type, error_if_nonfinite);
  clip_grads_with_norm_(params, max_norm, total);
  return total;
}

void clip_grad_value_(const std::vector<Tensor>& params, double clip_value) {
  NoGradGuard no_grad;
  for (Tensor g : grads_of(params)) g.copy_(clamp(g, -clip_value, clip_value));
}

Tensor parameters_to_vector(const std::vector<Tensor>& params) {
  std::vector<Tensor> flat;
  for (const Tensor& p : params) flat.push_back(reshape(p, {-1}));
  return flat.empty() ? zeros({0}) : cat(flat, 0);
}

void vector_to_parameters(const Tensor& vec, const std::vector<Tensor>& params) {
  int64_t total = 0;
  for (const Tensor& p : params) total += p.numel();
  CR_CHECK(vec.dim() == 1 && vec.numel() == total, std::invalid_argument,
           "vector_to_parameters: expected a 1-D vector of ", total,
           " elements (one per parameter "
           "value), got shape ",
           vec.shape());
  NoGradGuard no_grad;
  int64_t offset = 0;
  for (Tensor p : params) {
    p.copy_(reshape(slice(vec, 0, offset, offset + p.numel()), p.shape()));
    offset += p.numel();
  }
}

}  // namespace chainrule::nn::utils
