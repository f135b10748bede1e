"""The misuse table: bad calls a careless student (or a malicious file) makes, each run in a child
process. Each must raise the README's exception class with a message naming the op the user called
(and the shapes, where shapes are the mistake) -- never crash, hang or return garbage.

A row is (name, Python source, expected class, regex the message must match). The class is checked
with isinstance, so ``ValueError`` accepts cr.ShapeError. Rows run in one child process in order;
when a row crashes the child (segfault, abort) or hangs, the parent records it and restarts the child
after that row, so one crash does not hide the others.
"""
import json
import os
import re
import subprocess
import sys
import textwrap

import chainrule as cr

V, I, T, R, M = "ValueError", "IndexError", "TypeError", "RuntimeError", "MemoryError"
BIG = "2**62"
SETUP = textwrap.dedent("""
    import io, os, tempfile
    import numpy as np
    import chainrule as cr
    import chainrule.nn as nn
    import chainrule.nn.functional as F
    E, E2, S0 = cr.zeros(0), cr.zeros(0, 3), cr.zeros(())
    x23, x34, w = cr.ones(2, 3), cr.ones(3, 4), cr.ones(3, requires_grad=True)
    img = cr.ones(1, 2, 5, 5)
    TMP = tempfile.mkdtemp()
    def file_with(data):
        p = os.path.join(TMP, "f%d.safetensors" % len(os.listdir(TMP)))
        open(p, "wb").write(data)
        return p
    def header(h, pad=b""):
        b = h.encode()
        return len(b).to_bytes(8, "little") + b + pad
    def backward_twice():
        y = (w * w).sum(); y.backward(); y.backward()
    def inplace_on_leaf():
        w.add_(1)
    def modified_saved():
        a = cr.ones(3, requires_grad=True); b = a.exp(); c = b * b; b.add_(1) if False else None
        with cr.no_grad(): b.add_(1)
        c.sum().backward()
""")

