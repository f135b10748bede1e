// Sorting and order statistics: sort, argsort, topk, median. A kernel finds the int64 indices
// along one dim; the values are x's elements at them, and the gradient is scattered back to those
// positions (a linear map of g, so grad-of-grad works too). nan sorts as the largest value.
#include <algorithm>
#include <cmath>
#include <numeric>
#include <utility>
#include <vector>

#include "core/kernels.h"
#include "core/ops.h"

namespace chainrule {
using namespace kernels;

namespace {

template <class T> bool is_nan(T v) { return v != v; }  // false for int64 and bool

// Strict orders on (value, index) pairs with nan above everything, as PyTorch (and NumPy).
template <class T> bool less_nan_last(T a, T b) { return (!is_nan(a) && is_nan(b)) || a < b; }
template <class T> bool greater_nan_first(T a, T b) { return (is_nan(a) && !is_nan(b)) || a > b; }

// The kernel of line_indices: in is (outer, n, inner), o (outer, k, inner).
template <class T, class F>
void fill_line_indices(const T* in, int64_t* o, int64_t outer, int64_t n, int64_t inner, int64_t k, F& fill) {
  parallel_for(
      outer * inner,
      [&](int64_t t0, int64_t t1) {
        std::vector<std::pair<T, int64_t>> line(n);
        std::vector<int64_t> idx(n);
        for (int64_t t = t0; t < t1; ++t) {
          const int64_t oo = t / inner, ii = t % inner;
          const T* src = in + oo * n * inner + ii;
          for (int64_t j = 0; j < n; ++j) line[j] = {src[j * inner], j};
          fill(line, idx.data());
          int64_t* dst = o + oo * k * inner + ii;
          for (int64_t j = 0; j < k; ++j) dst[j * inner] = idx[j];
        }
      },
      outer * n * inner * 8);
}

// For each line of x along dim (contiguous, dim normalised, x.dim() > 0): fill(vals, n, idx)
// writes `k` indices into idx, which is read back into an int64 tensor of x's shape with
// size k along dim.
template <class F> Tensor line_indices(const Tensor& x, int64_t dim, int64_t k, F fill) {
  Tensor xc = contig(x);
  Shape s = x.shape();
  const int64_t n = s[dim];
  int64_t outer = 1, inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= s[d];
  for (int64_t d = dim + 1; d < x.dim(); ++d) inner *= s[d];
  s[dim] = k;
  Tensor out = empty(s, kInt64);
  if (out.numel() == 0) return out;
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    fill_line_indices(ptr<T>(xc), ptr<int64_t>(out), outer, n, inner, k, fill);
  });
  return out;
}

// (x's elements at idx along dim, idx), the values recorded as `op` (SortBackward0, as PyTorch
// names it): the gradient is scattered back to the picked positions. idx has x's rank; with
// drop_dim both results lose dim (idx has size 1 there). The backward keeps its own copy of idx,
// so writing into the returned indices can't change the gradient.
std::pair<Tensor, Tensor> gathered(const Tensor& x, int64_t dim, const Tensor& idx, const char* op,
                                   bool drop_dim = false) {
  Tensor values = gather(x.detach(), dim, idx);
  if (drop_dim) values = squeeze(values, dim);
  values = record(
      op, values, {x}, kSaveNone,
      [dim, at = idx.clone(), drop_dim](const Tensor& g, const Saved& s) -> Grads {
        return {scatter_add(zeros(s.input_shape(0), g.dtype()), dim, at, drop_dim ? unsqueeze(g, dim) : g)};
      },
      [dim, at = idx.clone(), drop_dim](const Duals& d) {
        Tensor t = gather(d.tangent(0), dim, at);
        return drop_dim ? squeeze(t, dim) : t;
      });
  return {values, drop_dim ? squeeze(idx, dim) : idx};
}

}  // namespace

// ---------------------------------------------------------------- sort, argsort
// values = x[indices] along dim, ascending (descending). Ties keep their input order: always a
// stable sort (PyTorch's unstable CPU sort may order ties differently for lines longer than 16).
std::pair<Tensor, Tensor> sort(const Tensor& x, int64_t dim, bool descending, bool stable) {
  (void)stable;
  dim = normalize_dim(dim, x.dim(), "sort");
  if (x.dim() == 0) return {x.clone(), zeros({}, kInt64)};
  Tensor idx = line_indices(x, dim, x.shape()[dim], [descending](auto& line, int64_t* out) {
    using P = std::decay_t<decltype(line[0])>;
    if (descending)
      std::stable_sort(line.begin(), line.end(),
                       [](const P& a, const P& b) { return greater_nan_first(a.first, b.first); });
    else
      std::stable_sort(line.begin(), line.end(),
                       [](const P& a, const P& b) { return less_nan_last(a.first, b.first); });
    for (size_t j = 0; j < line.size(); ++j) out[j] = line[j].second;
  });
  return gathered(x, dim, idx, "sort");
}

