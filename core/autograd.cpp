// The autograd engine: grad mode, recording nodes, iterative topological backward, autograd::grad,
// and iterative graph teardown.
#include "core/autograd.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <queue>
#include <unordered_map>

#include "core/ops.h"

namespace chainrule {

// ---------------------------------------------------------------- grad mode
namespace {
thread_local bool grad_enabled = true;
std::atomic<uint64_t> visit_counter{0};
std::atomic<uint64_t> node_counter{0};  // Node::seq
}  // namespace

bool is_grad_enabled() { return grad_enabled; }
void set_grad_enabled(bool e) { grad_enabled = e; }

// ---------------------------------------------------------------- teardown
// Destroying a node releases its inputs' nodes; done recursively, a long chain overflows the
// stack. Nodes released while a teardown is running are queued and destroyed by the outer loop.
void release_node(std::shared_ptr<Node>&& node) {
  thread_local bool draining = false;
  thread_local std::vector<std::shared_ptr<Node>> pending;
  if (!node) return;
  if (draining) {
    if (node.use_count() == 1) pending.push_back(std::move(node));
    else node.reset();
    return;
  }
  draining = true;
  node.reset();
  while (!pending.empty()) {
    std::shared_ptr<Node> n = std::move(pending.back());
    pending.pop_back();
    n.reset();  // may queue more
  }
  draining = false;
}

Node::~Node() {
  for (Edge& e : next) release_node(std::move(e.fn));
}

std::string Node::name() const {
  std::string out;
  bool up = true;
  for (const char* c = op; *c; ++c) {
    if (*c == '_') {
      up = true;
      continue;
    }
    out += up ? static_cast<char>(std::toupper(static_cast<unsigned char>(*c))) : *c;
    up = false;
  }
  return out + "Backward0";
}

// ---------------------------------------------------------------- saved tensors
static void check_saved(const Node& n, const SavedTensor& s, const char* what, size_t i) {
  CR_CHECK(!n.freed, std::runtime_error,
           "backward: trying to backward through the graph a second time: the saved tensors of '", n.op,
           "' were freed by the first backward; pass retain_graph=true (Python: retain_graph=True) "
           "to the first backward if you need to backward twice");
  CR_CHECK(s.impl != nullptr, std::runtime_error, "backward: '", n.op, "' did not save its ", what);
  CR_CHECK(s.impl->storage->version == s.version, std::runtime_error,
           "backward: a tensor needed to compute the gradient of '", n.op, "' (its ", what, " ", i,
           ", shape ", s.impl->shape,
           ") was modified by an in-place operation after it was saved "
           "(version ",
           s.impl->storage->version, ", expected ", s.version,
           "); use an out-of-place op or clone() it first");
}

Tensor Saved::input(size_t i) const {
  CR_CHECK(i < node_->saved_inputs.size(), std::runtime_error, "backward: '", node_->op,
           "' did not save input ", i);
  check_saved(*node_, node_->saved_inputs[i], "input", i);
  return Tensor(node_->saved_inputs[i].impl);
}

Tensor Saved::output() const {
  const SavedTensor& s = node_->saved_output;
  check_saved(*node_, s, "output", 0);
  if (!is_grad_enabled()) return Tensor(s.impl);
  // Re-attach the node so that a backward written with this output is itself differentiable.
  auto t = std::make_shared<TensorImpl>(*s.impl);
  t->grad_fn = const_cast<Node*>(node_)->shared_from_this();
  t->requires_grad = true;
  return Tensor(std::move(t));
}

bool Saved::needs_grad(size_t i) const { return node_->next.at(i).needs_grad(); }
const Shape& Saved::input_shape(size_t i) const { return node_->input_shapes.at(i); }
Dtype Saved::input_dtype(size_t i) const { return node_->input_dtypes.at(i); }

// ---------------------------------------------------------------- saved tensors' aliases
static std::shared_ptr<TensorImpl> alias(const Tensor& t) {
  auto a = std::make_shared<TensorImpl>();
  a->storage = t.impl()->storage;
  a->dtype = t.dtype();
  a->set_geometry(t.shape(), t.strides(), t.storage_offset());
  a->fw_grad = t.impl()->fw_grad;  // a saved output keeps its tangent (forward over reverse)
  a->fw_level = t.impl()->fw_level;
  return a;
}

// ---------------------------------------------------------------- forward mode
namespace {
thread_local uint64_t dual_level_now = 0;   // 0: none
thread_local bool in_tangent_rule = false;  // rules see plain primals
std::atomic<uint64_t> level_counter{0};

struct TangentRuleScope {
  bool prev = in_tangent_rule;
  TangentRuleScope() { in_tangent_rule = true; }
  ~TangentRuleScope() { in_tangent_rule = prev; }
};
}  // namespace

const Tensor& Duals::input(size_t i) const {
  CR_CHECK(i < n_, std::runtime_error, "internal: tangent rule read input ", i, " of ", n_);
  return in_[i];
}
const Tensor& Duals::tangent(size_t i) const {
  CR_CHECK(i < n_, std::runtime_error, "internal: tangent rule read tangent ", i, " of ", n_);
  return t_[i];
}

// The rule sees out through an alias (its node, not its impl): a tangent whose graph saved out
// itself would own out through out's own fw_grad, a cycle. A node that saves its output will hold
// the tangent there too, so then the alias hangs off a twin of the node with its own saved output.
const Tensor& Duals::output() const {
  if (view_.defined()) return view_;
  auto y = alias(out_);
  y->fw_grad.reset();
  y->requires_grad = out_.impl()->requires_grad;
  if (Node* node = out_.impl()->grad_fn.get(); node && node->saved_output.impl) {
    auto twin = std::make_shared<Node>(*node);
    twin->saved_output.impl = std::make_shared<TensorImpl>(*node->saved_output.impl);
    twin->retained.reset();  // retain_grad() is the output's, not the twin's
    twin->pending.reset();
    y->grad_fn = std::move(twin);
  } else {
    y->grad_fn = out_.impl()->grad_fn;
  }
  view_ = Tensor(std::move(y));
  return view_;
}

Tensor Duals::tangent_or_zeros(size_t i) const {
  return has(i) ? tangent(i) : zeros(input(i).shape(), input(i).dtype());
}

Tensor tangent_sum(std::initializer_list<Tensor> terms) {
  Tensor s;
  for (const Tensor& t : terms)
    if (t.defined()) s = s.defined() ? add(s, t) : t;
  return s;
}

Tensor elementwise_tangent(const Duals& d, std::initializer_list<Tensor> derivatives) {
  Tensor s;
  size_t i = 0;
  for (const Tensor& di : derivatives) {
    if (di.defined() && d.has(i)) {
      Tensor term = mul(d.tangent(i), di);
      s = s.defined() ? add(s, term) : term;
    }
    ++i;
  }
  return s;
}

namespace forward_ad {
uint64_t current_level() { return in_tangent_rule ? 0 : dual_level_now; }

uint64_t enter_dual_level() {
  CR_CHECK(dual_level_now == 0, std::runtime_error,
           "dual_level: a dual level is already active; forward mode runs one level at a time (as "
           "torch.autograd.forward_ad); for derivatives of derivatives compose cr.func transforms");
  dual_level_now = ++level_counter;
  return dual_level_now;
}

void exit_dual_level(uint64_t level) {
  CR_CHECK(level != 0 && level == dual_level_now, std::runtime_error, "exit_dual_level: level ", level,
           " is not the active dual level (", dual_level_now, ")");
  dual_level_now = 0;  // its tangents are stale from now on: their level never comes back
}

Tensor tangent_of(const Tensor& t) {
  const uint64_t level = current_level();
  if (level == 0 || !t.defined()) return Tensor();
  const TensorImpl& i = *t.impl();
  return i.fw_grad && i.fw_level == level ? Tensor(i.fw_grad) : Tensor();
}

// A differentiable alias of t (reverse mode sees through it) carrying no tangent.
static Tensor plain_alias(const Tensor& t, const char* op) {
  TangentRuleScope plain;
  return record(op, t.detach(), {t}, kSaveNone, [](const Tensor& g, const Saved&) -> Grads { return {g}; });
}

Tensor make_dual(const Tensor& primal, const Tensor& tangent) {
  CR_CHECK(dual_level_now != 0, std::runtime_error,
           "make_dual: no dual level is active; call it inside `with forward_ad.dual_level():` (C++: a "
           "forward_ad::DualLevel in scope)");
  CR_CHECK(primal.defined() && tangent.defined(), std::invalid_argument,
           "make_dual: expected a primal and a tangent tensor");
  CR_CHECK(is_floating(primal.dtype()), std::invalid_argument, "make_dual: expected a floating primal, got ",
           dtype_name(primal.dtype()), "; derivatives need floats: convert with .double()");
  CR_CHECK(tangent.shape() == primal.shape(), std::invalid_argument,
           "make_dual: expected the tangent to have the primal's shape ", primal.shape(), ", got ",
           tangent.shape());
  CR_CHECK(tangent.dtype() == primal.dtype(), std::invalid_argument,
           "make_dual: expected the tangent to have the primal's dtype ", dtype_name(primal.dtype()),
           ", got ", dtype_name(tangent.dtype()));
  CR_CHECK(!tangent_of(tangent).defined(), std::invalid_argument,
           "make_dual: the tangent carries a tangent of its own; nested forward mode is not supported");
  Tensor dual = plain_alias(primal, "make_dual");
  dual.impl()->fw_grad = tangent.impl_ptr();
  dual.impl()->fw_level = dual_level_now;
  return dual;
}

std::pair<Tensor, Tensor> unpack_dual(const Tensor& t) {
  CR_CHECK(t.defined(), std::invalid_argument, "unpack_dual: expected a tensor, got None");
  Tensor tangent = tangent_of(t);
  if (!tangent.defined()) return {t, Tensor()};
  return {plain_alias(t, "unpack_dual"), tangent};
}
}  // namespace forward_ad

// out's tangent J·t from the op's rule, when an input carries one at the active level.
static void attach_tangent(const char* op, const Tensor& out, const Tensor* in, size_t n,
                           const TangentFn& rule) {
  Tensor few[4];  // most ops have at most 4 inputs: no allocation
  std::vector<Tensor> many(n > 4 ? n : 0);
  Tensor* ts = n > 4 ? many.data() : few;
  bool any = false;
  for (size_t i = 0; i < n; ++i) {
    ts[i] = forward_ad::tangent_of(in[i]);
    any = any || ts[i].defined();
    CR_CHECK(!ts[i].defined() || ts[i].shape() == in[i].shape(), std::runtime_error, op, ": input ", i,
             " has shape ", in[i].shape(), " but its tangent has shape ", ts[i].shape());
    CR_CHECK(!in[i].defined() || in[i].impl() != out.impl(), std::runtime_error, "internal: ", op,
             " recorded a tangent onto its own input");
  }
  if (!any || !is_floating(out.dtype())) return;  // integers and bools have no tangent, as in torch
  CR_CHECK(rule != nullptr, NotImplemented, op,
           ": forward mode (make_dual, cr.func.jvp, jacfwd) has no "
           "tangent rule for '",
           op, "' yet; differentiate through it in reverse mode (vjp, jacrev, grad)");
  TangentRuleScope plain;
  Tensor t = rule(Duals(in, ts, n, out));
  if (!t.defined()) t = zeros_like(out);
  if (t.dtype() != out.dtype()) t = t.to(out.dtype());
  if (t.shape() != out.shape()) t = expand(t, out.shape());
  out.impl()->fw_grad = t.impl_ptr();
  out.impl()->fw_level = dual_level_now;
  // A saved output carries the tangent too, for backward under this level (forward over reverse).
  if (Node* node = out.impl()->grad_fn.get(); node && node->saved_output.impl) {
    node->saved_output.impl->fw_grad = t.impl_ptr();
    node->saved_output.impl->fw_level = dual_level_now;
  }
}

// ---------------------------------------------------------------- record
template <class Inputs>
static Tensor record_reverse(const char* op, Tensor out, const Inputs& inputs, unsigned save, BackwardFn fn) {
  if (!grad_enabled) return out;
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return out;
  auto node = std::make_shared<Node>();
  node->op = op;
  node->seq = ++node_counter;
  size_t n = inputs.size();
  node->next.resize(n);
  node->input_shapes.reserve(n);
  node->input_dtypes.reserve(n);
  size_t i = 0;
  for (const Tensor& t : inputs) {
    if (t.defined() && t.requires_grad()) {
      if (t.grad_fn()) node->next[i].fn = t.grad_fn();
      else node->next[i].leaf = t.impl_ptr();
    }
    node->input_shapes.push_back(t.defined() ? t.shape() : Shape{});
    node->input_dtypes.push_back(t.defined() ? t.dtype() : kFloat32);
    if ((save & kSaveInputs) || ((save & kSaveFirstInput) && i == 0))
      node->saved_inputs.push_back(t.defined() ? SavedTensor{t.impl_ptr(), t.version()} : SavedTensor{});
    ++i;
  }
  if (save & kSaveOutput) node->saved_output = SavedTensor{alias(out), out.version()};
  node->had_saved = save != kSaveNone;
  node->fn = std::move(fn);
  CR_CHECK(out.impl()->grad_fn == nullptr && !out.impl()->requires_grad, std::runtime_error, "internal: ", op,
           " recorded onto a tensor that already has history");
  out.impl()->grad_fn = std::move(node);
  out.impl()->requires_grad = true;
  return out;
}

// The tangent comes after the node, so that a rule reading the output differentiates through it.
template <class Inputs> static Tensor record_impl(const char* op, Tensor out, const Inputs& inputs,
                                                  unsigned save, BackwardFn fn, const TangentFn& tangent) {
  out = record_reverse(op, std::move(out), inputs, save, std::move(fn));
  if (dual_level_now != 0 && !in_tangent_rule)
    attach_tangent(op, out, std::data(inputs), inputs.size(), tangent);
  return out;
}

Tensor record(const char* op, Tensor out, std::initializer_list<Tensor> inputs, unsigned save, BackwardFn fn,
              TangentFn tangent) {
  return record_impl(op, std::move(out), inputs, save, std::move(fn), tangent);
}
Tensor record(const char* op, Tensor out, const std::vector<Tensor>& inputs, unsigned save, BackwardFn fn,
              TangentFn tangent) {
  return record_impl(op, std::move(out), inputs, save, std::move(fn), tangent);
}

// value, with derivative zero with respect to x
Tensor depends_on(const Tensor& value, const Tensor& x) {
  if (!grad_enabled || !x.defined() || !x.requires_grad()) return value;
  return record(
      "depends_on", value.detach(), {value, x}, kSaveNone,
      [](const Tensor& g, const Saved& s) -> Grads { return {g, zeros(s.input_shape(1), s.input_dtype(1))}; },
      [](const Duals& d) { return d.tangent(0); });
}

// ---------------------------------------------------------------- hooks
static RemovableHandle removable(const std::shared_ptr<HookList>& list, uint64_t id) {
  return {id, [weak = std::weak_ptr<HookList>(list), id] {
            if (auto l = weak.lock()) {
              drop_hook(l->grad, id);
              drop_hook(l->post_accumulate, id);
            }
          }};
}

// A non-leaf's hooks live on its grad_fn (they see the gradient flowing into it), a leaf's on itself.
static const std::shared_ptr<HookList>& hook_list(const Tensor& t) {
  TensorImpl& i = *t.impl();
  std::shared_ptr<HookList>& slot = i.grad_fn ? i.grad_fn->hooks : i.hooks;
  if (!slot) slot = std::make_shared<HookList>();
  return slot;
}

RemovableHandle Tensor::register_hook(std::function<Tensor(const Tensor&)> hook) const {
  CR_CHECK(requires_grad(), std::runtime_error,
           "register_hook: cannot register a hook on a tensor that doesn't require gradient");
  const auto& list = hook_list(*this);
  list->grad.emplace_back(++list->next_id, std::move(hook));
  return removable(list, list->next_id);
}

RemovableHandle Tensor::register_post_accumulate_grad_hook(std::function<void(const Tensor&)> hook) const {
  CR_CHECK(
      requires_grad(), std::runtime_error,
      "register_post_accumulate_grad_hook: cannot register a hook on a tensor that doesn't require gradient");
  CR_CHECK(is_leaf(), std::runtime_error,
           "register_post_accumulate_grad_hook: post accumulate grad hooks cannot be registered on non-leaf "
           "tensors (they run after .grad is accumulated, which only leaves have)");
  const auto& list = hook_list(*this);
  list->post_accumulate.emplace_back(++list->next_id, std::move(hook));
  return removable(list, list->next_id);
}

// ---------------------------------------------------------------- engine
namespace {

// Sums the gradients flowing into a node: out of place, so no copy is needed on first arrival.
void add_pending(std::shared_ptr<TensorImpl>& slot, Tensor g) {
  slot = slot ? (Tensor(slot) + g).impl_ptr() : g.impl_ptr();
}

// Adds g into a .grad slot. Without create_graph the slot is updated in place, as PyTorch does, so
// it must own its storage: a gradient that is still referenced elsewhere, or a view (of another
// gradient, or expanded), is copied first into a dense tensor of its own. With create_graph the
// first gradient is always cloned, differentiably (as PyTorch's AccumulateGrad does), so that a
// later in-place accumulation can't write into a tensor the user or the graph still holds.
void accumulate(std::shared_ptr<TensorImpl>& slot, Tensor g, bool create_graph) {
  if (!slot) {
    if (create_graph) {
      g = g.clone();
    } else if (g.impl_ptr().use_count() > 1 || g.impl()->storage.use_count() > 1 || g.requires_grad() ||
               !g.is_contiguous()) {
      g = g.clone();  // grad mode is off here (no graph); a tangent (forward mode) is kept
    }
    slot = g.impl_ptr();
  } else if (create_graph || forward_ad::current_level() != 0) {  // a dual .grad can't add_ in place
    slot = (Tensor(slot) + g).impl_ptr();
  } else {
    Tensor s(slot);
    s.add_(g);
  }
}

struct Capture {  // autograd::grad: where each input's gradient is collected
  std::unordered_map<const Node*, size_t> nodes;
  std::unordered_map<const TensorImpl*, size_t> leaves;
  std::vector<std::shared_ptr<TensorImpl>> results;
};

// A gradient after the tensor's hooks: each sees the previous one's result and may replace it.
Tensor run_hooks(const std::shared_ptr<HookList>& hooks, Tensor g) {
  if (!hooks) return g;
  auto list = hooks->grad;  // a hook may remove hooks while they run
  for (auto& [id, hook] : list) {
    Tensor r = hook(g);
    if (!r.defined()) continue;
    CR_CHECK(r.shape() == g.shape(), std::runtime_error, "hook: a hook returned a gradient of shape ",
             r.shape(), " for a tensor whose gradient has shape ", g.shape());
    g = r;
  }
  return g;
}

// One backward pass, in the order a student can follow: seed the outputs' gradients, discover the
// graph (counting what each node and leaf waits for), then repeatedly pop the ready node created
// last (torch's order), sum what it received, show it to its hooks, run its rule, and hand each
// gradient to the input it belongs to. Iterative: a 1,000,000-node chain needs no deep stack.
class BackwardPass {
 public:
  BackwardPass(bool retain_graph, bool create_graph, Capture* capture)
      : op_(capture ? "grad" : "backward"), retain_(retain_graph), create_(create_graph), capture_(capture) {}

