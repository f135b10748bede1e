// Reverse-mode autograd: graph nodes, grad mode, `record` (how an op attaches its backward),
// and the engine (backward, grad). Backward rules are written with differentiable ops, so with
// create_graph=true the gradient has a graph of its own (Hessians, HVPs).
#pragma once
#include <functional>
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/tensor.h"

namespace chainrule {

// ---- grad mode (thread-local) ----
bool is_grad_enabled();
void set_grad_enabled(bool enabled);

// Sets grad mode for a scope and restores the previous mode after it (torch's AutoGradMode):
// AutoGradMode grad_on(true) where code inside no-grad must record (gradcheck, closures).
class AutoGradMode {
 public:
  explicit AutoGradMode(bool enabled) : prev_(is_grad_enabled()) { set_grad_enabled(enabled); }
  ~AutoGradMode() { set_grad_enabled(prev_); }
  AutoGradMode(const AutoGradMode&) = delete;
  AutoGradMode& operator=(const AutoGradMode&) = delete;

 private:
  bool prev_;
};

// Ops inside build no graph (torch::NoGradGuard; Python: with cr.no_grad():).
struct NoGradGuard : AutoGradMode {
  NoGradGuard() : AutoGradMode(false) {}
};

// What a backward rule may read: inputs and output saved at forward time (checked against
// in-place modification when read), and every input's shape and dtype.
class Saved {
 public:
  explicit Saved(const Node* node) : node_(node) {}  // made by the engine
  Tensor input(size_t i) const;
  Tensor output() const;
  bool needs_grad(size_t i) const;  // skip computing gradients nobody will receive
  const Shape& input_shape(size_t i) const;
  Dtype input_dtype(size_t i) const;

 private:
  const Node* node_;
};

using Grads = std::vector<Tensor>;
using BackwardFn = std::function<Grads(const Tensor& grad_output, const Saved& saved)>;

// One incoming edge per input: the producer's node (non-leaf), or the leaf itself, or nothing.
struct Edge {
  std::shared_ptr<Node> fn;
  std::shared_ptr<TensorImpl> leaf;
  bool needs_grad() const { return fn || leaf; }
};

struct SavedTensor {
  std::shared_ptr<TensorImpl> impl;  // for a saved output: an alias without grad_fn (no cycle)
  uint64_t version = 0;
};

// A node of the graph: one per op application, one output per node.
struct Node : std::enable_shared_from_this<Node> {
  const char* op;          // "mul"
  std::vector<Edge> next;  // one per input
  std::vector<Shape> input_shapes;
  std::vector<Dtype> input_dtypes;
  std::vector<SavedTensor> saved_inputs;  // empty unless the op asked for kSaveInputs
  SavedTensor saved_output;
  bool output_requires_grad = true;
  bool had_saved = false;  // saved tensors existed (so a freed node can't run again)
  bool freed = false;      // saved tensors released by a backward without retain_graph
  BackwardFn fn;
  std::weak_ptr<TensorImpl> retained;  // the output, when retain_grad() was called on it
  // engine scratch
  uint64_t visit = 0;
  int64_t deps = 0;
  std::shared_ptr<TensorImpl> pending;  // sum of incoming gradients

  std::string name() const;  // PyTorch-style: "MulBackward0"
  ~Node();                   // releases edges iteratively (a 1,000,000-node chain must not recurse)
};

// kSaveFirstInput: only input 0 (where's condition), so the others may change in place freely.
enum SaveFlags : unsigned { kSaveNone = 0, kSaveInputs = 1, kSaveOutput = 2, kSaveFirstInput = 4 };

// Attaches a Node to `out` when grad mode is on and some input requires grad; otherwise returns
// `out` untouched, so inference pays nothing. `fn` returns one gradient per input (undefined for
// inputs that get none); the engine sums them back to each input's shape and dtype.
Tensor record(const char* op, Tensor out, std::initializer_list<Tensor> inputs, unsigned save, BackwardFn fn);
Tensor record(const char* op, Tensor out, const std::vector<Tensor>& inputs, unsigned save, BackwardFn fn);

// `value`, recorded as also depending on x with derivative zero. The backward rules of
// piecewise-linear ops (relu, abs, clamp, maximum, amax) pass their result through it so that,
// under create_graph, the gradient can be differentiated again with respect to x (giving 0, as
// PyTorch does) instead of being disconnected from x. Without a graph being built it is free.
Tensor depends_on(const Tensor& value, const Tensor& x);

// Sends a node to the iterative teardown instead of destroying it recursively.
void release_node(std::shared_ptr<Node>&& node);

// Raises std::runtime_error if grad mode is on and t requires grad (in-place ops are for no-grad).
void check_inplace(const Tensor& t, const char* op);

namespace autograd {

// retain_graph (here and in grad, Tensor::backward and Python) defaults to create_graph, as in
// PyTorch; a graph that create_graph records into is kept in any case.
void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs = {},
              std::optional<bool> retain_graph = std::nullopt, bool create_graph = false);

// Gradients of outputs with respect to inputs, without touching .grad. An input that doesn't affect
// outputs is an error unless allow_unused (then its gradient is undefined).
std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs = {},
                         std::optional<bool> retain_graph = std::nullopt, bool create_graph = false,
                         bool allow_unused = false);

}  // namespace autograd
}  // namespace chainrule
