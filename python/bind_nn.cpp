// Bindings of nn::Module and the layers. Module has a trampoline so that Python subclasses
// override forward/extra_repr and can sit inside C++ containers (Sequential) and vice versa.
#include <pybind11/stl.h>

#include "nn/layers.h"
#include "python/bind_util.h"

namespace chainrule::bind {
using nn::Module;

namespace {
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
};

using Pair = std::pair<int64_t, int64_t>;

// kernel_size=3 or (3, 3)
Pair pair_arg(py::handle h, const char* op) {
  if (py::isinstance<py::int_>(h)) {
    int64_t v = h.cast<int64_t>();
    return {v, v};
  }
  auto v = arg<std::vector<int64_t>>(h, op, "an int or a pair of ints");
  CR_CHECK(v.size() == 2, std::invalid_argument, op, ": expected an int or a pair of ints, got ", v.size(), " values");
  return {v[0], v[1]};
}

py::list pairs(const nn::StateDict& sd) {
  py::list out;
  for (const auto& [k, v] : sd) out.append(py::make_tuple(k, v));
  return out;
}
}  // namespace

void bind_nn(py::module_& m) {
  py::class_<Module, PyModule, py::smart_holder> M(m, "Module", py::dynamic_attr(), R"doc(
Base class of every layer and model. Subclass it as in PyTorch: assign Parameters and Modules as
attributes in __init__ (they register themselves) and write forward(); call the model as model(x).)doc");
  M.def(py::init<>())
      .def("forward", &Module::forward, py::arg("input"), "Computes the module's output; override it.")
      .def("extra_repr", &Module::extra_repr, "The text shown inside the parentheses of repr().")
      .def("_register_parameter", &Module::register_parameter)
      .def("_register_buffer", &Module::register_buffer)
      .def("_register_module", [](Module& self, const std::string& name, std::shared_ptr<Module> child) {
        self.register_module(name, std::move(child));
      })
      .def("_has_parameter", &Module::has_parameter)
      .def("_has_buffer", &Module::has_buffer)
      .def("_has_module", &Module::has_module)
      .def("_parameter", &Module::parameter)
      .def("_buffer", &Module::buffer)
      .def("_module", &Module::module)
      .def("_named_parameters", [](const Module& self, bool recurse) { return pairs(self.named_parameters(recurse)); })
      .def("_named_buffers", [](const Module& self, bool recurse) { return pairs(self.named_buffers(recurse)); })
      .def("_named_children", &Module::named_children)
      .def("_named_modules", &Module::named_modules)
      .def("_state_dict", [](const Module& self) { return pairs(self.state_dict()); })
      .def("_load_state_dict", [](Module& self, const std::vector<std::pair<std::string, Tensor>>& sd, bool strict) {
        self.load_state_dict(sd, strict);
      })
      .def("_train", [](Module& self, bool on) { self.train(on); })
      .def("_zero_grad", &Module::zero_grad)
      .def_property_readonly("training", &Module::is_training, "True in training mode (see train()/eval()).")
      .def("_repr", &Module::repr);

  // ---- layers ----
  py::class_<nn::Linear, Module, py::smart_holder>(m, "Linear", "y = x W^T + b, with W of shape (out_features, in_features).")
      .def(py::init<int64_t, int64_t, bool, Dtype>(), py::arg("in_features"), py::arg("out_features"),
           py::arg("bias") = true, py::kw_only(), py::arg("dtype") = kFloat32)
      .def_readonly("in_features", &nn::Linear::in_features)
      .def_readonly("out_features", &nn::Linear::out_features);
  py::class_<nn::Sequential, Module, py::smart_holder>(m, "Sequential", "Runs its modules in order: Sequential(Linear(2, 16), ReLU(), Linear(16, 3)).")
      .def(py::init([](py::args mods) {
        auto s = std::make_shared<nn::Sequential>();
        for (auto h : mods) s->push_back(arg<std::shared_ptr<Module>>(h, "Sequential", "modules"));
        return s;
      }))
      .def("append", [](nn::Sequential& s, std::shared_ptr<Module> mod) { s.push_back(std::move(mod)); return &s; },
           py::return_value_policy::reference_internal, "Adds a module at the end.")
      .def("__len__", &nn::Sequential::size)
      .def("__getitem__", &nn::Sequential::operator[]);
  py::class_<nn::ModuleList, Module, py::smart_holder>(m, "ModuleList", "A list of modules whose parameters are registered.")
      .def(py::init([](py::object mods) {
        auto l = std::make_shared<nn::ModuleList>();
        if (!mods.is_none())
          for (auto h : mods) l->push_back(arg<std::shared_ptr<Module>>(h, "ModuleList", "modules"));
        return l;
      }), py::arg("modules") = py::none())
      .def("append", [](nn::ModuleList& l, std::shared_ptr<Module> mod) { l.push_back(std::move(mod)); return &l; },
           py::return_value_policy::reference_internal, "Adds a module at the end.")
      .def("__len__", &nn::ModuleList::size)
      .def("__getitem__", &nn::ModuleList::operator[]);
  py::class_<nn::Identity, Module, py::smart_holder>(m, "Identity", "Returns its input.").def(py::init<>());
  py::class_<nn::Flatten, Module, py::smart_holder>(m, "Flatten", "Flattens dims start_dim..end_dim (default: all but the batch dim).")
      .def(py::init<int64_t, int64_t>(), py::arg("start_dim") = 1, py::arg("end_dim") = -1);
  py::class_<nn::ReLU, Module, py::smart_holder>(m, "ReLU", "max(x, 0).").def(py::init<>());
  py::class_<nn::LeakyReLU, Module, py::smart_holder>(m, "LeakyReLU", "x if x > 0 else negative_slope * x.")
      .def(py::init<double>(), py::arg("negative_slope") = 0.01);
  py::class_<nn::Sigmoid, Module, py::smart_holder>(m, "Sigmoid", "1 / (1 + e^-x).").def(py::init<>());
  py::class_<nn::Tanh, Module, py::smart_holder>(m, "Tanh", "tanh x.").def(py::init<>());
  py::class_<nn::Softplus, Module, py::smart_holder>(m, "Softplus", "log(1 + e^(beta x)) / beta.")
      .def(py::init<double, double>(), py::arg("beta") = 1.0, py::arg("threshold") = 20.0);
  py::class_<nn::Softmax, Module, py::smart_holder>(m, "Softmax", "softmax along dim.")
      .def(py::init<int64_t>(), py::arg("dim") = -1);
  py::class_<nn::LogSoftmax, Module, py::smart_holder>(m, "LogSoftmax", "log_softmax along dim.")
      .def(py::init<int64_t>(), py::arg("dim") = -1);
  (void)pair_arg;
}

}  // namespace chainrule::bind
