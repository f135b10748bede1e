// Every differentiable op of the core, as free functions (PyTorch's names and semantics).
// Binary elementwise ops broadcast NumPy-style; `dim` arguments may be negative.
#pragma once
#include <string>
#include <utility>
#include <vector>

#include "core/autograd.h"
#include "core/tensor.h"
// ---- linalg area (dot, outer, einsum, norms, torch.linalg decompositions): declared in linalg.h ----
#include "core/linalg.h"

namespace chainrule {

// ---- arithmetic (broadcasting; dtype promotion bool < int64 < float32 < float64, as PyTorch) ----
Tensor add(const Tensor& a, const Tensor& b);
Tensor sub(const Tensor& a, const Tensor& b);
Tensor mul(const Tensor& a, const Tensor& b);
Tensor div(const Tensor& a, const Tensor& b);  // true division: int64 / int64 -> float32
Tensor add(const Tensor& a, const Scalar& b);
Tensor sub(const Tensor& a, const Scalar& b);
Tensor rsub(const Tensor& a, const Scalar& b);  // b - a
Tensor mul(const Tensor& a, const Scalar& b);
Tensor div(const Tensor& a, const Scalar& b);
Tensor rdiv(const Tensor& a, const Scalar& b);  // b / a
Tensor neg(const Tensor& a);
Tensor pow(const Tensor& a, const Scalar& exponent);
Tensor pow(const Tensor& a, const Tensor& exponent);
Tensor pow(const Scalar& base, const Tensor& exponent);
Tensor reciprocal(const Tensor& a);

Tensor operator+(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a, const Tensor& b);
Tensor operator*(const Tensor& a, const Tensor& b);
Tensor operator/(const Tensor& a, const Tensor& b);
Tensor operator-(const Tensor& a);
Tensor operator+(const Tensor& a, const Scalar& b);
Tensor operator-(const Tensor& a, const Scalar& b);
Tensor operator*(const Tensor& a, const Scalar& b);
Tensor operator/(const Tensor& a, const Scalar& b);
Tensor operator+(const Scalar& a, const Tensor& b);
Tensor operator-(const Scalar& a, const Tensor& b);
Tensor operator*(const Scalar& a, const Tensor& b);
Tensor operator/(const Scalar& a, const Tensor& b);

// ---- unary (int64/bool inputs are promoted to float32) ----
Tensor exp(const Tensor& x);
Tensor log(const Tensor& x);
Tensor sqrt(const Tensor& x);
Tensor abs(const Tensor& x);
Tensor sin(const Tensor& x);
Tensor cos(const Tensor& x);
Tensor tanh(const Tensor& x);
Tensor sigmoid(const Tensor& x);
Tensor relu(const Tensor& x);
Tensor leaky_relu(const Tensor& x, double negative_slope = 0.01);
Tensor softplus(const Tensor& x, double beta = 1.0, double threshold = 20.0);
Tensor clamp(const Tensor& x, double min, double max);
Tensor clamp_min(const Tensor& x, double min);
Tensor clamp_max(const Tensor& x, double max);
Tensor sign(const Tensor& x);  // not differentiable (its derivative is 0 almost everywhere)

// ---- binary ----
Tensor maximum(const Tensor& a, const Tensor& b);  // ties send half the gradient to each side
Tensor minimum(const Tensor& a, const Tensor& b);
// comparisons return bool tensors and are not differentiable
Tensor eq(const Tensor& a, const Tensor& b);
Tensor ne(const Tensor& a, const Tensor& b);
Tensor lt(const Tensor& a, const Tensor& b);
Tensor le(const Tensor& a, const Tensor& b);
Tensor gt(const Tensor& a, const Tensor& b);
Tensor ge(const Tensor& a, const Tensor& b);
Tensor eq(const Tensor& a, const Scalar& b);
Tensor ne(const Tensor& a, const Scalar& b);
Tensor lt(const Tensor& a, const Scalar& b);
Tensor le(const Tensor& a, const Scalar& b);
Tensor gt(const Tensor& a, const Scalar& b);
Tensor ge(const Tensor& a, const Scalar& b);
Tensor logical_and(const Tensor& a, const Tensor& b);
Tensor logical_or(const Tensor& a, const Tensor& b);
Tensor logical_not(const Tensor& a);
// int64: bitwise; bool: logical (the Python operators & | ^ ~)
Tensor bitwise_and(const Tensor& a, const Tensor& b);
Tensor bitwise_or(const Tensor& a, const Tensor& b);
Tensor bitwise_xor(const Tensor& a, const Tensor& b);
Tensor bitwise_not(const Tensor& a);
Tensor where(const Tensor& cond, const Tensor& a, const Tensor& b);  // cond must be bool
Tensor where(const Tensor& cond, const Tensor& a, const Scalar& b);
Tensor where(const Tensor& cond, const Scalar& a, const Tensor& b);

// ---- elementwise math (torch names; int64/bool inputs of float functions compute in float32) ----
Tensor tan(const Tensor& x);
Tensor asin(const Tensor& x);
Tensor acos(const Tensor& x);
Tensor atan(const Tensor& x);
Tensor atan2(const Tensor& input, const Tensor& other);  // broadcasting; the angle of (other, input)
Tensor sinh(const Tensor& x);
Tensor cosh(const Tensor& x);
Tensor asinh(const Tensor& x);
Tensor acosh(const Tensor& x);
Tensor atanh(const Tensor& x);
Tensor log1p(const Tensor& x);
Tensor expm1(const Tensor& x);
Tensor log2(const Tensor& x);
Tensor log10(const Tensor& x);
Tensor exp2(const Tensor& x);
Tensor square(const Tensor& x);  // int64 stays int64 (bool -> int64)
Tensor rsqrt(const Tensor& x);
// rounding: derivative 0; int64 inputs give an int64 copy; round is half to even
Tensor floor(const Tensor& x);
Tensor ceil(const Tensor& x);
Tensor trunc(const Tensor& x);
Tensor round(const Tensor& x, int64_t decimals = 0);
Tensor frac(const Tensor& x);  // x - trunc(x), derivative 1
// fmod: sign of the dividend; remainder: sign of the divisor (Python's %); floor_divide: Python's //.
// Integer division by zero throws std::runtime_error("...ZeroDivisionError..."), as torch.
Tensor fmod(const Tensor& a, const Tensor& b);
Tensor fmod(const Tensor& a, const Scalar& b);
Tensor remainder(const Tensor& a, const Tensor& b);
Tensor remainder(const Tensor& a, const Scalar& b);
Tensor remainder(const Scalar& a, const Tensor& b);
Tensor floor_divide(const Tensor& a, const Tensor& b);  // no derivative (backward throws), as torch
Tensor floor_divide(const Tensor& a, const Scalar& b);
Tensor floor_divide(const Scalar& a, const Tensor& b);
// rounding_mode "" (true division), "trunc" or "floor"; the rounded quotients have derivative 0
Tensor div(const Tensor& a, const Tensor& b, const std::string& rounding_mode);
Tensor div(const Tensor& a, const Scalar& b, const std::string& rounding_mode);
Tensor add(const Tensor& a, const Tensor& b, const Scalar& alpha);  // a + alpha * b
Tensor add(const Tensor& a, const Scalar& b, const Scalar& alpha);
Tensor sub(const Tensor& a, const Tensor& b, const Scalar& alpha);  // a - alpha * b
Tensor sub(const Tensor& a, const Scalar& b, const Scalar& alpha);
// predicates: bool results, no gradient (int64/bool are never nan or inf)
Tensor isnan(const Tensor& x);
Tensor isinf(const Tensor& x);
Tensor isfinite(const Tensor& x);
Tensor isposinf(const Tensor& x);
Tensor isneginf(const Tensor& x);
// |a - b| <= atol + rtol * |b|, or a == b, or both nan when equal_nan; same dtypes required
Tensor isclose(const Tensor& a, const Tensor& b, double rtol = 1e-05, double atol = 1e-08,
               bool equal_nan = false);
bool allclose(const Tensor& a, const Tensor& b, double rtol = 1e-05, double atol = 1e-08,
              bool equal_nan = false);
// clamp with tensor bounds (either may be undefined), broadcasting; clip is its alias
Tensor clamp(const Tensor& x, const Tensor& min, const Tensor& max);
Tensor clip(const Tensor& x, double min, double max);
Tensor clip(const Tensor& x, const Tensor& min, const Tensor& max);
Tensor lerp(const Tensor& start, const Tensor& end, const Tensor& weight);  // start + weight (end - start)
Tensor lerp(const Tensor& start, const Tensor& end, const Scalar& weight);
Tensor copysign(const Tensor& a, const Tensor& b);  // |a| with b's sign; -> float
Tensor copysign(const Tensor& a, const Scalar& b);

// ---- reductions: dims may be negative; an empty list reduces over every dim ----
Tensor sum(const Tensor& x);
Tensor sum(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor mean(const Tensor& x);
Tensor mean(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor amax(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);  // ties share
Tensor amin(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor max(const Tensor& x);  // of all elements
Tensor min(const Tensor& x);
// values and int64 indices along one dim; the gradient goes to the selected element
std::pair<Tensor, Tensor> max(const Tensor& x, int64_t dim, bool keepdim = false);
std::pair<Tensor, Tensor> min(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmax(const Tensor& x);  // index into the flattened tensor
Tensor argmax(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor argmin(const Tensor& x);
Tensor argmin(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor var(const Tensor& x, std::vector<int64_t> dims = {}, double correction = 1.0, bool keepdim = false);
Tensor logsumexp(const Tensor& x, std::vector<int64_t> dims, bool keepdim = false);
Tensor softmax(const Tensor& x, int64_t dim);  // stable for logits of magnitude 1e4
Tensor log_softmax(const Tensor& x, int64_t dim);

// ---- reductions, scans and sorting (reduce helper) ----
// std = sqrt(var); its gradient is 0 where std is 0 (as PyTorch), nan when N - correction <= 0.
// Under `using namespace chainrule` write chainrule::std(x): a bare std(x) is ambiguous with namespace std.
Tensor std(const Tensor& x, std::vector<int64_t> dims = {}, double correction = 1.0, bool keepdim = false);
std::pair<Tensor, Tensor> std_mean(const Tensor& x, std::vector<int64_t> dims = {}, double correction = 1.0,
                                   bool keepdim = false);
std::pair<Tensor, Tensor> var_mean(const Tensor& x, std::vector<int64_t> dims = {}, double correction = 1.0,
                                   bool keepdim = false);

// Statistics of all elements in double precision, no graph (what cr.doctor measures): counts of nan
// and ±inf, mean, unbiased std (nan below 2 elements, as Tensor.std) and Σx² (the norm squared).
// With `minus`, of the elements of x - minus (same shape and dtype; subtracted in double, no copy).
struct TensorStats {
  int64_t numel = 0, nan = 0, inf = 0;
  double mean = 0, std = 0, sumsq = 0;
};
TensorStats tensor_stats(const Tensor& x, const std::optional<Tensor>& minus = std::nullopt);
// products: bool/int64 -> int64; exact gradients (and second derivatives) with zeros in x
Tensor prod(const Tensor& x);  // of all elements
Tensor prod(const Tensor& x, int64_t dim, bool keepdim = false);
Tensor cumsum(const Tensor& x, int64_t dim);   // bool/int64 -> int64
Tensor cumprod(const Tensor& x, int64_t dim);  // bool/int64 -> int64
// bool results: is every (some) element nonzero (nan counts as nonzero)
Tensor all(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
Tensor any(const Tensor& x, std::vector<int64_t> dims = {}, bool keepdim = false);
// the lower median of all elements (nan if any is nan; ties share the gradient evenly)
Tensor median(const Tensor& x);
// values and int64 indices along one dim (the gradient goes to the selected elements)
std::pair<Tensor, Tensor> median(const Tensor& x, int64_t dim, bool keepdim = false);
// nan sorts as the largest value; ties keep their input order (stable) whatever `stable` says
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim = -1, bool descending = false,
                               bool stable = false);
Tensor argsort(const Tensor& x, int64_t dim = -1, bool descending = false, bool stable = false);
// the k largest (smallest) along dim; k outside [0, size] is a std::runtime_error, as PyTorch
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim = -1, bool largest = true,
                               bool sorted = true);

// ---- linear algebra ----
// 1-D @ 1-D dot, 2-D @ 2-D, 1-D/2-D mixes, and batched (>= 3-D) with broadcast batch dims.
Tensor matmul(const Tensor& a, const Tensor& b);
Tensor mm(const Tensor& a, const Tensor& b);                                          // 2-D only
Tensor linear(const Tensor& x, const Tensor& weight, const Tensor& bias = Tensor());  // x W^T + b

// ---- shape ----
// Views, as in PyTorch (they share x's storage, so in-place writes through them land in x):
// reshape/view (reshape copies when no view is possible; view then raises), flatten, transpose,
// permute, squeeze, unsqueeze, expand, slice, select, narrow, diagonal, unfold, split, chunk.
Tensor reshape(const Tensor& x, Shape shape);  // one dim may be -1
Tensor view(const Tensor& x, Shape shape);
Tensor flatten(const Tensor& x, int64_t start_dim = 0, int64_t end_dim = -1);
Tensor transpose(const Tensor& x, int64_t d0, int64_t d1);
Tensor permute(const Tensor& x, std::vector<int64_t> dims);
Tensor squeeze(const Tensor& x);
Tensor squeeze(const Tensor& x, int64_t dim);
Tensor unsqueeze(const Tensor& x, int64_t dim);
Tensor expand(const Tensor& x, Shape shape);  // -1 keeps a dim; new dims may be prepended
Tensor broadcast_to(const Tensor& x, Shape shape);
Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op);
Tensor sum_to(const Tensor& x, const Shape& shape);  // inverse of broadcasting (sums)
Tensor cat(const std::vector<Tensor>& xs, int64_t dim = 0);
Tensor stack(const std::vector<Tensor>& xs, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, int64_t split_size, int64_t dim = 0);
std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim = 0);
std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim = 0);
// Python-style slice x[..., start:stop:step, ...]; start/stop are clamped, negatives count from end
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t stop, int64_t step = 1);
Tensor select(const Tensor& x, int64_t dim, int64_t index);  // removes dim; bad index: out_of_range
Tensor narrow(const Tensor& x, int64_t dim, int64_t start,
              int64_t length);  // slice(dim, start, start+length)
// The diagonal of each (dim1, dim2) plane, as a new last dim; offset > 0 above the main diagonal.
Tensor diagonal(const Tensor& x, int64_t offset = 0, int64_t dim1 = 0, int64_t dim2 = 1);
// Windows of `size` every `step` along dim, as a new last dim (Tensor.unfold; F.unfold is im2col).
Tensor unfold(const Tensor& x, int64_t dim, int64_t size, int64_t step);
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index);  // index: 1-D int64
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index);        // index: int64, same ndim
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src);
Tensor one_hot(const Tensor& labels, int64_t num_classes = -1);  // int64 -> int64 (..., C)

