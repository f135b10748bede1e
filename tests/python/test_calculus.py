"""cr.calculus: closed forms (tangent of x³, Taylor series of exp and sin, Newton on cosh), the
orders of the integration rules measured, the fundamental theorem, the finite-difference U-curve,
and what the objects print."""
import math
import warnings

import numpy as np
import pytest
import torch

import chainrule as cr

C = cr.calculus


def test_derivative_over_a_grid_and_higher_orders():
    xs = np.linspace(-3, 3, 61)
    np.testing.assert_allclose(np.asarray(C.derivative(cr.sin)(xs)), np.cos(xs), atol=1e-15)
    np.testing.assert_allclose(np.asarray(C.derivative(cr.sin, 2)(xs)), -np.sin(xs), atol=1e-15)
    np.testing.assert_allclose(np.asarray(C.derivative(lambda x: x ** 4, 3)(xs)), 24 * xs, atol=1e-12)
    np.testing.assert_allclose(np.asarray(C.derivative(cr.exp, 0)(xs)), np.exp(xs))
    with pytest.raises(ValueError, match="derivative: expected a non-negative integer order, got -1"):
        C.derivative(cr.sin, -1)


def test_tangent_line_of_a_cube_at_2():
    t = C.tangent_line(lambda x: x ** 3, 2.0)
    assert (t.value, t.slope, t.x0) == (8.0, 12.0, 2.0)
    assert repr(t) == "y = 8.0 + 12.0·(x − 2.0)"
    assert t(3.0).item() == 20.0
    assert repr(C.tangent_line(lambda x: -x ** 3, -2.0)) == "y = 8.0 − 12.0·(x + 2.0)"


def test_tangent_plane_and_directional_derivative():
    f = lambda p: p[0] ** 2 + 3 * p[1] + p[0] * p[1]  # noqa: E731   ∇f = (2x + y, 3 + x)
    tp = C.tangent_plane(f, [1.0, 2.0])
    assert tp.gradient == (4.0, 4.0) and tp.value == 9.0
    assert repr(tp) == "z = 9.0 + 4.0·(x − 1.0) + 4.0·(y − 2.0)"
    assert tp(cr.tensor([[1.0, 2.0], [2.0, 2.0]])).tolist() == [9.0, 13.0]
    with pytest.warns(UserWarning, match="v has length 5; using the unit vector"):
        d = C.directional_derivative(f, [1.0, 2.0], [3.0, 4.0])
    assert abs(d.item() - (4 * 0.6 + 4 * 0.8)) < 1e-15
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert C.directional_derivative(f, [1.0, 2.0], [3.0, 4.0], normalize=False).item() == 28.0
    with pytest.raises(ValueError, match="the direction v is the zero vector"):
        C.directional_derivative(f, [1.0, 2.0], [0.0, 0.0])


def test_gradient_field_on_a_grid():
    xs = np.linspace(-1, 1, 5)
    X, Y = np.meshgrid(xs, xs)
    U, V = C.gradient_field(lambda p: p[0] ** 2 * p[1], X, Y)
    np.testing.assert_allclose(np.asarray(U), 2 * X * Y, atol=1e-15)
    np.testing.assert_allclose(np.asarray(V), X ** 2, atol=1e-15)


def test_taylor_coefficients_of_exp_and_sin_at_0():
    e = C.taylor(cr.exp, 0.0, 8)
    np.testing.assert_allclose(e.coefficients, [1 / math.factorial(k) for k in range(9)], rtol=1e-15)
    s = C.taylor(cr.sin, 0.0, 7)
    want = [0, 1, 0, -1 / 6, 0, 1 / 120, 0, -1 / 5040]
    np.testing.assert_allclose(s.coefficients, want, atol=1e-16)
    assert repr(C.taylor(cr.exp, 0.0, 2)) == "p(x) = 1.0 + 1.0·x + 0.5·x²"
    assert repr(C.taylor(cr.sin, 0.0, 3)) == "p(x) = 1.0·x − 0.166667·x³"
    # the error at x falls like |x|^(order+1)
    e1, e2 = (C.taylor(cr.exp, 0.0, 3).error(h).item() for h in (0.1, 0.05))
    assert 14 < e1 / e2 < 18  # 2^4


