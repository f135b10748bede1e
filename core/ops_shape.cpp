// Shape ops: the views (reshape/view, expand, permute/transpose, slice/select/narrow, diagonal,
// unfold: they share their input's storage, as in PyTorch), broadcasting, cat/stack, split/chunk,
// and the index ops (index_select, gather, scatter_add, index_add, one_hot), which copy.
#include <cmath>
#include <optional>

#include "core/kernels.h"
#include "core/ops.h"
#include "core/sizes.h"

namespace chainrule {
using namespace kernels;

// ---------------------------------------------------------------- broadcasting
// The two shapes right-aligned, as broadcasting reads them, with the dims that clash marked:
//   (3, 4)  ->   3  4
//   (5,)    ->      5
//                   ^ dim -1: 4 vs 5
static std::string broadcast_picture(const Shape& a, const Shape& b) {
  const size_t n = std::max(a.size(), b.size());
  auto at = [n](const Shape& s, size_t i) {
    return i < n - s.size() ? std::string() : std::to_string(s[i - (n - s.size())]);
  };
  std::string ra = "\n    ", rb = "\n    ", marks = "\n    ", why;
  for (size_t i = 0; i < n; ++i) {
    std::string x = at(a, i), y = at(b, i);
    size_t w = std::max(x.size(), y.size()) + 2;
    ra += std::string(w - x.size(), ' ') + x;
    rb += std::string(w - y.size(), ' ') + y;
    bool clash = !x.empty() && !y.empty() && x != y && x != "1" && y != "1";
    marks += std::string(w - 1, ' ') + (clash ? "^" : " ");
    if (clash)
      why += (why.empty() ? "" : ", ") + std::string("dim ") + std::to_string(int64_t(i) - int64_t(n)) +
             ": " + x + " vs " + y;
  }
  while (!marks.empty() && marks.back() == ' ') marks.pop_back();
  return ra + rb + marks + " " + why +
         "\n  (dims line up from the right; each pair must be equal, or one of them 1)";
}

Shape broadcast_shapes(const Shape& a, const Shape& b, const char* op) {
  size_t n = std::max(a.size(), b.size());
  Shape out(n);
  for (size_t i = 0; i < n; ++i) {
    int64_t x = i < n - a.size() ? 1 : a[i - (n - a.size())];
    int64_t y = i < n - b.size() ? 1 : b[i - (n - b.size())];
    CR_CHECK(x == y || x == 1 || y == 1, std::invalid_argument, op, ": cannot broadcast shapes ", a, " and ",
             b, broadcast_picture(a, b));
    out[i] = x == 1 ? y : x;
  }
  return out;
}

// A view of x's storage with the given geometry; the calling op records it.
static Tensor make_view(const Tensor& x, Shape shape, Shape strides, int64_t offset) {
  auto t = std::make_shared<TensorImpl>();
  t->storage = x.impl()->storage;
  t->dtype = x.dtype();
  t->set_geometry(std::move(shape), std::move(strides), offset);
  t->no_grad_view = x.impl()->no_grad_view || (!is_grad_enabled() && x.requires_grad());
  return Tensor(std::move(t));
}

// The strides of x expanded to `shape` (checked): stride 0 where a dim is broadcast, so every index
// reads the same element; a new leading dim of size 1 gets the span of the dim after it, as in PyTorch.
static Shape expand_strides(const Tensor& x, const Shape& shape) {
  const int64_t n = static_cast<int64_t>(shape.size()), lead = n - x.dim();
  Shape st(shape.size(), 0);
  for (int64_t i = n - 1; i >= 0 && x.dim() > 0; --i) {
    int64_t have = i >= lead ? x.shape()[i - lead] : 1;
    int64_t stride = i >= lead ? x.strides()[i - lead] : i + 1 < n ? shape[i + 1] * st[i + 1] : 1;
    st[i] = have == shape[i] ? stride : 0;
  }
  return st;
}

// y = x broadcast to `shape`       dy/dx = sum over the broadcast dims
static Tensor expand_as_op(const Tensor& x, Shape shape, const char* op) {
  int64_t lead = static_cast<int64_t>(shape.size()) - x.dim();
  CR_CHECK(lead >= 0, std::invalid_argument, op, ": can't expand shape ", x.shape(), " to ", shape,
           " (fewer dims)");
  for (int64_t i = 0; i < static_cast<int64_t>(shape.size()); ++i) {
    if (i >= lead && shape[i] == -1) shape[i] = x.shape()[i - lead];
    int64_t have = i >= lead ? x.shape()[i - lead] : 1;
    CR_CHECK(shape[i] >= 0 && (have == shape[i] || have == 1), std::invalid_argument, op,
             ": can't expand shape ", x.shape(), " to ", shape, " (dim ", i, " has size ", have,
             ", expected 1 or ", shape[i], ")");
  }
  checked_numel(shape, op);  // a view of 2**62 elements is fine, one of more than int64 counts is not
  if (shape == x.shape()) return x;
  Shape st = expand_strides(x, shape);
  return record(
      "expand", make_view(x, shape, st, x.storage_offset()), {x}, kSaveNone,
      [](const Tensor& g, const Saved& s) -> Grads { return {sum_to(g, s.input_shape(0))}; },
      [](const Duals& d) { return expand(d.tangent(0), d.output().shape()); });
}
Tensor expand(const Tensor& x, Shape shape) { return expand_as_op(x, std::move(shape), "expand"); }
Tensor broadcast_to(const Tensor& x, Shape shape) {
  return expand_as_op(x, std::move(shape), "broadcast_to");
}

// Sums x down to `shape`, undoing a broadcast: the one place gradients of broadcasting ops go.
Tensor sum_to(const Tensor& x, const Shape& shape) {
  if (x.shape() == shape) return x;
  int64_t lead = x.dim() - static_cast<int64_t>(shape.size());
  CR_CHECK(lead >= 0, std::invalid_argument, "sum_to: can't reduce shape ", x.shape(), " to ", shape);
  std::vector<int64_t> dims;
  for (int64_t i = 0; i < x.dim(); ++i) {
    if (i < lead) {
      dims.push_back(i);
      continue;
    }
    int64_t want = shape[i - lead];
    CR_CHECK(want == x.shape()[i] || want == 1, std::invalid_argument, "sum_to: can't reduce shape ",
             x.shape(), " to ", shape);
    if (want == 1 && x.shape()[i] != 1) dims.push_back(i);
  }
  return reshape(dims.empty() ? x : sum(x, dims, true), shape);
}

// ---------------------------------------------------------------- reshape family (views)
namespace {
// Strides that show x's elements in `shape` without moving them, if there are any (PyTorch's
// computeStride): each run of dims that is dense in x must map onto whole dims of `shape`.
std::optional<Shape> view_strides(const Tensor& x, const Shape& shape) {
  const Shape &old = x.shape(), &ost = x.strides();
  if (x.numel() == 0) return old == shape ? ost : contiguous_strides(shape);
  if (old.empty()) return contiguous_strides(shape);
  Shape st(shape.size());
  int64_t view_d = static_cast<int64_t>(shape.size()) - 1, base = ost.back();
  int64_t tensor_numel = 1, view_numel = 1;
  for (int64_t d = static_cast<int64_t>(old.size()) - 1; d >= 0; --d) {
    tensor_numel *= old[d];
    if (d == 0 || (old[d - 1] != 1 && ost[d - 1] != tensor_numel * base)) {
      while (view_d >= 0 && (view_numel < tensor_numel || shape[view_d] == 1)) {
        st[view_d] = view_numel * base;
        view_numel *= shape[view_d];
        --view_d;
      }
      if (view_numel != tensor_numel) return std::nullopt;
      if (d > 0) {
        base = ost[d - 1];
        tensor_numel = view_numel = 1;
      }
    }
  }
  if (view_d != -1) return std::nullopt;
  return st;
}
}  // namespace

// `shape` with its -1 (at most one) replaced by the size that keeps x's number of elements.
static Shape infer_size(const Tensor& x, Shape shape, const char* op) {
  int64_t infer = -1, known = 1;
  for (size_t i = 0; i < shape.size(); ++i) {
    if (shape[i] == -1) {
      CR_CHECK(infer < 0, std::invalid_argument, op, ": only one dim can be -1, got ", shape);
      infer = static_cast<int64_t>(i);
    } else {
      CR_CHECK(shape[i] >= 0, std::invalid_argument, op, ": invalid size in shape ", shape);
      CR_CHECK(known == 0 || shape[i] == 0 || !__builtin_mul_overflow(known, shape[i], &known),
               std::invalid_argument, op, ": can't reshape ", x.shape(), " to ", shape,
               ", which has more elements than an int64 can count");
      if (shape[i] == 0) known = 0;
    }
  }
  if (infer >= 0) {
    CR_CHECK(known != 0 && x.numel() % known == 0, std::invalid_argument, op, ": can't reshape ", x.shape(),
             " (", x.numel(), " elements) to ", shape);
    shape[infer] = x.numel() / known;
  }
  CR_CHECK(shape_numel(shape) == x.numel(), std::invalid_argument, op, ": can't reshape ", x.shape(), " (",
           x.numel(), " elements) to ", shape, " (", shape_numel(shape), " elements)");
  return shape;
}

static Tensor reshape_tangent(const Duals& d) { return reshape(d.tangent(0), d.output().shape()); }

// y = x with a new shape (a view when the strides allow; reshape copies otherwise, view raises)
// dy/dx = reshape back
static Tensor reshape_as_op(const Tensor& x, Shape shape, const char* op) {
  shape = infer_size(x, std::move(shape), op);
  std::optional<Shape> st = view_strides(x, shape);
  if (!st) {
    CR_CHECK(std::string(op) != "view", std::runtime_error,
             "view: view size is not compatible with "
             "input tensor's size and stride (shape ",
             x.shape(), ", strides ", x.strides(), " to ", shape,
             "): at least one dimension spans across two contiguous subspaces; use "
             "reshape(...) instead");
    return reshape_as_op(x.clone(), std::move(shape), op);
  }
  return record(
      "reshape", make_view(x, std::move(shape), std::move(*st), x.storage_offset()), {x}, kSaveNone,
      [](const Tensor& g, const Saved& s) -> Grads { return {reshape(g, s.input_shape(0))}; },
      reshape_tangent);
}
Tensor reshape(const Tensor& x, Shape shape) { return reshape_as_op(x, std::move(shape), "reshape"); }
Tensor view(const Tensor& x, Shape shape) { return reshape_as_op(x, std::move(shape), "view"); }

Tensor flatten(const Tensor& x, int64_t start, int64_t end) {
  start = normalize_dim(start, x.dim(), "flatten");  // a 0-d tensor takes dims 0 / -1
  end = normalize_dim(end, x.dim(), "flatten");
  if (x.dim() == 0) return reshape(x, {1});
  CR_CHECK(start <= end, std::invalid_argument, "flatten: expected start_dim <= end_dim, got ", start,
           " and ", end);
  Shape s(x.shape().begin(), x.shape().begin() + start);
  int64_t n = 1;
  for (int64_t d = start; d <= end; ++d) n *= x.shape()[d];
  s.push_back(n);
  s.insert(s.end(), x.shape().begin() + end + 1, x.shape().end());
  return reshape(x, s);
}

// y = x without (some of) its size-1 dims, or with one more (views)      dy/dx = reshape back
static Tensor squeeze_view(const Tensor& x, Shape shape, Shape strides) {
  return record(
      "reshape", make_view(x, std::move(shape), std::move(strides), x.storage_offset()), {x}, kSaveNone,
      [](const Tensor& g, const Saved& s) -> Grads { return {reshape(g, s.input_shape(0))}; },
      reshape_tangent);
}

Tensor squeeze(const Tensor& x) {
  Shape s, st;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (x.shape()[d] != 1) {
      s.push_back(x.shape()[d]);
      st.push_back(x.strides()[d]);
    }
  return s.size() == x.shape().size() ? x : squeeze_view(x, s, st);
}

Tensor squeeze(const Tensor& x, int64_t dim) {
  dim = normalize_dim(dim, x.dim(), "squeeze");
  if (x.dim() == 0 || x.shape()[dim] != 1) return x;  // PyTorch leaves other sizes alone
  Shape s = x.shape(), st = x.strides();
  s.erase(s.begin() + dim);
  st.erase(st.begin() + dim);
  return squeeze_view(x, s, st);
}

Tensor unsqueeze(const Tensor& x, int64_t dim) {
  dim = normalize_dim(dim, x.dim() + 1, "unsqueeze");
  Shape s = x.shape(), st = x.strides();
  // PyTorch's stride for the new dim: the span of the dim it is inserted before
  int64_t stride = dim < x.dim() ? s[dim] * st[dim] : 1;
  s.insert(s.begin() + dim, 1);
  st.insert(st.begin() + dim, stride);
  return squeeze_view(x, s, st);
}

// ---------------------------------------------------------------- permute
// y = x with dims reordered (a view)          dy/dx = the inverse permutation
Tensor permute(const Tensor& x, std::vector<int64_t> dims) {
  int64_t nd = x.dim();
  CR_CHECK(static_cast<int64_t>(dims.size()) == nd, std::invalid_argument, "permute: expected ", nd,
           " dims for a tensor of shape ", x.shape(), ", got ", dims.size());
  std::vector<int64_t> inv(nd, -1);
  for (int64_t i = 0; i < nd; ++i) {
    dims[i] = normalize_dim(dims[i], nd, "permute");
    CR_CHECK(inv[dims[i]] < 0, std::invalid_argument, "permute: dim ", dims[i], " repeats in ", Shape(dims));
    inv[dims[i]] = i;
  }
  bool identity = true;
  for (int64_t i = 0; i < nd; ++i) identity = identity && dims[i] == i;
  if (identity) return x;
  Shape os(nd), st(nd);
  for (int64_t i = 0; i < nd; ++i) {
    os[i] = x.shape()[dims[i]];
    st[i] = x.strides()[dims[i]];
  }
  return record(
      "permute", make_view(x, os, st, x.storage_offset()), {x}, kSaveNone,
      [inv](const Tensor& g, const Saved&) -> Grads { return {permute(g, inv)}; },
      [dims](const Duals& d) { return permute(d.tangent(0), dims); });
}

Tensor transpose(const Tensor& x, int64_t d0, int64_t d1) {
  int64_t nd = x.dim();
  if (nd == 0) {
    normalize_dim(d0, 0, "transpose");
    normalize_dim(d1, 0, "transpose");
    return x;
  }
  d0 = normalize_dim(d0, nd, "transpose");
  d1 = normalize_dim(d1, nd, "transpose");
  std::vector<int64_t> p(nd);
  for (int64_t i = 0; i < nd; ++i) p[i] = i;
  std::swap(p[d0], p[d1]);
  return permute(x, p);
}

// ---------------------------------------------------------------- slicing
namespace {
// Copies `len` slabs of x along `dim`, starting at `start` with `step`, into out (or back).
template <class T> void copy_slabs(const T* src, T* dst, int64_t outer, int64_t src_len, int64_t dst_len,
                                   int64_t inner, int64_t start, int64_t step, int64_t count, bool scatter) {
  parallel_for(
      outer,
      [&](int64_t o0, int64_t o1) {
        for (int64_t o = o0; o < o1; ++o)
          for (int64_t j = 0; j < count; ++j) {
            int64_t a = o * src_len + (scatter ? j : start + j * step);
            int64_t b = o * dst_len + (scatter ? start + j * step : j);
            std::copy(src + a * inner, src + (a + 1) * inner, dst + b * inner);
          }
      },
      outer * count * inner);
}

void outer_inner(const Shape& s, int64_t dim, int64_t& outer, int64_t& inner) {
  outer = inner = 1;
  for (int64_t d = 0; d < dim; ++d) outer *= s[d];
  for (int64_t d = dim + 1; d < static_cast<int64_t>(s.size()); ++d) inner *= s[d];
}
}  // namespace

// y = x[start:stop:step] along dim (a view)  dy/dx = g placed back into zeros
Tensor slice(const Tensor& x, int64_t dim, int64_t start, int64_t stop, int64_t step) {
  CR_CHECK(x.dim() > 0, std::invalid_argument, "slice: can't slice a 0-d tensor");
  dim = normalize_dim(dim, x.dim(), "slice");
  CR_CHECK(step > 0, std::invalid_argument, "slice: expected step > 0, got ", step);
  int64_t n = x.shape()[dim];
  auto clampi = [n](int64_t i) { return i < 0 ? std::max<int64_t>(0, i + n) : std::min(i, n); };
  start = clampi(start);
  stop = clampi(stop);
  int64_t count = stop > start ? (stop - start + step - 1) / step : 0;
  Shape os = x.shape(), st = x.strides();
  os[dim] = count;
  st[dim] *= step;
  int64_t offset = x.storage_offset() + start * x.strides()[dim];
  return record(
      "slice", make_view(x, os, st, offset), {x}, kSaveNone,
      [dim, start, step](const Tensor& g, const Saved& s) -> Grads {
        return {slice_backward(g, s.input_shape(0), dim, start, step)};
      },
      [dim, start, stop, step](const Duals& d) { return slice(d.tangent(0), dim, start, stop, step); });
}

// y = zeros(shape) with y[start::step] = g    dy/dg = slice back
Tensor slice_backward(const Tensor& g, const Shape& shape, int64_t dim, int64_t start, int64_t step) {
  Tensor out = zeros(shape, g.dtype()), gc = contig(g);
  int64_t outer, inner, count = g.shape()[dim];
  outer_inner(shape, dim, outer, inner);
  dispatch(g.dtype(), [&](auto tag) {
    using T = decltype(tag);
    copy_slabs(ptr<T>(gc), ptr<T>(out), outer, count, shape[dim], inner, start, step, count, true);
  });
  return record(
      "slice_backward", out, {g}, kSaveNone,
      [dim, start, step, count](const Tensor& gg, const Saved&) -> Grads {
        return {slice(gg, dim, start, count ? start + (count - 1) * step + 1 : start, step)};
      },
      [shape, dim, start, step](const Duals& d) {
        return slice_backward(d.tangent(0), shape, dim, start, step);
      });
}

// y = x[..., index, ...] (a view without dim)  dy/dx = g placed back into zeros
Tensor select(const Tensor& x, int64_t dim, int64_t index) {
  CR_CHECK(x.dim() > 0, std::invalid_argument, "select: can't index a 0-d tensor");
  dim = normalize_dim(dim, x.dim(), "select");
  int64_t n = x.shape()[dim];
  CR_CHECK(index >= -n && index < n, std::out_of_range, "select: index ", index, " is out of range for dim ",
           dim, " of size ", n);
  if (index < 0) index += n;
  Shape os = x.shape(), st = x.strides();
  int64_t offset = x.storage_offset() + index * st[dim];
  os.erase(os.begin() + dim);
  st.erase(st.begin() + dim);
  return record(
      "select", make_view(x, os, st, offset), {x}, kSaveNone,
      [dim, index](const Tensor& g, const Saved& s) -> Grads {
        return {slice_backward(unsqueeze(g, dim), s.input_shape(0), dim, index, 1)};
      },
      [dim, index](const Duals& d) { return select(d.tangent(0), dim, index); });
}

Tensor narrow(const Tensor& x, int64_t dim, int64_t start, int64_t length) {
  CR_CHECK(x.dim() > 0, std::invalid_argument, "narrow: can't narrow a 0-d tensor");
  dim = normalize_dim(dim, x.dim(), "narrow");
  int64_t n = x.shape()[dim];
  CR_CHECK(start >= -n && start <= n, std::out_of_range, "narrow: start ", start, " is out of range for dim ",
           dim, " of size ", n, " (expected ", -n, " to ", n, ")");
  if (start < 0) start += n;
  CR_CHECK(length >= 0 && start + length <= n, std::invalid_argument, "narrow: start (", start,
           ") + length (", length, ") exceeds dimension size (", n, ")");
  return slice(x, dim, start, start + length);
}

// y = the diagonal of the (dim1, dim2) planes, moved last (a view)   dy/dx = g on that diagonal
Tensor diagonal(const Tensor& x, int64_t offset, int64_t dim1, int64_t dim2) {
  int64_t nd = x.dim();
  CR_CHECK(nd >= 2, std::invalid_argument, "diagonal: expected a tensor with >= 2 dims, got shape ",
           x.shape());
  int64_t d1 = normalize_dim(dim1, nd, "diagonal"), d2 = normalize_dim(dim2, nd, "diagonal");
  CR_CHECK(d1 != d2, std::invalid_argument, "diagonal: dim1 and dim2 can't be the same dim, got ", dim1,
           " and ", dim2);
  int64_t n1 = x.shape()[d1], n2 = x.shape()[d2];
  int64_t len = std::max<int64_t>(0, offset >= 0 ? std::min(n1, n2 - offset) : std::min(n1 + offset, n2));
  int64_t off = x.storage_offset();
  if (len > 0) off += offset >= 0 ? offset * x.strides()[d2] : -offset * x.strides()[d1];
  Shape os, st;
  for (int64_t d = 0; d < nd; ++d)
    if (d != d1 && d != d2) {
      os.push_back(x.shape()[d]);
      st.push_back(x.strides()[d]);
    }
  os.push_back(len);
  st.push_back(x.strides()[d1] + x.strides()[d2]);
  return record(
      "diagonal", make_view(x, os, st, off), {x}, kSaveNone,
      [offset, d1, d2](const Tensor& g, const Saved& s) -> Grads {
        return {diagonal_backward(g, s.input_shape(0), offset, d1, d2)};
      },
      [offset, d1, d2](const Duals& d) { return diagonal(d.tangent(0), offset, d1, d2); });
}

// y = zeros(shape) with diagonal(y) = g      dy/dg = diagonal again
Tensor diagonal_backward(const Tensor& g, const Shape& shape, int64_t offset, int64_t d1, int64_t d2) {
  Tensor out = zeros(shape, g.dtype());
  {
    NoGradGuard ng;
    diagonal(out, offset, d1, d2).copy_(g.detach());  // values only: recorded below
  }
  return record(
      "diagonal_backward", out, {g}, kSaveNone,
      [offset, d1, d2](const Tensor& gg, const Saved&) -> Grads { return {diagonal(gg, offset, d1, d2)}; },
      [shape, offset, d1, d2](const Duals& d) {
        return diagonal_backward(d.tangent(0), shape, offset, d1, d2);
      });
}

// y[..., i, ..., k] = x[..., i*step + k, ...]: windows of `size` along dim, in a new last dim (a
// view; windows overlap when step < size)    dy/dx = each window's gradient added back
Tensor unfold(const Tensor& x, int64_t dim, int64_t size, int64_t step) {
  if (x.dim() == 0) {
    normalize_dim(dim, 0, "unfold");
    CR_CHECK(size >= 0 && size <= 1, std::invalid_argument,
             "unfold: maximum size for a 0-d tensor is 1, got ", size);
    return squeeze(unfold(unsqueeze(x, 0), 0, size, step), 0);
  }
  dim = normalize_dim(dim, x.dim(), "unfold");
  int64_t n = x.shape()[dim];
  CR_CHECK(size >= 0 && size <= n, std::invalid_argument, "unfold: maximum size for dim ", dim, " is ", n,
           ", got size ", size);
  CR_CHECK(step > 0, std::invalid_argument, "unfold: expected step > 0, got ", step);
  Shape os = x.shape(), st = x.strides();
  os[dim] = (n - size) / step + 1;
  st[dim] *= step;
  os.push_back(size);
  st.push_back(x.strides()[dim]);
  return record(
      "unfold", make_view(x, os, st, x.storage_offset()), {x}, kSaveNone,
      [dim, size, step](const Tensor& g, const Saved& s) -> Grads {
        return {unfold_backward(g, s.input_shape(0), dim, size, step)};
      },
      [dim, size, step](const Duals& d) { return unfold(d.tangent(0), dim, size, step); });
}

// y = zeros(shape) with every window of g added at its place      dy/dg = unfold again
Tensor unfold_backward(const Tensor& g, const Shape& shape, int64_t dim, int64_t size, int64_t step) {
  Tensor out = zeros(shape, g.dtype());
  int64_t count = g.shape()[dim];
  {
    NoGradGuard ng;
    for (int64_t k = 0; k < size && count > 0; ++k)  // element k of every window
      slice(out, dim, k, k + (count - 1) * step + 1, step).add_(select(g.detach(), -1, k));
  }
  return record(
      "unfold_backward", out, {g}, kSaveNone,
      [dim, size, step](const Tensor& gg, const Saved&) -> Grads { return {unfold(gg, dim, size, step)}; },
      [shape, dim, size, step](const Duals& d) {
        return unfold_backward(d.tangent(0), shape, dim, size, step);
      });
}

// ---------------------------------------------------------------- cat, stack, split
// The size of cat's output along dim (every input of one shape except there), and its dtype t.
static int64_t cat_size(const std::vector<Tensor>& xs, int64_t dim, Dtype& t) {
  const Tensor& f = xs[0];
  int64_t total = 0;
  for (size_t i = 0; i < xs.size(); ++i) {
    const Tensor& x = xs[i];
    bool ok = x.dim() == f.dim();
    for (int64_t d = 0; ok && d < f.dim(); ++d) ok = d == dim || x.shape()[d] == f.shape()[d];
    CR_CHECK(ok, std::invalid_argument, "cat: expected tensors of shape ", f.shape(), " except in dim ", dim,
             ", got ", x.shape(), " at position ", i);
    total += x.shape()[dim];
    t = promote_types(t, x.dtype());
  }
  return total;
}

// Copies xs one after another along dim into out (of their promoted dtype); returns their sizes there.
static std::vector<int64_t> cat_into(Tensor& out, const std::vector<Tensor>& xs, int64_t dim) {
  int64_t outer, inner, off = 0, total = out.shape()[dim];
  outer_inner(out.shape(), dim, outer, inner);
  std::vector<int64_t> sizes;
  dispatch(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    for (const Tensor& x : xs) {
      Tensor xc = x.dtype() == out.dtype() ? contig(x) : convert(x, out.dtype());
      int64_t len = x.shape()[dim];
      copy_slabs(ptr<T>(xc), ptr<T>(out), outer, len, total, inner, off, 1, len, true);
      sizes.push_back(len);
      off += len;
    }
  });
  return sizes;
}

