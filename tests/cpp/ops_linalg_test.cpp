// Linear algebra: matmul under PyTorch's rules (1-D dot, matrix-vector mixes, 2-D, batched and
// broadcast batch dims, checked against plain loops), mm, and linear (with/without bias, (N,T,in)
// input). Gradients against closed forms, float64 gradcheck + gradgradcheck, and error messages.
#include <gtest/gtest.h>

#include <algorithm>
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

// PyTorch's matmul rules on plain loops: a 1-D left operand is a row (n = 1, dropped after), a 1-D
// right operand a column (m = 1, dropped after); the batch dims broadcast.
Tensor RefMatmul(const Tensor& a, const Tensor& b) {
  Shape sa = a.shape(), sb = b.shape();
  const bool drop_n = sa.size() == 1, drop_m = sb.size() == 1;
  if (drop_n) sa.insert(sa.begin(), 1);
  if (drop_m) sb.push_back(1);
  const int64_t n = sa[sa.size() - 2], k = sa.back(), m = sb.back();
  Shape ba(sa.begin(), sa.end() - 2), bb(sb.begin(), sb.end() - 2);
  const size_t nd = std::max(ba.size(), bb.size());
  ba.insert(ba.begin(), nd - ba.size(), 1);
  bb.insert(bb.begin(), nd - bb.size(), 1);
  Shape batch(nd);
  int64_t nb = 1;
  for (size_t d = 0; d < nd; ++d) nb *= (batch[d] = std::max(ba[d], bb[d]));
  std::vector<double> av = a.to_vector(), bv = b.to_vector(), out;
  for (int64_t t = 0; t < nb; ++t) {
    int64_t rem = t, oa = 0, ob = 0, sa_ = 1, sb_ = 1;
    for (size_t d = nd; d-- > 0;) {
      const int64_t idx = rem % batch[d];
      rem /= batch[d];
      oa += (ba[d] == 1 ? 0 : idx) * sa_;
      ob += (bb[d] == 1 ? 0 : idx) * sb_;
      sa_ *= ba[d];
      sb_ *= bb[d];
    }
    for (int64_t i = 0; i < n; ++i)
      for (int64_t j = 0; j < m; ++j) {
        double s = 0;
        for (int64_t q = 0; q < k; ++q) s += av[(oa * n + i) * k + q] * bv[(ob * k + q) * m + j];
        out.push_back(s);
      }
  }
  Shape shape = batch;
  if (!drop_n) shape.push_back(n);
  if (!drop_m) shape.push_back(m);
  return tensor(out, shape, kFloat64);
}

Tensor Range(const Shape& s, double scale = 1.0) {
  std::vector<double> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = scale * (static_cast<double>(i) - v.size() / 2.0);
  return T(v, s);
}

// ---------------------------------------------------------------- matmul values

TEST(OpsLinalg, MatmulDotOfVectors) {
  Tensor d = matmul(T({1, 2, 3}, {3}), T({4, 5, 6}, {3}));
  EXPECT_TRUE(Near(d, {}, {32}));
  EXPECT_TRUE(Near(T({1, 2, 3}, {3}).matmul(T({4, 5, 6}, {3})), {}, {32}));
}

TEST(OpsLinalg, MatmulMatrixVectorMixes) {
  Tensor m = T({1, 2, 3, 4, 5, 6}, {3, 2});
  EXPECT_TRUE(Near(matmul(m, T({1, -1}, {2})), {3}, {-1, -1, -1}));
  EXPECT_TRUE(Near(matmul(T({1, -1, 2}, {3}), m), {2}, {8, 10}));
}

TEST(OpsLinalg, MatmulMatrixMatrix) {
  Tensor a = T({1, 2, 3, 4}, {2, 2});
  Tensor b = T({5, 6, 7, 8}, {2, 2});
  EXPECT_TRUE(Near(matmul(a, b), {2, 2}, {19, 22, 43, 50}));
  EXPECT_TRUE(Near(a.matmul(b), {2, 2}, {19, 22, 43, 50}));
  EXPECT_TRUE(Near(mm(a, b), {2, 2}, {19, 22, 43, 50}));
  EXPECT_TRUE(
      Near(matmul(T({1, 2, 3, 4, 5, 6}, {2, 3}), T({1, 0, 0, 1, 1, 1}, {3, 2})), {2, 2}, {4, 5, 10, 11}));
}

