// Python bindings for the C++ core (`chainrule._core`): argument conversion and .def lines only.
// Torch-style conveniences that are pure Python (indexing, tensor(), no_grad) live in python/chainrule.
#include <pybind11/functional.h>
#include <pybind11/numpy.h>
#include <pybind11/pybind11.h>
#include <pybind11/stl.h>

#include <cstring>

#include "core/blas.h"
#include "core/gradcheck.h"
#include "core/kernels.h"
#include "core/ops.h"
#include "python/bind_util.h"

namespace py = pybind11;
using namespace chainrule;
using namespace chainrule::bind;

namespace {

// alpha * s, integral when both are (int64 tensors take integral scalars in place)
Scalar scaled(Scalar s, const Scalar& alpha) {
  s.value *= alpha.value;
  s.int_value = kernels::wrap_mul(s.int_value, alpha.int_value);
  s.integral = s.integral && alpha.integral;
  s.boolean = false;
  return s;
}

// a & b, a | b, a ^ b: a Python int or bool is a 0-d int64 or bool tensor (a float one is refused
// by the op, as in torch).
auto bitwise(Tensor (*f)(const Tensor&, const Tensor&), const char* op) {
  return [f, op](const Tensor& a, py::handle b) {
    Operand o = operand(b, op);
    if (o.is_tensor) return f(a, o.t);
    return f(a, full({}, o.s, o.s.boolean ? kBool : o.s.integral ? kInt64 : kFloat32));
  };
}

template <class TT, class TS> auto binary(const char* op, TT tt, TS ts) {
  return [=](const Tensor& a, py::handle b) {
    Operand o = operand(b, op);
    return o.is_tensor ? tt(a, o.t) : ts(a, o.s);
  };
}

// A C++ message as Python users should read it: the hints name Python spellings
// (with cr.no_grad():, cr.float32, allow_unused=True) instead of the C++ ones.
std::string python_spelling(std::string msg) {
  static const std::pair<const char*, const char*> table[] = {
      {"NoGradGuard (Python: with cr.no_grad():)", "with cr.no_grad():"},
      {"retain_graph=true (Python: retain_graph=True)", "retain_graph=True"},
      {"allow_unused=true (Python: allow_unused=True)", "allow_unused=True"},
      {"NoGradGuard", "with cr.no_grad():"},
      {"kFloat32", "cr.float32"},
      {"kFloat64", "cr.float64"},
      {"kInt64", "cr.int64"},
      {"kBool", "cr.bool"},
      {"=true", "=True"},
      {"=false", "=False"},
      {"(true/false)", "(True/False)"},
  };
  for (const auto& [cpp, python] : table)
    for (size_t at = msg.find(cpp); at != std::string::npos; at = msg.find(cpp, at + std::strlen(python)))
      msg.replace(at, std::strlen(cpp), python);
  return msg;
}

}  // namespace

// Reading .grad of a non-leaf that does not retain it: a UserWarning saying why it is None, and
// the fix (torch warns here too).
static void warn_non_leaf_grad(const Tensor& t) {
  std::string msg = "grad: this tensor is not a leaf (it was computed by " + t.grad_fn()->name() +
                    "), so backward does not keep its .grad and it stays None; call .retain_grad() on it "
                    "before backward to keep it, or read .grad of the leaf you created with "
                    "requires_grad=True";
  warn(msg);
}

// "lab.py, line 12": the innermost Python frame outside the chainrule package, read through the C
// API (a detach in a training loop must stay cheap); with_code adds ": y = 1 / x" from the source
// (anomaly mode, where every op pays for it anyway).
static std::string python_site(bool with_code = false) {
  static const std::string package_dir = [] {  // where chainrule's own files are
    std::string file = py::module_::import("chainrule").attr("__file__").cast<std::string>();
    return file.substr(0, file.find_last_of("/\\") + 1);
  }();
  PyFrameObject* top = PyEval_GetFrame();  // borrowed
  py::object frame = py::reinterpret_borrow<py::object>(reinterpret_cast<PyObject*>(top));
  for (int depth = 0; frame && depth < 64; ++depth) {
    auto* f = reinterpret_cast<PyFrameObject*>(frame.ptr());
    auto code = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(PyFrame_GetCode(f)));
    std::string file = code.attr("co_filename").cast<std::string>();
    if (file.rfind(package_dir, 0) != 0) {
      const int line = PyFrame_GetLineNumber(f);
      size_t slash = file.find_last_of("/\\");
      std::string site =
          (slash == std::string::npos ? file : file.substr(slash + 1)) + ", line " + std::to_string(line);
      if (!with_code) return site;
      std::string code =
          py::str(py::module_::import("linecache").attr("getline")(file, line).attr("strip")());
      return code.empty() ? site : site + ": " + code;
    }
    frame = py::reinterpret_steal<py::object>(reinterpret_cast<PyObject*>(PyFrame_GetBack(f)));
  }
  return "";
}

