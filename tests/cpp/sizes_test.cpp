// Sizes from user numbers: the checked arithmetic of core/sizes.h, the factories' messages (op, shape,
// bytes), conv/pool/unfold/fold geometry near int64's limits, and ops on empty inputs.
#include <gtest/gtest.h>

#include <cstdint>
#include <limits>
#include <new>
#include <stdexcept>
#include <string>

#include "core/ops_nn.h"
#include "core/sizes.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

constexpr int64_t kMax = std::numeric_limits<int64_t>::max();

TEST(Sizes, CheckedMulReturnsTheProduct) {
  EXPECT_EQ(checked_mul(3, 4, "op", "size"), 12);
  EXPECT_EQ(checked_mul(int64_t{1} << 31, int64_t{1} << 31, "op", "size"), int64_t{1} << 62);
  EXPECT_EQ(checked_mul(kMax, 1, "op", "size"), kMax);
  EXPECT_EQ(checked_mul(0, kMax, "op", "size"), 0);
}

TEST(Sizes, CheckedMulOverflowNamesTheOp) {
  EXPECT_EQ(Thrown<std::invalid_argument>(
                [] { checked_mul(int64_t{1} << 32, int64_t{1} << 32, "conv2d", "Ho * Wo"); }),
            "conv2d: Ho * Wo 4294967296 * 4294967296 is too large (more than 2**63 - 1)");
  EXPECT_EQ(Thrown<std::invalid_argument>([] { checked_mul(kMax, 2, "repeat", "size"); }),
            "repeat: size 9223372036854775807 * 2 is too large (more than 2**63 - 1)");
}

TEST(Sizes, CheckedAdd) {
  EXPECT_EQ(checked_add(kMax - 1, 1, "pad", "size"), kMax);
  EXPECT_EQ(checked_add(-5, 3, "pad", "size"), -2);
  EXPECT_EQ(Thrown<std::invalid_argument>([] { checked_add(kMax, 1, "pad", "padded size"); }),
            "pad: padded size 9223372036854775807 + 1 is too large (more than 2**63 - 1)");
}

TEST(Sizes, CheckedNumel) {
  EXPECT_EQ(checked_numel({}, "zeros"), 1);
  EXPECT_EQ(checked_numel({2, 0, 3}, "zeros"), 0);
  EXPECT_EQ(checked_numel({int64_t{1} << 40, 0, int64_t{1} << 40}, "zeros"), 0);
  EXPECT_EQ(Thrown<std::invalid_argument>([] { checked_numel({2, -5}, "zeros"); }),
            "zeros: expected non-negative sizes, got (2, -5)");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([] { checked_numel({int64_t{1} << 40, int64_t{1} << 40}, "ones"); }),
      "ones: shape (1099511627776, 1099511627776) has more elements than an int64 can count");
}

TEST(Sizes, FactoriesNameTheOpNotEmpty) {
  EXPECT_EQ(Thrown<std::invalid_argument>([] { zeros({-5}); }),
            "zeros: expected non-negative sizes, got (-5,)");
  EXPECT_EQ(Thrown<std::invalid_argument>([] { ones({-1, 2}); }),
            "ones: expected non-negative sizes, got (-1, 2)");
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([] { eye(int64_t{1} << 32); }), "eye: shape"));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([] { randn({int64_t{1} << 40, int64_t{1} << 40}); }),
                       "randn: shape"));
}

TEST(Sizes, TooBigAllocationIsOutOfMemoryWithBytes) {
  EXPECT_EQ(Thrown<std::bad_alloc>([] { zeros({int64_t{1} << 62}); }),
            "zeros: can't allocate shape (4611686018427387904,) (float32): more than 2**63 bytes, more than "
            "the memory available");
  EXPECT_EQ(Thrown<std::bad_alloc>([] { full({int64_t{1} << 61}, 1.0, kFloat64); }),
            "full: can't allocate shape (2305843009213693952,) (float64): more than 2**63 bytes, more than "
            "the memory available");
  EXPECT_TRUE(Contains(Thrown<std::bad_alloc>([] { linspace(0, 1, int64_t{1} << 62); }), "linspace: "));
  EXPECT_TRUE(Contains(Thrown<std::bad_alloc>([] { randperm(int64_t{1} << 62); }), "randperm: "));
}

