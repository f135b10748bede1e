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

StepSnapshot step_snapshot(const std::vector<Tensor>& grads, const std::vector<Tensor>& values,
                           std::vector<Tensor>& buffers) {
  CR_CHECK(grads.size() == values.size(), std::invalid_argument,
           "step_snapshot: expected as many grads as values, got ", grads.size(), " and ", values.size());
  NoGradGuard no_grad;
  StepSnapshot s;
  size_t slots = values.size();
  for (const Tensor& g : grads) slots += g.defined() && g.dim() >= 2;
  buffers.resize(slots);
  size_t slot = 0;
  for (size_t i = 0; i < values.size(); ++i) {
    s.grads.push_back(grads[i].defined() ? std::optional<TensorStats>(tensor_stats(grads[i])) : std::nullopt);
    s.values.push_back(tensor_stats(values[i]));
    copy_into(buffers[slot++], values[i]);
  }
  for (size_t i = 0; i < grads.size(); ++i) {
    if (!grads[i].defined() || grads[i].dim() < 2) continue;
    copy_into(buffers[slot], grads[i]);
    s.grad_copies.emplace_back(i, buffers[slot++]);
  }
  return s;
}

}  // namespace chainrule::nn
