// Linear, the containers (Sequential, ModuleList), Identity, Flatten and the activation modules.
#include "nn/layers.h"

#include <cmath>

#include "core/autograd.h"
#include "core/ops.h"

namespace chainrule::nn {

// ---------------------------------------------------------------- Linear
Linear::Linear(int64_t in, int64_t out, bool with_bias, Dtype dtype)
    : Module("Linear"), in_features(in), out_features(out) {
  CR_CHECK(in >= 0 && out >= 0, std::invalid_argument,
           "Linear: expected non-negative sizes, got in_features=", in, ", out_features=", out);
  CR_CHECK(is_floating(dtype), std::invalid_argument, "Linear: expected a floating dtype, got ",
           dtype_name(dtype));
  // PyTorch's default: kaiming_uniform_(a=sqrt(5)) for W and U(-1/sqrt(in), 1/sqrt(in)) for b,
  // which both come to the same bound.
  double bound = in > 0 ? 1.0 / std::sqrt(static_cast<double>(in)) : 0.0;
  NoGradGuard no_grad;
  register_parameter("weight", empty({out, in}, dtype).uniform_(-bound, bound));
  register_parameter("bias", with_bias ? empty({out}, dtype).uniform_(-bound, bound) : Tensor());
}

Tensor Linear::forward(const Tensor& x) {
  CR_CHECK(x.dim() >= 1 && x.size(-1) == in_features, std::invalid_argument, "Linear: expected input (..., ",
           in_features, "), got ", x.shape());
  return linear(x, weight(), bias());
}

std::string Linear::extra_repr() const {
  return "in_features=" + std::to_string(in_features) + ", out_features=" + std::to_string(out_features) +
         ", bias=" + (bias().defined() ? "True" : "False");
}

// ---------------------------------------------------------------- containers
Sequential::Sequential(std::vector<std::shared_ptr<Module>> modules) : Module("Sequential") {
  for (auto& m : modules) push_back(std::move(m));
}

void Sequential::push_back(std::shared_ptr<Module> m) {
  CR_CHECK(m != nullptr, std::invalid_argument, "Sequential: expected a module, got null");
  register_module(std::to_string(children_.size()), std::move(m));
}

std::shared_ptr<Module> Sequential::operator[](int64_t i) const {
  int64_t n = static_cast<int64_t>(children_.size());
  CR_CHECK(i >= -n && i < n, std::out_of_range, "Sequential: index ", i, " is out of range for ", n,
           " modules");
  return children_[i < 0 ? i + n : i].second;
}

Tensor Sequential::forward(const Tensor& x) {
  Tensor y = x;
  for (auto& [name, m] : children_) y = (*m)(y);  // with each child's hooks
  return y;
}

ModuleList::ModuleList(std::vector<std::shared_ptr<Module>> modules) : Module("ModuleList") {
  for (auto& m : modules) push_back(std::move(m));
}

void ModuleList::push_back(std::shared_ptr<Module> m) {
  CR_CHECK(m != nullptr, std::invalid_argument, "ModuleList: expected a module, got null");
  register_module(std::to_string(children_.size()), std::move(m));
}

std::shared_ptr<Module> ModuleList::operator[](int64_t i) const {
  int64_t n = static_cast<int64_t>(children_.size());
  CR_CHECK(i >= -n && i < n, std::out_of_range, "ModuleList: index ", i, " is out of range for ", n,
           " modules");
  return children_[i < 0 ? i + n : i].second;
}

// ---------------------------------------------------------------- shape and activations
Tensor Flatten::forward(const Tensor& x) { return flatten(x, start_dim, end_dim); }
std::string Flatten::extra_repr() const {
  return "start_dim=" + std::to_string(start_dim) + ", end_dim=" + std::to_string(end_dim);
}

Tensor ReLU::forward(const Tensor& x) { return relu(x); }
Tensor LeakyReLU::forward(const Tensor& x) { return leaky_relu(x, negative_slope); }
std::string LeakyReLU::extra_repr() const { return "negative_slope=" + repr_float(negative_slope); }
Tensor Sigmoid::forward(const Tensor& x) { return sigmoid(x); }
Tensor Tanh::forward(const Tensor& x) { return tanh(x); }
Tensor Softplus::forward(const Tensor& x) { return softplus(x, beta, threshold); }
std::string Softplus::extra_repr() const {
  return "beta=" + repr_float(beta) + ", threshold=" + repr_float(threshold);
}
Tensor Softmax::forward(const Tensor& x) { return softmax(x, dim); }
std::string Softmax::extra_repr() const { return "dim=" + std::to_string(dim); }
Tensor LogSoftmax::forward(const Tensor& x) { return log_softmax(x, dim); }
std::string LogSoftmax::extra_repr() const { return "dim=" + std::to_string(dim); }

}  // namespace chainrule::nn
