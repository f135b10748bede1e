"""Strided views against torch 2.13: aliasing under in-place writes, layout, gradients, NumPy/DLPack sharing."""
import numpy as np
import pytest
import torch  # the reference: a missing torch must fail this module, never skip it

import chainrule as cr

pytestmark = pytest.mark.usefixtures("torch_one_thread")


def np_dtype(t):
    return np.float64 if str(t.dtype).endswith("float64") else np.float32


def pair(shape, dtype=np.float32, scale=1.0, requires_grad=False):
    """The same data (1, 2, 3, ... in row-major order, times scale) in both libraries."""
    a = ((np.arange(int(np.prod(shape))) + 1) * scale).astype(dtype).reshape(shape)
    return (cr.tensor(a, requires_grad=requires_grad), torch.tensor(a, requires_grad=requires_grad))


def ramp(shape, like, start, step):
    """start, start + step, ... shaped like `shape`, in the dtype of the tensor `like`."""
    return (start + step * np.arange(int(np.prod(shape)))).astype(np_dtype(like)).reshape(tuple(shape))


def as_np(t):
    return np.asarray(t.detach()) if isinstance(t, cr.Tensor) else t.detach().numpy()


def check_layout(c, t):
    """Same shape, stride(), storage_offset() and is_contiguous()."""
    assert tuple(c.shape) == tuple(t.shape)
    assert tuple(c.stride()) == t.stride(), f"stride {tuple(c.stride())} != torch's {t.stride()}"
    assert c.storage_offset() == t.storage_offset()
    assert c.is_contiguous() == t.is_contiguous()


def check_same(c, t, layout=True):
    """Shape and values equal, and (with layout) the same strided layout."""
    assert tuple(c.shape) == tuple(t.shape)
    np.testing.assert_array_equal(as_np(c), as_np(t))
    if layout:
        check_layout(c, t)


