// nn::functional: losses, penalties, dropout and normalisation, composed from core ops (see
// functional.h for the formulas). Fused: BCE's clamped log (precision) and nll_loss (speed).
#include "nn/functional.h"

#include <cmath>
#include <cstdint>
#include <string>
#include <utility>
#include <vector>

namespace chainrule::nn::functional {
namespace {

// ---------------------------------------------------------------- argument checks
void check_reduction(const std::string& reduction, const char* op) {
  CR_CHECK(reduction == "mean" || reduction == "sum" || reduction == "none", std::invalid_argument, op,
           ": expected reduction 'mean', 'sum' or 'none', got '", reduction, "'");
}

void check_floating(const Tensor& t, const char* op, const char* what) {
  CR_CHECK(t.defined(), std::invalid_argument, op, ": expected ", what, " to be a tensor, got None");
  CR_CHECK(is_floating(t.dtype()), std::invalid_argument, op, ": expected a floating ", what, ", got ",
           dtype_name(t.dtype()));
}

Tensor reduce(const Tensor& loss, const std::string& reduction) {
  if (reduction == "none") return loss;
  return reduction == "sum" ? sum(loss) : mean(loss);
}

// A loss with a per-element weight, as torch 2.13's Python code does it: with mean_by_weight,
// "mean" is Σ w ℓ / Σ w (mse, l1); otherwise it is mean(w ℓ) (huber).
Tensor reduce_weighted(const Tensor& loss, const Tensor& weight, const std::string& reduction,
                       bool mean_by_weight, const char* op) {
  if (!weight.defined()) return reduce(loss, reduction);
  CR_CHECK(weight.shape() == loss.shape(), std::invalid_argument, op,
           ": expected weight of the input's shape ", loss.shape(), ", got ", weight.shape());
  Tensor wl = loss * weight;
  if (reduction == "mean" && mean_by_weight) return sum(wl) / sum(weight);
  return reduce(wl, reduction);
}

// Elementwise losses take same-shaped input and target; torch broadcasts a mismatch with a
// warning (the Python wrapper warns), so the difference is computed on the broadcast shape.
Tensor difference(const Tensor& input, const Tensor& target, const char* op) {
  check_floating(input, op, "input");
  CR_CHECK(target.defined(), std::invalid_argument, op, ": expected target to be a tensor, got None");
  broadcast_shapes(input.shape(), target.shape(), op);
  return input - target;
}

// A weight of one value per class, as a constant (no gradient) of the input's dtype.
// As torch, a parameter (weight, bias, running statistics) has the input's dtype: no silent copy
void check_param_dtype(const Tensor& p, Dtype dtype, const char* op, const char* what) {
  CR_CHECK(!p.defined() || p.dtype() == dtype, std::invalid_argument, op, ": expected ", what, " of dtype ",
           dtype_name(dtype) /* the input's */, " as the input, got ", dtype_name(p.dtype()),
           "; convert one with .float() or .double()");
}

Tensor class_weight(const Tensor& weight, int64_t classes, Dtype dtype, const char* op) {
  if (!weight.defined()) return weight;
  CR_CHECK(weight.dim() == 1 && weight.size(0) == classes, std::invalid_argument, op,
           ": expected a weight of shape (C,) = (", classes, ",), one per class, got ", weight.shape());
  check_param_dtype(weight, dtype, op, "weight");
  return weight.detach();
}

// A per-class weight shaped to broadcast against (N, C, d1, ...): (C, 1, ..., 1) along dim 1.
Tensor along_class_dim(const Tensor& w, int64_t ndim, int64_t class_dim) {
  Shape s(ndim - class_dim, 1);
  s[0] = w.numel();
  return reshape(w, s);
}

// ---------------------------------------------------------------- fused elementwise ops
// ℓ = -(y max(log x, -100) + (1 - y) max(log(1 - x), -100))       (x, y same shape and dtype)
// dℓ/dx = (x - y) / max(x (1 - x), ε)    dℓ/dy = log(1 - x) - log(x)    (both as torch)
// Fused because the clamp's zero gradient times log's 1/x would be 0 * inf = NaN at x = 0 or 1.
// ε is torch's EPSILON, 1e-12 rounded to float (so saturated gradients agree to the last digit).
constexpr double kBceEps = static_cast<double>(1e-12f);
template <class T> void bce_kernel(const Tensor& x, const Tensor& y, Tensor& out) {
  const T *a = x.data<T>(), *b = y.data<T>();
  T* o = out.data<T>();
  for (int64_t i = 0; i < x.numel(); ++i) {
    const T lx = std::max(std::log(a[i]), T(-100)), l1mx = std::max(std::log1p(-a[i]), T(-100));
    o[i] = (b[i] - 1) * l1mx - b[i] * lx;
  }
}

Tensor bce_elementwise(const Tensor& x, const Tensor& y) {
  Tensor out = empty(x.shape(), x.dtype());
  Tensor xc = x.detach().contiguous(), yc = y.detach().contiguous();
  if (x.dtype() == kFloat32) bce_kernel<float>(xc, yc, out);
  else bce_kernel<double>(xc, yc, out);
  return record(
      "binary_cross_entropy", out, {x, y}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads {
        Tensor x = s.input(0), y = s.input(1);
        Grads r(2);
        if (s.needs_grad(0)) r[0] = g * (x - y) / clamp_min(x * rsub(x, 1), kBceEps);
        if (s.needs_grad(1)) r[1] = g * (chainrule::log1p(neg(x)) - log(x));
        return r;
      },
      [](const Duals& d) {
        const Tensor &x = d.input(0), &y = d.input(1);
        return elementwise_tangent(
            d, {(x - y) / clamp_min(x * rsub(x, 1), kBceEps), chainrule::log1p(neg(x)) - log(x)});
      });
}

// ---------------------------------------------------------------- class-index losses
// What nll_loss and cross_entropy share: the input seen as (N, C, d1, ...) and the target as
// (N, d1, ...), the ignore mask, and each sample's weight w[t_i] (0 where ignored).
struct ClassTargets {
  Tensor input;            // (N, C, d1, ...)
  Tensor target;           // int64 (N, d1, ...), ignored entries replaced by class 0
  Tensor kept;             // bool (N, d1, ...): not ignore_index
  Tensor sample_w;         // input dtype (N, d1, ...): w[t_i], or 1; 0 where ignored (a constant)
  Tensor weight;           // (C,) constant, or undefined
  bool unbatched = false;  // input was (C,): results squeeze back to 0-d
};

// c.kept, c.target (ignored entries: class 0) and c.sample_w (w[t], or 1; 0 where ignored) from the
// contiguous target t, checking that every index is a class or ignore_index.
template <class T> void fill_class_targets(ClassTargets& c, const Tensor& t, int64_t ignore_index,
                                           int64_t classes, const char* op) {
  const int64_t* p = t.data<int64_t>();
  int64_t* tp = c.target.data<int64_t>();
  bool* kp = c.kept.data<bool>();
  T* wp = c.sample_w.data<T>();
  const Tensor w = c.weight.defined() ? c.weight.contiguous() : Tensor();
  const T* cw = w.defined() ? w.data<T>() : nullptr;
  for (int64_t i = 0; i < t.numel(); ++i) {
    CR_CHECK(p[i] == ignore_index || (p[i] >= 0 && p[i] < classes), std::out_of_range, op,
             ": expected class indices in [0, ", classes, ") or ignore_index ", ignore_index, ", got target ",
             p[i]);
    kp[i] = p[i] != ignore_index;
    tp[i] = kp[i] ? p[i] : 0;
    wp[i] = !kp[i] ? T(0) : cw ? cw[p[i]] : T(1);
  }
}

ClassTargets class_targets(const Tensor& input, const Tensor& target, const Tensor& weight,
                           int64_t ignore_index, const char* op) {
  ClassTargets c;
  CR_CHECK(input.dim() >= 1, std::invalid_argument, op,
           ": expected input of shape (N, C), (C,) or (N, C, d1, ...), got ", input.shape());
  CR_CHECK(target.dtype() == kInt64, std::invalid_argument, op,
           ": expected int64 class indices as target (or class probabilities of the input's shape ",
           input.shape(), "), got ", dtype_name(target.dtype()), " of shape ", target.shape());
  c.unbatched = input.dim() == 1;
  c.input = c.unbatched ? unsqueeze(input, 0) : input;
  Tensor t = c.unbatched ? unsqueeze(target, 0) : target;
  Shape want = c.input.shape();
  want.erase(want.begin() + 1);
  if (!c.unbatched && target.dim() >= 1 && input.size(0) != target.size(0))
    throw std::invalid_argument(detail::concat(op, ": expected target batch size ", input.size(0), " (input ",
                                               input.shape(), "), got ", target.shape()));
  CR_CHECK(t.shape() == want, std::invalid_argument, op, ": expected target of shape ",
           c.unbatched ? Shape{} : want, " for input ", input.shape(), ", got ", target.shape());
  const int64_t classes = c.input.size(1);
  c.weight = class_weight(weight, classes, input.dtype(), op);
  // the ignore mask, the clean target and each sample's weight in one pass (constants: no graph)
  const Tensor tc = t.contiguous();
  c.target = empty(t.shape(), kInt64);
  c.kept = empty(t.shape(), kBool);
  c.sample_w = empty(t.shape(), input.dtype());
  if (input.dtype() == kFloat32) fill_class_targets<float>(c, tc, ignore_index, classes, op);
  else fill_class_targets<double>(c, tc, ignore_index, classes, op);
  return c;
}

// The derivative of Σ w[t_ir] logp[i, t_ir, r] with respect to logp (N, C, d1, ...): sample_w at
// the kept targets [i, t_ir, r] (`at`, true there) and 0 elsewhere.
template <class T> std::pair<Tensor, Tensor> target_weights(const ClassTargets& c, const Shape& shape) {
  Tensor w = zeros(shape, c.sample_w.dtype()), at = zeros(shape, kBool);
  const int64_t n = shape[0], classes = shape[1], rest = n && classes ? w.numel() / (n * classes) : 0;
  const int64_t* tp = c.target.data<int64_t>();
  const bool* kp = c.kept.data<bool>();
  const T* sp = c.sample_w.data<T>();
  T* wp = w.data<T>();
  bool* ap = at.data<bool>();
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < rest; ++r) {
      const int64_t k = i * rest + r, j = (i * classes + tp[k]) * rest + r;
      wp[j] = sp[k];
      ap[j] = kp[k];
    }
  return {w, at};
}

// (loss, Σ w[t_ir] over the kept targets): loss[i, r] = -w[t_ir] logp[i, t_ir, r] (0 where ignored:
// never read, as torch), summed when reduce ("mean" then divides by the weights' sum).
template <class T>
std::pair<Tensor, double> nll_kernel(const ClassTargets& c, const Tensor& logp, bool reduce, bool mean) {
  const Tensor lp = logp.detach().contiguous();
  const int64_t n = lp.size(0), classes = lp.size(1), rest = n && classes ? lp.numel() / (n * classes) : 0;
  const int64_t* tp = c.target.data<int64_t>();
  const bool* kp = c.kept.data<bool>();
  const T *wp = c.sample_w.data<T>(), *xp = lp.data<T>();
  Tensor loss = empty(reduce ? Shape{} : c.target.shape(), lp.dtype());
  T* out = loss.data<T>();
  double total = 0, weights = 0;  // float32 sums in double, rounded once
  for (int64_t i = 0; i < n; ++i)
    for (int64_t r = 0; r < rest; ++r) {
      const int64_t k = i * rest + r;
      const T v = kp[k] ? -wp[k] * xp[(i * classes + tp[k]) * rest + r] : T(0);
      weights += wp[k];
      if (reduce) total += v;
      else out[k] = v;
    }
  if (reduce) out[0] = static_cast<T>(mean ? total / weights : total);
  return {loss, weights};
}

// -w[t_i] logp[i, t_i], reduced; "mean" divides by Σ w[t_i] over the kept targets. Linear in logp:
// dL/dlogp = -W g at the targets and exactly 0 elsewhere (W = target_weights; g / Σ w for "mean"),
// and the tangent is the loss of the tangent.
Tensor nll_from(const ClassTargets& c, const Tensor& logp, const std::string& reduction) {
  const bool reduce = reduction != "none", mean = reduction == "mean", f32 = logp.dtype() == kFloat32;
  auto [loss, weights] =
      f32 ? nll_kernel<float>(c, logp, reduce, mean) : nll_kernel<double>(c, logp, reduce, mean);
  const double denom = mean ? weights : 1.0;
  // the backward: -W g at the targets, for g of the loss's shape (0-d when reduced)
  auto at_targets = [c, f32, reduce, denom](const Tensor& v, const Shape& shape) {
    auto [w, at] = f32 ? target_weights<float>(c, shape) : target_weights<double>(c, shape);
    return where(at, mul(w, neg(reduce ? div(v, denom) : unsqueeze(v, 1))), 0.0);
  };
  loss = record(
      "nll_loss", loss, {logp}, kSaveNone,
      [at_targets](const Tensor& g, const Saved& s) -> Grads { return {at_targets(g, s.input_shape(0))}; },
      [c, f32, reduce, denom](const Duals& d) {
        const Tensor& t = d.tangent(0);
        auto [w, at] = f32 ? target_weights<float>(c, t.shape()) : target_weights<double>(c, t.shape());
        Tensor per_sample = neg(sum(where(at, w * t, 0.0), {1}));
        return reduce ? div(sum(per_sample), denom) : per_sample;
      });
  return reduction == "none" && c.unbatched ? squeeze(loss, 0) : loss;
}

}  // namespace

