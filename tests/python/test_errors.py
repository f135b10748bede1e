"""Misuse tests: each common mistake raises the right exception class, with a message that names
the op and the shapes (or dims, dtypes, values) involved, and no input crashes the interpreter.

Conventions (README, "Errors"): shape/dtype mistakes -> cr.ShapeError (a ValueError and a
RuntimeError), bad indices or dims -> IndexError, misuse of autograd state -> RuntimeError (or
ShapeError where the core chose std::invalid_argument), wrong Python types -> TypeError.
"""
import gc
import os
import re
import subprocess
import sys
import textwrap

import numpy as np
import pytest
import torch  # noqa: F401  (the suite requires torch; imported plainly so a missing torch fails)

import chainrule as cr


def E(text):
    """A regex matching ``text`` literally (for messages full of parentheses)."""
    return re.escape(text)


def shapes(op, *parts):
    """A regex: the op name, then each part (a shape or word, taken literally) in order."""
    return re.escape(op) + "".join(".*" + re.escape(p) for p in parts)


x34 = lambda: cr.randn(3, 4)  # noqa: E731
leaf = lambda *s: cr.randn(*s, requires_grad=True)  # noqa: E731


# ------------------------------------------------------------------------------------------------
# One-line mistakes: (id, call, exception class, regex the message must match)
# ------------------------------------------------------------------------------------------------
ONE_LINERS = [
    # broadcasting
    ("add_broadcast", lambda: x34() + cr.randn(5), ValueError,
     E("add: cannot broadcast shapes (3, 4) and (5,)")),
    ("mul_broadcast", lambda: x34() * cr.randn(5), ValueError,
     E("mul: cannot broadcast shapes (3, 4) and (5,)")),
    ("sub_broadcast", lambda: cr.randn(2, 3) - cr.randn(3, 2), ValueError,
     shapes("sub", "(2, 3)", "(3, 2)")),
    ("div_broadcast", lambda: cr.div(cr.randn(4), cr.randn(3)), ValueError,
     shapes("div", "(4,)", "(3,)")),
    ("where_broadcast", lambda: cr.where(cr.ones(3, 4).bool(), x34(), cr.randn(5)), ValueError,
     shapes("where", "(3, 4)", "(5,)")),
    ("maximum_broadcast", lambda: cr.maximum(cr.randn(2), cr.randn(3)), ValueError,
     shapes("maximum", "(2,)", "(3,)")),
    # linear algebra
    ("matmul_mismatch", lambda: cr.randn(3, 4) @ cr.randn(5, 2), ValueError,
     "^" + E("matmul: expected (n,k) @ (k,m), got (3, 4) @ (5, 2): the inner dims 4 and 5 differ") + "$"),
    ("matmul_transpose_hint", lambda: cr.randn(5, 3) @ cr.randn(4, 3), ValueError,
     "^" + E("matmul: expected (n,k) @ (k,m), got (5, 3) @ (4, 3): the inner dims 3 and 4 differ; "
             "a @ b.T would fit: (5, 3) @ (3, 4)") + "$"),
    ("broadcast_picture_empty", lambda: cr.ones(0, 3) + cr.ones(2, 3), ValueError,
     "^" + E("add: cannot broadcast shapes (0, 3) and (2, 3)\n      0  3\n      2  3\n      ^ dim -2: 0 vs 2\n"
             "  (dims line up from the right; each pair must be equal, or one of them 1)") + "$"),
    ("matmul_transpose_hint_empty", lambda: cr.ones(0, 3) @ cr.ones(4, 3), ValueError,
     "^" + E("matmul: expected (n,k) @ (k,m), got (0, 3) @ (4, 3): the inner dims 3 and 4 differ; "
             "a @ b.T would fit: (0, 3) @ (3, 4)") + "$"),
    ("matmul_vector_no_hint", lambda: cr.ones(3) @ cr.ones(4, 0), ValueError,
     "^" + E("matmul: expected (n,k) @ (k,m), got (3,) @ (4, 0): the inner dims 3 and 4 differ") + "$"),
    ("broadcast_picture", lambda: cr.ones(2, 1, 3) * cr.ones(4, 2, 5), ValueError,
     "^" + E("mul: cannot broadcast shapes (2, 1, 3) and (4, 2, 5)\n      2  1  3\n      4  2  5\n"
             "      ^     ^ dim -3: 2 vs 4, dim -1: 3 vs 5\n"
             "  (dims line up from the right; each pair must be equal, or one of them 1)") + "$"),
    ("matmul_function_mismatch", lambda: cr.matmul(cr.randn(3, 4), cr.randn(5, 2)), ValueError,
     E("matmul: expected (n,k) @ (k,m), got (3, 4) @ (5, 2)")),
    ("batched_matmul_inner_mismatch", lambda: cr.randn(2, 3, 4) @ cr.randn(2, 5, 2), ValueError,
     shapes("matmul", "(2, 3, 4)", "(2, 5, 2)")),
    ("batched_matmul_batch_mismatch", lambda: cr.randn(2, 3, 4) @ cr.randn(3, 4, 2), ValueError,
     shapes("matmul", "(2", "(3")),
    ("vector_dot_mismatch", lambda: cr.randn(3) @ cr.randn(4), ValueError,
     shapes("matmul", "(3,)", "(4,)")),
    ("mm_on_3d", lambda: cr.mm(cr.randn(2, 3, 4), cr.randn(4, 2)), ValueError,
     r"(mm|matmul)" + shapes("", "(2, 3, 4)", "(4, 2)")),
    ("matmul_0d", lambda: cr.zeros(()) @ cr.zeros(()), ValueError, shapes("matmul", "()", "()")),
    ("linear_weight_mismatch", lambda: cr.linear(cr.randn(8, 3), cr.randn(4, 5)), ValueError,
     shapes("linear", "(8, 3)", "(4, 5)")),
    ("linear_bias_mismatch", lambda: cr.linear(cr.randn(8, 3), cr.randn(4, 3), cr.randn(5)),
     ValueError, shapes("linear", "bias", "(4,)", "(5,)")),
    # shape ops
    ("reshape_wrong_size", lambda: x34().reshape(5, 3), ValueError,
     shapes("reshape", "(3, 4)", "(5, 3)")),
    ("reshape_function_wrong_size", lambda: cr.reshape(x34(), (7,)), ValueError,
     shapes("reshape", "(3, 4)", "(7,)")),
    # the message says "reshape" (view is reshape here); either op name is accepted
    ("view_two_minus_one", lambda: x34().view(-1, -1), ValueError,
     r"(view|reshape).*-1.*" + E("(-1, -1)")),
    ("reshape_negative_size", lambda: cr.randn(4).reshape(-2, 2), ValueError,
     shapes("reshape", "(-2, 2)")),
    ("permute_repeated_dim", lambda: x34().permute(0, 0), ValueError,
     shapes("permute", "0", "(0, 0)")),
    ("permute_wrong_length", lambda: x34().permute(0, 1, 2), ValueError,
     shapes("permute", "2", "(3, 4)", "3")),
    ("transpose_dim_out_of_range", lambda: x34().transpose(0, 2), IndexError,
     shapes("transpose", "dim 2", "2 dims")),
    ("flatten_start_after_end", lambda: cr.randn(2, 3).flatten(1, 0), ValueError,
     shapes("flatten", "1", "0")),
    ("squeeze_dim_out_of_range", lambda: x34().squeeze(3), IndexError,
     shapes("squeeze", "dim 3", "2 dims")),
    ("unsqueeze_dim_out_of_range", lambda: x34().unsqueeze(4), IndexError,
     shapes("unsqueeze", "dim 4", "3 dims")),
    ("expand_incompatible", lambda: x34().expand(3, 5), ValueError,
     shapes("expand", "(3, 4)", "(3, 5)")),
    ("expand_fewer_dims", lambda: x34().expand(4), ValueError, shapes("expand", "(3, 4)", "(4,)")),
    ("broadcast_to_incompatible", lambda: cr.broadcast_to(cr.randn(3), (4,)), ValueError,
     r"(broadcast_to|expand).*" + E("(3,)") + ".*" + E("(4,)")),
    ("sum_to_impossible", lambda: cr.sum_to(x34(), (5,)), ValueError,
     shapes("sum_to", "(3, 4)", "(5,)")),
    ("cat_mismatched_shapes", lambda: cr.cat([x34(), cr.randn(3, 5)], dim=0), ValueError,
     shapes("cat", "(3, 4)", "(3, 5)")),
    ("cat_empty_list", lambda: cr.cat([]), ValueError, shapes("cat", "empty")),
    ("cat_0d", lambda: cr.cat([cr.zeros(()), cr.zeros(())]), ValueError, shapes("cat", "zero-dim")),
    ("cat_dim_out_of_range", lambda: cr.cat([x34(), x34()], dim=2), IndexError,
     shapes("cat", "dim 2")),
    ("stack_different_shapes", lambda: cr.stack([x34(), cr.randn(4, 3)]), ValueError,
     shapes("stack", "(3, 4)", "(4, 3)")),
    ("stack_empty_list", lambda: cr.stack([]), ValueError, shapes("stack", "empty")),
    ("split_sizes_wrong_sum", lambda: x34().split([1, 1], dim=0), ValueError,
     shapes("split", "(1, 1)", "2", "3", "(3, 4)")),
    ("split_size_zero", lambda: x34().split(0), ValueError, shapes("split", "0")),
    ("chunk_zero", lambda: x34().chunk(0), ValueError, shapes("chunk", "0")),
    # reductions and dims
    ("sum_dim_out_of_range", lambda: x34().sum(dim=2), IndexError, shapes("sum", "dim 2", "2 dims")),
    ("sum_tuple_dim_out_of_range", lambda: cr.randn(3).sum(dim=(0, 1)), IndexError,
     shapes("sum", "dim 1", "1 dims")),
    ("mean_dim_out_of_range", lambda: x34().mean(dim=-3), IndexError,
     shapes("mean", "dim -3", "2 dims")),
    ("softmax_dim_out_of_range", lambda: cr.softmax(x34(), dim=2), IndexError,
     shapes("softmax", "dim 2", "2 dims")),
    ("log_softmax_dim_out_of_range", lambda: cr.log_softmax(cr.randn(3), dim=1), IndexError,
     shapes("log_softmax", "dim 1", "1 dims")),
    ("argmax_dim_out_of_range", lambda: x34().argmax(dim=5), IndexError, shapes("argmax", "dim 5")),
    ("sum_duplicate_dims", lambda: x34().sum(dim=(0, 0)), ValueError, shapes("sum", "dim 0", "more than once")),
    ("mean_of_int64", lambda: cr.tensor([1, 2]).mean(), ValueError, shapes("mean", "int64")),
    ("amax_of_empty", lambda: cr.zeros(0).amax(), ValueError, shapes("amax", "(0,)")),
    # indexing
    ("slice_step_zero", lambda: x34()[::0], ValueError, shapes("index", "step", "0")),
    ("index_out_of_range", lambda: cr.tensor([1.0, 2.0, 3.0])[5], IndexError,
     shapes("", "5", "out of range", "size 3")),
    ("negative_index_out_of_range", lambda: cr.tensor([1.0, 2.0, 3.0])[-4], IndexError,
     shapes("", "-4", "size 3")),
    ("too_many_indices", lambda: x34()[0, 0, 0], IndexError, shapes("index", "too many", "2")),
    ("two_ellipses", lambda: cr.randn(2, 3)[..., ...], IndexError, shapes("index", "ellipsis")),
    ("float_index_tensor", lambda: x34()[cr.tensor([0.0, 1.0])], IndexError,
     shapes("index", "int64", "float32")),
    ("float_list_index", lambda: cr.randn(3)[[0.5]], IndexError, shapes("index", "float64")),
    ("string_index", lambda: cr.randn(3)["a"], TypeError, shapes("index", "str")),
    ("float_scalar_index", lambda: cr.randn(3)[1.0], TypeError, shapes("index", "float")),
    ("int_tensor_index_out_of_range", lambda: cr.randn(3)[cr.tensor([3])], IndexError,
     shapes("index", "3", "size 3")),
    ("bool_mask_wrong_shape", lambda: cr.randn(3)[cr.tensor([True, False])], IndexError,
     shapes("mask", "(2,)", "(3,)")),
    ("gather_float_index", lambda: cr.gather(x34(), 1, cr.tensor([[0.0, 1.0]] * 3)), ValueError,
     shapes("gather", "int64", "float32")),
    ("gather_index_out_of_range", lambda: cr.gather(x34(), 1, cr.tensor([[0, 9]] * 3)), IndexError,
     shapes("gather", "9", "dim 1", "size 4")),
    ("gather_index_wrong_ndim", lambda: cr.gather(x34(), 1, cr.tensor([0, 1])), ValueError,
     shapes("gather", "(2,)", "(3, 4)")),
    ("index_select_out_of_range", lambda: cr.index_select(x34(), 0, cr.tensor([0, 7])), IndexError,
     shapes("index_select", "7", "dim 0", "size 3")),
    ("index_select_float_index", lambda: cr.index_select(cr.zeros(3), 0, cr.tensor([0.0])),
     ValueError, shapes("index_select", "int64", "float32")),
    ("index_select_2d_index", lambda: cr.index_select(cr.zeros(3), 0, cr.tensor([[0]])), ValueError,
     shapes("index_select", "1-D", "(1, 1)")),
    ("scatter_add_out_of_range", lambda: cr.scatter_add(cr.zeros(3), 0, cr.tensor([5]), cr.ones(1)),
     IndexError, shapes("scatter_add", "5", "size 3")),
    ("one_hot_label_too_big", lambda: cr.one_hot(cr.tensor([0, 3]), 3), IndexError,
     shapes("one_hot", "3", "num_classes 3")),
    ("one_hot_negative_label", lambda: cr.one_hot(cr.tensor([-1, 0]), 3), IndexError,
     shapes("one_hot", "-1")),
    ("one_hot_float_labels", lambda: cr.one_hot(cr.tensor([0.0, 1.0]), 3), ValueError,
     shapes("one_hot", "int64", "float32")),
    # conversions
    ("item_of_multi_element", lambda: cr.randn(3).item(), ValueError, shapes("item", "(3,)")),
    ("float_of_multi_element", lambda: float(cr.randn(3)), ValueError, shapes("item", "(3,)")),
    ("bool_of_multi_element", lambda: bool(cr.randn(3)), RuntimeError,
     shapes("bool", "3 elements", "ambiguous")),
    ("index_from_float_tensor", lambda: [1, 2, 3][cr.tensor([1.0])], TypeError,
     shapes("integer tensors", "index", "float32", "(1,)")),
    ("numpy_of_requires_grad", lambda: leaf(3).numpy(), RuntimeError,
     shapes("numpy", "requires grad", "detach")),
    # construction
    ("tensor_ragged", lambda: cr.tensor([[1, 2], [3]]), ValueError, shapes("tensor", "rectangular")),
    ("tensor_of_strings", lambda: cr.tensor(["a"]), TypeError, shapes("tensor", "<U1")),
    ("tensor_of_none", lambda: cr.tensor(None), TypeError, shapes("tensor", "object")),
    ("tensor_dtype_as_string", lambda: cr.tensor([1.0], dtype="float32"), TypeError,
     shapes("tensor", "dtype", "'float32'")),
    ("zeros_float_size", lambda: cr.zeros(2.5), TypeError, shapes("zeros", "int", "float")),
    ("ones_float_size_in_tuple", lambda: cr.ones((2, 2.0)), TypeError, shapes("ones", "float")),
    ("zeros_negative_size", lambda: cr.zeros(-1), ValueError, shapes("", "non-negative", "(-1,)")),
    ("arange_zero_step", lambda: cr.arange(0, 5, 0), ValueError, shapes("arange", "step", "0")),
    ("linspace_negative_steps", lambda: cr.linspace(0, 1, -1), ValueError, shapes("linspace", "-1")),
    ("randint_low_not_below_high", lambda: cr.randint(5, 2, (3,)), ValueError,
     shapes("randint", "low=5", "high=2")),
    ("rand_int_dtype", lambda: cr.rand(3, dtype=cr.int64), ValueError, shapes("rand", "int64")),
    ("clamp_without_bounds", lambda: cr.randn(3).clamp(), ValueError, shapes("clamp", "min", "max")),
    ("int_tensor_negative_power", lambda: cr.tensor([1, 2]) ** -1, ValueError, shapes("pow", "-1")),
    ("add_string", lambda: cr.randn(3) + "a", TypeError, shapes("add", "str")),
    ("reflected_add_string", lambda: "a" + cr.randn(3), TypeError, shapes("add", "str")),
    ("mul_list", lambda: cr.randn(3) * [1, 2, 3], TypeError, shapes("mul", "list")),
    ("full_string_value", lambda: cr.full((3,), "a"), TypeError, shapes("full", "str")),
    # strided arrays are shared as views (test_views.py); negative strides are refused, as in torch
    ("from_numpy_negative_strides", lambda: cr.from_numpy(np.zeros((3, 4))[:, ::-1]), ValueError,
     shapes("from_numpy", "negative", "(4, -1)", "copy()")),
    ("from_numpy_uint8", lambda: cr.from_numpy(np.zeros(3, np.uint8)), ValueError,
     shapes("from_numpy", "uint8")),
    ("from_numpy_float16", lambda: cr.from_numpy(np.zeros(3, np.float16)), ValueError,
     shapes("from_numpy", "float16")),
    ("from_numpy_read_only", lambda: cr.from_numpy(np.frombuffer(b"\0" * 16)), ValueError,
     shapes("from_numpy", "read-only")),
    ("from_dlpack_not_dlpack", lambda: cr.from_dlpack(3), TypeError, shapes("from_dlpack", "__dlpack__")),
    # in-place ops with incompatible operands
    ("add_inplace_would_grow", lambda: cr.randn(3).add_(cr.randn(2, 3)), ValueError,
     shapes("add_", "(3,)", "(2, 3)")),
    ("add_inplace_would_grow_dim", lambda: cr.randn(1, 3).add_(cr.randn(2, 3)), ValueError,
     shapes("add_", "(1, 3)", "(2, 3)")),
    ("mul_inplace_mismatch", lambda: cr.randn(3).mul_(cr.randn(4)), ValueError,
     shapes("mul_", "(3,)", "(4,)")),
    ("copy_inplace_mismatch", lambda: cr.randn(3).copy_(cr.randn(4)), ValueError,
     shapes("copy_", "(3,)", "(4,)")),
    ("int_inplace_mul_by_float", lambda: cr.tensor([1, 2]).mul_(0.5), ValueError,
     shapes("mul_", "float32", "int64")),
    ("int_inplace_true_div", lambda: cr.tensor([1, 2]).div_(2), ValueError, shapes("div_", "int64")),
    # requires_grad rules
    ("requires_grad_int64_factory", lambda: cr.tensor([1, 2], requires_grad=True), ValueError,
     shapes("requires_grad", "float", "int64")),
    ("requires_grad_bool_factory", lambda: cr.tensor([True], requires_grad=True), ValueError,
     shapes("requires_grad", "bool")),
    ("requires_grad_arange_int", lambda: cr.arange(3, requires_grad=True), ValueError,
     shapes("requires_grad", "int64")),
    ("retain_grad_without_requires_grad", lambda: cr.ones(2).retain_grad(), RuntimeError,
     shapes("retain_grad", "require")),
    ("to_with_string_dtype", lambda: cr.randn(2).to("float64"), TypeError, "to"),
    ("t_of_3d", lambda: cr.zeros(2, 3, 4).t(), ValueError, shapes("t", "(2, 3, 4)")),
]


