// Reductions: sum, mean (dims as int lists, negative dims, keepdim, full reduction, dtypes), amax/amin
// and max/min (ties, values + int64 indices), argmax/argmin, var (correction), logsumexp, softmax and
// log_softmax (closed forms, stability at 1e4). Values by hand, gradients against closed forms, float64
// gradcheck + gradgradcheck for each, and the error each one raises.
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

// x = 0..23 as a (2,3,4) float64 tensor: x[i][j][k] = 12i + 4j + k.
Tensor Arange24() {
  std::vector<double> v(24);
  for (int i = 0; i < 24; ++i) v[i] = i;
  return T(v, {2, 3, 4});
}

// ---------------------------------------------------------------- sum / mean

TEST(OpsReduce, SumFullAndAlongDims) {
  Tensor x = Arange24();
  EXPECT_TRUE(Near(sum(x), {}, {276}));
  EXPECT_TRUE(Near(x.sum(), {}, {276}));
  EXPECT_TRUE(Near(sum(x, {0}), {3, 4}, {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34}));
  EXPECT_TRUE(Near(sum(x, {-1}), {2, 3}, {6, 22, 38, 54, 70, 86}));
  EXPECT_TRUE(Near(sum(x, {1}, true), {2, 1, 4}, {12, 15, 18, 21, 48, 51, 54, 57}));
  EXPECT_TRUE(Near(x.sum({1}, true), {2, 1, 4}, {12, 15, 18, 21, 48, 51, 54, 57}));
  EXPECT_TRUE(Near(sum(x, {0, 2}, true), {1, 3, 1}, {60, 92, 124}));
  EXPECT_TRUE(Near(sum(x, {2, 0}), {3}, {60, 92, 124}));
  EXPECT_TRUE(Near(sum(x, {-3, -1}), {3}, {60, 92, 124}));
  EXPECT_TRUE(Near(sum(x, {}), {}, {276}));  // empty list: every dim
  EXPECT_TRUE(Near(sum(x, {}, true), {1, 1, 1}, {276}));
  EXPECT_TRUE(Near(sum(x, {0, 1, 2}), {}, {276}));
  EXPECT_TRUE(Near(sum(scalar_tensor(3, kFloat64)), {}, {3}));
}

// The same values at 17 addresses (offsets of 0..16 elements into a larger tensor) sum to the same
// bits: Eigen's vectorised sum, which began at the first aligned element, gave another last bit for
// most float rows of 5..200 (nn::LayerNorm and layer_norm then differed).
TEST(OpsReduce, SumDoesNotDependOnTheAddress) {
  for (Dtype d : {kFloat32, kFloat64}) {
    for (int64_t n : {1, 2, 5, 7, 8, 9, 12, 15, 16, 17, 31, 32, 33, 63, 64, 65, 100, 1000, 1025, 3000}) {
      SCOPED_TRACE(std::string(dtype_name(d)) + " n=" + std::to_string(n));
      Tensor values = randn({n}, d);
      const double want = sum(values).item();
      for (int64_t pad = 0; pad <= 16; ++pad) {
        Tensor moved = cat({zeros({pad}, d), values}).slice(0, pad, pad + n);
        EXPECT_EQ(sum(moved).item(), want) << "pad " << pad;
        EXPECT_EQ(mean(moved).item(), mean(values).item()) << "pad " << pad;
      }
    }
  }
}

TEST(OpsReduce, SumKeepsInt64AndCountsBools) {
  Tensor i = T({1, 2, 3, 4, 5, 6}, {2, 3}, kInt64);
  EXPECT_EQ(sum(i).dtype(), kInt64);
  EXPECT_TRUE(Near(sum(i), {}, {21}));
  EXPECT_EQ(sum(i, {1}).dtype(), kInt64);
  EXPECT_TRUE(Near(sum(i, {1}), {2}, {6, 15}));
  // counting correct predictions: sum of a bool mask is an int64 count, as in PyTorch
  Tensor hits = eq(T({1, 2, 3, 4}, {4}, kInt64), T({1, 0, 3, 4}, {4}, kInt64));
  EXPECT_EQ(sum(hits).dtype(), kInt64);
  EXPECT_TRUE(Near(sum(hits), {}, {3}));
  EXPECT_EQ(sum(T({1, 2}, {2}, kFloat32)).dtype(), kFloat32);
}

TEST(OpsReduce, MeanFullAndAlongDims) {
  Tensor x = Arange24();
  EXPECT_TRUE(Near(mean(x), {}, {11.5}));
  EXPECT_TRUE(Near(x.mean(), {}, {11.5}));
  EXPECT_TRUE(Near(mean(x, {0}), {3, 4}, {6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16, 17}));
  EXPECT_TRUE(Near(x.mean({-1}), {2, 3}, {1.5, 5.5, 9.5, 13.5, 17.5, 21.5}));
  EXPECT_TRUE(Near(mean(x, {0, 2}, true), {1, 3, 1}, {7.5, 11.5, 15.5}));
  EXPECT_TRUE(Near(mean(x, {}), {}, {11.5}));
  EXPECT_EQ(mean(T({1, 2}, {2}, kFloat32)).dtype(), kFloat32);
}

