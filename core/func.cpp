// Function transforms (see func.h). vjp is autograd::grad at aliases of the primals. jvp runs on
// forward mode (one pass, each op's tangent rule); inside an active dual level (jvp of jvp) or
// through an op without a tangent rule it is the reverse pass of the (linear) pullback instead,
// which needs no rule beyond each op's backward.
#include "core/func.h"

#include <memory>

#include "core/autograd.h"
#include "core/error.h"
#include "core/ops.h"

namespace chainrule::func {
namespace {

// Where a transform differentiates. A primal that is already tracked (an outer transform's alias,
// or the user's own graph) gets a differentiable alias, so the derivative stays differentiable with
// respect to it (grad(grad(f))); any other primal a fresh leaf. `nested` then asks for the graph.
struct Level {
  Tensors xs;
  bool nested = false;
};

// primals[i], which must be a floating tensor: derivatives need floats.
const Tensor& checked_primal(const Tensors& primals, size_t i, const char* caller) {
  const Tensor& p = primals[i];
  CR_CHECK(p.defined(), std::invalid_argument, caller, ": argument ", i, " is None, expected a tensor");
  CR_CHECK(is_floating(p.dtype()), std::invalid_argument, caller, ": expected floating inputs, argument ", i,
           " is ", dtype_name(p.dtype()), " ", p.shape(),
           "; derivatives need floats: write cr.tensor(2.0), not cr.tensor(2), or convert with .double()");
  return p;
}

Level enter(const Tensors& primals, const char* caller) {
  Level l;
  for (size_t i = 0; i < primals.size(); ++i) {
    const Tensor& p = checked_primal(primals, i, caller);
    const bool tracked = is_grad_enabled() && p.requires_grad();
    l.nested = l.nested || tracked;
    Tensor x = tracked ? view(p, p.shape()) : p.detach().set_requires_grad(true);
    if (Tensor t = forward_ad::tangent_of(p); !tracked && t.defined()) {
      AutoGradMode on(true);  // x (the leaf) must stay reachable through the dual
      x = forward_ad::make_dual(x, t);
    }
    l.xs.push_back(x);
  }
  return l;
}

Tensors call(const Function& f, const Level& l) {
  AutoGradMode on(true);  // f records even when the caller is under no_grad
  return f(l.xs);
}

// The value the user sees: with its graph only when an outer level differentiates it further, and
// with its tangent when an outer jvp pushes one through.
Tensors values(const Tensors& outs, bool nested) {
  Tensors v;
  for (const Tensor& o : outs) {
    Tensor t = forward_ad::tangent_of(o);
    v.push_back(nested || !o.defined() ? o : t.defined() ? forward_ad::make_dual(o.detach(), t) : o.detach());
  }
  return v;
}

// (f(primals), J t) in one forward pass: f runs on dual tensors, and each op carries the tangent.
std::pair<Tensors, Tensors> forward_jvp(const Function& f, const Tensors& primals, const Tensors& tangents,
                                        const char* caller) {
  forward_ad::DualLevel level;
  Tensors xs;
  bool nested = false;
  for (size_t i = 0; i < primals.size(); ++i) {
    const Tensor& p = checked_primal(primals, i, caller);
    const bool tracked = is_grad_enabled() && p.requires_grad();
    nested = nested || tracked || (is_grad_enabled() && tangents[i].requires_grad());
    xs.push_back(forward_ad::make_dual(tracked ? p : p.detach(), tangents[i]));
  }
  Tensors outs = f(xs);  // in the caller's grad mode, as torch.func
  CR_CHECK(forward_ad::current_level() == level.level(), std::runtime_error, caller,
           ": f ended the dual level that forward mode runs in (exit_dual_level inside f)");
  Tensors values, jt;
  for (size_t k = 0; k < outs.size(); ++k) {
    CR_CHECK(outs[k].defined(), std::invalid_argument, caller, ": output ", k, " of f is None");
    auto [primal, tangent] = forward_ad::unpack_dual(outs[k]);
    values.push_back(nested ? primal : primal.detach());
    jt.push_back(!tangent.defined() || !is_floating(outs[k].dtype()) ? zeros_like(outs[k])
                 : nested                                            ? tangent
                                                                     : tangent.detach());
  }
  return {values, jt};
}

void check_like(const Tensors& got, const Tensors& like, const char* caller, const char* what,
                const char* of) {
  CR_CHECK(got.size() == like.size(), std::invalid_argument, caller, ": expected ", like.size(), " ", what,
           "s (one per ", of, "), got ", got.size());
  for (size_t i = 0; i < got.size(); ++i)
    CR_CHECK(got[i].defined() && got[i].shape() == like[i].shape() && got[i].dtype() == like[i].dtype(),
             std::invalid_argument, caller, ": expected the ", what, " for ", of, " ", i, " to have shape ",
             like[i].shape(), " and dtype ", dtype_name(like[i].dtype()), ", got ",
             got[i].defined() ? got[i].shape() : Shape{}, " ",
             got[i].defined() ? dtype_name(got[i].dtype()) : "None");
}

// Σ_k v_k ᵀ ∂out_k/∂xs: outputs that don't depend on the inputs (constants, integers) add nothing.
Tensors pull(const Tensors& xs, const Tensors& outs, const Tensors& v, bool create) {
  Tensors o, g;
  for (size_t k = 0; k < outs.size(); ++k)
    if (outs[k].requires_grad()) o.push_back(outs[k]), g.push_back(v[k]);
  Tensors r = o.empty() ? Tensors(xs.size()) : autograd::grad(o, xs, g, true, create, true);
  for (size_t j = 0; j < r.size(); ++j)
    if (!r[j].defined()) r[j] = zeros_like(xs[j]);
  return r;
}

bool any_tracked(const Tensors& ts) {
  for (const Tensor& t : ts)
    if (t.requires_grad()) return true;
  return false;
}

// J t as the reverse pass of the pullback u -> uᵀJ, which is linear in u (HIPS autograd's
// make_jvp_reversemode): seeded with t, it returns J t. `cot` holds the placeholder cotangents u.
struct ReversePushforward {
  Tensors outs, cot, pulled;
  bool nested = false;

