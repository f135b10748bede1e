// The optimizers: options and state bookkeeping, projections, and the update kernels, each
// written as PyTorch 2.13 computes it.
#include "optim/optimizer.h"

#include <algorithm>
#include <cmath>
#include <stdexcept>
#include <utility>

#include "core/autograd.h"
#include "core/kernels.h"
#include "core/ops.h"

namespace chainrule::optim {

namespace {

const char* kind_name(Hyper::Kind k) {
  switch (k) {
    case Hyper::Flag: return "a flag (true/false)";
    case Hyper::Pair: return "a pair of numbers";
    default: return "a number";
  }
}

// Runs body(begin, end) over the elements of `p` with T = float or double, as p's dtype.
template <class F> void for_elements(const Tensor& p, F&& f) {
  kernels::dispatch_floating(p.dtype(), [&](auto tag) { f(tag); });
}

// torch.lerp: start + w (end - start), written from the nearer end for accuracy.
template <class T> T lerp(T start, T end, T w) {
  return std::abs(w) < T(0.5) ? start + w * (end - start) : end - (end - start) * (T(1) - w);
}

template <class T> T nan_max(T a, T b) {  // torch.maximum: NaN wins
  return (a != a || a > b) ? a : b;
}

// "step" is a 0-d float32 counter, as in PyTorch; returns the new count.
double increment_step(ParamState& st) {
  Tensor s = st.get("step");
  if (!s.defined()) {
    s = scalar_tensor(0.0, kFloat32);
    st.set("step", s);
  }
  float* v = s.data<float>();
  *v += 1.0f;
  s.bump_version();
  return *v;
}

Tensor zeros_state(ParamState& st, const std::string& name, const Tensor& p) {
  Tensor t = st.get(name);
  if (!t.defined()) {
    t = zeros(p.shape(), p.dtype());
    st.set(name, t);
  }
  return t;
}

}  // namespace

// ---------------------------------------------------------------- Options
const Hyper& Options::at(const std::string& name) const {
  if (const Hyper* h = find(name)) return *h;
  std::string known;
  for (const auto& [k, v] : entries_) known += (known.empty() ? "" : ", ") + k;
  throw std::out_of_range("options: expected one of " + known + ", got '" + name + "'");
}

const Hyper& Options::get(const std::string& name, Hyper::Kind kind) const {
  const Hyper& h = at(name);
  CR_CHECK(h.kind == kind, std::invalid_argument, "options: expected '", name, "' to be ", kind_name(kind),
           ", got ", kind_name(h.kind));
  return h;
}

// ---------------------------------------------------------------- constraints
Box::Box(double lo, double hi) : lo_(lo), hi_(hi) {
  CR_CHECK(lo <= hi, std::invalid_argument, "Box: expected lo <= hi, got lo=", lo, ", hi=", hi);
}

void Box::project(Tensor& p) const {
  for_elements(p, [&](auto tag) {
    using T = decltype(tag);
    T* w = p.data<T>();
    const T lo = static_cast<T>(lo_), hi = static_cast<T>(hi_);
    kernels::parallel_for(p.numel(), [&](int64_t b, int64_t e) {
      for (int64_t i = b; i < e; ++i) w[i] = std::min(std::max(w[i], lo), hi);
    });
  });
  p.bump_version();
}

std::string Box::repr() const { return detail::concat("Box(lo=", lo_, ", hi=", hi_, ")"); }

MaxNorm::MaxNorm(double max_norm) : max_norm_(max_norm) {
  CR_CHECK(max_norm >= 0, std::invalid_argument, "MaxNorm: expected max_norm >= 0, got ", max_norm);
}

void MaxNorm::project(Tensor& p) const {
  const int64_t rows = p.dim() >= 2 ? p.size(0) : 1;
  const int64_t len = rows ? p.numel() / rows : 0;
  for_elements(p, [&](auto tag) {
    using T = decltype(tag);
    T* w = p.data<T>();
    kernels::parallel_for(
        rows,
        [&](int64_t b, int64_t e) {
          for (int64_t r = b; r < e; ++r) {
            T* row = w + r * len;
            double sq = 0;
            for (int64_t j = 0; j < len; ++j) sq += double(row[j]) * double(row[j]);
            double norm = std::sqrt(sq);
            if (norm > max_norm_) {
              const T scale = static_cast<T>(max_norm_ / norm);  // onto the sphere of radius max_norm
              for (int64_t j = 0; j < len; ++j) row[j] *= scale;
            }
          }
        },
        p.numel());
  });
  p.bump_version();
}

std::string MaxNorm::repr() const { return detail::concat("MaxNorm(max_norm=", max_norm_, ")"); }

// ---------------------------------------------------------------- Optimizer
Optimizer::Optimizer(std::string name, Options defaults, const Options& given)
    : name_(std::move(name)), defaults_(std::move(defaults)) {
  for (const auto& [k, v] : given.entries()) {
    CR_CHECK(k != "initial_lr", std::invalid_argument, name_,
             ": expected 'initial_lr' in a param group, "
             "got it among the defaults");
    check_option(k, v);
    defaults_.set(k, v);
  }
}

ParamGroups::ParamGroups(std::vector<Tensor> params) {
  if (!params.empty()) groups.push_back({std::move(params), {}, nullptr});  // none: "empty parameter list"
}

void Optimizer::init_state(const Tensor&, const ParamGroup&, ParamState&) {}

void Optimizer::add_param_groups(ParamGroups params) {
  validate(defaults_);
  CR_CHECK(!params.groups.empty(), std::invalid_argument, name_,
           ": expected at least one parameter, got an empty parameter list");
  for (auto& g : params.groups) add_param_group(std::move(g));
}

// One option checked against the defaults: a known name ("initial_lr" is the schedulers') of the
// right kind.
void Optimizer::check_option(const std::string& name, const Hyper& value) const {
  if (!is_option(name)) {
    std::string known;
    for (const auto& [k, v] : defaults_.entries()) known += (known.empty() ? "" : ", ") + k;
    throw std::invalid_argument(name_ + ": expected options among " + known + ", got unknown option '" +
                                name + "'");
  }
  Hyper::Kind want = name == "initial_lr" ? Hyper::Number : defaults_.at(name).kind;
  CR_CHECK(want == value.kind, std::invalid_argument, name_, ": expected option '", name, "' to be ",
           kind_name(want), ", got ", kind_name(value.kind));
}

void Optimizer::check_nonneg(const Options& o, std::initializer_list<const char*> names) const {
  for (const char* key : names) {
    double v = o.number(key);
    CR_CHECK(v >= 0, std::invalid_argument, name_, ": expected ", key, " >= 0, got ", v);
  }
}

void Optimizer::add_param_group(ParamGroup group) {
  const size_t gi = groups_.size();
  for (const auto& [k, v] : group.options.entries()) check_option(k, v);
  Options filled;  // the defaults' order, then initial_lr
  for (const auto& [k, v] : defaults_.entries())
    filled.set(k, group.options.has(k) ? group.options.at(k) : v);
  if (group.options.has("initial_lr")) filled.set("initial_lr", group.options.at("initial_lr"));
  validate(filled);
  for (size_t i = 0; i < group.params.size(); ++i) {
    const Tensor& p = group.params[i];
    CR_CHECK(p.defined(), std::invalid_argument, name_,
             ": expected tensors as parameters, got an "
             "undefined tensor at position ",
             i, " of group ", gi);
    CR_CHECK(is_floating(p.dtype()), std::invalid_argument, name_,
             ": expected floating-point parameters, got ", dtype_name(p.dtype()), " at position ", i,
             " of group ", gi);
    CR_CHECK(p.is_leaf(), std::invalid_argument, name_,
             ": expected leaf tensors as parameters (can't "
             "optimize a non-leaf tensor; use x.detach().requires_grad_()), got one at position ",
             i, " of group ", gi);
    for (size_t j = 0; j < i; ++j)
      CR_CHECK(group.params[j].impl() != p.impl(), std::invalid_argument, name_,
               ": expected each parameter once, got the same tensor at positions ", j, " and ", i,
               " of group ", gi);
    for (size_t h = 0; h < gi; ++h)
      for (const Tensor& q : groups_[h].params)
        CR_CHECK(q.impl() != p.impl(), std::invalid_argument, name_,
                 ": expected each parameter in one param group, got a parameter of group ", h,
                 " again in group ", gi);
  }
  group.options = std::move(filled);
  groups_.push_back(std::move(group));
  ParamGroup& g = groups_.back();
  for (const Tensor& p : g.params) {
    NoGradGuard no_grad;
    ParamState& st = state_[p.impl()];
    if (st.empty()) init_state(p, g, st);
  }
}

void Optimizer::set_param_groups(std::vector<ParamGroup> groups) {
  std::vector<ParamGroup> old = std::move(groups_);
  groups_.clear();
  try {
    for (auto& g : groups) add_param_group(std::move(g));
  } catch (...) {
    groups_ = std::move(old);
    throw;
  }
}

void Optimizer::set_option(size_t group, const std::string& name, Hyper value) {
  CR_CHECK(group < groups_.size(), std::out_of_range, name_, ": expected a param group index < ",
           groups_.size(), ", got ", group);
  check_option(name, value);
  Options o = groups_[group].options;
  o.set(name, value);
  validate(o);
  groups_[group].options = std::move(o);
}

void Optimizer::set_default(const std::string& name, Hyper value) {
  CR_CHECK(defaults_.has(name), std::out_of_range, name_, ": '", name, "' is not a hyperparameter of ",
           name_);
  check_option(name, value);
  Options o = defaults_;
  o.set(name, value);
  validate(o);
  defaults_ = std::move(o);
}

void Optimizer::set_constraint(std::shared_ptr<const Constraint> c) {
  for (auto& g : groups_) g.constraint = c;
}

void Optimizer::zero_grad(bool set_to_none) {
  NoGradGuard no_grad;
  for (auto& g : groups_)
    for (Tensor& p : g.params) {
      Tensor grad = p.grad();
      if (!grad.defined()) continue;
      if (set_to_none) p.set_grad(Tensor());
      else if (grad.grad_fn())
        p.set_grad(zeros_like(p));  // a create_graph gradient: don't write into a graph
      else grad.zero_();
    }
}

void Optimizer::step() {
  NoGradGuard no_grad;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    ParamGroup& g = groups_[gi];
    validate(g.options);  // param_groups()[i].options may have been edited directly
    for (size_t i = 0; i < g.params.size(); ++i) {
      Tensor grad = g.params[i].grad();
      CR_CHECK(
          !grad.defined() || (grad.shape() == g.params[i].shape() && grad.dtype() == g.params[i].dtype()),
          std::invalid_argument, name_, ": expected the gradient of parameter ", i, " of group ", gi,
          " to match it (", g.params[i].shape(), ", ", dtype_name(g.params[i].dtype()), "), got ",
          grad.shape(), ", ", dtype_name(grad.dtype()));
    }
    step_group_through_views(g, gi);
    for (Tensor& p : g.params)
      if (TensorImpl* i = p.impl(); i->grad) {  // a backward adding to it, untouched, warns
        i->grad_stepped = true;
        i->grad_step_version = i->grad->storage->version;
      }
  }
}

