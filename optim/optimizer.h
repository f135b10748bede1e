// chainrule::optim: optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) that update parameters in place
// under no-grad with PyTorch's exact update rules, param groups, state dicts and projections.
#pragma once
#include <cstdint>
#include <functional>
#include <map>
#include <memory>
#include <string>
#include <unordered_map>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace chainrule::optim {

// Ordered name -> tensor pairs (the same type as nn::StateDict), for checkpoints.
using TensorDict = std::vector<std::pair<std::string, Tensor>>;

// ---------------------------------------------------------------- hyperparameters
// One hyperparameter as PyTorch's param groups hold it: a number (lr), a flag (nesterov) or a pair
// of numbers (Adam's betas).
struct Hyper {
  enum Kind : uint8_t { Number, Flag, Pair };
  Kind kind = Number;
  double a = 0, b = 0;  // a: the number / flag (0 or 1) / first of the pair; b: second of the pair
  static Hyper number(double v) { return {Number, v, 0}; }
  static Hyper flag(bool v) { return {Flag, v ? 1.0 : 0.0, 0}; }
  static Hyper pair(double x, double y) { return {Pair, x, y}; }
};

// The hyperparameters of one param group, by name, in a fixed order (the optimizer's defaults
// first). Reading a missing name, or reading it as the wrong kind, is a clear error.
class Options {
 public:
  double number(const std::string& name) const;
  bool flag(const std::string& name) const;
  std::pair<double, double> pair(const std::string& name) const;
  const Hyper& at(const std::string& name) const;  // std::out_of_range naming the key
  bool has(const std::string& name) const;
  Options& set(const std::string& name, Hyper value);  // adds the name if it is new
  Options& set(const std::string& name, double value) { return set(name, Hyper::number(value)); }
  Options& set_flag(const std::string& name, bool value) { return set(name, Hyper::flag(value)); }
  const std::vector<std::pair<std::string, Hyper>>& entries() const { return entries_; }

 private:
  std::vector<std::pair<std::string, Hyper>> entries_;
};

// ---------------------------------------------------------------- constraints (projections)
// A constraint keeps parameters inside a closed convex set C by projecting them back after every
// step: p <- P_C(p), the point of C nearest to p. With plain SGD this is exactly *projected
// gradient descent*, x_{k+1} = P_C(x_k - lr * grad f(x_k)), which converges for convex f like
// gradient descent does on R^n. With momentum, Adam, RMSprop or Adagrad it is the common
// "update, then project" heuristic: the projection is Euclidean while those steps are not, so it
// keeps iterates feasible but is not the exact projected method of that geometry.
class Constraint {
 public:
  virtual ~Constraint() = default;
  virtual void project(Tensor& param) const = 0;  // in place, called under no-grad
  virtual std::string repr() const = 0;
};

// C = [lo, hi]^n: clamps every element (lo <= hi; either may be +-infinity).
class Box : public Constraint {
 public:
  Box(double lo, double hi);
  void project(Tensor& param) const override;
  std::string repr() const override;
  double lo() const { return lo_; }
  double hi() const { return hi_; }
 private:
  double lo_, hi_;
};

// C = [0, inf)^n: negative elements become 0 (e.g. non-negative matrix factorisation).
class NonNegative : public Constraint {
 public:
  void project(Tensor& param) const override;
  std::string repr() const override { return "NonNegative()"; }
};

// Each row (the slice p[i, ...] along dim 0; for a 0-d or 1-d tensor the whole tensor) has L2 norm
// <= max_norm: a longer row is scaled by max_norm / norm, its exact Euclidean projection onto the
// ball (torch.renorm divides by norm + 1e-7 instead). For a Linear weight (out, in) a row holds
// the weights into one output unit: the max-norm regularisation used with dropout.
class MaxNorm : public Constraint {
 public:
  explicit MaxNorm(double max_norm);
  void project(Tensor& param) const override;
  std::string repr() const override;
  double max_norm() const { return max_norm_; }
 private:
  double max_norm_;
};

// Any in-place projection written as a function (C++ users' own sets).
class LambdaConstraint : public Constraint {
 public:
  LambdaConstraint(std::function<void(Tensor&)> fn, std::string name = "LambdaConstraint()")
      : fn_(std::move(fn)), name_(std::move(name)) {}
  void project(Tensor& param) const override { fn_(param); }
  std::string repr() const override { return name_; }
 private:
  std::function<void(Tensor&)> fn_;
  std::string name_;
};

// ---------------------------------------------------------------- param groups and state
struct ParamGroup {
  std::vector<Tensor> params;
  Options options;  // entries left out are filled in from the optimizer's defaults
  std::shared_ptr<const Constraint> constraint;  // projection after every step (null: none)

  double lr() const { return options.number("lr"); }
  void set_lr(double lr) { options.set("lr", lr); }
};

