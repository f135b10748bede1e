// gradcheck / gradgradcheck must pass correct gradients and, more importantly, catch wrong ones
// with a message that points at the input, the element and both values.
#include <gtest/gtest.h>

#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/gradcheck.h"
#include "core/ops.h"

using namespace chainrule;

namespace {

// y = x^2 with a wrong backward: g * x instead of 2 * g * x.
Tensor bad_square(const Tensor& x) {
  Tensor xd = x.detach();
  return record("bad_square", xd * xd, {x}, kSaveInputs,
                [](const Tensor& g, const Saved& s) -> Grads { return {g * s.input(0)}; });
}

// y = x^2 with a backward that is right to first order, but uses x.detach(), so the gradient has
// no graph back to x and its own derivative (the second derivative, 2) comes out as 0.
Tensor square_detached_backward(const Tensor& x) {
  Tensor xd = x.detach();
  return record("square_detached_backward", xd * xd, {x}, kSaveInputs,
                [](const Tensor& g, const Saved& s) -> Grads { return {g * 2.0 * s.input(0).detach()}; });
}

bool contains(const std::string& s, const std::string& part) { return s.find(part) != std::string::npos; }

}  // namespace

TEST(Gradcheck, PassesOnCorrectFunction) {
  Tensor x = tensor({0.3, -1.2, 2.0, 0.0}, kFloat64, true);
  auto r = gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0] * sin(in[0]); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
  EXPECT_TRUE(r);
  EXPECT_EQ(r.message, "");
}

TEST(Gradcheck, PassesWithBroadcastingAndAConstantInput) {
  Tensor a = tensor({0.5, -1.0, 2.0}, {3, 1}, kFloat64, true);
  Tensor b = tensor({1.0, 2.0, -0.5, 0.25}, {1, 4}, kFloat64, true);
  Tensor c = tensor({3.0, 4.0, 5.0, 6.0}, {1, 4}, kFloat32);  // no grad: not checked, any dtype
  auto r =
      gradcheck([](const std::vector<Tensor>& in) { return in[0] * exp(in[1]) + in[2].to(kFloat64) * in[0]; },
                {a, b, c});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradcheck, LeavesInputsAndTheirGradsUntouched) {
  Tensor x = tensor({0.1, 0.2, 0.3}, kFloat64, true);
  ASSERT_TRUE(gradcheck([](const std::vector<Tensor>& in) { return tanh(in[0]); }, {x}));
  EXPECT_EQ(x.to_vector(), (std::vector<double>{0.1, 0.2, 0.3}));  // bit-exact restore
  EXPECT_FALSE(x.grad().defined());
}

TEST(Gradcheck, FailsOnWrongBackwardWithInformativeMessage) {
  Tensor a = tensor({1.0, 1.0, 1.0, 1.0}, {2, 2}, kFloat64, true);
  Tensor x = tensor({0.5, 1.0, 3.0, -1.0}, {2, 2}, kFloat64, true);
  auto r = gradcheck([](const std::vector<Tensor>& in) { return in[0] + bad_square(in[1]); }, {a, x});
  ASSERT_FALSE(r.ok);
  const std::string& m = r.message;
  // The worst entry is x[1][0] = 3: autograd says 3, the truth is 6.
  EXPECT_TRUE(contains(m, "gradcheck:")) << m;
  EXPECT_TRUE(contains(m, "input 1")) << m;
  EXPECT_TRUE(contains(m, "element 2 (index (1, 0))")) << m;
  EXPECT_TRUE(contains(m, "analytic 3,")) << m;
  const size_t numeric = m.find("numeric ");  // 6 up to the finite difference's error
  ASSERT_NE(numeric, std::string::npos) << m;
  const double value = std::stod(m.substr(numeric + 8));
  EXPECT_TRUE(value >= 5.9999 && value < 6.0001) << m;
  EXPECT_TRUE(contains(m, "abs error")) << m;
  EXPECT_TRUE(contains(m, "4 of 32 Jacobian entries disagree")) << m;  // x's diagonal only
}

TEST(Gradcheck, Float32InputIsAFailure) {
  Tensor x = tensor({1.0, 2.0}, kFloat32, true);
  auto r = gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.message, "float64")) << r.message;
  EXPECT_TRUE(contains(r.message, "got float32 for input 0")) << r.message;
}

TEST(Gradcheck, NoInputRequiringGradIsAFailure) {
  Tensor x = tensor({1.0, 2.0}, kFloat64);
  auto r = gradcheck([](const std::vector<Tensor>& in) { return in[0] * in[0]; }, {x});
  EXPECT_FALSE(r.ok);
  EXPECT_TRUE(contains(r.message, "requires_grad")) << r.message;
}

TEST(Gradgradcheck, PassesOnCube) {
  Tensor x = tensor({0.7, -1.3, 2.0}, kFloat64, true);
  auto r = gradgradcheck([](const std::vector<Tensor>& in) { return pow(in[0], 3); }, {x});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradgradcheck, PassesWhenTheGradientIsConstantOrAnInputIsUnused) {
  Tensor x = tensor({0.7, -1.3}, kFloat64, true);
  Tensor unused = tensor({5.0}, kFloat64, true);
  // d/dx (3x) = 3 has no graph at all; `unused` gets no gradient: both count as zeros.
  auto r = gradgradcheck([](const std::vector<Tensor>& in) { return in[0] * 3.0; }, {x, unused});
  EXPECT_TRUE(r.ok) << r.message;
}

TEST(Gradgradcheck, FirstOrderCorrectButDetachedBackwardFailsOnlySecondOrder) {
  Tensor x = tensor({0.5, -2.0, 1.5}, kFloat64, true);
  auto fn = [](const std::vector<Tensor>& in) { return square_detached_backward(in[0]); };
  EXPECT_TRUE(gradcheck(fn, {x}).ok);
  auto r = gradgradcheck(fn, {x});
  ASSERT_FALSE(r.ok);
  // The detached gradient does not depend on x as far as autograd knows: analytic 0, numeric 2 v_i.
  EXPECT_TRUE(contains(r.message, "gradgradcheck:")) << r.message;
  EXPECT_TRUE(contains(r.message, "input 0")) << r.message;
  EXPECT_TRUE(contains(r.message, "analytic 0,")) << r.message;
  EXPECT_TRUE(contains(r.message, "3 of 9 Jacobian entries disagree")) << r.message;
}
