// nn::functional, nn::init and nn::utils: each loss by hand for every reduction (class weights,
// ignore_index, label smoothing, probability targets), stability at logits of 1e4, float64
// gradcheck + gradgradcheck for every loss, penalty, dropout and normalisation, the init formulas,
// gradient clipping, and the error each one raises.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/gradcheck.h"
#include "core/ops.h"
#include "nn/functional.h"
#include "nn/init.h"
#include "nn/utils.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;
namespace F = chainrule::nn::F;
namespace init = chainrule::nn::init;
namespace utils = chainrule::nn::utils;

Tensor Labels(const std::vector<double>& v) { return tensor(v, {static_cast<int64_t>(v.size())}, kInt64); }

double Away0(double v) { return v + (v >= 0 ? 0.3 : -0.3); }      // away from |x|'s kink
double Prob(double v) { return 0.1 + 0.8 / (1 + std::exp(-v)); }  // in (0.1, 0.9)

const std::vector<std::string> kReductions = {"mean", "sum", "none"};

// ---------------------------------------------------------------- regression losses

// x = [1, 2, 3], y = [0, 2, 5]: d = [1, 0, -2]
Tensor X3(bool rg = false) { return T({1, 2, 3}, {3}, kFloat64, rg); }
Tensor Y3() { return T({0, 2, 5}, {3}); }

TEST(Functional, MseLossByHand) {
  EXPECT_TRUE(Near(F::mse_loss(X3(), Y3()), {}, {5.0 / 3}));
  EXPECT_TRUE(Near(F::mse_loss(X3(), Y3(), "sum"), {}, {5}));
  EXPECT_TRUE(Near(F::mse_loss(X3(), Y3(), "none"), {3}, {1, 0, 4}));
  // weighted (torch 2.13): Σ w d^2 / Σ w
  Tensor w = T({1, 2, 3}, {3});
  EXPECT_TRUE(Near(F::mse_loss(X3(), Y3(), "mean", w), {}, {13.0 / 6}));
  EXPECT_TRUE(Near(F::mse_loss(X3(), Y3(), "sum", w), {}, {13}));
  EXPECT_TRUE(Near(F::mse_loss(X3(), Y3(), "none", w), {3}, {1, 0, 12}));
  // d/dx mean((x - y)^2) = 2 d / n
  Tensor x = X3(true);
  EXPECT_TRUE(Near(autograd::grad({F::mse_loss(x, Y3())}, {x})[0], {3}, {2.0 / 3, 0, -4.0 / 3}));
  EXPECT_EQ(F::mse_loss(X3().to(kFloat32), Y3().to(kFloat32)).dtype(), kFloat32);
}

TEST(Functional, L1LossByHand) {
  EXPECT_TRUE(Near(F::l1_loss(X3(), Y3()), {}, {1}));
  EXPECT_TRUE(Near(F::l1_loss(X3(), Y3(), "sum"), {}, {3}));
  EXPECT_TRUE(Near(F::l1_loss(X3(), Y3(), "none"), {3}, {1, 0, 2}));
  EXPECT_TRUE(Near(F::l1_loss(X3(), Y3(), "mean", T({1, 2, 3}, {3})), {}, {7.0 / 6}));
  Tensor x = X3(true);  // sign(d) / n, and 0 where d = 0 (as torch)
  EXPECT_TRUE(Near(autograd::grad({F::l1_loss(x, Y3())}, {x})[0], {3}, {1.0 / 3, 0, -1.0 / 3}));
}

TEST(Functional, HuberAndSmoothL1ByHand) {
  // delta 1: |d| = 1 is on the linear side: 1 (1 - ½) = ½; |d| = 2: 2 - ½
  EXPECT_TRUE(Near(F::huber_loss(X3(), Y3(), "none"), {3}, {0.5, 0, 1.5}));
  EXPECT_TRUE(Near(F::huber_loss(X3(), Y3()), {}, {2.0 / 3}));
  EXPECT_TRUE(Near(F::huber_loss(X3(), Y3(), "sum", 2.0), {}, {0.5 + 2.0}));
  // weighted huber (torch 2.13): the plain mean of w * loss
  EXPECT_TRUE(Near(F::huber_loss(X3(), Y3(), "mean", 1.0, T({1, 2, 3}, {3})), {}, {5.0 / 3}));
  EXPECT_TRUE(Near(F::smooth_l1_loss(X3(), Y3(), "none", 2.0), {3}, {0.25, 0, 1}));
  EXPECT_TRUE(Near(F::smooth_l1_loss(X3(), Y3(), "sum", 0.0), {}, {3}));  // beta 0: l1
  Tensor x = X3(true);  // gradients: d inside, ±delta outside
  EXPECT_TRUE(Near(autograd::grad({F::huber_loss(x, Y3(), "sum", 1.5)}, {x})[0], {3}, {1, 0, -1.5}));
}

// ---------------------------------------------------------------- cross entropy / nll

