// Debugging autograd: anomaly mode (its flags, DetectAnomaly, the forward and backward nan/inf checks
// and their messages, the context nodes record), ObserveBackward, local_grads, next_node_seq and
// Node::output, and TensorImpl::untracked_by (what cut a tensor from the graph).
#include <gtest/gtest.h>

#include <cmath>
#include <cstring>
#include <limits>
#include <memory>
#include <stdexcept>
#include <string>
#include <vector>

#include "core/autograd.h"
#include "core/ops.h"
#include "test_util.h"

namespace {
using namespace chainrule;
using namespace chainrule::test_util;

const double kInf = std::numeric_limits<double>::infinity();
const double kNan = std::numeric_limits<double>::quiet_NaN();

// Every test starts and ends with anomaly mode off and no context function (both are global state).
class Anomaly : public ::testing::Test {
 protected:
  void SetUp() override {
    set_anomaly_enabled(false);
    set_anomaly_context([] { return std::string("test.cpp:42"); });
  }
  void TearDown() override {
    set_anomaly_enabled(false);
    set_anomaly_context(nullptr);
  }
};

// ---------------------------------------------------------------- flags

TEST_F(Anomaly, FlagsFollowSetAnomalyEnabledAndForwardNeedsNan) {
  EXPECT_FALSE(is_anomaly_enabled());
  EXPECT_FALSE(is_anomaly_check_nan_enabled());
  EXPECT_FALSE(is_anomaly_check_forward_enabled());
  set_anomaly_enabled(true);
  EXPECT_TRUE(is_anomaly_enabled());
  EXPECT_TRUE(is_anomaly_check_nan_enabled());
  EXPECT_TRUE(is_anomaly_check_forward_enabled());
  set_anomaly_enabled(true, /*check_nan=*/true, /*check_forward=*/false);
  EXPECT_TRUE(is_anomaly_enabled());
  EXPECT_TRUE(is_anomaly_check_nan_enabled());
  EXPECT_FALSE(is_anomaly_check_forward_enabled());
  set_anomaly_enabled(true, /*check_nan=*/false, /*check_forward=*/true);  // forward needs nan
  EXPECT_TRUE(is_anomaly_enabled());
  EXPECT_FALSE(is_anomaly_check_nan_enabled());
  EXPECT_FALSE(is_anomaly_check_forward_enabled());
  set_anomaly_enabled(false, true, true);  // off: the sub-flags are off too
  EXPECT_FALSE(is_anomaly_enabled());
  EXPECT_FALSE(is_anomaly_check_nan_enabled());
  EXPECT_FALSE(is_anomaly_check_forward_enabled());
}

TEST_F(Anomaly, DetectAnomalyRestoresThePreviousFlagsWhenNested) {
  set_anomaly_enabled(true, true, false);
  {
    DetectAnomaly outer(/*check_nan=*/false);
    EXPECT_TRUE(is_anomaly_enabled());
    EXPECT_FALSE(is_anomaly_check_nan_enabled());
    {
      DetectAnomaly inner;
      EXPECT_TRUE(is_anomaly_check_nan_enabled());
      EXPECT_TRUE(is_anomaly_check_forward_enabled());
    }
    EXPECT_TRUE(is_anomaly_enabled());
    EXPECT_FALSE(is_anomaly_check_nan_enabled());
    EXPECT_FALSE(is_anomaly_check_forward_enabled());
  }
  EXPECT_TRUE(is_anomaly_enabled());
  EXPECT_TRUE(is_anomaly_check_nan_enabled());
  EXPECT_FALSE(is_anomaly_check_forward_enabled());
}

TEST_F(Anomaly, DetectAnomalyRestoresTheFlagsAfterAnException) {
  Tensor x = T({1, 0}, {2});
  try {
    DetectAnomaly guard;
    log(x);
    ADD_FAILURE() << "log(0) did not throw under DetectAnomaly";
  } catch (const std::runtime_error&) {
  }
  EXPECT_FALSE(is_anomaly_enabled());
  EXPECT_FALSE(is_anomaly_check_nan_enabled());
  EXPECT_FALSE(is_anomaly_check_forward_enabled());
  EXPECT_EQ(log(x).at(1), -kInf);  // off again: no check
}

// ---------------------------------------------------------------- the forward check

TEST_F(Anomaly, ForwardLogOfZeroNamesTheOpThePlaceTheIndexAndTheInput) {
  DetectAnomaly guard;
  Tensor x = T({1, 2, 0, 4}, {4}, kFloat64, true);
  EXPECT_EQ(Thrown<std::runtime_error>([&] { log(x); }),
            "detect_anomaly: 'log' (called at test.cpp:42) produced -inf at [2] of its output (shape (4,)): "
            "input[2] = 0.0");
}

TEST_F(Anomaly, ForwardChecksOpsOnTensorsThatNeedNoGradToo) {
  DetectAnomaly guard;
  Tensor x = T({0.5, 0, 2, 0}, {4}, kFloat32);  // float32, no requires_grad
  std::string msg = Thrown<std::runtime_error>([&] { reciprocal(x); });
  // Names 'reciprocal' (not the check's own to/contiguous) and the first bad element only.
  EXPECT_EQ(
      msg,
      "detect_anomaly: 'reciprocal' (called at test.cpp:42) produced inf at [1] of its output (shape (4,)): "
      "input[1] = 0.0");
}

TEST_F(Anomaly, ForwardDivByZeroNamesNumeratorAndDenominator) {
  DetectAnomaly guard;
  Tensor a = T({1, 2, -3}, {3}, kFloat64, true);
  Tensor b = T({1, 1, 0}, {3});
  EXPECT_EQ(Thrown<std::runtime_error>([&] { div(a, b); }),
            "detect_anomaly: 'div' (called at test.cpp:42) produced -inf at [2] of its output (shape (3,)): "
            "numerator[2] = -3.0, denominator[2] = 0.0");
  // 0/0 is a nan; a broadcast denominator is shown at its own index.
  Tensor z = T({0, 5}, {2, 1});
  std::string msg = Thrown<std::runtime_error>([&] { div(z, T({2, 0, 4}, {3})); });
  EXPECT_TRUE(
      Contains(msg, "'div' (called at test.cpp:42) produced nan at [0, 1] of its output (shape (2, 3))"));
  EXPECT_TRUE(Contains(msg, "numerator[0, 0] = 0.0, denominator[1] = 0.0"));
}

TEST_F(Anomaly, ForwardZeroDimAndEmptyTensors) {
  DetectAnomaly guard;
  std::string msg = Thrown<std::runtime_error>([] { log(scalar_tensor(0.0, kFloat64)); });
  EXPECT_TRUE(Contains(msg, "'log' (called at test.cpp:42) produced -inf at [] of its output (shape ())"));
  EXPECT_TRUE(Contains(msg, "input[] = 0.0"));
  Tensor empty_log = log(zeros({0}, kFloat64));  // nothing to check: no throw
  EXPECT_EQ(empty_log.numel(), 0);
  EXPECT_EQ(empty_log.shape(), (Shape{0}));
  Tensor empty2 = reciprocal(zeros({2, 0}, kFloat32));
  EXPECT_EQ(empty2.shape(), (Shape{2, 0}));
}

TEST_F(Anomaly, ForwardFindsABadElementPastTheFirst32) {
  for (Dtype d : {kFloat64, kFloat32}) {
    DetectAnomaly guard;
    std::vector<double> v(33, 2.0);
    v[32] = 0.0;
    Tensor x = T(v, {33}, d, true);
    EXPECT_EQ(
        Thrown<std::runtime_error>([&] { log(x); }),
        "detect_anomaly: 'log' (called at test.cpp:42) produced -inf at [32] of its output (shape (33,)): "
        "input[32] = 0.0")
        << dtype_name(d);
    v[32] = 2.0;
    EXPECT_NEAR(log(T(v, {33}, d)).at(32), std::log(2.0), 1e-6) << dtype_name(d);  // all finite: no throw
  }
}

TEST_F(Anomaly, ForwardOverflowOfExpIsAnInf) {
  DetectAnomaly guard;
  EXPECT_EQ(Thrown<std::runtime_error>([] { exp(T({1, 1000}, {2}, kFloat64, true)); }),
            "detect_anomaly: 'exp' (called at test.cpp:42) produced inf at [1] of its output (shape (2,)): "
            "input[1] = 1000.0");
  // float32 overflows much earlier (exp(100) > 3.4e38)
  EXPECT_TRUE(Contains(
      Thrown<std::runtime_error>([] { exp(T({100, 1}, {2}, kFloat32)); }),
      "'exp' (called at test.cpp:42) produced inf at [0] of its output (shape (2,)): input[0] = 100.0"));
  EXPECT_NEAR(exp(T({1}, {1}, kFloat32)).item(), std::exp(1.0), 1e-6);
}

TEST_F(Anomaly, ForwardNonElementwiseOpsSayWhetherAnInputWasAlreadyBad) {
  DetectAnomaly guard;
  // a reduction of two finite numbers overflows: the input was finite, the op made the inf
  EXPECT_EQ(
      Thrown<std::runtime_error>([] { sum(T({1e308, 1e308}, {1, 2}), {1}, /*keepdim=*/true); }),
      "detect_anomaly: 'sum' (called at test.cpp:42) produced inf at [0, 0] of its output (shape (1, 1)): "
      "input (shape (1, 2)) is finite");
  // a nan in a leaf the user made (requires grad) travels into a reshape: the input already held it
  EXPECT_EQ(Thrown<std::runtime_error>([] { T({1, 2, kNan, 4}, {4}, kFloat64, true).reshape({2, 2}); }),
            "detect_anomaly: 'reshape' (called at test.cpp:42) produced nan at [1, 0] of its output (shape "
            "(2, 2)): "
            "input (shape (4,)) already holds a nan or inf at [2]");
  // a nan carried along from data that needs no gradient (or an op's own intermediate) was born
  // elsewhere: only the op that made it is named
  EXPECT_NO_THROW(T({1, 2, kNan, 4}, {4}).reshape({2, 2}));
}

// sum / mean over every dim reshape their result before recording themselves: the internal op
// carries an inf it did not make, so the op the user called is named.
TEST_F(Anomaly, ForwardFullReductionIsNamedAfterTheOpTheUserCalled) {
  DetectAnomaly guard;
  EXPECT_EQ(Thrown<std::runtime_error>([] { sum(T({1e308, 1e308}, {2})); }),
            "detect_anomaly: 'sum' (called at test.cpp:42) produced inf at [] of its output (shape ()): "
            "input (shape (2,)) is finite");
  EXPECT_TRUE(StartsWith(Thrown<std::runtime_error>([] { mean(T({1e308, 1e308}, {2})); }),
                         "detect_anomaly: 'sum' (called at test.cpp:42) produced inf"));
}

// Inputs' values at the bad element are shown only for elementwise ops: a transpose or a square
// matmul says whether each input already held a nan/inf instead.
TEST_F(Anomaly, ForwardSameShapeNonElementwiseOpsSayWhetherAnInputWasAlreadyBad) {
  DetectAnomaly guard;
  // x[1, 0] is the nan; x.t() has it at [0, 1], where x itself holds 2.0
  std::string msg = Thrown<std::runtime_error>([] { T({1, 2, kNan, 4}, {2, 2}, kFloat64, true).t(); });
  EXPECT_TRUE(Contains(msg, "produced nan at [0, 1] of its output (shape (2, 2))")) << msg;
  EXPECT_TRUE(Contains(msg, "already holds a nan or inf at [1, 0]")) << msg;
  EXPECT_FALSE(Contains(msg, "= 2.0")) << msg;
  // finite square matrices whose product overflows
  msg = Thrown<std::runtime_error>([] { matmul(T({1e200, 1, 1, 1}, {2, 2}), T({1e200, 1, 1, 1}, {2, 2})); });
  EXPECT_TRUE(Contains(msg, "produced inf at [0, 0] of its output (shape (2, 2))")) << msg;
  EXPECT_TRUE(Contains(msg, "is finite")) << msg;
}

TEST_F(Anomaly, ForwardCheckDoesNotRecurseAndStaysOnAfterAThrow) {
  DetectAnomaly guard;
  // The check converts a float32 output with to(float64) and contiguous(): those must not be checked
  // (they'd report 'to'), and the check must still be on afterwards.
  Tensor x = T({1, 0, 1, 0}, {2, 2}, kFloat32);
  for (int round = 0; round < 2; ++round) {
    std::string msg = Thrown<std::runtime_error>([&] { reciprocal(x.t()); });  // a strided input
    EXPECT_TRUE(StartsWith(msg, "detect_anomaly: 'reciprocal'")) << msg;
    EXPECT_TRUE(is_anomaly_check_forward_enabled());
  }
  Tensor ok = reciprocal(T({2, 4}, {2}, kFloat32));
  EXPECT_TRUE(Near(ok, {2}, {0.5, 0.25}));
}

// ---------------------------------------------------------------- the backward check

TEST_F(Anomaly, BackwardRuleThatMakesANanIsNamedWithWhereItWasMade) {
  DetectAnomaly guard;
  // sqrt(0) = 0 is finite, but its gradient there is g / (2·0): 0/0 = nan where g = 0
  Tensor x = T({1, 4, 0, 9}, {4}, kFloat64, true);
  Tensor y = sum(sqrt(x) * T({1, 1, 0, 1}, {4}));
  EXPECT_EQ(Thrown<std::runtime_error>([&] { y.backward(); }),
            "detect_anomaly: the backward of 'sqrt' (SqrtBackward0) made at test.cpp:42 returned nan in the "
            "gradient of its input at [2], where output[2] = 0.0, incoming gradient[2] = 0.0; the incoming "
            "gradient was finite, so the rule made it");
  EXPECT_FALSE(x.grad().defined());  // the pass stopped before reaching the leaf
}

TEST_F(Anomaly, BackwardSaysWhenTheIncomingGradientWasAlreadyBad) {
  DetectAnomaly guard;
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  Tensor y = x * 2.0;
  std::string msg = Thrown<std::runtime_error>([&] { y.backward(T({1, kInf}, {2})); });
  EXPECT_TRUE(StartsWith(msg,
                         "detect_anomaly: the backward of 'mul' (MulBackward0) made at test.cpp:42 returned "
                         "inf in the gradient of its input at [1]"))
      << msg;
  EXPECT_TRUE(Contains(msg, "incoming gradient[1] = inf"));
  EXPECT_TRUE(Contains(msg, "; the incoming gradient already held a nan or inf at [1]"));
}

TEST_F(Anomaly, CheckForwardOffLetsTheForwardThroughButNotTheBackward) {
  set_anomaly_enabled(true, /*check_nan=*/true, /*check_forward=*/false);
  Tensor x = T({1, 2, 0, 4}, {4}, kFloat64, true);
  Tensor y = log(x);
  EXPECT_EQ(y.at(2), -kInf);
  Tensor s = sum(y);
  EXPECT_EQ(s.item(), -kInf);
  EXPECT_EQ(Thrown<std::runtime_error>([&] { s.backward(); }),
            "detect_anomaly: the backward of 'log' (LogBackward0) made at test.cpp:42 returned inf in the "
            "gradient of its input at [2], where input[2] = 0.0, incoming gradient[2] = 1.0; the incoming "
            "gradient was finite, so the rule made it");
}

TEST_F(Anomaly, CheckNanOffThrowsNothingButNodesStillKnowWhereTheyWereMade) {
  set_anomaly_enabled(true, /*check_nan=*/false);
  Tensor x = T({1, 2, 0, 4}, {4}, kFloat64, true);
  Tensor y = log(x);
  ASSERT_TRUE(y.grad_fn());
  ASSERT_TRUE(y.grad_fn()->context);
  EXPECT_EQ(*y.grad_fn()->context, "test.cpp:42");
  set_anomaly_context([] { return std::string("other.cpp:7"); });
  Tensor s = sum(y);
  EXPECT_EQ(*s.grad_fn()->context, "other.cpp:7");
  s.backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{1, 0.5, kInf, 0.25}));
}

