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

// ---- anomaly mode (thread-local): torch.autograd.detect_anomaly, and a forward check torch lacks.
// On, every node keeps where it was made (from the context function: Python's names the user's
// line), and a backward rule that returns a nan or inf raises std::runtime_error naming the op,
// that place and the values at the first bad element; with check_forward, so does every op whose
// output holds a nan or inf, as it is made. Off (the default), it costs one test of a flag per op.
// check_nan=false keeps only the places (as torch); check_forward needs check_nan.
bool is_anomaly_enabled();
bool is_anomaly_check_nan_enabled();
bool is_anomaly_check_forward_enabled();
void set_anomaly_enabled(bool enabled, bool check_nan = true, bool check_forward = true);
// Where the op being recorded is called from, e.g. "lab.py:12: y = 1 / x" (empty: unknown).
void set_anomaly_context(std::function<std::string()> where);
std::string current_site();  // what that function says now (empty without one)

// Places in the user's code, kept once each for the life of the program (there are few), so a
// tensor can point at one for free: TensorImpl::untracked_at, why_no_grad's "line Y" (set by
// Python's detach, and in anomaly mode for tensors made under no_grad).
const std::string* intern_site(const std::string& where);

class DetectAnomaly {
 public:
  explicit DetectAnomaly(bool check_nan = true, bool check_forward = true)
      : prev_(is_anomaly_enabled()),
        prev_nan_(is_anomaly_check_nan_enabled()),
        prev_forward_(is_anomaly_check_forward_enabled()) {
    set_anomaly_enabled(true, check_nan, check_forward);
  }
  ~DetectAnomaly() { set_anomaly_enabled(prev_, prev_nan_, prev_forward_); }
  DetectAnomaly(const DetectAnomaly&) = delete;
  DetectAnomaly& operator=(const DetectAnomaly&) = delete;

 private:
  bool prev_, prev_nan_, prev_forward_;
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

// A tensor's hooks (Tensor::register_hook, register_post_accumulate_grad_hook), in registration order.
struct HookList {
  uint64_t next_id = 0;
  std::vector<std::pair<uint64_t, std::function<Tensor(const Tensor&)>>> grad;
  std::vector<std::pair<uint64_t, std::function<void(const Tensor&)>>> post_accumulate;
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
  std::weak_ptr<TensorImpl> output;            // while it lives (retain_grad, pictures, explanations)
  std::shared_ptr<HookList> hooks;             // the output's
  std::shared_ptr<const std::string> context;  // where it was made (anomaly mode only)
  uint64_t seq = 0;                            // creation order: backward runs the ready node created last
  // engine scratch
  uint64_t visit = 0;
  int64_t deps = 0;
  std::shared_ptr<TensorImpl> pending;  // sum of incoming gradients

  std::string name() const;  // PyTorch-style: "MulBackward0"
  ~Node();                   // releases edges iteratively (a 1,000,000-node chain must not recurse)
};

// What a tangent (forward-mode) rule may read: each input's primal and tangent, and the output.
// A rule returns J·t, the output's tangent, written with differentiable ops like a backward rule
// (so reverse mode can differentiate it: jacrev(jacfwd(f))). Inside a rule forward mode is off, so
// primals are plain values. An input without a tangent (a constant) has an undefined tangent: its
// term is zero, and tangent_sum skips it, so `w` held fixed costs nothing in `x @ w`. A tangent
// of a broadcast input's shape is expanded to the output's shape once, in record, never per op.
class Duals {
 public:
  Duals(const Tensor* inputs, const Tensor* tangents, size_t n, const Tensor& out)
      : in_(inputs), t_(tangents), n_(n), out_(out) {}
  const Tensor& input(size_t i) const;
  const Tensor& tangent(size_t i) const;  // undefined: zero
  bool has(size_t i) const { return tangent(i).defined(); }
  Tensor tangent_or_zeros(size_t i) const;  // for rules that mix tangents (maximum's ties)
  const Tensor& output() const;             // differentiable in reverse mode (made on first use)
  size_t size() const { return n_; }

