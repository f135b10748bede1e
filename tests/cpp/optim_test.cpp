// Optimizers and schedulers: one hand-checked step per optimizer and option, param groups,
// zero_grad, state dicts (in-memory round trips; files: io/), projections, error messages, and the
// lr sequences of every scheduler.
#include <gtest/gtest.h>

#include <cmath>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/ops.h"
#include "optim/lr_scheduler.h"
#include "optim/optimizer.h"
#include "test_util.h"

namespace cr = chainrule;
namespace optim = chainrule::optim;
using cr::Tensor;
using cr::test_util::expect_values;

namespace {

Tensor param(std::vector<double> v) {
  return cr::tensor(v, {static_cast<int64_t>(v.size())}, cr::kFloat64, true);
}
void set_grad(Tensor& p, std::vector<double> g) {
  p.set_grad(cr::tensor(g, {static_cast<int64_t>(g.size())}, cr::kFloat64));
}

// Runs f and checks it throws E with a message containing every part.
template <class E, class F> void expect_error(F f, std::vector<std::string> parts) {
  try {
    f();
    ADD_FAILURE() << "no exception";
  } catch (const E& e) {
    std::string msg = e.what();
    for (const auto& p : parts) EXPECT_NE(msg.find(p), std::string::npos) << msg << " lacks " << p;
  }
}

const std::vector<double> kP0 = {1.0, 2.0}, kG = {0.5, -1.0};

}  // namespace

// ---------------------------------------------------------------- SGD
TEST(SGD, PlainStepIsParamMinusLrTimesGrad) {
  Tensor p = param(kP0);
  optim::SGD opt({p}, optim::SGDOptions(0.1));
  set_grad(p, kG);
  opt.step();
  expect_values(p, {0.95, 2.1});
}

TEST(SGD, WeightDecayAddsDecayTimesParamToTheGradient) {
  Tensor p = param(kP0);
  optim::SGD opt({p}, optim::SGDOptions(0.1).weight_decay(0.1));
  set_grad(p, kG);
  opt.step();  // g + 0.1 p = (0.6, -0.8)
  expect_values(p, {0.94, 2.08});
}

TEST(SGD, MomentumBufferStartsAtTheFirstGradientThenDampens) {
  Tensor p = param(kP0);
  optim::SGD opt({p}, optim::SGDOptions(0.1).momentum(0.9).dampening(0.5));
  set_grad(p, kG);
  opt.step();  // buf = g (not (1 - dampening) g)
  expect_values(p, {0.95, 2.1});
  expect_values(opt.state(p).get("momentum_buffer"), kG);
  opt.step();  // buf = 0.9 g + 0.5 g = 1.4 g
  expect_values(p, {0.95 - 0.07, 2.1 + 0.14});
}

TEST(SGD, NesterovStepsAlongGradPlusMomentumTimesBuffer) {
  Tensor p = param(kP0);
  optim::SGD opt({p}, optim::SGDOptions(0.1).momentum(0.9).nesterov(true));
  set_grad(p, kG);
  opt.step();  // d = g + 0.9 g
  expect_values(p, {1 - 0.19 * 0.5, 2 + 0.19});
  opt.step();  // buf = 1.9 g, d = g + 0.9 * 1.9 g = 2.71 g
  expect_values(p, {1 - 0.19 * 0.5 - 0.271 * 0.5, 2 + 0.19 + 0.271});
}

TEST(SGD, MaximizeAscends) {
  Tensor p = param(kP0);
  optim::SGD opt({p}, optim::SGDOptions(0.1).maximize(true));
  set_grad(p, kG);
  opt.step();
  expect_values(p, {1.05, 1.9});
}

TEST(SGD, Float32ParamsStepInFloat32) {
  Tensor p = cr::tensor({1.0, 2.0}, cr::kFloat32, true);
  optim::SGD opt({p}, optim::SGDOptions(0.5));
  p.set_grad(cr::tensor({1.0, 1.0}, cr::kFloat32));
  opt.step();
  EXPECT_EQ(p.dtype(), cr::kFloat32);
  expect_values(p, {0.5, 1.5});
}

