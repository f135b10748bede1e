// Layer ops: erf/gelu against their formulas, unfold/fold against hand-written blocks and as each
// other's adjoint, conv2d against a direct loop convolution, max/avg pooling against naive loops
// (ties, NaN, padding, dilation); float64 gradcheck + gradgradcheck for each, and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <functional>
#include <limits>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/gradcheck.h"
#include "core/ops_nn.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

void ExpectGradchecks(const std::string& name, const GradcheckFn& fn, const std::vector<Tensor>& inputs) {
  GradcheckResult r = gradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << "gradcheck " << name << ": " << r.message;
  r = gradgradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << "gradgradcheck " << name << ": " << r.message;
}

// ---- naive references on plain loops (x is (N, C, H, W) row-major) ----
struct Win {
  int64_t kh, kw, sh, sw, ph, pw, dh = 1, dw = 1;
  int64_t Ho(int64_t H) const { return (H + 2 * ph - dh * (kh - 1) - 1) / sh + 1; }
  int64_t Wo(int64_t W) const { return (W + 2 * pw - dw * (kw - 1) - 1) / sw + 1; }
};

// The direct definition: y[n,o,oh,ow] = b[o] + Σ_c Σ_i Σ_j w[o,c,i,j] x[n,c,oh*sh-ph+i*dh, ow*sw-pw+j*dw].
Tensor RefConv(const Tensor& x, const Tensor& w, const Tensor& b, const Win& k) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3), O = w.size(0);
  const int64_t Ho = k.Ho(H), Wo = k.Wo(W);
  std::vector<double> xv = x.to_vector(), wv = w.to_vector(), out;
  for (int64_t n = 0; n < N; ++n)
    for (int64_t o = 0; o < O; ++o)
      for (int64_t oh = 0; oh < Ho; ++oh)
        for (int64_t ow = 0; ow < Wo; ++ow) {
          double s = b.defined() ? b.at(o) : 0.0;
          for (int64_t c = 0; c < C; ++c)
            for (int64_t i = 0; i < k.kh; ++i)
              for (int64_t j = 0; j < k.kw; ++j) {
                const int64_t ih = oh * k.sh - k.ph + i * k.dh, iw = ow * k.sw - k.pw + j * k.dw;
                if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
                s += wv[((o * C + c) * k.kh + i) * k.kw + j] * xv[((n * C + c) * H + ih) * W + iw];
              }
          out.push_back(s);
        }
  return T(out, {N, O, Ho, Wo});
}

// Pools: "max" (padding is -inf; first max wins, as does any NaN), or average over kh*kw
// (count_include_pad) or over the real pixels.
enum class Pool { Max, AvgIncludePad, AvgExcludePad };
std::pair<std::vector<double>, std::vector<double>> RefPool(const Tensor& x, const Win& k, Pool kind) {
  const int64_t N = x.size(0), C = x.size(1), H = x.size(2), W = x.size(3);
  std::vector<double> xv = x.to_vector(), out, idx;
  for (int64_t p = 0; p < N * C; ++p)
    for (int64_t oh = 0; oh < k.Ho(H); ++oh)
      for (int64_t ow = 0; ow < k.Wo(W); ++ow) {
        double best = -INFINITY, sum = 0;
        int64_t arg = -1, count = 0;
        for (int64_t i = 0; i < k.kh; ++i)
          for (int64_t j = 0; j < k.kw; ++j) {
            const int64_t ih = oh * k.sh - k.ph + i * k.dh, iw = ow * k.sw - k.pw + j * k.dw;
            if (ih < 0 || ih >= H || iw < 0 || iw >= W) continue;
            const double v = xv[(p * H + ih) * W + iw];
            if (arg < 0) arg = ih * W + iw;
            if (v > best || std::isnan(v)) {
              best = v;
              arg = ih * W + iw;
            }
            sum += v;
            ++count;
          }
        out.push_back(kind == Pool::Max ? best : sum / (kind == Pool::AvgIncludePad ? k.kh * k.kw : count));
        idx.push_back(static_cast<double>(arg));
      }
  return {out, idx};
}

// ================================================================ erf, gelu
TEST(OpsNn, ErfValuesAndDerivative) {
  Tensor x = T({0.0, 0.5, -1.0, 2.0}, {4}, kFloat64, true);
  Tensor y = erf(x);
  EXPECT_TRUE(Near(y, {4}, {0.0, 0.5204998778130465, -0.8427007929497149, 0.9953222650189527}));
  sum(y).backward();
  std::vector<double> want;
  for (double v : {0.0, 0.5, -1.0, 2.0}) want.push_back(2.0 / std::sqrt(M_PI) * std::exp(-v * v));
  EXPECT_TRUE(Near(x.grad(), {4}, want));
  EXPECT_EQ(erf(T({1.0}, {1}, kFloat32)).dtype(), kFloat32);
  EXPECT_EQ(erf(tensor({1.0}, kInt64)).dtype(), kFloat32);  // integers compute in float32, as PyTorch
}

