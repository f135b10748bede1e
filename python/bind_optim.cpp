// Bindings for chainrule's optim part (see python/bind_util.h): the optimizers with torch's
// param groups (dict-likes over the C++ groups), projections and schedulers.
#include <pybind11/functional.h>

#include <optional>

#include "core/autograd.h"
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
    if (py::isinstance<py::bool_>(v) || py::isinstance<py::int_>(v))
      return Hyper::flag(PyObject_IsTrue(v.ptr()) == 1);
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

// An option of an optimizer whose defaults are `defaults`, converted by the kind of its default.
Hyper option(const Options& defaults, const std::string& key, py::handle v, const std::string& opt) {
  return to_hyper(v, key == "initial_lr" ? Hyper::Number : defaults.at(key).kind, opt, key);
}

py::object obj(py::handle h) { return py::reinterpret_borrow<py::object>(h); }

bool is_mapping(py::handle h) {
  return py::isinstance(h, py::module_::import("collections.abc").attr("Mapping"));
}

// ---------------------------------------------------------------- constraints from Python
// A Python function as a constraint: it changes the parameter in place (or returns its
// projection). The step runs without the GIL, so the call takes it.
class PyConstraint : public Constraint {
 public:
  explicit PyConstraint(py::object fn) : fn_(std::move(fn)) {}
  ~PyConstraint() override {
    py::gil_scoped_acquire gil;
    fn_ = py::object();
  }
  void project(Tensor& p) const override {
    py::gil_scoped_acquire gil;
    py::object out = fn_(p);
    if (out.is_none()) return;
    if (!py::isinstance<Tensor>(out))
      throw py::type_error(
          "a constraint function must change the parameter in place and return None, or "
          "return its projection as a tensor; got " +
          type_name(out));
    Tensor q = out.cast<Tensor>();
    if (q.impl() != p.impl()) p.copy_(q);
  }
  std::string repr() const override {
    py::gil_scoped_acquire gil;
    return py::repr(fn_);
  }
  const py::object& fn() const { return fn_; }

 private:
  py::object fn_;
};

std::shared_ptr<const Constraint> constraint_arg(py::handle c, const std::string& opt) {
  if (c.is_none()) return nullptr;
  if (py::isinstance<Constraint>(c)) return c.cast<std::shared_ptr<Constraint>>();
  if (!PyCallable_Check(c.ptr()))
    throw py::type_error(opt + ": expected constraint to be a cr.optim.Constraint, a function or None, got " +
                         type_name(c));
  return std::make_shared<PyConstraint>(py::reinterpret_borrow<py::object>(c));
}

py::object constraint_object(const std::shared_ptr<const Constraint>& c) {
  if (!c) return py::none();
  if (auto* f = dynamic_cast<const PyConstraint*>(c.get())) return f->fn();
  return py::cast(std::const_pointer_cast<Constraint>(c));
}

// ---------------------------------------------------------------- the optimizer Python holds
// A C++ optimizer with what only Python has: each group's parameters as the objects given
// (group["params"][0] is the tensor passed in) and the extra keys torch lets a group have.
struct PyOptimizer {
  std::unique_ptr<Optimizer> opt;
  std::vector<py::list> params;
  std::vector<py::dict> extra;
  py::object default_constraint = py::none();
  py::dict extra_defaults;           // keys torch lets opt.defaults have beyond the hyperparameters
  py::object py_state = py::none();  // a torch-style subclass's state: defaultdict(dict) by parameter
};

// The C++ side of a torch-style Python subclass (class MyOpt(cr.optim.Optimizer) with its own
// step()): its groups hold the hyperparameters its defaults name; the update and state are Python's.
class PythonOptimizer : public Optimizer {
 public:
  PythonOptimizer(Options defaults, ParamGroups params) : Optimizer("Optimizer", std::move(defaults), {}) {
    add_param_groups(std::move(params));
  }

 protected:
  void validate(const Options&) const override {}
  void step_group(ParamGroup&) override {}
  std::vector<std::string> state_names() const override { return {}; }
};

// A defaults value as a hyperparameter if it is one (a number, a flag, a pair of numbers); other
// values (None, strings, ...) stay Python values, as torch keeps them.
std::optional<Hyper> as_hyper(py::handle v) {
  auto is_number = [](py::handle x) {
    return !py::isinstance<py::bool_>(x) && (py::isinstance<py::int_>(x) || py::isinstance<py::float_>(x));
  };
  if (py::isinstance<py::bool_>(v)) return Hyper::flag(v.cast<bool>());
  if (is_number(v)) return Hyper::number(py::float_(obj(v)));
  if ((py::isinstance<py::tuple>(v) || py::isinstance<py::list>(v)) && py::len(v) == 2) {
    py::sequence s = py::reinterpret_borrow<py::sequence>(v);
    if (is_number(s[0]) && is_number(s[1])) return Hyper::pair(py::float_(s[0]), py::float_(s[1]));
  }
  return std::nullopt;
}

PyOptimizer& owner(const py::object& o) { return o.cast<PyOptimizer&>(); }

