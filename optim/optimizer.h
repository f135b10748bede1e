// chainrule::optim: optimizers (SGD, Adam, AdamW, RMSprop, Adagrad) that update parameters in place
// under no-grad with PyTorch's exact update rules, param groups, state dicts and projections.
#pragma once
#include <cstdint>
#include <functional>
#include <initializer_list>
#include <limits>
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

// Ordered name -> value pairs, in insertion order as Python's dicts keep them: the options of a
// group and the state of a parameter.
template <class V> class Named {
 public:
  bool has(const std::string& name) const { return find(name) != nullptr; }
  const std::vector<std::pair<std::string, V>>& entries() const { return entries_; }

 protected:
  const V* find(const std::string& name) const {
    for (const auto& [k, v] : entries_)
      if (k == name) return &v;
    return nullptr;
  }
  void put(const std::string& name, V value) {  // adds the name if it is new
    for (auto& [k, v] : entries_)
      if (k == name) {
        v = std::move(value);
        return;
      }
    entries_.emplace_back(name, std::move(value));
  }
  std::vector<std::pair<std::string, V>> entries_;
};

// The hyperparameters of one param group, by name, in a fixed order (the optimizer's defaults
// first). Reading a missing name, or reading it as the wrong kind, is a clear error.
class Options : public Named<Hyper> {
 public:
  double number(const std::string& name) const { return get(name, Hyper::Number).a; }
  bool flag(const std::string& name) const { return get(name, Hyper::Flag).a != 0; }
  std::pair<double, double> pair(const std::string& name) const {
    const Hyper& h = get(name, Hyper::Pair);
    return {h.a, h.b};
  }
  const Hyper& at(const std::string& name) const;  // std::out_of_range naming the key
  Options& set(const std::string& name, Hyper value) {
    put(name, value);
    return *this;
  }
  Options& set(const std::string& name, double value) { return set(name, Hyper::number(value)); }
  Options& set_flag(const std::string& name, bool value) { return set(name, Hyper::flag(value)); }

 private:
  const Hyper& get(const std::string& name, Hyper::Kind kind) const;  // at(name), of that kind
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
class NonNegative : public Box {
 public:
  NonNegative() : Box(0, std::numeric_limits<double>::infinity()) {}
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

// What an optimizer is given, as in torch: a list of tensors (one group) or a list of groups.
struct ParamGroups {
  ParamGroups(std::vector<Tensor> params);  // NOLINT: implicit, e.g. model.parameters()
  ParamGroups(std::initializer_list<Tensor> params) : ParamGroups(std::vector<Tensor>(params)) {}
  ParamGroups(std::vector<ParamGroup> groups) : groups(std::move(groups)) {}  // NOLINT
  std::vector<ParamGroup> groups;
};

// The state of one parameter: named tensors such as "step" (0-d float32, like PyTorch's),
// "exp_avg", "momentum_buffer". Empty until the parameter's first step.
class ParamState : public Named<Tensor> {
 public:
  bool empty() const { return entries_.empty(); }
  Tensor get(const std::string& name) const {  // undefined when missing
    const Tensor* t = find(name);
    return t ? *t : Tensor();
  }
  void set(const std::string& name, Tensor value) { put(name, std::move(value)); }
};

// What state_dict() returns: PyTorch's layout. Parameters are numbered 0, 1, ... across the groups
// in order; `state` maps a number to that parameter's state (parameters that never stepped have
// none) and each group lists its hyperparameters and the numbers of its parameters.
struct OptimizerState {
  std::string optimizer;  // "Adam"; load_state_dict refuses another optimizer's state
  std::map<int64_t, ParamState> state;
  struct Group {
    Options options;
    std::vector<int64_t> params;
  };
  std::vector<Group> param_groups;
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
  // Whether `name` is a hyperparameter of this optimizer's groups (or the schedulers' "initial_lr").
  bool is_option(const std::string& name) const { return name == "initial_lr" || defaults_.has(name); }