TEST(OpsNn, GeluMatchesItsFormulas) {
  const std::vector<double> xs{-3.0, -1.0, -0.25, 0.0, 0.5, 1.0, 4.0};
  std::vector<double> exact, approx;
  for (double v : xs) {
    exact.push_back(0.5 * v * (1 + std::erf(v / std::sqrt(2.0))));
    approx.push_back(0.5 * v * (1 + std::tanh(std::sqrt(2 / M_PI) * (v + 0.044715 * v * v * v))));
  }
  Tensor x = T(xs, {7});
  EXPECT_TRUE(Near(gelu(x), {7}, exact));
  EXPECT_TRUE(Near(gelu(x, "none"), {7}, exact));
  EXPECT_TRUE(Near(gelu(x, "tanh"), {7}, approx));
  EXPECT_NEAR(gelu(T({1.0}, {1})).item(), 0.8413447460685429, 1e-15);  // x Φ(x) at 1
  EXPECT_EQ(gelu(T({1.0}, {1}, kFloat32), "tanh").dtype(), kFloat32);
}

TEST(OpsNn, GeluDerivativeIsPhiPlusXTimesDensity) {
  // d/dx x Φ(x) = Φ(x) + x φ(x)
  Tensor x = T({-1.5, 0.0, 0.7}, {3}, kFloat64, true);
  sum(gelu(x)).backward();
  std::vector<double> want;
  for (double v : {-1.5, 0.0, 0.7})
    want.push_back(0.5 * (1 + std::erf(v / std::sqrt(2.0))) + v * std::exp(-v * v / 2) / std::sqrt(2 * M_PI));
  EXPECT_TRUE(Near(x.grad(), {3}, want));
}

TEST(OpsNn, ErfGeluGradchecks) {
  manual_seed(1);
  ExpectGradchecks("erf", [](In v) { return erf(v[0]); }, {Leaf({2, 3})});
  ExpectGradchecks("gelu none", [](In v) { return gelu(v[0]); }, {Leaf({2, 3})});
  ExpectGradchecks("gelu tanh", [](In v) { return gelu(v[0], "tanh"); }, {Leaf({2, 3})});
}

TEST(OpsNn, GeluRejectsUnknownApproximation) {
  std::string msg = Thrown<std::invalid_argument>([] { gelu(T({1.0}, {1}), "sigmoid"); });
  EXPECT_EQ(msg, "gelu: expected approximate 'none' or 'tanh', got 'sigmoid'");
}

// ================================================================ unfold, fold
TEST(OpsNn, UnfoldHandComputed) {
  // x = [[0 1 2] [3 4 5] [6 7 8]], 2x2 blocks at stride 1: one row per kernel tap, one column per block
  Tensor x = reshape(arange(0, 9, 1, kFloat64), {1, 1, 3, 3});
  EXPECT_TRUE(Near(unfold(x, {2, 2}), {1, 4, 4}, {0, 1, 3, 4, 1, 2, 4, 5, 3, 4, 6, 7, 4, 5, 7, 8}));
  // padding 1, stride 2: blocks at (-1,-1), (-1,1), (1,-1), (1,1); zeros in the padding
  EXPECT_TRUE(
      Near(unfold(x, {2, 2}, {2, 2}, {1, 1}), {1, 4, 4}, {0, 0, 0, 4, 0, 0, 3, 5, 0, 1, 0, 7, 0, 2, 6, 8}));
  // dilation 2: the four corners
  EXPECT_TRUE(Near(unfold(x, {2, 2}, {1, 1}, {0, 0}, {2, 2}), {1, 4, 1}, {0, 2, 6, 8}));
}

TEST(OpsNn, UnfoldRowsOrderChannelThenKernelTap) {
  // Two channels: rows are (c*kh + i)*kw + j, as torch.nn.functional.unfold.
  Tensor x = reshape(arange(0, 8, 1, kFloat64), {1, 2, 2, 2});
  EXPECT_TRUE(Near(unfold(x, {1, 2}), {1, 4, 2}, {0, 2, 1, 3, 4, 6, 5, 7}));
  EXPECT_TRUE(Near(unfold(reshape(x, {2, 2, 2}), {1, 2}), {4, 2}, {0, 2, 1, 3, 4, 6, 5, 7}));  // unbatched
}