@pytest.mark.parametrize("call, exc, pattern", [c[1:] for c in ONE_LINERS],
                         ids=[c[0] for c in ONE_LINERS])
def test_one_line_mistake(call, exc, pattern):
    with pytest.raises(exc, match=pattern):
        call()


def test_one_liner_ids_are_distinct():
    ids = [c[0] for c in ONE_LINERS]
    assert len(ids) == len(set(ids))
    assert len(ids) >= 35


def test_exception_classes_are_builtin_python_ones():
    """C++ std::invalid_argument/out_of_range must arrive as ValueError/IndexError, so ``except
    ValueError`` in student code works; a shape error is also the RuntimeError torch raises, so
    ``except RuntimeError`` written for torch works too."""
    with pytest.raises(ValueError) as e:
        cr.randn(2) + cr.randn(3)
    assert type(e.value) is cr.ShapeError
    assert cr.ShapeError.__mro__[1:] == (ValueError, RuntimeError, Exception, BaseException, object)
    with pytest.raises(RuntimeError):  # torch: RuntimeError: The size of tensor a (2) must match ...
        torch.randn(2) + torch.randn(3)
    with pytest.raises(RuntimeError, match=r"cannot broadcast shapes \(2,\) and \(3,\)"):
        cr.randn(2) + cr.randn(3)
    with pytest.raises(RuntimeError, match="mat1 and mat2|matmul"):
        cr.matmul(cr.randn(2, 3), cr.randn(2, 3))
    with pytest.raises(IndexError) as e:
        cr.randn(2).sum(dim=3)
    assert type(e.value) is IndexError


