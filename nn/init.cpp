// nn::init: PyTorch's initialisation formulas, filling tensors in place under no-grad.
#include "nn/init.h"

#include <algorithm>
#include <cctype>
#include <cmath>

#include "core/autograd.h"

namespace chainrule::nn::init {

double calculate_gain(const std::string& nonlinearity, std::optional<double> param) {
  static const char* linear[] = {"linear",           "conv1d",           "conv2d",           "conv3d",
                                 "conv_transpose1d", "conv_transpose2d", "conv_transpose3d", "sigmoid"};
  for (const char* name : linear)
    if (nonlinearity == name) return 1.0;
  if (nonlinearity == "tanh") return 5.0 / 3;
  if (nonlinearity == "relu") return std::sqrt(2.0);
  if (nonlinearity == "leaky_relu") {
    const double slope = param.value_or(0.01);
    return std::sqrt(2.0 / (1 + slope * slope));
  }
  if (nonlinearity == "selu") return 3.0 / 4;  // found empirically (pytorch/pytorch#50664)
  throw std::invalid_argument(
      "calculate_gain: expected one of linear, conv1d, conv2d, conv3d, "
      "conv_transpose1d/2d/3d, sigmoid, tanh, relu, leaky_relu, selu, got '" +
      nonlinearity + "'");
}

std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t) {
  CR_CHECK(t.dim() >= 2, std::invalid_argument,
           "calculate_fan_in_and_fan_out: expected a tensor of at least 2 dims (out, in, *), got ", t.shape(),
           "; fan in and fan out can't be computed for fewer");
  int64_t receptive = 1;
  for (int64_t d = 2; d < t.dim(); ++d) receptive *= t.size(d);
  return {t.size(1) * receptive, t.size(0) * receptive};
}

namespace {
int64_t correct_fan(const Tensor& t, std::string mode) {
  std::transform(mode.begin(), mode.end(), mode.begin(), [](unsigned char c) { return std::tolower(c); });
  CR_CHECK(mode == "fan_in" || mode == "fan_out", std::invalid_argument,
           "kaiming: expected mode 'fan_in' or 'fan_out', got '", mode, "'");
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return mode == "fan_in" ? fan_in : fan_out;
}

double xavier_std(const Tensor& t, double gain) {
  auto [fan_in, fan_out] = calculate_fan_in_and_fan_out(t);
  return gain * std::sqrt(2.0 / static_cast<double>(fan_in + fan_out));
}

double kaiming_std(const Tensor& t, double a, const std::string& mode, const std::string& nonlinearity) {
  const double fan = static_cast<double>(correct_fan(t, mode));
  return calculate_gain(nonlinearity, a) / std::sqrt(fan);
}
}  // namespace

Tensor uniform_(Tensor t, double a, double b) {
  NoGradGuard no_grad;
  t.uniform_(a, b);
  return t;
}

Tensor normal_(Tensor t, double mean, double std) {
  NoGradGuard no_grad;
  t.normal_(mean, std);
  return t;
}

Tensor constant_(Tensor t, double value) {
  NoGradGuard no_grad;
  t.fill_(value);
  return t;
}

Tensor zeros_(Tensor t) { return constant_(std::move(t), 0.0); }
Tensor ones_(Tensor t) { return constant_(std::move(t), 1.0); }

// Var(U(-b, b)) = b^2 / 3, so b = sqrt(3) std gives the wanted std.
Tensor xavier_uniform_(Tensor t, double gain) {
  const double bound = std::sqrt(3.0) * xavier_std(t, gain);
  return uniform_(std::move(t), -bound, bound);
}

Tensor xavier_normal_(Tensor t, double gain) {
  const double std = xavier_std(t, gain);
  return normal_(std::move(t), 0.0, std);
}

Tensor kaiming_uniform_(Tensor t, double a, const std::string& mode, const std::string& nonlinearity) {
  if (t.numel() == 0) return t;  // as torch: nothing to fill (and no fan to divide by)
  const double bound = std::sqrt(3.0) * kaiming_std(t, a, mode, nonlinearity);
  return uniform_(std::move(t), -bound, bound);
}

Tensor kaiming_normal_(Tensor t, double a, const std::string& mode, const std::string& nonlinearity) {
  if (t.numel() == 0) return t;
  const double std = kaiming_std(t, a, mode, nonlinearity);
  return normal_(std::move(t), 0.0, std);
}

}  // namespace chainrule::nn::init