// y = [x0, x1, ...] along dim                 dy/dxi = the matching slice of g
Tensor cat(const std::vector<Tensor>& xs, int64_t dim) {
  CR_CHECK(!xs.empty(), std::invalid_argument, "cat: expected a non-empty list of tensors");
  const Tensor& f = xs[0];
  CR_CHECK(f.dim() > 0, std::invalid_argument,
           "cat: zero-dimensional tensor (at position 0) can't be concatenated");
  dim = normalize_dim(dim, f.dim(), "cat");
  Dtype t = f.dtype();
  const int64_t total = cat_size(xs, dim, t);
  Shape os = f.shape();
  os[dim] = total;
  Tensor out = empty(os, t);
  std::vector<int64_t> sizes = cat_into(out, xs, dim);
  return record(
      "cat", out, xs, kSaveNone,
      [dim, sizes](const Tensor& g, const Saved&) -> Grads {
        Grads r;
        int64_t o = 0;
        for (int64_t len : sizes) {
          r.push_back(slice(g, dim, o, o + len));
          o += len;
        }
        return r;
      },
      [dim](const Duals& d) {
        std::vector<Tensor> ts;
        for (size_t k = 0; k < d.size(); ++k) ts.push_back(d.tangent_or_zeros(k));
        return cat(ts, dim);
      });
}