TEST(OpsReduce, SumAndMeanGradientsBroadcastBack) {
  Tensor x = Arange24().detach();
  x.set_requires_grad();
  // L = sum(w * sum(x, {1})), w (2,4): dL/dx[i][j][k] = w[i][k]
  Tensor w = T({1, 2, 3, 4, 5, 6, 7, 8}, {2, 4});
  Tensor g = autograd::grad({sum(w * sum(x, {1}))}, {x})[0];
  std::vector<double> want(24);
  for (int i = 0; i < 2; ++i)
    for (int j = 0; j < 3; ++j)
      for (int k = 0; k < 4; ++k) want[12 * i + 4 * j + k] = w.at({i, k});
  EXPECT_TRUE(Near(g, {2, 3, 4}, want));
  // mean over {0, 2}: every element gets 1/8 of its group's gradient
  g = autograd::grad({sum(mean(x, {0, 2}))}, {x})[0];
  EXPECT_TRUE(Near(g, {2, 3, 4}, std::vector<double>(24, 1.0 / 8)));
  g = autograd::grad({mean(x)}, {x})[0];
  EXPECT_TRUE(Near(g, {2, 3, 4}, std::vector<double>(24, 1.0 / 24)));
}

TEST(OpsReduce, MeanOfInt64Throws) {
  Tensor i = T({1, 2}, {2}, kInt64);
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { mean(i); }), "mean:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { mean(i, {0}); }), "mean:"));
}

TEST(OpsReduce, SumAndMeanRejectBadDims) {
  Tensor x = zeros({2, 3});
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { sum(x, {2}); }), "sum:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { sum(x, {-3}); }), "sum:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { sum(x, {0, -2}); }), "sum:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { mean(x, {5}); }), "mean:"));
}

// ---------------------------------------------------------------- amax / amin / max / min / argmax

// x2 = [[1, 5, 5], [2, 0, 2]]: ties in both rows.
Tensor X2(bool rg = false) { return T({1, 5, 5, 2, 0, 2}, {2, 3}, kFloat64, rg); }

TEST(OpsReduce, AmaxAminValuesAndTiesShareGradient) {
  Tensor x = X2(true);
  EXPECT_TRUE(Near(amax(x, {1}), {2}, {5, 2}));
  EXPECT_TRUE(Near(amax(x, {1}, true), {2, 1}, {5, 2}));
  EXPECT_TRUE(Near(amax(x, {0}), {3}, {2, 5, 5}));
  EXPECT_TRUE(Near(amax(x), {}, {5}));
  EXPECT_TRUE(Near(amin(x, {1}), {2}, {1, 0}));
  EXPECT_TRUE(Near(amin(x, {-2}), {3}, {1, 0, 2}));
  EXPECT_TRUE(Near(amin(x), {}, {0}));
  EXPECT_TRUE(Near(autograd::grad({sum(amax(x, {1}))}, {x})[0], {2, 3}, {0, .5, .5, .5, 0, .5}));
  EXPECT_TRUE(Near(autograd::grad({sum(amax(x, {0}))}, {x})[0], {2, 3}, {0, 1, 1, 1, 0, 0}));
  EXPECT_TRUE(Near(autograd::grad({amax(x)}, {x})[0], {2, 3}, {0, .5, .5, 0, 0, 0}));
  EXPECT_TRUE(Near(autograd::grad({sum(amin(x, {1}))}, {x})[0], {2, 3}, {1, 0, 0, 0, 1, 0}));
  EXPECT_TRUE(Near(autograd::grad({sum(amin(x, {0}))}, {x})[0], {2, 3}, {1, 0, 0, 0, 1, 1}));
  Tensor y = T({2, 1, 1, 1}, {2, 2}, kFloat64, true);  // three-way tie for the minimum
  EXPECT_TRUE(Near(autograd::grad({amin(y)}, {y})[0], {2, 2}, {0, 1. / 3, 1. / 3, 1. / 3}));
}

TEST(OpsReduce, MaxMinOfAllElementsShareGradientOnTies) {
  Tensor x = X2(true);
  EXPECT_TRUE(Near(max(x), {}, {5}));
  EXPECT_TRUE(Near(min(x), {}, {0}));
  EXPECT_TRUE(Near(autograd::grad({max(x)}, {x})[0], {2, 3}, {0, .5, .5, 0, 0, 0}));
  EXPECT_TRUE(Near(autograd::grad({min(x)}, {x})[0], {2, 3}, {0, 0, 0, 0, 1, 0}));
  Tensor y = T({2, 1, 1}, {3}, kFloat64, true);
  EXPECT_TRUE(Near(autograd::grad({min(y)}, {y})[0], {3}, {0, .5, .5}));
}