Tensor argsort(const Tensor& x, int64_t dim, bool descending, bool stable) {
  return sort(x.detach(), dim, descending, stable).second;
}

// ---------------------------------------------------------------- topk
// The k largest (smallest) values along dim and their indices. Same selection algorithm as
// PyTorch's CPU kernel (a partial sort when k is small next to n, else nth_element and a sort of
// the first k - 1), so ties come out with the same indices.
std::pair<Tensor, Tensor> topk(const Tensor& x, int64_t k, int64_t dim, bool largest, bool sorted) {
  dim = normalize_dim(dim, x.dim(), "topk");
  const int64_t n = x.dim() ? x.shape()[dim] : 1;
  CR_CHECK(k >= 0 && k <= n, std::runtime_error, "topk: expected k in [0, ", n,
           "] (selected index k out of range), got k = ", k, " for shape ", x.shape(), " and dim ", dim);
  if (x.dim() == 0) return {x.clone(), zeros({}, kInt64)};
  Tensor idx = line_indices(x, dim, k, [k, largest, sorted](auto& line, int64_t* out) {
    using P = std::decay_t<decltype(line[0])>;
    auto cmp = [largest](const P& a, const P& b) {
      return largest ? greater_nan_first(a.first, b.first) : less_nan_last(a.first, b.first);
    };
    if (k == 0) return;
    if (k * 64 <= static_cast<int64_t>(line.size())) {
      std::partial_sort(line.begin(), line.begin() + k, line.end(), cmp);
    } else {
      std::nth_element(line.begin(), line.begin() + k - 1, line.end(), cmp);
      if (sorted) std::sort(line.begin(), line.begin() + k - 1, cmp);
    }
    for (int64_t j = 0; j < k; ++j) out[j] = line[j].second;
  });
  return gathered(x, dim, idx, "topk");
}

// ---------------------------------------------------------------- median
// Along dim: the element of rank (n - 1) / 2 (the lower median), ties ranked by index as PyTorch;
// a line holding nan gives its first nan. The gradient goes to that element.
std::pair<Tensor, Tensor> median(const Tensor& x, int64_t dim, bool keepdim) {
  CR_CHECK(x.dtype() != kBool, std::invalid_argument, "median: not supported for bool tensors");
  dim = normalize_dim(dim, x.dim(), "median");
  if (x.dim() == 0) return {x.clone(), zeros({}, kInt64)};
  CR_CHECK(x.shape()[dim] > 0, std::out_of_range, "median: expected a non-empty dim ", dim, ", got shape ",
           x.shape());
  Tensor idx = line_indices(x, dim, 1, [](auto& line, int64_t* out) {
    using P = std::decay_t<decltype(line[0])>;
    auto nan = std::find_if(line.begin(), line.end(), [](const P& p) { return is_nan(p.first); });
    if (nan != line.end()) {
      out[0] = nan->second;
      return;
    }
    auto mid = line.begin() + (line.size() - 1) / 2;
    std::nth_element(line.begin(), mid, line.end(), [](const P& a, const P& b) {
      return a.first < b.first || (a.first == b.first && a.second < b.second);
    });
    out[0] = mid->second;
  });
  return gathered(x, dim, idx, "median", !keepdim);
}

// Of all elements: the lower median (nan if any element is nan or x is empty).
// dy/dx = [x = y] / #ties: tied medians share the gradient evenly, as PyTorch.
Tensor median(const Tensor& x) {
  CR_CHECK(x.dtype() != kBool, std::invalid_argument, "median: not supported for bool tensors");
  Tensor flat = contig(reshape(x.detach(), {-1}));
  const int64_t n = flat.numel();
  Tensor y = dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    if constexpr (std::is_same_v<T, bool>) return Tensor();  // refused above
    else {
      std::vector<T> v(ptr<T>(flat), ptr<T>(flat) + n);
      if (n == 0 && !is_floating(x.dtype())) return scalar_tensor(-9223372036854775808.0, x.dtype());
      if (n == 0 || std::any_of(v.begin(), v.end(), [](T a) { return is_nan(a); }))
        return scalar_tensor(NAN, x.dtype());
      std::nth_element(v.begin(), v.begin() + (n - 1) / 2, v.end());
      return scalar_tensor(static_cast<double>(v[(n - 1) / 2]), x.dtype());
    }
  });
  const bool nan = std::isnan(y.item());
  auto share = [nan](const Tensor& x, const Tensor& y) {  // dy/dx: 1 / #ties on the ties
    Tensor mask = (nan ? ne(x, x) : eq(x, y)).to(x.dtype());
    return mask / sum(mask);
  };
  return record(
      "median", y, {x}, kSaveInputs | kSaveOutput,
      [share](const Tensor& g, const Saved& s) -> Grads {
        return {depends_on(g * share(s.input(0), s.output()), s.input(0))};
      },
      [share](const Duals& d) {
        return depends_on(sum(d.tangent(0) * share(d.input(0), d.output())), d.input(0));
      });
}

}  // namespace chainrule