@pytest.mark.parametrize("call, message", [
    (lambda: cr.sum(cr.ones(2, 2), dimm=1), r"^sum\(\) got an unexpected keyword argument 'dimm' \(did you mean 'dim'\?\)$"),
    (lambda: cr.ones(2).sum(dim=0, keepdim="yes"), r"^sum\(\): argument 'keepdim' must be bool, not str$"),
    (lambda: cr.matmul(cr.ones(2)), r"^matmul\(\) missing required argument 'other'$"),
    (lambda: cr.exp([1.0, 2.0]), r"^exp\(\): argument 'input' must be Tensor, not list$"),
    (lambda: cr.nn.Conv2d(1, 2, 3, strid=2), r"^Conv2d(\.__init__)?\(\) got an unexpected keyword argument 'strid'"),
    (lambda: cr.nn.Linear(2), r"^Linear\(\) missing required argument 'out_features'$"),
    (lambda: cr.nn.functional.conv2d(cr.ones(1, 1, 40, 40), cr.ones(1, 1, 3, 3), dilatoin=1),
     r"^conv2d\(\) got an unexpected keyword argument 'dilatoin'"),
    (lambda: cr.ones(3, 3).softmax(dim=0, foo=1), r"^softmax\(\) got an unexpected keyword argument 'foo'"),
], ids=range(8))
def test_a_call_matching_no_signature_gets_one_line(call, message):
    """Not pybind11's overload list with every argument printed (a whole tensor: thousands of
    characters for one misspelt keyword)."""
    with pytest.raises(TypeError, match=message) as e:
        call()
    assert "\n" not in str(e.value) and len(str(e.value)) < 200 and "Invoked with" not in str(e.value)


