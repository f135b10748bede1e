// Elementwise ops: arithmetic (with broadcasting, scalar overloads, operators, dtype promotion),
// unary functions, maximum/minimum, comparisons, logical ops and where. Each op gets a value checked
// by hand or against a std:: closed form, a first (and where it exists, second) derivative against
// its closed form, a float64 gradcheck + gradgradcheck, and its error message.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/gradcheck.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

// Maps for Leaf(shape, f): keep randn inputs in an op's domain and away from its kinks.
double Pos(double v) { return 0.5 + std::abs(v); }             // in [0.5, ...)
double Away0(double v) { return v >= 0 ? v + 0.2 : v - 0.2; }  // |v| >= 0.2
// Keeps |v| at least 0.1 away from 0.5 (the kinks of clamp(x, -0.5, 0.5)).
double AwayHalf(double v) {
  const double a = std::abs(v);
  if (std::abs(a - 0.5) < 0.1) return v >= 0 ? a + 0.2 : -(a + 0.2);
  return v;
}

// d(sum f(x))/dx, with create_graph so it can be differentiated again.
Tensor Grad1(const Tensor& y, const Tensor& x, bool create_graph = false) {
  return autograd::grad({sum(y)}, {x}, {}, create_graph, create_graph)[0];
}

// ---------------------------------------------------------------- arithmetic values

TEST(OpsElementwise, AddBroadcastsColumnWithRow) {
  Tensor a = T({0, 1, 2}, {3, 1});
  Tensor b = T({10, 20, 30, 40}, {1, 4});
  EXPECT_TRUE(Near(add(a, b), {3, 4}, {10, 20, 30, 40, 11, 21, 31, 41, 12, 22, 32, 42}));
  EXPECT_TRUE(Near(a + b, {3, 4}, {10, 20, 30, 40, 11, 21, 31, 41, 12, 22, 32, 42}));
  EXPECT_TRUE(Near(b + a, {3, 4}, {10, 20, 30, 40, 11, 21, 31, 41, 12, 22, 32, 42}));
}

TEST(OpsElementwise, AddBroadcastsVectorAgainst3D) {
  Tensor a = T({1, 2, 3, 4}, {4});
  std::vector<double> bv(24), want(24);
  for (int i = 0; i < 24; ++i) {
    bv[i] = 100.0 * i;
    want[i] = 100.0 * i + (i % 4 + 1);
  }
  Tensor b = T(bv, {2, 3, 4});
  EXPECT_TRUE(Near(add(a, b), {2, 3, 4}, want));
  EXPECT_TRUE(Near(add(b, a), {2, 3, 4}, want));
}

TEST(OpsElementwise, AddZeroDimWithTensor) {
  EXPECT_TRUE(Near(add(scalar_tensor(5, kFloat64), T({1, 2}, {2})), {2}, {6, 7}));
  EXPECT_TRUE(Near(add(scalar_tensor(5, kFloat64), scalar_tensor(1, kFloat64)), {}, {6}));
}

TEST(OpsElementwise, SubMulDivBroadcast) {
  Tensor a = T({1, 2, 3}, {3, 1});
  Tensor b = T({1, 2, 4, 8}, {1, 4});
  std::vector<double> s, m, d;
  for (double x : {1.0, 2.0, 3.0})
    for (double y : {1.0, 2.0, 4.0, 8.0}) {
      s.push_back(x - y);
      m.push_back(x * y);
      d.push_back(x / y);
    }
  EXPECT_TRUE(Near(sub(a, b), {3, 4}, s));
  EXPECT_TRUE(Near(a - b, {3, 4}, s));
  EXPECT_TRUE(Near(mul(a, b), {3, 4}, m));
  EXPECT_TRUE(Near(a * b, {3, 4}, m));
  EXPECT_TRUE(Near(div(a, b), {3, 4}, d));
  EXPECT_TRUE(Near(a / b, {3, 4}, d));
  // (4,) with (2,3,4)
  Tensor v = T({1, 2, 4, 8}, {4});
  Tensor big = ones({2, 3, 4}, kFloat64);
  std::vector<double> want(24);
  for (int i = 0; i < 24; ++i) want[i] = 1.0 / v.at(i % 4);
  EXPECT_TRUE(Near(div(big, v), {2, 3, 4}, want));
  for (int i = 0; i < 24; ++i) want[i] = v.at(i % 4) - 1.0;
  EXPECT_TRUE(Near(sub(v, big), {2, 3, 4}, want));
  for (int i = 0; i < 24; ++i) want[i] = 3.0 * v.at(i % 4);
  EXPECT_TRUE(Near(mul(v, big * 3), {2, 3, 4}, want));
}

TEST(OpsElementwise, ScalarOverloadsAndOperators) {
  Tensor x = T({1, 2, 4}, {3});
  EXPECT_TRUE(Near(add(x, 2), {3}, {3, 4, 6}));
  EXPECT_TRUE(Near(x + 2, {3}, {3, 4, 6}));
  EXPECT_TRUE(Near(2 + x, {3}, {3, 4, 6}));
  EXPECT_TRUE(Near(sub(x, 0.5), {3}, {0.5, 1.5, 3.5}));
  EXPECT_TRUE(Near(x - 0.5, {3}, {0.5, 1.5, 3.5}));
  EXPECT_TRUE(Near(rsub(x, 2), {3}, {1, 0, -2}));
  EXPECT_TRUE(Near(2 - x, {3}, {1, 0, -2}));
  EXPECT_TRUE(Near(mul(x, 3), {3}, {3, 6, 12}));
  EXPECT_TRUE(Near(x * 3, {3}, {3, 6, 12}));
  EXPECT_TRUE(Near(3 * x, {3}, {3, 6, 12}));
  EXPECT_TRUE(Near(div(x, 2), {3}, {0.5, 1, 2}));
  EXPECT_TRUE(Near(x / 2, {3}, {0.5, 1, 2}));
  EXPECT_TRUE(Near(rdiv(x, 2), {3}, {2, 1, 0.5}));
  EXPECT_TRUE(Near(2 / x, {3}, {2, 1, 0.5}));
  EXPECT_TRUE(Near(neg(x), {3}, {-1, -2, -4}));
  EXPECT_TRUE(Near(-x, {3}, {-1, -2, -4}));
  EXPECT_TRUE(Near(x.neg(), {3}, {-1, -2, -4}));
  EXPECT_TRUE(Near(reciprocal(x), {3}, {1, 0.5, 0.25}));
}

