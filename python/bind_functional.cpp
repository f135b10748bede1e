// Bindings of nn::functional, nn::init and nn::utils as private functions of _core (_F_*, _init_*,
// _utils_*); python/chainrule/nn/{functional,init,utils}.py wrap them with torch's signatures.
#include <optional>

#include "core/ops_nn.h"
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

  // ---- nnmod: activations, padding, convolution, pooling, embeddings, similarity. The Python
  // wrappers in chainrule/nn/functional.py check argument types (one-line TypeErrors naming the
  // argument) and pass plain values; windows arrive as (h, w) pairs. ----
  m.def("_F_silu", [](const Tensor& x) { return silu(x); });
  m.def("_F_elu", [](const Tensor& x, double alpha) { return elu(x, alpha); });
  m.def("_F_hardtanh", [](const Tensor& x, double lo, double hi) { return hardtanh(x, lo, hi); });
  m.def("_F_relu6", [](const Tensor& x) { return relu6(x); });
  m.def("_F_softsign", [](const Tensor& x) { return softsign(x); });
  m.def("_F_pad", [](const Tensor& x, const std::vector<int64_t>& p, const std::string& mode, double value) {
    py::gil_scoped_release nogil;
    return pad(x, p, mode, value);
  });
  // padding_mode "" uses the (h, w) padding; "same" / "valid" override it
  m.def("_F_conv2d", [](const Tensor& x, const Tensor& w, Opt b, Size2 stride, Size2 padding,
                        const std::string& padding_mode, Size2 dilation, int64_t groups) {
    py::gil_scoped_release nogil;
    if (!padding_mode.empty()) return conv2d(x, w, opt(b), stride, padding_mode.c_str(), dilation, groups);
    return conv2d(x, w, opt(b), stride, padding, dilation, groups);
  });
  m.def("_F_max_pool2d", [](const Tensor& x, Size2 k, Size2 s, Size2 p, Size2 d, bool ceil_mode) {
    py::gil_scoped_release nogil;
    return max_pool2d_with_indices(x, k, s, p, d, ceil_mode);
  });
  m.def("_F_avg_pool2d", [](const Tensor& x, Size2 k, Size2 s, Size2 p, bool ceil_mode, bool count_include_pad,
                            std::optional<int64_t> divisor_override) {
    py::gil_scoped_release nogil;
    return avg_pool2d(x, k, s, p, count_include_pad, divisor_override, ceil_mode);
  });
  m.def("_F_embedding", [](const Tensor& x, const Tensor& w, std::optional<int64_t> padding_idx) {
    py::gil_scoped_release nogil;
    return F::embedding(x, w, padding_idx);
  });
  m.def("_F_normalize", [](const Tensor& x, double p, int64_t dim, double eps) { return F::normalize(x, p, dim, eps); });
  m.def("_F_cosine_similarity", [](const Tensor& a, const Tensor& b, int64_t dim, double eps) {
    return F::cosine_similarity(a, b, dim, eps);
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
