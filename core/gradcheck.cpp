// gradcheck / gradgradcheck: autograd's Jacobian against central differences, reporting the worst
// disagreeing entry by input, element, analytic and numeric value, so a failing test says where to look.
#include "core/gradcheck.h"

#include <cmath>
#include <cstdint>
#include <iomanip>
#include <sstream>

#include "core/autograd.h"
#include "core/ops.h"

namespace chainrule {
namespace {

// Row-major flat index -> multi-index, printed like a Python tuple.
std::string index_str(int64_t flat, const Shape& shape) {
  Shape idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = flat % shape[d];
    flat /= shape[d];
  }
  return shape_str(idx);
}

// J[i][k] = d out[i] / d x[k], one row per output element.
using Jacobian = std::vector<std::vector<double>>;

// One backward per output element with a one-hot cotangent; retain_graph keeps the graph alive for
// the next row. An output that does not require grad has, as far as autograd knows, a zero Jacobian.
std::vector<Jacobian> analytic_jacobians(const Tensor& out, const std::vector<Tensor>& xs) {
  const int64_t m = out.numel();
  std::vector<Jacobian> J(xs.size());
  for (size_t j = 0; j < xs.size(); ++j) J[j].assign(m, std::vector<double>(xs[j].numel(), 0.0));
  if (!out.requires_grad()) return J;
  std::vector<double> onehot(m, 0.0);
  for (int64_t i = 0; i < m; ++i) {
    onehot[i] = 1.0;
    Tensor seed = tensor(onehot, out.shape(), out.dtype());
    onehot[i] = 0.0;
    std::vector<Tensor> g = autograd::grad({out}, xs, {seed}, /*retain_graph=*/true,
                                           /*create_graph=*/false, /*allow_unused=*/true);
    for (size_t j = 0; j < xs.size(); ++j) {
      if (!g[j].defined()) continue;  // unused input: zero row
      CR_CHECK(g[j].shape() == xs[j].shape(), std::runtime_error,
               "gradcheck: expected the gradient of input to have the input's shape ", xs[j].shape(),
               ", got ", g[j].shape());
      J[j][i] = g[j].to_vector();
    }
  }
  return J;
}

// Perturbs each element of x in place (through raw storage, so no version bump or graph) and
// restores it exactly; fn is re-run from scratch each time, so no stale result can leak in.
Jacobian numeric_jacobian(const GradcheckFn& fn, const std::vector<Tensor>& inputs, Tensor x, int64_t m,
                          double eps) {
  NoGradGuard no_grad;
  Jacobian J(m, std::vector<double>(x.numel(), 0.0));
  CR_CHECK(x.dtype() == kFloat64, std::invalid_argument, "gradcheck: expected float64 inputs, got ",
           dtype_name(x.dtype()));
  for (int64_t d = 0; d < x.dim(); ++d)  // perturbing one element would move all its aliases
    CR_CHECK(x.strides()[d] != 0 || x.shape()[d] <= 1, std::invalid_argument,
             "gradcheck: an input "
             "has a dimension with stride 0 (an expanded tensor, shape ",
             x.shape(), ", strides ", x.strides(),
             "); its elements share memory, so finite differences can't perturb them one "
             "at a time; pass a clone()");
  double* base = static_cast<double*>(x.raw_data());
  auto elem = [&](int64_t k) -> double& {  // element k in row-major order, for views too
    int64_t off = 0;
    for (int64_t d = x.dim() - 1; d >= 0; --d) {
      off += (k % x.shape()[d]) * x.strides()[d];
      k /= x.shape()[d];
    }
    return base[off];
  };
  for (int64_t k = 0; k < x.numel(); ++k) {
    double& pk = elem(k);
    const double orig = pk;
    std::vector<double> plus, minus;
    try {
      pk = orig + eps;
      plus = fn(inputs).to_vector();
      pk = orig - eps;
      minus = fn(inputs).to_vector();
    } catch (...) {
      pk = orig;  // the caller's tensor must come back unchanged even if fn throws
      throw;
    }
    pk = orig;
    CR_CHECK(static_cast<int64_t>(plus.size()) == m && static_cast<int64_t>(minus.size()) == m,
             std::runtime_error, "gradcheck: expected fn to return ", m, " elements every call, got ",
             plus.size(), " and ", minus.size());
    for (int64_t i = 0; i < m; ++i) J[i][k] = (plus[i] - minus[i]) / (2 * eps);
  }
  return J;
}

GradcheckResult fail(std::string msg) { return {false, std::move(msg)}; }

// Shared body; `who` names the caller in messages and `what` says what the output elements are.
GradcheckResult check(const char* who, const char* what, const GradcheckFn& fn,
                      const std::vector<Tensor>& inputs, double eps, double atol, double rtol) {
  std::vector<Tensor> xs;
  std::vector<size_t> which;  // position of each checked tensor in `inputs`
  for (size_t j = 0; j < inputs.size(); ++j) {
    if (!inputs[j].defined() || !inputs[j].requires_grad()) continue;
    if (inputs[j].dtype() != kFloat64)
      return fail(detail::concat(who,
                                 ": expected float64 inputs (finite differences in lower "
                                 "precision are meaningless), got ",
                                 dtype_name(inputs[j].dtype()), " for input ", j,
                                 "; convert it with .to(kFloat64)"));
    xs.push_back(inputs[j]);
    which.push_back(j);
  }
  if (xs.empty())
    return fail(detail::concat(who, ": expected at least one input with requires_grad, got none"));

  Tensor out;
  {
    AutoGradMode grad_on(true);
    out = fn(inputs);
  }
  CR_CHECK(out.defined(), std::runtime_error, who, ": expected fn to return a tensor, got undefined");
  const int64_t m = out.numel();
  const Shape out_shape = out.shape();
  std::vector<Jacobian> analytic = analytic_jacobians(out, xs);
  out = Tensor();  // frees the retained graph before the many forward passes below

  int64_t bad = 0, total = 0;
  double worst_excess = -1;
  std::string worst;
  for (size_t j = 0; j < xs.size(); ++j) {
    Jacobian numeric = numeric_jacobian(fn, inputs, xs[j], m, eps);
    for (int64_t i = 0; i < m; ++i) {
      for (int64_t k = 0; k < xs[j].numel(); ++k) {
        const double a = analytic[j][i][k], n = numeric[i][k];
        const double err = std::abs(a - n), tol = atol + rtol * std::abs(n);
        ++total;
        if (err <= tol) continue;  // NaN on either side falls through as a failure
        ++bad;
        const double excess = std::isnan(err) ? INFINITY : err - tol;
        if (excess <= worst_excess) continue;
        worst_excess = excess;
        std::ostringstream os;
        os << std::setprecision(10) << who << ": Jacobian mismatch for input " << which[j] << " (shape "
           << shape_str(xs[j].shape()) << ") at element " << k << " (index " << index_str(k, xs[j].shape())
           << "), " << what << " " << i << " (index " << index_str(i, out_shape) << "): analytic " << a
           << ", numeric " << n << ", abs error " << err << std::setprecision(3) << " > tolerance " << tol
           << " (atol " << atol << " + rtol " << rtol << " * |numeric|)";
        worst = os.str();
      }
    }
  }
  if (bad == 0) return {};
  return fail(detail::concat(worst, "; ", bad, " of ", total, " Jacobian entries disagree"));
}

// A fixed cotangent for gradgradcheck from a private LCG, so the global generator (and every
// test's seeded randomness) is left alone. Values in [-1, 1).
Tensor fixed_cotangent(const Shape& shape) {
  uint64_t state = 0x853c49e6748fea9bULL;
  std::vector<double> v(static_cast<size_t>(shape_numel(shape)));
  for (double& e : v) {
    state = state * 6364136223846793005ULL + 1442695040888963407ULL;
    e = static_cast<double>(state >> 11) * 0x1.0p-53 * 2.0 - 1.0;
  }
  return tensor(v, shape, kFloat64);
}

}  // namespace