// ---------------------------------------------------------------- the module
PYBIND11_MODULE(_core, m) {
  m.doc() = "chainrule's C++ core: tensors, ops and reverse-mode autograd.";
  // Anomaly mode names the user's line. Ops may run without the GIL (conv, pools): take it.
  set_anomaly_context([]() -> std::string {
    py::gil_scoped_acquire gil;
    try {
      return python_site(/*with_code=*/true);
    } catch (py::error_already_set&) {
      return "";
    }
  });
  // The core's warnings are UserWarnings (filters apply; under "error" the warning raises).
  set_warning_handler([](const std::string& msg) {
    py::gil_scoped_acquire gil;  // backward warns without it
    if (PyErr_WarnEx(PyExc_UserWarning, msg.c_str(), 1) != 0) throw py::error_already_set();
  });
  m.def("_set_warn_forgotten_zero_grad", &autograd::set_warn_forgotten_zero_grad, py::arg("enabled"));
  m.def("_is_warn_forgotten_zero_grad_enabled", &autograd::is_warn_forgotten_zero_grad_enabled);
  // std::invalid_argument becomes cr.ShapeError: a ValueError that is also a RuntimeError, since
  // PyTorch raises RuntimeError for the same mistakes and code written for either must catch it.
  static PyObject* shape_error = PyErr_NewExceptionWithDoc(
      "chainrule.ShapeError",
      "A shape, dtype or value that doesn't fit the op (a ValueError, and a RuntimeError as in PyTorch).",
      py::make_tuple(py::handle(PyExc_ValueError), py::handle(PyExc_RuntimeError)).release().ptr(), nullptr);
  m.attr("ShapeError") = py::handle(shape_error);
  py::register_exception_translator([](std::exception_ptr p) {
    try {
      if (p) std::rethrow_exception(p);
    } catch (const py::cast_error& e) {  // a conversion past the checks: still the caller's type mistake
      PyErr_SetString(PyExc_TypeError, e.what());
    } catch (const py::builtin_exception&) {
      throw;  // py::value_error & co. already say which Python exception they are
    } catch (const NotImplemented& e) {
      PyErr_SetString(PyExc_NotImplementedError, python_spelling(e.what()).c_str());
    } catch (const std::invalid_argument& e) {
      PyErr_SetString(shape_error, python_spelling(e.what()).c_str());
    } catch (const std::out_of_range& e) {
      PyErr_SetString(PyExc_IndexError, python_spelling(e.what()).c_str());
    } catch (const std::runtime_error& e) {
      PyErr_SetString(PyExc_RuntimeError, python_spelling(e.what()).c_str());
    }
  });

  py::enum_<Dtype>(m, "dtype", "A tensor's element type: float32 (default), float64, int64, bool.")
      .value("bool", kBool)
      .value("int64", kInt64)
      .value("float32", kFloat32)
      .value("float64", kFloat64)
      // cr.dtype(99) would make a Dtype outside the enum, which every dispatch then misreads.
      .def(py::init([](int v) {
             CR_CHECK(v >= 0 && v <= static_cast<int>(kFloat64), std::invalid_argument,
                      "dtype: expected 0 (bool), 1 (int64), 2 (float32) or 3 (float64), got ", v);
             return static_cast<Dtype>(v);
           }),
           py::arg("value"), py::prepend())
      .def(
          "__repr__", [](Dtype d) { return std::string("chainrule.") + dtype_name(d); }, py::prepend())
      .def(
          "__str__", [](Dtype d) { return std::string("chainrule.") + dtype_name(d); }, py::prepend())
      .def_property_readonly("is_floating_point", [](Dtype d) { return is_floating(d); })
      .def_property_readonly("itemsize", [](Dtype d) { return dtype_size(d); });
  m.attr("float32") = kFloat32;
  m.attr("float64") = kFloat64;
  m.attr("int64") = kInt64;
  m.attr("bool") = kBool;
  m.attr("float") = kFloat32;
  m.attr("double") = kFloat64;
  m.attr("long") = kInt64;

  py::class_<RemovableHandle>(m, "RemovableHandle",
                              "What register_hook returns: remove() takes the hook off.")
      .def("remove", &RemovableHandle::remove, "Removes the hook (again: nothing).")
      .def_property_readonly("id", &RemovableHandle::id)
      .def("__enter__", [](RemovableHandle& h) -> RemovableHandle& { return h; })
      .def("__exit__", [](RemovableHandle& h, py::args) { h.remove(); });
  // torch's AccumulateGrad node: where a leaf's gradient is delivered (next_functions shows it).
  struct AccumulateGrad {
    Tensor variable;
  };
  py::class_<AccumulateGrad>(m, "AccumulateGrad", "The end of a path in the graph: a leaf's .grad.")
      .def_property_readonly(  // py::object: Tensor is bound below
          "variable", [](const AccumulateGrad& a) { return py::cast(a.variable); },
          "The leaf whose gradient is accumulated here.")
      .def("name", [](const AccumulateGrad&) { return "AccumulateGrad"; })
      .def_property_readonly("next_functions", [](const AccumulateGrad&) { return py::tuple(); })
      .def("__repr__", [](const AccumulateGrad&) { return "<AccumulateGrad>"; })
      // one node per leaf, as torch's: graph walkers that keep a `seen` set count a leaf once
      .def("__eq__", [](const AccumulateGrad& a,
                        const AccumulateGrad& b) { return a.variable.impl() == b.variable.impl(); })
      .def("__hash__", [](const AccumulateGrad& a) { return std::hash<const void*>()(a.variable.impl()); });
  py::class_<Node, std::shared_ptr<Node>>(m, "Node", "A node of the autograd graph (a tensor's grad_fn).")
      .def("name", &Node::name, "The node's name, e.g. 'MulBackward0'.")
      .def_property_readonly(
          "next_functions",
          [](const Node& n) {
            py::list out;
            for (const Edge& e : n.next) {
              py::object fn = e.fn     ? py::cast(e.fn)
                              : e.leaf ? py::cast(AccumulateGrad{Tensor(e.leaf)})
                                       : py::none();
              out.append(py::make_tuple(fn, 0));
            }
            return py::tuple(out);
          },
          "One (node, 0) pair per input, as torch: the node that made the input, AccumulateGrad for a "
          "leaf that requires grad, or None for a constant.")
      .def_property_readonly("_op", [](const Node& n) { return std::string(n.op); })
      .def_property_readonly("_seq", [](const Node& n) { return n.seq; })
      .def_property_readonly("_input_shapes",
                             [](const Node& n) {
                               py::list out;
                               for (const Shape& s : n.input_shapes) out.append(py::tuple(py::cast(s)));
                               return py::tuple(out);
                             })
      .def_property_readonly("_output",
                             [](const Node& n) -> py::object {
                               if (auto o = n.output.lock()) return py::cast(Tensor(o));
                               return py::none();
                             })
      .def_property_readonly("_context",
                             [](const Node& n) -> py::object {
                               if (n.context) return py::str(*n.context);
                               return py::none();
                             })
      .def(
          "_local_grads",
          [](const Node& n, py::object g) {  // py::object: Tensor is bound below
            py::list out;
            for (const Tensor& t : autograd::local_grads(n, g.cast<Tensor>()))
              out.append(t.defined() ? py::cast(t) : py::none());
            return py::tuple(out);
          },
          py::arg("grad_output"))
      .def("__repr__", [](const Node& n) { return "<" + n.name() + ">"; });
  m.def("_next_node_seq", &autograd::next_node_seq);
  m.def("_set_anomaly_enabled", &set_anomaly_enabled, py::arg("enabled"), py::arg("check_nan") = true,
        py::arg("check_forward") = true);
  m.def("_is_anomaly_enabled", &is_anomaly_enabled);
  m.def("_is_anomaly_check_nan_enabled", &is_anomaly_check_nan_enabled);
  m.def("_is_anomaly_check_forward_enabled", &is_anomaly_check_forward_enabled);
  // Runs fn() while every step of the backward passes it runs goes to observer(node, grad_output, grads).
  m.def("_observe_backward", [](py::function observer, py::function fn) {
    autograd::ObserveBackward watch([&observer](const Node& n, const Tensor& g, const Grads& gs) {
      py::gil_scoped_acquire gil;  // backward runs without it
      py::list grads;
      for (const Tensor& t : gs) grads.append(t.defined() ? py::cast(t) : py::none());
      observer(py::cast(std::const_pointer_cast<Node>(n.shared_from_this())), g, py::tuple(grads));
    });
    return fn();
  });

  py::class_<Tensor> T(m, "Tensor", py::buffer_protocol(), R"doc(
An n-dimensional array that records the operations applied to it, so that gradients can be
computed by reverse-mode differentiation (``backward``). Create tensors with ``chainrule.tensor``,
``zeros``, ``randn`` ...; NumPy sees a tensor's memory without copying (``np.asarray(t)``).)doc");
  T.def(py::init([](const Tensor& data) { return data; }), py::arg("data"),
        "A tensor sharing data's memory (used by subclasses such as nn.Parameter).")
      .def_buffer([](const Tensor& t) { return buffer(t); })
      .def("_set_data", &Tensor::set_data)
      .def_property_readonly(
          "shape", [](const Tensor& t) { return py::tuple(py::cast(t.shape())); },
          "The size of each dim, as a tuple.")
      .def(
          "size",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return py::tuple(py::cast(t.shape()));
            return py::cast(t.size(arg<int64_t>(dim, "size", "dim as an int")));
          },
          py::arg("dim") = py::none(), "The shape (a tuple), or the size of one dim.")
      .def_property_readonly("dtype", &Tensor::dtype, "The element type.")
      .def_property_readonly("ndim", &Tensor::dim, "The number of dims.")
      .def("dim", &Tensor::dim, "The number of dims.")
      .def("numel", &Tensor::numel, "The number of elements.")
      .def("__len__",
           [](const Tensor& t) {
             if (t.dim() == 0) throw py::type_error("len: a 0-d tensor has no len()");
             return t.shape()[0];
           })
      .def(
          "item",
          [](const Tensor& t) -> py::object {
            double v = t.item();
            if (t.dtype() == kBool) return py::bool_(v != 0);
            if (t.dtype() == kInt64) return py::int_(t.data<int64_t>()[0]);  // exact beyond 2^53
            return py::float_(v);
          },
          "The value of a one-element tensor as a Python number.")
      .def_property(
          "requires_grad", &Tensor::requires_grad,
          [](Tensor& t, py::handle r) {
            if (!py::isinstance<py::bool_>(r))
              throw py::type_error("requires_grad: expected a bool, got " + type_name(r));
            t.set_requires_grad(r.cast<bool>());
          },
          "Whether gradients are computed for this tensor (settable on leaves).")
      .def_property(
          "grad",
          [](const Tensor& t) -> py::object {
            if (!t.is_leaf() && !t.impl()->retains_grad)  // as torch: the classic "why is .grad None?"
              warn_non_leaf_grad(t);
            Tensor g = t.grad();
            return g.defined() ? py::cast(g) : py::none();
          },
          [](Tensor& t, py::object g) {
            t.set_grad(g.is_none() ? Tensor() : arg<Tensor>(g, "grad", "a Tensor or None"));
          },
          "The accumulated gradient (None until a backward reaches this tensor). Set to None to reset.")
      .def_property_readonly(
          "grad_fn",
          [](const Tensor& t) -> py::object {
            auto f = t.grad_fn();
            return f ? py::cast(f) : py::none();
          },
          "The autograd node that produced this tensor (None for leaves).")
      .def_property_readonly(
          "retains_grad", [](const Tensor& t) { return !t.is_leaf() && t.impl()->retains_grad; },
          "Whether backward keeps this non-leaf's .grad (retain_grad() was called).")
      .def_property_readonly("is_leaf", &Tensor::is_leaf,
                             "True for tensors created by the user (not by an op that tracked grad).")
      .def(
          "detach",
          [](const Tensor& t) {
            Tensor d = t.detach();
            if (t.requires_grad())
              d.impl()->untracked_at = intern_site(python_site());  // why_no_grad's "line Y"
            return d;
          },
          "A tensor sharing this one's memory, without history.")
      .def("retain_grad", &Tensor::retain_grad, "Keep .grad for this non-leaf tensor on backward.")
      .def(
          "register_hook",
          [](const Tensor& t, py::function hook) {
            auto held = held_function(std::move(hook));
            return t.register_hook([held](const Tensor& g) {
              py::gil_scoped_acquire gil;
              py::object r = (*held)(g);
              if (r.is_none()) return Tensor();
              return arg<Tensor>(r, "register_hook", "the hook to return a Tensor or None");
            });
          },
          py::arg("hook"),
          "hook(grad) runs when this tensor's gradient is computed, before it is accumulated or passed "
          "on; returning a tensor replaces the gradient. Returns a handle: handle.remove().")
      .def(
          "register_post_accumulate_grad_hook",
          [](const Tensor& t, py::function hook) {
            auto held = held_function(std::move(hook));
            return t.register_post_accumulate_grad_hook([held](const Tensor& leaf) {
              py::gil_scoped_acquire gil;
              py::object r = (*held)(leaf);
              if (!r.is_none())
                throw py::type_error("register_post_accumulate_grad_hook: the hook must return None");
            });
          },
          py::arg("hook"),
          "hook(tensor) runs after backward accumulated this leaf's .grad (e.g. an optimizer step).")
      .def(
          "backward",
          [](const Tensor& t, py::object gradient, py::object retain_graph, bool create_graph) {
            Tensor g = gradient.is_none()
                           ? Tensor()
                           : arg<Tensor>(gradient, "backward", "gradient to be a Tensor or None");
            std::optional<bool> retain;
            if (!retain_graph.is_none())
              retain = arg<bool>(retain_graph, "backward", "retain_graph to be a bool");
            py::gil_scoped_release nogil;
            t.backward(g, retain, create_graph);
          },
          py::arg("gradient") = py::none(), py::arg("retain_graph") = py::none(),
          py::arg("create_graph") = false, R"doc(
Computes the gradient of this tensor with respect to every leaf that requires grad, accumulating
(+=) into their ``.grad``. A scalar tensor needs no ``gradient``; otherwise pass one of its shape.
``retain_graph=True`` keeps the graph for a second backward; ``create_graph=True`` records the
backward itself, so gradients can be differentiated again (second derivatives, Hessians).)doc")
      .def_property_readonly("_version", &Tensor::version)
      .def("_mark_written",
           [](Tensor& t, const char* op) {  // for writes made through NumPy views
             check_inplace(t, op);
             t.bump_version();
           })
      .def(
          "to", [](const Tensor& t, Dtype d) { return t.to(d); }, py::arg("dtype"),
          "This tensor converted to dtype (differentiable between float dtypes).")
      .def("clone", &Tensor::clone, "A differentiable copy with its own memory.")
      .def("contiguous", &Tensor::contiguous,
           "Self if its elements are dense in row-major order, else a (differentiable) dense copy.")
      .def("is_contiguous", &Tensor::is_contiguous,
           "True if the elements are dense in row-major order (views such as x.t() are not).")
      .def(
          "stride",
          [](const Tensor& t, py::object dim) -> py::object {
            if (dim.is_none()) return py::tuple(py::cast(t.strides()));
            return py::cast(t.stride(arg<int64_t>(dim, "stride", "dim as an int")));
          },
          py::arg("dim") = py::none(), "Elements to step in memory for each dim (a tuple), or for one dim.")
      .def("storage_offset", &Tensor::storage_offset,
           "Where this view's first element sits in the shared storage, in elements.")
      .def(
          "is_floating_point", [](const Tensor& t) { return is_floating(t.dtype()); },
          "True for float32 and float64 tensors.")
      .def_property_readonly(
          "_cdata", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.impl()); },
          "Identifies the tensor object (the same for every Python wrapper of it, e.g. a Parameter).")
      .def_property_readonly("_untracked_by",
                             [](const Tensor& t) -> py::object {
                               if (t.impl()->untracked_by) return py::str(t.impl()->untracked_by);
                               return py::none();
                             })
      .def_property_readonly("_untracked_at",
                             [](const Tensor& t) -> py::object {
                               const std::string* at = t.impl()->untracked_at;
                               if (at && !at->empty()) return py::str(*at);
                               return py::none();
                             })
      .def(
          "data_ptr", [](const Tensor& t) { return reinterpret_cast<uintptr_t>(t.raw_data()); },
          "The address of the first element (a view's: storage start + storage_offset * itemsize).")
      .def("__repr__", [](const Tensor& t) { return repr(t); })
      .def(
          "__dlpack__",
          [](const Tensor& t, py::object /*stream: CPU only*/, py::object max_version, py::object dl_device,
             py::object copy) {
            CR_CHECK(dl_device.is_none() || py::cast<py::tuple>(dl_device)[0].cast<int>() == kDLCPU,
                     std::invalid_argument, "__dlpack__: chainrule tensors live on the CPU");
            // As torch: a consumer could write through the shared memory behind autograd's back.
            if (t.requires_grad())
              throw py::buffer_error(
                  "__dlpack__: can't export a tensor that requires grad; use tensor.detach()");
            Tensor src = !copy.is_none() && copy.cast<bool>() ? t.detach().clone() : t;
            bool versioned = !max_version.is_none() && py::cast<py::tuple>(max_version)[0].cast<int>() >= 1;
            return to_dlpack(src, versioned);
          },
          py::kw_only(), py::arg("stream") = py::none(), py::arg("max_version") = py::none(),
          py::arg("dl_device") = py::none(), py::arg("copy") = py::none(),
          "Exports the tensor's memory as a DLPack capsule (no copy unless copy=True).")
      .def("__dlpack_device__", [](const Tensor&) { return py::make_tuple(kDLCPU, 0); });

  // in-place ops (refused on tensors that require grad while grad mode is on)
  T.def(
       "add_",
       [](Tensor& t, py::handle o, py::handle alpha) -> Tensor& {
         Operand a = operand(o, "add_");
         Scalar al = number(alpha, "add_");
         return a.is_tensor ? t.add_(a.t, al) : t.add_(scaled(a.s, al));
       },
       py::arg("other"), py::kw_only(), py::arg("alpha") = 1, py::return_value_policy::reference_internal,
       "self += alpha * other, in place.")
      .def(
          "sub_",
          [](Tensor& t, py::handle o, py::handle alpha) -> Tensor& {
            Operand a = operand(o, "sub_");
            Scalar al = number(alpha, "sub_");
            return a.is_tensor ? t.sub_(a.t, al) : t.sub_(scaled(a.s, al));
          },
          py::arg("other"), py::kw_only(), py::arg("alpha") = 1, py::return_value_policy::reference_internal,
          "self -= alpha * other, in place.")
      .def(
          "mul_",
          [](Tensor& t, py::handle o) -> Tensor& {
            Operand a = operand(o, "mul_");
            return a.is_tensor ? t.mul_(a.t) : t.mul_(a.s);
          },
          py::return_value_policy::reference_internal, "self *= other, in place.")
      .def(
          "div_",
          [](Tensor& t, py::handle o) -> Tensor& {
            Operand a = operand(o, "div_");
            return a.is_tensor ? t.div_(a.t) : t.div_(a.s);
          },
          py::return_value_policy::reference_internal, "self /= other, in place.")
      .def("zero_", &Tensor::zero_, py::return_value_policy::reference_internal,
           "Fills with zeros, in place.")
      .def(
          "fill_", [](Tensor& t, py::handle v) -> Tensor& { return t.fill_(number(v, "fill_")); },
          py::return_value_policy::reference_internal, "Fills with a value, in place.")
      .def("copy_", &Tensor::copy_, py::return_value_policy::reference_internal,
           "Copies src (broadcast to this shape) into this tensor, in place.")
      .def(
          "clamp_",
          [](Tensor& t, py::object lo, py::object hi) -> Tensor& {
            CR_CHECK(!lo.is_none() || !hi.is_none(), std::invalid_argument,
                     "clamp_: at least one of min and max must be given");
            return t.clamp_(lo.is_none() ? Scalar(-INFINITY) : number(lo, "clamp_"),
                            hi.is_none() ? Scalar(INFINITY) : number(hi, "clamp_"));
          },
          py::arg("min") = py::none(), py::arg("max") = py::none(),
          py::return_value_policy::reference_internal, "Clamps every element into [min, max], in place.");

  // operators
  auto add_f = binary(
      "add", [](const Tensor& a, const Tensor& b) { return add(a, b); },
      [](const Tensor& a, const Scalar& b) { return add(a, b); });
  auto sub_f = binary(
      "sub", [](const Tensor& a, const Tensor& b) { return sub(a, b); },
      [](const Tensor& a, const Scalar& b) { return sub(a, b); });
  auto mul_f = binary(
      "mul", [](const Tensor& a, const Tensor& b) { return mul(a, b); },
      [](const Tensor& a, const Scalar& b) { return mul(a, b); });
  auto div_f = binary(
      "div", [](const Tensor& a, const Tensor& b) { return div(a, b); },
      [](const Tensor& a, const Scalar& b) { return div(a, b); });
  auto pow_f = binary(
      "pow", [](const Tensor& a, const Tensor& b) { return pow(a, b); },
      [](const Tensor& a, const Scalar& b) { return pow(a, b); });
  auto rsub_f = binary(
      "rsub", [](const Tensor& a, const Tensor& b) { return sub(b, a); },
      [](const Tensor& a, const Scalar& b) { return rsub(a, b); });
  auto rdiv_f = binary(
      "rdiv", [](const Tensor& a, const Tensor& b) { return div(b, a); },
      [](const Tensor& a, const Scalar& b) { return rdiv(a, b); });
  auto rpow_f = binary(
      "pow", [](const Tensor& a, const Tensor& b) { return pow(b, a); },
      [](const Tensor& a, const Scalar& b) { return pow(b, a); });