def test_guarded_functions_keep_their_docs_and_speed_path():
    import pydoc
    assert "e^x elementwise" in pydoc.render_doc(cr.exp)
    assert cr.Tensor.sum.__doc__.startswith("sum(") and cr.exp.__name__ == "exp"
    x = cr.ones(2, 3)
    assert x.sum(dim=1).tolist() == [3.0, 3.0] and cr.sum(x, 0, True).shape == (1, 3)


@pytest.mark.parametrize("call, python, cpp", [
    (lambda: cr.ones(2, requires_grad=True).add_(1), "with cr.no_grad():", "NoGradGuard"),
    (lambda: cr.tensor([1, 2]) & cr.tensor([1.0, 2.0]), "", "kInt64"),
])
def test_hints_use_python_names(call, python, cpp):
    with pytest.raises(Exception) as e:
        call()
    assert python in str(e.value) and cpp not in str(e.value)


# ------------------------------------------------------------------------------------------------
# Autograd misuse (several steps each)
# ------------------------------------------------------------------------------------------------
def test_backward_on_non_scalar_without_gradient():
    x = leaf(3)
    with pytest.raises(RuntimeError, match=shapes("backward", "scalar", "(3,)")):
        (x * 2).backward()


def test_backward_twice_without_retain_graph():
    x = leaf(3)
    y = (x.exp()).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=shapes("backward", "second time", "retain_graph=True")):
        y.backward()


