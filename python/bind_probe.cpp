// Bindings for what cr.doctor measures in C++ (see python/bind_util.h): tensor_stats and nn::Probe,
// private (_tensor_stats, _Probe); python/chainrule/doctor/_stats.py gives them their Python shape.
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
}  // namespace

void bind_probe(py::module_& m) {
  m.def(
      "_tensor_stats",
      [](const Tensor& x, const std::optional<Tensor>& minus) { return stats_tuple(tensor_stats(x, minus)); },
      py::arg("input"), py::arg("minus") = py::none(),
      "(numel, nan count, inf count, mean, std, sum of squares) of a floating tensor's elements (of "
      "input - minus, subtracted in float64, when given) in float64, no graph (cr.doctor's statistics).");

  m.def(
      "_tensor_stats_list",
      [](const std::vector<std::optional<Tensor>>& xs, const std::optional<std::vector<Tensor>>& minus) {
        if (minus && minus->size() != xs.size())
          throw py::value_error("_tensor_stats_list: expected as many tensors in minus as in input, got " +
                                std::to_string(xs.size()) + " and " + std::to_string(minus->size()));
        py::list out;
        for (size_t i = 0; i < xs.size(); ++i) {
          if (!xs[i]) {
            out.append(py::none());
            continue;
          }
          out.append(
              stats_tuple(tensor_stats(*xs[i], minus ? std::optional<Tensor>((*minus)[i]) : std::nullopt)));
        }
        return out;
      },
      py::arg("input"), py::arg("minus") = py::none(),
      "_tensor_stats of each tensor of a list (None for None), of input[i] - minus[i] with minus: one call "
      "for a model's parameters.");

  m.def(
      "_step_snapshot",
      [](const std::vector<std::optional<Tensor>>& grads, const std::vector<Tensor>& values,
         std::vector<Tensor> buffers) {
        std::vector<Tensor> gs;
        for (const auto& g : grads) gs.push_back(g ? *g : Tensor());
        nn::StepSnapshot s = nn::step_snapshot(gs, values, buffers);
        py::list grad_stats, value_stats;
        for (const auto& g : s.grads) grad_stats.append(stats_tuple(g));
        for (const auto& v : s.values) value_stats.append(stats_tuple(v));
        py::dict copies;
        for (const auto& [i, t] : s.grad_copies) copies[py::int_(i)] = t;
        return py::make_tuple(grad_stats, value_stats, buffers, copies);
      },
      py::arg("grads"), py::arg("values"), py::arg("buffers"),
      "nn::step_snapshot for cr.doctor.watch: (stats of each grad or None, stats of each value, the "
      "buffers: copies of the values then of the weights' grads, {index: copy of that grad}).");

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
             std::vector<nn::Probe::Target> ts;
             for (const auto& [name, module, kind] : targets) {
               if (!module)
                 throw py::type_error("_Probe: target '" + name + "': expected a cr.nn.Module, got None");
               if (kind < 0 || kind > 4)
                 throw py::value_error("_Probe: kind must be 0..4, got " + std::to_string(kind));
               ts.push_back({name, module, static_cast<nn::ProbeKind>(kind)});
             }
             return std::make_unique<nn::Probe>(ts, keep_values, keep_output, level, params);
           }),
           py::arg("targets"), py::arg("keep_values") = false, py::arg("keep_output") = false,
           py::arg("saturation_level") = 0.97, py::arg("params") = std::vector<Tensor>{})
      .def("remove", &nn::Probe::remove)
      .def("held",
           [](const nn::Probe& p) {
             // {index: (Σx² of what .grad held before backward, stats of what backward added)} for
             // the parameters backward accumulated into
             py::dict out;
             for (size_t i = 0; i < p.num_params(); ++i)
               if (p.reached(i)) out[py::int_(i)] = py::make_tuple(p.held_sumsq(i), stats_tuple(p.fresh(i)));
             return out;
           })
      .def("calls", [](const nn::Probe& p) { return p.calls(); });
}

}  // namespace chainrule::bind