// The update kernels walk dense memory. A parameter that is a strided view (or has a strided
// gradient) is updated alone, through a dense stand-in that takes over its state for the update
// and is written back through the view at once; the parameters between such ones are updated
// together. Order is kept, so parameters that share memory see each other's updates as in PyTorch.
void Optimizer::step_group_through_views(ParamGroup& g, size_t gi) {
  auto strided = [](const Tensor& p) {
    Tensor grad = p.grad();
    return grad.defined() && !(p.is_contiguous() && grad.is_contiguous());
  };
  auto run = [&](std::vector<Tensor> params) {
    ParamGroup sub{std::move(params), g.options, g.constraint};
    step_group(sub);
    if (sub.constraint)
      for (Tensor& p : sub.params) sub.constraint->project(p);
  };
  if (std::none_of(g.params.begin(), g.params.end(), strided)) return run(g.params);
  auto move_state = [&](const Tensor& from, const Tensor& to) {
    auto node = state_.extract(from.impl());
    if (node) {
      node.key() = to.impl();
      state_.insert(std::move(node));
    }
  };
  std::vector<Tensor> dense_run;
  for (size_t i = 0; i < g.params.size(); ++i) {
    Tensor p = g.params[i];
    if (!strided(p)) {
      dense_run.push_back(p);
      continue;
    }
    if (!dense_run.empty()) run(std::exchange(dense_run, {}));
    for (int64_t d = 0; d < p.dim(); ++d)
      CR_CHECK(p.strides()[d] != 0 || p.shape()[d] <= 1, std::runtime_error, name_, ": parameter ", i,
               " of group ", gi, " is an expanded view (shape ", p.shape(), ", strides ", p.strides(),
               "): its elements share memory, so it can't be updated; clone() it");
    Tensor dense = p.detach().clone();
    dense.set_grad(p.grad().detach().contiguous());
    move_state(p, dense);
    try {
      run({dense});
    } catch (...) {
      move_state(dense, p);
      throw;
    }
    move_state(dense, p);
    p.copy_(dense);
  }
  if (!dense_run.empty()) run(std::move(dense_run));
}

