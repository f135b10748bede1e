// Helpers shared by the C++ tests: tensors from literals, element-wise comparison, exception
// messages, random float64 leaves, and tables of gradcheck + gradgradcheck cases.
#pragma once
#include <gtest/gtest.h>

#include <cmath>
#include <exception>
#include <functional>
#include <string>
#include <vector>

#include "core/error.h"
#include "core/gradcheck.h"
#include "core/tensor.h"

// Not chainrule::testing: files that say `using namespace chainrule;` would then find two `testing`s.
namespace chainrule::test_util {

inline Tensor T(const std::vector<double>& v, const Shape& s, Dtype d = kFloat64, bool rg = false) {
  return tensor(v, s, d, rg);
}

// Shape, then every element, compared within tol (absolute, plus relative to the expected value).
// A NaN matches a NaN, so an expected NaN can be written down.
// 0, 1, 2, ... in the given shape (x.at(i) == i), float64 unless told.
inline Tensor Iota(const Shape& s, Dtype d = kFloat64) {
  std::vector<double> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = static_cast<double>(i);
  return T(v, s, d);
}

inline ::testing::AssertionResult Near(const Tensor& t, const Shape& shape, const std::vector<double>& want,
                                       double tol = 1e-12) {
  if (t.shape() != shape)
    return ::testing::AssertionFailure()
           << "shape " << shape_str(t.shape()) << ", expected " << shape_str(shape);
  std::vector<double> got = t.to_vector();
  if (got.size() != want.size())
    return ::testing::AssertionFailure() << got.size() << " elements, expected " << want.size();
  for (size_t i = 0; i < got.size(); ++i) {
    const double err = std::abs(got[i] - want[i]);
    const bool both_nan = std::isnan(got[i]) && std::isnan(want[i]);
    if (!both_nan && !(err <= tol * (1 + std::abs(want[i]))))
      return ::testing::AssertionFailure()
             << "element " << i << ": got " << got[i] << ", expected " << want[i];
  }
  return ::testing::AssertionSuccess();
}

// gtest's EXPECT_NEAR on every element (a plain void helper, so ASSERTs stop only it).
inline void expect_values(const Tensor& t, const std::vector<double>& expected, double tol = 1e-12) {
  ASSERT_TRUE(t.defined());
  std::vector<double> got = t.to_vector();
  ASSERT_EQ(got.size(), expected.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], expected[i], tol) << "element " << i;
}

// Runs f, which must throw Exc; returns the message (and records a failure otherwise).
template <class Exc, class Fn> std::string Thrown(Fn&& f) {
  try {
    f();
  } catch (const Exc& e) {
    return e.what();
  } catch (const std::exception& e) {
    ADD_FAILURE() << "threw the wrong exception type; message: " << e.what();
    return "<wrong exception type>";
  }
  ADD_FAILURE() << "did not throw";
  return "<no exception>";
}

inline ::testing::AssertionResult Contains(const std::string& msg, const std::string& part) {
  if (msg.find(part) != std::string::npos) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << msg << "\" does not contain \"" << part << "\"";
}
inline ::testing::AssertionResult StartsWith(const std::string& msg, const std::string& prefix) {
  if (msg.rfind(prefix, 0) == 0) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << "\"" << msg << "\" does not start with \"" << prefix << "\"";
}

// A float64 leaf that requires grad, with randn values passed through f (keeps inputs in an op's
// domain and away from its kinks).
inline Tensor Leaf(const Shape& s, const std::function<double(double)>& f = nullptr) {
  std::vector<double> v = randn(s, kFloat64).to_vector();
  if (f)
    for (double& e : v) e = f(e);
  return tensor(v, s, kFloat64, /*requires_grad=*/true);
}

using In = const std::vector<Tensor>&;

struct GradCase {
  std::string name;
  GradcheckFn fn;
  std::vector<Tensor> inputs;
  bool second = true;  // also gradgradcheck
};

// Every case's gradcheck (then gradgradcheck); a throw counts as a failure, so one bad case
// does not hide the rest.
inline void RunGradCases(const std::vector<GradCase>& cases) {
  for (const GradCase& c : cases) {
    GradcheckResult r;
    try {
      r = gradcheck(c.fn, c.inputs);
    } catch (const std::exception& e) {
      r = {false, std::string("threw: ") + e.what()};
    }
    EXPECT_TRUE(r.ok) << "gradcheck " << c.name << ": " << r.message;
    if (!c.second) continue;
    try {
      r = gradgradcheck(c.fn, c.inputs);
    } catch (const std::exception& e) {
      r = {false, std::string("threw: ") + e.what()};
    }
    EXPECT_TRUE(r.ok) << "gradgradcheck " << c.name << ": " << r.message;
  }
}

}  // namespace chainrule::test_util