// ---------------------------------------------------------------- Adam / AdamW
// Adam's update written out in full, for checking two steps.
static double adam_ref(double p, const std::vector<double>& grads, double lr, double b1, double b2,
                       double eps, double wd, bool decoupled, bool amsgrad) {
  double m = 0, v = 0, vmax = 0;
  for (size_t t = 1; t <= grads.size(); ++t) {
    double g = grads[t - 1];
    if (decoupled) p *= 1 - lr * wd;
    else g += wd * p;
    m = b1 * m + (1 - b1) * g;
    v = b2 * v + (1 - b2) * g * g;
    vmax = std::max(vmax, v);
    double vhat = (amsgrad ? vmax : v) / (1 - std::pow(b2, t));
    p -= lr * (m / (1 - std::pow(b1, t))) / (std::sqrt(vhat) + eps);
  }
  return p;
}

TEST(Adam, FirstStepMovesEachElementByLrAgainstTheGradientsSign) {
  Tensor p = param(kP0);
  optim::Adam opt({p}, optim::AdamOptions(0.1));
  set_grad(p, kG);
  opt.step();  // m/(1-b1) = g, sqrt(v/(1-b2)) = |g|
  expect_values(p, {0.9, 2.1}, 1e-7);
  EXPECT_EQ(opt.state(p).get("step").item(), 1.0);
  EXPECT_EQ(opt.state(p).get("step").dtype(), cr::kFloat32);
}

TEST(Adam, TwoStepsMatchTheWrittenOutUpdate) {
  for (bool amsgrad : {false, true}) {
    for (double wd : {0.0, 0.3}) {
      Tensor p = param({1.5});
      optim::Adam opt({p},
                      optim::AdamOptions(0.05).betas({0.8, 0.9}).eps(1e-3).weight_decay(wd).amsgrad(amsgrad));
      set_grad(p, {2.0});
      opt.step();
      set_grad(p, {0.0});  // v shrinks: amsgrad keeps the larger one
      opt.step();
      EXPECT_NEAR(p.item(), adam_ref(1.5, {2.0, 0.0}, 0.05, 0.8, 0.9, 1e-3, wd, false, amsgrad), 1e-14)
          << "amsgrad " << amsgrad << " wd " << wd;
    }
  }
  // amsgrad changes the second step here
  EXPECT_NE(adam_ref(1.5, {2.0, 0.0}, 0.05, 0.8, 0.9, 1e-3, 0, false, true),
            adam_ref(1.5, {2.0, 0.0}, 0.05, 0.8, 0.9, 1e-3, 0, false, false));
}

TEST(AdamW, DecaysTheParameterDirectlyNotThroughTheGradient) {
  Tensor p = param(kP0);
  optim::AdamW opt({p}, optim::AdamWOptions(0.1).weight_decay(0.5));
  set_grad(p, kG);
  opt.step();  // p (1 - 0.05) then -0.1 sign(g)
  expect_values(p, {0.85, 2.0}, 1e-7);
  EXPECT_TRUE(opt.param_groups()[0].options.flag("decoupled_weight_decay"));
  // The default weight decay is PyTorch's 1e-2.
  EXPECT_EQ(optim::AdamWOptions().number("weight_decay"), 1e-2);
}

TEST(Adam, MaximizeAscends) {
  Tensor p = param(kP0);
  optim::Adam opt({p}, optim::AdamOptions(0.1).maximize(true));
  set_grad(p, kG);
  opt.step();
  expect_values(p, {1.1, 1.9}, 1e-7);
}

// ---------------------------------------------------------------- RMSprop
TEST(RMSprop, FirstStepDividesByRootOfTheAveragedSquare) {
  Tensor p = param(kP0);
  optim::RMSprop opt({p}, optim::RMSpropOptions(0.01).eps(0));
  set_grad(p, kG);
  opt.step();  // v = 0.01 g^2, step = 0.01 g / (0.1 |g|)
  expect_values(p, {0.9, 2.1});
}

