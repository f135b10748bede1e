// Views: tensors are strided views (shape, strides, storage offset) of a shared storage, as in
// PyTorch. Every view op's strides / offset / is_contiguous() against PyTorch 2.13's values (written
// down from torch's rules and checked against torch), writes through every view landing in the base,
// view vs reshape vs contiguous(), ops on transposed / sliced / expanded operands against the same
// ops on dense copies (float32 and float64, sizes 1..33 to hit vector bodies and scalar tails),
// gradcheck + gradgradcheck through every view op, the shared version counter, the in-place rules
// (leaf views, expanded tensors), 0-d and empty views, logical-order printing and a large strided copy.
#include <gtest/gtest.h>

#include <cmath>
#include <cstdint>
#include <functional>
#include <map>
#include <sstream>
#include <stdexcept>
#include <string>
#include <type_traits>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/gradcheck.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;
using Result = ::testing::AssertionResult;

// Where element (0, ..., 0) of a view of `base` must live: base's first element + offset elements.
const void* Addr(const Tensor& base, int64_t offset) {
  return static_cast<const char*>(base.raw_data()) +
         (offset - base.storage_offset()) * static_cast<int64_t>(dtype_size(base.dtype()));
}

// Shape, strides (strides() and every stride(d), also negative d), storage offset, is_contiguous()
// and, when `base` is given, that the view aliases base (raw_data() is base's storage + offset).
Result Layout(const Tensor& v, const Shape& shape, const Shape& strides, int64_t offset, bool contiguous,
              const Tensor& base = Tensor()) {
  std::ostringstream why;
  if (v.shape() != shape) why << " shape " << shape_str(v.shape()) << " != " << shape_str(shape) << ";";
  if (v.strides() != strides)
    why << " strides " << shape_str(v.strides()) << " != " << shape_str(strides) << ";";
  for (int64_t d = 0; d < static_cast<int64_t>(strides.size()) && d < v.dim(); ++d) {
    if (v.stride(d) != strides[d])
      why << " stride(" << d << ") " << v.stride(d) << " != " << strides[d] << ";";
    if (v.stride(d - v.dim()) != strides[d]) why << " stride(" << d - v.dim() << ") wrong;";
  }
  if (v.storage_offset() != offset)
    why << " storage_offset " << v.storage_offset() << " != " << offset << ";";
  if (v.is_contiguous() != contiguous)
    why << " is_contiguous " << v.is_contiguous() << " != " << contiguous << ";";
  if (base.defined() && v.raw_data() != Addr(base, offset))
    why << " raw_data is not base's storage + offset (does not alias its base);";
  if (why.str().empty()) return ::testing::AssertionSuccess();
  return ::testing::AssertionFailure() << why.str();
}

// Same dtype, same shape, every element within tol (absolute, plus relative to the expected value).
Result Same(const Tensor& got, const Tensor& want, double tol) {
  if (!got.defined() || !want.defined()) return ::testing::AssertionFailure() << "undefined tensor";
  if (got.dtype() != want.dtype())
    return ::testing::AssertionFailure()
           << "dtype " << dtype_name(got.dtype()) << ", expected " << dtype_name(want.dtype());
  if (got.shape() != want.shape())
    return ::testing::AssertionFailure()
           << "shape " << shape_str(got.shape()) << ", expected " << shape_str(want.shape());
  std::vector<double> g = got.to_vector(), w = want.to_vector();
  if (g.size() != w.size()) return ::testing::AssertionFailure() << "to_vector sizes differ";
  for (size_t i = 0; i < g.size(); ++i) {
    if (std::isnan(g[i]) && std::isnan(w[i])) continue;
    if (!(std::abs(g[i] - w[i]) <= tol * (1 + std::abs(w[i]))))
      return ::testing::AssertionFailure() << "element " << i << ": got " << g[i] << ", expected " << w[i];
  }
  return ::testing::AssertionSuccess();
}

// A dense copy built from the logical-order values alone (independent of contiguous()).
Tensor Dense(const Tensor& v) { return tensor(v.to_vector(), v.shape(), v.dtype()); }

// Runs many checks (op x operand kind x size x dtype) and reports each op that failed once, with
// how many of its cases failed and the first failure, so a broken kernel gives one readable line.
class Sweep {
 public:
  template <class F> void Check(const std::string& op, const std::string& where, F&& f) {
    Result r = ::testing::AssertionSuccess();
    try {
      r = f();
    } catch (const std::exception& e) {
      r = ::testing::AssertionFailure() << "threw: " << e.what();
    }
    Stat& s = stats_[op];
    ++s.total;
    if (!r && s.failed++ == 0) s.first = where + ": " + r.message();
  }
  void Report() const {
    size_t ops = 0;
    for (const auto& kv : stats_) {
      ++ops;
      if (kv.second.failed)
        ADD_FAILURE() << kv.first << ": " << kv.second.failed << " of " << kv.second.total
                      << " cases differ from the dense result; first: " << kv.second.first;
    }
    EXPECT_GT(ops, 0u);
  }

 private:
  struct Stat {
    int total = 0, failed = 0;
    std::string first;
  };
  std::map<std::string, Stat> stats_;
};

struct Named {
  std::string name;
  Tensor t;
};

// Non-contiguous (r, c) operands of every kind: transposed, stepped slice, expanded both ways,
// an offset window with padded rows, and a transposed select of a 3-d tensor.
std::vector<Named> StridedViews(int64_t r, int64_t c, Dtype d) {
  return {
      {"transposed", randn({c, r}, d).t()},
      {"x[:, ::2]", randn({r, 2 * c}, d).slice(1, 0, 2 * c, 2)},
      {"expanded column", randn({r, 1}, d).expand({r, c})},
      {"expanded row", randn({c}, d).expand({r, c})},
      {"offset window", randn({r + 2, c + 3}, d).slice(0, 1, r + 1).slice(1, 2, c + 2)},
      {"select(1).t()", randn({c, 2, r}, d).select(1, 1).t()},
  };
}

// Non-contiguous 1-d operands of length n: stride 3 with an offset, a diagonal, a column, expanded.
std::vector<Named> StridedVectors(int64_t n, Dtype d) {
  return {
      {"x[1::3]", randn({3 * n}, d).slice(0, 1, 3 * n, 3)},
      {"diagonal", diagonal(randn({n, n + 1}, d))},
      {"column", randn({n, 3}, d).select(1, 2)},
      {"expanded 0-d", randn({}, d).expand({n})},
  };
}

std::string Where(const std::string& kind, int64_t n, Dtype d) {
  return kind + " n=" + std::to_string(n) + " " + dtype_name(d);
}

// The message of whatever std::exception f throws (any type), or a recorded failure.
template <class Fn> std::string AnyThrown(Fn&& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  ADD_FAILURE() << "did not throw";
  return "<no exception>";
}

// ================================================================ strides / offsets (torch's values)

TEST(Views, FreshTensorsAreRowMajorAndContiguous) {
  Tensor x = zeros({2, 3, 4});
  EXPECT_TRUE(Layout(x, {2, 3, 4}, {12, 4, 1}, 0, true, x));
  Tensor s = scalar_tensor(1.0);
  EXPECT_TRUE(Layout(s, {}, {}, 0, true, s));
  Tensor e = zeros({0, 3});
  EXPECT_TRUE(Layout(e, {0, 3}, {3, 1}, 0, true));
  Tensor one = zeros({5, 1});
  EXPECT_TRUE(Layout(one, {5, 1}, {1, 1}, 0, true, one));
  EXPECT_TRUE(Layout(x.clone(), {2, 3, 4}, {12, 4, 1}, 0, true));
}

TEST(Views, TransposeTAndMTStrides) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(x.t(), {4, 3}, {1, 4}, 0, false, x));
  EXPECT_TRUE(Layout(transpose(x, 0, 1), {4, 3}, {1, 4}, 0, false, x));
  EXPECT_TRUE(Layout(x.transpose(-1, -2), {4, 3}, {1, 4}, 0, false, x));
  EXPECT_TRUE(Layout(x.mT(), {4, 3}, {1, 4}, 0, false, x));
  EXPECT_TRUE(Layout(x.t().t(), {3, 4}, {4, 1}, 0, true, x));
  Tensor y = Iota({2, 3, 4});
  EXPECT_TRUE(Layout(y.mT(), {2, 4, 3}, {12, 1, 4}, 0, false, y));
  EXPECT_TRUE(Layout(y.transpose(0, 2), {4, 3, 2}, {1, 4, 12}, 0, false, y));
  EXPECT_TRUE(Layout(y.transpose(1, 1), {2, 3, 4}, {12, 4, 1}, 0, true, y));
}

TEST(Views, PermuteStrides) {
  Tensor y = Iota({2, 3, 4});
  EXPECT_TRUE(Layout(y.permute({2, 0, 1}), {4, 2, 3}, {1, 12, 4}, 0, false, y));
  EXPECT_TRUE(Layout(permute(y, {-1, -3, -2}), {4, 2, 3}, {1, 12, 4}, 0, false, y));
  EXPECT_TRUE(Layout(y.permute({0, 1, 2}), {2, 3, 4}, {12, 4, 1}, 0, true, y));
  EXPECT_TRUE(Layout(y.permute({1, 0, 2}), {3, 2, 4}, {4, 12, 1}, 0, false, y));
}

TEST(Views, SliceAndNarrowStrides) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(x.slice(1, 1, 4, 2), {3, 2}, {4, 2}, 1, false, x));
  EXPECT_TRUE(Layout(slice(x, 1, 1, 4, 2), {3, 2}, {4, 2}, 1, false, x));
  EXPECT_TRUE(Layout(x.slice(0, 1, 3), {2, 4}, {4, 1}, 4, true, x));
  EXPECT_TRUE(Layout(x.slice(0, 0, 3, 2).slice(1, 0, 4, 3), {2, 2}, {8, 3}, 0, false, x));  // x[::2, ::3]
  EXPECT_TRUE(Layout(x.slice(1, -2, 4), {3, 2}, {4, 1}, 2, false, x));
  EXPECT_TRUE(Layout(x.slice(0, 1, 2), {1, 4}, {4, 1}, 4, true, x));
  EXPECT_TRUE(Layout(x.slice(1, 1, 2), {3, 1}, {4, 1}, 1, false, x));
  EXPECT_TRUE(Layout(narrow(x, 1, 1, 2), {3, 2}, {4, 1}, 1, false, x));
  EXPECT_TRUE(Layout(x.narrow(0, 1, 2), {2, 4}, {4, 1}, 4, true, x));
  EXPECT_TRUE(Layout(x.narrow(-1, 3, 1), {3, 1}, {4, 1}, 3, false, x));
}

