// int64 arithmetic in the kernels wraps modulo 2^64, as PyTorch's does, with defined behaviour
// (computed in uint64: the sanitized build reports signed overflow); float-to-int64 conversion of
// NaN, ±inf and out-of-range values is defined too, and creation ops refuse values with no int64.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <limits>
#include <vector>

#include "core/kernels.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

constexpr int64_t kMin = std::numeric_limits<int64_t>::min();
constexpr int64_t kMax = std::numeric_limits<int64_t>::max();
constexpr int64_t kBig = int64_t{1} << 62;

// An int64 tensor holding exactly these values (tensor() goes through double, which can't).
Tensor Ints(const std::vector<int64_t>& v, Shape s = {}) {
  if (s.empty()) s = {static_cast<int64_t>(v.size())};
  Tensor t = empty(s, kInt64);
  std::copy(v.begin(), v.end(), t.data<int64_t>());
  return t;
}
std::vector<int64_t> Values(const Tensor& t) {
  Tensor c = t.contiguous();
  EXPECT_EQ(c.dtype(), kInt64);
  return std::vector<int64_t>(c.data<int64_t>(), c.data<int64_t>() + c.numel());
}
using V = std::vector<int64_t>;

TEST(IntegerWrap, HelpersWrapModulo2To64) {
  EXPECT_EQ(kernels::wrap_add(kMax, int64_t{1}), kMin);
  EXPECT_EQ(kernels::wrap_sub(kMin, int64_t{1}), kMax);
  EXPECT_EQ(kernels::wrap_mul(kBig, int64_t{4}), 0);
  EXPECT_EQ(kernels::wrap_mul(kBig, int64_t{3}), -kBig);
  EXPECT_EQ(kernels::wrap_neg(kMin), kMin);
  EXPECT_EQ(kernels::wrap_add(1.5, 2.0), 3.5);  // floats: the plain operators
}

TEST(IntegerWrap, ArithmeticOps) {
  EXPECT_EQ(Values(mul(Ints({kBig, -kBig, 3}), 4)), (V{0, 0, 12}));
  EXPECT_EQ(Values(mul(Ints({kBig, 3}), Ints({4, 5}))), (V{0, 15}));
  EXPECT_EQ(Values(add(Ints({kMax, kMin}), Ints({1, -1}))), (V{kMin, kMax}));
  EXPECT_EQ(Values(add(Ints({kMax}), 1)), (V{kMin}));
  EXPECT_EQ(Values(sub(Ints({kMin}), Ints({1}))), (V{kMax}));
  EXPECT_EQ(Values(rsub(Ints({kMax}), -2)), (V{kMax}));  // -2 - kMax = -2^63 - 1
  EXPECT_EQ(Values(neg(Ints({kMin, 5}))), (V{kMin, -5}));
  EXPECT_EQ(Values(abs(Ints({kMin, -5}))), (V{kMin, 5}));
  EXPECT_EQ(Values(pow(Ints({int64_t{1} << 32, 3}), 2)), (V{0, 9}));
  EXPECT_EQ(Values(pow(Ints({int64_t{1} << 22, -3}), 3)), (V{0, -27}));
}

TEST(IntegerWrap, InPlaceOpsStayExact) {
  Tensor a = Ints({0, kMax});
  a.add_(Ints({kBig + 1, 1}));  // through a double, 2^62 + 1 lost its last bit
  EXPECT_EQ(Values(a), (V{kBig + 1, kMin}));
  a.sub_(Ints({1, 1}), 3);
  EXPECT_EQ(Values(a), (V{kBig - 2, kMax - 2}));
  a.mul_(Ints({4, 2}));
  EXPECT_EQ(Values(a), (V{-8, -6}));
}

TEST(IntegerWrap, Reductions) {
  EXPECT_EQ(Values(sum(Ints({kBig, kBig, kBig}))), (V{-kBig}));
  EXPECT_EQ(Values(sum(Ints(std::vector<int64_t>(1001, kBig)))), (V{kBig}));  // the vectorised sum
  EXPECT_EQ(Values(sum(Ints({kBig, kBig, kBig, kBig, kBig, kBig}, {2, 3}), {0})), (V{kMin, kMin, kMin}));
  EXPECT_EQ(Values(sum(Ints({kBig, kBig, kBig, kBig, kBig, kBig}, {2, 3}), {1})), (V{-kBig, -kBig}));
  EXPECT_EQ(Values(prod(Ints({kBig, 4, 3}))), (V{0}));
  EXPECT_EQ(Values(cumsum(Ints({kBig, kBig, kBig}), 0)), (V{kBig, kMin, -kBig}));
  EXPECT_EQ(Values(cumprod(Ints({kBig, 2, 3}), 0)), (V{kBig, kMin, kMin}));
}