Tensor stack(const std::vector<Tensor>& xs, int64_t dim) {
  CR_CHECK(!xs.empty(), std::invalid_argument, "stack: expected a non-empty list of tensors");
  std::vector<Tensor> u;
  for (size_t i = 0; i < xs.size(); ++i) {
    CR_CHECK(xs[i].shape() == xs[0].shape(), std::invalid_argument,
             "stack: expected all tensors to have the same shape, got ", xs[0].shape(), " and ",
             xs[i].shape(), " at position ", i);
    u.push_back(unsqueeze(xs[i], normalize_dim(dim, xs[0].dim() + 1, "stack")));
  }
  return cat(u, dim < 0 ? dim + xs[0].dim() + 1 : dim);
}

// split and chunk cut along a dim a 0-d tensor doesn't have (normalize_dim lets dim 0 through for 0-d).
static void check_has_dims(const Tensor& x, const char* op) {
  CR_CHECK(x.dim() > 0, std::invalid_argument, op, ": expected a tensor with at least 1 dim, got shape ()");
}

std::vector<Tensor> split(const Tensor& x, const std::vector<int64_t>& sizes, int64_t dim) {
  check_has_dims(x, "split");
  dim = normalize_dim(dim, x.dim(), "split");
  int64_t total = 0;
  for (int64_t s : sizes) {
    CR_CHECK(s >= 0, std::invalid_argument, "split: expected non-negative sizes, got ", Shape(sizes));
    total += s;
  }
  CR_CHECK(total == x.shape()[dim], std::invalid_argument, "split: sizes ", Shape(sizes), " sum to ", total,
           ", expected ", x.shape()[dim], " (dim ", dim, " of ", x.shape(), ")");
  std::vector<Tensor> out;
  int64_t o = 0;
  for (int64_t s : sizes) {
    out.push_back(slice(x, dim, o, o + s));
    o += s;
  }
  return out;
}