struct Kind {
  Options defaults;
  std::unique_ptr<Optimizer> (*make)(ParamGroups, const Options&);
};
template <class Opt> std::unique_ptr<Optimizer> make(ParamGroups params, const Options& options) {
  return std::make_unique<Opt>(std::move(params), options);
}
const Kind& kind(const std::string& name) {
  static const std::map<std::string, Kind> kinds = {{"SGD", {SGDOptions(), make<SGD>}},
                                                    {"Adam", {AdamOptions(), make<Adam>}},
                                                    {"AdamW", {AdamWOptions(), make<AdamW>}},
                                                    {"RMSprop", {RMSpropOptions(), make<RMSprop>}},
                                                    {"Adagrad", {AdagradOptions(), make<Adagrad>}}};
  auto it = kinds.find(name);
  if (it == kinds.end())
    throw py::type_error(name +
                         ": chainrule's Optimizer runs C++ optimizers; subclass SGD, Adam, ... or "
                         "write the update loop yourself under cr.no_grad()");
  return it->second;
}

// The params argument as torch takes it -> a list of group dicts.
py::list group_list(py::handle params, const std::string& name) {
  const std::string what = name + ": params should be an iterable of Tensors or dicts, got ";
  if (py::isinstance<Tensor>(params))
    throw py::type_error(what + "a Tensor; pass [tensor] or model.parameters()");
  if (PyAnySet_Check(params.ptr()))
    throw py::type_error(name +
                         ": parameters must be in an ordered collection (a set's order changes between "
                         "runs, and with it the state dict's numbering); use a list");
  if (is_mapping(params))
    throw py::type_error(what + "a dict; pass a list of param groups: [{'params': ...}]");
  if (!py::isinstance<py::iterable>(params)) throw py::type_error(what + type_name(params));
  py::list groups(obj(params));
  if (groups.empty()) throw std::invalid_argument(name + ": optimizer got an empty parameter list");
  if (is_mapping(groups[0])) return groups;
  py::list one;
  one.append(py::dict(py::arg("params") = groups));
  return one;
}

// A group's tensors as a list; (name, tensor) pairs give torch's "param_names" too.
py::list param_list(py::handle ps, const std::string& name, py::dict& extra) {
  if (py::isinstance<Tensor>(ps)) return py::make_tuple(ps);  // NOLINT: converted to a list below
  if (PyAnySet_Check(ps.ptr()))
    throw py::type_error(name +
                         ": parameters must be in an ordered collection (a set's order changes between "
                         "runs); use a list");
  py::list items(obj(ps)), params, names;
  for (auto p : items) {
    bool named =
        py::isinstance<py::tuple>(p) && py::len(p) == 2 && py::isinstance<py::str>(p.cast<py::tuple>()[0]);
    if (named) names.append(p.cast<py::tuple>()[0]);
    params.append(named ? p.cast<py::tuple>()[1] : p);
  }
  if (!items.empty() && names.size() == items.size()) extra["param_names"] = names;
  else params = items;
  for (auto p : params)
    if (!py::isinstance<Tensor>(p))
      throw py::type_error(name + ": can only optimize Tensors, but one of the params is " + type_name(p));
  return params;
}

// A group dict's keys: hyperparameters into `options`, others but "params" and "constraint" into `extra`.
void split(const py::dict& d, const Options& defaults, const std::string& name, Options& options,
           py::dict& extra) {
  for (auto [k, v] : d) {
    std::string key = py::str(k);
    if (key == "initial_lr" || defaults.has(key)) options.set(key, option(defaults, key, v, name));
    else if (key != "params" && key != "constraint") extra[k] = v;
  }
}

struct PyGroup {
  ParamGroup group;
  py::list params;
  py::dict extra;
};

// A group dict -> the C++ group (tensors, options, constraint), its parameter list and extra keys.
PyGroup group_from(py::handle g, const Options& defaults, const std::string& name,
                   py::handle default_constraint) {
  if (!is_mapping(g)) throw py::type_error(name + ": expected param groups as dicts, got " + type_name(g));
  py::dict d(obj(g));
  if (!d.contains("params"))
    throw std::invalid_argument(name + ": expected a 'params' entry in every param group, got keys " +
                                std::string(py::str(py::module_::import("builtins").attr("sorted")(d))));
  PyGroup out;
  out.params = py::list(param_list(d["params"], name, out.extra));
  out.group.params = out.params.cast<std::vector<Tensor>>();
  out.group.constraint =
      constraint_arg(d.contains("constraint") ? d["constraint"] : default_constraint, name);
  split(d, defaults, name, out.group.options, out.extra);
  return out;
}

// ---------------------------------------------------------------- param groups and state as dicts
// opt.param_groups[i]: reads and writes the C++ group (bad values raise at once); "params" is the
// list given, "constraint" the projection, other keys are kept as torch keeps them.
struct GroupView {
  py::object owner;
  size_t index;
  PyOptimizer& o() const { return bind::owner(owner); }
  ParamGroup& group() const { return o().opt->param_groups()[index]; }
  const std::string& name() const { return o().opt->name(); }

