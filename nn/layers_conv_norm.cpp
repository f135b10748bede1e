// The layers built on nn::functional and the convolution ops: GELU, Dropout, BatchNorm1d,
// LayerNorm, Conv2d, MaxPool2d, AvgPool2d.
#include <cmath>
#include <sstream>

#include "core/autograd.h"
#include "core/ops_nn.h"
#include "nn/functional.h"
#include "nn/layers.h"

namespace chainrule::nn {

namespace {
std::string pair_str(std::pair<int64_t, int64_t> p) {
  return "(" + std::to_string(p.first) + ", " + std::to_string(p.second) + ")";
}
Size2 size2(std::pair<int64_t, int64_t> p) { return {p.first, p.second}; }
}  // namespace

GELU::GELU(std::string a) : Module("GELU"), approximate(std::move(a)) {
  CR_CHECK(approximate == "none" || approximate == "tanh", std::invalid_argument,
           "GELU: expected approximate 'none' or 'tanh', got '", approximate, "'");
}
Tensor GELU::forward(const Tensor& x) { return gelu(x, approximate); }
std::string GELU::extra_repr() const { return "approximate='" + approximate + "'"; }

Dropout::Dropout(double p) : Module("Dropout"), p(p) {
  CR_CHECK(p >= 0 && p <= 1, std::invalid_argument, "Dropout: expected p in [0, 1], got ", p);
}
Tensor Dropout::forward(const Tensor& x) { return functional::dropout(x, p, is_training()); }
std::string Dropout::extra_repr() const { return "p=" + repr_float(p) + ", inplace=False"; }

// ---------------------------------------------------------------- BatchNorm1d
BatchNorm1d::BatchNorm1d(int64_t n, double eps, double momentum, bool affine, bool track, Dtype dtype)
    : Module("BatchNorm1d"),
      num_features(n),
      eps(eps),
      momentum(momentum),
      affine(affine),
      track_running_stats(track) {
  CR_CHECK(n > 0, std::invalid_argument, "BatchNorm1d: expected num_features > 0, got ", n);
  register_parameter("weight", affine ? ones({n}, dtype) : Tensor());
  register_parameter("bias", affine ? zeros({n}, dtype) : Tensor());
  if (track) {
    register_buffer("running_mean", zeros({n}, dtype));
    register_buffer("running_var", ones({n}, dtype));
    register_buffer("num_batches_tracked", zeros({}, kInt64));
  }
}

Tensor BatchNorm1d::forward(const Tensor& x) {
  CR_CHECK((x.dim() == 2 || x.dim() == 3) && x.size(1) == num_features, std::invalid_argument,
           "BatchNorm1d: expected input (N, ", num_features, ") or (N, ", num_features, ", L), got ",
           x.shape());
  bool use_batch_stats = is_training() || !track_running_stats;
  if (is_training() && track_running_stats) {
    NoGradGuard no_grad;
    num_batches_tracked().add_(1);
  }
  return functional::batch_norm(x, running_mean(), running_var(), weight(), bias(), use_batch_stats, momentum,
                                eps);
}

std::string BatchNorm1d::extra_repr() const {
  return std::to_string(num_features) + ", eps=" + repr_float(eps) + ", momentum=" + repr_float(momentum) +
         ", affine=" + (affine ? "True" : "False") +
         ", track_running_stats=" + (track_running_stats ? "True" : "False");
}

// ---------------------------------------------------------------- LayerNorm
LayerNorm::LayerNorm(Shape shape, double eps, bool affine, Dtype dtype)
    : Module("LayerNorm"), normalized_shape(std::move(shape)), eps(eps), elementwise_affine(affine) {
  register_parameter("weight", affine ? ones(normalized_shape, dtype) : Tensor());
  register_parameter("bias", affine ? zeros(normalized_shape, dtype) : Tensor());
}
Tensor LayerNorm::forward(const Tensor& x) {
  return functional::layer_norm(x, normalized_shape, weight(), bias(), eps);
}
std::string LayerNorm::extra_repr() const {
  std::string s = shape_str(normalized_shape);
  return s + ", eps=" + repr_float(eps) + ", elementwise_affine=" + (elementwise_affine ? "True" : "False");
}

// ---------------------------------------------------------------- Conv2d and pooling
Conv2d::Conv2d(int64_t in, int64_t out, std::pair<int64_t, int64_t> k, std::pair<int64_t, int64_t> stride,
               std::pair<int64_t, int64_t> padding, bool with_bias, Dtype dtype)
    : Module("Conv2d"), in_channels(in), out_channels(out), kernel_size(k), stride(stride), padding(padding) {
  CR_CHECK(in > 0 && out > 0 && k.first > 0 && k.second > 0, std::invalid_argument,
           "Conv2d: expected positive channels and kernel size, got in_channels=", in, ", out_channels=", out,
           ", kernel_size=", pair_str(k));
  // PyTorch's default (kaiming_uniform_ with a = sqrt(5)) is U(-1/sqrt(fan_in), 1/sqrt(fan_in)).
  double bound = 1.0 / std::sqrt(static_cast<double>(in * k.first * k.second));
  NoGradGuard no_grad;
  register_parameter("weight", empty({out, in, k.first, k.second}, dtype).uniform_(-bound, bound));
  register_parameter("bias", with_bias ? empty({out}, dtype).uniform_(-bound, bound) : Tensor());
}
Tensor Conv2d::forward(const Tensor& x) { return conv2d(x, weight(), bias(), size2(stride), size2(padding)); }
std::string Conv2d::extra_repr() const {
  std::string s = std::to_string(in_channels) + ", " + std::to_string(out_channels) +
                  ", kernel_size=" + pair_str(kernel_size) + ", stride=" + pair_str(stride);
  if (padding.first || padding.second) s += ", padding=" + pair_str(padding);
  if (!bias().defined()) s += ", bias=False";
  return s;
}

MaxPool2d::MaxPool2d(std::pair<int64_t, int64_t> k, std::pair<int64_t, int64_t> s,
                     std::pair<int64_t, int64_t> p)
    : Module("MaxPool2d"), kernel_size(k), stride(s.first ? s : k), padding(p) {}
Tensor MaxPool2d::forward(const Tensor& x) {
  return max_pool2d(x, size2(kernel_size), size2(stride), size2(padding));
}
std::string MaxPool2d::extra_repr() const {
  return "kernel_size=" + pair_str(kernel_size) + ", stride=" + pair_str(stride) +
         ", padding=" + pair_str(padding);
}

AvgPool2d::AvgPool2d(std::pair<int64_t, int64_t> k, std::pair<int64_t, int64_t> s,
                     std::pair<int64_t, int64_t> p)
    : Module("AvgPool2d"), kernel_size(k), stride(s.first ? s : k), padding(p) {}
Tensor AvgPool2d::forward(const Tensor& x) {
  return avg_pool2d(x, size2(kernel_size), size2(stride), size2(padding));
}
std::string AvgPool2d::extra_repr() const {
  return "kernel_size=" + pair_str(kernel_size) + ", stride=" + pair_str(stride) +
         ", padding=" + pair_str(padding);
}

}  // namespace chainrule::nn