Tensor Optimizer::step(const std::function<Tensor()>& closure) {
  Tensor loss;
  if (closure) {
    AutoGradMode grad_on(true);
    loss = closure();
  }
  step();
  return loss;
}

ParamState& Optimizer::state(const Tensor& param) { return state_[param.impl()]; }

const ParamState* Optimizer::find_state(const Tensor& param) const {
  auto it = state_.find(param.impl());
  return it == state_.end() || it->second.empty() ? nullptr : &it->second;
}

OptimizerState Optimizer::state_dict() const {
  NoGradGuard no_grad;
  OptimizerState s;
  s.optimizer = name_;
  int64_t index = 0;
  for (const auto& g : groups_) {
    OptimizerState::Group out{g.options, {}};
    for (const Tensor& p : g.params) {
      if (const ParamState* st = find_state(p)) {
        ParamState copy;
        for (const auto& [k, t] : st->entries()) copy.set(k, t.detach().clone());
        s.state[index] = std::move(copy);
      }
      out.params.push_back(index++);
    }
    s.param_groups.push_back(std::move(out));
  }
  return s;
}

void Optimizer::load_state_dict(const OptimizerState& s) {
  NoGradGuard no_grad;
  CR_CHECK(s.optimizer.empty() || s.optimizer == name_, std::invalid_argument, name_,
           ".load_state_dict: expected the state of a ", name_, " optimizer, got one of ", s.optimizer);
  CR_CHECK(s.param_groups.size() == groups_.size(), std::invalid_argument, name_,
           ".load_state_dict: expected ", groups_.size(), " param groups, got ", s.param_groups.size());
  // Build everything first, so a bad state dict leaves the optimizer as it was.
  std::vector<Options> options;
  std::unordered_map<const TensorImpl*, ParamState> state;
  for (size_t gi = 0; gi < groups_.size(); ++gi) {
    const ParamGroup& g = groups_[gi];
    const auto& saved = s.param_groups[gi];
    CR_CHECK(saved.params.size() == g.params.size(), std::invalid_argument, name_,
             ".load_state_dict: expected ", g.params.size(), " parameters in group ", gi, ", got ",
             saved.params.size());
    Options o = g.options;
    for (const auto& [k, v] : saved.options.entries()) {
      if (!is_option(k)) continue;  // another tool's extra key
      check_option(k, v);
      o.set(k, v);
    }
    validate(o);
    options.push_back(std::move(o));
    for (size_t i = 0; i < g.params.size(); ++i) {
      const Tensor& p = g.params[i];
      ParamState& dst = state[p.impl()];
      auto it = s.state.find(saved.params[i]);
      if (it == s.state.end()) continue;
      for (const auto& [k, t] : it->second.entries()) {
        const auto known = state_names();
        if (std::find(known.begin(), known.end(), k) == known.end()) {
          std::string list;
          for (const auto& n : known) list += (list.empty() ? "" : ", ") + n;
          throw std::invalid_argument(name_ + ".load_state_dict: expected state names among " + list +
                                      ", got '" + k + "' (the state of another optimizer?)");
        }
        CR_CHECK(t.defined(), std::invalid_argument, name_, ".load_state_dict: state '", k, "' of parameter ",
                 saved.params[i], " is undefined");
        if (k == "step") {
          CR_CHECK(t.numel() == 1, std::invalid_argument, name_,
                   ".load_state_dict: expected 'step' of "
                   "parameter ",
                   saved.params[i], " to be one number, got shape ", t.shape());
          dst.set(k, t.to(kFloat32).reshape({}).clone());
          continue;
        }
        CR_CHECK(t.shape() == p.shape(), std::invalid_argument, name_, ".load_state_dict: expected state '",
                 k, "' of parameter ", saved.params[i], " to have the parameter's shape ", p.shape(),
                 ", got ", t.shape());
        dst.set(k, t.dtype() == p.dtype() ? t.clone() : t.to(p.dtype()));
      }
    }
  }
  for (size_t gi = 0; gi < groups_.size(); ++gi) groups_[gi].options = std::move(options[gi]);
  state_ = std::move(state);
}

