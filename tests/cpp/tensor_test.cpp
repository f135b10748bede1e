// Tensor basics: factories, accessors, dtype promotion, requires_grad rules, printing, storage
// sharing and in-place ops.
#include <gtest/gtest.h>

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstdint>
#include <sstream>
#include <stdexcept>
#include <string>
#include <thread>
#include <vector>

#include "core/ops.h"

namespace cr = chainrule;
using cr::Tensor;

namespace {

void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 0.0) {
  std::vector<double> got = t.to_vector();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "element " << i;
}

std::string lower(std::string s) {
  std::transform(s.begin(), s.end(), s.begin(), [](unsigned char c) { return std::tolower(c); });
  return s;
}

bool mentions_no_grad(const std::string& msg) {
  std::string m = lower(msg);
  return m.find("no_grad") != std::string::npos || m.find("no-grad") != std::string::npos ||
         m.find("nograd") != std::string::npos || m.find("no grad") != std::string::npos;
}

}  // namespace

// ---- factories ----

TEST(TensorFactory, TensorFromValuesAndShape) {
  Tensor t = cr::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.shape(), (cr::Shape{2, 3}));
  EXPECT_EQ(t.dtype(), cr::kFloat32);
  expect_values(t, {1, 2, 3, 4, 5, 6});
}

TEST(TensorFactory, TensorFromInitializerListIs1D) {
  Tensor t = cr::tensor({1.5, -2.0, 3.0}, cr::kFloat64);
  EXPECT_EQ(t.shape(), (cr::Shape{3}));
  EXPECT_EQ(t.dtype(), cr::kFloat64);
  expect_values(t, {1.5, -2.0, 3.0});
}

TEST(TensorFactory, TensorRejectsValueCountNotMatchingShape) {
  EXPECT_THROW(cr::tensor({1, 2, 3}, {2, 2}), std::invalid_argument);
}

TEST(TensorFactory, ZerosAndOnes) {
  Tensor z = cr::zeros({2, 3});
  Tensor o = cr::ones({4}, cr::kInt64);
  EXPECT_EQ(z.shape(), (cr::Shape{2, 3}));
  EXPECT_EQ(z.dtype(), cr::kFloat32);
  expect_values(z, std::vector<double>(6, 0.0));
  EXPECT_EQ(o.dtype(), cr::kInt64);
  expect_values(o, std::vector<double>(4, 1.0));
}

TEST(TensorFactory, Full) {
  Tensor f = cr::full({2, 2}, 7.5, cr::kFloat64);
  EXPECT_EQ(f.dtype(), cr::kFloat64);
  expect_values(f, {7.5, 7.5, 7.5, 7.5});
}

TEST(TensorFactory, ArangeStartEndStep) {
  Tensor a = cr::arange(1.0, 2.0, 0.25);
  EXPECT_EQ(a.dtype(), cr::kFloat32);
  expect_values(a, {1.0, 1.25, 1.5, 1.75});
}

TEST(TensorFactory, ArangeStartEndStepWithDtype) {
  Tensor a = cr::arange(0.0, 5.0, 2.0, cr::kFloat64);
  EXPECT_EQ(a.dtype(), cr::kFloat64);
  expect_values(a, {0, 2, 4});
}

TEST(TensorFactory, ArangeEndIsInt64ByDefault) {
  Tensor a = cr::arange(int64_t{4});
  EXPECT_EQ(a.dtype(), cr::kInt64);
  EXPECT_EQ(a.shape(), (cr::Shape{4}));
  expect_values(a, {0, 1, 2, 3});
}

TEST(TensorFactory, ArangeEndWithFloatDtype) {
  Tensor a = cr::arange(int64_t{3}, cr::kFloat32);
  EXPECT_EQ(a.dtype(), cr::kFloat32);
  expect_values(a, {0, 1, 2});
}

TEST(TensorFactory, Linspace) {
  Tensor l = cr::linspace(0.0, 1.0, 5);
  EXPECT_EQ(l.shape(), (cr::Shape{5}));
  expect_values(l, {0.0, 0.25, 0.5, 0.75, 1.0}, 1e-7);
}

