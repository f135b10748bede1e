// The autograd engine: grad mode, recording nodes, iterative topological backward, autograd::grad,
// and iterative graph teardown.
#include "core/autograd.h"

#include <algorithm>
#include <atomic>
#include <cctype>
#include <cmath>
#include <cstring>
#include <iomanip>
#include <mutex>
#include <queue>
#include <sstream>
#include <unordered_map>
#include <unordered_set>
#include <utility>

#include "core/ops.h"

namespace chainrule {

// ---------------------------------------------------------------- grad mode
namespace {
// Every per-thread mode the recording path reads, in one object: one thread-local lookup per op.
struct ThreadModes {
  bool grad_enabled = true;
  bool in_tangent_rule = false;  // tangent rules see plain primals
  bool anomaly = false;          // detect_anomaly: nodes keep where they were made
  bool anomaly_nan = false;      // ... and backward rules' results are checked
  bool anomaly_forward = false;  // ... and every op's output is checked as it is made
  bool in_backward = false;      // inside a backward pass (its rules' ops are not the user's lines)
  uint64_t dual_level = 0;       // forward mode's active level, 0: none
  const autograd::StepObserver* observer = nullptr;  // autograd::ObserveBackward
};
thread_local ThreadModes tls;
std::atomic<uint64_t> visit_counter{0};
std::atomic<uint64_t> node_counter{0};  // Node::seq
}  // namespace

bool is_grad_enabled() { return tls.grad_enabled; }
void set_grad_enabled(bool e) { tls.grad_enabled = e; }

// ---------------------------------------------------------------- anomaly mode
namespace {
std::function<std::string()> anomaly_where;  // set once, by the bindings

std::string where_now() {
  std::string w = anomaly_where ? anomaly_where() : std::string();
  return w.empty() ? std::string() : " (called at " + w + ")";
}

std::string fmt_value(double v) {
  if (std::isnan(v)) return "nan";
  if (std::isinf(v)) return v > 0 ? "inf" : "-inf";
  std::ostringstream o;
  o << std::setprecision(6) << v;
  std::string s = o.str();
  return s.find_first_of(".e") == std::string::npos ? s + ".0" : s;  // as Python prints a float
}

// The index of element `flat` (row-major) of a tensor of this shape.
Shape unravel(const Shape& shape, int64_t flat) {
  Shape idx(shape.size());
  for (size_t d = shape.size(); d-- > 0;) {
    idx[d] = shape[d] ? flat % shape[d] : 0;
    flat = shape[d] ? flat / shape[d] : 0;
  }
  return idx;
}

std::string fmt_index(const Shape& shape, int64_t flat) {
  Shape idx = unravel(shape, flat);
  std::string out = "[";
  for (size_t d = 0; d < idx.size(); ++d) out += (d ? ", " : "") + std::to_string(idx[d]);
  return out + "]";
}

double element(const Tensor& t, int64_t flat) {
  return t.detach().to(kFloat64).contiguous().data<double>()[flat];
}

// The flat index of the first nan or inf in t, or -1.
int64_t first_nonfinite(const Tensor& t) {
  if (!t.defined() || !is_floating(t.dtype()) || t.numel() == 0) return -1;
  Tensor d = t.detach().to(kFloat64).contiguous();
  const double* p = d.data<double>();
  for (int64_t i = 0; i < d.numel(); ++i)
    if (!std::isfinite(p[i])) return i;
  return -1;
}

// x's value at the element of a result of shape `out` with flat index `flat`, when x broadcasts to it.
std::string value_at(const Tensor& x, const Shape& out, int64_t flat) {
  const Shape& s = x.shape();
  if (s.size() > out.size()) return "";
  for (size_t d = 0; d < s.size(); ++d)
    if (s[d] != 1 && s[d] != out[out.size() - s.size() + d]) return "";
  Shape idx = unravel(out, flat);
  int64_t k = 0;
  for (size_t d = 0; d < s.size(); ++d) k = k * s[d] + (s[d] == 1 ? 0 : idx[out.size() - s.size() + d]);
  return fmt_index(s, k) + " = " + fmt_value(element(x, k));
}

// Ops whose output element i depends only on element i of each (broadcast) input: only for them
// do the inputs' values at the bad element explain it. Others say whether an input was bad.
bool elementwise(const char* op) {
  static const char* const names[] = {
      "add",   "sub",   "mul",      "div",       "pow",   "neg",   "exp",        "exp2",    "expm1",
      "log",   "log2",  "log10",    "log1p",     "sqrt",  "rsqrt", "reciprocal", "square",  "sin",
      "cos",   "tan",   "asin",     "acos",      "atan",  "sinh",  "cosh",       "tanh",    "asinh",
      "acosh", "atanh", "atan2",    "sigmoid",   "logit", "relu",  "abs",        "maximum", "minimum",
      "clamp", "where", "softplus", "gelu",      "elu",   "silu",  "leaky_relu", "erf",     "hypot",
      "xlogy", "lerp",  "fmod",     "remainder", "to",    "clone", "contiguous"};
  for (const char* n : names)
    if (std::strcmp(op, n) == 0) return true;
  return false;
}

// How the inputs of common ops are called in a message ("denominator[3] = 0").
std::string input_name(const char* op, size_t i, size_t n) {
  const std::string o = op;
  if (o == "div") return i == 0 ? "numerator" : "denominator";
  if (o == "pow") return i == 0 ? "base" : "exponent";
  return n == 1 ? "input" : "input " + std::to_string(i);
}

std::string inputs_at(const char* op, const Tensor* in, size_t n, const Shape& out, int64_t flat) {
  std::string s;
  for (size_t i = 0; i < n; ++i) {
    if (!in[i].defined() || !is_floating(in[i].dtype())) continue;
    std::string v = elementwise(op) ? value_at(in[i], out, flat) : "";
    if (v.empty()) {  // not elementwise: say whether the input was already bad
      int64_t bad = first_nonfinite(in[i]);
      v = " (shape " + detail::concat(in[i].shape()) + ")" +
          (bad < 0 ? std::string(" is finite")
                   : " already holds a nan or inf at " + fmt_index(in[i].shape(), bad));
    }
    s += (s.empty() ? "" : ", ") + input_name(op, i, n) + v;
  }
  return s;
}

// detect_anomaly(check_forward): the op whose output holds the first nan or inf stops there.
void check_forward_output(const char* op, const Tensor& out, const Tensor* in, size_t n) {
  struct Off {  // the check's own ops (to, contiguous) are not checked
    ~Off() { tls.anomaly_forward = true; }
  } off;
  tls.anomaly_forward = false;
  int64_t bad = first_nonfinite(out);
  if (bad < 0) return;
  // A nan or inf that an input already held was reported where it was made (or came with data
  // that needs no gradient, like ops' own intermediates); a leaf that requires grad is the user's.
  for (size_t i = 0; i < n; ++i)
    if (in[i].defined() && !(in[i].requires_grad() && in[i].is_leaf()) && first_nonfinite(in[i]) >= 0) return;
  double v = element(out, bad);
  throw std::runtime_error(detail::concat("detect_anomaly: '", op, "'", where_now(), " produced ",
                                          fmt_value(v), " at ", fmt_index(out.shape(), bad),
                                          " of its output (shape ", out.shape(),
                                          "): ", inputs_at(op, in, n, out.shape(), bad)));
}
}  // namespace

bool is_anomaly_enabled() { return tls.anomaly; }
bool is_anomaly_check_nan_enabled() { return tls.anomaly_nan; }
bool is_anomaly_check_forward_enabled() { return tls.anomaly_forward; }
void set_anomaly_enabled(bool enabled, bool check_nan, bool check_forward) {
  tls.anomaly = enabled;
  tls.anomaly_nan = enabled && check_nan;
  tls.anomaly_forward = enabled && check_nan && check_forward;
}
void set_anomaly_context(std::function<std::string()> where) { anomaly_where = std::move(where); }
std::string current_site() { return anomaly_where ? anomaly_where() : std::string(); }

const std::string* intern_site(const std::string& where) {
  static std::mutex mutex;
  static std::unordered_set<std::string> sites;  // node-based: pointers stay valid
  std::lock_guard<std::mutex> lock(mutex);
  return &*sites.insert(where).first;
}

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
std::atomic<uint64_t> level_counter{0};

struct TangentRuleScope {  // a rule's own ops are not forward-checked by anomaly mode either
  bool prev = tls.in_tangent_rule, prev_check = tls.anomaly_forward;
  TangentRuleScope() { tls.in_tangent_rule = true, tls.anomaly_forward = false; }
  ~TangentRuleScope() { tls.in_tangent_rule = prev, tls.anomaly_forward = prev_check; }
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
    twin->output.reset();  // retain_grad() is the output's, not the twin's
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
uint64_t current_level() { return tls.in_tangent_rule ? 0 : tls.dual_level; }

uint64_t enter_dual_level() {
  CR_CHECK(tls.dual_level == 0, std::runtime_error,
           "dual_level: a dual level is already active; forward mode runs one level at a time (as "
           "torch.autograd.forward_ad); for derivatives of derivatives compose cr.func transforms");
  tls.dual_level = ++level_counter;
  return tls.dual_level;
}

void exit_dual_level(uint64_t level) {
  CR_CHECK(level != 0 && level == tls.dual_level, std::runtime_error, "exit_dual_level: level ", level,
           " is not the active dual level (", tls.dual_level, ")");
  tls.dual_level = 0;  // its tangents are stale from now on: their level never comes back
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
  CR_CHECK(tls.dual_level != 0, std::runtime_error,
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
  dual.impl()->fw_level = tls.dual_level;
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
  out.impl()->fw_level = tls.dual_level;
  // A saved output carries the tangent too, for backward under this level (forward over reverse).
  if (Node* node = out.impl()->grad_fn.get(); node && node->saved_output.impl) {
    node->saved_output.impl->fw_grad = t.impl_ptr();
    node->saved_output.impl->fw_level = tls.dual_level;
  }
}

// ---------------------------------------------------------------- record
template <class Inputs>
static Tensor record_reverse(const char* op, Tensor out, const Inputs& inputs, unsigned save, BackwardFn fn) {
  bool any = false;
  for (const Tensor& t : inputs) any = any || (t.defined() && t.requires_grad());
  if (!any) return out;
  if (!tls.grad_enabled) {
    out.impl()->untracked_by = op;  // why_no_grad's evidence
    if (tls.anomaly && !tls.in_backward && anomaly_where)
      out.impl()->untracked_at = intern_site(anomaly_where());
    return out;
  }
  auto node = std::make_shared<Node>();
  node->op = op;
  node->seq = ++node_counter;
  node->output = out.impl_ptr();
  if (tls.anomaly && anomaly_where) node->context = std::make_shared<const std::string>(anomaly_where());
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
  out.impl()->untracked_by = nullptr;  // tracked after all (an alias made with detach, recorded)
  out.impl()->untracked_at = nullptr;
  return out;
}

// The tangent comes after the node, so that a rule reading the output differentiates through it.
template <class Inputs> static Tensor record_impl(const char* op, Tensor out, const Inputs& inputs,
                                                  unsigned save, BackwardFn fn, const TangentFn& tangent) {
  if (tls.anomaly_forward) check_forward_output(op, out, std::data(inputs), inputs.size());
  out = record_reverse(op, std::move(out), inputs, save, std::move(fn));
  if (tls.dual_level != 0 && !tls.in_tangent_rule)
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
  if (!tls.grad_enabled || !x.defined() || !x.requires_grad()) return value;
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
std::atomic<bool> warn_zero_grad{true}, warned_zero_grad{false};

// The forgotten zero_grad(): backward is about to add into a .grad that an optimizer step used and
// nothing has touched since (clearing or setting .grad resets the mark; zeroing it in place moves
// its version). Returns the warning to give once the pass is over, or "" (checked once per step).
std::string forgotten_zero_grad(TensorImpl& leaf) {
  leaf.grad_stepped = false;
  if (!warn_zero_grad || warned_zero_grad || leaf.grad->storage->version != leaf.grad_step_version) return "";
  if (warned_zero_grad.exchange(true)) return "";
  return detail::concat(
      "backward: adding to the .grad of a parameter of shape ", leaf.shape,
      " that an optimizer step already used: the next step would follow the sum of this batch's gradient and "
      "the last one's. Call optimizer.zero_grad() (or model.zero_grad()) before each backward(). If you "
      "accumulate over several batches on purpose, zero the gradients after each step; this warning shows "
      "once (autograd::set_warn_forgotten_zero_grad(false) turns it off; Python: "
      "cr.autograd.set_warn_forgotten_zero_grad(False)).");
}

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

// What n hands each input when its output receives g: its rule, then broadcasting and promotion
// undone (here, once, instead of in every op).
Grads run_rule(const Node& n, const Tensor& g) {
  if (n.freed && n.had_saved) check_saved(n, n.saved_output, "output", 0);  // the retain_graph message
  Grads gs = n.fn(g, Saved(&n));
  CR_CHECK(gs.size() == n.next.size(), std::runtime_error, "internal: backward of '", n.op, "' returned ",
           gs.size(), " gradients for ", n.next.size(), " inputs");
  for (size_t i = 0; i < gs.size(); ++i) {
    Tensor& gi = gs[i];
    if (!gi.defined()) continue;
    if (!n.next[i].needs_grad()) {
      gi = Tensor();
      continue;
    }
    if (gi.shape() != n.input_shapes[i]) gi = sum_to(gi, n.input_shapes[i]);
    if (gi.dtype() != n.input_dtypes[i]) gi = gi.to(n.input_dtypes[i]);
  }
  return gs;
}

// Anomaly mode: a rule that returns a nan or inf stops the pass, naming the op and where it was made.
void check_gradients(const Node& n, const Tensor& g, const Grads& gs) {
  for (size_t i = 0; i < gs.size(); ++i) {
    int64_t bad = first_nonfinite(gs[i]);
    if (bad < 0) continue;
    double v = element(gs[i], bad);
    // The values the rule read at that element, where they line up with it (elementwise ops).
    const Shape& at = gs[i].shape();
    std::string seen;
    auto show = [&](const std::string& what, const Tensor& t) {
      std::string v = t.defined() && elementwise(n.op) ? value_at(t, at, bad) : "";
      if (!v.empty()) seen += (seen.empty() ? ", where " : ", ") + what + v;
    };
    if (!n.freed) {
      if (n.saved_inputs.size() == n.next.size() && n.saved_inputs[i].impl)
        show(input_name(n.op, i, n.next.size()), Tensor(n.saved_inputs[i].impl));
      if (n.saved_output.impl) show("output", Tensor(n.saved_output.impl));
    }
    show("incoming gradient", g);
    int64_t bad_in = first_nonfinite(g);
    throw std::runtime_error(detail::concat(
        "detect_anomaly: the backward of '", n.op, "' (", n.name(), ")",
        n.context && !n.context->empty() ? " made at " + *n.context
                                         : std::string(" (made before anomaly mode)"),
        " returned ", fmt_value(v), " in the gradient of its ", input_name(n.op, i, n.next.size()), " at ",
        fmt_index(gs[i].shape(), bad), seen,
        bad_in < 0 ? std::string("; the incoming gradient was finite, so the rule made it")
                   : "; the incoming gradient already held a nan or inf at " + fmt_index(g.shape(), bad_in)));
  }
}

// One backward pass, in the order a student can follow: seed the outputs' gradients, discover the
// graph (counting what each node and leaf waits for), then repeatedly pop the ready node created
// last (torch's order), sum what it received, show it to its hooks, run its rule, and hand each
// gradient to the input it belongs to. Iterative: a 1,000,000-node chain needs no deep stack.
class BackwardPass {
 public:
  BackwardPass(bool retain_graph, bool create_graph, Capture* capture)
      : op_(capture ? "grad" : "backward"), retain_(retain_graph), create_(create_graph), capture_(capture) {}

  const std::string& warning() const { return warning_; }

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
      Grads in = g.defined() ? run_rule(*n, g) : Grads(n->next.size());
      if (tls.anomaly_nan) check_gradients(*n, g, in);
      if (tls.observer && g.defined()) (*tls.observer)(*n, g, in);
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
    if (leaf->grad_stepped && leaf->grad && warning_.empty()) warning_ = forgotten_zero_grad(*leaf);
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
    } else if (auto out = n->output.lock(); out && out->retains_grad && out->grad_fn.get() == n) {
      // (an in-place squeeze_ moves the tensor to a new node: only its own node fills its .grad)
      accumulate(out->grad, g, create_);
    }
    return g;
  }

  void hand_to_inputs(Node* n, Grads& gs) {
    for (size_t i = 0; i < n->next.size(); ++i) {
      Edge& e = n->next[i];
      Tensor g = std::move(gs[i]);
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
  std::string warning_;  // given after the pass: a warning that raises must not stop it halfway
  std::unordered_map<const TensorImpl*, LeafSlot> leaves_;
  std::priority_queue<Node*, std::vector<Node*>, CreatedLater> ready_;
};

void run_backward(const std::vector<Tensor>& roots, const std::vector<Tensor>& root_grads, bool retain_graph,
                  bool create_graph, Capture* capture) {
  std::string warning;
  {
    struct Restore {
      bool m, fwd, bwd;
      ~Restore() { tls.grad_enabled = m, tls.anomaly_forward = fwd, tls.in_backward = bwd; }
    } restore{tls.grad_enabled, tls.anomaly_forward, tls.in_backward};
    tls.grad_enabled = create_graph;  // rules build a graph only for create_graph
    tls.anomaly_forward = false;      // in anomaly mode the rules' results are checked instead
    tls.in_backward = true;
    BackwardPass pass(retain_graph, create_graph, capture);
    pass.run(roots, root_grads);
    warning = pass.warning();
  }
  if (!warning.empty()) warn(warning);
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

ObserveBackward::ObserveBackward(StepObserver observer)
    : observer_(std::move(observer)), prev_(tls.observer) {
  tls.observer = &observer_;
}
ObserveBackward::~ObserveBackward() { tls.observer = prev_; }

Grads local_grads(const Node& n, const Tensor& grad_output) {
  CR_CHECK(grad_output.defined(), std::invalid_argument, "local_grads: expected a gradient, got None");
  if (auto out = n.output.lock())
    CR_CHECK(grad_output.shape() == out->shape, std::invalid_argument, "local_grads: expected a gradient of ",
             n.name(), "'s output shape ", out->shape, ", got ", grad_output.shape());
  NoGradGuard no_graph;
  struct Restore {  // as in a backward pass: the rule's own ops are not forward-checked
    bool fwd;
    ~Restore() { tls.anomaly_forward = fwd; }
  } restore{tls.anomaly_forward};
  tls.anomaly_forward = false;
  return run_rule(n, grad_output);
}

uint64_t next_node_seq() { return node_counter + 1; }

void set_warn_forgotten_zero_grad(bool enabled) {
  warn_zero_grad = enabled;
  if (enabled) warned_zero_grad = false;  // on again: it may show once more
}
bool is_warn_forgotten_zero_grad_enabled() { return warn_zero_grad; }

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