def test_backward_twice_through_mul_names_the_node():
    x = leaf(3)
    y = (x * x).sum()
    y.backward()
    with pytest.raises(RuntimeError, match=shapes("backward", "'mul'", "retain_graph")):
        y.backward()


def test_backward_on_tensor_that_does_not_require_grad():
    with pytest.raises(RuntimeError, match=shapes("backward", "does not require grad")):
        cr.randn(3).sum().backward()


def test_backward_on_int_tensor():
    with pytest.raises(RuntimeError, match=shapes("backward", "does not require grad")):
        cr.tensor([1, 2]).sum().backward()


def test_backward_gradient_of_wrong_shape():
    x = leaf(3)
    with pytest.raises(ValueError, match=shapes("backward", "(3,)", "(4,)")):
        (x * 2).backward(cr.ones(4))


def test_backward_gradient_of_wrong_python_type():
    """A list as gradient is a wrong Python type: TypeError naming backward (not pybind11's
    'Unable to cast ... to C++ type' RuntimeError)."""
    x = leaf(3)
    with pytest.raises(TypeError, match="backward|gradient"):
        (x * 2).backward([1.0, 1.0, 1.0])


def test_requires_grad_setter_on_int64():
    t = cr.tensor([1, 2])
    with pytest.raises(ValueError, match=shapes("requires_grad", "int64")):
        t.requires_grad = True
    assert t.requires_grad is False


def test_requires_grad_method_on_int64():
    with pytest.raises(ValueError, match=shapes("requires_grad", "int64")):
        cr.tensor([1, 2]).requires_grad_()


def test_requires_grad_setter_on_non_leaf():
    y = leaf(3) * 2
    with pytest.raises(RuntimeError, match=shapes("requires_grad", "leaf")):
        y.requires_grad = False
    assert y.requires_grad is True


def test_in_place_subtract_on_leaf_outside_no_grad():
    w = leaf(3)
    before = w.detach().tolist()
    with pytest.raises(RuntimeError, match=shapes("sub_", "requires grad", "no_grad")):
        w -= 1
    assert w.detach().tolist() == before  # refused before writing anything


def test_in_place_add_method_on_leaf_outside_no_grad():
    w = leaf(3)
    with pytest.raises(RuntimeError, match=shapes("add_", "requires grad", "no_grad")):
        w.add_(1)


@pytest.mark.parametrize("op", ["mul_", "div_", "zero_", "fill_"])
def test_other_in_place_methods_on_leaf_outside_no_grad(op):
    w = leaf(3)
    args = () if op == "zero_" else (2.0,)
    with pytest.raises(RuntimeError, match=shapes(op, "requires grad")):
        getattr(w, op)(*args)


def test_setitem_on_leaf_outside_no_grad():
    w = leaf(3)
    with pytest.raises(RuntimeError, match=shapes("setitem", "requires grad", "no_grad")):
        w[0] = 1


def test_in_place_on_non_leaf_outside_no_grad():
    a = leaf(3).exp()
    with pytest.raises(RuntimeError, match=shapes("mul_", "requires grad")):
        a.mul_(2)


def test_in_place_modification_of_saved_tensor_then_backward():
    x = leaf(3)
    a = x * 1
    y = (a * a).sum()
    with cr.no_grad():
        a.add_(1)
    with pytest.raises(RuntimeError, match=shapes("backward", "'mul'", "shape (3,)", "in-place")):
        y.backward()


def test_in_place_modification_of_saved_constant_then_backward():
    c = cr.randn(3)
    w = leaf(3)
    y = (c * w).sum()
    c.add_(1)  # c doesn't require grad: the write itself is allowed ...
    with pytest.raises(RuntimeError, match=shapes("backward", "modified by an in-place")):
        y.backward()  # ... but the gradient of w needed the old c


def test_modification_through_detach_then_backward():
    x = leaf(2)
    y = (x * x).sum()
    x.detach().add_(1)  # shares storage: the saved x changed
    with pytest.raises(RuntimeError, match=shapes("backward", "in-place")):
        y.backward()


def test_autograd_grad_unused_input_without_allow_unused():
    x, z = leaf(3), leaf(3)
    with pytest.raises(RuntimeError, match=shapes("grad", "input 1", "(3,)", "allow_unused")):
        cr.autograd.grad((x * 2).sum(), [x, z])


def test_autograd_grad_wrt_input_not_requiring_grad():
    with pytest.raises(RuntimeError, match=shapes("grad", "input 0", "require")):
        cr.autograd.grad(leaf(3).sum(), [cr.tensor([1, 2])])


def test_grad_setter_wrong_shape():
    w = leaf(3)
    with pytest.raises(ValueError, match=shapes("grad", "(3,)", "(4,)")):
        w.grad = cr.randn(4)


def test_grad_setter_wrong_dtype():
    w = leaf(3)
    with pytest.raises(ValueError, match=shapes("grad", "float32", "float64")):
        w.grad = cr.ones(3, dtype=cr.float64)


