// nn::Probe: forward hooks that measure each call (tensor_stats, dead units, saturation) in C++ and a
// gradient hook on each output for the gradient's statistics.
#include "nn/probe.h"

#include <cmath>
#include <cstring>

#include "core/autograd.h"
#include "core/kernels.h"

namespace chainrule::nn {
namespace {

// Share of |a·x + b| > level over the elements (contiguous, floating).
double tail_share(const Tensor& x, double a, double b, double level) {
  if (x.numel() == 0) return NAN;
  Tensor c = x.contiguous();
  const int64_t size = c.numel();  // a local bound: the loop vectorises
  int64_t n = 0;
  kernels::dispatch_floating(c.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* p = kernels::ptr<T>(c);
    for (int64_t i = 0; i < size; ++i) n += std::abs(a * double(p[i]) + b) > level;
  });
  return double(n) / double(size);
}

void measure(ProbeCall& call, const Tensor& input, const Tensor& y, bool keep_values, double level,
             Probe::LastOutput& last) {
  NoGradGuard no_grad;
  call.shape = y.shape();
  if (!is_floating(y.dtype())) return;
  if (call.kind != ProbeKind::kPlain && input.defined() && is_floating(input.dtype())) {
    // an activation's input is usually the output the call before measured: the same tensor,
    // unchanged since (held by `last`, so its address cannot be another's)
    // (the data pointer too: `.data =` swaps the storage of the same tensor, maybe at the same
    // version; a write through NumPy bumps no version, and is not seen)
    bool same = last.out.defined() && input.impl() == last.out.impl() && input.raw_data() == last.data &&
                input.version() == last.version;
    call.pre = same ? last.stats : tensor_stats(input);
  }
  call.out = tensor_stats(y);
  last = {y, y.raw_data(), y.version(), *call.out};
  if (call.kind == ProbeKind::kPlain) return;
  if (keep_values) {  // not a copy: the histograms need only the latest sample's, if unchanged
    call.values = y.detach();
    call.values_version = y.version();
  }
  if (call.kind == ProbeKind::kDead && y.dim() >= 2 && y.numel() > 0) {
    std::vector<int64_t> dims{0};
    for (int64_t d = 2; d < y.dim(); ++d) dims.push_back(d);
    call.dead = eq(amax(y.detach(), dims), 0);  // outputs >= 0: the max is 0 iff all are (nan is not)
  } else if (call.kind == ProbeKind::kTanh) {
    call.saturated = tail_share(y, 1.0, 0.0, level);
  } else if (call.kind == ProbeKind::kSigmoid) {
    call.saturated = tail_share(y, 2.0, -1.0, level);
  }
}

}  // namespace

Probe::Probe(const std::vector<Target>& targets, bool keep_values, bool keep_output, double level,
             const std::vector<Tensor>& params)
    : calls_(std::make_shared<std::vector<std::shared_ptr<ProbeCall>>>()),
      last_(std::make_shared<LastOutput>()),
      params_(std::make_shared<std::vector<ParamState>>(params.size())) {
  for (size_t i = 0; i < params.size(); ++i) {
    if (!params[i].requires_grad()) continue;
    std::weak_ptr<std::vector<ParamState>> weak = params_;
    // Before backward adds to .grad, note what it holds; autograd.grad runs this hook too but adds
    // nothing, so the note is confirmed only by the first accumulation (the post-accumulate hook),
    // which also measures the gradient backward produced: .grad minus what it held, before anything
    // (clipping) changes .grad. The hooks hold the parameter; remove() (also from the destructor)
    // takes them off, ending the cycle.
    handles_.push_back(params[i].register_hook([weak, i, p = params[i]](const Tensor&) {
      auto states = weak.lock();
      if (!states || (*states)[i].reached) return Tensor();
      Tensor old = p.grad();
      ParamState& st = (*states)[i];
      st.tentative = Tensor();
      if (old.defined()) {
        TensorStats s = tensor_stats(old);
        if (s.sumsq != 0 || s.nan != 0) st.tentative = old.detach().clone();
      }
      return Tensor();
    }));
    handles_.push_back(params[i].register_post_accumulate_grad_hook([weak, i](const Tensor& leaf) {
      auto states = weak.lock();
      if (!states) return;
      ParamState& st = (*states)[i];
      if (!st.reached) {
        st.reached = true;
        st.held = std::move(st.tentative);
        st.held_sumsq = st.held.defined() ? tensor_stats(st.held).sumsq : 0.0;
      }
      Tensor g = leaf.grad();
      if (!g.defined() || !is_floating(g.dtype())) return;
      bool fits = st.held.defined() && st.held.shape() == g.shape() && st.held.dtype() == g.dtype();
      st.fresh = fits ? tensor_stats(g, st.held) : tensor_stats(g);
    }));
  }
  for (const Target& t : targets) {
    // the hook holds the list weakly: a graph that outlives the probe must not keep its calls alive
    std::weak_ptr<std::vector<std::shared_ptr<ProbeCall>>> weak = calls_;
    handles_.push_back(
        t.module->register_forward_hook([weak, last = last_, name = t.name, kind = t.kind, keep_values,
                                         keep_output, level](Module&, const Tensor& x, const Tensor& y) {
          auto calls = weak.lock();
          if (!calls) return Tensor();
          auto call = std::make_shared<ProbeCall>();
          call->name = name;
          call->kind = kind;
          measure(*call, x, y, keep_values, level, *last);
          if (keep_output) call->output = y;
          if (y.requires_grad()) {
            std::weak_ptr<ProbeCall> weak_call = call;
            y.register_hook([weak_call](const Tensor& g) {
              if (auto c = weak_call.lock(); c && g.defined() && is_floating(g.dtype()))
                c->out_grad = tensor_stats(g);
              return Tensor();
            });
          }
          calls->push_back(std::move(call));
          return Tensor();
        }));
  }
}

