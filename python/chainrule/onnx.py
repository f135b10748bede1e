"""cr.onnx.export: a trained model as an ONNX file, for onnxruntime and every engine that reads ONNX.

The model runs on an example input (and, for a dynamic batch, on twice its batch, to check the shapes);
the layers it calls (forward hooks) and the graph ops between them (_GRAPH_OPS: F.linear, matmul,
softmax, relu, reshape, +, -, * ... on traced tensors and parameters) become ONNX nodes. Anything else
raises, naming the op, instead of writing a file that computes something different.
Needs the optional package onnx (pip install chainrule[onnx]).
"""

import math

from . import _core
from . import nn as _nn
from .nn.modules import _ntuple2 as _pair
from ._files import write_atomically
from ._grad_mode import enable_grad, no_grad

__all__ = ["export"]


class _ExportError(ValueError):
    """What export itself refuses (a ValueError): passes through the trace unchanged."""


_PREFIX = "chainrule/"  # the names of export's own values and nodes
_OPSETS = range(17, 22)  # 17: LayerNormalization; ir_version follows the opset (onnxruntime rejects newer IRs)


def export(model, example_input, path, *, opset=17, input_names=None, output_names=None, dynamic_batch=True):
    """Writes ``model`` (in eval mode: Dropout is the identity, BatchNorm uses its running statistics)
    as ONNX to ``path``, traced on ``example_input`` (one tensor). With ``dynamic_batch`` the first
    dimension of the input and output is named "batch" and may be any size (the model is traced at
    the example's batch size and at twice it, to check that every shape in the file scales so).
    Returns the onnx.ModelProto, checked with onnx.checker (full_check=True).

    As any tracer, export records the path the forward took on the example: a branch on a value
    (``if x.sum() > 0``) is not in the file; a branch on the batch size between the example's and
    twice it raises. ``squeeze()`` without a dim squeezes the dims that were 1 when traced, so at a
    batch of 1 the file keeps the batch dim (as torch.onnx): give squeeze its dim.

    float64 models export too, but onnxruntime's CPU provider has no float64 Conv, AveragePool, Erf
    (GELU), Softplus, ELU or Softsign: model.float() first to run those there."""
    try:
        import onnx
    except ImportError as e:  # an optional extra, never a dependency of the core
        raise ImportError("cr.onnx.export needs the onnx package: pip install chainrule[onnx] "
                          "(or pip install onnx)") from e
    if opset not in _OPSETS:
        raise ValueError(f"cr.onnx.export: opset must be between {_OPSETS[0]} and {_OPSETS[-1]}, got {opset}")
    if not isinstance(example_input, _core.Tensor):
        raise ValueError(f"cr.onnx.export: example_input must be a Tensor, got {type(example_input).__name__}")
    if example_input.dtype not in (_core.float32, _core.float64) or example_input.dim() == 0:
        raise ValueError("cr.onnx.export: example_input must be a float32 or float64 tensor with a batch "
                         f"dimension, got shape {tuple(example_input.shape)} ({example_input.dtype})")
    if example_input.shape[0] == 0:
        raise ValueError("cr.onnx.export: example_input has an empty batch (shape "
                         f"{tuple(example_input.shape)}): give at least one example")
    input_names = list(input_names or ["input"])
    output_names = list(output_names or ["output"])
    if len(input_names) != 1 or len(output_names) != 1:
        raise ValueError("cr.onnx.export: a model with one input and one output: input_names and output_names "
                         f"name one each, got {input_names} and {output_names}")
    if input_names[0] == output_names[0] or any(n.startswith(_PREFIX) for n in input_names + output_names):
        raise ValueError(f"cr.onnx.export: input and output need two different names, not starting with "
                         f"'{_PREFIX}' (export's own), got {input_names[0]!r} and {output_names[0]!r}")
    for m in model.modules():
        if type(m) in _LAYERS and m._has_hooks():
            raise ValueError(f"cr.onnx.export: a {type(m).__name__} in the model has hooks, which the file could "
                             "not hold (a forward hook may change its output): remove them first (handle.remove())")

    modes = [(m, m.training) for m in model.modules()]
    model.eval()
    try:
        with enable_grad():  # the trace follows the autograd graph, even inside a no_grad block
            if dynamic_batch:
                # Traced at the example's batch size and at twice it: what changes with the batch is the
                # batch, so every reshape, permute and softmax dim is checked to hold at any batch size.
                first = _Tracer(onnx, example_input, input_names[0], None, first_of_two=True).run(model)
                doubled = _core.cat([example_input, example_input])
                graph = _Tracer(onnx, doubled, input_names[0], first).run(model)
            else:
                graph = _Tracer(onnx, example_input, input_names[0], None).run(model)
    finally:
        for m, training in modes:  # parents first (train() recurses), so each ends in its own mode
            m.train(training)
    graph.output_name = output_names[0]
    proto = graph.to_model(opset)
    try:
        onnx.checker.check_model(proto, full_check=True)
    except (onnx.checker.ValidationError, onnx.shape_inference.InferenceError) as e:
        raise _ExportError(f"cr.onnx.export: onnx.checker rejects the graph (no file written): {e}") from e
    write_atomically(path, proto.SerializeToString())
    return proto