TEST(RMSprop, CenteredSubtractsTheSquaredMeanGradient) {
  Tensor p = param({1.0});
  optim::RMSprop opt({p}, optim::RMSpropOptions(0.01).eps(0).centered(true));
  set_grad(p, {2.0});
  opt.step();  // v = 0.04, gbar = 0.02, sqrt(v - gbar^2) = sqrt(0.0396)
  expect_values(p, {1.0 - 0.01 * 2.0 / std::sqrt(0.0396)});
}

TEST(RMSprop, MomentumAccumulatesTheScaledGradient) {
  Tensor p = param({1.0});
  optim::RMSprop opt({p}, optim::RMSpropOptions(0.01).eps(0).momentum(0.5));
  set_grad(p, {2.0});
  opt.step();  // buf = 2 / 0.2 = 10
  expect_values(p, {0.9});
  opt.step();  // v = 0.99*0.04 + 0.04 = 0.0796, buf = 5 + 2/sqrt(0.0796)
  expect_values(p, {0.9 - 0.01 * (5 + 2 / std::sqrt(0.0796))});
}

TEST(RMSprop, WeightDecayAndMaximize) {
  Tensor p = param({1.0});
  optim::RMSprop opt({p}, optim::RMSpropOptions(0.01).eps(0).weight_decay(1.0).maximize(true));
  set_grad(p, {2.0});
  opt.step();  // g = -2 + 1 = -1: v = 0.01, step = 0.01 * -1 / 0.1
  expect_values(p, {1.1});
}

// ---------------------------------------------------------------- Adagrad
TEST(Adagrad, AccumulatesSquaresFromTheInitialValue) {
  Tensor p = param({1.0});
  optim::Adagrad opt({p}, optim::AdagradOptions(0.1).eps(0).initial_accumulator_value(5.0));
  expect_values(opt.state(p).get("sum"), {5.0});  // created with the optimizer, as in PyTorch
  set_grad(p, {2.0});
  opt.step();  // sum = 9
  expect_values(p, {1.0 - 0.1 * 2.0 / 3.0});
}

TEST(Adagrad, LrDecayShrinksTheStepWithTheStepCount) {
  Tensor p = param({1.0});
  optim::Adagrad opt({p}, optim::AdagradOptions(0.1).eps(0).lr_decay(1.0));
  set_grad(p, {2.0});
  opt.step();  // clr = 0.1, sum = 4: -0.1
  opt.step();  // clr = 0.05, sum = 8
  expect_values(p, {0.9 - 0.05 * 2.0 / std::sqrt(8.0)});
}

TEST(Adagrad, WeightDecayAndMaximize) {
  Tensor p = param({1.0});
  optim::Adagrad opt({p}, optim::AdagradOptions(0.1).eps(0).weight_decay(0.5).maximize(true));
  set_grad(p, {2.0});
  opt.step();  // g = -2 + 0.5 = -1.5: sum = 2.25, step = 0.1 * -1.5 / 1.5
  expect_values(p, {1.1});
}

// ---------------------------------------------------------------- common behaviour
TEST(Optimizer, SkipsParamsWithoutGradientsAndZeroGradUndefinesThem) {
  Tensor a = param({1.0}), b = param({2.0});
  optim::SGD opt({a, b}, optim::SGDOptions(0.1));
  set_grad(a, {1.0});
  opt.step();
  expect_values(a, {0.9});
  expect_values(b, {2.0});
  opt.zero_grad();
  EXPECT_FALSE(a.grad().defined());
  set_grad(a, {1.0});
  Tensor g = a.grad();
  opt.zero_grad(false);  // zeros in place
  EXPECT_EQ(a.grad().impl(), g.impl());
  expect_values(a.grad(), {0.0});
}