TEST(OpsNn, FoldSumsOverlappingBlocks) {
  // Folding the unfolded ones counts how many 2x2 blocks cover each pixel.
  Tensor cols = ones({1, 4, 4}, kFloat64);
  EXPECT_TRUE(Near(fold(cols, {3, 3}, {2, 2}), {1, 1, 3, 3}, {1, 2, 1, 2, 4, 2, 1, 2, 1}));
  EXPECT_TRUE(Near(fold(ones({4, 4}, kFloat64), {3, 3}, {2, 2}), {1, 3, 3}, {1, 2, 1, 2, 4, 2, 1, 2, 1}));
  // With padding, the entries that fell in the padding are dropped.
  Tensor x = reshape(arange(1, 10, 1, kFloat64), {1, 1, 3, 3});
  Tensor back = fold(unfold(x, {3, 3}, {2, 2}, {1, 1}), {3, 3}, {3, 3}, {2, 2}, {1, 1});
  // Each pixel is seen by as many of the 4 blocks (origins -1 and 1 in each axis) as cover it.
  std::vector<double> want;
  for (int64_t i = 0; i < 3; ++i)
    for (int64_t j = 0; j < 3; ++j) want.push_back((i * 3 + j + 1) * (i == 1 ? 2 : 1) * (j == 1 ? 2 : 1));
  EXPECT_TRUE(Near(back, {1, 1, 3, 3}, want));
}

TEST(OpsNn, FoldIsTheAdjointOfUnfold) {
  // <unfold(x), c> = <x, fold(c)> for any x, c: the two are transposes of one linear map.
  manual_seed(2);
  Tensor x = randn({2, 3, 5, 6}, kFloat64);
  Size2 k{2, 3}, s{2, 1}, p{1, 2}, d{1, 2};
  Tensor u = unfold(x, k, s, p, d);
  Tensor c = randn(u.shape(), kFloat64);
  EXPECT_NEAR(sum(u * c).item(), sum(x * fold(c, {5, 6}, k, s, p, d)).item(), 1e-10);
  EXPECT_EQ(u.shape(), (Shape{2, 3 * 2 * 3, 3 * 6}));  // Ho = (5+2-2)/2+1 = 3, Wo = (6+4-5)/1+1 = 6
}

TEST(OpsNn, UnfoldMatchesNaiveLoops) {
  manual_seed(3);
  Tensor x = randn({2, 3, 5, 6}, kFloat64);
  const Win k{2, 3, 2, 1, 1, 2, 1, 2};
  const int64_t Ho = k.Ho(5), Wo = k.Wo(6), L = Ho * Wo;
  std::vector<double> xv = x.to_vector(), want(static_cast<size_t>(2 * 3 * 6 * L), 0.0);
  for (int64_t n = 0; n < 2; ++n)
    for (int64_t c = 0; c < 3; ++c)
      for (int64_t i = 0; i < 2; ++i)
        for (int64_t j = 0; j < 3; ++j)
          for (int64_t oh = 0; oh < Ho; ++oh)
            for (int64_t ow = 0; ow < Wo; ++ow) {
              const int64_t ih = oh * 2 - 1 + i, iw = ow - 2 + j * 2;
              if (ih >= 0 && ih < 5 && iw >= 0 && iw < 6)
                want[((n * 18) + (c * 2 + i) * 3 + j) * L + oh * Wo + ow] =
                    xv[((n * 3 + c) * 5 + ih) * 6 + iw];
            }
  EXPECT_TRUE(Near(unfold(x, {2, 3}, {2, 1}, {1, 2}, {1, 2}), {2, 18, L}, want));
  Tensor xf = x.to(kFloat32);
  EXPECT_EQ(unfold(xf, {2, 3}, {2, 1}, {1, 2}, {1, 2}).dtype(), kFloat32);
  EXPECT_TRUE(Near(unfold(xf, {2, 3}, {2, 1}, {1, 2}, {1, 2}).to(kFloat64), {2, 18, L}, want, 1e-6));
}

TEST(OpsNn, UnfoldFoldGradchecks) {
  manual_seed(4);
  ExpectGradchecks("unfold", [](In v) { return unfold(v[0], {2, 2}, {1, 2}, {1, 0}); }, {Leaf({2, 2, 3, 4})});
  ExpectGradchecks("unfold dilated", [](In v) { return unfold(v[0], {2, 2}, {1, 1}, {1, 1}, {2, 1}); },
                   {Leaf({1, 2, 3, 3})});
  ExpectGradchecks("fold", [](In v) { return fold(v[0], {3, 4}, {2, 2}, {1, 2}, {1, 0}); },
                   {Leaf({2, 8, 8})});
  // Nonlinear around them, so the second derivative is not zero and really flows through both.
  ExpectGradchecks("fold(unfold(x)^2)",
                   [](In v) {
                     Tensor u = unfold(v[0], {2, 2});
                     return fold(u * u, {3, 3}, {2, 2});
                   },
                   {Leaf({1, 2, 3, 3})});
}

