// Shape ops: reshape/view, flatten, transpose, permute, squeeze/unsqueeze, expand/broadcast_to,
// broadcast_shapes, sum_to, cat/stack, split/chunk, slice (Python semantics), select, index_select,
// gather, scatter_add, index_add, one_hot and slice_backward. Values by hand, gradients where they are
// easy to state, float64 gradcheck + gradgradcheck for every differentiable one, and error messages.
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

std::vector<double> IotaV(int64_t n) { return Iota({n}).to_vector(); }
Tensor Idx(const std::vector<double>& v, const Shape& s) { return T(v, s, kInt64); }

// ---------------------------------------------------------------- reshape / view / flatten

TEST(OpsShape, ReshapeInfersMinusOneAndSharesStorage) {
  Tensor x = Iota({2, 3});
  EXPECT_TRUE(Near(reshape(x, {3, -1}), {3, 2}, IotaV(6)));
  EXPECT_TRUE(Near(reshape(x, {-1}), {6}, IotaV(6)));
  EXPECT_TRUE(Near(x.reshape({1, 2, 1, 3}), {1, 2, 1, 3}, IotaV(6)));
  EXPECT_TRUE(Near(reshape(x, {-1, 1}), {6, 1}, IotaV(6)));
  EXPECT_EQ(reshape(x, {3, 2}).raw_data(), x.raw_data());
  EXPECT_TRUE(Near(reshape(scalar_tensor(3, kFloat64), {1, 1}), {1, 1}, {3}));
  EXPECT_TRUE(Near(reshape(T({3}, {1}), {}), {}, {3}));
  EXPECT_TRUE(Near(reshape(zeros({0, 3}), {-1, 3}), {0, 3}, {}));
}

TEST(OpsShape, ReshapeErrorsNameBothShapes) {
  Tensor x = Iota({2, 3});
  std::string msg = Thrown<std::invalid_argument>([&] { reshape(x, {4, 2}); });
  EXPECT_TRUE(StartsWith(msg, "reshape:"));
  EXPECT_TRUE(Contains(msg, "(2, 3)"));
  EXPECT_TRUE(Contains(msg, "(4, 2)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { reshape(x, {4, -1}); }), "reshape:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { reshape(x, {-1, -1}); }), "reshape:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { reshape(x, {-2, -3}); }), "reshape:"));
}

TEST(OpsShape, ViewLikeReshape) {
  Tensor x = Iota({2, 3});
  EXPECT_TRUE(Near(view(x, {3, 2}), {3, 2}, IotaV(6)));
  EXPECT_TRUE(Near(x.view({-1}), {6}, IotaV(6)));
  EXPECT_EQ(view(x, {6}).raw_data(), x.raw_data());
  std::string msg = Thrown<std::invalid_argument>([&] { view(x, {5}); });
  EXPECT_TRUE(StartsWith(msg, "view:"));
  EXPECT_TRUE(Contains(msg, "(2, 3)"));
  EXPECT_TRUE(Contains(msg, "(5,)"));
}

TEST(OpsShape, FlattenRanges) {
  Tensor x = Iota({2, 3, 4, 5});
  EXPECT_TRUE(Near(flatten(x), {120}, IotaV(120)));
  EXPECT_TRUE(Near(x.flatten(), {120}, IotaV(120)));
  EXPECT_TRUE(Near(flatten(x, 1, 2), {2, 12, 5}, IotaV(120)));
  EXPECT_TRUE(Near(flatten(x, 1), {2, 60}, IotaV(120)));
  EXPECT_TRUE(Near(flatten(x, -2, -1), {2, 3, 20}, IotaV(120)));
  EXPECT_TRUE(Near(flatten(x, 2, 2), {2, 3, 4, 5}, IotaV(120)));
  EXPECT_TRUE(Near(flatten(scalar_tensor(7, kFloat64)), {1}, {7}));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { flatten(x, 2, 1); }), "flatten:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { flatten(x, 0, 4); }), "flatten:"));
}

// ---------------------------------------------------------------- transpose / permute

TEST(OpsShape, TransposeValues) {
  Tensor x = Iota({2, 3});
  EXPECT_TRUE(Near(transpose(x, 0, 1), {3, 2}, {0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(Near(x.transpose(1, 0), {3, 2}, {0, 3, 1, 4, 2, 5}));
  EXPECT_TRUE(Near(x.t(), {3, 2}, {0, 3, 1, 4, 2, 5}));
  Tensor y = Iota({2, 3, 4});
  Tensor z = transpose(y, 0, 2);
  ASSERT_EQ(z.shape(), (Shape{4, 3, 2}));
  for (int64_t i = 0; i < 2; ++i)
    for (int64_t j = 0; j < 3; ++j)
      for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(z.at({k, j, i}), y.at({i, j, k}));
  Tensor w = transpose(y, -1, -2);
  ASSERT_EQ(w.shape(), (Shape{2, 4, 3}));
  EXPECT_EQ(w.at({1, 3, 2}), y.at({1, 2, 3}));
  EXPECT_TRUE(Near(transpose(y, 1, 1), {2, 3, 4}, IotaV(24)));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { transpose(y, 0, 3); }), "transpose:"));
}

