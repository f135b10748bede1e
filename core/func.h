// Function transforms with torch.func's names: derivatives of functions, not of tensors (grad,
// grad_and_value, vjp, jvp, linearize, jacrev, jacfwd, hessian, hvp). They compose (grad(grad(f)),
// hessian = jacfwd(jacrev(f))) because each differentiates at a differentiable alias of its input.
#pragma once
#include <functional>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace chainrule::func {

using Tensors = std::vector<Tensor>;
using Function = std::function<Tensors(const Tensors&)>;     // several inputs, several outputs
using UnaryFunction = std::function<Tensor(const Tensor&)>;  // one tensor in, one out
using Pullback = std::function<Tensors(const Tensors&)>;     // output cotangents -> input cotangents (vᵀJ)
using Pushforward = std::function<Tensors(const Tensors&)>;  // input tangents -> output tangents (J t)

// (f(primals), v -> vᵀJ per primal). `caller` names the transform the user called in errors. An
// input that no output depends on gets a zero derivative (the derivative of a constant), as torch.func.
std::pair<Tensors, Pullback> vjp(const Function& f, const Tensors& primals, const char* caller = "vjp");

// (f(primals), J t): the directional derivative along the tangents, without forming J: one
// forward-mode pass (forward_ad in autograd.h); inside an active dual level, or through an op
// without a tangent rule, the reverse pass of the (linear) pullback instead.
std::pair<Tensors, Tensors> jvp(const Function& f, const Tensors& primals, const Tensors& tangents,
                                const char* caller = "jvp");

// (f(primals), t -> J t) at fixed primals: the linear map of the tangent plane (f runs once; each
// call is a reverse pass of the pullback, so it needs no tangent rules).
std::pair<Tensors, Pushforward> linearize(const Function& f, const Tensors& primals);

// Jacobians: [output k][primal j] of shape out_k.shape + primal_j.shape. jacrev takes one backward
// pass per output element, jacfwd one tangent per input element (cheaper for wide outputs).
std::vector<Tensors> jacrev(const Function& f, const Tensors& primals, const char* caller = "jacrev");
std::vector<Tensors> jacfwd(const Function& f, const Tensors& primals, const char* caller = "jacfwd");

// (∇f per primal, f) for f returning one 0-d floating tensor; and H v = ∇(∇f · v) without forming H.
std::pair<Tensors, Tensor> grad_and_value(const Function& f, const Tensors& primals,
                                          const char* caller = "grad");
Tensors hvp(const Function& f, const Tensors& primals, const Tensors& v);

// One tensor in and out. f must return a 0-d floating tensor for grad, grad_and_value, hessian, hvp.
Tensor grad(const UnaryFunction& f, const Tensor& x);
std::pair<Tensor, Tensor> grad_and_value(const UnaryFunction& f, const Tensor& x);  // (∇f, f), torch's order
Tensor jacrev(const UnaryFunction& f, const Tensor& x);                             // out.shape + x.shape
Tensor jacfwd(const UnaryFunction& f, const Tensor& x);
Tensor hessian(const UnaryFunction& f, const Tensor& x);               // x.shape + x.shape
Tensor hvp(const UnaryFunction& f, const Tensor& x, const Tensor& v);  // H v, without forming H

// The transforms as functions, to compose: grad(grad(f)) is f'' of a scalar f.
UnaryFunction grad(UnaryFunction f);
UnaryFunction jacrev(UnaryFunction f);
UnaryFunction jacfwd(UnaryFunction f);
UnaryFunction hessian(UnaryFunction f);

}  // namespace chainrule::func