TEST_F(Anomaly, OffNothingThrowsAndNodesKeepNoContext) {
  Tensor x = T({1, 2, 0, 4}, {4}, kFloat64, true);
  Tensor y = log(x);
  ASSERT_TRUE(y.grad_fn());
  EXPECT_EQ(y.grad_fn()->context, nullptr);
  sum(y).backward();
  EXPECT_EQ(x.grad().to_vector(), (std::vector<double>{1, 0.5, kInf, 0.25}));
}

TEST_F(Anomaly, NodesMadeBeforeAnomalyModeOrWithoutAContextAreSaidToBe) {
  Tensor x = T({1, 4, 0, 9}, {4}, kFloat64, true);
  Tensor y = sum(sqrt(x) * T({1, 1, 0, 1}, {4}));  // recorded while off
  {
    DetectAnomaly guard;
    EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { y.backward(); }),
                         "the backward of 'sqrt' (SqrtBackward0) (made before anomaly mode) returned nan"));
  }
  set_anomaly_context(nullptr);
  DetectAnomaly guard;
  Tensor z = sqrt(x);
  EXPECT_EQ(z.grad_fn()->context, nullptr);  // no context function: nothing to keep
  EXPECT_TRUE(Contains(Thrown<std::runtime_error>([&] { log(x); }),
                       "detect_anomaly: 'log' produced -inf at [2]"));  // no "(called at ...)"
}

