"""cr.optim: SGD, Adam, AdamW, RMSprop and Adagrad with PyTorch's signatures and update rules.

Use them as in PyTorch::

    opt = cr.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
    for x, y in loader:
        opt.zero_grad()
        loss_fn(model(x), y).backward()
        opt.step()

The updates run in C++ (``chainrule._core``) without the GIL. ``opt.param_groups`` is a list of
dict-like groups whose hyperparameters live in the C++ optimizer, so ``group["lr"] = 0.01`` takes
effect at the next step and the schedulers' changes show up in it.

Constraints (projected gradient descent): pass ``constraint=cr.optim.Box(0, 1)`` (or
``NonNegative()``, ``MaxNorm(c)``, or any function that changes a parameter in place) to keep the
parameters in a closed convex set C: after every step each parameter p of the group is replaced by
its projection P_C(p), the nearest point of C. With plain SGD that is projected gradient descent,
x <- P_C(x - lr * grad f(x)), which for convex f converges to the minimum over C as gradient
descent does without constraints. With momentum or adaptive methods it is the usual "update, then
project" heuristic: it keeps the iterates in C, but the projection is Euclidean while the step is
not, so it is not the exact projected version of those methods.
"""
from __future__ import annotations

import json
from collections.abc import Mapping, MutableMapping

from .. import _core
from .._core import Box, Constraint, MaxNorm, NonNegative, Tensor
from .._grad_mode import enable_grad, no_grad
from . import lr_scheduler  # noqa: F401  (cr.optim.lr_scheduler)

__all__ = ["Optimizer", "SGD", "Adam", "AdamW", "RMSprop", "Adagrad", "Constraint", "Box",
           "NonNegative", "MaxNorm", "lr_scheduler", "flatten_state_dict", "unflatten_state_dict"]


def _is_constraint(c):
    return c is None or isinstance(c, Constraint) or callable(c)


class _ParamGroup(MutableMapping):
    """One param group, read and written like PyTorch's dict.

    ``"params"`` is the list the group was made with; hyperparameters (``"lr"``, ``"betas"``, ...,
    and the schedulers' ``"initial_lr"``) are read from and written to the C++ optimizer (bad
    values raise ``ValueError`` at once); ``"constraint"`` is the group's projection; any other key
    is kept here, as PyTorch keeps extra keys.
    """

    __slots__ = ("_opt", "_index", "_params", "_extra")

    def __init__(self, opt, index, params, extra):
        self._opt, self._index, self._params, self._extra = opt, index, params, extra

    def __getitem__(self, key):
        core = self._opt._core
        if key == "params":
            return self._params
        if key == "constraint":
            if "constraint" in self._extra:
                return self._extra["constraint"]
            return core.group_constraint(self._index)
        if core.has_option(self._index, key):
            return core.option(self._index, key)
        return self._extra[key]

    def __setitem__(self, key, value):
        core = self._opt._core
        if key == "params":
            raise TypeError("param group: 'params' can't be replaced; make a new group with "
                            "optimizer.add_param_group({'params': [...]})")
        if key == "constraint":
            if not _is_constraint(value):
                raise TypeError(f"param group: expected a constraint (a cr.optim.Constraint or a "
                                f"function changing a parameter in place) or None, got {type(value).__name__}")
            native = value if value is None or isinstance(value, Constraint) else None
            core.set_group_constraint(self._index, native)
            if native is None and value is not None:
                self._extra["constraint"] = value
            else:
                self._extra.pop("constraint", None)
            return
        if core.is_option(key):
            core.set_option(self._index, key, value)
        else:
            self._extra[key] = value

    def __delitem__(self, key):
        if key in ("params", "constraint") or self._opt._core.has_option(self._index, key):
            raise TypeError(f"param group: '{key}' can't be deleted")
        del self._extra[key]

    def __iter__(self):
        yield "params"
        yield from self._opt._core.group_options(self._index)
        yield "constraint"
        yield from (k for k in self._extra if k != "constraint")

    def __len__(self):
        return sum(1 for _ in self)

    def __repr__(self):
        return repr(dict(self))


