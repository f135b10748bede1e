"""Devices as no-ops that keep PyTorch code portable (issue 8): ``cr.device``, ``device=`` on the
factories, ``Tensor.device``/``.to(...)``/``.cpu()``, ``model.to(device)``, ``cr.cuda`` and
``cr.backends``, and one clear error for any device other than the CPU.

Where PyTorch's CPU-only build (the reference in the venv) behaves the same, the same code runs with
``lib=cr`` and ``lib=torch``.
"""
import copy
import os
import pickle
import subprocess
import sys

import pytest
import torch

import chainrule as cr

LIBS = pytest.mark.parametrize("lib", [cr, torch], ids=["cr", "torch"])
# torch.tensor(a_tensor) warns (use .detach().clone()); here it is on purpose, to test device=.
pytestmark = pytest.mark.filterwarnings("ignore:To copy construct from a tensor:UserWarning")


def _name(dtype):
    return str(dtype).rsplit(".", 1)[-1]


def _cpu_only(exc_info, device_name):
    """The message names the device, says the CPU is all there is, and is one line."""
    msg = str(exc_info.value)
    assert "CPU only" in msg and f"'{device_name}'" in msg, msg
    assert "\n" not in msg and len(msg) < 200, msg


# ------------------------------------------------------------------------------------------------
# cr.device
# ------------------------------------------------------------------------------------------------
@LIBS
@pytest.mark.parametrize("args, type_, index, text, rep", [
    (("cpu",), "cpu", None, "cpu", "device(type='cpu')"),
    (("cpu", 0), "cpu", 0, "cpu:0", "device(type='cpu', index=0)"),
    (("cpu:0",), "cpu", 0, "cpu:0", "device(type='cpu', index=0)"),
    (("cpu", None), "cpu", None, "cpu", "device(type='cpu')"),
    (("cuda",), "cuda", None, "cuda", "device(type='cuda')"),
    (("cuda:1",), "cuda", 1, "cuda:1", "device(type='cuda', index=1)"),
    (("cuda", 1), "cuda", 1, "cuda:1", "device(type='cuda', index=1)"),
    (("mps",), "mps", None, "mps", "device(type='mps')"),
    (("meta",), "meta", None, "meta", "device(type='meta')"),
    (("cuda:10",), "cuda", 10, "cuda:10", "device(type='cuda', index=10)"),
])
def test_device_construction_like_torch(lib, args, type_, index, text, rep):
    d = lib.device(*args)
    assert (d.type, d.index, str(d), repr(d)) == (type_, index, text, rep)


@LIBS
def test_device_keywords_and_copy_construction(lib):
    assert repr(lib.device(type="cpu")) == "device(type='cpu')"
    assert repr(lib.device("cpu", index=0)) == "device(type='cpu', index=0)"
    assert lib.device(lib.device("cuda:1")) == lib.device("cuda", 1)


def test_device_from_a_torch_device():
    assert cr.device(torch.device("cpu", 0)) == cr.device("cpu", 0)
    assert cr.device(torch.device("cuda")) == cr.device("cuda")


@LIBS
def test_device_equality_and_hash_like_torch(lib):
    cpu = lib.device("cpu")
    assert cpu == lib.device("cpu") and not (cpu != lib.device("cpu"))
    assert cpu != lib.device("cpu", 0) and cpu != lib.device("cuda")
    assert lib.device("cuda") != lib.device("cuda", 0)
    assert lib.device("cpu:0") == lib.device("cpu", 0)
    # As in torch: a device never equals a string (compare .type instead).
    assert (cpu == "cpu") is False and (cpu != "cpu") is True and ("cpu" == cpu) is False
    assert cpu != 1 and cpu is not None
    assert hash(cpu) == hash(lib.device("cpu"))
    assert {cpu: 1}[lib.device("cpu")] == 1
    assert len({lib.device("cpu"), lib.device("cpu"), lib.device("cpu", 0)}) == 2


@LIBS
def test_device_attributes_are_read_only(lib):
    d = lib.device("cpu")
    with pytest.raises(AttributeError):
        d.type = "cuda"
    with pytest.raises(AttributeError):
        d.index = 1