TEST_F(Anomaly, NoFalseAlarmOnACleanNetworkAndTheSameGradients) {
  // logits = relu(x W1) W2, loss = -Σ log_softmax(logits) + Σ softmax(logits)·0.5
  auto run = [](bool anomaly, std::vector<Tensor>& grads) {
    std::unique_ptr<DetectAnomaly> guard;
    if (anomaly) guard = std::make_unique<DetectAnomaly>();
    manual_seed(3);
    Tensor x = randn({5, 3}, kFloat64);
    Tensor w1 = randn({3, 4}, kFloat64).set_requires_grad();
    Tensor w2 = randn({4, 2}, kFloat64).set_requires_grad();
    Tensor logits = matmul(relu(matmul(x, w1)), w2);
    Tensor loss = neg(sum(log_softmax(logits, 1))) + sum(softmax(logits, 1) * 0.5);
    if (anomaly) {
      EXPECT_NE(loss.grad_fn()->context, nullptr);
      EXPECT_NE(logits.grad_fn()->context, nullptr);
    }
    loss.backward();
    grads = {loss, w1.grad(), w2.grad()};
  };
  std::vector<Tensor> plain, checked;
  run(false, plain);
  run(true, checked);
  // Equal to the last bits or so: the GEMM may take another path for buffers placed differently
  // (anomaly mode allocates along the way), which moves a sum by an ulp.
  for (size_t i = 0; i < plain.size(); ++i) {
    ASSERT_TRUE(checked[i].defined());
    std::vector<double> a = checked[i].to_vector(), b = plain[i].to_vector();
    ASSERT_EQ(a.size(), b.size());
    for (size_t j = 0; j < a.size(); ++j)
      EXPECT_NEAR(a[j], b[j], 1e-12 * (1 + std::abs(b[j]))) << i << "," << j;
  }
}