class _State(Mapping):
    """``optimizer.state[p]``: the parameter's state tensors by name (the optimizer's own tensors,
    not copies), ``{}`` before its first step."""

    def __init__(self, opt):
        self._opt = opt

    def __getitem__(self, p):
        if not isinstance(p, Tensor):
            raise KeyError(p)
        return self._opt._core.state_of(p)

    def __iter__(self):
        for g in self._opt.param_groups:
            for p in g["params"]:
                if self._opt._core.state_of(p):
                    yield p

    def __len__(self):
        return sum(1 for _ in self)

    def __repr__(self):
        return "{" + ", ".join(f"<param {tuple(p.shape)}>: {self[p]!r}" for p in self) + "}"


class Optimizer:
    """The base of chainrule's optimizers (PyTorch's ``torch.optim.Optimizer`` interface).

    ``params`` is an iterable of tensors, of ``(name, tensor)`` pairs, or of dicts
    ``{"params": [...], "lr": ..., ...}`` for param groups with their own hyperparameters.
    Subclasses set ``_core_class`` (the C++ optimizer) and pass their defaults.
    """

    _core_class = None

    def __init__(self, params, defaults):
        name = type(self).__name__
        if self._core_class is None:
            raise TypeError(f"{name}: chainrule's Optimizer runs C++ optimizers; subclass SGD, Adam, ... "
                            "or write the update loop yourself under cr.no_grad()")
        self.defaults = dict(defaults)
        self._native_defaults = {k: v for k, v in self.defaults.items() if k != "constraint"}
        groups = [self._normalize_group(g) for g in _as_groups(params, name)]
        self._core = self._core_class([self._core_group(g) for g in groups], self._native_defaults)
        self.param_groups = []
        for g in groups:
            self._append_view(g)
        self.state = _State(self)

    # -- groups
    def _normalize_group(self, group):
        name = type(self).__name__
        if not isinstance(group, Mapping):
            raise TypeError(f"{name}: expected param groups as dicts, got {type(group).__name__}")
        group = dict(group)
        if "params" not in group:
            raise ValueError(f"{name}: expected a 'params' entry in every param group, got keys {sorted(group)}")
        group["params"], names = _param_list(group["params"], name)
        if names is not None:
            group["param_names"] = names
        for k, v in self.defaults.items():
            group.setdefault(k, v)
        if not _is_constraint(group["constraint"]):
            raise TypeError(f"{name}: expected constraint to be a cr.optim.Constraint, a function or None, "
                            f"got {type(group['constraint']).__name__}")
        return group

    def _core_group(self, g):
        native = {k: v for k, v in g.items() if k in self._native_defaults or k == "initial_lr"}
        c = g["constraint"]
        return (g["params"], native, c if c is None or isinstance(c, Constraint) else None)

    def _append_view(self, g):
        extra = {k: v for k, v in g.items()
                 if k not in ("params", "constraint", "initial_lr") and k not in self._native_defaults}
        c = g["constraint"]
        if c is not None and not isinstance(c, Constraint):
            extra["constraint"] = c
        self.param_groups.append(_ParamGroup(self, len(self.param_groups), g["params"], extra))

    def add_param_group(self, param_group):
        """Adds a group (a dict with "params" and any hyperparameters to override), e.g. to train
        layers unfrozen later with their own lr."""
        g = self._normalize_group(param_group)
        params, native, c = self._core_group(g)
        self._core.add_param_group(params, native, c)
        self._append_view(g)

    # -- stepping
    def zero_grad(self, set_to_none=True):
        """Resets every parameter's gradient: to None (the default, as PyTorch), or to zeros."""
        self._core.zero_grad(set_to_none)

    def step(self, closure=None):
        """One update of every parameter that has a gradient (the others are skipped), then the
        groups' constraints. ``closure``, if given, re-evaluates the loss with grad mode on (it
        usually zeroes the grads and calls backward) and its result is returned."""
        loss = None
        if closure is not None:
            with enable_grad():
                loss = closure()
        self._core.step()
        for g in self.param_groups:
            fn = g._extra.get("constraint")
            if fn is not None:
                with no_grad():
                    for p in g._params:
                        projected = fn(p)  # None: fn changed p in place; a tensor: p's projection
                        if projected is None or projected is p:
                            continue
                        if not isinstance(projected, Tensor):
                            raise TypeError(f"{type(self).__name__}: a constraint function must change the "
                                            "parameter in place and return None, or return its projection "
                                            f"as a tensor; got {type(projected).__name__}")
                        p.copy_(projected)
        return loss

    # -- state dicts
    def state_dict(self):
        """``{"state": {i: {name: tensor}}, "param_groups": [{..., "params": [i, ...]}]}`` with
        parameters numbered across the groups, as PyTorch's. The tensors are copies. Constraints
        are code, not state: they are not saved and a load keeps the optimizer's own."""
        sd = self._core.state_dict()
        for out, view in zip(sd["param_groups"], self.param_groups):
            ids = out.pop("params")
            for k, v in view._extra.items():
                if k != "constraint":
                    out[k] = v
            out["params"] = ids
        return sd

    def load_state_dict(self, state_dict):
        """Loads a ``state_dict()`` (same optimizer, same group sizes): state tensors are copied
        in and each group's hyperparameters replaced."""
        if not isinstance(state_dict, Mapping):
            raise TypeError(f"{type(self).__name__}.load_state_dict: expected a dict, got {type(state_dict).__name__}")
        groups = state_dict.get("param_groups")
        if not isinstance(groups, (list, tuple)):
            raise ValueError(f"{type(self).__name__}.load_state_dict: expected a list 'param_groups', "
                             f"got {type(groups).__name__}")
        self._core.load_state_dict({"state": {int(k): dict(v) for k, v in dict(state_dict.get("state", {})).items()},
                                    "param_groups": [dict(g) for g in groups]})
        for view, saved in zip(self.param_groups, groups):
            for k, v in saved.items():
                if k not in ("params", "constraint") and not self._core.is_option(k):
                    view._extra[k] = v

    def __repr__(self):
        lines = [f"{type(self).__name__} ("]
        for i, g in enumerate(self.param_groups):
            lines.append(f"Parameter Group {i}")
            for k in sorted(k for k in g if k != "params"):
                lines.append(f"    {k}: {g[k]}")
        return "\n".join(lines + [")"])