// ---------------------------------------------------------------- activations
// log σ(x) = min(x, 0) - log(1 + e^-|x|)        d/dx = σ(-x)
// One op, not the composition: min and |x| have kinks at 0 that cancel in the value but would
// drop the curvature there (d²/dx² = -1/4 at 0, which Newton's method on logistic loss needs).
Tensor logsigmoid(const Tensor& x) {
  check_floating(x, "logsigmoid", "input");
  Tensor y;
  {
    NoGradGuard no_grad;
    y = minimum(x, zeros({}, x.dtype())) - chainrule::log1p(exp(neg(abs(x))));
  }
  return record_elementwise(
      "logsigmoid", y, x, kSaveInputs,
      [](const Tensor& v, const Tensor& x, const Tensor&) { return v * sigmoid(neg(x)); });
}

// ---------------------------------------------------------------- regression losses
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction,
                const Tensor& weight) {
  check_reduction(reduction, "mse_loss");
  Tensor d = difference(input, target, "mse_loss");
  return reduce_weighted(d * d, weight, reduction, true, "mse_loss");
}

Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction,
               const Tensor& weight) {
  check_reduction(reduction, "l1_loss");
  return reduce_weighted(abs(difference(input, target, "l1_loss")), weight, reduction, true, "l1_loss");
}