TEST(OpsShape, PermuteValuesAndBadPermutations) {
  Tensor y = Iota({2, 3, 4});
  for (const std::vector<int64_t>& p : {std::vector<int64_t>{2, 0, 1}, {-1, 0, 1}, {-1, -3, -2}}) {
    Tensor z = permute(y, p);
    ASSERT_EQ(z.shape(), (Shape{4, 2, 3}));
    for (int64_t i = 0; i < 2; ++i)
      for (int64_t j = 0; j < 3; ++j)
        for (int64_t k = 0; k < 4; ++k) EXPECT_EQ(z.at({k, i, j}), y.at({i, j, k}));
  }
  EXPECT_TRUE(Near(y.permute({0, 1, 2}), {2, 3, 4}, IotaV(24)));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { permute(y, {0, 0, 1}); }), "permute:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { permute(y, {0, 1}); }), "permute:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { permute(y, {0, 1, 2, 3}); }), "permute:"));
  EXPECT_THROW(permute(y, {0, 1, 3}), std::logic_error);  // out of range dim
}

// ---------------------------------------------------------------- squeeze / unsqueeze

TEST(OpsShape, SqueezeAndUnsqueeze) {
  Tensor x = Iota({1, 3, 1, 2});
  EXPECT_TRUE(Near(squeeze(x), {3, 2}, IotaV(6)));
  EXPECT_TRUE(Near(x.squeeze(), {3, 2}, IotaV(6)));
  EXPECT_TRUE(Near(squeeze(x, 0), {3, 1, 2}, IotaV(6)));
  EXPECT_TRUE(Near(squeeze(x, 1), {1, 3, 1, 2}, IotaV(6)));  // size 3: unchanged, like PyTorch
  EXPECT_TRUE(Near(x.squeeze(-2), {1, 3, 2}, IotaV(6)));
  EXPECT_TRUE(Near(squeeze(T({5}, {1, 1})), {}, {5}));
  Tensor y = Iota({2, 3});
  EXPECT_TRUE(Near(unsqueeze(y, 0), {1, 2, 3}, IotaV(6)));
  EXPECT_TRUE(Near(unsqueeze(y, 1), {2, 1, 3}, IotaV(6)));
  EXPECT_TRUE(Near(unsqueeze(y, 2), {2, 3, 1}, IotaV(6)));
  EXPECT_TRUE(Near(y.unsqueeze(-1), {2, 3, 1}, IotaV(6)));
  EXPECT_TRUE(Near(unsqueeze(y, -3), {1, 2, 3}, IotaV(6)));
  EXPECT_TRUE(Near(unsqueeze(scalar_tensor(4, kFloat64), 0), {1}, {4}));
}

TEST(OpsShape, SqueezeUnsqueezeDimBounds) {
  Tensor x = zeros({1, 3});
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { squeeze(x, 2); }), "squeeze:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { squeeze(x, -3); }), "squeeze:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { unsqueeze(x, 3); }), "unsqueeze:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { unsqueeze(x, -4); }), "unsqueeze:"));
}

// ---------------------------------------------------------------- expand / broadcast_to / sum_to

TEST(OpsShape, ExpandKeepsAndPrependsDims) {
  Tensor x = T({1, 2, 3}, {3, 1});
  EXPECT_TRUE(Near(expand(x, {-1, 4}), {3, 4}, {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}));
  EXPECT_TRUE(Near(x.expand({3, 4}), {3, 4}, {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}));
  std::vector<double> want(24);
  for (int i = 0; i < 24; ++i) want[i] = (i / 4) % 3 + 1;
  EXPECT_TRUE(Near(expand(x, {2, 3, 4}), {2, 3, 4}, want));
  EXPECT_TRUE(Near(expand(x, {2, -1, 4}), {2, 3, 4}, want));
  EXPECT_TRUE(Near(expand(x, {3, 1}), {3, 1}, {1, 2, 3}));
  EXPECT_TRUE(Near(expand(scalar_tensor(2, kFloat64), {2, 2}), {2, 2}, {2, 2, 2, 2}));
}

TEST(OpsShape, ExpandRejectsInvalidShapes) {
  Tensor x = zeros({3, 2});
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { expand(x, {3, 5}); }), "expand:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { expand(x, {6}); }), "expand:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { expand(x, {-1, 3, 2}); }), "expand:"));
}