GradcheckResult gradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, double eps, double atol,
                          double rtol) {
  return check("gradcheck", "output element", fn, inputs, eps, atol, rtol);
}

GradcheckResult gradgradcheck(const GradcheckFn& fn, const std::vector<Tensor>& inputs, double eps,
                              double atol, double rtol) {
  // Only the output's shape is needed here, to size v.
  Shape out_shape;
  {
    NoGradGuard no_grad;
    out_shape = fn(inputs).shape();
  }
  const Tensor v = fixed_cotangent(out_shape);

  // g(inputs) = d<fn(inputs), v>/d(checked inputs), flattened and concatenated. gradcheck runs it
  // under no-grad for finite differences, but the inner backward needs a graph anyway; the outer
  // grad mode only decides whether g's result must itself be differentiable.
  GradcheckFn g = [fn, v](const std::vector<Tensor>& xs) {
    const bool outer_grad = is_grad_enabled();
    AutoGradMode grad_on(true);
    std::vector<Tensor> checked;
    for (const Tensor& x : xs)
      if (x.defined() && x.requires_grad()) checked.push_back(x);
    Tensor out = fn(xs);
    std::vector<Tensor> grads(checked.size());
    if (out.requires_grad())
      grads = autograd::grad({out}, checked, {v.to(out.dtype())}, /*retain_graph=*/outer_grad,
                             /*create_graph=*/outer_grad, /*allow_unused=*/true);
    std::vector<Tensor> flat;
    for (size_t j = 0; j < checked.size(); ++j)
      flat.push_back(grads[j].defined() ? reshape(grads[j], {-1}) : zeros({checked[j].numel()}, kFloat64));
    return cat(flat, 0);
  };
  return check("gradgradcheck", "gradient element", g, inputs, eps, atol, rtol);
}

}  // namespace chainrule