// Quadratic near 0 (gradient d), linear outside (gradient ±delta): both meet at |d| = delta.
Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double delta,
                  const Tensor& weight) {
  check_reduction(reduction, "huber_loss");
  CR_CHECK(delta > 0, std::invalid_argument, "huber_loss: expected delta > 0, got ", delta);
  Tensor d = difference(input, target, "huber_loss"), a = abs(d);
  Tensor loss = where(lt(a, delta), mul(d * d, 0.5), mul(sub(a, 0.5 * delta), delta));
  return reduce_weighted(loss, weight, reduction, false, "huber_loss");
}

Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction, double beta) {
  check_reduction(reduction, "smooth_l1_loss");
  CR_CHECK(beta >= 0, std::invalid_argument, "smooth_l1_loss: expected beta >= 0, got ", beta);
  Tensor d = difference(input, target, "smooth_l1_loss"), a = abs(d);
  if (beta == 0) return reduce(a, reduction);
  return reduce(where(lt(a, beta), mul(d * d, 0.5 / beta), sub(a, 0.5 * beta)), reduction);
}

// ---------------------------------------------------------------- classification losses
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                const std::string& reduction) {
  check_reduction(reduction, "nll_loss");
  check_floating(input, "nll_loss", "input");
  ClassTargets c = class_targets(input, target, weight, ignore_index, "nll_loss");
  return nll_from(c, c.input, reduction);
}

