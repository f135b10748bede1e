// Elementwise math: hand-checked values (special values, signs of remainders, half-to-even rounding),
// gradcheck + gradgradcheck in float64 for every differentiable op, and error messages (integer
// division by zero, dtype mismatches, in-place rules).
#include <gtest/gtest.h>

#include <cmath>
#include <limits>
#include <stdexcept>
#include <vector>

#include "core/gradcheck.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

double Pos(double v) { return 0.5 + std::abs(v); }             // in [0.5, ...)
double Unit(double v) { return 0.9 * std::tanh(v); }           // in (-0.9, 0.9)
double AboveOne(double v) { return 1.5 + std::abs(v); }        // in [1.5, ...)
double Away0(double v) { return v >= 0 ? v + 0.5 : v - 0.5; }  // |v| >= 0.5

// Elementwise equality where infinities matter (Near's tolerance arithmetic can't compare them).
::testing::AssertionResult Same(const Tensor& t, const std::vector<double>& want) {
  std::vector<double> got = t.to_vector();
  if (got.size() != want.size()) return ::testing::AssertionFailure() << got.size() << " elements";
  for (size_t i = 0; i < got.size(); ++i)
    if (!(got[i] == want[i] || (std::isnan(got[i]) && std::isnan(want[i]))))
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << got[i] << ", expected " << want[i];
  return ::testing::AssertionSuccess();
}

TEST(Math, HandCheckedValues) {
  EXPECT_TRUE(Near(asin(T({1, -1, 0.5}, {3})), {3}, {M_PI / 2, -M_PI / 2, M_PI / 6}));
  EXPECT_TRUE(Same(atanh(T({1, -1, 0}, {3})), {kInf, -kInf, 0}));
  EXPECT_TRUE(Same(log1p(T({-1, 0}, {2})), {-kInf, 0}));
  EXPECT_TRUE(Near(log2(T({8}, {1})), {1}, {3}));
  EXPECT_TRUE(Near(log10(T({1000}, {1})), {1}, {3}));
  EXPECT_TRUE(Near(exp2(T({-1, 10}, {2})), {2}, {0.5, 1024}));
  EXPECT_TRUE(Same(rsqrt(T({4, 0, kInf}, {3})), {0.5, kInf, 0}));
  EXPECT_TRUE(Near(atan2(T({1, 1}, {2}), T({1, -1}, {2})), {2}, {M_PI / 4, 3 * M_PI / 4}));
  EXPECT_EQ(std::signbit(rsqrt(T({-0.0}, {1})).at(0)), true);  // 1/sqrt(-0) = -inf
  EXPECT_EQ(tan(T({1}, {1}, kInt64)).dtype(), kFloat32);       // ints promote, as torch
}

// sqrt and rsqrt are IEEE's, bit for bit, on every length through the vector body and tail (Eigen's
// fast-math packet sqrt was 1 ulp off for a third of the inputs on AVX-512).
TEST(Math, SqrtAndRsqrtAreCorrectlyRounded) {
  std::vector<double> v;
  for (int i = 0; i < 4099; ++i) v.push_back(std::ldexp(1.0 + i * 0.618034, (i % 61) - 30));
  for (Dtype d : {kFloat32, kFloat64})
    for (int64_t n : {1, 7, 16, 17, 33, 4099}) {
      Tensor x = T(std::vector<double>(v.begin(), v.begin() + n), {n}, d);
      std::vector<double> in = x.to_vector(), s = sqrt(x).to_vector(), r = rsqrt(x).to_vector();
      for (int64_t i = 0; i < n; ++i) {
        if (d == kFloat32) {
          const float f = float(in[size_t(i)]);
          ASSERT_EQ(float(s[size_t(i)]), std::sqrt(f)) << "float32 sqrt n=" << n << " i=" << i;
          ASSERT_EQ(float(r[size_t(i)]), 1.0f / std::sqrt(f)) << "float32 rsqrt n=" << n << " i=" << i;
        } else {
          ASSERT_EQ(s[size_t(i)], std::sqrt(in[size_t(i)])) << "float64 sqrt n=" << n << " i=" << i;
          ASSERT_EQ(r[size_t(i)], 1.0 / std::sqrt(in[size_t(i)])) << "float64 rsqrt n=" << n << " i=" << i;
        }
      }
    }
}