ROWS = [
    # ---- shapes: the message names the op and both shapes
    ("add_shapes", "cr.ones(3, 4) + cr.ones(5)", V, r"add: .*\(3, 4\).*\(5,\)"),
    # a Python int beyond int64 was a pybind cast error naming no op (torch: OverflowError)
    ("add_int_too_big", "cr.ones(2) + 2**64", "OverflowError", r"^add: the integer 18446744073709551616 does not fit in int64"),
    ("mul_int_too_small", "cr.ones(2, dtype=cr.int64) * -2**70", "OverflowError", r"^mul: the integer -1180591620717411303424 does not fit"),
    ("full_int_too_big", "cr.full((2,), 2**64)", "OverflowError", r"^full: the integer 18446744073709551616 does not fit"),
    # an empty shape whose strides overflow (torch: "Stride calculation overflowed"); a NaN cast to int64
    ("zeros_stride_overflow", "cr.zeros(0, 2**62, 2**62)", V, r"^zeros: shape \(0, 4611686018427387904, 4611686018427387904\) has strides too large"),
    ("linspace_int_nan", "cr.linspace(0, float('nan'), 3, dtype=cr.int64)", V, r"^linspace: start 0 and end nan can't give int64 values"),
    ("linspace_int_huge", "cr.linspace(0, 1e300, 3, dtype=cr.int64)", V, r"^linspace: start 0 and end 1e\+300 can't give int64"),
    # a 0-d tensor has no size(0): read past its empty shape and crashed (found by a helper)
    ("size_of_0d", "cr.tensor(1.0).size(0)", I, r"^size: dim 0 is out of range for a 0-d tensor"),
    ("size_of_0d_neg", "cr.tensor(1.0).size(-1)", I, r"^size: dim -1 is out of range for a 0-d tensor"),
    ("stride_of_0d", "cr.tensor(1.0).stride(0)", I, r"^stride: dim 0 is out of range for a 0-d tensor"),
    ("sub_shapes", "cr.ones(2, 3) - cr.ones(3, 2)", V, r"sub: .*\(2, 3\).*\(3, 2\)"),
    ("mul_shapes", "cr.ones(4) * cr.ones(3)", V, r"mul: .*\(4,\).*\(3,\)"),
    ("div_shapes", "cr.ones(4) / cr.ones(3)", V, r"div: .*\(4,\).*\(3,\)"),
    ("pow_shapes", "cr.ones(4) ** cr.ones(3)", V, r"pow: .*\(4,\).*\(3,\)"),
    ("maximum_shapes", "cr.maximum(cr.ones(4), cr.ones(3))", V, r"maximum: .*\(4,\).*\(3,\)"),
    ("eq_shapes", "cr.ones(4) == cr.ones(3)", V, r"eq: .*\(4,\).*\(3,\)"),
    ("where_shapes", "cr.where(cr.ones(2) > 0, cr.ones(3), cr.ones(4))", V, r"where: .*\(2,\).*\(3,\)"),
    ("iadd_shapes", "cr.ones(3).add_(cr.ones(2, 3))", V, r"add_: .*\(3,\).*\(2, 3\)"),
    ("matmul_inner", "cr.ones(2, 3) @ cr.ones(4, 5)", V, r"matmul: .*\(2, 3\).*\(4, 5\)"),
    ("matmul_vec", "cr.ones(2) @ cr.ones(3)", V, r"matmul: .*\(2,\).*\(3,\)"),
    ("matmul_batch", "cr.ones(2, 2, 3) @ cr.ones(3, 3, 4)", V, r"matmul: .*\(2, 2, 3\).*\(3, 3, 4\)"),
    ("matmul_0d", "S0 @ S0", V, r"matmul: .*\(\).*\(\)"),
    ("mm_shapes", "cr.mm(x23, x23)", V, r"mm: .*\(2, 3\).*\(2, 3\)"),
    ("mm_1d", "cr.mm(cr.ones(3), x34)", V, r"mm: .*\(3,\)"),
    ("bmm_shapes", "cr.bmm(cr.ones(2, 2, 3), cr.ones(2, 4, 5))", V, r"bmm: .*\(2, 2, 3\).*\(2, 4, 5\)"),
    ("dot_shapes", "cr.dot(cr.ones(3), cr.ones(4))", V, r"dot: .*\(3,\).*\(4,\)"),
    ("outer_2d", "cr.outer(x23, cr.ones(3))", V, r"outer: .*\(2, 3\)"),
    ("cat_shapes", "cr.cat([x23, cr.ones(3, 2)])", V, r"cat: .*\(2, 3\).*\(3, 2\)"),
    ("cat_ndim", "cr.cat([x23, cr.ones(3)])", V, r"cat: .*\(2, 3\).*\(3,\)"),
    ("cat_empty_list", "cr.cat([])", V, r"cat: "),
    ("cat_0d", "cr.cat([S0, S0])", V, r"cat: .*zero-dim"),
    ("stack_shapes", "cr.stack([cr.ones(2), cr.ones(3)])", V, r"stack: .*\(2,\).*\(3,\)"),
    ("stack_empty_list", "cr.stack([])", V, r"stack: "),
    ("reshape_count", "cr.ones(4).reshape(3, -1)", V, r"reshape: .*\(4,\).*\(3, -1\)"),
    ("reshape_two_minus_one", "cr.ones(4).reshape(-1, -1)", V, r"reshape: .*\(-1, -1\)"),
    ("reshape_negative", "cr.ones(4).reshape(-4, -1)", V, r"reshape: .*\(-4, -1\)"),
    ("view_count", "cr.ones(3).view(2, 2)", V, r"view: .*\(3,\).*\(2, 2\)"),
    ("view_noncontiguous", "x34.t().view(12)", R, r"view: .*\(4, 3\)"),
    ("expand_size", "cr.ones(3).expand(2, 4)", V, r"expand: .*\(3,\).*\(2, 4\)"),
    ("expand_fewer_dims", "x23.expand(3)", V, r"expand: .*\(2, 3\).*\(3,\)"),
    ("expand_negative", "cr.ones(1).expand(-2)", V, r"expand: .*\(1,\).*\(-2,\)"),
    ("repeat_fewer_dims", "x23.repeat(2)", V, r"repeat: .*\(2, 3\)"),
    ("repeat_negative", "x23.repeat(-1, 1)", V, r"repeat: .*-1"),
    ("permute_repeat", "x23.permute(0, 0)", V, r"permute: .*\(0, 0\)"),
    ("permute_count", "x23.permute(0)", V, r"permute: .*\(2, 3\)"),
    ("squeeze_dim_range", "x23.squeeze(5)", I, r"squeeze: dim 5 .*2 dims"),
    ("unsqueeze_dim_range", "x23.unsqueeze(4)", I, r"unsqueeze: dim 4"),
    ("flatten_bad_dims", "cr.ones(2, 3, 4).flatten(2, 1)", V, r"flatten: .*2.*1"),
    ("split_negative", "cr.zeros(4).split([-1, 5])", V, r"split: .*\(-1, 5\)"),
    ("split_sum", "cr.zeros(4).split([1, 2])", V, r"split: .*\(1, 2\).*4"),
    ("chunk_zero", "cr.zeros(4).chunk(0)", V, r"chunk: .*0"),
    ("narrow_past_end", "cr.zeros(4).narrow(0, 3, 2)", (I, V), r"narrow: "),
    ("linear_shapes", "F.linear(x23, cr.ones(4, 5))", V, r"linear: .*\(2, 3\).*\(4, 5\)"),
    ("linear_bias", "F.linear(x23, cr.ones(4, 3), cr.ones(5))", V, r"linear: .*\(5,\)"),
    ("Linear_input", "nn.Linear(3, 2)(cr.ones(4, 5))", V, r"Linear.*\(4, 5\)"),
    ("conv2d_channels", "F.conv2d(img, cr.ones(3, 1, 3, 3))", V, r"conv2d: .*\(3, 1, 3, 3\).*\(1, 2, 5, 5\)"),
    ("conv2d_3d_input", "F.conv2d(cr.ones(2, 5, 5), cr.ones(3, 2, 3, 3))", "ok", None),  # unbatched (C, H, W), as torch
    ("conv2d_kernel_too_big", "F.conv2d(img, cr.ones(3, 2, 7, 7))", V, r"conv2d: .*\(1, 2, 5, 5\)"),
    ("conv2d_bias", "F.conv2d(img, cr.ones(3, 2, 3, 3), cr.ones(4))", V, r"conv2d: .*\(4,\)"),
    ("conv2d_stride0", "F.conv2d(img, cr.ones(3, 2, 3, 3), stride=0)", V, r"conv2d: .*stride"),
    ("conv2d_negative_padding", "F.conv2d(img, cr.ones(3, 2, 3, 3), padding=-1)", V, r"conv2d: .*padding"),
    ("Conv2d_input", "nn.Conv2d(3, 4, 3)(img)", V, r"conv2d: .*\(1, 2, 5, 5\)"),
    ("max_pool_kernel_too_big", "F.max_pool2d(img, 7)", V, r"max_pool2d: .*\(1, 2, 5, 5\)"),
    ("avg_pool_padding_too_big", "F.avg_pool2d(img, 2, padding=2)", V, r"avg_pool2d: .*pad"),
    ("batch_norm_features", "nn.BatchNorm1d(4)(cr.ones(8, 3))", V, r"BatchNorm1d: .*4.*\(8, 3\)"),
    ("batch_norm_one_value", "nn.BatchNorm1d(3)(cr.ones(1, 3))", V, r"batch_norm: .*\(1, 3\)"),
    ("layer_norm_shape", "F.layer_norm(x23, (4,))", V, r"layer_norm: .*\(4,\).*\(2, 3\)"),
    ("embedding_float_index", "nn.Embedding(5, 2)(cr.ones(3))", (T, V), r"embedding: .*float"),
    ("embedding_out_of_range", "nn.Embedding(5, 2)(cr.tensor([5]))", I, r"embedding: .*5"),
    ("softmax_dim", "cr.softmax(x23, dim=2)", I, r"softmax: dim 2 .*2 dims"),
    ("log_softmax_dim", "F.log_softmax(x23, dim=-3)", I, r"log_softmax: dim -3"),
    ("sum_dim", "x23.sum(dim=5)", I, r"sum: dim 5 .*2 dims"),
    ("sum_dim_repeat", "x23.sum(dim=(0, 0))", V, r"sum: .*dim 0.*(more than once|twice|repeat)"),
    ("mean_int", "cr.tensor([1, 2]).mean()", (V, R), r"mean: .*(int64|Long|floating)"),
    ("amax_empty", "E.amax()", (V, I), r"amax: .*\(0,\)"),
    ("argmax_empty", "E.argmax()", (V, I), r"argmax: .*\(0,\)"),
    ("max_dim_empty", "cr.max(E2, dim=0)", (V, I), r"max: .*\(0, 3\)"),
    ("transpose_dim", "x23.transpose(0, 2)", I, r"transpose: dim 2"),
    ("transpose_min_int64", "cr.zeros(3).transpose(0, -2**63)", I, r"transpose: dim -9223372036854775808"),
    ("gather_index_range", "cr.gather(x23, 1, cr.tensor([[5]]))", I, r"gather: index 5 .*dim 1 of size 3"),
    ("gather_float_index", "cr.gather(x23, 1, cr.tensor([[0.0]]))", (T, V), r"gather: .*(int64|float)"),
    ("gather_ndim", "cr.gather(x23, 1, cr.tensor([0]))", V, r"gather: .*\(1,\).*\(2, 3\)"),
    ("index_select_range", "cr.index_select(x23, 1, cr.tensor([3]))", I, r"index_select: index 3"),
    ("index_select_2d_index", "cr.index_select(x23, 1, cr.tensor([[0]]))", V, r"index_select: .*\(1, 1\)"),
    ("scatter_add_range", "cr.scatter_add(cr.zeros(3), 0, cr.tensor([7]), cr.ones(1))", I, r"scatter_add: index 7"),
    ("index_add_range", "cr.index_add(cr.zeros(3), 0, cr.tensor([3]), cr.ones(1))", I, r"index_add: index 3"),
    ("masked_fill_shape", "x23.masked_fill(cr.ones(3, 2) > 0, 0.0)", V, r"masked_fill: .*\(2, 3\).*\(3, 2\)"),
    ("masked_fill_float_mask", "x23.masked_fill(x23, 0.0)", (T, V), r"masked_fill: .*bool"),
    ("getitem_range", "cr.zeros(3)[3]", I, r"index 3 is out of range for dim 0 of size 3"),
    ("getitem_too_many", "cr.zeros(3)[0, 0]", I, r"too many indices .*1"),
    ("getitem_0d", "S0[0]", I, r"too many indices .*0"),
    ("getitem_float_tensor", "cr.zeros(3)[cr.tensor(1.0)]", (I, T), r"int64 or bool"),
    ("getitem_float", "cr.zeros(3)[1.5]", T, r"float"),
    ("getitem_bool_mask_shape", "cr.zeros(3)[cr.tensor([True, False])]", I, r"mask .*\(2,\).*\(3,\)"),
    ("setitem_shape", "cr.zeros(3).__setitem__(slice(None), cr.ones(2))", V, r"\(2,\).*\(3,\)"),
    ("getitem_huge", "cr.zeros(3)[2**62]", I, r"index 4611686018427387904 is out of range"),
    ("getitem_beyond_int64", "cr.zeros(3)[2**64]", I, r"18446744073709551616"),
    ("slice_beyond_int64", "cr.zeros(3)[2**62:2**63]", "ok", None),
    ("item_many", "x23.item()", V, r"item: .*\(2, 3\)"),
    ("bool_many", "bool(x23)", R, r"bool: .*ambiguous"),
    ("len_0d", "len(S0)", T, r"len: .*0-d"),
    ("iter_0d", "list(S0)", T, r"iter.*0-d"),
    ("float_many", "float(x23)", (T, V), r"float: .*\(2, 3\)|only one element"),
    ("int_nan", "int(cr.tensor(float('nan')))", V, r"nan|NaN"),
    ("int_inf", "int(cr.tensor(float('inf')))", (V, OverflowError.__name__), r"inf"),
    ("full_nan_int64", "cr.full((2,), float('nan'), dtype=cr.int64)", (V, R), r"full: .*nan"),
    ("tensor_nan_int64", "cr.tensor([float('nan')], dtype=cr.int64)", (V, R, T), r"tensor: .*nan"),
    # ---- dtypes
    ("matmul_int_float", "cr.tensor([[1]]) @ cr.ones(1, 1)", (V, R), r"matmul: .*(int64|float32)"),
    ("matmul_bool", "cr.tensor([[True]]) @ cr.tensor([[True]])", (V, R), r"matmul: .*bool"),
    ("sub_bool", "cr.tensor([True]) - cr.tensor([False])", (V, R), r"sub: .*bool"),
    ("neg_bool", "-cr.tensor([True])", (V, R), r"neg: .*bool"),
    ("backward_int", "cr.tensor([1, 2]).sum().backward()", R, r"backward: .*require"),
    ("requires_grad_int", "cr.tensor([1, 2]).requires_grad_()", R, r"requires_grad.*(floating|int64)"),
    ("grad_of_int_tensor", "cr.tensor([1], requires_grad=True)", R, r"(floating|int64)"),
    ("cross_entropy_float_target_shape", "F.cross_entropy(x23, cr.ones(2))", V, r"cross_entropy: .*\(2, 3\).*\(2,\)"),
    ("cross_entropy_target_range", "F.cross_entropy(x23, cr.tensor([0, 5]))", I, r"cross_entropy: .*5"),
    ("cross_entropy_target_shape", "F.cross_entropy(x23, cr.tensor([0, 1, 2]))", V, r"cross_entropy: .*\(2, 3\).*\(3,\)"),
    ("nll_loss_target_range", "F.nll_loss(x23, cr.tensor([0, -5]))", I, r"nll_loss: .*-5"),
    ("mse_loss_shapes", "F.mse_loss(cr.ones(3), cr.ones(4))", V, r"mse_loss: .*\(3,\).*\(4,\)"),
    ("bce_out_of_range", "F.binary_cross_entropy(cr.tensor([2.0]), cr.tensor([1.0]))", (V, R), r"binary_cross_entropy: .*(between 0 and 1|\[0, 1\])"),
    ("bce_shapes", "F.binary_cross_entropy(cr.ones(3) / 2, cr.ones(2))", V, r"binary_cross_entropy: .*\(3,\).*\(2,\)"),
    ("one_hot_negative_classes", "F.one_hot(cr.tensor([1]), -5)", (V, R), r"one_hot: .*-5"),
    ("one_hot_label_too_big", "F.one_hot(cr.tensor([3]), 3)", (V, R, I), r"one_hot: .*3"),
    ("one_hot_float", "F.one_hot(cr.tensor([1.0]))", (T, V, R), r"one_hot: .*(int64|float)"),
    ("one_hot_huge_classes", "F.one_hot(cr.tensor([1]), 2**62)", (V, M), r"one_hot: "),
    ("to_bad_dtype", "x23.to('float16')", (T, V), r"float16"),
    ("dtype_from_int", "cr.dtype(99)", (T, V), r"dtype"),
    ("from_numpy_object", "cr.from_numpy(np.array([None]))", (T, V), r"from_numpy: .*object"),
    ("from_numpy_complex", "cr.from_numpy(np.array([1j]))", (T, V), r"from_numpy: .*complex"),
    ("from_numpy_list", "cr.from_numpy([1.0])", T, r"from_numpy"),
    ("from_dlpack_int", "cr.from_dlpack(123)", T, r"from_dlpack: .*int"),
    ("from_dlpack_none", "cr.from_dlpack(None)", T, r"from_dlpack: .*NoneType"),
    ("tensor_huge_int", "cr.tensor([2**70])", (T, OverflowError.__name__, V), r"tensor: .*(overflow|int64|large)"),
    ("tensor_complex", "cr.tensor([1j])", T, r"tensor: .*complex"),
    ("tensor_ragged", "cr.tensor([[1.0], [1.0, 2.0]])", V, r"tensor: .*(sequence|length|ragged|shape)"),
    ("tensor_string", "cr.tensor('abc')", T, r"tensor: .*str"),
    ("tensor_uint64_max", "cr.tensor(np.array([2**64 - 1], dtype=np.uint64))", (T, V, OverflowError.__name__), r"tensor: .*uint64"),
    # ---- sizes near 2**31 / 2**63, negative sizes
    ("zeros_huge", "cr.zeros(2**62)", (M, V), r"zeros: .*4611686018427387904"),
    ("zeros_10e12", "cr.zeros(10**12)", (M, V), r"zeros: .*1000000000000.*bytes"),
    ("ones_huge", "cr.ones(2**62)", (M, V), r"ones: "),
    ("randn_huge", "cr.randn(2**62)", (M, V), r"randn: "),
    ("full_huge", "cr.full((2**62,), 1.0)", (M, V), r"full: "),
    ("eye_huge", "cr.eye(2**32)", (M, V), r"eye: "),
    ("zeros_numel_overflow", "cr.zeros(2**40, 2**40)", (M, V), r"zeros: .*\(1099511627776, 1099511627776\)"),
    ("zeros_2pow64", "cr.zeros(2**64)", (T, V, OverflowError.__name__), r"zeros: .*18446744073709551616"),
    ("zeros_negative", "cr.zeros(-5)", V, r"zeros: .*-5"),
    ("empty_negative", "cr.empty(2, -1)", V, r"empty: .*\(2, -1\)"),
    ("arange_huge", "cr.arange(0, 1e19)", (M, V), r"arange: "),
    ("arange_nan", "cr.arange(0, float('nan'))", V, r"arange: .*nan"),
    ("arange_step_sign", "cr.arange(0, 10, -1)", (V, R), r"arange: .*step"),
    ("arange_step_zero", "cr.arange(0, 10, 0)", (V, R), r"arange: .*step"),
    ("linspace_negative", "cr.linspace(0, 1, -1)", (V, R), r"linspace: .*-1"),
    ("linspace_huge", "cr.linspace(0, 1, 2**62)", (M, V), r"linspace: "),
    ("randperm_negative", "cr.randperm(-1)", (V, R), r"randperm: .*-1"),
    ("randint_empty_range", "cr.randint(5, 5, (2,))", (V, R), r"randint: .*5"),
    ("randint_full_int64", "cr.randint(-2**63, 2**63 - 1, (4,))", "ok", None),
    ("expand_huge", "cr.zeros(1).expand(2**62)", "ok", None),
    ("expand_huge_then_sum", "cr.zeros(1, 1).expand(2**40, 2**40).sum()", V, r"expand: .*\(1099511627776, 1099511627776\)"),  # torch: numel overflow
    ("repeat_huge", "cr.zeros(2).repeat(2**62)", (M, V), r"repeat: "),
    ("conv2d_huge_padding", "F.conv2d(cr.randn(1, 1, 2, 2), cr.randn(1, 1, 1, 1), padding=2**31 - 1)", (M, V), r"conv2d: "),
    ("Conv2d_huge_padding", "nn.Conv2d(1, 1, 1, padding=2**31 - 1)(cr.randn(1, 1, 2, 2))", (M, V), r"conv2d: "),
    ("unfold_huge_padding", "F.unfold(cr.randn(1, 1, 2, 2), 1, padding=2**31 - 1)", (M, V), r"unfold: "),
    ("fold_huge_padding", "F.fold(cr.randn(1, 1, 0), (2, 2), 1, padding=2**31 - 1)", (M, V), r"fold: "),
    ("max_pool_huge_padding", "F.max_pool2d(img, 2**31 - 1, padding=2**30)", (M, V), r"max_pool2d: "),
    ("pad_huge", "F.pad(cr.zeros(2), (2**62, 0))", (M, V), r"pad: "),
    ("reshape_huge", "cr.zeros(4).reshape(2**62, 4, 0)", V, r"reshape: .*\(4,\)"),
    ("sum_dim_huge", "cr.zeros(3).sum(dim=2**62)", I, r"sum: dim 4611686018427387904"),
    ("chunk_huge", "cr.zeros(4).chunk(2**62)", "ok", None),
    ("int_pow_huge", "cr.tensor([2]) ** (2**62)", "ok", None),
    # ---- None and wrong types: TypeError naming the function and the argument
    ("add_none", "x23 + None", T, r"(add|\+).*NoneType"),
    ("add_string", "x23 + 'a'", T, r"(add|\+).*str"),
    ("matmul_list", "x23 @ [1, 2, 3]", T, r"(matmul|@).*list"),
    ("sum_dim_string", "x23.sum(dim='a')", T, r"sum\(\).*dim.*str"),
    ("sum_keepdim_string", "x23.sum(0, keepdim='yes')", T, r"sum\(\).*keepdim.*str"),
    ("reshape_float", "x23.reshape(1.5, 4)", T, r"reshape\(\).*float"),
    ("reshape_none", "x23.reshape(None)", T, r"reshape\(\).*NoneType"),
    ("zeros_float", "cr.zeros(2.5)", T, r"zeros\(\).*float"),
    ("zeros_string", "cr.zeros('3')", T, r"zeros\(\).*str"),
    ("softmax_no_dim", "cr.softmax(x23)", T, r"softmax\(\).*dim"),
    ("cat_none", "cr.cat(None)", T, r"cat\(\).*NoneType"),
    ("cat_ints", "cr.cat([1, 2])", T, r"cat\(\).*(list|int)"),
    ("linear_none_weight", "F.linear(x23, None)", T, r"linear\(\).*NoneType"),
    ("Linear_float_features", "nn.Linear(2.5, 3)", T, r"Linear.*float"),
    ("Linear_negative_features", "nn.Linear(-1, 3)", (V, R), r"Linear.*-1"),
    ("conv2d_misspelled_kw", "F.conv2d(img, cr.ones(3, 2, 3, 3), dilaton=2)", T, r"dilaton.*did you mean 'dilation'"),
    ("grad_set_string", "setattr(cr.ones(2, requires_grad=True), 'grad', 'a')", T, r"grad: .*str"),
    ("grad_set_shape", "setattr(cr.ones(2, requires_grad=True), 'grad', cr.ones(3))", (V, R), r"grad.*\(2,\).*\(3,\)"),
    ("requires_grad_set_string", "setattr(cr.ones(2), 'requires_grad', 'yes')", T, r"requires_grad.*str"),
    ("register_parameter_int", "nn.Module().register_parameter('p', 5)", T, r"register_parameter.*int"),
    ("register_buffer_int", "nn.Module().register_buffer('b', 5)", T, r"register_buffer.*int"),
    ("parameter_of_list", "nn.Parameter([1.0])", T, r"Parameter.*list"),
    ("optimizer_no_params", "cr.optim.SGD([], lr=0.1)", V, r"(SGD|optimizer).*empty"),
    ("optimizer_tensor_not_list", "cr.optim.SGD(w, lr=0.1)", T, r"(SGD|params).*Tensor"),
    ("optimizer_negative_lr", "cr.optim.SGD([w], lr=-1)", V, r"(SGD|lr).*-1"),
    ("adam_bad_beta", "cr.optim.Adam([w], betas=(1.5, 0.9))", V, r"(Adam|beta).*1.5"),
    ("optimizer_string_lr", "cr.optim.SGD([w], lr='big')", (T, V), r"lr.*str"),
    ("gradcheck_returns_float", "cr.autograd.gradcheck(lambda a: 3.0, [cr.ones(2, dtype=cr.float64, requires_grad=True)])", T, r"gradcheck: .*Tensor"),
    ("grad_outputs_shape", "cr.autograd.grad((w * 2), [w], grad_outputs=cr.ones(4))", (V, R), r"grad: .*\(3,\).*\(4,\)"),
    # ---- bad state: RuntimeError saying what to do
    ("backward_twice", "backward_twice()", R, r"backward.*(second time|freed|retain_graph=True)"),
    ("backward_nonscalar", "(w * 2).backward()", R, r"backward.*(scalar|grad_outputs|gradient)"),
    ("backward_no_grad", "cr.ones(2).sum().backward()", R, r"backward.*require"),
    ("inplace_leaf", "inplace_on_leaf()", R, r"(add_|in-place|leaf).*requires.grad"),
    ("modified_saved_tensor", "modified_saved()", R, r"(modified|version)"),
    ("grad_unused", "cr.autograd.grad((w * 2).sum(), [cr.ones(2, requires_grad=True)])", R, r"allow_unused=True"),
    ("numpy_requires_grad", "w.numpy()", R, r"numpy.*detach"),
    ("load_state_dict_missing", "nn.Linear(2, 2).load_state_dict({'weight': cr.ones(2, 2)})", R, r"load_state_dict.*bias"),
    ("load_state_dict_shape", "nn.Linear(2, 2).load_state_dict({'weight': cr.ones(3, 2), 'bias': cr.ones(2)})", (R, V), r"weight.*\(3, 2\).*\(2, 2\)"),
    ("load_state_dict_unexpected", "nn.Linear(2, 2).load_state_dict({'weight': cr.ones(2, 2), 'bias': cr.ones(2), 'x': cr.ones(1)})", R, r"load_state_dict.*['\"]x['\"]"),
    ("optimizer_load_wrong_groups", "cr.optim.SGD([w]).load_state_dict({'state': {}, 'param_groups': []})", (V, R), r"load_state_dict.*group"),
    ("scheduler_string_optimizer", "cr.optim.lr_scheduler.StepLR('opt', 1)", T, r"StepLR.*str"),
    ("step_without_backward", "cr.optim.SGD([cr.ones(2, requires_grad=True)]).step()", "ok", None),
    ("no_grad_then_backward", "exec('with cr.no_grad():\\n y = (w * 2).sum()\\ny.backward()')", R, r"backward.*(require|grad_fn)"),
    # ---- bad files: ValueError naming the file; OSError for missing files
    ("load_missing", "cr.load(os.path.join(TMP, 'missing.safetensors'))", FileNotFoundError.__name__, r"missing.safetensors"),
    ("load_directory", "cr.load(TMP)", (V, OSError.__name__), r"load: "),
    ("load_empty_file", "cr.load(file_with(b''))", V, r"load: .*f\d+.safetensors.*too short"),
    ("load_garbage", "cr.load(file_with(b'\\x89PNG\\r\\n\\x1a\\n' + b'x' * 100))", V, r"load: .*header length"),
    ("load_header_not_json", "cr.load(file_with(header('{nope')))", V, r"load: .*JSON"),
    ("load_header_list", "cr.load(file_with(header('[1]')))", V, r"load: .*not a JSON object"),
    ("load_deep_json", "cr.load(file_with(header('[' * 100000 + ']' * 100000)))", V, r"load: .*(deep|nest|JSON)"),
    ("load_dtype_not_string", "cr.load(file_with(header('{\"a\":{\"dtype\":5,\"shape\":[1],\"data_offsets\":[0,4]}}', b'\\0' * 4)))", V, r"load: .*dtype"),
    ("load_unknown_dtype", "cr.load(file_with(header('{\"a\":{\"dtype\":\"F16\",\"shape\":[1],\"data_offsets\":[0,2]}}', b'\\0' * 2)))", V, r"load: .*F16"),
    ("load_huge_shape", "cr.load(file_with(header('{\"a\":{\"dtype\":\"F32\",\"shape\":[4611686018427387904,4],\"data_offsets\":[0,4]}}', b'\\0' * 4)))", V, r"load: .*'a'"),
    ("load_offsets_past_end", "cr.load(file_with(header('{\"a\":{\"dtype\":\"F32\",\"shape\":[2],\"data_offsets\":[0,8]}}', b'\\0' * 4)))", V, r"load: .*(past the end|truncated)"),
    ("load_negative_shape", "cr.load(file_with(header('{\"a\":{\"dtype\":\"F32\",\"shape\":[-1],\"data_offsets\":[0,4]}}', b'\\0' * 4)))", V, r"load: .*shape"),
    ("load_duplicate_key", "cr.load(file_with(header('{\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]},\"a\":{\"dtype\":\"F32\",\"shape\":[1],\"data_offsets\":[0,4]}}', b'\\0' * 4)))", V, r"load: .*'a' twice"),
    ("load_bad_bool", "cr.load(file_with(header('{\"a\":{\"dtype\":\"BOOL\",\"shape\":[1],\"data_offsets\":[0,1]}}', b'\\2')))", V, r"load: .*BOOL"),
    ("save_unsupported", "cr.save({'a': object()}, os.path.join(TMP, 'x.safetensors'))", T, r"save: .*object"),
    ("save_to_missing_dir", "cr.save({'a': cr.ones(1)}, os.path.join(TMP, 'no', 'dir', 'x.safetensors'))", FileNotFoundError.__name__, r"no"),
    ("save_reserved_name", "cr.save({'__metadata__': cr.ones(1)}, os.path.join(TMP, 'x.safetensors'))", V, r"save: .*__metadata__"),
]

