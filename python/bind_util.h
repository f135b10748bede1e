// Shared by the binding files (python/*.cpp): argument conversion from Python objects, with
// TypeErrors that name the argument, and the entry points of each part of the module.
#pragma once
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <string>
#include <vector>

#include "core/ops.h"

namespace chainrule::bind {
namespace py = pybind11;

// ---------------------------------------------------------------- argument conversion
inline std::string type_name(py::handle h) { return py::str(py::type::of(h).attr("__name__")); }

// h as a T, or a TypeError naming the argument and what it should have been.
template <class T> T arg(py::handle h, const char* what, const char* expected) {
  try {
    return h.cast<T>();
  } catch (const py::cast_error&) {
    throw py::type_error(std::string(what) + ": expected " + expected + ", got " + type_name(h));
  }
}

// A Tensor or a Python number (bool, int, float, or a NumPy scalar).
struct Operand {
  Tensor t;
  Scalar s{0};
  bool is_tensor = false;
};

// A Python int as int64, or OverflowError naming the op (as torch: "int too big to convert").
inline long long int64_arg(py::handle h, const char* op) {
  int overflow = 0;
  long long v = PyLong_AsLongLongAndOverflow(h.ptr(), &overflow);
  if (overflow) {
    PyErr_SetString(PyExc_OverflowError,
                    (std::string(op) + ": the integer " + py::str(h).cast<std::string>() +
                     " does not fit in int64 (-2**63 to 2**63 - 1)")
                        .c_str());
    throw py::error_already_set();
  }
  return v;
}

inline Operand operand(py::handle h, const char* op) {
  if (py::isinstance<Tensor>(h)) return {h.cast<Tensor>(), Scalar(0), true};
  if (py::isinstance<py::bool_>(h)) return {Tensor(), Scalar(h.cast<bool>()), false};
  if (py::isinstance<py::int_>(h)) return {Tensor(), Scalar(int64_arg(h, op)), false};
  if (py::isinstance<py::float_>(h)) return {Tensor(), Scalar(h.cast<double>()), false};
  if (py::hasattr(h, "dtype") && py::hasattr(h, "item") && py::len(h.attr("shape")) == 0) {
    py::object v = h.attr("item")();  // NumPy scalar -> Python number
    if (!py::isinstance<py::array>(v)) return operand(v, op);
  }
  throw py::type_error(std::string(op) + ": expected a Tensor or a number, got " + type_name(h));
}

inline Scalar number(py::handle h, const char* op) {
  Operand o = operand(h, op);
  if (o.is_tensor) {
    CR_CHECK(o.t.numel() == 1, std::invalid_argument, op, ": expected a number, got a tensor of shape ",
             o.t.shape());
    if (o.t.dtype() == kInt64) return Scalar(static_cast<long long>(o.t.contiguous().data<int64_t>()[0]));
    return is_floating(o.t.dtype()) ? Scalar(o.t.item()) : Scalar(static_cast<long long>(o.t.item()));
  }
  return o.s;
}

// dim=None -> every dim; an int; or a tuple/list of ints. `op` (when given) names the op in the TypeError.
inline std::vector<int64_t> dims_arg(const py::object& dim, const char* op = nullptr) {
  const std::string what = op ? std::string(op) + "(): argument 'dim'" : std::string("dim");
  if (dim.is_none()) return {};
  if (py::isinstance<py::int_>(dim)) return {dim.cast<int64_t>()};
  if (py::isinstance<py::sequence>(dim) && !py::isinstance<py::str>(dim))
    return arg<std::vector<int64_t>>(dim, what.c_str(), "None, an int or a tuple of ints");
  throw py::type_error(what + ": expected None, an int or a tuple of ints, got " + type_name(dim));
}

// Sizes given as f(2, 3) or f((2, 3)) or f([2, 3]); ints or integer-like objects (NumPy ints),
// never bools or floats. The one converter of size arguments (the Python factories use it too).
inline Shape shape_arg(const py::args& args, const char* op) {
  py::sequence items = args;
  if (args.size() == 1 && py::isinstance<py::sequence>(args[0]) && !py::isinstance<py::str>(args[0]))
    items = py::reinterpret_borrow<py::sequence>(args[0]);
  Shape s;
  for (auto a : items) {
    if (py::isinstance<py::bool_>(a) || !PyIndex_Check(a.ptr()))
      throw py::type_error(std::string(op) + "(): expected sizes as ints, got " + type_name(a));
    auto i = py::reinterpret_steal<py::object>(PyNumber_Index(a.ptr()));
    if (!i) throw py::error_already_set();
    int overflow = 0;
    const long long v = PyLong_AsLongLongAndOverflow(i.ptr(), &overflow);
    if (overflow)
      throw py::value_error(std::string(op) + ": expected sizes that fit in int64, got " +
                            std::string(py::str(i)));
    s.push_back(v);
  }
  return s;
}

// A function whose first argument is the tensor is a method too: cr.exp(x) and x.exp().
template <class F, class... Extra>
void def_both(py::module_& m, py::class_<Tensor>& T, const char* name, F&& f, const Extra&... extra) {
  m.def(name, f, py::arg("input"), extra...);
  T.def(name, std::forward<F>(f), extra...);
}

// NumPy and DLPack interop (python/bind_interop.cpp): memory is shared, never copied.
constexpr int32_t kDLCPU = 1;             // DLPack's device type of the CPU
py::buffer_info buffer(const Tensor& t);  // np.asarray(t): a view (read-only if t requires grad)
Tensor from_numpy(py::array a);           // cr.from_numpy: shares the array's memory and strides
py::capsule to_dlpack(const Tensor& t, bool versioned);  // t.__dlpack__()
Tensor from_dlpack(py::object obj);  // cr.from_dlpack: any CPU object with __dlpack__, or a capsule

// Each part of chainrule._core is bound in its own file.
void bind_nn(py::module_& m);          // python/bind_nn.cpp: nn.Module and the layers
void bind_functional(py::module_& m);  // python/bind_functional.cpp: _core.nn.functional, .init, .utils
void bind_optim(py::module_& m);       // python/bind_optim.cpp: optimizers and schedulers
void bind_math(py::module_& m, py::class_<Tensor>& T);  // python/bind_math.cpp: elementwise math
void bind_errors(py::module_& m);  // python/bind_errors.cpp: one-line TypeErrors for bad calls
void bind_reduce(py::module_& m,
                 py::class_<Tensor>& T);  // python/bind_reduce.cpp: reductions, scans, sorting
// ---- linalg area ----
void bind_linalg(py::module_& m,
                 py::class_<Tensor>& T);  // python/bind_linalg.cpp: dot, einsum, norms, cr.linalg
// python/bind_tensor_api.cpp (tapi): masked_fill, repeat/tile, flip, roll, squeeze(dims), softmax(dtype=),
// the default dtype and cr.Generator. Called last: it replaces a few earlier bindings.
void bind_tensor_api(py::module_& m, py::class_<Tensor>& T);
void bind_serialize(py::module_& m);  // python/bind_serialize.cpp: safetensors reading and writing
void bind_probe(py::module_& m);      // python/bind_probe.cpp: what cr.doctor measures in C++
void bind_func(py::module_& m);       // python/bind_func.cpp: chainrule::func as _func_*

// A Python callable kept by C++ (a node's backward, a hook): released with the GIL held, since
// its owner may die where the GIL is released (in backward).
inline std::shared_ptr<py::function> held_function(py::function f) {
  return std::shared_ptr<py::function>(new py::function(std::move(f)), [](py::function* p) {
    py::gil_scoped_acquire gil;
    delete p;
  });
}

}  // namespace chainrule::bind