TEST(Math, RoundingHalfToEvenAndIntegersKeepTheirDtype) {
  EXPECT_TRUE(Near(round(T({-2.5, -1.5, -0.5, 0.5, 1.5, 2.5}, {6})), {6}, {-2, -2, -0.0, 0, 2, 2}));
  EXPECT_TRUE(Near(round(T({1.2345, 1234.5}, {2}), 2), {2}, {1.23, 1234.5}));
  EXPECT_TRUE(Near(round(T({1234.5}, {1}), -2), {1}, {1200}));
  EXPECT_TRUE(Near(frac(T({-1.25, 2.5}, {2})), {2}, {-0.25, 0.5}));
  Tensor i = T({5, -3}, {2}, kInt64);
  EXPECT_EQ(floor(i).dtype(), kInt64);
  EXPECT_EQ(square(i).dtype(), kInt64);
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { floor(T({1}, {1}, kBool)); }),
                         "floor: not implemented for bool tensors"));
}

TEST(Math, RemainderFollowsTheDivisorFmodTheDividend) {
  Tensor a = T({7, -7, 7, -7}, {4}), b = T({2, 2, -2, -2}, {4});
  EXPECT_TRUE(Near(remainder(a, b), {4}, {1, 1, -1, -1}));
  EXPECT_TRUE(Near(fmod(a, b), {4}, {1, -1, 1, -1}));
  EXPECT_TRUE(Near(floor_divide(a, b), {4}, {3, -4, -4, 3}));
  EXPECT_TRUE(Near(div(a, b, "trunc"), {4}, {3, -3, -3, 3}));
  Tensor ai = a.to(kInt64), bi = b.to(kInt64);
  EXPECT_EQ(remainder(ai, bi).dtype(), kInt64);
  EXPECT_TRUE(Near(remainder(ai, bi), {4}, {1, 1, -1, -1}));
  EXPECT_TRUE(Near(floor_divide(ai, bi), {4}, {3, -4, -4, 3}));
  // INT64_MIN / -1 wraps instead of trapping
  Tensor mn = tensor({-9223372036854775808.0}, kInt64), m1 = tensor({-1.0}, kInt64);
  EXPECT_EQ(floor_divide(mn, m1).data<int64_t>()[0], std::numeric_limits<int64_t>::min());
  EXPECT_EQ(remainder(mn, m1).data<int64_t>()[0], 0);
}

TEST(Math, IntegerDivisionByZeroThrowsInsteadOfTrapping) {
  Tensor a = T({1, 2, 3}, {3}, kInt64), z = T({1, 0, 1}, {3}, kInt64);
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { remainder(a, z); }), "ZeroDivisionError"));
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { fmod(a, Scalar(0)); }), "ZeroDivisionError"));
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { floor_divide(a, z); }), "ZeroDivisionError"));
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { div(a, z, "trunc"); }), "ZeroDivisionError"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { div(a, z, "round"); }),
                         "div: expected rounding_mode to be one of None, 'trunc', or 'floor', got 'round'"));
}

TEST(Math, IsCloseAndPredicates) {
  Tensor a = T({1, kInf, kNan, 1e-9, -kInf}, {5}), b = T({1.000001, kInf, kNan, 0, kInf}, {5});
  EXPECT_EQ(isclose(a, b).to_vector(), (std::vector<double>{1, 1, 0, 1, 0}));
  EXPECT_EQ(isclose(a, b, 1e-5, 1e-8, true).to_vector(), (std::vector<double>{1, 1, 1, 1, 0}));
  EXPECT_FALSE(allclose(a, b));
  EXPECT_TRUE(allclose(T({1, 2}, {2}), T({1, 2 + 1e-9}, {2})));
  EXPECT_EQ(isnan(a).to_vector(), (std::vector<double>{0, 0, 1, 0, 0}));
  EXPECT_EQ(isneginf(a).to_vector(), (std::vector<double>{0, 0, 0, 0, 1}));
  EXPECT_EQ(isfinite(T({1, 2}, {2}, kInt64)).to_vector(), (std::vector<double>{1, 1}));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { isclose(a, a.to(kFloat32)); }),
                         "isclose: expected tensors of the same dtype, got float64 and float32"));
}