class _Graph:
    """ONNX nodes, initializers and names, in the order the trace met them."""

    def __init__(self, onnx, dtype, reference, first_of_two):
        self.onnx, self.h = onnx, onnx.helper
        self.elem = {_core.float32: onnx.TensorProto.FLOAT, _core.float64: onnx.TensorProto.DOUBLE}[dtype]
        self.np_dtype = "float32" if dtype == _core.float32 else "float64"
        self.reference = reference  # the trace at the example's batch size, when this one doubles it
        self.dynamic_batch = reference is not None
        self.first_of_two = first_of_two  # the trace at the example's batch, which the doubled one checks
        self.nodes, self.inits, self.count, self.facts = [], [], 0, []
        self.input = self.output = None  # (name, shape)
        self.output_name = None

    def fresh(self, hint):
        self.count += 1
        return f"{_PREFIX}{hint}_{self.count}"

    def fact(self, what, value):
        """Notes a shape this trace met and returns what the reference trace met at the same point."""
        self.facts.append((what, value))
        if self.reference is None:
            return None
        ref = self.reference.facts
        if len(self.facts) > len(ref) or ref[len(self.facts) - 1][0] != what:
            raise _ExportError("cr.onnx.export: the forward takes another path when the batch size changes, which "
                               "one file can't hold: pass dynamic_batch=False")
        return ref[len(self.facts) - 1][1]

    def const(self, hint, array, dtype=None):
        import numpy as np
        name = self.fresh(hint)
        self.inits.append(self.onnx.numpy_helper.from_array(np.asarray(array, dtype=dtype or self.np_dtype), name))
        return name

    def param(self, hint, tensor):
        return self.const(hint, tensor.detach().cpu().numpy())

    def node(self, op, inputs, hint=None, **attrs):
        if op != "Identity":  # (a copy: reshape copies a permuted tensor at one batch size, not at another)
            self.fact(("node", op), None)  # both traces must take the same path through the forward
        out = self.fresh(hint or op.lower())
        self.nodes.append(self.h.make_node(op, inputs, [out], name=out, **attrs))
        return out

    def value_info(self, name, shape, batch="batch"):
        dims = list(shape)
        if self.dynamic_batch:
            dims[0] = batch
        return self.h.make_tensor_value_info(name, self.elem, dims)

    def to_model(self, opset):
        last = self.output[0]
        # the output gets the user's name: an Identity keeps every node's own name unique
        self.nodes.append(self.h.make_node("Identity", [last], [self.output_name], name=self.fresh("output")))
        # the output's dim 0 is the input's batch, or scales with it (then it has no name of its own)
        same = self.output[1][0] == self.input[1][0] and self.output_before[0] == self.reference.input[1][0] \
            if self.dynamic_batch else True
        g = self.h.make_graph(self.nodes, "chainrule", [self.value_info(*self.input)],
                              [self.value_info(self.output_name, self.output[1], "batch" if same else None)],
                              self.inits)
        opsets = [self.h.make_opsetid("", opset)]
        return self.h.make_model(g, opset_imports=opsets, producer_name="chainrule",
                                 ir_version=self.h.find_min_ir_version_for(opsets))