TEST(OpsLinalg, MatmulBatchedAndBroadcastShapesMatchReference) {
  struct Case {
    Shape a, b, out;
  };
  const std::vector<Case> cases = {
      {{2, 3, 4}, {2, 4, 5}, {2, 3, 5}},        // batched
      {{1, 3, 4}, {5, 4, 2}, {5, 3, 2}},        // batch dim 1 broadcasts
      {{3, 4}, {5, 4, 2}, {5, 3, 2}},           // 2-D left, batched right
      {{5, 3, 4}, {4, 2}, {5, 3, 2}},           // batched left, 2-D right
      {{5, 3, 4}, {4}, {5, 3}},                 // batched @ vector
      {{4}, {5, 4, 2}, {5, 2}},                 // vector @ batched
      {{2, 1, 3, 4}, {3, 4, 2}, {2, 3, 3, 2}},  // 4-D, batch dims broadcast both ways
      {{3, 4}, {4, 5}, {3, 5}},
  };
  for (const Case& c : cases) {
    SCOPED_TRACE(shape_str(c.a) + " @ " + shape_str(c.b));
    Tensor a = Range(c.a, 0.25), b = Range(c.b, -0.5);
    Tensor y = matmul(a, b);
    EXPECT_EQ(y.shape(), c.out);
    Tensor r = RefMatmul(a, b);
    ASSERT_EQ(r.shape(), c.out);  // the reference itself
    EXPECT_TRUE(Near(y, c.out, r.to_vector()));
  }
}

TEST(OpsLinalg, MatmulFloat32StaysFloat32) {
  Tensor a = Range({3, 4}, 0.1).to(kFloat32), b = Range({4, 2}, 0.2).to(kFloat32);
  Tensor y = matmul(a, b);
  EXPECT_EQ(y.dtype(), kFloat32);
  EXPECT_TRUE(Near(y, {3, 2}, RefMatmul(a.to(kFloat64), b.to(kFloat64)).to_vector(), 1e-5));
  EXPECT_EQ(matmul(Range({2, 3, 4}).to(kFloat32), Range({4, 5}).to(kFloat32)).dtype(), kFloat32);
}

// ---------------------------------------------------------------- matmul gradients