  py::list keys() const {
    py::list out;
    out.append("params");
    for (const auto& [k, v] : group().options.entries()) out.append(k);
    out.append("constraint");
    for (auto [k, v] : o().extra[index]) out.append(k);
    return out;
  }
  py::object get(py::handle key) const {
    std::string k = py::isinstance<py::str>(key) ? key.cast<std::string>() : std::string();
    if (k == "params") return o().params[index];
    if (k == "constraint") return constraint_object(group().constraint);
    if (group().options.has(k)) return from_hyper(group().options.at(k));
    if (o().extra[index].contains(key)) return o().extra[index][key];
    throw py::key_error(py::repr(key));
  }
  void set(py::handle key, py::handle value) const {
    std::string k = py::str(key);
    Optimizer& opt = *o().opt;
    if (k == "params")
      throw py::type_error(
          "param group: 'params' can't be replaced; make a new group with "
          "optimizer.add_param_group({'params': [...]})");
    if (k == "constraint") group().constraint = constraint_arg(value, name());
    else if (opt.is_option(k)) opt.set_option(index, k, option(opt.defaults(), k, value, name()));
    else o().extra[index][key] = value;
  }
  void del(py::handle key) const {
    std::string k = py::str(key);
    if (k == "params" || k == "constraint" || group().options.has(k))
      throw py::type_error("param group: '" + k + "' can't be deleted");
    if (!o().extra[index].contains(key)) throw py::key_error(py::repr(key));
    PyDict_DelItem(o().extra[index].ptr(), key.ptr());
  }
  py::dict dict() const {
    py::dict d;
    for (auto k : keys()) d[k] = get(k);
    return d;
  }
};

// opt.defaults: the optimizer's defaults, read and written like torch's dict; a change applies to
// the groups added later (a bad value raises at once). The hyperparameters live in the C++ table.
struct DefaultsView {
  py::object owner;
  PyOptimizer& o() const { return bind::owner(owner); }
  py::list keys() const {
    py::list out;
    for (const auto& [k, v] : o().opt->defaults().entries()) out.append(k);
    out.append("constraint");
    for (auto [k, v] : o().extra_defaults) out.append(k);
    return out;
  }
  py::object get(py::handle key) const {
    std::string k = py::isinstance<py::str>(key) ? key.cast<std::string>() : std::string();
    if (k == "constraint") return o().default_constraint;
    if (o().opt->defaults().has(k)) return from_hyper(o().opt->defaults().at(k));
    if (o().extra_defaults.contains(key)) return o().extra_defaults[key];
    throw py::key_error(py::repr(key));
  }
  void set(py::handle key, py::handle value) const {
    std::string k = py::str(key);
    Optimizer& opt = *o().opt;
    if (k == "constraint") {
      constraint_arg(value, opt.name());  // checks it
      o().default_constraint = obj(value);
    } else if (opt.defaults().has(k)) {
      opt.set_default(k, option(opt.defaults(), k, value, opt.name()));
    } else {
      o().extra_defaults[key] = value;
    }
  }
  py::dict dict() const {
    py::dict d;
    for (auto k : keys()) d[k] = get(k);
    return d;
  }
};

// opt.state: parameter -> its state tensors by name (the optimizer's own, not copies), {} before
// the parameter's first step.
struct StateView {
  py::object owner;
  const Optimizer& opt() const { return *bind::owner(owner).opt; }
  py::dict get(py::handle p) const {
    if (!py::isinstance<Tensor>(p)) throw py::key_error(py::repr(p));
    py::dict d;
    if (const ParamState* st = opt().find_state(p.cast<Tensor>()))
      for (const auto& [k, t] : st->entries()) d[py::str(k)] = t;
    return d;
  }
  bool contains(py::handle p) const {
    return py::isinstance<Tensor>(p) && opt().find_state(p.cast<Tensor>()) != nullptr;
  }
  py::list keys() const {
    py::list out;
    for (const py::list& ps : bind::owner(owner).params)
      for (auto p : ps)
        if (contains(p)) out.append(p);
    return out;
  }
};

// The mixin methods (get, items, update, ==, ...) of a collections.abc class, and registration.
template <class C>
void as_abc(py::class_<C>& cls, const char* abc, std::initializer_list<const char*> mixins) {
  py::object base = py::module_::import("collections.abc").attr(abc);
  for (const char* m : mixins) cls.attr(m) = base.attr(m);
  base.attr("register")(cls);
}

// ---------------------------------------------------------------- state dicts in torch's layout
// {"state": {i: {name: tensor}}, "param_groups": [{options..., extra keys..., "params": [i, ...]}]}
py::dict state_dict(const PyOptimizer& o) {
  OptimizerState s = o.opt->state_dict();
  py::dict state;
  for (const auto& [i, st] : s.state) {
    py::dict entries;
    for (const auto& [k, t] : st.entries()) entries[py::str(k)] = t;
    state[py::int_(i)] = entries;
  }
  if (!o.py_state.is_none()) {  // a Python subclass's state, by reference as torch packs it
    int64_t i = 0;
    for (const py::list& ps : o.params)
      for (auto p : ps) {
        if (o.py_state.contains(p) && py::len(o.py_state[p])) state[py::int_(i)] = o.py_state[p];
        ++i;
      }
  }
  py::list groups;
  for (size_t g = 0; g < s.param_groups.size(); ++g) {
    py::dict d;
    for (const auto& [k, h] : s.param_groups[g].options.entries()) d[py::str(k)] = from_hyper(h);
    for (auto [k, v] : o.extra[g]) d[k] = v;
    d["params"] = py::cast(s.param_groups[g].params);
    groups.append(d);
  }
  py::dict out;
  out["state"] = state;
  out["param_groups"] = groups;
  return out;
}