TEST(OpsElementwise, ScalarOverloadGradients) {
  Tensor x = T({1, 2, 4}, {3}, kFloat64, true);
  EXPECT_TRUE(Near(Grad1(2 - x, x), {3}, {-1, -1, -1}));
  EXPECT_TRUE(Near(Grad1(x * 3, x), {3}, {3, 3, 3}));
  EXPECT_TRUE(Near(Grad1(x / 2, x), {3}, {0.5, 0.5, 0.5}));
  EXPECT_TRUE(Near(Grad1(2 / x, x), {3}, {-2, -0.5, -0.125}));  // -2/x^2
  EXPECT_TRUE(Near(Grad1(reciprocal(x), x), {3}, {-1, -0.25, -0.0625}));
  EXPECT_TRUE(Near(Grad1(x + 2, x), {3}, {1, 1, 1}));
  EXPECT_TRUE(Near(Grad1(-x, x), {3}, {-1, -1, -1}));
}

TEST(OpsElementwise, BroadcastGradientsSumBackToInputShape) {
  // L = sum(a * b) with a (3,1), b (1,4): dL/da[i] = sum_j b[j], dL/db[j] = sum_i a[i].
  Tensor a = T({1, 2, 3}, {3, 1}, kFloat64, true);
  Tensor b = T({1, 10, 100, 1000}, {1, 4}, kFloat64, true);
  auto g = autograd::grad({sum(a * b)}, {a, b});
  EXPECT_TRUE(Near(g[0], {3, 1}, {1111, 1111, 1111}));
  EXPECT_TRUE(Near(g[1], {1, 4}, {6, 6, 6, 6}));
  // L = sum(v / big) with v (4,), big (2,3,4) of 2s: dL/dv = 6 * 1/2, dL/dbig = -v/4.
  Tensor v = T({1, 2, 3, 4}, {4}, kFloat64, true);
  Tensor big = T(std::vector<double>(24, 2.0), {2, 3, 4}, kFloat64, true);
  g = autograd::grad({sum(v / big)}, {v, big});
  EXPECT_TRUE(Near(g[0], {4}, {3, 3, 3, 3}));
  std::vector<double> want(24);
  for (int i = 0; i < 24; ++i) want[i] = -(i % 4 + 1) / 4.0;
  EXPECT_TRUE(Near(g[1], {2, 3, 4}, want));
  // sub: dL/db = -count of broadcast copies
  g = autograd::grad({sum(a - b)}, {a, b});
  EXPECT_TRUE(Near(g[0], {3, 1}, {4, 4, 4}));
  EXPECT_TRUE(Near(g[1], {1, 4}, {-3, -3, -3, -3}));
}

TEST(OpsElementwise, DtypePromotion) {
  Tensor i = T({7, 2}, {2}, kInt64);
  Tensor j = T({2, 2}, {2}, kInt64);
  Tensor s = add(i, j);
  EXPECT_EQ(s.dtype(), kInt64);
  EXPECT_TRUE(Near(s, {2}, {9, 4}));
  EXPECT_EQ(mul(i, j).dtype(), kInt64);
  Tensor q = div(i, j);  // true division
  EXPECT_EQ(q.dtype(), kFloat32);
  EXPECT_TRUE(Near(q, {2}, {3.5, 1}));
  EXPECT_EQ(add(i, 1).dtype(), kInt64);
  EXPECT_EQ(mul(i, 0.5).dtype(), kFloat32);
  EXPECT_TRUE(Near(mul(i, 0.5), {2}, {3.5, 1}));
  EXPECT_EQ(add(i, T({0.5, 0.5}, {2}, kFloat32)).dtype(), kFloat32);
  EXPECT_EQ(add(T({1}, {1}, kFloat32), T({1}, {1}, kFloat64)).dtype(), kFloat64);
  EXPECT_EQ(mul(T({1}, {1}, kFloat32), 2.5).dtype(), kFloat32);  // a scalar doesn't promote
  EXPECT_EQ(add(T({1}, {1}, kFloat32), T({1}, {1}, kFloat32)).dtype(), kFloat32);
}

// ---------------------------------------------------------------- pow

TEST(OpsElementwise, PowScalarExponent) {
  Tensor x = T({-2, 0.5, 3}, {3}, kFloat64, true);
  EXPECT_TRUE(Near(pow(x, 3), {3}, {-8, 0.125, 27}));
  EXPECT_TRUE(Near(x.pow(3), {3}, {-8, 0.125, 27}));
  EXPECT_TRUE(Near(pow(x, 2.0), {3}, {4, 0.25, 9}));
  EXPECT_TRUE(Near(pow(T({4, 9}, {2}), 0.5), {2}, {2, 3}));
  EXPECT_TRUE(Near(pow(T({2, 4}, {2}), -1), {2}, {0.5, 0.25}));
  // d/dx x^3 = 3x^2, d2/dx2 = 6x (the Hessian: 12 at x = 2)
  Tensor g = Grad1(pow(x, 3), x, true);
  EXPECT_TRUE(Near(g, {3}, {12, 0.75, 27}));
  EXPECT_TRUE(Near(Grad1(g, x), {3}, {-12, 3, 18}));
  Tensor two = T({2}, {1}, kFloat64, true);
  Tensor g2 = Grad1(pow(two, 3), two, true);
  EXPECT_TRUE(Near(Grad1(g2, two), {1}, {12}));
}