// L = -(1/N) Σ_n log softmax(x_n)[y_n]     dL/dx_n = (softmax(x_n) - onehot(y_n)) / N
// (from d/dx_j [x_y - log Σ_k e^(x_k)] = [j = y] - e^(x_j) / Σ_k e^(x_k)); log_softmax's backward
// computes exactly that, so cross_entropy = nll_loss(log_softmax(x)) needs no rule of its own.
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight, int64_t ignore_index,
                     const std::string& reduction, double label_smoothing) {
  const char* op = "cross_entropy";
  check_reduction(reduction, op);
  check_floating(input, op, "input");
  CR_CHECK(target.defined(), std::invalid_argument, op, ": expected target to be a tensor, got None");
  CR_CHECK(label_smoothing >= 0 && label_smoothing <= 1, std::invalid_argument, op,
           ": expected label_smoothing in [0, 1], got ", label_smoothing);
  const double eps = label_smoothing;

  if (target.shape() == input.shape()) {  // class probabilities
    CR_CHECK(is_floating(target.dtype()), std::invalid_argument, op,
             ": expected floating class probabilities for a target of the input's shape ", input.shape(),
             ", got ", dtype_name(target.dtype()));
    CR_CHECK(ignore_index < 0, std::invalid_argument, op,
             ": ignore_index is not supported for class-probability targets, got ", ignore_index);
    const int64_t class_dim = input.dim() == 1 ? 0 : 1, classes = input.size(class_dim);
    Tensor w = class_weight(weight, classes, input.dtype(), op);
    Tensor logp = log_softmax(input, class_dim);
    Tensor q = eps > 0 ? add(mul(target, 1 - eps), eps / static_cast<double>(classes)) : target;
    Tensor prod = logp * q;
    if (w.defined()) prod = prod * along_class_dim(w, input.dim(), class_dim);
    if (reduction == "none") return neg(sum(prod, {class_dim}));
    if (reduction == "sum") return neg(sum(prod));
    // mean over samples: N × d1 × ... (integer division, as torch; 0 samples give NaN)
    const int64_t samples = classes ? input.numel() / classes : 0;
    return samples ? div(neg(sum(prod)), static_cast<double>(samples)) : mul(sum(prod), NAN);
  }

  ClassTargets c = class_targets(input, target, weight, ignore_index, op);
  Tensor logp = log_softmax(c.input, 1);
  Tensor nll = nll_from(c, logp, reduction);
  if (eps == 0) return nll;
  // the uniform part: Σ_c -w_c log p_c per sample, 0 where ignored, normalised like nll
  const int64_t classes = c.input.size(1);
  Tensor smooth = c.weight.defined() ? logp * along_class_dim(c.weight, c.input.dim(), 1) : logp;
  smooth = where(c.kept, neg(sum(smooth, {1})), 0);
  Tensor ret;
  if (reduction == "none") ret = c.unbatched ? squeeze(smooth, 0) : smooth;
  else if (reduction == "sum") ret = sum(smooth);
  else ret = sum(smooth) / sum(c.sample_w);
  return mul(nll, 1 - eps) + mul(ret, eps / static_cast<double>(classes));
}

Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight,
                            const std::string& reduction) {
  const char* op = "binary_cross_entropy";
  check_reduction(reduction, op);
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  CR_CHECK(target.shape() == input.shape(), std::invalid_argument, op,
           ": expected target of the input's shape ", input.shape(), ", got ", target.shape());
  const Dtype t = promote_types(input.dtype(), target.dtype());
  Tensor x = input.dtype() == t ? input : input.to(t), y = target.dtype() == t ? target : target.to(t);
  for (double v : x.detach().to_vector())
    CR_CHECK(v >= 0 && v <= 1, std::invalid_argument, op, ": expected input probabilities in [0, 1], got ", v,
             "; for logits use binary_cross_entropy_with_logits");
  Tensor loss = bce_elementwise(x, y);
  if (weight.defined()) {
    check_floating(weight, op, "weight");
    broadcast_shapes(loss.shape(), weight.shape(), op);
    loss = loss * weight.detach();
  }
  return reduce(loss, reduction);
}

