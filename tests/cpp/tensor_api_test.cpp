// Tensor API habits (tapi): masked_fill(_), repeat/tile, flip, roll, squeeze over several dims,
// softmax with a dtype, the default dtype and Generator. Values by hand, float64 gradcheck and
// gradgradcheck, and error messages.
#include <gtest/gtest.h>

#include <stdexcept>
#include <string>
#include <vector>

#include "core/gradcheck.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

Tensor Mask(const std::vector<double>& v, const Shape& s) { return T(v, s, kBool); }

TEST(TensorApi, MaskedFillValuesBroadcastAndDtype) {
  Tensor x = Iota({2, 3});
  EXPECT_TRUE(Near(masked_fill(x, Mask({1, 0, 1}, {3}), -1.0), {2, 3}, {-1, 1, -1, -1, 4, -1}));
  // the input broadcasts with the mask, as torch's out-of-place masked_fill
  EXPECT_TRUE(
      Near(masked_fill(Iota({3}), Mask({1, 0, 0, 0, 0, 1}, {2, 3}), 9.0), {2, 3}, {9, 1, 2, 0, 1, 9}));
  // an int64 input keeps its dtype and truncates the value
  Tensor y = masked_fill(Iota({3}, kInt64), Mask({0, 1, 0}, {3}), 2.7);
  EXPECT_EQ(y.dtype(), kInt64);
  EXPECT_TRUE(Near(y, {3}, {0, 2, 2}));
}

TEST(TensorApi, MaskedFillValueTensorGetsSumOfMaskedGradient) {
  Tensor x = Iota({2, 2}).set_requires_grad();
  Tensor v = scalar_tensor(5.0, kFloat64).set_requires_grad();
  Tensor y = masked_fill(x, Mask({1, 0, 0, 1}, {2, 2}), v);
  (y * T({1, 2, 3, 4}, {2, 2})).sum().backward();
  EXPECT_TRUE(Near(x.grad(), {2, 2}, {0, 2, 3, 0}));
  EXPECT_TRUE(Near(v.grad(), {}, {5}));
}

TEST(TensorApi, MaskedFillInPlaceWritesThroughAView) {
  Tensor base = zeros({2, 3}, kFloat64);
  Tensor row = select(base, 0, 1);
  masked_fill_(row, Mask({1, 0, 1}, {3}), 7.0);
  EXPECT_TRUE(Near(base, {2, 3}, {0, 0, 0, 7, 0, 7}));
  std::string msg =
      Thrown<std::invalid_argument>([&] { masked_fill_(row, Mask({1, 0, 1, 1, 1, 1}, {2, 3}), 1.0); });
  EXPECT_TRUE(StartsWith(msg, "masked_fill_: expected a mask broadcastable to (3,), got (2, 3)"));
}

// A dtype or shape mistake: std::invalid_argument (Python: cr.ShapeError, a ValueError and RuntimeError as
// torch's)
TEST(TensorApi, MaskedFillErrors) {
  std::string msg = Thrown<std::invalid_argument>([] { masked_fill(zeros({3}), ones({3}), 1.0); });
  EXPECT_TRUE(StartsWith(msg, "masked_fill: only supports boolean masks, but got mask with dtype float"));
  msg = Thrown<std::invalid_argument>([] { masked_fill(zeros({3}), Mask({1, 0, 1}, {3}), zeros({3})); });
  EXPECT_TRUE(Contains(msg, "0-dimensional value tensor"));
}

TEST(TensorApi, RepeatTileValuesAndCopy) {
  Tensor x = Iota({1, 2});
  Tensor r = repeat(x, {2, 2});
  EXPECT_TRUE(Near(r, {2, 4}, {0, 1, 0, 1, 0, 1, 0, 1}));
  EXPECT_TRUE(Near(repeat(Iota({2}), {2, 1, 2}), {2, 1, 4}, {0, 1, 0, 1, 0, 1, 0, 1}));
  EXPECT_TRUE(Near(repeat(x, {0, 1}), {0, 2}, {}));
  EXPECT_NE(repeat(x, {1, 1}).raw_data(), x.raw_data());  // always a copy
  EXPECT_TRUE(Near(tile(Iota({2, 2}), {2}), {2, 4}, {0, 1, 0, 1, 2, 3, 2, 3}));
  std::string msg = Thrown<std::invalid_argument>([&] { repeat(x, {2}); });
  EXPECT_TRUE(StartsWith(msg, "repeat: number of dimensions of repeat dims can not be smaller"));
}

