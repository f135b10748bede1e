// The compiler builds what the source says: a guard against known miscompiles of the flags we build
// with (CMakeLists.txt turns GCC 12's SLP vectorizer off: with AVX-512 it broke the cases below).
#include <gtest/gtest.h>

#include <vector>

#include "core/tensor.h"

namespace {

// Not inlined, so the caller's vector is built in memory as GCC 12 got it wrong.
__attribute__((noinline)) std::vector<double> copy_of(const std::vector<double>& v, std::vector<long> shape) {
  EXPECT_EQ(shape.size(), 1u);
  return v;
}

TEST(Toolchain, VectorLiteralsKeepTheirValues) {
  std::vector<double> v{1, 1, 0, 0};
  std::vector<double> got = copy_of(v, {4});
  EXPECT_EQ(got, (std::vector<double>{1, 1, 0, 0}));
  EXPECT_EQ(got[2], 0.0);
}

TEST(Toolchain, BoolTensorFromLiteralKeepsItsZeros) {
  using namespace chainrule;
  Tensor p = tensor(std::vector<double>{1, 1, 0, 0}, {4}, kBool);
  EXPECT_EQ(p.at(2), 0.0);
  EXPECT_EQ(p.at(3), 0.0);
  Tensor f = tensor(std::vector<double>{1, 1, 0, 0}, {4}, kFloat32);
  EXPECT_EQ(f.at(2), 0.0);
}

}  // namespace
