// nn::Probe: what cr.doctor reads of each module call in a forward and backward (statistics of its
// output, its input and the gradient reaching its output), taken by C++ hooks in one pass per tensor.
#pragma once
#include <memory>
#include <optional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "nn/module.h"

namespace chainrule::nn {

// How a module's call is read. Every module: its output's statistics, and in backward those of the
// gradient reaching the output. An activation also its input's (the pre-activation); a ReLU-like one
// (outputs >= 0) which units are 0 for the whole batch; Tanh and Sigmoid the share of outputs in the
// flat tails, |t| > level with t = 2s - 1 for a sigmoid (the same slope criterion as tanh's).
enum class ProbeKind { kPlain, kActivation, kDead, kTanh, kSigmoid };

struct ProbeCall {
  std::string name;
  ProbeKind kind = ProbeKind::kPlain;
  Shape shape;                                    // of the output
  std::optional<TensorStats> out, pre, out_grad;  // out: floating outputs only
  Tensor dead;                                    // kDead, 2+ dims, not empty: bool per unit of dim 1
  double saturated = NAN;                         // kTanh / kSigmoid: share of outputs in the tails
  Tensor values;  // activations, with keep_values: the output (detached), and its version then
  uint64_t values_version = 0;
  Tensor output;  // with keep_output: the output itself (its graph)
};

// Forward hooks on the given modules while the probe lives (or until remove()); each call of one of
// them adds a ProbeCall, in forward order, whose out_grad backward fills in later. On each of
// `params`: whether backward accumulated into its .grad (reached), Σx² of what .grad held before the
// first accumulation (held_sumsq: 0 after zero_grad; gradient a step already used if it was
// forgotten), and the statistics of what backward added since (fresh: .grad minus that, measured
// after each accumulation, so before clipping or any other change to .grad).
class Probe {
 public:
  struct Target {
    std::string name;
    Module* module;
    ProbeKind kind;
  };
  struct LastOutput {  // the latest measured output, its data and version then, and its statistics
    Tensor out;
    const void* data = nullptr;
    uint64_t version = 0;
    TensorStats stats;
  };
  Probe(const std::vector<Target>& targets, bool keep_values, bool keep_output,
        double saturation_level = 0.97, const std::vector<Tensor>& params = {});
  ~Probe();
  Probe(const Probe&) = delete;
  Probe& operator=(const Probe&) = delete;
  void remove();
  const std::vector<std::shared_ptr<ProbeCall>>& calls() const { return *calls_; }
  size_t num_params() const { return params_->size(); }
  bool reached(size_t i) const { return params_->at(i).reached; }
  double held_sumsq(size_t i) const { return params_->at(i).held_sumsq; }
  const std::optional<TensorStats>& fresh(size_t i) const { return params_->at(i).fresh; }

 private:
  struct ParamState {
    bool reached = false;
    Tensor tentative, held;  // copies of a non-zero .grad before backward (tentative until it adds)
    double held_sumsq = 0;
    std::optional<TensorStats> fresh;
  };
  std::shared_ptr<std::vector<std::shared_ptr<ProbeCall>>> calls_;
  std::shared_ptr<LastOutput> last_;
  std::shared_ptr<std::vector<ParamState>> params_;
  std::vector<RemovableHandle> handles_;
};

// What cr.doctor.watch measures on a sampled optimizer step, in two calls around the step (in Python
// every call on a sampled step costs several times what it does in a warm loop: the step before it
// left the caches cold). arm() puts a Probe on the model for the step to come; before() (just before
// the optimizer's step) takes it off and returns its record: the forward's calls, what backward
// added to each .grad, the statistics of each .grad and value, and copies of the values and of the
// weights' .grad (for the histograms); after() measures the change the step made. The copies live
// in buffers reused from sample to sample: before() takes the previous record's gradient copies and
// activation values away from it.
struct StepRecord {
  struct Held {  // a parameter backward accumulated into (Probe::reached)
    size_t index;
    double held_sumsq;
    std::optional<TensorStats> fresh;
  };
  std::vector<std::shared_ptr<ProbeCall>> calls;   // the forward's module calls, in order
  std::vector<Held> held;                          // as before the step (a closure's backward is not in it)
  std::vector<bool> requires_grad;                 // per parameter, at the step
  std::vector<std::optional<TensorStats>> grads;   // none for an undefined .grad
  std::vector<std::optional<TensorStats>> values;  // before the step; none for a non-floating parameter
  std::vector<std::optional<TensorStats>> update;  // value after - value before (after() fills it)
  std::vector<std::pair<size_t, Tensor>> grad_copies;  // (parameter index, copy of its .grad): 2+ dims
  bool latest = true;  // false once a later before() took its copies and activation values
};

class StepSampler {
 public:
  StepSampler(std::vector<Probe::Target> targets, std::vector<Tensor> params, double saturation_level = 0.97);
  void arm();
  bool armed() const { return probe_ != nullptr; }
  void disarm();                         // hooks off without a record (a step that raised)
  std::shared_ptr<StepRecord> before();  // hooks off; the record
  void after(StepRecord& record);        // record: the latest before()'s

 private:
  std::vector<Probe::Target> targets_;
  std::vector<Tensor> params_;
  double level_;
  std::shared_ptr<Probe> probe_;
  std::vector<Tensor> buffers_;  // the values' copies, then the weights' .grad copies
  std::shared_ptr<StepRecord> last_;
};

}  // namespace chainrule::nn