std::vector<Tensor> split(const Tensor& x, int64_t size, int64_t dim) {
  check_has_dims(x, "split");
  dim = normalize_dim(dim, x.dim(), "split");
  CR_CHECK(size > 0, std::invalid_argument, "split: expected split_size > 0, got ", size);
  std::vector<int64_t> sizes;
  for (int64_t left = x.shape()[dim]; left > 0; left -= size) sizes.push_back(std::min(size, left));
  if (sizes.empty()) sizes.push_back(0);
  return split(x, sizes, dim);
}

std::vector<Tensor> chunk(const Tensor& x, int64_t chunks, int64_t dim) {
  CR_CHECK(chunks > 0, std::invalid_argument, "chunk: expected chunks > 0, got ", chunks);
  check_has_dims(x, "chunk");
  dim = normalize_dim(dim, x.dim(), "chunk");
  int64_t n = x.shape()[dim];
  if (n == 0) return split(x, std::vector<int64_t>(chunks, 0), dim);  // `chunks` empty pieces, as torch
  return split(x, (n + chunks - 1) / chunks, dim);
}

// ---------------------------------------------------------------- index ops
namespace {
void check_index(const Tensor& index, const char* op) {
  CR_CHECK(index.dtype() == kInt64, std::invalid_argument, op, ": expected an int64 index tensor, got ",
           dtype_name(index.dtype()));
}

// Calls f(out_flat, src_flat) for every element of an index-shaped loop, where the source offset
// takes index[...] in place of the coordinate along `dim` (gather/scatter addressing).
template <class F>
void for_index(const Tensor& index_view, const Shape& src_shape, int64_t dim, const char* op, F f) {
  Tensor index = contig(index_view);
  const int64_t* idx = ptr<int64_t>(index);
  const Shape& is = index.shape();
  int64_t nd = index.dim(), n = index.numel(), bound = src_shape[dim];
  Shape st(nd);
  int64_t s = 1;
  for (int64_t d = nd - 1; d >= 0; --d) {
    st[d] = s;
    s *= src_shape[d];
  }
  Shape coord(nd, 0);
  for (int64_t i = 0; i < n; ++i) {
    int64_t v = idx[i];
    CR_CHECK(v >= 0 && v < bound, std::out_of_range, op, ": index ", v, " is out of range for dim ", dim,
             " of size ", bound);
    int64_t off = 0;
    for (int64_t d = 0; d < nd; ++d) off += (d == dim ? v : coord[d]) * st[d];
    f(i, off);
    for (int64_t d = nd - 1; d >= 0; --d) {
      if (++coord[d] < is[d]) break;
      coord[d] = 0;
    }
  }
}

void check_gather_shapes(const Tensor& x, int64_t dim, const Tensor& index, const char* op) {
  check_index(index, op);
  bool ok = index.dim() == x.dim();
  for (int64_t d = 0; ok && d < x.dim(); ++d) ok = d == dim || index.shape()[d] <= x.shape()[d];
  CR_CHECK(ok, std::invalid_argument, op,
           ": expected index with the same number of dims as the input and "
           "no larger in any dim but ",
           dim, ", got index ", index.shape(), " for input ", x.shape());
}
}  // namespace