TEST(TensorFactory, LinspaceFloat64IncludesBothEnds) {
  Tensor l = cr::linspace(-1.0, 2.0, 4, cr::kFloat64);
  EXPECT_EQ(l.dtype(), cr::kFloat64);
  expect_values(l, {-1.0, 0.0, 1.0, 2.0}, 1e-15);
}

TEST(TensorFactory, EyeSquare) {
  Tensor e = cr::eye(3);
  EXPECT_EQ(e.shape(), (cr::Shape{3, 3}));
  expect_values(e, {1, 0, 0, 0, 1, 0, 0, 0, 1});
}

TEST(TensorFactory, EyeRectangular) {
  Tensor e = cr::eye(2, 3, cr::kFloat64);
  EXPECT_EQ(e.shape(), (cr::Shape{2, 3}));
  EXPECT_EQ(e.dtype(), cr::kFloat64);
  expect_values(e, {1, 0, 0, 0, 1, 0});
}

TEST(TensorFactory, RandSameSeedSameNumbers) {
  cr::manual_seed(123);
  std::vector<double> a = cr::rand({50}).to_vector();
  cr::manual_seed(123);
  std::vector<double> b = cr::rand({50}).to_vector();
  EXPECT_EQ(a, b);
}

TEST(TensorFactory, RandnSameSeedSameNumbers) {
  cr::manual_seed(7);
  std::vector<double> a = cr::randn({50}, cr::kFloat64).to_vector();
  cr::manual_seed(7);
  std::vector<double> b = cr::randn({50}, cr::kFloat64).to_vector();
  EXPECT_EQ(a, b);
}

TEST(TensorFactory, DifferentSeedsDifferentNumbers) {
  cr::manual_seed(1);
  std::vector<double> a = cr::randn({50}).to_vector();
  cr::manual_seed(2);
  std::vector<double> b = cr::randn({50}).to_vector();
  EXPECT_NE(a, b);
}

TEST(TensorFactory, ConsecutiveDrawsDiffer) {
  cr::manual_seed(5);
  std::vector<double> a = cr::rand({20}).to_vector();
  std::vector<double> b = cr::rand({20}).to_vector();
  EXPECT_NE(a, b);
}

TEST(TensorFactory, RandIsInUnitInterval) {
  cr::manual_seed(0);
  for (cr::Dtype d : {cr::kFloat32, cr::kFloat64}) {
    std::vector<double> v = cr::rand({100000}, d).to_vector();
    double lo = *std::min_element(v.begin(), v.end());
    double hi = *std::max_element(v.begin(), v.end());
    EXPECT_GE(lo, 0.0);
    EXPECT_LT(hi, 1.0);
    EXPECT_LT(lo, 0.001);  // covers the whole interval
    EXPECT_GT(hi, 0.999);
  }
}

TEST(TensorFactory, RandnHasMeanZeroAndStdOne) {
  cr::manual_seed(42);
  std::vector<double> v = cr::randn({100000}, cr::kFloat64).to_vector();
  double mean = 0.0;
  for (double x : v) mean += x;
  mean /= v.size();
  double var = 0.0;
  for (double x : v) var += (x - mean) * (x - mean);
  double sd = std::sqrt(var / (v.size() - 1));
  EXPECT_NEAR(mean, 0.0, 0.02);
  EXPECT_NEAR(sd, 1.0, 0.02);
}

TEST(TensorFactory, RandintIsInHalfOpenRange) {
  cr::manual_seed(3);
  Tensor r = cr::randint(-2, 3, {1000});
  EXPECT_EQ(r.dtype(), cr::kInt64);
  EXPECT_EQ(r.shape(), (cr::Shape{1000}));
  std::vector<double> v = r.to_vector();
  EXPECT_EQ(*std::min_element(v.begin(), v.end()), -2.0);
  EXPECT_EQ(*std::max_element(v.begin(), v.end()), 2.0);
  for (double x : v) EXPECT_EQ(x, std::floor(x));
}