// The reverse: options go to C++ (checked there), the other keys become the groups' extra keys.
void load_state_dict(PyOptimizer& o, py::handle sd) {
  Optimizer& opt = *o.opt;
  const std::string what = opt.name() + ".load_state_dict";
  if (!is_mapping(sd)) throw py::type_error(what + ": expected a dict, got " + type_name(sd));
  py::object groups = sd.attr("get")("param_groups");
  if (!py::isinstance<py::list>(groups) && !py::isinstance<py::tuple>(groups))
    throw std::invalid_argument(what + ": expected a list 'param_groups', got " + type_name(groups));
  OptimizerState s;
  py::dict saved_state(sd.attr("get")("state", py::dict()));
  if (!o.py_state.is_none()) {  // a Python subclass: its state is Python's, copied in by index
    std::vector<py::object> by_index;
    for (const py::list& ps : o.params)
      for (auto p : ps) by_index.push_back(obj(p));
    py::object fresh = py::type::of(o.py_state)(o.py_state.attr("default_factory"));
    for (auto [i, entries] : saved_state) {
      const int64_t k = py::int_(obj(i)).cast<int64_t>();
      if (k < 0 || k >= static_cast<int64_t>(by_index.size()))
        throw std::invalid_argument(what + ": state for parameter " + std::to_string(k) + ", but there are " +
                                    std::to_string(by_index.size()));
      py::dict copy;
      for (auto [name, v] : py::dict(obj(entries)))
        copy[name] = py::isinstance<Tensor>(v) ? py::cast(v.cast<Tensor>().detach().clone()) : obj(v);
      fresh[by_index[k]] = copy;
    }
    saved_state = py::dict();
    o.py_state.attr("clear")();
    o.py_state.attr("update")(fresh);
  }
  for (auto [i, entries] : saved_state) {
    ParamState& st = s.state[py::int_(obj(i)).cast<int64_t>()];
    for (auto [k, t] : py::dict(obj(entries))) {
      if (!py::isinstance<Tensor>(t))
        throw py::type_error(what + ": expected tensors in the state, got " + type_name(t) + " for '" +
                             std::string(py::str(k)) + "'");
      st.set(py::str(k), t.cast<Tensor>());
    }
  }
  std::vector<py::dict> extra;
  for (auto g : groups) {
    py::dict d(obj(g));
    if (!d.contains("params")) throw std::invalid_argument(what + ": expected 'params' in every param group");
    OptimizerState::Group group{{}, d["params"].cast<std::vector<int64_t>>()};
    split(d, opt.defaults(), opt.name(), group.options, extra.emplace_back());
    s.param_groups.push_back(std::move(group));
  }
  opt.load_state_dict(s);
  for (size_t g = 0; g < extra.size(); ++g)
    for (auto [k, v] : extra[g]) o.extra[g][k] = v;
}

std::string repr(const py::object& self) {
  const PyOptimizer& o = owner(self);
  std::string out = std::string(py::str(py::type::of(self).attr("__name__"))) + " (";
  for (size_t i = 0; i < o.params.size(); ++i) {
    out += "\nParameter Group " + std::to_string(i);
    py::list keys = GroupView{self, i}.keys();
    keys.attr("sort")();
    for (auto k : keys)
      if (std::string(py::str(k)) != "params")
        out += "\n    " + std::string(py::str(k)) + ": " + std::string(py::str(GroupView{self, i}.get(k)));
  }
  return out + "\n)";
}

// A group dict as add_param_group takes it: the defaults' extra keys fill in what it lacks.
PyGroup new_group(PyOptimizer& o, py::handle g) {
  PyGroup pg = group_from(g, o.opt->defaults(), o.opt->name(), o.default_constraint);
  for (auto [k, v] : o.extra_defaults)
    if (!pg.extra.contains(k) && !(is_mapping(g) && py::dict(obj(g)).contains(k))) pg.extra[k] = v;
  return pg;
}

void add_group(PyOptimizer& o, py::handle g) {
  PyGroup pg = new_group(o, g);
  o.opt->add_param_group(std::move(pg.group));
  o.params.push_back(pg.params);
  o.extra.push_back(pg.extra);
}

// opt.param_groups = [...]: every group replaced at once (groups of this optimizer may be reused).
void set_groups(PyOptimizer& o, py::handle groups) {
  if (!py::isinstance<py::list>(groups) && !py::isinstance<py::tuple>(groups))
    throw py::type_error(o.opt->name() + ": expected param_groups to be a list of dicts, got " +
                         type_name(groups));
  std::vector<PyGroup> made;
  for (auto g : groups) made.push_back(new_group(o, g));
  std::vector<ParamGroup> cpp;
  for (auto& pg : made) cpp.push_back(pg.group);
  o.opt->set_param_groups(std::move(cpp));
  o.params.clear();
  o.extra.clear();
  for (auto& pg : made) {
    o.params.push_back(pg.params);
    o.extra.push_back(pg.extra);
  }
}