class _Tracer:
    def __init__(self, onnx, example_input, input_name, reference, first_of_two=False):
        self.g = _Graph(onnx, example_input.dtype, reference, first_of_two)
        self.x = example_input.detach().clone().requires_grad_(True)  # so ops on the input are recorded
        self.g.input = (input_name, tuple(self.x.shape))
        self.names = {_key(self.x): input_name}  # traced tensor -> its ONNX value
        self.keep = [self.x]  # holds every traced tensor, so no address is reused during the trace

    def run(self, model):
        handles = [m.register_forward_hook(self.hook) for m in model.modules() if type(m) in _LAYERS]
        try:
            try:
                y = model(self.x)
            except _ExportError:
                raise
            except Exception as e:  # the model's own error, told as export's
                at = (f"at twice the example's batch (shape {tuple(self.x.shape)}), which a file with a dynamic "
                      "batch must handle: pass dynamic_batch=False if it only runs at one batch size"
                      if self.g.dynamic_batch else "on the example input")
                why = (" (the traced input requires grad, so an in-place op on it fails)"
                       if "requires grad" in str(e) else "")
                raise _ExportError(f"cr.onnx.export: the model's forward fails while traced {at}{why}: "
                                   f"{type(e).__name__}: {e}") from e
        finally:
            for h in handles:
                h.remove()
        if not isinstance(y, _core.Tensor):
            raise _ExportError(f"cr.onnx.export: the model must return one Tensor, got {type(y).__name__}")
        self.g.output = (self.value(y), tuple(y.shape))
        before = self.g.output_before = self.g.fact("output", tuple(y.shape))
        if before is not None and (y.dim() == 0 or len(before) != y.dim() or before[1:] != tuple(y.shape[1:])
                                   or before[0] == y.shape[0]):
            raise _ExportError(f"cr.onnx.export: the output's dim 0 is not the batch (shape {before} for a batch of "
                               f"{self.g.reference.input[1][0]}, {tuple(y.shape)} for {self.g.input[1][0]}): "
                               "pass dynamic_batch=False")
        return self.g

    def hook(self, module, inputs, output):
        if isinstance(inputs, tuple) and len(inputs) != 1:
            raise _ExportError(f"cr.onnx.export: {type(module).__name__} was called with {len(inputs)} inputs")
        x = inputs[0] if isinstance(inputs, tuple) else inputs
        name = self.value(x)
        if _key(output) != _key(x):  # else an identity (Dropout in eval): its value is its input's
            self.bind(output, _LAYERS[type(module)](self.g, module, name, tuple(x.shape)))

    def bind(self, t, name):
        self.keep.append(t)
        self.names[_key(t)] = name

    def value(self, t):
        """The ONNX value holding t: a traced tensor's, or the graph ops that made it from traced ones."""
        if _key(t) in self.names:
            return self.names[_key(t)]
        if t.grad_fn is None:
            raise _ExportError("cr.onnx.export: the model uses a tensor that was not computed from its input "
                               f"(shape {tuple(t.shape)}): a constant or a parameter outside a supported layer "
                               f"({_supported()})")
        return self.resolve(t.grad_fn, tuple(t.shape))

    def resolve(self, fn, shape):
        """The ONNX value of the output (of the given shape) of the graph node fn. A node's output may be
        freed already (a view keeps only its storage), so its shape comes from its consumer."""
        key = ("node", fn._seq)
        if key in self.names:
            return self.names[key]
        op = fn._op
        if op not in _GRAPH_OPS:
            raise _ExportError(f"cr.onnx.export: op '{op}' ({fn.name()}) is not supported; supported layers: "
                               f"{_supported()} (a subclass with its own forward counts as its ops); graph ops: "
                               f"{', '.join(sorted(_GRAPH_OPS))}")
        name = self.batched_matmul(fn, shape)
        if name is None:
            args = [self.operand(f, in_shape, fn) for (f, _), in_shape in zip(fn.next_functions, fn._input_shapes)]
            if len(args) not in _ARITY.get(op, (1,)):  # a scalar operand is no edge of the graph
                raise _ExportError(f"cr.onnx.export: op '{op}' ({fn.name()}) has a constant operand, which export "
                                   "does not support")
            name = _GRAPH_OPS[op](self.g, args, fn, shape)
        self.names[key] = name
        return name

    def operand(self, f, shape, fn):
        """The ONNX value of one input of node fn: f is the node that made it, or its leaf's AccumulateGrad."""
        if isinstance(f, _core.Node):
            return self.resolve(f, tuple(shape))
        if f is None:
            raise _ExportError(f"cr.onnx.export: op '{fn._op}' ({fn.name()}) has a constant operand, which export "
                               "does not support")
        leaf = f.variable  # the input, or a parameter the forward uses itself (F.linear(x, self.w))
        if _key(leaf) not in self.names:
            self.bind(leaf, self.g.param("param", leaf))
        return self.names[_key(leaf)]

    def batched_matmul(self, fn, shape):
        """(..., K) @ (K, M) is recorded as reshape to (-1, K), mm, reshape back: one MatMul (which
        broadcasts as torch.matmul), so the batch stays dynamic. None when fn is not that pattern."""
        if fn._op != "reshape" or len(shape) < 3:
            return None
        mm = fn.next_functions[0][0]
        if not isinstance(mm, _core.Node) or mm._op != "mm":
            return None
        merge = mm.next_functions[0][0]
        if not isinstance(merge, _core.Node) or merge._op != "reshape":
            return None
        lead = tuple(merge._input_shapes[0])
        if lead[:-1] != shape[:-1] or tuple(mm._input_shapes[0]) != (math.prod(lead[:-1]), lead[-1]):
            return None
        x = self.operand(merge.next_functions[0][0], lead, merge)
        w = self.operand(mm.next_functions[1][0], mm._input_shapes[1], mm)
        return self.g.node("MatMul", [x, w])