TEST_F(Anomaly, OpsInsideTheBackwardPassAreNotForwardChecked) {
  DetectAnomaly guard;
  // An op whose rule builds an inf on the way to a finite gradient: 1 / (1 / 0) = 0, so g + 0 = g.
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  Tensor y = record("test_identity", x.detach(), {x}, kSaveNone, [](const Tensor& g, const Saved&) -> Grads {
    return {g + reciprocal(reciprocal(zeros_like(g)))};
  });
  sum(y * 3.0).backward();
  EXPECT_TRUE(Near(x.grad(), {2}, {3, 3}));
  EXPECT_TRUE(is_anomaly_check_forward_enabled());  // back on after the pass
  EXPECT_THROW(reciprocal(zeros({1}, kFloat64)), std::runtime_error);
}

// ---------------------------------------------------------------- ObserveBackward

struct Step {
  std::string name;
  Tensor grad_output;
  std::vector<Tensor> grads;
};

autograd::StepObserver Recorder(std::vector<Step>& steps) {
  return [&steps](const Node& n, const Tensor& g, const Grads& gs) { steps.push_back({n.name(), g, gs}); };
}

TEST(ObserveBackward, SeesEveryNodeInEngineOrderWithTheExactTensors) {
  // y = Σ exp(x·w) at x = [0.5, 1], w = [2, -1]
  Tensor x = T({0.5, 1}, {2}, kFloat64, true), w = T({2, -1}, {2}, kFloat64, true);
  Tensor y = sum(exp(x * w));
  std::vector<Step> steps;
  {
    autograd::ObserveBackward observe(Recorder(steps));
    y.backward();
  }
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[0].name, "SumBackward0");
  EXPECT_EQ(steps[1].name, "ExpBackward0");
  EXPECT_EQ(steps[2].name, "MulBackward0");
  EXPECT_TRUE(Near(steps[0].grad_output, {}, {1}));
  ASSERT_EQ(steps[0].grads.size(), 1u);
  EXPECT_TRUE(Near(steps[0].grads[0], {2}, {1, 1}));
  const double e1 = std::exp(1.0), em1 = std::exp(-1.0);
  EXPECT_TRUE(Near(steps[1].grad_output, {2}, {1, 1}));
  EXPECT_TRUE(Near(steps[1].grads[0], {2}, {e1, em1}));
  EXPECT_TRUE(Near(steps[2].grad_output, {2}, {e1, em1}));
  EXPECT_EQ(steps[2].grad_output.to_vector(), steps[1].grads[0].to_vector());  // what Exp handed Mul
  ASSERT_EQ(steps[2].grads.size(), 2u);
  EXPECT_TRUE(Near(steps[2].grads[0], {2}, {2 * e1, -em1}));
  EXPECT_TRUE(Near(steps[2].grads[1], {2}, {0.5 * e1, em1}));
  EXPECT_EQ(steps[2].grads[0].to_vector(), x.grad().to_vector());
  EXPECT_EQ(steps[2].grads[1].to_vector(), w.grad().to_vector());
}