TEST(TensorFactory, ZerosLikeKeepsDtypeAndShape) {
  Tensor t = cr::tensor({1, 2, 3, 4, 5, 6}, {3, 2}, cr::kInt64);
  Tensor z = cr::zeros_like(t);
  EXPECT_EQ(z.shape(), (cr::Shape{3, 2}));
  EXPECT_EQ(z.dtype(), cr::kInt64);
  expect_values(z, std::vector<double>(6, 0.0));
}

TEST(TensorFactory, OnesLikeKeepsDtypeAndShape) {
  Tensor t = cr::zeros({2, 1, 3}, cr::kFloat64);
  Tensor o = cr::ones_like(t);
  EXPECT_EQ(o.shape(), (cr::Shape{2, 1, 3}));
  EXPECT_EQ(o.dtype(), cr::kFloat64);
  expect_values(o, std::vector<double>(6, 1.0));
}

TEST(TensorFactory, LikeFactoriesDoNotRequireGrad) {
  Tensor t = cr::ones({2}, cr::kFloat32);
  t.set_requires_grad(true);
  EXPECT_FALSE(cr::zeros_like(t).requires_grad());
  EXPECT_FALSE(cr::ones_like(t).requires_grad());
}

// ---- accessors ----

TEST(TensorAccess, ShapeDimNumel) {
  Tensor t = cr::zeros({2, 3, 4});
  EXPECT_EQ(t.shape(), (cr::Shape{2, 3, 4}));
  EXPECT_EQ(t.dim(), 3);
  EXPECT_EQ(t.numel(), 24);
}

TEST(TensorAccess, SizeAcceptsNegativeDims) {
  Tensor t = cr::zeros({2, 3, 4});
  EXPECT_EQ(t.size(0), 2);
  EXPECT_EQ(t.size(-1), 4);
  EXPECT_EQ(t.size(-3), 2);
}

TEST(TensorAccess, SizeOutOfRangeThrows) {
  Tensor t = cr::zeros({2, 3});
  EXPECT_THROW(t.size(2), std::out_of_range);
  EXPECT_THROW(t.size(-3), std::out_of_range);
}

TEST(TensorAccess, ScalarTensorIsZeroDim) {
  Tensor s = cr::scalar_tensor(2.5);
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.shape(), cr::Shape{});
  EXPECT_EQ(s.item(), 2.5);
}

TEST(TensorAccess, Dtype) {
  EXPECT_EQ(cr::zeros({1}).dtype(), cr::kFloat32);
  EXPECT_EQ(cr::zeros({1}, cr::kFloat64).dtype(), cr::kFloat64);
  EXPECT_EQ(cr::zeros({1}, cr::kInt64).dtype(), cr::kInt64);
  EXPECT_STREQ(cr::dtype_name(cr::kFloat64), "float64");
  EXPECT_STREQ(cr::dtype_name(cr::kInt64), "int64");
}

TEST(TensorAccess, ItemOfOneElementTensor) {
  EXPECT_EQ(cr::tensor({3.25}).item(), 3.25);
  EXPECT_EQ(cr::tensor({4}, {1, 1}, cr::kInt64).item(), 4.0);
}

TEST(TensorAccess, ItemOfTwoElementTensorThrows) {
  EXPECT_THROW(cr::tensor({1, 2}).item(), std::invalid_argument);
}

TEST(TensorAccess, AtFlatAndByIndex) {
  Tensor t = cr::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_EQ(t.at(4), 5.0);
  EXPECT_EQ(t.at({1, 2}), 6.0);
  EXPECT_EQ(t.at({0, 1}), 2.0);
}

TEST(TensorAccess, AtOutOfRangeThrows) {
  Tensor t = cr::tensor({1, 2, 3, 4, 5, 6}, {2, 3});
  EXPECT_THROW(t.at(6), std::out_of_range);
  EXPECT_THROW(t.at({2, 0}), std::out_of_range);
}

TEST(TensorAccess, DataWithWrongTypeThrows) {
  Tensor t = cr::zeros({2});
  EXPECT_NO_THROW(t.data<float>());
  EXPECT_ANY_THROW(t.data<double>());
}