#define CR_CMP(name)                                                      \
  binary(                                                                 \
      #name, [](const Tensor& a, const Tensor& b) { return name(a, b); }, \
      [](const Tensor& a, const Scalar& b) { return name(a, b); })
  T.def("__add__", add_f)
      .def("__radd__", add_f)
      .def("__sub__", sub_f)
      .def("__rsub__", rsub_f)
      .def("__mul__", mul_f)
      .def("__rmul__", mul_f)
      .def("__truediv__", div_f)
      .def("__rtruediv__", rdiv_f)
      .def("__pow__", pow_f)
      .def("__rpow__", rpow_f)
      .def(
          "__matmul__",
          [](const Tensor& a, const Tensor& b) {
            py::gil_scoped_release r;
            return matmul(a, b);
          },
          py::is_operator())  // another type: NotImplemented, so Python says "unsupported operand type(s) for
                              // @"
      .def("__neg__", [](const Tensor& a) { return neg(a); })
      .def("__abs__", [](const Tensor& a) { return abs(a); })
      .def("__eq__", CR_CMP(eq))
      .def("__ne__", CR_CMP(ne))
      .def("__lt__", CR_CMP(lt))
      .def("__le__", CR_CMP(le))
      .def("__gt__", CR_CMP(gt))
      .def("__ge__", CR_CMP(ge))
      .def("__hash__", [](const Tensor& t) { return std::hash<const void*>()(t.impl()); })
      .def("__invert__", [](const Tensor& a) { return bitwise_not(a); })
      .def("__and__", bitwise(&bitwise_and, "bitwise_and"))
      .def("__rand__", bitwise(&bitwise_and, "bitwise_and"))
      .def("__or__", bitwise(&bitwise_or, "bitwise_or"))
      .def("__ror__", bitwise(&bitwise_or, "bitwise_or"))
      .def("__xor__", bitwise(&bitwise_xor, "bitwise_xor"))
      .def("__rxor__", bitwise(&bitwise_xor, "bitwise_xor"))
      .def("__bool__",
           [](const Tensor& t) {
             CR_CHECK(t.numel() == 1, std::runtime_error, "bool: the truth value of a tensor with ",
                      t.numel(), " elements is ambiguous; use .any() or .all()");
             return t.item() != 0;
           })
      .def("__float__",
           [](const Tensor& t) {
             CR_CHECK(t.numel() == 1, std::invalid_argument,
                      "float: only one element tensors can be converted to Python scalars (as by x.item()), "
                      "got shape ",
                      t.shape());
             return t.item();
           })
      .def("__int__",
           [](const Tensor& t) -> py::int_ {
             CR_CHECK(t.numel() == 1, std::invalid_argument,
                      "int: only one element tensors can be converted to Python scalars (as by x.item()), "
                      "got shape ",
                      t.shape());
             if (t.dtype() == kInt64) return py::int_(static_cast<long long>(t.data<int64_t>()[0]));
             // Python's int(float): truncates, and raises for nan (ValueError) and inf (OverflowError)
             PyObject* r = PyNumber_Long(py::float_(t.item()).ptr());
             if (!r) throw py::error_already_set();
             return py::reinterpret_steal<py::int_>(r);
           })
      .def("__index__", [](const Tensor& t) {
        if (t.dtype() != kInt64 || t.numel() != 1)  // Python's rule for __index__: a TypeError
          throw py::type_error(
              detail::concat("only integer tensors of a single element can be converted to an "
                             "index, got ",
                             dtype_name(t.dtype()), " of shape ", t.shape()));
        return static_cast<long long>(t.data<int64_t>()[0]);
      });
  // in-place operators: Python's x -= y calls these; they return self
  T.def(
       "__iadd__",
       [](Tensor& t, py::handle o) -> Tensor& {
         Operand a = operand(o, "add_");
         return a.is_tensor ? t.add_(a.t) : t.add_(a.s);
       },
       py::return_value_policy::reference_internal)
      .def(
          "__isub__",
          [](Tensor& t, py::handle o) -> Tensor& {
            Operand a = operand(o, "sub_");
            return a.is_tensor ? t.sub_(a.t) : t.sub_(a.s);
          },
          py::return_value_policy::reference_internal)
      .def(
          "__imul__",
          [](Tensor& t, py::handle o) -> Tensor& {
            Operand a = operand(o, "mul_");
            return a.is_tensor ? t.mul_(a.t) : t.mul_(a.s);
          },
          py::return_value_policy::reference_internal)
      .def(
          "__itruediv__",
          [](Tensor& t, py::handle o) -> Tensor& {
            Operand a = operand(o, "div_");
            return a.is_tensor ? t.div_(a.t) : t.div_(a.s);
          },
          py::return_value_policy::reference_internal);

  // ---- functions; those whose first argument is the tensor are methods too (x.exp(), cr.exp(x)) ----
  auto both = [&m, &T](const char* name, auto&& f, auto&&... extra) { def_both(m, T, name, f, extra...); };
  both(
      "add",
      [](const Tensor& a, py::handle b, py::handle alpha) {
        Operand o = operand(b, "add");
        Scalar al = number(alpha, "add");
        return o.is_tensor ? add(a, o.t, al) : add(a, o.s, al);
      },
      py::arg("other"), py::kw_only(), py::arg("alpha") = 1,
      "input + alpha * other, broadcasting. Example: cr.add(x, y, alpha=2).");
  both(
      "sub",
      [](const Tensor& a, py::handle b, py::handle alpha) {
        Operand o = operand(b, "sub");
        Scalar al = number(alpha, "sub");
        return o.is_tensor ? sub(a, o.t, al) : sub(a, o.s, al);
      },
      py::arg("other"), py::kw_only(), py::arg("alpha") = 1, "input - alpha * other, broadcasting.");
  both("mul", mul_f, py::arg("other"), "input * other (elementwise), broadcasting.");
  both(
      "div",
      [](const Tensor& a, py::handle b, py::object mode) {
        Operand o = operand(b, "div");
        std::string m = mode.is_none()
                            ? std::string()
                            : arg<std::string>(mode, "div", "rounding_mode to be None, 'trunc' or 'floor'");
        CR_CHECK(mode.is_none() || !m.empty(), std::invalid_argument,
                 "div: expected rounding_mode to be one of None, 'trunc', or 'floor', got ''");
        return o.is_tensor ? div(a, o.t, m) : div(a, o.s, m);
      },
      py::arg("other"), py::kw_only(), py::arg("rounding_mode") = py::none(),
      "input / other, broadcasting: true division (int64 -> float32), or rounded with rounding_mode='trunc' "
      "(toward zero) or 'floor' (down; int64 stays int64, derivative 0). "
      "Example: cr.div(x, 2, rounding_mode='floor').");
  both(
      "pow",
      [](py::handle a, py::handle b) {
        if (!py::isinstance<Tensor>(a))
          return pow(number(a, "pow"), arg<Tensor>(b, "pow", "a Tensor exponent when the base is a number"));
        Operand o = operand(b, "pow");
        Tensor base = arg<Tensor>(a, "pow", "a Tensor or a number");
        return o.is_tensor ? pow(base, o.t) : pow(base, o.s);
      },
      py::arg("exponent"), "input ** exponent elementwise; either may be a number. d/dx x^p = p x^(p-1).");
  both("neg", [](const Tensor& x) { return neg(x); }, "-input.");
  both("reciprocal", &reciprocal, "1 / input. d/dx = -1/x^2.");

