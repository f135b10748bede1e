// Mini-batching in C++ (nn/README.md): randperm(n, seed + epoch) and index_select, the order
// cr.data.DataLoader(..., shuffle=True, seed=seed) visits in Python.
#include <gtest/gtest.h>

#include <algorithm>
#include <vector>

#include "core/ops.h"

namespace {
using namespace chainrule;

// The same numbers are pinned in tests/python/test_data.py: both languages shuffle alike.
TEST(Data, SeededOrderIsPinnedAcrossLanguages) {
  EXPECT_EQ(randperm(10, 3).to_vector(), (std::vector<double>{0, 9, 7, 6, 8, 3, 2, 4, 1, 5}));
}

// nn/README.md's loop: rows of X travel with their labels, every sample once, a partial last batch.
TEST(Data, ReadmeLoopBatchesEverySampleOnce) {
  const int64_t n = 7, B = 3, seed = 5, e = 1;
  Tensor X = arange(0, 2.0 * n, 1.0).reshape({n, 2}), y = arange(n);
  std::vector<double> seen;
  std::vector<int64_t> sizes;
  Tensor order = randperm(n, seed + e);
  for (int64_t i = 0; i < n; i += B) {
    Tensor idx = slice(order, 0, i, std::min(i + B, n));
    Tensor xb = index_select(X, 0, idx), yb = index_select(y, 0, idx);
    std::vector<double> xs = xb.to_vector(), ys = yb.to_vector();
    for (size_t k = 0; k < ys.size(); ++k) EXPECT_EQ(xs[2 * k], 2 * ys[k]);
    seen.insert(seen.end(), ys.begin(), ys.end());
    sizes.push_back(yb.size(0));
  }
  EXPECT_EQ(seen, order.to_vector());
  EXPECT_EQ(sizes, (std::vector<int64_t>{3, 3, 1}));
  std::sort(seen.begin(), seen.end());
  EXPECT_EQ(seen, arange(n).to_vector());
}

}  // namespace
