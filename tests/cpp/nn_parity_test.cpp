// nnmod: the layer ops added for torch parity — silu/elu/hardtanh/relu6/softsign, pad,
// conv2d with groups and 'same' padding, pooling with ceil_mode, embedding, normalize and
// cosine_similarity: hand-checked values, float64 gradcheck + gradgradcheck, and error messages.
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/gradcheck.h"
#include "core/ops_nn.h"
#include "nn/functional.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;
namespace F = chainrule::nn::functional;

void ExpectGradchecks(const std::string& name, const GradcheckFn& fn, const std::vector<Tensor>& inputs) {
  GradcheckResult r = gradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << "gradcheck " << name << ": " << r.message;
  r = gradgradcheck(fn, inputs);
  EXPECT_TRUE(r.ok) << "gradgradcheck " << name << ": " << r.message;
}

TEST(NnParity, ActivationValues) {
  Tensor x = T({-2.0, 0.0, 1.0, 7.0}, {4});
  const double s1 = 1 / (1 + std::exp(-1.0));
  EXPECT_TRUE(Near(silu(x), {4}, {-2 / (1 + std::exp(2.0)), 0, s1, 7 / (1 + std::exp(-7.0))}));
  EXPECT_TRUE(Near(elu(x, 0.5), {4}, {0.5 * std::expm1(-2.0), 0, 1, 7}));
  EXPECT_TRUE(Near(relu6(x), {4}, {0, 0, 1, 6}));
  EXPECT_TRUE(Near(hardtanh(x, -1, 2), {4}, {-1, 0, 1, 2}));
  EXPECT_TRUE(Near(softsign(x), {4}, {-2.0 / 3, 0, 0.5, 7.0 / 8}));
}

TEST(NnParity, HardtanhGradientIsZeroAtTheBounds) {
  Tensor x = T({-1.0, -0.5, 1.0, 3.0}, {4}, kFloat64, true);
  sum(hardtanh(x)).backward();
  EXPECT_TRUE(Near(x.grad(), {4}, {0, 1, 0, 0}));  // torch's convention: strictly inside only
}

TEST(NnParity, ActivationGradchecks) {
  Tensor x = Leaf({3, 4}, [](double v) { return std::abs(v) < 0.1 ? v + 0.3 : v; });  // away from kinks
  ExpectGradchecks("silu", [](const std::vector<Tensor>& t) { return silu(t[0]); }, {x});
  ExpectGradchecks("elu", [](const std::vector<Tensor>& t) { return elu(t[0], 0.7); }, {x});
  ExpectGradchecks("softsign", [](const std::vector<Tensor>& t) { return softsign(t[0]); }, {x});
  ExpectGradchecks("hardtanh", [](const std::vector<Tensor>& t) { return hardtanh(t[0], -3, 3); }, {x});
}

TEST(NnParity, PadConstantReflectReplicateCircular) {
  Tensor x = T({1, 2, 3}, {1, 3});
  EXPECT_TRUE(Near(pad(x, {2, 1}), {1, 6}, {0, 0, 1, 2, 3, 0}));
  EXPECT_TRUE(Near(pad(x, {-1, 1}, "constant", 9), {1, 3}, {2, 3, 9}));
  EXPECT_TRUE(Near(pad(x, {2, 2}, "reflect"), {1, 7}, {3, 2, 1, 2, 3, 2, 1}));
  EXPECT_TRUE(Near(pad(x, {2, 1}, "replicate"), {1, 6}, {1, 1, 1, 2, 3, 3}));
  EXPECT_TRUE(Near(pad(x, {2, 1}, "circular"), {1, 6}, {2, 3, 1, 2, 3, 1}));
  Tensor y = Leaf({2, 3, 4});
  for (const char* mode : {"constant", "reflect", "replicate", "circular"})
    ExpectGradchecks(
        std::string("pad ") + mode,
        [mode](const std::vector<Tensor>& t) { return pad(t[0], {1, 2, 2, 1}, mode) * sum(t[0]); }, {y});
  ExpectGradchecks("pad negative", [](const std::vector<Tensor>& t) { return pad(t[0], {-1, 2, 0, -1}); },
                   {y});
}