// ---------------------------------------------------------------- SGD
SGDOptions::SGDOptions(double lr) {
  set("lr", lr).set("momentum", 0.0).set("dampening", 0.0).set("weight_decay", 0.0);
  set_flag("nesterov", false).set_flag("maximize", false);
}

SGD::SGD(ParamGroups params, const Options& options) : Optimizer("SGD", SGDOptions(), options) {
  add_param_groups(std::move(params));
}

void SGD::validate(const Options& o) const {
  check_nonneg(o, {"lr", "momentum", "weight_decay"});
  CR_CHECK(!o.flag("nesterov") || (o.number("momentum") > 0 && o.number("dampening") == 0),
           std::invalid_argument,
           "SGD: expected momentum > 0 and dampening = 0 for nesterov, got momentum=", o.number("momentum"),
           ", dampening=", o.number("dampening"));
}

// buf <- g (first step), then buf <- momentum * buf + (1 - dampening) * g; with nesterov the step
// direction is g + momentum * buf, else buf; p <- p - lr * direction. g includes weight_decay * p.
void SGD::step_group(ParamGroup& group) {
  const Options& o = group.options;
  const double lr = o.number("lr"), momentum = o.number("momentum");
  const double dampening = o.number("dampening"), weight_decay = o.number("weight_decay");
  const bool nesterov = o.flag("nesterov"), maximize = o.flag("maximize");
  for (Tensor& p : group.params) {
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    Tensor buf;
    bool first = false;  // PyTorch starts the buffer at the first gradient, not at zero
    if (momentum != 0) {
      ParamState& st = state(p);
      buf = st.get("momentum_buffer");
      if (!buf.defined()) {
        buf = empty(p.shape(), p.dtype());
        st.set("momentum_buffer", buf);
        first = true;
      }
    }
    for_elements(p, [&](auto tag) {
      using T = decltype(tag);
      T* w = p.data<T>();
      const T* gr = grad.data<T>();
      T* b = buf.defined() ? buf.data<T>() : nullptr;
      const T wd = T(weight_decay), mom = T(momentum), keep = T(1 - dampening), neg_lr = T(-lr);
      kernels::parallel_for(p.numel(), [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) {
          T d = maximize ? -gr[i] : gr[i];
          if (weight_decay != 0) d = d + wd * w[i];  // grad.add(param, alpha=wd)
          if (b) {
            b[i] = first ? d : b[i] * mom + keep * d;  // buf.mul_(m).add_(g, alpha=1-damp)
            d = nesterov ? d + mom * b[i] : b[i];
          }
          w[i] = w[i] + neg_lr * d;  // param.add_(d, alpha=-lr)
        }
      });
    });
    if (buf.defined()) buf.bump_version();
    p.bump_version();
  }
}