TEST(OpsShape, BroadcastToAndBroadcastShapes) {
  Tensor v = T({1, 2, 3, 4}, {4});
  std::vector<double> want(24);
  for (int i = 0; i < 24; ++i) want[i] = i % 4 + 1;
  EXPECT_TRUE(Near(broadcast_to(v, {2, 3, 4}), {2, 3, 4}, want));
  EXPECT_TRUE(Near(broadcast_to(T({1, 2, 3}, {3, 1}), {3, 2}), {3, 2}, {1, 1, 2, 2, 3, 3}));
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([&] { broadcast_to(zeros({3}), {4}); }), "broadcast_to:"));
  EXPECT_EQ(broadcast_shapes({3, 1}, {1, 4}, "add"), (Shape{3, 4}));
  EXPECT_EQ(broadcast_shapes({4}, {2, 3, 4}, "add"), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcast_shapes({}, {2}, "add"), (Shape{2}));
  EXPECT_EQ(broadcast_shapes({2, 1, 4}, {3, 1}, "add"), (Shape{2, 3, 4}));
  EXPECT_EQ(broadcast_shapes({0, 1}, {1, 5}, "add"), (Shape{0, 5}));
  // the shapes right-aligned, as broadcasting reads them, with the clashing dims marked
  EXPECT_EQ(Thrown<std::invalid_argument>([] { broadcast_shapes({3, 4}, {5}, "add"); }),
            "add: cannot broadcast shapes (3, 4) and (5,)\n"
            "      3  4\n"
            "         5\n"
            "         ^ dim -1: 4 vs 5\n"
            "  (dims line up from the right; each pair must be equal, or one of them 1)");
  EXPECT_EQ(Thrown<std::invalid_argument>([] { broadcast_shapes({2, 1, 3}, {4, 2, 5}, "mul"); }),
            "mul: cannot broadcast shapes (2, 1, 3) and (4, 2, 5)\n"
            "      2  1  3\n"
            "      4  2  5\n"
            "      ^     ^ dim -3: 2 vs 4, dim -1: 3 vs 5\n"
            "  (dims line up from the right; each pair must be equal, or one of them 1)");
}

TEST(OpsShape, SumToInvertsBroadcasting) {
  Tensor x = Iota({2, 3, 4});  // x[i][j][k] = 12i + 4j + k
  EXPECT_TRUE(Near(sum_to(x, {3, 1}), {3, 1}, {60, 92, 124}));
  EXPECT_TRUE(Near(sum_to(x, {4}), {4}, {60, 66, 72, 78}));
  EXPECT_TRUE(Near(sum_to(x, {1, 3, 4}), {1, 3, 4}, {12, 14, 16, 18, 20, 22, 24, 26, 28, 30, 32, 34}));
  EXPECT_TRUE(Near(sum_to(x, {2, 3, 4}), {2, 3, 4}, IotaV(24)));
  EXPECT_TRUE(Near(sum_to(x, {}), {}, {276}));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { sum_to(x, {5}); }), "sum_to:"));
}

TEST(OpsShape, ExpandGradientSumsBack) {
  Tensor x = T({1, 2, 3}, {3, 1}, kFloat64, true);
  Tensor g = autograd::grad({sum(expand(x, {2, 3, 4}))}, {x})[0];
  EXPECT_TRUE(Near(g, {3, 1}, {8, 8, 8}));
  Tensor v = T({1, 2}, {2}, kFloat64, true);
  g = autograd::grad({sum(T({1, 2, 3, 4, 5, 6}, {3, 2}) * broadcast_to(v, {3, 2}))}, {v})[0];
  EXPECT_TRUE(Near(g, {2}, {9, 12}));
}

// ---------------------------------------------------------------- cat / stack

TEST(OpsShape, CatValues) {
  Tensor a = Iota({2, 3});
  Tensor b = T({6, 7, 8}, {1, 3});
  EXPECT_TRUE(Near(cat({a, b}), {3, 3}, IotaV(9)));
  EXPECT_TRUE(Near(cat({a, b}, -2), {3, 3}, IotaV(9)));
  Tensor c = T({10, 11}, {2, 1});
  EXPECT_TRUE(Near(cat({a, c}, 1), {2, 4}, {0, 1, 2, 10, 3, 4, 5, 11}));
  EXPECT_TRUE(Near(cat({c, a, c}, -1), {2, 5}, {10, 0, 1, 2, 10, 11, 3, 4, 5, 11}));
  EXPECT_TRUE(Near(cat({a}), {2, 3}, IotaV(6)));
  EXPECT_TRUE(Near(cat({T({1}, {1}), zeros({0}, kFloat64), T({2, 3}, {2})}), {3}, {1, 2, 3}));
}