# ------------------------------------------------------------------------------------ the table
# (id, base shape, recipe(m, x) with m = chainrule or torch, kind). Kinds: "rw" every write lands;
# "overlap" stride-0 dims: the writes torch refuses (RuntimeError) must be refused too; "read"
# overlapping windows: only the writes with a defined result (fill_, zero_) are applied.
VIEWS = [
    ("int", (2, 3, 4), lambda m, x: x[1], "rw"),
    ("int_int", (2, 3, 4), lambda m, x: x[1, 2], "rw"),
    ("int_int_int_0d", (2, 3, 4), lambda m, x: x[1, 2, 3], "rw"),
    ("negative_ints", (2, 3, 4), lambda m, x: x[-1, -2], "rw"),
    ("slice_step", (2, 3, 4), lambda m, x: x[:, ::2], "rw"),
    ("slice_negative_bounds", (2, 3, 4), lambda m, x: x[:, -3:-1, 1::2], "rw"),
    ("slice_negative_stop_step", (2, 3, 4), lambda m, x: x[..., :-1:2], "rw"),
    ("slice_out_of_range_bounds", (2, 3, 4), lambda m, x: x[:, 1:100, -100:3], "rw"),
    ("ellipsis_int", (2, 3, 4), lambda m, x: x[..., 1], "rw"),
    ("none", (2, 3, 4), lambda m, x: x[None, 1, :, None], "rw"),
    ("int_ellipsis_none", (2, 3, 4), lambda m, x: x[1, ..., None], "rw"),
    ("rows_step_2d", (4, 5), lambda m, x: x[::2], "rw"),
    ("negative_start_step_2d", (4, 5), lambda m, x: x[-3:, -4::3], "rw"),
    ("contiguous_rows_2d", (4, 5), lambda m, x: x[1:3], "rw"),
    ("column_2d", (4, 5), lambda m, x: x[:, 1], "rw"),
    ("step_1d", (10,), lambda m, x: x[2:9:3], "rw"),
    ("negative_bounds_1d", (10,), lambda m, x: x[-7:-1:2], "rw"),
    ("select", (2, 3, 4), lambda m, x: x.select(2, 1), "rw"),
    ("select_function_negative", (2, 3, 4), lambda m, x: m.select(x, -1, -1), "rw"),
    ("select_select_0d", (4, 5), lambda m, x: x.select(0, 1).select(0, 2), "rw"),
    ("narrow", (2, 3, 4), lambda m, x: x.narrow(2, 1, 2), "rw"),
    ("narrow_function", (2, 3, 4), lambda m, x: m.narrow(x, -2, 1, 2), "rw"),
    ("narrow_negative_start", (4, 5), lambda m, x: x.narrow(1, -3, 2), "rw"),
    ("transpose", (2, 3, 4), lambda m, x: x.transpose(0, 2), "rw"),
    ("transpose_function", (2, 3, 4), lambda m, x: m.transpose(x, -1, -2), "rw"),
    ("t_2d", (4, 5), lambda m, x: x.t(), "rw"),
    ("t_1d", (10,), lambda m, x: x.t(), "rw"),
    ("T_2d", (4, 5), lambda m, x: x.T, "rw"),
    ("mT", (2, 3, 4), lambda m, x: x.mT, "rw"),
    ("mT_2d", (4, 5), lambda m, x: x.mT, "rw"),
    ("permute", (2, 3, 4), lambda m, x: x.permute(2, 0, 1), "rw"),
    ("permute_function", (2, 3, 4), lambda m, x: m.permute(x, (1, -1, 0)), "rw"),
    ("squeeze_dim", (2, 3, 4), lambda m, x: x[:, 1:2].squeeze(1), "rw"),
    ("squeeze_all", (2, 3, 4), lambda m, x: x[:1, :, 2:3].squeeze(), "rw"),
    ("squeeze_dim_not_size1", (2, 3, 4), lambda m, x: x.squeeze(0), "rw"),
    ("unsqueeze", (2, 3, 4), lambda m, x: x.unsqueeze(1), "rw"),
    ("unsqueeze_function_end", (2, 3, 4), lambda m, x: m.unsqueeze(x, -1), "rw"),
    ("unsqueeze_of_slice", (4, 5), lambda m, x: x[:, ::2].unsqueeze(0), "rw"),
    ("view", (2, 3, 4), lambda m, x: x.view(6, 4), "rw"),
    ("view_infer", (2, 3, 4), lambda m, x: x.view(-1, 2), "rw"),
    ("view_split_noncontiguous", (2, 3, 4), lambda m, x: x.transpose(0, 1).view(3, 2, 2, 2), "rw"),
    ("reshape", (2, 3, 4), lambda m, x: x.reshape(4, 6), "rw"),
    ("reshape_function", (2, 3, 4), lambda m, x: m.reshape(x, (3, 8)), "rw"),
    ("reshape_view_of_strided", (2, 3, 4), lambda m, x: x[:, :, ::2].reshape(6, 2), "rw"),
    ("reshape_copies", (2, 3, 4), lambda m, x: x.transpose(0, 1).reshape(12, 2), "rw"),
    ("flatten", (2, 3, 4), lambda m, x: x.flatten(), "rw"),
    ("flatten_function_partial", (2, 3, 4), lambda m, x: m.flatten(x, 1), "rw"),
    ("flatten_noncontiguous_copies", (4, 5), lambda m, x: x.t().flatten(), "rw"),
    ("diagonal_2d", (4, 5), lambda m, x: x.diagonal(), "rw"),
    ("diagonal_offset", (4, 5), lambda m, x: x.diagonal(2), "rw"),
    ("diagonal_function_negative_offset", (4, 5), lambda m, x: m.diagonal(x, -2), "rw"),
    ("diagonal_dims", (2, 3, 4), lambda m, x: x.diagonal(1, 1, 2), "rw"),
    ("diagonal_function_reversed_dims", (2, 3, 4), lambda m, x: m.diagonal(x, -1, 2, 0), "rw"),
    ("unfold_windows", (2, 3, 4), lambda m, x: x.unfold(2, 2, 2), "rw"),
    ("unfold_gaps", (10,), lambda m, x: x.unfold(0, 2, 3), "rw"),
    ("unfold_rows", (4, 5), lambda m, x: x.unfold(0, 2, 2), "rw"),
    ("unfold_overlapping", (10,), lambda m, x: x.unfold(0, 4, 1), "read"),
    ("unfold_overlapping_2d", (4, 5), lambda m, x: x.unfold(1, 3, 2), "read"),
    ("split_piece", (2, 3, 4), lambda m, x: x.split(2, 2)[1], "rw"),
    ("split_short_last_piece", (2, 3, 4), lambda m, x: x.split(2, 1)[1], "rw"),
    ("split_function_sizes", (2, 3, 4), lambda m, x: m.split(x, [1, 3], 2)[1], "rw"),
    ("chunk_piece", (2, 3, 4), lambda m, x: x.chunk(2, 1)[0], "rw"),
    ("chunk_function_last", (10,), lambda m, x: m.chunk(x, 3)[2], "rw"),
    ("detach", (2, 3, 4), lambda m, x: x.detach(), "rw"),
    ("expand_noop", (2, 3, 4), lambda m, x: x.expand(2, 3, 4), "rw"),
    ("expand_keep_dims", (2, 3, 4), lambda m, x: x.expand(-1, 3, -1), "rw"),
    ("expand_size1_dim", (2, 3, 4), lambda m, x: x[:, :1].expand(2, 5, 4), "overlap"),
    ("expand_new_dims", (2, 3, 4), lambda m, x: x[0, 0].expand(3, 4), "overlap"),
    ("expand_0d", (), lambda m, x: x.expand(3), "overlap"),
    ("expand_then_select_dense", (4, 5), lambda m, x: x[:, :1].expand(4, 3)[:, 2], "rw"),
    ("expand_then_select_row", (4, 5), lambda m, x: x[1].expand(3, 5)[1], "rw"),
    ("expand_then_select_still_overlapping", (2, 3, 4), lambda m, x: x[0, :, :1].expand(3, 4)[1], "overlap"),
    ("expand_then_slice", (2, 3, 4), lambda m, x: x[0, :1].expand(3, 4)[1:, ::2], "overlap"),
    ("view_of_view", (2, 3, 4), lambda m, x: x[1][1:], "rw"),
    ("transpose_then_slice", (2, 3, 4), lambda m, x: x.transpose(0, 2)[1:, ::2], "rw"),
    ("slice_then_transpose", (2, 3, 4), lambda m, x: x[:, ::2].transpose(1, 2), "rw"),
    ("permute_select_narrow", (2, 3, 4), lambda m, x: x.permute(2, 0, 1).select(1, 1).narrow(1, 1, 2), "rw"),
    ("steps_of_steps", (4, 5), lambda m, x: x[::2, 1:][:, ::2], "rw"),
    ("t_then_slice", (4, 5), lambda m, x: x.t()[1:, ::2], "rw"),
    ("T_of_select", (2, 3, 4), lambda m, x: x[1].T, "rw"),
    ("mT_of_slice", (2, 3, 4), lambda m, x: x[:, 1:].mT, "rw"),
    ("diagonal_of_transpose", (2, 3, 4), lambda m, x: x.transpose(0, 2).diagonal(0, 0, 1), "rw"),
    ("unsqueeze_expand_select", (4, 5), lambda m, x: x[::2].unsqueeze(1).expand(2, 3, 5)[:, 1], "rw"),
    ("split_then_t", (4, 5), lambda m, x: x.split(2, 1)[1].t(), "rw"),
    ("unfold_of_transpose", (4, 5), lambda m, x: x.t().unfold(1, 2, 2), "rw"),
    ("view_of_narrow", (2, 3, 4), lambda m, x: x.narrow(0, 1, 1).view(3, 4), "rw"),
    ("squeeze_of_t_of_column", (4, 5), lambda m, x: x[:, 2:3].t().squeeze(0), "rw"),
    ("chunk_of_diagonal", (4, 5), lambda m, x: x.diagonal().chunk(2)[1], "rw"),
    ("size1_col_odd_stride", (4, 5), lambda m, x: x[:, 1:2], "rw"),
    ("size1_row_odd_stride", (4, 5), lambda m, x: x[1:2, ::3], "rw"),
    ("size1_both", (4, 5), lambda m, x: x[1:2, 2:3], "rw"),
    ("size1_transposed", (4, 5), lambda m, x: x[1:2].t(), "rw"),
    ("empty_slice", (4, 5), lambda m, x: x[2:2], "rw"),
    ("empty_slice_step", (4, 5), lambda m, x: x[0:0:2], "rw"),
    ("empty_columns", (4, 5), lambda m, x: x[:, 5:], "rw"),
    ("0d_ellipsis", (), lambda m, x: x[...], "rw"),
    ("0d_none", (), lambda m, x: x[None], "rw"),
    ("0d_view", (), lambda m, x: x.view(1), "rw"),
]
VIEW = {v[0]: v[1:] for v in VIEWS}

