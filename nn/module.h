// nn::Module: the base of every layer and model. It owns named parameters, buffers and child
// modules (in registration order, as PyTorch), and gives parameters(), train()/eval(),
// zero_grad(), state_dict()/load_state_dict() and a readable printout of the module tree.
#pragma once
#include <functional>
#include <memory>
#include <string>
#include <utility>
#include <vector>

#include "core/tensor.h"

namespace chainrule::nn {

// Ordered name -> tensor pairs, like PyTorch's OrderedDict state dicts.
using StateDict = std::vector<std::pair<std::string, Tensor>>;

class Module : public std::enable_shared_from_this<Module> {
 public:
  explicit Module(std::string type_name = "Module") : type_name_(std::move(type_name)) {}
  virtual ~Module() = default;
  Module& operator=(const Module&) = delete;

  // One input, one output; models with other signatures override it in Python, or are written
  // as plain C++ classes with their own forward.
  virtual Tensor forward(const Tensor& input);
  // forward between the forward hooks: what m(x) does, and how containers call their children.
  Tensor operator()(const Tensor& input);

  // torch's forward hooks: pre(module, input) runs before forward and may replace the input (a
  // defined result); hook(module, input, output) runs after and may replace the output. In
  // registration order; remove() on the handle takes one off.
  using ForwardPreHook = std::function<Tensor(Module&, const Tensor& input)>;
  using ForwardHook = std::function<Tensor(Module&, const Tensor& input, const Tensor& output)>;
  RemovableHandle register_forward_pre_hook(ForwardPreHook hook);
  RemovableHandle register_forward_hook(ForwardHook hook);
  // torch's full backward hooks, for the gradients at this module's boundary in backward.
  // pre(module, grad_output) runs when the gradient with respect to the output is known and may
  // replace it; hook(module, grad_input, grad_output) runs when the gradient with respect to the
  // input is (undefined grad_input: the input needs none, and the hook runs with grad_output) and
  // may replace grad_input. Each call of the module puts identity nodes ("BackwardHookFunction")
  // around its input and output to see them.
  using BackwardPreHook = std::function<Tensor(Module&, const Tensor& grad_output)>;
  using BackwardHook = std::function<Tensor(Module&, const Tensor& grad_input, const Tensor& grad_output)>;
  RemovableHandle register_full_backward_pre_hook(BackwardPreHook hook);
  RemovableHandle register_full_backward_hook(BackwardHook hook);
  bool has_hooks() const;  // any forward or backward hook
  // A shared owner of this module, for state that outlives a call (backward hooks' identity nodes
  // keep the module alive, as torch's): shared_from_this() when a shared_ptr owns it, else null (a
  // C++ module on the stack must outlive its backward). The Python binding holds the Python object.
  virtual std::shared_ptr<void> keep_alive();

  // Registering a name again replaces the old entry (Python: assigning the attribute again).
  // The parameter is made a leaf with requires_grad set as asked (false: frozen); an undefined
  // tensor registers "no parameter" (bias=False).
  Tensor register_parameter(const std::string& name, Tensor param, bool requires_grad = true);
  Tensor register_buffer(const std::string& name, Tensor buffer);
  std::shared_ptr<Module> register_module(const std::string& name, std::shared_ptr<Module> module);
  template <class M> std::shared_ptr<M> register_module(const std::string& name, std::shared_ptr<M> module) {
    register_module(name, std::static_pointer_cast<Module>(module));
    return module;
  }

  // Forgets a parameter, buffer or submodule of that name (before it is re-registered as another kind).
  void remove(const std::string& name);

  // Lookups by name (throw std::out_of_range naming the module and the missing name).
  Tensor parameter(const std::string& name) const;
  Tensor buffer(const std::string& name) const;
  std::shared_ptr<Module> module(const std::string& name) const;
  bool has_parameter(const std::string& name) const;
  bool has_buffer(const std::string& name) const;
  bool has_module(const std::string& name) const;

