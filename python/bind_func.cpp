// Bindings of chainrule::func as _func_*: a Python function of a list of tensors to a list of
// tensors; chainrule/func.py gives them torch.func's signatures (argnums, has_aux, nested inputs).
// And _record_function, the node of a Python cr.autograd.Function (chainrule/autograd.py).
#include <pybind11/functional.h>

#include <mutex>
#include <optional>
#include <set>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/func.h"
#include "python/bind_util.h"

namespace chainrule::bind {

namespace {
// A NotImplementedError out of the Python function (forward mode through an op without a tangent
// rule) becomes chainrule::NotImplemented again, so that jvp and jacfwd can take the reverse route.
func::Function wrap(py::function fn) {
  return [fn](const func::Tensors& xs) {
    try {
      return fn(xs).cast<func::Tensors>();
    } catch (py::error_already_set& e) {
      if (!e.matches(PyExc_NotImplementedError)) throw;
      throw NotImplemented(py::str(e.value()).cast<std::string>());
    }
  };
}
// A node's op name lives as long as the program (nodes keep a const char*): one copy per class name.
const char* interned(const std::string& name) {
  static std::mutex mu;
  static std::set<std::string> names;
  std::lock_guard<std::mutex> lock(mu);
  return names.insert(name).first->c_str();
}

// The node of a Python autograd.Function: its backward(grad_output, saved_output) returns one
// gradient (or None) per tensor input. The output, when saved, is kept by the node (re-attached on
// use, so the backward stays differentiable) instead of by ctx, which the node owns: no cycle.
Tensor record_function(const std::string& name, const Tensor& out, const std::vector<Tensor>& inputs,
                       bool save_output, py::function backward) {
  std::shared_ptr<py::function> held = held_function(std::move(backward));
  return record(interned(name), out, inputs, save_output ? kSaveOutput : kSaveNone,
                [held, save_output](const Tensor& g, const Saved& s) -> Grads {
                  py::gil_scoped_acquire gil;
                  py::object saved = save_output ? py::cast(s.output()) : py::none();
                  auto r = (*held)(g, saved).cast<std::vector<std::optional<Tensor>>>();
                  Grads out;
                  for (auto& t : r) out.push_back(t ? *t : Tensor());
                  return out;
                });
}
}  // namespace

void bind_func(py::module_& m) {
  m.def("_record_function", &record_function);
  // forward mode (chainrule/autograd/forward_ad.py gives torch's API)
  m.def("_enter_dual_level", &forward_ad::enter_dual_level);
  m.def("_exit_dual_level", &forward_ad::exit_dual_level);
  m.def("_current_dual_level", &forward_ad::current_level);
  m.def("_make_dual", &forward_ad::make_dual);
  m.def("_unpack_dual", [](const Tensor& t) {
    auto [primal, tangent] = forward_ad::unpack_dual(t);
    return py::make_tuple(primal, tangent.defined() ? py::cast(tangent) : py::none());
  });
  m.def("_func_vjp", [](py::function f, const func::Tensors& primals, const std::string& caller) {
    auto r = func::vjp(wrap(f), primals, caller.c_str());
    return py::make_tuple(r.first, py::cpp_function(r.second));
  });
  m.def("_func_grad_and_value", [](py::function f, const func::Tensors& primals, const std::string& caller) {
    return func::grad_and_value(wrap(f), primals, caller.c_str());
  });
  m.def("_func_hvp", [](py::function f, const func::Tensors& primals, const func::Tensors& v) {
    return func::hvp(wrap(f), primals, v);
  });
  m.def("_func_jvp",
        [](py::function f, const func::Tensors& primals, const func::Tensors& tangents,
           const std::string& caller) { return func::jvp(wrap(f), primals, tangents, caller.c_str()); });
  m.def("_func_linearize", [](py::function f, const func::Tensors& primals) {
    auto r = func::linearize(wrap(f), primals);
    return py::make_tuple(r.first, py::cpp_function(r.second));
  });
  m.def("_func_jacrev", [](py::function f, const func::Tensors& primals, const std::string& caller) {
    return func::jacrev(wrap(f), primals, caller.c_str());
  });
  m.def("_func_jacfwd", [](py::function f, const func::Tensors& primals, const std::string& caller) {
    return func::jacfwd(wrap(f), primals, caller.c_str());
  });
}

}  // namespace chainrule::bind