WRITES = {
    "add_": lambda m, v: v.add_(1.5),
    "sub_broadcast": lambda m, v: v.sub_(m.tensor(ramp(v.shape[-1:], v, 0.25, 0.5))),
    "mul_": lambda m, v: v.mul_(2),
    "div_": lambda m, v: v.div_(2),
    "fill_": lambda m, v: v.fill_(7),
    "zero_": lambda m, v: v.zero_(),
    "copy_": lambda m, v: v.copy_(m.tensor(ramp(v.shape, v, -1.0, -1.0))),
    "clamp_": lambda m, v: v.clamp_(3, 10),
    "setitem_all": lambda m, v: v.__setitem__(Ellipsis, 3),
    "setitem_row": lambda m, v: v.__setitem__(0, m.tensor(ramp(v.shape[1:], v, -1.0, -2.0))),
    "uniform_": lambda m, v: (m.manual_seed(0), v.uniform_(100, 101)),
}


def _write_cases():
    for vid, (shape, fn, kind) in VIEW.items():
        v = fn(torch, torch.zeros(shape))
        for op in WRITES:
            if kind == "read" and op not in ("fill_", "zero_"):
                continue
            if op == "setitem_row" and (v.ndim == 0 or v.shape[0] == 0):
                continue
            yield pytest.param(vid, op, id=f"{vid}-{op}")


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("vid", list(VIEW))
def test_view_layout_matches_torch(vid, dtype):
    shape, fn, _ = VIEW[vid]
    (xc, xt) = pair(shape, dtype)
    vc, vt = fn(cr, xc), fn(torch, xt)
    check_same(vc, vt)
    for d in range(-vt.ndim, vt.ndim):
        assert vc.stride(d) == vt.stride(d)
    check_same(xc, xt)  # taking a view writes nothing


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("vid, op", list(_write_cases()))
def test_write_through_view_lands_where_torch_puts_it(vid, op, dtype):
    shape, fn, kind = VIEW[vid]
    (xc, xt) = pair(shape, dtype)
    vc, vt = fn(cr, xc), fn(torch, xt)
    try:
        WRITES[op](torch, vt)
    except RuntimeError:
        assert kind == "overlap", "torch refused a write the table calls safe"
        with pytest.raises(RuntimeError):
            WRITES[op](cr, vc)
        check_same(xc, xt)  # refused writes change nothing
        return
    WRITES[op](cr, vc)
    if op == "uniform_":  # different generators: compare where the samples landed, not their values
        for view in (vc, vt):
            assert ((as_np(view) >= 100) & (as_np(view) < 101)).all()
        (bc, bt) = (as_np(xc), as_np(xt))
        np.testing.assert_array_equal(bc >= 100, bt >= 100)
        np.testing.assert_array_equal(np.where(bc >= 100, 0, bc), np.where(bt >= 100, 0, bt))
        check_layout(vc, vt)
        return
    check_same(vc, vt)
    check_same(xc, xt)


