// TensorDataset and DataLoader: sample access, batching, drop_last, seeded shuffling that matches
// Python's cr.data.DataLoader, iteration styles, and error messages.
#include <gtest/gtest.h>

#include <algorithm>
#include <functional>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/ops.h"
#include "nn/data.h"

namespace cr = chainrule;
using cr::Tensor;
using cr::data::DataLoader;
using cr::data::TensorDataset;

namespace {

// X row i = (2i, 2i+1) as float32, y[i] = i as int64: a batch's rows name the samples in it.
TensorDataset numbered(int64_t n) {
  Tensor X = cr::arange(0, 2.0 * n, 1.0).reshape({n, 2});
  Tensor y = cr::arange(n);
  return TensorDataset({X, y});
}

std::vector<int64_t> labels(const Tensor& y) {
  std::vector<int64_t> out;
  for (double v : y.to_vector()) out.push_back(static_cast<int64_t>(v));
  return out;
}

// Every batch's labels, in order, for one pass with range-for.
std::vector<std::vector<int64_t>> one_pass(DataLoader& loader) {
  std::vector<std::vector<int64_t>> out;
  for (const auto& batch : loader) {
    EXPECT_EQ(batch.size(), 2u);
    // X rows must belong to the same samples as y
    std::vector<int64_t> ys = labels(batch[1]);
    std::vector<double> xs = batch[0].to_vector();
    for (size_t i = 0; i < ys.size(); ++i) {
      EXPECT_EQ(xs[2 * i], 2.0 * ys[i]);
      EXPECT_EQ(xs[2 * i + 1], 2.0 * ys[i] + 1);
    }
    out.push_back(ys);
  }
  return out;
}

std::string message_of(const std::function<void()>& f) {
  try {
    f();
  } catch (const std::exception& e) {
    return e.what();
  }
  return "";
}

}  // namespace

TEST(TensorDataset, SizeAndSample) {
  TensorDataset ds = numbered(5);
  EXPECT_EQ(ds.size(), 5);
  std::vector<Tensor> s = ds.get(3);
  ASSERT_EQ(s.size(), 2u);
  EXPECT_EQ(s[0].shape(), (cr::Shape{2}));
  EXPECT_EQ(s[0].to_vector(), (std::vector<double>{6, 7}));
  EXPECT_EQ(s[1].dim(), 0);
  EXPECT_EQ(s[1].item(), 3);
  EXPECT_EQ(s[1].dtype(), cr::kInt64);
  EXPECT_EQ(ds.get(-1)[1].item(), 4);
}

TEST(TensorDataset, BatchByIndices) {
  TensorDataset ds = numbered(6);
  std::vector<Tensor> b = ds.get_batch(cr::tensor({4, 0, 2}, cr::kInt64));
  EXPECT_EQ(b[0].shape(), (cr::Shape{3, 2}));
  EXPECT_EQ(labels(b[1]), (std::vector<int64_t>{4, 0, 2}));
  EXPECT_EQ(b[0].to_vector(), (std::vector<double>{8, 9, 0, 1, 4, 5}));
}

TEST(TensorDataset, Errors) {
  EXPECT_THROW(TensorDataset({}), std::invalid_argument);
  std::string msg = message_of([] { TensorDataset({cr::zeros({4, 2}), cr::zeros({3})}); });
  EXPECT_NE(msg.find("same first dimension"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(4, 2)"), std::string::npos) << msg;
  EXPECT_NE(msg.find("(3,)"), std::string::npos) << msg;
  EXPECT_THROW(TensorDataset({cr::scalar_tensor(1.0)}), std::invalid_argument);
  EXPECT_THROW(numbered(3).get(3), std::out_of_range);
  EXPECT_THROW(numbered(3).get(-4), std::out_of_range);
}

TEST(DataLoader, SequentialBatchesKeepOrderAndLastPartialBatch) {
  DataLoader loader(numbered(7), 3);
  EXPECT_EQ(loader.size(), 3);
  auto pass = one_pass(loader);
  EXPECT_EQ(pass, (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}, {6}}));
}

TEST(DataLoader, DropLastDropsThePartialBatch) {
  DataLoader loader(numbered(7), 3, false, /*drop_last=*/true);
  EXPECT_EQ(loader.size(), 2);
  auto pass = one_pass(loader);
  EXPECT_EQ(pass, (std::vector<std::vector<int64_t>>{{0, 1, 2}, {3, 4, 5}}));
  DataLoader exact(numbered(6), 3, false, true);
  EXPECT_EQ(exact.size(), 2);
  DataLoader too_small(numbered(2), 3, false, true);
  EXPECT_EQ(too_small.size(), 0);
  EXPECT_TRUE(one_pass(too_small).empty());
}