// ---- dtype promotion ----

TEST(TensorDtype, Int64PlusFloat32IsFloat32) {
  Tensor r = cr::tensor({1, 2}, cr::kInt64) + cr::tensor({0.5, 0.25}, cr::kFloat32);
  EXPECT_EQ(r.dtype(), cr::kFloat32);
  expect_values(r, {1.5, 2.25});
}

TEST(TensorDtype, Float32PlusFloat64IsFloat64) {
  Tensor r = cr::tensor({1, 2}, cr::kFloat32) + cr::tensor({0.5, 0.25}, cr::kFloat64);
  EXPECT_EQ(r.dtype(), cr::kFloat64);
  expect_values(r, {1.5, 2.25});
}

TEST(TensorDtype, Int64PlusIntegerScalarStaysInt64) {
  Tensor r = cr::tensor({1, 2}, cr::kInt64) + 1;
  EXPECT_EQ(r.dtype(), cr::kInt64);
  expect_values(r, {2, 3});
}

TEST(TensorDtype, Int64TimesFloatScalarIsFloat32) {
  Tensor r = cr::tensor({1, 3}, cr::kInt64) * 0.5;
  EXPECT_EQ(r.dtype(), cr::kFloat32);
  expect_values(r, {0.5, 1.5});
}

TEST(TensorDtype, Float32TimesFloatScalarStaysFloat32) {
  Tensor r = cr::tensor({1, 3}, cr::kFloat32) * 0.5;
  EXPECT_EQ(r.dtype(), cr::kFloat32);
}

TEST(TensorDtype, Int64DividedByInt64IsTrueDivisionInFloat32) {
  Tensor r = cr::tensor({1, 7}, cr::kInt64) / cr::tensor({2, 2}, cr::kInt64);
  EXPECT_EQ(r.dtype(), cr::kFloat32);
  expect_values(r, {0.5, 3.5});
}

TEST(TensorDtype, PromoteTypesTable) {
  EXPECT_EQ(cr::promote_types(cr::kInt64, cr::kFloat32), cr::kFloat32);
  EXPECT_EQ(cr::promote_types(cr::kFloat32, cr::kFloat64), cr::kFloat64);
  EXPECT_EQ(cr::promote_types(cr::kBool, cr::kInt64), cr::kInt64);
  EXPECT_EQ(cr::promote_types(cr::kInt64, cr::kInt64), cr::kInt64);
}

TEST(TensorDtype, ToConvertsValues) {
  Tensor r = cr::tensor({1.75, -2.5}, cr::kFloat64).to(cr::kFloat32);
  EXPECT_EQ(r.dtype(), cr::kFloat32);
  expect_values(r, {1.75, -2.5});
}

// ---- requires_grad ----

TEST(TensorRequiresGrad, FloatingTensorsCanRequireGrad) {
  Tensor a = cr::zeros({2});
  EXPECT_FALSE(a.requires_grad());
  a.set_requires_grad(true);
  EXPECT_TRUE(a.requires_grad());
  Tensor b = cr::tensor({1, 2}, cr::kFloat64, true);
  EXPECT_TRUE(b.requires_grad());
}

TEST(TensorRequiresGrad, Int64CannotRequireGrad) {
  Tensor t = cr::tensor({1, 2}, cr::kInt64);
  try {
    t.set_requires_grad(true);
    FAIL() << "expected std::invalid_argument";
  } catch (const std::invalid_argument& e) {
    std::string msg = e.what();
    EXPECT_NE(msg.find("int64"), std::string::npos) << msg;
    EXPECT_NE(msg.find("floating"), std::string::npos) << msg;
  }
  EXPECT_FALSE(t.requires_grad());
}

TEST(TensorRequiresGrad, Int64FactoryWithRequiresGradThrows) {
  EXPECT_THROW(cr::tensor({1, 2}, cr::kInt64, true), std::invalid_argument);
}

// ---- printing (PyTorch's format) ----