// logits [[1, 2, 3], [1, 1, 1]], classes [2, 0]: losses log(1 + e^-1 + e^-2) and log 3
constexpr double kRow0 = 0.40760596444438013, kRow1 = 1.0986122886681098;
Tensor Logits(bool rg = false) { return T({1, 2, 3, 1, 1, 1}, {2, 3}, kFloat64, rg); }

TEST(Functional, CrossEntropyClassIndices) {
  Tensor t = Labels({2, 0});
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), t), {}, {(kRow0 + kRow1) / 2}));
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), t, Tensor(), -100, "sum"), {}, {kRow0 + kRow1}));
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), t, Tensor(), -100, "none"), {2}, {kRow0, kRow1}));
  // class weights: "mean" divides by the sum of the targets' weights (3 + 1)
  Tensor w = T({1, 2, 3}, {3});
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), t, w), {}, {(3 * kRow0 + kRow1) / 4}));
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), t, w, -100, "none"), {2}, {3 * kRow0, kRow1}));
  // ignore_index: the sample neither counts nor divides
  Tensor ti = Labels({2, -100});
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), ti), {}, {kRow0}));
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), ti, w, -100, "none"), {2}, {3 * kRow0, 0}));
  EXPECT_TRUE(
      Near(F::cross_entropy(Logits(), Labels({2, 1}), Tensor(), 1), {}, {kRow0}));  // a class as ignore_index
  EXPECT_TRUE(std::isnan(F::cross_entropy(Logits(), Labels({-100, -100})).item()));  // 0 / 0, as torch
  // gradient: (softmax - onehot) / N
  Tensor x = Logits(true);
  Tensor g = autograd::grad({F::cross_entropy(x, t)}, {x})[0];
  std::vector<double> p = softmax(Logits(), 1).to_vector();
  EXPECT_TRUE(Near(g, {2, 3}, {p[0] / 2, p[1] / 2, (p[2] - 1) / 2, (p[3] - 1) / 2, p[4] / 2, p[5] / 2}));
}

TEST(Functional, CrossEntropyLabelSmoothing) {
  Tensor t = Labels({2, 0});
  // (1 - ε) nll + ε/C mean_i Σ_c -log p_ic, ε = 0.3
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), t, Tensor(), -100, "mean", 0.3), {}, {0.903109126556245}));
  EXPECT_TRUE(
      Near(F::cross_entropy(Logits(), t, T({1, 2, 3}, {3}), -100, "mean", 0.3), {}, {0.7321830198170922}));
  // ε = 1: only the uniform part
  Tensor all = F::cross_entropy(Logits(), t, Tensor(), -100, "none", 1.0);
  std::vector<double> lp = log_softmax(Logits(), 1).to_vector();
  EXPECT_TRUE(Near(all, {2}, {-(lp[0] + lp[1] + lp[2]) / 3, -(lp[3] + lp[4] + lp[5]) / 3}));
  // ignored samples get 0 in the smoothing term too
  Tensor ign = F::cross_entropy(Logits(), Labels({2, -100}), Tensor(), -100, "none", 0.3);
  EXPECT_EQ(ign.at(1), 0.0);
}

TEST(Functional, CrossEntropyProbabilityTargets) {
  // one-hot probabilities give the class-index loss
  Tensor onehot = T({0, 0, 1, 1, 0, 0}, {2, 3});
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), onehot), {}, {(kRow0 + kRow1) / 2}));
  Tensor q = T({0.2, 0.3, 0.5, 1, 0, 0}, {2, 3});
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), q, Tensor(), -100, "none"), {2}, {1.10760596444438, kRow1}));
  // with class weights "mean" still divides by N = 2, not by the weights
  Tensor w = T({1, 2, 3}, {3});
  std::vector<double> lp = log_softmax(Logits(), 1).to_vector();
  double s = -(0.2 * lp[0] + 0.6 * lp[1] + 1.5 * lp[2]) - lp[3];
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), q, w), {}, {s / 2}));
  // smoothing: target (1 - ε) q + ε/C
  Tensor qs = add(mul(q, 0.9), 0.1 / 3);
  EXPECT_TRUE(Near(F::cross_entropy(Logits(), q, Tensor(), -100, "sum", 0.1), {},
                   {F::cross_entropy(Logits(), qs, Tensor(), -100, "sum").item()}));
  // soft targets are differentiable: d/dq = -log p / N
  Tensor qq = q.detach().clone().set_requires_grad();
  Tensor g = autograd::grad({F::cross_entropy(Logits(), qq)}, {qq})[0];
  EXPECT_TRUE(Near(g, {2, 3}, {-lp[0] / 2, -lp[1] / 2, -lp[2] / 2, -lp[3] / 2, -lp[4] / 2, -lp[5] / 2}));
}