// y[..i..] = x[..index[..i..]..] along dim     dy/dx = scatter_add of g
Tensor gather(const Tensor& x, int64_t dim, const Tensor& index) {
  dim = normalize_dim(dim, x.dim(), "gather");
  if (x.dim() == 0) {  // as torch: a 0-d input is read as (1,), and the result has the index's shape
    check_index(index, "gather");
    CR_CHECK(index.dim() <= 1, std::invalid_argument,
             "gather: expected a 0-d or 1-d index for a 0-d input, got ", index.shape());
    return reshape(gather(reshape(x, {1}), 0, reshape(index, {index.numel()})), index.shape());
  }
  check_gather_shapes(x, dim, index, "gather");
  Tensor out = empty(index.shape(), x.dtype()), xc = contig(x);
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = ptr<T>(xc);
    T* o = ptr<T>(out);
    for_index(index, x.shape(), dim, "gather", [&](int64_t i, int64_t off) { o[i] = in[off]; });
  });
  return record(
      "gather", out, {x, index}, kSaveInputs,
      [dim](const Tensor& g, const Saved& s) -> Grads {
        return {scatter_add(zeros(s.input_shape(0), g.dtype()), dim, s.input(1), g), Tensor()};
      },
      [dim](const Duals& d) { return gather(d.tangent(0), dim, d.input(1)); });
}