// ---- Tensor API habits of PyTorch tutorials (tapi; core/ops_shape.cpp) ----
// x with value where mask is true; mask (bool) and x broadcast together (torch's out-of-place
// rule), the result keeps x's dtype. value: a number or a 0-d tensor (it gets the gradient
// sum(g[mask])). A non-bool mask or a value with dims is a std::runtime_error, as in torch.
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value);
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value);
// In place (no gradient is recorded): mask must broadcast to x's shape.
Tensor& masked_fill_(Tensor& x, const Tensor& mask, const Tensor& value);
Tensor& masked_fill_(Tensor& x, const Tensor& mask, const Scalar& value);
// Copies (as torch): x tiled repeats[i] times along dim i (more repeats than dims prepend dims).
Tensor repeat(const Tensor& x, const Shape& repeats);
Tensor tile(const Tensor& x, Shape reps);                 // repeat, with fewer reps than dims padded by 1s
Tensor flip(const Tensor& x, std::vector<int64_t> dims);  // reversed along dims (a copy)
Tensor fliplr(const Tensor& x);                           // flip(x, {1}), x at least 2-D
Tensor flipud(const Tensor& x);                           // flip(x, {0}), x at least 1-D
// Elements shifted by shifts[i] along dims[i], wrapping around (a copy); dims empty: the flattened
// tensor is rolled by the one shift and reshaped back.
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims = {});
// Removes the dims in `dims` that have size 1 (others are left alone, as torch 2.x). A view.
Tensor squeeze(const Tensor& x, const std::vector<int64_t>& dims);
// In place, as torch's squeeze_/unsqueeze_: x takes the view's shape (a non-leaf keeps its history).
Tensor& squeeze_(Tensor& x);
Tensor& squeeze_(Tensor& x, const std::vector<int64_t>& dims);  // also for a single dim: {d}
Tensor& unsqueeze_(Tensor& x, int64_t dim);
// softmax / log_softmax computed in dtype (the input converted first), as torch's dtype= argument.
Tensor softmax(const Tensor& x, int64_t dim, Dtype dtype);
Tensor log_softmax(const Tensor& x, int64_t dim, Dtype dtype);

// Internal: the backward of the views (g placed into zeros of `shape`); differentiable.
Tensor slice_backward(const Tensor& g, const Shape& shape, int64_t dim, int64_t start, int64_t step);
Tensor diagonal_backward(const Tensor& g, const Shape& shape, int64_t offset, int64_t dim1, int64_t dim2);
Tensor unfold_backward(const Tensor& g, const Shape& shape, int64_t dim, int64_t size, int64_t step);

}  // namespace chainrule