TEST(Functional, CrossEntropySpatialAndUnbatched) {
  // (N, C, d) equals the (N*d, C) problem
  Tensor x = Leaf({2, 3, 4});
  Tensor t = tensor({0, 2, 1, 1, 2, 0, 0, 1}, {2, 4}, kInt64);
  Tensor flat = reshape(permute(x, {0, 2, 1}), {8, 3});
  for (const char* r : {"mean", "sum"})
    EXPECT_NEAR(F::cross_entropy(x, t, Tensor(), -100, r, 0.2).item(),
                F::cross_entropy(flat, reshape(t, {8}), Tensor(), -100, r, 0.2).item(), 1e-12);
  EXPECT_EQ(F::cross_entropy(x, t, Tensor(), -100, "none").shape(), (Shape{2, 4}));
  // (C,) with a 0-d target
  Tensor one =
      F::cross_entropy(T({1, 2, 3}, {3}), tensor(std::vector<double>{2}, {}, kInt64), Tensor(), -100, "none");
  EXPECT_TRUE(Near(one, {}, {kRow0}));
}

TEST(Functional, CrossEntropyStableAtLogits1e4) {
  for (Dtype d : {kFloat32, kFloat64}) {
    Tensor x = T({1e4, 0, -1e4, -1e4, 1e4, 0}, {2, 3}, d, true);
    Tensor loss = F::cross_entropy(x, Labels({0, 2}), Tensor(), -100, "none");
    EXPECT_TRUE(Near(loss, {2}, {0, 1e4}, 1e-6));
    Tensor g = autograd::grad({sum(loss)}, {x})[0];
    EXPECT_TRUE(Near(g, {2, 3}, {0, 0, 0, 0, 1, -1}, 1e-6));
    Tensor ls = F::cross_entropy(x, Labels({0, 2}), Tensor(), -100, "mean", 0.1);
    EXPECT_TRUE(std::isfinite(ls.item()));
  }
}

TEST(Functional, NllLossByHand) {
  Tensor lp = T({-1, -2, -3, -0.5, -1.5, -2.5}, {2, 3});
  EXPECT_TRUE(Near(F::nll_loss(lp, Labels({0, 2})), {}, {1.75}));
  EXPECT_TRUE(Near(F::nll_loss(lp, Labels({0, 2}), Tensor(), -100, "none"), {2}, {1, 2.5}));
  EXPECT_TRUE(Near(F::nll_loss(lp, Labels({0, 2}), T({2, 1, 0.5}, {3})), {}, {(2 + 1.25) / 2.5}));
  EXPECT_TRUE(Near(F::nll_loss(lp, Labels({0, 2}), Tensor(), 0, "sum"), {}, {2.5}));
  // cross_entropy = nll_loss of log_softmax
  Tensor x = Logits();
  EXPECT_TRUE(Near(F::nll_loss(log_softmax(x, 1), Labels({2, 0}), T({1, 2, 3}, {3})), {},
                   {F::cross_entropy(x, Labels({2, 0}), T({1, 2, 3}, {3})).item()}));
}

TEST(Functional, ReExportsTheCoreActivations) {
  Tensor x = T({-1, 0.5, 2}, {3});
  EXPECT_TRUE(Near(F::relu(x), {3}, {0, 0.5, 2}));
  EXPECT_TRUE(Near(F::leaky_relu(x, 0.1), {3}, {-0.1, 0.5, 2}));
  EXPECT_TRUE(Near(F::log_softmax(x, 0), {3}, log_softmax(x, 0).to_vector()));
  EXPECT_TRUE(Near(F::gelu(x), {3}, gelu(x).to_vector()));
}

// ---------------------------------------------------------------- binary cross entropy

TEST(Functional, BinaryCrossEntropyByHand) {
  Tensor x = T({0.8, 0.3}, {2}, kFloat64, true), y = T({1, 0}, {2});
  EXPECT_TRUE(Near(F::binary_cross_entropy(x, y), {}, {0.2899092476264711}));
  EXPECT_TRUE(
      Near(F::binary_cross_entropy(x, y, T({2, 1}, {2}), "none"), {2}, {-2 * std::log(0.8), -std::log(0.7)}));
  // d/dx = (x - y) / (x (1 - x)) / N
  EXPECT_TRUE(
      Near(autograd::grad({F::binary_cross_entropy(x, y)}, {x})[0], {2}, {-0.2 / 0.16 / 2, 0.3 / 0.21 / 2}));
  // saturated probabilities: the logs clamp at -100 and the gradient stays finite, as torch
  Tensor s = T({0, 1}, {2}, kFloat32, true);
  Tensor loss = F::binary_cross_entropy(s, T({1, 0}, {2}, kFloat32));
  EXPECT_TRUE(Near(loss, {}, {100}));
  Tensor g = autograd::grad({loss}, {s})[0];
  EXPECT_TRUE(std::isfinite(g.at(0)) && std::isfinite(g.at(1)));
  EXPECT_TRUE(Near(g, {2}, {-0.5 / 1e-12, 0.5 / 1e-12}, 1e-6));  // (x - y) / 1e-12 / N
}

