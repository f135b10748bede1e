// Bindings of nn::Module and the layers. Module has a trampoline so that Python subclasses
// override forward/extra_repr and can sit inside C++ containers (Sequential) and vice versa.
#include <pybind11/stl.h>

#include "core/ops_nn.h"
#include "nn/layers.h"
#include "python/bind_util.h"

namespace chainrule::bind {
using nn::Module;

namespace {
// Keeps m's Python object (and so m) alive; released with the GIL, and not after the interpreter.
std::shared_ptr<void> hold_python_object(const Module* m) {
  py::gil_scoped_acquire gil;
  return std::shared_ptr<void>(
      new py::object(py::cast(const_cast<Module*>(m), py::return_value_policy::reference)),
      [](py::object* o) {
        if (!Py_IsInitialized()) return;  // at exit: the interpreter already freed it
        py::gil_scoped_acquire gil;
        delete o;
      });
}

struct PyModule : Module, py::trampoline_self_life_support {
  using Module::Module;
  Tensor forward(const Tensor& x) override { PYBIND11_OVERRIDE(Tensor, Module, forward, x); }
  std::string extra_repr() const override { PYBIND11_OVERRIDE(std::string, Module, extra_repr, ); }
  void train(bool on) override { PYBIND11_OVERRIDE(void, Module, train, on); }
  std::string type_name() const override {
    py::gil_scoped_acquire gil;
    py::object self = py::cast(this);
    return py::str(py::type::of(self).attr("__name__"));
  }
  // A module made in Python is owned by its Python object (smart_holder: weak_from_this is empty).
  std::shared_ptr<void> keep_alive() override { return hold_python_object(this); }
};

using Pair = std::pair<int64_t, int64_t>;

// kernel_size=3 or (3, 3)
Pair pair_arg(py::handle h, const char* op) {
  if (py::isinstance<py::int_>(h)) {
    int64_t v = h.cast<int64_t>();
    return {v, v};
  }
  auto v = arg<std::vector<int64_t>>(h, op, "an int or a pair of ints");
  CR_CHECK(v.size() == 2, std::invalid_argument, op, ": expected an int or a pair of ints, got ", v.size(),
           " values");
  return {v[0], v[1]};
}

// MaxPool2d(kernel_size, stride=None, padding=0): stride defaults to the kernel size.
template <class Pool> auto pool_init(const char* name) {
  return py::init([name](py::handle k, py::object stride, py::handle padding) {
    Pair kk = pair_arg(k, name);
    return std::make_shared<Pool>(kk, stride.is_none() ? kk : pair_arg(stride, name),
                                  pair_arg(padding, name));
  });
}

// device= on a layer: None or the CPU, as everywhere in chainrule; any other device raises.
void check_device(py::handle device, const char* layer) {
  if (!device.is_none())
    py::module_::import("chainrule._tensor_py").attr("_device")(device, "use 'cpu'", layer);
}

// An undefined tensor (bias=False) is None in Python.
py::object or_none(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

py::list pairs(const nn::StateDict& sd) {
  py::list out;
  for (const auto& [k, v] : sd) out.append(py::make_tuple(k, or_none(v)));
  return out;
}
}  // namespace

// What a Python module hook is given and gives back, as torch: the module itself, tensors in
// 1-tuples (None for a missing gradient); None (keep) or a tensor (replace), also as a 1-tuple.
static py::object self(Module& m) { return py::cast(&m, py::return_value_policy::reference); }
static py::tuple one(const Tensor& t) {
  return py::make_tuple(t.defined() ? py::cast(t) : py::object(py::none()));
}
static Tensor hook_result(py::object r, const char* what, bool tuple_ok = true) {
  if (tuple_ok && py::isinstance<py::tuple>(r) && py::len(r) == 1) r = r[py::int_(0)];
  return r.is_none() ? Tensor()
                     : arg<Tensor>(r, what, tuple_ok ? "None, a Tensor or a 1-tuple" : "None or a Tensor");
}

void bind_nn(py::module_& m) {
  py::class_<Module, PyModule, py::smart_holder> M(m, "Module", py::dynamic_attr(), R"doc(
Base class of every layer and model. Subclass it as in PyTorch: assign Parameters and Modules as
attributes in __init__ (they register themselves) and write forward(); call the model as model(x).)doc");
  M.def(py::init<>())
      .def("forward", &Module::forward, py::arg("input"), "Computes the module's output; override it.")
      .def(
          "register_forward_pre_hook",
          [](Module& mod, py::function hook) {
            auto held = held_function(std::move(hook));
            return mod.register_forward_pre_hook([held](Module& m, const Tensor& x) {
              py::gil_scoped_acquire gil;
              return hook_result((*held)(self(m), one(x)), "forward pre-hook");
            });
          },
          py::arg("hook"),
          "hook(module, args) runs before forward; returning a value (or a 1-tuple) replaces the input. "
          "Returns a handle: handle.remove().")
      .def(
          "register_forward_hook",
          [](Module& mod, py::function hook) {
            auto held = held_function(std::move(hook));
            return mod.register_forward_hook([held](Module& m, const Tensor& x, const Tensor& y) {
              py::gil_scoped_acquire gil;
              return hook_result((*held)(self(m), one(x), y), "forward hook", false);
            });
          },
          py::arg("hook"),
          "hook(module, args, output) runs after forward; returning a tensor replaces the output. Returns a "
          "handle: handle.remove().")
      .def(
          "register_full_backward_pre_hook",
          [](Module& mod, py::function hook) {
            auto held = held_function(std::move(hook));
            return mod.register_full_backward_pre_hook([held](Module& m, const Tensor& go) {
              py::gil_scoped_acquire gil;  // backward runs without it
              return hook_result((*held)(self(m), one(go)), "full backward pre-hook");
            });
          },
          py::arg("hook"),
          "hook(module, grad_output) runs in backward when the gradient with respect to the output is known; "
          "returning a 1-tuple replaces it. Returns a handle: handle.remove().")
      .def(
          "register_full_backward_hook",
          [](Module& mod, py::function hook) {
            auto held = held_function(std::move(hook));
            return mod.register_full_backward_hook([held](Module& m, const Tensor& gi, const Tensor& go) {
              py::gil_scoped_acquire gil;
              return hook_result((*held)(self(m), one(gi), one(go)), "full backward hook");
            });
          },
          py::arg("hook"),
          "hook(module, grad_input, grad_output) runs in backward when the gradient with respect to the "
          "input "
          "is known (grad_input is (None,) when the input needs none); returning a 1-tuple replaces "
          "grad_input. "
          "Returns a handle: handle.remove().")
      .def("_call_with_hooks", &Module::operator(), py::arg("input"))
      .def("_has_hooks", &Module::has_hooks)
      .def("extra_repr", &Module::extra_repr, "The text shown inside the parentheses of repr().")
      .def("_register_parameter",
           [](Module& self, const std::string& name, std::optional<Tensor> p) {
             return self.register_parameter(name, p ? *p : Tensor(), p ? p->requires_grad() : true);
           })
      .def("_register_buffer",
           [](Module& self, const std::string& name, std::optional<Tensor> b) {
             return self.register_buffer(name, b ? *b : Tensor());
           })
      .def("_register_module",
           [](Module& self, const std::string& name, std::shared_ptr<Module> child) {
             self.register_module(name, std::move(child));  // None registers "no module" under the name
           })
      .def("_remove", &Module::remove)
      .def("_has_parameter", &Module::has_parameter)
      .def("_has_buffer", &Module::has_buffer)
      .def("_has_module", &Module::has_module)
      .def("_parameter",
           [](const Module& self, const std::string& name) { return or_none(self.parameter(name)); })
      .def("_buffer", [](const Module& self, const std::string& name) { return or_none(self.buffer(name)); })
      .def("_module", &Module::module)
      .def("_named_parameters",
           [](const Module& self, bool recurse) { return pairs(self.named_parameters(recurse)); })
      .def("_named_buffers",
           [](const Module& self, bool recurse) { return pairs(self.named_buffers(recurse)); })
      .def("_named_children", &Module::named_children)
      .def("_named_modules",
           [](py::object self_obj) {
             Module& self = self_obj.cast<Module&>();
             py::list out;
             for (auto& [name, mod] :
                  self.named_modules())  // the root is self; the rest are owned by their parents
               out.append(py::make_tuple(name, mod == &self ? self_obj : py::cast(mod->shared_from_this())));
             return out;
           })
      .def("_state_dict", [](const Module& self) { return pairs(self.state_dict()); })
      .def("_load_state_dict", [](Module& self, const std::vector<std::pair<std::string, Tensor>>& sd,
                                  bool strict) { self.load_state_dict(sd, strict); })
      .def("_train", [](Module& self, bool on) { self.train(on); })
      .def("_set_training_flag", &Module::set_training_flag)
      .def("_to_dtype", [](Module& self, Dtype d) { self.to(d); })
      .def("_copy_self", &Module::copy_self)
      .def("_own_parameters", [](const Module& self) { return pairs(self.own_parameters()); })
      .def("_own_buffers", [](const Module& self) { return pairs(self.own_buffers()); })
      .def("_own_children", &Module::own_children)
      .def("_zero_grad", &Module::zero_grad)
      .def_property_readonly("training", &Module::is_training, "True in training mode (see train()/eval()).")
      .def("_repr", &Module::repr)
      .def_static("_ready", [](py::handle self) {
        // False until the C++ object exists (a subclass's __init__ before super().__init__()).
        auto* inst = reinterpret_cast<py::detail::instance*>(self.ptr());
        return inst->get_value_and_holder().holder_constructed();
      });

  // ---- layers ----
  py::class_<nn::Linear, Module, py::smart_holder>(
      m, "Linear", "y = x W^T + b, with W of shape (out_features, in_features).")
      .def(py::init([](int64_t in, int64_t out, bool bias, py::handle device, std::optional<Dtype> dtype) {
             check_device(device, "Linear");
             return std::make_shared<nn::Linear>(in, out, bias, dtype.value_or(get_default_dtype()));
           }),
           py::arg("in_features"), py::arg("out_features"), py::arg("bias") = true, py::kw_only(),
           py::arg("device") = py::none(), py::arg("dtype") = py::none())
      .def_readonly("in_features", &nn::Linear::in_features)
      .def_readonly("out_features", &nn::Linear::out_features);
  py::class_<nn::Sequential, Module, py::smart_holder>(
      m, "Sequential", "Runs its modules in order: Sequential(Linear(2, 16), ReLU(), Linear(16, 3)).")
      .def(py::init([](py::args mods) {
        auto s = std::make_shared<nn::Sequential>();
        for (auto h : mods) s->push_back(arg<std::shared_ptr<Module>>(h, "Sequential", "modules"));
        return s;
      }))
      .def(
          "append",
          [](nn::Sequential& s, std::shared_ptr<Module> mod) {
            s.push_back(std::move(mod));
            return &s;
          },
          py::return_value_policy::reference_internal, "Adds a module at the end.")
      .def("__len__", &nn::Sequential::size)
      .def("__getitem__", &nn::Sequential::operator[]);
  py::class_<nn::ModuleList, Module, py::smart_holder>(m, "ModuleList",
                                                       "A list of modules whose parameters are registered.")
      .def(py::init([](py::object mods) {
             auto l = std::make_shared<nn::ModuleList>();
             if (!mods.is_none())
               for (auto h : mods) l->push_back(arg<std::shared_ptr<Module>>(h, "ModuleList", "modules"));
             return l;
           }),
           py::arg("modules") = py::none())
      .def(
          "append",
          [](nn::ModuleList& l, std::shared_ptr<Module> mod) {
            l.push_back(std::move(mod));
            return &l;
          },
          py::return_value_policy::reference_internal, "Adds a module at the end.")
      .def("__len__", &nn::ModuleList::size)
      .def("__getitem__", &nn::ModuleList::operator[]);
  py::class_<nn::Identity, Module, py::smart_holder>(m, "Identity", "Returns its input.").def(py::init<>());
  py::class_<nn::Flatten, Module, py::smart_holder>(
      m, "Flatten", "Flattens dims start_dim..end_dim (default: all but the batch dim).")
      .def(py::init<int64_t, int64_t>(), py::arg("start_dim") = 1, py::arg("end_dim") = -1)
      .def_readonly("start_dim", &nn::Flatten::start_dim)
      .def_readonly("end_dim", &nn::Flatten::end_dim);
  py::class_<nn::ReLU, Module, py::smart_holder>(m, "ReLU", "max(x, 0).")
      .def(py::init([](bool) { return std::make_shared<nn::ReLU>(); }), py::arg("inplace") = false);
  py::class_<nn::LeakyReLU, Module, py::smart_holder>(m, "LeakyReLU", "x if x > 0 else negative_slope * x.")
      .def(py::init([](double slope, bool) { return std::make_shared<nn::LeakyReLU>(slope); }),
           py::arg("negative_slope") = 0.01, py::arg("inplace") = false)
      .def_readonly("negative_slope", &nn::LeakyReLU::negative_slope);
  py::class_<nn::Sigmoid, Module, py::smart_holder>(m, "Sigmoid", "1 / (1 + e^-x).").def(py::init<>());
  py::class_<nn::Tanh, Module, py::smart_holder>(m, "Tanh", "tanh x.").def(py::init<>());
  py::class_<nn::Softplus, Module, py::smart_holder>(m, "Softplus", "log(1 + e^(beta x)) / beta.")
      .def(py::init<double, double>(), py::arg("beta") = 1.0, py::arg("threshold") = 20.0)
      .def_readonly("beta", &nn::Softplus::beta)
      .def_readonly("threshold", &nn::Softplus::threshold);
  py::class_<nn::Softmax, Module, py::smart_holder>(m, "Softmax", "softmax along dim.")
      .def(py::init<int64_t>(), py::arg("dim") = -1)
      .def_readonly("dim", &nn::Softmax::dim);
  py::class_<nn::LogSoftmax, Module, py::smart_holder>(m, "LogSoftmax", "log_softmax along dim.")
      .def(py::init<int64_t>(), py::arg("dim") = -1)
      .def_readonly("dim", &nn::LogSoftmax::dim);
  py::class_<nn::GELU, Module, py::smart_holder>(m, "GELU",
                                                 "x * Phi(x) (approximate='tanh' for the tanh formula).")
      .def(py::init<std::string>(), py::arg("approximate") = "none")
      .def_readonly("approximate", &nn::GELU::approximate);
  py::class_<nn::Dropout, Module, py::smart_holder>(m, "Dropout",
                                                    "In training, zeroes each element with probability p and "
                                                    "scales the rest by 1/(1-p); identity in eval().")
      .def(py::init([](double p, bool) { return std::make_shared<nn::Dropout>(p); }), py::arg("p") = 0.5,
           py::arg("inplace") = false)
      .def_readonly("p", &nn::Dropout::p);
  py::class_<nn::BatchNorm1d, Module, py::smart_holder>(
      m, "BatchNorm1d",
      "Normalises each feature of (N, C) or (N, C, L) over the batch; keeps running statistics for eval().")
      .def(py::init([](int64_t n, double eps, double momentum, bool affine, bool track, py::handle device,
                       std::optional<Dtype> dtype) {
             check_device(device, "BatchNorm1d");
             return std::make_shared<nn::BatchNorm1d>(n, eps, momentum, affine, track,
                                                      dtype.value_or(get_default_dtype()));
           }),
           py::arg("num_features"), py::arg("eps") = 1e-5, py::arg("momentum") = 0.1,
           py::arg("affine") = true, py::arg("track_running_stats") = true, py::kw_only(),
           py::arg("device") = py::none(), py::arg("dtype") = py::none())
      .def_readonly("num_features", &nn::BatchNorm1d::num_features)
      .def_readonly("eps", &nn::BatchNorm1d::eps)
      .def_readonly("momentum", &nn::BatchNorm1d::momentum);
  py::class_<nn::LayerNorm, Module, py::smart_holder>(m, "LayerNorm",
                                                      "Normalises over the trailing dims normalized_shape.")
      .def(py::init([](py::object shape, double eps, bool affine, py::handle device,
                       std::optional<Dtype> dtype_or_none) {
             check_device(device, "LayerNorm");
             Dtype dtype = dtype_or_none.value_or(get_default_dtype());
             Shape s = py::isinstance<py::int_>(shape)
                           ? Shape{shape.cast<int64_t>()}
                           : arg<Shape>(shape, "LayerNorm", "an int or a tuple of ints");
             return std::make_shared<nn::LayerNorm>(s, eps, affine, dtype);
           }),
           py::arg("normalized_shape"), py::arg("eps") = 1e-5, py::arg("elementwise_affine") = true,
           py::kw_only(), py::arg("device") = py::none(), py::arg("dtype") = py::none())
      .def_property_readonly("normalized_shape",
                             [](const nn::LayerNorm& l) { return py::tuple(py::cast(l.normalized_shape)); })
      .def_readonly("eps", &nn::LayerNorm::eps)
      .def_readonly("elementwise_affine", &nn::LayerNorm::elementwise_affine);
  py::class_<nn::Conv2d, Module, py::smart_holder>(
      m, "Conv2d",
      "2-D convolution (cross-correlation) of (N, C, H, W) with weight (O, C, kh, kw) and bias (O,).")
      .def(py::init([](int64_t in, int64_t out, py::handle k, py::handle stride, py::handle padding,
                       bool bias, std::optional<Dtype> dtype) {
             return std::make_shared<nn::Conv2d>(in, out, pair_arg(k, "Conv2d"), pair_arg(stride, "Conv2d"),
                                                 pair_arg(padding, "Conv2d"), bias,
                                                 dtype.value_or(get_default_dtype()));
           }),
           py::arg("in_channels"), py::arg("out_channels"), py::arg("kernel_size"), py::arg("stride") = 1,
           py::arg("padding") = 0, py::arg("bias") = true, py::kw_only(), py::arg("dtype") = py::none())
      .def_readonly("in_channels", &nn::Conv2d::in_channels)
      .def_readonly("out_channels", &nn::Conv2d::out_channels);
  py::class_<nn::MaxPool2d, Module, py::smart_holder>(
      m, "MaxPool2d", "Max over each kernel_size window (stride defaults to kernel_size).")
      .def(pool_init<nn::MaxPool2d>("MaxPool2d"), py::arg("kernel_size"), py::arg("stride") = py::none(),
           py::arg("padding") = 0);
  py::class_<nn::AvgPool2d, Module, py::smart_holder>(
      m, "AvgPool2d", "Mean over each kernel_size window (stride defaults to kernel_size).")
      .def(pool_init<nn::AvgPool2d>("AvgPool2d"), py::arg("kernel_size"), py::arg("stride") = py::none(),
           py::arg("padding") = 0);

  m.def(
      "erf", [](const Tensor& x) { return erf(x); }, py::arg("input"),
      "The error function. d/dx erf(x) = 2/sqrt(pi) e^(-x^2).");

  // ---- the functional forms of the layer ops, in _core.nn.functional (cr.nn.functional re-exports them)
  // ----
  py::module_ f = m.def_submodule("nn").def_submodule("functional");
  auto size2 = [](py::handle h, const char* op) {
    Pair p = pair_arg(h, op);
    return Size2{p.first, p.second};
  };
  f.def(
      "gelu", [](const Tensor& x, const std::string& a) { return gelu(x, a); }, py::arg("input"),
      py::arg("approximate") = "none",
      "x * Phi(x), Phi the standard normal CDF (or its tanh approximation).");
  f.def(
      "unfold",
      [size2](const Tensor& x, py::handle k, py::handle dilation, py::handle padding, py::handle stride) {
        return unfold(x, size2(k, "unfold"), size2(stride, "unfold"), size2(padding, "unfold"),
                      size2(dilation, "unfold"));
      },
      py::arg("input"), py::arg("kernel_size"), py::arg("dilation") = 1, py::arg("padding") = 0,
      py::arg("stride") = 1, "Sliding blocks of (N, C, H, W) as columns (N, C*kh*kw, L) (im2col).");
  f.def(
      "fold",
      [size2](const Tensor& x, py::handle out, py::handle k, py::handle dilation, py::handle padding,
              py::handle stride) {
        return fold(x, size2(out, "fold"), size2(k, "fold"), size2(stride, "fold"), size2(padding, "fold"),
                    size2(dilation, "fold"));
      },
      py::arg("input"), py::arg("output_size"), py::arg("kernel_size"), py::arg("dilation") = 1,
      py::arg("padding") = 0, py::arg("stride") = 1,
      "Sums columns (N, C*kh*kw, L) back into (N, C, H, W) (col2im, the adjoint of unfold).");
}

}  // namespace chainrule::bind