TEST(Optimizer, StepWorksWithBackwardAndBumpsTheVersion) {
  Tensor w = param({3.0});
  optim::SGD opt({w}, optim::SGDOptions(0.25));
  auto closure = [&] {
    opt.zero_grad();
    Tensor loss = (w * w).sum();  // d/dw = 2w = 6
    loss.backward();
    return loss;
  };
  uint64_t v0 = w.version();
  Tensor loss = opt.step(closure);
  EXPECT_EQ(loss.item(), 9.0);
  expect_values(w, {1.5});
  EXPECT_GT(w.version(), v0);
  // A graph that saved w before the step refuses to backward through the new value.
  Tensor y = (w * w).sum();
  set_grad(w, {1.0});
  opt.step();
  EXPECT_THROW(y.backward(), std::runtime_error);
}

TEST(Optimizer, ParamGroupsHaveTheirOwnLr) {
  Tensor a = param({1.0}), b = param({1.0});
  optim::ParamGroup g1{{a}, {}, nullptr}, g2{{b}, {}, nullptr};
  g2.options.set("lr", 0.5);
  optim::SGD opt(std::vector<optim::ParamGroup>{g1, g2}, optim::SGDOptions(0.1).momentum(0.9));
  EXPECT_EQ(opt.param_groups()[0].lr(), 0.1);
  EXPECT_EQ(opt.param_groups()[1].lr(), 0.5);
  EXPECT_EQ(opt.param_groups()[1].options.number("momentum"), 0.9);  // from the defaults
  set_grad(a, {1.0});
  set_grad(b, {1.0});
  opt.step();
  expect_values(a, {0.9});
  expect_values(b, {0.5});
  opt.set_option(0, "lr", optim::Hyper::number(1.0));
  opt.param_groups()[1].set_lr(0.0);
  opt.step();  // buf = 0.9 + 1
  expect_values(a, {0.9 - 1.9});
  expect_values(b, {0.5});
}

TEST(Optimizer, SetParamGroupsKeepsTheStateOfKeptParamsAndUndoesOnError) {
  Tensor a = param({1.0}), b = param({1.0});
  optim::Adagrad opt({a}, optim::AdagradOptions(0.1).eps(0).initial_accumulator_value(5.0));
  set_grad(a, {2.0});
  opt.step();  // sum(a) = 9
  optim::ParamGroup ga{{a}, {}, nullptr}, gb{{b}, {}, nullptr};
  gb.options.set("lr", 0.5);
  opt.set_param_groups({ga, gb});
  ASSERT_EQ(opt.param_groups().size(), 2u);
  expect_values(opt.state(a).get("sum"), {9.0});  // kept, not re-initialised
  expect_values(opt.state(b).get("sum"), {5.0});  // a new parameter's state, as add_param_group
  EXPECT_EQ(opt.param_groups()[1].lr(), 0.5);
  expect_error<std::invalid_argument>([&] { opt.set_param_groups({ga, ga}); },
                                      {"Adagrad", "each parameter in one param group"});
  EXPECT_EQ(opt.param_groups().size(), 2u);
  EXPECT_EQ(opt.param_groups()[1].params[0].impl(), b.impl());
}

TEST(Optimizer, StateDictRoundTripContinuesTheTrajectory) {
  auto run = [](optim::Adam& opt, Tensor& p, int steps) {
    for (int i = 0; i < steps; ++i) {
      opt.zero_grad();
      Tensor loss = ((p - 3.0) * (p - 3.0)).sum();
      loss.backward();
      opt.step();
    }
  };
  auto o = optim::AdamOptions(0.1).amsgrad(true);
  Tensor p1 = param({0.0, 1.0});
  optim::Adam straight({p1}, o);
  run(straight, p1, 20);

  Tensor p2 = param({0.0, 1.0});
  optim::Adam first({p2}, o);
  run(first, p2, 10);
  optim::OptimizerState saved = first.state_dict();
  // What a checkpoint holds: the groups' options in order, the state in PyTorch's key order.
  const optim::Options& g = saved.param_groups[0].options;
  EXPECT_EQ(g.pair("betas"), std::make_pair(0.9, 0.999));
  EXPECT_TRUE(g.flag("amsgrad"));
  EXPECT_EQ(saved.param_groups[0].params, std::vector<int64_t>{0});
  const auto& entries = saved.state.at(0).entries();
  ASSERT_EQ(entries.size(), 4u);
  EXPECT_EQ(entries[0].first, "step");
  EXPECT_EQ(entries[1].first, "exp_avg");
  optim::OptimizerState back = saved;

  Tensor p3 = p2.detach().clone().set_requires_grad();
  optim::Adam resumed({p3});  // the loaded groups bring lr and amsgrad back
  resumed.load_state_dict(back);
  EXPECT_EQ(resumed.param_groups()[0].lr(), 0.1);
  run(resumed, p3, 10);
  expect_values(p3, p1.to_vector(), 0);
  // state_dict() was a copy: the optimizer's later steps didn't change it
  EXPECT_EQ(saved.state.at(0).get("step").item(), 10.0);
}

