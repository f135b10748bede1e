// Forward mode (chainrule::forward_ad): tangents by hand (sin, exp, tanh, pow, the product rule),
// broadcasting, reductions, products, views, softmax and losses against the reverse-mode JVP
// (double-vjp trick) and central differences in float64, the levels' rules and errors, an op
// without a tangent rule (and func::jvp's fallback around it), linalg_det's tangent, in-place ops
// on duals, and reverse over forward / forward over reverse.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <tuple>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/error.h"
#include "core/func.h"
#include "core/linalg.h"
#include "core/ops.h"
#include "nn/functional.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;
namespace F = chainrule::func;
namespace fwd = chainrule::forward_ad;

using Fn = std::function<Tensor(const std::vector<Tensor>&)>;

// (f(xs), its tangent) with xs[i] carrying ts[i] (an undefined ts[i]: xs[i] is a plain constant).
std::pair<Tensor, Tensor> Forward(const Fn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& ts) {
  fwd::DualLevel level;
  std::vector<Tensor> duals;
  for (size_t i = 0; i < xs.size(); ++i)
    duals.push_back(ts[i].defined() ? fwd::make_dual(xs[i], ts[i]) : xs[i]);
  return fwd::unpack_dual(f(duals));
}

// J t by reverse mode only: g = Jᵀu at a dummy cotangent u, then J t = d(g · t)/du.
Tensor ReverseJvp(const Fn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& ts) {
  std::vector<Tensor> leaves, wrt, dirs;
  for (size_t i = 0; i < xs.size(); ++i) {
    if (!ts[i].defined()) {
      leaves.push_back(xs[i]);
      continue;
    }
    Tensor leaf = xs[i].detach().set_requires_grad(true);
    leaves.push_back(leaf);
    wrt.push_back(leaf);
    dirs.push_back(ts[i]);
  }
  Tensor out = f(leaves);
  Tensor u = zeros_like(out).set_requires_grad(true);
  std::vector<Tensor> g = autograd::grad({out}, wrt, {u}, true, true);
  Tensor dot = sum(mul(g[0], dirs[0]));
  for (size_t j = 1; j < g.size(); ++j) dot = add(dot, sum(mul(g[j], dirs[j])));
  return autograd::grad({dot}, {u})[0];
}

// (f(x + h t) - f(x - h t)) / 2h in float64.
Tensor CentralDifference(const Fn& f, const std::vector<Tensor>& xs, const std::vector<Tensor>& ts,
                         double h = 1e-6) {
  NoGradGuard no_grad;
  std::vector<Tensor> plus, minus;
  for (size_t i = 0; i < xs.size(); ++i) {
    plus.push_back(ts[i].defined() ? add(xs[i], mul(ts[i], h)) : xs[i]);
    minus.push_back(ts[i].defined() ? sub(xs[i], mul(ts[i], h)) : xs[i]);
  }
  return div(sub(f(plus), f(minus)), 2 * h);
}

// Forward mode's primal equals f(xs), and its tangent equals the reverse-mode JVP and central
// differences.
void ExpectTangentMatches(const std::string& name, const Fn& f, const std::vector<Tensor>& xs,
                          const std::vector<Tensor>& ts, double fd_tol = 1e-7) {
  SCOPED_TRACE(name);
  std::pair<Tensor, Tensor> pt;
  try {
    pt = Forward(f, xs, ts);
  } catch (const std::exception& e) {
    ADD_FAILURE() << name << ": forward mode threw: " << e.what();
    return;
  }
  auto [primal, tangent] = pt;
  ASSERT_TRUE(tangent.defined()) << name << ": no tangent";
  Tensor value;
  {
    NoGradGuard no_grad;
    value = f(xs);
  }
  EXPECT_TRUE(Near(primal, value.shape(), value.to_vector())) << name << ": primal";
  Tensor reverse = ReverseJvp(f, xs, ts);
  EXPECT_TRUE(Near(tangent, reverse.shape(), reverse.to_vector(), 1e-10)) << name << ": vs reverse-mode JVP";
  Tensor fd = CentralDifference(f, xs, ts);
  EXPECT_TRUE(Near(tangent, fd.shape(), fd.to_vector(), fd_tol)) << name << ": vs central differences";
}

