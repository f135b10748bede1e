// The one strided broadcast loop (kernels::elementwise) behind add, where, copies and in-place ops:
// every layout a view can have (transposed, expanded, sliced, 0-d, empty), every row length from 1
// to 33 (the vectorised body and its tail), mixed dtypes, and work large enough to be threaded,
// each compared with a naive reference that indexes the logical elements one by one.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

// f over the logical elements of `in`, each broadcast to their common shape: index by index.
std::vector<double> Reference(const std::function<double(const std::vector<double>&)>& f,
                              const std::vector<Tensor>& in) {
  Shape shape;
  for (const Tensor& t : in) shape = broadcast_shapes(shape, t.shape(), "reference");
  std::vector<std::vector<double>> values;
  for (const Tensor& t : in) values.push_back(t.to_vector());
  std::vector<double> out;
  for (int64_t flat = 0; flat < shape_numel(shape); ++flat) {
    std::vector<double> args;
    for (size_t k = 0; k < in.size(); ++k) {
      const Shape& s = in[k].shape();
      const int64_t lead = static_cast<int64_t>(shape.size() - s.size());
      int64_t rem = flat, off = 0, mult = 1;
      for (int64_t d = static_cast<int64_t>(shape.size()) - 1; d >= 0; --d) {
        const int64_t idx = rem % shape[d];
        rem /= shape[d];
        if (d < lead) continue;
        off += (s[d - lead] == 1 ? 0 : idx) * mult;
        mult *= s[d - lead];
      }
      args.push_back(values[k][off]);
    }
    out.push_back(f(args));
  }
  return out;
}

double Add(const std::vector<double>& v) { return v[0] + v[1]; }
double Where(const std::vector<double>& v) { return v[0] != 0 ? v[1] : v[2]; }

// Distinct values in the given shape (dtype d): k, k + 1, ... with a sign pattern.
Tensor Values(const Shape& s, double k, Dtype d = kFloat64) {
  std::vector<double> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = (i % 3 == 1 ? -1.0 : 1.0) * (k + static_cast<double>(i));
  return T(v, s, d);
}
// A bool mask of the given shape with an irregular pattern.
Tensor Mask(const Shape& s) {
  std::vector<double> v(static_cast<size_t>(shape_numel(s)));
  for (size_t i = 0; i < v.size(); ++i) v[i] = (i * 7 + i / 3) % 3 == 0;
  return T(v, s, kBool);
}

// Views of logical shape (3, n) (or (1, n), (3, 1) when broadcast), each with another layout.
struct View {
  std::string name;
  Tensor t;
};
std::vector<View> Views(int64_t n, double k, Dtype d) {
  return {
      {"dense", Values({3, n}, k, d)},
      {"transposed", Values({n, 3}, k, d).t()},
      {"sliced", slice(Values({3, 2 * n + 1}, k, d), 1, 1, 2 * n + 1, 2)},
      {"expanded row", Values({1, n}, k, d).expand({3, n})},
      {"expanded column", Values({3, 1}, k, d).expand({3, n})},
      {"row", Values({n}, k, d)},
      {"column", Values({3, 1}, k, d)},
      {"sliced row", slice(Values({3 * n}, k, d), 0, 0, 3 * n, 3)},
      {"0-d", Values({}, k, d)},
  };
}

TEST(Kernels, AddBroadcastsEveryLayoutPairForRowLengths1To33) {
  for (int64_t n = 1; n <= 33; ++n)
    for (const View& a : Views(n, 1, kFloat64))
      for (const View& b : Views(n, 100, kFloat64)) {
        SCOPED_TRACE("n = " + std::to_string(n) + ", " + a.name + " + " + b.name);
        Tensor z = add(a.t, b.t);
        EXPECT_TRUE(Near(z, broadcast_shapes(a.t.shape(), b.t.shape(), "add"), Reference(Add, {a.t, b.t})));
      }
}

TEST(Kernels, WhereBroadcastsEveryLayoutTripleForRowLengths1To33) {
  for (int64_t n : {1, 2, 3, 7, 8, 9, 15, 16, 17, 31, 32, 33})
    for (const View& a : Views(n, 1, kFloat32))
      for (const View& b : Views(n, 100, kFloat32)) {
        const std::vector<View> conds = {{"dense", Mask({3, n})},
                                         {"transposed", Mask({n, 3}).t()},
                                         {"sliced", slice(Mask({3, 2 * n}), 1, 0, 2 * n, 2)},
                                         {"expanded", Mask({n}).expand({3, n})},
                                         {"0-d", Mask({})}};
        for (const View& c : conds) {
          SCOPED_TRACE("n = " + std::to_string(n) + ", where(" + c.name + ", " + a.name + ", " + b.name +
                       ")");
          Tensor z = where(c.t, a.t, b.t);
          EXPECT_EQ(z.dtype(), kFloat32);
          Shape s = broadcast_shapes(broadcast_shapes(c.t.shape(), a.t.shape(), "w"), b.t.shape(), "w");
          EXPECT_TRUE(Near(z, s, Reference(Where, {c.t, a.t, b.t}), 0));
        }
      }
}