// ---------------------------------------------------------------- Adam / AdamW
AdamOptions::AdamOptions(double lr) {
  set("lr", lr).set("betas", Hyper::pair(0.9, 0.999)).set("eps", 1e-8).set("weight_decay", 0.0);
  set_flag("amsgrad", false).set_flag("maximize", false).set_flag("decoupled_weight_decay", false);
}

AdamWOptions::AdamWOptions(double lr) : AdamOptions(lr) { weight_decay(1e-2).decoupled_weight_decay(true); }

Adam::Adam(ParamGroups params, const Options& options) : Optimizer("Adam", AdamOptions(), options) {
  add_param_groups(std::move(params));
}
Adam::Adam(std::string name, Options defaults, const Options& given)
    : Optimizer(std::move(name), std::move(defaults), given) {}

void Adam::validate(const Options& o) const {
  check_nonneg(o, {"lr", "eps", "weight_decay"});
  auto [b1, b2] = o.pair("betas");
  CR_CHECK(b1 >= 0 && b1 < 1, std::invalid_argument, name(), ": expected betas[0] in [0, 1), got ", b1);
  CR_CHECK(b2 >= 0 && b2 < 1, std::invalid_argument, name(), ": expected betas[1] in [0, 1), got ", b2);
}

// m <- lerp(m, g, 1 - beta1), v <- beta2 v + (1 - beta2) g^2 (amsgrad: vmax <- max(vmax, v) is
// used instead of v), p <- p - lr / (1 - beta1^t) * m / (sqrt(v) / sqrt(1 - beta2^t) + eps).
// weight_decay adds wd * p to g (Adam), or first shrinks p <- p (1 - lr wd) (AdamW: decoupled).
void Adam::step_group(ParamGroup& group) {
  const Options& o = group.options;
  const double lr = o.number("lr"), eps = o.number("eps"), weight_decay = o.number("weight_decay");
  // not a structured binding: C++17 lambdas can't capture those (clang refuses; the fuzz build uses it)
  const double beta1 = o.pair("betas").first, beta2 = o.pair("betas").second;
  const bool amsgrad = o.flag("amsgrad"), maximize = o.flag("maximize");
  const bool decoupled = o.flag("decoupled_weight_decay");
  for (Tensor& p : group.params) {
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    ParamState& st = state(p);
    if (st.empty()) st.set("step", scalar_tensor(0.0, kFloat32));  // PyTorch's key order
    Tensor m = zeros_state(st, "exp_avg", p), v = zeros_state(st, "exp_avg_sq", p);
    Tensor vmax = amsgrad ? zeros_state(st, "max_exp_avg_sq", p) : Tensor();
    const double t = increment_step(st);
    // Scalars in double, as PyTorch computes them in Python before the tensor ops.
    const double step_size = lr / (1 - std::pow(beta1, t));
    const double bc2_sqrt = std::pow(1 - std::pow(beta2, t), 0.5);
    for_elements(p, [&](auto tag) {
      using T = decltype(tag);
      T* w = p.data<T>();
      const T* gr = grad.data<T>();
      T* mp = m.data<T>();
      T* vp = v.data<T>();
      T* vm = amsgrad ? vmax.data<T>() : nullptr;
      const T wd = T(weight_decay), shrink = T(1 - lr * weight_decay), w1 = T(1 - beta1);
      const T b2 = T(beta2), w2 = T(1 - beta2), c2 = T(bc2_sqrt), ep = T(eps), neg_step = T(-step_size);
      kernels::parallel_for(p.numel(), [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) {
          T g = maximize ? -gr[i] : gr[i];
          if (weight_decay != 0) {
            if (decoupled) w[i] = w[i] * shrink;  // AdamW: param.mul_(1 - lr*wd)
            else g = g + wd * w[i];               // Adam: grad.add(param, alpha=wd)
          }
          mp[i] = lerp(mp[i], g, w1);       // exp_avg.lerp_(g, 1 - beta1)
          vp[i] = vp[i] * b2 + w2 * g * g;  // exp_avg_sq.mul_(b2).addcmul_(g, g, 1-b2)
          T second = vp[i];
          if (vm) second = vm[i] = nan_max(vm[i], vp[i]);
          const T denom = std::sqrt(second) / c2 + ep;  // (sqrt(v) / sqrt(bc2)).add_(eps)
          w[i] = w[i] + neg_step * mp[i] / denom;       // param.addcdiv_(m, denom, -step_size)
        }
      });
    });
    m.bump_version();
    v.bump_version();
    if (vmax.defined()) vmax.bump_version();
    p.bump_version();
  }
}