#define CR_UNARY(name, doc) both(#name, [](const Tensor& x) { return name(x); }, doc)
  CR_UNARY(exp, "e^x elementwise. d/dx e^x = e^x. Example: cr.exp(cr.tensor([0., 1.])) -> [1.0000, 2.7183].");
  CR_UNARY(log, "Natural log elementwise. d/dx ln x = 1/x.");
  CR_UNARY(sqrt, "Square root elementwise. d/dx sqrt(x) = 1/(2 sqrt(x)).");
  CR_UNARY(abs, "|x| elementwise. Its derivative is sign(x) (0 at 0).");
  CR_UNARY(sin, "sin x elementwise. d/dx sin x = cos x.");
  CR_UNARY(cos, "cos x elementwise. d/dx cos x = -sin x.");
  CR_UNARY(tanh, "tanh x elementwise. d/dx tanh x = 1 - tanh(x)^2.");
  CR_UNARY(sigmoid, "1 / (1 + e^-x) elementwise. d/dx = s(x)(1 - s(x)).");
  CR_UNARY(relu, "max(x, 0) elementwise. Its derivative is 1 where x > 0, else 0.");
  CR_UNARY(sign, "-1, 0 or 1 elementwise (not differentiable: no gradient flows).");
  CR_UNARY(logical_not, "Elementwise not; returns a bool tensor.");