def _as_groups(params, name):
    if isinstance(params, Tensor):
        raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, got a Tensor; "
                        "pass [tensor] or model.parameters()")
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{name}: parameters must be in an ordered collection (a set's order changes "
                        "between runs, and with it the state dict's numbering); use a list")
    if isinstance(params, Mapping):
        raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, got a dict; "
                        "pass a list of param groups: [{'params': ...}]")
    try:
        groups = list(params)
    except TypeError:
        raise TypeError(f"{name}: params should be an iterable of Tensors or dicts, got "
                        f"{type(params).__name__}") from None
    if not groups:
        raise ValueError(f"{name}: optimizer got an empty parameter list")
    if not isinstance(groups[0], Mapping):
        groups = [{"params": groups}]
    return groups


def _param_list(params, name):
    """A group's parameters as a list (plus their names when given as (name, tensor) pairs)."""
    if isinstance(params, Tensor):
        return [params], None
    if isinstance(params, (set, frozenset)):
        raise TypeError(f"{name}: parameters must be in an ordered collection (a set's order changes "
                        "between runs); use a list")
    params = list(params)
    names = None
    if params and all(isinstance(p, tuple) and len(p) == 2 and isinstance(p[0], str) for p in params):
        names = [p[0] for p in params]
        params = [p[1] for p in params]
    for p in params:
        if not isinstance(p, Tensor):
            raise TypeError(f"{name}: can only optimize Tensors, but one of the params is {type(p).__name__}")
    return params, names