TEST(OpsElementwise, PowZeroExponentHasZeroGradientEvenAtZero) {
  Tensor x = T({0, 2}, {2}, kFloat64, true);
  EXPECT_TRUE(Near(pow(x, 0), {2}, {1, 1}));
  EXPECT_TRUE(Near(Grad1(pow(x, 0), x), {2}, {0, 0}));  // PyTorch: 0, not 0 * 0^-1 = nan
  EXPECT_TRUE(Near(Grad1(pow(x, 2), x), {2}, {0, 4}));
}

TEST(OpsElementwise, PowTensorExponent) {
  Tensor a = T({2, 3, 0.5}, {3}, kFloat64, true);
  Tensor b = T({3, 0.5, -1}, {3}, kFloat64, true);
  std::vector<double> y, ga, gb;
  for (int i = 0; i < 3; ++i) {
    const double av = a.at(i), bv = b.at(i), p = std::pow(av, bv);
    y.push_back(p);
    ga.push_back(bv * std::pow(av, bv - 1));  // d/da a^b = b a^(b-1)
    gb.push_back(p * std::log(av));           // d/db a^b = a^b ln a
  }
  EXPECT_TRUE(Near(pow(a, b), {3}, y));
  EXPECT_TRUE(Near(a.pow(b), {3}, y));
  auto g = autograd::grad({sum(pow(a, b))}, {a, b});
  EXPECT_TRUE(Near(g[0], {3}, ga));
  EXPECT_TRUE(Near(g[1], {3}, gb));
  // broadcasting (3,1) ^ (1,2)
  Tensor base = T({1, 2, 3}, {3, 1});
  Tensor ex = T({2, 3}, {1, 2});
  EXPECT_TRUE(Near(pow(base, ex), {3, 2}, {1, 1, 4, 8, 9, 27}));
}

TEST(OpsElementwise, PowScalarBase) {
  Tensor x = T({-1, 0, 3}, {3}, kFloat64, true);
  EXPECT_TRUE(Near(pow(2.0, x), {3}, {0.5, 1, 8}));
  EXPECT_TRUE(Near(pow(2, x), {3}, {0.5, 1, 8}));
  const double l2 = std::log(2.0);
  Tensor g = Grad1(pow(2.0, x), x, true);  // d/dx 2^x = 2^x ln 2
  EXPECT_TRUE(Near(g, {3}, {0.5 * l2, l2, 8 * l2}));
  EXPECT_TRUE(Near(Grad1(g, x), {3}, {0.5 * l2 * l2, l2 * l2, 8 * l2 * l2}));
}

// ---------------------------------------------------------------- unary values and derivatives

struct UnaryCase {
  std::string name;
  std::function<Tensor(const Tensor&)> op;
  std::function<double(double)> f, df, d2f;  // d2f may be empty
  std::vector<double> xs;
};

std::vector<UnaryCase> UnaryCases() {
  auto sig = [](double x) { return 1.0 / (1.0 + std::exp(-x)); };
  const std::vector<double> any = {-2.5, -0.7, 0.3, 1.1, 2.9};
  const std::vector<double> pos = {0.2, 0.9, 1.5, 4.0};
  return {
      {"exp", [](const Tensor& x) { return exp(x); }, [](double x) { return std::exp(x); },
       [](double x) { return std::exp(x); }, [](double x) { return std::exp(x); }, any},
      {"log", [](const Tensor& x) { return log(x); }, [](double x) { return std::log(x); },
       [](double x) { return 1 / x; }, [](double x) { return -1 / (x * x); }, pos},
      {"sqrt", [](const Tensor& x) { return sqrt(x); }, [](double x) { return std::sqrt(x); },
       [](double x) { return 0.5 / std::sqrt(x); }, [](double x) { return -0.25 / (x * std::sqrt(x)); }, pos},
      {"abs", [](const Tensor& x) { return abs(x); }, [](double x) { return std::abs(x); },
       [](double x) { return x > 0 ? 1.0 : -1.0; }, [](double) { return 0.0; }, any},
      {"sin", [](const Tensor& x) { return sin(x); }, [](double x) { return std::sin(x); },
       [](double x) { return std::cos(x); }, [](double x) { return -std::sin(x); }, any},
      {"cos", [](const Tensor& x) { return cos(x); }, [](double x) { return std::cos(x); },
       [](double x) { return -std::sin(x); }, [](double x) { return -std::cos(x); }, any},
      {"tanh", [](const Tensor& x) { return tanh(x); }, [](double x) { return std::tanh(x); },
       [](double x) { return 1 - std::tanh(x) * std::tanh(x); },
       [](double x) { return -2 * std::tanh(x) * (1 - std::tanh(x) * std::tanh(x)); }, any},
      {"sigmoid", [](const Tensor& x) { return sigmoid(x); }, sig,
       [sig](double x) { return sig(x) * (1 - sig(x)); },
       [sig](double x) { return sig(x) * (1 - sig(x)) * (1 - 2 * sig(x)); }, any},
      {"relu", [](const Tensor& x) { return relu(x); }, [](double x) { return x > 0 ? x : 0.0; },
       [](double x) { return x > 0 ? 1.0 : 0.0; }, [](double) { return 0.0; }, any},
      {"leaky_relu(0.1)", [](const Tensor& x) { return leaky_relu(x, 0.1); },
       [](double x) { return x > 0 ? x : 0.1 * x; }, [](double x) { return x > 0 ? 1.0 : 0.1; },
       [](double) { return 0.0; }, any},
      {"leaky_relu default 0.01", [](const Tensor& x) { return leaky_relu(x); },
       [](double x) { return x > 0 ? x : 0.01 * x; }, [](double x) { return x > 0 ? 1.0 : 0.01; }, nullptr,
       any},
      {"softplus", [](const Tensor& x) { return softplus(x); },
       [](double x) { return std::log1p(std::exp(x)); }, sig,
       [sig](double x) { return sig(x) * (1 - sig(x)); }, any},
      // beta = 2, threshold = 1: linear above x = 0.5 (PyTorch: beta*x > threshold -> x)
      {"softplus(beta 2, threshold 1)",
       [](const Tensor& x) { return softplus(x, 2.0, 1.0); },
       [](double x) { return 2 * x > 1 ? x : std::log1p(std::exp(2 * x)) / 2; },
       [sig](double x) { return 2 * x > 1 ? 1.0 : sig(2 * x); },
       [sig](double x) { return 2 * x > 1 ? 0.0 : 2 * sig(2 * x) * (1 - sig(2 * x)); },
       {-1.5, -0.2, 0.3, 0.45, 0.55, 2.0}},
      {"clamp(-0.5, 0.5)",
       [](const Tensor& x) { return clamp(x, -0.5, 0.5); },
       [](double x) { return std::min(std::max(x, -0.5), 0.5); },
       [](double x) { return (x > -0.5 && x < 0.5) ? 1.0 : 0.0; },
       [](double) { return 0.0; },
       {-2.0, -0.7, -0.3, 0.1, 0.4, 0.6, 3.0}},
      {"clamp_min(0.25)", [](const Tensor& x) { return clamp_min(x, 0.25); },
       [](double x) { return std::max(x, 0.25); }, [](double x) { return x > 0.25 ? 1.0 : 0.0; },
       [](double) { return 0.0; }, any},
      {"clamp_max(0.25)", [](const Tensor& x) { return clamp_max(x, 0.25); },
       [](double x) { return std::min(x, 0.25); }, [](double x) { return x < 0.25 ? 1.0 : 0.0; },
       [](double) { return 0.0; }, any},
      {"neg", [](const Tensor& x) { return neg(x); }, [](double x) { return -x; },
       [](double) { return -1.0; }, [](double) { return 0.0; }, any},
      {"reciprocal", [](const Tensor& x) { return reciprocal(x); }, [](double x) { return 1 / x; },
       [](double x) { return -1 / (x * x); }, [](double x) { return 2 / (x * x * x); }, any},
  };
}