TEST(OpsReduce, MaxMinAlongDimReturnValuesAndIndices) {
  Tensor x = X2(true);
  auto [v, i] = max(x, 1);
  EXPECT_TRUE(Near(v, {2}, {5, 2}));
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_TRUE(Near(i, {2}, {1, 0}));  // first of the tied maxima, as PyTorch
  auto [vk, ik] = max(x, -1, true);
  EXPECT_TRUE(Near(vk, {2, 1}, {5, 2}));
  EXPECT_TRUE(Near(ik, {2, 1}, {1, 0}));
  auto [mv, mi] = min(x, 0);
  EXPECT_TRUE(Near(mv, {3}, {1, 0, 2}));
  EXPECT_EQ(mi.dtype(), kInt64);
  EXPECT_TRUE(Near(mi, {3}, {0, 1, 1}));
  auto [rv, ri] = min(x, 1);
  EXPECT_TRUE(Near(rv, {2}, {1, 0}));
  EXPECT_TRUE(Near(ri, {2}, {0, 1}));
  EXPECT_FALSE(i.requires_grad());
  EXPECT_TRUE(v.requires_grad());
}

TEST(OpsReduce, MaxAlongDimSendsGradientOnlyToTheSelectedIndex) {
  Tensor x = X2(true);
  EXPECT_TRUE(Near(autograd::grad({sum(max(x, 1).first)}, {x})[0], {2, 3}, {0, 1, 0, 1, 0, 0}));
  EXPECT_TRUE(Near(autograd::grad({sum(min(x, 0).first)}, {x})[0], {2, 3}, {1, 0, 0, 0, 1, 1}));
  // weighted, keepdim: the weight of each row lands on its selected element
  Tensor w = T({10, 20}, {2, 1});
  EXPECT_TRUE(Near(autograd::grad({sum(w * max(x, 1, true).first)}, {x})[0], {2, 3}, {0, 10, 0, 20, 0, 0}));
}

TEST(OpsReduce, ArgmaxArgminFlatAndAlongDim) {
  Tensor x = X2();
  Tensor a = argmax(x);
  EXPECT_EQ(a.dtype(), kInt64);
  EXPECT_TRUE(Near(a, {}, {1}));
  EXPECT_TRUE(Near(argmin(x), {}, {4}));
  EXPECT_TRUE(Near(argmax(x, 1), {2}, {1, 0}));
  EXPECT_TRUE(Near(argmax(x, 0), {3}, {1, 0, 0}));
  EXPECT_TRUE(Near(argmax(x, -1, true), {2, 1}, {1, 0}));
  EXPECT_TRUE(Near(argmin(x, 0), {3}, {0, 1, 1}));
  EXPECT_TRUE(Near(argmin(x, 1), {2}, {0, 1}));
  EXPECT_EQ(argmin(x, 1).dtype(), kInt64);
  EXPECT_TRUE(Near(argmax(T({3, 9, 2}, {3}, kInt64)), {}, {1}));
  // float32 logits, the typical use
  EXPECT_TRUE(Near(argmax(T({0.1, 0.7, 0.2, 0.5, 0.3, 0.2}, {2, 3}, kFloat32), 1), {2}, {1, 0}));
}

TEST(OpsReduce, ReductionsRejectOutOfRangeDims) {
  Tensor x = zeros({2, 3});
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { amax(x, {2}); }), "amax:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { amin(x, {-3}); }), "amin:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { max(x, 2); }), "max:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { min(x, -3); }), "min:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { argmax(x, 2); }), "argmax:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { argmin(x, 2); }), "argmin:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { var(x, {2}); }), "var:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { logsumexp(x, {2}); }), "logsumexp:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { softmax(x, 2); }), "softmax:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { log_softmax(x, -3); }), "log_softmax:"));
}

TEST(OpsReduce, MaxOfEmptyTensorThrows) {
  Tensor e = zeros({0});
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { max(e); }), "max:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { amax(e); }), "amax:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { argmax(e); }), "argmax:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { min(zeros({2, 0}), 1); }), "min:"));
}

// ---------------------------------------------------------------- var