CHILD = SETUP + textwrap.dedent("""
    import json, sys
    rows = json.loads(sys.stdin.read())
    for name, src in rows:
        print(json.dumps({"start": name}), flush=True)
        try:
            out = eval(src)
            repr(out)
            res = {"name": name, "exc": None}
        except BaseException as e:  # noqa: BLE001  any Python exception is an answer; a crash is not
            res = {"name": name, "exc": [c.__name__ for c in type(e).__mro__], "msg": str(e)}
        print(json.dumps(res), flush=True)
    print(json.dumps({"done": True}), flush=True)
""")


def _limit_memory():
    # Huge requests must fail as MemoryError/ValueError, not make the machine swap.
    import resource
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        return  # ASan reserves terabytes of shadow address space; its max_allocation_size_mb caps instead
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))


def _run_rows(rows, timeout=60):
    """Results by name for every row; a row that crashed or hung the child gets 'crash: ...'."""
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cr.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "2")
    results, todo = {}, list(rows)
    while todo:
        try:
            p = subprocess.run([sys.executable, "-c", CHILD], input=json.dumps(todo), capture_output=True,
                               text=True, timeout=timeout, env=env, preexec_fn=_limit_memory)
            out, status = p.stdout, p.returncode
        except subprocess.TimeoutExpired as e:
            out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
            status = "timeout"
        started = None
        for line in out.splitlines():
            msg = json.loads(line)
            if "start" in msg:
                started = msg["start"]
            elif "name" in msg:
                results[msg["name"]] = msg
        if status == 0 and started is None or status == 0 and started in results:
            break
        culprit = started or todo[0][0]
        results[culprit] = {"name": culprit, "crash": f"child {'hung' if status == 'timeout' else f'exit {status}'}"}
        names = [n for n, _ in todo]
        todo = todo[names.index(culprit) + 1:]
    return results


def _verdict(row, res):
    name, _, expected, pattern = row
    if "crash" in res:
        return f"{name}: {res['crash']} (a crash is never an answer)"
    if expected == "ok":
        return None if res["exc"] is None else f"{name}: raised {res['exc'][0]}: {res['msg'][:200]}"
    classes = expected if isinstance(expected, tuple) else (expected,)
    if res["exc"] is None:
        return f"{name}: returned normally, expected {' or '.join(classes)}"
    if not set(classes) & set(res["exc"]):
        return f"{name}: raised {res['exc'][0]}, expected {' or '.join(classes)}: {res['msg'][:200]}"
    if not re.search(pattern, res["msg"]):
        return f"{name}: message {res['msg'][:200]!r} does not match {pattern!r}"
    return None


def test_misuse_table():
    names = [r[0] for r in ROWS]
    assert len(ROWS) >= 150 and len(set(names)) == len(names)
    results = _run_rows([(r[0], r[1]) for r in ROWS])
    bad = [v for r in ROWS if (v := _verdict(r, results[r[0]]))]
    assert not bad, f"{len(bad)} of {len(ROWS)} misuse rows are wrong:\n" + "\n".join(bad)
