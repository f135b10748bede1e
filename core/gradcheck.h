// gradcheck / gradgradcheck: compare autograd's Jacobian (and the Jacobian of the gradient) with
// central finite differences in float64, and say exactly where they disagree.
#pragma once
#include <functional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace chainrule {

struct GradcheckResult {
  bool ok = true;
  std::string message;  // on failure: which input, which element, analytic vs numeric, error
  explicit operator bool() const { return ok; }
};

using GradcheckFn = std::function<Tensor(const std::vector<Tensor>&)>;

// fn maps the inputs to one output tensor (any shape). Inputs that require grad are checked;
// they should be float64 (a float32 input makes the result a failure with a message saying so).
// The check passes when |analytic - numeric| <= atol + rtol * |numeric| for every element.
GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, double eps = 1e-6,
                          double atol = 1e-5, double rtol = 1e-3);

// Checks second derivatives: the gradient of <fn(inputs), v> (v a fixed random cotangent),
// computed with create_graph=true, is itself gradchecked.
GradcheckResult gradgradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, double eps = 1e-6,
                              double atol = 1e-5, double rtol = 1e-3);

}  // namespace chainrule
