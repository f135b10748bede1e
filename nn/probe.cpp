// nn::Probe: forward hooks that measure each call (tensor_stats, dead units, saturation) in C++ and a
// gradient hook on each output for the gradient's statistics.
#include "nn/probe.h"

#include <cmath>

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
    bool same = last.out.defined() && input.impl() == last.out.impl() && input.version() == last.version;
    call.pre = same ? last.stats : tensor_stats(input);
  }
  call.out = tensor_stats(y);
  last = {y, y.version(), *call.out};
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
    // holds the parameter: remove() (also from the destructor) takes the hook off, ending the cycle
    handles_.push_back(params[i].register_hook([weak, i, p = params[i]](const Tensor&) {
      auto states = weak.lock();
      if (!states || (*states)[i].reached) return Tensor();
      (*states)[i].reached = true;  // runs before backward adds to .grad: what it holds is older
      Tensor old = p.grad();
      if (old.defined()) {
        TensorStats s = tensor_stats(old);
        if (s.sumsq != 0 || s.nan != 0) (*states)[i].held = old.detach().clone();
      }
      return Tensor();
    }));
  }
  for (const Target& t : targets) {
    // the hook holds the list weakly: a graph that outlives the probe must not keep its calls alive
    std::weak_ptr<std::vector<std::shared_ptr<ProbeCall>>> weak = calls_;
    handles_.push_back(t.module->register_forward_hook(
        [weak, last = last_, name = t.name, kind = t.kind, keep_values, keep_output, level](
            Module&, const Tensor& x, const Tensor& y) {
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
              if (auto c = weak_call.lock(); c && g.defined() && is_floating(g.dtype())) c->out_grad = tensor_stats(g);
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

}  // namespace chainrule::nn