@LIBS
def test_device_pickles_and_copies(lib):
    for d in [lib.device("cpu"), lib.device("cuda", 1)]:
        assert pickle.loads(pickle.dumps(d)) == d
        assert copy.deepcopy(d) == d and copy.copy(d) == d


@LIBS
@pytest.mark.parametrize("bad", ["garbage", "CPU", " cpu", "", "cuda:", "cuda:01", "cuda:-1",
                                 "cpu:x", "cuda:1a", "gpu"])
def test_invalid_device_strings_raise_runtime_error(lib, bad):
    with pytest.raises(RuntimeError):
        lib.device(bad)


def test_invalid_device_string_message_names_it():
    with pytest.raises(RuntimeError, match="'garbage'.*cpu") as e:
        cr.device("garbage")
    assert "\n" not in str(e.value)
    with pytest.raises(RuntimeError, match="empty"):
        cr.device("")


@LIBS
def test_invalid_device_arguments(lib):
    with pytest.raises(RuntimeError):
        lib.device("cpu", -1)  # negative index
    with pytest.raises(RuntimeError):
        lib.device("cuda:0", 1)  # index given twice
    with pytest.raises(TypeError):
        lib.device("cpu", "a")
    with pytest.raises(TypeError):
        lib.device("cpu", True)
    with pytest.raises(TypeError):
        lib.device(None)
    with pytest.raises(TypeError):
        lib.device(lib.device("cpu"), 0)
    with pytest.raises(RuntimeError):
        lib.device(0)  # a bare index means an accelerator, and there is none


# ------------------------------------------------------------------------------------------------
# device= on the factories
# ------------------------------------------------------------------------------------------------
def _t(lib):
    return lib.ones(2, 3)


FACTORIES = {
    "tensor": lambda lib, d: lib.tensor([1.0, 2.0], device=d),
    "tensor_of_tensor": lambda lib, d: lib.tensor(_t(lib), device=d),
    "as_tensor": lambda lib, d: lib.as_tensor([1.0, 2.0], device=d),
    "as_tensor_of_tensor": lambda lib, d: lib.as_tensor(_t(lib), device=d),
    "zeros": lambda lib, d: lib.zeros(2, 3, device=d),
    "zeros_tuple": lambda lib, d: lib.zeros((2, 3), dtype=lib.float64, device=d),
    "ones": lambda lib, d: lib.ones(2, 3, device=d),
    "empty": lambda lib, d: lib.empty(2, 3, device=d),
    "full": lambda lib, d: lib.full((2, 3), 1.5, device=d),
    "arange": lambda lib, d: lib.arange(5, device=d),
    "arange3": lambda lib, d: lib.arange(0.0, 1.0, 0.25, device=d),
    "linspace": lambda lib, d: lib.linspace(0.0, 1.0, 5, device=d),
    "eye": lambda lib, d: lib.eye(3, device=d),
    "rand": lambda lib, d: lib.rand(2, 3, device=d),
    "randn": lambda lib, d: lib.randn(2, 3, device=d),
    "randint": lambda lib, d: lib.randint(0, 10, (3,), device=d),
    "randperm": lambda lib, d: lib.randperm(5, device=d),
    "empty_like": lambda lib, d: lib.empty_like(_t(lib), device=d),
    "zeros_like": lambda lib, d: lib.zeros_like(_t(lib), device=d),
    "ones_like": lambda lib, d: lib.ones_like(_t(lib), device=d),
    "full_like": lambda lib, d: lib.full_like(_t(lib), 2.0, device=d),
    "rand_like": lambda lib, d: lib.rand_like(_t(lib), device=d),
    "randn_like": lambda lib, d: lib.randn_like(_t(lib), device=d),
}

CPU_SPELLINGS = {
    "None": lambda lib: None,
    "str": lambda lib: "cpu",
    "str_index": lambda lib: "cpu:0",
    "device": lambda lib: lib.device("cpu"),
    "device_index": lambda lib: lib.device("cpu", 0),
    "torch_device": lambda lib: torch.device("cpu"),
}