TEST(Functional, BinaryCrossEntropyWithLogitsStable) {
  for (Dtype d : {kFloat32, kFloat64}) {
    Tensor x = T({1e4, -1e4, 0}, {3}, d, true), y = T({0, 1, 0.5}, {3}, d);
    Tensor loss = F::binary_cross_entropy_with_logits(x, y, Tensor(), "none");
    EXPECT_TRUE(Near(loss, {3}, {1e4, 1e4, std::log(2.0)}, 1e-6));
    EXPECT_TRUE(Near(autograd::grad({sum(loss)}, {x})[0], {3}, {1, -1, 0}, 1e-6));  // σ(x) - y
  }
  // pos_weight weighs the positive term: x = 0, y = 1, pw = 3 -> 3 log 2
  Tensor l = F::binary_cross_entropy_with_logits(T({0}, {1}), T({1}, {1}), Tensor(), "sum", T({3}, {1}));
  EXPECT_TRUE(Near(l, {}, {3 * std::log(2.0)}));
  // agrees with BCE on sigmoid(x) where that is accurate
  Tensor x = Leaf({4, 3}), y = rand({4, 3}, kFloat64);
  EXPECT_NEAR(F::binary_cross_entropy_with_logits(x, y).item(), F::binary_cross_entropy(sigmoid(x), y).item(),
              1e-12);
  // logsigmoid is exact far out on both sides
  EXPECT_TRUE(Near(F::logsigmoid(T({-1e4, 40, 0}, {3})), {3}, {-1e4, -std::exp(-40.0), -std::log(2.0)}));
}

// ---------------------------------------------------------------- gradients of every loss

TEST(Functional, LossesGradcheckAndGradgradcheck) {
  Tensor t = Labels({2, 0, 1, 2});
  Tensor w = T({0.5, 2, 1.5}, {3});
  Tensor ti = Labels({2, -100, 1, 2});
  Tensor tsp = tensor({0, 2, 1, 1, 2, 0}, {2, 3}, kInt64);
  std::vector<GradCase> cases;
  for (const std::string& r : kReductions) {
    cases.push_back(
        {"mse_loss " + r, [r](In x) { return F::mse_loss(x[0], x[1], r); }, {Leaf({3, 2}), Leaf({3, 2})}});
    cases.push_back({"mse_loss weighted " + r,
                     [r](In x) { return F::mse_loss(x[0], x[1], r, x[2]); },
                     {Leaf({3, 2}), Leaf({3, 2}), Leaf({3, 2}, [](double v) { return 1 + v * v; })}});
    cases.push_back({"l1_loss " + r,
                     [r](In x) { return F::l1_loss(x[0], x[1], r); },
                     {Leaf({3, 2}, Away0), zeros({3, 2}, kFloat64)}});
    cases.push_back({"huber_loss " + r,
                     [r](In x) { return F::huber_loss(x[0], x[1], r, 0.7); },
                     {Leaf({3, 2}, [](double v) { return std::abs(std::abs(v) - 0.7) < 0.1 ? v + 0.3 : v; }),
                      zeros({3, 2}, kFloat64)}});
    cases.push_back({"smooth_l1_loss " + r,
                     [r](In x) { return F::smooth_l1_loss(x[0], x[1], r, 0.7); },
                     {Leaf({3, 2}, [](double v) { return std::abs(std::abs(v) - 0.7) < 0.1 ? v + 0.3 : v; }),
                      zeros({3, 2}, kFloat64)}});
    cases.push_back({"cross_entropy " + r,
                     [r, t](In x) { return F::cross_entropy(x[0], t, Tensor(), -100, r); },
                     {Leaf({4, 3})}});
    cases.push_back({"cross_entropy weighted ignore smoothed " + r,
                     [r, ti, w](In x) { return F::cross_entropy(x[0], ti, w, -100, r, 0.2); },
                     {Leaf({4, 3})}});
    cases.push_back({"cross_entropy spatial " + r,
                     [r, tsp, w](In x) { return F::cross_entropy(x[0], tsp, w, -100, r, 0.1); },
                     {Leaf({2, 3, 3})}});
    cases.push_back({"cross_entropy probabilities " + r,
                     [r, w](In x) { return F::cross_entropy(x[0], softmax(x[1], 1), w, -100, r, 0.1); },
                     {Leaf({4, 3}), Leaf({4, 3})}});
    cases.push_back({"nll_loss " + r,
                     [r, ti, w](In x) { return F::nll_loss(log_softmax(x[0], 1), ti, w, -100, r); },
                     {Leaf({4, 3})}});
    cases.push_back({"binary_cross_entropy " + r,
                     [r](In x) { return F::binary_cross_entropy(x[0], x[1], T({1, 2, 0.5}, {3}), r); },
                     {Leaf({2, 3}, Prob), Leaf({2, 3}, Prob)}});
    // weight and pos_weight are constants, as in torch
    cases.push_back({"binary_cross_entropy_with_logits " + r,
                     [r](In x) {
                       return F::binary_cross_entropy_with_logits(
                           x[0], x[1], T({1, 2, 0.5, 1.5, 1, 0.2}, {2, 3}), r, T({3, 0.5, 1}, {3}));
                     },
                     {Leaf({2, 3}), Leaf({2, 3}, Prob)}});
  }
  RunGradCases(cases);
}

