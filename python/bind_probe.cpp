// Bindings for what cr.doctor measures in C++ (see python/bind_util.h): tensor_stats and nn::Probe,
// private (_tensor_stats, _Probe, _StepSampler); python/chainrule/doctor/_stats.py gives them their Python
// shape.
#include <cmath>

#include "nn/probe.h"
#include "python/bind_util.h"

namespace chainrule::bind {

namespace {
py::object stats_tuple(const std::optional<TensorStats>& s) {
  if (!s) return py::none();
  return py::make_tuple(s->numel, s->nan, s->inf, s->mean, s->std, s->sumsq);
}
py::object maybe(const Tensor& t) { return t.defined() ? py::cast(t) : py::none(); }

std::vector<nn::Probe::Target> to_targets(
    const std::vector<std::tuple<std::string, nn::Module*, int>>& targets, const char* who) {
  std::vector<nn::Probe::Target> ts;
  for (const auto& [name, module, kind] : targets) {
    if (!module)
      throw py::type_error(std::string(who) + ": target '" + name + "': expected a cr.nn.Module, got None");
    if (kind < 0 || kind > 4)
      throw py::value_error(std::string(who) + ": kind must be 0..4, got " + std::to_string(kind));
    ts.push_back({name, module, static_cast<nn::ProbeKind>(kind)});
  }
  return ts;
}

// {index: (Σx² of what .grad held before backward, stats of what backward added)} for the parameters
// backward accumulated into
py::dict held(const nn::Probe& p) {
  py::dict out;
  for (size_t i = 0; i < p.num_params(); ++i)
    if (p.reached(i)) out[py::int_(i)] = py::make_tuple(p.held_sumsq(i), stats_tuple(p.fresh(i)));
  return out;
}

// The sampler points at the modules it hooks (nn::Module*): it holds them, so that they live as long.
struct Sampler {
  nn::StepSampler sampler;
  py::list modules;
};

template <class V> py::list stats_list(const V& v) {
  py::list out;
  for (const auto& s : v) out.append(stats_tuple(s));
  return out;
}
}  // namespace

void bind_probe(py::module_& m) {
  m.def(
      "_tensor_stats",
      [](const Tensor& x, const std::optional<Tensor>& minus) { return stats_tuple(tensor_stats(x, minus)); },
      py::arg("input"), py::arg("minus") = py::none(),
      "(numel, nan count, inf count, mean, std, sum of squares) of a floating tensor's elements (of "
      "input - minus, subtracted in float64, when given) in float64, no graph (cr.doctor's statistics).");

  py::class_<nn::ProbeCall, std::shared_ptr<nn::ProbeCall>>(m, "_ProbeCall",
                                                            "One module call measured by a _Probe.")
      .def_readonly("name", &nn::ProbeCall::name)
      .def_property_readonly("shape", [](const nn::ProbeCall& c) { return py::tuple(py::cast(c.shape)); })
      .def_property_readonly("out", [](const nn::ProbeCall& c) { return stats_tuple(c.out); })
      .def_property_readonly("pre", [](const nn::ProbeCall& c) { return stats_tuple(c.pre); })
      .def_property_readonly("out_grad", [](const nn::ProbeCall& c) { return stats_tuple(c.out_grad); })
      .def_property_readonly("dead", [](const nn::ProbeCall& c) { return maybe(c.dead); })
      .def_property_readonly("saturated",
                             [](const nn::ProbeCall& c) -> py::object {
                               if (std::isnan(c.saturated)) return py::none();
                               return py::float_(c.saturated);
                             })
      .def_property_readonly("values",
                             [](const nn::ProbeCall& c) {
                               // an activation written over in place since its call: no values
                               return c.values.defined() && c.values.version() == c.values_version
                                          ? py::cast(c.values)
                                          : py::none();
                             })
      .def_property_readonly("output", [](const nn::ProbeCall& c) { return maybe(c.output); })
      .def("drop_values", [](nn::ProbeCall& c) { c.values = Tensor(); });

  py::class_<nn::Probe>(
      m, "_Probe",
      "Forward hooks (C++) measuring each call of the given modules until remove(): "
      "_Probe([(name, module, kind), ...], keep_values, keep_output, saturation_level, params); "
      "kind 0 plain, 1 activation, 2 ReLU-like, 3 Tanh, 4 Sigmoid.")
      .def(py::init([](const std::vector<std::tuple<std::string, nn::Module*, int>>& targets,
                       bool keep_values, bool keep_output, double level, const std::vector<Tensor>& params) {
             return std::make_unique<nn::Probe>(to_targets(targets, "_Probe"), keep_values, keep_output,
                                                level, params);
           }),
           py::arg("targets"), py::arg("keep_values") = false, py::arg("keep_output") = false,
           py::arg("saturation_level") = 0.97, py::arg("params") = std::vector<Tensor>{})
      .def("remove", &nn::Probe::remove)
      .def("held", &held)
      .def("calls", [](const nn::Probe& p) { return p.calls(); });

  py::class_<nn::StepRecord, std::shared_ptr<nn::StepRecord>>(
      m, "_StepRecord", "What a _StepSampler measured on one optimizer step (stats as _tensor_stats tuples).")
      .def("calls", [](const nn::StepRecord& r) { return r.calls; })
      .def("held",
           [](const nn::StepRecord& r) {
             py::dict out;
             for (const auto& h : r.held)
               out[py::int_(h.index)] = py::make_tuple(h.held_sumsq, stats_tuple(h.fresh));
             return out;
           })
      .def_property_readonly("requires_grad",
                             [](const nn::StepRecord& r) { return py::cast(r.requires_grad); })
      .def_property_readonly("grads", [](const nn::StepRecord& r) { return stats_list(r.grads); })
      .def_property_readonly("values", [](const nn::StepRecord& r) { return stats_list(r.values); })
      .def_property_readonly("update", [](const nn::StepRecord& r) { return stats_list(r.update); })
      .def_readonly("latest", &nn::StepRecord::latest)
      .def_property_readonly("grad_copies", [](const nn::StepRecord& r) {
        // {index: that parameter's .grad, copied into a buffer the next before() writes over (copy
        // what you keep)}; empty once a later sample took them
        py::dict out;
        for (const auto& [i, t] : r.grad_copies) out[py::int_(i)] = t;
        return out;
      });

  py::class_<Sampler>(
      m, "_StepSampler",
      "nn::StepSampler for cr.doctor.watch: _StepSampler([(name, module, kind), ...], params, "
      "saturation_level); arm() before a sampled step's forward, before() -> _StepRecord just "
      "before the optimizer step, after(record) after it.")
      .def(py::init([](const std::vector<std::tuple<std::string, py::object, int>>& targets,
                       const std::vector<Tensor>& params, double level) {
             std::vector<std::tuple<std::string, nn::Module*, int>> raw;
             py::list modules;
             for (const auto& [name, module, kind] : targets) {
               raw.emplace_back(name, module.is_none() ? nullptr : module.cast<nn::Module*>(), kind);
               modules.append(module);
             }
             return std::make_unique<Sampler>(
                 Sampler{nn::StepSampler(to_targets(raw, "_StepSampler"), params, level), modules});
           }),
           py::arg("targets"), py::arg("params"), py::arg("saturation_level") = 0.97)
      .def("arm", [](Sampler& s) { s.sampler.arm(); })
      .def("disarm", [](Sampler& s) { s.sampler.disarm(); })
      .def("before", [](Sampler& s) { return s.sampler.before(); })
      .def("after", [](Sampler& s, nn::StepRecord& r) { s.sampler.after(r); });
}

}  // namespace chainrule::bind