// ℓ = (1 - y) x - (1 + (pw - 1) y) log σ(x); log σ never overflows, so logits of 1e4 are fine.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target, const Tensor& weight,
                                        const std::string& reduction, const Tensor& pos_weight) {
  const char* op = "binary_cross_entropy_with_logits";
  check_reduction(reduction, op);
  check_floating(input, op, "input");
  check_floating(target, op, "target");
  CR_CHECK(target.shape() == input.shape(), std::invalid_argument, op,
           ": expected target of the input's shape ", input.shape(), ", got ", target.shape());
  Tensor ls = logsigmoid(input);
  if (pos_weight.defined()) {
    check_floating(pos_weight, op, "pos_weight");
    broadcast_shapes(target.shape(), pos_weight.shape(), op);
    ls = ls * add(sub(pos_weight.detach(), 1) * target, 1);
  }
  Tensor loss = rsub(target, 1) * input - ls;
  if (weight.defined()) {
    check_floating(weight, op, "weight");
    broadcast_shapes(loss.shape(), weight.shape(), op);
    loss = loss * weight.detach();
  }
  return reduce(loss, reduction);
}

// ---------------------------------------------------------------- penalties
namespace {
Tensor penalty(const std::vector<Tensor>& params, bool squared, const char* op) {
  Tensor total;
  for (size_t i = 0; i < params.size(); ++i) {
    CR_CHECK(params[i].defined() && is_floating(params[i].dtype()), std::invalid_argument, op,
             ": expected floating tensors, got ",
             params[i].defined() ? dtype_name(params[i].dtype()) : "None", " at position ", i);
    Tensor term = squared ? sum(params[i] * params[i]) : sum(abs(params[i]));
    total = total.defined() ? total + term : term;
  }
  return total.defined() ? total : zeros({});
}
}  // namespace