  void run(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads) {
    std::vector<Tensor> gs = seeds(roots, root_grads);
    discover(roots);
    for (size_t i = 0; i < roots.size(); ++i) {
      if (Node* n = roots[i].grad_fn().get()) give(n, gs[i]);
      else give_leaf(roots[i].impl_ptr(), gs[i]);
    }
    std::vector<Node*> started;
    for (const Tensor& r : roots)
      if (Node* n = r.grad_fn().get();
          n && n->deps == 0 && std::find(started.begin(), started.end(), n) == started.end())
        started.push_back(n), ready_.push(n);
    while (!ready_.empty()) {
      Node* n = ready_.top();
      ready_.pop();
      std::shared_ptr<Node> keep = n->shared_from_this();  // outlive a release of its last owner
      Tensor g = receive(n);
      Grads in = g.defined() ? apply_rule(n, g) : Grads();
      hand_to_inputs(n, in);
      release(n);
    }
  }

 private:
  // The gradient each output starts from: 1 for a scalar, else the one given.
  std::vector<Tensor> seeds(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads) const {
    CR_CHECK(root_grads.empty() || root_grads.size() == roots.size(), std::invalid_argument, op_,
             ": expected one gradient per output (", roots.size(), "), got ", root_grads.size());
    std::vector<Tensor> out(roots.size());
    for (size_t i = 0; i < roots.size(); ++i) {
      const Tensor& r = roots[i];
      CR_CHECK(r.defined(), std::invalid_argument, op_, ": output ", i, " is undefined");
      CR_CHECK(r.requires_grad(), std::runtime_error, op_, ": element ", i,
               " of tensors does not require grad and does not have a grad_fn");
      Tensor g = i < root_grads.size() ? root_grads[i] : Tensor();
      if (!g.defined()) {
        CR_CHECK(r.numel() == 1, std::runtime_error, op_,
                 ": grad can be implicitly created only for scalar outputs, got shape ", r.shape(),
                 "; pass a gradient of that shape");
        g = ones_like(r);
      } else {
        CR_CHECK(g.shape() == r.shape(), std::invalid_argument, op_, ": expected a gradient of shape ",
                 r.shape(), " (output ", i, "'s), got ", g.shape());
        if (g.dtype() != r.dtype()) g = g.to(r.dtype());
      }
      out[i] = g;
    }
    return out;
  }

