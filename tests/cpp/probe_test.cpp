// nn::Probe: each hooked call's statistics equal tensor_stats of what the layer computed (output,
// pre-activation, the gradient reaching the output), dead units and saturation by their
// definitions; removal, a probe gone before backward, and calls in forward order.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <vector>

#include "core/ops.h"
#include "nn/layers.h"
#include "nn/probe.h"

namespace {
using namespace chainrule;
using namespace chainrule::nn;

void expect_stats(const std::optional<TensorStats>& got, const Tensor& of) {
  ASSERT_TRUE(got.has_value());
  TensorStats want = tensor_stats(of);
  EXPECT_EQ(got->numel, want.numel);
  EXPECT_EQ(got->nan, want.nan);
  EXPECT_DOUBLE_EQ(got->mean, want.mean);
  EXPECT_DOUBLE_EQ(got->std, want.std);
  EXPECT_DOUBLE_EQ(got->sumsq, want.sumsq);
}

struct Net {
  std::shared_ptr<Linear> l1 = std::make_shared<Linear>(3, 6), l2 = std::make_shared<Linear>(6, 4);
  std::shared_ptr<ReLU> relu = std::make_shared<ReLU>();
  std::shared_ptr<Tanh> tanh = std::make_shared<Tanh>();
  std::shared_ptr<Sequential> seq;
  Net() {
    seq = std::make_shared<Sequential>(std::vector<std::shared_ptr<Module>>{l1, relu, l2, tanh});
    NoGradGuard g;
    l1->parameter("bias").copy_(tensor({-9, -9, 0.1, 0.2, 0.3, 0.4}, {6}));  // units 0, 1 never fire
    l2->parameter("weight").mul_(8.0);                                       // tanh saturates
  }
  std::vector<Probe::Target> targets() {
    return {{"0", l1.get(), ProbeKind::kPlain},
            {"1", relu.get(), ProbeKind::kDead},
            {"2", l2.get(), ProbeKind::kPlain},
            {"3", tanh.get(), ProbeKind::kTanh}};
  }
};

TEST(Probe, MeasuresEachCallAsItsDefinitions) {
  manual_seed(0);
  Net net;
  Tensor x = randn({16, 3});
  Probe probe(net.targets(), true, false);
  Tensor y = (*net.seq)(x);
  Tensor h1 = net.l1->forward(x), a1 = relu(h1), h2 = net.l2->forward(a1), a2 = tanh(h2);
  ASSERT_EQ(probe.calls().size(), 4u);
  const ProbeCall &c0 = *probe.calls()[0], &c1 = *probe.calls()[1], &c3 = *probe.calls()[3];
  EXPECT_EQ(c0.name, "0");
  EXPECT_EQ(c1.shape, (Shape{16, 6}));
  expect_stats(c0.out, h1);
  EXPECT_FALSE(c0.pre.has_value());  // plain modules: no pre-activation
  expect_stats(c1.pre, h1);
  expect_stats(c1.out, a1);
  expect_stats(c3.out, a2);
  EXPECT_TRUE(allclose(c1.values, a1));
  EXPECT_EQ(c1.values.version(), c1.values_version);  // the output itself, not a copy: in-place writes show
  EXPECT_FALSE(c0.values.defined());
  // dead: 0 for all 16 examples
  Tensor dead = c1.dead;
  ASSERT_EQ(dead.shape(), (Shape{6}));
  for (int64_t u = 0; u < 6; ++u) {
    bool all_zero = true;
    for (int64_t i = 0; i < 16; ++i) all_zero = all_zero && a1.at({i, u}) == 0.0;
    EXPECT_EQ(dead.at({u}) != 0.0, all_zero) << "unit " << u;
  }
  EXPECT_NE(dead.at({0}), 0.0);
  EXPECT_NE(dead.at({1}), 0.0);
  int64_t tails = 0;
  for (int64_t i = 0; i < a2.numel(); ++i) tails += std::abs(reshape(a2, {-1}).at({i})) > 0.97;
  EXPECT_GT(tails, 0);
  EXPECT_DOUBLE_EQ(c3.saturated, double(tails) / double(a2.numel()));
  EXPECT_TRUE(std::isnan(c1.saturated));
  // backward fills in the gradient reaching each output
  Tensor w = randn({16, 4});
  (y * w).sum().backward();
  expect_stats(c3.out_grad, w);
  ASSERT_TRUE(c1.out_grad.has_value());
  Tensor g_a2 = w * (1.0 - a2 * a2);  // d/dh2 of sum(tanh(h2) * w)
  Tensor g_a1 = matmul(g_a2, net.l2->parameter("weight").detach());
  expect_stats(c1.out_grad, g_a1);
}

TEST(Probe, SigmoidTailsAreTanhsAtHalfTheInput) {
  auto sig = std::make_shared<Sigmoid>();
  Probe probe({{"s", sig.get(), ProbeKind::kSigmoid}}, false, false);
  Tensor x = tensor({-10, -4.0, 0, 4.0, 10}, {5}, kFloat64);
  (*sig)(x);
  double want = 0;
  for (double v : {-10.0, -4.0, 0.0, 4.0, 10.0}) want += std::abs(std::tanh(v / 2)) > 0.97;
  EXPECT_DOUBLE_EQ(probe.calls()[0]->saturated, want / 5.0);
  EXPECT_EQ(want, 2.0);  // tanh(2) = 0.964 is not in the tail, tanh(5) is
}

TEST(Probe, RemoveStopsRecordingAndAProbeGoneBeforeBackwardIsHarmless) {
  manual_seed(1);
  Net net;
  Tensor x = randn({4, 3});
  Tensor y;
  {
    Probe probe(net.targets(), false, true);
    y = (*net.seq)(x);
    EXPECT_EQ(probe.calls().size(), 4u);
    EXPECT_TRUE(probe.calls()[3]->output.requires_grad());  // keep_output: the output, with its graph
    probe.remove();
    (*net.seq)(x);
    EXPECT_EQ(probe.calls().size(), 4u);
  }
  y.sum().backward();  // its gradient hooks find their calls gone
  EXPECT_TRUE(net.l1->parameter("weight").grad().defined());
  EXPECT_FALSE(net.l1->has_hooks());
}

TEST(Probe, NonFloatingAndEmptyOutputsHaveNoStatistics) {
  auto relu = std::make_shared<ReLU>();
  Probe probe({{"r", relu.get(), ProbeKind::kDead}}, true, false);
  (*relu)(zeros({0, 5}));
  ASSERT_EQ(probe.calls().size(), 1u);
  const ProbeCall& c = *probe.calls()[0];
  ASSERT_TRUE(c.out.has_value());
  EXPECT_EQ(c.out->numel, 0);
  EXPECT_TRUE(std::isnan(c.out->mean));
  EXPECT_FALSE(c.dead.defined());  // no example: no unit to judge
  EXPECT_TRUE(std::isnan(c.saturated));
}

}  // namespace