TEST(OpsElementwise, UnaryValuesMatchClosedForms) {
  for (const UnaryCase& c : UnaryCases()) {
    SCOPED_TRACE(c.name);
    Tensor x = T(c.xs, {static_cast<int64_t>(c.xs.size())});
    std::vector<double> want;
    for (double v : c.xs) want.push_back(c.f(v));
    EXPECT_TRUE(Near(c.op(x), x.shape(), want));
    // float32 in, float32 out, same values to float precision
    Tensor y32 = c.op(x.to(kFloat32));
    EXPECT_EQ(y32.dtype(), kFloat32);
    EXPECT_TRUE(Near(y32, x.shape(), want, 1e-5));
  }
}

TEST(OpsElementwise, UnaryFirstAndSecondDerivativesMatchClosedForms) {
  for (const UnaryCase& c : UnaryCases()) {
    SCOPED_TRACE(c.name);
    Tensor x = T(c.xs, {static_cast<int64_t>(c.xs.size())}, kFloat64, true);
    std::vector<double> d1, d2;
    for (double v : c.xs) {
      d1.push_back(c.df(v));
      if (c.d2f) d2.push_back(c.d2f(v));
    }
    Tensor g = Grad1(c.op(x), x, /*create_graph=*/true);
    EXPECT_TRUE(Near(g, x.shape(), d1));
    if (!c.d2f) continue;
    // d/dx_i sum_j f'(x_j) = f''(x_i); a gradient that doesn't depend on x is 0
    Tensor h;
    if (g.requires_grad()) h = autograd::grad({sum(g)}, {x}, {}, false, false, /*allow_unused=*/true)[0];
    if (!h.defined()) h = zeros_like(x);
    EXPECT_TRUE(Near(h, x.shape(), d2));
  }
}

TEST(OpsElementwise, UnaryMethodsMatchFreeFunctions) {
  Tensor x = T({0.3, 1.2, 2.5}, {3});
  EXPECT_TRUE(Near(x.exp(), {3}, exp(x).to_vector()));
  EXPECT_TRUE(Near(x.log(), {3}, log(x).to_vector()));
  EXPECT_TRUE(Near(x.sqrt(), {3}, sqrt(x).to_vector()));
  EXPECT_TRUE(Near(x.abs(), {3}, abs(x).to_vector()));
  EXPECT_TRUE(Near(x.sin(), {3}, sin(x).to_vector()));
  EXPECT_TRUE(Near(x.cos(), {3}, cos(x).to_vector()));
  EXPECT_TRUE(Near(x.tanh(), {3}, tanh(x).to_vector()));
  EXPECT_TRUE(Near(x.sigmoid(), {3}, sigmoid(x).to_vector()));
  EXPECT_TRUE(Near(x.relu(), {3}, relu(x).to_vector()));
}

TEST(OpsElementwise, UnaryOnInt64PromotesToFloat32) {
  Tensor i = T({0, 1, 4}, {3}, kInt64);
  Tensor e = exp(i);
  EXPECT_EQ(e.dtype(), kFloat32);
  EXPECT_TRUE(Near(e, {3}, {1, std::exp(1.0), std::exp(4.0)}, 1e-6));
  EXPECT_EQ(sqrt(i).dtype(), kFloat32);
  EXPECT_TRUE(Near(sqrt(i), {3}, {0, 1, 2}, 1e-6));
}