#undef CR_UNARY
  both("leaky_relu", &leaky_relu, py::arg("negative_slope") = 0.01,
       "x where x > 0, else negative_slope * x.");
  both("softplus", &softplus, py::arg("beta") = 1.0, py::arg("threshold") = 20.0,
       "log(1 + e^(beta x)) / beta (x itself where beta x > threshold). Its derivative is sigmoid(beta x).");
  both("maximum", &maximum, py::arg("other"),
       "Elementwise max of two tensors (ties split the gradient evenly).");
  both("minimum", &minimum, py::arg("other"),
       "Elementwise min of two tensors (ties split the gradient evenly).");
  both("eq", CR_CMP(eq), py::arg("other"), "input == other elementwise -> bool tensor.");
  both("ne", CR_CMP(ne), py::arg("other"), "input != other elementwise -> bool tensor.");
  both("lt", CR_CMP(lt), py::arg("other"), "input < other elementwise -> bool tensor.");
  both("le", CR_CMP(le), py::arg("other"), "input <= other elementwise -> bool tensor.");
  both("gt", CR_CMP(gt), py::arg("other"), "input > other elementwise -> bool tensor.");
  both("ge", CR_CMP(ge), py::arg("other"), "input >= other elementwise -> bool tensor.");
#undef CR_CMP
  both("logical_and", &logical_and, py::arg("other"), "Elementwise and -> bool tensor.");
  both("bitwise_and", &bitwise_and, py::arg("other"),
       "Bitwise and of int64 tensors, logical and of bool tensors (a & b).");
  both("bitwise_or", &bitwise_or, py::arg("other"),
       "Bitwise or of int64 tensors, logical or of bool tensors (a | b).");
  both("bitwise_xor", &bitwise_xor, py::arg("other"),
       "Bitwise xor of int64 tensors, logical xor of bool tensors (a ^ b).");
  both("bitwise_not", &bitwise_not,
       "Bitwise not of an int64 tensor (~a = -a - 1), logical not of a bool tensor.");
  both("logical_or", &logical_or, py::arg("other"), "Elementwise or -> bool tensor.");
  m.def(
      "where",
      [](const Tensor& c, py::handle a, py::handle b) {
        Operand x = operand(a, "where"), y = operand(b, "where");
        if (x.is_tensor && y.is_tensor) return where(c, x.t, y.t);
        if (x.is_tensor) return where(c, x.t, y.s);
        if (y.is_tensor) return where(c, x.s, y.t);
        Dtype d = x.s.integral && y.s.integral ? kInt64 : get_default_dtype();
        return where(c, scalar_tensor(x.s.value, d), scalar_tensor(y.s.value, d));
      },
      py::arg("condition"), py::arg("input"), py::arg("other"),
      "input where condition is true, else other (all broadcast). The gradient flows to the chosen side.");

  // reductions: python/bind_reduce.cpp
  m.def("_max_dim", [](const Tensor& x, int64_t dim, bool keepdim) { return max(x, dim, keepdim); });
  m.def("_min_dim", [](const Tensor& x, int64_t dim, bool keepdim) { return min(x, dim, keepdim); });

  // linear algebra
  both(
      "matmul",
      [](const Tensor& a, const Tensor& b) {
        py::gil_scoped_release r;
        return matmul(a, b);
      },
      py::arg("other"), R"doc(
Matrix product with PyTorch's rules: (k,)@(k,) -> (), (n,k)@(k,) -> (n,), (n,k)@(k,m) -> (n,m),
and batched (..., n, k) @ (..., k, m) with broadcast batch dims. Same as ``a @ b``.)doc");
  both(
      "mm",
      [](const Tensor& a, const Tensor& b) {
        py::gil_scoped_release r;
        return mm(a, b);
      },
      py::arg("mat2"), "(n,k) @ (k,m) -> (n,m), 2-D only.");
  both(
      "linear",
      [](const Tensor& x, const Tensor& w, std::optional<Tensor> b) {
        py::gil_scoped_release r;
        return linear(x, w, b ? *b : Tensor());
      },
      py::arg("weight"), py::arg("bias") = py::none(),
      "x @ weight.T + bias; x (..., in), weight (out, in), bias (out,).");

  // shape
  both(
      "reshape", [](const Tensor& x, Shape s) { return reshape(x, std::move(s)); }, py::arg("shape"),
      "Same data with a new shape (one dim may be -1): a view when the strides allow, else a copy.");
  both("flatten", &flatten, py::arg("start_dim") = 0, py::arg("end_dim") = -1,
       "Merges dims start_dim..end_dim into one.");
  both("transpose", &transpose, py::arg("dim0"), py::arg("dim1"), "Swaps two dims.");
  both(
      "permute", [](const Tensor& x, std::vector<int64_t> d) { return permute(x, std::move(d)); },
      py::arg("dims"), "Reorders the dims: permute(x, (2, 0, 1)).");
  both("unsqueeze", &unsqueeze, py::arg("dim"), "Inserts a dim of size 1 at dim.");
  both(
      "broadcast_to", [](const Tensor& x, Shape s) { return broadcast_to(x, std::move(s)); },
      py::arg("shape"), "Broadcasts to shape (the gradient is summed back).");
  m.def(
      "cat", [](const std::vector<Tensor>& xs, int64_t dim) { return cat(xs, dim); }, py::arg("tensors"),
      py::arg("dim") = 0, "Concatenates tensors along an existing dim.");
  m.def(
      "stack", [](const std::vector<Tensor>& xs, int64_t dim) { return stack(xs, dim); }, py::arg("tensors"),
      py::arg("dim") = 0, "Stacks same-shaped tensors along a new dim.");
  both(
      "split",
      [](const Tensor& x, py::object size, int64_t dim) {
        const char* expected = "an int or a list of ints";
        if (py::isinstance<py::int_>(size))
          return py::tuple(py::cast(split(x, arg<int64_t>(size, "split", expected), dim)));
        return py::tuple(py::cast(split(x, arg<std::vector<int64_t>>(size, "split", expected), dim)));
      },
      py::arg("split_size_or_sections"), py::arg("dim") = 0,
      "Splits into chunks of a given size (the last may be smaller) or of the given sizes.");
  both(
      "chunk", [](const Tensor& x, int64_t n, int64_t dim) { return py::tuple(py::cast(chunk(x, n, dim))); },
      py::arg("chunks"), py::arg("dim") = 0, "Splits into `chunks` nearly equal pieces.");
  both(
      "narrow_slice",
      [](const Tensor& x, int64_t dim, int64_t start, int64_t stop, int64_t step) {
        return slice(x, dim, start, stop, step);
      },
      py::arg("dim"), py::arg("start"), py::arg("stop"), py::arg("step") = 1,
      "x[start:stop:step] along dim (Python slice semantics).");
  both(
      "select", [](const Tensor& x, int64_t d, int64_t i) { return select(x, d, i); }, py::arg("dim"),
      py::arg("index"), "x[index] along dim (removes dim). A view.");
  both("narrow", &narrow, py::arg("dim"), py::arg("start"), py::arg("length"),
       "x[start:start+length] along dim. A view.");
  both("diagonal", &diagonal, py::arg("offset") = 0, py::arg("dim1") = 0, py::arg("dim2") = 1,
       "The diagonal of each (dim1, dim2) plane as a new last dim (offset > 0: above it). A view.");
  T.def(
      "unfold",
      [](const Tensor& x, int64_t dim, int64_t size, int64_t step) { return unfold(x, dim, size, step); },
      py::arg("dimension"), py::arg("size"), py::arg("step"),
      "Windows of `size` every `step` along dimension, as a new last dim (a view: windows may overlap).");
  both("index_select", &index_select, py::arg("dim"), py::arg("index"),
       "Picks the entries of a 1-D int64 index along dim.");
  both("gather", &gather, py::arg("dim"), py::arg("index"),
       "out[i][j] = input[i][index[i][j]] (dim=1); e.g. the score of each sample's class.");
  both("scatter_add", &scatter_add, py::arg("dim"), py::arg("index"), py::arg("src"),
       "A copy of input with src added at the positions index gives along dim (the inverse of gather).");
  both(
      "index_add",
      [](const Tensor& x, int64_t dim, const Tensor& idx, const Tensor& src) {
        return index_add(x, dim, idx, src);
      },
      py::arg("dim"), py::arg("index"), py::arg("source"),
      "A copy of input with source's slices added at the indices along dim.");
  m.def("one_hot", &one_hot, py::arg("tensor"), py::arg("num_classes") = -1,
        "int64 labels (...) -> int64 (..., num_classes) with a 1 at each label.");
  both(
      "expand", [](const Tensor& x, Shape s) { return expand(x, std::move(s)); }, py::arg("size"),
      "Broadcasts to size (-1 keeps a dim, new dims may be prepended); the gradient is summed back.");
  both("sum_to", &sum_to, py::arg("shape"), "Sums a broadcast tensor back down to shape.");

  // methods taking sizes as varargs, as PyTorch's: x.reshape(2, 3), x.permute(1, 0), x.view(-1)
  T.def(
       "reshape", [](const Tensor& x, py::args s) { return reshape(x, shape_arg(s, "reshape")); },
       "Same data with a new shape, given as ints or a tuple (one may be -1): a view when the strides "
       "allow, else a copy.")
      .def(
          "view", [](const Tensor& x, py::args s) { return view(x, shape_arg(s, "view")); },
          "Same data with a new shape, always a view; raises if the strides allow none (use reshape).")
      .def(
          "permute", [](const Tensor& x, py::args s) { return permute(x, shape_arg(s, "permute")); },
          "Reorders the dims: x.permute(2, 0, 1).")
      .def(
          "expand", [](const Tensor& x, py::args s) { return expand(x, shape_arg(s, "expand")); },
          "Broadcasts to the given sizes (-1 keeps a dim).")
      .def("t", &Tensor::t, "Transpose of a 2-D tensor.")
      .def_property_readonly(
          "T",
          [](const Tensor& x) {
            std::vector<int64_t> d(x.dim());
            for (int64_t i = 0; i < x.dim(); ++i) d[i] = x.dim() - 1 - i;
            return permute(x, d);
          },
          "The tensor with its dims reversed (the transpose, for a matrix). A view.")
      .def_property_readonly("mT", &Tensor::mT, "The last two dims swapped (batched transpose). A view.");

  // factories
  m.def("_empty", [](Shape s, Dtype d) { return empty(std::move(s), d); });
  m.def("_zeros", [](Shape s, Dtype d) { return zeros(std::move(s), d); });
  m.def("_ones", [](Shape s, Dtype d) { return ones(std::move(s), d); });
  m.def("_full", [](Shape s, py::handle v, Dtype d) { return full(std::move(s), number(v, "full"), d); });
  m.def("_arange", [](double a, double b, double step, Dtype d) { return arange(a, b, step, d); });
  m.def("_linspace", &linspace);
  m.def("_eye", &eye);
  m.def("_rand", [](Shape s, Dtype d) { return rand(std::move(s), d); });
  m.def("_randn", [](Shape s, Dtype d) { return randn(std::move(s), d); });
  m.def("_randint", [](int64_t lo, int64_t hi, Shape s) { return randint(lo, hi, std::move(s)); });
  m.def(
      "randperm",
      [](int64_t n, py::object seed) {
        return randperm(n, seed.is_none() ? -1 : arg<int64_t>(seed, "randperm", "seed as an int"));
      },
      py::arg("n"), py::kw_only(), py::arg("seed") = py::none(),
      "A random permutation of 0..n-1 (int64). A seed gives its own reproducible order.");
  m.def("set_num_threads", &set_num_threads, py::arg("num_threads"),
        "Threads for chainrule's kernels and matrix products (as torch.set_num_threads).");
  m.def("get_num_threads", &get_num_threads, "Threads chainrule's kernels and matrix products use.");
  m.def("_build_config", &build_config);
  m.def("_set_gemm_backend", [](const std::string& name) {  // tests and benchmarks: both in one run
    CR_CHECK(name == "Eigen" || name == "OpenBLAS", std::invalid_argument,
             "_set_gemm_backend: expected 'Eigen' or 'OpenBLAS', got '", name, "'");
    return blas::set_backend(name == "Eigen" ? blas::Backend::Eigen : blas::Backend::OpenBLAS);
  });
  m.def("_gemm_backend",
        [] { return blas::active_backend() == blas::Backend::Eigen ? "Eigen" : "OpenBLAS"; });
  m.def("from_numpy", &from_numpy, py::arg("array"),
        "A tensor sharing memory (and strides) with a float32/float64/int64/bool NumPy array.");
  m.def("from_dlpack", &from_dlpack, py::arg("ext_tensor"),
        "A tensor sharing memory with any CPU object that supports DLPack (torch tensors, NumPy arrays).");
  m.def("_sizes", [](const std::string& op, py::args sizes) { return shape_arg(sizes, op.c_str()); });

  // grad mode
  m.def("is_grad_enabled", &is_grad_enabled, "Whether ops record the graph (False inside no_grad).");
  m.def("_set_grad_enabled", &set_grad_enabled);

  bind_nn(m);
  bind_functional(m);
  bind_optim(m);
  bind_math(m, T);  // elementwise math: python/bind_math.cpp
  bind_errors(m);
  bind_reduce(m, T);
  bind_linalg(m, T);
  bind_tensor_api(m, T);
  bind_serialize(m);
  bind_func(m);
  bind_probe(m);

  // autograd
  // autograd entry points (wrapped with PyTorch's signatures by chainrule/autograd.py)
  m.def("_autograd_grad",
        [](std::vector<Tensor> outs, std::vector<Tensor> ins, std::vector<std::optional<Tensor>> gos,
           std::optional<bool> retain, bool create, bool allow_unused) {
          std::vector<Tensor> g;
          for (auto& o : gos) g.push_back(o ? *o : Tensor());
          std::vector<Tensor> r;
          {
            py::gil_scoped_release nogil;
            r = autograd::grad(outs, ins, g, retain, create, allow_unused);
          }
          py::list out;
          for (auto& t : r) out.append(t.defined() ? py::cast(t) : py::none());
          return py::tuple(out);
        });
  m.def("_autograd_backward", [](std::vector<Tensor> outs, std::vector<std::optional<Tensor>> gos,
                                 std::optional<bool> retain, bool create) {
    std::vector<Tensor> g;
    for (auto& o : gos) g.push_back(o ? *o : Tensor());
    py::gil_scoped_release nogil;
    autograd::backward(outs, g, retain, create);
  });
  auto wrap_fn = [](py::function fn) {
    return GradcheckFn([fn](const std::vector<Tensor>& in) {
      py::tuple args(in.size());
      for (size_t i = 0; i < in.size(); ++i) args[i] = py::cast(in[i]);
      py::object r = fn(*args);
      if (!py::isinstance<Tensor>(r)) throw py::type_error("gradcheck: the function must return a Tensor");
      return r.cast<Tensor>();
    });
  };
  m.def("_gradcheck",
        [wrap_fn](py::function fn, std::vector<Tensor> in, double eps, double atol, double rtol) {
          auto r = gradcheck(wrap_fn(fn), in, eps, atol, rtol);
          return py::make_tuple(r.ok, r.message);
        });
  m.def("_gradgradcheck",
        [wrap_fn](py::function fn, std::vector<Tensor> in, double eps, double atol, double rtol) {
          auto r = gradgradcheck(wrap_fn(fn), in, eps, atol, rtol);
          return py::make_tuple(r.ok, r.message);
        });
}