TEST(Functional, ReductionAndArgumentErrors) {
  Tensor x = zeros({2, 3}, kFloat64);
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::mse_loss(x, x, "avg"); }),
                         "mse_loss: expected reduction 'mean', 'sum' or 'none', got 'avg'"));
  for (auto f : std::vector<std::function<void()>>{
           [&] { F::l1_loss(x, x, "Mean"); }, [&] { F::huber_loss(x, x, ""); },
           [&] { F::cross_entropy(x, Labels({0, 1}), Tensor(), -100, "avg"); },
           [&] { F::nll_loss(x, Labels({0, 1}), Tensor(), -100, "avg"); },
           [&] { F::binary_cross_entropy(x, x, Tensor(), "avg"); },
           [&] { F::binary_cross_entropy_with_logits(x, x, Tensor(), "avg"); }})
    Thrown<std::invalid_argument>(f);
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([&] { F::mse_loss(x, zeros({4}, kFloat64)); }), "mse_loss:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::huber_loss(x, x, "mean", 0.0); }),
                         "huber_loss: expected delta > 0, got 0"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::mse_loss(x, x, "mean", ones({3})); }),
                         "mse_loss: expected weight of the input's shape (2, 3), got (3,)"));
  // class targets
  EXPECT_TRUE(
      StartsWith(Thrown<std::out_of_range>([&] { F::cross_entropy(x, Labels({0, 3})); }),
                 "cross_entropy: expected class indices in [0, 3) or ignore_index -100, got target 3"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { F::nll_loss(x, Labels({-1, 0})); }), "nll_loss:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::cross_entropy(x, Labels({0, 1, 2})); }),
                         "cross_entropy: expected target batch size 2"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::cross_entropy(x, T({0, 1}, {2})); }),
                         "cross_entropy: expected int64 class indices as target"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::cross_entropy(x, zeros({2, 3}, kInt64)); }),
                         "cross_entropy: expected floating class probabilities"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::cross_entropy(x, x, Tensor(), 0); }),
                         "cross_entropy: ignore_index is not supported for class-probability targets"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([&] { F::cross_entropy(x, Labels({0, 1}), ones({4})); }),
                 "cross_entropy: expected a weight of shape (C,) = (3,), one per class, got (4,)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>(
                             [&] { F::cross_entropy(x, Labels({0, 1}), Tensor(), -100, "mean", 1.5); }),
                         "cross_entropy: expected label_smoothing in [0, 1], got 1.5"));
  EXPECT_TRUE(StartsWith(
      Thrown<std::invalid_argument>([&] { F::cross_entropy(zeros({2, 3}, kInt64), Labels({0, 1})); }),
      "cross_entropy: expected a floating input, got int64"));
  // binary
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([&] { F::binary_cross_entropy(T({1.5}, {1}), T({1}, {1})); }),
                 "binary_cross_entropy: expected input probabilities in [0, 1], got 1.5"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([&] { F::binary_cross_entropy(x, zeros({3}, kFloat64)); }),
                 "binary_cross_entropy: expected target of the input's shape (2, 3), got (3,)"));
  EXPECT_TRUE(StartsWith(
      Thrown<std::invalid_argument>([&] { F::binary_cross_entropy_with_logits(x, zeros({2}, kFloat64)); }),
      "binary_cross_entropy_with_logits: expected target of the input's shape"));
}

// ---------------------------------------------------------------- penalties and dropout

TEST(Functional, PenaltiesSumOverParameters) {
  Tensor a = T({1, -2}, {2}, kFloat64, true), b = T({3, 0, -1, 2}, {2, 2}, kFloat64, true);
  EXPECT_TRUE(Near(F::l1_penalty({a, b}), {}, {9}));
  EXPECT_TRUE(Near(F::l2_penalty({a, b}), {}, {19}));
  EXPECT_TRUE(Near(F::l1_penalty({}), {}, {0}));
  auto g = autograd::grad({F::l2_penalty({a, b})}, {a, b});
  EXPECT_TRUE(Near(g[0], {2}, {2, -4}));
  EXPECT_TRUE(Near(g[1], {2, 2}, {6, 0, -2, 4}));
  RunGradCases(
      {{"l1_penalty", [](In x) { return F::l1_penalty(x); }, {Leaf({3}, Away0), Leaf({2, 2}, Away0)}},
       {"l2_penalty", [](In x) { return F::l2_penalty(x); }, {Leaf({3}), Leaf({2, 2})}}});
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::l2_penalty({a, Labels({1})}); }),
                         "l2_penalty: expected floating tensors, got int64 at position 1"));
}