TEST(OpsShape, CatErrors) {
  std::string msg = Thrown<std::invalid_argument>([] { cat({zeros({2, 3}), zeros({2, 4})}, 0); });
  EXPECT_TRUE(StartsWith(msg, "cat:"));
  EXPECT_TRUE(Contains(msg, "(2, 3)"));
  EXPECT_TRUE(Contains(msg, "(2, 4)"));
  msg = Thrown<std::invalid_argument>([] { cat({zeros({2, 3}), zeros({3})}, 0); });
  EXPECT_TRUE(StartsWith(msg, "cat:"));
  EXPECT_TRUE(Contains(msg, "(3,)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { cat({}, 0); }), "cat:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([] { cat({zeros({2, 3})}, 2); }), "cat:"));
}

TEST(OpsShape, StackValues) {
  Tensor a = Iota({2, 3});
  Tensor b = T({6, 7, 8, 9, 10, 11}, {2, 3});
  EXPECT_TRUE(Near(stack({a, b}), {2, 2, 3}, IotaV(12)));
  EXPECT_TRUE(Near(stack({a, b}, 1), {2, 2, 3}, {0, 1, 2, 6, 7, 8, 3, 4, 5, 9, 10, 11}));
  EXPECT_TRUE(Near(stack({a, b}, -1), {2, 3, 2}, {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}));
  EXPECT_TRUE(Near(stack({a, b}, 2), {2, 3, 2}, {0, 6, 1, 7, 2, 8, 3, 9, 4, 10, 5, 11}));
  EXPECT_TRUE(Near(stack({scalar_tensor(1, kFloat64), scalar_tensor(2, kFloat64)}), {2}, {1, 2}));
}

TEST(OpsShape, StackErrors) {
  std::string msg = Thrown<std::invalid_argument>([] { stack({zeros({2, 3}), zeros({3, 2})}); });
  EXPECT_TRUE(StartsWith(msg, "stack:"));
  EXPECT_TRUE(Contains(msg, "(2, 3)"));
  EXPECT_TRUE(Contains(msg, "(3, 2)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { stack({}); }), "stack:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([] { stack({zeros({2, 3})}, 3); }), "stack:"));
}

// ---------------------------------------------------------------- split / chunk

TEST(OpsShape, SplitBySizeAndBySizes) {
  Tensor x = Iota({5});
  std::vector<Tensor> p = split(x, 2);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_TRUE(Near(p[0], {2}, {0, 1}));
  EXPECT_TRUE(Near(p[1], {2}, {2, 3}));
  EXPECT_TRUE(Near(p[2], {1}, {4}));
  p = split(x, std::vector<int64_t>{1, 4});
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(Near(p[0], {1}, {0}));
  EXPECT_TRUE(Near(p[1], {4}, {1, 2, 3, 4}));
  p = split(x, 5);
  ASSERT_EQ(p.size(), 1u);
  EXPECT_TRUE(Near(p[0], {5}, IotaV(5)));
  Tensor y = Iota({2, 5});
  p = split(y, std::vector<int64_t>{3, 2}, 1);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(Near(p[0], {2, 3}, {0, 1, 2, 5, 6, 7}));
  EXPECT_TRUE(Near(p[1], {2, 2}, {3, 4, 8, 9}));
  p = split(y, 4, -1);
  ASSERT_EQ(p.size(), 2u);
  EXPECT_TRUE(Near(p[1], {2, 1}, {4, 9}));
}

TEST(OpsShape, SplitErrors) {
  Tensor x = Iota({5});
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([&] { split(x, std::vector<int64_t>{2, 2}); }), "split:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { split(x, 0); }), "split:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { split(x, 2, 1); }), "split:"));
}

TEST(OpsShape, ChunkIsUnevenLikePyTorch) {
  std::vector<Tensor> c = chunk(Iota({5}), 3);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_TRUE(Near(c[0], {2}, {0, 1}));
  EXPECT_TRUE(Near(c[1], {2}, {2, 3}));
  EXPECT_TRUE(Near(c[2], {1}, {4}));
  c = chunk(Iota({6}), 4);  // chunk size ceil(6/4) = 2 -> only 3 chunks, as PyTorch
  ASSERT_EQ(c.size(), 3u);
  for (const Tensor& t : c) EXPECT_EQ(t.shape(), (Shape{2}));
  c = chunk(Iota({6}), 3);
  ASSERT_EQ(c.size(), 3u);
  EXPECT_TRUE(Near(c[2], {2}, {4, 5}));
  c = chunk(Iota({2, 5}), 2, 1);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TRUE(Near(c[0], {2, 3}, {0, 1, 2, 5, 6, 7}));
  EXPECT_TRUE(Near(c[1], {2, 2}, {3, 4, 8, 9}));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { chunk(Iota({5}), 0); }), "chunk:"));
}

