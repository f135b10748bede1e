// Reductions, scans and sorting: std/var (+ _mean), prod, cumsum, cumprod, all, any, median, sort,
// argsort, topk, and the reductions that take `axis=` as an alias of `dim=`, as PyTorch does
// (sum, mean, amax, amin, argmax, argmin, var, logsumexp, softmax, log_softmax are re-bound here
// with it). Functions returning (values, indices) return named tuples (the package's
// chainrule.return_types), like torch.return_types: r.values, r.indices, and v, i = r.
#include "python/bind_util.h"

namespace chainrule::bind {

namespace {

// dim= or its alias axis= (PyTorch accepts either, never both).
py::object dim_or_axis(py::object dim, const py::object& axis, const char* op) {
  if (axis.is_none()) return dim;
  if (!dim.is_none())
    throw py::type_error(std::string(op) +
                         "(): got both dim and axis (axis is an alias of dim); pass one of them");
  return axis;
}

// A single dim (an int); `required` ops raise TypeError when it is missing, as PyTorch.
int64_t one_dim(const py::object& dim, const char* op, bool required, int64_t fallback = -1) {
  if (dim.is_none()) {
    if (required) throw py::type_error(std::string(op) + "(): missing the required argument 'dim' (an int)");
    return fallback;
  }
  if (!py::isinstance<py::int_>(dim) || py::isinstance<py::bool_>(dim))
    throw py::type_error(std::string(op) + "(): dim: expected an int, got " + type_name(dim));
  return dim.cast<int64_t>();
}

Tensor with_dtype(const Tensor& x, const std::optional<Dtype>& dtype) { return dtype ? x.to(*dtype) : x; }

// var/std arguments: torch's var(input, unbiased) overload (a bool where dim goes), unbiased, or
// correction (which wins).
struct Spread {
  std::vector<int64_t> dims;
  double correction;
};
Spread spread_args(py::object dim, py::object unbiased, const py::object& correction, const py::object& axis,
                   const char* op) {
  dim = dim_or_axis(dim, axis, op);
  if (py::isinstance<py::bool_>(dim)) {  // x.std(False)
    if (!unbiased.is_none()) throw py::type_error(std::string(op) + "(): unbiased given twice");
    unbiased = dim;
    dim = py::none();
  }
  double c = 1.0;
  if (!correction.is_none()) c = arg<double>(correction, op, "correction to be a number");
  else if (!unbiased.is_none()) c = arg<bool>(unbiased, op, "unbiased to be a bool") ? 1.0 : 0.0;
  return {dims_arg(dim, op), c};
}

}  // namespace

void bind_reduce(py::module_& m, py::class_<Tensor>& T) {
  // torch.return_types.<name>: named (values, indices) pairs
  // (a dict, not a submodule, so that the stubs stay one file; the package shows it as the module
  // chainrule.return_types)
  py::dict rt;
  py::object namedtuple = py::module_::import("collections").attr("namedtuple");
  for (const char* name : {"max", "min", "median", "sort", "topk"}) {
    py::object t = namedtuple(name, py::make_tuple("values", "indices"));
    t.attr("__module__") = "chainrule.return_types";
    t.attr("__doc__") =
        std::string("(values, indices) returned by ") + name + "(x, dim): r.values, r.indices, or v, i = r.";
    rt[name] = t;
  }
  m.def("_return_types", [rt]() { return rt; });
  auto pair_of = [rt](const char* name) {
    py::object t = rt[name];
    return [t](std::pair<Tensor, Tensor> p) { return t(p.first, p.second); };
  };
  auto both = [&m, &T](const char* name, auto&& f, auto&&... extra) { def_both(m, T, name, f, extra...); };

  // ---- the reductions, with axis= as torch ----
  both(
      "sum",
      [](const Tensor& x, py::object dim, bool keepdim, std::optional<Dtype> dtype, py::object axis) {
        return sum(with_dtype(x, dtype), dims_arg(dim_or_axis(dim, axis, "sum"), "sum"), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("axis") = py::none(),
      "Sum over dim (int, tuple, or None for all; axis= is an alias). bool/int64 sum to int64; dtype= "
      "converts first. d/dx = 1. Example: x.sum(dim=1, keepdim=True).");
  both(
      "mean",
      [](const Tensor& x, py::object dim, bool keepdim, std::optional<Dtype> dtype, py::object axis) {
        return mean(with_dtype(x, dtype), dims_arg(dim_or_axis(dim, axis, "mean"), "mean"), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("axis") = py::none(),
      "Mean over dim (int, tuple, or None for all; axis= is an alias). Floating tensors only (or "
      "give dtype=). d/dx = 1/N. Example: x.mean(0).");
  both(
      "amax",
      [](const Tensor& x, py::object dim, bool keepdim, py::object axis) {
        return amax(x, dims_arg(dim_or_axis(dim, axis, "amax"), "amax"), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("axis") = py::none(),
      "Max over dims (axis= is an alias); tied maxima share the gradient evenly. "
      "Example: cr.amax(x, dim=(0, 1)).");
  both(
      "amin",
      [](const Tensor& x, py::object dim, bool keepdim, py::object axis) {
        return amin(x, dims_arg(dim_or_axis(dim, axis, "amin"), "amin"), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("axis") = py::none(),
      "Min over dims (axis= is an alias); tied minima share the gradient evenly.");
  both(
      "argmax",
      [](const Tensor& x, py::object dim, bool keepdim, py::object axis) {
        dim = dim_or_axis(dim, axis, "argmax");
        if (!dim.is_none()) return argmax(x, one_dim(dim, "argmax", true), keepdim);
        return keepdim ? argmax(x).reshape(Shape(x.dim(), 1)) : argmax(x);  // keepdim: every dim kept as 1
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("axis") = py::none(),
      "Index of the max (int64): of the flattened tensor, or along dim (axis= is an alias). "
      "The first one wins ties; nan counts as the largest.");
  both(
      "argmin",
      [](const Tensor& x, py::object dim, bool keepdim, py::object axis) {
        dim = dim_or_axis(dim, axis, "argmin");
        if (!dim.is_none()) return argmin(x, one_dim(dim, "argmin", true), keepdim);
        return keepdim ? argmin(x).reshape(Shape(x.dim(), 1)) : argmin(x);  // keepdim: every dim kept as 1
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("axis") = py::none(),
      "Index of the min (int64): of the flattened tensor, or along dim (axis= is an alias). "
      "The first one wins ties.");
  both(
      "var",
      [](const Tensor& x, py::object dim, py::object unbiased, bool keepdim, py::object correction,
         py::object axis) {
        Spread a = spread_args(dim, unbiased, correction, axis, "var");
        return var(x, a.dims, a.correction, keepdim);
      },
      py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false,
      py::kw_only(), py::arg("correction") = py::none(), py::arg("axis") = py::none(),
      "Variance: sum((x - mean)^2) / (N - correction); correction=1 (default, or unbiased=True) is the "
      "unbiased estimate, x.var(False) the biased one. d/dx = 2 (x - mean) / (N - correction).");
  both(
      "logsumexp",
      [](const Tensor& x, py::object dim, bool keepdim, py::object axis) {
        dim = dim_or_axis(dim, axis, "logsumexp");
        if (dim.is_none()) throw py::type_error("logsumexp(): missing the required argument 'dim'");
        return logsumexp(x, dims_arg(dim, "logsumexp"), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("axis") = py::none(),
      "log(sum(exp(x))) over dim (axis= is an alias), computed stably (logits of 1e4 are fine). "
      "Its gradient is softmax(x).");
  both(
      "softmax",
      [](const Tensor& x, py::object dim, std::optional<Dtype> dtype, py::object axis) {
        int64_t d = one_dim(dim_or_axis(dim, axis, "softmax"), "softmax", true);
        py::gil_scoped_release r;
        return dtype ? softmax(x, d, *dtype) : softmax(x, d);
      },
      py::arg("dim") = py::none(), py::arg("dtype") = py::none(), py::kw_only(), py::arg("axis") = py::none(),
      "exp(x) / sum(exp(x)) along dim (axis= is an alias), computed stably; with dtype the input is "
      "converted first (cr.softmax(x, -1, dtype=cr.float64)). d s_i/dx_j = s_i (δ_ij - s_j). "
      "Example: cr.softmax(logits, dim=-1).");
  both(
      "log_softmax",
      [](const Tensor& x, py::object dim, std::optional<Dtype> dtype, py::object axis) {
        int64_t d = one_dim(dim_or_axis(dim, axis, "log_softmax"), "log_softmax", true);
        py::gil_scoped_release r;
        return dtype ? log_softmax(x, d, *dtype) : log_softmax(x, d);
      },
      py::arg("dim") = py::none(), py::arg("dtype") = py::none(), py::kw_only(), py::arg("axis") = py::none(),
      "x - logsumexp(x) along dim (axis= is an alias), computed stably; with dtype the input is "
      "converted first. d/dx_j = δ_ij - softmax(x)_j.");

  // ---- new: std, std_mean, var_mean ----
  both(
      "std",
      [](const Tensor& x, py::object dim, py::object unbiased, bool keepdim, py::object correction,
         py::object axis) {
        Spread a = spread_args(dim, unbiased, correction, axis, "std");
        return std(x, a.dims, a.correction, keepdim);
      },
      py::arg("dim") = py::none(), py::arg("unbiased") = py::none(), py::arg("keepdim") = false,
      py::kw_only(), py::arg("correction") = py::none(), py::arg("axis") = py::none(), R"doc(
Standard deviation sqrt(sum((x - mean)^2) / (N - correction)) over dim (axis= is an alias).
correction=1 (the default; unbiased=True) or x.std(False) for the biased estimate.
d/dx = (x - mean) / ((N - correction) std), and 0 where std = 0 (as PyTorch); nan when N <= correction.
Example: cr.std(cr.tensor([1., 2., 3., 4.])) -> 1.2910.)doc");
  m.def(
      "std_mean",
      [](const Tensor& x, py::object dim, py::object unbiased, bool keepdim, py::object correction,
         py::object axis) {
        Spread a = spread_args(dim, unbiased, correction, axis, "std_mean");
        auto r = std_mean(x, a.dims, a.correction, keepdim);
        return py::make_tuple(r.first, r.second);
      },
      py::arg("input"), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(),
      py::arg("keepdim") = false, py::kw_only(), py::arg("correction") = py::none(),
      py::arg("axis") = py::none(),
      "(std, mean) over dim as a tuple, with std's arguments. Example: s, m = cr.std_mean(x, dim=0).");
  m.def(
      "var_mean",
      [](const Tensor& x, py::object dim, py::object unbiased, bool keepdim, py::object correction,
         py::object axis) {
        Spread a = spread_args(dim, unbiased, correction, axis, "var_mean");
        auto r = var_mean(x, a.dims, a.correction, keepdim);
        return py::make_tuple(r.first, r.second);
      },
      py::arg("input"), py::arg("dim") = py::none(), py::arg("unbiased") = py::none(),
      py::arg("keepdim") = false, py::kw_only(), py::arg("correction") = py::none(),
      py::arg("axis") = py::none(),
      "(var, mean) over dim as a tuple, with var's arguments. Example: v, m = cr.var_mean(x, 1, "
      "keepdim=True).");

  // ---- new: prod, cumsum, cumprod ----
  both(
      "prod",
      [](const Tensor& x, py::object dim, bool keepdim, std::optional<Dtype> dtype, py::object axis) {
        dim = dim_or_axis(dim, axis, "prod");
        Tensor xd = with_dtype(x, dtype);
        return dim.is_none() ? prod(xd) : prod(xd, one_dim(dim, "prod", true), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("dtype") = py::none(),
      py::arg("axis") = py::none(), R"doc(
Product of all elements, or along one dim (axis= is an alias). bool/int64 -> int64; an empty product is 1.
d/dx_i = prod_{j != i} x_j, computed without division, so inputs with one or several zeros get
exact first and second derivatives. Example: cr.prod(cr.tensor([2., 3., 4.])) -> 24.)doc");
  both(
      "cumsum",
      [](const Tensor& x, py::object dim, std::optional<Dtype> dtype, py::object axis) {
        return cumsum(with_dtype(x, dtype), one_dim(dim_or_axis(dim, axis, "cumsum"), "cumsum", true));
      },
      py::arg("dim") = py::none(), py::kw_only(), py::arg("dtype") = py::none(), py::arg("axis") = py::none(),
      "Running sums along dim (axis= is an alias): y_i = x_0 + ... + x_i. bool/int64 -> int64. "
      "The gradient is the running sum of the output gradient from the other end. "
      "Example: cr.cumsum(cr.tensor([1, 2, 3]), 0) -> [1, 3, 6].");
  both(
      "cumprod",
      [](const Tensor& x, py::object dim, std::optional<Dtype> dtype, py::object axis) {
        return cumprod(with_dtype(x, dtype), one_dim(dim_or_axis(dim, axis, "cumprod"), "cumprod", true));
      },
      py::arg("dim") = py::none(), py::kw_only(), py::arg("dtype") = py::none(), py::arg("axis") = py::none(),
      "Running products along dim (axis= is an alias): y_i = x_0 * ... * x_i. bool/int64 -> int64. "
      "d y_k / d x_i = prod_{j <= k, j != i} x_j (exact with zeros in x, also the second derivative). "
      "Example: cr.cumprod(cr.tensor([1., 2., 3.]), 0) -> [1., 2., 6.].");

  // ---- new: all, any ----
  both(
      "all",
      [](const Tensor& x, py::object dim, bool keepdim, py::object axis) {
        return all(x, dims_arg(dim_or_axis(dim, axis, "all"), "all"), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("axis") = py::none(),
      "True where every element (over dim, or all; axis= is an alias) is nonzero; a bool tensor "
      "(nan counts as nonzero, an empty tensor gives True). Example: cr.all(cr.tensor([1, 0])) -> False.");
  both(
      "any",
      [](const Tensor& x, py::object dim, bool keepdim, py::object axis) {
        return any(x, dims_arg(dim_or_axis(dim, axis, "any"), "any"), keepdim);
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("axis") = py::none(),
      "True where some element (over dim, or all; axis= is an alias) is nonzero; a bool tensor "
      "(an empty tensor gives False). Example: cr.any(cr.tensor([0., 2.])) -> True.");

  // ---- new: median, sort, argsort, topk ----
  auto median_t = pair_of("median");
  both(
      "median",
      [median_t](const Tensor& x, py::object dim, bool keepdim, py::object axis) -> py::object {
        dim = dim_or_axis(dim, axis, "median");
        if (dim.is_none()) return py::cast(median(x));
        return median_t(median(x, one_dim(dim, "median", true), keepdim));
      },
      py::arg("dim") = py::none(), py::arg("keepdim") = false, py::kw_only(), py::arg("axis") = py::none(),
      R"doc(
Median: of all elements, the lower median (the element of rank (N - 1) // 2) as a 0-d tensor, nan if
any element is nan; with dim (axis= is an alias), a named tuple (values, indices) along it.
The gradient goes to the selected element (tied medians of the whole tensor share it evenly).
Example: cr.median(cr.tensor([3., 1., 2., 4.])) -> 2.)doc");
  auto sort_t = pair_of("sort");
  both(
      "sort",
      [sort_t](const Tensor& x, py::object dim, bool descending, bool stable, py::object axis) {
        return sort_t(sort(x, one_dim(dim_or_axis(dim, axis, "sort"), "sort", false), descending, stable));
      },
      py::arg("dim") = py::none(), py::arg("descending") = false, py::kw_only(), py::arg("stable") = false,
      py::arg("axis") = py::none(), R"doc(
Sorts along dim (default -1; axis= is an alias): a named tuple (values, indices) with
values == x.gather(dim, indices). nan sorts as the largest value. Ties keep their input order
(always stable; torch's stable=False may order ties differently in lines longer than 16).
The gradient goes back to each value's original position.
Example: cr.sort(cr.tensor([3., 1., 2.])).indices -> [1, 2, 0].)doc");
  both(
      "argsort",
      [](const Tensor& x, py::object dim, bool descending, bool stable, py::object axis) {
        return argsort(x, one_dim(dim_or_axis(dim, axis, "argsort"), "argsort", false), descending, stable);
      },
      py::arg("dim") = py::none(), py::arg("descending") = false, py::kw_only(), py::arg("stable") = false,
      py::arg("axis") = py::none(),
      "The indices that sort input along dim (sort(...).indices; int64, not differentiable). "
      "Example: cr.argsort(cr.tensor([3., 1., 2.])) -> [1, 2, 0].");
  auto topk_t = pair_of("topk");
  both(
      "topk",
      [topk_t](const Tensor& x, int64_t k, py::object dim, bool largest, bool sorted, py::object axis) {
        return topk_t(topk(x, k, one_dim(dim_or_axis(dim, axis, "topk"), "topk", false), largest, sorted));
      },
      py::arg("k"), py::arg("dim") = py::none(), py::arg("largest") = true, py::arg("sorted") = true,
      py::kw_only(), py::arg("axis") = py::none(), R"doc(
The k largest (largest=False: smallest) elements along dim (default -1; axis= is an alias), as a
named tuple (values, indices); nan counts as the largest. k outside [0, size] raises RuntimeError.
The gradient goes to the selected positions. Example: cr.topk(cr.tensor([1., 5., 3.]), 2) ->
values [5., 3.], indices [1, 2].)doc");
}

}  // namespace chainrule::bind