TEST(Functional, DropoutScalesSurvivorsAndIsIdentityInEval) {
  manual_seed(7);
  Tensor x = ones({200000}, kFloat64);
  Tensor y = F::dropout(x, 0.3);
  std::vector<double> v = y.to_vector();
  int64_t zeros_seen = 0;
  for (double e : v) {
    EXPECT_TRUE(e == 0 || std::abs(e - 1 / 0.7) < 1e-12);
    zeros_seen += e == 0;
  }
  EXPECT_NEAR(zeros_seen / 200000.0, 0.3, 0.005);
  EXPECT_NEAR(mean(y).item(), 1.0, 0.01);                 // the expectation is kept
  EXPECT_EQ(F::dropout(x, 0.3, false).impl(), x.impl());  // eval: the input itself
  EXPECT_EQ(F::dropout(x, 0.0).impl(), x.impl());
  EXPECT_EQ(sum(F::dropout(x, 1.0)).item(), 0.0);
  // same seed, same mask
  manual_seed(3);
  Tensor a = F::dropout(x, 0.5);
  manual_seed(3);
  EXPECT_EQ(a.to_vector(), F::dropout(x, 0.5).to_vector());
  // the gradient is the mask / (1 - p); reseeding inside fn keeps the mask fixed for gradcheck
  RunGradCases({{"dropout",
                 [](In x) {
                   manual_seed(11);
                   return F::dropout(x[0], 0.4);
                 },
                 {Leaf({4, 5})}}});
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::dropout(x, 1.5); }),
                         "dropout: expected a probability p in [0, 1], got 1.5"));
}

// ---------------------------------------------------------------- normalisation

TEST(Functional, BatchNormTrainingUsesBatchStatsAndUpdatesRunningStats) {
  // (N=4, C=2): channel 0 = [1, 2, 3, 4] (mean 2.5, biased var 1.25, unbiased 5/3), channel 1 = 0
  Tensor x = T({1, 0, 2, 0, 3, 0, 4, 0}, {4, 2});
  Tensor rm = zeros({2}, kFloat64), rv = ones({2}, kFloat64);
  Tensor y = F::batch_norm(x, rm, rv, Tensor(), Tensor(), true, 0.1, 0.0 + 1e-5);
  const double s = std::sqrt(1.25 + 1e-5);
  EXPECT_TRUE(Near(y, {4, 2}, {-1.5 / s, 0, -0.5 / s, 0, 0.5 / s, 0, 1.5 / s, 0}));
  EXPECT_TRUE(Near(rm, {2}, {0.25, 0}));
  EXPECT_TRUE(Near(rv, {2}, {0.9 + 0.1 * 5.0 / 3, 0.9}));
  // weight and bias are applied per channel
  Tensor y2 = F::batch_norm(x, Tensor(), Tensor(), T({2, 1}, {2}), T({0, 5}, {2}), true);
  EXPECT_TRUE(Near(y2, {4, 2}, {-3 / s, 5, -1 / s, 5, 1 / s, 5, 3 / s, 5}));
  // eval: running stats
  Tensor e = F::batch_norm(x, T({1, 0}, {2}), T({4, 1}, {2}), Tensor(), Tensor(), false, 0.1, 0.0);
  EXPECT_TRUE(Near(e, {4, 2}, {0, 0, 0.5, 0, 1, 0, 1.5, 0}));
  // (N, C, L): statistics over N and L
  Tensor x3 = Leaf({3, 2, 4}).detach();
  Tensor y3 = F::batch_norm(x3, Tensor(), Tensor(), Tensor(), Tensor(), true);
  Tensor m = mean(y3, {0, 2});
  EXPECT_TRUE(Near(m, {2}, {0, 0}, 1e-12));
  EXPECT_TRUE(Near(var(y3, {0, 2}, 0.0), {2}, {1, 1}, 1e-4));
}

TEST(Functional, LayerNormNormalisesTrailingDims) {
  Tensor x = T({1, 2, 3, 4, 2, 2, 2, 2}, {2, 4});
  const double s = std::sqrt(1.25 + 1e-5);
  EXPECT_TRUE(Near(F::layer_norm(x, {4}), {2, 4}, {-1.5 / s, -0.5 / s, 0.5 / s, 1.5 / s, 0, 0, 0, 0}));
  Tensor w = T({1, 2, 3, 4}, {4}), b = T({0, 0, 0, 1}, {4});
  EXPECT_TRUE(Near(F::layer_norm(x, {4}, w, b), {2, 4}, {-1.5 / s, -1 / s, 1.5 / s, 6 / s + 1, 0, 0, 0, 1}));
  Tensor all = F::layer_norm(x, {2, 4});  // over both dims
  EXPECT_TRUE(Near(mean(all), {}, {0}, 1e-12));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::layer_norm(x, {3}); }),
                         "layer_norm: expected input of shape (*, 3) for normalized_shape (3,), got (2, 4)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::layer_norm(x, {4}, ones({3})); }),
                         "layer_norm: expected weight of normalized_shape (4,), got (3,)"));
}