// ---------------------------------------------------------------- schedulers
Optimizer& optimizer_arg(py::handle o, const char* scheduler) {
  if (!py::isinstance<PyOptimizer>(o))
    throw py::type_error(std::string(scheduler) + ": " + type_name(o) +
                         " is not an Optimizer of chainrule's (expected cr.optim.SGD, Adam, ...)");
  return *o.cast<PyOptimizer&>().opt;
}

// A scheduler with the Python optimizer it was given (torch's scheduler.optimizer).
template <class S> struct WithOptimizer : S {
  template <class... A> explicit WithOptimizer(py::object o, A... a)
      : S(optimizer_arg(o, name), std::move(a)...), optimizer(std::move(o)) {}
  py::object optimizer;
  static inline const char* name = "scheduler";  // the Python class's, set where it is bound
};

// torch.optim.lr_scheduler.EPOCH_DEPRECATION_WARNING, bound under that name.
const char* const kEpochDeprecationWarning =
    "The epoch parameter in `scheduler.step()` was not necessary and is being deprecated where "
    "possible. Please use `scheduler.step()` to step the scheduler. During the deprecation, if "
    "epoch is different from None, the closed form is used instead of the new chainable form, "
    "where available.";

void warn_epoch() {
  if (PyErr_WarnEx(PyExc_UserWarning, kEpochDeprecationWarning, 1) != 0) throw py::error_already_set();
}

// config: the constructor's settings that state_dict() and repr list.
template <class S> py::class_<WithOptimizer<S>, LRScheduler> scheduler(py::module_& m, const char* name,
                                                                       const char* doc,
                                                                       std::vector<const char*> config) {
  WithOptimizer<S>::name = name;
  py::class_<WithOptimizer<S>, LRScheduler> cls(m, name, doc, py::dynamic_attr());  // attributes, as torch's
  cls.attr("_config") = py::tuple(py::cast(config));
  cls.def_readonly("optimizer", &WithOptimizer<S>::optimizer);
  return cls;
}

}  // namespace