TEST(Math, ClampWithTensorBoundsGradients) {
  // ties go to x; where min > max the result (and the gradient) is max's
  Tensor x = T({0.5, 1.0, 2.0, 1.0}, {4}, kFloat64, true);
  Tensor lo = T({1.0, 1.0, 1.0, 2.0}, {4}, kFloat64, true);
  Tensor hi = T({2.0, 2.0, 2.0, 1.0}, {4}, kFloat64, true);
  Tensor y = clamp(x, lo, hi);
  EXPECT_TRUE(Near(y, {4}, {1, 1, 2, 1}));
  auto g = autograd::grad({sum(y)}, {x, lo, hi});
  EXPECT_EQ(g[0].to_vector(), (std::vector<double>{0, 1, 1, 0}));
  EXPECT_EQ(g[1].to_vector(), (std::vector<double>{1, 0, 0, 0}));
  EXPECT_EQ(g[2].to_vector(), (std::vector<double>{0, 0, 0, 1}));
}

TEST(Math, InPlaceFormsFollowTheInPlaceRules) {
  Tensor x = T({1, 4, 9}, {3});
  x.sqrt_().neg_().abs_();
  EXPECT_TRUE(Near(x, {3}, {1, 2, 3}));
  Tensor i = T({1, 2}, {2}, kInt64);
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([&] { i.exp_(); }),
                         "exp_: result type float32 can't be cast to the tensor's dtype int64"));
  Tensor w = T({1, 2}, {2}, kFloat64, true);
  EXPECT_TRUE(
      StartsWith(Thrown<std::runtime_error>([&] { w.relu_(); }), "relu_: a tensor that requires grad"));
}

TEST(Math, Gradchecks) {
  std::vector<GradCase> cases = {
      {"tan", [](In v) { return tan(v[0]); }, {Leaf({3, 2}, Unit)}},
      {"asin", [](In v) { return asin(v[0]); }, {Leaf({3, 2}, Unit)}},
      {"acos", [](In v) { return acos(v[0]); }, {Leaf({3, 2}, Unit)}},
      {"atan", [](In v) { return atan(v[0]); }, {Leaf({3, 2})}},
      {"atan2", [](In v) { return atan2(v[0], v[1]); }, {Leaf({3, 1}), Leaf({4}, Away0)}},
      {"sinh", [](In v) { return sinh(v[0]); }, {Leaf({5})}},
      {"cosh", [](In v) { return cosh(v[0]); }, {Leaf({5})}},
      {"asinh", [](In v) { return asinh(v[0]); }, {Leaf({5})}},
      {"acosh", [](In v) { return acosh(v[0]); }, {Leaf({5}, AboveOne)}},
      {"atanh", [](In v) { return atanh(v[0]); }, {Leaf({5}, Unit)}},
      {"log1p", [](In v) { return log1p(v[0]); }, {Leaf({5}, Pos)}},
      {"expm1", [](In v) { return expm1(v[0]); }, {Leaf({5})}},
      {"log2", [](In v) { return log2(v[0]); }, {Leaf({5}, Pos)}},
      {"log10", [](In v) { return log10(v[0]); }, {Leaf({5}, Pos)}},
      {"exp2", [](In v) { return exp2(v[0]); }, {Leaf({5})}},
      {"square", [](In v) { return square(v[0]); }, {Leaf({5})}},
      {"rsqrt", [](In v) { return rsqrt(v[0]); }, {Leaf({5}, Pos)}},
      {"frac", [](In v) { return frac(v[0]); }, {Leaf({5}, Pos)}},
      {"fmod", [](In v) { return fmod(v[0], v[1]); }, {Leaf({4}), Leaf({4}, Away0)}},
      {"remainder", [](In v) { return remainder(v[0], v[1]); }, {Leaf({4}), Leaf({4}, Away0)}},
      {"add_alpha", [](In v) { return add(v[0], v[1], Scalar(2.5)); }, {Leaf({3, 1}), Leaf({4})}},
      {"sub_alpha", [](In v) { return sub(v[0], v[1], Scalar(-3)); }, {Leaf({3}), Leaf({3})}},
      {"lerp", [](In v) { return lerp(v[0], v[1], v[2]); }, {Leaf({3, 1}), Leaf({4}), Leaf({3, 4})}},
      {"lerp_scalar", [](In v) { return lerp(v[0], v[1], Scalar(0.7)); }, {Leaf({3}), Leaf({3})}},
      {"copysign", [](In v) { return copysign(v[0], v[1]); }, {Leaf({4}, Away0), Leaf({4}, Away0)}},
      {"clamp_tensor",
       [](In v) { return clamp(v[0], v[1], v[2]); },
       {T({-1.0, 0.5, 3.0}, {3}, kFloat64, true), T({0.0, 0.0, 0.0}, {3}, kFloat64, true),
        T({1.0, 1.0, 1.0}, {3}, kFloat64, true)}},
  };
  RunGradCases(cases);
}

}  // namespace
