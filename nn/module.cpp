// nn::Module: registration, traversal, train/eval, state dicts and printing.
#include "nn/module.h"

#include <algorithm>
#include <charconv>
#include <cmath>
#include <map>
#include <set>
#include <sstream>
#include <typeinfo>

#include "core/autograd.h"

namespace chainrule::nn {

namespace {
template <class V> auto find(V& entries, const std::string& name) {
  return std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == name; });
}

template <class V, class T> void put(V& entries, const std::string& name, T value) {
  auto it = find(entries, name);
  if (it != entries.end()) it->second = std::move(value);
  else entries.emplace_back(name, std::move(value));
}

void check_name(const std::string& name, const char* what) {
  CR_CHECK(!name.empty() && name.find('.') == std::string::npos, std::invalid_argument, what,
           ": expected a non-empty name without '.', got \"", name, "\"");
}
}  // namespace

Tensor Module::forward(const Tensor&) {
  throw std::runtime_error(type_name() + ": forward is not implemented; define forward(self, x)");
}

// One call of a module with full backward hooks (torch's BackwardHook): identity nodes around its
// input and output see the gradients with respect to each, and hand them to the hooks. It keeps
// the module alive while the graph lives (as torch does), so the hooks run after `del model` too.
struct Module::BackwardHookCall : std::enable_shared_from_this<BackwardHookCall> {
  std::shared_ptr<void> alive;  // Module::keep_alive(); null for a C++ module on the stack
  Module* module = nullptr;
  std::shared_ptr<Hooks> hooks;
  Tensor grad_output;  // between the output's and the input's rule; cleared after (no cycle)
  bool input_hooked = false;

  static Tensor identity(const Tensor& x, BackwardFn rule) {
    return record("backward_hook_function", x.detach(), {x}, kSaveNone, std::move(rule),
                  [](const Duals& d) { return d.tangent(0); });
  }

  // The gradient with respect to the input, after the hooks (each sees the previous one's result).
  Tensor input_grad(Tensor g) {
    for (auto& [id, hook] : std::vector(hooks->backward))
      if (Tensor r = hook(*module, g, grad_output); r.defined()) {
        CR_CHECK(!g.defined() || r.shape() == g.shape(), std::runtime_error, module->type_name(),
                 ": a full backward hook returned a grad_input of shape ", r.shape(),
                 " for an input of shape ", g.shape());
        if (g.defined()) g = r;
      }
    grad_output = Tensor();
    return g;
  }

  Tensor wrap_input(const Tensor& x) {
    if (!x.requires_grad()) return x;
    input_hooked = true;
    return identity(x, [self = shared_from_this()](const Tensor& g, const Saved&) -> Grads {
      return {self->input_grad(g)};
    });
  }

  // The output's rule runs after the output tensor's own hooks (the engine shows them the gradient
  // first), so pre-hooks see what really flows into the module, as in torch.
  Tensor wrap_output(const Tensor& y) {
    if (!y.requires_grad()) return y;
    return identity(y, [self = shared_from_this()](const Tensor& g, const Saved&) -> Grads {
      Tensor go = g;
      for (auto& [id, pre] : std::vector(self->hooks->backward_pre))
        if (Tensor r = pre(*self->module, go); r.defined()) {
          CR_CHECK(r.shape() == go.shape(), std::runtime_error, self->module->type_name(),
                   ": a full backward pre-hook returned a grad_output of shape ", r.shape(),
                   " for an output of shape ", go.shape());
          go = r;
        }
      self->grad_output = go;
      if (!self->input_hooked) self->input_grad(Tensor());  // torch: grad_input is (None,)
      return {go};
    });
  }
};

std::shared_ptr<void> Module::keep_alive() { return weak_from_this().lock(); }

Tensor Module::operator()(const Tensor& input) {
  if (!hooks_.hooks) return forward(input);
  auto hooks = hooks_.hooks;  // a hook may remove hooks (or all of them) while they run
  Tensor x = input;
  for (auto& [id, pre] : std::vector(hooks->pre))
    if (Tensor r = pre(*this, x); r.defined()) x = r;
  std::shared_ptr<BackwardHookCall> call;
  if (is_grad_enabled() && !(hooks->backward.empty() && hooks->backward_pre.empty())) {
    call = std::make_shared<BackwardHookCall>();
    call->alive = keep_alive();
    call->module = this;
    call->hooks = hooks;
    x = call->wrap_input(x);
  }
  Tensor y = forward(x);
  for (auto& [id, post] : std::vector(hooks->post))
    if (Tensor r = post(*this, x, y); r.defined()) y = r;
  if (call) y = call->wrap_output(y);
  return y;
}