// ================================================================ conv2d
TEST(OpsNn, Conv2dHandComputed) {
  // 3x3 input, 2x2 kernel of ones: each output is the sum of a 2x2 block (no kernel flip).
  Tensor x = reshape(arange(0, 9, 1, kFloat64), {1, 1, 3, 3});
  Tensor w = T({1, 0, 0, -1}, {1, 1, 2, 2});  // x[i][j] - x[i+1][j+1]
  EXPECT_TRUE(Near(conv2d(x, w), {1, 1, 2, 2}, {-4, -4, -4, -4}));
  EXPECT_TRUE(
      Near(conv2d(x, ones({1, 1, 2, 2}, kFloat64), T({0.5}, {1})), {1, 1, 2, 2}, {8.5, 12.5, 20.5, 24.5}));
}

TEST(OpsNn, Conv2dMatchesDirectLoops) {
  manual_seed(5);
  struct Case {
    Shape x, w;
    Win k;
    bool bias;
  };
  const std::vector<Case> cases{
      {{2, 3, 7, 6}, {4, 3, 3, 3}, {3, 3, 1, 1, 0, 0}, true},
      {{2, 3, 7, 6}, {4, 3, 3, 3}, {3, 3, 2, 2, 1, 1}, true},
      {{1, 2, 8, 5}, {3, 2, 3, 2}, {3, 2, 2, 3, 2, 1}, false},
      {{3, 1, 8, 8}, {5, 1, 5, 5}, {5, 5, 1, 1, 2, 2}, true},        // "same" padding
      {{2, 2, 9, 7}, {2, 2, 3, 2}, {3, 2, 1, 2, 1, 0, 2, 3}, true},  // dilated
      {{1, 2, 1, 1}, {3, 2, 1, 1}, {1, 1, 1, 1, 0, 0}, true},        // 1x1
  };
  for (const Case& c : cases) {
    Tensor x = randn(c.x, kFloat64), w = randn(c.w, kFloat64);
    Tensor b = c.bias ? randn({c.w[0]}, kFloat64) : Tensor();
    Tensor y = conv2d(x, w, b, {c.k.sh, c.k.sw}, {c.k.ph, c.k.pw}, {c.k.dh, c.k.dw});
    Tensor want = RefConv(x, w, b, c.k);
    EXPECT_TRUE(Near(y, want.shape(), want.to_vector(), 1e-12)) << "input " << shape_str(c.x);
    Tensor y32 = conv2d(x.to(kFloat32), w.to(kFloat32), c.bias ? b.to(kFloat32) : Tensor(), {c.k.sh, c.k.sw},
                        {c.k.ph, c.k.pw}, {c.k.dh, c.k.dw});
    EXPECT_EQ(y32.dtype(), kFloat32);
    EXPECT_TRUE(Near(y32.to(kFloat64), want.shape(), want.to_vector(), 1e-5)) << "float32 " << shape_str(c.x);
  }
}

TEST(OpsNn, Conv2dUnbatchedInput) {
  manual_seed(6);
  Tensor x = randn({2, 5, 5}, kFloat64), w = randn({3, 2, 3, 3}, kFloat64), b = randn({3}, kFloat64);
  Tensor y = conv2d(x, w, b, {1, 1}, {1, 1});
  Tensor want = RefConv(reshape(x, {1, 2, 5, 5}), w, b, {3, 3, 1, 1, 1, 1});
  EXPECT_TRUE(Near(y, {3, 5, 5}, want.to_vector()));
}

TEST(OpsNn, Conv2dGradientsMatchClosedForms) {
  // y = conv(x, w) + b, L = Σ y: dL/db = number of outputs per channel, dL/dw[o,c,i,j] = Σ of the
  // pixels tap (i,j) sees, dL/dx[p] = Σ_o of the weights that touch pixel p.
  Tensor x = T({1, 2, 3, 4, 5, 6, 7, 8, 9}, {1, 1, 3, 3}, kFloat64, true);
  Tensor w = T({1, 2, 3, 4}, {1, 1, 2, 2}, kFloat64, true);
  Tensor b = T({0.0}, {1}, kFloat64, true);
  sum(conv2d(x, w, b)).backward();
  EXPECT_TRUE(Near(b.grad(), {1}, {4}));
  EXPECT_TRUE(Near(w.grad(), {1, 1, 2, 2}, {1 + 2 + 4 + 5, 2 + 3 + 5 + 6, 4 + 5 + 7 + 8, 5 + 6 + 8 + 9}));
  EXPECT_TRUE(Near(x.grad(), {1, 1, 3, 3}, {1, 3, 2, 4, 10, 6, 3, 7, 4}));
}