Tensor l1_penalty(const std::vector<Tensor>& params) { return penalty(params, false, "l1_penalty"); }
Tensor l2_penalty(const std::vector<Tensor>& params) { return penalty(params, true, "l2_penalty"); }

// ---------------------------------------------------------------- dropout
// y = x * m / (1 - p), m_i ~ Bernoulli(1 - p)       dy/dx = m / (1 - p)
Tensor dropout(const Tensor& input, double p, bool training) {
  CR_CHECK(p >= 0 && p <= 1, std::invalid_argument, "dropout: expected a probability p in [0, 1], got ", p);
  check_floating(input, "dropout", "input");
  if (!training || p == 0) return input;
  Tensor scale;
  {
    NoGradGuard no_grad;
    scale = p == 1 ? zeros(input.shape(), input.dtype())
                   : where(lt(rand_like(input), 1 - p), scalar_tensor(1 / (1 - p), input.dtype()), 0);
  }
  return input * scale;
}

// ---------------------------------------------------------------- normalisation
namespace {
// A (C,) vector shaped (1, C, 1, ..., 1) to broadcast against an (N, C, *) input.
Tensor per_channel(const Tensor& v, int64_t ndim) {
  Shape s(ndim, 1);
  s[1] = v.numel();
  return reshape(v, s);
}

void check_channels(const Tensor& v, int64_t channels, Dtype dtype, const char* what) {
  check_param_dtype(v, dtype, "batch_norm", what);
  if (!v.defined()) return;
  CR_CHECK(v.numel() == channels && v.dim() == 1, std::invalid_argument, "batch_norm: expected ", what,
           " of shape (", channels, ",), one per channel, got ", v.shape());
}

// y * weight + bias, with weight and bias given the shape that broadcasts against y.
template <class Reshape> Tensor affine(Tensor y, const Tensor& weight, const Tensor& bias, Reshape shape) {
  if (weight.defined()) y = y * shape(weight);
  if (bias.defined()) y = y + shape(bias);
  return y;
}
}  // namespace

Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight, const Tensor& bias, bool training, double momentum, double eps) {
  check_floating(input, "batch_norm", "input");
  CR_CHECK(input.dim() >= 2, std::invalid_argument,
           "batch_norm: expected input of shape (N, C) or (N, C, *), got ", input.shape());
  const int64_t ndim = input.dim(), channels = input.size(1);
  check_channels(running_mean, channels, input.dtype(), "running_mean");
  check_channels(running_var, channels, input.dtype(), "running_var");
  check_channels(weight, channels, input.dtype(), "weight");
  check_channels(bias, channels, input.dtype(), "bias");
  CR_CHECK(running_mean.defined() == running_var.defined(), std::invalid_argument,
           "batch_norm: expected both running_mean and running_var, or neither");
  std::vector<int64_t> dims{0};
  for (int64_t d = 2; d < ndim; ++d) dims.push_back(d);
  const int64_t n = channels ? input.numel() / channels : 0;  // values per channel
  auto shape = [ndim](const Tensor& v) { return per_channel(v, ndim); };

  if (!training) {
    CR_CHECK(running_mean.defined(), std::invalid_argument,
             "batch_norm: expected running_mean and running_var in evaluation mode (training=False)");
    CR_CHECK(eps >= 0, std::invalid_argument, "batch_norm: expected eps >= 0, got ", eps);
    Tensor y = (input - shape(running_mean)) / sqrt(add(shape(running_var), eps));
    return affine(y, weight, bias, shape);
  }
  // As torch: an empty batch normalises to an empty output and leaves the running statistics alone.
  if (input.numel() == 0) return affine(input, weight, bias, shape);
  CR_CHECK(n > 1, std::invalid_argument,
           "batch_norm: expected more than 1 value per channel when training, got input of shape ",
           input.shape());
  CR_CHECK(eps > 0, std::invalid_argument, "batch_norm: expected eps > 0 when training, got ", eps);
  Tensor mu = mean(input, dims, true);
  Tensor centred = input - mu;
  Tensor var_b = mean(centred * centred, dims, true);  // biased: what normalises the batch
  if (running_mean.defined()) {
    NoGradGuard no_grad;
    Tensor rm = running_mean, rv = running_var;
    Tensor batch_mean = reshape(mu.detach(), {channels}).to(rm.dtype());
    Tensor batch_var = reshape(var_b.detach(), {channels}).to(rv.dtype());
    rm.mul_(1 - momentum).add_(batch_mean, momentum);
    rv.mul_(1 - momentum).add_(batch_var, momentum * n / static_cast<double>(n - 1));  // unbiased
  }
  return affine(centred / sqrt(add(var_b, eps)), weight, bias, shape);
}

Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight,
                  const Tensor& bias, double eps) {
  check_floating(input, "layer_norm", "input");
  const int64_t k = static_cast<int64_t>(normalized_shape.size());
  bool ok = k >= 1 && k <= input.dim();
  for (int64_t i = 0; ok && i < k; ++i) ok = input.size(input.dim() - k + i) == normalized_shape[i];
  std::string trailing;  // "(*, 3, 4)"
  for (int64_t s : normalized_shape) trailing += ", " + std::to_string(s);
  CR_CHECK(ok, std::invalid_argument, "layer_norm: expected input of shape (*", trailing,
           ") for normalized_shape ", normalized_shape, ", got ", input.shape());
  for (const Tensor* p : {&weight, &bias}) {
    CR_CHECK(!p->defined() || p->shape() == normalized_shape, std::invalid_argument, "layer_norm: expected ",
             p == &weight ? "weight" : "bias", " of normalized_shape ", normalized_shape, ", got ",
             p->shape());
    check_param_dtype(*p, input.dtype(), "layer_norm", p == &weight ? "weight" : "bias");
  }
  CR_CHECK(eps >= 0, std::invalid_argument, "layer_norm: expected eps >= 0, got ", eps);
  std::vector<int64_t> dims;
  for (int64_t d = input.dim() - k; d < input.dim(); ++d) dims.push_back(d);
  Tensor centred = input - mean(input, dims, true);
  Tensor var_b = mean(centred * centred, dims, true);
  return affine(centred / sqrt(add(var_b, eps)), weight, bias, [](const Tensor& v) { return v; });
}

}  // namespace chainrule::nn::functional