template <class List, class Hook> RemovableHandle Module::add_hook(List Hooks::* list, Hook hook) {
  auto& h = hooks_.hooks;
  if (!h) h = std::make_shared<Hooks>();
  ((*h).*list).emplace_back(++h->next_id, std::move(hook));
  return {h->next_id, [weak = std::weak_ptr<Hooks>(h), list, id = h->next_id] {
            if (auto l = weak.lock()) drop_hook((*l).*list, id);
          }};
}

RemovableHandle Module::register_forward_pre_hook(ForwardPreHook hook) {
  return add_hook(&Hooks::pre, std::move(hook));
}
RemovableHandle Module::register_forward_hook(ForwardHook hook) {
  return add_hook(&Hooks::post, std::move(hook));
}
RemovableHandle Module::register_full_backward_pre_hook(BackwardPreHook hook) {
  return add_hook(&Hooks::backward_pre, std::move(hook));
}
RemovableHandle Module::register_full_backward_hook(BackwardHook hook) {
  return add_hook(&Hooks::backward, std::move(hook));
}

bool Module::has_hooks() const {
  const auto& h = hooks_.hooks;
  return h && !(h->pre.empty() && h->post.empty() && h->backward_pre.empty() && h->backward.empty());
}

Tensor Module::register_parameter(const std::string& name, Tensor param, bool requires_grad) {
  check_name(name, "register_parameter");
  if (param.defined()) {
    CR_CHECK(is_floating(param.dtype()), std::invalid_argument, "register_parameter: parameter \"", name,
             "\" must be float32 or float64, got ", dtype_name(param.dtype()));
    if (!param.is_leaf()) param = param.detach();
    if (param.requires_grad() != requires_grad) param.set_requires_grad(requires_grad);
  }
  put(params_, name, param);
  return param;
}

Tensor Module::register_buffer(const std::string& name, Tensor buffer) {
  check_name(name, "register_buffer");
  put(buffers_, name, buffer);
  return buffer;
}

std::shared_ptr<Module> Module::register_module(const std::string& name, std::shared_ptr<Module> m) {
  check_name(name, "register_module");
  CR_CHECK(m.get() != this, std::invalid_argument, "register_module: a module can't contain itself");
  // (a null module is allowed: PyTorch's `self.fc = None` keeps the name with no module)
  put(children_, name, m);
  return m;
}

void Module::remove(const std::string& name) {
  auto drop = [&](auto& entries) {
    entries.erase(
        std::remove_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == name; }),
        entries.end());
  };
  drop(params_);
  drop(buffers_);
  drop(children_);
}

Tensor Module::parameter(const std::string& name) const {
  auto it = find(params_, name);
  CR_CHECK(it != params_.end(), std::out_of_range, type_name(), " has no parameter \"", name, "\"");
  return it->second;
}
Tensor Module::buffer(const std::string& name) const {
  auto it = find(buffers_, name);
  CR_CHECK(it != buffers_.end(), std::out_of_range, type_name(), " has no buffer \"", name, "\"");
  return it->second;
}
std::shared_ptr<Module> Module::module(const std::string& name) const {
  auto it = find(children_, name);
  CR_CHECK(it != children_.end(), std::out_of_range, type_name(), " has no submodule \"", name, "\"");
  return it->second;
}
bool Module::has_parameter(const std::string& n) const { return find(params_, n) != params_.end(); }
bool Module::has_buffer(const std::string& n) const { return find(buffers_, n) != buffers_.end(); }
bool Module::has_module(const std::string& n) const { return find(children_, n) != children_.end(); }

namespace {
// Walks the tree depth first, visiting each module once (a shared submodule is counted once,
// so its parameters aren't handed to an optimizer twice).
template <class F>
void walk(const Module& m, const std::string& prefix, std::set<const Module*>& seen, F&& f) {
  if (!seen.insert(&m).second) return;
  f(m, prefix);
  for (const auto& [name, child] : m.named_children())
    if (child) walk(*child, prefix + name + ".", seen, f);
}
}  // namespace

StateDict Module::named_parameters(bool recurse) const {
  StateDict out;
  std::set<const Module*> seen;
  std::set<const TensorImpl*> tensors;  // a parameter shared by two modules is listed once
  walk(*this, "", seen, [&](const Module& m, const std::string& prefix) {
    if (!recurse && &m != this) return;
    for (const auto& [name, p] : m.params_)
      if (p.defined() && tensors.insert(p.impl()).second) out.emplace_back(prefix + name, p);
  });
  return out;
}