// ---------------------------------------------------------------- slice / select

TEST(OpsShape, SliceLikePythonSlicing) {
  Tensor x = Iota({10});
  EXPECT_TRUE(Near(slice(x, 0, -7, -1, 2), {3}, {3, 5, 7}));  // x[-7:-1:2]
  EXPECT_TRUE(Near(x.slice(0, 2, 100), {8}, {2, 3, 4, 5, 6, 7, 8, 9}));
  EXPECT_TRUE(Near(slice(x, 0, -100, 3), {3}, {0, 1, 2}));
  EXPECT_TRUE(Near(slice(x, 0, 0, 10, 3), {4}, {0, 3, 6, 9}));
  EXPECT_TRUE(Near(slice(x, 0, -3, 100), {3}, {7, 8, 9}));
  EXPECT_TRUE(Near(slice(x, 0, 1, -1, 2), {4}, {1, 3, 5, 7}));  // x[1:-1:2]
  EXPECT_TRUE(Near(slice(x, 0, 5, 2), {0}, {}));                // empty, not an error
  EXPECT_TRUE(Near(slice(x, 0, 12, 20), {0}, {}));
  Tensor y = Iota({3, 4});
  EXPECT_TRUE(Near(slice(y, 1, 1, 4, 2), {3, 2}, {1, 3, 5, 7, 9, 11}));
  EXPECT_TRUE(Near(slice(y, -1, -2, 4), {3, 2}, {2, 3, 6, 7, 10, 11}));
  EXPECT_TRUE(Near(y.slice(0, 1, 3), {2, 4}, {4, 5, 6, 7, 8, 9, 10, 11}));
}

TEST(OpsShape, SliceErrors) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { slice(x, 0, 0, 2, 0); }), "slice:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { slice(x, 0, 2, 0, -1); }), "slice:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { slice(x, 2, 0, 1); }), "slice:"));
}

TEST(OpsShape, SliceGradientLandsOnTheSlicedElements) {
  Tensor x = T(IotaV(10), {10}, kFloat64, true);
  Tensor g = autograd::grad({sum(slice(x, 0, -7, -1, 2) * T({1, 2, 3}, {3}))}, {x})[0];
  EXPECT_TRUE(Near(g, {10}, {0, 0, 0, 1, 0, 2, 0, 3, 0, 0}));
}

TEST(OpsShape, SliceBackwardPlacesGradientIntoZeros) {
  EXPECT_TRUE(Near(slice_backward(T({1, 2, 3}, {3}), {10}, 0, 1, 3), {10}, {0, 1, 0, 0, 2, 0, 0, 3, 0, 0}));
  EXPECT_TRUE(
      Near(slice_backward(T({1, 2, 3, 4}, {2, 2}), {2, 5}, 1, 0, 2), {2, 5}, {1, 0, 2, 0, 0, 3, 0, 4, 0, 0}));
}

TEST(OpsShape, SelectValuesAndBounds) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Near(select(x, 0, -1), {4}, {8, 9, 10, 11}));
  EXPECT_TRUE(Near(select(x, 1, 2), {3}, {2, 6, 10}));
  EXPECT_TRUE(Near(x.select(-1, -4), {3}, {0, 4, 8}));
  EXPECT_TRUE(Near(x[1], {4}, {4, 5, 6, 7}));
  EXPECT_TRUE(Near(x[-3], {4}, {0, 1, 2, 3}));
  EXPECT_TRUE(Near(Iota({5})[2], {}, {2}));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { select(x, 0, 3); }), "select:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { select(x, 0, -4); }), "select:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { select(x, 2, 0); }), "select:"));
  EXPECT_THROW(x[3], std::out_of_range);
}

TEST(OpsShape, SelectGradient) {
  Tensor x = T(IotaV(6), {2, 3}, kFloat64, true);
  EXPECT_TRUE(Near(autograd::grad({sum(select(x, 1, -1))}, {x})[0], {2, 3}, {0, 0, 1, 0, 0, 1}));
}

// ---------------------------------------------------------------- index_select / gather / scatter

TEST(OpsShape, IndexSelectValuesAndRepeatedIndexGradient) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(
      Near(index_select(x, 0, Idx({2, 0, 2}, {3})), {3, 4}, {8, 9, 10, 11, 0, 1, 2, 3, 8, 9, 10, 11}));
  EXPECT_TRUE(Near(index_select(x, -1, Idx({3, 1}, {2})), {3, 2}, {3, 1, 7, 5, 11, 9}));
  EXPECT_TRUE(Near(index_select(x, 0, Idx({}, {0})), {0, 4}, {}));
  Tensor xr = T(IotaV(12), {3, 4}, kFloat64, true);
  Tensor g = autograd::grad({sum(index_select(xr, 0, Idx({2, 0, 2}, {3})))}, {xr})[0];
  EXPECT_TRUE(Near(g, {3, 4}, {1, 1, 1, 1, 0, 0, 0, 0, 2, 2, 2, 2}));
}

