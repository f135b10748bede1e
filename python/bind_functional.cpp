// Bindings of nn::functional, nn::init and nn::utils as private functions of _core (_F_*, _init_*,
// _utils_*); python/chainrule/nn/{functional,init,utils}.py wrap them with torch's signatures.
#include <optional>

#include "nn/functional.h"
#include "nn/init.h"
#include "nn/utils.h"
#include "python/bind_util.h"

namespace chainrule::bind {
namespace {
namespace F = nn::functional;
using Opt = std::optional<Tensor>;

Tensor opt(const Opt& t) { return t ? *t : Tensor(); }
}  // namespace

void bind_functional(py::module_& m) {
  // ---- losses (reduction checked in C++; None weights arrive as undefined tensors) ----
  m.def("_F_mse_loss", [](const Tensor& x, const Tensor& y, const std::string& r, Opt w) {
    return F::mse_loss(x, y, r, opt(w));
  });
  m.def("_F_l1_loss", [](const Tensor& x, const Tensor& y, const std::string& r, Opt w) {
    return F::l1_loss(x, y, r, opt(w));
  });
  m.def("_F_huber_loss", [](const Tensor& x, const Tensor& y, const std::string& r, double delta, Opt w) {
    return F::huber_loss(x, y, r, delta, opt(w));
  });
  m.def("_F_smooth_l1_loss", [](const Tensor& x, const Tensor& y, const std::string& r, double beta) {
    return F::smooth_l1_loss(x, y, r, beta);
  });
  m.def("_F_nll_loss", [](const Tensor& x, const Tensor& t, Opt w, int64_t ignore, const std::string& r) {
    py::gil_scoped_release nogil;
    return F::nll_loss(x, t, opt(w), ignore, r);
  });
  m.def("_F_cross_entropy", [](const Tensor& x, const Tensor& t, Opt w, int64_t ignore,
                               const std::string& r, double smoothing) {
    py::gil_scoped_release nogil;
    return F::cross_entropy(x, t, opt(w), ignore, r, smoothing);
  });
  m.def("_F_binary_cross_entropy", [](const Tensor& x, const Tensor& y, Opt w, const std::string& r) {
    py::gil_scoped_release nogil;
    return F::binary_cross_entropy(x, y, opt(w), r);
  });
  m.def("_F_binary_cross_entropy_with_logits", [](const Tensor& x, const Tensor& y, Opt w,
                                                  const std::string& r, Opt pw) {
    py::gil_scoped_release nogil;
    return F::binary_cross_entropy_with_logits(x, y, opt(w), r, opt(pw));
  });
  m.def("_F_logsigmoid", &F::logsigmoid);

  // ---- regularisers, dropout, normalisation ----
  m.def("_F_l1_penalty", &F::l1_penalty);
  m.def("_F_l2_penalty", &F::l2_penalty);
  m.def("_F_dropout", &F::dropout);
  m.def("_F_batch_norm", [](const Tensor& x, Opt rm, Opt rv, Opt w, Opt b, bool training,
                            double momentum, double eps) {
    py::gil_scoped_release nogil;
    return F::batch_norm(x, opt(rm), opt(rv), opt(w), opt(b), training, momentum, eps);
  });
  m.def("_F_layer_norm", [](const Tensor& x, const Shape& shape, Opt w, Opt b, double eps) {
    py::gil_scoped_release nogil;
    return F::layer_norm(x, shape, opt(w), opt(b), eps);
  });

  // ---- init (each returns the tensor it filled) ----
  m.def("_init_calculate_gain", [](const std::string& nonlinearity, std::optional<double> param) {
    return nn::init::calculate_gain(nonlinearity, param);
  });
  m.def("_init_fan_in_and_fan_out", &nn::init::calculate_fan_in_and_fan_out);
  m.def("_init_uniform_", &nn::init::uniform_);
  m.def("_init_normal_", &nn::init::normal_);
  m.def("_init_constant_", &nn::init::constant_);
  m.def("_init_xavier_uniform_", &nn::init::xavier_uniform_);
  m.def("_init_xavier_normal_", &nn::init::xavier_normal_);
  m.def("_init_kaiming_uniform_", &nn::init::kaiming_uniform_);
  m.def("_init_kaiming_normal_", &nn::init::kaiming_normal_);

  // ---- utils ----
  m.def("_utils_get_total_norm", [](const std::vector<Tensor>& ts, double p, bool error_if_nonfinite) {
    py::gil_scoped_release nogil;
    return nn::utils::get_total_norm(ts, p, error_if_nonfinite);
  });
  m.def("_utils_clip_grads_with_norm_", [](const std::vector<Tensor>& ps, double max_norm, const Tensor& total) {
    py::gil_scoped_release nogil;
    nn::utils::clip_grads_with_norm_(ps, max_norm, total);
  });
  m.def("_utils_clip_grad_value_", [](const std::vector<Tensor>& ps, double clip_value) {
    py::gil_scoped_release nogil;
    nn::utils::clip_grad_value_(ps, clip_value);
  });
  m.def("_utils_parameters_to_vector", &nn::utils::parameters_to_vector);
  m.def("_utils_vector_to_parameters", &nn::utils::vector_to_parameters);
}

}  // namespace chainrule::bind