TEST(ObserveBackward, ALeafUsedTwiceGetsTheSumOfWhatTheStepsHandIt) {
  // y = x·x + x at x = 3: dy/dx = 2x + 1 = 7
  Tensor x = T({3}, {}, kFloat64, true);
  std::vector<Step> steps;
  autograd::ObserveBackward observe(Recorder(steps));
  (x * x + x).backward();
  ASSERT_EQ(steps.size(), 2u);
  EXPECT_EQ(steps[0].name, "AddBackward0");
  EXPECT_EQ(steps[1].name, "MulBackward0");
  EXPECT_EQ(steps[0].grads[0].item(), 1.0);
  EXPECT_EQ(steps[0].grads[1].item(), 1.0);  // to x directly
  EXPECT_EQ(steps[1].grads[0].item(), 3.0);
  EXPECT_EQ(steps[1].grads[1].item(), 3.0);
  EXPECT_EQ(steps[0].grads[1].item() + steps[1].grads[0].item() + steps[1].grads[1].item(), x.grad().item());
  EXPECT_EQ(x.grad().item(), 7.0);
}

TEST(ObserveBackward, GradsAreReducedToTheInputShapeAndUndefinedForConstants) {
  Tensor x = T({1, 2, 3}, {3}, kFloat64, true), b = T({5}, {}, kFloat64, true);
  Tensor c = T({4, 4, 4}, {3});
  std::vector<Step> steps;
  autograd::ObserveBackward observe(Recorder(steps));
  sum((x + b) * c).backward();
  ASSERT_EQ(steps.size(), 3u);
  EXPECT_EQ(steps[1].name, "MulBackward0");
  EXPECT_TRUE(steps[1].grads[0].defined());
  EXPECT_FALSE(steps[1].grads[1].defined());  // c needs no gradient
  EXPECT_EQ(steps[2].name, "AddBackward0");
  EXPECT_TRUE(Near(steps[2].grads[1], {}, {12}));  // summed back to b's shape ()
  EXPECT_EQ(b.grad().item(), 12.0);
}