TEST(Optimizer, StateDictNumbersRoundTripExactly) {
  Tensor p = param({1.0});
  optim::SGD opt({p}, optim::SGDOptions(0.1 + 0.2).momentum(1.0 / 3.0));
  optim::SGD other({param({1.0})});
  other.load_state_dict(opt.state_dict());
  auto s = other.state_dict();
  EXPECT_EQ(s.param_groups[0].options.number("lr"), 0.1 + 0.2);
  EXPECT_EQ(s.param_groups[0].options.number("momentum"), 1.0 / 3.0);
  EXPECT_FALSE(s.param_groups[0].options.flag("nesterov"));
  EXPECT_EQ(s.optimizer, "SGD");
}

TEST(Optimizer, BadStateDictsAreClearErrors) {
  Tensor p = param({1.0, 2.0});
  optim::SGD sgd({p}, optim::SGDOptions(0.1).momentum(0.9));
  optim::Adam adam({param({1.0})});
  expect_error<std::invalid_argument>([&] { sgd.load_state_dict(adam.state_dict()); }, {"SGD", "Adam"});
  optim::OptimizerState s = sgd.state_dict();
  s.param_groups.push_back(s.param_groups[0]);
  expect_error<std::invalid_argument>([&] { sgd.load_state_dict(s); }, {"expected 1 param groups, got 2"});
  s = sgd.state_dict();
  s.state[0].set("momentum_buffer", cr::zeros({3}, cr::kFloat64));
  expect_error<std::invalid_argument>([&] { sgd.load_state_dict(s); }, {"(2,)", "(3,)"});
  s = sgd.state_dict();
  s.state[0].set("bogus", cr::zeros({2}, cr::kFloat64));
  expect_error<std::invalid_argument>([&] { sgd.load_state_dict(s); }, {"momentum_buffer", "bogus"});
  s = sgd.state_dict();
  s.param_groups[0].options.set("momentum", optim::Hyper::flag(true));
  expect_error<std::invalid_argument>([&] { sgd.load_state_dict(s); }, {"momentum", "a number", "a flag"});
  s = sgd.state_dict();
  s.param_groups[0].options.set("lr", -1.0);
  expect_error<std::invalid_argument>([&] { sgd.load_state_dict(s); }, {"lr >= 0", "-1"});
  EXPECT_EQ(sgd.param_groups()[0].lr(), 0.1);  // unchanged by the failed load
}