TEST(OpsElementwise, ReluGradientIsZeroForNegativeInputs) {
  Tensor x = T({-3, -0.1, 0.1, 2}, {4}, kFloat64, true);
  EXPECT_TRUE(Near(relu(x), {4}, {0, 0, 0.1, 2}));
  EXPECT_TRUE(Near(Grad1(relu(x), x), {4}, {0, 0, 1, 1}));
  EXPECT_TRUE(Near(Grad1(leaky_relu(x, 0.1), x), {4}, {0.1, 0.1, 1, 1}));
}

TEST(OpsElementwise, ClampGradientIsZeroOutsideTheRange) {
  Tensor x = T({-3, -0.5 - 1e-3, 0, 0.7, 1.5}, {5}, kFloat64, true);
  EXPECT_TRUE(Near(clamp(x, -0.5, 1), {5}, {-0.5, -0.5, 0, 0.7, 1}));
  EXPECT_TRUE(Near(Grad1(clamp(x, -0.5, 1), x), {5}, {0, 0, 1, 1, 0}));
  EXPECT_TRUE(Near(Grad1(clamp_min(x, 0.5), x), {5}, {0, 0, 0, 1, 1}));
  EXPECT_TRUE(Near(Grad1(clamp_max(x, 0.5), x), {5}, {1, 1, 1, 0, 0}));
}

TEST(OpsElementwise, SoftplusAboveThresholdIsIdentityAndNeverOverflows) {
  Tensor x = T({-800, -50, 50, 800}, {4}, kFloat64, true);
  Tensor y = softplus(x);
  EXPECT_TRUE(Near(y, {4}, {0, std::exp(-50.0), 50, 800}, 1e-9));
  EXPECT_TRUE(Near(Grad1(softplus(x), x), {4}, {0, std::exp(-50.0), 1, 1}, 1e-9));
  Tensor y32 = softplus(T({100, -100}, {2}, kFloat32));
  EXPECT_TRUE(Near(y32, {2}, {100, 0}, 1e-6));
}

TEST(OpsElementwise, SigmoidAndTanhAreStableForLargeInputs) {
  Tensor x = T({-1000, 1000}, {2}, kFloat64, true);
  EXPECT_TRUE(Near(sigmoid(x), {2}, {0, 1}));
  EXPECT_TRUE(Near(tanh(x), {2}, {-1, 1}));
  EXPECT_TRUE(Near(Grad1(sigmoid(x), x), {2}, {0, 0}));
  EXPECT_TRUE(Near(Grad1(tanh(x), x), {2}, {0, 0}));
}

TEST(OpsElementwise, SignValues) { EXPECT_TRUE(Near(sign(T({-2, 0, 3}, {3})), {3}, {-1, 0, 1})); }

// ---------------------------------------------------------------- maximum / minimum

TEST(OpsElementwise, MaximumMinimumValuesAndBroadcasting) {
  Tensor a = T({0, 2, 4}, {3, 1});
  Tensor b = T({1, 3}, {1, 2});
  EXPECT_TRUE(Near(maximum(a, b), {3, 2}, {1, 3, 2, 3, 4, 4}));
  EXPECT_TRUE(Near(minimum(a, b), {3, 2}, {0, 0, 1, 2, 1, 3}));
  Tensor v = T({0, 1, 2, 3}, {4});
  Tensor big = full({2, 3, 4}, 1.5, kFloat64);
  std::vector<double> mx(24), mn(24);
  for (int i = 0; i < 24; ++i) {
    mx[i] = std::max(i % 4 * 1.0, 1.5);
    mn[i] = std::min(i % 4 * 1.0, 1.5);
  }
  EXPECT_TRUE(Near(maximum(v, big), {2, 3, 4}, mx));
  EXPECT_TRUE(Near(minimum(big, v), {2, 3, 4}, mn));
}

TEST(OpsElementwise, MaximumMinimumTiesSplitTheGradient) {
  Tensor a = T({1, 2, 3}, {3}, kFloat64, true);
  Tensor b = T({1, 5, 0}, {3}, kFloat64, true);
  auto g = autograd::grad({sum(maximum(a, b))}, {a, b});
  EXPECT_TRUE(Near(g[0], {3}, {0.5, 0, 1}));
  EXPECT_TRUE(Near(g[1], {3}, {0.5, 1, 0}));
  g = autograd::grad({sum(minimum(a, b))}, {a, b});
  EXPECT_TRUE(Near(g[0], {3}, {0.5, 1, 0}));
  EXPECT_TRUE(Near(g[1], {3}, {0.5, 0, 1}));
  // broadcast: a (3,1) against b (1,2); gradients summed back
  Tensor c = T({0, 2, 4}, {3, 1}, kFloat64, true);
  Tensor d = T({1, 2}, {1, 2}, kFloat64, true);
  g = autograd::grad({sum(maximum(c, d))}, {c, d});
  // rows: 0 -> (1,2) from d; 2 -> tie with d[1] and beats d[0]; 4 -> c
  EXPECT_TRUE(Near(g[0], {3, 1}, {0, 1.5, 2}));
  EXPECT_TRUE(Near(g[1], {1, 2}, {1, 1.5}));
}

// ---------------------------------------------------------------- comparisons and logic

TEST(OpsElementwise, ComparisonsReturnBoolValues) {
  Tensor a = T({1, 2, 3}, {3});
  Tensor b = T({2, 2, 2}, {3});
  struct Cmp {
    const char* name;
    Tensor (*tt)(const Tensor&, const Tensor&);
    Tensor (*ts)(const Tensor&, const Scalar&);
    std::vector<double> want;
  };
  const std::vector<Cmp> cmps = {
      {"eq", eq, eq, {0, 1, 0}}, {"ne", ne, ne, {1, 0, 1}}, {"lt", lt, lt, {1, 0, 0}},
      {"le", le, le, {1, 1, 0}}, {"gt", gt, gt, {0, 0, 1}}, {"ge", ge, ge, {0, 1, 1}},
  };
  for (const Cmp& c : cmps) {
    SCOPED_TRACE(c.name);
    Tensor r = c.tt(a, b);
    EXPECT_EQ(r.dtype(), kBool);
    EXPECT_TRUE(Near(r, {3}, c.want));
    Tensor s = c.ts(a, 2);
    EXPECT_EQ(s.dtype(), kBool);
    EXPECT_TRUE(Near(s, {3}, c.want));
  }
}