TEST(OpsNn, Conv2dGradchecks) {
  manual_seed(7);
  ExpectGradchecks("conv2d stride 2 pad 1", [](In v) { return conv2d(v[0], v[1], v[2], {2, 2}, {1, 1}); },
                   {Leaf({2, 2, 4, 4}), Leaf({3, 2, 2, 2}), Leaf({3})});
  ExpectGradchecks("conv2d no bias, rectangular, dilated",
                   [](In v) { return conv2d(v[0], v[1], Tensor(), {1, 2}, {0, 1}, {2, 1}); },
                   {Leaf({1, 2, 5, 4}), Leaf({2, 2, 2, 3})});
  ExpectGradchecks("conv2d unbatched", [](In v) { return conv2d(v[0], v[1], v[2]); },
                   {Leaf({1, 3, 3}), Leaf({2, 1, 2, 2}), Leaf({2})});
  // conv of a conv: second derivatives mix x and both weights
  ExpectGradchecks("conv2d twice",
                   [](In v) { return conv2d(tanh(conv2d(v[0], v[1], Tensor(), {1, 1}, {1, 1})), v[2]); },
                   {Leaf({1, 1, 4, 4}), Leaf({2, 1, 3, 3}), Leaf({1, 2, 2, 2})});
}

TEST(OpsNn, Conv2dHessianVectorProductIsBilinear) {
  // L = Σ conv(x, w)^2 / 2. The mixed second derivative d/dw <dL/dx, v> is nonzero only if the
  // backward of unfold (fold) records its own graph.
  manual_seed(8);
  Tensor x = Leaf({1, 1, 4, 4}), w = Leaf({1, 1, 2, 2});
  Tensor y = conv2d(x, w);
  Tensor L = sum(y * y) * 0.5;
  Tensor gx = autograd::grad({L}, {x}, {}, true, true)[0];
  ASSERT_TRUE(gx.requires_grad());
  Tensor v = randn({1, 1, 4, 4}, kFloat64);
  Tensor gw = autograd::grad({sum(gx * v)}, {w})[0];
  EXPECT_GT(sum(gw * gw).item(), 1e-6);
}

// ================================================================ max_pool2d
TEST(OpsNn, MaxPoolHandComputed) {
  Tensor x = T({1, 5, 2, 0,  //
                3, 4, 8, 6,  //
                7, 0, 1, 2,  //
                9, 9, 3, 3},
               {1, 1, 4, 4}, kFloat64, true);
  auto [y, idx] = max_pool2d_with_indices(x, {2, 2});
  EXPECT_TRUE(Near(y, {1, 1, 2, 2}, {5, 8, 9, 3}));
  EXPECT_EQ(idx.dtype(), kInt64);
  // ties: the first in row-major order within the window (12 not 13; 14 not 15)
  EXPECT_TRUE(Near(idx, {1, 1, 2, 2}, {1, 6, 12, 14}));
  sum(y).backward();
  EXPECT_TRUE(Near(x.grad(), {1, 1, 4, 4}, {0, 1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 1, 0}));
}

TEST(OpsNn, MaxPoolOverlappingWindowsAccumulateGradient) {
  // 3x3 input, 2x2 windows at stride 1: the center 9 is the max of all four windows.
  Tensor x = T({1, 2, 3, 4, 9, 5, 6, 7, 8}, {1, 1, 3, 3}, kFloat64, true);
  Tensor y = max_pool2d(x, {2, 2}, Size2{1, 1});
  EXPECT_TRUE(Near(y, {1, 1, 2, 2}, {9, 9, 9, 9}));
  sum(y * T({1, 2, 3, 4}, {1, 1, 2, 2})).backward();
  EXPECT_TRUE(Near(x.grad(), {1, 1, 3, 3}, {0, 0, 0, 0, 10, 0, 0, 0, 0}));
}

TEST(OpsNn, MaxPoolPaddingIsMinusInfinity) {
  // All-negative input: zero padding would win; -inf padding must not.
  Tensor x = T({-1, -2, -3, -4}, {1, 1, 2, 2});
  EXPECT_TRUE(
      Near(max_pool2d(x, {2, 2}, Size2{1, 1}, {1, 1}), {1, 1, 3, 3}, {-1, -1, -2, -1, -1, -2, -3, -3, -4}));
}

TEST(OpsNn, MaxPoolNaNWins) {
  const double nan = std::numeric_limits<double>::quiet_NaN();
  Tensor x = T({1, nan, 3, 2}, {1, 1, 2, 2});
  auto [y, idx] = max_pool2d_with_indices(x, {2, 2});
  EXPECT_TRUE(std::isnan(y.item()));
  EXPECT_EQ(idx.item(), 1);
}