std::vector<Tensor> Module::parameters(bool recurse) const {
  std::vector<Tensor> out;
  for (auto& [name, p] : named_parameters(recurse)) out.push_back(p);
  return out;
}

StateDict Module::named_buffers(bool recurse) const {
  StateDict out;
  std::set<const Module*> seen;
  walk(*this, "", seen, [&](const Module& m, const std::string& prefix) {
    if (!recurse && &m != this) return;
    for (const auto& [name, b] : m.buffers_)
      if (b.defined()) out.emplace_back(prefix + name, b);
  });
  return out;
}

std::vector<std::shared_ptr<Module>> Module::children() const {
  std::vector<std::shared_ptr<Module>> out;
  for (const auto& [name, c] : named_children()) out.push_back(c);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  std::set<const Module*> seen;  // a child registered under two names is listed once, as PyTorch
  for (const auto& e : children_)
    if (e.second && seen.insert(e.second.get()).second) out.push_back(e);
  return out;
}

std::vector<std::pair<std::string, Module*>> Module::named_modules() {
  std::vector<std::pair<std::string, Module*>> out;
  std::set<const Module*> seen;
  walk(*this, "", seen, [&](const Module& m, const std::string& prefix) {
    std::string name = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);
    out.emplace_back(name, const_cast<Module*>(&m));
  });
  return out;
}

void Module::train(bool on) {
  training_ = on;
  for (auto& c : children()) c->train(on);
}

void Module::zero_grad() {
  for (Tensor& p : parameters()) p.set_grad(Tensor());
}

StateDict Module::state_dict() const {
  StateDict out;
  // No visited set here: PyTorch lists a shared submodule under each of its names.
  std::vector<std::pair<std::string, const Module*>> stack{{"", this}};
  while (!stack.empty()) {
    auto [prefix, m] = stack.back();
    stack.pop_back();
    for (const auto& [name, p] : m->params_)
      if (p.defined()) out.emplace_back(prefix + name, p.detach());
    for (const auto& [name, b] : m->buffers_)
      if (b.defined()) out.emplace_back(prefix + name, b.detach());
    const auto& kids = m->children_;
    for (auto it = kids.rbegin(); it != kids.rend(); ++it)  // reversed: popped in registration order
      if (it->second) stack.emplace_back(prefix + it->first + ".", it->second.get());
  }
  return out;
}

void Module::load_state_dict(const StateDict& state, bool strict) {
  StateDict mine = state_dict();
  std::set<std::string> given, missing, unexpected;
  for (const auto& [k, v] : state) given.insert(k);
  for (const auto& [k, v] : mine)
    if (!given.count(k)) missing.insert(k);
  std::set<std::string> have;
  for (const auto& [k, v] : mine) have.insert(k);
  for (const auto& k : given)
    if (!have.count(k)) unexpected.insert(k);
  auto join = [](const std::set<std::string>& s) {
    std::string out;
    for (const auto& k : s) out += (out.empty() ? "\"" : ", \"") + k + "\"";
    return out;
  };
  CR_CHECK(!strict || (missing.empty() && unexpected.empty()), std::invalid_argument,
           "load_state_dict: keys don't match ", type_name(),
           missing.empty() ? "" : "; missing: ", join(missing),
           unexpected.empty() ? "" : "; unexpected: ", join(unexpected),
           " (pass strict=false to load the keys that match)");
  // Check every shape before copying anything, so a failed load leaves the module unchanged.
  for (const auto& [k, v] : state)
    for (const auto& [mk, mv] : mine)
      if (k == mk)
        CR_CHECK(v.shape() == mv.shape(), std::invalid_argument, "load_state_dict: \"", k, "\" has shape ",
                 v.shape(), " in the checkpoint but ", mv.shape(), " in the model");
  NoGradGuard no_grad;
  for (const auto& [k, v] : state)
    for (auto& [mk, mv] : mine)
      if (k == mk) mv.copy_(v);
}