TEST(OpsLinalg, MatmulGradientsMatchClosedForm) {
  // L = sum(A @ B): dL/dA[i][k] = sum_j B[k][j], dL/dB[k][j] = sum_i A[i][k]
  Tensor a = T({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64, true);
  Tensor b = T({1, -1, 2, 0, 0.5, 3}, {3, 2}, kFloat64, true);
  auto g = autograd::grad({sum(matmul(a, b))}, {a, b});
  EXPECT_TRUE(Near(g[0], {2, 3}, {0, 2, 3.5, 0, 2, 3.5}));
  EXPECT_TRUE(Near(g[1], {3, 2}, {5, 5, 7, 7, 9, 9}));
  // with a weight W on the output: dL/dA = W B^T, dL/dB = A^T W
  Tensor w = T({1, 0, 0, 2}, {2, 2});
  g = autograd::grad({sum(w * matmul(a, b))}, {a, b});
  EXPECT_TRUE(Near(g[0], {2, 3}, {1, 2, 0.5, -2, 0, 6}));
  EXPECT_TRUE(Near(g[1], {3, 2}, {1, 8, 2, 10, 3, 12}));
  // dot: d(a.b)/da = b
  Tensor u = T({1, 2, 3}, {3}, kFloat64, true), v = T({4, 5, 6}, {3}, kFloat64, true);
  g = autograd::grad({matmul(u, v)}, {u, v});
  EXPECT_TRUE(Near(g[0], {3}, {4, 5, 6}));
  EXPECT_TRUE(Near(g[1], {3}, {1, 2, 3}));
}

TEST(OpsLinalg, MatmulBroadcastBatchGradientsSumOverTheBatch) {
  Tensor a = T(Range({1, 3, 4}).to_vector(), {1, 3, 4}, kFloat64, true);
  Tensor b = T(Range({5, 4, 2}, 0.1).to_vector(), {5, 4, 2}, kFloat64, true);
  auto g = autograd::grad({sum(matmul(a, b))}, {a, b});
  ASSERT_EQ(g[0].shape(), (Shape{1, 3, 4}));
  ASSERT_EQ(g[1].shape(), (Shape{5, 4, 2}));
  // dL/dA[0][i][k] = sum_b sum_j B[b][k][j]; dL/dB[b][k][j] = sum_i A[0][i][k]
  std::vector<double> ga(12), gb(40);
  for (int i = 0; i < 3; ++i)
    for (int k = 0; k < 4; ++k) {
      double s = 0;
      for (int bi = 0; bi < 5; ++bi)
        for (int j = 0; j < 2; ++j) s += b.at({bi, k, j});
      ga[i * 4 + k] = s;
    }
  for (int bi = 0; bi < 5; ++bi)
    for (int k = 0; k < 4; ++k)
      for (int j = 0; j < 2; ++j) {
        double s = 0;
        for (int i = 0; i < 3; ++i) s += a.at({0, i, k});
        gb[(bi * 4 + k) * 2 + j] = s;
      }
  EXPECT_TRUE(Near(g[0], {1, 3, 4}, ga));
  EXPECT_TRUE(Near(g[1], {5, 4, 2}, gb));
  // 2-D left operand against a batch: its gradient sums over the batch and stays 2-D
  Tensor a2 = T(Range({3, 4}).to_vector(), {3, 4}, kFloat64, true);
  Tensor g2 = autograd::grad({sum(matmul(a2, b))}, {a2})[0];
  EXPECT_TRUE(Near(g2, {3, 4}, ga));
}

TEST(OpsLinalg, MatmulSecondDerivativeOfQuadraticForm) {
  // f(x) = x^T A x: gradient (A + A^T) x, Hessian A + A^T
  Tensor A = T({1, 2, 0, 3}, {2, 2});
  Tensor x = T({1, -1}, {2}, kFloat64, true);
  Tensor g = autograd::grad({matmul(x, matmul(A, x))}, {x}, {}, true, true)[0];
  EXPECT_TRUE(Near(g, {2}, {0, -4}));  // (A + A^T) = [[2, 2], [2, 6]]
  Tensor h0 = autograd::grad({g.select(0, 0)}, {x}, {}, true)[0];
  Tensor h1 = autograd::grad({g.select(0, 1)}, {x})[0];
  EXPECT_TRUE(Near(h0, {2}, {2, 2}));
  EXPECT_TRUE(Near(h1, {2}, {2, 6}));
}

// ---------------------------------------------------------------- linear

TEST(OpsLinalg, LinearWithAndWithoutBias) {
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3});
  Tensor w = T({1, 0, 0, 0, 1, 0, 0, 0, 1, 1, 1, 1}, {4, 3});
  Tensor b = T({0.5, -1, 2, 0}, {4});
  EXPECT_TRUE(Near(linear(x, w, b), {2, 4}, {1.5, 1, 5, 6, 4.5, 4, 8, 15}));
  EXPECT_TRUE(Near(linear(x, w), {2, 4}, {1, 2, 3, 6, 4, 5, 6, 15}));
  EXPECT_TRUE(Near(linear(x, w, Tensor()), {2, 4}, {1, 2, 3, 6, 4, 5, 6, 15}));
  // a single sample (in,) -> (out,)
  EXPECT_TRUE(Near(linear(T({1, 2, 3}, {3}), w, b), {4}, {1.5, 1, 5, 6}));
}

TEST(OpsLinalg, LinearOn3DInput) {
  // (N, T, in) = (2, 2, 3) -> (2, 2, 4), every position mapped by the same W
  Tensor x = Range({2, 2, 3}, 0.5);
  Tensor w = Range({4, 3}, 0.25);
  Tensor b = T({1, 2, 3, 4}, {4});
  Tensor y = linear(x, w, b);
  ASSERT_EQ(y.shape(), (Shape{2, 2, 4}));
  Tensor want = RefMatmul(x, transpose(w, 0, 1).detach()) + b;
  EXPECT_TRUE(Near(y, {2, 2, 4}, want.to_vector()));
}

TEST(OpsLinalg, LinearGradientsMatchClosedForm) {
  // y = x W^T + b, L = sum(G * y): dL/dx = G W, dL/dW = G^T x, dL/db = sum_rows G
  Tensor x = T({1, 2, 3, 4, 5, 6}, {2, 3}, kFloat64, true);
  Tensor w = T({1, 0, -1, 2, 1, 0}, {2, 3}, kFloat64, true);
  Tensor b = T({0.5, -0.5}, {2}, kFloat64, true);
  Tensor G = T({1, 2, 3, 4}, {2, 2});
  auto g = autograd::grad({sum(G * linear(x, w, b))}, {x, w, b});
  EXPECT_TRUE(Near(g[0], {2, 3}, {5, 2, -1, 11, 4, -3}));
  EXPECT_TRUE(Near(g[1], {2, 3}, {13, 17, 21, 18, 24, 30}));
  EXPECT_TRUE(Near(g[2], {2}, {4, 6}));
}