@pytest.mark.parametrize("vid", list(VIEW))
def test_data_ptr_and_contiguous(vid):
    shape, fn, _ = VIEW[vid]
    (xc, xt) = pair(shape)
    vc, vt = fn(cr, xc), fn(torch, xt)
    itemsize = xt.element_size()
    aliases = vt.untyped_storage().data_ptr() == xt.untyped_storage().data_ptr()
    if aliases and vt.numel() > 0:  # torch made a view (an empty tensor's data_ptr is 0 in torch)
        assert vt.data_ptr() == xt.data_ptr() + vt.storage_offset() * itemsize
        assert vc.data_ptr() == xc.data_ptr() + vc.storage_offset() * itemsize
    cc, ct = vc.contiguous(), vt.contiguous()
    check_same(cc, ct)
    if vt.is_contiguous():
        assert cc.data_ptr() == vc.data_ptr(), "contiguous() of a contiguous tensor must return it"
    else:
        assert cc.data_ptr() != vc.data_ptr()
        cc.fill_(-1)
        ct.fill_(-1)
        check_same(xc, xt)  # the copy does not alias the base


# ---------------------------------------------------------------------------- negative steps
@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
@pytest.mark.parametrize("index", [(slice(None, None, -1),), (slice(3, 0, -1),),
                                   (slice(None), slice(None, None, -2)), (slice(None, None, 0),)],
                         ids=["reverse", "negative_step_bounds", "second_dim", "zero_step"])
def test_non_positive_slice_steps_raise_value_error(m, index):
    (xc, xt) = pair((4, 5))
    with pytest.raises(ValueError):
        (xc if m is cr else xt)[index]


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_view_of_incompatible_layout_raises_and_points_to_reshape(m):
    x = pair((4, 5))[0 if m is cr else 1]
    with pytest.raises(RuntimeError, match="reshape"):
        x.t().view(-1)


# -------------------------------------------------------------------------- issue 7's snippets
SNIPPETS = {
    "fill_row": (lambda m: _zeros_then(m, lambda a: a[0].fill_(1.0)), 3.0),
    "setitem_chain": (lambda m: _zeros_then(m, lambda a: a[0].__setitem__(1, 3.0)), 3.0),
    "add_column": (lambda m: _zeros_then(m, lambda a: a[:, 1].add_(5)), 15.0),
}


def _zeros_then(m, f):
    a = m.zeros(3, 3)
    f(a)
    return a.sum().item()


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
@pytest.mark.parametrize("name", list(SNIPPETS))
def test_issue_snippets_sum(m, name):
    fn, expected = SNIPPETS[name]
    assert fn(m) == expected


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_issue_snippet_zero_one_grad_entry(m):
    w = m.randn(3, requires_grad=True)
    (2 * w).sum().backward()
    w.grad[0].zero_()
    np.testing.assert_array_equal(as_np(w.grad), [0.0, 2.0, 2.0])


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_issue_snippet_init_one_row(m):
    lin = m.nn.Linear(3, 2)
    before = as_np(lin.weight).copy()
    m.nn.init.zeros_(lin.weight[0])
    np.testing.assert_array_equal(as_np(lin.weight)[0], [0.0, 0.0, 0.0])
    np.testing.assert_array_equal(as_np(lin.weight)[1], before[1])


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
@pytest.mark.parametrize("init", ["ones_", "constant_", "uniform_", "normal_"])
def test_nn_init_through_views_writes_only_the_view(m, init):
    lin = m.nn.Linear(4, 3)
    before = as_np(lin.weight).copy()
    call = {"ones_": lambda t: m.nn.init.ones_(t), "constant_": lambda t: m.nn.init.constant_(t, 0.5),
            "uniform_": lambda t: m.nn.init.uniform_(t, 10, 11), "normal_": lambda t: m.nn.init.normal_(t, 50, 1)}
    call[init](lin.weight.t()[1])  # column 1 of the weight, through a transpose
    after = as_np(lin.weight)
    assert not np.any(after[:, 1] == before[:, 1])
    np.testing.assert_array_equal(np.delete(after, 1, axis=1), np.delete(before, 1, axis=1))
    assert lin.weight.is_leaf and lin.weight.requires_grad