AdamW::AdamW(ParamGroups params, const Options& options) : Adam("AdamW", AdamWOptions(), options) {
  add_param_groups(std::move(params));
}
void AdamW::validate(const Options& o) const {
  Adam::validate(o);
  CR_CHECK(o.flag("decoupled_weight_decay"), std::invalid_argument,
           "AdamW: expected decoupled_weight_decay = true (use Adam for coupled decay), got false");
}

// ---------------------------------------------------------------- RMSprop
RMSpropOptions::RMSpropOptions(double lr) {
  set("lr", lr).set("alpha", 0.99).set("eps", 1e-8).set("weight_decay", 0.0).set("momentum", 0.0);
  set_flag("centered", false).set_flag("maximize", false);
}

RMSprop::RMSprop(ParamGroups params, const Options& options)
    : Optimizer("RMSprop", RMSpropOptions(), options) {
  add_param_groups(std::move(params));
}

void RMSprop::validate(const Options& o) const {
  check_nonneg(o, {"lr", "eps", "momentum", "weight_decay", "alpha"});
}

// v <- alpha v + (1 - alpha) g^2; centered: gbar <- lerp(gbar, g, 1 - alpha) and the scale is
// sqrt(v - gbar^2) + eps instead of sqrt(v) + eps; with momentum buf <- momentum buf + g / scale
// and p <- p - lr buf, else p <- p - lr g / scale.
void RMSprop::step_group(ParamGroup& group) {
  const Options& o = group.options;
  const double lr = o.number("lr"), alpha = o.number("alpha"), eps = o.number("eps");
  const double weight_decay = o.number("weight_decay"), momentum = o.number("momentum");
  const bool centered = o.flag("centered"), maximize = o.flag("maximize");
  for (Tensor& p : group.params) {
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    ParamState& st = state(p);
    if (st.empty()) st.set("step", scalar_tensor(0.0, kFloat32));  // PyTorch's key order
    Tensor v = zeros_state(st, "square_avg", p);
    Tensor buf = momentum > 0 ? zeros_state(st, "momentum_buffer", p) : Tensor();
    Tensor gavg = centered ? zeros_state(st, "grad_avg", p) : Tensor();
    increment_step(st);
    for_elements(p, [&](auto tag) {
      using T = decltype(tag);
      T* w = p.data<T>();
      const T* gr = grad.data<T>();
      T* vp = v.data<T>();
      T* bp = buf.defined() ? buf.data<T>() : nullptr;
      T* ga = gavg.defined() ? gavg.data<T>() : nullptr;
      const T wd = T(weight_decay), a = T(alpha), w2 = T(1 - alpha), ep = T(eps), mom = T(momentum);
      const T neg_lr = T(-lr);
      kernels::parallel_for(p.numel(), [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) {
          T g = maximize ? -gr[i] : gr[i];
          if (weight_decay != 0) g = g + wd * w[i];
          vp[i] = vp[i] * a + w2 * g * g;  // square_avg.mul_(a).addcmul_(g, g, 1-a)
          T avg;
          if (ga) {
            ga[i] = lerp(ga[i], g, w2);                      // grad_avg.lerp_(g, 1 - alpha)
            avg = std::sqrt(vp[i] + T(-1) * ga[i] * ga[i]);  // addcmul(gavg, gavg, -1).sqrt_()
          } else {
            avg = std::sqrt(vp[i]);
          }
          avg = avg + ep;
          if (bp) {
            bp[i] = bp[i] * mom + T(1) * g / avg;  // buf.mul_(m).addcdiv_(g, avg)
            w[i] = w[i] + neg_lr * bp[i];          // param.add_(buf, alpha=-lr)
          } else {
            w[i] = w[i] + neg_lr * g / avg;  // param.addcdiv_(g, avg, -lr)
          }
        }
      });
    });
    for (Tensor* t : {&v, &buf, &gavg})
      if (t->defined()) t->bump_version();
    p.bump_version();
  }
}