namespace {
TEST(Probe, ParametersCountWhatBackwardAddedNotWhatAutogradGradSaw) {
  using namespace chainrule;
  using namespace chainrule::nn;
  manual_seed(2);
  auto lin = std::make_shared<Linear>(3, 2);
  Tensor w = lin->parameter("weight");
  Tensor x = randn({5, 3});
  x.set_requires_grad(true);
  auto loss = [&] { return (lin->forward(x) * 1.5).sum(); };
  {
    Probe probe({}, false, false, 0.97, {w});
    autograd::grad({loss()}, {x});  // may run w's hooks, adds nothing to w.grad
    EXPECT_FALSE(probe.reached(0));
    loss().backward();
    ASSERT_TRUE(probe.reached(0));
    EXPECT_EQ(probe.held_sumsq(0), 0.0);
    expect_stats(probe.fresh(0), w.grad());
  }
  Tensor first = w.grad().detach().clone();  // zero_grad forgotten: the next backward adds to it
  Probe probe({}, false, false, 0.97, {w});
  loss().backward();
  ASSERT_TRUE(probe.reached(0));
  EXPECT_DOUBLE_EQ(probe.held_sumsq(0), tensor_stats(first).sumsq);
  expect_stats(probe.fresh(0), w.grad() - first);
  {
    NoGradGuard g;
    w.grad().mul_(0.0);  // clipping after backward: what backward added is still what it added
  }
  expect_stats(probe.fresh(0), first);  // the same gradient again (same x, same w)
}
}  // namespace