TEST(Views, SelectStridesAndIndexOperator) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(x.select(0, 1), {4}, {1}, 4, true, x));
  EXPECT_TRUE(Layout(select(x, 1, 2), {3}, {4}, 2, false, x));
  EXPECT_TRUE(Layout(x.select(1, -1), {3}, {4}, 3, false, x));
  EXPECT_TRUE(Layout(x[2], {4}, {1}, 8, true, x));
  EXPECT_TRUE(Layout(x.operator[](1), {4}, {1}, 4, true, x));
  Tensor y = Iota({2, 3, 4});
  EXPECT_TRUE(Layout(y.select(1, 2), {2, 4}, {12, 1}, 8, false, y));
  EXPECT_TRUE(Layout(y[1][2], {4}, {1}, 20, true, y));
}

TEST(Views, ExpandStrides) {
  Tensor c = Iota({3, 1});
  EXPECT_TRUE(Layout(c.expand({3, 4}), {3, 4}, {1, 0}, 0, false, c));
  EXPECT_TRUE(Layout(expand(c, {2, 3, -1}), {2, 3, 1}, {0, 1, 1}, 0, false, c));
  EXPECT_TRUE(Layout(c.expand({3, 1}), {3, 1}, {1, 1}, 0, true, c));
  Tensor v = Iota({4});
  EXPECT_TRUE(Layout(v.expand({2, 3, 4}), {2, 3, 4}, {0, 0, 1}, 0, false, v));
  Tensor r = Iota({1, 4});
  EXPECT_TRUE(Layout(r.expand({3, 4}), {3, 4}, {0, 1}, 0, false, r));
  Tensor s = scalar_tensor(2.0, kFloat64);
  EXPECT_TRUE(Layout(s.expand({3}), {3}, {0}, 0, false, s));
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(broadcast_to(x.select(1, 1).unsqueeze(1), {3, 4}), {3, 4}, {4, 0}, 1, false, x));
}

TEST(Views, SqueezeUnsqueezeStrides) {
  Tensor s = Iota({1, 3, 1, 2});
  EXPECT_TRUE(Layout(s.squeeze(), {3, 2}, {2, 1}, 0, true, s));
  EXPECT_TRUE(Layout(squeeze(s, 2), {1, 3, 2}, {6, 2, 1}, 0, true, s));
  EXPECT_TRUE(Layout(s.squeeze(0), {3, 1, 2}, {2, 2, 1}, 0, true, s));
  EXPECT_TRUE(Layout(s.squeeze(1), {1, 3, 1, 2}, {6, 2, 2, 1}, 0, true, s));  // not size 1: no-op
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(x.unsqueeze(0), {1, 3, 4}, {12, 4, 1}, 0, true, x));
  EXPECT_TRUE(Layout(unsqueeze(x, 1), {3, 1, 4}, {4, 4, 1}, 0, true, x));
  EXPECT_TRUE(Layout(x.unsqueeze(2), {3, 4, 1}, {4, 1, 1}, 0, true, x));
  EXPECT_TRUE(Layout(x.unsqueeze(-1), {3, 4, 1}, {4, 1, 1}, 0, true, x));
  EXPECT_TRUE(Layout(x.t().unsqueeze(0), {1, 4, 3}, {4, 1, 4}, 0, false, x));
  EXPECT_TRUE(Layout(x.t().unsqueeze(1), {4, 1, 3}, {1, 12, 4}, 0, false, x));
  EXPECT_TRUE(Layout(x.t().unsqueeze(2), {4, 3, 1}, {1, 4, 1}, 0, false, x));
  EXPECT_TRUE(Layout(x.slice(1, 1, 2).squeeze(1), {3}, {4}, 1, false, x));
}

TEST(Views, ViewStridesOnContiguousAndStridedInputs) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(x.view({2, 6}), {2, 6}, {6, 1}, 0, true, x));
  EXPECT_TRUE(Layout(view(x, {-1}), {12}, {1}, 0, true, x));
  EXPECT_TRUE(Layout(x.slice(0, 1, 3).view({8}), {8}, {1}, 4, true, x));
  EXPECT_TRUE(Layout(x.slice(1, 0, 4, 2).view({6}), {6}, {2}, 0, false, x));  // x[:, ::2] merges
  EXPECT_TRUE(Layout(x.slice(1, 1, 3).view({3, 2, 1}), {3, 2, 1}, {4, 1, 1}, 1, false, x));
  EXPECT_TRUE(Layout(x.slice(1, 1, 3).view({3, 1, 2}), {3, 1, 2}, {4, 2, 1}, 1, false, x));
  EXPECT_TRUE(Layout(x.t().view({2, 2, 3}), {2, 2, 3}, {2, 1, 4}, 0, false, x));
  EXPECT_TRUE(Layout(x.t().view({4, 3, 1}), {4, 3, 1}, {1, 4, 4}, 0, false, x));
  Tensor y = Iota({2, 3, 4});
  EXPECT_TRUE(Layout(y.slice(2, 1, 3).view({6, 2}), {6, 2}, {4, 1}, 1, false, y));
  Tensor c = Iota({3, 1});
  EXPECT_TRUE(Layout(c.expand({3, 4}).view({3, 2, 2}), {3, 2, 2}, {1, 0, 0}, 0, false, c));
}

TEST(Views, ReshapeAndFlattenViewWhenPossibleCopyOtherwise) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(x.reshape({4, 3}), {4, 3}, {3, 1}, 0, true, x));
  EXPECT_TRUE(Layout(x.t().reshape({4, 3}), {4, 3}, {1, 4}, 0, false, x));  // same shape: a view
  EXPECT_TRUE(Layout(x.slice(1, 0, 4, 2).reshape({6}), {6}, {2}, 0, false, x));
  EXPECT_TRUE(Layout(x.flatten(), {12}, {1}, 0, true, x));
  Tensor y = Iota({2, 3, 4});
  EXPECT_TRUE(Layout(y.flatten(1), {2, 12}, {12, 1}, 0, true, y));
  EXPECT_TRUE(Layout(flatten(y, 0, 1), {6, 4}, {4, 1}, 0, true, y));
  // No view possible: a dense copy with its own storage, values in logical order.
  Tensor r = x.t().reshape({12});
  EXPECT_TRUE(Layout(r, {12}, {1}, 0, true));
  EXPECT_NE(r.raw_data(), x.raw_data());
  EXPECT_TRUE(Near(r, {12}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  Tensor f = x.t().flatten();
  EXPECT_TRUE(Layout(f, {12}, {1}, 0, true));
  EXPECT_TRUE(Near(f, {12}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  Tensor g = y.select(1, 1).flatten();  // (2, 4) strides (12, 1): dims don't merge
  EXPECT_TRUE(Layout(g, {8}, {1}, 0, true));
  EXPECT_TRUE(Near(g, {8}, {4, 5, 6, 7, 16, 17, 18, 19}));
  Tensor c = Iota({3, 1});
  Tensor ce = c.expand({3, 4}).reshape({12});
  EXPECT_TRUE(Layout(ce, {12}, {1}, 0, true));
  EXPECT_TRUE(Near(ce, {12}, {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}));
}

TEST(Views, DiagonalStrides) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(diagonal(x), {3}, {5}, 0, false, x));
  EXPECT_TRUE(Layout(x.diagonal(), {3}, {5}, 0, false, x));
  EXPECT_TRUE(Layout(diagonal(x, 1), {3}, {5}, 1, false, x));
  EXPECT_TRUE(Layout(diagonal(x, -1), {2}, {5}, 4, false, x));
  EXPECT_TRUE(Layout(diagonal(x, 3), {1}, {5}, 3, true, x));
  EXPECT_TRUE(Layout(diagonal(x.t()), {3}, {5}, 0, false, x));
  EXPECT_TRUE(Layout(diagonal(x, 0, 1, 0), {3}, {5}, 0, false, x));
  Tensor y = Iota({2, 3, 4});
  EXPECT_TRUE(Layout(diagonal(y, 0, 1, 2), {2, 3}, {12, 5}, 0, false, y));
  EXPECT_TRUE(Layout(diagonal(y, 1, 2, 1), {2, 2}, {12, 5}, 4, false, y));
  EXPECT_TRUE(Layout(diagonal(y, 0, 0, 2), {3, 2}, {4, 13}, 0, false, y));
  EXPECT_TRUE(Layout(y.diagonal(0, -2, -1), {2, 3}, {12, 5}, 0, false, y));
  EXPECT_TRUE(Near(diagonal(x), {3}, {0, 5, 10}));
  EXPECT_TRUE(Near(diagonal(x, 1), {3}, {1, 6, 11}));
  EXPECT_TRUE(Near(diagonal(x, -1), {2}, {4, 9}));
  EXPECT_TRUE(Near(diagonal(y, 1, 2, 1), {2, 2}, {4, 9, 16, 21}));
}

TEST(Views, UnfoldStrides) {
  Tensor f = Iota({5});
  EXPECT_TRUE(Layout(unfold(f, 0, 2, 1), {4, 2}, {1, 1}, 0, false, f));
  EXPECT_TRUE(Layout(f.unfold(0, 2, 2), {2, 2}, {2, 1}, 0, true, f));
  EXPECT_TRUE(Layout(unfold(f, 0, 3, 2), {2, 3}, {2, 1}, 0, false, f));
  EXPECT_TRUE(Layout(unfold(f, 0, 5, 1), {1, 5}, {1, 1}, 0, true, f));
  EXPECT_TRUE(Near(unfold(f, 0, 2, 1), {4, 2}, {0, 1, 1, 2, 2, 3, 3, 4}));
  EXPECT_TRUE(Near(unfold(f, 0, 3, 2), {2, 3}, {0, 1, 2, 2, 3, 4}));
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(unfold(x, 1, 2, 2), {3, 2, 2}, {4, 2, 1}, 0, true, x));
  EXPECT_TRUE(Layout(unfold(x, 0, 2, 1), {2, 4, 2}, {4, 1, 4}, 0, false, x));
  EXPECT_TRUE(Layout(unfold(x.t(), 0, 3, 1), {2, 3, 3}, {1, 4, 1}, 0, false, x));
  EXPECT_TRUE(Near(unfold(x, 0, 2, 1), {2, 4, 2}, {0, 4, 1, 5, 2, 6, 3, 7, 4, 8, 5, 9, 6, 10, 7, 11}));
}

TEST(Views, SplitAndChunkAreViews) {
  Tensor f = Iota({5});
  std::vector<Tensor> p = split(f, 2);
  ASSERT_EQ(p.size(), 3u);
  EXPECT_TRUE(Layout(p[0], {2}, {1}, 0, true, f));
  EXPECT_TRUE(Layout(p[1], {2}, {1}, 2, true, f));
  EXPECT_TRUE(Layout(p[2], {1}, {1}, 4, true, f));
  Tensor x = Iota({3, 4});
  std::vector<Tensor> q = split(x, std::vector<int64_t>{1, 3}, 1);
  ASSERT_EQ(q.size(), 2u);
  EXPECT_TRUE(Layout(q[0], {3, 1}, {4, 1}, 0, false, x));
  EXPECT_TRUE(Layout(q[1], {3, 3}, {4, 1}, 1, false, x));
  std::vector<Tensor> c = chunk(x, 2, 1);
  ASSERT_EQ(c.size(), 2u);
  EXPECT_TRUE(Layout(c[0], {3, 2}, {4, 1}, 0, false, x));
  EXPECT_TRUE(Layout(c[1], {3, 2}, {4, 1}, 2, false, x));
  std::vector<Tensor> r = chunk(x, 2, 0);
  ASSERT_EQ(r.size(), 2u);
  EXPECT_TRUE(Layout(r[0], {2, 4}, {4, 1}, 0, true, x));
  EXPECT_TRUE(Layout(r[1], {1, 4}, {4, 1}, 8, true, x));
}