Tensor Randn(const Shape& s, uint64_t seed) {
  Generator gen(seed);
  return randn(s, kFloat64, gen);
}

// y = x³ recorded with a backward rule (dy/dx = 3x²) but no tangent rule: an op forward mode
// can't go through, whatever rules the library's own ops have.
Tensor CubeWithoutTangent(const Tensor& x) {
  Tensor y;
  {
    NoGradGuard no_grad;
    Tensor p = x.detach();  // the primal only: computing y must not itself carry the tangent
    y = mul(mul(p, p), p);
  }
  return record("cube_without_tangent", y, {x}, kSaveInputs, [](const Tensor& g, const Saved& s) -> Grads {
    Tensor v = s.input(0);
    return {mul(mul(g, mul(v, v)), 3.0)};
  });
}

std::vector<double> Each(const Tensor& x, const Tensor& t, const std::function<double(double, double)>& f) {
  std::vector<double> xv = x.to_vector(), tv = t.to_vector(), r;
  for (size_t i = 0; i < xv.size(); ++i) r.push_back(f(xv[i], tv[i]));
  return r;
}

TEST(ForwardAD, SinCarriesCosTimesTheTangent) {
  Tensor x = T({0.3, -1.2, 2.0}, {3}), t = T({1.0, 0.5, -2.0}, {3});
  fwd::DualLevel level;
  auto [p, dp] = fwd::unpack_dual(sin(fwd::make_dual(x, t)));
  EXPECT_TRUE(Near(p, {3}, Each(x, t, [](double v, double) { return std::sin(v); })));
  EXPECT_TRUE(Near(dp, {3}, Each(x, t, [](double v, double w) { return std::cos(v) * w; })));
}

TEST(ForwardAD, ExpTanhAndPowTangents) {
  Tensor x = T({0.3, 1.2, 2.0}, {3}), t = T({1.0, 0.5, -2.0}, {3});
  fwd::DualLevel level;
  Tensor d = fwd::make_dual(x, t);
  EXPECT_TRUE(
      Near(fwd::tangent_of(exp(d)), {3}, Each(x, t, [](double v, double w) { return std::exp(v) * w; })));
  EXPECT_TRUE(Near(fwd::tangent_of(tanh(d)), {3},
                   Each(x, t, [](double v, double w) { return (1 - std::tanh(v) * std::tanh(v)) * w; })));
  // d(x^2.5) = 2.5 x^1.5 t
  EXPECT_TRUE(Near(fwd::tangent_of(pow(d, 2.5)), {3},
                   Each(x, t, [](double v, double w) { return 2.5 * std::pow(v, 1.5) * w; })));
  // d(2^x) = 2^x log 2 t
  EXPECT_TRUE(Near(fwd::tangent_of(pow(2.0, d)), {3},
                   Each(x, t, [](double v, double w) { return std::pow(2.0, v) * std::log(2.0) * w; })));
  // d(x^x) = x^x (log x + 1) t, both base and exponent dual
  EXPECT_TRUE(Near(fwd::tangent_of(pow(d, d)), {3},
                   Each(x, t, [](double v, double w) { return std::pow(v, v) * (std::log(v) + 1) * w; })));
}

TEST(ForwardAD, ProductRuleWithBothDual) {
  Tensor a = T({1.0, 2.0, -3.0}, {3}), b = T({4.0, -0.5, 2.0}, {3});
  Tensor ta = T({0.1, 1.0, 2.0}, {3}), tb = T({3.0, -1.0, 0.5}, {3});
  fwd::DualLevel level;
  auto [p, dp] = fwd::unpack_dual(mul(fwd::make_dual(a, ta), fwd::make_dual(b, tb)));
  EXPECT_TRUE(Near(p, {3}, {4.0, -1.0, -6.0}));
  // ta b + a tb
  EXPECT_TRUE(Near(dp, {3}, {0.1 * 4 + 1 * 3, 1.0 * -0.5 + 2 * -1, 2.0 * 2 + -3 * 0.5}));
}