TEST(Functional, NormalisationGradcheckAndGradgradcheck) {
  Tensor rm = T({0.1, -0.2, 0.3}, {3}), rv = T({1.5, 0.5, 2}, {3});
  RunGradCases({
      {"batch_norm train (N,C)",
       [](In x) { return F::batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true); },
       {Leaf({5, 3}), Leaf({3}), Leaf({3})}},
      {"batch_norm train (N,C,L)",
       [](In x) { return F::batch_norm(x[0], Tensor(), Tensor(), x[1], x[2], true); },
       {Leaf({2, 3, 4}), Leaf({3}), Leaf({3})}},
      {"batch_norm eval",
       [rm, rv](In x) { return F::batch_norm(x[0], rm, rv, x[1], x[2], false); },
       {Leaf({2, 3, 2}), Leaf({3}), Leaf({3})}},
      {"layer_norm",
       [](In x) { return F::layer_norm(x[0], {3, 2}, x[1], x[2]); },
       {Leaf({2, 3, 2}), Leaf({3, 2}), Leaf({3, 2})}},
  });
}

TEST(Functional, BatchNormErrors) {
  Tensor x = zeros({4, 3});
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { F::batch_norm(x, Tensor(), Tensor()); }),
                         "batch_norm: expected running_mean and running_var in evaluation mode"));
  EXPECT_TRUE(StartsWith(
      Thrown<std::invalid_argument>(
          [&] { F::batch_norm(zeros({1, 3}), Tensor(), Tensor(), Tensor(), Tensor(), true); }),
      "batch_norm: expected more than 1 value per channel when training, got input of shape (1, 3)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>(
                             [&] { F::batch_norm(x, zeros({2}), ones({2}), Tensor(), Tensor(), true); }),
                         "batch_norm: expected running_mean of shape (3,), one per channel, got (2,)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] {
                           F::batch_norm(zeros({3}), Tensor(), Tensor(), Tensor(), Tensor(), true);
                         }),
                         "batch_norm: expected input of shape (N, C) or (N, C, *), got (3,)"));
}

// ---------------------------------------------------------------- init

TEST(Init, CalculateGainMatchesTorch) {
  for (const char* n : {"linear", "conv1d", "conv2d", "conv3d", "conv_transpose1d", "conv_transpose2d",
                        "conv_transpose3d", "sigmoid"})
    EXPECT_EQ(init::calculate_gain(n), 1.0) << n;
  EXPECT_DOUBLE_EQ(init::calculate_gain("tanh"), 5.0 / 3);
  EXPECT_DOUBLE_EQ(init::calculate_gain("relu"), std::sqrt(2.0));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu"), std::sqrt(2.0 / (1 + 0.01 * 0.01)));
  EXPECT_DOUBLE_EQ(init::calculate_gain("leaky_relu", 0.2), std::sqrt(2.0 / 1.04));
  EXPECT_DOUBLE_EQ(init::calculate_gain("selu"), 0.75);
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([] { init::calculate_gain("swish"); }), "calculate_gain:"));
}

TEST(Init, FanInAndFanOut) {
  EXPECT_EQ(init::calculate_fan_in_and_fan_out(empty({3, 5})), std::make_pair(int64_t{5}, int64_t{3}));
  EXPECT_EQ(init::calculate_fan_in_and_fan_out(empty({8, 4, 3, 3})),
            std::make_pair(int64_t{36}, int64_t{72}));
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([] { init::calculate_fan_in_and_fan_out(empty({3})); }),
                 "calculate_fan_in_and_fan_out: expected a tensor of at least 2 dims"));
}

// max |w| within (and close to) the bound; std close to the formula's
void ExpectUniform(const Tensor& t, double bound) {
  std::vector<double> v = t.to_vector();
  double mx = 0;
  for (double e : v) mx = std::max(mx, std::abs(e));
  EXPECT_LE(mx, bound);
  EXPECT_GT(mx, 0.99 * bound);
  EXPECT_NEAR(std::sqrt(var(t, {}, 0.0).item()), bound / std::sqrt(3.0), 0.02 * bound);
}