  // Every node reachable from the roots, with the number of gradients it will receive (its
  // consumers), and the same count for every leaf (its uses, and a root that is a leaf).
  void discover(const std::vector<Tensor>& roots) {
    const uint64_t gen = ++visit_counter;
    std::vector<Node*> stack;
    auto visit = [&](Node* n) {
      if (n->visit == gen) return;
      n->visit = gen;
      n->deps = 0;
      n->pending.reset();
      stack.push_back(n);
    };
    for (const Tensor& r : roots) {
      if (r.grad_fn()) visit(r.grad_fn().get());
      else leaves_[r.impl()].deps++;
    }
    while (!stack.empty()) {
      Node* n = stack.back();
      stack.pop_back();
      for (Edge& e : n->next) {
        if (e.fn) {
          visit(e.fn.get());
          e.fn->deps++;
        } else if (e.leaf) {
          leaves_[e.leaf.get()].deps++;
        }
      }
    }
  }

  void give(Node* n, Tensor g) { add_pending(n->pending, std::move(g)); }

  // A leaf's gradient is the sum over its uses: it is delivered (hooks, then .grad or grad's
  // result, then post-accumulate hooks) when the last use has been handed in.
  void give_leaf(const std::shared_ptr<TensorImpl>& leaf, Tensor g) {
    LeafSlot& slot = leaves_[leaf.get()];
    if (g.defined()) add_pending(slot.pending, std::move(g));
    if (--slot.deps > 0 || !slot.pending) return;
    Tensor sum = run_hooks(leaf->hooks, Tensor(std::move(slot.pending)));
    slot.pending.reset();
    if (capture_) {
      auto it = capture_->leaves.find(leaf.get());
      if (it != capture_->leaves.end()) add_pending(capture_->results[it->second], sum);
      return;
    }
    accumulate(leaf->grad, std::move(sum), create_);  // the last reference: .grad may take it without a copy
    if (leaf->hooks)
      for (auto& [id, hook] : std::vector(leaf->hooks->post_accumulate)) hook(Tensor(leaf));
  }