// xv = [[1, 2, 3, 4], [2, 4, 6, 8]]; mean 3.75, sum of squared deviations 37.5.
TEST(OpsReduce, VarWithCorrectionMatchesClosedForm) {
  Tensor xv = T({1, 2, 3, 4, 2, 4, 6, 8}, {2, 4});
  EXPECT_TRUE(Near(var(xv), {}, {37.5 / 7}));
  EXPECT_TRUE(Near(var(xv, {}, 0.0), {}, {37.5 / 8}));
  EXPECT_TRUE(Near(var(xv, {0, 1}), {}, {37.5 / 7}));
  EXPECT_TRUE(Near(var(xv, {1}), {2}, {5.0 / 3, 20.0 / 3}));
  EXPECT_TRUE(Near(var(xv, {-1}, 0.0), {2}, {1.25, 5}));
  EXPECT_TRUE(Near(var(xv, {1}, 1.0, true), {2, 1}, {5.0 / 3, 20.0 / 3}));
  EXPECT_TRUE(Near(var(xv, {0}), {4}, {0.5, 2, 4.5, 8}));
  EXPECT_TRUE(Near(var(xv, {0}, 0.0), {4}, {0.25, 1, 2.25, 4}));
  EXPECT_EQ(var(xv.to(kFloat32)).dtype(), kFloat32);
}

TEST(OpsReduce, VarOverSeveralDimsMatchesLoops) {
  manual_seed(7);
  Tensor x = randn({2, 3, 4}, kFloat64);
  for (double c : {0.0, 1.0}) {
    std::vector<double> want;
    for (int j = 0; j < 3; ++j) {
      double m = 0;
      for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 4; ++k) m += x.at({i, j, k}) / 8;
      double ss = 0;
      for (int i = 0; i < 2; ++i)
        for (int k = 0; k < 4; ++k) ss += (x.at({i, j, k}) - m) * (x.at({i, j, k}) - m);
      want.push_back(ss / (8 - c));
    }
    EXPECT_TRUE(Near(var(x, {0, 2}, c), {3}, want, 1e-10)) << "correction " << c;
    EXPECT_TRUE(Near(var(x, {-1, 0}, c, true), {1, 3, 1}, want, 1e-10)) << "correction " << c;
  }
}

TEST(OpsReduce, VarGradientMatchesClosedForm) {
  Tensor xv = T({1, 2, 3, 4, 2, 4, 6, 8}, {2, 4}, kFloat64, true);
  // d var / dx_i = 2 (x_i - mean) / (N - correction)
  std::vector<double> want;
  for (double v : xv.to_vector()) want.push_back(2 * (v - 3.75) / 7);
  EXPECT_TRUE(Near(autograd::grad({var(xv)}, {xv})[0], {2, 4}, want));
}

TEST(OpsReduce, VarOfInt64Throws) {
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { var(T({1, 2, 3}, {3}, kInt64)); }), "var:"));
}

// ---------------------------------------------------------------- logsumexp

TEST(OpsReduce, LogsumexpMatchesClosedForm) {
  Tensor x = T({0, 1, 2, 3, 3, 3}, {2, 3});
  const double e = std::exp(1.0);
  EXPECT_TRUE(Near(logsumexp(x, {1}), {2}, {std::log(1 + e + e * e), 3 + std::log(3.0)}));
  EXPECT_TRUE(Near(logsumexp(x, {-1}, true), {2, 1}, {std::log(1 + e + e * e), 3 + std::log(3.0)}));
  EXPECT_TRUE(
      Near(logsumexp(x, {0}), {3},
           {std::log(1 + std::exp(3.0)), std::log(e + std::exp(3.0)), std::log(e * e + std::exp(3.0))}));
  const double all = std::log(1 + e + e * e + 3 * std::exp(3.0));
  EXPECT_TRUE(Near(logsumexp(x, {0, 1}), {}, {all}));
  EXPECT_TRUE(Near(logsumexp(x, {}), {}, {all}));
}

TEST(OpsReduce, LogsumexpIsStableForLargeValues) {
  EXPECT_TRUE(Near(logsumexp(T({1e4, 1e4}, {2}), {0}), {}, {1e4 + std::log(2.0)}));
  EXPECT_TRUE(Near(logsumexp(T({-1e4, -1e4}, {2}), {0}), {}, {-1e4 + std::log(2.0)}));
  EXPECT_TRUE(Near(logsumexp(T({1e4, 0}, {2}), {0}), {}, {1e4}));
  EXPECT_TRUE(Near(logsumexp(T({1e4, 1e4}, {2}, kFloat32), {0}), {}, {1e4 + std::log(2.0)}, 1e-6));
  EXPECT_TRUE(Near(logsumexp(T({-1e4, -1e4}, {2}, kFloat32), {0}), {}, {-1e4 + std::log(2.0)}, 1e-6));
  Tensor x = T({1e4, 1e4}, {2}, kFloat64, true);
  EXPECT_TRUE(Near(autograd::grad({logsumexp(x, {0})}, {x})[0], {2}, {0.5, 0.5}));
  Tensor x32 = T({1e4, 1e4 - 1}, {2}, kFloat32, true);
  const double s0 = 1 / (1 + std::exp(-1.0));
  EXPECT_TRUE(Near(autograd::grad({logsumexp(x32, {0})}, {x32})[0], {2}, {s0, 1 - s0}, 1e-6));
}