TEST(Init, UniformAndNormalFormulas) {
  manual_seed(0);
  Tensor w = empty({200, 300}).set_requires_grad();  // a parameter: filled in place under no-grad
  init::xavier_uniform_(w, 2.0);
  ExpectUniform(w, 2.0 * std::sqrt(6.0 / 500));
  EXPECT_TRUE(w.requires_grad() && w.is_leaf());
  init::kaiming_uniform_(w);  // a = 0, leaky_relu gain sqrt(2), fan_in 300
  ExpectUniform(w, std::sqrt(2.0) * std::sqrt(3.0 / 300));
  init::kaiming_uniform_(w, std::sqrt(5.0), "fan_out", "leaky_relu");  // nn.Linear's default, fan_out 200
  ExpectUniform(w, std::sqrt(2.0 / 6) * std::sqrt(3.0 / 200));
  init::uniform_(w, -0.5, 0.5);
  ExpectUniform(w, 0.5);
  init::xavier_normal_(w);
  EXPECT_NEAR(std::sqrt(var(w).item()), std::sqrt(2.0 / 500), 0.01 * std::sqrt(2.0 / 500));
  init::kaiming_normal_(w, 0, "fan_in", "relu");
  EXPECT_NEAR(std::sqrt(var(w).item()), std::sqrt(2.0 / 300), 0.01 * std::sqrt(2.0 / 300));
  init::normal_(w, 3, 2);
  EXPECT_NEAR(mean(w).item(), 3, 0.02);
  EXPECT_NEAR(std::sqrt(var(w).item()), 2, 0.02);
  init::constant_(w, 0.25);
  EXPECT_EQ(amin(w).item(), 0.25);
  EXPECT_EQ(amax(w).item(), 0.25);
  init::zeros_(w);
  EXPECT_EQ(amax(abs(w)).item(), 0);
  init::ones_(w);
  EXPECT_EQ(sum(w).item(), 60000);
  Tensor none = empty({0, 3});
  EXPECT_EQ(init::kaiming_uniform_(none).numel(), 0);  // zero elements: nothing to do
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { init::kaiming_normal_(w, 0, "fan_avg"); }),
                         "kaiming: expected mode 'fan_in' or 'fan_out', got 'fan_avg'"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { init::xavier_uniform_(empty({4})); }),
                         "calculate_fan_in_and_fan_out:"));
}

// ---------------------------------------------------------------- utils

TEST(Utils, ClipGradNormScalesByTheTotalNorm) {
  Tensor a = T({0, 0}, {2}, kFloat64, true), b = T({0}, {1}, kFloat64, true), c = T({1}, {1}, kFloat64, true);
  a.set_grad(T({3, 4}, {2}));
  b.set_grad(T({12}, {1}));  // total 2-norm 13; c has no gradient
  Tensor total = utils::clip_grad_norm_({a, b, c}, 6.5);
  EXPECT_TRUE(Near(total, {}, {13}));
  const double coef = 6.5 / (13 + 1e-6);
  EXPECT_TRUE(Near(a.grad(), {2}, {3 * coef, 4 * coef}));
  EXPECT_TRUE(Near(b.grad(), {1}, {12 * coef}));
  EXPECT_FALSE(c.grad().defined());
  // a large max_norm leaves them alone (coef clamped to 1)
  EXPECT_TRUE(Near(utils::clip_grad_norm_({a, b}, 100), {}, {6.5 / (13 + 1e-6) * 13}));
  EXPECT_TRUE(Near(a.grad(), {2}, {3 * coef, 4 * coef}));
  // inf-norm: the largest |g|; 1-norm: the sum
  a.set_grad(T({3, -4}, {2}));
  b.set_grad(T({-12}, {1}));
  EXPECT_TRUE(Near(utils::get_total_norm({a.grad(), b.grad()}, INFINITY), {}, {12}));
  EXPECT_TRUE(Near(utils::get_total_norm({a.grad(), b.grad()}, 1), {}, {19}));
  EXPECT_TRUE(Near(utils::get_total_norm({a.grad(), b.grad()}, 3), {}, {std::cbrt(27 + 64 + 1728.0)}));
  EXPECT_EQ(utils::get_total_norm({a.grad().to(kFloat32)}).dtype(), kFloat32);
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { utils::get_total_norm({a.grad()}, 0); }),
                         "clip_grad_norm_: expected norm_type > 0 (or inf), got 0"));
  EXPECT_TRUE(Near(utils::clip_grad_norm_({a, b}, 1.2, INFINITY), {}, {12}));
  EXPECT_TRUE(Near(b.grad(), {1}, {-12 * 1.2 / (12 + 1e-6)}));
  EXPECT_TRUE(Near(utils::clip_grad_norm_({c}, 1.0), {}, {0}));  // no gradients
  b.set_grad(T({NAN}, {1}));
  EXPECT_TRUE(StartsWith(Thrown<std::runtime_error>([&] { utils::clip_grad_norm_({a, b}, 1.0, 2.0, true); }),
                         "clip_grad_norm_: the total norm of order 2 of the gradients is"));
}

TEST(Utils, ClipGradValueAndParameterVectors) {
  Tensor a = T({0, 0, 0}, {3}, kFloat64, true);
  a.set_grad(T({-3, 0.5, 2}, {3}));
  utils::clip_grad_value_({a}, 1.0);
  EXPECT_TRUE(Near(a.grad(), {3}, {-1, 0.5, 1}));
  Tensor b = T({1, 2, 3, 4}, {2, 2}, kFloat64, true);
  Tensor v = utils::parameters_to_vector({a, b});
  EXPECT_TRUE(Near(v, {7}, {0, 0, 0, 1, 2, 3, 4}));
  utils::vector_to_parameters(T({7, 6, 5, 4, 3, 2, 1}, {7}), {a, b});
  EXPECT_TRUE(Near(b, {2, 2}, {4, 3, 2, 1}));
  EXPECT_TRUE(b.requires_grad());
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([&] { utils::vector_to_parameters(zeros({3}), {a, b}); }),
                 "vector_to_parameters: expected a 1-D vector of 7 elements"));
}

}  // namespace