  Tensors operator()(const Tensors& t) const {
    Tensors g, seeds;
    for (size_t j = 0; j < pulled.size(); ++j)
      if (pulled[j].requires_grad()) g.push_back(pulled[j]), seeds.push_back(t[j]);
    const bool create = nested || any_tracked(t);
    Tensors r = g.empty() ? Tensors(cot.size()) : autograd::grad(g, cot, seeds, true, create, true);
    for (size_t k = 0; k < r.size(); ++k)
      if (!r[k].defined()) r[k] = zeros_like(outs[k]);
    return r;
  }
};

ReversePushforward pushforward(const Level& l, const Tensors& outs) {
  ReversePushforward p{outs, {}, {}, l.nested};
  for (const Tensor& o : outs) {
    Tensor u = zeros_like(o);
    if (is_floating(o.dtype())) u.set_requires_grad(true);
    p.cot.push_back(u);
  }
  p.pulled = pull(l.xs, outs, p.cot, true);
  return p;
}

// The i-th basis tensor of `like`'s shape (1 at flat index i).
Tensor basis(const Tensor& like, int64_t i) {
  Tensor e = zeros(like.shape(), like.dtype());
  NoGradGuard no_grad;
  e.view({e.numel()}).select(0, i).fill_(1.0);
  return e;
}

Shape concat(const Shape& a, const Shape& b) {
  Shape s = a;
  s.insert(s.end(), b.begin(), b.end());
  return s;
}

Function lift(const UnaryFunction& f) {
  return [f](const Tensors& xs) { return Tensors{f(xs[0])}; };
}

Tensor scalar_output(const Tensor& y, const char* caller) {
  CR_CHECK(y.defined(), std::invalid_argument, caller, ": expected f to return a tensor, got None");
  CR_CHECK(y.dim() == 0, std::invalid_argument, caller,
           ": expected f to return a scalar (a 0-d tensor), got shape ", y.shape(),
           "; differentiate f(x).sum(), or use jacrev(f) or vjp(f, x) for a vector-valued f");
  CR_CHECK(is_floating(y.dtype()), std::invalid_argument, caller,
           ": expected f to return a floating tensor, got ", dtype_name(y.dtype()));
  return y;
}
}  // namespace

std::pair<Tensors, Pullback> vjp(const Function& f, const Tensors& primals, const char* caller) {
  auto l = std::make_shared<Level>(enter(primals, caller));
  Tensors outs = call(f, *l);
  for (size_t k = 0; k < outs.size(); ++k)
    CR_CHECK(outs[k].defined(), std::invalid_argument, caller, ": output ", k, " of f is None");
  std::string name = caller;
  Pullback pb = [l, outs, name](const Tensors& v) {
    check_like(v, outs, name.c_str(), "cotangent", "output");
    return pull(l->xs, outs, v, l->nested || any_tracked(v));
  };
  return {values(outs, l->nested), pb};
}

std::pair<Tensors, Tensors> jvp(const Function& f, const Tensors& primals, const Tensors& tangents,
                                const char* caller) {
  check_like(tangents, primals, caller, "tangent", "primal");
  if (forward_ad::current_level() == 0) {
    try {
      return forward_jvp(f, primals, tangents, caller);
    } catch (const NotImplemented&) {  // an op without a tangent rule: the reverse-mode route below
    }
  }
  Level l = enter(primals, caller);
  Tensors outs = call(f, l);
  Tensors jt = pushforward(l, outs)(tangents);
  return {values(outs, l.nested), jt};
}

std::pair<Tensors, Pushforward> linearize(const Function& f, const Tensors& primals) {
  Level l = enter(primals, "linearize");
  Tensors outs = call(f, l);
  auto p = std::make_shared<ReversePushforward>(pushforward(l, outs));
  Tensors like = primals;
  Pushforward fn = [p, like](const Tensors& t) {
    check_like(t, like, "linearize", "tangent", "primal");
    return (*p)(t);
  };
  return {values(outs, l.nested), fn};
}

// Assembles d out_k / d x_j from J t for each basis tangent t; `push(t)` returns (outs, J t).
template <class Push> std::vector<Tensors> jacobian_columns(const Tensors& primals, Push push) {
  Tensors zero, outs;
  for (const Tensor& p : primals) zero.push_back(p.defined() ? zeros_like(p) : Tensor());
  std::vector<std::vector<Tensors>> cols(primals.size());  // [j][i]: J e_i for x_j, one per output
  for (size_t j = 0; j < primals.size(); ++j)
    for (int64_t i = 0; i < primals[j].numel(); ++i) {
      Tensors t = zero;
      t[j] = basis(primals[j], i);
      auto [o, jt] = push(t);
      if (outs.empty()) outs = o;
      cols[j].push_back(jt);
    }
  if (outs.empty()) outs = push(zero).first;  // no input has an element: only the shapes
  std::vector<Tensors> jac(outs.size(), Tensors(primals.size()));
  for (size_t j = 0; j < primals.size(); ++j)
    for (size_t k = 0; k < outs.size(); ++k) {
      Shape s = concat(outs[k].shape(), primals[j].shape());
      Tensors ck;
      for (const Tensors& c : cols[j]) ck.push_back(c[k]);
      jac[k][j] = ck.empty() ? zeros(s, outs[k].dtype()) : reshape(stack(ck, -1), s);
    }
  return jac;
}

// Row i of d out_k / d x_j is the pullback of the i-th basis cotangent of out_k.
std::vector<Tensors> jacrev(const Function& f, const Tensors& primals, const char* caller) {
  Level l = enter(primals, caller);
  Tensors outs = call(f, l);
  std::vector<Tensors> jac(outs.size(), Tensors(primals.size()));
  for (size_t k = 0; k < outs.size(); ++k) {
    std::vector<Tensors> rows(primals.size());
    for (int64_t i = 0; i < outs[k].numel(); ++i) {
      Tensors v(outs.size());
      for (size_t m = 0; m < outs.size(); ++m) v[m] = m == k ? basis(outs[k], i) : zeros_like(outs[m]);
      Tensors g = pull(l.xs, outs, v, l.nested);
      for (size_t j = 0; j < g.size(); ++j) rows[j].push_back(g[j]);
    }
    for (size_t j = 0; j < primals.size(); ++j) {
      Shape s = concat(outs[k].shape(), primals[j].shape());
      jac[k][j] = rows[j].empty() ? zeros(s, primals[j].dtype()) : reshape(stack(rows[j]), s);
    }
  }
  return jac;
}

// Column i of d out_k / d x_j is the pushforward of the i-th basis tangent of x_j: one forward-mode
// pass per column, or (inside a dual level, or through an op without a tangent rule) the reverse
// pass of one pullback per column.
std::vector<Tensors> jacfwd(const Function& f, const Tensors& primals, const char* caller) {
  if (forward_ad::current_level() == 0) {
    try {
      // f runs once per column: each run must see the same function (torch.func raises too)
      const std::vector<int64_t> rng = default_generator().get_state();
      return jacobian_columns(primals, [&](const Tensors& t) {
        auto r = forward_jvp(f, primals, t, caller);
        CR_CHECK(default_generator().get_state() == rng, std::invalid_argument, caller,
                 ": f draws random numbers (randn, dropout, ...), and forward mode runs f once per input "
                 "element, each with new draws; use jacrev, or draw the numbers outside f");
        return r;
      });
    } catch (const NotImplemented&) {
    }
  }
  Level l = enter(primals, caller);
  Tensors outs = call(f, l);
  ReversePushforward push = pushforward(l, outs);
  return jacobian_columns(primals, [&](const Tensors& t) { return std::make_pair(outs, push(t)); });
}

std::pair<Tensors, Tensor> grad_and_value(const Function& f, const Tensors& primals, const char* caller) {
  auto [outs, pb] = vjp(f, primals, caller);
  CR_CHECK(outs.size() == 1, std::invalid_argument, caller, ": expected f to return one scalar tensor, got ",
           outs.size(), " outputs");
  Tensor y = scalar_output(outs[0], caller);
  return {pb({ones_like(y)}), y};
}

// H v = ∇(∇f · v): reverse over reverse, one gradient of a scalar
Tensors hvp(const Function& f, const Tensors& primals, const Tensors& v) {
  check_like(v, primals, "hvp", "vector", "input");
  Function gv = [f, v](const Tensors& z) {
    Tensors g = grad_and_value(f, z, "hvp").first;
    Tensor dot = sum(mul(g[0], v[0]));
    for (size_t j = 1; j < g.size(); ++j) dot = add(dot, sum(mul(g[j], v[j])));
    return Tensors{dot};
  };
  return grad_and_value(gv, primals, "hvp").first;
}

std::pair<Tensor, Tensor> grad_and_value(const UnaryFunction& f, const Tensor& x) {
  auto [g, y] = grad_and_value(lift(f), {x}, "grad");
  return {g[0], y};
}
Tensor grad(const UnaryFunction& f, const Tensor& x) { return grad_and_value(f, x).first; }
Tensor jacrev(const UnaryFunction& f, const Tensor& x) { return jacrev(lift(f), {x})[0][0]; }
Tensor jacfwd(const UnaryFunction& f, const Tensor& x) { return jacfwd(lift(f), {x})[0][0]; }

// torch.func's recipe: forward over reverse
Tensor hessian(const UnaryFunction& f, const Tensor& x) {
  Function g = [f](const Tensors& z) { return grad_and_value(lift(f), z, "hessian").first; };
  return jacfwd(g, {x}, "hessian")[0][0];
}

Tensor hvp(const UnaryFunction& f, const Tensor& x, const Tensor& v) { return hvp(lift(f), {x}, {v})[0]; }

UnaryFunction grad(UnaryFunction f) {
  return [f](const Tensor& x) { return grad(f, x); };
}
UnaryFunction jacrev(UnaryFunction f) {
  return [f](const Tensor& x) { return jacrev(f, x); };
}
UnaryFunction jacfwd(UnaryFunction f) {
  return [f](const Tensor& x) { return jacfwd(f, x); };
}
UnaryFunction hessian(UnaryFunction f) {
  return [f](const Tensor& x) { return hessian(f, x); };
}

}  // namespace chainrule::func