TEST(OpsReduce, LogsumexpGradientIsSoftmax) {
  Tensor x = T({0, 1, 2, 3, 3, 3}, {2, 3}, kFloat64, true);
  EXPECT_TRUE(
      Near(autograd::grad({sum(logsumexp(x, {1}))}, {x})[0], {2, 3}, softmax(x.detach(), 1).to_vector()));
}

// ---------------------------------------------------------------- softmax / log_softmax

TEST(OpsReduce, SoftmaxMatchesClosedFormAndRowsSumToOne) {
  Tensor x = T({1, 2, 3, 0, 0, 0}, {2, 3});
  const double e = std::exp(1.0), z = e + e * e + e * e * e;
  EXPECT_TRUE(Near(softmax(x, 1), {2, 3}, {e / z, e * e / z, e * e * e / z, 1. / 3, 1. / 3, 1. / 3}));
  EXPECT_TRUE(Near(softmax(x, -1), {2, 3}, {e / z, e * e / z, e * e * e / z, 1. / 3, 1. / 3, 1. / 3}));
  std::vector<double> col;
  for (double v : {e, e * e, e * e * e}) col.push_back(v / (v + 1));
  EXPECT_TRUE(Near(softmax(x, 0), {2, 3}, {col[0], col[1], col[2], 1 - col[0], 1 - col[1], 1 - col[2]}));
  EXPECT_TRUE(Near(
      log_softmax(x, 1), {2, 3},
      {1 - std::log(z), 2 - std::log(z), 3 - std::log(z), -std::log(3.0), -std::log(3.0), -std::log(3.0)}));
  manual_seed(11);
  Tensor r = randn({3, 4, 5}, kFloat64) * 3;
  EXPECT_TRUE(Near(sum(softmax(r, -1), {-1}), {3, 4}, std::vector<double>(12, 1.0)));
  EXPECT_TRUE(Near(sum(softmax(r, 1), {1}), {3, 5}, std::vector<double>(15, 1.0)));
  EXPECT_TRUE(Near(sum(exp(log_softmax(r, 0)), {0}), {4, 5}, std::vector<double>(20, 1.0)));
  EXPECT_TRUE(Near(log_softmax(r, 1), {3, 4, 5}, log(softmax(r, 1)).to_vector(), 1e-10));
}

// Rows with infinities or nan: -inf is a class with probability 0; a row with +inf, a nan or only
// -inf is all nan (PyTorch's x - max gives inf - inf there). Lines along dim 0 are strided.
TEST(OpsReduce, SoftmaxAndLogSoftmaxOfInfAndNanRowsAreTorchs) {
  const double inf = INFINITY, nan = NAN;
  for (Dtype d : {kFloat64, kFloat32}) {
    SCOPED_TRACE(dtype_name(d));
    Tensor x = T({-inf, 0, inf, 0, -inf, -inf, nan, 0, 0, 0}, {5, 2}, d);
    EXPECT_TRUE(Near(softmax(x, 1), {5, 2}, {0, 1, nan, nan, nan, nan, nan, nan, 0.5, 0.5}));
    Tensor l = log_softmax(x, 1);
    EXPECT_EQ(l.at({0, 0}), -inf);
    EXPECT_TRUE(Near(narrow(l, 0, 1, 4), {4, 2},
                     {nan, nan, nan, nan, nan, nan, -std::log(2.0), -std::log(2.0)}, 1e-7));
    EXPECT_TRUE(Near(softmax(transpose(x, 0, 1).contiguous(), 0), {2, 5},
                     {0, nan, nan, nan, 0.5, 1, nan, nan, nan, 0.5}));
    // the gradient at a -inf logit: g - e^-inf Σ g = g, finite
    Tensor xr = T({-inf, 0, 1}, {3}, d, true);
    Tensor g = autograd::grad({sum(T({1, 0, 0}, {3}, d) * log_softmax(xr, 0))}, {xr})[0];
    const double p1 = 1 / (1 + std::exp(1.0));
    EXPECT_TRUE(Near(g, {3}, {1, -p1, -(1 - p1)}, 1e-7));
  }
  EXPECT_TRUE(Near(softmax(T({3}, {}), 0), {}, {1}));
  EXPECT_TRUE(Near(log_softmax(T({3}, {}), 0), {}, {0}));
  EXPECT_EQ(softmax(zeros({0, 3}), 1).shape(), (Shape{0, 3}));
}