  std::vector<Tensor> parameters(bool recurse = true) const;
  StateDict named_parameters(bool recurse = true) const;  // dotted names: "0.weight"
  StateDict named_buffers(bool recurse = true) const;
  std::vector<std::shared_ptr<Module>> children() const;  // each distinct child once
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> named_children() const;  // likewise
  // This module (as "") and every module inside it, each once; the pointers are valid while
  // this module lives (the root need not be owned by a shared_ptr).
  std::vector<std::pair<std::string, Module*>> named_modules();

  virtual void train(bool on = true);  // this module and every descendant
  void eval() { train(false); }
  bool is_training() const { return training_; }
  void zero_grad();  // every parameter's grad to undefined (PyTorch's set_to_none=True)

  // Parameters then buffers, recursively, detached; a submodule registered under two names
  // appears under both, as in PyTorch (so checkpoints load either way).
  StateDict state_dict() const;
  // Copies values in place (parameters keep their identity, so optimizers keep working).
  // strict: missing or unexpected keys are errors; a shape mismatch is always an error.
  void load_state_dict(const StateDict& state, bool strict = true);

  // Casts every floating-point parameter (with its grad) and buffer to dtype, in place: parameters
  // keep their identity, so an optimizer built before still updates them (torch's module.to(dtype)).
  Module& to(Dtype dtype);

  // A deep copy (Python: copy.deepcopy(model)): parameters and buffers get their own storage with
  // the same values and requires_grad; children are copied too, and a parameter or child shared
  // under two names stays shared within the copy.
  std::shared_ptr<Module> clone() const;
  // A new module of this class with the same settings and entries (tensors and children still
  // shared, the first step of clone()); layers override it, the base copies a plain Module.
  virtual std::shared_ptr<Module> copy_self() const;

  // This module's own entries in registration order, undefined ones included (bias=False).
  const StateDict& own_parameters() const { return params_; }
  const StateDict& own_buffers() const { return buffers_; }
  const std::vector<std::pair<std::string, std::shared_ptr<Module>>>& own_children() const {
    return children_;
  }
  void set_training_flag(bool on) { training_ = on; }  // this module only (train() recurses)

  // The class name shown by repr(); a Python subclass reports its own class name.
  virtual std::string type_name() const { return type_name_; }
  virtual std::string extra_repr() const { return ""; }  // "in_features=2, out_features=3, bias=True"
  std::string repr() const;                              // the tree, printed as PyTorch prints it

 protected:
  Module(const Module&) = default;  // for copy_self(): settings and entries, shared
  std::vector<std::pair<std::string, Tensor>> params_;
  std::vector<std::pair<std::string, Tensor>> buffers_;
  std::vector<std::pair<std::string, std::shared_ptr<Module>>> children_;
  bool training_ = true;

 private:
  struct Hooks {
    uint64_t next_id = 0;
    std::vector<std::pair<uint64_t, ForwardPreHook>> pre;
    std::vector<std::pair<uint64_t, ForwardHook>> post;
    std::vector<std::pair<uint64_t, BackwardPreHook>> backward_pre;
    std::vector<std::pair<uint64_t, BackwardHook>> backward;
  };
  struct BackwardHookCall;
  // A copy of the module (copy_self, deepcopy) gets its own copy of the hooks, as torch's deepcopy.
  struct HookSlot {
    std::shared_ptr<Hooks> hooks;
    HookSlot() = default;
    HookSlot(const HookSlot& o) : hooks(o.hooks ? std::make_shared<Hooks>(*o.hooks) : nullptr) {}
    HookSlot& operator=(const HookSlot&) = delete;
  };
  std::string type_name_;
  HookSlot hooks_;
  template <class List, class Hook> RemovableHandle add_hook(List Hooks::* list, Hook hook);
};

// The copy_self() of a layer class whose settings are plain members.
#define CHAINRULE_COPY_SELF(Class) \
  std::shared_ptr<Module> copy_self() const override { return std::make_shared<Class>(*this); }

// A float as Python's repr() prints it (1.0, 0.1, 1e-05), for extra_repr().
std::string repr_float(double v);

}  // namespace chainrule::nn
