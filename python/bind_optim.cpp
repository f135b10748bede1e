// Bindings for chainrule's optim part (see python/bind_util.h): the C++ optimizers, projections and
// schedulers. python/chainrule/optim wraps them in PyTorch's signatures and dict-like param groups.
#include <pybind11/functional.h>

#include "optim/lr_scheduler.h"
#include "optim/optimizer.h"
#include "python/bind_util.h"

namespace chainrule::bind {

namespace {
using namespace chainrule::optim;

// ---------------------------------------------------------------- hyperparameter conversion
Hyper to_hyper(py::handle v, Hyper::Kind kind, const std::string& opt, const std::string& key) {
  const std::string what = opt + ": option '" + key + "'";
  if (kind == Hyper::Flag) {
    if (py::isinstance<py::bool_>(v) || py::isinstance<py::int_>(v)) return Hyper::flag(PyObject_IsTrue(v.ptr()) == 1);
    if (py::hasattr(v, "dtype") && py::isinstance<py::bool_>(v.attr("item")()))  // numpy.bool_
      return Hyper::flag(PyObject_IsTrue(v.ptr()) == 1);
    throw py::type_error(what + ": expected a bool, got " + type_name(v));
  }
  if (kind == Hyper::Pair) {
    if (!py::isinstance<py::sequence>(v) || py::isinstance<py::str>(v) || py::len(v) != 2)
      throw py::type_error(what + ": expected a pair of numbers, got " + type_name(v));
    py::sequence s = py::reinterpret_borrow<py::sequence>(v);
    return Hyper::pair(number(s[0], what.c_str()).value, number(s[1], what.c_str()).value);
  }
  return Hyper::number(number(v, what.c_str()).value);
}

py::object from_hyper(const Hyper& h) {
  if (h.kind == Hyper::Flag) return py::bool_(h.a != 0);
  if (h.kind == Hyper::Pair) return py::make_tuple(h.a, h.b);
  return py::float_(h.a);
}

// The kind an option of `opt` must have: the default's ("initial_lr" is a number).
Hyper::Kind kind_of(const Optimizer& opt, const std::string& key) {
  if (key == "initial_lr") return Hyper::Number;
  if (!opt.defaults().has(key)) {
    std::string known;
    for (const auto& [k, v] : opt.defaults().entries()) known += (known.empty() ? "" : ", ") + k;
    throw std::invalid_argument(opt.name() + ": expected options among " + known +
                                ", got unknown option '" + key + "'");
  }
  return opt.defaults().at(key).kind;
}

// A dict of option values -> Options, by the kinds of `reference` (an optimizer's defaults).
Options options_from(const py::dict& d, const Options& reference, const std::string& opt) {
  Options o;
  for (auto [k, v] : d) {
    std::string key = py::str(k);
    Hyper::Kind kind = Hyper::Number;
    if (key != "initial_lr") {
      if (!reference.has(key)) {
        std::string known;
        for (const auto& [n, h] : reference.entries()) known += (known.empty() ? "" : ", ") + n;
        throw std::invalid_argument(opt + ": expected options among " + known + ", got unknown option '" +
                                    key + "'");
      }
      kind = reference.at(key).kind;
    }
    o.set(key, to_hyper(v, kind, opt, key));
  }
  return o;
}

py::dict options_dict(const Options& o) {
  py::dict d;
  for (const auto& [k, h] : o.entries()) d[py::str(k)] = from_hyper(h);
  return d;
}

std::shared_ptr<const Constraint> constraint_arg(py::handle c) {
  if (c.is_none()) return nullptr;
  return c.cast<std::shared_ptr<Constraint>>();
}

// Python's groups: a list of (params, options dict, constraint or None).
std::vector<ParamGroup> groups_from(const py::list& groups, const Options& reference, const std::string& opt) {
  std::vector<ParamGroup> out;
  for (auto g : groups) {
    auto t = g.cast<py::tuple>();
    out.push_back({t[0].cast<std::vector<Tensor>>(), options_from(t[1].cast<py::dict>(), reference, opt),
                   constraint_arg(t[2])});
  }
  return out;
}

// {"state": {i: {name: tensor}}, "param_groups": [{options..., "params": [i, ...]}]}: PyTorch's layout.
py::dict state_to_python(const OptimizerState& s) {
  py::dict state;
  for (const auto& [i, st] : s.state) {
    py::dict entries;
    for (const auto& [k, t] : st.entries()) entries[py::str(k)] = t;
    state[py::int_(i)] = entries;
  }
  py::list groups;
  for (const auto& g : s.param_groups) {
    py::dict d = options_dict(g.options);
    d["params"] = py::cast(g.params);
    groups.append(d);
  }
  py::dict out;
  out["state"] = state;
  out["param_groups"] = groups;
  return out;
}

// The reverse; values that are no hyperparameter (names, None, strings) are left out.
OptimizerState state_from_python(const Optimizer& opt, const py::dict& d) {
  const std::string what = opt.name() + ".load_state_dict";
  if (!d.contains("state") || !d.contains("param_groups"))
    throw std::invalid_argument(what + ": expected a dict with 'state' and 'param_groups', got keys " +
                                std::string(py::str(py::list(d.attr("keys")()))));
  OptimizerState s;
  for (auto [i, entries] : d["state"].cast<py::dict>()) {
    ParamState st;
    for (auto [k, t] : entries.cast<py::dict>()) {
      if (!py::isinstance<Tensor>(t))
        throw py::type_error(what + ": expected tensors in the state, got " + type_name(t) + " for '" +
                             std::string(py::str(k)) + "'");
      st.set(py::str(k), t.cast<Tensor>());
    }
    s.state[i.cast<int64_t>()] = std::move(st);
  }
  for (auto g : d["param_groups"].cast<py::list>()) {
    auto gd = g.cast<py::dict>();
    if (!gd.contains("params")) throw std::invalid_argument(what + ": expected 'params' in every param group");
    OptimizerState::Group group;
    group.params = gd["params"].cast<std::vector<int64_t>>();
    for (auto [k, v] : gd) {
      std::string key = py::str(k);
      if (key == "params" || (key != "initial_lr" && !opt.defaults().has(key))) continue;
      group.options.set(key, to_hyper(v, kind_of(opt, key), opt.name(), key));
    }
    s.param_groups.push_back(std::move(group));
  }
  return s;
}

template <class Opt, class Defaults>
void bind_optimizer(py::module_& m, const char* name, const char* doc) {
  py::class_<Opt, Optimizer>(m, name, doc)
      .def(py::init([name](py::list groups, py::dict defaults) {
             Options reference = Defaults{}.to_options();
             Options d = options_from(defaults, reference, name);
             return std::make_unique<Opt>(groups_from(groups, reference, name), d);
           }),
           py::arg("groups"), py::arg("defaults"),
           "groups: a list of (params, options dict, constraint or None); defaults: options by name.");
}

}  // namespace

void bind_optim(py::module_& m) {
  // ---- projections
  py::class_<Constraint, std::shared_ptr<Constraint>>(m, "Constraint",
      "A projection onto a closed convex set, applied to parameters after every optimizer step.")
      .def("__call__", [](const Constraint& c, Tensor& p) {
             NoGradGuard g;
             c.project(p);
             return p;
           }, py::arg("param"), "Projects param in place (under no-grad) and returns it.")
      .def("__repr__", &Constraint::repr);
  py::class_<Box, Constraint, std::shared_ptr<Box>>(m, "Box", "Clamps every element to [lo, hi].")
      .def(py::init<double, double>(), py::arg("lo"), py::arg("hi"))
      .def_property_readonly("lo", &Box::lo)
      .def_property_readonly("hi", &Box::hi);
  py::class_<NonNegative, Constraint, std::shared_ptr<NonNegative>>(m, "NonNegative",
      "Sets negative elements to 0.")
      .def(py::init<>());
  py::class_<MaxNorm, Constraint, std::shared_ptr<MaxNorm>>(m, "MaxNorm",
      "Scales each row p[i] (the whole tensor if 0-d/1-d) down to L2 norm <= max_norm.")
      .def(py::init<double>(), py::arg("max_norm"))
      .def_property_readonly("max_norm", &MaxNorm::max_norm);

  // ---- optimizers (the Python package's classes hold one of these as ._core)
  py::class_<Optimizer>(m, "Optimizer", "The C++ optimizer base class (use chainrule.optim's classes).")
      .def_property_readonly("name", &Optimizer::name)
      .def("defaults", [](const Optimizer& o) { return options_dict(o.defaults()); })
      .def("num_groups", [](const Optimizer& o) { return o.param_groups().size(); })
      .def("group_options", [](const Optimizer& o, size_t i) {
        CR_CHECK(i < o.param_groups().size(), std::out_of_range, o.name(), ": expected a group index < ",
                 o.param_groups().size(), ", got ", i);
        return options_dict(o.param_groups()[i].options);
      })
      .def("group_params", [](const Optimizer& o, size_t i) {
        CR_CHECK(i < o.param_groups().size(), std::out_of_range, o.name(), ": expected a group index < ",
                 o.param_groups().size(), ", got ", i);
        return o.param_groups()[i].params;
      })
      .def("is_option", [](const Optimizer& o, const std::string& key) {
        return key == "initial_lr" || o.defaults().has(key);
      }, "Whether key is a hyperparameter this optimizer keeps in C++.")
      .def("has_option", [](const Optimizer& o, size_t i, const std::string& key) {
        return i < o.param_groups().size() && o.param_groups()[i].options.has(key);
      })
      .def("option", [](const Optimizer& o, size_t i, const std::string& key) {
        CR_CHECK(i < o.param_groups().size(), std::out_of_range, o.name(), ": expected a group index < ",
                 o.param_groups().size(), ", got ", i);
        return from_hyper(o.param_groups()[i].options.at(key));
      })
      .def("set_option", [](Optimizer& o, size_t i, const std::string& key, py::handle v) {
        o.set_option(i, key, to_hyper(v, kind_of(o, key), o.name(), key));
      })
      .def("group_constraint", [](const Optimizer& o, size_t i) -> py::object {
        CR_CHECK(i < o.param_groups().size(), std::out_of_range, o.name(), ": expected a group index < ",
                 o.param_groups().size(), ", got ", i);
        auto c = o.param_groups()[i].constraint;
        return c ? py::cast(std::const_pointer_cast<Constraint>(c)) : py::none();
      })
      .def("set_group_constraint", [](Optimizer& o, size_t i, py::handle c) {
        CR_CHECK(i < o.param_groups().size(), std::out_of_range, o.name(), ": expected a group index < ",
                 o.param_groups().size(), ", got ", i);
        o.param_groups()[i].constraint = constraint_arg(c);
      })
      .def("add_param_group", [](Optimizer& o, std::vector<Tensor> params, py::dict options, py::handle c) {
        o.add_param_group({std::move(params), options_from(options, o.defaults(), o.name()), constraint_arg(c)});
      }, py::arg("params"), py::arg("options"), py::arg("constraint"))
      .def("zero_grad", &Optimizer::zero_grad, py::arg("set_to_none") = true)
      .def("step", [](Optimizer& o) {
        py::gil_scoped_release nogil;  // pure C++: native constraints only, no Python callbacks
        o.step();
      })
      .def("state_of", [](Optimizer& o, const Tensor& p) {
        py::dict d;
        if (const ParamState* st = o.find_state(p))
          for (const auto& [k, t] : st->entries()) d[py::str(k)] = t;  // live: the optimizer's tensors
        return d;
      }, py::arg("param"))
      .def("state_dict", [](const Optimizer& o) { return state_to_python(o.state_dict()); })
      .def("load_state_dict", [](Optimizer& o, py::dict d) { o.load_state_dict(state_from_python(o, d)); })
      .def("groups_json", [](const Optimizer& o) { return o.state_dict().groups_json(); },
           "The param groups as the C++ checkpoint JSON (see optim/optimizer.h).");

  bind_optimizer<SGD, SGDOptions>(m, "SGD", "C++ SGD (momentum, dampening, nesterov, weight_decay, maximize).");
  bind_optimizer<Adam, AdamOptions>(m, "Adam", "C++ Adam (betas, eps, weight_decay, amsgrad, maximize).");
  bind_optimizer<AdamW, AdamWOptions>(m, "AdamW", "C++ AdamW (Adam with decoupled weight decay).");
  bind_optimizer<RMSprop, RMSpropOptions>(m, "RMSprop", "C++ RMSprop (alpha, eps, momentum, centered).");
  bind_optimizer<Adagrad, AdagradOptions>(m, "Adagrad", "C++ Adagrad (lr_decay, initial_accumulator_value).");

  // ---- schedulers
  py::class_<LRScheduler>(m, "LRScheduler", "The C++ scheduler base class (use chainrule.optim.lr_scheduler).")
      .def("step", [](LRScheduler& s) { s.step(); })
      .def("step_to", [](LRScheduler& s, int64_t epoch) { s.step(epoch); }, py::arg("epoch"))
      .def("get_last_lr", &LRScheduler::get_last_lr)
      .def_property("last_epoch", &LRScheduler::last_epoch, &LRScheduler::set_last_epoch)
      .def_property("base_lrs", &LRScheduler::base_lrs, &LRScheduler::set_base_lrs)
      .def_property("last_lr", &LRScheduler::get_last_lr, &LRScheduler::set_last_lr)
      .def_property("step_count", &LRScheduler::step_count, &LRScheduler::set_step_count);
  py::class_<StepLR, LRScheduler>(m, "StepLR")
      .def(py::init<Optimizer&, int64_t, double, int64_t>(), py::arg("optimizer"), py::arg("step_size"),
           py::arg("gamma") = 0.1, py::arg("last_epoch") = -1, py::keep_alive<1, 2>())
      .def_property_readonly("step_size", &StepLR::step_size)
      .def_property_readonly("gamma", &StepLR::gamma);
  py::class_<MultiStepLR, LRScheduler>(m, "MultiStepLR")
      .def(py::init<Optimizer&, std::vector<int64_t>, double, int64_t>(), py::arg("optimizer"),
           py::arg("milestones"), py::arg("gamma") = 0.1, py::arg("last_epoch") = -1, py::keep_alive<1, 2>())
      .def_property_readonly("milestones", &MultiStepLR::milestones)
      .def_property_readonly("gamma", &MultiStepLR::gamma);
  py::class_<ExponentialLR, LRScheduler>(m, "ExponentialLR")
      .def(py::init<Optimizer&, double, int64_t>(), py::arg("optimizer"), py::arg("gamma"),
           py::arg("last_epoch") = -1, py::keep_alive<1, 2>())
      .def_property_readonly("gamma", &ExponentialLR::gamma);
  py::class_<CosineAnnealingLR, LRScheduler>(m, "CosineAnnealingLR")
      .def(py::init<Optimizer&, int64_t, double, int64_t>(), py::arg("optimizer"), py::arg("T_max"),
           py::arg("eta_min") = 0.0, py::arg("last_epoch") = -1, py::keep_alive<1, 2>())
      .def_property_readonly("T_max", &CosineAnnealingLR::T_max)
      .def_property_readonly("eta_min", &CosineAnnealingLR::eta_min);
  // The lambdas are Python functions: pybind11 takes the GIL to call them, and step() keeps it.
  py::class_<LambdaLR, LRScheduler>(m, "LambdaLR")
      .def(py::init<Optimizer&, std::vector<LambdaLR::Lambda>, int64_t>(), py::arg("optimizer"),
           py::arg("lr_lambdas"), py::arg("last_epoch") = -1, py::keep_alive<1, 2>());

  py::class_<ReduceLROnPlateau>(m, "ReduceLROnPlateau")
      .def(py::init([](Optimizer& opt, std::string mode, double factor, int64_t patience, double threshold,
                       std::string threshold_mode, int64_t cooldown, py::handle min_lr, double eps) {
             PlateauOptions o;
             o.mode = std::move(mode);
             o.factor = factor;
             o.patience = patience;
             o.threshold = threshold;
             o.threshold_mode = std::move(threshold_mode);
             o.cooldown = cooldown;
             o.eps = eps;
             if (py::isinstance<py::list>(min_lr) || py::isinstance<py::tuple>(min_lr)) {
               for (auto v : min_lr) o.min_lrs.push_back(number(v, "ReduceLROnPlateau: min_lr").value);
               CR_CHECK(!o.min_lrs.empty() || opt.param_groups().empty(), std::invalid_argument,
                        "ReduceLROnPlateau: expected ", opt.param_groups().size(), " min_lrs, got 0");
             } else {
               o.min_lr = number(min_lr, "ReduceLROnPlateau: min_lr").value;
             }
             return std::make_unique<ReduceLROnPlateau>(opt, o);
           }),
           py::arg("optimizer"), py::arg("mode") = "min", py::arg("factor") = 0.1, py::arg("patience") = 10,
           py::arg("threshold") = 1e-4, py::arg("threshold_mode") = "rel", py::arg("cooldown") = 0,
           py::arg("min_lr") = 0.0, py::arg("eps") = 1e-8, py::keep_alive<1, 2>())
      .def("step", &ReduceLROnPlateau::step, py::arg("metric"))
      .def("get_last_lr", &ReduceLROnPlateau::get_last_lr)
      .def_property_readonly("in_cooldown", &ReduceLROnPlateau::in_cooldown)
      .def_property_readonly("mode", [](const ReduceLROnPlateau& s) { return s.options().mode; })
      .def_property_readonly("factor", [](const ReduceLROnPlateau& s) { return s.options().factor; })
      .def_property_readonly("patience", [](const ReduceLROnPlateau& s) { return s.options().patience; })
      .def_property_readonly("threshold", [](const ReduceLROnPlateau& s) { return s.options().threshold; })
      .def_property_readonly("threshold_mode", [](const ReduceLROnPlateau& s) { return s.options().threshold_mode; })
      .def_property_readonly("cooldown", [](const ReduceLROnPlateau& s) { return s.options().cooldown; })
      .def_property_readonly("eps", [](const ReduceLROnPlateau& s) { return s.options().eps; })
      .def_property_readonly("min_lrs", &ReduceLROnPlateau::min_lrs)
      .def_readwrite("best", &ReduceLROnPlateau::best)
      .def_readwrite("num_bad_epochs", &ReduceLROnPlateau::num_bad_epochs)
      .def_readwrite("cooldown_counter", &ReduceLROnPlateau::cooldown_counter)
      .def_readwrite("last_epoch", &ReduceLROnPlateau::last_epoch)
      .def_readwrite("last_lr", &ReduceLROnPlateau::last_lr_);
}

}  // namespace chainrule::bind