TEST(OpsReduce, SoftmaxAndLogSoftmaxAreStableFor1e4) {
  const double s0 = 1 / (1 + std::exp(-1.0)), l = std::log(1 + std::exp(-1.0));
  for (Dtype d : {kFloat64, kFloat32}) {
    SCOPED_TRACE(dtype_name(d));
    const double tol = d == kFloat64 ? 1e-12 : 1e-6;
    // finite and right to within float32's resolution at 1e4 (1e-3); full precision: next test
    const double ltol = d == kFloat64 ? 1e-12 : 1e-3;
    Tensor x = T({1e4, 1e4 - 1, -1e4}, {1, 3}, d);
    EXPECT_TRUE(Near(softmax(x, 1), {1, 3}, {s0, 1 - s0, 0}, tol));
    EXPECT_TRUE(Near(log_softmax(x, 1), {1, 3}, {-l, -1 - l, -2e4 - l}, ltol));
    Tensor same = T({1e4, 1e4, 1e4, 1e4}, {4}, d);
    EXPECT_TRUE(Near(softmax(same, 0), {4}, {.25, .25, .25, .25}, tol));
    Tensor neg = T({-1e4, -1e4}, {2}, d);
    EXPECT_TRUE(Near(log_softmax(neg, 0), {2}, {-std::log(2.0), -std::log(2.0)}, ltol));
    // gradients are finite, too
    Tensor xr = T({1e4, 1e4 - 1, -1e4}, {3}, d, true);
    Tensor w = T({1, 0, 0}, {3}, d);
    Tensor g = autograd::grad({sum(w * softmax(xr, 0))}, {xr})[0];
    EXPECT_TRUE(Near(g, {3}, {s0 * (1 - s0), -s0 * (1 - s0), 0}, tol));
    g = autograd::grad({sum(w * log_softmax(xr, 0))}, {xr})[0];
    EXPECT_TRUE(Near(g, {3}, {1 - s0, -(1 - s0), 0}, tol));
  }
}

// PyTorch computes log_softmax as (x - max) - log(sum(exp(x - max))), which keeps float32's full
// relative precision for the small entries even when |x| ~ 1e4. Computing x - logsumexp(x) instead
// rounds logsumexp to float32's spacing at 1e4 (~1e-3) before subtracting.
TEST(OpsReduce, LogSoftmaxFloat32IsPreciseAt1e4) {
  const double l = std::log(1 + std::exp(-1.0));
  EXPECT_TRUE(
      Near(log_softmax(T({1e4, 1e4 - 1, -1e4}, {3}, kFloat32), 0), {3}, {-l, -1 - l, -2e4 - l}, 1e-6));
  EXPECT_TRUE(
      Near(log_softmax(T({-1e4, -1e4}, {2}, kFloat32), 0), {2}, {-std::log(2.0), -std::log(2.0)}, 1e-6));
}

TEST(OpsReduce, SoftmaxGradientsMatchClosedForm) {
  // L = sum(w * softmax(x)): dL/dx = s * (w - sum(w * s)); L = sum(w * log_softmax(x)): w - s * sum(w)
  Tensor x = T({1, 2, 3}, {3}, kFloat64, true);
  Tensor w = T({1, -2, 0.5}, {3});
  std::vector<double> s = softmax(x.detach(), 0).to_vector(), ws(3), wl(3);
  const double dot = 1 * s[0] - 2 * s[1] + 0.5 * s[2], wsum = -0.5;
  for (int i = 0; i < 3; ++i) {
    ws[i] = s[i] * (w.at(i) - dot);
    wl[i] = w.at(i) - s[i] * wsum;
  }
  EXPECT_TRUE(Near(autograd::grad({sum(w * softmax(x, 0))}, {x})[0], {3}, ws));
  EXPECT_TRUE(Near(autograd::grad({sum(w * log_softmax(x, -1))}, {x})[0], {3}, wl));
}

// ---------------------------------------------------------------- gradcheck / gradgradcheck

