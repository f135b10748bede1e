// nn::functional (alias nn::F): losses, regularisers, dropout and normalisation as free functions,
// with PyTorch's names, arguments and semantics. Composed from core ops, so gradients (and second
// derivatives) come from the ops' own backward rules; only BCE's clamped log is fused.
#pragma once
#include <optional>
#include <string>
#include <vector>

#include "core/ops.h"
#include "core/ops_nn.h"

namespace chainrule::nn::functional {

// The activations, convolution and pooling live in the core; they are here too so that F::relu,
// F::conv2d read like torch.nn.functional.
using chainrule::avg_pool2d;
using chainrule::conv2d;
using chainrule::elu;
using chainrule::gelu;
using chainrule::hardtanh;
using chainrule::leaky_relu;
using chainrule::linear;
using chainrule::log_softmax;
using chainrule::max_pool2d;
using chainrule::one_hot;
using chainrule::pad;
using chainrule::relu;
using chainrule::relu6;
using chainrule::sigmoid;
using chainrule::silu;
using chainrule::softmax;
using chainrule::softplus;
using chainrule::softsign;
using chainrule::tanh;

// log(sigmoid(x)) = min(x, 0) - log(1 + e^-|x|), finite for logits of any size.
Tensor logsigmoid(const Tensor& x);

// ---- losses. reduction: "mean" (default), "sum" or "none" (the per-element losses) ----
// Any other reduction is std::invalid_argument. A `weight` argument is optional (undefined Tensor).

// (x - y)^2. With weight (input's shape): mean = Σ w (x - y)^2 / Σ w, as torch 2.13.
Tensor mse_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                const Tensor& weight = Tensor());
// |x - y|. With weight: mean = Σ w |x - y| / Σ w.
Tensor l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
               const Tensor& weight = Tensor());
// ½ d^2 where |d| < delta, else delta (|d| - ½ delta), d = x - y. With weight: mean of w * loss.
Tensor huber_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                  double delta = 1.0, const Tensor& weight = Tensor());
// ½ d^2 / beta where |d| < beta, else |d| - ½ beta (huber_loss / beta; beta = 0 is l1_loss).
Tensor smooth_l1_loss(const Tensor& input, const Tensor& target, const std::string& reduction = "mean",
                      double beta = 1.0);

// Negative log-likelihood of log-probabilities: input (N, C), (C,) or (N, C, d1, ...); target int64
// class indices (N,), () or (N, d1, ...). loss_i = -weight[t_i] * input[i, t_i]; targets equal to
// ignore_index contribute 0, and "mean" divides by Σ weight[t_i] over the targets not ignored.
Tensor nll_loss(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                int64_t ignore_index = -100, const std::string& reduction = "mean");

// log_softmax over the class dim (dim 1, or 0 for a 1-D input) followed by nll_loss, exactly as
// torch: target either int64 class indices (shapes as nll_loss) or class probabilities of the
// input's shape (float). label_smoothing ε in [0, 1] mixes in the uniform distribution:
//   indices:       (1 - ε) nll + ε/C Σ_c -w_c log p_c   (same ignore/weight normalisation)
//   probabilities: target' = (1 - ε) target + ε/C, loss = -Σ_c w_c target'_c log p_c,
//                  "mean" divides by the number of samples (N × d1 × ...), not by the weights.
// Stable for logits of magnitude 1e4. Class weights are constants (no gradient).
Tensor cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                     int64_t ignore_index = -100, const std::string& reduction = "mean",
                     double label_smoothing = 0.0);

// -w (y log x + (1 - y) log(1 - x)) on probabilities x in [0, 1] (target: input's shape). The logs
// are clamped at -100, as torch, so x = 0 or 1 gives a finite loss and gradient.
Tensor binary_cross_entropy(const Tensor& input, const Tensor& target, const Tensor& weight = Tensor(),
                            const std::string& reduction = "mean");

// BCE on logits, computed stably: (1 - y) x - (1 + (pw - 1) y) log σ(x), times weight.
// pos_weight (broadcast over the last dim, usually (C,)) weighs the positive examples. Both weights
// are constants (no gradient), as in torch.
Tensor binary_cross_entropy_with_logits(const Tensor& input, const Tensor& target,
                                        const Tensor& weight = Tensor(),
                                        const std::string& reduction = "mean",
                                        const Tensor& pos_weight = Tensor());

// ---- regularisers: differentiable terms to add to a loss ----
Tensor l1_penalty(const std::vector<Tensor>& params);  // Σ_p Σ |w|    (0 for no params)
Tensor l2_penalty(const std::vector<Tensor>& params);  // Σ_p Σ w^2    (no ½)

// ---- dropout and normalisation ----
// training: each element is zeroed with probability p (mask drawn from manual_seed's generator)
// and the survivors scaled by 1/(1 - p), so the expectation is unchanged; otherwise x itself.
Tensor dropout(const Tensor& input, double p = 0.5, bool training = true);

// input (N, C, *). training: normalise with the batch's mean and biased variance over every dim
// but 1, and update defined running stats in place: r = (1 - momentum) r + momentum * stat, with
// the unbiased variance. Otherwise normalise with the running stats. Then * weight + bias (C,).
Tensor batch_norm(const Tensor& input, const Tensor& running_mean, const Tensor& running_var,
                  const Tensor& weight = Tensor(), const Tensor& bias = Tensor(), bool training = false,
                  double momentum = 0.1, double eps = 1e-5);

// Normalises over the trailing dims given by normalized_shape (biased variance), then
// * weight + bias (both of normalized_shape when defined).
Tensor layer_norm(const Tensor& input, const Shape& normalized_shape, const Tensor& weight = Tensor(),
                  const Tensor& bias = Tensor(), double eps = 1e-5);

// ---- embeddings, norms and similarity ----
// weight[input]: int64 indices of any shape and weight (num_embeddings, embedding_dim) give
// input.shape + (embedding_dim,). Row i's gradient sums the gradients of every position holding i;
// the padding_idx row (in [-num_embeddings, num_embeddings)) gets none.
Tensor embedding(const Tensor& input, const Tensor& weight,
                 std::optional<int64_t> padding_idx = std::nullopt);

// ||x||_p along dim, kept (p > 0, or inf). d/dx = sign(x) |x|^(p-1) / ||x||^(p-1), and 0 where the
// norm is 0 (torch's choice, so a zero vector has a finite gradient).
Tensor vector_norm(const Tensor& input, double p, int64_t dim);

// x / max(||x||_p, eps) along dim (torch.nn.functional.normalize).
Tensor normalize(const Tensor& input, double p = 2.0, int64_t dim = 1, double eps = 1e-12);

// Σ_dim (x1 / n1) (x2 / n2) with n = max(||x||_2, eps) along dim (x1 and x2 broadcast), as torch 2.13
// computes it: the clamp at eps changes the norms' values but not their gradients.
Tensor cosine_similarity(const Tensor& x1, const Tensor& x2, int64_t dim = 1, double eps = 1e-8);

}  // namespace chainrule::nn::functional

namespace chainrule::nn {
namespace F = functional;
}  // namespace chainrule::nn
