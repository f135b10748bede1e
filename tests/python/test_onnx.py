"""cr.onnx.export: every supported layer and the examples' models, checked by onnx.checker and run by
onnxruntime on a batch of another size than the traced one (allclose 1e-5); what is not supported raises."""
import os
import sys

import numpy as np
import onnx
import onnxruntime as ort
import pytest

import chainrule as cr
import chainrule.nn as nn
import chainrule.nn.functional as F

EXAMPLES = os.path.join(os.path.dirname(__file__), "..", "..", "examples")


def roundtrip(model, shape, tmp_path, batch=5, **kw):
    """Exports model traced on a batch of 3, then runs chainrule and onnxruntime on a batch of `batch`."""
    cr.manual_seed(0)
    path = tmp_path / "model.onnx"
    training = model.training
    proto = cr.onnx.export(model, cr.randn(3, *shape), path, **kw)
    assert model.training == training  # export traces in eval mode and puts the mode back
    onnx.checker.check_model(onnx.load(str(path)), full_check=True)
    x = cr.randn(batch, *shape)
    model.eval()
    with cr.no_grad():
        want = model(x).numpy()
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    (got,) = sess.run(None, {sess.get_inputs()[0].name: x.numpy()})
    assert got.shape == want.shape
    np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-5)
    return proto


LAYERS = [
    ("linear", lambda: nn.Linear(4, 3), (4,)),
    ("linear_no_bias", lambda: nn.Linear(4, 3, bias=False), (4,)),
    ("linear_3d", lambda: nn.Linear(4, 3), (2, 4)),
    ("relu", nn.ReLU, (6,)),
    ("sigmoid", nn.Sigmoid, (6,)),
    ("tanh", nn.Tanh, (6,)),
    ("leaky_relu", lambda: nn.LeakyReLU(0.2), (6,)),
    ("elu", lambda: nn.ELU(0.7), (6,)),
    ("silu", nn.SiLU, (6,)),
    ("gelu", nn.GELU, (6,)),
    ("gelu_tanh", lambda: nn.GELU(approximate="tanh"), (6,)),
    ("softplus", lambda: nn.Softplus(beta=2.0, threshold=1.0), (6,)),
    ("softsign", nn.Softsign, (6,)),
    ("hardtanh", lambda: nn.Hardtanh(-0.5, 0.5), (6,)),
    ("relu6", nn.ReLU6, (6,)),
    ("softmax", lambda: nn.Softmax(dim=1), (6,)),
    ("softmax_last", lambda: nn.Softmax(dim=-1), (2, 6)),
    ("log_softmax", lambda: nn.LogSoftmax(dim=1), (6,)),
    ("softmin", lambda: nn.Softmin(dim=1), (6,)),
    ("identity", nn.Identity, (6,)),
    ("dropout", lambda: nn.Sequential(nn.Dropout(0.5), nn.Tanh()), (6,)),
    ("dropout2d", lambda: nn.Sequential(nn.Dropout2d(0.5), nn.Tanh()), (2, 4, 4)),
    ("flatten", nn.Flatten, (2, 3, 4)),
    ("flatten_middle", lambda: nn.Flatten(1, 2), (2, 3, 4)),
    ("layer_norm", lambda: nn.LayerNorm(6), (6,)),
    ("layer_norm_2d", lambda: nn.LayerNorm((2, 6)), (2, 6)),
    ("layer_norm_no_affine", lambda: nn.LayerNorm(6, elementwise_affine=False), (6,)),
    ("batch_norm1d", lambda: nn.BatchNorm1d(6), (6,)),
    ("batch_norm1d_3d", lambda: nn.BatchNorm1d(3), (3, 5)),
    ("batch_norm2d", lambda: nn.BatchNorm2d(3), (3, 4, 4)),
    ("conv2d", lambda: nn.Conv2d(2, 3, 3), (2, 7, 7)),
    ("conv2d_stride_pad", lambda: nn.Conv2d(2, 4, (3, 2), stride=2, padding=1), (2, 8, 7)),
    ("conv2d_dilation_groups", lambda: nn.Conv2d(4, 4, 3, dilation=2, groups=2, bias=False), (4, 9, 9)),
    ("conv2d_same_even", lambda: nn.Conv2d(2, 3, 4, padding="same"), (2, 6, 6)),
    ("max_pool", lambda: nn.MaxPool2d(2), (2, 6, 6)),
    ("max_pool_stride_pad", lambda: nn.MaxPool2d(3, stride=2, padding=1), (2, 7, 7)),
    ("max_pool_ceil", lambda: nn.MaxPool2d(2, ceil_mode=True), (2, 7, 7)),
    ("avg_pool", lambda: nn.AvgPool2d(2), (2, 6, 6)),
    ("avg_pool_pad", lambda: nn.AvgPool2d(3, stride=2, padding=1), (2, 7, 7)),
    ("avg_pool_pad_exclude", lambda: nn.AvgPool2d(3, stride=2, padding=1, count_include_pad=False), (2, 7, 7)),
]