namespace {
// A sampled step: what before() and after() report is tensor_stats of .grad, of the values and of
// the change; the copies are the gradients; a later sample takes them from the earlier record.
TEST(StepSampler, MeasuresAroundAStepAndReusesItsBuffers) {
  using namespace chainrule;
  using namespace chainrule::nn;
  manual_seed(3);
  Net net;
  std::vector<Tensor> params = net.seq->parameters();
  StepSampler sampler(net.targets(), params);
  EXPECT_THROW(sampler.before(), std::runtime_error);  // not armed
  Tensor x = randn({8, 3});
  auto sampled_step = [&]() {
    sampler.arm();
    for (Tensor& p : params) p.set_grad(Tensor());
    ((*net.seq)(x) * 2.0).sum().backward();
    std::vector<Tensor> before_values;
    for (const Tensor& p : params) before_values.push_back(p.detach().clone());
    auto record = sampler.before();
    {
      NoGradGuard g;
      for (Tensor& p : params) p.sub_(p.grad() * 0.1);
    }
    sampler.after(*record);
    return std::make_pair(record, before_values);
  };
  auto [first, values] = sampled_step();
  ASSERT_EQ(first->calls.size(), 4u);  // the forward's four module calls
  ASSERT_EQ(first->grads.size(), params.size());
  ASSERT_EQ(first->update.size(), params.size());
  for (size_t i = 0; i < params.size(); ++i) {
    EXPECT_TRUE(first->requires_grad[i]);
    expect_stats(first->grads[i], params[i].grad());
    expect_stats(first->values[i], values[i]);
    ASSERT_TRUE(first->update[i].has_value());
    TensorStats change = tensor_stats(params[i], values[i]);  // after - before, in double
    EXPECT_DOUBLE_EQ(first->update[i]->mean, change.mean);
    EXPECT_DOUBLE_EQ(first->update[i]->sumsq, change.sumsq);
    double want = tensor_stats(params[i].grad()).sumsq * 0.01;  // the step: -0.1 * grad (float32)
    EXPECT_NEAR(first->update[i]->sumsq, want, 1e-6 * want);
  }
  // the weights' (2-D) gradient copies, equal to .grad
  ASSERT_EQ(first->grad_copies.size(), 2u);
  for (const auto& [i, copy] : first->grad_copies) {
    EXPECT_EQ(params[i].dim(), 2);
    EXPECT_TRUE(allclose(copy, params[i].grad(), 0, 0));
  }
  EXPECT_TRUE(first->latest);
  EXPECT_TRUE(first->calls[1]->values.defined());  // the ReLU's activations, for histograms
  // after(): the hooks are off; a forward now records nothing
  (*net.seq)(x);
  EXPECT_EQ(first->calls.size(), 4u);
  auto [second, values2] = sampled_step();
  EXPECT_FALSE(first->latest);
  EXPECT_TRUE(first->grad_copies.empty());
  EXPECT_FALSE(first->calls[1]->values.defined());
  EXPECT_TRUE(second->latest);
  expect_stats(second->values[0], values2[0]);
  EXPECT_THROW(sampler.after(*first), std::invalid_argument);  // its copies are gone
  // a step that raised: disarm() takes the hooks off without a record
  sampler.arm();
  sampler.disarm();
  EXPECT_THROW(sampler.before(), std::runtime_error);
}

// What backward added is read when before() runs (a closure's backward inside the step is not this
// sample's); a parameter without .grad, a frozen one and an integer one are each measured for what
// they have.
TEST(StepSampler, HeldIsTakenBeforeTheStepAndOddParametersAreMeasuredForWhatTheyHave) {
  using namespace chainrule;
  using namespace chainrule::nn;
  manual_seed(4);
  Net net;
  Tensor frozen = net.l2->parameter("bias");
  frozen.set_requires_grad(false);
  Tensor tag = tensor({1, 2, 3}, {3}).to(kInt64);
  std::vector<Tensor> params = net.seq->parameters();
  params.push_back(tag);
  StepSampler sampler(net.targets(), params);
  Tensor x = randn({8, 3});
  for (Tensor& p : params) p.set_grad(Tensor());
  sampler.arm();
  ((*net.seq)(x)).sum().backward();
  net.l1->parameter("weight").set_grad(Tensor());  // no .grad for this one at the step
  auto r = sampler.before();
  EXPECT_FALSE(sampler.armed());
  ((*net.seq)(x)).sum().backward();  // "the step's closure": after before(), not recorded
  EXPECT_EQ(r->calls.size(), 4u);
  std::vector<size_t> reached;
  for (const auto& h : r->held) reached.push_back(h.index);
  EXPECT_EQ(reached, (std::vector<size_t>{0, 1, 2}));  // l1.weight, l1.bias, l2.weight: not the frozen bias
  for (const auto& h : r->held) EXPECT_EQ(h.held_sumsq, 0.0);
  EXPECT_FALSE(r->grads[0].has_value());  // l1.weight's .grad was taken away
  EXPECT_TRUE(r->grads[1].has_value());
  EXPECT_FALSE(r->requires_grad[3]);
  EXPECT_FALSE(r->grads[3].has_value());
  EXPECT_FALSE(r->values[4].has_value());  // integers: not measured, not copied
  ASSERT_EQ(r->grad_copies.size(), 1u);    // only l2.weight's (l1.weight has none now)
  EXPECT_EQ(r->grad_copies[0].first, 2u);
  {
    NoGradGuard g;
    for (size_t i = 0; i < 4; ++i) params[i].add_(1.0);
  }
  sampler.after(*r);
  ASSERT_EQ(r->update.size(), params.size());
  for (size_t i = 0; i < 4; ++i) {
    ASSERT_TRUE(r->update[i].has_value());
    EXPECT_NEAR(r->update[i]->mean, 1.0, 1e-6);
  }
  EXPECT_FALSE(r->update[4].has_value());
}
}  // namespace