// ---------------------------------------------------------------- embeddings, norms, similarity
namespace chainrule::nn::functional {

// index_select's backward (index_add) sums the gradients of repeated indices; the padding rows
// read the weight detached, so nothing flows back to that row.
Tensor embedding(const Tensor& input, const Tensor& weight, std::optional<int64_t> padding_idx) {
  CR_CHECK(weight.dim() == 2, std::invalid_argument,
           "embedding: expected weight (num_embeddings, embedding_dim), got ", weight.shape());
  CR_CHECK(input.dtype() == kInt64, std::invalid_argument, "embedding: expected int64 indices as input, got ",
           dtype_name(input.dtype()));
  const int64_t n = weight.size(0);
  Tensor flat = reshape(input, {-1}).contiguous();
  const int64_t* ix = flat.data<int64_t>();
  for (int64_t i = 0; i < flat.numel(); ++i)
    CR_CHECK(ix[i] >= 0 && ix[i] < n, std::out_of_range, "embedding: expected indices in [0, ", n,
             ") (num_embeddings), got ", ix[i]);
  Shape out = input.shape();
  out.push_back(weight.size(1));
  Tensor y = reshape(index_select(weight, 0, flat), out);
  if (!padding_idx) return y;
  int64_t pad = *padding_idx;
  CR_CHECK(pad >= -n && pad < n, std::invalid_argument, "embedding: expected padding_idx in [", -n, ", ", n,
           ") (within num_embeddings), got ", pad);
  if (pad < 0) pad += n;
  return where(unsqueeze(eq(input, pad), -1), y.detach(), y);
}

Tensor vector_norm(const Tensor& x, double p, int64_t dim) {
  check_floating(x, "vector_norm", "input");
  CR_CHECK(p > 0, std::invalid_argument, "vector_norm: expected p > 0 (or inf), got ", p);
  dim = normalize_dim(dim, std::max<int64_t>(x.dim(), 1), "vector_norm");
  if (std::isinf(p)) return amax(abs(x), {dim}, true);  // amax shares the gradient among ties, as torch
  Tensor y;
  {
    NoGradGuard no_grad;
    y = p == 1   ? sum(abs(x), {dim}, true)
        : p == 2 ? sqrt(sum(x * x, {dim}, true))
                 : pow(sum(pow(abs(x), p), {dim}, true), 1.0 / p);
  }
  // g · dy/dx (g of y's shape, broadcast over dim)
  auto scale = [p](const Tensor& g, const Tensor& x, const Tensor& y) {
    Tensor zero = eq(y, 0);
    if (p == 1) return depends_on(g * sign(x), x);
    if (p == 2) return x * where(zero, 0, g / where(zero, 1, y));
    return sign(x) * pow(abs(x), p - 1) * where(zero, 0, g / pow(where(zero, 1, y), p - 1));
  };
  return record(
      "norm", y, {x}, kSaveInputs | kSaveOutput,
      [scale](const Tensor& g, const Saved& s) -> Grads { return {scale(g, s.input(0), s.output())}; },
      [scale, dim](const Duals& d) {
        return sum(scale(ones_like(d.output()), d.input(0), d.output()) * d.tangent(0), {dim}, true);
      });
}

Tensor normalize(const Tensor& input, double p, int64_t dim, double eps) {
  return input / clamp_min(vector_norm(input, p, dim), eps);
}

namespace {
// max(x, lo) as a value, with the gradient passed through unchanged: torch clamps the norms in
// cosine_similarity in place under no_grad, so their backward is the unclamped norm's.
Tensor clamp_min_value(const Tensor& x, double lo) {
  Tensor y;
  {
    NoGradGuard no_grad;
    y = clamp_min(x, lo);
  }
  return record(
      "clamp_min_", y, {x}, kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {g}; },
      [](const Duals& d) { return d.tangent(0); });
}
}  // namespace

Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim, double eps) {
  check_floating(x1, "cosine_similarity", "x1");
  check_floating(x2, "cosine_similarity", "x2");
  const Shape shape = broadcast_shapes(x1.shape(), x2.shape(), "cosine_similarity");
  const Dtype t = promote_types(x1.dtype(), x2.dtype());
  Tensor a = broadcast_to(x1.dtype() == t ? x1 : x1.to(t), shape);
  Tensor b = broadcast_to(x2.dtype() == t ? x2 : x2.to(t), shape);
  dim = normalize_dim(dim, std::max<int64_t>(a.dim(), 1), "cosine_similarity");
  Tensor na = clamp_min_value(vector_norm(a, 2, dim), eps), nb = clamp_min_value(vector_norm(b, 2, dim), eps);
  return sum((a / na) * (b / nb), {dim});
}

}  // namespace chainrule::nn::functional