TEST(Views, DetachSharesStorageAndStrides) {
  Tensor x = Iota({3, 4});
  x.set_requires_grad(true);
  Tensor d = x.t().detach();
  EXPECT_TRUE(Layout(d, {4, 3}, {1, 4}, 0, false, x));
  EXPECT_FALSE(d.requires_grad());
  EXPECT_FALSE(d.grad_fn());
  EXPECT_TRUE(Layout(x.slice(1, 1, 4, 2).detach(), {3, 2}, {4, 2}, 1, false, x));
}

TEST(Views, ViewsOfViewsStrides) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(x.t().slice(0, 1, 3), {2, 3}, {1, 4}, 1, false, x));
  EXPECT_TRUE(Layout(x.slice(1, 0, 4, 2).t(), {2, 3}, {2, 4}, 0, false, x));
  EXPECT_TRUE(Layout(x.t().slice(1, 0, 3, 2), {4, 2}, {1, 8}, 0, false, x));
  EXPECT_TRUE(Layout(x.slice(1, 0, 4, 2).slice(0, 1, 3), {2, 2}, {4, 2}, 4, false, x));
  EXPECT_TRUE(Layout(x.view({3, 2, 2}).transpose(1, 2), {3, 2, 2}, {4, 1, 2}, 0, false, x));
  Tensor c = Iota({3, 1});
  EXPECT_TRUE(Layout(c.expand({3, 4}).select(1, 1), {3}, {1}, 0, true, c));
  EXPECT_TRUE(Layout(c.expand({3, 4}).select(0, 1), {4}, {0}, 1, false, c));
  EXPECT_TRUE(Layout(x.t()[1][2], {}, {}, 9, true, x));
  EXPECT_EQ(x.t()[1][2].item(), 9);
  EXPECT_TRUE(Layout(diagonal(x.view({2, 6}).slice(1, 1, 6)), {2}, {7}, 1, false, x));
  EXPECT_TRUE(Layout(x.narrow(1, 1, 3).unsqueeze(0).expand({2, 3, 3}), {2, 3, 3}, {0, 4, 1}, 1, false, x));
}

// ================================================================ writes land in the base

struct WriteCase {
  std::string name;
  std::function<Tensor()> make_base;
  std::function<void(const Tensor&)> write;  // an in-place op through some view of the base
  std::vector<double> base_after;            // the base's elements afterwards (torch's result)
};

void RunWriteCases(const std::vector<WriteCase>& cases) {
  for (const WriteCase& c : cases) {
    Tensor base = c.make_base();
    const Shape shape = base.shape();
    const uint64_t v0 = base.version();
    try {
      c.write(base);
    } catch (const std::exception& e) {
      ADD_FAILURE() << c.name << ": threw " << e.what();
      continue;
    }
    EXPECT_TRUE(Near(base, shape, c.base_after)) << c.name;
    EXPECT_GT(base.version(), v0) << c.name << ": the base's version did not move";
  }
}

Tensor Z34() { return zeros({3, 4}, kFloat64); }

TEST(Views, WriteThroughSelectFill) {
  RunWriteCases({
      {"x[1].fill_(7)",
       Z34,
       [](const Tensor& a) { a.select(0, 1).fill_(7); },
       {0, 0, 0, 0, 7, 7, 7, 7, 0, 0, 0, 0}},
      {"x[:, 2].fill_(7)",
       Z34,
       [](const Tensor& a) { a.select(1, 2).fill_(7); },
       {0, 0, 7, 0, 0, 0, 7, 0, 0, 0, 7, 0}},
      {"x[2][3].fill_(1)",
       Z34,
       [](const Tensor& a) { a[2][3].fill_(1); },
       {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1}},
      {"select(1, -1).zero_()",
       [] { return ones({3, 4}, kFloat64); },
       [](const Tensor& a) { a.select(1, -1).zero_(); },
       {1, 1, 1, 0, 1, 1, 1, 0, 1, 1, 1, 0}},
  });
}

TEST(Views, WriteThroughColumnAdd) {
  RunWriteCases({
      {"x[:, 1].add_(t)",
       Z34,
       [](const Tensor& a) { a.select(1, 1).add_(T({1, 2, 3}, {3})); },
       {0, 1, 0, 0, 0, 2, 0, 0, 0, 3, 0, 0}},
      {"x[:, 1].add_(t, alpha=2)",
       Z34,
       [](const Tensor& a) { a.select(1, 1).add_(T({1, 2, 3}, {3}), 2); },
       {0, 2, 0, 0, 0, 4, 0, 0, 0, 6, 0, 0}},
      {"x[:, 3].add_(5)",
       Z34,
       [](const Tensor& a) { a.select(1, 3).add_(5); },
       {0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0, 5}},
      {"x[:, 0].sub_(x[:, 3])",
       [] { return Iota({3, 4}); },
       [](const Tensor& a) { a.select(1, 0).sub_(a.select(1, 3)); },
       {-3, 1, 2, 3, -3, 5, 6, 7, -3, 9, 10, 11}},
  });
}

TEST(Views, WriteThroughTransposeCopy) {
  RunWriteCases({
      {"x.t().copy_(iota(4, 3))",
       Z34,
       [](const Tensor& a) { a.t().copy_(Iota({4, 3})); },
       {0, 3, 6, 9, 1, 4, 7, 10, 2, 5, 8, 11}},
      {"x.t().copy_(float32 row, broadcast)",
       Z34,
       [](const Tensor& a) { a.t().copy_(T({1, 2, 3}, {3}, kFloat32)); },
       {1, 1, 1, 1, 2, 2, 2, 2, 3, 3, 3, 3}},
      {"x.t().copy_(y.t())",
       Z34,
       [](const Tensor& a) { a.t().copy_(Iota({3, 4}).t()); },
       {0, 1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11}},
      {"x.mT()[1].copy_(t)",
       Z34,
       [](const Tensor& a) { a.mT()[1].copy_(T({4, 5, 6}, {3})); },
       {0, 4, 0, 0, 0, 5, 0, 0, 0, 6, 0, 0}},
      {"x.t().mul_(x.t())",
       [] { return Iota({3, 4}); },
       [](const Tensor& a) { a.t().mul_(a.t()); },
       {0, 1, 4, 9, 16, 25, 36, 49, 64, 81, 100, 121}},
  });
}

TEST(Views, WriteThroughNarrowZero) {
  auto ones34 = [] { return ones({3, 4}, kFloat64); };
  RunWriteCases({
      {"narrow(x, 1, 1, 2).zero_()",
       ones34,
       [](const Tensor& a) { narrow(a, 1, 1, 2).zero_(); },
       {1, 0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1}},
      {"x.narrow(0, 1, 2).zero_()",
       ones34,
       [](const Tensor& a) { a.narrow(0, 1, 2).zero_(); },
       {1, 1, 1, 1, 0, 0, 0, 0, 0, 0, 0, 0}},
      {"x.narrow(0, 1, 2)[:, 0].fill_(2)",
       ones34,
       [](const Tensor& a) { a.narrow(0, 1, 2).select(1, 0).fill_(2); },
       {1, 1, 1, 1, 2, 1, 1, 1, 2, 1, 1, 1}},
      {"x[:, ::2].mul_([2, 3])",
       ones34,
       [](const Tensor& a) { a.slice(1, 0, 4, 2).mul_(T({2, 3}, {2})); },
       {2, 1, 3, 1, 2, 1, 3, 1, 2, 1, 3, 1}},
      {"x[::2, ::3].fill_(5)",
       Z34,
       [](const Tensor& a) { a.slice(0, 0, 3, 2).slice(1, 0, 4, 3).fill_(5); },
       {5, 0, 0, 5, 0, 0, 0, 0, 5, 0, 0, 5}},
      {"x[:, -2:4].fill_(1)",
       Z34,
       [](const Tensor& a) { a.slice(1, -2, 4).fill_(1); },
       {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1}},
      {"x[:, 1::2].mul_(10)",
       [] { return Iota({3, 4}); },
       [](const Tensor& a) { a.slice(1, 1, 4, 2).mul_(10); },
       {0, 10, 2, 30, 4, 50, 6, 70, 8, 90, 10, 110}},
      {"x[1:].div_(x[1:].t().t())",
       [] { return Iota({3, 4}) + 1.0; },
       [](const Tensor& a) { a.slice(0, 1, 3).div_(a.slice(0, 1, 3).t().t()); },
       {1, 2, 3, 4, 1, 1, 1, 1, 1, 1, 1, 1}},
  });
}

TEST(Views, WriteThroughDiagonalFill) {
  RunWriteCases({
      {"diagonal(x).fill_(1)",
       Z34,
       [](const Tensor& a) { diagonal(a).fill_(1); },
       {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}},
      {"diagonal(x, 1).fill_(2)",
       Z34,
       [](const Tensor& a) { diagonal(a, 1).fill_(2); },
       {0, 2, 0, 0, 0, 0, 2, 0, 0, 0, 0, 2}},
      {"diagonal(x, -1).fill_(3)",
       Z34,
       [](const Tensor& a) { diagonal(a, -1).fill_(3); },
       {0, 0, 0, 0, 3, 0, 0, 0, 0, 3, 0, 0}},
      {"diagonal(x).sub_(x[:, 3])",
       [] { return Iota({3, 4}); },
       [](const Tensor& a) { diagonal(a).sub_(a.select(1, 3)); },
       {-3, 1, 2, 3, 4, -2, 6, 7, 8, 9, -1, 11}},
      {"x.t().diagonal().add_(1)",
       Z34,
       [](const Tensor& a) { a.t().diagonal().add_(1); },
       {1, 0, 0, 0, 0, 1, 0, 0, 0, 0, 1, 0}},
  });
}