TEST(Optimizer, BadHyperparametersNameTheOptimizerAndValue) {
  Tensor p = param({1.0});
  expect_error<std::invalid_argument>([&] { optim::SGD({p}, optim::SGDOptions(-0.1)); },
                                      {"SGD", "lr >= 0", "-0.1"});
  expect_error<std::invalid_argument>([&] { optim::SGD({p}, optim::SGDOptions(0.1).momentum(-1)); },
                                      {"SGD", "momentum", "-1"});
  expect_error<std::invalid_argument>([&] { optim::SGD({p}, optim::SGDOptions().nesterov(true)); },
                                      {"SGD", "nesterov"});
  expect_error<std::invalid_argument>([&] { optim::Adam({p}, optim::AdamOptions().betas({1.0, 0.999})); },
                                      {"Adam", "betas[0]", "[0, 1)", "1"});
  expect_error<std::invalid_argument>([&] { optim::Adam({p}, optim::AdamOptions().betas({0.9, -0.5})); },
                                      {"Adam", "betas[1]", "-0.5"});
  expect_error<std::invalid_argument>([&] { optim::AdamW({p}, optim::AdamWOptions().eps(-1)); },
                                      {"AdamW", "eps"});
  expect_error<std::invalid_argument>([&] { optim::RMSprop({p}, optim::RMSpropOptions().alpha(-0.1)); },
                                      {"RMSprop", "alpha", "-0.1"});
  expect_error<std::invalid_argument>([&] { optim::Adagrad({p}, optim::AdagradOptions().lr_decay(-1)); },
                                      {"Adagrad", "lr_decay"});
  // Options given as a plain Options: names and kinds are checked against the optimizer's table.
  expect_error<std::invalid_argument>([&] { optim::SGD({p}, optim::Options().set("betas", 0.9)); },
                                      {"SGD", "unknown option 'betas'"});
  expect_error<std::invalid_argument>([&] { optim::AdamW({p}, optim::AdamOptions()); },
                                      {"AdamW", "decoupled_weight_decay"});
  optim::SGD opt({p}, optim::SGDOptions(0.1));
  expect_error<std::invalid_argument>([&] { opt.set_option(0, "lr", optim::Hyper::number(-2)); },
                                      {"SGD", "-2"});
  expect_error<std::invalid_argument>([&] { opt.set_option(0, "momentun", optim::Hyper::number(0.9)); },
                                      {"unknown option 'momentun'", "momentum"});
  expect_error<std::invalid_argument>([&] { opt.set_option(0, "nesterov", optim::Hyper::number(1)); },
                                      {"nesterov", "flag"});
  opt.param_groups()[0].options.set("lr", -3.0);  // edited directly: caught at the step
  set_grad(p, {1.0});
  expect_error<std::invalid_argument>([&] { opt.step(); }, {"SGD", "-3"});
}

TEST(Optimizer, BadParametersAreClearErrors) {
  Tensor p = param({1.0});
  expect_error<std::invalid_argument>([&] { optim::SGD(std::vector<Tensor>{}); }, {"SGD", "empty"});
  expect_error<std::invalid_argument>([&] { optim::SGD({p, p}); }, {"SGD", "once"});
  Tensor nonleaf = p * 2.0;
  expect_error<std::invalid_argument>([&] { optim::SGD({nonleaf}); }, {"SGD", "leaf"});
  expect_error<std::invalid_argument>([&] { optim::SGD({cr::arange(3)}); }, {"SGD", "int64"});
  optim::SGD opt({p});
  expect_error<std::invalid_argument>([&] { opt.add_param_group({{p}, {}, nullptr}); },
                                      {"SGD", "group 0 again in group 1"});
}

// ---------------------------------------------------------------- constraints
TEST(Constraint, BoxClampsAfterEveryStep) {
  Tensor p = param({0.5, 0.5, 0.5});
  optim::SGD opt({p}, optim::SGDOptions(1.0));
  opt.set_constraint(std::make_shared<optim::Box>(0.0, 1.0));
  set_grad(p, {1.0, -1.0, 0.25});
  opt.step();
  expect_values(p, {0.0, 1.0, 0.25});
  expect_error<std::invalid_argument>([] { optim::Box(1, 0); }, {"Box", "lo <= hi"});
}

TEST(Constraint, NonNegativeZeroesNegatives) {
  Tensor p = param({0.5, 0.5});
  optim::ParamGroup g{{p}, {}, std::make_shared<optim::NonNegative>()};
  optim::SGD opt(std::vector<optim::ParamGroup>{g}, optim::SGDOptions(1.0));
  set_grad(p, {1.0, 0.25});
  opt.step();
  expect_values(p, {0.0, 0.25});
}