@pytest.mark.parametrize("name,make,shape", LAYERS, ids=[n for n, _, _ in LAYERS])
def test_every_layer_matches_onnxruntime(name, make, shape, tmp_path):
    cr.manual_seed(1)
    model = make()
    if "batch_norm" in name:  # running statistics that are not the initial 0 and 1
        model.train()
        for _ in range(3):
            model(cr.randn(8, *shape) * 2 + 1)
    roundtrip(model, shape, tmp_path)


def test_a_python_module_whose_forward_uses_graph_ops(tmp_path):
    class Residual(nn.Module):
        def __init__(self):
            super().__init__()
            self.conv = nn.Conv2d(1, 4, 3, padding=1)
            self.inner = nn.Linear(4 * 6 * 6, 4 * 6 * 6)
            self.head = nn.Linear(4 * 6 * 6, 3)

        def forward(self, x):
            h = F.relu(self.conv(x)).reshape(x.shape[0], -1)
            h = h + self.inner(h).tanh() * h.sigmoid() - h
            return self.head(h)

    proto = roundtrip(Residual(), (1, 6, 6), tmp_path, batch=7)
    ops = [n.op_type for n in proto.graph.node]
    assert ops.count("Gemm") == 2 and "Conv" in ops and "Reshape" in ops and "Sub" in ops, ops


def test_spiral_and_digits_models(tmp_path):
    sys.path.insert(0, EXAMPLES)
    try:
        import train_digits
        import train_spiral
    finally:
        sys.path.remove(EXAMPLES)
    X = cr.randn(32, 64)
    y = cr.randint(0, 10, (32,))
    for model, shape in [(train_spiral.make_model(100), (2,)), (train_spiral.make_model(0), (2,)),
                         (train_digits.mlp(), (64,)), (train_digits.cnn(), (1, 8, 8))]:
        # a few Adam steps, so the weights are not their initial values
        opt = cr.optim.Adam(model.parameters(), lr=1e-2)
        inputs = X[:, :shape[0]] if len(shape) == 1 else X.reshape(32, 1, 8, 8)
        for _ in range(5):
            opt.zero_grad()
            F.cross_entropy(model(inputs), y % model(inputs).shape[1]).backward()
            opt.step()
        assert model.training
        roundtrip(model, shape, tmp_path, batch=11)


def test_names_opset_and_fixed_batch(tmp_path):
    model = nn.Sequential(nn.Linear(4, 2), nn.Softmax(dim=1))
    path = tmp_path / "m.onnx"
    proto = cr.onnx.export(model, cr.randn(3, 4), path, opset=18, input_names=["features"],
                           output_names=["probs"], dynamic_batch=False)
    assert proto.opset_import[0].version == 18 and proto.ir_version == 8
    assert [i.name for i in proto.graph.input] == ["features"] and [o.name for o in proto.graph.output] == ["probs"]
    dims = [d.dim_value for d in proto.graph.input[0].type.tensor_type.shape.dim]
    assert dims == [3, 4]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = cr.randn(3, 4)
    np.testing.assert_allclose(sess.run(["probs"], {"features": x.numpy()})[0], model(x).detach().numpy(),
                               rtol=1e-5, atol=1e-6)
    assert cr.onnx.export(model, cr.randn(3, 4), path).ir_version == 8  # opset 17 -> IR 8