TEST(OpsNn, MaxPoolMatchesNaiveLoops) {
  manual_seed(9);
  struct Case {
    Shape x;
    Win k;
  };
  const std::vector<Case> cases{
      {{2, 3, 8, 8}, {2, 2, 2, 2, 0, 0}},
      {{2, 3, 7, 6}, {3, 3, 2, 2, 1, 1}},
      {{1, 2, 7, 9}, {3, 2, 1, 3, 1, 1}},
      {{1, 2, 9, 8}, {3, 3, 2, 1, 2, 1, 2, 2}},  // dilated
  };
  for (const Case& c : cases) {
    Tensor x = randn(c.x, kFloat64);
    // round to a coarse grid so that windows have ties, which must resolve like PyTorch
    x = T(
        [&] {
          std::vector<double> v = x.to_vector();
          for (double& e : v) e = std::round(e * 2);
          return v;
        }(),
        c.x);
    auto [want, want_idx] = RefPool(x, c.k, Pool::Max);
    Shape os{c.x[0], c.x[1], c.k.Ho(c.x[2]), c.k.Wo(c.x[3])};
    auto [y, idx] = max_pool2d_with_indices(x, {c.k.kh, c.k.kw}, Size2{c.k.sh, c.k.sw}, {c.k.ph, c.k.pw},
                                            {c.k.dh, c.k.dw});
    EXPECT_TRUE(Near(y, os, want)) << shape_str(c.x);
    EXPECT_TRUE(Near(idx, os, want_idx)) << shape_str(c.x);
    EXPECT_TRUE(Near(max_pool2d(x.to(kFloat32), {c.k.kh, c.k.kw}, Size2{c.k.sh, c.k.sw}, {c.k.ph, c.k.pw},
                                {c.k.dh, c.k.dw})
                         .to(kFloat64),
                     os, want));
  }
}

TEST(OpsNn, MaxPoolStrideDefaultsToKernelAndUnbatched) {
  Tensor x = reshape(arange(0, 36, 1, kFloat64), {1, 6, 6});
  EXPECT_TRUE(Near(max_pool2d(x, {3, 3}), {1, 2, 2}, {14, 17, 32, 35}));
  EXPECT_TRUE(Near(max_pool2d(x, {3, 2}, std::nullopt), {1, 2, 3}, {13, 15, 17, 31, 33, 35}));
}

TEST(OpsNn, MaxPoolGradchecks) {
  manual_seed(10);  // distinct random values: no ties within finite-difference steps
  ExpectGradchecks("max_pool2d", [](In v) { return max_pool2d(v[0], {2, 2}); }, {Leaf({2, 2, 4, 4})});
  ExpectGradchecks("max_pool2d stride 1 pad 1",
                   [](In v) { return max_pool2d(v[0], {3, 3}, Size2{1, 1}, {1, 1}); }, {Leaf({1, 2, 4, 3})});
  ExpectGradchecks("max_pool2d of a square",
                   [](In v) { return max_pool2d(v[0] * v[0], {2, 2}, Size2{1, 1}); }, {Leaf({1, 1, 3, 3})});
}

// ================================================================ avg_pool2d
TEST(OpsNn, AvgPoolHandComputed) {
  Tensor x = T({1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12, 13, 14, 15, 16}, {1, 1, 4, 4}, kFloat64, true);
  EXPECT_TRUE(Near(avg_pool2d(x, {2, 2}), {1, 1, 2, 2}, {3.5, 5.5, 11.5, 13.5}));
  // padding 1, stride 2: the corner window holds only x[0][0] = 1; divided by 4 (pad counts) or 1
  EXPECT_TRUE(Near(avg_pool2d(x, {2, 2}, Size2{2, 2}, {1, 1}), {1, 1, 3, 3},
                   {0.25, 1.25, 1, 3.5, 8.5, 5, 3.25, 7.25, 4}));
  EXPECT_TRUE(Near(avg_pool2d(x, {2, 2}, Size2{2, 2}, {1, 1}, false), {1, 1, 3, 3},
                   {1, 2.5, 4, 7, 8.5, 10, 13, 14.5, 16}));
  EXPECT_TRUE(Near(avg_pool2d(x, {2, 2}, std::nullopt, {0, 0}, true, 2), {1, 1, 2, 2}, {7, 11, 23, 27}));
  sum(avg_pool2d(x, {3, 3}, Size2{1, 1})).backward();  // each pixel: (windows covering it) / 9
  EXPECT_TRUE(Near(x.grad(), {1, 1, 4, 4},
                   {1 / 9., 2 / 9., 2 / 9., 1 / 9., 2 / 9., 4 / 9., 4 / 9., 2 / 9., 2 / 9., 4 / 9., 4 / 9.,
                    2 / 9., 1 / 9., 2 / 9., 2 / 9., 1 / 9.}));
}

