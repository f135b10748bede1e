// Bindings of nn::functional, nn::init and nn::utils as the submodules _core.nn.functional,
// _core.nn.init and _core.nn.utils, under torch's names; python/chainrule/nn/{functional,init,utils}.py
// re-export them, wrapping only where Python adds something (legacy arguments, generators, checks).
#include <optional>
#include <variant>

#include "core/ops_nn.h"
#include "nn/functional.h"
#include "nn/init.h"
#include "nn/utils.h"
#include "python/bind_util.h"

namespace chainrule::bind {
namespace {
namespace F = nn::functional;
using Opt = std::optional<Tensor>;
using py::arg;

Tensor opt(const Opt& t) { return t ? *t : Tensor(); }

void bind_losses(py::module_ f) {
  // reduction is checked in C++; None weights arrive as undefined tensors
  f.def(
      "mse_loss",
      [](const Tensor& x, const Tensor& y, const std::string& r, Opt w) {
        return F::mse_loss(x, y, r, opt(w));
      },
      arg("input"), arg("target"), arg("reduction") = "mean", arg("weight") = py::none());
  f.def(
      "l1_loss",
      [](const Tensor& x, const Tensor& y, const std::string& r, Opt w) {
        return F::l1_loss(x, y, r, opt(w));
      },
      arg("input"), arg("target"), arg("reduction") = "mean", arg("weight") = py::none());
  f.def(
      "huber_loss",
      [](const Tensor& x, const Tensor& y, const std::string& r, double delta, Opt w) {
        return F::huber_loss(x, y, r, delta, opt(w));
      },
      arg("input"), arg("target"), arg("reduction") = "mean", arg("delta") = 1.0, arg("weight") = py::none());
  f.def("smooth_l1_loss", &F::smooth_l1_loss, arg("input"), arg("target"), arg("reduction") = "mean",
        arg("beta") = 1.0);
  f.def(
      "nll_loss",
      [](const Tensor& x, const Tensor& t, Opt w, int64_t ignore, const std::string& r) {
        py::gil_scoped_release nogil;
        return F::nll_loss(x, t, opt(w), ignore, r);
      },
      arg("input"), arg("target"), arg("weight") = py::none(), arg("ignore_index") = -100,
      arg("reduction") = "mean");
  f.def(
      "cross_entropy",
      [](const Tensor& x, const Tensor& t, Opt w, int64_t ignore, const std::string& r, double smoothing) {
        py::gil_scoped_release nogil;
        return F::cross_entropy(x, t, opt(w), ignore, r, smoothing);
      },
      arg("input"), arg("target"), arg("weight") = py::none(), arg("ignore_index") = -100,
      arg("reduction") = "mean", arg("label_smoothing") = 0.0);
  f.def(
      "binary_cross_entropy",
      [](const Tensor& x, const Tensor& y, Opt w, const std::string& r) {
        py::gil_scoped_release nogil;
        return F::binary_cross_entropy(x, y, opt(w), r);
      },
      arg("input"), arg("target"), arg("weight") = py::none(), arg("reduction") = "mean");
  f.def(
      "binary_cross_entropy_with_logits",
      [](const Tensor& x, const Tensor& y, Opt w, const std::string& r, Opt pw) {
        py::gil_scoped_release nogil;
        return F::binary_cross_entropy_with_logits(x, y, opt(w), r, opt(pw));
      },
      arg("input"), arg("target"), arg("weight") = py::none(), arg("reduction") = "mean",
      arg("pos_weight") = py::none());
  f.def("logsigmoid", &F::logsigmoid, arg("input"),
        "log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|), finite for any logit. d/dx = sigmoid(-x).");
}

void bind_layers(py::module_ f) {
  f.def("l1_penalty", &F::l1_penalty, arg("params"));
  f.def("l2_penalty", &F::l2_penalty, arg("params"));
  f.def("dropout", &F::dropout, arg("input"), arg("p") = 0.5, arg("training") = true);
  f.def(
      "batch_norm",
      [](const Tensor& x, Opt rm, Opt rv, Opt w, Opt b, bool training, double momentum, double eps) {
        py::gil_scoped_release nogil;
        return F::batch_norm(x, opt(rm), opt(rv), opt(w), opt(b), training, momentum, eps);
      },
      arg("input"), arg("running_mean"), arg("running_var"), arg("weight") = py::none(),
      arg("bias") = py::none(), arg("training") = false, arg("momentum") = 0.1, arg("eps") = 1e-5, R"doc(
Batch normalisation of (N, C) or (N, C, *) over every dim but 1, then * weight + bias (C,).

training=True: the batch's mean and biased variance normalise, and the running stats (if
given) are updated in place: r = (1 - momentum) r + momentum * stat (unbiased variance).
training=False: the running stats normalise.)doc");
  f.def(
      "layer_norm",
      [](const Tensor& x, const py::object& normalized_shape, Opt w, Opt b, double eps) {
        Shape shape =
            shape_arg(py::reinterpret_borrow<py::args>(py::make_tuple(normalized_shape)), "layer_norm");
        py::gil_scoped_release nogil;
        return F::layer_norm(x, shape, opt(w), opt(b), eps);
      },
      arg("input"), arg("normalized_shape"), arg("weight") = py::none(), arg("bias") = py::none(),
      arg("eps") = 1e-5, R"doc(
Normalises over the trailing dims normalized_shape (an int or a tuple; mean 0, biased variance 1),
then * weight + bias (each of normalized_shape).)doc");