# ------------------------------------------------------------------------------ gradients
GRAD_EXTRA = [
    ("same_view_read_twice", (4, 5), lambda m, x: (lambda v: v * v.sin())(x.t()[1:])),
    ("overlapping_slices", (4, 5), lambda m, x: x[1:, :4:2] * x[:-1, 1::2]),
    ("expand_then_sum", (4, 5), lambda m, x: x[:, 1:2].expand(4, 6).sum(0)),
    ("unfold_then_sum", (10,), lambda m, x: x.unfold(0, 4, 1).sum(1)),
    ("view_of_view_of_view", (2, 3, 4),
     lambda m, x: x.transpose(0, 2)[1:].diagonal(0, 1, 2).unsqueeze(0).expand(2, -1, -1)),
    ("split_pieces_combined", (4, 5), lambda m, x: (lambda p: p[0] * p[1] + p[2])(x.split(2, 1))),
    ("matmul_of_strided_operands", (4, 5), lambda m, x: x.t()[::2] @ x[:, 1:3]),
    ("strided_elementwise", (4, 5), lambda m, x: (x[::2, 1:] * 2 + x[1::2, :4]).exp()),
]
GRAD_CASES = {vid: (shape, fn) for vid, (shape, fn, _) in VIEW.items() if vid != "detach"}
GRAD_CASES.update({vid: (shape, fn) for vid, shape, fn in GRAD_EXTRA})


def weights(m, shape, phase=0.2):
    return m.tensor(np.cos(np.arange(int(np.prod(shape))) * 1.3 + phase).reshape(tuple(shape)))


@pytest.mark.parametrize("vid", list(GRAD_CASES))
def test_first_and_second_derivatives_through_views(vid):
    shape, fn = GRAD_CASES[vid]
    results = []
    for m, x in zip((cr, torch), pair(shape, np.float64, scale=1.0 / max(1, int(np.prod(shape))), requires_grad=True)):
        v = fn(m, x)
        w = weights(m, v.shape)
        ((v * w).sum() + (v ** 2).sum()).backward()  # v read twice
        v = fn(m, x)  # the first backward freed the graph
        (g,) = m.autograd.grad((v ** 3 * w).sum(), x, create_graph=True)
        (gg,) = m.autograd.grad((g * weights(m, x.shape, 0.7)).sum(), x)
        results.append([as_np(t) for t in (x.grad, g, gg)])
    for ours, theirs, what in zip(*results, ("x.grad", "grad", "grad of grad")):
        np.testing.assert_allclose(ours, theirs, rtol=1e-10, atol=1e-12, err_msg=what)


@pytest.mark.parametrize("vid", list(GRAD_CASES))
def test_gradcheck_and_gradgradcheck_through_views(vid):
    shape, fn = GRAD_CASES[vid]
    x = pair(shape, np.float64, scale=0.1, requires_grad=True)[0]
    assert cr.autograd.gradcheck(lambda a: fn(cr, a), (x,))
    assert cr.autograd.gradgradcheck(lambda a: fn(cr, a) ** 3, (x,))


def test_gradcheck_with_a_non_contiguous_leaf():
    x = cr.tensor(np.linspace(-1, 1, 12).reshape(3, 4)).t().detach().requires_grad_()
    assert not x.is_contiguous() and x.is_leaf
    w = cr.tensor(np.arange(12.0).reshape(4, 3))
    assert cr.autograd.gradcheck(lambda a: a ** 2 * w, (x,))
    assert cr.autograd.gradgradcheck(lambda a: a ** 3 * w, (x,))


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
def test_detach_is_a_view_without_history(m):
    x = pair((2, 3), requires_grad=True)[0 if m is cr else 1]
    d = x.detach()
    assert not d.requires_grad
    d[0].add_(10)  # allowed in grad mode: d does not require grad; lands in x
    np.testing.assert_array_equal(as_np(x), [[11, 12, 13], [4, 5, 6]])


# -------------------------------------------------------------------------- version counter
def _saved_output_written_through_view(m):
    x = m.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    y = x[:, 1:].exp()  # exp saves its output
    with m.no_grad():
        y.t()[0].zero_()
    return y.sum()


def _saved_view_input_written_through_other_view(m):
    b = m.tensor(np.arange(6.0).reshape(2, 3))
    w = m.tensor(np.ones(3), requires_grad=True)
    y = (b[0] * w).sum()  # mul saves b[0], a view of b
    with m.no_grad():
        b.t()[1].mul_(2)
    return y


def _disjoint_view_of_saved_storage_written(m):
    b = m.tensor(np.arange(6.0).reshape(2, 3))
    w = m.tensor(np.ones(3), requires_grad=True)
    y = (b[0] * w).sum()
    b[1].add_(1)  # other elements, same storage: the counter is per storage, as torch's
    return y


def _leaf_saved_through_transpose_written_through_row(m):
    x = m.tensor(np.linspace(-1, 1, 6).reshape(2, 3), requires_grad=True)
    y = (x.t() ** 2).sum()
    with m.no_grad():
        x[0].fill_(0)
    return y


@pytest.mark.parametrize("m", [cr, torch], ids=["chainrule", "torch"])
@pytest.mark.parametrize("case", [_saved_output_written_through_view, _saved_view_input_written_through_other_view,
                                  _disjoint_view_of_saved_storage_written,
                                  _leaf_saved_through_transpose_written_through_row],
                         ids=lambda f: f.__name__.strip("_"))
def test_backward_sees_writes_through_views_of_saved_tensors(m, case):
    loss = case(m)
    with pytest.raises(RuntimeError, match="modified by an in-place operation" if m is cr
                       else "modified by an inplace operation"):
        loss.backward()