def _key(t):
    """A traced tensor's identity: its graph node (every op output has its own), else the leaf itself."""
    return ("node", t.grad_fn._seq) if t.grad_fn is not None else ("leaf", t._cdata)


def _supported():
    return ", ".join(sorted({c.__name__ for c in _LAYERS}))


# ---- the graph ops between layers: (graph, ONNX inputs, node, output shape) -> ONNX value ----

def _reshape_to(g, x, in_shape, out_shape):
    """Reshape x to out_shape. With a dynamic batch, the reference trace (half the batch) tells which
    dims scale with the batch: dim 0 only becomes -1 (computed from the size); one that moves the
    batch elsewhere raises, since the file would hold the traced batch size."""
    shape = list(out_shape)
    before = g.fact("reshape", (tuple(in_shape), tuple(out_shape)))
    if before is not None:
        changed = [i for i, (a, b) in enumerate(zip(before[1], out_shape)) if a != b]
        if len(before[0]) != len(in_shape) or len(before[1]) != len(out_shape):
            changed = [None]  # squeeze() of a batch of 1: the rank itself depends on the batch
        if changed == [0]:
            shape[0] = -1
        elif changed:
            raise _ExportError(f"cr.onnx.export: a reshape from {before[0]} to {before[1]} (and from "
                               f"{tuple(in_shape)} to {tuple(out_shape)} at twice the batch) moves the batch out of "
                               "dim 0, which one file can't hold: keep the batch in dim 0 or pass dynamic_batch=False")
    return g.node("Reshape", [x, g.const("shape", shape, "int64")])


def _reshape(g, args, fn, out_shape):
    return _reshape_to(g, args[0], fn._input_shapes[0], out_shape)