  // activations, padding, convolution, pooling, embeddings, similarity. The Python wrappers in
  // chainrule/nn/functional.py check argument types (one-line TypeErrors naming the argument) and
  // pass plain values; windows arrive as (h, w) pairs.
  f.def("silu", [](const Tensor& x) { return silu(x); }, arg("input"));
  f.def("elu", [](const Tensor& x, double alpha) { return elu(x, alpha); }, arg("input"), arg("alpha") = 1.0);
  f.def(
      "hardtanh", [](const Tensor& x, double lo, double hi) { return hardtanh(x, lo, hi); }, arg("input"),
      arg("min_val") = -1.0, arg("max_val") = 1.0);
  f.def("relu6", [](const Tensor& x) { return relu6(x); }, arg("input"));
  f.def("softsign", [](const Tensor& x) { return softsign(x); }, arg("input"));
  f.def(
      "pad",
      [](const Tensor& x, const std::vector<int64_t>& p, const std::string& mode, double value) {
        py::gil_scoped_release nogil;
        return pad(x, p, mode, value);
      },
      arg("input"), arg("pad"), arg("mode") = "constant", arg("value") = 0.0);
  // padding: an (h, w) pair, or "same" / "valid"
  f.def(
      "conv2d",
      [](const Tensor& x, const Tensor& w, Opt b, Size2 stride,
         const std::variant<Size2, std::string>& padding, Size2 dilation, int64_t groups) {
        py::gil_scoped_release nogil;
        if (auto* mode = std::get_if<std::string>(&padding))
          return conv2d(x, w, opt(b), stride, mode->c_str(), dilation, groups);
        return conv2d(x, w, opt(b), stride, std::get<Size2>(padding), dilation, groups);
      },
      arg("input"), arg("weight"), arg("bias") = py::none(), arg("stride") = Size2{1, 1},
      arg("padding") = Size2{0, 0}, arg("dilation") = Size2{1, 1}, arg("groups") = 1);
  f.def(
      "max_pool2d_with_indices",
      [](const Tensor& x, Size2 k, Size2 s, Size2 p, Size2 d, bool ceil_mode) {
        py::gil_scoped_release nogil;
        return max_pool2d_with_indices(x, k, s, p, d, ceil_mode);
      },
      arg("input"), arg("kernel_size"), arg("stride"), arg("padding") = Size2{0, 0},
      arg("dilation") = Size2{1, 1}, arg("ceil_mode") = false);
  f.def(
      "avg_pool2d",
      [](const Tensor& x, Size2 k, Size2 s, Size2 p, bool ceil_mode, bool count_include_pad,
         std::optional<int64_t> divisor_override) {
        py::gil_scoped_release nogil;
        return avg_pool2d(x, k, s, p, count_include_pad, divisor_override, ceil_mode);
      },
      arg("input"), arg("kernel_size"), arg("stride"), arg("padding") = Size2{0, 0}, arg("ceil_mode") = false,
      arg("count_include_pad") = true, arg("divisor_override") = py::none());
  f.def(
      "embedding",
      [](const Tensor& x, const Tensor& w, std::optional<int64_t> padding_idx) {
        py::gil_scoped_release nogil;
        return F::embedding(x, w, padding_idx);
      },
      arg("input"), arg("weight"), arg("padding_idx") = py::none());
  f.def("normalize", &F::normalize, arg("input"), arg("p") = 2.0, arg("dim") = 1, arg("eps") = 1e-12);
  f.def("cosine_similarity", &F::cosine_similarity, arg("x1"), arg("x2"), arg("dim") = 1, arg("eps") = 1e-8);
}

// each fills the tensor in place, without recording, and returns it
void bind_init(py::module_ i) {
  namespace init = nn::init;
  i.def(
      "calculate_gain",
      [](const std::string& nonlinearity, std::optional<double> param) {
        return init::calculate_gain(nonlinearity, param);
      },
      arg("nonlinearity"), arg("param") = py::none());
  i.def("_calculate_fan_in_and_fan_out", &init::calculate_fan_in_and_fan_out, arg("tensor"));
  i.def("uniform_", &init::uniform_, arg("tensor"), arg("a") = 0.0, arg("b") = 1.0);
  i.def("normal_", &init::normal_, arg("tensor"), arg("mean") = 0.0, arg("std") = 1.0);
  i.def("constant_", &init::constant_, arg("tensor"), arg("val"));
  i.def("xavier_uniform_", &init::xavier_uniform_, arg("tensor"), arg("gain") = 1.0);
  i.def("xavier_normal_", &init::xavier_normal_, arg("tensor"), arg("gain") = 1.0);
  i.def("kaiming_uniform_", &init::kaiming_uniform_, arg("tensor"), arg("a") = 0.0, arg("mode") = "fan_in",
        arg("nonlinearity") = "leaky_relu");
  i.def("kaiming_normal_", &init::kaiming_normal_, arg("tensor"), arg("a") = 0.0, arg("mode") = "fan_in",
        arg("nonlinearity") = "leaky_relu");
}

void bind_utils(py::module_ u) {
  namespace utils = nn::utils;
  u.def(
      "get_total_norm",
      [](const std::vector<Tensor>& ts, double p, bool error_if_nonfinite) {
        py::gil_scoped_release nogil;
        return utils::get_total_norm(ts, p, error_if_nonfinite);
      },
      arg("tensors"), arg("norm_type") = 2.0, arg("error_if_nonfinite") = false);
  u.def(
      "clip_grads_with_norm_",
      [](const std::vector<Tensor>& ps, double max_norm, const Tensor& total) {
        py::gil_scoped_release nogil;
        utils::clip_grads_with_norm_(ps, max_norm, total);
      },
      arg("parameters"), arg("max_norm"), arg("total_norm"));
  u.def(
      "clip_grad_value_",
      [](const std::vector<Tensor>& ps, double clip_value) {
        py::gil_scoped_release nogil;
        utils::clip_grad_value_(ps, clip_value);
      },
      arg("parameters"), arg("clip_value"));
  u.def("parameters_to_vector", &utils::parameters_to_vector, arg("parameters"));
  u.def("vector_to_parameters", &utils::vector_to_parameters, arg("vec"), arg("parameters"));
}
}  // namespace

void bind_functional(py::module_& m) {
  py::module_ nn = m.def_submodule("nn", "The C++ side of cr.nn's function modules.");
  py::module_ functional =
      nn.def_submodule("functional", "nn::functional: losses and layer ops (cr.nn.functional).");
  bind_losses(functional);
  bind_layers(functional);
  bind_init(nn.def_submodule("init", "nn::init: in-place initialisation (cr.nn.init)."));
  bind_utils(nn.def_submodule("utils", "nn::utils: gradient clipping, parameter vectors (cr.nn.utils)."));
}

}  // namespace chainrule::bind