TEST(OpsShape, IndexSelectErrors) {
  Tensor x = Iota({3, 4});
  std::string msg = Thrown<std::invalid_argument>([&] { index_select(x, 0, T({0, 1}, {2})); });
  EXPECT_TRUE(StartsWith(msg, "index_select:"));
  EXPECT_TRUE(Contains(msg, "int64"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::out_of_range>([&] { index_select(x, 0, Idx({3}, {1})); }), "index_select:"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::out_of_range>([&] { index_select(x, 0, Idx({-1}, {1})); }), "index_select:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { index_select(x, 0, Idx({0, 1}, {1, 2})); }),
                         "index_select:"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::out_of_range>([&] { index_select(x, 2, Idx({0}, {1})); }), "index_select:"));
}

TEST(OpsShape, GatherValuesAndGradient) {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(Near(gather(x, 1, Idx({0, 2, 1, 1}, {2, 2})), {2, 2}, {1, 3, 5, 5}));
  EXPECT_TRUE(Near(gather(x, 0, Idx({1, 0, 1}, {1, 3})), {1, 3}, {4, 2, 6}));
  EXPECT_TRUE(Near(gather(x, -1, Idx({2, 0}, {2, 1})), {2, 1}, {3, 4}));
  // picking the class score of each sample
  EXPECT_TRUE(Near(gather(Iota({3, 4}), 1, Idx({3, 0, 2}, {3, 1})), {3, 1}, {3, 4, 10}));
  Tensor xr = T({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64, true);
  Tensor g = autograd::grad({sum(gather(xr, 1, Idx({0, 2, 1, 1}, {2, 2})))}, {xr})[0];
  EXPECT_TRUE(Near(g, {2, 3}, {1, 0, 1, 0, 2, 0}));
}

TEST(OpsShape, GatherErrors) {
  Tensor x = Iota({2, 3});
  std::string msg = Thrown<std::invalid_argument>([&] { gather(x, 1, T({0, 1}, {2, 1})); });
  EXPECT_TRUE(StartsWith(msg, "gather:"));
  EXPECT_TRUE(Contains(msg, "int64"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { gather(x, 1, Idx({0, 3}, {2, 1})); }), "gather:"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { gather(x, 1, Idx({0, -1}, {2, 1})); }), "gather:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { gather(x, 1, Idx({0, 1}, {2})); }), "gather:"));
}

TEST(OpsShape, ScatterAddValuesAndGradients) {
  EXPECT_TRUE(Near(scatter_add(zeros({3}, kFloat64), 0, Idx({0, 2, 0, 1, 0}, {5}), T({1, 2, 3, 4, 5}, {5})),
                   {3}, {9, 4, 2}));
  Tensor self = T({1, 1, 1, 1, 1, 1}, {2, 3}, kFloat64, true);
  Tensor src = T({1, 2, 3, 4}, {2, 2}, kFloat64, true);
  Tensor idx = Idx({0, 0, 2, 1}, {2, 2});
  Tensor y = scatter_add(self, 1, idx, src);
  EXPECT_TRUE(Near(y, {2, 3}, {4, 1, 1, 1, 5, 4}));
  // L = sum(w * y): dL/dself = w, dL/dsrc[i][j] = w[i][idx[i][j]]
  Tensor w = T({1, 2, 3, 4, 5, 6}, {2, 3});
  auto g = autograd::grad({sum(w * y)}, {self, src});
  EXPECT_TRUE(Near(g[0], {2, 3}, {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(Near(g[1], {2, 2}, {1, 1, 6, 5}));
  EXPECT_TRUE(Near(self, {2, 3}, {1, 1, 1, 1, 1, 1}));  // out of place
}

TEST(OpsShape, ScatterAddErrors) {
  Tensor self = zeros({2, 3}, kFloat64), src = ones({2, 2}, kFloat64);
  std::string msg =
      Thrown<std::invalid_argument>([&] { scatter_add(self, 1, T({0, 0, 1, 1}, {2, 2}), src); });
  EXPECT_TRUE(StartsWith(msg, "scatter_add:"));
  EXPECT_TRUE(Contains(msg, "int64"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::out_of_range>([&] { scatter_add(self, 1, Idx({0, 3, 1, 1}, {2, 2}), src); }),
                 "scatter_add:"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] {
                           scatter_add(self, 1, Idx({0, 0, 1, 1}, {2, 2}), ones({1, 2}, kFloat64));
                         }),
                         "scatter_add:"));
}

TEST(OpsShape, IndexAddValuesAndGradients) {
  Tensor self = T({1, 1, 1, 1, 1, 1}, {3, 2}, kFloat64, true);
  Tensor src = T({1, 2, 3, 4, 5, 6}, {3, 2}, kFloat64, true);
  Tensor idx = Idx({0, 2, 0}, {3});
  Tensor y = index_add(self, 0, idx, src);
  EXPECT_TRUE(Near(y, {3, 2}, {7, 9, 1, 1, 4, 5}));
  // L = sum(w * y): dL/dself = w, dL/dsrc[i] = w[idx[i]]
  Tensor w = T({1, 2, 3, 4, 5, 6}, {3, 2});
  auto g = autograd::grad({sum(w * y)}, {self, src});
  EXPECT_TRUE(Near(g[0], {3, 2}, {1, 2, 3, 4, 5, 6}));
  EXPECT_TRUE(Near(g[1], {3, 2}, {1, 2, 5, 6, 1, 2}));
  EXPECT_TRUE(Near(index_add(zeros({2, 3}, kFloat64), 1, Idx({2, 2}, {2}), T({1, 2, 3, 4}, {2, 2})), {2, 3},
                   {0, 0, 3, 0, 0, 7}));
}

TEST(OpsShape, IndexAddErrors) {
  Tensor self = zeros({3, 2}, kFloat64), src = ones({3, 2}, kFloat64);
  std::string msg = Thrown<std::invalid_argument>([&] { index_add(self, 0, T({0, 1, 2}, {3}), src); });
  EXPECT_TRUE(StartsWith(msg, "index_add:"));
  EXPECT_TRUE(Contains(msg, "int64"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { index_add(self, 0, Idx({0, 3, 1}, {3}), src); }),
                         "index_add:"));
  EXPECT_TRUE(StartsWith(
      Thrown<std::invalid_argument>([&] { index_add(self, 0, Idx({0, 1, 2}, {3}), ones({2, 2}, kFloat64)); }),
      "index_add:"));
}

// ---------------------------------------------------------------- one_hot

TEST(OpsShape, OneHotValues) {
  Tensor y = one_hot(Idx({0, 2, 1}, {3}));
  EXPECT_EQ(y.dtype(), kInt64);
  EXPECT_TRUE(Near(y, {3, 3}, {1, 0, 0, 0, 0, 1, 0, 1, 0}));
  EXPECT_TRUE(Near(one_hot(Idx({0, 2, 1}, {3}), 5), {3, 5}, {1, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}));
  EXPECT_TRUE(
      Near(one_hot(Idx({0, 1, 3, 2}, {2, 2})), {2, 2, 4}, {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 0, 1, 0, 0, 1, 0}));
}

TEST(OpsShape, OneHotErrors) {
  EXPECT_THROW(one_hot(Idx({0, 3}, {2}), 3), std::logic_error);  // label >= num_classes
  EXPECT_THROW(one_hot(Idx({0, -1}, {2})), std::logic_error);    // negative label
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { one_hot(T({0, 1}, {2}), 2); }), "one_hot:"));
  try {
    one_hot(Idx({0, 3}, {2}), 3);
  } catch (const std::exception& e) {
    EXPECT_TRUE(StartsWith(e.what(), "one_hot:"));
  }
}