TEST(Views, WriteThroughViewOfView) {
  RunWriteCases({
      {"x.view(2, 6)[1][::2].fill_(1)",
       Z34,
       [](const Tensor& a) { a.view({2, 6})[1].slice(0, 0, 6, 2).fill_(1); },
       {0, 0, 0, 0, 0, 0, 1, 0, 1, 0, 1, 0}},
      {"x.view(12)[1::3].fill_(1)",
       Z34,
       [](const Tensor& a) { a.view({12}).slice(0, 1, 12, 3).fill_(1); },
       {0, 1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0}},
      {"x.t()[1:3][:, 2].fill_(5)",
       Z34,
       [](const Tensor& a) { a.t().slice(0, 1, 3).select(1, 2).fill_(5); },
       {0, 0, 0, 0, 0, 0, 0, 0, 0, 5, 5, 0}},
      {"x[:, 1:3].view(3, 2, 1)[..., 0][:, 1].fill_(4)",
       Z34,
       [](const Tensor& a) { a.slice(1, 1, 3).view({3, 2, 1}).select(2, 0).select(1, 1).fill_(4); },
       {0, 0, 4, 0, 0, 0, 4, 0, 0, 0, 4, 0}},
      {"x.reshape(4, 3)[:, 0].fill_(1)",
       Z34,
       [](const Tensor& a) { a.reshape({4, 3}).select(1, 0).fill_(1); },
       {1, 0, 0, 1, 0, 0, 1, 0, 0, 1, 0, 0}},
      {"x.t().reshape(4, 3)[1].fill_(1) (same shape: a view)",
       Z34,
       [](const Tensor& a) { a.t().reshape({4, 3}).select(0, 1).fill_(1); },
       {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}},
      {"x[:, ::2].reshape(6)[1:3].fill_(1)",
       Z34,
       [](const Tensor& a) { a.slice(1, 0, 4, 2).reshape({6}).slice(0, 1, 3).fill_(1); },
       {0, 0, 1, 0, 1, 0, 0, 0, 0, 0, 0, 0}},
      {"x.flatten()[10:].fill_(1)",
       Z34,
       [](const Tensor& a) { a.flatten().slice(0, 10, 12).fill_(1); },
       {0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 1}},
  });
}

TEST(Views, WriteThroughEveryOtherViewOp) {
  RunWriteCases({
      {"permute(2, 0, 1)[3].fill_(1)",
       [] { return zeros({2, 3, 4}, kFloat64); },
       [](const Tensor& a) { a.permute({2, 0, 1}).select(0, 3).fill_(1); },
       {0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1}},
      {"mT()[:, 0].fill_(1)",
       [] { return zeros({2, 3, 4}, kFloat64); },
       [](const Tensor& a) { a.mT().select(1, 0).fill_(1); },
       {1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0, 0}},
      {"expand(3, 4)[:, 2].add_(t) (one element per location)",
       [] { return zeros({3, 1}, kFloat64); },
       [](const Tensor& a) { a.expand({3, 4}).select(1, 2).add_(T({1, 2, 3}, {3})); },
       {1, 2, 3}},
      {"squeeze().add_(t)",
       [] { return zeros({1, 3, 1}, kFloat64); },
       [](const Tensor& a) { a.squeeze().add_(T({1, 2, 3}, {3})); },
       {1, 2, 3}},
      {"squeeze(0)[1].fill_(2)",
       [] { return zeros({1, 3}, kFloat64); },
       [](const Tensor& a) { squeeze(a, 0)[1].fill_(2); },
       {0, 2, 0}},
      {"unsqueeze(1)[1:].fill_(4)",
       [] { return zeros({3}, kFloat64); },
       [](const Tensor& a) { a.unsqueeze(1).slice(0, 1, 3).fill_(4); },
       {0, 4, 4}},
      {"split(2)[1].fill_(5)",
       [] { return zeros({5}, kFloat64); },
       [](const Tensor& a) { split(a, 2)[1].fill_(5); },
       {0, 0, 5, 5, 0}},
      {"split([1, 4])[1][::2].fill_(5)",
       [] { return zeros({5}, kFloat64); },
       [](const Tensor& a) { split(a, std::vector<int64_t>{1, 4})[1].slice(0, 0, 4, 2).fill_(5); },
       {0, 5, 0, 5, 0}},
      {"chunk(2, dim 1)[1].fill_(1)",
       Z34,
       [](const Tensor& a) { chunk(a, 2, 1)[1].fill_(1); },
       {0, 0, 1, 1, 0, 0, 1, 1, 0, 0, 1, 1}},
      {"unfold(0, 2, 2)[:, 1].fill_(1)",
       [] { return zeros({6}, kFloat64); },
       [](const Tensor& a) { unfold(a, 0, 2, 2).select(1, 1).fill_(1); },
       {0, 1, 0, 1, 0, 1}},
      {"unfold(0, 3, 1)[2].fill_(1)",
       [] { return zeros({6}, kFloat64); },
       [](const Tensor& a) { a.unfold(0, 3, 1).select(0, 2).fill_(1); },
       {0, 0, 1, 1, 1, 0}},
      {"detach()[1].fill_(9) of a leaf that requires grad",
       [] { return zeros({3}, kFloat64).set_requires_grad(true); },
       [](const Tensor& a) { a.detach()[1].fill_(9); },
       {0, 9, 0}},
      {"transpose(0, 2)[1].zero_()",
       [] { return ones({2, 2, 2}, kFloat64); },
       [](const Tensor& a) { transpose(a, 0, 2)[1].zero_(); },
       {1, 0, 1, 0, 1, 0, 1, 0}},
      {"select(1, 0).copy_ float32 0-d source",
       Z34,
       [](const Tensor& a) { a.select(1, 0).copy_(scalar_tensor(5, kFloat32)); },
       {5, 0, 0, 0, 5, 0, 0, 0, 5, 0, 0, 0}},
  });
}

TEST(Views, RandomFillsWriteOnlyTheViewedElements) {
  manual_seed(5);
  Tensor a = zeros({40, 30}, kFloat64);
  a.slice(1, 0, 30, 2).uniform_(1.0, 2.0);  // even columns
  for (int64_t i = 0; i < 40; ++i)
    for (int64_t j = 0; j < 30; ++j) {
      const double v = a.at({i, j});
      if (j % 2 == 0) {
        EXPECT_TRUE(v >= 1.0 && v < 2.0) << i << "," << j << ": " << v;
      } else {
        EXPECT_EQ(v, 0.0) << i << "," << j;
      }
    }
  Tensor b = zeros({30, 40});
  b.t().slice(0, 1, 40, 3).normal_(10.0, 1.0);  // columns 1, 4, 7, ... of b
  for (int64_t i = 0; i < 30; ++i)
    for (int64_t j = 0; j < 40; ++j) {
      const double v = b.at({i, j});
      if (j % 3 == 1) {
        EXPECT_GT(v, 3.0) << i << "," << j;
      } else {
        EXPECT_EQ(v, 0.0) << i << "," << j;
      }
    }
}

TEST(Views, ClampInplaceThroughViews) {
  Tensor a = Iota({3, 4});
  a.t().clamp_(2.5, 8.5);
  EXPECT_TRUE(Near(a, {3, 4}, {2.5, 2.5, 2.5, 3, 4, 5, 6, 7, 8, 8.5, 8.5, 8.5}));
  Tensor b = Iota({3, 4});
  b.slice(1, 1, 4, 2).clamp_(-INFINITY, 4.0);
  EXPECT_TRUE(Near(b, {3, 4}, {0, 1, 2, 3, 4, 4, 6, 4, 8, 4, 10, 4}));
}

// The five snippets of issue 7, in C++.
TEST(Views, IssueSnippetsGiveTorchResults) {
  Tensor a = zeros({3, 3});
  a.operator[](0).fill_(1.0);
  EXPECT_EQ(a.sum().item(), 3.0);
  Tensor b = zeros({3, 3});
  b[0][1].fill_(3.0);
  EXPECT_EQ(b.sum().item(), 3.0);
  Tensor c = zeros({3, 3});
  c.select(1, 1).add_(5);
  EXPECT_EQ(c.sum().item(), 15.0);
  manual_seed(1);
  Tensor w = randn({3}).set_requires_grad(true);
  (2 * w).sum().backward();
  w.grad()[0].zero_();
  expect_values(w.grad(), {0, 2, 2});
  Tensor weight = randn({2, 3}).set_requires_grad(true);  // nn.init.zeros_(lin.weight[0])
  {
    NoGradGuard g;
    weight[0].zero_();
  }
  expect_values(weight[0], {0, 0, 0});
  EXPECT_NE(weight.at({1, 0}), 0.0);
  EXPECT_TRUE(weight.is_leaf());
  EXPECT_TRUE(weight.requires_grad());
}

// ================================================================ view vs reshape vs contiguous