TEST(OpsElementwise, ComparisonsBroadcastAndMixDtypes) {
  Tensor r = lt(T({0, 1, 2}, {3, 1}), T({0, 1, 2, 3}, {1, 4}));
  EXPECT_EQ(r.dtype(), kBool);
  EXPECT_TRUE(Near(r, {3, 4}, {0, 1, 1, 1, 0, 0, 1, 1, 0, 0, 0, 1}));
  Tensor v = T({1, 2, 3, 4}, {4});
  Tensor e = eq(v, full({2, 3, 4}, 3.0, kFloat64));
  EXPECT_EQ(e.shape(), (Shape{2, 3, 4}));
  EXPECT_DOUBLE_EQ(sum(e).item(), 6.0);
  EXPECT_TRUE(Near(eq(T({1, 2}, {2}, kInt64), T({1, 2.5}, {2}, kFloat32)), {2}, {1, 0}));
  EXPECT_TRUE(Near(gt(T({1, 2}, {2}, kInt64), 1.5), {2}, {0, 1}));
}

TEST(OpsElementwise, ComparisonsHaveNoGradFn) {
  Tensor a = T({1, 2, 3}, {3}, kFloat64, true);
  Tensor b = T({2, 2, 2}, {3}, kFloat64, true);
  for (Tensor r : {eq(a, b), ne(a, b), lt(a, b), le(a, b), gt(a, b), ge(a, b), gt(a, 0), eq(a * 2, 2)}) {
    EXPECT_FALSE(r.requires_grad());
    EXPECT_EQ(r.grad_fn(), nullptr);
  }
}

TEST(OpsElementwise, LogicalOps) {
  Tensor p = T({1, 1, 0, 0}, {4}, kBool);
  Tensor q = T({1, 0, 1, 0}, {4}, kBool);
  EXPECT_EQ(logical_and(p, q).dtype(), kBool);
  EXPECT_TRUE(Near(logical_and(p, q), {4}, {1, 0, 0, 0}));
  EXPECT_TRUE(Near(logical_or(p, q), {4}, {1, 1, 1, 0}));
  EXPECT_TRUE(Near(logical_not(p), {4}, {0, 0, 1, 1}));
  // nonzero counts as true; broadcasting works
  EXPECT_TRUE(Near(logical_and(T({2, 0}, {2, 1}), T({-1, 0, 3}, {1, 3})), {2, 3}, {1, 0, 1, 0, 0, 0}));
}

// ---------------------------------------------------------------- where

TEST(OpsElementwise, WhereBroadcastsAndRoutesGradients) {
  Tensor cond = gt(T({1, -1, 1}, {3, 1}), 0);  // (3,1) bool: T, F, T
  ASSERT_EQ(cond.dtype(), kBool);
  Tensor a = T({1, 2, 3, 4}, {1, 4}, kFloat64, true);
  Tensor b = T({10, 20, 30}, {3, 1}, kFloat64, true);
  Tensor y = where(cond, a, b);
  EXPECT_TRUE(Near(y, {3, 4}, {1, 2, 3, 4, 20, 20, 20, 20, 1, 2, 3, 4}));
  auto g = autograd::grad({sum(y)}, {a, b});
  EXPECT_TRUE(Near(g[0], {1, 4}, {2, 2, 2, 2}));
  EXPECT_TRUE(Near(g[1], {3, 1}, {0, 4, 0}));
  // (4,) against (2,3,4)
  Tensor c4 = T({1, 0, 1, 0}, {4}, kBool);
  Tensor big = full({2, 3, 4}, 7.0, kFloat64);
  std::vector<double> want(24);
  for (int i = 0; i < 24; ++i) want[i] = (i % 2 == 0) ? 7.0 : -1.0;
  EXPECT_TRUE(Near(where(c4, big, T({-1}, {1})), {2, 3, 4}, want));
}

TEST(OpsElementwise, WhereWithScalarsAndBoolCondition) {
  Tensor cond = T({1, 0, 1}, {3}, kBool);
  Tensor x = T({5, 6, 7}, {3}, kFloat64, true);
  EXPECT_TRUE(Near(where(cond, x, 0.5), {3}, {5, 0.5, 7}));
  EXPECT_TRUE(Near(where(cond, -1, x), {3}, {-1, 6, -1}));
  EXPECT_TRUE(Near(Grad1(where(cond, x, 0.5), x), {3}, {1, 0, 1}));
  EXPECT_TRUE(Near(Grad1(where(cond, -1, x), x), {3}, {0, 1, 0}));
  // as PyTorch, the condition must be bool: a number tensor is a mistake, not "nonzero"
  Tensor ci = T({0, 3, -1}, {3}, kInt64);
  EXPECT_THROW(where(ci, x, T({0, 0, 0}, {3})), std::invalid_argument);
  // the typical use: a piecewise function x < 0 ? -x : x^2
  Tensor z = T({-2, 3}, {2}, kFloat64, true);
  Tensor pw = where(lt(z, 0), -z, z * z);
  EXPECT_TRUE(Near(pw, {2}, {2, 9}));
  EXPECT_TRUE(Near(Grad1(pw, z), {2}, {-1, 6}));
}

// ---------------------------------------------------------------- gradcheck / gradgradcheck