def _graph_linear(g, args, fn, out_shape):  # F.linear(x, W, b): x W^T + b
    if len(fn._input_shapes[0]) == 2:
        return g.node("Gemm", args, transB=1)
    y = g.node("MatMul", [args[0], g.node("Transpose", [args[1]], perm=[1, 0])])
    return g.node("Add", [y, args[2]]) if len(args) == 3 else y


def _softmax_dim(g, fn, out_shape):
    """softmax's dim, which its graph node does not keep, read from its local derivative: a gradient at
    one element spreads exactly along the softmax's dim (unless the softmax there is one-hot: then
    the next element is tried). Raises rather than guess when no element tells."""
    import numpy as np
    g.fact("softmax", tuple(out_shape))
    n = math.prod(out_shape)
    for flat in sorted(set(np.linspace(0, n - 1, min(n, 64)).astype(int).tolist())):
        at = np.unravel_index(flat, out_shape)
        probe = np.zeros(out_shape, dtype=g.np_dtype)
        probe[at] = 1
        with no_grad():
            back = fn._local_grads(_core.from_numpy(probe))[0].numpy()
        spread = np.argwhere((back != 0) & ~np.isnan(back))  # a nan row of the example tells nothing (0 * nan)
        axes = {int(d) for row in spread for d in np.flatnonzero(row != np.array(at))}
        if len(axes) == 1:
            return axes.pop()
    if g.first_of_two:
        return 0  # a batch of 1 may not tell; the doubled trace decides (and raises if it can't)
    raise _ExportError(f"cr.onnx.export: can't tell the dim of {fn._op} from the trace (shape {tuple(out_shape)}): "
                       f"use the layer nn.{'Softmax' if fn._op == 'softmax' else 'LogSoftmax'}(dim=...)")


def _permutation(g, fn, out_shape):
    """permute's (and t's, transpose's) dims, which its graph node does not keep, read from its local
    derivative: the backward puts each element of a gradient of distinct numbers back where it came from."""
    import itertools

    import numpy as np
    probe = np.arange(math.prod(out_shape), dtype=g.np_dtype).reshape(out_shape)
    with no_grad():
        back = fn._local_grads(_core.from_numpy(probe))[0].numpy()
    g.fact("permute", tuple(out_shape))  # (at twice the batch, dims of size 1 that were the batch are not)
    for inverse in itertools.permutations(range(len(out_shape))):
        if np.array_equal(np.transpose(probe, inverse), back):
            return [int(d) for d in np.argsort(inverse)]
    raise _ExportError(f"cr.onnx.export: can't tell the dims of {fn._op} from the trace")


_GRAPH_OPS = {
    "linear": _graph_linear,
    "mm": lambda g, a, fn, out: g.node("MatMul", a),
    "matmul": lambda g, a, fn, out: g.node("MatMul", a),
    "permute": lambda g, a, fn, out: g.node("Transpose", a, perm=_permutation(g, fn, out)),
    "softmax": lambda g, a, fn, out: g.node("Softmax", a, axis=_softmax_dim(g, fn, out)),
    "log_softmax": lambda g, a, fn, out: g.node("LogSoftmax", a, axis=_softmax_dim(g, fn, out)),
    "clone": lambda g, a, fn, out: g.node("Identity", a),  # also .contiguous() and reshape's copy
    "relu": lambda g, a, fn, out: g.node("Relu", a),
    "tanh": lambda g, a, fn, out: g.node("Tanh", a),
    "sigmoid": lambda g, a, fn, out: g.node("Sigmoid", a),
    "add": lambda g, a, fn, out: g.node("Add", a),
    "sub": lambda g, a, fn, out: g.node("Sub", a),
    "mul": lambda g, a, fn, out: g.node("Mul", a),
    "reshape": _reshape,
}
_ARITY = {"add": (2,), "sub": (2,), "mul": (2,), "mm": (2,), "matmul": (2,), "linear": (2, 3)}


# ---- the layers: (graph, module, ONNX input, input shape) -> ONNX value ----