  // The sum of n's incoming gradients, after its output's hooks; kept where asked (retain_grad, grad).
  Tensor receive(Node* n) {
    Tensor g = n->pending ? Tensor(std::move(n->pending)) : Tensor();
    n->pending.reset();
    if (!g.defined()) return g;
    g = run_hooks(n->hooks, g);
    if (capture_) {
      auto it = capture_->nodes.find(n);
      if (it != capture_->nodes.end()) add_pending(capture_->results[it->second], g);
    } else if (auto out = n->retained.lock()) {
      accumulate(out->grad, g, create_);
    }
    return g;
  }

  Grads apply_rule(Node* n, const Tensor& g) {
    if (n->freed && n->had_saved) check_saved(*n, n->saved_output, "output", 0);  // the retain_graph message
    Grads gs = n->fn(g, Saved(n));
    CR_CHECK(gs.size() == n->next.size(), std::runtime_error, "internal: backward of '", n->op, "' returned ",
             gs.size(), " gradients for ", n->next.size(), " inputs");
    return gs;
  }

  // Broadcasting and promotion are undone here, once, instead of in every op.
  void hand_to_inputs(Node* n, Grads& gs) {
    for (size_t i = 0; i < n->next.size(); ++i) {
      Edge& e = n->next[i];
      Tensor g = i < gs.size() ? std::move(gs[i]) : Tensor();
      if (g.defined() && e.needs_grad()) {
        if (g.shape() != n->input_shapes[i]) g = sum_to(g, n->input_shapes[i]);
        if (g.dtype() != n->input_dtypes[i]) g = g.to(n->input_dtypes[i]);
      }
      if (e.fn) {
        if (g.defined()) give(e.fn.get(), std::move(g));
        if (--e.fn->deps == 0) ready_.push(e.fn.get());
      } else if (e.leaf) {
        give_leaf(e.leaf, std::move(g));
      }
    }
  }