 private:
  const Tensor* in_;
  const Tensor* t_;
  size_t n_;
  const Tensor& out_;
  mutable Tensor view_;
};
using TangentFn = std::function<Tensor(const Duals& d)>;

// The sum of the terms that are defined (undefined when none is): Σᵢ ∂f/∂xᵢ · tᵢ over the inputs
// that carry a tangent.
Tensor tangent_sum(std::initializer_list<Tensor> terms);

// The tangent of an elementwise op, when the op's derivative with respect to input i is `d[i]` (an
// undefined d[i]: the input has no derivative): Σᵢ tᵢ · d[i].
Tensor elementwise_tangent(const Duals& d, std::initializer_list<Tensor> derivatives);

// kSaveFirstInput: only input 0 (where's condition), so the others may change in place freely.
enum SaveFlags : unsigned { kSaveNone = 0, kSaveInputs = 1, kSaveOutput = 2, kSaveFirstInput = 4 };

// Attaches a Node to `out` when grad mode is on and some input requires grad; otherwise returns
// `out` untouched, so inference pays nothing. `fn` returns one gradient per input (undefined for
// inputs that get none); the engine sums them back to each input's shape and dtype.
// Under a dual level where some input carries a tangent, `tangent` gives out's tangent; an op
// without one raises NotImplemented naming itself (never a silently wrong tangent).
Tensor record(const char* op, Tensor out, std::initializer_list<Tensor> inputs, unsigned save, BackwardFn fn,
              TangentFn tangent = nullptr);
Tensor record(const char* op, Tensor out, const std::vector<Tensor>& inputs, unsigned save, BackwardFn fn,
              TangentFn tangent = nullptr);

// y = f(x) elementwise: its Jacobian is diagonal, f'(x), hence its own transpose, so one rule
// `scale(v, x, y) = f'(x)·v` is both the backward (v = g) and the tangent (v = t). In backward, x
// and y are what `save` kept (undefined otherwise).
template <class F>
Tensor record_elementwise(const char* op, Tensor out, const Tensor& x, unsigned save, F scale) {
  return record(
      op, std::move(out), {x}, save,
      [scale, save](const Tensor& g, const Saved& s) -> Grads {
        return {
            scale(g, save & kSaveInputs ? s.input(0) : Tensor(), save & kSaveOutput ? s.output() : Tensor())};
      },
      [scale](const Duals& d) { return scale(d.tangent(0), d.input(0), d.output()); });
}

// `value`, recorded as also depending on x with derivative zero. The backward rules of
// piecewise-linear ops (relu, abs, clamp, maximum, amax) pass their result through it so that,
// under create_graph, the gradient can be differentiated again with respect to x (giving 0, as
// PyTorch does) instead of being disconnected from x. Without a graph being built it is free.
Tensor depends_on(const Tensor& value, const Tensor& x);

// Sends a node to the iterative teardown instead of destroying it recursively.
void release_node(std::shared_ptr<Node>&& node);

// Raises std::runtime_error if grad mode is on and t requires grad (in-place ops are for no-grad).
void check_inplace(const Tensor& t, const char* op);

// Forward mode, with torch.autograd.forward_ad's API. Inside a dual level, make_dual(x, t) is x
// carrying the tangent t, and every op carries tangents along (J·t, by its tangent rule), so
// unpack_dual(f(make_dual(x, t))) is (f(x), J_f(x)·t): a directional derivative without forming J,
// in one pass. One level at a time (torch's forward_ad has the same limit); tangents belong to
// their level and are gone when it exits. Thread-local, like grad mode.
namespace forward_ad {
uint64_t enter_dual_level();  // throws std::runtime_error if a level is active
void exit_dual_level(uint64_t level);
uint64_t current_level();  // 0: none active
// A view of primal carrying tangent (same shape, same floating dtype) at the current level.
Tensor make_dual(const Tensor& primal, const Tensor& tangent);
// (primal view without the tangent, tangent or undefined).
std::pair<Tensor, Tensor> unpack_dual(const Tensor& t);
Tensor tangent_of(const Tensor& t);  // undefined if t carries none at the current level

// Enters a level for a scope, as `with fwAD.dual_level():`.
class DualLevel {
 public:
  DualLevel() : level_(enter_dual_level()) {}
  ~DualLevel() {
    if (current_level() == level_) exit_dual_level(level_);  // unless it was exited inside (no throw here)
  }
  DualLevel(const DualLevel&) = delete;
  DualLevel& operator=(const DualLevel&) = delete;
  uint64_t level() const { return level_; }

 private:
  uint64_t level_;
};
}  // namespace forward_ad

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

// One step of a backward pass as the engine ran it: node n received grad_output (the sum of what
// its consumers handed it, after its hooks) and its rule handed grads[i] to input i (reduced to
// the input's shape and dtype; undefined: nothing). explain_backward is built on these.
using StepObserver = std::function<void(const Node& n, const Tensor& grad_output, const Grads& grads)>;

// Shows every step of the backward passes run on this thread, while it lives, to `observer`.
class ObserveBackward {
 public:
  explicit ObserveBackward(StepObserver observer);
  ~ObserveBackward();
  ObserveBackward(const ObserveBackward&) = delete;
  ObserveBackward& operator=(const ObserveBackward&) = delete;

 private:
  StepObserver observer_;
  const StepObserver* prev_;
};

// What n's rule hands its inputs when its output receives grad_output, outside any backward pass
// (no graph is built; hooks don't run): for a scalar node and grad_output 1, the local derivatives
// ∂out/∂inputᵢ. Undefined for inputs that need no gradient. Raises if a backward freed the graph.
Grads local_grads(const Node& n, const Tensor& grad_output);

uint64_t next_node_seq();  // the seq of the next node recorded (nodes made inside a module's call)

// The forgotten zero_grad(): backward adding into a .grad that an optimizer step already used (and
// nothing cleared: zero_grad, set_grad, or zeroing it by hand) warns once per process, since the
// next step would use the sum of two batches' gradients. Accumulating over several backward calls
// before one step does not warn. On by default; turning it on again lets it show once more.
void set_warn_forgotten_zero_grad(bool enabled);
bool is_warn_forgotten_zero_grad_enabled();

}  // namespace autograd
}  // namespace chainrule
