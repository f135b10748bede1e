// chainrule::data: TensorDataset (tensors that share their first dimension, one sample per row) and
// DataLoader (mini-batches of it, optionally shuffled per epoch), the C++ twins of cr.data.
#pragma once
#include <cstdint>
#include <iterator>
#include <optional>
#include <vector>

#include "core/tensor.h"

namespace chainrule::data {

// Sample i is {tensors[0][i], tensors[1][i], ...}: typically {X, y} with X (N, features) and y (N,).
class TensorDataset {
 public:
  // Throws std::invalid_argument when there are no tensors, one is 0-d, or first dims differ.
  explicit TensorDataset(std::vector<Tensor> tensors);

  int64_t size() const { return size_; }
  std::vector<Tensor> get(int64_t index) const;  // one sample; negative counts from the end
  // The rows `indices` (1-D int64) of every tensor: one index_select per tensor, no per-sample work.
  std::vector<Tensor> get_batch(const Tensor& indices) const;
  // Rows [start, stop) of every tensor (the unshuffled case).
  std::vector<Tensor> slice(int64_t start, int64_t stop) const;
  const std::vector<Tensor>& tensors() const { return tensors_; }

 private:
  std::vector<Tensor> tensors_;
  int64_t size_ = 0;
};

// Mini-batches of a TensorDataset. Every pass (begin(), or next() after the previous pass ended)
// is a new epoch e = 0, 1, 2, ...; with shuffle it visits the rows in the order randperm(n, seed + e),
// exactly as cr.data.DataLoader(..., seed=seed) in Python, so both see the same batches. A negative
// seed draws the order from the global generator (manual_seed) instead.
//
//   data::DataLoader loader(data::TensorDataset({X, y}), 32, /*shuffle=*/true, false, /*seed=*/0);
//   for (int epoch = 0; epoch < 10; ++epoch)
//     for (const auto& batch : loader) step(batch[0], batch[1]);
class DataLoader {
 public:
  using Batch = std::vector<Tensor>;

  DataLoader(TensorDataset dataset, int64_t batch_size = 1, bool shuffle = false,
             bool drop_last = false, int64_t seed = -1);

  // One epoch's worth of batches. Each iterator keeps its own order, so two loops over the same
  // loader (one nested in the other) don't disturb each other.
  class iterator {
   public:
    using iterator_category = std::input_iterator_tag;
    using value_type = Batch;
    using difference_type = std::ptrdiff_t;
    using pointer = const Batch*;
    using reference = const Batch&;

    iterator() = default;
    reference operator*() const { return batch_; }
    pointer operator->() const { return &batch_; }
    iterator& operator++();
    bool operator==(const iterator& o) const { return index_ == o.index_; }
    bool operator!=(const iterator& o) const { return index_ != o.index_; }

   private:
    friend class DataLoader;
    iterator(const DataLoader* loader, Tensor order, int64_t index);
    void load();
    const DataLoader* loader_ = nullptr;
    Tensor order_;  // undefined: sequential
    int64_t index_ = 0;
    Batch batch_;
  };

  iterator begin();  // starts a new epoch
  iterator end() const;

  // The pull-style API: the next batch of the current epoch, or nullopt once it is over (the call
  // after that starts the next epoch).
  std::optional<Batch> next();

  int64_t size() const;  // batches per epoch: ceil(n / batch_size), or floor with drop_last
  int64_t epoch() const { return epoch_; }  // the epoch the next pass will be
  void set_epoch(int64_t epoch);            // e.g. to resume a run at a given epoch
  const TensorDataset& dataset() const { return dataset_; }
  int64_t batch_size() const { return batch_size_; }

 private:
  Tensor epoch_order();                  // advances epoch_
  Batch batch(const Tensor& order, int64_t i) const;

  TensorDataset dataset_;
  int64_t batch_size_;
  bool shuffle_, drop_last_;
  int64_t seed_;
  int64_t epoch_ = 0;
  // state of next()
  bool in_pass_ = false;
  Tensor pass_order_;
  int64_t pass_index_ = 0;
};

}  // namespace chainrule::data