TEST(ForwardAD, ProductRuleWithOneDualTreatsTheOtherAsConstant) {
  Tensor a = T({1.0, 2.0, -3.0}, {3}), b = T({4.0, -0.5, 2.0}, {3});
  Tensor ta = T({0.1, 1.0, 2.0}, {3}), tb = T({3.0, -1.0, 0.5}, {3});
  fwd::DualLevel level;
  EXPECT_TRUE(Near(fwd::tangent_of(mul(fwd::make_dual(a, ta), b)), {3}, {0.4, -0.5, 4.0}));   // ta b
  EXPECT_TRUE(Near(fwd::tangent_of(mul(a, fwd::make_dual(b, tb))), {3}, {3.0, -2.0, -1.5}));  // a tb
  EXPECT_FALSE(fwd::tangent_of(mul(a, b)).defined());  // no dual input: no tangent
}

TEST(ForwardAD, BroadcastTangentTakesTheOutputShape) {
  Tensor x = T({1.0, 2.0, 3.0}, {3}), t = T({0.5, -1.0, 2.0}, {3});
  Tensor c = Iota({2, 3});
  fwd::DualLevel level;
  Tensor y = add(fwd::make_dual(x, t), c);
  Tensor dy = fwd::tangent_of(y);
  ASSERT_TRUE(dy.defined());
  EXPECT_TRUE(Near(dy, {2, 3}, {0.5, -1.0, 2.0, 0.5, -1.0, 2.0}));
  EXPECT_TRUE(Near(fwd::tangent_of(mul(c, fwd::make_dual(x, t))), {2, 3}, {0, -1, 4, 1.5, -4, 10}));
}

TEST(ForwardAD, SumAndMeanTangents) {
  Tensor x = Randn({2, 3, 4}, 1), t = Randn({2, 3, 4}, 2);
  ExpectTangentMatches("sum", [](In v) { return sum(v[0]); }, {x}, {t});
  ExpectTangentMatches("sum dims", [](In v) { return sum(v[0], {0, 2}); }, {x}, {t});
  ExpectTangentMatches("sum keepdim", [](In v) { return sum(v[0], {1}, true); }, {x}, {t});
  ExpectTangentMatches("sum negative dim", [](In v) { return sum(v[0], {-1}); }, {x}, {t});
  ExpectTangentMatches("mean", [](In v) { return mean(v[0]); }, {x}, {t});
  ExpectTangentMatches("mean dims keepdim", [](In v) { return mean(v[0], {0, 1}, true); }, {x}, {t});
  // by hand: d sum over dim 1 with keepdim
  Tensor a = Iota({2, 2}), ta = T({1, 2, 3, 4}, {2, 2});
  fwd::DualLevel level;
  EXPECT_TRUE(Near(fwd::tangent_of(sum(fwd::make_dual(a, ta), {1}, true)), {2, 1}, {3, 7}));
  EXPECT_TRUE(Near(fwd::tangent_of(mean(fwd::make_dual(a, ta), {0})), {2}, {2, 3}));
}

TEST(ForwardAD, AmaxTiesGiveTheMeanOfTheTiedTangents) {
  Tensor x = T({1.0, 3.0, 3.0, 2.0}, {4}), t = T({10.0, 20.0, 40.0, 80.0}, {4});
  {
    fwd::DualLevel level;
    EXPECT_TRUE(Near(fwd::tangent_of(amax(fwd::make_dual(x, t))), {}, {30.0}));
  }
  // along a dim: row 0 ties (5, 5), row 1 doesn't
  Tensor m = T({1, 5, 5, 2, 0, 1}, {2, 3}), tm = T({1, 2, 6, 3, 4, 5}, {2, 3});
  {
    fwd::DualLevel level;
    EXPECT_TRUE(Near(fwd::tangent_of(amax(fwd::make_dual(m, tm), {1})), {2}, {4.0, 3.0}));
    EXPECT_TRUE(Near(fwd::tangent_of(amax(fwd::make_dual(m, tm), {1}, true)), {2, 1}, {4.0, 3.0}));
  }
  // a two-way tie is where the central difference is also the mean of the two tangents
  ExpectTangentMatches("amax ties", [](In v) { return amax(v[0]); }, {x}, {t});
  ExpectTangentMatches("amax dim ties", [](In v) { return amax(v[0], {1}); }, {m}, {tm});
  ExpectTangentMatches("amax random", [](In v) { return amax(v[0], {0}); }, {Randn({3, 4}, 3)},
                       {Randn({3, 4}, 4)});
}