def test_float64_model(tmp_path):
    model = nn.Sequential(nn.Linear(3, 5, dtype=cr.float64), nn.Tanh(), nn.Linear(5, 1, dtype=cr.float64))
    path = tmp_path / "m.onnx"
    cr.onnx.export(model, cr.randn(2, 3, dtype=cr.float64), path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = cr.randn(4, 3, dtype=cr.float64)
    np.testing.assert_allclose(sess.run(None, {"input": x.numpy()})[0], model(x).detach().numpy(), rtol=1e-12)


def test_unsupported_raises_and_writes_nothing(tmp_path):
    class Sine(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(cr.randn(4, 2))

        def forward(self, x):
            return (x @ self.w).sin()

    class Constant(nn.Module):  # a layer applied to a tensor that is not the input's
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(cr.ones(2, 4)) + x[:, :2] * 0

    path = tmp_path / "m.onnx"
    with pytest.raises(ValueError, match=r"cr.onnx.export: op 'sin' \(SinBackward0\) is not supported; "
                                         r"supported layers: AvgPool2d, BatchNorm1d, .*; graph ops: add, clone, linear, "):
        cr.onnx.export(Sine(), cr.randn(2, 4), path)
    with pytest.raises(ValueError, match=r"not computed from its input \(shape \(2, 4\)\)"):
        cr.onnx.export(Constant(), cr.randn(2, 4), path)
    assert os.listdir(tmp_path) == []


def test_an_unsupported_op_is_named(tmp_path):
    class Net(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1).exp()

    (tmp_path / "m.onnx").write_bytes(b"the model exported yesterday")
    with pytest.raises(ValueError, match=r"op 'exp' \(ExpBackward0\) is not supported"):
        cr.onnx.export(Net(), cr.randn(2, 4), tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == ["m.onnx"]  # the old file, untouched, and no temporary left
    assert (tmp_path / "m.onnx").read_bytes() == b"the model exported yesterday"
    os.remove(tmp_path / "m.onnx")

    class Scaled(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return self.fc(x) * 2.0

    with pytest.raises(ValueError, match=r"op 'mul' \(MulBackward0\) has a constant operand"):
        cr.onnx.export(Scaled(), cr.randn(2, 4), tmp_path / "m.onnx")


def test_bad_arguments(tmp_path):
    model = nn.Linear(2, 2)
    with pytest.raises(ValueError, match="opset must be between 17 and 21, got 13"):
        cr.onnx.export(model, cr.randn(1, 2), tmp_path / "m.onnx", opset=13)
    with pytest.raises(ValueError, match="example_input must be a Tensor, got list"):
        cr.onnx.export(model, [[1.0, 2.0]], tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=r"float32 or float64 tensor with a batch dimension, got shape \(\)"):
        cr.onnx.export(model, cr.tensor(1.0), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match=r"float32 or float64 tensor with a batch dimension, got shape \(2,\)"):
        cr.onnx.export(model, cr.tensor([1, 2]), tmp_path / "m.onnx")
    with pytest.warns(UserWarning, match="Implicit dimension"), \
            pytest.raises(ValueError, match=r"Softmin\(dim=None\) has no axis to export"):
        cr.onnx.export(nn.Softmin(), cr.randn(3, 2), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="input_names and output_names name one each"):
        cr.onnx.export(model, cr.randn(1, 2), tmp_path / "m.onnx", input_names=["a", "b"])
    with pytest.raises(ValueError, match=r"BatchNorm1d\(track_running_stats=False\)"):
        cr.onnx.export(nn.BatchNorm1d(2, track_running_stats=False), cr.randn(3, 2), tmp_path / "m.onnx")
    with pytest.raises(ValueError, match="padding_mode='reflect'"):
        cr.onnx.export(nn.Conv2d(1, 1, 3, padding=1, padding_mode="reflect"), cr.randn(1, 1, 5, 5),
                       tmp_path / "m.onnx")
    assert os.listdir(tmp_path) == []


def test_reshapes_that_scale_with_the_batch_and_ones_that_move_it(tmp_path):
    class Pairs(nn.Module):  # (N, 6) -> (2N, 3): dim 0 scales with the batch, the file computes it
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(3, 2)

        def forward(self, x):
            return self.fc(x.reshape(-1, 3).relu())

    proto = roundtrip(Pairs(), (6,), tmp_path, batch=7)
    out_dim = proto.graph.output[0].type.tensor_type.shape.dim[0]
    assert out_dim.dim_param == "" and out_dim.dim_value == 0  # 2 x batch: no name, no fixed size

    class Lambda(nn.Module):
        def __init__(self, f):
            super().__init__()
            self.fc, self.f = nn.Linear(2, 2), f

        def forward(self, x):
            return self.f(x)

    moves = [((6,), lambda x: x.reshape(3, -1), r"\(3, 6\) to \(3, 6\) \(and from \(6, 6\) to \(3, 12\)"),
             ((6,), lambda x: x.relu().t().reshape(6, -1).t(), "moves the batch out of dim 0"),
             ((4, 5), lambda x: x.relu().permute(1, 0, 2).reshape(4, -1), "moves the batch out of dim 0")]
    for shape, f, message in moves:
        model = Lambda(f)
        with pytest.raises(ValueError, match=message):
            cr.onnx.export(model, cr.randn(3, *shape), tmp_path / "m.onnx")
        assert os.listdir(tmp_path) == ["model.onnx"]
        path = tmp_path / "fixed.onnx"  # with a fixed batch it exports, for that batch only
        cr.onnx.export(model, cr.randn(3, *shape), path, dynamic_batch=False)
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        x = cr.randn(3, *shape)
        np.testing.assert_allclose(sess.run(None, {"input": x.numpy()})[0], model(x).detach().numpy(), rtol=1e-6)
        os.remove(path)

    class SumsTheBatch(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 2)

        def forward(self, x):
            return self.fc(x).t() @ x

    with pytest.raises(ValueError, match=r"the output's dim 0 is not the batch \(shape \(2, 4\) for a batch of 3, "
                                         r"\(2, 4\) for 6\)"):
        cr.onnx.export(SumsTheBatch(), cr.randn(3, 4), tmp_path / "m.onnx")


def test_an_example_batch_of_one(tmp_path):
    class Swap(nn.Module):  # (N, 3, 1) -> (1, 3, N): at batch 1 the permutation looks like the identity
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(1, 1)

        def forward(self, x):
            return self.fc(x).permute(2, 1, 0).reshape(-1, 3).tanh()

    for model, shape in [(Swap(), (3, 1)), (nn.Sequential(nn.Conv2d(1, 2, 3), nn.Flatten(), nn.Linear(2 * 4 * 4, 3), nn.LogSoftmax(dim=1)), (1, 6, 6))]:
        path = tmp_path / "one.onnx"
        cr.onnx.export(model, cr.randn(1, *shape), path)
        x = cr.randn(5, *shape)
        sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
        want = model(x).detach().numpy()
        got = sess.run(None, {"input": x.numpy()})[0]
        assert got.shape == want.shape
        np.testing.assert_allclose(got, want, rtol=1e-5, atol=1e-6)


def test_a_saturated_softmax_still_tells_its_dim(tmp_path):
    class Sharp(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 5)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)

    model = Sharp()
    x = cr.randn(3, 4)
    x[0] = 1000  # row 0: logits hundreds apart, a one-hot softmax (the probe's first element tells nothing)
    assert (F.softmax(model.fc(x[:1]), dim=1) == 1).any()
    proto = cr.onnx.export(model, x, tmp_path / "m.onnx")
    assert [a.i for n in proto.graph.node if n.op_type == "Softmax" for a in n.attribute] == [1]


def test_hooks_modes_names_and_shapes_export_refuses_or_keeps(tmp_path):
    path = tmp_path / "m.onnx"
    model = nn.Sequential(nn.Linear(4, 3), nn.Tanh())
    handle = model[0].register_forward_hook(lambda mod, args, out: out.relu())
    with pytest.raises(ValueError, match=r"a Linear in the model has hooks, which the file could not hold"):
        cr.onnx.export(model, cr.randn(2, 4), path)
    handle.remove()
    cr.onnx.export(model, cr.randn(2, 4), path)

    model = nn.Sequential(nn.Linear(4, 4), nn.BatchNorm1d(4), nn.Dropout(0.2))
    model.train()
    model[1].eval()  # a frozen BatchNorm stays frozen
    cr.onnx.export(model, cr.randn(3, 4), path)
    assert [m.training for m in model.modules()] == [True, True, False, True]

    for names in [dict(input_names=["x"], output_names=["x"]), dict(input_names=["output"]),
                  dict(output_names=["chainrule/gemm_1"])]:
        with pytest.raises(ValueError, match="input and output need two different names"):
            cr.onnx.export(nn.Linear(2, 2), cr.randn(3, 2), path, **names)

    with pytest.raises(ValueError, match=r"MaxPool2d\(ceil_mode=True\) on a side of 5: its last window would start "
                                         r"in the padding"):
        cr.onnx.export(nn.MaxPool2d(2, stride=2, padding=1, ceil_mode=True), cr.randn(3, 2, 5, 5), path)
    with pytest.raises(ValueError, match=r"AvgPool2d\(ceil_mode=True\)"):
        cr.onnx.export(nn.AvgPool2d(2, stride=2, padding=1, ceil_mode=True), cr.randn(3, 2, 5, 5), path)
    with pytest.raises(ValueError, match=r"Conv2d needs a batch of images \(N, C, H, W\) to export, got shape "
                                         r"\(2, 6, 6\)"):
        cr.onnx.export(nn.Conv2d(2, 3, 3), cr.randn(2, 6, 6), path)


def test_export_inside_no_grad_and_with_a_shared_layer(tmp_path):
    class Twice(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 4)

        def forward(self, x):
            return self.fc(self.fc(x).tanh())

    with cr.no_grad():  # as a student would, after training
        roundtrip(Twice(), (4,), tmp_path)



@pytest.mark.parametrize("dim", [0, 1, 2, -1])
def test_functional_linear_matmul_and_softmax_in_a_forward(dim, tmp_path):
    class Functional(nn.Module):
        def __init__(self):
            super().__init__()
            self.w = nn.Parameter(cr.randn(5, 4))
            self.b = nn.Parameter(cr.randn(5))
            self.v = nn.Parameter(cr.randn(6, 5))
            self.head = nn.Parameter(cr.randn(18, 2))

        def forward(self, x):  # x: (N, 3, 4)
            h = F.relu(F.linear(x, self.w, self.b))     # (N, 3, 5)
            p = F.softmax(h @ self.v.t(), dim=dim)       # (N, 3, 6)
            flat = p.permute(0, 2, 1).reshape(p.shape[0], -1)  # (N, 6, 3) -> (N, 18)
            return F.log_softmax(flat @ self.head, dim=1)

    proto = roundtrip(Functional(), (3, 4), tmp_path, batch=3 if dim == 0 else 5)
    ops = [n.op_type for n in proto.graph.node]
    assert {"Softmax", "LogSoftmax", "MatMul", "Transpose"} <= set(ops), ops
    axis = [a.i for n in proto.graph.node if n.op_type == "Softmax" for a in n.attribute if a.name == "axis"]
    assert axis == [dim % 3], axis


def test_a_softmax_dim_the_trace_cannot_tell_raises(tmp_path):
    class OverOne(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 1)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)  # (N, 1): all ones, whatever the input

    with pytest.raises(ValueError, match=r"can't tell the dim of softmax from the trace \(shape \(6, 1\)\): "
                                         r"use the layer nn.Softmax\(dim=...\)"):
        cr.onnx.export(OverOne(), cr.randn(3, 4), tmp_path / "m.onnx")
    roundtrip(nn.Sequential(nn.Linear(4, 1), nn.Softmax(dim=1)), (4,), tmp_path)  # the layer knows its dim


def test_forwards_that_depend_on_the_batch_size_or_fail_in_the_trace(tmp_path):
    class Lambda(nn.Module):
        def __init__(self, f, n_in=4, n_out=3):
            super().__init__()
            self.fc, self.f = nn.Linear(n_in, n_out), f
            self.h0 = nn.Parameter(cr.randn(3, n_out))

        def forward(self, x):
            return self.f(self, x)

    path = tmp_path / "m.onnx"
    cases = [  # (forward, example shape, the error)
        (lambda s, x: s.fc(x) if x.shape[0] >= 6 else s.fc(x).relu(), (3, 4),
         "the forward takes another path when the batch size changes"),
        (lambda s, x: s.fc(x).squeeze().reshape(-1, 3), (1, 4), "moves the batch out of dim 0"),
        (lambda s, x: s.fc(x).sum(1).squeeze(), (1, 4), None),
        (lambda s, x: s.fc(x.tanh_()), (3, 4), r"forward fails while traced on the example input \(the traced input "
                                               r"requires grad, so an in-place op on it fails\): RuntimeError: tanh_"),
        (lambda s, x: s.fc(x) + s.h0, (3, 4),
         r"fails while traced at twice the example's batch \(shape \(6, 4\)\).*pass dynamic_batch=False if it "
         r"only runs at one batch size: ShapeError: add: "),
    ]
    for forward, shape, message in cases:
        if message is None:  # 'sum' is not exportable: what matters is a clear ValueError, not an IndexError
            with pytest.raises(ValueError, match="op 'sum'"):
                cr.onnx.export(Lambda(forward), cr.randn(*shape), path)
            continue
        with pytest.raises(ValueError, match=message):
            cr.onnx.export(Lambda(forward), cr.randn(*shape), path)
    assert os.listdir(tmp_path) == []

    class SqueezeOut(nn.Module):  # (N, 1) -> (N,): at a batch of 1 the output's dim 0 would be gone
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 1)

        def forward(self, x):
            return self.fc(x).squeeze()

    with pytest.raises(ValueError, match=r"a reshape from \(1, 1\) to \(\) \(and from \(2, 1\) to \(2,\) at "):
        cr.onnx.export(SqueezeOut(), cr.randn(1, 4), path)
    roundtrip(SqueezeOut(), (4,), tmp_path)  # from a batch of 3 it exports


def test_softmax_over_the_batch_from_a_batch_of_one_and_weights_stored_once(tmp_path):
    class OverBatch(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=0)

    model = OverBatch()
    path = tmp_path / "m.onnx"
    cr.onnx.export(model, cr.randn(1, 4), path)
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    x = cr.randn(5, 4)
    np.testing.assert_allclose(sess.run(None, {"input": x.numpy()})[0], model(x).detach().numpy(), rtol=1e-5,
                               atol=1e-6)

    proto = roundtrip(nn.Linear(4, 3), (2, 4), tmp_path)  # 3-D input: MatMul with the transposed weight
    assert sorted(tuple(i.dims) for i in proto.graph.initializer) == [(3,), (4, 3)]


def test_examples_with_nan_inf_or_an_empty_batch(tmp_path):
    class Soft(nn.Module):
        def __init__(self):
            super().__init__()
            self.fc = nn.Linear(4, 3)

        def forward(self, x):
            return F.softmax(self.fc(x), dim=1)

    nan, inf = float("nan"), float("inf")
    x = cr.tensor([[nan, 1.0, 2.0, 3.0], [inf, 0.0, 0.0, 0.0], [1.0, -2.0, 0.5, 0.0], [-inf, 0.0, 1.0, 0.0]])
    model = Soft()
    path = tmp_path / "m.onnx"
    proto = cr.onnx.export(model, x, path)  # the nan and inf rows don't hide softmax's dim
    assert [a.i for n in proto.graph.node if n.op_type == "Softmax" for a in n.attribute] == [1]
    sess = ort.InferenceSession(str(path), providers=["CPUExecutionProvider"])
    np.testing.assert_allclose(sess.run(None, {"input": x.numpy()})[0], model(x).detach().numpy(), rtol=1e-5,
                               atol=1e-6, equal_nan=True)
    with pytest.raises(ValueError, match=r"example_input has an empty batch \(shape \(0, 4\)\)"):
        cr.onnx.export(model, cr.randn(0, 4), tmp_path / "e.onnx")
    assert os.listdir(tmp_path) == ["m.onnx"]
