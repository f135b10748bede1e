// nn::Module: registration, traversal, train/eval, state dicts and printing.
#include "nn/module.h"

#include <set>
#include <sstream>

#include "core/autograd.h"

namespace chainrule::nn {

namespace {
template <class V>
auto find(V& entries, const std::string& name) {
  return std::find_if(entries.begin(), entries.end(), [&](const auto& e) { return e.first == name; });
}

template <class V, class T>
void put(V& entries, const std::string& name, T value) {
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

Tensor Module::register_parameter(const std::string& name, Tensor param) {
  check_name(name, "register_parameter");
  if (param.defined()) {
    CR_CHECK(is_floating(param.dtype()), std::invalid_argument, "register_parameter: parameter \"",
             name, "\" must be float32 or float64, got ", dtype_name(param.dtype()));
    if (!param.is_leaf()) param = param.detach();
    if (!param.requires_grad()) param.set_requires_grad(true);
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
  put(children_, name, m);
  return m;
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
  for (const auto& [name, c] : children_)
    if (c) out.push_back(c);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_children() const {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  for (const auto& e : children_)
    if (e.second) out.push_back(e);
  return out;
}

std::vector<std::pair<std::string, std::shared_ptr<Module>>> Module::named_modules() {
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> out;
  std::set<const Module*> seen;
  walk(*this, "", seen, [&](const Module& m, const std::string& prefix) {
    std::string name = prefix.empty() ? "" : prefix.substr(0, prefix.size() - 1);
    out.emplace_back(name, std::const_pointer_cast<Module>(m.shared_from_this()));
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
  std::set<const Module*> seen;
  walk(*this, "", seen, [&](const Module& m, const std::string& prefix) {
    for (const auto& [name, p] : m.params_)
      if (p.defined()) out.emplace_back(prefix + name, p.detach());
    for (const auto& [name, b] : m.buffers_)
      if (b.defined()) out.emplace_back(prefix + name, b.detach());
  });
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
        CR_CHECK(v.shape() == mv.shape(), std::invalid_argument, "load_state_dict: \"", k,
                 "\" has shape ", v.shape(), " in the checkpoint but ", mv.shape(), " in the model");
  NoGradGuard no_grad;
  for (const auto& [k, v] : state)
    for (auto& [mk, mv] : mine)
      if (k == mk) mv.copy_(v);
}

std::string Module::repr() const {
  std::ostringstream os;
  os << type_name() << "(" << extra_repr();
  auto kids = named_children();
  if (!kids.empty()) {
    os << "\n";
    for (const auto& [name, child] : kids) {
      std::string sub = child->repr(), indented;
      for (char c : sub) indented += c == '\n' ? std::string("\n  ") : std::string(1, c);
      os << "  (" << name << "): " << indented << "\n";
    }
  }
  os << ")";
  return os.str();
}

}  // namespace chainrule::nn
