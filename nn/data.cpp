// TensorDataset and DataLoader: batches are cut from the whole tensors at once (a slice, or one
// index_select per tensor when shuffled), never assembled sample by sample.
#include "nn/data.h"

#include <stdexcept>
#include <utility>

#include "core/ops.h"

namespace chainrule::data {

// ---------------------------------------------------------------- TensorDataset
TensorDataset::TensorDataset(std::vector<Tensor> tensors) : tensors_(std::move(tensors)) {
  CR_CHECK(!tensors_.empty(), std::invalid_argument,
           "TensorDataset: expected at least one tensor, got none");
  for (size_t i = 0; i < tensors_.size(); ++i) {
    CR_CHECK(tensors_[i].defined(), std::invalid_argument,
             "TensorDataset: expected defined tensors, got an undefined tensor at position ", i);
    CR_CHECK(tensors_[i].dim() > 0, std::invalid_argument,
             "TensorDataset: expected tensors with a first dimension (one row per sample), got shape ",
             tensors_[i].shape(), " at position ", i);
    CR_CHECK(tensors_[i].size(0) == tensors_[0].size(0), std::invalid_argument,
             "TensorDataset: expected tensors with the same first dimension, got ", tensors_[0].shape(),
             " at position 0 and ", tensors_[i].shape(), " at position ", i);
  }
  size_ = tensors_[0].size(0);
}

std::vector<Tensor> TensorDataset::get(int64_t index) const {
  CR_CHECK(index >= -size_ && index < size_, std::out_of_range, "TensorDataset: index ", index,
           " is out of range for a dataset of size ", size_);
  std::vector<Tensor> sample;
  for (const Tensor& t : tensors_) sample.push_back(select(t, 0, index));
  return sample;
}

std::vector<Tensor> TensorDataset::get_batch(const Tensor& indices) const {
  std::vector<Tensor> batch;
  for (const Tensor& t : tensors_) batch.push_back(index_select(t, 0, indices));
  return batch;
}

std::vector<Tensor> TensorDataset::slice(int64_t start, int64_t stop) const {
  std::vector<Tensor> batch;
  for (const Tensor& t : tensors_) batch.push_back(chainrule::slice(t, 0, start, stop));
  return batch;
}

// ---------------------------------------------------------------- DataLoader
DataLoader::DataLoader(TensorDataset dataset, int64_t batch_size, bool shuffle, bool drop_last,
                       int64_t seed)
    : dataset_(std::move(dataset)), batch_size_(batch_size), shuffle_(shuffle),
      drop_last_(drop_last), seed_(seed) {
  CR_CHECK(batch_size >= 1, std::invalid_argument, "DataLoader: expected batch_size >= 1, got ",
           batch_size);
}

int64_t DataLoader::size() const {
  int64_t n = dataset_.size();
  return drop_last_ ? n / batch_size_ : (n + batch_size_ - 1) / batch_size_;
}

void DataLoader::set_epoch(int64_t epoch) {
  CR_CHECK(epoch >= 0, std::invalid_argument, "DataLoader.set_epoch: expected epoch >= 0, got ", epoch);
  epoch_ = epoch;
  in_pass_ = false;
}

// Epoch e's order: randperm(n, seed + e) — the same call Python's loader makes — or the global
// generator's randperm(n) without a seed. Sequential loaders need no order at all.
Tensor DataLoader::epoch_order() {
  int64_t e = epoch_++;
  if (!shuffle_) return Tensor();
  return randperm(dataset_.size(), seed_ < 0 ? -1 : seed_ + e);
}

DataLoader::Batch DataLoader::batch(const Tensor& order, int64_t i) const {
  int64_t start = i * batch_size_, stop = std::min(start + batch_size_, dataset_.size());
  if (!order.defined()) return dataset_.slice(start, stop);
  return dataset_.get_batch(chainrule::slice(order, 0, start, stop));
}

DataLoader::iterator::iterator(const DataLoader* loader, Tensor order, int64_t index)
    : loader_(loader), order_(std::move(order)), index_(index) {
  load();
}

void DataLoader::iterator::load() {
  if (loader_ && index_ < loader_->size()) batch_ = loader_->batch(order_, index_);
  else batch_.clear();
}

DataLoader::iterator& DataLoader::iterator::operator++() {
  ++index_;
  load();
  return *this;
}

DataLoader::iterator DataLoader::begin() {
  Tensor order = epoch_order();
  return iterator(this, std::move(order), 0);
}

DataLoader::iterator DataLoader::end() const {
  iterator it;
  it.index_ = size();
  return it;
}

std::optional<DataLoader::Batch> DataLoader::next() {
  if (!in_pass_) {
    pass_order_ = epoch_order();
    pass_index_ = 0;
    in_pass_ = true;
  }
  if (pass_index_ >= size()) {
    in_pass_ = false;
    pass_order_ = Tensor();
    return std::nullopt;
  }
  return batch(pass_order_, pass_index_++);
}

}  // namespace chainrule::data