TEST(OpsReduce, GradcheckAllReductions) {
  manual_seed(5);
  std::vector<GradCase> cases = {
      {"sum", [](In x) { return sum(x[0]); }, {Leaf({2, 3, 4})}},
      {"sum {0}", [](In x) { return sum(x[0], {0}); }, {Leaf({2, 3, 4})}},
      {"sum {-1} keepdim", [](In x) { return sum(x[0], {-1}, true); }, {Leaf({2, 3, 4})}},
      {"sum {0,2}", [](In x) { return sum(x[0], {0, 2}); }, {Leaf({2, 3, 4})}},
      {"x.sum()", [](In x) { return x[0].sum(); }, {Leaf({3})}},
      {"mean", [](In x) { return mean(x[0]); }, {Leaf({2, 3, 4})}},
      {"mean {1}", [](In x) { return mean(x[0], {1}); }, {Leaf({2, 3, 4})}},
      {"mean {0,2} keepdim", [](In x) { return mean(x[0], {0, 2}, true); }, {Leaf({2, 3, 4})}},
      {"x.mean({0})", [](In x) { return x[0].mean({0}); }, {Leaf({2, 3})}},
      {"amax", [](In x) { return amax(x[0]); }, {Leaf({2, 3, 4})}},
      {"amax {1}", [](In x) { return amax(x[0], {1}); }, {Leaf({2, 3, 4})}},
      {"amin {0,2} keepdim", [](In x) { return amin(x[0], {0, 2}, true); }, {Leaf({2, 3, 4})}},
      {"max", [](In x) { return max(x[0]); }, {Leaf({2, 3})}},
      {"min", [](In x) { return min(x[0]); }, {Leaf({2, 3})}},
      {"max(x, 1).values", [](In x) { return max(x[0], 1).first; }, {Leaf({3, 4})}},
      {"max(x, 0, keepdim).values", [](In x) { return max(x[0], 0, true).first; }, {Leaf({3, 4})}},
      {"min(x, -1).values", [](In x) { return min(x[0], -1).first; }, {Leaf({2, 3, 4})}},
      {"var", [](In x) { return var(x[0]); }, {Leaf({2, 3, 4})}},
      {"var {1} correction 0", [](In x) { return var(x[0], {1}, 0.0); }, {Leaf({2, 3, 4})}},
      {"var {0,2} keepdim", [](In x) { return var(x[0], {0, 2}, 1.0, true); }, {Leaf({2, 3, 4})}},
      {"logsumexp {1}", [](In x) { return logsumexp(x[0], {1}); }, {Leaf({2, 3, 4})}},
      {"logsumexp {0,1}", [](In x) { return logsumexp(x[0], {0, 1}); }, {Leaf({2, 3})}},
      {"logsumexp {-1} keepdim", [](In x) { return logsumexp(x[0], {-1}, true); }, {Leaf({2, 3})}},
      {"softmax -1", [](In x) { return softmax(x[0], -1); }, {Leaf({3, 5})}},
      {"softmax 0", [](In x) { return softmax(x[0], 0); }, {Leaf({3, 5})}},
      {"softmax 3-D dim 1", [](In x) { return softmax(x[0], 1); }, {Leaf({2, 3, 4})}},
      {"log_softmax -1", [](In x) { return log_softmax(x[0], -1); }, {Leaf({3, 5})}},
      {"log_softmax 0", [](In x) { return log_softmax(x[0], 0); }, {Leaf({3, 5})}},
      {"log_softmax 3-D dim 1", [](In x) { return log_softmax(x[0], 1); }, {Leaf({2, 3, 4})}},
      {"mean(softmax * x)", [](In x) { return mean(softmax(x[0], 1) * x[0]); }, {Leaf({2, 4})}},
  };
  RunGradCases(cases);
}

}  // namespace

// Found by the op fuzzer (tests/python/test_op_fuzz_regressions.py has the torch comparisons).
TEST(OpsReduce, StdOfEqualValuesIsExactlyZeroWithZeroGradient) {
  for (int64_t n : {3, 6, 7}) {
    Tensor x = full({n}, -1.2345, kFloat64);
    x.set_requires_grad(true);
    Tensor s = chainrule::std(x, {}, 1.0, false);
    EXPECT_EQ(s.item(), 0.0) << n;  // a rounded mean would leave ~1e-16
    s.backward();
    EXPECT_TRUE(Near(x.grad(), {n}, std::vector<double>(n, 0.0)));
    EXPECT_EQ(var(x.detach(), {}, 1.0, false).item(), 0.0);
  }
}

TEST(OpsReduce, RepeatedDimsOfA0dTensorAreRejected) {
  Tensor x = scalar_tensor(0.5, kFloat64);
  EXPECT_TRUE(
      Contains(Thrown<std::invalid_argument>([&] { sum(x, {0, -1}); }), "sum: dim 0 appears more than once"));
  EXPECT_TRUE(Near(sum(x, {-1}), {}, {0.5}));
}

TEST(OpsShape, ScatterAddReadsTheIndexShapedCornerOfALargerSrc) {
  Tensor src = T({0, 1, 2, 3, 4, 5}, {2, 3}, kFloat64, true);
  Tensor idx = tensor({1, 0}, {2, 1}, kInt64);
  Tensor y = scatter_add(zeros({2, 2}, kFloat64), 1, idx, src);  // reads src[:, :1] = 0, 3
  EXPECT_TRUE(Near(y, {2, 2}, {0, 0, 3, 0}));
  y.sum().backward();
  EXPECT_TRUE(Near(src.grad(), {2, 3}, {1, 0, 0, 1, 0, 0}));
  EXPECT_THROW(flatten(scalar_tensor(1.0, kFloat64), 1), std::out_of_range);  // dims of a 0-d: 0 / -1
}