@LIBS
@pytest.mark.parametrize("spelling", list(CPU_SPELLINGS))
@pytest.mark.parametrize("factory", list(FACTORIES))
def test_factories_accept_the_cpu(lib, factory, spelling):
    t = FACTORIES[factory](lib, CPU_SPELLINGS[spelling](lib))
    assert t.device == lib.device("cpu") and t.device.type == "cpu"


def test_factories_with_device_give_the_same_values():
    assert cr.tensor([1, 2], device="cpu").tolist() == [1, 2]
    assert cr.full((2,), 3, device="cpu").dtype == cr.int64
    assert cr.arange(4, device="cpu").tolist() == torch.arange(4, device="cpu").tolist()
    assert cr.zeros(2, device="cpu", dtype=cr.float64, requires_grad=True).requires_grad
    cr.manual_seed(3)
    a = cr.randperm(6, device="cpu", seed=5).tolist()
    assert a == cr.randperm(6, seed=5).tolist()
    assert cr.randperm(4, dtype=cr.float32).dtype == cr.float32


@LIBS
@pytest.mark.parametrize("name", ["cuda", "cuda:0", "cuda_device", "cuda_torch_device"])
@pytest.mark.parametrize("factory", list(FACTORIES))
def test_factories_refuse_cuda_as_torch_cpu_build_does(lib, factory, name):
    d = {"cuda": "cuda", "cuda:0": "cuda:0", "cuda_device": lib.device("cuda"),
         "cuda_torch_device": torch.device("cuda")}[name]
    with pytest.raises(AssertionError):  # torch: "Torch not compiled with CUDA enabled"
        FACTORIES[factory](lib, d)


@pytest.mark.parametrize("dev, shown", [("cuda", "cuda"), ("cuda:0", "cuda:0"), ("mps", "mps"),
                                        ("meta", "meta"), (cr.device("cuda", 1), "cuda:1"),
                                        (torch.device("mps"), "mps"), ("cpu" if False else "xla", "xla")])
@pytest.mark.parametrize("factory", list(FACTORIES))
def test_factories_refuse_other_devices_with_a_clear_runtime_error(factory, dev, shown):
    with pytest.raises(RuntimeError) as e:
        FACTORIES[factory](cr, dev)
    _cpu_only(e, shown)
    assert "device=" in str(e.value)


@LIBS
def test_bare_index_device_is_an_accelerator(lib):
    with pytest.raises(RuntimeError):
        lib.zeros(2, device=0)
    with pytest.raises(RuntimeError):
        lib.ones(2).to(0)
    with pytest.raises(RuntimeError):
        lib.ones(2).to(device=0)


def test_device_of_the_wrong_type_is_a_type_error():
    with pytest.raises(TypeError, match="device"):
        cr.zeros(2, device=1.5)
    with pytest.raises(TypeError, match="device"):
        cr.zeros(2, device=[0])


def test_dtype_name_given_as_device_is_a_type_error_with_the_fix():
    with pytest.raises(TypeError, match=r"dtype name.*cr\.float64"):
        cr.randn(2).to("float64")
    with pytest.raises(TypeError, match=r"dtype name.*cr\.int64"):
        cr.zeros(2, device="int64")


# ------------------------------------------------------------------------------------------------
# Tensor.device, .cpu(), .to(...)
# ------------------------------------------------------------------------------------------------
@LIBS
def test_tensor_device_properties(lib):
    x = lib.ones(2)
    assert x.device == lib.device("cpu") and repr(x.device) == "device(type='cpu')"
    assert str(x.device) == "cpu" and x.device.type == "cpu" and x.device.index is None
    assert x.is_cpu is True and x.is_cuda is False
    assert x.get_device() == -1
    assert lib.tensor(2.0, device="cpu:0").device == lib.device("cpu")  # the index is dropped