  // Without retain_graph, the saved tensors go (a second backward then raises, naming the op).
  void release(Node* n) const {
    if (retain_ || !n->had_saved) return;
    n->saved_inputs.clear();
    n->saved_output = SavedTensor{};
    n->freed = true;
  }

  struct LeafSlot {
    int64_t deps = 0;
    std::shared_ptr<TensorImpl> pending;
  };
  struct CreatedLater {
    bool operator()(const Node* a, const Node* b) const { return a->seq < b->seq; }
  };
  const char* op_;  // the function the user called
  bool retain_, create_;
  Capture* capture_;
  std::unordered_map<const TensorImpl*, LeafSlot> leaves_;
  std::priority_queue<Node*, std::vector<Node*>, CreatedLater> ready_;
};

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads, bool retain_graph,
                  bool create_graph, Capture* capture) {
  bool prev_mode = grad_enabled;
  grad_enabled = create_graph;  // rules build a graph only for create_graph
  struct Restore {
    bool m;
    ~Restore() { grad_enabled = m; }
  } restore{prev_mode};
  BackwardPass(retain_graph, create_graph, capture).run(roots, root_grads);
}

}  // namespace

namespace autograd {

// The one place the retain_graph default is decided.
static bool keeps_graph(std::optional<bool> retain_graph, bool create_graph) {
  return retain_graph.value_or(create_graph) || create_graph;
}

void backward(const std::vector<Tensor>& outputs, const std::vector<Tensor>& grad_outputs,
              std::optional<bool> retain_graph, bool create_graph) {
  run_backward(outputs, grad_outputs, keeps_graph(retain_graph, create_graph), create_graph, nullptr);
}

std::vector<Tensor> grad(const std::vector<Tensor>& outputs, const std::vector<Tensor>& inputs,
                         const std::vector<Tensor>& grad_outputs, std::optional<bool> retain_graph,
                         bool create_graph, bool allow_unused) {
  Capture cap;
  cap.results.resize(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    const Tensor& t = inputs[i];
    CR_CHECK(t.defined() && t.requires_grad(), std::runtime_error, "grad: input ", i,
             " does not require grad");
    if (t.grad_fn()) cap.nodes.emplace(t.grad_fn().get(), i);
    else cap.leaves.emplace(t.impl(), i);
  }
  run_backward(outputs, grad_outputs, keeps_graph(retain_graph, create_graph), create_graph, &cap);
  std::vector<Tensor> out(inputs.size());
  for (size_t i = 0; i < inputs.size(); ++i) {
    CR_CHECK(cap.results[i] || allow_unused, std::runtime_error, "grad: input ", i, " (shape ",
             inputs[i].shape(),
             ") was not used to compute the outputs; "
             "pass allow_unused=true (Python: allow_unused=True) if that is intended");
    if (cap.results[i]) out[i] = Tensor(cap.results[i]);
  }
  return out;
}

}  // namespace autograd
}  // namespace chainrule
