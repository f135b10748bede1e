// chainrule::func: closed forms (x³, sin, a quadratic form, the Rosenbrock function), central
// differences in float64, compositions (grad of grad, jacfwd of jacrev), and the errors that teach.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/func.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;
namespace F = chainrule::func;

Tensor Cube(const Tensor& x) { return sum(mul(mul(x, x), x)); }

// f(x, y) = (1 - x)² + 100 (y - x²)²
Tensor Rosenbrock(const Tensor& p) {
  Tensor x = p.select(0, 0), y = p.select(0, 1);
  Tensor a = sub(full({}, 1.0, kFloat64), x), b = sub(y, mul(x, x));
  return add(mul(a, a), mul(mul(b, b), 100.0));
}

TEST(Func, GradOfACubeAndItsDerivatives) {
  Tensor x = full({}, 2.0, kFloat64);
  EXPECT_DOUBLE_EQ(F::grad(Cube, x).item(), 12.0);                   // 3x²
  EXPECT_DOUBLE_EQ(F::grad(F::grad(Cube))(x).item(), 12.0);          // 6x
  EXPECT_DOUBLE_EQ(F::grad(F::grad(F::grad(Cube)))(x).item(), 6.0);  // 6
  auto [g, v] = F::grad_and_value(Cube, x);
  EXPECT_DOUBLE_EQ(g.item(), 12.0);
  EXPECT_DOUBLE_EQ(v.item(), 8.0);
  EXPECT_FALSE(g.requires_grad());  // nothing outside differentiates it: no graph kept
}

TEST(Func, DerivativeOverAGridInOnePass) {
  // d/dx Σ sin(x_i) = cos(x_i), elementwise over a grid
  Tensor xs = tensor({-1.0, 0.0, 0.5, 3.0}, {4}, kFloat64);
  Tensor d = F::grad([](const Tensor& x) { return sum(sin(x)); }, xs);
  for (int64_t i = 0; i < 4; ++i) EXPECT_NEAR(d.select(0, i).item(), std::cos(xs.select(0, i).item()), 1e-15);
}

TEST(Func, HessianOfRosenbrockAtTheMinimum) {
  Tensor p = tensor({1.0, 1.0}, {2}, kFloat64);
  // H = [[2 + 1200x² - 400y, -400x], [-400x, 200]] = [[802, -400], [-400, 200]]
  expect_values(F::hessian(Rosenbrock, p), {802, -400, -400, 200});
  // third derivatives: f_xxx = 2400x, f_xxy = -400, the others 0
  expect_values(F::jacfwd(F::jacrev(F::grad(Rosenbrock)))(p), {2400, -400, -400, 0, -400, 0, 0, 0});
  expect_values(F::jacrev(F::jacrev(Rosenbrock))(p), {802, -400, -400, 200});
  expect_values(F::jacfwd(F::jacfwd(Rosenbrock))(p), {802, -400, -400, 200});
  Tensor v = tensor({1.0, 2.0}, {2}, kFloat64);
  expect_values(F::hvp(Rosenbrock, p, v), {2, 0});
}

TEST(Func, JacobianShapesAndValuesAgainstFiniteDifferences) {
  // f: R^(2x3) -> R^(4): f(X) = [Σ X², Σ sin X, prod of row 0, X[1,2]·X[0,0]]
  auto f = [](const Tensor& X) {
    return stack({sum(mul(X, X)), sum(sin(X)), prod(X.select(0, 0)),
                  mul(X.select(0, 0).select(0, 0), X.select(0, 1).select(0, 2))});
  };
  Tensor X = tensor({0.3, -1.2, 0.7, 2.0, 0.1, -0.4}, {2, 3}, kFloat64);
  Tensor jr = F::jacrev(f, X), jf = F::jacfwd(f, X);
  EXPECT_EQ(jr.shape(), (Shape{4, 2, 3}));
  EXPECT_EQ(jf.shape(), (Shape{4, 2, 3}));
  const double h = 1e-6;
  for (int64_t j = 0; j < 6; ++j) {
    Tensor e = zeros({6}, kFloat64);
    e.select(0, j).fill_(h);
    Tensor d = div(sub(f(add(X, e.view({2, 3}))), f(sub(X, e.view({2, 3})))), 2 * h);
    for (int64_t i = 0; i < 4; ++i) {
      EXPECT_NEAR(jr.view({4, 6}).select(0, i).select(0, j).item(), d.select(0, i).item(), 1e-8);
      EXPECT_NEAR(jf.view({4, 6}).select(0, i).select(0, j).item(), d.select(0, i).item(), 1e-8);
    }
  }
}