TEST(Sizes, ArangeLengthAndStepSign) {
  EXPECT_EQ(Thrown<std::invalid_argument>([] { arange(0, 10, -1); }),
            "arange: expected a step with the sign of end - start, got start=0, end=10, step=-1");
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([] { arange(0, 1e19); }), "arange: expected at most"));
  EXPECT_EQ(arange(5, 5, -1).numel(), 0);
  EXPECT_EQ(arange(10, 0, -3).to_vector(), (std::vector<double>{10, 7, 4, 1}));
}

TEST(Sizes, OneHotRejectsNegativeClasses) {
  EXPECT_EQ(Thrown<std::invalid_argument>([] { one_hot(tensor({1}, kInt64), -5); }),
            "one_hot: expected num_classes >= 0 (or -1 to infer it from the labels), got -5");
  EXPECT_TRUE(Contains(Thrown<std::bad_alloc>([] { one_hot(tensor({1}, kInt64), int64_t{1} << 62); }),
                       "one_hot: can't allocate"));
}

TEST(Sizes, RepeatAndExpandOverflow) {
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([] { repeat(zeros({2}), {int64_t{1} << 62}); }),
                       "repeat: repeated size 4611686018427387904 * 2"));
  EXPECT_EQ(expand(zeros({1}), {int64_t{1} << 62}).numel(), int64_t{1} << 62);  // a view: nothing allocated
  EXPECT_TRUE(Contains(
      Thrown<std::invalid_argument>([] { expand(zeros({1, 1}), {int64_t{1} << 40, int64_t{1} << 40}); }),
      "expand: shape (1099511627776, 1099511627776) has more elements"));
  EXPECT_TRUE(Contains(repr(expand(zeros({1}), {int64_t{1} << 62})), "0.,  ..., 0."));
}

TEST(Sizes, PadOverflow) {
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([] { pad(zeros({2}), {kMax, 0}); }),
                       "pad: padded size 2 + 9223372036854775807"));
  EXPECT_TRUE(Contains(Thrown<std::bad_alloc>([] { pad(zeros({2}), {int64_t{1} << 62, 0}); }), "pad: "));
  EXPECT_TRUE(Contains(Thrown<std::bad_alloc>([] { pad(zeros({1, 2}), {int64_t{1} << 62, 0}, "replicate"); }),
                       "pad: "));
}

// ---- conv geometry: Ho * Wo wrapped to 0 with padding 2**31 - 1 (a heap overflow once)
TEST(ConvGeometry, HugePaddingIsAnErrorNotAWrap) {
  const int64_t p = (int64_t{1} << 31) - 1;
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([&] {
                         conv2d(randn({1, 1, 2, 2}), randn({1, 1, 1, 1}), Tensor(), {1, 1}, {p, p});
                       }),
                       "conv2d: number of blocks 4294967296 * 4294967296 is too large"));
  EXPECT_TRUE(
      Contains(Thrown<std::invalid_argument>([&] { unfold(randn({1, 1, 2, 2}), {1, 1}, {1, 1}, {p, p}); }),
               "unfold: number of blocks"));
  EXPECT_TRUE(
      Contains(Thrown<std::invalid_argument>([&] { fold(randn({1, 1, 0}), {2, 2}, {1, 1}, {1, 1}, {p, p}); }),
               "fold: number of blocks"));
  EXPECT_TRUE(
      Contains(Thrown<std::invalid_argument>([&] { unfold(randn({1, 1, 2, 2}), {1, 1}, {1, 1}, {kMax, 0}); }),
               "unfold: padding 2 * 9223372036854775807"));
}

TEST(ConvGeometry, HugeDilationAndKernel) {
  EXPECT_TRUE(Contains(
      Thrown<std::invalid_argument>([] { unfold(randn({1, 1, 2, 2}), {3, 1}, {1, 1}, {0, 0}, {kMax, 1}); }),
      "unfold: dilated kernel size 9223372036854775807 * 2"));
  const int64_t k = int64_t{1} << 31;
  EXPECT_TRUE(
      Contains(Thrown<std::invalid_argument>([&] { unfold(randn({1, 1, 2, 2}), {k, k}, {1, 1}, {k, k}); }),
               "unfold: "));
}