@LIBS
def test_to_cpu_and_cpu_return_the_same_tensor(lib):
    x = lib.ones(2, 3, requires_grad=True)
    assert x.cpu() is x
    assert x.to("cpu") is x
    assert x.to(lib.device("cpu")) is x
    assert x.to(torch.device("cpu")) is x
    assert x.to(device="cpu") is x
    assert x.to(x.device) is x
    assert x.to() is x and x.to(None) is x and x.to(None, None) is x
    assert x.to(lib.float32) is x and x.to(dtype=lib.float32) is x
    assert x.to("cpu", lib.float32) is x
    assert x.to("cpu", non_blocking=True) is x
    assert x.to("cpu", lib.float32, True, False) is x
    assert x.to(lib.ones(1)) is x
    assert x.to(device=None, dtype=None) is x


@LIBS
def test_to_cpu_with_an_index_copies_as_torch(lib):
    """torch compares devices literally: device('cpu', 0) is not a tensor's device(type='cpu')."""
    x = lib.ones(2, requires_grad=True)
    for y in [x.to("cpu:0"), x.to(lib.device("cpu", 0)), x.to(device="cpu:1")]:
        assert y is not x and y.data_ptr() != x.data_ptr() and y.device == lib.device("cpu")
        assert y.tolist() == x.tolist() and y.grad_fn is not None


@LIBS
def test_to_on_a_parameter_and_a_view_returns_it(lib):
    p = lib.nn.Parameter(lib.ones(3))
    assert p.to("cpu") is p and p.cpu() is p
    v = lib.ones(4, 4)[1:, ::2]
    assert v.to("cpu") is v


@LIBS
def test_to_with_copy_returns_a_new_tensor_with_its_own_memory(lib):
    x = lib.ones(2, 3, requires_grad=True)
    for y in [x.to("cpu", copy=True), x.to(copy=True), x.to(lib.float32, copy=True),
              x.to(dtype=lib.float32, copy=True), x.to(None, None, True, True), x.to(x, False, True)]:
        assert y is not x and y.data_ptr() != x.data_ptr()
        assert y.dtype == x.dtype and y.shape == x.shape and y.tolist() == x.tolist()
        assert y.requires_grad and y.grad_fn is not None  # a differentiable copy, as in torch
    y = x.to("cpu", copy=True)
    y.sum().backward()
    assert x.grad.tolist() == [[1.0] * 3] * 2


@LIBS
@pytest.mark.parametrize("call", [
    lambda lib, x, y: x.to(lib.float64),
    lambda lib, x, y: x.to("cpu", lib.float64),
    lambda lib, x, y: x.to(lib.device("cpu"), lib.float64),
    lambda lib, x, y: x.to(None, lib.float64),
    lambda lib, x, y: x.to(device="cpu", dtype=lib.float64),
    lambda lib, x, y: x.to("cpu", dtype=lib.float64),
    lambda lib, x, y: x.to(dtype=lib.float64),
    lambda lib, x, y: x.to(y),
    lambda lib, x, y: x.to(y, True, True),
    lambda lib, x, y: x.to(lib.float64, True),
    lambda lib, x, y: x.to(lib.float64, False, True),
    lambda lib, x, y: x.to(lib.float64, non_blocking=True, copy=False),
    lambda lib, x, y: x.to("cpu", lib.float64, False, False),
    lambda lib, x, y: x.to(device="cpu", non_blocking=False, copy=False, dtype=lib.float64),
], ids=lambda f: None)
def test_to_overloads_convert_the_dtype_and_keep_the_gradient(lib, call):
    x = lib.tensor([1.5, -2.0], requires_grad=True)
    y = lib.zeros(1, dtype=lib.float64)
    out = call(lib, x, y)
    assert _name(out.dtype) == "float64" and out.device == lib.device("cpu")
    assert out.tolist() == [1.5, -2.0]
    (out * out).sum().backward()
    assert _name(x.grad.dtype) == "float32" and x.grad.tolist() == [3.0, -4.0]


@LIBS
def test_to_integer_and_bool_dtypes(lib):
    x = lib.tensor([1.7, -1.7, 0.0])
    assert x.to(lib.int64).tolist() == [1, -1, 0]
    assert x.to("cpu", lib.bool).tolist() == [True, True, False]
    assert lib.zeros(2).to(lib.int64, copy=True).dtype == lib.int64