TEST(Func, VjpJvpAndLinearizeOfSeveralInputsAndOutputs) {
  // f(a, b) = (a * b, a + b²): J_a = diag(b), J_b = diag(a); second output: I, diag(2b)
  F::Function f = [](const F::Tensors& xs) {
    return F::Tensors{mul(xs[0], xs[1]), add(xs[0], mul(xs[1], xs[1]))};
  };
  Tensor a = tensor({1.0, 2.0}, {2}, kFloat64), b = tensor({3.0, -1.0}, {2}, kFloat64);
  auto [outs, pullback] = F::vjp(f, {a, b});
  expect_values(outs[0], {3, -2});
  F::Tensors g = pullback({tensor({1.0, 0.0}, {2}, kFloat64), tensor({0.0, 1.0}, {2}, kFloat64)});
  expect_values(g[0], {3, 1});   // b * v0 + v1
  expect_values(g[1], {1, -2});  // a * v0 + 2 b * v1
  auto [outs2, jt] =
      F::jvp(f, {a, b}, {tensor({1.0, 1.0}, {2}, kFloat64), tensor({0.5, 0.0}, {2}, kFloat64)});
  expect_values(jt[0], {3.5, -1});  // b ta + a tb
  expect_values(jt[1], {4, 1});     // ta + 2 b tb
  auto [outs3, push] = F::linearize(f, {a, b});
  expect_values(push({zeros({2}, kFloat64), tensor({1.0, 1.0}, {2}, kFloat64)})[1], {6, -2});
}

TEST(Func, ConstantsHaveZeroDerivative) {
  Tensor x = tensor({1.0, 2.0}, {2}, kFloat64);
  expect_values(F::grad([](const Tensor&) { return full({}, 3.0, kFloat64); }, x), {0, 0});
  expect_values(F::jacfwd([](const Tensor& z) { return mul(z.detach(), 2.0); }, x), {0, 0, 0, 0});
  expect_values(F::hessian([](const Tensor& z) { return sum(z); }, x), {0, 0, 0, 0});
}

TEST(Func, WorksUnderNoGradAndComposesWithTheUsersGraph) {
  Tensor x = full({}, 3.0, kFloat64);
  {
    NoGradGuard no_grad;
    EXPECT_DOUBLE_EQ(F::grad(Cube, x).item(), 27.0);
  }
  Tensor w = full({}, 3.0, kFloat64);
  w.set_requires_grad(true);
  Tensor g = F::grad(Cube, w);  // w is tracked by the user: the gradient keeps its graph
  EXPECT_TRUE(g.requires_grad());
  EXPECT_DOUBLE_EQ(autograd::grad({g}, {w})[0].item(), 18.0);
}

TEST(Func, ErrorsTeach) {
  Tensor x = tensor({1.0, 2.0}, {2}, kFloat64);
  auto id = [](const Tensor& z) { return mul(z, 2.0); };
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { F::grad(id, x); }),
      "grad: expected f to return a scalar (a 0-d tensor), got shape (2,); differentiate f(x).sum(), or "
      "use jacrev(f) or vjp(f, x) for a vector-valued f");
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::hessian(id, x); }),
                         "hessian: expected f to return a scalar"));
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { F::grad(Cube, tensor({2.0}, {1}, kInt64)); }),
            "grad: expected floating inputs, argument 0 is int64 (1,); derivatives need floats: write "
            "cr.tensor(2.0), not cr.tensor(2), or convert with .double()");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { F::hvp(Cube, x, zeros({3}, kFloat64)); }),
            "hvp: expected the vector for input 0 to have shape (2,) and dtype float64, got (3,) float64");
  F::Function f = [](const F::Tensors& xs) { return F::Tensors{mul(xs[0], xs[0])}; };
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { F::jvp(f, {x}, {}); }),
            "jvp: expected 1 tangents (one per primal), got 0");
  auto [out, pb] = F::vjp(f, {x});
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { pb({zeros({2}, kFloat32)}); }),
      "vjp: expected the cotangent for output 0 to have shape (2,) and dtype float64, got (2,) float32");
}

}  // namespace