def test_grad_setter_wrong_python_type():
    """``w.grad = 0`` is a wrong Python type: TypeError naming grad (not pybind11's RuntimeError
    'Unable to cast Python instance of type <class 'int'> to C++ type')."""
    w = leaf(3)
    with pytest.raises(TypeError, match="grad"):
        w.grad = 0


def test_where_with_non_bool_condition():
    """A float or int mask is a common slip (``cr.where(x, a, b)`` instead of ``x > 0``); torch
    refuses it ("where expected condition to be a boolean tensor"), so must we, naming the dtype."""
    with pytest.raises(ValueError, match=shapes("where", "bool", "float32")):
        cr.where(cr.randn(3), cr.ones(3), cr.zeros(3))
    with pytest.raises(ValueError, match=shapes("where", "bool", "int64")):
        cr.where(cr.tensor([1, 0]), cr.ones(2), cr.zeros(2))


def test_grad_set_to_the_tensor_itself():
    """``w.grad = w`` would make the tensor own itself (a shared_ptr cycle, never freed); torch
    raises "can't assign Variable as its own grad"."""
    w = leaf(2)
    with pytest.raises((RuntimeError, ValueError), match="grad"):
        w.grad = w


def test_len_of_0d_tensor():
    """len() of a 0-d tensor is a TypeError, as in PyTorch, NumPy and Python (``len(5)``), and as
    our own iter() of a 0-d tensor already is."""
    with pytest.raises(TypeError, match=shapes("len", "0-d")):
        len(cr.zeros(()))
    with pytest.raises(TypeError, match="0-d"):
        iter(cr.zeros(()))


def test_failed_op_leaves_its_inputs_usable():
    x = leaf(3)
    with pytest.raises(ValueError):
        x + cr.randn(4)
    (x * 2).sum().backward()
    assert x.grad.tolist() == [2.0, 2.0, 2.0]


def test_error_in_no_grad_block_restores_grad_mode():
    assert cr.is_grad_enabled()
    with pytest.raises(ValueError):
        with cr.no_grad():
            cr.randn(2) + cr.randn(3)
    assert cr.is_grad_enabled()