TEST(TensorApi, FlipRollSqueezeValues) {
  Tensor x = Iota({2, 3});
  EXPECT_TRUE(Near(flip(x, {1}), {2, 3}, {2, 1, 0, 5, 4, 3}));
  EXPECT_TRUE(Near(flip(x, {0, -1}), {2, 3}, {5, 4, 3, 2, 1, 0}));
  EXPECT_TRUE(Near(flip(transpose(x, 0, 1), {0}), {3, 2}, {2, 5, 1, 4, 0, 3}));
  EXPECT_TRUE(Near(roll(x, {1}), {2, 3}, {5, 0, 1, 2, 3, 4}));
  EXPECT_TRUE(Near(roll(x, {-4}, {1}), {2, 3}, {1, 2, 0, 4, 5, 3}));  // -4 = -1 (mod 3)
  EXPECT_TRUE(Near(roll(x, {1, 1}, {0, 1}), {2, 3}, {5, 3, 4, 2, 0, 1}));
  EXPECT_NE(roll(x, {3}, {1}).raw_data(), x.raw_data());
  EXPECT_EQ(squeeze(zeros({1, 2, 1}), std::vector<int64_t>{0, 1}).shape(), (Shape{2, 1}));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { flip(x, {0, 0}); }),
                         "flip: dim 0 appears multiple times in the list of dims"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([&] { flip(x, {2}); }), "flip: dim 2 is out of range"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { roll(x, {1, 2}, {0}); }),
                         "roll: shifts and dimensions must align. shifts: 2, dims: 1"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::out_of_range>([&] { roll(scalar_tensor(1.0), {1}, {0}); }), "roll: dim 0"));
}

TEST(TensorApi, Gradchecks) {
  Tensor mask = Mask({1, 0, 0, 1, 1, 0}, {2, 3});
  RunGradCases({
      {"masked_fill", [mask](In in) { return masked_fill(in[0], mask, in[1]); }, {Leaf({2, 3}), Leaf({})}},
      {"masked_fill_broadcast", [mask](In in) { return masked_fill(in[0], mask, 0.5); }, {Leaf({3})}},
      {"repeat", [](In in) { return repeat(in[0], {2, 1, 3}); }, {Leaf({2, 2})}},
      {"tile", [](In in) { return tile(in[0], {2}); }, {Leaf({2, 3})}},
      {"flip", [](In in) { return flip(in[0], {0, 2}); }, {Leaf({2, 3, 2})}},
      {"roll", [](In in) { return roll(in[0], {2, -1}, {0, 1}); }, {Leaf({3, 4})}},
      {"roll_flat", [](In in) { return roll(in[0], {5}); }, {Leaf({3, 4})}},
      {"squeeze_dims", [](In in) { return squeeze(in[0], std::vector<int64_t>{0, 2}); }, {Leaf({1, 3, 1})}},
      {"softmax_dtype", [](In in) { return softmax(in[0], -1, kFloat64) * in[0]; }, {Leaf({2, 3})}},
  });
}

TEST(TensorApi, DefaultDtypeIsOneGlobal) {
  EXPECT_EQ(get_default_dtype(), kFloat32);
  set_default_dtype(kFloat64);
  EXPECT_EQ(zeros({2}).dtype(), kFloat64);
  EXPECT_EQ(rand({2}).dtype(), kFloat64);
  EXPECT_EQ(div(arange(3), scalar_tensor(2, kInt64)).dtype(), kFloat64);
  set_default_dtype(kFloat32);
  EXPECT_EQ(zeros({2}).dtype(), kFloat32);
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { set_default_dtype(kInt64); }),
                         "set_default_dtype: only floating-point types are supported"));
}

TEST(TensorApi, GeneratorMatchesTheGlobalStream) {
  manual_seed(42);
  std::vector<double> a = rand({5}, kFloat64).to_vector(), b = randn({3}, kFloat64).to_vector();
  Generator g;
  g.manual_seed(42);
  EXPECT_EQ(rand({5}, kFloat64, g).to_vector(), a);
  EXPECT_EQ(randn({3}, kFloat64, g).to_vector(), b);
  Generator nine(9);
  EXPECT_EQ(randperm(6, 9).to_vector(), randperm(6, nine).to_vector());
  std::vector<int64_t> state = g.get_state();
  std::vector<double> next = rand({4}, kFloat64, g).to_vector();
  g.set_state(state);
  EXPECT_EQ(rand({4}, kFloat64, g).to_vector(), next);
  EXPECT_EQ(g.initial_seed(), 42u);
}

}  // namespace