Probe::~Probe() { remove(); }

void Probe::remove() {
  for (RemovableHandle& h : handles_) h.remove();
  handles_.clear();
  *last_ = LastOutput();
}

namespace {
// `slot` becomes a copy of x: written over (one memcpy) when it fits, else a fresh clone.
void copy_into(Tensor& slot, const Tensor& x) {
  if (slot.defined() && slot.shape() == x.shape() && slot.dtype() == x.dtype() && slot.is_contiguous() &&
      !slot.requires_grad() && slot.raw_data() != x.raw_data()) {
    Tensor src = x.detach().contiguous();
    std::memcpy(slot.raw_data(), src.raw_data(), size_t(src.numel()) * dtype_size(src.dtype()));
    slot.bump_version();
    return;
  }
  slot = x.detach().clone();
}
}  // namespace

StepSampler::StepSampler(std::vector<Probe::Target> targets, std::vector<Tensor> params, double level)
    : targets_(std::move(targets)), params_(std::move(params)), level_(level) {}

void StepSampler::arm() {
  disarm();
  probe_ = std::make_shared<Probe>(targets_, true, false, level_, params_);
}

void StepSampler::disarm() {
  if (probe_) probe_->remove();
  probe_.reset();
}

std::shared_ptr<StepRecord> StepSampler::before() {
  CR_CHECK(probe_, std::runtime_error,
           "StepSampler::before: not armed (call arm() before the step's forward)");
  NoGradGuard no_grad;
  auto r = std::make_shared<StepRecord>();
  r->calls = probe_->calls();
  for (size_t i = 0; i < probe_->num_params(); ++i)
    if (probe_->reached(i)) r->held.push_back({i, probe_->held_sumsq(i), probe_->fresh(i)});
  disarm();     // what the step itself runs (a closure's forward and backward) is not this sample's
  if (last_) {  // its copies are written over below; the activations it kept need not outlive it
    last_->grad_copies.clear();
    last_->latest = false;
    for (const auto& c : last_->calls) c->values = Tensor();
  }
  const size_t n = params_.size();
  size_t slots = n;
  for (const Tensor& p : params_) slots += p.grad().defined() && p.grad().dim() >= 2;
  buffers_.resize(slots);
  size_t slot = n;
  for (size_t i = 0; i < n; ++i) {
    const Tensor& p = params_[i];
    Tensor g = p.grad();
    r->requires_grad.push_back(p.requires_grad());
    bool floating_grad = g.defined() && is_floating(g.dtype());
    r->grads.push_back(floating_grad ? std::optional<TensorStats>(tensor_stats(g)) : std::nullopt);
    if (is_floating(p.dtype())) {  // a parameter may hold integers (requires_grad=False): not measured
      r->values.push_back(tensor_stats(p));
      copy_into(buffers_[i], p);
    } else {
      r->values.push_back(std::nullopt);
      buffers_[i] = Tensor();
    }
    if (floating_grad && g.dim() >= 2) {
      copy_into(buffers_[slot], g);
      r->grad_copies.emplace_back(i, buffers_[slot++]);
    }
  }
  buffers_.resize(slot);
  last_ = r;
  return r;
}

void StepSampler::after(StepRecord& r) {
  CR_CHECK(&r == last_.get(), std::invalid_argument,
           "StepSampler::after: expected the record of the latest before() (an older one's copies are gone)");
  NoGradGuard no_grad;
  r.update.clear();
  for (size_t i = 0; i < params_.size(); ++i) {
    const Tensor& p = params_[i];
    const Tensor& b = buffers_[i];
    bool fits = b.defined() && is_floating(p.dtype()) && b.shape() == p.shape() && b.dtype() == p.dtype();
    r.update.push_back(fits ? std::optional<TensorStats>(tensor_stats(p, b)) : std::nullopt);
  }
}

}  // namespace chainrule::nn