TEST(OpsElementwise, GradcheckArithmetic) {
  manual_seed(1);
  std::vector<GradCase> cases = {
      {"add (3,1)+(1,4)", [](In x) { return add(x[0], x[1]); }, {Leaf({3, 1}), Leaf({1, 4})}},
      {"add (4,)+(2,3,4)", [](In x) { return add(x[0], x[1]); }, {Leaf({4}), Leaf({2, 3, 4})}},
      {"add same shape", [](In x) { return x[0] + x[1]; }, {Leaf({2, 3}), Leaf({2, 3})}},
      {"add 0-d", [](In x) { return x[0] + x[1]; }, {Leaf({}), Leaf({2, 3})}},
      {"sub (3,1)-(1,4)", [](In x) { return sub(x[0], x[1]); }, {Leaf({3, 1}), Leaf({1, 4})}},
      {"sub (2,3,4)-(4,)", [](In x) { return x[0] - x[1]; }, {Leaf({2, 3, 4}), Leaf({4})}},
      {"mul (3,1)*(1,4)", [](In x) { return mul(x[0], x[1]); }, {Leaf({3, 1}), Leaf({1, 4})}},
      {"mul (4,)*(2,3,4)", [](In x) { return x[0] * x[1]; }, {Leaf({4}), Leaf({2, 3, 4})}},
      {"mul x*x (same tensor twice)", [](In x) { return x[0] * x[0]; }, {Leaf({3})}},
      {"div (3,1)/(1,4)", [](In x) { return div(x[0], x[1]); }, {Leaf({3, 1}), Leaf({1, 4}, Away0)}},
      {"div (2,3,4)/(4,)", [](In x) { return x[0] / x[1]; }, {Leaf({2, 3, 4}), Leaf({4}, Away0)}},
      {"add scalar", [](In x) { return add(x[0], 2.5); }, {Leaf({2, 3})}},
      {"sub scalar", [](In x) { return sub(x[0], 2.5); }, {Leaf({2, 3})}},
      {"rsub 2 - x", [](In x) { return 2 - x[0]; }, {Leaf({2, 3})}},
      {"mul scalar", [](In x) { return 3 * x[0]; }, {Leaf({2, 3})}},
      {"div scalar", [](In x) { return x[0] / 4; }, {Leaf({2, 3})}},
      {"rdiv 2 / x", [](In x) { return 2 / x[0]; }, {Leaf({2, 3}, Away0)}},
      {"rdiv fn", [](In x) { return rdiv(x[0], 2); }, {Leaf({2, 3}, Away0)}},
      {"neg", [](In x) { return -x[0]; }, {Leaf({2, 3})}},
      {"reciprocal", [](In x) { return reciprocal(x[0]); }, {Leaf({2, 3}, Away0)}},
      {"pow x^3", [](In x) { return pow(x[0], 3); }, {Leaf({2, 3})}},
      {"pow x^2.5", [](In x) { return pow(x[0], 2.5); }, {Leaf({2, 3}, Pos)}},
      {"pow x^-2", [](In x) { return pow(x[0], -2); }, {Leaf({2, 3}, Away0)}},
      {"pow x^0.5", [](In x) { return pow(x[0], 0.5); }, {Leaf({2, 3}, Pos)}},
      {"pow tensor^tensor", [](In x) { return pow(x[0], x[1]); }, {Leaf({2, 3}, Pos), Leaf({2, 3})}},
      {"pow (3,1)^(1,4)", [](In x) { return pow(x[0], x[1]); }, {Leaf({3, 1}, Pos), Leaf({1, 4})}},
      {"pow (4,)^(2,3,4)", [](In x) { return pow(x[0], x[1]); }, {Leaf({4}, Pos), Leaf({2, 3, 4})}},
      {"pow 2^x", [](In x) { return pow(2.0, x[0]); }, {Leaf({2, 3})}},
      {"pow 0.5^x", [](In x) { return pow(0.5, x[0]); }, {Leaf({2, 3})}},
      {"composite",
       [](In x) { return x[0] * x[1] / (x[0] * x[0] + 1) - 3 * x[1]; },
       {Leaf({3, 1}), Leaf({1, 4})}},
  };
  RunGradCases(cases);
}

TEST(OpsElementwise, GradcheckUnary) {
  manual_seed(2);
  std::vector<GradCase> cases = {
      {"exp", [](In x) { return exp(x[0]); }, {Leaf({2, 3})}},
      {"log", [](In x) { return log(x[0]); }, {Leaf({2, 3}, Pos)}},
      {"sqrt", [](In x) { return sqrt(x[0]); }, {Leaf({2, 3}, Pos)}},
      {"abs", [](In x) { return abs(x[0]); }, {Leaf({2, 3}, Away0)}},
      {"sin", [](In x) { return sin(x[0]); }, {Leaf({2, 3})}},
      {"cos", [](In x) { return cos(x[0]); }, {Leaf({2, 3})}},
      {"tanh", [](In x) { return tanh(x[0]); }, {Leaf({2, 3})}},
      {"sigmoid", [](In x) { return sigmoid(x[0]); }, {Leaf({2, 3})}},
      {"relu", [](In x) { return relu(x[0]); }, {Leaf({2, 3}, Away0)}},
      {"leaky_relu(0.1)", [](In x) { return leaky_relu(x[0], 0.1); }, {Leaf({2, 3}, Away0)}},
      {"softplus", [](In x) { return softplus(x[0]); }, {Leaf({2, 3})}},
      {"softplus(beta 2, threshold 1)",
       [](In x) { return softplus(x[0], 2.0, 1.0); },
       {T({-1.5, -0.2, 0.3, 0.45, 0.55, 2.0}, {2, 3}, kFloat64, true)}},
      {"clamp(-0.5, 0.5)", [](In x) { return clamp(x[0], -0.5, 0.5); }, {Leaf({3, 4}, AwayHalf)}},
      {"clamp_min(0.5)", [](In x) { return clamp_min(x[0], 0.5); }, {Leaf({3, 4}, AwayHalf)}},
      {"clamp_max(-0.5)", [](In x) { return clamp_max(x[0], -0.5); }, {Leaf({3, 4}, AwayHalf)}},
      {"tanh(sigmoid(x)) * exp(-x)", [](In x) { return tanh(sigmoid(x[0])) * exp(-x[0]); }, {Leaf({2, 3})}},
  };
  RunGradCases(cases);
}