TEST(Views, ViewOnTransposedThrowsReshapeCopies) {
  Tensor x = Iota({3, 4});
  std::string msg = Thrown<std::runtime_error>([&] { x.t().view({12}); });
  EXPECT_TRUE(StartsWith(msg, "view:"));
  EXPECT_THROW(view(x.t(), {12}), std::runtime_error);
  EXPECT_THROW(x.slice(1, 1, 3).view({6}), std::runtime_error);
  EXPECT_THROW(zeros({3, 1}).expand({3, 4}).view({12}), std::runtime_error);
  EXPECT_THROW(x.t().view({3, 4}), std::runtime_error);
  Tensor r = x.t().reshape({12});
  EXPECT_TRUE(Near(r, {12}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  r.fill_(-1);  // the copy does not alias x
  EXPECT_TRUE(Near(x, {3, 4}, Iota({12}).to_vector()));
  Tensor r2 = x.t().reshape({3, 4});
  EXPECT_TRUE(r2.is_contiguous());
  r2.zero_();
  EXPECT_TRUE(Near(x, {3, 4}, Iota({12}).to_vector()));
  Tensor v = x.reshape({6, 2});  // a view: writes land in x
  v[0].fill_(100);
  EXPECT_EQ(x.at(0), 100);
  EXPECT_EQ(x.at(1), 100);
}

TEST(Views, ContiguousCopiesOnlyWhenNeeded) {
  Tensor x = Iota({3, 4});
  Tensor c = x.t().contiguous();
  EXPECT_TRUE(Layout(c, {4, 3}, {3, 1}, 0, true));
  EXPECT_NE(c.raw_data(), x.raw_data());
  EXPECT_TRUE(Near(c, {4, 3}, {0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  c.fill_(-1);
  EXPECT_TRUE(Near(x, {3, 4}, Iota({12}).to_vector()));

  Tensor same = x.contiguous();  // already contiguous: itself, same storage
  EXPECT_EQ(same.raw_data(), x.raw_data());
  EXPECT_TRUE(Layout(same, {3, 4}, {4, 1}, 0, true, x));
  same[0].fill_(7);
  EXPECT_EQ(x.at(0), 7);
  Tensor rows = x.slice(0, 1, 3);  // contiguous with an offset: itself
  EXPECT_EQ(rows.contiguous().raw_data(), rows.raw_data());
  EXPECT_EQ(rows.contiguous().storage_offset(), 4);

  Tensor e = Iota({3, 1}).expand({3, 4}).contiguous();
  EXPECT_TRUE(Layout(e, {3, 4}, {4, 1}, 0, true));
  EXPECT_TRUE(Near(e, {3, 4}, {0, 0, 0, 0, 1, 1, 1, 1, 2, 2, 2, 2}));
  Tensor s = x.slice(1, 1, 4, 2).contiguous();  // x's row 0 is 7 now
  EXPECT_TRUE(Layout(s, {3, 2}, {2, 1}, 0, true));
  EXPECT_TRUE(Near(s, {3, 2}, {7, 7, 5, 7, 9, 11}));
  Tensor cl = x.t().clone();  // its own storage
  EXPECT_TRUE(Near(cl, {4, 3}, {7, 4, 8, 7, 5, 9, 7, 6, 10, 7, 7, 11}));
  EXPECT_NE(cl.raw_data(), x.raw_data());
  // contiguous() is differentiable
  Tensor l = Iota({2, 3}).set_requires_grad(true);
  Tensor lc = l.t().contiguous();
  EXPECT_TRUE(lc.requires_grad());
  (lc * T({1, 2, 3, 4, 5, 6}, {3, 2})).sum().backward();
  EXPECT_TRUE(Near(l.grad(), {2, 3}, {1, 3, 5, 2, 4, 6}));
}

// ================================================================ ops on strided operands vs dense

TEST(Views, ElementwiseOnStridedOperandsMatchDense) {
  manual_seed(7);
  Sweep sw;
  for (Dtype d : {kFloat32, kFloat64}) {
    const double tol = d == kFloat32 ? 2e-6 : 1e-12;
    for (int64_t n = 1; n <= 33; ++n) {
      std::vector<Named> views = StridedViews(n, n + 1, d);
      std::vector<Named> vecs = StridedVectors(n, d);
      for (std::vector<Named>* list : {&views, &vecs}) {
        for (size_t i = 0; i < list->size(); ++i) {
          const Tensor v = (*list)[i].t;
          const Tensor w = (*list)[(i + 1) % list->size()].t;  // another strided operand, same shape
          const Tensor dv = Dense(v), dw = Dense(w);
          const Tensor c = randn(v.shape(), d);  // a contiguous operand
          const Tensor row = randn({v.size(-1) * 2}, d).slice(0, 0, v.size(-1) * 2, 2);  // strided
          const Tensor drow = Dense(row);
          const std::string at = Where((*list)[i].name, n, d);
          auto un = [&](const std::string& op, const std::function<Tensor(const Tensor&)>& f) {
            sw.Check(op, at, [&] { return Same(f(v), f(dv), tol); });
          };
          sw.Check("contiguous()", at, [&] { return Same(v.contiguous(), dv, 0); });
          sw.Check("contiguous() is contiguous", at, [&] {
            return v.contiguous().is_contiguous() ? ::testing::AssertionSuccess()
                                                  : ::testing::AssertionFailure() << "not contiguous";
          });
          sw.Check("clone()", at, [&] { return Same(v.clone(), dv, 0); });
          sw.Check("to(other dtype)", at, [&] {
            Dtype o = d == kFloat32 ? kFloat64 : kFloat32;
            return Same(v.to(o), dv.to(o), 0);
          });
          un("neg", [](const Tensor& x) { return -x; });
          un("exp", [](const Tensor& x) { return exp(x); });
          un("log(abs)", [](const Tensor& x) { return log(abs(x) + 0.5); });
          un("sqrt(abs)", [](const Tensor& x) { return sqrt(abs(x)); });
          un("abs", [](const Tensor& x) { return abs(x); });
          un("sin", [](const Tensor& x) { return sin(x); });
          un("cos", [](const Tensor& x) { return cos(x); });
          un("tanh", [](const Tensor& x) { return tanh(x); });
          un("sigmoid", [](const Tensor& x) { return sigmoid(x); });
          un("relu", [](const Tensor& x) { return relu(x); });
          un("leaky_relu", [](const Tensor& x) { return leaky_relu(x, 0.1); });
          un("softplus", [](const Tensor& x) { return softplus(x); });
          un("clamp", [](const Tensor& x) { return clamp(x, -0.5, 0.5); });
          un("sign", [](const Tensor& x) { return sign(x); });
          un("pow 2", [](const Tensor& x) { return pow(x, 2); });
          un("pow 3.0", [](const Tensor& x) { return x.pow(3.0); });
          un("x * 2.5", [](const Tensor& x) { return x * 2.5; });
          un("1 - x", [](const Tensor& x) { return 1 - x; });
          un("x / 3", [](const Tensor& x) { return x / 3; });
          un("x + 1", [](const Tensor& x) { return x + 1; });
          un("gt 0 (bool)", [](const Tensor& x) { return gt(x, 0); });
          sw.Check("strided + strided", at, [&] { return Same(v + w, dv + dw, tol); });
          sw.Check("strided * strided", at, [&] { return Same(v * w, dv * dw, tol); });
          sw.Check("strided - contiguous", at, [&] { return Same(v - c, dv - c, tol); });
          sw.Check("contiguous - strided", at, [&] { return Same(c - v, c - dv, tol); });
          sw.Check("strided / strided", at, [&] { return Same(v / (abs(w) + 1), dv / (abs(dw) + 1), tol); });
          sw.Check("strided / contiguous", at,
                   [&] { return Same(v / (abs(c) + 1), dv / (abs(c) + 1), tol); });
          sw.Check("maximum", at, [&] { return Same(maximum(v, w), maximum(dv, dw), tol); });
          sw.Check("minimum", at, [&] { return Same(minimum(c, v), minimum(c, dv), tol); });
          sw.Check("pow(tensor, tensor)", at,
                   [&] { return Same(pow(abs(v) + 0.5, w), pow(abs(dv) + 0.5, dw), tol * 10); });
          sw.Check("strided + strided row (broadcast)", at, [&] { return Same(v + row, dv + drow, tol); });
          sw.Check("strided row * strided (broadcast)", at, [&] { return Same(row * v, drow * dv, tol); });
          sw.Check("lt (bool)", at, [&] { return Same(lt(v, w), lt(dv, dw), 0); });
          sw.Check("where", at, [&] { return Same(where(gt(v, w), v, w), where(gt(dv, dw), dv, dw), 0); });
          sw.Check("where(strided cond)", at, [&] {
            Tensor cond = gt(randn({v.numel() * 2}, d), 0).slice(0, 0, v.numel() * 2, 2).view(v.shape());
            return Same(where(cond, v, c), where(Dense(cond), dv, c), 0);
          });
          // in-place with a strided destination (every other element of a buffer) and a strided source
          sw.Check("add_ into strided dest", at, [&] {
            Shape wide = v.shape();
            wide.back() *= 2;
            Tensor dst = zeros(wide, d).slice(-1, 0, wide.back(), 2);
            dst.copy_(v);
            Tensor ref = dv.clone();
            dst.add_(w, 2);
            ref.add_(dw, 2);
            return Same(dst, ref, tol);
          });
          sw.Check("mul_ into transposed dest", at, [&] {
            Tensor dst = zeros(v.shape(), d);
            if (v.dim() == 2) dst = zeros({v.size(1), v.size(0)}, d).t();
            dst.copy_(v);
            Tensor ref = dv.clone();
            dst.mul_(w);
            ref.mul_(dw);
            return Same(dst, ref, tol);
          });
        }
      }
    }
  }
  sw.Report();
}

TEST(Views, ReductionsOnStridedOperandsMatchDense) {
  manual_seed(8);
  Sweep sw;
  for (Dtype d : {kFloat32, kFloat64}) {
    const double tol = d == kFloat32 ? 1e-4 : 1e-10;
    for (int64_t n = 1; n <= 33; ++n) {
      for (const Named& nv : StridedViews(n, n + 1, d)) {
        const Tensor v = nv.t, dv = Dense(v);
        const std::string at = Where(nv.name, n, d);
        auto red = [&](const std::string& op, const std::function<Tensor(const Tensor&)>& f, double t = -1) {
          sw.Check(op, at, [&] { return Same(f(v), f(dv), t < 0 ? tol : t); });
        };
        red("sum()", [](const Tensor& x) { return x.sum(); });
        red("sum({0})", [](const Tensor& x) { return sum(x, {0}); });
        red("sum({1})", [](const Tensor& x) { return sum(x, {1}); });
        red("sum({-1}, keepdim)", [](const Tensor& x) { return x.sum({-1}, true); });
        red("sum({0, 1})", [](const Tensor& x) { return sum(x, {0, 1}); });
        red("mean()", [](const Tensor& x) { return x.mean(); });
        red("mean({0})", [](const Tensor& x) { return mean(x, {0}); });
        red("mean({1}, keepdim)", [](const Tensor& x) { return mean(x, {1}, true); });
        red("amax({1})", [](const Tensor& x) { return amax(x, {1}); }, 0);
        red("amax({0})", [](const Tensor& x) { return amax(x, {0}); }, 0);
        red("amax()", [](const Tensor& x) { return amax(x); }, 0);
        red("amin({1}, keepdim)", [](const Tensor& x) { return amin(x, {1}, true); }, 0);
        red("max()", [](const Tensor& x) { return max(x); }, 0);
        red("min()", [](const Tensor& x) { return min(x); }, 0);
        red("max(dim 1) values", [](const Tensor& x) { return max(x, 1).first; }, 0);
        red("max(dim 0) indices", [](const Tensor& x) { return max(x, 0).second; }, 0);
        red("min(dim 1) indices", [](const Tensor& x) { return min(x, 1).second; }, 0);
        red("argmax()", [](const Tensor& x) { return argmax(x); }, 0);
        red("argmax(dim 1)", [](const Tensor& x) { return argmax(x, 1); }, 0);
        red("argmin(dim 0)", [](const Tensor& x) { return argmin(x, 0); }, 0);
        red("var({1})", [](const Tensor& x) { return var(x, {1}, 0.0); });
        red("var()", [](const Tensor& x) { return var(x); });
        red("logsumexp({1})", [](const Tensor& x) { return logsumexp(x, {1}); });
        red("logsumexp({0})", [](const Tensor& x) { return logsumexp(x, {0}); });
        red("softmax(1)", [](const Tensor& x) { return softmax(x, 1); });
        red("softmax(0)", [](const Tensor& x) { return softmax(x, 0); });
        red("log_softmax(1)", [](const Tensor& x) { return log_softmax(x, 1); });
        red("log_softmax(0)", [](const Tensor& x) { return log_softmax(x, 0); });
      }
      for (const Named& nv : StridedVectors(n, d)) {
        const Tensor v = nv.t, dv = Dense(v);
        const std::string at = Where(nv.name, n, d);
        sw.Check("1-d sum()", at, [&] { return Same(v.sum(), dv.sum(), tol); });
        sw.Check("1-d amax()", at, [&] { return Same(amax(v), amax(dv), 0); });
        sw.Check("1-d mean()", at, [&] { return Same(v.mean(), dv.mean(), tol); });
        sw.Check("1-d softmax(0)", at, [&] { return Same(softmax(v, 0), softmax(dv, 0), tol); });
      }
    }
  }
  sw.Report();
}

TEST(Views, MatmulOnStridedOperandsMatchesDense) {
  manual_seed(9);
  Sweep sw;
  for (Dtype d : {kFloat32, kFloat64}) {
    const double tol = d == kFloat32 ? 1e-4 : 1e-10;
    for (int64_t n = 1; n <= 33; ++n) {
      const int64_t m = n, k = n + 1, p = (n % 5) + n / 2 + 1;
      std::vector<Named> as = StridedViews(m, k, d);
      as.push_back({"contiguous", randn({m, k}, d)});
      std::vector<Named> bs = StridedViews(k, p, d);
      bs.push_back({"contiguous", randn({k, p}, d)});
      for (const Named& a : as) {
        const Tensor da = Dense(a.t);
        for (const Named& b : bs) {
          if (a.name == "contiguous" && b.name == "contiguous") continue;
          const Tensor db = Dense(b.t);
          const std::string at = Where(a.name + " @ " + b.name, n, d);
          sw.Check("mm", at, [&] { return Same(mm(a.t, b.t), mm(da, db), tol); });
          sw.Check("matmul", at, [&] { return Same(matmul(a.t, b.t), matmul(da, db), tol); });
        }
        // linear(x, W, b): W (p, k) and bias strided too
        const Tensor wt = randn({k, p}, d).t();  // (p, k), transposed layout
        const Tensor bias = randn({2 * p}, d).slice(0, 0, 2 * p, 2);
        const std::string at = Where(a.name, n, d);
        sw.Check("linear(x, W^T view, strided bias)", at,
                 [&] { return Same(linear(a.t, wt, bias), linear(da, Dense(wt), Dense(bias)), tol); });
        sw.Check("linear(x, W)", at, [&] {
          Tensor w = randn({p, k}, d);
          return Same(linear(a.t, w), linear(da, w), tol);
        });
        sw.Check("linear(dense x, W sliced)", at, [&] {
          Tensor w = randn({p, 2 * k}, d).slice(1, 0, 2 * k, 2);
          Tensor x = Dense(a.t);
          return Same(linear(x, w), linear(x, Dense(w)), tol);
        });
        sw.Check("matmul(matrix, strided vector)", at, [&] {
          Tensor vec = randn({3 * k}, d).slice(0, 2, 3 * k, 3);
          return Same(matmul(a.t, vec), matmul(da, Dense(vec)), tol);
        });
        sw.Check("matmul(strided vector, matrix)", at, [&] {
          Tensor vec = randn({m, 2}, d).select(1, 1);
          return Same(matmul(vec, a.t), matmul(Dense(vec), da), tol);
        });
      }
      const std::string at = Where("batched", n, d);
      sw.Check("batched matmul mT @ strided", at, [&] {
        Tensor x = randn({2, k, m}, d).mT();  // (2, m, k)
        Tensor y = randn({k, 2 * p}, d).slice(1, 0, 2 * p, 2);
        return Same(matmul(x, y), matmul(Dense(x), Dense(y)), tol);
      });
      sw.Check("batched matmul expanded batch", at, [&] {
        Tensor x = randn({1, m, k}, d).expand({3, m, k});
        Tensor y = randn({3, p, k}, d).mT();
        return Same(matmul(x, y), matmul(Dense(x), Dense(y)), tol);
      });
      sw.Check("1-d dot of strided vectors", at, [&] {
        Tensor x = randn({2 * n}, d).slice(0, 1, 2 * n, 2);
        Tensor y = diagonal(randn({n, n}, d));
        return Same(matmul(x, y), matmul(Dense(x), Dense(y)), tol);
      });
    }
  }
  sw.Report();
}

TEST(Views, ShapeAndIndexOpsOnStridedOperandsMatchDense) {
  manual_seed(10);
  Sweep sw;
  const Tensor idx = T({2, 0, 1, 0}, {4}, kInt64);
  for (Dtype d : {kFloat32, kFloat64}) {
    for (int64_t n = 1; n <= 33; n += 4) {
      for (const Named& nv : StridedViews(n + 2, n + 1, d)) {
        const Tensor v = nv.t, dv = Dense(v);
        const std::string at = Where(nv.name, n, d);
        auto op = [&](const std::string& name, const std::function<Tensor(const Tensor&)>& f) {
          sw.Check(name, at, [&] { return Same(f(v), f(dv), 0); });
        };
        op("cat dim 0", [](const Tensor& x) { return cat({x, x.slice(0, 1, 3)}, 0); });
        op("cat dim 1", [](const Tensor& x) { return cat({x, x}, 1); });
        op("stack dim 2", [](const Tensor& x) { return stack({x, x}, 2); });
        op("index_select dim 0", [&](const Tensor& x) { return index_select(x, 0, idx); });
        op("index_select dim 1", [&](const Tensor& x) { return index_select(x, 1, T({0, 0}, {2}, kInt64)); });
        op("gather dim 1", [&](const Tensor& x) { return gather(x, 1, zeros({x.size(0), 3}, kInt64)); });
        op("reshape(-1)", [](const Tensor& x) { return x.reshape({-1}); });
        op("flatten", [](const Tensor& x) { return x.flatten(); });
        op("permute then reshape",
           [](const Tensor& x) { return x.unsqueeze(0).permute({2, 0, 1}).reshape({-1}); });
        op("sum_to", [](const Tensor& x) { return sum_to(x, {1, x.size(1)}); });
        op("transpose+diagonal", [](const Tensor& x) { return diagonal(x.t(), 0); });
        op("unfold", [](const Tensor& x) { return unfold(x, 0, 2, 1); });
        op("expand 3-d", [](const Tensor& x) { return x.unsqueeze(0).expand({2, -1, -1}).contiguous(); });
      }
    }
  }
  sw.Report();
}

// ================================================================ gradients through views

TEST(Views, GradientsOfViewsByHand) {
  Tensor x = Iota({3, 4}).set_requires_grad(true);
  x.t()[1].sum().backward();  // column 1 of x
  EXPECT_TRUE(Near(x.grad(), {3, 4}, {0, 1, 0, 0, 0, 1, 0, 0, 0, 1, 0, 0}));
  Tensor c = T({1, 2, 3}, {3, 1}, kFloat64, true);
  c.expand({3, 4}).sum().backward();  // expand then sum: each element used 4 times
  EXPECT_TRUE(Near(c.grad(), {3, 1}, {4, 4, 4}));
  Tensor f = Iota({5}).set_requires_grad(true);
  unfold(f, 0, 3, 1).sum().backward();  // overlapping windows: counts 1, 2, 3, 2, 1
  EXPECT_TRUE(Near(f.grad(), {5}, {1, 2, 3, 2, 1}));
  Tensor g = Iota({3, 4}).set_requires_grad(true);
  (diagonal(g, 1) * T({1, 2, 3}, {3})).sum().backward();
  EXPECT_TRUE(Near(g.grad(), {3, 4}, {0, 1, 0, 0, 0, 0, 2, 0, 0, 0, 0, 3}));
  Tensor h = Iota({3, 4}).set_requires_grad(true);
  h.slice(1, 0, 4, 2).slice(0, 1, 3).sum().backward();
  EXPECT_TRUE(Near(h.grad(), {3, 4}, {0, 0, 0, 0, 1, 0, 1, 0, 1, 0, 1, 0}));
}

TEST(Views, GradcheckThroughEveryViewOp) {
  manual_seed(41);
  std::vector<GradCase> cases = {
      {"select(0, 1)", [](In x) { return x[0].select(0, 1); }, {Leaf({3, 4})}},
      {"select(1, -1)^2",
       [](In x) {
         auto s = select(x[0], 1, -1);
         return s * s;
       },
       {Leaf({3, 4})}},
      {"x[1][2] (0-d) * x", [](In x) { return x[0][1][2] * x[0]; }, {Leaf({3, 4})}},
      {"slice(1, 1, 4, 2)", [](In x) { return x[0].slice(1, 1, 4, 2); }, {Leaf({3, 4})}},
      {"x[:, ::2]^2",
       [](In x) {
         auto s = x[0].slice(1, 0, 5, 2);
         return s * s;
       },
       {Leaf({3, 5})}},
      {"narrow", [](In x) { return narrow(x[0], 1, 1, 2); }, {Leaf({3, 4})}},
      {"x.narrow()^3", [](In x) { return x[0].narrow(0, 1, 2).pow(3); }, {Leaf({3, 4})}},
      {"transpose(0, 2)", [](In x) { return transpose(x[0], 0, 2); }, {Leaf({2, 3, 4})}},
      {"t() * y", [](In x) { return x[0].t() * x[1]; }, {Leaf({3, 4}), Leaf({4, 3})}},
      {"mT()^2",
       [](In x) {
         auto m = x[0].mT();
         return m * m;
       },
       {Leaf({2, 3, 4})}},
      {"permute^2",
       [](In x) {
         auto p = x[0].permute({2, 0, 1});
         return p * p;
       },
       {Leaf({2, 3, 4})}},
      {"expand then sum", [](In x) { return x[0].expand({2, 3, 4}).sum({0, 2}); }, {Leaf({3, 1})}},
      {"expand * y", [](In x) { return x[0].expand({3, 4}) * x[1]; }, {Leaf({4}), Leaf({3, 4})}},
      {"expand^2 then sum(1)",
       [](In x) {
         auto e = x[0].expand({3, 4});
         return (e * e).sum({1});
       },
       {Leaf({3, 1})}},
      {"squeeze", [](In x) { return x[0].squeeze() * 2; }, {Leaf({1, 3, 1, 2})}},
      {"unsqueeze then expand", [](In x) { return x[0].unsqueeze(1).expand({3, 2, 4}); }, {Leaf({3, 4})}},
      {"view", [](In x) { return x[0].view({2, 6}); }, {Leaf({3, 4})}},
      {"view of a slice", [](In x) { return x[0].slice(1, 1, 3).view({3, 2, 1}); }, {Leaf({3, 4})}},
      {"x[:, ::2].view(6)^2",
       [](In x) {
         auto v = x[0].slice(1, 0, 4, 2).view({6});
         return v * v;
       },
       {Leaf({3, 4})}},
      {"reshape of transposed (copy)", [](In x) { return x[0].t().reshape({12}); }, {Leaf({3, 4})}},
      {"reshape of transposed^2",
       [](In x) {
         auto r = x[0].t().reshape({2, 6});
         return r * r;
       },
       {Leaf({3, 4})}},
      {"flatten of transposed", [](In x) { return x[0].transpose(0, 1).flatten(); }, {Leaf({2, 3, 2})}},
      {"contiguous of transposed^2",
       [](In x) {
         auto c = x[0].t().contiguous();
         return c * c;
       },
       {Leaf({3, 4})}},
      {"diagonal", [](In x) { return diagonal(x[0]); }, {Leaf({3, 4})}},
      {"diagonal(1)^2",
       [](In x) {
         auto g = diagonal(x[0], 1);
         return g * g;
       },
       {Leaf({3, 4})}},
      {"diagonal(-1)", [](In x) { return diagonal(x[0], -1); }, {Leaf({3, 4})}},
      {"diagonal 3-d (1, 2, 0)", [](In x) { return diagonal(x[0], 1, 2, 0); }, {Leaf({2, 3, 4})}},
      {"diagonal of transposed * y",
       [](In x) { return x[0].t().diagonal() * x[1]; },
       {Leaf({3, 4}), Leaf({3})}},
      {"unfold overlapping (3, 1)", [](In x) { return unfold(x[0], 0, 3, 1); }, {Leaf({6})}},
      {"unfold overlapping^2",
       [](In x) {
         auto u = unfold(x[0], 0, 3, 2);
         return u * u;
       },
       {Leaf({7})}},
      {"unfold 2-d dim 1", [](In x) { return x[0].unfold(1, 2, 1).pow(2); }, {Leaf({3, 5})}},
      {"unfold of transposed", [](In x) { return unfold(x[0].t(), 0, 2, 1) * 3; }, {Leaf({3, 4})}},
      {"split",
       [](In x) {
         auto p = split(x[0], 2);
         return p[0] * p[1] + p[2].sum();
       },
       {Leaf({5})}},
      {"chunk dim 1",
       [](In x) {
         auto c = chunk(x[0], 2, 1);
         return c[0] * c[1];
       },
       {Leaf({3, 4})}},
      {"x[0] * x[2] (operator[])", [](In x) { return x[0][0] * x[0][2]; }, {Leaf({3, 4})}},
      // views of views
      {"t()[1:3][:, 2]", [](In x) { return x[0].t().slice(0, 1, 3).select(1, 2); }, {Leaf({3, 4})}},
      {"x[:, ::2].t()^2",
       [](In x) {
         auto v = x[0].slice(1, 0, 4, 2).t();
         return v * v;
       },
       {Leaf({3, 4})}},
      {"view(2, 6)[1][::2]", [](In x) { return x[0].view({2, 6})[1].slice(0, 0, 6, 2) * 2; }, {Leaf({3, 4})}},
      {"expand then select",
       [](In x) { return x[0].expand({3, 4}).select(0, 1) * x[0].select(1, 0).sum(); },
       {Leaf({3, 1})}},
      {"diagonal of view of slice",
       [](In x) { return diagonal(x[0].view({2, 6}).slice(1, 1, 6)); },
       {Leaf({3, 4})}},
      {"narrow.unsqueeze.expand^2",
       [](In x) {
         auto e = x[0].narrow(1, 1, 3).unsqueeze(0).expand({2, 3, 3});
         return e * e;
       },
       {Leaf({3, 4})}},
      {"permute then diagonal then unfold",
       [](In x) { return unfold(diagonal(x[0].permute({1, 2, 0}), 0, 0, 1), 1, 2, 1); },
       {Leaf({2, 4, 4})}},
      {"same storage read twice", [](In x) { return x[0].t() * x[0].view({4, 3}); }, {Leaf({3, 4})}},
  };
  RunGradCases(cases);
}

TEST(Views, GradcheckOpsOnStridedOperands) {
  manual_seed(42);
  std::vector<GradCase> cases = {
      {"mm(a.t(), b)", [](In x) { return mm(x[0].t(), x[1]); }, {Leaf({3, 2}), Leaf({3, 4})}},
      {"mm(a, b.t())", [](In x) { return mm(x[0], x[1].t()); }, {Leaf({2, 3}), Leaf({4, 3})}},
      {"matmul(a[:, ::2], b)",
       [](In x) { return matmul(x[0].slice(1, 0, 6, 2), x[1]); },
       {Leaf({2, 6}), Leaf({3, 2})}},
      {"matmul(expanded, b)",
       [](In x) { return matmul(x[0].expand({3, 4}), x[1]); },
       {Leaf({4}), Leaf({4, 2})}},
      {"batched matmul mT", [](In x) { return matmul(x[0].mT(), x[1]); }, {Leaf({2, 3, 2}), Leaf({3, 2})}},
      {"linear(x, W.t(), b[::2])",
       [](In x) { return linear(x[0], x[1].t(), x[2].slice(0, 0, 6, 2)); },
       {Leaf({2, 4}), Leaf({4, 3}), Leaf({6})}},
      {"linear(x.t(), W)", [](In x) { return linear(x[0].t(), x[1]); }, {Leaf({4, 2}), Leaf({3, 4})}},
      {"exp(x.t()) * y", [](In x) { return exp(x[0].t()) * x[1]; }, {Leaf({3, 4}), Leaf({4, 3})}},
      {"tanh(x[:, ::2])", [](In x) { return tanh(x[0].slice(1, 0, 4, 2)); }, {Leaf({3, 4})}},
      {"sum(x.t(), {0})", [](In x) { return sum(x[0].t(), {0}); }, {Leaf({3, 4})}},
      {"mean(x[:, ::2], {1})^2",
       [](In x) {
         auto m = mean(x[0].slice(1, 0, 4, 2), {1});
         return m * m;
       },
       {Leaf({3, 4})}},
      {"amax(x.t(), {1})", [](In x) { return amax(x[0].t(), {1}); }, {Leaf({3, 4})}},
      {"softmax(x.t(), 1)", [](In x) { return softmax(x[0].t(), 1); }, {Leaf({3, 4})}},
      {"log_softmax(diagonal-window)",
       [](In x) { return log_softmax(unfold(diagonal(x[0]), 0, 2, 1), 1); },
       {Leaf({4, 4})}},
      {"sigmoid(expanded) * x",
       [](In x) { return sigmoid(x[0].expand({3, 4})) * x[1]; },
       {Leaf({1, 4}), Leaf({3, 4})}},
      {"cat of views", [](In x) { return cat({x[0].t(), x[0].slice(1, 0, 3, 2).t()}, 0); }, {Leaf({3, 3})}},
  };
  RunGradCases(cases);
}

// ================================================================ versions and in-place rules

TEST(Views, VersionCounterIsSharedByViews) {
  Tensor a = zeros({3, 3});
  Tensor v = a[1];
  Tensor t = a.t();
  const uint64_t v0 = a.version();
  EXPECT_EQ(v.version(), v0);
  v.fill_(1);
  EXPECT_GT(a.version(), v0);
  EXPECT_EQ(v.version(), a.version());
  EXPECT_EQ(t.version(), a.version());
  const uint64_t v1 = a.version();
  a.add_(1);  // the base's write is seen by its views
  EXPECT_GT(v.version(), v1);
  EXPECT_EQ(diagonal(a).version(), a.version());
}

TEST(Views, SavedTensorModifiedThroughViewMakesBackwardThrow) {
  {  // a saved input (no grad) written through a select
    Tensor x = T({1, 2, 3}, {3}, kFloat64, true);
    Tensor w = T({4, 5, 6}, {3});
    Tensor y = x * w;  // saves w
    w[0].fill_(0);
    EXPECT_THROW(y.sum().backward(), std::runtime_error);
  }
  {  // a saved output written through a view under no-grad
    Tensor x = T({1, 2, 3}, {3}, kFloat64, true);
    Tensor h = exp(x);  // saves h
    {
      NoGradGuard g;
      h[1].mul_(2);
    }
    EXPECT_THROW(h.sum().backward(), std::runtime_error);
  }
  {  // a saved view; its base modified
    Tensor x = T({1, 2, 3, 4}, {2, 2}, kFloat64, true);
    Tensor h = exp(x);
    Tensor v = h.t();
    Tensor z = v * v;  // saves the view v
    {
      NoGradGuard g;
      h.add_(1);
    }
    EXPECT_THROW(z.sum().backward(), std::runtime_error);
  }
  {  // a saved base; one of its elements modified through a strided view
    Tensor x = T({1, 2, 3, 4}, {2, 2}, kFloat64, true);
    Tensor w = T({1, 1, 1, 1}, {2, 2});
    Tensor y = mm(x, w);
    diagonal(w).zero_();
    EXPECT_THROW(y.sum().backward(), std::runtime_error);
  }
  {  // unmodified: backward works
    Tensor x = T({1, 2, 3}, {3}, kFloat64, true);
    Tensor w = T({4, 5, 6}, {3});
    Tensor y = x * w.slice(0, 0, 3);
    y.sum().backward();
    EXPECT_TRUE(Near(x.grad(), {3}, {4, 5, 6}));
  }
}

TEST(Views, InplaceOnViewOfLeafRequiringGradThrows) {
  Tensor a = zeros({3, 3}, kFloat64).set_requires_grad(true);
  ASSERT_TRUE(is_grad_enabled());
  EXPECT_THROW(a[0].fill_(1), std::runtime_error);
  EXPECT_THROW(a.t().add_(1), std::runtime_error);
  EXPECT_THROW(a.select(1, 1).zero_(), std::runtime_error);
  EXPECT_THROW(diagonal(a).copy_(ones({3}, kFloat64)), std::runtime_error);
  EXPECT_THROW(a.slice(0, 0, 3, 2).mul_(2), std::runtime_error);
  EXPECT_THROW(a.view({9}).sub_(1), std::runtime_error);
  EXPECT_TRUE(Near(a, {3, 3}, std::vector<double>(9, 0.0)));
  EXPECT_EQ(a.sum().item(), 0.0);
}

TEST(Views, InplaceOnViewOfLeafUnderNoGradWorks) {
  Tensor a = zeros({3, 3}, kFloat64).set_requires_grad(true);
  {
    NoGradGuard g;
    a[0].fill_(1);
    a.select(1, 2).add_(T({1, 2, 3}, {3}));
    diagonal(a).mul_(10);
  }
  EXPECT_TRUE(Near(a, {3, 3}, {10, 1, 2, 0, 0, 2, 0, 0, 30}));
  EXPECT_TRUE(a.is_leaf());
  EXPECT_TRUE(a.requires_grad());
  (a * a).sum().backward();  // still a working leaf
  EXPECT_TRUE(Near(a.grad(), {3, 3}, {20, 2, 4, 0, 0, 4, 0, 0, 60}));
}

TEST(Views, InplaceThroughExpandedTensorThrows) {
  auto expanded = [] { return zeros({3, 1}, kFloat64).expand({3, 4}); };
  std::string msg = Thrown<std::runtime_error>([&] { expanded().add_(1); });
  EXPECT_TRUE(
      Contains(msg, "more than one element of the written-to tensor refers to a single memory location"));
  EXPECT_THROW(expanded().add_(ones({3, 4}, kFloat64)), std::runtime_error);
  EXPECT_THROW(expanded().sub_(1), std::runtime_error);
  EXPECT_THROW(expanded().mul_(2), std::runtime_error);
  EXPECT_THROW(expanded().div_(2), std::runtime_error);
  EXPECT_THROW(expanded().copy_(ones({3, 4}, kFloat64)), std::runtime_error);
  EXPECT_THROW(expanded().uniform_(), std::runtime_error);
  EXPECT_THROW(expanded().normal_(), std::runtime_error);
  EXPECT_THROW(scalar_tensor(0.0, kFloat64).expand({3}).add_(1), std::runtime_error);
  EXPECT_THROW(expanded().select(0, 1).add_(1), std::runtime_error);  // (4,) with stride 0
  // the base is untouched after the refused writes
  Tensor base = zeros({3, 1}, kFloat64);
  EXPECT_THROW(base.expand({3, 4}).add_(1), std::runtime_error);
  EXPECT_TRUE(Near(base, {3, 1}, {0, 0, 0}));
  // torch allows these: a size-1 expand (no stride-0 dim of size > 1), and fill_/zero_ (every
  // element gets the same value, so the shared location is well defined)
  Tensor b1 = zeros({3, 1}, kFloat64);
  b1.expand({3, 1}).add_(1);
  EXPECT_TRUE(Near(b1, {3, 1}, {1, 1, 1}));
  Tensor b2 = zeros({3, 1}, kFloat64);
  EXPECT_NO_THROW(b2.expand({3, 4}).fill_(2));
  EXPECT_TRUE(Near(b2, {3, 1}, {2, 2, 2}));
  EXPECT_NO_THROW(b2.expand({3, 4}).zero_());
  EXPECT_TRUE(Near(b2, {3, 1}, {0, 0, 0}));
}

// ================================================================ 0-d and empty views

TEST(Views, SelectDownToZeroDim) {
  Tensor x = Iota({3, 4});
  Tensor s = x[1][2];
  EXPECT_TRUE(Layout(s, {}, {}, 6, true, x));
  EXPECT_EQ(s.dim(), 0);
  EXPECT_EQ(s.numel(), 1);
  EXPECT_EQ(s.item(), 6.0);
  EXPECT_EQ(s.at(0), 6.0);
  EXPECT_EQ(repr(s), "tensor(6., dtype=chainrule.float64)");
  s.fill_(100);
  EXPECT_EQ(x.at({1, 2}), 100.0);
  Tensor f = Iota({5});
  EXPECT_TRUE(Layout(f[3], {}, {}, 3, true, f));
  EXPECT_TRUE(Layout(select(f, 0, -1), {}, {}, 4, true, f));
  f[3].add_(T({10}, {}));  // 0-d + 0-d through a view
  EXPECT_TRUE(Near(f, {5}, {0, 1, 2, 13, 4}));
  EXPECT_EQ((f[1] * f[3]).item(), 13.0);
  EXPECT_TRUE(Layout(f[2].unsqueeze(0), {1}, {1}, 2, true, f));
  EXPECT_TRUE(Layout(f[2].expand({3}), {3}, {0}, 2, false, f));
}

TEST(Views, EmptySlices) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(Layout(x.slice(0, 2, 2), {0, 4}, {4, 1}, 8, true, x));
  EXPECT_TRUE(Layout(x.slice(0, 3, 3), {0, 4}, {4, 1}, 12, true, x));
  EXPECT_TRUE(Layout(x.slice(0, 5, 10), {0, 4}, {4, 1}, 12, true, x));
  EXPECT_TRUE(Layout(x.slice(1, 2, 2), {3, 0}, {4, 1}, 2, true, x));
  EXPECT_TRUE(Layout(x.slice(1, 3, 1), {3, 0}, {4, 1}, 3, true, x));
  EXPECT_TRUE(Layout(x.narrow(1, 4, 0), {3, 0}, {4, 1}, 4, true, x));
  Tensor e = x.slice(0, 2, 2);
  EXPECT_EQ(e.numel(), 0);
  EXPECT_TRUE(e.to_vector().empty());
  EXPECT_EQ(e.sum().item(), 0.0);
  EXPECT_TRUE(Near(sum(e, {0}), {4}, {0, 0, 0, 0}));
  EXPECT_TRUE(Near(e.contiguous(), {0, 4}, {}));
  EXPECT_TRUE(Near(e.t(), {4, 0}, {}));
  EXPECT_TRUE(Near(e + 1, {0, 4}, {}));
  e.fill_(5);
  e.add_(1);
  x.slice(1, 3, 1).zero_();
  EXPECT_TRUE(Near(x, {3, 4}, Iota({12}).to_vector()));  // nothing written
  EXPECT_TRUE(Near(e.reshape({0, 2, 2}), {0, 2, 2}, {}));
  EXPECT_TRUE(Near(e.view({-1, 8}), {0, 8}, {}));
}

TEST(Views, EmptyDiagonalsHaveTorchsOffset) {
  Tensor x = Iota({3, 4});
  // torch leaves the offset at 0 when the diagonal is empty
  EXPECT_TRUE(Layout(diagonal(x, 4), {0}, {5}, 0, true, x));
  EXPECT_TRUE(Layout(diagonal(x, -3), {0}, {5}, 0, true, x));
}

// ================================================================ logical order

TEST(Views, ToVectorAtAndReprUseLogicalOrder) {
  Tensor x = T({1, 2, 3, 4}, {2, 2}, kFloat32);
  Tensor t = x.t();
  EXPECT_EQ(t.to_vector(), (std::vector<double>{1, 3, 2, 4}));
  EXPECT_EQ(t.at(1), 3);
  EXPECT_EQ(t.at({0, 1}), 3);
  EXPECT_EQ(t.at({1, 0}), 2);
  EXPECT_EQ(repr(t), "tensor([[1., 3.],\n        [2., 4.]])");
  std::ostringstream os;
  os << t;
  EXPECT_EQ(os.str(), repr(t));
  EXPECT_EQ(repr(T({1.5, 2, 3, 4}, {2, 2}, kFloat32).t()),
            "tensor([[1.5000, 3.0000],\n        [2.0000, 4.0000]])");
  Tensor y = Iota({3, 4});
  EXPECT_EQ(repr(y.t()),
            "tensor([[ 0.,  4.,  8.],\n        [ 1.,  5.,  9.],\n        [ 2.,  6., 10.],\n"
            "        [ 3.,  7., 11.]], dtype=chainrule.float64)");
  EXPECT_EQ(repr(diagonal(y, 1)), "tensor([ 1.,  6., 11.], dtype=chainrule.float64)");
  EXPECT_EQ(repr(y.select(1, 1)), "tensor([1., 5., 9.], dtype=chainrule.float64)");
  EXPECT_EQ(repr(Iota({2, 1}, kFloat32).expand({2, 3})), "tensor([[0., 0., 0.],\n        [1., 1., 1.]])");
  EXPECT_EQ(repr(unfold(Iota({4}, kFloat32), 0, 2, 1)),
            "tensor([[0., 1.],\n        [1., 2.],\n        [2., 3.]])");
  Tensor z = Iota({2, 3, 4});
  Tensor p = z.permute({2, 0, 1});
  for (int64_t i = 0; i < 4; ++i)
    for (int64_t j = 0; j < 2; ++j)
      for (int64_t k = 0; k < 3; ++k) {
        EXPECT_EQ(p.at({i, j, k}), z.at({j, k, i}));
        EXPECT_EQ(p.at(i * 6 + j * 3 + k), static_cast<double>(j * 12 + k * 4 + i));
      }
  EXPECT_EQ(z.slice(2, 1, 4, 2).to_vector(),
            (std::vector<double>{1, 3, 5, 7, 9, 11, 13, 15, 17, 19, 21, 23}));
  Tensor s = z.select(2, 3);  // raw_data() points at element (0, ..., 0) of the view
  EXPECT_EQ(s.raw_data(), static_cast<const void*>(z.data<double>() + 3));
}

TEST(Views, Int64AndBoolViews) {
  Tensor i = arange(12).view({3, 4});
  EXPECT_EQ(i.dtype(), kInt64);
  EXPECT_TRUE(Layout(i.t(), {4, 3}, {1, 4}, 0, false, i));
  EXPECT_EQ(i.t().to_vector(), (std::vector<double>{0, 4, 8, 1, 5, 9, 2, 6, 10, 3, 7, 11}));
  EXPECT_EQ(repr(i.select(1, 1)), "tensor([1, 5, 9])");
  i.select(1, 0).fill_(-1);
  EXPECT_EQ(i.to_vector(), (std::vector<double>{-1, 1, 2, 3, -1, 5, 6, 7, -1, 9, 10, 11}));
  Tensor b = gt(Iota({3, 4}), 5.0);
  EXPECT_EQ(b.dtype(), kBool);
  EXPECT_EQ(diagonal(b).to_vector(), (std::vector<double>{0, 0, 1}));
  EXPECT_EQ(b.t().contiguous().to_vector(), (std::vector<double>{0, 0, 1, 0, 0, 1, 0, 1, 1, 0, 1, 1}));
}

// ================================================================ scale

TEST(Views, MillionElementStridedCopy) {
  const int64_t rows = 1000, cols = 2000;
  Tensor base = arange(0.0, static_cast<double>(rows * cols), 1.0, kFloat64).view({rows, cols});
  Tensor odd = base.slice(1, 1, cols, 2);  // (1000, 1000): strides (2000, 2), offset 1
  ASSERT_TRUE(Layout(odd, {rows, cols / 2}, {cols, 2}, 1, false, base));
  Tensor c = odd.contiguous();
  ASSERT_TRUE(Layout(c, {rows, cols / 2}, {cols / 2, 1}, 0, true));
  const double* p = c.data<double>();
  int64_t bad = 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols / 2; ++j)
      if (p[i * (cols / 2) + j] != static_cast<double>(i * cols + 2 * j + 1)) ++bad;
  EXPECT_EQ(bad, 0);

  Tensor tr = base.view({cols, rows}).t().contiguous();  // (1000, 2000), a full transpose copy
  const double* q = tr.data<double>();
  bad = 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j)
      if (q[i * cols + j] != static_cast<double>(j * rows + i)) ++bad;
  EXPECT_EQ(bad, 0);

  Tensor dst = zeros({rows, cols}, kFloat32);
  dst.slice(1, 0, cols, 2).copy_(odd);  // strided float64 source into strided float32 destination
  const float* r = dst.data<float>();
  bad = 0;
  for (int64_t i = 0; i < rows; ++i)
    for (int64_t j = 0; j < cols; ++j) {
      const float want = j % 2 == 0 ? static_cast<float>(i * cols + j + 1) : 0.0f;
      if (r[i * cols + j] != want) ++bad;
    }
  EXPECT_EQ(bad, 0);
  EXPECT_DOUBLE_EQ(odd.sum().item(), 1e6 * 1e6);  // sum of the odd numbers below 2e6
}

// ================================================================ errors

TEST(Views, ErrorMessagesNameTheOp) {
  Tensor x = Iota({3, 4});
  EXPECT_TRUE(StartsWith(AnyThrown([&] { narrow(x, 1, 2, 3); }), "narrow:"));
  EXPECT_TRUE(StartsWith(AnyThrown([&] { diagonal(x, 0, 1, 1); }), "diagonal:"));
  EXPECT_TRUE(StartsWith(AnyThrown([&] { diagonal(x, 0, 0, 2); }), "diagonal:"));
  EXPECT_TRUE(StartsWith(AnyThrown([&] { unfold(x, 1, 5, 1); }), "unfold:"));
  EXPECT_TRUE(StartsWith(AnyThrown([&] { unfold(x, 1, 2, 0); }), "unfold:"));
  EXPECT_TRUE(StartsWith(AnyThrown([&] { x.expand({3, 5}); }), "expand:"));
  EXPECT_THROW(x.select(0, 3), std::out_of_range);
  EXPECT_THROW(x.stride(2), std::out_of_range);
  EXPECT_THROW(x.t().stride(-3), std::out_of_range);
}

}  // namespace
