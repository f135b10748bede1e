// std, prod, cumsum, cumprod, all/any, median, sort/argsort/topk: hand-checked values, gradients
// at zeros (prod, cumprod) and at zero variance (std), float64 gradcheck + gradgradcheck, and the
// errors they raise. (Call std as chainrule::std: with `using namespace chainrule`, a bare std(...)
// is ambiguous with namespace std, as torch::std is.)
#include <gtest/gtest.h>

#include <cmath>
#include <stdexcept>
#include <vector>

#include "core/autograd.h"
#include "core/gradcheck.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

Tensor Grad(const Tensor& y, const Tensor& x) { return autograd::grad({y}, {x})[0]; }

TEST(ReduceScan, StdValuesAndZeroVarianceGradient) {
  Tensor x = T({1, 2, 3, 4, 2, 2, 2, 2}, {2, 4}, kFloat64, true);
  EXPECT_TRUE(Near(chainrule::std(x, {1}), {2}, {std::sqrt(5.0 / 3), 0}));
  EXPECT_TRUE(Near(chainrule::std(x, {1}, 0.0, true), {2, 1}, {std::sqrt(1.25), 0}));
  // d std / dx = (x - mean) / ((N - 1) std); 0 for the constant row (PyTorch's convention)
  const double s = std::sqrt(5.0 / 3);
  EXPECT_TRUE(Near(Grad(sum(chainrule::std(x, {1})), x), {2, 4},
                   {-1.5 / (3 * s), -0.5 / (3 * s), 0.5 / (3 * s), 1.5 / (3 * s), 0, 0, 0, 0}));
  auto [sd, m] = std_mean(x, {1});
  EXPECT_TRUE(Near(m, {2}, {2.5, 2}));
}

TEST(ReduceScan, ProdGradientWithZerosHasNoDivision) {
  Tensor x = T({2, 0, 3, 0, 5}, {5}, kFloat64, true);
  EXPECT_TRUE(Near(prod(x), {}, {0}));
  EXPECT_TRUE(Near(Grad(prod(x), x), {5}, {0, 0, 0, 0, 0}));  // two zeros: every gradient is 0
  Tensor y = T({2, 0, 3, 4}, {4}, kFloat64, true);
  EXPECT_TRUE(Near(Grad(prod(y), y), {4}, {0, 24, 0, 0}));  // one zero: only its own entry lives
  EXPECT_TRUE(Near(prod(T({3, -2, 1, 4}, {2, 2}, kInt64), 1), {2}, {-6, 4}));
  EXPECT_EQ(prod(T({1, 0}, {2}, kBool)).dtype(), kInt64);
  EXPECT_TRUE(Near(prod(zeros({0})), {}, {1}));
}

TEST(ReduceScan, CumsumCumprodValues) {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_TRUE(Near(cumsum(x, 1), {2, 3}, {1, 3, 6, 4, 9, 15}));
  EXPECT_TRUE(Near(cumsum(x, 0), {2, 3}, {1, 2, 3, 5, 7, 9}));
  EXPECT_TRUE(Near(cumprod(x, -1), {2, 3}, {1, 2, 6, 4, 20, 120}));
  EXPECT_EQ(cumsum(T({1, 0, 1}, {3}, kBool), 0).dtype(), kInt64);
  // d/dx of sum(cumprod([2, 0, 3])) = [1 + 0 + 0, 2 + 2*3, 0] = [1, 8, 0]
  Tensor z = T({2, 0, 3}, {3}, kFloat64, true);
  EXPECT_TRUE(Near(Grad(sum(cumprod(z, 0)), z), {3}, {1, 8, 0}));
}

TEST(ReduceScan, AllAny) {
  Tensor x = T({1, 0, 2, 3, NAN, 1}, {2, 3});
  EXPECT_EQ(all(x).dtype(), kBool);
  EXPECT_TRUE(Near(all(x, {1}), {2}, {0, 1}));
  EXPECT_TRUE(Near(any(x, {0}, true), {1, 3}, {1, 1, 1}));
  EXPECT_TRUE(Near(all(zeros({0})), {}, {1}));
  EXPECT_TRUE(Near(any(zeros({0})), {}, {0}));
}

TEST(ReduceScan, MedianSortTopk) {
  Tensor x = T({3, 1, 2, 4, 5, 5, 0, 5}, {2, 4}, kFloat64, true);
  EXPECT_TRUE(Near(median(x), {}, {3}));
  auto [mv, mi] = median(x, 1);
  EXPECT_TRUE(Near(mv, {2}, {2, 5}));
  EXPECT_TRUE(Near(mi, {2}, {2, 0}));  // rank 1 of (0, 5, 5, 5), ties ranked by index: the first 5
  auto [sv, si] = sort(x, -1, true);
  EXPECT_TRUE(Near(sv, {2, 4}, {4, 3, 2, 1, 5, 5, 5, 0}));
  EXPECT_TRUE(Near(si, {2, 4}, {3, 0, 2, 1, 0, 1, 3, 2}));
  EXPECT_TRUE(Near(argsort(T({NAN, 1, -INFINITY}, {3})), {3}, {2, 1, 0}));  // nan is the largest
  auto [tv, ti] = topk(x, 2, 1, false);
  EXPECT_TRUE(Near(tv, {2, 2}, {1, 2, 0, 5}));
  // tied maxima: the one PyTorch's selection picks (index 1), checked against torch 2.13
  EXPECT_TRUE(Near(Grad(sum(topk(x, 1).first), x), {2, 4}, {0, 0, 0, 1, 0, 1, 0, 0}));
}

TEST(ReduceScan, GradcheckAndGradgradcheck) {
  RunGradCases({
      {"std", [](In in) { return chainrule::std(in[0], {1}); }, {Leaf({3, 4})}},
      {"std_c0_all", [](In in) { return chainrule::std(in[0], {}, 0.0); }, {Leaf({5})}},
      {"prod_dim", [](In in) { return prod(in[0], 0); }, {Leaf({4, 3})}},
      {"prod_zeros", [](In in) { return prod(in[0]); }, {T({2, 0, 3, 0.5, 0}, {5}, kFloat64, true)}},
      {"prod_one_zero",
       [](In in) { return prod(in[0], 1); },
       {T({2, 0, 3, 1.5, 2, -1}, {2, 3}, kFloat64, true)}},
      {"cumsum", [](In in) { return cumsum(in[0], 1); }, {Leaf({3, 4})}, false},
      {"cumprod", [](In in) { return cumprod(in[0], 0); }, {Leaf({4, 2})}},
      {"cumprod_zeros", [](In in) { return cumprod(in[0], 0); }, {T({1.5, 0, 2, 0, 3}, {5}, kFloat64, true)}},
      {"median_dim", [](In in) { return median(in[0], 1).first; }, {Leaf({3, 5})}},
      {"sort", [](In in) { return sort(in[0], 0).first; }, {Leaf({4, 3})}},
      {"topk", [](In in) { return topk(in[0], 2).first; }, {Leaf({3, 5})}},
  });
}

TEST(ReduceScan, Errors) {
  EXPECT_TRUE(
      StartsWith(Thrown<std::runtime_error>([] { topk(zeros({3}), 4); }), "topk: expected k in [0, 3]"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::out_of_range>([] { cumsum(zeros({3}), 1); }), "cumsum: dim 1 is out of range"));
  EXPECT_TRUE(StartsWith(Thrown<std::out_of_range>([] { median(zeros({3, 0}), 1); }),
                         "median: expected a non-empty dim"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { chainrule::std(zeros({3}, kInt64)); }),
                         "std: expected a floating"));
}

}  // namespace