// The state of one parameter: named tensors such as "step" (0-d float32, like PyTorch's),
// "exp_avg", "momentum_buffer". Empty until the parameter's first step.
class ParamState {
 public:
  bool empty() const { return entries_.empty(); }
  bool has(const std::string& name) const;
  Tensor get(const std::string& name) const;  // undefined when missing
  void set(const std::string& name, Tensor value);
  const std::vector<std::pair<std::string, Tensor>>& entries() const { return entries_; }
 private:
  std::vector<std::pair<std::string, Tensor>> entries_;
};

// What state_dict() returns: PyTorch's layout. Parameters are numbered 0, 1, ... across the groups
// in order; `state` maps a number to that parameter's state (parameters that never stepped have
// none) and each group lists its hyperparameters and the numbers of its parameters.
//
// For a checkpoint it flattens to
//   tensors():     "state.<i>.<name>" -> tensor, e.g. "state.0.exp_avg", "state.0.step" (0-d);
//   groups_json(): {"optimizer": "Adam", "param_groups": [{"lr": 0.001, "betas": [0.9, 0.999],
//                   "amsgrad": false, ..., "params": [0, 1]}, ...]}
// (numbers round-trip exactly; flags are JSON booleans, pairs two-element arrays). from_flat()
// rebuilds it; safetensors stores the tensors, with the JSON as a metadata string.
struct OptimizerState {
  std::string optimizer;  // "Adam"; load_state_dict refuses another optimizer's state
  std::map<int64_t, ParamState> state;
  struct Group {
    Options options;
    std::vector<int64_t> params;
  };
  std::vector<Group> param_groups;

  TensorDict tensors() const;
  std::string groups_json() const;
  // Keys other than "state.<i>.<name>" are an error; JSON keys an optimizer doesn't know are kept.
  static OptimizerState from_flat(const TensorDict& tensors, const std::string& groups_json);
};

// ---------------------------------------------------------------- the base class
class Optimizer {
 public:
  virtual ~Optimizer() = default;
  Optimizer(const Optimizer&) = delete;
  Optimizer& operator=(const Optimizer&) = delete;

  const std::string& name() const { return name_; }
  const Options& defaults() const { return defaults_; }
  std::vector<ParamGroup>& param_groups() { return groups_; }
  const std::vector<ParamGroup>& param_groups() const { return groups_; }

  // Appends a group: options it lacks come from the defaults; unknown options, bad values,
  // non-leaf or non-floating parameters and parameters already in a group are errors.
  void add_param_group(ParamGroup group);
  // Sets one hyperparameter of one group, checked like the constructor's.
  void set_option(size_t group, const std::string& name, Hyper value);
  void set_constraint(std::shared_ptr<const Constraint> c);  // on every group

  // Every parameter's gradient to undefined (PyTorch's set_to_none=True), or to zeros.
  void zero_grad(bool set_to_none = true);
  // One update of every parameter that has a gradient (others are skipped), under no-grad;
  // then each group's constraint projects all of the group's parameters.
  void step();
  // Re-evaluates the loss with grad mode on (the closure usually zeroes the grads and calls
  // backward), then steps; returns the closure's loss.
  Tensor step(const std::function<Tensor()>& closure);

  ParamState& state(const Tensor& param);              // created empty on first use
  const ParamState* find_state(const Tensor& param) const;  // null when none

  OptimizerState state_dict() const;  // copies: later steps don't change it
  // Copies the state in (cast to each parameter's dtype) and takes the groups' hyperparameters;
  // group count and sizes, state shapes and the optimizer's name must match.
  void load_state_dict(const OptimizerState& state);

 protected:
  Optimizer(std::string name, Options defaults);
  // Throws std::invalid_argument "<name>: expected <rule>, got <value>" for a bad hyperparameter.
  virtual void validate(const Options& options) const = 0;
  // Updates the parameters of one group that have gradients.
  virtual void step_group(ParamGroup& group) = 0;
  // step_group, with parameters that are strided views updated through dense stand-ins.
  void step_group_through_views(ParamGroup& group, size_t index);
  // State created when a parameter joins (Adagrad's accumulator); most optimizers create it lazily.
  virtual void init_state(const Tensor& param, const ParamGroup& group, ParamState& state);
  // The names of the state tensors this optimizer keeps ("exp_avg", ...): load_state_dict refuses
  // others (another optimizer's state).
  virtual std::vector<std::string> state_names() const = 0;
  // Adds each group after the derived class is complete (virtual calls work from there on).
  void add_param_groups(std::vector<ParamGroup> groups);

 private:
  std::string name_;
  Options defaults_;
  std::vector<ParamGroup> groups_;
  std::unordered_map<const TensorImpl*, ParamState> state_;
};

// Wraps a list of tensors as one group with no option overrides (no group for an empty list).
std::vector<ParamGroup> single_group(std::vector<Tensor> params);