TEST(TensorRepr, RequiresGradFlagIsShown) {
  EXPECT_EQ(cr::repr(cr::tensor({1, 2}, cr::kFloat32, true)), "tensor([1., 2.], requires_grad=True)");
}

TEST(TensorRepr, TwoDimensionalNestsBrackets) {
  EXPECT_EQ(cr::repr(cr::tensor({1, 2, 3, 4}, {2, 2})), "tensor([[1., 2.],\n        [3., 4.]])");
}

TEST(TensorRepr, Float64ShowsDtype) {
  std::string r = cr::repr(cr::tensor({1, 2}, cr::kFloat64));
  EXPECT_EQ(r, "tensor([1., 2.], dtype=chainrule.float64)");
}

TEST(TensorRepr, Int64PrintsWithoutDecimalPoint) {
  EXPECT_EQ(cr::repr(cr::tensor({1, 2, 3}, cr::kInt64)), "tensor([1, 2, 3])");
}

TEST(TensorRepr, NonIntegerFloatsPrintFourDecimals) {
  EXPECT_EQ(cr::repr(cr::tensor({1.5, 2.0})), "tensor([1.5000, 2.0000])");
}

TEST(TensorRepr, GradFnIsShown) {
  Tensor x = cr::tensor({1, 2}, cr::kFloat32, true);
  Tensor y = x * 2;
  EXPECT_EQ(cr::repr(y), "tensor([2., 4.], grad_fn=<MulBackward0>)");
}

TEST(TensorRepr, ZeroDimTensor) { EXPECT_EQ(cr::repr(cr::scalar_tensor(3.0)), "tensor(3.)"); }

TEST(TensorRepr, StreamOperatorMatchesRepr) {
  Tensor t = cr::tensor({1.5, 2.0});
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), cr::repr(t));
}

TEST(TensorRepr, ShapeStrLooksLikePythonTuple) {
  EXPECT_EQ(cr::shape_str({3, 4}), "(3, 4)");
  EXPECT_EQ(cr::shape_str({5}), "(5,)");
  EXPECT_EQ(cr::shape_str({}), "()");
}

// ---- storage sharing ----

TEST(TensorStorage, CopyAliases) {
  Tensor a = cr::tensor({1, 2, 3});
  Tensor b = a;
  b.data<float>()[1] = 20.0f;
  EXPECT_EQ(a.at(1), 20.0);
  EXPECT_EQ(a.impl(), b.impl());
}

TEST(TensorStorage, ReshapeSharesStorage) {
  Tensor a = cr::tensor({1, 2, 3, 4});
  Tensor r = a.reshape({2, 2});
  EXPECT_EQ(r.shape(), (cr::Shape{2, 2}));
  r.data<float>()[3] = 40.0f;
  EXPECT_EQ(a.at(3), 40.0);
  EXPECT_EQ(a.raw_data(), r.raw_data());
}

TEST(TensorStorage, CloneHasItsOwnStorage) {
  Tensor a = cr::tensor({1, 2, 3});
  Tensor c = a.clone();
  EXPECT_NE(a.raw_data(), c.raw_data());
  c.data<float>()[0] = 100.0f;
  EXPECT_EQ(a.at(0), 1.0);
  expect_values(c, {100, 2, 3});
}

// ---- in-place ops (for optimizers and init: run under no-grad) ----

class TensorInplace : public ::testing::Test {
 protected:
  // A leaf that requires grad, like a parameter being updated by an optimizer.
  Tensor param(std::initializer_list<double> v) { return cr::tensor(v, cr::kFloat32, true); }
};

TEST_F(TensorInplace, AddTensorWithAlpha) {
  Tensor p = param({1, 2, 3});
  uint64_t v0 = p.version();
  {
    cr::NoGradGuard g;
    p.add_(cr::tensor({1, 1, 2}), 2);
  }
  expect_values(p, {3, 4, 7});
  EXPECT_GT(p.version(), v0);
}

TEST_F(TensorInplace, AddScalar) {
  Tensor p = param({1, 2});
  uint64_t v0 = p.version();
  {
    cr::NoGradGuard g;
    p.add_(0.5);
  }
  expect_values(p, {1.5, 2.5});
  EXPECT_GT(p.version(), v0);
}