def _linear(g, m, x, shape):
    if len(shape) == 2:
        inputs = [x, g.param("weight", m.weight)] + ([g.param("bias", m.bias)] if m.bias is not None else [])
        return g.node("Gemm", inputs, transB=1)
    y = g.node("MatMul", [x, g.const("weight_t", m.weight.detach().cpu().numpy().T)])
    return g.node("Add", [y, g.param("bias", m.bias)]) if m.bias is not None else y


def _gelu(g, m, x, shape):
    half = g.const("half", 0.5)
    one = g.const("one", 1.0)
    if m.approximate == "tanh":  # 0.5 x (1 + tanh(sqrt(2/pi) (x + 0.044715 x^3)))
        cube = g.node("Mul", [g.node("Mul", [x, x]), x])
        inner = g.node("Add", [x, g.node("Mul", [cube, g.const("c", 0.044715)])])
        t = g.node("Tanh", [g.node("Mul", [inner, g.const("k", math.sqrt(2 / math.pi))])])
    else:  # 0.5 x (1 + erf(x / sqrt 2))
        t = g.node("Erf", [g.node("Mul", [x, g.const("k", 1 / math.sqrt(2))])])
    return g.node("Mul", [g.node("Mul", [x, half]), g.node("Add", [t, one])])


def _softplus(g, m, x, shape):  # log(1 + e^(beta x)) / beta, x where beta x > threshold (as torch)
    bx = g.node("Mul", [x, g.const("beta", m.beta)])
    soft = g.node("Div", [g.node("Softplus", [bx]), g.const("beta", m.beta)])
    return g.node("Where", [g.node("Greater", [bx, g.const("threshold", m.threshold)]), x, soft])


def _flatten(g, m, x, shape):
    rank = len(shape)
    start, end = m.start_dim % rank, m.end_dim % rank
    if start == 1 and end == rank - 1:
        return g.node("Flatten", [x], axis=1)  # (d0, d1 * ... ): exactly torch's, at any size
    out = list(shape[:start]) + [math.prod(shape[start:end + 1])] + list(shape[end + 1:])
    return _reshape_to(g, x, shape, out)


def _norm_affine(g, m, n):
    import numpy as np
    w = g.param("weight", m.weight) if getattr(m, "weight", None) is not None else g.const("ones", np.ones(n))
    b = g.param("bias", m.bias) if getattr(m, "bias", None) is not None else g.const("zeros", np.zeros(n))
    return w, b


def _layer_norm(g, m, x, shape):
    n = tuple(m.normalized_shape)
    import numpy as np
    w = g.param("weight", m.weight) if m.elementwise_affine else g.const("ones", np.ones(n))
    b = g.param("bias", m.bias) if m.elementwise_affine and m.bias is not None else g.const("zeros", np.zeros(n))
    return g.node("LayerNormalization", [x, w, b], axis=-len(n), epsilon=m.eps)


def _batch_norm(g, m, x, shape):
    if getattr(m, "running_mean", None) is None:
        raise _ExportError(f"cr.onnx.export: {type(m).__name__}(track_running_stats=False) normalises with the "
                           "batch's statistics in eval mode, which ONNX's BatchNormalization does not")
    w, b = _norm_affine(g, m, m.num_features)
    return g.node("BatchNormalization", [x, w, b, g.param("mean", m.running_mean), g.param("var", m.running_var)],
                  epsilon=m.eps)


def _batched_images(m, shape):
    if len(shape) != 4:
        raise _ExportError(f"cr.onnx.export: {type(m).__name__} needs a batch of images (N, C, H, W) to export, "
                           f"got shape {tuple(shape)}")