def test_taylor_in_two_variables_up_to_the_hessian():
    f = lambda p: cr.exp(p[0]) * cr.sin(p[1])  # noqa: E731
    t = C.taylor(f, [0.0, 0.5], 2)
    ft = lambda p: torch.exp(p[0]) * torch.sin(p[1])  # noqa: E731
    p0 = torch.tensor([0.0, 0.5], dtype=torch.float64)
    np.testing.assert_allclose(np.asarray(t.coefficients[2]), torch.func.hessian(ft)(p0).numpy() / 2, atol=1e-15)
    # quadratic: the error at distance h falls like h³
    d = np.array([0.3, -0.2])
    e1, e2 = (t.error(np.array([0.0, 0.5]) + s * d).item() for s in (1.0, 0.5))
    assert 6 < e1 / e2 < 10
    # it prints as mathematics, with the Hessian itself (the coefficient is H/2)
    rosen = C.taylor(lambda p: (1 - p[0]) ** 2 + 100 * (p[1] - p[0] ** 2) ** 2, [-0.5, 0.2], 2)
    assert repr(rosen) == "p(x) = 2.5 + (-13, -10)·d + ½ dᵀ[[222, 200], [200, 200]]d,  d = x − (-0.5, 0.2)"
    assert repr(C.taylor(f, [0.0, 0.5], 0)) == f"p(x) = {math.sin(0.5):.6g}"  # order 0: the value
    with pytest.raises(ValueError, match="taylor: in 2 variables only order <= 2"):
        C.taylor(f, [0.0, 0.5], 3)


def test_newton_on_cosh_reaches_the_minimum_in_ten_steps():
    tr = C.newton(lambda x: cr.cosh(x / 2), 10.0, steps=10)
    assert abs(tr.x) < 1e-8 and len(tr) - 1 <= 10
    assert tr.fs[-1] == pytest.approx(1.0, abs=1e-15)
    text = repr(tr)
    assert text.startswith("Newton: ") and "|grad f|" in text and len(text.splitlines()) == len(tr) + 2


def test_newton_warns_at_a_saddle_and_solves_a_quadratic_in_one_step():
    with pytest.warns(UserWarning, match="newton: step 0: the Hessian is not positive definite") as record:
        tr = C.newton(lambda p: p[0] ** 2 - p[1] ** 2 + 0.1 * p[0] ** 4, [1.0, 1.0], steps=3)
    assert "saddle" in tr.notes[0]
    assert len(tr.notes) > 1 and len([w for w in record if "newton" in str(w.message)]) == 1  # one warning a run
    A = cr.tensor([[3.0, 1.0], [1.0, 2.0]], dtype=cr.float64)
    b = cr.tensor([1.0, -1.0], dtype=cr.float64)
    tr = C.newton(lambda p: 0.5 * p @ A @ p - b @ p, [5.0, 5.0], steps=5)
    np.testing.assert_allclose(tr.xs[1], np.linalg.solve(A.numpy(), b.numpy()), atol=1e-14)


def test_gradient_descent_matches_torch_sgd_and_reports_divergence():
    f = lambda p: (p[0] - 1) ** 2 + 10 * (p[1] + 0.5) ** 2  # noqa: E731
    tr = C.gradient_descent(f, [0.0, 0.0], lr=0.04, steps=30, momentum=0.9)
    x = torch.zeros(2, dtype=torch.float64, requires_grad=True)
    opt = torch.optim.SGD([x], lr=0.04, momentum=0.9)
    for _ in range(30):
        opt.zero_grad()
        ((x[0] - 1) ** 2 + 10 * (x[1] + 0.5) ** 2).backward()
        opt.step()
    np.testing.assert_allclose(tr.x, x.detach().numpy(), rtol=1e-12)
    bad = C.gradient_descent(lambda p: (p ** 2).sum(), [1.0, 2.0], lr=1.5, steps=3000)
    assert bad.notes and "the learning rate 1.5 is too large" in bad.notes[0] and len(bad) < 3000
    slow = C.gradient_descent(lambda p: (p ** 2).sum(), [1.0, 1.0], lr=1.1, steps=40)  # |1 - 2.2| = 1.2 per step
    assert slow.notes == [f"diverging: f rose from 2 to {2 * 1.2 ** 80:.6g} in 40 steps; the learning rate 1.1 "
                          "is too large"]
    assert C.gradient_descent(lambda p: (p ** 2).sum(), [1.0, 1.0], lr=0.1, steps=40).notes == []


def test_trace_plot_leaves_out_exact_zeros():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    tr = C.gradient_descent(lambda x: (x - 1) ** 2, 0.0, lr=0.5, steps=3)  # lands exactly on 1: f = 0
    assert tr.fs[1] == 0.0
    lo, hi = tr.plot().get_ylim()
    assert lo > 1e-3 and hi < 1e3, (lo, hi)  # not 1e-316 .. 1e15
    plt.close("all")


@pytest.mark.parametrize("method,order", [("left", 1), ("right", 1), ("midpoint", 2), ("trapezoid", 2),
                                          ("simpson", 4)])