TEST(ObserveBackward, NestingRestoresThePreviousObserverAndNothingIsSeenAfterScope) {
  Tensor x = T({2}, {}, kFloat64, true);
  std::vector<Step> outer_steps, inner_steps;
  {
    autograd::ObserveBackward outer(Recorder(outer_steps));
    {
      autograd::ObserveBackward inner(Recorder(inner_steps));
      exp(x).backward();
    }
    EXPECT_EQ(inner_steps.size(), 1u);
    EXPECT_EQ(outer_steps.size(), 0u);
    (x * x).backward();
    ASSERT_EQ(outer_steps.size(), 1u);
    EXPECT_EQ(outer_steps[0].name, "MulBackward0");
    EXPECT_EQ(inner_steps.size(), 1u);
  }
  sin(x).backward();
  EXPECT_EQ(outer_steps.size(), 1u);
  EXPECT_EQ(inner_steps.size(), 1u);
  EXPECT_EQ(inner_steps[0].name, "ExpBackward0");
}

// ---------------------------------------------------------------- local_grads, next_node_seq, Node::output

TEST(LocalGrads, ScalarProductGivesTheOtherFactor) {
  Tensor x = T({3}, {}, kFloat64, true), w = T({-2}, {}, kFloat64, true);
  Tensor z = x * w;
  Grads g = autograd::local_grads(*z.grad_fn(), scalar_tensor(1.0, kFloat64));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_EQ(g[0].item(), -2.0);        // dz/dx = w
  EXPECT_EQ(g[1].item(), 3.0);         // dz/dw = x
  EXPECT_FALSE(g[0].requires_grad());  // no graph is built
  EXPECT_FALSE(x.grad().defined());    // and nothing is accumulated
  Grads g2 = autograd::local_grads(*z.grad_fn(), scalar_tensor(0.5, kFloat64));
  EXPECT_EQ(g2[0].item(), -1.0);
  EXPECT_EQ(g2[1].item(), 1.5);
}