TEST(Constraint, MaxNormProjectsLongRowsOntoTheBall) {
  Tensor w = cr::tensor({3, 4, 0.3, 0.4}, {2, 2}, cr::kFloat64, true);
  Tensor b = param({3.0, 4.0});  // 1-d: the whole vector is one row
  optim::SGD opt({w, b}, optim::SGDOptions(0.1));
  opt.set_constraint(std::make_shared<optim::MaxNorm>(1.0));
  w.set_grad(cr::zeros({2, 2}, cr::kFloat64));
  opt.step();
  expect_values(w, {0.6, 0.8, 0.3, 0.4});  // the first row had norm 5; the second is inside
  expect_values(b, {0.6, 0.8});            // projected even without a gradient
}

TEST(Constraint, ProjectedGradientDescentSolvesABoxConstrainedLeastSquares) {
  // min (x - 2)^2 + (y + 1)^2 over [0, 1]^2: the projection of (2, -1), i.e. (1, 0).
  Tensor x = param({0.5, 0.5});
  optim::SGD opt({x}, optim::SGDOptions(0.1));
  opt.set_constraint(std::make_shared<optim::Box>(0.0, 1.0));
  Tensor target = cr::tensor({2.0, -1.0}, cr::kFloat64);
  for (int i = 0; i < 100; ++i) {
    opt.zero_grad();
    ((x - target) * (x - target)).sum().backward();
    opt.step();
  }
  expect_values(x, {1.0, 0.0});
}

// ---------------------------------------------------------------- schedulers
namespace {
struct LrRecorder {
  Tensor p = param({1.0});
  optim::SGD opt{{p}, optim::SGDOptions(1.0)};
};
std::vector<double> run(optim::LRScheduler& s, optim::Optimizer& opt, int epochs) {
  std::vector<double> lrs;
  for (int e = 0; e < epochs; ++e) {
    lrs.push_back(opt.param_groups()[0].lr());
    EXPECT_EQ(s.get_last_lr()[0], lrs.back());
    s.step();
  }
  return lrs;
}
void expect_seq(const std::vector<double>& got, const std::vector<double>& want, double tol = 1e-15) {
  ASSERT_EQ(got.size(), want.size());
  for (size_t i = 0; i < got.size(); ++i) EXPECT_NEAR(got[i], want[i], tol) << "epoch " << i;
}
}  // namespace

TEST(LRScheduler, StepLR) {
  LrRecorder r;
  optim::StepLR s(r.opt, 2, 0.5);
  expect_seq(run(s, r.opt, 7), {1, 1, 0.5, 0.5, 0.25, 0.25, 0.125});
  EXPECT_EQ(r.opt.param_groups()[0].options.number("initial_lr"), 1.0);
  s.step(3);  // closed form
  EXPECT_EQ(r.opt.param_groups()[0].lr(), 0.5);
  expect_error<std::invalid_argument>([&] { optim::StepLR(r.opt, 0); }, {"StepLR", "step_size"});
}

TEST(LRScheduler, MultiStepLRCountsRepeatedMilestones) {
  LrRecorder r;
  optim::MultiStepLR s(r.opt, {4, 2, 4}, 0.1);
  expect_seq(run(s, r.opt, 6), {1, 1, 0.1, 0.1, 0.001, 0.001});
}

TEST(LRScheduler, ExponentialLR) {
  LrRecorder r;
  optim::ExponentialLR s(r.opt, 0.5);
  expect_seq(run(s, r.opt, 4), {1, 0.5, 0.25, 0.125});
}

TEST(LRScheduler, CosineAnnealingLRFollowsTheHalfCosineAndTurnsBack) {
  LrRecorder r;
  optim::CosineAnnealingLR s(r.opt, 4, 0.0);
  std::vector<double> want;
  for (int t = 0; t < 9; ++t) want.push_back((1 + std::cos(M_PI * t / 4)) / 2);
  expect_seq(run(s, r.opt, 9), want, 1e-12);
}