TEST(IntegerWrap, Matmul) {
  EXPECT_EQ(Values(matmul(Ints({kBig, 1}, {1, 2}), Ints({4, 3}, {2, 1}))), (V{3}));
  EXPECT_EQ(Values(matmul(Ints({kBig, kBig}, {1, 1, 2}), Ints({2, 2}, {1, 2, 1}))), (V{0}));
}

TEST(IntegerWrap, IntegralScalarsStayExact) {
  const long long odd = (1LL << 53) + 1;  // the first integer a double can't hold
  EXPECT_EQ(Values(add(Ints({0, 1}), odd)), (V{odd, odd + 1}));
  EXPECT_EQ(Values(sub(Ints({0}), odd)), (V{-odd}));
  EXPECT_EQ(Values(rsub(Ints({1}), odd)), (V{odd - 1}));
  EXPECT_EQ(Values(mul(Ints({3}), odd)), (V{3 * odd}));
  EXPECT_EQ(Values(add(Ints({0}), odd, 3)), (V{3 * odd}));
  EXPECT_EQ(Values(full({1}, odd, kInt64)), (V{odd}));
  EXPECT_EQ(Values(zeros({1}, kInt64).fill_(odd)), (V{odd}));
  EXPECT_EQ(Values(where(gt(Ints({1, 0}), 0), Ints({7, 7}), odd)), (V{7, odd}));
  Tensor e = eq(Ints({odd, odd - 1}), odd);
  EXPECT_TRUE(e.at(0) == 1 && e.at(1) == 0);
}

TEST(IntegerWrap, FloatToInt64ConversionIsDefined) {
  // as PyTorch on x86: truncation, and INT64_MIN for NaN, ±inf and values out of range
  Tensor x = tensor({NAN, INFINITY, -INFINITY, 1e30, -1e30, -2.5, 2.5, 4611686018427387904.0}, kFloat64);
  EXPECT_EQ(Values(x.to(kInt64)), (V{kMin, kMin, kMin, kMin, kMin, -2, 2, kBig}));
  EXPECT_EQ(Values(x.to(kFloat32).to(kInt64)), (V{kMin, kMin, kMin, kMin, kMin, -2, 2, kBig}));
}

TEST(IntegerWrap, CreationRefusesValuesWithoutInt64) {
  for (double v : {static_cast<double>(NAN), static_cast<double>(INFINITY), 9223372036854775808.0}) {
    EXPECT_TRUE(StartsWith(Thrown<std::runtime_error>([&] { full({2}, v, kInt64); }), "full: value "));
    EXPECT_TRUE(StartsWith(Thrown<std::runtime_error>([&] { tensor({1.0, v}, kInt64); }), "tensor: value "));
    EXPECT_TRUE(
        StartsWith(Thrown<std::runtime_error>([&] { zeros({2}, kInt64).fill_(v); }), "fill_: value "));
  }
  EXPECT_EQ(Values(full({1}, -9223372036854775808.0, kInt64)), (V{kMin}));
  EXPECT_TRUE(std::isnan(full({1}, NAN, kFloat32).item()));
}

TEST(IntegerWrap, RandintCoversTheWholeRange) {
  manual_seed(0);
  std::vector<int64_t> v = Values(randint(kMin, kMax, {2000}));
  int64_t negative = 0, huge = 0;
  for (int64_t x : v) negative += x<0, huge += x> kBig || x < -kBig;
  EXPECT_GT(negative, 800);
  EXPECT_LT(negative, 1200);
  EXPECT_GT(huge, 800);
}

}  // namespace

namespace {
using namespace chainrule;
// Found by the sanitized Python run: the element count of a huge shape overflowed int64.
TEST(IntegerWrap, ElementCountsDontOverflow) {
  const int64_t big = int64_t{1} << 40;
  EXPECT_THROW(shape_numel({big, big}), std::invalid_argument);
  EXPECT_EQ(shape_numel({big, big, 0}), 0);
  EXPECT_THROW(reshape(zeros({4}), {int64_t{1} << 62, 4, 0}), std::invalid_argument);
  EXPECT_THROW(expand(zeros({1, 1}), {big, big}), std::invalid_argument);
}
}  // namespace