LEAF_VIEWS = {"row": lambda x: x[0], "t": lambda x: x.t(), "step": lambda x: x[:, ::2], "view": lambda x: x.view(-1),
              "unsqueeze": lambda x: x.unsqueeze(0), "diagonal": lambda x: x.diagonal(),
              "narrow": lambda x: x.narrow(1, 0, 2), "split": lambda x: x.split(1)[0]}
LEAF_WRITES = {"add_": lambda v: v.add_(1), "fill_": lambda v: v.fill_(2), "mul_": lambda v: v.mul_(3),
               "setitem": lambda v: v.__setitem__(Ellipsis, 4)}


@pytest.mark.parametrize("write", list(LEAF_WRITES))
@pytest.mark.parametrize("view", list(LEAF_VIEWS))
def test_inplace_on_view_of_leaf_requiring_grad(view, write):
    leaves = pair((2, 3), requires_grad=True)
    for m, x in zip((cr, torch), leaves):
        with pytest.raises(RuntimeError):
            LEAF_WRITES[write](LEAF_VIEWS[view](x))
        with m.no_grad():  # what optimizers and init do: allowed, and lands in the leaf
            LEAF_WRITES[write](LEAF_VIEWS[view](x))
        assert x.is_leaf and x.requires_grad and x.grad_fn is None
    check_same(*leaves)


# ------------------------------------------------------------------------------ NumPy, DLPack
STRIDED = {"t": lambda x: x.t(), "step": lambda x: x[::2, 1:], "column": lambda x: x[:, 2],
           "permute_3d": lambda x: x.view(2, 2, 5).permute(2, 0, 1), "expand": lambda x: x[1:2].expand(3, 5)}


@pytest.mark.parametrize("name", list(STRIDED))
def test_asarray_of_a_view_shares_memory_with_torch_strides(name):
    (xc, xt) = pair((4, 5))
    vc, vt = STRIDED[name](xc), STRIDED[name](xt)
    a = np.asarray(vc)
    assert a.strides == vt.numpy().strides
    assert np.shares_memory(a, np.asarray(xc))
    np.testing.assert_array_equal(a, vt.numpy())
    if name != "expand":
        a[(0,) * a.ndim] = -5  # written through NumPy, seen by the tensor
        vt.numpy()[(0,) * a.ndim] = -5
        check_same(xc, xt)


def test_asarray_of_tensor_requiring_grad_is_read_only():
    x = pair((2, 3), requires_grad=True)[0]
    for t in (x, x[0], x.t()):
        a = np.asarray(t)
        assert not a.flags.writeable
        with pytest.raises(ValueError):
            a[...] = 0
    np.testing.assert_array_equal(np.asarray(x), [[1, 2, 3], [4, 5, 6]])
    assert np.asarray(x.detach()).flags.writeable
    for m, t in zip((cr, torch), pair((2, 3), requires_grad=True)):
        with pytest.raises(RuntimeError):  # torch refuses .numpy() here; so do we
            t.numpy()


NP_LAYOUTS = {"T": lambda a: a.T, "step": lambda a: a[::2, 1:], "column": lambda a: a[:, 1],
              "fortran": np.asfortranarray, "offset_rows": lambda a: a[1:3]}


@pytest.mark.parametrize("name", list(NP_LAYOUTS))
def test_from_numpy_shares_non_contiguous_arrays(name):
    arr = NP_LAYOUTS[name](np.arange(20.0).reshape(4, 5))
    tc, tt = cr.from_numpy(arr), torch.from_numpy(arr)
    assert tuple(tc.stride()) == tt.stride() and tc.storage_offset() == tt.storage_offset()
    assert tc.data_ptr() == arr.ctypes.data == tt.data_ptr()
    arr[(0,) * arr.ndim] = -7  # NumPy writes, the tensor reads
    np.testing.assert_array_equal(as_np(tc), arr)
    tc.mul_(2)  # the tensor writes, NumPy reads
    np.testing.assert_array_equal(arr, tt.numpy())
    assert arr[(0,) * arr.ndim] == -14


DL_VIEWS = {"t": lambda x: x.t(), "step": lambda x: x[::2, 1::2], "permute_3d": lambda x: x.view(2, 2, 5).permute(2, 0, 1)}


@pytest.mark.parametrize("name", list(DL_VIEWS))
def test_torch_from_dlpack_of_a_chainrule_view(name):
    (xc, xt) = pair((4, 5))
    vc, ref = DL_VIEWS[name](xc), DL_VIEWS[name](xt)
    tt = torch.from_dlpack(vc)
    assert tt.stride() == tuple(vc.stride()) == ref.stride()
    assert tt.data_ptr() == vc.data_ptr()
    tt.add_(100)
    ref.add_(100)
    check_same(xc, xt)


@pytest.mark.parametrize("name", list(DL_VIEWS))
def test_chainrule_from_dlpack_of_a_torch_view(name):
    (ref, xt) = pair((4, 5))
    vt = DL_VIEWS[name](xt)
    tc = cr.from_dlpack(vt)
    assert tuple(tc.stride()) == vt.stride() and tc.data_ptr() == vt.data_ptr()
    tc.add_(100)
    DL_VIEWS[name](ref).add_(100)
    check_same(ref, xt)