TEST(Kernels, AddAndWhereForEveryRowLengthOfDenseInputs) {
  for (int64_t n = 1; n <= 33; ++n) {
    SCOPED_TRACE("n = " + std::to_string(n));
    Tensor a = Values({n}, 1), b = Values({n}, 50), c = Mask({n});
    EXPECT_TRUE(Near(add(a, b), {n}, Reference(Add, {a, b})));
    EXPECT_TRUE(Near(where(c, a, b), {n}, Reference(Where, {c, a, b})));
    EXPECT_TRUE(Near(where(c, a, 7.0), {n}, Reference(Where, {c, a, scalar_tensor(7.0, kFloat64)})));
  }
}

TEST(Kernels, ZeroDimOperandsGiveAZeroDimResult) {
  Tensor a = scalar_tensor(2.5, kFloat64), b = scalar_tensor(-1.0, kFloat64);
  EXPECT_TRUE(Near(add(a, b), {}, {1.5}));
  EXPECT_TRUE(Near(where(scalar_tensor(0.0, kBool), a, b), {}, {-1.0}));
  EXPECT_TRUE(Near(where(scalar_tensor(1.0, kBool), a, b), {}, {2.5}));
}

TEST(Kernels, EmptyOperandsGiveAnEmptyResultOfTheBroadcastShape) {
  Tensor e = Values({0, 4}, 1), row = Values({4}, 1);
  EXPECT_EQ(add(e, row).shape(), Shape({0, 4}));
  EXPECT_EQ(add(e.t(), Values({1}, 1)).shape(), Shape({4, 0}));
  EXPECT_EQ(where(Mask({0, 1}), row, scalar_tensor(1.0, kFloat64)).shape(), Shape({0, 4}));
  EXPECT_EQ(where(Mask({3, 0}), Values({3, 1}, 1), Values({0}, 1)).shape(), Shape({3, 0}));
}

TEST(Kernels, MixedDtypesArePromotedBeforeTheLoop) {
  for (int64_t n : {1, 5, 17, 33}) {
    SCOPED_TRACE("n = " + std::to_string(n));
    Tensor i = Values({n, 3}, 1, kInt64).t(), f = Values({n}, 0.5, kFloat32);
    Tensor z = add(i, f);
    EXPECT_EQ(z.dtype(), kFloat32);
    EXPECT_TRUE(Near(z, {3, n}, Reference(Add, {i, f}), 1e-6));
    Tensor d = scalar_tensor(0.25, kFloat64);  // a 0-d float64 doesn't promote a float32 tensor
    EXPECT_EQ(add(f, d).dtype(), kFloat32);
    Tensor w = where(Mask({3, 1}), i, Values({n}, 0.5, kFloat64));
    EXPECT_EQ(w.dtype(), kFloat64);
    EXPECT_TRUE(Near(w, {3, n}, Reference(Where, {Mask({3, 1}), i, Values({n}, 0.5, kFloat64)})));
    Tensor bsum = add(Mask({3, n}), Mask({n}));  // bool + bool stays bool (or)
    EXPECT_EQ(bsum.dtype(), kBool);
    EXPECT_TRUE(Near(bsum, {3, n},
                     Reference([](const std::vector<double>& v) { return double(v[0] || v[1]); },
                               {Mask({3, n}), Mask({n})})));
  }
}

TEST(Kernels, InPlaceAddWritesThroughAStridedView) {
  for (int64_t n = 1; n <= 33; ++n) {
    SCOPED_TRACE("n = " + std::to_string(n));
    Tensor base = Values({n, 3}, 1), row = Values({n}, 100);
    Tensor view = base.t();  // (3, n), strides (1, 3)
    std::vector<double> want = Reference(Add, {view, row});
    view.add_(row);
    EXPECT_TRUE(Near(view, {3, n}, want));
    EXPECT_TRUE(Near(base.t(), {3, n}, want));  // the write landed in the base
  }
}

TEST(Kernels, LargeWorkIsSplitAcrossThreadsWithinAndAcrossRows) {
  // one dense row of 100,003 elements (split inside the row), and many short broadcast rows
  Tensor a = Values({100003}, 1), b = Values({100003}, 7);
  EXPECT_TRUE(Near(add(a, b), {100003}, Reference(Add, {a, b})));
  Tensor m = Values({333, 301}, 1).t(), col = Values({301, 1}, 3), c = Mask({301, 333});
  EXPECT_TRUE(Near(add(m, col), {301, 333}, Reference(Add, {m, col})));
  EXPECT_TRUE(Near(where(c, m, col), {301, 333}, Reference(Where, {c, m, col})));
}

TEST(Kernels, CopiesOfViewsKeepTheLogicalOrder) {
  for (int64_t n = 1; n <= 33; ++n) {
    SCOPED_TRACE("n = " + std::to_string(n));
    Tensor x = Values({n, 3}, 1).t();
    Tensor want = Values({n, 3}, 1).t();
    EXPECT_TRUE(Near(x.contiguous(), {3, n}, want.to_vector()));
    EXPECT_TRUE(Near(x.to(kFloat32), {3, n}, want.to_vector(), 1e-6));
    std::vector<double> reversed = want.to_vector();
    std::reverse(reversed.begin(), reversed.end());
    EXPECT_TRUE(Near(flip(x, {0, 1}), {3, n}, reversed));  // read with negative strides
  }
}

}  // namespace