TEST(NnParity, PadErrors) {
  Tensor x = zeros({1, 1, 4, 4});
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { pad(x, {1, 2, 3}); }),
            "pad: expected (left, right) pairs of widths, got 3 values");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([&] { pad(x, {-3, -2}); }),
      "pad: expected a non-negative output size, got -1 for dim 3 of input (1, 1, 4, 4) padded by (-3, -2)");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { pad(x, {4, 0, 0, 0}, "reflect"); }),
            "pad: mode 'reflect' expected widths smaller than the size 4 of dim 3, got (4, 0) for input (1, "
            "1, 4, 4)");
}

TEST(NnParity, Conv2dGroupsEqualsSeparateConvolutions) {
  Tensor x = Leaf({2, 4, 5, 5}), w = Leaf({6, 2, 3, 3}), b = Leaf({6});
  Tensor y = conv2d(x, w, b, {1, 1}, {1, 1}, {1, 1}, 2);
  Tensor y0 = conv2d(narrow(x, 1, 0, 2), narrow(w, 0, 0, 3), narrow(b, 0, 0, 3), {1, 1}, {1, 1});
  Tensor y1 = conv2d(narrow(x, 1, 2, 2), narrow(w, 0, 3, 3), narrow(b, 0, 3, 3), {1, 1}, {1, 1});
  EXPECT_TRUE(Near(y, {2, 6, 5, 5}, cat({y0, y1}, 1).to_vector()));
  ExpectGradchecks(
      "conv2d groups dilation",
      [](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], t[2], {1, 2}, {1, 0}, {2, 1}, 2); },
      {Leaf({1, 4, 5, 6}), Leaf({4, 2, 2, 3}), Leaf({4})});
}

TEST(NnParity, Conv2dSamePadsTheExtraAtTheBottomRight) {
  // kernel 2x2 of ones on a 2x2 input: 'same' pads one zero row/column after, so y[i,j] sums x[i:i+2, j:j+2]
  Tensor y = conv2d(T({1, 2, 3, 4}, {1, 1, 2, 2}), ones({1, 1, 2, 2}, kFloat64), Tensor(), {1, 1}, "same");
  EXPECT_TRUE(Near(y, {1, 1, 2, 2}, {10, 6, 7, 4}));
  ExpectGradchecks(
      "conv2d same",
      [](const std::vector<Tensor>& t) { return conv2d(t[0], t[1], Tensor(), {1, 1}, "same", {2, 1}); },
      {Leaf({1, 2, 5, 4}), Leaf({3, 2, 2, 4})});
  EXPECT_EQ(Thrown<std::runtime_error>(
                [] { conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 3, 3}), Tensor(), {2, 2}, "same"); }),
            "conv2d: padding='same' is not supported for strided convolutions, got stride (2, 2)");
  EXPECT_EQ(Thrown<std::invalid_argument>(
                [] { conv2d(zeros({1, 1, 4, 4}), zeros({1, 1, 3, 3}), Tensor(), {1, 1}, "full"); }),
            "conv2d: expected padding 'valid', 'same', an int or a pair of ints, got 'full'");
  EXPECT_EQ(Thrown<std::invalid_argument>([] {
              conv2d(zeros({1, 2, 4, 4}), zeros({3, 1, 3, 3}), Tensor(), {1, 1}, {0, 0}, {1, 1}, 2);
            }),
            "conv2d: expected out_channels (weight.size(0)) divisible by groups 2, got weight (3, 1, 3, 3)");
}