@pytest.mark.parametrize("name", list(DL_VIEWS))
def test_numpy_from_dlpack_of_a_chainrule_view(name):
    (xc, xt) = pair((4, 5))
    a = np.from_dlpack(DL_VIEWS[name](xc))
    assert a.strides == DL_VIEWS[name](xt).numpy().strides
    assert np.shares_memory(a, np.asarray(xc))
    xc.add_(1)  # the tensor writes, the array reads
    np.testing.assert_array_equal(a, DL_VIEWS[name](xt).numpy() + 1)


# ------------------------------------------------------------------------------ edge cases
def test_select_to_0d_then_fill():
    for m, x in zip((cr, torch), pair((2, 3))):
        s = x[1][2]
        assert s.ndim == 0 and tuple(s.stride()) == () and s.storage_offset() == 5
        s.fill_(70)
        assert x.sum().item() == 1 + 2 + 3 + 4 + 5 + 70


@pytest.mark.parametrize("dtype", [np.float32, np.float64], ids=["float32", "float64"])
@pytest.mark.parametrize("n", range(1, 34))
def test_strided_elementwise_at_every_length(n, dtype):
    """Lengths 1..33 cover the vectorized body and the scalar tail of strided kernels."""
    tol = dict(rtol=1e-6, atol=0) if dtype == np.float32 else dict(rtol=1e-13, atol=0)
    out = []
    for m, x in zip((cr, torch), pair((2 * n,), dtype, scale=1.0 / (2 * n))):
        r1 = (x[::2] * 2 + x[1::2]).exp()
        r2 = (x.view(n, 2).t() - x.view(2, n)).sin()  # a transposed operand beside a dense one
        s = x.view(n, 2).t().sum(1)
        x[1::2].mul_(3)
        x.view(n, 2).t()[0].add_(1)
        out.append([as_np(t).copy() for t in (r1, r2, s, x)])
    for ours, theirs in zip(*out):
        np.testing.assert_allclose(ours, theirs, **tol)


# ------------------------------------------------------------------------------ optimizers on views
@pytest.mark.parametrize("make_opt", [
    lambda lib, ps: lib.optim.SGD(ps, lr=0.1, momentum=0.9, weight_decay=0.01),
    lambda lib, ps: lib.optim.Adam(ps, lr=0.05, amsgrad=True),
    lambda lib, ps: lib.optim.RMSprop(ps, lr=0.01, momentum=0.5, centered=True),
    lambda lib, ps: lib.optim.Adagrad(ps, lr=0.1),
], ids=["sgd_momentum", "adam_amsgrad", "rmsprop_centered", "adagrad"])
def test_optimizer_updates_a_parameter_that_is_a_view_in_its_base(make_opt):
    """A parameter that is a strided view (a transposed or step-sliced leaf) is updated in place,
    so the update lands in the base tensor, step after step, exactly as in torch."""
    data = np.arange(24, dtype=np.float64).reshape(4, 6) / 10
    out = {}
    for lib in (cr, torch):
        base = lib.tensor(data.copy(), dtype=lib.float64)
        p1 = base.t().requires_grad_()          # (6, 4), strides (1, 6)
        p2 = base[1:, ::2].requires_grad_()     # overlaps nothing in p1's update order
        opt = make_opt(lib, [p1])
        opt2 = make_opt(lib, [p2])
        for _ in range(3):
            opt.zero_grad()
            opt2.zero_grad()
            ((p1 ** 2).sum() + (p2 * 3).sum()).backward()
            opt.step()
            opt2.step()
        out[lib.__name__] = (np.array(base.tolist()), p1.stride(), p2.stride())
    np.testing.assert_allclose(out["chainrule"][0], out["torch"][0], rtol=1e-12, atol=1e-12)
    assert out["chainrule"][1:] == out["torch"][1:]


def test_optimizer_refuses_an_expanded_parameter():
    p = cr.zeros(3, dtype=cr.float64).expand(2, 3).requires_grad_()
    p.grad = cr.ones(2, 3, dtype=cr.float64)
    with pytest.raises(RuntimeError, match=r"SGD: parameter 0 of group 0 is an expanded view .*\(2, 3\)"):
        cr.optim.SGD([p], lr=0.1).step()


def test_dlpack_refuses_a_tensor_that_requires_grad_as_torch_does():
    w = cr.ones(3, requires_grad=True)
    with pytest.raises(BufferError, match="requires grad.*detach"):
        np.from_dlpack(w)
    with pytest.raises(BufferError):
        torch.ones(3, requires_grad=True).__dlpack__()
    assert np.from_dlpack(w.detach()).flags.writeable  # the detached view shares, writable