TEST(OpsNn, AvgPoolMatchesNaiveLoops) {
  manual_seed(11);
  struct Case {
    Shape x;
    Win k;
  };
  const std::vector<Case> cases{
      {{2, 3, 8, 8}, {2, 2, 2, 2, 0, 0}},
      {{2, 3, 7, 6}, {3, 3, 2, 2, 1, 1}},
      {{1, 2, 7, 9}, {3, 2, 1, 3, 1, 1}},
      {{1, 1, 5, 5}, {5, 5, 1, 1, 2, 2}},
  };
  for (const Case& c : cases) {
    Tensor x = randn(c.x, kFloat64);
    Shape os{c.x[0], c.x[1], c.k.Ho(c.x[2]), c.k.Wo(c.x[3])};
    for (bool include : {true, false}) {
      auto want = RefPool(x, c.k, include ? Pool::AvgIncludePad : Pool::AvgExcludePad).first;
      Tensor y = avg_pool2d(x, {c.k.kh, c.k.kw}, Size2{c.k.sh, c.k.sw}, {c.k.ph, c.k.pw}, include);
      EXPECT_TRUE(Near(y, os, want)) << shape_str(c.x) << " count_include_pad=" << include;
    }
  }
}

TEST(OpsNn, AvgPoolGradchecks) {
  manual_seed(12);
  ExpectGradchecks("avg_pool2d", [](In v) { return avg_pool2d(v[0], {2, 2}); }, {Leaf({2, 2, 4, 4})});
  ExpectGradchecks("avg_pool2d pad, exclude pad",
                   [](In v) { return avg_pool2d(v[0], {3, 2}, Size2{2, 1}, {1, 1}, false); },
                   {Leaf({1, 2, 4, 3})});
  ExpectGradchecks("avg_pool2d of a square, unbatched",
                   [](In v) { return avg_pool2d(v[0] * v[0], {2, 2}, Size2{1, 1}); }, {Leaf({2, 3, 3})});
}

// ================================================================ a small CNN end to end
TEST(OpsNn, SmallCnnForwardBackwardShapes) {
  // The digits CNN's shape path: (N,1,8,8) -conv3 pad1-> (N,8,8,8) -pool2-> (N,8,4,4) -conv3 pad1->
  // (N,16,4,4) -avgpool2-> (N,16,2,2).
  manual_seed(13);
  Tensor x = randn({4, 1, 8, 8});
  Tensor w1 = randn({8, 1, 3, 3}).set_requires_grad(), b1 = zeros({8}).set_requires_grad();
  Tensor w2 = randn({16, 8, 3, 3}).set_requires_grad();
  Tensor h = max_pool2d(relu(conv2d(x, w1, b1, {1, 1}, {1, 1})), {2, 2});
  Tensor y = avg_pool2d(gelu(conv2d(h, w2, Tensor(), {1, 1}, {1, 1})), {2, 2});
  EXPECT_EQ(y.shape(), (Shape{4, 16, 2, 2}));
  sum(y).backward();
  EXPECT_EQ(w1.grad().shape(), w1.shape());
  EXPECT_EQ(b1.grad().shape(), b1.shape());
  EXPECT_EQ(w2.grad().shape(), w2.shape());
  EXPECT_GT(sum(w2.grad() * w2.grad()).item(), 0.0);
}

// ================================================================ errors
TEST(OpsNn, Conv2dErrors) {
  Tensor x = zeros({2, 4, 5, 5}), w = zeros({8, 3, 3, 3});
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(zeros({5, 5}), w); }),
            "conv2d: expected input (N, C, H, W) or (C, H, W), got (5, 5)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(x, zeros({8, 4, 3})); }),
            "conv2d: expected weight (out_channels, in_channels / groups, kh, kw), got (8, 4, 3)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(x, w); }),
            "conv2d: expected input with 3 channels for weight (8, 3, 3, 3), got input (2, 4, 5, 5)");
  Tensor w4 = zeros({8, 4, 3, 3});
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(x, w4, zeros({7})); }),
            "conv2d: expected bias of shape (8,), got (7,)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(x, zeros({8, 4, 3, 3}, kFloat64)); }),
            "conv2d: expected input, weight and bias of one dtype, got float32, float64; convert one with "
            ".float() or "
            ".double()");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(x, zeros({1, 4, 6, 3})); }),
            "conv2d: expected a kernel no larger than the padded input (5, 5), got kernel_size (6, 3) for "
            "input (2, 4, 5, 5)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(x, zeros({1, 4, 6, 3}), Tensor(), {1, 1}, {0, 1}); }),
            "conv2d: expected a kernel no larger than the padded input (5, 7), got kernel_size (6, 3) for "
            "input (2, 4, 5, 5)");
  EXPECT_EQ(conv2d(x, zeros({1, 4, 6, 3}), Tensor(), {1, 1}, {1, 0}).shape(),
            (Shape{2, 1, 2, 3}));  // fits padded
}