TEST(OpsReduce, TensorStatsAgreeWithTheirDefinitionsInDouble) {
  // lengths on both sides of the vectorised path's width, float32 and float64, and a strided view
  for (Dtype dt : {kFloat32, kFloat64}) {
    for (int64_t n : {1, 2, 3, 7, 8, 9, 16, 17, 31, 32, 33, 255, 256, 257, 511, 513}) {  // blocks of 256
      std::vector<double> v(n);
      for (int64_t i = 0; i < n; ++i) v[i] = 0.25 * double(i) - 1.5 + (i % 3 == 0 ? 1e3 : 0.0);
      Tensor x = tensor(v, {n}, dt);
      TensorStats s = tensor_stats(x);
      double mean = 0, ss = 0, c = 0;
      for (double e : v) mean += e, ss += e * e;
      mean /= double(n);
      for (double e : v) c += (e - mean) * (e - mean);
      EXPECT_EQ(s.numel, n);
      EXPECT_EQ(s.nan, 0);
      EXPECT_EQ(s.inf, 0);
      EXPECT_NEAR(s.mean, mean, 1e-12 * std::abs(mean) + 1e-14);
      EXPECT_NEAR(s.sumsq, ss, 1e-13 * ss);
      if (n > 1) {
        EXPECT_NEAR(s.std, std::sqrt(c / double(n - 1)), 1e-11 * std::sqrt(c / double(n - 1)));
      } else {
        EXPECT_TRUE(std::isnan(s.std));
      }
    }
  }
  Tensor m = tensor({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64);
  TensorStats t = tensor_stats(transpose(m, 0, 1));  // a non-contiguous view: same elements
  EXPECT_EQ(t.numel, 6);
  EXPECT_DOUBLE_EQ(t.mean, 3.5);
  EXPECT_DOUBLE_EQ(t.sumsq, 91.0);
  EXPECT_NEAR(t.std, std::sqrt(17.5 / 5.0), 1e-15);
}

TEST(OpsReduce, TensorStatsCountNonFiniteValuesAndPropagateThemAsNumPy) {
  Tensor x = tensor({1.0, NAN, INFINITY, -INFINITY, -0.0, 5e-324}, {6}, kFloat64);
  TensorStats s = tensor_stats(x);
  EXPECT_EQ(s.nan, 1);
  EXPECT_EQ(s.inf, 2);
  EXPECT_TRUE(std::isnan(s.mean));
  EXPECT_TRUE(std::isnan(s.std));
  TensorStats p = tensor_stats(tensor({1.0, INFINITY}, {2}, kFloat32));
  EXPECT_EQ(p.inf, 1);
  EXPECT_TRUE(std::isinf(p.mean) && p.mean > 0);  // NumPy: mean([1, inf]) = inf, std = nan
  EXPECT_TRUE(std::isnan(p.std));
  TensorStats e = tensor_stats(zeros({0, 3}, kFloat32));  // empty: no values, no mean
  EXPECT_EQ(e.numel, 0);
  EXPECT_TRUE(std::isnan(e.mean) && std::isnan(e.std));
  EXPECT_EQ(e.sumsq, 0.0);
  TensorStats z = tensor_stats(scalar_tensor(-2.0, kFloat64));  // 0-d: one value
  EXPECT_EQ(z.numel, 1);
  EXPECT_EQ(z.mean, -2.0);
  EXPECT_EQ(z.sumsq, 4.0);
  TensorStats sub = tensor_stats(tensor({1e-40, -1e-40}, {2}, kFloat32));  // float32 subnormals, exactly
  EXPECT_EQ(sub.mean, 0.0);
  EXPECT_GT(sub.std, 0.0);
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([] { tensor_stats(tensor({1, 2}, {2}, kInt64)); }),
                       "tensor_stats: expected a floating tensor, got int64"));
}

TEST(OpsReduce, TensorStatsOfADifferenceSubtractInDoubleWithoutACopy) {
  // 1 + 2^-23 and 1 differ by one float32 ulp: the difference is exact in double
  float a = 1.0f + std::ldexp(1.0f, -23);
  Tensor x = tensor({a, 3.0, -1.0}, {3}, kFloat32);
  Tensor y = tensor({1.0, 1.0, -1.0}, {3}, kFloat32);
  TensorStats d = tensor_stats(x, y);
  EXPECT_EQ(d.numel, 3);
  EXPECT_DOUBLE_EQ(d.mean, (std::ldexp(1.0, -23) + 2.0) / 3.0);
  EXPECT_DOUBLE_EQ(d.sumsq, std::ldexp(1.0, -46) + 4.0);
  TensorStats same = tensor_stats(x, x);
  EXPECT_EQ(same.sumsq, 0.0);
  EXPECT_EQ(same.std, 0.0);
  Tensor inf = tensor({INFINITY, 1.0, 2.0}, {3}, kFloat64);
  EXPECT_EQ(tensor_stats(inf, inf).nan, 1);  // inf - inf
  EXPECT_TRUE(Contains(
      Thrown<std::invalid_argument>([&] { tensor_stats(x, zeros({2}, kFloat32)); }),
      "tensor_stats: minus must have the input's shape and dtype, got (3,) float32 and (2,) float32"));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] { tensor_stats(x, zeros({3}, kFloat64)); }),
                       "got (3,) float32 and (3,) float64"));
}