# ------------------------------------------------------------------------------------------------
# Nothing crashes the interpreter: weird calls run in a child process
# ------------------------------------------------------------------------------------------------
WEIRD_CALLS = textwrap.dedent(r'''
    import sys
    import numpy as np
    import chainrule as cr

    E = cr.zeros(0)
    E2 = cr.zeros(0, 3)
    S0 = cr.zeros(())
    N = cr.tensor([float("nan"), 1.0, float("inf")])
    CASES = [
        ("zeros_2pow62", lambda: cr.zeros((2**62,))),
        ("zeros_2pow62_numel", lambda: cr.zeros((2**62,)).numel()),
        ("zeros_2pow62_then_sum", lambda: cr.zeros((2**62,)).sum()),
        ("empty_2pow62_then_fill", lambda: cr.empty(2**62).fill_(1.0)),
        ("zeros_numel_overflows", lambda: cr.zeros(2**40, 2**40).numel()),
        ("ones_2pow62", lambda: cr.ones(2**62)),
        ("randn_2pow62", lambda: cr.randn(2**62)),
        ("rand_2pow61", lambda: cr.rand(2**61)),
        ("full_2pow62", lambda: cr.full((2**62,), 1.0)),
        ("linspace_2pow62", lambda: cr.linspace(0, 1, 2**62)),
        ("eye_2pow32", lambda: cr.eye(2**32)),
        ("randint_2pow62", lambda: cr.randint(0, 10, (2**62,))),
        ("arange_1e19", lambda: cr.arange(0, 1e19)),
        ("arange_nan_end", lambda: cr.arange(0, float("nan"))),
        ("zeros_2pow64", lambda: cr.zeros(2**64)),
        ("zeros_negative", lambda: cr.zeros(-5)),
        ("expand_2pow62", lambda: cr.zeros(1).expand(2**62)),
        ("expand_numel_overflows", lambda: cr.zeros(1, 1).expand(2**40, 2**40).sum()),
        ("reshape_numel_overflows", lambda: cr.zeros(0).reshape(2**40, 2**40, 0).sum(dim=2)),
        ("one_hot_2pow62_classes", lambda: cr.one_hot(cr.tensor([1]), 2**62)),
        ("one_hot_huge_label", lambda: cr.one_hot(cr.tensor([2**62]))),
        ("int_pow_huge_exponent", lambda: cr.tensor([2]) ** (2**62)),
        ("empty_sum", lambda: E.sum()),
        ("empty_mean", lambda: E.mean()),
        ("empty_amax", lambda: E.amax()),
        ("empty_argmax", lambda: E.argmax()),
        ("empty_max_dim", lambda: cr.max(E2, dim=0)),
        ("empty_var", lambda: E.var()),
        ("empty_softmax", lambda: cr.softmax(E, dim=0)),
        ("empty_softmax_2d", lambda: cr.softmax(E2, dim=1)),
        ("empty_logsumexp", lambda: E.logsumexp(dim=0)),
        ("empty_matmul", lambda: E2.T @ E2),
        ("empty_reshape", lambda: E.reshape(0, 5, -1)),
        ("empty_index", lambda: E[0]),
        ("empty_item", lambda: E.item()),
        ("empty_backward", lambda: cr.zeros(0, requires_grad=True).sum().backward()),
        ("empty_cat_stack", lambda: (cr.cat([E, E]), cr.stack([E, E]))),
        ("empty_one_hot", lambda: cr.one_hot(cr.zeros(0, dtype=cr.int64))),
        ("empty_gather", lambda: cr.gather(E2, 1, cr.zeros(0, 1, dtype=cr.int64))),
        ("empty_bool", lambda: bool(E)),
        ("0d_sum_dim0", lambda: S0.sum(dim=0)),
        ("0d_softmax", lambda: cr.softmax(S0, dim=0)),
        ("0d_index", lambda: S0[0]),
        ("0d_index_none_ellipsis", lambda: (S0[None], S0[...])),
        ("0d_iter", lambda: list(S0)),
        ("0d_len", lambda: len(S0)),
        ("0d_matmul", lambda: S0 @ S0),
        ("0d_cat", lambda: cr.cat([S0, S0])),
        ("0d_T_permute_flatten", lambda: (S0.T, S0.permute(), S0.flatten())),
        ("negative_reshape", lambda: cr.zeros(4).reshape(-4, -1)),
        ("negative_expand", lambda: cr.zeros(1).expand(-2)),
        ("negative_split_sizes", lambda: cr.zeros(4).split([-1, 5])),
        ("negative_chunk", lambda: cr.zeros(4).chunk(-1)),
        ("negative_num_classes", lambda: cr.one_hot(cr.tensor([1]), -5)),
        ("nan_softmax", lambda: cr.softmax(N, dim=0)),
        ("nan_argmax_max", lambda: (N.argmax(), cr.max(N, dim=0))),
        ("nan_to_int", lambda: N.to(cr.int64)),
        ("nan_int", lambda: int(N[0])),
        ("nan_sqrt_backward", lambda: (cr.tensor([float("nan")], requires_grad=True) ** 0.5).sum().backward()),
        ("inf_softmax", lambda: cr.softmax(cr.tensor([float("inf"), float("inf")]), dim=0)),
        ("huge_int_index", lambda: cr.zeros(3)[2**62]),
        ("huge_negative_index", lambda: cr.zeros(3)[-2**62]),
        ("index_beyond_int64", lambda: cr.zeros(3)[2**64]),
        ("slice_beyond_int64", lambda: cr.zeros(3)[2**62:2**63]),
        ("huge_step", lambda: cr.zeros(3)[::2**62]),
        ("huge_index_tensor", lambda: cr.zeros(3)[cr.tensor([2**62, -2**62])]),
        ("huge_dim", lambda: cr.zeros(3).sum(dim=2**62)),
        ("min_int64_dim", lambda: cr.zeros(3).transpose(0, -2**63)),
        ("huge_index_select", lambda: cr.index_select(cr.zeros(3), 0, cr.tensor([-2**62]))),
        ("huge_gather", lambda: cr.gather(cr.zeros(2, 3), 1, cr.tensor([[2**62], [-2**62]]))),
        ("huge_scatter_add", lambda: cr.scatter_add(cr.zeros(3), 0, cr.tensor([-2**62]), cr.ones(1))),
        ("huge_index_add", lambda: cr.index_add(cr.zeros(3), 0, cr.tensor([2**62]), cr.ones(1))),
        ("huge_chunks", lambda: cr.zeros(4).chunk(2**62)),
        ("huge_split_size", lambda: cr.zeros(4).split(2**62)),
        ("huge_reshape", lambda: cr.zeros(4).reshape(2**62, 4, 0)),
        ("setitem_huge_index", lambda: cr.zeros(3).__setitem__(2**62, 1.0)),
        ("int64_overflow_add", lambda: cr.tensor([2**63 - 1]) + 1),
        ("int_div_by_zero", lambda: cr.tensor([1]) / 0),
        ("cat_one_tensor", lambda: cr.cat([cr.zeros(3)])),
        ("stack_one_tensor", lambda: cr.stack([cr.zeros(3)])),
        ("cat_generator", lambda: cr.cat(t for t in [cr.zeros(2)])),
        ("cat_of_ints", lambda: cr.cat([1, 2])),
        ("cat_none", lambda: cr.cat(None)),
        ("from_numpy_object", lambda: cr.from_numpy(np.array([None]))),
        ("from_numpy_big_endian", lambda: cr.from_numpy(np.zeros(2, dtype=">f8")).sum()),
        ("from_numpy_list", lambda: cr.from_numpy([1.0])),
        ("from_dlpack_none", lambda: cr.from_dlpack(None)),
        ("capsule_twice", lambda: [cr.from_dlpack(c) for c in [cr.ones(2).__dlpack__()] * 2]),
        ("tensor_huge_python_int", lambda: cr.tensor([2**70])),
        ("tensor_complex", lambda: cr.tensor([1j])),
        ("tensor_deep_nesting", lambda: cr.tensor([[[[[[[[[[1.0]]]]]]]]]])),
        ("tensor_uint64_max", lambda: cr.tensor(np.array([2**64 - 1], dtype=np.uint64))),
        ("grad_set_to_string", lambda: setattr(cr.ones(2, requires_grad=True), "grad", "a")),
        ("requires_grad_set_to_string", lambda: setattr(cr.ones(2), "requires_grad", "yes")),
        ("in_place_self_alias", lambda: (lambda t: t.add_(t))(cr.ones(3))),
        ("copy_from_own_row", lambda: (lambda t: t.copy_(t[0]))(cr.ones(3, 3))),
        ("matmul_bool", lambda: cr.tensor([[True]]) @ cr.tensor([[True]])),
        ("log_of_negative_backward", lambda: cr.tensor([-1.0], requires_grad=True).log().sum().backward()),
        ("gradcheck_fn_raises", lambda: cr.autograd.gradcheck(lambda a: 1 / 0, [cr.ones(2, dtype=cr.float64, requires_grad=True)])),
        ("gradcheck_fn_returns_float", lambda: cr.autograd.gradcheck(lambda a: 3.0, [cr.ones(2, dtype=cr.float64, requires_grad=True)])),
        ("gradcheck_int_input", lambda: cr.autograd.gradcheck(lambda a: a, [cr.tensor([1, 2])])),
        ("autograd_grad_nothing", lambda: cr.autograd.grad([], [])),
        ("grad_fn_after_backward", lambda: (lambda y: (y.backward(), y.grad_fn.next_functions))((cr.ones(2, requires_grad=True) * 2).sum())),
        ("deepcopy", lambda: __import__("copy").deepcopy(cr.ones(2))),
        ("format_spec", lambda: "{:.2f}".format(cr.zeros(()))),
        ("repr_big", lambda: repr(cr.zeros(2000, 2000))),
    ]
    names = sys.argv[1:]
    todo = [c for c in CASES if c[0] in names] if names else CASES
    for name, call in todo:
        print("CASE", name, flush=True)
        try:
            out = call()
            repr(out)
            print("RESULT", name, "ok", flush=True)
        except Exception as e:  # noqa: BLE001  any Python exception is fine; a crash is not
            print("RESULT", name, type(e).__name__, flush=True)
    print("ALL DONE", flush=True)
''')