TEST(LRScheduler, LambdaLRScalesTheBaseLr) {
  Tensor a = param({1.0}), b = param({1.0});
  optim::ParamGroup g1{{a}, {}, nullptr}, g2{{b}, {}, nullptr};
  g2.options.set("lr", 2.0);
  optim::SGD opt(std::vector<optim::ParamGroup>{g1, g2}, optim::SGDOptions(1.0));
  optim::LambdaLR s(opt, std::vector<optim::LambdaLR::Lambda>{[](int64_t e) { return 1.0 / (e + 1); },
                                                              [](int64_t e) { return e < 2 ? 1.0 : 0.0; }});
  s.step();
  s.step();
  EXPECT_EQ(s.get_last_lr(), (std::vector<double>{1.0 / 3, 0.0}));
  expect_error<std::invalid_argument>(
      [&] { optim::LambdaLR(opt, std::vector<optim::LambdaLR::Lambda>{[](int64_t) { return 1.0; }}); },
      {"LambdaLR", "expected 2", "got 1"});
}

TEST(LRScheduler, AGroupAddedLaterIsAClearError) {
  LrRecorder r;
  optim::CosineAnnealingLR s(r.opt, 4);
  r.opt.add_param_group({{param({1.0})}, {}, nullptr});
  expect_error<std::runtime_error>([&] { s.step(); },
                                   {"CosineAnnealingLR", "expected 1 param groups", "got 2"});
}

TEST(LRScheduler, ResumingNeedsInitialLr) {
  Tensor p = param({1.0});
  optim::SGD opt({p}, optim::SGDOptions(1.0));
  expect_error<std::invalid_argument>([&] { optim::StepLR(opt, 2, 0.1, 5); }, {"StepLR", "initial_lr"});
}

TEST(ReduceLROnPlateau, ReducesAfterPatienceThenCoolsDown) {
  LrRecorder r;
  optim::PlateauOptions o;
  o.patience = 1;
  o.cooldown = 1;
  o.factor = 0.5;
  o.min_lr = 0.2;
  optim::ReduceLROnPlateau s(r.opt, o);
  std::vector<double> metrics = {10, 9, 9, 9, 9, 9, 9, 9, 9}, lrs;
  for (double m : metrics) {
    s.step(m);
    lrs.push_back(r.opt.param_groups()[0].lr());
  }
  // bad epochs: 0, 0, 1, 2 -> cut (cooldown 1), 0 (cooldown), 1, 2 -> cut, ...; floored at 0.2
  expect_seq(lrs, {1, 1, 1, 0.5, 0.5, 0.5, 0.25, 0.25, 0.25});
  for (int i = 0; i < 3; ++i) s.step(9);
  EXPECT_EQ(r.opt.param_groups()[0].lr(), 0.2);
  o.factor = 1.0;
  expect_error<std::invalid_argument>([&] { optim::ReduceLROnPlateau(r.opt, o); }, {"factor < 1.0"});
  o.factor = 0.1;
  o.mode = "maximum";
  expect_error<std::invalid_argument>([&] { optim::ReduceLROnPlateau(r.opt, o); },
                                      {"'min' or 'max'", "maximum"});
}

TEST(ReduceLROnPlateau, MaxModeWithAbsoluteThreshold) {
  LrRecorder r;
  optim::PlateauOptions o;
  o.mode = "max";
  o.threshold_mode = "abs";
  o.threshold = 0.5;
  o.patience = 0;
  optim::ReduceLROnPlateau s(r.opt, o);
  s.step(1.0);  // better than -inf
  EXPECT_EQ(r.opt.param_groups()[0].lr(), 1.0);
  s.step(1.4);  // not better than 1.0 + 0.5: cut
  EXPECT_NEAR(r.opt.param_groups()[0].lr(), 0.1, 1e-16);
  s.step(2.0);  // better
  EXPECT_NEAR(r.opt.param_groups()[0].lr(), 0.1, 1e-16);
}