def _no(name, **flags):
    for flag, value in flags.items():
        if value:
            raise ValueError(f"{name}: {flag}=True is not supported (chainrule steps on the CPU, "
                             "under no-grad)")


class SGD(Optimizer):
    r"""Stochastic gradient descent, optionally with momentum (PyTorch's rule).

    g = grad (+ weight_decay * p), negated if maximize; with momentum, buf = g on the first step
    and buf = momentum * buf + (1 - dampening) * g after; the step direction is
    g + momentum * buf (nesterov) or buf; p <- p - lr * direction.
    """

    _core_class = _core.SGD

    def __init__(self, params, lr=1e-3, momentum=0, dampening=0, weight_decay=0, nesterov=False, *,
                 maximize=False, foreach=None, differentiable=False, fused=None, constraint=None):
        _no("SGD", differentiable=differentiable, fused=fused)
        super().__init__(params, dict(lr=lr, momentum=momentum, dampening=dampening,
                                      weight_decay=weight_decay, nesterov=nesterov, maximize=maximize,
                                      constraint=constraint))


class Adam(Optimizer):
    r"""Adam (PyTorch's rule, with amsgrad and bias corrections).

    g = grad (+ weight_decay * p, or p <- p (1 - lr weight_decay) if decoupled); m <- beta1 m +
    (1 - beta1) g; v <- beta2 v + (1 - beta2) g^2 (amsgrad: the running max of v is used);
    p <- p - lr / (1 - beta1^t) * m / (sqrt(v / (1 - beta2^t)) + eps).
    """

    _core_class = _core.Adam

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=0, amsgrad=False, *,
                 foreach=None, maximize=False, capturable=False, differentiable=False, fused=None,
                 decoupled_weight_decay=False, constraint=None):
        _no(type(self).__name__, capturable=capturable, differentiable=differentiable, fused=fused)
        super().__init__(params, dict(lr=lr, betas=tuple(betas), eps=eps, weight_decay=weight_decay,
                                      amsgrad=amsgrad, maximize=maximize,
                                      decoupled_weight_decay=decoupled_weight_decay, constraint=constraint))


class AdamW(Adam):
    r"""AdamW: Adam with decoupled weight decay, p <- p (1 - lr weight_decay) before the Adam step
    (the decay doesn't pass through m and v). PyTorch's default weight_decay=1e-2."""

    _core_class = _core.AdamW

    def __init__(self, params, lr=1e-3, betas=(0.9, 0.999), eps=1e-8, weight_decay=1e-2, amsgrad=False, *,
                 maximize=False, foreach=None, capturable=False, differentiable=False, fused=None,
                 constraint=None):
        super().__init__(params, lr, betas, eps, weight_decay, amsgrad, foreach=foreach, maximize=maximize,
                         capturable=capturable, differentiable=differentiable, fused=fused,
                         decoupled_weight_decay=True, constraint=constraint)


class RMSprop(Optimizer):
    r"""RMSprop (PyTorch's rule).

    v <- alpha v + (1 - alpha) g^2; centered: gbar <- alpha gbar + (1 - alpha) g and the scale is
    sqrt(v - gbar^2) + eps, else sqrt(v) + eps; with momentum buf <- momentum buf + g / scale and
    p <- p - lr buf, else p <- p - lr g / scale.
    """

    _core_class = _core.RMSprop

    def __init__(self, params, lr=1e-2, alpha=0.99, eps=1e-8, weight_decay=0, momentum=0, centered=False,
                 capturable=False, foreach=None, maximize=False, differentiable=False, *, constraint=None):
        _no("RMSprop", capturable=capturable, differentiable=differentiable)
        super().__init__(params, dict(lr=lr, alpha=alpha, eps=eps, weight_decay=weight_decay,
                                      momentum=momentum, centered=centered, maximize=maximize,
                                      constraint=constraint))