TEST(OpsElementwise, GradcheckBinaryAndWhere) {
  manual_seed(3);
  Tensor cond31 = T({1, 0, 1}, {3, 1}, kBool);
  Tensor cond4 = T({0, 1, 1, 0}, {4}, kBool);
  Tensor cond23 = T({1, 0, 0, 1, 1, 0}, {2, 3}, kBool);
  std::vector<GradCase> cases = {
      {"maximum (3,1),(1,4)", [](In x) { return maximum(x[0], x[1]); }, {Leaf({3, 1}), Leaf({1, 4})}},
      {"maximum (4,),(2,3,4)", [](In x) { return maximum(x[0], x[1]); }, {Leaf({4}), Leaf({2, 3, 4})}},
      {"minimum (3,1),(1,4)", [](In x) { return minimum(x[0], x[1]); }, {Leaf({3, 1}), Leaf({1, 4})}},
      {"minimum (2,3,4),(4,)", [](In x) { return minimum(x[0], x[1]); }, {Leaf({2, 3, 4}), Leaf({4})}},
      {"where (3,1) cond, (1,4), (3,4)",
       [cond31](In x) { return where(cond31, x[0], x[1]); },
       {Leaf({1, 4}), Leaf({3, 4})}},
      {"where (4,) cond, (2,3,4), (4,)",
       [cond4](In x) { return where(cond4, x[0], x[1]); },
       {Leaf({2, 3, 4}), Leaf({4})}},
      {"where tensor, scalar", [cond23](In x) { return where(cond23, x[0], 0.5); }, {Leaf({2, 3})}},
      {"where scalar, tensor", [cond23](In x) { return where(cond23, -2, x[0]); }, {Leaf({2, 3})}},
      {"where(x > 0, x^2, sin x)",
       [](In x) { return where(gt(x[0], 0), x[0] * x[0], sin(x[0])); },
       {Leaf({2, 3}, Away0)}},
  };
  RunGradCases(cases);
}

// ---------------------------------------------------------------- error messages

TEST(OpsElementwise, AddBroadcastErrorMessage) {
  Tensor a = zeros({3, 4}), b = zeros({5});
  const std::string msg =
      "add: cannot broadcast shapes (3, 4) and (5,)\n"
      "      3  4\n"
      "         5\n"
      "         ^ dim -1: 4 vs 5\n"
      "  (dims line up from the right; each pair must be equal, or one of them 1)";
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { add(a, b); }), msg);
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { a + b; }), msg);
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { add(b, a); }),
            "add: cannot broadcast shapes (5,) and (3, 4)\n"
            "         5\n"
            "      3  4\n"
            "         ^ dim -1: 5 vs 4\n"
            "  (dims line up from the right; each pair must be equal, or one of them 1)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { add(zeros({2, 3, 4}), zeros({3, 1, 4})); }),
            "add: cannot broadcast shapes (2, 3, 4) and (3, 1, 4)\n"
            "      2  3  4\n"
            "      3  1  4\n"
            "      ^ dim -3: 2 vs 3\n"
            "  (dims line up from the right; each pair must be equal, or one of them 1)");
}

TEST(OpsElementwise, BinaryOpsNameThemselvesInBroadcastErrors) {
  Tensor a = zeros({3, 4}), b = zeros({5});
  struct Named {
    const char* name;
    std::function<void()> call;
  };
  const std::vector<Named> ops = {
      {"sub", [&] { sub(a, b); }},
      {"mul", [&] { mul(a, b); }},
      {"div", [&] { div(a, b); }},
      {"pow", [&] { pow(a, b); }},
      {"maximum", [&] { maximum(a, b); }},
      {"minimum", [&] { minimum(a, b); }},
      {"eq", [&] { eq(a, b); }},
      {"ne", [&] { ne(a, b); }},
      {"lt", [&] { lt(a, b); }},
      {"le", [&] { le(a, b); }},
      {"gt", [&] { gt(a, b); }},
      {"ge", [&] { ge(a, b); }},
      {"logical_and", [&] { logical_and(a, b); }},
      {"logical_or", [&] { logical_or(a, b); }},
  };
  for (const Named& op : ops) {
    SCOPED_TRACE(op.name);
    const std::string msg = Thrown<std::invalid_argument>(op.call);
    EXPECT_TRUE(StartsWith(msg, std::string(op.name) + ":"));
    EXPECT_TRUE(Contains(msg, "cannot broadcast shapes (3, 4) and (5,)"));
  }
  // operators report the op they stand for
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { a - b; }), "sub:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { a* b; }), "mul:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { a / b; }), "div:"));
}

TEST(OpsElementwise, WhereBroadcastErrorMessage) {
  Tensor c = T({1, 0, 1}, {3}, kBool);
  const std::string msg = Thrown<std::invalid_argument>([&] { where(c, zeros({2, 4}), zeros({2, 4})); });
  EXPECT_TRUE(StartsWith(msg, "where:"));
  EXPECT_TRUE(Contains(msg, "cannot broadcast shapes"));
  EXPECT_TRUE(Contains(msg, "(3,)"));
  EXPECT_TRUE(Contains(msg, "(2, 4)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { where(c, zeros({4}), 0.0); }), "where:"));
}

}  // namespace