TEST(DataLoader, SeededShuffleFollowsRandpermOfSeedPlusEpoch) {
  const int64_t n = 10, seed = 3;
  DataLoader loader(numbered(n), 4, /*shuffle=*/true, false, seed);
  for (int64_t epoch = 0; epoch < 3; ++epoch) {
    EXPECT_EQ(loader.epoch(), epoch);
    std::vector<int64_t> expected = labels(cr::randperm(n, seed + epoch)), got;
    auto pass = one_pass(loader);
    ASSERT_EQ(pass.size(), 3u);
    EXPECT_EQ(pass[2].size(), 2u);
    for (const auto& b : pass) got.insert(got.end(), b.begin(), b.end());
    EXPECT_EQ(got, expected) << "epoch " << epoch;
  }
}

// The same numbers are pinned in tests/python/test_data.py: the two loaders agree.
TEST(DataLoader, SeededOrderIsPinnedAcrossLanguages) {
  DataLoader loader(numbered(10), 10, true, false, /*seed=*/3);
  auto pass = one_pass(loader);
  ASSERT_EQ(pass.size(), 1u);
  EXPECT_EQ(pass[0], (std::vector<int64_t>{0, 9, 7, 6, 8, 3, 2, 4, 1, 5}));
}

TEST(DataLoader, ShuffleVisitsEverySampleOnceAndEpochsDiffer) {
  DataLoader loader(numbered(50), 8, true, false, /*seed=*/0);
  std::vector<int64_t> first, second;
  for (const auto& b : one_pass(loader)) first.insert(first.end(), b.begin(), b.end());
  for (const auto& b : one_pass(loader)) second.insert(second.end(), b.begin(), b.end());
  EXPECT_NE(first, second);
  std::vector<int64_t> sorted = first;
  std::sort(sorted.begin(), sorted.end());
  for (int64_t i = 0; i < 50; ++i) EXPECT_EQ(sorted[i], i);
}

TEST(DataLoader, UnseededShuffleUsesTheGlobalGenerator) {
  auto order = [] {
    DataLoader loader(numbered(20), 20, true);
    return one_pass(loader)[0];
  };
  cr::manual_seed(11);
  auto a = order();
  cr::manual_seed(11);
  auto b = order();
  cr::manual_seed(11);
  EXPECT_EQ(a, b);
  EXPECT_EQ(a, labels(cr::randperm(20)));
}

TEST(DataLoader, NextApiMatchesRangeForAndStartsTheNextEpoch) {
  DataLoader a(numbered(9), 4, true, false, 5), b(numbered(9), 4, true, false, 5);
  for (int epoch = 0; epoch < 2; ++epoch) {
    auto expected = one_pass(a);
    std::vector<std::vector<int64_t>> got;
    while (auto batch = b.next()) got.push_back(labels((*batch)[1]));
    EXPECT_EQ(got, expected) << "epoch " << epoch;
  }
  EXPECT_EQ(b.epoch(), 2);
}

TEST(DataLoader, NestedLoopsKeepTheirOwnOrder) {
  DataLoader loader(numbered(6), 3, true, false, 1);
  std::vector<int64_t> outer;
  for (const auto& batch : loader) {
    std::vector<int64_t> y = labels(batch[1]);
    outer.insert(outer.end(), y.begin(), y.end());
    for (const auto& inner : loader) (void)inner;  // starts another epoch; must not disturb outer
  }
  EXPECT_EQ(outer, labels(cr::randperm(6, 1)));
}

TEST(DataLoader, SetEpochResumes) {
  DataLoader loader(numbered(8), 8, true, false, 2);
  loader.set_epoch(4);
  EXPECT_EQ(one_pass(loader)[0], labels(cr::randperm(8, 6)));
  EXPECT_THROW(loader.set_epoch(-1), std::invalid_argument);
}

TEST(DataLoader, Errors) {
  std::string msg = message_of([] { DataLoader(numbered(3), 0); });
  EXPECT_EQ(msg, "DataLoader: expected batch_size >= 1, got 0");
}

TEST(DataLoader, EmptyDataset) {
  TensorDataset empty({cr::zeros({0, 3}), cr::zeros({0}, cr::kInt64)});
  DataLoader loader(empty, 4, true, false, 0);
  EXPECT_EQ(loader.size(), 0);
  EXPECT_TRUE(one_pass(loader).empty());
  EXPECT_FALSE(loader.next().has_value());
}