TEST(LocalGrads, BroadcastGradsAreReducedAndConstantsGetNone) {
  Tensor x = T({1, 2, 3}, {3}, kFloat64, true), b = T({7}, {}, kFloat64, true);
  Tensor s = x + b;
  Grads g = autograd::local_grads(*s.grad_fn(), T({1, 2, 4}, {3}));
  ASSERT_EQ(g.size(), 2u);
  EXPECT_TRUE(Near(g[0], {3}, {1, 2, 4}));
  EXPECT_TRUE(Near(g[1], {}, {7}));  // summed to b's shape ()
  Tensor c = T({5, 5, 5}, {3});
  Tensor m = x * c;
  Grads gm = autograd::local_grads(*m.grad_fn(), ones({3}, kFloat64));
  ASSERT_EQ(gm.size(), 2u);
  EXPECT_TRUE(Near(gm[0], {3}, {5, 5, 5}));
  EXPECT_FALSE(gm[1].defined());
}

TEST(LocalGrads, ErrorsAfterTheGraphWasFreedAndForAWrongShape) {
  Tensor x = T({1, 2}, {2}, kFloat64, true), w = T({3, 4}, {2}, kFloat64, true);
  Tensor z = x * w;
  std::shared_ptr<Node> node = z.grad_fn();
  std::string bad = Thrown<std::invalid_argument>([&] { autograd::local_grads(*node, ones({3}, kFloat64)); });
  EXPECT_TRUE(
      Contains(bad, "local_grads: expected a gradient of MulBackward0's output shape (2,), got (3,)"));
  EXPECT_THROW(autograd::local_grads(*node, Tensor()), std::invalid_argument);
  sum(z).backward();  // frees the saved x and w
  std::string freed = Thrown<std::runtime_error>([&] { autograd::local_grads(*node, ones({2}, kFloat64)); });
  EXPECT_TRUE(Contains(freed, "retain_graph")) << freed;
  EXPECT_TRUE(Contains(freed, "'mul'")) << freed;
  // with retain_graph, it still works afterwards
  Tensor z2 = x * w;
  sum(z2).backward(Tensor(), /*retain_graph=*/true);
  EXPECT_TRUE(Near(autograd::local_grads(*z2.grad_fn(), ones({2}, kFloat64))[0], {2}, {3, 4}));
}

