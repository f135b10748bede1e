// Bindings of chainrule::func as _func_*: a Python function of a list of tensors to a list of
// tensors; chainrule/func.py gives them torch.func's signatures (argnums, has_aux, nested inputs).
#include <pybind11/functional.h>

#include <string>
#include <vector>

#include "core/func.h"
#include "python/bind_util.h"

namespace chainrule::bind {

namespace {
func::Function wrap(py::function fn) {
  return [fn](const func::Tensors& xs) { return fn(xs).cast<func::Tensors>(); };
}
}  // namespace

void bind_func(py::module_& m) {
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
  m.def("_func_jvp", [](py::function f, const func::Tensors& primals, const func::Tensors& tangents,
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