# ------------------------------------------------------------------------------ review regressions
@pytest.mark.filterwarnings("ignore:Using backward\\(\\) with create_graph=True")
def test_create_graph_gradient_is_not_an_alias_of_the_incoming_gradient():
    for lib in (cr, torch):
        x = lib.ones(2, 3, dtype=lib.float64, requires_grad=True)
        G = lib.tensor([[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], dtype=lib.float64)
        x.t().backward(G, create_graph=True)
        x.grad = x.grad.detach()
        x.t().backward(G)
        assert G.tolist() == [[1.0, 2.0], [3.0, 4.0], [5.0, 6.0]], lib.__name__
        assert x.grad.tolist() == (2 * G.t()).tolist()
    w = cr.ones(3, requires_grad=True)
    w.sum().backward(create_graph=True)
    assert w.grad.stride() == (1,)
    w.grad = w.grad.detach()
    w.sum().backward()
    assert w.grad.tolist() == [2.0, 2.0, 2.0]


def test_inplace_through_a_view_made_under_no_grad_is_refused_with_grad_on():
    x = cr.ones(3, requires_grad=True)
    y = x * 2
    with cr.no_grad():
        v = y[0:1]
    with pytest.raises(RuntimeError, match="mul_: this tensor is a view .* made while grad mode was off"):
        v.mul_(3)
    w = cr.ones(3, requires_grad=True)
    with cr.no_grad():
        u = w[1:]
        u.add_(1)  # allowed under no_grad, as in torch
    with pytest.raises(RuntimeError, match="made while grad mode was off"):
        u[0] = 5.0
    assert w.tolist() == [1.0, 2.0, 2.0]


def test_optimizer_updates_parameters_that_share_memory_in_order_as_torch():
    out = []
    for lib in (cr, torch):
        w1 = lib.zeros(2, 3, dtype=lib.float64, requires_grad=True)
        w2 = w1.detach().t().requires_grad_()
        w1.grad = lib.ones(2, 3, dtype=lib.float64)
        w2.grad = lib.full((3, 2), 10.0, dtype=lib.float64)
        lib.optim.SGD([w1, w2], lr=1.0).step()
        out.append(w1.tolist())
    assert out[0] == out[1] == [[-11.0] * 3] * 2


def test_optimizer_leaves_a_strided_parameter_without_gradient_untouched():
    base = cr.ones(3, 4, dtype=cr.float64)
    a = base.t().requires_grad_()
    b = cr.ones(2, dtype=cr.float64, requires_grad=True)
    loss = (a * 2).sum()
    b.grad = cr.ones(2, dtype=cr.float64)
    version = a._version
    cr.optim.SGD([a, b], lr=0.1).step()
    assert a._version == version
    loss.backward()  # a was not modified: its saved value is still good
    assert a.grad.tolist() == [[2.0] * 3] * 4


def test_clamp_inplace_on_integers_needs_integer_bounds():
    x = cr.arange(5)
    with pytest.raises(ValueError, match="clamp_: result type float32 can't be cast.*int64"):
        x.clamp_(min=1.2, max=3.7)
    with pytest.raises(RuntimeError):
        torch.arange(5).clamp_(min=1.2, max=3.7)
    assert x.clamp_(1, 3).tolist() == [1, 1, 2, 3, 3]
    assert cr.tensor([-2.0, 0.5, 9.0])[1:].clamp_(max=1).tolist() == [0.5, 1.0]


def test_gradcheck_refuses_an_expanded_input():
    x = cr.ones(1, dtype=cr.float64).expand(3).detach().requires_grad_()
    with pytest.raises(ValueError, match="gradcheck: an input has a dimension with stride 0"):
        cr.autograd.gradcheck(lambda t: t * 2, (x,))


def test_inplace_on_an_empty_expanded_tensor_is_a_no_op():
    e = cr.zeros(1, 0, 3).expand(2, 0, 3)
    e.add_(1)
    e.mul_(2)
    assert e.shape == (2, 0, 3)


def test_fuzz_regressions_match_torch():
    for lib in (cr, torch):
        assert lib.zeros(2, 1).T.view(1, 2).stride() == (2, 1)
        assert lib.zeros(()).expand(3, 1).stride() == (0, 0)
        assert [tuple(t.shape) for t in lib.zeros(3, 0).chunk(2, 1)] == [(3, 0), (3, 0)]
        assert tuple((lib.zeros(2, 3, 0) @ lib.zeros(0, 4)).shape) == (2, 3, 4)
        assert tuple((lib.zeros(1, 0) @ lib.zeros(2, 0, 3)).shape) == (2, 1, 3)
        x = lib.zeros(2, 1).expand(2, 3)
        x[2:] = 1.5  # an empty target: nothing is written, nothing raises


@pytest.mark.parametrize("op", ["unsqueeze_", "squeeze_"])
def test_retain_grad_after_an_inplace_reshape_fills_grad_once_as_torch(op):
    # the tensor moves to a new node; only that node may fill its .grad (not the one it left)
    def run(L):
        a = L.ones(3, 1, requires_grad=True) if op != "unsqueeze_" else L.ones(3, requires_grad=True)
        x = a * 2
        getattr(x, op)(0 if op == "unsqueeze_" else 1)
        x.retain_grad()
        (x * L.arange(1.0, 4.0).reshape(x.shape)).sum().backward()
        return x.grad.tolist(), a.grad.tolist()
    assert run(cr) == run(torch)