// ---------------------------------------------------------------- gradcheck / gradgradcheck

TEST(OpsLinalg, GradcheckMatmulMmLinear) {
  manual_seed(21);
  auto mmul = [](In x) { return matmul(x[0], x[1]); };
  std::vector<GradCase> cases = {
      {"matmul (3,)@(3,)", mmul, {Leaf({3}), Leaf({3})}},
      {"matmul (3,4)@(4,)", mmul, {Leaf({3, 4}), Leaf({4})}},
      {"matmul (3,)@(3,2)", mmul, {Leaf({3}), Leaf({3, 2})}},
      {"matmul (3,4)@(4,2)", mmul, {Leaf({3, 4}), Leaf({4, 2})}},
      {"matmul (2,3,4)@(2,4,5)", mmul, {Leaf({2, 3, 4}), Leaf({2, 4, 5})}},
      {"matmul (1,3,4)@(5,4,2)", mmul, {Leaf({1, 3, 4}), Leaf({5, 4, 2})}},
      {"matmul (3,4)@(5,4,2)", mmul, {Leaf({3, 4}), Leaf({5, 4, 2})}},
      {"matmul (2,3,4)@(4,)", mmul, {Leaf({2, 3, 4}), Leaf({4})}},
      {"matmul (4,)@(2,4,3)", mmul, {Leaf({4}), Leaf({2, 4, 3})}},
      {"matmul (2,1,2,3)@(2,3,2)", mmul, {Leaf({2, 1, 2, 3}), Leaf({2, 3, 2})}},
      {"matmul x@x", [](In x) { return matmul(x[0], x[0]); }, {Leaf({3, 3})}},
      {"mm (3,4)@(4,2)", [](In x) { return mm(x[0], x[1]); }, {Leaf({3, 4}), Leaf({4, 2})}},
      {"linear with bias",
       [](In x) { return linear(x[0], x[1], x[2]); },
       {Leaf({2, 3}), Leaf({4, 3}), Leaf({4})}},
      {"linear without bias", [](In x) { return linear(x[0], x[1]); }, {Leaf({2, 3}), Leaf({4, 3})}},
      {"linear (N,T,in)",
       [](In x) { return linear(x[0], x[1], x[2]); },
       {Leaf({2, 3, 3}), Leaf({2, 3}), Leaf({2})}},
      {"linear (in,)", [](In x) { return linear(x[0], x[1], x[2]); }, {Leaf({3}), Leaf({2, 3}), Leaf({2})}},
      {"tanh(linear) @ v",
       [](In x) { return matmul(tanh(linear(x[0], x[1], x[2])), x[3]); },
       {Leaf({2, 3}), Leaf({4, 3}), Leaf({4}), Leaf({4})}},
  };
  RunGradCases(cases);
}

// ---------------------------------------------------------------- error messages

TEST(OpsLinalg, MatmulShapeMismatchMessage) {
  EXPECT_EQ(Thrown<std::invalid_argument>([] { matmul(zeros({3, 4}), zeros({5, 2})); }),
            "matmul: expected (n,k) @ (k,m), got (3, 4) @ (5, 2): the inner dims 4 and 5 differ");
  // the transpose that would fit, when one does
  EXPECT_EQ(Thrown<std::invalid_argument>([] { matmul(zeros({5, 3}), zeros({4, 3})); }),
            "matmul: expected (n,k) @ (k,m), got (5, 3) @ (4, 3): the inner dims 3 and 4 differ; a @ b.T "
            "would fit: "
            "(5, 3) @ (3, 4)");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([] { mm(zeros({3, 5}), zeros({3, 4})); }),
      "mm: expected (n,k) @ (k,m), got (3, 5) @ (3, 4): the inner dims 5 and 3 differ; a.T @ b would fit: "
      "(5, 3) @ (3, 4)");
  EXPECT_EQ(
      Thrown<std::invalid_argument>([] { matmul(zeros({2, 3}), zeros({4, 2})); }),
      "matmul: expected (n,k) @ (k,m), got (2, 3) @ (4, 2): the inner dims 3 and 4 differ; b @ a would fit: "
      "(4, 2) @ (2, 3)");
}