class Adagrad(Optimizer):
    r"""Adagrad (PyTorch's rule): sum <- sum + g^2 (starting at initial_accumulator_value),
    p <- p - lr / (1 + (t - 1) lr_decay) * g / (sqrt(sum) + eps)."""

    _core_class = _core.Adagrad

    def __init__(self, params, lr=1e-2, lr_decay=0, weight_decay=0, initial_accumulator_value=0, eps=1e-10,
                 foreach=None, *, maximize=False, differentiable=False, fused=None, constraint=None):
        _no("Adagrad", differentiable=differentiable, fused=fused)
        super().__init__(params, dict(lr=lr, lr_decay=lr_decay, weight_decay=weight_decay,
                                      initial_accumulator_value=initial_accumulator_value, eps=eps,
                                      maximize=maximize, constraint=constraint))


# ---------------------------------------------------------------- checkpoint form
def flatten_state_dict(state_dict):
    """An optimizer's ``state_dict()`` as ``(tensors, metadata)`` for a safetensors file.

    ``tensors`` maps ``"state.<i>.<name>"`` (e.g. ``"state.0.exp_avg"``, ``"state.0.step"``, a 0-d
    tensor) to the state tensors; ``metadata`` is the JSON string ``{"param_groups": [...]}`` of the
    groups (hyperparameters and ``"params"`` index lists; pairs such as betas become lists). The C++
    ``OptimizerState::tensors()`` / ``groups_json()`` write the same layout.
    """
    tensors = {}
    for i, entries in state_dict["state"].items():
        for k, t in entries.items():
            if not isinstance(t, Tensor):
                raise ValueError(f"flatten_state_dict: expected tensors in the state, got {type(t).__name__} "
                                 f"for state {i}.{k}")
            tensors[f"state.{int(i)}.{k}"] = t
    groups = []
    for n, g in enumerate(state_dict["param_groups"]):
        out = {}
        for k, v in g.items():
            if isinstance(v, tuple):
                v = list(v)
            try:
                json.dumps(v)
            except (TypeError, ValueError):
                raise ValueError(f"flatten_state_dict: param group {n}'s '{k}' ({type(v).__name__}) can't be "
                                 "stored as JSON") from None
            out[k] = v
        groups.append(out)
    return tensors, json.dumps({"param_groups": groups})


def unflatten_state_dict(tensors, metadata):
    """The inverse of :func:`flatten_state_dict`: a dict for ``optimizer.load_state_dict``."""
    try:
        doc = json.loads(metadata)
    except ValueError as e:
        raise ValueError(f"unflatten_state_dict: the metadata is not valid JSON: {e}") from None
    if not isinstance(doc, dict) or not isinstance(doc.get("param_groups"), list):
        raise ValueError("unflatten_state_dict: expected JSON with a 'param_groups' list")
    state = {}
    for key, t in tensors.items():
        parts = key.split(".", 2)
        if len(parts) != 3 or parts[0] != "state" or not parts[1].isdigit() or not parts[2]:
            raise ValueError(f"unflatten_state_dict: expected names like 'state.0.exp_avg', got '{key}'")
        state.setdefault(int(parts[1]), {})[parts[2]] = t
    groups = []
    for g in doc["param_groups"]:
        if not isinstance(g, dict) or "params" not in g:
            raise ValueError("unflatten_state_dict: expected every param group to be an object with 'params'")
        groups.append({k: (tuple(v) if isinstance(v, list) and k not in ("params", "param_names") else v)
                       for k, v in g.items()})
    return {"state": dict(sorted(state.items())), "param_groups": groups}