Module& Module::to(Dtype dtype) {
  CR_CHECK(is_floating(dtype), std::invalid_argument,
           "Module.to: only floating-point dtypes (float32, float64) are allowed, got ", dtype_name(dtype));
  NoGradGuard no_grad;
  auto cast = [dtype](const Tensor& t) {
    if (!t.defined() || !is_floating(t.dtype()) || t.dtype() == dtype) return;
    Tensor(t).set_data(t.detach().to(dtype));
    if (Tensor g = t.grad(); g.defined()) g.set_data(g.to(dtype));
  };
  for (auto& [name, m] : named_modules()) {  // each module, parameter and buffer once
    for (const auto& [n, p] : m->params_) cast(p);
    for (const auto& [n, b] : m->buffers_) cast(b);
  }
  return *this;
}

std::shared_ptr<Module> Module::copy_self() const {
  CR_CHECK(typeid(*this) == typeid(Module), std::runtime_error, "clone: ", type_name(),
           " doesn't implement copy_self(), so it can't be copied");
  return std::shared_ptr<Module>(new Module(*this));
}

namespace {
// clone()'s memo: each module and tensor of the original is copied once.
struct CloneMemo {
  std::map<const Module*, std::shared_ptr<Module>> modules;
  std::map<const TensorImpl*, Tensor> tensors;
  Tensor copy(const Tensor& t) {
    if (!t.defined()) return t;
    auto [it, fresh] = tensors.try_emplace(t.impl());
    if (fresh) {
      it->second = t.detach().clone();
      if (t.requires_grad()) it->second.set_requires_grad(true);
    }
    return it->second;
  }
};

std::shared_ptr<Module> clone_with(const Module& m, CloneMemo& memo) {
  if (auto it = memo.modules.find(&m); it != memo.modules.end()) return it->second;
  std::shared_ptr<Module> c = m.copy_self();
  memo.modules[&m] = c;
  NoGradGuard no_grad;
  for (const auto& [n, p] : m.own_parameters())
    c->register_parameter(n, memo.copy(p), p.defined() && p.requires_grad());
  for (const auto& [n, b] : m.own_buffers()) c->register_buffer(n, memo.copy(b));
  for (const auto& [n, child] : m.own_children())
    c->register_module(n, child ? clone_with(*child, memo) : nullptr);
  return c;
}
}  // namespace

std::shared_ptr<Module> Module::clone() const {
  CloneMemo memo;
  return clone_with(*this, memo);
}

// PyTorch's layout: a one-line extra_repr alone stays inline; otherwise each extra line and each
// child goes on its own line, indented by two.
std::string Module::repr() const {
  std::vector<std::string> lines;
  std::string extra = extra_repr();
  size_t extra_lines = 0;
  if (!extra.empty()) {
    std::istringstream in(extra);
    for (std::string line; std::getline(in, line); ++extra_lines) lines.push_back(line);
  }
  const auto& kids = children_;  // every name, shared children included, as PyTorch prints them
  for (const auto& [name, child] : kids) {
    if (!child) continue;
    std::string sub = child->repr(), indented;
    for (char c : sub) indented += c == '\n' ? std::string("\n  ") : std::string(1, c);
    lines.push_back("(" + name + "): " + indented);
  }
  std::string out = type_name() + "(";
  if (extra_lines == 1 && kids.empty()) {
    out += lines[0];
  } else if (!lines.empty()) {
    out += "\n";
    for (const auto& l : lines) out += "  " + l + "\n";
  }
  return out + ")";
}

std::string repr_float(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  char buf[64];
  auto res = std::to_chars(buf, buf + sizeof buf, v, std::chars_format::scientific);  // shortest digits
  std::string s(buf, res.ptr), sign;
  if (s[0] == '-') {
    sign = "-";
    s.erase(0, 1);
  }
  size_t e = s.find('e');
  int exp = std::stoi(s.substr(e + 1));
  std::string digits;
  for (char c : s.substr(0, e))
    if (c != '.') digits += c;
  if (exp < -4 || exp >= 16) {  // Python switches to scientific notation outside [1e-4, 1e16)
    std::string m = digits.substr(0, 1) + (digits.size() > 1 ? "." + digits.substr(1) : "");
    char eb[16];  // "e-" and up to 10 digits: never truncated
    std::snprintf(eb, sizeof eb, "e%c%02d", exp < 0 ? '-' : '+', std::abs(exp));
    return sign + m + eb;
  }
  if (exp < 0) return sign + "0." + std::string(-exp - 1, '0') + digits;
  if (static_cast<int>(digits.size()) <= exp + 1)
    return sign + digits + std::string(exp + 1 - digits.size(), '0') + ".0";
  return sign + digits.substr(0, exp + 1) + "." + digits.substr(exp + 1);
}

}  // namespace chainrule::nn