// ---------------------------------------------------------------- Adagrad
AdagradOptions::AdagradOptions(double lr) {
  set("lr", lr).set("lr_decay", 0.0).set("weight_decay", 0.0).set("initial_accumulator_value", 0.0);
  set("eps", 1e-10).set_flag("maximize", false);
}

Adagrad::Adagrad(ParamGroups params, const Options& options)
    : Optimizer("Adagrad", AdagradOptions(), options) {
  add_param_groups(std::move(params));
}

void Adagrad::validate(const Options& o) const {
  check_nonneg(o, {"lr", "lr_decay", "weight_decay", "initial_accumulator_value", "eps"});
}

// PyTorch creates Adagrad's state when the optimizer is built (the accumulator starts at
// initial_accumulator_value, not at zero).
void Adagrad::init_state(const Tensor& p, const ParamGroup& group, ParamState& st) {
  st.set("step", scalar_tensor(0.0, kFloat32));
  st.set("sum", full(p.shape(), group.options.number("initial_accumulator_value"), p.dtype()));
}

// sum <- sum + g^2 (sum starts at initial_accumulator_value), clr = lr / (1 + (t - 1) lr_decay),
// p <- p - clr g / (sqrt(sum) + eps).
void Adagrad::step_group(ParamGroup& group) {
  const Options& o = group.options;
  const double lr = o.number("lr"), lr_decay = o.number("lr_decay"), eps = o.number("eps");
  const double weight_decay = o.number("weight_decay");
  const bool maximize = o.flag("maximize");
  for (Tensor& p : group.params) {
    Tensor grad = p.grad();
    if (!grad.defined()) continue;
    ParamState& st = state(p);
    if (!st.has("sum")) init_state(p, group, st);  // e.g. after loading a state without it
    Tensor sum = st.get("sum");
    const double t = increment_step(st);
    const double clr = lr / (1 + (t - 1) * lr_decay);
    for_elements(p, [&](auto tag) {
      using T = decltype(tag);
      T* w = p.data<T>();
      const T* gr = grad.data<T>();
      T* sp = sum.data<T>();
      const T wd = T(weight_decay), ep = T(eps), neg_clr = T(-clr);
      kernels::parallel_for(p.numel(), [&](int64_t s, int64_t e) {
        for (int64_t i = s; i < e; ++i) {
          T g = maximize ? -gr[i] : gr[i];
          if (weight_decay != 0) g = g + wd * w[i];
          sp[i] = sp[i] + T(1) * g * g;          // state_sum.addcmul_(g, g, value=1)
          const T std_ = std::sqrt(sp[i]) + ep;  // state_sum.sqrt().add_(eps)
          w[i] = w[i] + neg_clr * g / std_;      // param.addcdiv_(g, std, -clr)
        }
      });
    });
    sum.bump_version();
    p.bump_version();
  }
}

}  // namespace chainrule::optim