void bind_optim(py::module_& m) {
  m.attr("EPOCH_DEPRECATION_WARNING") = kEpochDeprecationWarning;
  // ---- projections
  py::class_<Constraint, std::shared_ptr<Constraint>>(
      m, "Constraint",
      "A projection onto a closed convex set, applied to parameters after every optimizer step.")
      .def(
          "__call__",
          [](const Constraint& c, Tensor& p) {
            NoGradGuard g;
            c.project(p);
            return p;
          },
          py::arg("param"), "Projects param in place (under no-grad) and returns it.")
      .def("__repr__", &Constraint::repr);
  py::class_<Box, Constraint, std::shared_ptr<Box>>(m, "Box", "Clamps every element to [lo, hi].")
      .def(py::init<double, double>(), py::arg("lo"), py::arg("hi"))
      .def_property_readonly("lo", &Box::lo)
      .def_property_readonly("hi", &Box::hi);
  py::class_<NonNegative, Constraint, std::shared_ptr<NonNegative>>(m, "NonNegative",
                                                                    "Sets negative elements to 0.")
      .def(py::init<>());
  py::class_<MaxNorm, Constraint, std::shared_ptr<MaxNorm>>(
      m, "MaxNorm", "Scales each row p[i] (the whole tensor if 0-d/1-d) down to L2 norm <= max_norm.")
      .def(py::init<double>(), py::arg("max_norm"))
      .def_property_readonly("max_norm", &MaxNorm::max_norm);

  // ---- param groups and state, as dicts
  py::class_<DefaultsView> defaults(
      m, "OptimizerDefaults",
      "An optimizer's defaults, a dict as in torch (changes apply to groups added later).");
  defaults.def("__getitem__", &DefaultsView::get)
      .def("__setitem__", &DefaultsView::set)
      .def("__iter__", [](const DefaultsView& d) { return py::iter(d.keys()); })
      .def("__len__", [](const DefaultsView& d) { return py::len(d.keys()); })
      .def("__repr__", [](const DefaultsView& d) { return py::repr(d.dict()); });
  as_abc(defaults, "MutableMapping",
         {"get", "keys", "items", "values", "__contains__", "__eq__", "__ne__", "update", "setdefault"});
  py::class_<GroupView> group(m, "ParamGroup", "One param group of an optimizer, a dict as in torch.");
  group.def("__getitem__", &GroupView::get)
      .def("__setitem__", &GroupView::set)
      .def("__delitem__", &GroupView::del)
      .def("__iter__", [](const GroupView& g) { return py::iter(g.keys()); })
      .def("__len__", [](const GroupView& g) { return py::len(g.keys()); })
      .def("__repr__", [](const GroupView& g) { return py::repr(g.dict()); });
  as_abc(group, "MutableMapping",
         {"__contains__", "keys", "items", "values", "get", "__eq__", "__ne__", "pop", "popitem", "clear",
          "update", "setdefault"});
  py::class_<StateView> state(m, "OptimizerStateView", "optimizer.state: parameter -> its state tensors.");
  state.def("__getitem__", &StateView::get)
      .def("__contains__", &StateView::contains)
      .def("__iter__", [](const StateView& s) { return py::iter(s.keys()); })
      .def("__len__", [](const StateView& s) { return py::len(s.keys()); })
      .def("__repr__", [](const StateView& s) {
        std::string out;
        for (auto p : s.keys())
          out += (out.empty() ? "<param " : ", <param ") + std::string(py::str(p.attr("shape"))) +
                 ">: " + std::string(py::repr(s.get(p)));
        return "{" + out + "}";
      });
  as_abc(state, "Mapping", {"keys", "items", "values", "get", "__eq__", "__ne__"});

  // ---- optimizers (cr.optim's classes derive from this one and give torch's signatures)
  py::class_<PyOptimizer>(m, "Optimizer",
                          "The base of chainrule's optimizers (torch.optim.Optimizer's interface).")
      .def(py::init([](const std::string& name, py::handle params, py::dict defaults, py::object constraint) {
             const Kind& k = kind(name);
             Options given;
             for (auto [key, v] : defaults)
               given.set(py::str(key), option(k.defaults, py::str(key), v, name));
             constraint_arg(constraint, name);  // a TypeError now for a bad one
             auto o = std::make_unique<PyOptimizer>();
             o->default_constraint = constraint;
             std::vector<ParamGroup> groups;
             for (auto g : group_list(params, name)) {
               PyGroup pg = group_from(g, k.defaults, name, constraint);
               groups.push_back(std::move(pg.group));
               o->params.push_back(pg.params);
               o->extra.push_back(pg.extra);
             }
             o->opt = k.make(std::move(groups), given);
             return o;
           }),
           py::arg("name"), py::arg("params"), py::arg("defaults"), py::arg("constraint") = py::none(),
           "name: the C++ optimizer (\"SGD\", \"Adam\", ...); params: tensors, (name, tensor) pairs or group "
           "dicts.")
      .def(py::init([](py::handle params, py::dict defaults) {  // torch's Optimizer(params, defaults)
             auto o = std::make_unique<PyOptimizer>();
             Options hypers;
             for (auto [key, v] : defaults) {
               if (auto h = as_hyper(v)) hypers.set(py::str(key), *h);
               else if (std::string(py::str(key)) == "constraint") o->default_constraint = obj(v);
               else o->extra_defaults[key] = v;
             }
             std::vector<ParamGroup> groups;
             for (auto g : group_list(params, "Optimizer")) {
               PyGroup pg = group_from(g, hypers, "Optimizer", o->default_constraint);
               for (auto [k, v] : o->extra_defaults)
                 if (!pg.extra.contains(k)) pg.extra[k] = v;
               groups.push_back(std::move(pg.group));
               o->params.push_back(pg.params);
               o->extra.push_back(pg.extra);
             }
             o->opt = std::make_unique<PythonOptimizer>(hypers, std::move(groups));
             o->py_state = py::module_::import("collections").attr("defaultdict")(py::type::of(py::dict()));
             return o;
           }),
           py::arg("params"), py::arg("defaults"),
           "torch's base class for your own optimizer: subclass it, call super().__init__(params, defaults) "
           "and "
           "write step() (self.param_groups, self.state[p] as in torch); schedulers work on it.")
      .def_property(
          "param_groups",
          [](py::object self) {
            py::list out;
            for (size_t i = 0; i < owner(self).params.size(); ++i) out.append(GroupView{self, i});
            return out;
          },
          [](py::object self, py::handle groups) { set_groups(owner(self), groups); })
      .def_property_readonly("state",
                             [](py::object self) -> py::object {
                               const PyOptimizer& o = owner(self);
                               return o.py_state.is_none() ? py::cast(StateView{self}) : o.py_state;
                             })
      .def_property_readonly("defaults", [](py::object self) { return DefaultsView{self}; })
      .def("add_param_group", &add_group, py::arg("param_group"),
           "Adds a group (a dict with \"params\" and any hyperparameters to override), e.g. to train layers "
           "unfrozen later with their own lr.")
      .def(
          "zero_grad", [](PyOptimizer& o, bool set_to_none) { o.opt->zero_grad(set_to_none); },
          py::arg("set_to_none") = true, "Every gradient to None (as torch), or to zeros.")
      .def(
          "step",
          [](PyOptimizer& o, py::object closure) {
            if (!o.py_state.is_none()) {
              PyErr_SetString(
                  PyExc_NotImplementedError,
                  "Optimizer.step: a subclass of cr.optim.Optimizer defines step() (as in torch)");
              throw py::error_already_set();
            }
            py::object loss = py::none();
            if (!closure.is_none()) {
              AutoGradMode grad_on(true);
              loss = closure();
            }
            py::gil_scoped_release nogil;  // Python constraints take the GIL back for their call
            o.opt->step();
            return loss;
          },
          py::arg("closure") = py::none(),
          "One update of every parameter that has a gradient, then the groups' constraints. closure, if "
          "given, re-evaluates the loss with grad mode on; its result is returned.")
      .def("state_dict", &state_dict,
           "torch's layout, parameters numbered across the groups; the tensors are copies. Constraints are "
           "code, not state: they are not saved and a load keeps the optimizer's own.")
      .def("load_state_dict", &load_state_dict, py::arg("state_dict"),
           "Loads a state_dict() (same optimizer, same group sizes): state tensors are copied in and each "
           "group's hyperparameters replaced.")
      .def("__repr__", &repr);

  // ---- schedulers (PyTorch's formulas and state in C++; each keeps the Python optimizer it was given)
  py::class_<LRScheduler>(m, "LRScheduler", py::dynamic_attr(),
                          "The base of the epoch-based schedulers: step() once per epoch, "
                          "after optimizer.step(); base_lrs are the groups' \"initial_lr\".")
      .def(
          "step",
          [](LRScheduler& s, py::object epoch) {
            if (epoch.is_none()) return s.step();
            warn_epoch();
            s.step(epoch.cast<int64_t>());
          },
          py::arg("epoch") = py::none(),
          "Moves to the next epoch and sets each group's lr; epoch (deprecated in torch) jumps there by the "
          "closed form.")
      .def("get_last_lr", &LRScheduler::get_last_lr, "The lrs the last step set, one per param group.")
      .def_property("last_epoch", &LRScheduler::last_epoch, &LRScheduler::set_last_epoch)
      .def_property("base_lrs", &LRScheduler::base_lrs, &LRScheduler::set_base_lrs)
      .def(
          "state_dict",
          [](py::object self) {
            const LRScheduler& s = self.cast<const LRScheduler&>();
            py::dict d;
            for (auto k : self.attr("_config")) d[k] = self.attr(k);
            d["base_lrs"] = s.base_lrs();
            d["last_epoch"] = s.last_epoch();
            d["_step_count"] = s.step_count();
            d["_last_lr"] = s.get_last_lr();
            return d;
          },
          "torch's keys: the constructor's settings, base_lrs, last_epoch, _step_count, _last_lr.")
      .def(
          "load_state_dict",
          [](LRScheduler& s, py::dict d) {
            s.set_last_epoch(d["last_epoch"].cast<int64_t>());
            s.set_base_lrs(d["base_lrs"].cast<std::vector<double>>());
            if (d.contains("_step_count")) s.set_step_count(d["_step_count"].cast<int64_t>());
            if (d.contains("_last_lr")) s.set_last_lr(d["_last_lr"].cast<std::vector<double>>());
          },
          py::arg("state_dict"), "Restores a state_dict() (the settings stay the constructor's).")
      .def("__repr__", [](py::object self) {
        std::string args;
        for (auto k : self.attr("_config"))
          args += std::string(py::str(k)) + "=" + std::string(py::repr(self.attr(k))) + ", ";
        return std::string(py::str(py::type::of(self).attr("__name__"))) + "(" + args +
               "last_epoch=" + std::to_string(self.cast<const LRScheduler&>().last_epoch()) + ")";
      });
  scheduler<StepLR>(m, "StepLR", "Multiplies each group's lr by gamma every step_size epochs.",
                    {"step_size", "gamma"})
      .def(py::init<py::object, int64_t, double, int64_t>(), py::arg("optimizer"), py::arg("step_size"),
           py::arg("gamma") = 0.1, py::arg("last_epoch") = -1)
      .def_property_readonly("step_size", &StepLR::step_size)
      .def_property_readonly("gamma", &StepLR::gamma);
  scheduler<MultiStepLR>(m, "MultiStepLR",
                         "Multiplies each group's lr by gamma at each milestone epoch "
                         "(gamma**k for a milestone listed k times).",
                         {"milestones", "gamma"})
      .def(py::init<py::object, std::vector<int64_t>, double, int64_t>(), py::arg("optimizer"),
           py::arg("milestones"), py::arg("gamma") = 0.1, py::arg("last_epoch") = -1)
      .def_property_readonly("milestones", &MultiStepLR::milestones)
      .def_property_readonly("gamma", &MultiStepLR::gamma);
  scheduler<ExponentialLR>(m, "ExponentialLR", "Multiplies each group's lr by gamma every epoch.", {"gamma"})
      .def(py::init<py::object, double, int64_t>(), py::arg("optimizer"), py::arg("gamma"),
           py::arg("last_epoch") = -1)
      .def_property_readonly("gamma", &ExponentialLR::gamma);
  scheduler<CosineAnnealingLR>(
      m, "CosineAnnealingLR",
      "Anneals each lr along a half cosine from its initial value to eta_min at T_max: lr_t = eta_min + "
      "(base_lr - eta_min)(1 + cos(pi t / T_max)) / 2 (in PyTorch's recursive form, so a manual change of lr "
      "carries on; after T_max the cosine goes back up).",
      {"T_max", "eta_min"})
      .def(py::init<py::object, int64_t, double, int64_t>(), py::arg("optimizer"), py::arg("T_max"),
           py::arg("eta_min") = 0.0, py::arg("last_epoch") = -1)
      .def_property_readonly("T_max", &CosineAnnealingLR::T_max)
      .def_property_readonly("eta_min", &CosineAnnealingLR::eta_min);
  // The lambdas are Python functions: pybind11 takes the GIL to call them, and step() keeps it.
  scheduler<LambdaLR>(m, "LambdaLR", "lr_t = base_lr * lr_lambda(t), one function per group.", {})
      .def(py::init<py::object, std::vector<LambdaLR::Lambda>, int64_t>(), py::arg("optimizer"),
           py::arg("lr_lambdas"), py::arg("last_epoch") = -1);

  using Plateau = WithOptimizer<ReduceLROnPlateau>;
  Plateau::name = "ReduceLROnPlateau";
  py::class_<Plateau>(
      m, "ReduceLROnPlateau", py::dynamic_attr(),
      "Multiplies each group's lr by factor when a metric stops improving. Call step(metric) once per epoch. "
      "The metric improved if it is below best * (1 - threshold) (mode \"min\", threshold_mode \"rel\"), "
      "below "
      "best - threshold (\"abs\"), or above best * (1 + threshold) / best + threshold in mode \"max\". After "
      "more than patience epochs without improvement the lrs are cut (not below min_lr, a number or one per "
      "group; cuts smaller than eps are skipped) and cooldown epochs are ignored.")
      .def(py::init([](py::object optimizer, std::string mode, double factor, int64_t patience,
                       double threshold, std::string threshold_mode, int64_t cooldown, py::handle min_lr,
                       double eps) {
             const size_t groups = optimizer_arg(optimizer, "ReduceLROnPlateau").param_groups().size();
             PlateauOptions o{mode, factor, patience, threshold, threshold_mode, cooldown, 0.0, {}, eps};
             if (py::isinstance<py::list>(min_lr) || py::isinstance<py::tuple>(min_lr)) {
               for (auto v : min_lr) o.min_lrs.push_back(number(v, "ReduceLROnPlateau: min_lr").value);
               CR_CHECK(!o.min_lrs.empty() || groups == 0, std::invalid_argument,
                        "ReduceLROnPlateau: expected ", groups, " min_lrs, got 0");
             } else {
               o.min_lr = number(min_lr, "ReduceLROnPlateau: min_lr").value;
             }
             return std::make_unique<Plateau>(optimizer, o);
           }),
           py::arg("optimizer"), py::arg("mode") = "min", py::arg("factor") = 0.1, py::arg("patience") = 10,
           py::arg("threshold") = 1e-4, py::arg("threshold_mode") = "rel", py::arg("cooldown") = 0,
           py::arg("min_lr") = 0.0, py::arg("eps") = 1e-8)
      .def(
          "step",
          [](Plateau& s, py::handle metrics, py::object epoch) {
            double current = py::float_(obj(metrics));  // a number or a one-element tensor
            if (!epoch.is_none()) {
              warn_epoch();
              s.last_epoch = epoch.cast<int64_t>() - 1;
            }
            s.step(current);
          },
          py::arg("metrics"), py::arg("epoch") = py::none(),
          "Records this epoch's metric and cuts the lrs if it has stopped improving.")
      .def("get_last_lr", &ReduceLROnPlateau::get_last_lr)
      .def_readonly("optimizer", &Plateau::optimizer)
      .def_property_readonly("in_cooldown", &ReduceLROnPlateau::in_cooldown)
      .def_property_readonly("mode", [](const Plateau& s) { return s.options().mode; })
      .def_property_readonly("factor", [](const Plateau& s) { return s.options().factor; })
      .def_property_readonly("patience", [](const Plateau& s) { return s.options().patience; })
      .def_property_readonly("threshold", [](const Plateau& s) { return s.options().threshold; })
      .def_property_readonly("threshold_mode", [](const Plateau& s) { return s.options().threshold_mode; })
      .def_property_readonly("cooldown", [](const Plateau& s) { return s.options().cooldown; })
      .def_property_readonly("eps", [](const Plateau& s) { return s.options().eps; })
      .def_property_readonly("min_lrs", &ReduceLROnPlateau::min_lrs)
      .def_readwrite("best", &ReduceLROnPlateau::best)
      .def_readwrite("num_bad_epochs", &ReduceLROnPlateau::num_bad_epochs)
      .def_readwrite("cooldown_counter", &ReduceLROnPlateau::cooldown_counter)
      .def_readwrite("last_epoch", &ReduceLROnPlateau::last_epoch)
      .def(
          "state_dict",
          [](py::object self) {
            py::dict d;
            for (const char* k :
                 {"mode", "factor", "patience", "threshold", "threshold_mode", "cooldown", "eps", "best",
                  "num_bad_epochs", "cooldown_counter", "last_epoch", "min_lrs"})
              d[k] = self.attr(k);
            d["_last_lr"] = self.cast<const Plateau&>().get_last_lr();
            return d;
          },
          "torch's keys: the settings, best, num_bad_epochs, cooldown_counter, last_epoch, min_lrs, "
          "_last_lr.")
      .def(
          "load_state_dict",
          [](py::object self, py::dict d) {
            for (const char* k : {"best", "num_bad_epochs", "cooldown_counter", "last_epoch"})
              if (d.contains(k)) self.attr(k) = d[k];
            if (d.contains("_last_lr"))
              self.cast<Plateau&>().last_lr_ = d["_last_lr"].cast<std::vector<double>>();
          },
          py::arg("state_dict"));
}

}  // namespace chainrule::bind