TEST(OpsLinalg, MatmulOtherShapeErrors) {
  std::string msg = Thrown<std::invalid_argument>([] { matmul(zeros({3}), zeros({4})); });
  EXPECT_TRUE(StartsWith(msg, "matmul:"));
  EXPECT_TRUE(Contains(msg, "(3,)"));
  EXPECT_TRUE(Contains(msg, "(4,)"));
  msg = Thrown<std::invalid_argument>([] { matmul(zeros({2, 3, 4}), zeros({2, 5, 2})); });
  EXPECT_TRUE(StartsWith(msg, "matmul:"));
  EXPECT_TRUE(Contains(msg, "(2, 3, 4)"));
  EXPECT_TRUE(Contains(msg, "(2, 5, 2)"));
  msg = Thrown<std::invalid_argument>([] { matmul(zeros({3, 4}), zeros({5})); });
  EXPECT_TRUE(StartsWith(msg, "matmul:"));
  // batch dims that don't broadcast
  msg = Thrown<std::invalid_argument>([] { matmul(zeros({2, 3, 4}), zeros({3, 4, 5})); });
  EXPECT_TRUE(StartsWith(msg, "matmul:"));
  // 0-d operands
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([] { matmul(scalar_tensor(2), zeros({3})); }), "matmul:"));
}

TEST(OpsLinalg, MmErrors) {
  std::string msg = Thrown<std::invalid_argument>([] { mm(zeros({3, 4}), zeros({5, 2})); });
  EXPECT_TRUE(StartsWith(msg, "mm:"));
  EXPECT_TRUE(Contains(msg, "(3, 4)"));
  EXPECT_TRUE(Contains(msg, "(5, 2)"));
  msg = Thrown<std::invalid_argument>([] { mm(zeros({2, 3, 4}), zeros({4, 2})); });
  EXPECT_TRUE(StartsWith(msg, "mm:"));
  EXPECT_TRUE(Contains(msg, "(2, 3, 4)"));
  EXPECT_TRUE(StartsWith(Thrown<std::invalid_argument>([] { mm(zeros({3}), zeros({3, 2})); }), "mm:"));
}

TEST(OpsLinalg, LinearErrors) {
  std::string msg = Thrown<std::invalid_argument>([] { linear(zeros({2, 3}), zeros({4, 5})); });
  EXPECT_TRUE(StartsWith(msg, "linear:"));
  EXPECT_TRUE(Contains(msg, "(2, 3)"));
  EXPECT_TRUE(Contains(msg, "(4, 5)"));
  msg = Thrown<std::invalid_argument>([] { linear(zeros({2, 3}), zeros({4, 3}), zeros({3})); });
  EXPECT_TRUE(StartsWith(msg, "linear:"));
  EXPECT_TRUE(Contains(msg, "(3,)"));
  // a 1-D weight is torch's dot product (the in_features dim dropped); other ranks are refused
  EXPECT_EQ(linear(ones({2, 3}), ones({3})).to_vector(), (std::vector<double>{3, 3}));
  EXPECT_TRUE(Contains(Thrown<std::invalid_argument>([] { linear(ones({2, 3}), ones({3}), ones({2})); }),
                       "a 1-D weight (3,) takes a 0-d bias or none"));  // torch: "mat2 must be a matrix"
  EXPECT_EQ(linear(ones({2, 3}), ones({3}), full({}, 0.5)).to_vector(), (std::vector<double>{3.5, 3.5}));
  // as torch, products don't promote: float32 x with a float64 weight (or bias) is a mistake
  msg = Thrown<std::invalid_argument>([] { linear(ones({2, 3}), ones({4, 3}, kFloat64)); });
  EXPECT_TRUE(Contains(msg, "linear: expected operands of one dtype, got float32 (2, 3) and float64 (4, 3)"));
  msg = Thrown<std::invalid_argument>([] { linear(ones({2, 3}), ones({4, 3}), ones({4}, kFloat64)); });
  EXPECT_TRUE(Contains(msg, "linear: expected a bias of dtype float32 as the input and weight, got float64"));
  msg = Thrown<std::invalid_argument>([] { matmul(ones({2, 3}), ones({3, 2}, kFloat64)); });
  EXPECT_TRUE(Contains(msg, "matmul: expected operands of one dtype, got float32 (2, 3) and float64 (3, 2)"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([] { linear(zeros({2, 3}), zeros({4})); }), "linear:"));
  EXPECT_TRUE(
      StartsWith(Thrown<std::invalid_argument>([] { linear(zeros({2, 3}), zeros({1, 1, 3})); }), "linear:"));
}

}  // namespace