def _child_env():
    env = dict(os.environ)
    pkg_parent = os.path.dirname(os.path.dirname(os.path.abspath(cr.__file__)))
    env["PYTHONPATH"] = pkg_parent + os.pathsep + env.get("PYTHONPATH", "")
    env.setdefault("OMP_NUM_THREADS", "2")
    return env


def _limit_memory():
    # Huge requests must fail as MemoryError, not make the machine swap: cap the address space.
    import resource
    if "libasan" in os.environ.get("LD_PRELOAD", ""):
        return  # ASan reserves terabytes of shadow address space; its max_allocation_size_mb caps instead
    resource.setrlimit(resource.RLIMIT_AS, (8 << 30, 8 << 30))


def _run_weird(names, timeout):
    """Runs the named cases (all if empty) in one child; returns (stdout, returncode or 'timeout')."""
    try:
        p = subprocess.run([sys.executable, "-c", WEIRD_CALLS, *names], capture_output=True,
                           text=True, timeout=timeout, env=_child_env(), preexec_fn=_limit_memory)
        return p.stdout, p.returncode, p.stderr
    except subprocess.TimeoutExpired as e:
        out = e.stdout.decode() if isinstance(e.stdout, bytes) else (e.stdout or "")
        return out, "timeout", ""


def test_weird_calls_never_crash_the_interpreter():
    """~110 odd calls, each wrapped in try/except Exception in a child process: the child must
    finish normally. When one crashes (segfault, abort) or hangs, the rest still run (the child is
    restarted after it), and the failure lists every culprit."""
    names = re.findall(r'^\s*\("(\w+)", lambda', WEIRD_CALLS, re.M)
    assert len(names) >= 50 and len(set(names)) == len(names)
    bad, results, todo = [], {}, list(names)
    while todo:
        out, rc, err = _run_weird(todo, timeout=20)
        started = [ln.split()[1] for ln in out.splitlines() if ln.startswith("CASE ")]
        for ln in out.splitlines():
            if ln.startswith("RESULT "):
                _, name, what = ln.split(None, 2)
                results[name] = what
        if rc == 0 and "ALL DONE" in out:
            break
        culprit = started[-1] if started else todo[0]
        bad.append(f"{culprit}: {'hung > 20 s' if rc == 'timeout' else f'exit code {rc}'} "
                   f"{err.strip().splitlines()[-1] if err.strip() else ''}")
        todo = todo[todo.index(culprit) + 1:]
    assert not bad, "crashed or hung the interpreter:\n" + "\n".join(bad)
    assert set(results) == set(names)


@pytest.mark.parametrize("case", ["zeros_2pow62_numel", "zeros_numel_overflows", "randn_2pow62",
                                  "eye_2pow32", "expand_numel_overflows"])  # expand(2**62) is a view, as torch
def test_huge_sizes_raise_memory_or_value_error(case):
    """cr.zeros((2**62,)) must refuse (MemoryError or ValueError), not hand back a tensor whose
    element count doesn't fit its storage (2**62 * 4 bytes wraps to 0; reading it then crashes)."""
    out, rc, err = _run_weird([case], timeout=60)
    assert rc == 0, f"child crashed (exit {rc}): {out}{err[-500:]}"
    res = dict(ln.split(None, 2)[1:] for ln in out.splitlines() if ln.startswith("RESULT "))
    assert res.get(case) in ("MemoryError", "ShapeError", "ValueError"), (case, res.get(case))


def test_gc_after_errors_is_clean():
    for _ in range(100):
        try:
            leaf(3) @ leaf(4)
        except ValueError:
            pass
    gc.collect()
    (leaf(2) * 3).sum().backward()


@pytest.mark.parametrize("call", [lambda m, t: t.chunk(2), lambda m, t: m.split(t, 2), lambda m, t: t.split([1]),
                                  lambda m, t: m.chunk(t, 1, dim=-1)])
def test_split_and_chunk_of_a_0d_tensor_raise_not_crash(call):
    # torch: "chunk expects at least a 1-dimensional tensor"; this used to read shape()[0] of a 0-d
    # tensor and crash the interpreter.
    with pytest.raises(ValueError, match=r"(split|chunk): expected a tensor with at least 1 dim, got shape \(\)"):
        call(cr, cr.tensor(1.0))
    with pytest.raises(RuntimeError):
        call(torch, torch.tensor(1.0))


def test_engine_messages_name_the_function_called():
    # they said "backward:" even when the user called autograd.grad
    x = cr.ones(3, requires_grad=True)
    with pytest.raises(RuntimeError, match=r"^grad: grad can be implicitly created only for scalar outputs, got "
                                           r"shape \(3,\); pass a gradient of that shape$"):
        cr.autograd.grad(x * 2, x)
    with pytest.raises(RuntimeError, match=r"^backward: grad can be implicitly created only for scalar outputs"):
        (x * 2).backward()
    with pytest.raises(RuntimeError, match=r"^grad: element 0 of tensors does not require grad and does not have a "
                                           r"grad_fn$"):
        cr.autograd.grad(cr.ones(2).sum(), x)
    with pytest.raises(RuntimeError, match=r"^backward: element 0 of tensors does not require grad"):
        cr.ones(2).sum().backward()