TEST(ForwardAD, MatmulTangentIsDaBPlusADb) {
  Tensor A = T({1, 2, 3, 4}, {2, 2}), B = T({5, 6, 7, 8}, {2, 2});
  Tensor dA = T({0, 1, 1, 0}, {2, 2}), dB = T({1, 1, 0, 2}, {2, 2});
  fwd::DualLevel level;
  Tensor Ad = fwd::make_dual(A, dA), Bd = fwd::make_dual(B, dB);
  // dA B = [[7, 8], [5, 6]], A dB = [[1, 5], [3, 11]]
  EXPECT_TRUE(Near(fwd::tangent_of(matmul(Ad, Bd)), {2, 2}, {8, 13, 8, 17}));
  EXPECT_TRUE(Near(fwd::tangent_of(mm(Ad, Bd)), {2, 2}, {8, 13, 8, 17}));
  EXPECT_TRUE(Near(fwd::tangent_of(mm(Ad, B)), {2, 2}, {7, 8, 5, 6}));
  EXPECT_TRUE(Near(fwd::tangent_of(matmul(A, Bd)), {2, 2}, {1, 5, 3, 11}));
}

TEST(ForwardAD, LinearTangentByHand) {
  // y = x Wᵀ + b; dy = dx Wᵀ + x dWᵀ + db
  Tensor x = T({1, 2}, {1, 2}), W = T({1, 0, 2, 1, -1, 3}, {3, 2}), b = T({0.5, 0.5, 0.5}, {3});
  Tensor dx = T({1, -1}, {1, 2}), dW = T({0, 1, 1, 0, 2, 2}, {3, 2}), db = T({1, 2, 3}, {3});
  fwd::DualLevel level;
  Tensor y = linear(fwd::make_dual(x, dx), fwd::make_dual(W, dW), fwd::make_dual(b, db));
  // dx Wᵀ = [1, 1, -4]; x dWᵀ = [2, 1, 6]; db = [1, 2, 3]
  EXPECT_TRUE(Near(fwd::unpack_dual(y).first, {1, 3}, {1.5, 4.5, 5.5}));
  EXPECT_TRUE(Near(fwd::tangent_of(y), {1, 3}, {4, 4, 5}));
}

TEST(ForwardAD, ProductsAgainstReverseModeAndFiniteDifferences) {
  Tensor A = Randn({2, 3, 4}, 5), B = Randn({4, 2}, 6), dA = Randn({2, 3, 4}, 7), dB = Randn({4, 2}, 8);
  ExpectTangentMatches("matmul batched", [](In v) { return matmul(v[0], v[1]); }, {A, B}, {dA, dB});
  ExpectTangentMatches("matmul only A", [](In v) { return matmul(v[0], v[1]); }, {A, B}, {dA, Tensor()});
  Tensor M = Randn({3, 4}, 9), dM = Randn({3, 4}, 10);
  ExpectTangentMatches("mm", [](In v) { return mm(v[0], v[1]); }, {M, B}, {dM, dB});
  Tensor v4 = Randn({4}, 11), dv4 = Randn({4}, 12);
  ExpectTangentMatches("matmul matrix-vector", [](In v) { return matmul(v[0], v[1]); }, {M, v4}, {dM, dv4});
  Tensor W = Randn({5, 4}, 13), b = Randn({5}, 14), dW = Randn({5, 4}, 15), db = Randn({5}, 16);
  ExpectTangentMatches("linear", [](In v) { return linear(v[0], v[1], v[2]); }, {M, W, b}, {dM, dW, db});
  ExpectTangentMatches("linear no bias", [](In v) { return linear(v[0], v[1]); }, {M, W}, {dM, dW});
}