// x[:s0, :s1, ...]: the leading corner of shape s (a view).
static Tensor corner(const Tensor& x, const Shape& s) {
  Tensor out = x;
  for (int64_t d = 0; d < x.dim(); ++d) out = narrow(out, d, 0, s[d]);
  return out;
}

// As torch: a 0-d self is read as (1,).
static Tensor scatter_add_0d(const Tensor& self, const Tensor& index, const Tensor& src) {
  check_index(index, "scatter_add");
  CR_CHECK(index.dim() <= 1 && src.shape() == index.shape(), std::invalid_argument,
           "scatter_add: expected a 0-d or 1-d index and src of its shape for a 0-d self, got index ",
           index.shape(), " and src ", src.shape());
  Tensor flat =
      scatter_add(reshape(self, {1}), 0, reshape(index, {index.numel()}), reshape(src, {src.numel()}));
  return reshape(flat, {});
}

// y = self; y[..index[..i..]..] += src[..i..]  dy/dself = g, dy/dsrc = gather(g)
Tensor scatter_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  dim = normalize_dim(dim, self.dim(), "scatter_add");
  if (self.dim() == 0) return scatter_add_0d(self, index, src);
  check_gather_shapes(self, dim, index, "scatter_add");
  bool fits = src.dim() == index.dim();  // as torch, only the index-shaped corner of src is read
  for (int64_t d = 0; fits && d < src.dim(); ++d) fits = index.shape()[d] <= src.shape()[d];
  CR_CHECK(fits, std::invalid_argument,
           "scatter_add: expected src at least as large as index in every dim, got src ", src.shape(),
           " and index ", index.shape());
  if (src.shape() != index.shape()) return scatter_add(self, dim, index, corner(src, index.shape()));
  Tensor out = convert(self, promote_types(self.dtype(), src.dtype()));
  Tensor sc = convert(src, out.dtype());
  dispatch(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* sp = ptr<T>(sc);
    T* o = ptr<T>(out);
    for_index(index, self.shape(), dim, "scatter_add", [&](int64_t i, int64_t off) { o[off] += sp[i]; });
  });
  return record(
      "scatter_add", out, {self, index, src}, kSaveInputs,
      [dim](const Tensor& g, const Saved& s) -> Grads { return {g, Tensor(), gather(g, dim, s.input(1))}; },
      [dim](const Duals& d) {
        return scatter_add(d.tangent_or_zeros(0), dim, d.input(1), d.tangent_or_zeros(2));
      });
}

static void check_vector_index(const Tensor& index, const char* op) {
  check_index(index, op);
  CR_CHECK(index.dim() <= 1, std::invalid_argument, op, ": expected a 1-D index, got shape ", index.shape());
}

// index, dense, with every entry checked to lie in [0, n) (n: the size of dim).
static Tensor checked_indices(const Tensor& index, int64_t dim, int64_t n, const char* op) {
  Tensor ic = contig(index);
  const int64_t* idx = ptr<int64_t>(ic);
  for (int64_t j = 0; j < ic.numel(); ++j)
    CR_CHECK(idx[j] >= 0 && idx[j] < n, std::out_of_range, op, ": index ", idx[j],
             " is out of range for dim ", dim, " of size ", n);
  return ic;
}

// y = x.index_select(dim, index)              dy/dx = index_add of g into zeros
Tensor index_select(const Tensor& x, int64_t dim, const Tensor& index) {
  check_vector_index(index, "index_select");
  dim = normalize_dim(dim, x.dim(), "index_select");
  int64_t n = x.dim() ? x.shape()[dim] : 1, k = index.numel(), outer, inner;
  CR_CHECK(x.dim() || k == 1, std::invalid_argument,
           "index_select: a 0-d input takes exactly one index, got ", k);
  Tensor ic = checked_indices(index, dim, n, "index_select"), xc = contig(x);
  const int64_t* idx = ptr<int64_t>(ic);
  Shape os = x.shape();
  if (x.dim()) os[dim] = k;
  outer_inner(x.shape(), dim, outer, inner);
  Tensor out = empty(os, x.dtype());
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    const T* in = ptr<T>(xc);
    T* o = ptr<T>(out);
    for (int64_t a = 0; a < outer; ++a)
      for (int64_t j = 0; j < k; ++j)
        std::copy(in + (a * n + idx[j]) * inner, in + (a * n + idx[j] + 1) * inner, o + (a * k + j) * inner);
  });
  return record(
      "index_select", out, {x, index}, kSaveInputs,
      [dim](const Tensor& g, const Saved& s) -> Grads {
        return {index_add(zeros(s.input_shape(0), g.dtype()), dim, s.input(1), g), Tensor()};
      },
      [dim](const Duals& d) { return index_select(d.tangent(0), dim, d.input(1)); });
}

// y = self; y.select(dim, index[j]) += src.select(dim, j)      dy/dsrc = index_select(g)
// out[a, idx[j], i] += src[a, j, i] for out viewed as (outer, n, inner) and src as (outer, k, inner).
template <class T> void index_add_kernel(T* o, const T* sp, const int64_t* idx, int64_t outer, int64_t n,
                                         int64_t k, int64_t inner) {
  for (int64_t a = 0; a < outer; ++a)
    for (int64_t j = 0; j < k; ++j)
      for (int64_t i = 0; i < inner; ++i) o[(a * n + idx[j]) * inner + i] += sp[(a * k + j) * inner + i];
}

Tensor index_add(const Tensor& self, int64_t dim, const Tensor& index, const Tensor& src) {
  check_vector_index(index, "index_add");
  dim = normalize_dim(dim, self.dim(), "index_add");
  Shape expect = self.shape();
  if (self.dim()) expect[dim] = index.numel();
  CR_CHECK(src.shape() == expect, std::invalid_argument, "index_add: expected src of shape ", expect,
           ", got ", src.shape());
  int64_t n = self.dim() ? self.shape()[dim] : 1, k = index.numel(), outer, inner;
  Tensor ic = checked_indices(index, dim, n, "index_add");
  const int64_t* idx = ptr<int64_t>(ic);
  outer_inner(self.shape(), dim, outer, inner);
  Tensor out = convert(self, promote_types(self.dtype(), src.dtype()));
  Tensor sc = convert(src, out.dtype());
  dispatch(out.dtype(), [&](auto tag) {
    using T = decltype(tag);
    index_add_kernel(ptr<T>(out), ptr<T>(sc), idx, outer, n, k, inner);
  });
  return record(
      "index_add", out, {self, index, src}, kSaveInputs,
      [dim](const Tensor& g, const Saved& s) -> Grads {
        return {g, Tensor(), index_select(g, dim, s.input(1))};
      },
      [dim](const Duals& d) {
        return index_add(d.tangent_or_zeros(0), dim, d.input(1), d.tangent_or_zeros(2));
      });
}