def test_integration_rules_have_their_documented_order(method, order):
    f = lambda x: cr.exp(x) * cr.cos(x)  # noqa: E731
    exact = (math.exp(2) * (math.cos(2) + math.sin(2)) - 1) / 2  # ∫₀² eˣ cos x dx
    e1, e2 = (abs(C.integrate(f, 0.0, 2.0, method, n).item() - exact) for n in (16, 32))
    assert 2 ** order * 0.8 < e1 / e2 < 2 ** order * 1.25, e1 / e2


def test_integrate_errors():
    with pytest.raises(ValueError, match="integrate: expected a positive even number of intervals n, got 3"):
        C.integrate(cr.sin, 0, 1, "simpson", 3)
    with pytest.raises(ValueError, match=r"integrate: expected method in \['left', 'midpoint', 'right', 'simpson'"):
        C.integrate(cr.sin, 0, 1, "gauss", 4)
    with pytest.raises(ValueError, match=r"integrate: expected numbers \(0-d\) as limits a and b, got shapes \(2,\)"):
        C.integrate(cr.sin, [0.0, 1.0], 2.0)
    with pytest.raises(ValueError, match=r"integrate: f must return one value per grid point: called on shape "
                                         r"\(101,\), it returned shape \(2,\)"):
        C.integrate(lambda x: x[:2], 0.0, 1.0)
    with pytest.raises(TypeError, match="integrate: f must return a tensor of its values on the grid"):
        C.integrate(lambda x: "one", 0.0, 1.0)
    with pytest.raises(ValueError, match=r"integral_derivative: expected a number as the upper limit x, got shape \(2,\)"):
        C.integral_derivative(cr.sin, 0.0, [0.5, 1.0])


@pytest.mark.parametrize("method", ["left", "right", "midpoint", "trapezoid", "simpson"])
def test_a_constant_integrand_may_return_a_number(method):
    assert C.integrate(lambda x: 2.5, 1.0, 3.0, method, 10).item() == pytest.approx(5.0, abs=1e-14)
    assert C.integrate(lambda x: cr.tensor(2.5, dtype=cr.float64), 1.0, 3.0, method, 10).item() == \
        pytest.approx(5.0, abs=1e-14)
    d, _ = C.integral_derivative(lambda t: 2.5, 0.0, 1.0)  # d/dx ∫₀ˣ 2.5 = 2.5
    assert d.item() == pytest.approx(2.5, abs=1e-12)


def test_fundamental_theorem_with_autograd():
    for x in (0.3, 1.7):
        d, fx = C.integral_derivative(lambda t: cr.exp(-t * t), 0.0, x, n=200)
        assert abs(d.item() - fx.item()) < 1e-9


def test_finite_differences_and_the_u_curve():
    assert abs(C.finite_difference(cr.sin, 1.0, 1e-5).item() - math.cos(1.0)) < 1e-10
    assert abs(C.finite_difference(cr.sin, 1.0, 1e-5, "forward").item() - math.cos(1.0)) < 1e-5
    sw = C.step_sweep(cr.exp, 1.0)
    assert sw.exact == pytest.approx(math.e, rel=1e-15)
    assert 1e-7 < sw.best_h < 1e-3  # central: truncation h² vs round-off ε/h, best near ε^(1/3)
    assert sw.errors[0] > 1e-2 and sw.errors[-1] > 1e-3 and sw.errors.min() < 1e-9  # both arms of the U
    fw = C.step_sweep(cr.exp, 1.0, scheme="forward")
    assert 1e-10 < fw.best_h < 1e-6  # forward: best near ε^(1/2)
    with pytest.raises(ValueError, match="expected scheme 'central' or 'forward'"):
        C.finite_difference(cr.sin, 1.0, 1e-5, "backward")


def test_plots_draw(tmp_path):
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    C.newton(lambda x: cr.cosh(x / 2), 10.0).plot()
    C.step_sweep(cr.sin, 1.0).plot()
    plt.savefig(tmp_path / "p.png")
    assert (tmp_path / "p.png").stat().st_size > 1000
    plt.close("all")


def test_two_step_sweeps_on_one_axes_stay_apart():
    import matplotlib
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt
    _, ax = plt.subplots()
    fw = C.step_sweep(lambda x: x ** 3, 2.0, scheme="forward")
    ce = C.step_sweep(lambda x: x ** 3, 2.0)
    fw.plot(ax)
    ce.plot(ax)
    curves, marks = ax.lines[0::2], ax.lines[1::2]
    assert [m.get_color() for m in marks] == [c.get_color() for c in curves]
    assert curves[0].get_color() != curves[1].get_color()
    assert [m.get_label() for m in marks] == [f"best h (forward) = {fw.best_h:.1e}",
                                              f"best h (central) = {ce.best_h:.1e}"]
    assert f"best h = {ce.best_h:.1e}" in repr(ce)  # the figure and the printout round alike
    plt.close("all")