TEST(ConvGeometry, MaxPoolWithAHugeKernelVisitsOnlyTheTapsInside) {
  Tensor x = tensor({3, 1, 4, 1, 5, 9, 2, 6, 5}, kFloat64);
  Tensor y = max_pool2d(reshape(x, {1, 1, 3, 3}), {(int64_t{1} << 31) - 1, (int64_t{1} << 31) - 1},
                        std::nullopt, {(int64_t{1} << 30) - 1, (int64_t{1} << 30) - 1});
  EXPECT_EQ(y.to_vector(), std::vector<double>{9});
}

TEST(ConvGeometry, ModeratePaddingStillWorks) {
  Tensor y = conv2d(ones({1, 1, 2, 2}), ones({1, 1, 1, 1}), Tensor(), {1, 1}, {3, 3});
  EXPECT_EQ(y.shape(), (Shape{1, 1, 8, 8}));
  EXPECT_DOUBLE_EQ(sum(y).item(), 4.0);
  EXPECT_EQ(unfold(ones({1, 1, 2, 2}), {1, 1}, {1, 1}, {1, 1}).shape(), (Shape{1, 1, 16}));
}

TEST(ConvGeometry, TooLittleMemoryNamesTheOpCalled) {
  const int64_t p = int64_t{1} << 20;
  EXPECT_TRUE(Contains(Thrown<std::bad_alloc>(
                           [&] { conv2d(ones({1, 1, 2, 2}), ones({1, 1, 1, 1}), Tensor(), {1, 1}, {p, p}); }),
                       "conv2d: can't allocate shape (1, 1, 4398054899716) (float32)"));
  EXPECT_TRUE(Contains(Thrown<std::bad_alloc>([&] { unfold(ones({1, 1, 2, 2}), {1, 1}, {1, 1}, {p, p}); }),
                       "unfold: can't allocate"));
}

TEST(ConvGeometry, KernelTooBigIsAShapeError) {
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([] { conv2d(ones({1, 2, 5, 5}), ones({3, 2, 7, 7})); }),
                       "conv2d: expected a kernel no larger than the padded input (5, 5)"));
}

// ---- empty inputs give torch's result, never uninitialised memory
TEST(EmptyInputs, LinearWithNoInFeaturesIsTheBias) {
  Tensor junk = full({1000}, 7.0);  // freed memory a wrong kernel would hand back
  junk = Tensor();
  Tensor y = linear(zeros({500, 0}), zeros({2, 0}), ones({2}));
  EXPECT_EQ(y.shape(), (Shape{500, 2}));
  EXPECT_DOUBLE_EQ(sum(y).item(), 1000.0);
  EXPECT_EQ(linear(zeros({0}), zeros({3, 0}), ones({3})).to_vector(), (std::vector<double>{1, 1, 1}));
  EXPECT_EQ(linear(zeros({4, 0}), zeros({3, 0})).to_vector(), std::vector<double>(12, 0.0));
}

TEST(EmptyInputs, MatmulWithZeroSizes) {
  Tensor y = matmul(zeros({1, 0, 2, 0}), zeros({0, 3}));
  EXPECT_EQ(y.shape(), (Shape{1, 0, 2, 3}));
  Tensor z = matmul(ones({2, 0}), ones({0, 3}));
  EXPECT_EQ(z.to_vector(), std::vector<double>(6, 0.0));
}

TEST(Matmul, MessagesNameBothOperands) {
  EXPECT_EQ(Thrown<std::invalid_argument>([] { matmul(ones({2, 2, 3}), ones({3, 3, 4})); }),
            "matmul: cannot broadcast the batch dims (2,) and (3,) of (2, 2, 3) @ (3, 3, 4)");
  EXPECT_EQ(Thrown<std::invalid_argument>([] { matmul(ones({1, 1}, kInt64), ones({1, 1})); }),
            "matmul: expected operands of one dtype, got int64 (1, 1) and float32 (1, 1); convert one with "
            ".float() "
            "or .double()");
}

}  // namespace