Tensor one_hot(const Tensor& labels, int64_t num_classes) {
  CR_CHECK(labels.dtype() == kInt64, std::invalid_argument, "one_hot: expected int64 class labels, got ",
           dtype_name(labels.dtype()));
  CR_CHECK(num_classes >= -1, std::invalid_argument,
           "one_hot: expected num_classes >= 0 (or -1 to infer it from the labels), got ", num_classes);
  Tensor lc = contig(labels);
  const int64_t* l = ptr<int64_t>(lc);
  int64_t n = labels.numel(), mx = -1;
  for (int64_t i = 0; i < n; ++i) {
    CR_CHECK(l[i] >= 0, std::out_of_range, "one_hot: expected class labels >= 0, got ", l[i]);
    mx = std::max(mx, l[i]);
  }
  CR_CHECK(num_classes >= 0 || n > 0, std::invalid_argument,
           "one_hot: can't infer the number of classes from an empty tensor; pass num_classes");
  if (num_classes < 0) num_classes = mx + 1;
  CR_CHECK(mx < num_classes, std::out_of_range, "one_hot: class ", mx, " is out of range for num_classes ",
           num_classes);
  Shape os = labels.shape();
  os.push_back(num_classes);
  Tensor out = empty(os, kInt64, "one_hot");
  int64_t* o = ptr<int64_t>(out);
  std::fill(o, o + out.numel(), int64_t{0});
  for (int64_t i = 0; i < n; ++i) o[i * num_classes + l[i]] = 1;
  return out;
}

// ================================================================ Tensor API habits (tapi)
// masked_fill, repeat/tile, flip/fliplr/flipud, roll, squeeze over several dims, softmax(dtype=).
namespace {
void check_mask_value(const Tensor& x, const Tensor& mask, const Tensor* value, const char* op) {
  CR_CHECK(mask.dtype() == kBool, std::invalid_argument, op,
           ": only supports boolean masks, but got "
           "mask with dtype ",
           dtype_name(mask.dtype()), "; compare first, e.g. x.masked_fill(x > 0, 0)");
  if (value)
    CR_CHECK(value->dim() == 0, std::invalid_argument, op,
             ": only supports a 0-dimensional value "
             "tensor, but got tensor with ",
             value->dim(), " dimension(s) (shape ", value->shape(), ")");
  broadcast_shapes(x.shape(), mask.shape(), op);  // names the op in the error
}

// A number as a 0-d tensor of x's dtype; into int64 only if it converts (torch refuses nan, inf and
// values out of range instead of writing INT64_MIN).
Tensor fill_value(const Scalar& value, Dtype dtype, const char* op) {
  CR_CHECK(dtype != kInt64 || (std::isfinite(value.value) && value.value >= -0x1p63 && value.value < 0x1p63),
           std::runtime_error, op, ": value cannot be converted to type int64 without overflow, got ",
           value.value);
  return scalar_tensor(value.value, dtype);
}
}  // namespace

// y = value where mask else x (mask and x broadcast; x's dtype)
// dy/dx = g where not mask (summed back to x's shape), dy/dvalue = sum(g[mask])
Tensor masked_fill(const Tensor& x, const Tensor& mask, const Tensor& value) {
  check_mask_value(x, mask, &value, "masked_fill");
  return where(mask, value.dtype() == x.dtype() ? value : value.to(x.dtype()), x);
}

Tensor masked_fill(const Tensor& x, const Tensor& mask, const Scalar& value) {
  check_mask_value(x, mask, nullptr, "masked_fill");
  return where(mask, fill_value(value, x.dtype(), "masked_fill"), x);
}

// x[mask] = value in place (no graph: refused on tensors that require grad while grad mode is on)
Tensor& masked_fill_(Tensor& x, const Tensor& mask, const Tensor& value) {
  check_mask_value(x, mask, &value, "masked_fill_");
  check_inplace(x, "masked_fill_");
  CR_CHECK(!(is_grad_enabled() && value.requires_grad()), std::runtime_error,
           "masked_fill_: in-place ops record no gradient in chainrule, and value requires grad; use "
           "y = x.masked_fill(mask, value) to differentiate with respect to value");
  CR_CHECK(broadcast_shapes(x.shape(), mask.shape(), "masked_fill_") == x.shape(), std::invalid_argument,
           "masked_fill_: expected a mask broadcastable to ", x.shape(), ", got ", mask.shape());
  NoGradGuard ng;
  return x.copy_(masked_fill(x, mask, value));
}

Tensor& masked_fill_(Tensor& x, const Tensor& mask, const Scalar& value) {
  return masked_fill_(x, mask, fill_value(value, x.dtype(), "masked_fill_"));
}

// y = x tiled: repeats[i] copies along dim i (x's shape padded with leading 1s)
// dy/dx = the sum of g's tiles (x viewed as (1, s0, 1, s1, ...), expanded, merged: autograd of
// reshape/expand gives exactly that)
Tensor repeat(const Tensor& x, const Shape& repeats) {
  CR_CHECK(static_cast<int64_t>(repeats.size()) >= x.dim(), std::invalid_argument,
           "repeat: number of dimensions of repeat dims can not be smaller than number of dimensions "
           "of tensor, got repeats ",
           repeats, " for shape ", x.shape());
  int64_t lead = static_cast<int64_t>(repeats.size()) - x.dim();
  Shape pairs, expanded, out;
  for (size_t i = 0; i < repeats.size(); ++i) {
    int64_t n = static_cast<int64_t>(i) < lead ? 1 : x.shape()[i - lead];
    CR_CHECK(repeats[i] >= 0, std::invalid_argument, "repeat: expected repeats >= 0, got ", repeats);
    pairs.insert(pairs.end(), {1, n});
    expanded.insert(expanded.end(), {repeats[i], n});
    out.push_back(checked_mul(repeats[i], n, "repeat", "repeated size"));
  }
  checked_numel(out, "repeat");
  Tensor y;
  try {
    y = reshape(expand(reshape(x, pairs), expanded), out);
  } catch (const OutOfMemory&) {
    throw_out_of_memory("repeat", out, x.dtype());
  }
  // torch's repeat always copies; reshape gave a view where no element is repeated
  return y.impl()->storage == x.impl()->storage ? y.clone() : y;
}