@LIBS
@pytest.mark.parametrize("call", [
    lambda lib, x: x.to("cpu", "cpu"),
    lambda lib, x: x.to("cpu", True),
    lambda lib, x: x.to(lib.float32, lib.float64),
    lambda lib, x: x.to(foo=1),
    lambda lib, x: x.to(x, dtype=lib.float32),
    lambda lib, x: x.to(x, device="cpu"),
    lambda lib, x: x.to(lib.float64, device="cpu"),
    lambda lib, x: x.to(lib.float64, dtype=lib.float64),
    lambda lib, x: x.to(None, device="cpu"),
    lambda lib, x: x.to("cpu", lib.float64, dtype=lib.float64),
    lambda lib, x: x.to(non_blocking=1),
    lambda lib, x: x.to("cpu", lib.float32, False, False, False),
    lambda lib, x: x.cpu(1),
], ids=lambda f: None)
def test_invalid_to_combinations_are_type_errors(lib, call):
    with pytest.raises(TypeError):
        call(lib, lib.ones(2))


def test_invalid_to_messages_are_one_line_and_name_the_problem():
    x = cr.ones(2)
    with pytest.raises(TypeError, match="after the device must be a dtype") as e:
        x.to("cpu", True)
    assert "\n" not in str(e.value)
    with pytest.raises(TypeError, match="unexpected keyword argument 'foo'"):
        x.to(foo=1)
    with pytest.raises(TypeError, match="non_blocking.*bool"):
        x.to(non_blocking=1)
    with pytest.raises(TypeError, match="device.*dtype.*tensor.*float"):
        x.to(1.5)  # (torch treats a float here as something else entirely)