TEST_F(TensorInplace, SubTensorAndScalar) {
  Tensor p = param({5, 6});
  uint64_t v0 = p.version();
  {
    cr::NoGradGuard g;
    p.sub_(cr::tensor({1, 2}), 0.5);
  }
  expect_values(p, {4.5, 5});
  uint64_t v1 = p.version();
  EXPECT_GT(v1, v0);
  {
    cr::NoGradGuard g;
    p.sub_(1);
  }
  expect_values(p, {3.5, 4});
  EXPECT_GT(p.version(), v1);
}

TEST_F(TensorInplace, MulTensorAndScalar) {
  Tensor p = param({1, 2, 3});
  uint64_t v0 = p.version();
  {
    cr::NoGradGuard g;
    p.mul_(cr::tensor({2, 3, 4}));
  }
  expect_values(p, {2, 6, 12});
  uint64_t v1 = p.version();
  EXPECT_GT(v1, v0);
  {
    cr::NoGradGuard g;
    p.mul_(0.5);
  }
  expect_values(p, {1, 3, 6});
  EXPECT_GT(p.version(), v1);
}

TEST_F(TensorInplace, DivTensorAndScalar) {
  Tensor p = param({2, 6});
  uint64_t v0 = p.version();
  {
    cr::NoGradGuard g;
    p.div_(cr::tensor({4, 3}));
  }
  expect_values(p, {0.5, 2});
  uint64_t v1 = p.version();
  EXPECT_GT(v1, v0);
  {
    cr::NoGradGuard g;
    p.div_(2);
  }
  expect_values(p, {0.25, 1});
  EXPECT_GT(p.version(), v1);
}

TEST_F(TensorInplace, ZeroAndFill) {
  Tensor p = param({1, 2, 3});
  uint64_t v0 = p.version();
  {
    cr::NoGradGuard g;
    p.zero_();
  }
  expect_values(p, {0, 0, 0});
  uint64_t v1 = p.version();
  EXPECT_GT(v1, v0);
  {
    cr::NoGradGuard g;
    p.fill_(2.5);
  }
  expect_values(p, {2.5, 2.5, 2.5});
  EXPECT_GT(p.version(), v1);
}

TEST_F(TensorInplace, CopyBroadcastsSource) {
  Tensor p = cr::zeros({2, 3});
  p.set_requires_grad(true);
  uint64_t v0 = p.version();
  {
    cr::NoGradGuard g;
    p.copy_(cr::tensor({1, 2, 3}, cr::kFloat64));
  }
  EXPECT_EQ(p.dtype(), cr::kFloat32);
  expect_values(p, {1, 2, 3, 1, 2, 3});
  EXPECT_GT(p.version(), v0);
}

TEST_F(TensorInplace, UniformStaysInRange) {
  Tensor p = cr::zeros({10000});
  p.set_requires_grad(true);
  uint64_t v0 = p.version();
  cr::manual_seed(11);
  {
    cr::NoGradGuard g;
    p.uniform_(-2.0, 3.0);
  }
  std::vector<double> v = p.to_vector();
  EXPECT_GE(*std::min_element(v.begin(), v.end()), -2.0);
  EXPECT_LT(*std::max_element(v.begin(), v.end()), 3.0);
  double mean = 0;
  for (double x : v) mean += x;
  EXPECT_NEAR(mean / v.size(), 0.5, 0.05);
  EXPECT_GT(p.version(), v0);
}

TEST_F(TensorInplace, NormalHasRequestedMeanAndStd) {
  Tensor p = cr::zeros({20000}, cr::kFloat64);
  uint64_t v0 = p.version();
  cr::manual_seed(12);
  {
    cr::NoGradGuard g;
    p.normal_(5.0, 0.5);
  }
  std::vector<double> v = p.to_vector();
  double mean = 0;
  for (double x : v) mean += x;
  mean /= v.size();
  double var = 0;
  for (double x : v) var += (x - mean) * (x - mean);
  EXPECT_NEAR(mean, 5.0, 0.02);
  EXPECT_NEAR(std::sqrt(var / (v.size() - 1)), 0.5, 0.02);
  EXPECT_GT(p.version(), v0);
}