def _conv(g, m, x, shape):
    _batched_images(m, shape)
    if m.padding_mode != "zeros":
        raise _ExportError(f"cr.onnx.export: Conv2d(padding_mode='{m.padding_mode}') is not supported "
                           "(padding_mode='zeros' is)")
    k, d = _pair(m.kernel_size), _pair(m.dilation)
    if m.padding == "same":
        total = [di * (ki - 1) for ki, di in zip(k, d)]
        pads = [t // 2 for t in total] + [t - t // 2 for t in total]
    else:
        p = (0, 0) if m.padding == "valid" else _pair(m.padding)
        pads = list(p) + list(p)
    inputs = [x, g.param("weight", m.weight)] + ([g.param("bias", m.bias)] if m.bias is not None else [])
    return g.node("Conv", inputs, kernel_shape=list(k), strides=list(_pair(m.stride)), pads=pads,
                  dilations=list(d), group=m.groups)


def _pool_args(m, shape, dilation=(1, 1)):
    _batched_images(m, shape)
    k = _pair(m.kernel_size)
    s = _pair(m.stride if m.stride is not None else m.kernel_size)
    p = _pair(m.padding)
    if m.ceil_mode:  # torch drops a last window that would start in the right padding; ONNX keeps it
        for size, ki, si, pi, di in zip(shape[2:], k, s, p, dilation):
            windows = -(-(size + 2 * pi - di * (ki - 1) - 1) // si) + 1
            if (windows - 1) * si >= size + pi:
                raise _ExportError(f"cr.onnx.export: {type(m).__name__}(ceil_mode=True) on a side of {size}: its "
                                   "last window would start in the padding, which torch and chainrule drop and "
                                   "ONNX keeps; use ceil_mode=False or less padding")
    return dict(kernel_shape=list(k), strides=list(s), pads=list(p) + list(p), ceil_mode=int(m.ceil_mode))


def _max_pool(g, m, x, shape):
    if m.return_indices:
        raise _ExportError("cr.onnx.export: MaxPool2d(return_indices=True) is not supported")
    d = _pair(m.dilation)
    return g.node("MaxPool", [x], dilations=list(d), **_pool_args(m, shape, d))


def _avg_pool(g, m, x, shape):
    if m.divisor_override is not None:
        raise _ExportError("cr.onnx.export: AvgPool2d(divisor_override=...) is not supported")
    return g.node("AveragePool", [x], count_include_pad=int(m.count_include_pad), **_pool_args(m, shape))


def _softmax(op, negate=False):
    def convert(g, m, x, shape):
        if m.dim is None:
            raise _ExportError(f"cr.onnx.export: {type(m).__name__}(dim=None) has no axis to export: give dim")
        return g.node(op, [g.node("Neg", [x]) if negate else x], axis=m.dim)
    return convert


def _clip(g, m, x, shape):
    return g.node("Clip", [x, g.const("min", m.min_val), g.const("max", m.max_val)])


_LAYERS = {
    _nn.Linear: _linear,
    _nn.ReLU: lambda g, m, x, s: g.node("Relu", [x]),
    _nn.Sigmoid: lambda g, m, x, s: g.node("Sigmoid", [x]),
    _nn.Tanh: lambda g, m, x, s: g.node("Tanh", [x]),
    _nn.LeakyReLU: lambda g, m, x, s: g.node("LeakyRelu", [x], alpha=m.negative_slope),
    _nn.ELU: lambda g, m, x, s: g.node("Elu", [x], alpha=m.alpha),
    _nn.SiLU: lambda g, m, x, s: g.node("Mul", [x, g.node("Sigmoid", [x])]),
    _nn.GELU: _gelu,
    _nn.Softplus: _softplus,
    _nn.Softsign: lambda g, m, x, s: g.node("Softsign", [x]),
    _nn.Hardtanh: _clip,
    _nn.ReLU6: _clip,
    _nn.Softmax: _softmax("Softmax"),
    _nn.LogSoftmax: _softmax("LogSoftmax"),
    _nn.Softmin: _softmax("Softmax", negate=True),
    _nn.Identity: lambda g, m, x, s: g.node("Identity", [x]),
    _nn.Dropout: lambda g, m, x, s: g.node("Identity", [x]),  # eval: the identity
    _nn.Dropout2d: lambda g, m, x, s: g.node("Identity", [x]),
    _nn.Flatten: _flatten,
    _nn.LayerNorm: _layer_norm,
    _nn.BatchNorm1d: _batch_norm,
    _nn.BatchNorm2d: _batch_norm,
    _nn.Conv2d: _conv,
    _nn.MaxPool2d: _max_pool,
    _nn.AvgPool2d: _avg_pool,
}