TEST(NodeIntrospection, NextNodeSeqIsTheSeqOfTheNextNodeAndOutputLocksWhileItLives) {
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  uint64_t seq = autograd::next_node_seq();
  EXPECT_EQ(autograd::next_node_seq(), seq);  // asking records nothing
  Tensor a = x * 2.0;
  Tensor b = exp(a);
  ASSERT_TRUE(a.grad_fn() && b.grad_fn());
  EXPECT_EQ(a.grad_fn()->seq, seq);
  EXPECT_EQ(b.grad_fn()->seq, seq + 1);
  EXPECT_EQ(autograd::next_node_seq(), seq + 2);
  {
    NoGradGuard no_grad;
    Tensor c = x * 3.0;  // no node
  }
  EXPECT_EQ(autograd::next_node_seq(), seq + 2);
  std::shared_ptr<Node> node = b.grad_fn();
  EXPECT_EQ(node->output.lock().get(), b.impl());
  b = Tensor();
  EXPECT_TRUE(node->output.expired());
}

// ---------------------------------------------------------------- untracked_by

TEST(UntrackedBy, NamesDetachOrTheNoGradOpAndIsNullOtherwise) {
  Tensor x = T({1, 2}, {2}, kFloat64, true);
  Tensor d = x.detach();
  ASSERT_NE(d.impl()->untracked_by, nullptr);
  EXPECT_STREQ(d.impl()->untracked_by, "detach");
  EXPECT_STREQ((x * 2.0).detach().impl()->untracked_by, "detach");  // a non-leaf too
  {
    NoGradGuard no_grad;
    Tensor m = x * T({3, 3}, {2});
    ASSERT_NE(m.impl()->untracked_by, nullptr);
    EXPECT_STREQ(m.impl()->untracked_by, "mul");
    EXPECT_STREQ(exp(x).impl()->untracked_by, "exp");
    EXPECT_EQ((T({1}, {1}) * 2.0).impl()->untracked_by, nullptr);  // never touched requires-grad data
  }
  Tensor plain = T({1, 2}, {2});
  EXPECT_EQ(plain.detach().impl()->untracked_by, nullptr);
  EXPECT_EQ((plain * 2.0).impl()->untracked_by, nullptr);
  EXPECT_EQ((x * 2.0).impl()->untracked_by, nullptr);  // tracked
}

}  // namespace