@pytest.mark.parametrize("call, shown", [
    (lambda x: x.to("cuda"), "cuda"),
    (lambda x: x.to("cuda:0"), "cuda:0"),
    (lambda x: x.to(cr.device("cuda")), "cuda"),
    (lambda x: x.to(torch.device("cuda", 1)), "cuda:1"),
    (lambda x: x.to(device="cuda"), "cuda"),
    (lambda x: x.to("cuda", cr.float64), "cuda"),
    (lambda x: x.to("mps"), "mps"),
    (lambda x: x.to("meta"), "meta"),
    (lambda x: x.cuda(), "cuda"),
    (lambda x: x.cuda(1), "cuda:1"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_to_another_device_raises_a_clear_runtime_error(call, shown):
    x = cr.ones(2)
    with pytest.raises(RuntimeError) as e:
        call(x)
    _cpu_only(e, shown)


@LIBS
@pytest.mark.parametrize("call", [lambda lib, x: x.to("cuda"), lambda lib, x: x.to("cuda:0"),
                                  lambda lib, x: x.to(lib.device("cuda")), lambda lib, x: x.cuda(),
                                  lambda lib, x: x.to("cuda", lib.float64)], ids=lambda f: None)
def test_cuda_errors_are_assertion_errors_as_on_torch_cpu_build(lib, call):
    with pytest.raises(AssertionError):
        call(lib, lib.ones(2))


@LIBS
def test_other_device_errors_are_runtime_errors_as_in_torch(lib):
    x = lib.ones(2)
    with pytest.raises(RuntimeError):
        x.to("mps")
    with pytest.raises(RuntimeError):
        x.to(lib.device("mps"))
    with pytest.raises(RuntimeError):
        x.to("garbage")


def test_device_error_is_catchable_as_runtime_and_assertion_error():
    with pytest.raises(RuntimeError) as e:
        cr.ones(2).to("cuda")
    assert isinstance(e.value, AssertionError)
    assert "cr.cuda" not in str(e.value) or "is_available" in str(e.value)


def test_a_failed_move_changes_nothing():
    x = cr.ones(2, requires_grad=True)
    with pytest.raises(RuntimeError):
        x.to("cuda", cr.float64)
    assert x.dtype == cr.float32 and x.device == cr.device("cpu")


def test_device_methods_have_docstrings():
    for obj in [cr.device, cr.Tensor.to, cr.Tensor.cpu, cr.Tensor.cuda, cr.Tensor.get_device,
                cr.Tensor.device, cr.Tensor.is_cpu, cr.Tensor.is_cuda, cr.nn.Module.to,
                cr.nn.Module.cpu, cr.nn.Module.cuda, cr.cuda.is_available, cr.cuda.device_count,
                cr.cuda.manual_seed, cr.cuda.manual_seed_all, cr.backends.mps.is_available,
                cr.cuda, cr.backends, cr.backends.mps]:
        assert (obj.__doc__ or "").strip(), obj
    assert "CPU" in cr.Tensor.to.__doc__ and "CPU" in cr.device.__doc__


# ------------------------------------------------------------------------------------------------
# Modules
# ------------------------------------------------------------------------------------------------
def _model(lib, dtype=None):
    kw = {} if dtype is None else {"dtype": dtype}
    return lib.nn.Sequential(lib.nn.Linear(3, 4, **kw), lib.nn.ReLU(), lib.nn.Linear(4, 1, **kw))


@LIBS
def test_module_to_cpu_returns_the_module_unchanged(lib):
    m = _model(lib)
    params = [p.data_ptr() for p in m.parameters()]
    before = [p.tolist() for p in m.parameters()]
    assert m.to("cpu") is m and m.cpu() is m
    assert m.to(lib.device("cpu")) is m and m.to(device="cpu") is m and m.to(torch.device("cpu")) is m
    assert m.to() is m and m.to(None) is m and m.to(non_blocking=True) is m
    assert m.to(lib.float32) is m and m.to("cpu", lib.float32) is m and m.to(lib.ones(1)) is m
    assert m.to("cpu", None, True) is m and m.to(lib.ones(1), True) is m
    after = list(m.parameters())
    assert [p.data_ptr() for p in after] == params  # the very same memory
    assert [p.tolist() for p in after] == before
    assert all(p.device == lib.device("cpu") for p in m.parameters())


@LIBS
def test_module_to_its_own_float64_dtype(lib):
    m = _model(lib, lib.float64)
    assert m.to(lib.float64) is m and m.to("cpu", lib.float64) is m
    assert all(p.dtype == lib.float64 for p in m.parameters())


@LIBS
def test_module_to_cpu_with_buffers_and_python_modules(lib):
    class Net(lib.nn.Module):
        def __init__(self):
            super().__init__()
            self.w = lib.nn.Parameter(lib.ones(3))
            self.bn = lib.nn.BatchNorm1d(3)  # float buffers and an int64 counter

        def forward(self, x):
            return self.bn(x * self.w)

    net = Net()
    assert net.to("cpu") is net and net.to(lib.float32) is net and net.cpu() is net
    assert net(lib.ones(4, 3)).shape == (4, 3)


@LIBS
def test_module_to_refuses_non_float_dtypes(lib):
    with pytest.raises(TypeError, match="floating point"):
        _model(lib).to(lib.int64)
    with pytest.raises(TypeError, match="floating point"):
        _model(lib).to(lib.ones(1, dtype=lib.int64))


@LIBS
def test_invalid_module_to_combinations_are_type_errors(lib):
    m = _model(lib)
    for call in [lambda: m.to("cpu", True), lambda: m.to(lib.float64, device="cpu"),
                 lambda: m.to(foo=1), lambda: m.cpu(0)]:
        with pytest.raises(TypeError):
            call()


def test_module_to_with_copy_is_refused():
    with pytest.raises(TypeError, match="copy"):  # torch: RuntimeError ".to() does not accept copy"
        _model(cr).to(copy=True)


@LIBS
@pytest.mark.parametrize("call", [lambda lib, m: m.cuda(), lambda lib, m: m.to("cuda"),
                                  lambda lib, m: m.to(lib.device("cuda", 0)),
                                  lambda lib, m: m.to("cuda", lib.float32)], ids=lambda f: None)
def test_module_cuda_raises_as_torch_cpu_build(lib, call):
    with pytest.raises(AssertionError):
        call(lib, _model(lib))


@pytest.mark.parametrize("call, shown", [
    (lambda m: m.cuda(), "cuda"), (lambda m: m.cuda(0), "cuda:0"), (lambda m: m.to("cuda"), "cuda"),
    (lambda m: m.to("cuda:0"), "cuda:0"), (lambda m: m.to("mps"), "mps"),
    (lambda m: m.to(torch.device("cuda")), "cuda"), (lambda m: m.to("cuda", cr.float64), "cuda"),
], ids=lambda v: v if isinstance(v, str) else None)
def test_module_to_another_device_gives_the_clear_error(call, shown):
    m = _model(cr)
    with pytest.raises(RuntimeError) as e:
        call(m)
    _cpu_only(e, shown)


@LIBS
def test_module_to_garbage_device(lib):
    with pytest.raises(RuntimeError):
        _model(lib).to("garbage")


@LIBS
def test_module_to_device_and_dtype_at_once(lib):
    m = _model(lib)
    assert m.to("cpu", lib.float64) is m
    assert all(p.dtype == lib.float64 for p in m.parameters())


# ------------------------------------------------------------------------------------------------
# cr.cuda, cr.backends
# ------------------------------------------------------------------------------------------------
@LIBS
def test_cuda_and_mps_are_not_available(lib):
    assert lib.cuda.is_available() is False
    assert lib.cuda.device_count() == 0
    assert lib.cuda.manual_seed(0) is None and lib.cuda.manual_seed_all(0) is None
    assert lib.backends.mps.is_available() is False and lib.backends.mps.is_built() is False
    assert lib.backends.cuda.is_built() is False


@LIBS
def test_seeding_boilerplate_runs(lib):
    lib.manual_seed(0)
    lib.cuda.manual_seed_all(0)
    lib.backends.cudnn.deterministic = True
    lib.backends.cudnn.benchmark = False
    assert lib.backends.cudnn.deterministic is True


def test_cuda_namespace_is_importable():
    code = "import chainrule.cuda, chainrule.backends.mps as m; print(chainrule.cuda.is_available(), m.is_available())"
    out = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True,
                         env={**os.environ, "PYTHONPATH": ":".join(p for p in sys.path if p)},
                         check=True).stdout  # os.environ: a sanitized run needs its LD_PRELOAD
    assert out.split() == ["False", "False"]


# ------------------------------------------------------------------------------------------------
# Portable code runs unchanged
# ------------------------------------------------------------------------------------------------
@LIBS
def test_a_portable_training_loop_runs(lib):
    device = "cuda" if lib.cuda.is_available() else "cpu"
    device = lib.device(device)
    lib.manual_seed(0)
    X = lib.randn(64, 3, device=device)
    w_true = lib.tensor([[1.0], [-2.0], [0.5]], device=device)
    y = X @ w_true + 0.1

    model = lib.nn.Sequential(lib.nn.Linear(3, 16), lib.nn.Tanh(), lib.nn.Linear(16, 1)).to(device)
    opt = lib.optim.SGD(model.parameters(), lr=0.05)
    losses = []
    for _ in range(60):
        xb, yb = X.to(device), y.to(device, non_blocking=True)
        opt.zero_grad()
        loss = ((model(xb) - yb) ** 2).mean()
        loss.backward()
        opt.step()
        losses.append(loss.item())
    assert losses[-1] < 0.2 * losses[0]
    with lib.no_grad():
        pred = model(X.to(device)).cpu()
    assert pred.device.type == "cpu" and pred.shape == (64, 1)
    assert next(model.parameters()).device == device
    assert lib.zeros_like(pred, device=pred.device).device == device


@LIBS
def test_device_of_an_existing_tensor_makes_new_ones(lib):
    x = lib.randn(2, 3)
    assert lib.zeros(3, device=x.device).device == x.device
    assert lib.tensor([1.0], device=x.device, dtype=x.dtype).to(x.device).dtype == lib.float32
    assert lib.ones(2).to(x).device == x.device