  // Appends a group: options it lacks come from the defaults; unknown options, bad values,
  // non-leaf or non-floating parameters and parameters already in a group are errors.
  void add_param_group(ParamGroup group);
  // Replaces every group (torch's `opt.param_groups = [...]`), checked as add_param_group; the
  // state of parameters that stay is kept. On an error the groups are left as they were.
  void set_param_groups(std::vector<ParamGroup> groups);
  // Sets one hyperparameter of one group, checked like the constructor's.
  void set_option(size_t group, const std::string& name, Hyper value);
  // Sets one default (used by groups added later), checked like the constructor's.
  void set_default(const std::string& name, Hyper value);
  void set_constraint(std::shared_ptr<const Constraint> c);  // on every group

  // Every parameter's gradient to undefined (PyTorch's set_to_none=True), or to zeros.
  void zero_grad(bool set_to_none = true);
  // One update of every parameter that has a gradient (others are skipped), under no-grad;
  // then each group's constraint projects all of the group's parameters.
  void step();
  // Re-evaluates the loss with grad mode on (the closure usually zeroes the grads and calls
  // backward), then steps; returns the closure's loss.
  Tensor step(const std::function<Tensor()>& closure);

  ParamState& state(const Tensor& param);                   // created empty on first use
  const ParamState* find_state(const Tensor& param) const;  // null when none

  OptimizerState state_dict() const;  // copies: later steps don't change it
  // Copies the state in (cast to each parameter's dtype) and takes the groups' hyperparameters
  // (keys that are no option of this optimizer are skipped); group count and sizes, state shapes
  // and the optimizer's name must match.
  void load_state_dict(const OptimizerState& state);

 protected:
  // defaults: the optimizer's full table (every option, in order); given: the caller's, over it.
  Optimizer(std::string name, Options defaults, const Options& given);
  // Throws std::invalid_argument "<name>: expected <rule>, got <value>" for a bad hyperparameter.
  virtual void validate(const Options& options) const = 0;
  // Updates the parameters of one group that have gradients.
  virtual void step_group(ParamGroup& group) = 0;
  // State created when a parameter joins (Adagrad's accumulator); most optimizers create it lazily.
  virtual void init_state(const Tensor& param, const ParamGroup& group, ParamState& state);
  // The names of the state tensors this optimizer keeps ("exp_avg", ...): load_state_dict refuses
  // others (another optimizer's state).
  virtual std::vector<std::string> state_names() const = 0;
  // Adds the constructor's groups; derived constructors end with it (virtual calls work there).
  void add_param_groups(ParamGroups params);
  void check_nonneg(const Options& o, std::initializer_list<const char*> names) const;