TEST(ForwardAD, ViewTangentsAreViewsOfTheTangent) {
  Tensor x = Iota({2, 3}), t = T({1, 2, 3, 4, 5, 6}, {2, 3});
  fwd::DualLevel level;
  Tensor d = fwd::make_dual(x, t);
  EXPECT_TRUE(Near(fwd::tangent_of(reshape(d, {3, 2})), {3, 2}, {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(Near(fwd::tangent_of(transpose(d, 0, 1)), {3, 2}, {1, 4, 2, 5, 3, 6}));
  EXPECT_TRUE(Near(fwd::tangent_of(select(d, 1, 2)), {2}, {3, 6}));
  EXPECT_TRUE(Near(fwd::tangent_of(slice(d, 1, 0, 3, 2)), {2, 2}, {1, 3, 4, 6}));
  // the constant's part of a cat has tangent zero
  EXPECT_TRUE(Near(fwd::tangent_of(cat({d, Iota({1, 3})}, 0)), {3, 3}, {1, 2, 3, 4, 5, 6, 0, 0, 0}));
}

TEST(ForwardAD, ViewsAgainstReverseModeAndFiniteDifferences) {
  Tensor x = Randn({2, 3, 4}, 17), t = Randn({2, 3, 4}, 18);
  ExpectTangentMatches("reshape", [](In v) { return reshape(v[0], {4, -1}); }, {x}, {t});
  ExpectTangentMatches("transpose", [](In v) { return transpose(v[0], 0, 2); }, {x}, {t});
  ExpectTangentMatches("select", [](In v) { return select(v[0], 1, -1); }, {x}, {t});
  ExpectTangentMatches("slice", [](In v) { return slice(v[0], 2, 1, 4, 2); }, {x}, {t});
  Tensor y = Randn({2, 1, 4}, 19), ty = Randn({2, 1, 4}, 20);
  ExpectTangentMatches("cat both", [](In v) { return cat({v[0], v[1]}, 1); }, {x, y}, {t, ty});
  ExpectTangentMatches("cat one", [](In v) { return cat({v[0], v[1]}, 1); }, {x, y}, {Tensor(), ty});
  // a view feeding a nonlinear op
  ExpectTangentMatches("select then sin", [](In v) { return sin(transpose(v[0], 0, 1).select(0, 2)); }, {x},
                       {t});
}

TEST(ForwardAD, SoftmaxAndLogSoftmax) {
  Tensor x = Randn({3, 5}, 21), t = Randn({3, 5}, 22);
  ExpectTangentMatches("softmax dim 1", [](In v) { return softmax(v[0], 1); }, {x}, {t});
  ExpectTangentMatches("softmax dim 0", [](In v) { return softmax(v[0], 0); }, {x}, {t});
  ExpectTangentMatches("log_softmax dim 1", [](In v) { return log_softmax(v[0], 1); }, {x}, {t});
  ExpectTangentMatches("log_softmax dim -2", [](In v) { return log_softmax(v[0], -2); }, {x}, {t});
  // a constant shift along the softmax dim doesn't move it: the tangent vanishes
  fwd::DualLevel level;
  Tensor dy = fwd::tangent_of(softmax(fwd::make_dual(x, ones({3, 5}, kFloat64)), 1));
  EXPECT_TRUE(Near(dy, {3, 5}, std::vector<double>(15, 0.0)));
}

TEST(ForwardAD, CrossEntropyAndMseLoss) {
  namespace nnf = chainrule::nn::functional;
  Tensor logits = Randn({4, 3}, 23), t = Randn({4, 3}, 24);
  Tensor labels = T({0, 2, 1, 2}, {4}, kInt64);
  ExpectTangentMatches("cross_entropy mean", [labels](In v) { return nnf::cross_entropy(v[0], labels); },
                       {logits}, {t});
  ExpectTangentMatches("cross_entropy none",
                       [labels](In v) { return nnf::cross_entropy(v[0], labels, Tensor(), -100, "none"); },
                       {logits}, {t});
  ExpectTangentMatches(
      "cross_entropy label smoothing",
      [labels](In v) { return nnf::cross_entropy(v[0], labels, Tensor(), -100, "sum", 0.1); }, {logits}, {t});
  Tensor target = Randn({4, 3}, 25), tt = Randn({4, 3}, 26);
  ExpectTangentMatches("mse_loss", [](In v) { return nnf::mse_loss(v[0], v[1]); }, {logits, target}, {t, tt});
  ExpectTangentMatches("mse_loss sum, input only", [](In v) { return nnf::mse_loss(v[0], v[1], "sum"); },
                       {logits, target}, {t, Tensor()});
  // by hand: mse = mean (x - y)²  ->  d = mean 2 (x - y)(tx - ty)
  fwd::DualLevel level;
  Tensor x = T({1, 2}, {2}), y = T({0, 4}, {2});
  Tensor d = fwd::tangent_of(nnf::mse_loss(fwd::make_dual(x, T({1, 1}, {2})), y));
  EXPECT_TRUE(Near(d, {}, {(2 * 1 * 1 + 2 * -2 * 1) / 2.0}));
}

TEST(ForwardAD, UnpackDualOfAPlainTensorHasNoTangent) {
  Tensor x = T({1, 2}, {2});
  fwd::DualLevel level;
  auto [p, t] = fwd::unpack_dual(x);
  EXPECT_FALSE(t.defined());
  EXPECT_TRUE(Near(p, {2}, {1, 2}));
  EXPECT_FALSE(fwd::tangent_of(x).defined());
  // and the primal half of a dual carries no tangent
  Tensor primal = fwd::unpack_dual(fwd::make_dual(x, T({3, 4}, {2}))).first;
  EXPECT_FALSE(fwd::tangent_of(primal).defined());
  EXPECT_TRUE(Near(primal, {2}, {1, 2}));
}

TEST(ForwardAD, TangentsAreGoneAfterTheLevelExits) {
  Tensor x = T({0.5, 1.0}, {2}), t = T({1, 1}, {2});
  Tensor d, y;
  uint64_t first = 0;
  {
    fwd::DualLevel level;
    first = level.level();
    EXPECT_EQ(fwd::current_level(), first);
    d = fwd::make_dual(x, t);
    y = sin(d);
    ASSERT_TRUE(fwd::tangent_of(y).defined());
  }
  EXPECT_EQ(fwd::current_level(), 0u);
  EXPECT_FALSE(fwd::tangent_of(d).defined());
  EXPECT_FALSE(fwd::tangent_of(y).defined());
  EXPECT_FALSE(fwd::unpack_dual(y).second.defined());
  // nor do they come back in a new level
  fwd::DualLevel again;
  EXPECT_NE(again.level(), first);
  EXPECT_FALSE(fwd::tangent_of(y).defined());
  EXPECT_FALSE(fwd::tangent_of(cos(d)).defined());
}

TEST(ForwardAD, MakeDualOutsideALevelThrows) {
  ASSERT_EQ(fwd::current_level(), 0u);
  std::string msg = Thrown<std::runtime_error>([] { fwd::make_dual(T({1, 2}, {2}), T({1, 1}, {2})); });
  EXPECT_TRUE(Contains(msg, "make_dual"));
}

TEST(ForwardAD, MakeDualShapeOrDtypeMismatchThrows) {
  fwd::DualLevel level;
  Tensor x = T({1, 2}, {2});
  std::string shape = Thrown<std::invalid_argument>([&] { fwd::make_dual(x, T({1, 2, 3}, {3})); });
  EXPECT_TRUE(Contains(shape, "make_dual"));
  EXPECT_TRUE(Contains(shape, "(3,)"));
  std::string dtype = Thrown<std::invalid_argument>([&] { fwd::make_dual(x, T({1, 2}, {2}, kFloat32)); });
  EXPECT_TRUE(Contains(dtype, "make_dual"));
  std::string integer =
      Thrown<std::invalid_argument>([] { fwd::make_dual(T({1, 2}, {2}, kInt64), T({1, 2}, {2}, kInt64)); });
  EXPECT_TRUE(Contains(integer, "make_dual"));
}

TEST(ForwardAD, EnteringASecondLevelThrows) {
  fwd::DualLevel level;
  EXPECT_THROW(fwd::enter_dual_level(), std::runtime_error);
  EXPECT_EQ(fwd::current_level(), level.level());  // the first level is still the active one
  EXPECT_THROW(fwd::exit_dual_level(level.level() + 1), std::runtime_error);
}

TEST(ForwardAD, OpWithoutATangentRuleThrowsNotImplementedNamingIt) {
  Tensor x = T({1, 2}, {2}), t = T({1, 1}, {2});
  fwd::DualLevel level;
  std::string msg = Thrown<NotImplemented>([&] { CubeWithoutTangent(fwd::make_dual(x, t)); });
  EXPECT_TRUE(Contains(msg, "cube_without_tangent"));
  // without a dual input the op works as usual, also inside the level
  EXPECT_TRUE(Near(CubeWithoutTangent(x), {2}, {1, 8}));
}

TEST(ForwardAD, LinalgDetTangentIsDetTimesTraceOfAInverseDA) {
  // det(A + s dA) = 5 + 3s + s²  ->  d det = 3 = det · tr(A⁻¹ dA)
  Tensor A = T({2, 1, 1, 3}, {2, 2}), dA = T({1, 2, 0, 1}, {2, 2});
  {
    fwd::DualLevel level;
    Tensor d;
    try {
      d = fwd::tangent_of(linalg_det(fwd::make_dual(A, dA)));
    } catch (const NotImplemented& e) {
      ADD_FAILURE() << "linalg_det has no tangent rule: " << e.what();
    }
    if (d.defined()) {
      EXPECT_NEAR(d.item(), 3.0, 1e-12);
    }
  }
  Tensor B = T({2, 1, 0, 1, 3, 1, 0, 1, 4}, {3, 3}), dB = Randn({3, 3}, 27);
  ExpectTangentMatches("linalg_det", [](In v) { return linalg_det(v[0]); }, {B}, {dB});
}

TEST(ForwardAD, FuncJvpThroughDetMatchesTheClosedForm) {
  Tensor A = T({2, 1, 1, 3}, {2, 2}), dA = T({1, 2, 0, 1}, {2, 2});
  F::Function det = [](const F::Tensors& xs) { return F::Tensors{linalg_det(xs[0])}; };
  auto [value, jt] = F::jvp(det, {A}, {dA});
  EXPECT_NEAR(value[0].item(), 5.0, 1e-12);
  EXPECT_NEAR(jt[0].item(), 3.0, 1e-12);
  EXPECT_EQ(fwd::current_level(), 0u);
  // a 3x3 against det · tr(A⁻¹ dA)
  Tensor B = T({2, 1, 0, 1, 3, 1, 0, 1, 4}, {3, 3}), dB = Randn({3, 3}, 27);
  Tensor want;
  {
    NoGradGuard no_grad;
    want = mul(linalg_det(B), trace(matmul(linalg_inv(B), dB)));
  }
  EXPECT_NEAR(F::jvp(det, {B}, {dB}).second[0].item(), want.item(), 1e-10);
  // d det / dA = det · A⁻ᵀ = [[3, -1], [-1, 2]]
  EXPECT_TRUE(Near(F::jacfwd([](const Tensor& a) { return linalg_det(a); }, A), {2, 2}, {3, -1, -1, 2}));
}

TEST(ForwardAD, FuncJvpAndJacfwdFallBackThroughAnOpWithoutATangentRule) {
  // d x³ = 3 x² t, by the reverse-of-reverse route
  Tensor x = T({1, -2, 0.5}, {3}), t = T({1, 2, -4}, {3});
  F::Function f = [](const F::Tensors& xs) { return F::Tensors{sin(CubeWithoutTangent(xs[0]))}; };
  F::Tensors value, jt;
  try {
    std::tie(value, jt) = F::jvp(f, {x}, {t});
  } catch (const std::exception& e) {
    FAIL() << "jvp did not fall back: " << e.what();
  }
  EXPECT_EQ(fwd::current_level(), 0u);  // the failed forward attempt left no level behind
  EXPECT_TRUE(Near(value[0], {3}, Each(x, t, [](double v, double) { return std::sin(v * v * v); })));
  EXPECT_TRUE(
      Near(jt[0], {3}, Each(x, t, [](double v, double w) { return std::cos(v * v * v) * 3 * v * v * w; })));
  // jacfwd: diag(3 x²)
  Tensor J = F::jacfwd([](const Tensor& z) { return CubeWithoutTangent(z); }, x);
  EXPECT_TRUE(Near(J, {3, 3}, {3, 0, 0, 0, 12, 0, 0, 0, 0.75}));
}

TEST(ForwardAD, InPlaceOpOnADualThrowsNotImplemented) {
  Tensor x = T({1, 2}, {2}), t = T({1, 1}, {2});
  fwd::DualLevel level;
  Tensor d = fwd::make_dual(x.clone(), t);
  EXPECT_THROW(d.add_(1.0), NotImplemented);
  EXPECT_THROW(d.mul_(T({2, 2}, {2})), NotImplemented);
  EXPECT_THROW(d.exp_(), NotImplemented);
  EXPECT_THROW(d.select(0, 0).fill_(3.0), NotImplemented);  // a view of a dual is a dual
  Tensor plain = x.clone();
  EXPECT_THROW(plain.add_(d), NotImplemented);                // a dual operand's tangent would be lost
  EXPECT_TRUE(Near(fwd::unpack_dual(d).first, {2}, {1, 2}));  // nothing was written
  EXPECT_TRUE(Near(plain, {2}, {1, 2}));
}

TEST(ForwardAD, ReverseOverForwardDifferentiatesTheTangent) {
  // d/dx [(1 - tanh² x) t] = -2 tanh x (1 - tanh² x) t
  Tensor x = T({-0.7, 0.2, 1.1}, {3}, kFloat64, true), t = T({1.0, 2.0, -0.5}, {3});
  Tensor dt;
  {
    fwd::DualLevel level;
    dt = fwd::tangent_of(tanh(fwd::make_dual(x, t)));
  }
  ASSERT_TRUE(dt.defined());
  ASSERT_TRUE(dt.requires_grad());
  Tensor g = autograd::grad({sum(dt)}, {x})[0];
  EXPECT_TRUE(Near(g, {3}, Each(x.detach(), t, [](double v, double w) {
                     const double th = std::tanh(v);
                     return -2 * th * (1 - th * th) * w;
                   })));
}

TEST(ForwardAD, ForwardOverReverseGivesHessianVectorProducts) {
  // f = Σ x³ · x₀:  H_ij = 6 x_i x₀ δ_ij + 3 x_i² δ_j0 + 3 x_j² δ_i0
  Tensor x = T({1.5, -0.5, 2.0}, {3}, kFloat64, true), v = T({1.0, 2.0, -1.0}, {3});
  Tensor hv;
  {
    fwd::DualLevel level;
    Tensor d = fwd::make_dual(x, v);
    Tensor f = mul(sum(mul(mul(d, d), d)), d.select(0, 0));
    Tensor g = autograd::grad({f}, {x})[0];
    hv = fwd::tangent_of(g);
  }
  ASSERT_TRUE(hv.defined());
  const std::vector<double> xs = {1.5, -0.5, 2.0}, vs = {1.0, 2.0, -1.0};
  std::vector<double> want(3, 0.0);
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      want[i] +=
          (6 * xs[i] * xs[0] * (i == j) + 3 * xs[i] * xs[i] * (j == 0) + 3 * xs[j] * xs[j] * (i == 0)) *
          vs[j];
  EXPECT_TRUE(Near(hv, {3}, want, 1e-10));
}

TEST(ForwardAD, HessianMatchesTheClosedForm) {
  // f = Σ x³ · x₀:  H_ij = 6 x_i x₀ δ_ij + 3 x_i² δ_j0 + 3 x_j² δ_i0
  const std::vector<double> xs = {1.5, -0.5, 2.0};
  Tensor x = T(xs, {3});
  Tensor H = F::hessian([](const Tensor& z) { return mul(sum(mul(mul(z, z), z)), z.select(0, 0)); }, x);
  std::vector<double> want;
  for (int i = 0; i < 3; ++i)
    for (int j = 0; j < 3; ++j)
      want.push_back(6 * xs[i] * xs[0] * (i == j) + 3 * xs[i] * xs[i] * (j == 0) +
                     3 * xs[j] * xs[j] * (i == 0));
  EXPECT_TRUE(Near(H, {3, 3}, want, 1e-10));
}

TEST(ForwardAD, JacfwdEqualsJacrevForAVectorFunction) {
  // f: R⁴ -> R⁹: [sin(x) x₀, softmax(x), Σ x²]
  auto f = [](const Tensor& x) {
    return cat({mul(sin(x), x.select(0, 0)), softmax(x, 0), unsqueeze(sum(mul(x, x)), 0)}, 0);
  };
  Tensor x = T({0.3, -1.2, 0.7, 2.0}, {4});
  Tensor jf = F::jacfwd(f, x), jr = F::jacrev(f, x);
  ASSERT_EQ(jf.shape(), (Shape{9, 4}));
  EXPECT_TRUE(Near(jf, jr.shape(), jr.to_vector(), 1e-12));
  // and one entry by hand: d(sin(x₀) x₀)/dx₀ = cos x₀ x₀ + sin x₀
  EXPECT_NEAR(jf.at({0, 0}), std::cos(0.3) * 0.3 + std::sin(0.3), 1e-12);
}

}  // namespace
