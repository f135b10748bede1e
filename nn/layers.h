// The layers of chainrule::nn, each a Module with PyTorch's name, arguments, defaults and
// default initialisation: Linear, Sequential, ModuleList, Identity, Flatten, the activations,
// Dropout, BatchNorm1d, LayerNorm, Conv2d, MaxPool2d, AvgPool2d.
#pragma once
#include <memory>
#include <string>
#include <vector>

#include "nn/module.h"

namespace chainrule::nn {

// Layers read their parameters and buffers by name (weight(), bias(), ...) rather than keeping
// copies, so a parameter replaced through the registry (Python: lin.weight = Parameter(...)) is the
// one forward uses.

// y = x W^T + b; W (out, in), b (out,), both U(-1/sqrt(in), 1/sqrt(in)) as PyTorch initialises them.
class Linear : public Module {
 public:
  CHAINRULE_COPY_SELF(Linear)
  Linear(int64_t in_features, int64_t out_features, bool bias = true, Dtype dtype = get_default_dtype());
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Tensor weight() const { return parameter("weight"); }
  Tensor bias() const { return parameter("bias"); }  // undefined without bias
  int64_t in_features, out_features;
};

// Runs its children in order, each on the previous one's output.
class Sequential : public Module {
 public:
  CHAINRULE_COPY_SELF(Sequential)
  Sequential() : Module("Sequential") {}
  explicit Sequential(std::vector<std::shared_ptr<Module>> modules);
  Tensor forward(const Tensor& x) override;
  void push_back(std::shared_ptr<Module> m);  // named "0", "1", ...
  size_t size() const { return children_.size(); }
  std::shared_ptr<Module> operator[](int64_t i) const;
};

// A list of modules whose parameters are registered; it has no forward of its own.
class ModuleList : public Module {
 public:
  CHAINRULE_COPY_SELF(ModuleList)
  ModuleList() : Module("ModuleList") {}
  explicit ModuleList(std::vector<std::shared_ptr<Module>> modules);
  void push_back(std::shared_ptr<Module> m);
  size_t size() const { return children_.size(); }
  std::shared_ptr<Module> operator[](int64_t i) const;
};

class Identity : public Module {
 public:
  CHAINRULE_COPY_SELF(Identity)
  Identity() : Module("Identity") {}
  Tensor forward(const Tensor& x) override { return x; }
};

// (N, d1, d2, ...) -> (N, d1*d2*...) by default (start_dim=1, end_dim=-1).
class Flatten : public Module {
 public:
  CHAINRULE_COPY_SELF(Flatten)
  explicit Flatten(int64_t start_dim = 1, int64_t end_dim = -1)
      : Module("Flatten"), start_dim(start_dim), end_dim(end_dim) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t start_dim, end_dim;
};

// Activations: stateless wrappers of the ops of the same name.
class ReLU : public Module {
 public:
  CHAINRULE_COPY_SELF(ReLU)
  ReLU() : Module("ReLU") {}
  Tensor forward(const Tensor& x) override;
};
class LeakyReLU : public Module {
 public:
  CHAINRULE_COPY_SELF(LeakyReLU)
  explicit LeakyReLU(double negative_slope = 0.01) : Module("LeakyReLU"), negative_slope(negative_slope) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double negative_slope;
};
class Sigmoid : public Module {
 public:
  CHAINRULE_COPY_SELF(Sigmoid)
  Sigmoid() : Module("Sigmoid") {}
  Tensor forward(const Tensor& x) override;
};
class Tanh : public Module {
 public:
  CHAINRULE_COPY_SELF(Tanh)
  Tanh() : Module("Tanh") {}
  Tensor forward(const Tensor& x) override;
};
class GELU : public Module {
 public:
  CHAINRULE_COPY_SELF(GELU)
  explicit GELU(std::string approximate = "none");
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::string approximate;
};
class Softplus : public Module {
 public:
  CHAINRULE_COPY_SELF(Softplus)
  explicit Softplus(double beta = 1.0, double threshold = 20.0)
      : Module("Softplus"), beta(beta), threshold(threshold) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double beta, threshold;
};
class Softmax : public Module {
 public:
  CHAINRULE_COPY_SELF(Softmax)
  explicit Softmax(int64_t dim = -1) : Module("Softmax"), dim(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t dim;
};
class LogSoftmax : public Module {
 public:
  CHAINRULE_COPY_SELF(LogSoftmax)
  explicit LogSoftmax(int64_t dim = -1) : Module("LogSoftmax"), dim(dim) {}
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  int64_t dim;
};

// Zeroes each element with probability p in training (scaling the rest by 1/(1-p)); identity in eval.
class Dropout : public Module {
 public:
  CHAINRULE_COPY_SELF(Dropout)
  explicit Dropout(double p = 0.5);
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  double p;
};

// Normalises each feature over the batch (N, C) or (N, C, L); keeps running statistics for eval.
class BatchNorm1d : public Module {
 public:
  CHAINRULE_COPY_SELF(BatchNorm1d)
  explicit BatchNorm1d(int64_t num_features, double eps = 1e-5, double momentum = 0.1, bool affine = true,
                       bool track_running_stats = true, Dtype dtype = get_default_dtype());
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Tensor weight() const { return parameter("weight"); }
  Tensor bias() const { return parameter("bias"); }
  Tensor running_mean() const { return track_running_stats ? buffer("running_mean") : Tensor(); }
  Tensor running_var() const { return track_running_stats ? buffer("running_var") : Tensor(); }
  Tensor num_batches_tracked() const {
    return track_running_stats ? buffer("num_batches_tracked") : Tensor();
  }
  int64_t num_features;
  double eps, momentum;
  bool affine, track_running_stats;
};

// Normalises over the trailing dims given by normalized_shape.
class LayerNorm : public Module {
 public:
  CHAINRULE_COPY_SELF(LayerNorm)
  explicit LayerNorm(Shape normalized_shape, double eps = 1e-5, bool elementwise_affine = true,
                     Dtype dtype = get_default_dtype());
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Tensor weight() const { return parameter("weight"); }
  Tensor bias() const { return parameter("bias"); }
  Shape normalized_shape;
  double eps;
  bool elementwise_affine;
};

// (N, C, H, W) -> (N, O, Ho, Wo); weight (O, C, kh, kw) and bias (O,) initialised as PyTorch.
class Conv2d : public Module {
 public:
  CHAINRULE_COPY_SELF(Conv2d)
  Conv2d(int64_t in_channels, int64_t out_channels, std::pair<int64_t, int64_t> kernel_size,
         std::pair<int64_t, int64_t> stride = {1, 1}, std::pair<int64_t, int64_t> padding = {0, 0},
         bool bias = true, Dtype dtype = get_default_dtype());
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  Tensor weight() const { return parameter("weight"); }
  Tensor bias() const { return parameter("bias"); }
  int64_t in_channels, out_channels;
  std::pair<int64_t, int64_t> kernel_size, stride, padding;
};

class MaxPool2d : public Module {
 public:
  CHAINRULE_COPY_SELF(MaxPool2d)
  MaxPool2d(std::pair<int64_t, int64_t> kernel_size, std::pair<int64_t, int64_t> stride = {0, 0},
            std::pair<int64_t, int64_t> padding = {0, 0});  // stride 0: equal to kernel_size
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::pair<int64_t, int64_t> kernel_size, stride, padding;
};

class AvgPool2d : public Module {
 public:
  CHAINRULE_COPY_SELF(AvgPool2d)
  AvgPool2d(std::pair<int64_t, int64_t> kernel_size, std::pair<int64_t, int64_t> stride = {0, 0},
            std::pair<int64_t, int64_t> padding = {0, 0});
  Tensor forward(const Tensor& x) override;
  std::string extra_repr() const override;
  std::pair<int64_t, int64_t> kernel_size, stride, padding;
};

}  // namespace chainrule::nn