Tensor tile(const Tensor& x, Shape reps) {
  for (int64_t r : reps) CR_CHECK(r >= 0, std::invalid_argument, "tile: expected reps >= 0, got ", reps);
  if (static_cast<int64_t>(reps.size()) < x.dim()) reps.insert(reps.begin(), x.dim() - reps.size(), 1);
  return repeat(x, reps);
}

// y = x with the order of elements reversed along dims (a copy)      dy/dx = flip(g, dims)
Tensor flip(const Tensor& x, std::vector<int64_t> dims) {
  std::vector<bool> seen(std::max<int64_t>(x.dim(), 1), false);
  for (int64_t& d : dims) {
    d = normalize_dim(d, x.dim(), "flip");
    CR_CHECK(!seen[d], std::invalid_argument, "flip: dim ", d, " appears multiple times in the list of dims");
    seen[d] = true;
  }
  Tensor out = empty(x.shape(), x.dtype());
  // Read x walking the flipped dims backwards: start at their last element, negative strides.
  Shape st = x.strides();
  int64_t off = 0;
  for (int64_t d : dims)
    if (x.dim() > 0 && x.shape()[d] > 0) {
      off += (x.shape()[d] - 1) * st[d];
      st[d] = -st[d];
    }
  dispatch(x.dtype(), [&](auto tag) {
    using T = decltype(tag);
    elementwise([](T v) { return v; }, strided<T>(out), Strided<const T>{sptr<T>(x) + off, x.shape(), st});
  });
  return record(
      "flip", out, {x}, kSaveNone, [dims](const Tensor& g, const Saved&) -> Grads { return {flip(g, dims)}; },
      [dims](const Duals& d) { return flip(d.tangent(0), dims); });
}

Tensor fliplr(const Tensor& x) {
  CR_CHECK(x.dim() >= 2, std::invalid_argument, "fliplr: expected a tensor with >= 2 dims, got shape ",
           x.shape());
  return flip(x, {1});
}

Tensor flipud(const Tensor& x) {
  CR_CHECK(x.dim() >= 1, std::invalid_argument, "flipud: expected a tensor with >= 1 dim, got shape ",
           x.shape());
  return flip(x, {0});
}

// y[(i + shift) mod n] = x[i] along each dim (a copy): the last `shift` elements move to the front
// dy/dx = roll(g, -shift) (autograd of slice and cat)
Tensor roll(const Tensor& x, const std::vector<int64_t>& shifts, const std::vector<int64_t>& dims) {
  CR_CHECK(!shifts.empty(), std::invalid_argument, "roll: `shifts` required");
  if (dims.empty()) {
    CR_CHECK(shifts.size() == 1, std::invalid_argument,
             "roll: shifts and dimensions must align. shifts: ", shifts.size(),
             ", dims: 0 (without dims, give one shift: the tensor is rolled flattened)");
    return reshape(roll(flatten(x), shifts, {0}), x.shape());
  }
  CR_CHECK(shifts.size() == dims.size(), std::invalid_argument,
           "roll: shifts and dimensions must align. "
           "shifts: ",
           shifts.size(), ", dims: ", dims.size());
  Tensor y = x;
  for (size_t i = 0; i < dims.size(); ++i) {
    CR_CHECK(x.dim() > 0, std::out_of_range, "roll: dim ", dims[i],
             " is out of range: a 0-d tensor has no dims (roll it without dims)");
    int64_t d = normalize_dim(dims[i], x.dim(), "roll"), n = x.shape()[d];
    int64_t s = n ? ((shifts[i] % n) + n) % n : 0;
    if (s) y = cat({slice(y, d, n - s, n), slice(y, d, 0, n - s)}, d);
  }
  return y.impl() == x.impl() ? x.clone() : y;  // a copy, as torch, even when nothing moves
}

// y = x without the size-1 dims among `dims` (a view)      dy/dx = reshape back
Tensor squeeze(const Tensor& x, const std::vector<int64_t>& dims) {
  std::vector<bool> drop(std::max<int64_t>(x.dim(), 1), false), seen(drop);
  for (int64_t d0 : dims) {
    int64_t d = normalize_dim(d0, x.dim(), "squeeze");
    CR_CHECK(!seen[d], std::invalid_argument, "squeeze: dim ", d,
             " appears multiple times in the list of dims");
    seen[d] = true;
    drop[d] = x.dim() > 0 && x.shape()[d] == 1;
  }
  Shape s, st;
  for (int64_t d = 0; d < x.dim(); ++d)
    if (!drop[d]) {
      s.push_back(x.shape()[d]);
      st.push_back(x.strides()[d]);
    }
  return s.size() == x.shape().size() ? x : squeeze_view(x, s, st);
}

// In place (torch's squeeze_ / unsqueeze_): x itself takes the view's geometry; a non-leaf also
// takes its history, so backward still reaches x's inputs. A leaf that requires grad is refused
// while grad mode is on, as in torch.
static Tensor& become(Tensor& x, const Tensor& y) {
  if (y.impl() == x.impl()) return x;
  x.impl()->set_geometry(y.shape(), y.strides(), y.storage_offset());
  if (y.grad_fn()) x.impl()->grad_fn = y.impl()->grad_fn;
  x.impl()->fw_grad = y.impl()->fw_grad;  // a dual's tangent takes the same geometry (y's rule made it)
  x.impl()->fw_level = y.impl()->fw_level;
  return x;
}
static void check_reshape_inplace(const Tensor& x, const char* op) {
  CR_CHECK(!(is_grad_enabled() && x.requires_grad() && x.is_leaf()), std::runtime_error, op,
           ": a leaf tensor that requires grad can't be changed in place; write x = x.",
           std::string(op).substr(0, std::string(op).size() - 1), "(...) or use cr.no_grad()");
}
Tensor& squeeze_(Tensor& x) {
  check_reshape_inplace(x, "squeeze_");
  return become(x, squeeze(x));
}
Tensor& squeeze_(Tensor& x, const std::vector<int64_t>& dims) {
  check_reshape_inplace(x, "squeeze_");
  return become(x, squeeze(x, dims));
}
Tensor& unsqueeze_(Tensor& x, int64_t dim) {
  check_reshape_inplace(x, "unsqueeze_");
  return become(x, unsqueeze(x, dim));
}

Tensor softmax(const Tensor& x, int64_t dim, Dtype dtype) {
  return softmax(x.dtype() == dtype ? x : x.to(dtype), dim);
}
Tensor log_softmax(const Tensor& x, int64_t dim, Dtype dtype) {
  return log_softmax(x.dtype() == dtype ? x : x.to(dtype), dim);
}

}  // namespace chainrule