 private:
  void check_option(const std::string& name, const Hyper& value) const;
  // step_group, with parameters that are strided views updated through dense stand-ins.
  void step_group_through_views(ParamGroup& group, size_t index);
  std::string name_;
  Options defaults_;
  std::vector<ParamGroup> groups_;
  std::unordered_map<const TensorImpl*, ParamState> state_;
};

// Each optimizer: a builder of its Options holding the defaults (PyTorch's, in PyTorch's order),
// e.g. optim::SGD opt(model.parameters(), optim::SGDOptions(0.1).momentum(0.9));
#define CR_OPTION(Builder, name, type, setter) \
  Builder& name(type v) {                      \
    setter(#name, v);                          \
    return *this;                              \
  }

// ---------------------------------------------------------------- SGD
// torch.optim.SGD: gradient descent with momentum, dampening, nesterov (update rule: optimizer.cpp).
struct SGDOptions : Options {
  explicit SGDOptions(double lr = 1e-3);
  CR_OPTION(SGDOptions, lr, double, set)
  CR_OPTION(SGDOptions, momentum, double, set)
  CR_OPTION(SGDOptions, dampening, double, set)
  CR_OPTION(SGDOptions, weight_decay, double, set)
  CR_OPTION(SGDOptions, nesterov, bool, set_flag)
  CR_OPTION(SGDOptions, maximize, bool, set_flag)
};

class SGD : public Optimizer {
 public:
  SGD(ParamGroups params, const Options& options = SGDOptions());

 protected:
  void validate(const Options& o) const override;
  void step_group(ParamGroup& group) override;
  std::vector<std::string> state_names() const override { return {"momentum_buffer"}; }
};

// ---------------------------------------------------------------- Adam / AdamW
// torch.optim.Adam and AdamW (decoupled weight decay); the update rule is in optimizer.cpp.
struct AdamOptions : Options {
  explicit AdamOptions(double lr = 1e-3);
  CR_OPTION(AdamOptions, lr, double, set)
  AdamOptions& betas(std::pair<double, double> b) {
    set("betas", Hyper::pair(b.first, b.second));
    return *this;
  }
  CR_OPTION(AdamOptions, eps, double, set)
  CR_OPTION(AdamOptions, weight_decay, double, set)
  CR_OPTION(AdamOptions, amsgrad, bool, set_flag)
  CR_OPTION(AdamOptions, maximize, bool, set_flag)
  CR_OPTION(AdamOptions, decoupled_weight_decay, bool, set_flag)
};

class Adam : public Optimizer {
 public:
  Adam(ParamGroups params, const Options& options = AdamOptions());

 protected:
  Adam(std::string name, Options defaults, const Options& given);  // for AdamW
  void validate(const Options& o) const override;
  void step_group(ParamGroup& group) override;
  std::vector<std::string> state_names() const override {
    return {"step", "exp_avg", "exp_avg_sq", "max_exp_avg_sq"};
  }
};

// Adam's options with PyTorch's AdamW defaults: weight_decay 1e-2, decoupled_weight_decay true.
struct AdamWOptions : AdamOptions {
  explicit AdamWOptions(double lr = 1e-3);
};

class AdamW : public Adam {
 public:
  AdamW(ParamGroups params, const Options& options = AdamWOptions());

 protected:
  void validate(const Options& o) const override;
};

// ---------------------------------------------------------------- RMSprop
// torch.optim.RMSprop, centered or not, with momentum; the update rule is in optimizer.cpp.
struct RMSpropOptions : Options {
  explicit RMSpropOptions(double lr = 1e-2);
  CR_OPTION(RMSpropOptions, lr, double, set)
  CR_OPTION(RMSpropOptions, alpha, double, set)
  CR_OPTION(RMSpropOptions, eps, double, set)
  CR_OPTION(RMSpropOptions, weight_decay, double, set)
  CR_OPTION(RMSpropOptions, momentum, double, set)
  CR_OPTION(RMSpropOptions, centered, bool, set_flag)
  CR_OPTION(RMSpropOptions, maximize, bool, set_flag)
};

class RMSprop : public Optimizer {
 public:
  RMSprop(ParamGroups params, const Options& options = RMSpropOptions());

 protected:
  void validate(const Options& o) const override;
  void step_group(ParamGroup& group) override;
  std::vector<std::string> state_names() const override {
    return {"step", "square_avg", "momentum_buffer", "grad_avg"};
  }
};

// ---------------------------------------------------------------- Adagrad
// torch.optim.Adagrad, with lr_decay; the update rule is in optimizer.cpp.
struct AdagradOptions : Options {
  explicit AdagradOptions(double lr = 1e-2);
  CR_OPTION(AdagradOptions, lr, double, set)
  CR_OPTION(AdagradOptions, lr_decay, double, set)
  CR_OPTION(AdagradOptions, weight_decay, double, set)
  CR_OPTION(AdagradOptions, initial_accumulator_value, double, set)
  CR_OPTION(AdagradOptions, eps, double, set)
  CR_OPTION(AdagradOptions, maximize, bool, set_flag)
};

class Adagrad : public Optimizer {
 public:
  Adagrad(ParamGroups params, const Options& options = AdagradOptions());

 protected:
  void validate(const Options& o) const override;
  void step_group(ParamGroup& group) override;
  std::vector<std::string> state_names() const override { return {"step", "sum"}; }
  void init_state(const Tensor& param, const ParamGroup& group, ParamState& state) override;
};

#undef CR_OPTION

}  // namespace chainrule::optim