TEST(NnParity, PoolCeilMode) {
  // 1x1x1x5 row 0..4, kernel 2 stride 2: floor gives 2 windows, ceil 3 (the last one holds only 4)
  Tensor x = T({0, 1, 2, 3, 4}, {1, 1, 1, 5});
  EXPECT_TRUE(Near(max_pool2d(x, {1, 2}, std::nullopt, {0, 0}, {1, 1}, true), {1, 1, 1, 3}, {1, 3, 4}));
  EXPECT_TRUE(Near(avg_pool2d(x, {1, 2}, std::nullopt, {0, 0}, true, std::nullopt, true), {1, 1, 1, 3},
                   {0.5, 2.5, 4}));
  // with padding 1: the windows start at -1, 1, 3; a 4th would start at 5 >= W + pad_left = 6? no: 5 < 6,
  // kept
  EXPECT_EQ(max_pool2d(x, {1, 3}, Size2{1, 2}, {0, 1}, {1, 1}, true).shape(), (Shape{1, 1, 1, 3}));
  ExpectGradchecks("avg_pool2d ceil",
                   [](const std::vector<Tensor>& t) {
                     return avg_pool2d(t[0] * t[0], {3, 3}, Size2{2, 2}, {1, 1}, false, std::nullopt, true);
                   },
                   {Leaf({1, 2, 5, 6})});
  EXPECT_EQ(Thrown<std::invalid_argument>([] { max_pool2d(zeros({1, 1, 4, 4}), {5, 5}); }),
            "max_pool2d: expected a kernel no larger than the padded input (4, 4), got kernel_size (5, 5) "
            "for input "
            "(1, 1, 4, 4)");
}

TEST(NnParity, EmbeddingAccumulatesAndSkipsPadding) {
  Tensor w = T({1, 2, 3, 4, 5, 6}, {3, 2}, kFloat64, true);
  Tensor idx = T({2, 0, 2, 1}, {4}, kInt64);
  Tensor y = F::embedding(idx, w, 1);
  EXPECT_TRUE(Near(y, {4, 2}, {5, 6, 1, 2, 5, 6, 3, 4}));
  sum(y).backward();
  EXPECT_TRUE(Near(w.grad(), {3, 2}, {1, 1, 0, 0, 2, 2}));
  EXPECT_EQ(Thrown<std::out_of_range>([&] { F::embedding(T({3}, {1}, kInt64), w); }),
            "embedding: expected indices in [0, 3) (num_embeddings), got 3");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { F::embedding(idx, w, -4); }),
            "embedding: expected padding_idx in [-3, 3) (within num_embeddings), got -4");
}

TEST(NnParity, NormalizeAndCosineSimilarity) {
  EXPECT_TRUE(Near(F::normalize(T({3, 4, 0, 0}, {2, 2})), {2, 2}, {0.6, 0.8, 0, 0}));
  EXPECT_TRUE(Near(F::cosine_similarity(T({1, 0}, {1, 2}), T({1, 1}, {1, 2})), {1}, {std::sqrt(0.5)}));
  ExpectGradchecks("normalize", [](const std::vector<Tensor>& t) { return F::normalize(t[0], 2, 1); },
                   {Leaf({3, 4})});
  ExpectGradchecks("normalize p=3", [](const std::vector<Tensor>& t) { return F::normalize(t[0], 3, 0); },
                   {Leaf({3, 4}, [](double v) { return v + (v >= 0 ? 0.2 : -0.2); })});
  ExpectGradchecks("cosine_similarity",
                   [](const std::vector<Tensor>& t) { return F::cosine_similarity(t[0], t[1], 1); },
                   {Leaf({3, 4}), Leaf({1, 4})});
  // a zero vector: the value uses the norm clamped at eps, the gradient is finite
  Tensor z = T({0, 0}, {1, 2}, kFloat64, true);
  Tensor c = F::cosine_similarity(z, T({1, 1}, {1, 2}));
  EXPECT_TRUE(Near(c, {1}, {0}));
  sum(c).backward();
  EXPECT_TRUE(std::isfinite(z.grad().to_vector()[0]));
}

}  // namespace