// ---------------------------------------------------------------- SGD
// buf <- g (first step), then buf <- momentum * buf + (1 - dampening) * g; with nesterov the step
// direction is g + momentum * buf, else buf; p <- p - lr * direction. g includes weight_decay * p.
struct SGDOptions {
  double lr = 1e-3;
  double momentum = 0;
  double dampening = 0;
  double weight_decay = 0;
  bool nesterov = false;
  bool maximize = false;
  Options to_options() const;
};

class SGD : public Optimizer {
 public:
  SGD(std::vector<Tensor> params, const SGDOptions& options = {});
  SGD(std::vector<ParamGroup> groups, const SGDOptions& defaults = {});
  SGD(std::vector<ParamGroup> groups, const Options& defaults);  // names as in SGDOptions
 protected:
  void validate(const Options& o) const override;
  void step_group(ParamGroup& group) override;
  std::vector<std::string> state_names() const override { return {"momentum_buffer"}; }
};

// ---------------------------------------------------------------- Adam / AdamW
// m <- lerp(m, g, 1 - beta1), v <- beta2 v + (1 - beta2) g^2 (amsgrad: vmax <- max(vmax, v) is
// used instead of v), p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
// weight_decay adds wd * p to g (Adam), or first shrinks p <- p (1 - lr wd) (AdamW: decoupled).
struct AdamOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 0;
  bool amsgrad = false;
  bool maximize = false;
  bool decoupled_weight_decay = false;
  Options to_options() const;
};

class Adam : public Optimizer {
 public:
  Adam(std::vector<Tensor> params, const AdamOptions& options = {});
  Adam(std::vector<ParamGroup> groups, const AdamOptions& defaults = {});
  Adam(std::vector<ParamGroup> groups, const Options& defaults);
 protected:
  Adam(std::string name, Options defaults);  // for AdamW
  void validate(const Options& o) const override;
  void step_group(ParamGroup& group) override;
  std::vector<std::string> state_names() const override {
    return {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  }
};

struct AdamWOptions {
  double lr = 1e-3;
  std::pair<double, double> betas{0.9, 0.999};
  double eps = 1e-8;
  double weight_decay = 1e-2;
  bool amsgrad = false;
  bool maximize = false;
  Options to_options() const;  // includes decoupled_weight_decay = true, as PyTorch's groups do
};

class AdamW : public Adam {
 public:
  AdamW(std::vector<Tensor> params, const AdamWOptions& options = {});
  AdamW(std::vector<ParamGroup> groups, const AdamWOptions& defaults = {});
  AdamW(std::vector<ParamGroup> groups, const Options& defaults);
 protected:
  void validate(const Options& o) const override;
};

// ---------------------------------------------------------------- RMSprop
// v <- alpha v + (1 - alpha) g^2; centered: gbar <- lerp(gbar, g, 1 - alpha) and the scale is
// sqrt(v - gbar^2) + eps instead of sqrt(v) + eps; with momentum buf <- momentum buf + g / scale
// and p <- p - lr buf, else p <- p - lr g / scale.
struct RMSpropOptions {
  double lr = 1e-2;
  double alpha = 0.99;
  double eps = 1e-8;
  double weight_decay = 0;
  double momentum = 0;
  bool centered = false;
  bool maximize = false;
  Options to_options() const;
};

class RMSprop : public Optimizer {
 public:
  RMSprop(std::vector<Tensor> params, const RMSpropOptions& options = {});
  RMSprop(std::vector<ParamGroup> groups, const RMSpropOptions& defaults = {});
  RMSprop(std::vector<ParamGroup> groups, const Options& defaults);
 protected:
  void validate(const Options& o) const override;
  void step_group(ParamGroup& group) override;
  std::vector<std::string> state_names() const override {
    return {"step", "square_avg", "momentum_buffer", "grad_avg"};
  }
};

// ---------------------------------------------------------------- Adagrad
// sum <- sum + g^2 (sum starts at initial_accumulator_value), clr = lr / (1 + (t - 1) lr_decay),
// p <- p - clr g / (sqrt(sum) + eps).
struct AdagradOptions {
  double lr = 1e-2;
  double lr_decay = 0;
  double weight_decay = 0;
  double initial_accumulator_value = 0;
  double eps = 1e-10;
  bool maximize = false;
  Options to_options() const;
};

class Adagrad : public Optimizer {
 public:
  Adagrad(std::vector<Tensor> params, const AdagradOptions& options = {});
  Adagrad(std::vector<ParamGroup> groups, const AdagradOptions& defaults = {});
  Adagrad(std::vector<ParamGroup> groups, const Options& defaults);
 protected:
  void validate(const Options& o) const override;
  void step_group(ParamGroup& group) override;
  std::vector<std::string> state_names() const override { return {"step", "sum"}; }
  void init_state(const Tensor& param, const ParamGroup& group, ParamState& state) override;
};

}  // namespace chainrule::optim