// ---------------------------------------------------------------- gradcheck / gradgradcheck

TEST(OpsShape, GradcheckEveryDifferentiableShapeOp) {
  manual_seed(31);
  Tensor i3 = Idx({2, 0, 2}, {3});
  Tensor g22 = Idx({0, 2, 1, 1}, {2, 2});
  Tensor s22 = Idx({0, 0, 2, 1}, {2, 2});
  std::vector<GradCase> cases = {
      {"reshape", [](In x) { return reshape(x[0], {3, -1}); }, {Leaf({2, 3})}},
      {"view", [](In x) { return view(x[0], {6}); }, {Leaf({2, 3})}},
      {"x.reshape * x", [](In x) { return x[0].reshape({6}) * x[0].view({6}); }, {Leaf({2, 3})}},
      {"flatten(1, 2)", [](In x) { return flatten(x[0], 1, 2); }, {Leaf({2, 3, 2, 2})}},
      {"transpose(0, 2)", [](In x) { return transpose(x[0], 0, 2); }, {Leaf({2, 3, 4})}},
      {"t()", [](In x) { return x[0].t(); }, {Leaf({3, 4})}},
      {"permute", [](In x) { return permute(x[0], {2, 0, 1}); }, {Leaf({2, 3, 4})}},
      {"squeeze", [](In x) { return squeeze(x[0]); }, {Leaf({1, 3, 1, 2})}},
      {"squeeze(dim)", [](In x) { return squeeze(x[0], 2); }, {Leaf({1, 3, 1, 2})}},
      {"unsqueeze", [](In x) { return unsqueeze(x[0], 1); }, {Leaf({2, 3})}},
      {"expand", [](In x) { return expand(x[0], {2, 3, 4}); }, {Leaf({3, 1})}},
      {"expand * x", [](In x) { return expand(x[0], {-1, 4}) * x[1]; }, {Leaf({3, 1}), Leaf({3, 4})}},
      {"broadcast_to", [](In x) { return broadcast_to(x[0], {2, 3, 4}); }, {Leaf({4})}},
      {"sum_to", [](In x) { return sum_to(x[0], {3, 1}); }, {Leaf({2, 3, 4})}},
      {"sum_to(x^2)", [](In x) { return sum_to(x[0] * x[0], {4}); }, {Leaf({2, 3, 4})}},
      {"cat dim 1", [](In x) { return cat({x[0], x[1]}, 1); }, {Leaf({2, 3}), Leaf({2, 1})}},
      {"cat dim 0, three", [](In x) { return cat({x[0], x[1], x[0]}, 0); }, {Leaf({2, 3}), Leaf({1, 3})}},
      {"stack dim 1", [](In x) { return stack({x[0], x[1]}, 1); }, {Leaf({2, 3}), Leaf({2, 3})}},
      {"split(2)",
       [](In x) {
         auto p = split(x[0], 2);
         return cat({p[2], p[0] * 2}, 0);
       },
       {Leaf({5})}},
      {"split({1,4})",
       [](In x) {
         auto p = split(x[0], std::vector<int64_t>{1, 4}, 1);
         return p[1] * p[0];
       },
       {Leaf({2, 5})}},
      {"chunk(3, dim 1)",
       [](In x) {
         auto c = chunk(x[0], 3, 1);
         return cat({c[2], c[0]}, 1);
       },
       {Leaf({2, 5})}},
      {"slice -7:-1:2", [](In x) { return slice(x[0], 0, -7, -1, 2); }, {Leaf({10})}},
      {"slice dim 1 step 2", [](In x) { return slice(x[0], 1, 1, 4, 2); }, {Leaf({3, 4})}},
      {"x.slice squared",
       [](In x) {
         auto s = x[0].slice(0, 1, 3);
         return s * s;
       },
       {Leaf({4, 2})}},
      {"slice_backward", [](In x) { return slice_backward(x[0], {2, 5}, 1, 0, 2); }, {Leaf({2, 2})}},
      {"select(0, -1)", [](In x) { return select(x[0], 0, -1); }, {Leaf({3, 4})}},
      {"x[1] * x[2]", [](In x) { return x[0][1] * x[0][2]; }, {Leaf({3, 4})}},
      {"index_select repeated", [i3](In x) { return index_select(x[0], 0, i3); }, {Leaf({3, 4})}},
      {"index_select squared",
       [i3](In x) {
         auto s = index_select(x[0], 1, i3);
         return s * s;
       },
       {Leaf({2, 3})}},
      {"gather", [g22](In x) { return gather(x[0], 1, g22); }, {Leaf({2, 3})}},
      {"gather * x", [g22](In x) { return gather(x[0], 1, g22) * gather(x[0], 1, g22); }, {Leaf({2, 3})}},
      {"scatter_add", [s22](In x) { return scatter_add(x[0], 1, s22, x[1]); }, {Leaf({2, 3}), Leaf({2, 2})}},
      {"scatter_add(src^2)",
       [s22](In x) { return scatter_add(x[0], 1, s22, x[1] * x[1]); },
       {Leaf({2, 3}), Leaf({2, 2})}},
      {"index_add", [i3](In x) { return index_add(x[0], 0, i3, x[1]); }, {Leaf({3, 2}), Leaf({3, 2})}},
      {"index_add(src * self-rows)",
       [i3](In x) { return index_add(x[0], 0, i3, x[1] * index_select(x[0], 0, i3)); },
       {Leaf({3, 2}), Leaf({3, 2})}},
  };
  RunGradCases(cases);
}

// A 0-d tensor has no dim to cut: a clear error (this read shape()[0] of an empty shape).
TEST(OpsShape, SplitAndChunkOf0dTensorAreErrors) {
  Tensor s = scalar_tensor(1.0);
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { chunk(s, 2, 0); }),
            "chunk: expected a tensor with at least 1 dim, got shape ()");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { split(s, int64_t{1}, 0); }),
            "split: expected a tensor with at least 1 dim, got shape ()");
  EXPECT_EQ(Thrown<std::invalid_argument>([&] { split(s, std::vector<int64_t>{1}, 0); }),
            "split: expected a tensor with at least 1 dim, got shape ()");
}

}  // namespace