TEST(OpsNn, WindowArgumentErrors) {
  Tensor x = zeros({1, 1, 5, 5});
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(x, zeros({1, 1, 3, 3}), Tensor(), {0, 1}); }),
            "conv2d: expected a positive stride, got (0, 1)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { conv2d(x, zeros({1, 1, 3, 3}), Tensor(), {1, 1}, {-1, 0}); }),
            "conv2d: expected a non-negative padding, got (-1, 0)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { unfold(x, {3, 3}, {1, 1}, {0, 0}, {0, 1}); }),
            "unfold: expected a positive dilation, got (0, 1)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { unfold(x, {0, 3}); }),
            "unfold: expected a positive kernel_size, got (0, 3)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { unfold(x, {3, 3}, {1, 1}, {0, 0}, {3, 1}); }),
            "unfold: expected a kernel no larger than the padded input (5, 5), got kernel_size (3, 3) "
            "(dilated: (7, 3)) for input (1, 1, 5, 5)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { unfold(zeros({5, 5}), {2, 2}); }),
            "unfold: expected input (N, C, H, W) or (C, H, W), got (5, 5)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { unfold(zeros({1, 1, 5, 5}, kInt64), {2, 2}); }),
            "unfold: expected a floating input (float32 or float64), got int64");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { max_pool2d(x, {2, 2}, Size2{-1, 2}); }),
            "max_pool2d: expected a positive stride, got (-1, 2)");
}

TEST(OpsNn, FoldErrors) {
  EXPECT_EQ(
      Thrown<std::invalid_argument>([] { fold(zeros({1, 5, 4}), {3, 3}, {2, 2}); }),
      "fold: expected input.size(1) divisible by kh*kw = 4, got input (1, 5, 4) for kernel_size (2, 2)");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([] { fold(zeros({1, 4, 5}), {3, 3}, {2, 2}); }),
      "fold: expected input.size(2) to be the number of sliding blocks 2 * 2 = 4 for output_size (3, 3), "
      "got input (1, 4, 5)");
  EXPECT_EQ(Thrown<std::invalid_argument>([] { fold(zeros({4}), {3, 3}, {2, 2}); }),
            "fold: expected input (N, C*kh*kw, L) or (C*kh*kw, L), got (4,)");
  EXPECT_EQ(Thrown<std::invalid_argument>([] { fold(zeros({1, 4, 1}), {1, 3}, {2, 2}); }),
            "fold: expected a kernel no larger than the padded input (1, 3), got kernel_size (2, 2) for "
            "output_size (1, 3)");
}

TEST(OpsNn, PoolErrors) {
  Tensor x = zeros({1, 1, 4, 4});
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { max_pool2d(x, {2, 2}, std::nullopt, {2, 0}); }),
      "max_pool2d: expected padding at most half the kernel size, got padding (2, 0) for kernel_size (2, 2)");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { avg_pool2d(x, {3, 3}, std::nullopt, {0, 2}); }),
      "avg_pool2d: expected padding at most half the kernel size, got padding (0, 2) for kernel_size (3, 3)");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { max_pool2d(x, {5, 2}); }),
      "max_pool2d: expected a kernel no larger than the padded input (4, 4), got kernel_size (5, 2) for "
      "input (1, 1, 4, 4)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { avg_pool2d(zeros({4, 4}), {2, 2}); }),
            "avg_pool2d: expected input (N, C, H, W) or (C, H, W), got (4, 4)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { avg_pool2d(x, {2, 2}, std::nullopt, {0, 0}, true, 0); }),
            "avg_pool2d: expected a non-zero divisor_override, got 0");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { max_pool2d(zeros({1, 1, 0, 4}), {1, 1}); }),
      "max_pool2d: expected non-empty dims after the batch dim (only N may be 0), got input (1, 1, 0, 4)");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { avg_pool2d(zeros({1, 0, 4, 4}), {1, 1}); }),
      "avg_pool2d: expected non-empty dims after the batch dim (only N may be 0), got input (1, 0, 4, 4)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { max_pool2d(zeros({0, 4, 4}), {1, 1}); }),
            "max_pool2d: expected non-empty dims, got input (0, 4, 4)");
  EXPECT_EQ(max_pool2d(zeros({0, 1, 4, 4}), {2, 2}).shape(), (Shape{0, 1, 2, 2}));
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { max_pool2d(zeros({1, 1, 4, 4}, kInt64), {2, 2}); }),
            "max_pool2d: expected a floating input (float32 or float64), got int64");
  // dilation 3 with padding 2 on a 1-row input: the first window's taps (-2, 1) both miss the row
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>(
                           [] { max_pool2d(zeros({1, 1, 1, 4}), {2, 1}, Size2{1, 1}, {2, 0}, {3, 1}); }),
                       "max_pool2d: expected every window to overlap the input"));
}

}  // namespace
