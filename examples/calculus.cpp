// Calculus from C++: f'(x) over a grid, Newton's method on the Rosenbrock function with
// chainrule::func's gradient and Hessian, a directional derivative with dual numbers (forward mode),
// and an op with its own derivatives (record + a backward lambda and a tangent lambda).
#include <cmath>
#include <cstdio>

#include "core/autograd.h"
#include "core/func.h"
#include "core/gradcheck.h"
#include "core/linalg.h"
#include "core/ops.h"

using namespace chainrule;

// softplus(x) = log(1 + e^x), with its own derivative d/dx = sigmoid(x): as a backward (g -> g·f'(x))
// and as a tangent for forward mode (t -> f'(x)·t). Both are written with differentiable ops, so
// second derivatives work through them too (gradgradcheck below).
Tensor my_softplus(const Tensor& x) {
  Tensor y = log1p(exp(x.detach()));  // the forward's value; record gives it the graph
  return record(
      "my_softplus", y, {x}, kSaveInputs,
      [](const Tensor& g, const Saved& s) -> Grads { return {mul(g, sigmoid(s.input(0)))}; },
      [](const Duals& d) { return mul(d.tangent(0), sigmoid(d.input(0))); });
}

int main() {
  // f(x) = x sin x and f'(x) = sin x + x cos x at five points, in one call
  Tensor xs = linspace(-2.0, 2.0, 5, kFloat64);
  Tensor df = func::grad([](const Tensor& x) { return sum(mul(x, sin(x))); }, xs);
  double worst = 0;
  for (int64_t i = 0; i < 5; ++i) {
    double x = xs.select(0, i).item();
    worst = std::max(worst, std::abs(df.select(0, i).item() - (std::sin(x) + x * std::cos(x))));
  }
  std::printf("f'(x) over a grid: worst error %.1e\n", worst);

  // Newton: p <- p - H^-1 grad f, from (-1.5, 2)
  auto rosenbrock = [](const Tensor& p) {
    Tensor x = p.select(0, 0), y = p.select(0, 1);
    return add(pow(rsub(x, 1.0), 2), mul(pow(sub(y, mul(x, x)), 2), 100.0));
  };
  Tensor p = tensor({-1.5, 2.0}, kFloat64);
  for (int step = 0; step < 20; ++step) {
    Tensor g = func::grad(rosenbrock, p), H = func::hessian(rosenbrock, p);
    std::printf("step %2d  f = %.3e  |grad| = %.1e\n", step, rosenbrock(p).item(), vector_norm(g).item());
    if (vector_norm(g).item() < 1e-10) break;
    p = sub(p, linalg_solve(H, g));
  }
  const double dist = std::hypot(p.select(0, 0).item() - 1.0, p.select(0, 1).item() - 1.0);

  // The directional derivative at q along v with dual numbers q + v·ε (ε² = 0): one forward pass,
  // no gradient formed. It equals ∇f(q)·v.
  Tensor q = tensor({0.5, -0.25}, kFloat64), v = tensor({0.6, 0.8}, kFloat64);
  double slope;
  {
    forward_ad::DualLevel level;
    slope = forward_ad::unpack_dual(rosenbrock(forward_ad::make_dual(q, v))).second.item();
  }
  const double dot = sum(mul(func::grad(rosenbrock, q), v)).item();
  std::printf("directional derivative: dual numbers %.12f, gradient·v %.12f\n", slope, dot);

  Tensor x = tensor({-1.0, 0.5, 3.0}, kFloat64).set_requires_grad();
  auto fn = [](const std::vector<Tensor>& in) { return my_softplus(in[0]); };
  auto fns = [](const func::Tensors& in) { return func::Tensors{my_softplus(in[0])}; };
  Tensor t = tensor({1.0, 2.0, -1.0}, kFloat64), jt = func::jvp(fns, {x.detach()}, {t}).second[0];
  const bool ok = gradcheck(fn, {x}).ok && gradgradcheck(fn, {x}).ok &&
                  allclose(jt, mul(t, sigmoid(x.detach())), 1e-14, 0);
  std::printf(
      "Newton reached (1, 1) within %.1e; my_softplus passes gradcheck, gradgradcheck and its jvp: %s\n",
      dist, ok ? "yes" : "no");
  return worst < 1e-12 && dist < 1e-10 && std::abs(slope - dot) < 1e-12 && ok ? 0 : 1;
}
