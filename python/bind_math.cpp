// Python bindings of the elementwise math ops (core/ops_elementwise.cpp, "elementwise math"):
// cr.name(x, ...) and x.name(...) with PyTorch's signatures, the operators % and //, and the
// in-place forms x.exp_(), x.floor_(), ...
#include <cmath>

#include "python/bind_util.h"

namespace chainrule::bind {
namespace {

// A number bound or operand among tensors, as a 0-d tensor that decides the dtype as a Python
// number does (an int keeps int64, a float makes int64 float32, neither changes a float64 tensor).
Tensor as_tensor_operand(const Operand& o) {
  if (o.is_tensor) return o.t;
  return scalar_tensor(o.s.value, o.s.boolean ? kBool : o.s.integral ? kInt64 : kFloat32);
}

// clamp(input, min=None, max=None): numbers or tensors (broadcast) as bounds.
Tensor clamp_any(const Tensor& x, const py::object& lo, const py::object& hi, const char* op) {
  CR_CHECK(!lo.is_none() || !hi.is_none(), std::invalid_argument, op,
           ": expected at least one of min and max");
  Operand l = lo.is_none() ? Operand{} : operand(lo, op), h = hi.is_none() ? Operand{} : operand(hi, op);
  bool float_number =
      (!lo.is_none() && !l.is_tensor && !l.s.integral) || (!hi.is_none() && !h.is_tensor && !h.s.integral);
  if (l.is_tensor || h.is_tensor || (!is_floating(x.dtype()) && float_number))
    return clamp(x, lo.is_none() ? Tensor() : as_tensor_operand(l),
                 hi.is_none() ? Tensor() : as_tensor_operand(h));
  return clamp(x, lo.is_none() ? -INFINITY : l.s.value, hi.is_none() ? INFINITY : h.s.value);
}

}  // namespace

void bind_math(py::module_& m, py::class_<Tensor>& T) {
  auto both = [&m, &T](const char* name, auto&& f, auto&&... extra) { def_both(m, T, name, f, extra...); };
#define CR_UNARY(name, doc) both(#name, [](const Tensor& x) { return name(x); }, doc)
#define CR_ALIAS(alias, name, doc) both(#alias, [](const Tensor& x) { return name(x); }, doc)
  // trigonometric and hyperbolic (int64/bool inputs give float32, as torch)
  CR_UNARY(tan, "tan x elementwise. d/dx tan x = 1 + tan(x)^2. Example: cr.tan(cr.tensor([0.])) -> [0.].");
  CR_UNARY(asin,
           "arcsin x (nan outside [-1, 1]). d/dx = 1/sqrt(1 - x^2) (inf at ±1). Example: "
           "cr.asin(cr.tensor([1.])) -> [1.5708].");
  CR_UNARY(
      acos,
      "arccos x (nan outside [-1, 1]). d/dx = -1/sqrt(1 - x^2). Example: cr.acos(cr.tensor([1.])) -> [0.].");
  CR_UNARY(atan, "arctan x. d/dx = 1/(1 + x^2). Example: cr.atan(cr.tensor([1.])) -> [0.7854].");
  CR_ALIAS(arcsin, asin, "Alias of asin.");
  CR_ALIAS(arccos, acos, "Alias of acos.");
  CR_ALIAS(arctan, atan, "Alias of atan.");
  both(
      "atan2", [](const Tensor& a, const Tensor& b) { return atan2(a, b); }, py::arg("other"),
      "The angle of the point (other, input) in (-pi, pi], broadcasting. d/dinput = other/(input^2 + "
      "other^2), "
      "d/dother = -input/(input^2 + other^2). Example: cr.atan2(cr.tensor([1.]), cr.tensor([-1.])) -> "
      "[2.3562].");
  both(
      "arctan2", [](const Tensor& a, const Tensor& b) { return atan2(a, b); }, py::arg("other"),
      "Alias of atan2.");
  CR_UNARY(sinh, "sinh x elementwise. d/dx sinh x = cosh x. Example: cr.sinh(cr.tensor([0.])) -> [0.].");
  CR_UNARY(cosh, "cosh x elementwise. d/dx cosh x = sinh x. Example: cr.cosh(cr.tensor([0.])) -> [1.].");
  CR_UNARY(asinh, "arsinh x. d/dx = 1/sqrt(x^2 + 1). Example: cr.asinh(cr.tensor([0.])) -> [0.].");
  CR_UNARY(acosh,
           "arcosh x (nan below 1). d/dx = 1/sqrt(x^2 - 1). Example: cr.acosh(cr.tensor([1.])) -> [0.].");
  CR_UNARY(atanh,
           "artanh x (±inf at ±1, nan outside). d/dx = 1/(1 - x^2). "
           "Example: cr.atanh(cr.tensor([0.5])) -> [0.5493].");
  CR_ALIAS(arcsinh, asinh, "Alias of asinh.");
  CR_ALIAS(arccosh, acosh, "Alias of acosh.");
  CR_ALIAS(arctanh, atanh, "Alias of atanh.");
  // logarithms, exponentials, powers
  CR_UNARY(log1p,
           "ln(1 + x), accurate for small x (log1p(-1) = -inf). d/dx = 1/(1 + x). Example: "
           "cr.log1p(cr.tensor([1e-10])) -> [1e-10].");
  CR_UNARY(expm1,
           "e^x - 1, accurate for small x. d/dx = e^x. Example: cr.expm1(cr.tensor([1e-10])) -> [1e-10].");
  CR_UNARY(log2, "Base-2 log. d/dx = 1/(x ln 2). Example: cr.log2(cr.tensor([8.])) -> [3.].");
  CR_UNARY(log10, "Base-10 log. d/dx = 1/(x ln 10). Example: cr.log10(cr.tensor([100.])) -> [2.].");
  CR_UNARY(exp2, "2^x elementwise. d/dx = 2^x ln 2. Example: cr.exp2(cr.tensor([3.])) -> [8.].");
  CR_UNARY(square, "x * x (int64 stays int64). d/dx = 2x. Example: cr.square(cr.tensor([3])) -> [9].");
  CR_UNARY(rsqrt,
           "1 / sqrt(x) (inf at 0, nan below). d/dx = -x^(-3/2) / 2. "
           "Example: cr.rsqrt(cr.tensor([4.])) -> [0.5].");
  // rounding: derivative 0; int64 stays int64
  CR_UNARY(floor,
           "Largest integer <= x (int64 stays int64). Its derivative is 0. Example: "
           "cr.floor(cr.tensor([-1.5])) -> [-2.].");
  CR_UNARY(ceil,
           "Smallest integer >= x (int64 stays int64). Its derivative is 0. Example: "
           "cr.ceil(cr.tensor([-1.5])) -> [-1.].");
  CR_UNARY(trunc,
           "x rounded toward zero (int64 stays int64). Its derivative is 0. Example: "
           "cr.trunc(cr.tensor([-1.5])) -> [-1.].");
  CR_ALIAS(fix, trunc, "Alias of trunc.");
  CR_UNARY(frac, "x - trunc(x) (sign of x). d/dx = 1. Example: cr.frac(cr.tensor([-1.25])) -> [-0.25].");
  both(
      "round", [](const Tensor& x, int64_t decimals) { return round(x, decimals); }, py::kw_only(),
      py::arg("decimals") = 0,
      "Rounds half to even (2.5 -> 2, as torch and NumPy); decimals=d rounds to d digits after the point "
      "(negative: before it). Its derivative is 0. Example: cr.round(cr.tensor([1.2345]), decimals=2) -> "
      "[1.23].");
  // predicates
  CR_UNARY(isnan, "True where x is nan (bool tensor; int64 and bool are never nan).");
  CR_UNARY(isinf, "True where x is +inf or -inf (bool tensor).");
  CR_UNARY(isfinite, "True where x is neither inf nor nan (bool tensor).");
  CR_UNARY(isposinf, "True where x is +inf (bool tensor).");
  CR_UNARY(isneginf, "True where x is -inf (bool tensor).");
#undef CR_UNARY
#undef CR_ALIAS

  // fmod, remainder, floor division; a number may stand on either side where torch allows it
  auto fmod_f = [](const Tensor& a, py::handle b) {
    Operand o = operand(b, "fmod");
    return o.is_tensor ? fmod(a, o.t) : fmod(a, o.s);
  };
  auto remainder_f = [](py::handle a, py::handle b) {
    Operand x = operand(a, "remainder"), y = operand(b, "remainder");
    CR_CHECK(x.is_tensor || y.is_tensor, std::invalid_argument,
             "remainder: expected a Tensor argument, got two numbers");
    if (!x.is_tensor) return remainder(x.s, y.t);
    return y.is_tensor ? remainder(x.t, y.t) : remainder(x.t, y.s);
  };
  auto floor_divide_f = [](py::handle a, py::handle b) {
    Operand x = operand(a, "floor_divide"), y = operand(b, "floor_divide");
    CR_CHECK(x.is_tensor || y.is_tensor, std::invalid_argument,
             "floor_divide: expected a Tensor argument, got two numbers");
    if (!x.is_tensor) return floor_divide(x.s, y.t);
    return y.is_tensor ? floor_divide(x.t, y.t) : floor_divide(x.t, y.s);
  };
  both("fmod", fmod_f, py::arg("other"),
       "Remainder of input / other with the sign of input (C's fmod): fmod(-3, 2) = -1. Integer division by "
       "zero raises. d/dinput = 1, d/dother = -trunc(input/other). Example: cr.fmod(cr.tensor([-3.]), 2) -> "
       "[-1.].");
  both(
      "remainder", remainder_f, py::arg("other"),
      "Remainder with the sign of other (Python's %): remainder(-3, 2) = 1. Integer division by zero raises. "
      "d/dinput = 1, d/dother = -floor(input/other). Example: cr.tensor([-3.]) % 2 -> [1.].");
  both("floor_divide", floor_divide_f, py::arg("other"),
       "floor(input / other) (Python's //); int64 stays int64, integer division by zero raises. Not "
       "differentiable (backward raises, as in torch; div(..., rounding_mode='floor') has derivative 0). "
       "Example: cr.tensor([-3]) // 2 -> [-2].");
  // x %= y, x //= y write into x (as torch's remainder_ / floor_divide_), under the in-place rules
  auto inplace = [](const char* op, auto f) {
    return [op, f](Tensor& t, py::handle b) -> Tensor& {
      check_inplace(t, op);
      Tensor r;
      {
        NoGradGuard no_grad;
        r = f(py::cast(t), b);
      }
      CR_CHECK(r.dtype() == t.dtype(), std::invalid_argument, op, ": result type ", dtype_name(r.dtype()),
               " can't be cast to the tensor's dtype ", dtype_name(t.dtype()));
      CR_CHECK(r.shape() == t.shape(), std::invalid_argument, op, ": expected an operand broadcastable to ",
               t.shape(), ", got a result of shape ", r.shape());
      NoGradGuard no_grad;
      return t.copy_(r);
    };
  };
  T.def("remainder_", inplace("remainder_", remainder_f), py::arg("other"),
        py::return_value_policy::reference_internal, "self = remainder(self, other) (Python's %), in place.")
      .def("floor_divide_", inplace("floor_divide_", floor_divide_f), py::arg("other"),
           py::return_value_policy::reference_internal,
           "self = floor_divide(self, other) (Python's //), in place.")
      .def("__imod__", inplace("remainder_", remainder_f), py::return_value_policy::reference_internal)
      .def("__ifloordiv__", inplace("floor_divide_", floor_divide_f),
           py::return_value_policy::reference_internal);
  T.def("__mod__", [remainder_f](const Tensor& a, py::handle b) { return remainder_f(py::cast(a), b); })
      .def("__rmod__", [remainder_f](const Tensor& a, py::handle b) { return remainder_f(b, py::cast(a)); })
      .def("__floordiv__",
           [floor_divide_f](const Tensor& a, py::handle b) { return floor_divide_f(py::cast(a), b); })
      .def("__rfloordiv__",
           [floor_divide_f](const Tensor& a, py::handle b) { return floor_divide_f(b, py::cast(a)); });

  // closeness
  both(
      "isclose",
      [](const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
        return isclose(a, b, rtol, atol, equal_nan);
      },
      py::arg("other"), py::arg("rtol") = 1e-05, py::arg("atol") = 1e-08, py::arg("equal_nan") = false,
      "|input - other| <= atol + rtol * |other| elementwise (bool tensor); equal infinities are close, nan "
      "only with equal_nan=True. Same dtypes required, as torch.");
  both(
      "allclose",
      [](const Tensor& a, const Tensor& b, double rtol, double atol, bool equal_nan) {
        return allclose(a, b, rtol, atol, equal_nan);
      },
      py::arg("other"), py::arg("rtol") = 1e-05, py::arg("atol") = 1e-08, py::arg("equal_nan") = false,
      "True if isclose holds everywhere (a Python bool). Example: cr.allclose(x, x + 1e-9) -> True.");

  // clamp with numbers or tensors (this replaces the number-only binding); clip is its alias
  const char* clamp_doc =
      "Limits values to [min, max]; min and max may be numbers or tensors (broadcast), either "
      "may be None; where min > max the result is max. The gradient is 1 inside [min, max], 0 outside; a "
      "tensor bound gets the gradient where it is the result. Example: cr.clamp(x, min=0.0).";
  def_both(
      m, T, "clamp",
      [](const Tensor& x, py::object lo, py::object hi) { return clamp_any(x, lo, hi, "clamp"); },
      py::arg("min") = py::none(), py::arg("max") = py::none(), clamp_doc);
  both(
      "clip", [](const Tensor& x, py::object lo, py::object hi) { return clamp_any(x, lo, hi, "clip"); },
      py::arg("min") = py::none(), py::arg("max") = py::none(), "Alias of clamp.");

  both(
      "lerp",
      [](const Tensor& a, const Tensor& b, py::handle w) {
        Operand o = operand(w, "lerp");
        return o.is_tensor ? lerp(a, b, o.t) : lerp(a, b, o.s);
      },
      py::arg("end"), py::arg("weight"),
      "input + weight * (end - input), weight a number or a tensor (broadcast). d/dinput = 1 - weight, "
      "d/dend = weight, d/dweight = end - input. Example: cr.lerp(cr.tensor([0.]), cr.tensor([10.]), 0.3) -> "
      "[3.].");
  both(
      "copysign",
      [](const Tensor& a, py::handle b) {
        Operand o = operand(b, "copysign");
        return o.is_tensor ? copysign(a, o.t) : copysign(a, o.s);
      },
      py::arg("other"),
      "|input| with the sign of other (float result; -0.0 counts as negative). d/dinput = ±1 (0 at input = "
      "0), "
      "d/dother = 0. Example: cr.copysign(cr.tensor([2.]), -1.) -> [-2.].");

  // in-place forms (refused on tensors that require grad while grad mode is on)
  auto ref = py::return_value_policy::reference_internal;
#define CR_INPLACE(name, doc) T.def(#name, [](Tensor& t) -> Tensor& { return t.name(); }, ref, doc)
  CR_INPLACE(abs_, "self = |self|, in place.");
  CR_INPLACE(neg_, "self = -self, in place.");
  CR_INPLACE(exp_, "self = e^self, in place (float tensors).");
  CR_INPLACE(log_, "self = ln(self), in place (float tensors).");
  CR_INPLACE(sqrt_, "self = sqrt(self), in place (float tensors).");
  CR_INPLACE(sin_, "self = sin(self), in place (float tensors).");
  CR_INPLACE(cos_, "self = cos(self), in place (float tensors).");
  CR_INPLACE(tanh_, "self = tanh(self), in place (float tensors).");
  CR_INPLACE(sigmoid_, "self = sigmoid(self), in place (float tensors).");
  CR_INPLACE(relu_, "self = max(self, 0), in place.");
  CR_INPLACE(floor_, "self = floor(self), in place.");
  CR_INPLACE(ceil_, "self = ceil(self), in place.");
  CR_INPLACE(trunc_, "self = trunc(self), in place.");
  CR_INPLACE(square_, "self = self * self, in place.");
#undef CR_INPLACE
  T.def(
      "round_", [](Tensor& t, int64_t d) -> Tensor& { return t.round_(d); }, py::kw_only(),
      py::arg("decimals") = 0, ref, "self = round(self, decimals), in place (half to even).");
  T.def(
      "clamp_min_", [](Tensor& t, py::handle v) -> Tensor& { return t.clamp_min_(number(v, "clamp_min_")); },
      py::arg("min"), ref, "self = max(self, min), in place.");
  T.def(
      "clamp_max_", [](Tensor& t, py::handle v) -> Tensor& { return t.clamp_max_(number(v, "clamp_max_")); },
      py::arg("max"), ref, "self = min(self, max), in place.");
}

}  // namespace chainrule::bind
