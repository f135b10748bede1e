// nn::init: in-place parameter initialisers with PyTorch's formulas (fan_in / fan_out as torch's
// _calculate_fan_in_and_fan_out). Each runs under no-grad and returns the tensor it filled.
#pragma once
#include <optional>
#include <string>
#include <utility>

#include "core/tensor.h"

namespace chainrule::nn::init {

// The recommended gain for a nonlinearity: 1 for linear/conv*/sigmoid, 5/3 for tanh, sqrt(2) for
// relu, sqrt(2 / (1 + slope^2)) for leaky_relu (param = slope, default 0.01), 3/4 for selu.
double calculate_gain(const std::string& nonlinearity, std::optional<double> param = std::nullopt);

// (fan_in, fan_out) = (size(1), size(0)) times the receptive field (the product of dims 2..);
// tensors of fewer than 2 dims have none (std::invalid_argument).
std::pair<int64_t, int64_t> calculate_fan_in_and_fan_out(const Tensor& t);

Tensor uniform_(Tensor t, double a = 0.0, double b = 1.0);      // U(a, b)
Tensor normal_(Tensor t, double mean = 0.0, double std = 1.0);  // N(mean, std^2)
Tensor constant_(Tensor t, double value);
Tensor zeros_(Tensor t);
Tensor ones_(Tensor t);

// Glorot: std = gain sqrt(2 / (fan_in + fan_out)); uniform on ±sqrt(3) std, or normal.
Tensor xavier_uniform_(Tensor t, double gain = 1.0);
Tensor xavier_normal_(Tensor t, double gain = 1.0);

// He: std = calculate_gain(nonlinearity, a) / sqrt(fan), fan = fan_in or fan_out (mode);
// uniform on ±sqrt(3) std, or normal. Zero-element tensors are left as they are.
Tensor kaiming_uniform_(Tensor t, double a = 0.0, const std::string& mode = "fan_in",
                        const std::string& nonlinearity = "leaky_relu");
Tensor kaiming_normal_(Tensor t, double a = 0.0, const std::string& mode = "fan_in",
                       const std::string& nonlinearity = "leaky_relu");

}  // namespace chainrule::nn::init