TEST_F(TensorInplace, VersionIsSharedWithViews) {
  Tensor a = cr::zeros({4});
  Tensor r = a.reshape({2, 2});
  uint64_t v0 = r.version();
  a.add_(1);
  EXPECT_GT(r.version(), v0);
  expect_values(r, {1, 1, 1, 1});
}

TEST_F(TensorInplace, OnTensorWithoutGradAllowedWithGradModeOn) {
  Tensor t = cr::tensor({1, 2});
  t.mul_(3);
  expect_values(t, {3, 6});
}

TEST_F(TensorInplace, OnRequiresGradLeafWithGradModeOnThrows) {
  Tensor p = param({1, 2});
  ASSERT_TRUE(cr::is_grad_enabled());
  try {
    p.add_(1);
    FAIL() << "expected std::runtime_error";
  } catch (const std::runtime_error& e) {
    EXPECT_TRUE(mentions_no_grad(e.what())) << e.what();
  }
  expect_values(p, {1, 2});
}

TEST_F(TensorInplace, ShapeChangingInplaceThrows) {
  Tensor t = cr::tensor({1});
  EXPECT_THROW(t.add_(cr::tensor({1, 2, 3})), std::invalid_argument);
  expect_values(t, {1});
}

namespace {
// a 0-d tensor has no dims to give a size or stride of (dim 0 / -1 are valid only for reductions)
TEST(Tensor, SizeAndStrideOfA0dTensorThrow) {
  using namespace chainrule;
  Tensor s = full({}, 1.0);
  EXPECT_THROW(s.size(0), std::out_of_range);
  EXPECT_THROW(s.size(-1), std::out_of_range);
  EXPECT_THROW(s.stride(0), std::out_of_range);
  EXPECT_EQ(full({3}, 1.0).size(-1), 3);
}
}  // namespace

// Big buffers go back to a per-size cache when freed (core/tensor.cpp): one is never handed to two
// live tensors, and tensors made, filled and freed on several threads at once keep their values.
TEST(Storage, CachedBuffersAreNeverSharedByLiveTensors) {
  for (const int64_t n : {200, 40000}) {  // 800 B and 160 KB of float32: inside the cached range
    void* first = nullptr;
    {
      Tensor a = cr::full({n}, 1.0, cr::kFloat32);
      first = a.raw_data();
    }
    Tensor b = cr::empty({n}, cr::kFloat32), c = cr::empty({n}, cr::kFloat32);
    EXPECT_NE(b.raw_data(), c.raw_data());
    EXPECT_NE(first, nullptr);
    EXPECT_EQ(reinterpret_cast<uintptr_t>(b.raw_data()) % 64, 0u);
    b.fill_(2.0);
    c.fill_(3.0);
    EXPECT_EQ(b.sum().item(), 2.0 * n);
    EXPECT_EQ(c.sum().item(), 3.0 * n);
  }
}

TEST(Storage, BuffersMadeAndFreedOnSeveralThreadsKeepTheirValues) {
  std::vector<std::thread> threads;
  std::atomic<int> wrong{0};
  for (int t = 0; t < 4; ++t)
    threads.emplace_back([t, &wrong] {
      for (int i = 0; i < 300; ++i) {
        const int64_t n = 20000 + 5000 * ((i + t) % 7);  // 80 KB to 200 KB, sizes shared across threads
        Tensor x = cr::full({n}, double(t * 1000 + i), cr::kFloat64);
        Tensor y = cr::full({n}, double(i), cr::kFloat64);
        const double* px = static_cast<const double*>(x.raw_data());
        const double* py = static_cast<const double*>(y.raw_data());
        for (int64_t k = 0; k < n; k += 997)
          if (px[k] != double(t * 1000 + i) || py[k] != double(i)) ++wrong;
      }
    });
  for (auto& th : threads) th.join();
  EXPECT_EQ(wrong.load(), 0);
}
